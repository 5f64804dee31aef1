#pragma once

// The one exit-code contract of every nasops tool.
// Check outcomes follow the monitoring-plugins convention (lib/states.h);
// every other failure uses sysexits.h, so that cron mail and wrapper scripts
// can tell a bad config from an unreachable NAS without parsing text.

#include <span>
#include <string_view>

namespace nasops {

enum class ExitCode : int {
    ok = 0,
    warning = 1,        // a check is past its warning threshold
    critical = 2,       // a check is past its critical threshold
    unknown = 3,        // a check could not be evaluated
    usage = 64,         // bad command line
    data_error = 65,    // malformed input data (e.g. --strict on a bad record)
    no_input = 66,      // an input file is missing or unreadable
    unavailable = 69,   // a service (the NAS, an SMTP server) is unreachable
    software = 70,      // internal error, or a feature that does not exist yet
    cant_create = 73,   // cannot create an output file or folder
    io_error = 74,      // read or write failed
    temp_failure = 75,  // try again later: lock held, transient failure
    untrusted = 77,     // the NAS's host key is unknown, changed or revoked (EX_NOPERM)
    config = 78,        // bad configuration
    interrupted = 130,  // SIGINT
};

constexpr int to_int(ExitCode code) noexcept {
    return static_cast<int>(code);
}

struct ExitCodeInfo {
    ExitCode code;
    std::string_view name;  // what exit_code_name says
};

// Every code of the contract, in ascending order: the one table the EXIT
// STATUS section of each man page draws from (a test keeps them in step).
std::span<const ExitCodeInfo> exit_codes() noexcept;

// The worse of two check outcomes (CRITICAL > WARNING > UNKNOWN > OK), as
// monitoring-plugins rank them when several checks report together.
ExitCode worst_state(ExitCode a, ExitCode b) noexcept;

// "OK", "WARNING", "CRITICAL", "UNKNOWN" for check states; a short name otherwise.
std::string_view exit_code_name(ExitCode code) noexcept;

// A check state as records spell it: "ok", "warning", "critical", "unknown"
// (any code past 3 is "unknown").
std::string_view check_status_word(ExitCode code) noexcept;

}  // namespace nasops
