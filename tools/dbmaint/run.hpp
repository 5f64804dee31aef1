#pragma once

// The subcommands of nasops-dbmaint as the executable runs them: config,
// folders, logger, lock and output around the modules. main.cpp parses the
// command line into CliOptions and calls run().

#include <cstdio>

#include "nasops/core/error.hpp"
#include "nasops/util/clock.hpp"
#include "options.hpp"

namespace nasops::dbmaint {

// Everything a run takes from outside the command line, so that tests can
// run a subcommand in-process.
struct RunEnv {
    const Clock& clock;
    std::FILE* out = stdout;  // data: text or NDJSON maint records
};

Result<ExitCode> run(Command command, const CliOptions& cli, const RunEnv& env);

}  // namespace nasops::dbmaint
