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

// Thrown only where a Result cannot travel (constructors, callbacks); each tool's
// entry point catches it once, like any other Error.
struct Fatal {
    Error error;
};

}  // namespace nasops
