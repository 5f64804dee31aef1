#pragma once

// Recoverable failures are values: functions return Result<T>, and each tool's
// entry point turns an Error into "nasops-<tool>: error: <message>" and its code.

#include <expected>
#include <string>
#include <utility>

#include "nasops/core/exit_code.hpp"

namespace nasops {

struct Error {
    std::string message;  // "<what>: <why>", naming the file, key or host involved
    ExitCode code = ExitCode::software;
};

template <class T>
using Result = std::expected<T, Error>;

// Shorthand for `return fail(ExitCode::config, "...")` in functions returning Result<T>.
inline std::unexpected<Error> fail(ExitCode code, std::string message) {
    return std::unexpected(Error{std::move(message), code});
}

// Propagation that reads like the happy path (ccache's util/expected.hpp):
//   TRY(write_file(path, text));              // returns its Error if it failed
//   TRY_ASSIGN(auto file, open_file(path));   // declares `file` as the value
// Each expands to statements: use them where a statement may stand, not as the
// body of an unbraced if. The expression may hold commas (braced lists).
#define NASOPS_TRY_CONCAT_(a, b) a##b
#define NASOPS_TRY_NAME_(line) NASOPS_TRY_CONCAT_(nasops_try_result_, line)

#define TRY(...)                                                                                \
    do {                                                                                        \
        auto&& nasops_try_result_ = (__VA_ARGS__);                                              \
        if (!nasops_try_result_) return std::unexpected(std::move(nasops_try_result_).error()); \
    } while (false)

#define TRY_ASSIGN(declaration, ...)                                                                        \
    auto NASOPS_TRY_NAME_(__LINE__) = (__VA_ARGS__);                                                        \
    if (!NASOPS_TRY_NAME_(__LINE__)) return std::unexpected(std::move(NASOPS_TRY_NAME_(__LINE__)).error()); \
    declaration = std::move(*NASOPS_TRY_NAME_(__LINE__))

// Thrown only where a Result cannot travel (constructors, callbacks); each tool's
// entry point catches it once, like any other Error.
struct Fatal {
    Error error;
};

}  // namespace nasops
