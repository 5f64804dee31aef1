#pragma once

// SIGTERM and SIGINT as a request to stop, for a long-running subcommand
// (export --follow): blocked while it runs and read from a signalfd, so that
// every wait of the run ends as soon as one arrives, with no handler and no
// global state. The signal mask is put back when it goes.

#include <signal.h>

#include <memory>

#include "nasops/core/error.hpp"
#include "nasops/util/unique_fd.hpp"
#include "nasops/util/units.hpp"

namespace nasops::trace {

class StopSignals {
public:
    static Result<std::unique_ptr<StopSignals>> block();
    ~StopSignals();
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

    // Waits up to `timeout` for SIGTERM or SIGINT; true when one has come,
    // now or before.
    bool wait(Duration timeout);
    bool requested() const noexcept { return m_requested; }

private:
    StopSignals() = default;

    UniqueFd m_fd;
    sigset_t m_original{};
    bool m_requested = false;
};

}  // namespace nasops::trace
