#include "nasops/core/exit_code.hpp"

namespace nasops {

namespace {
int severity_rank(ExitCode code) noexcept {
    switch (code) {
        case ExitCode::ok: return 0;
        case ExitCode::unknown: return 1;
        case ExitCode::warning: return 2;
        case ExitCode::critical: return 3;
        default: return 4;  // any error outranks check states
    }
}
}  // namespace

ExitCode worst_state(ExitCode a, ExitCode b) noexcept {
    return severity_rank(b) > severity_rank(a) ? b : a;
}

std::string_view exit_code_name(ExitCode code) noexcept {
    switch (code) {
        case ExitCode::ok: return "OK";
        case ExitCode::warning: return "WARNING";
        case ExitCode::critical: return "CRITICAL";
        case ExitCode::unknown: return "UNKNOWN";
        case ExitCode::usage: return "usage";
        case ExitCode::data_error: return "data error";
        case ExitCode::no_input: return "no input";
        case ExitCode::unavailable: return "service unavailable";
        case ExitCode::software: return "internal error";
        case ExitCode::cant_create: return "cannot create";
        case ExitCode::io_error: return "I/O error";
        case ExitCode::temp_failure: return "temporary failure";
        case ExitCode::untrusted: return "host not trusted";
        case ExitCode::config: return "configuration error";
        case ExitCode::interrupted: return "interrupted";
    }
    return "error";
}

}  // namespace nasops
