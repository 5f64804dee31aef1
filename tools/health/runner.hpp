#pragma once

// Runs checks concurrently, each on a thread of its own, within a per-check
// time limit and an overall one. A check still running at its limit is
// reported UNKNOWN with the reason and abandoned: its thread is detached and
// keeps only shared ownership of the check and of its result slot, so nothing
// it touches goes away under it, and the run never waits on a syscall that
// does not return (statvfs on a dead NFS mount, a NAS that accepted the TCP
// connection and went silent). The thread of every check that finished has
// ended when run_checks returns, so that the process may exit normally unless
// a check was abandoned.

#include <memory>
#include <span>
#include <vector>

#include "health/check.hpp"

namespace nasops::health {

struct RunLimits {
    Duration check_timeout{std::chrono::seconds(10)};    // each check's own limit
    Duration overall_timeout{std::chrono::seconds(10)};  // the whole run's limit
    Status timeout_status = Status::unknown;             // of a check still running at its limit
};

struct RunReport {
    std::vector<CheckResult> results;  // in the order of the checks given, each evaluated
    std::size_t abandoned = 0;         // checks whose threads were still running at the end: leave with _Exit
};

// Starts every check at once and returns when all have finished or their
// limits have passed, whichever is first. Each result is evaluated (see
// evaluate()) and carries its duration; a check that threw is UNKNOWN with
// the exception's text.
RunReport run_checks(std::span<const std::shared_ptr<Check>> checks, const RunLimits& limits,
                     std::shared_ptr<const Clock> clock);

}  // namespace nasops::health
