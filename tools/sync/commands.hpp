#pragma once

// The subcommands of nasops-sync as the executable runs them: configuration,
// folders, logs, lock, database and output around the engine. main.cpp
// parses the command line into CliOptions and calls execute().

#include <atomic>
#include <cstdio>
#include <functional>

#include "nasops/core/error.hpp"
#include "nasops/db/host_keys.hpp"
#include "nasops/util/clock.hpp"
#include "options.hpp"
#include "target.hpp"

namespace nasops::sync {

enum class Command { run, status, ls, retry, verify, hostkey, doctor, why };

// Everything a subcommand takes from outside the command line, so that tests
// can run a subcommand in-process.
struct CommandEnv {
    const Clock& clock;
    std::FILE* out = stdout;                        // data: text or NDJSON records
    const std::atomic<int>* interrupted = nullptr;  // the stop signal (SIGINT, SIGTERM) once one came
};

Result<ExitCode> execute(Command command, const CliOptions& cli, const CommandEnv& env);

// What is done with the NAS host key each SFTP connection verified: recorded
// in the state database (an Error stops the connection).
using HostKeySeen = std::function<Result<void>(const HostKey&)>;

// A factory of Targets for `spec`: a local folder (which must exist: an
// unmounted NAS share must not be filled on the local disk) or one SFTP
// connection per call, its host key handed to `host_key_seen` when given.
TargetFactory target_factory(const TargetSpec& spec, HostKeySeen host_key_seen = {});

// `text` with control characters, backslashes and bytes that are not UTF-8
// shown as escapes (\n, \t, \\, \xNN), so that a file name always prints on
// one line of text output.
std::string printable(std::string_view text);

}  // namespace nasops::sync
