#pragma once

// The subcommands of nasops-trace as the executable runs them: configuration,
// folders and output around the modules. main.cpp parses the command line
// into CliOptions and calls execute().

#include <cstdio>

#include "nasops/core/environment.hpp"
#include "nasops/core/error.hpp"
#include "nasops/util/clock.hpp"
#include "options.hpp"

namespace nasops::trace {

enum class Command { exec, span, start, event, end, ls, show, summary, export_, logs };

// Everything a subcommand takes from outside the command line, so that tests
// can run a subcommand in-process.
struct CommandEnv {
    const Clock& clock;
    std::FILE* out = stdout;
    EnvLookup env = process_environment();
};

// Runs `command`. For exec, a child killed by a signal ends this process by
// the same signal (see reraise_signal) once its span is written.
Result<ExitCode> execute(Command command, const CliOptions& cli, const CommandEnv& env);

}  // namespace nasops::trace
