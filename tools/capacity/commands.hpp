#pragma once

// The subcommands of nasops-capacity as the executable runs them:
// configuration, folders, logs, database and output around the modules.
// main.cpp parses the command line into CliOptions and calls execute().

#include <cstdio>

#include "nasops/core/environment.hpp"
#include "nasops/core/error.hpp"
#include "nasops/obs/trace.hpp"
#include "nasops/util/clock.hpp"
#include "options.hpp"

namespace nasops::capacity {

// Everything a subcommand takes from outside the command line, so that tests
// can run one in-process.
struct CommandEnv {
    const Clock& clock;
    std::FILE* out = stdout;  // data: text, records, exposition
    int in_fd = 0;            // record --from-stdin reads this descriptor
    EnvLookup env = process_environment();
    // The subcommand's span, started once its config is read; execute sets it.
    CommandSpan* trace = nullptr;
};

Result<ExitCode> execute(Subcommand subcommand, const CliOptions& cli, const CommandEnv& env);

}  // namespace nasops::capacity
