#pragma once

// Delivery of the outbox: every queued delivery that is due is sent through
// its channel, and its outcome recorded at once, so a delivery that a channel
// accepted is never sent again. A delivery that may succeed later (server
// unreachable, timeout, 5xx, 429) stays queued with exponential backoff
// (retry_backoff, doubled per attempt, at most an hour) until max_attempts,
// then it is dead-lettered. A refusal (4xx) fails at once and is reported.
// After a channel has failed once in a run, its other deliveries wait for the
// next run instead of timing out one after another.

#include "alert/channels.hpp"
#include "alert/state_store.hpp"
#include "nasops/obs/trace.hpp"

namespace nasops::alert {

struct DeliverySummary {
    int delivered = 0;
    int retrying = 0;  // still queued
    int failed = 0;    // refused, not retried
    int dead = 0;      // dead-lettered in this pass
};

// The wait before attempt `attempts` + 1.
Duration backoff_after(int attempts, Duration base);

// Each delivery attempt is a child span of `trace` when it is active
// (nasops-alert run under a trace context).
Result<DeliverySummary> deliver_due(AlertStore& store, const AlertSettings& settings, NotifierDeps& deps,
                                    SystemTimePoint now, bool ignore_backoff, const Span* trace = nullptr);

}  // namespace nasops::alert
