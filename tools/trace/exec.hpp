#pragma once

// nasops-trace exec: a command run as a child in a span. The child inherits
// stdin, stdout and stderr untouched and gets TRACEPARENT naming the span;
// SIGTERM, SIGINT and SIGHUP sent to nasops-trace are passed on to it.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/obs/trace.hpp"
#include "nasops/util/units.hpp"

namespace nasops::trace {

// Whether SIGTERM, SIGINT and SIGHUP stay blocked once the child has ended,
// so that one arriving late cannot end this process before the span is
// written (exec), or are unblocked again (tests, callers that go on).
enum class KeepSignalsBlocked : bool { no, yes };

struct ChildRequest {
    std::vector<std::string> argv;  // argv[0] is looked up in PATH
    std::string traceparent;        // set in the child's environment
    std::optional<Duration> timeout;
    Duration kill_after{std::chrono::seconds(10)};  // SIGKILL this long after the timeout's SIGTERM
    KeepSignalsBlocked keep_blocked = KeepSignalsBlocked::no;
    // Where ChildOutcome::elapsed counts from: the caller's span start, read
    // before its wall-clock start, so that start + elapsed never ends the span
    // before an event its command added (the spawn's setup is counted too).
    // Default: just before the spawn.
    std::optional<std::chrono::steady_clock::time_point> clock_started;
};

struct ChildOutcome {
    std::optional<int> exit_code;  // it exited
    std::optional<int> signal;     // it was killed by a signal
    bool timed_out = false;        // --timeout ended it
    int spawn_errno = 0;           // it could not be started (exit_code is then 126 or 127)
    long pid = 0;
    std::chrono::nanoseconds elapsed{0};
};

// Starts `request.argv`, waits for it while forwarding SIGTERM, SIGINT and
// SIGHUP to it, and after the timeout sends it SIGTERM, then SIGKILL after
// kill_after. A command that cannot be started is an outcome (127 when not
// found, 126 otherwise, as a shell says), not an Error; Error is for a
// failure of nasops-trace itself (ExitCode::software).
Result<ChildOutcome> run_child(const ChildRequest& request);

// The exit status nasops-trace exec ends with: the child's exit code, 124 after
// a timeout (as timeout(1)), or 128 + the signal that killed it.
int exit_status_of(const ChildOutcome& outcome) noexcept;

// Fills the span's status and attributes from the outcome: process.pid,
// process.exit.code or process.signal, status error for a non-zero exit, a
// signal, a timeout or a command that could not start.
void describe_outcome(SpanData& span, const ChildOutcome& outcome);

// Ends this process with the child's death by `signal` (default action, no
// core file), as a shell would see it. Returns only when the signal does not
// end the process.
void reraise_signal(int signal) noexcept;

}  // namespace nasops::trace
