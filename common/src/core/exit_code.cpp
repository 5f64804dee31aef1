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

std::string_view check_status_word(ExitCode code) noexcept {
    switch (code) {
        case ExitCode::ok: return "ok";
        case ExitCode::warning: return "warning";
        case ExitCode::critical: return "critical";
        default: return "unknown";
    }
}

ExitCode worst_state(ExitCode a, ExitCode b) noexcept {
    return severity_rank(b) > severity_rank(a) ? b : a;
}

std::span<const ExitCodeInfo> exit_codes() noexcept {
    static constexpr ExitCodeInfo k_table[]{
        {ExitCode::ok, "OK"},
        {ExitCode::warning, "WARNING"},
        {ExitCode::critical, "CRITICAL"},
        {ExitCode::unknown, "UNKNOWN"},
        {ExitCode::usage, "usage"},
        {ExitCode::data_error, "data error"},
        {ExitCode::no_input, "no input"},
        {ExitCode::unavailable, "service unavailable"},
        {ExitCode::software, "internal error"},
        {ExitCode::cant_create, "cannot create"},
        {ExitCode::io_error, "I/O error"},
        {ExitCode::temp_failure, "temporary failure"},
        {ExitCode::untrusted, "host not trusted"},
        {ExitCode::config, "configuration error"},
        {ExitCode::interrupted, "interrupted"},
    };
    return k_table;
}

std::string_view exit_code_name(ExitCode code) noexcept {
    for (const auto& info : exit_codes()) {
        if (info.code == code) return info.name;
    }
    return "error";
}

}  // namespace nasops
