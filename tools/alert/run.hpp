#pragma once

// nasops-alert's entry point below main(): every action, given parsed options
// and the outside world as interfaces (clock, HTTP, mail, commands, streams).

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "nasops/core/environment.hpp"
#include "nasops/core/error.hpp"
#include "nasops/core/exit_code.hpp"
#include "nasops/core/output.hpp"
#include "nasops/net/http.hpp"
#include "nasops/util/clock.hpp"
#include "nasops/util/command_runner.hpp"

namespace nasops::alert {

enum class Action { evaluate, ls, history, flush, test, silence_add, silence_ls, silence_rm };

struct Options {
    Action action = Action::evaluate;
    std::filesystem::path config_path;  // --config; empty: the search order
    OutputFormat format = OutputFormat::text;
    bool quiet = false;
    int verbose = 0;
    bool dry_run = false;
    // evaluate
    std::vector<std::filesystem::path> inputs;  // --input; empty: stdin
    bool strict = false;
    // ls, history
    bool undelivered = false;
    std::size_t limit = 50;
    // test
    std::string channel;
    // silence
    std::vector<std::string> matchers;
    std::string silence_for = "2h";
    std::string comment;
    std::string author;
    std::string silence_id;
    // evaluate, flush: --textfile-dir; nullopt: [metrics] textfile_dir
    std::optional<std::string> textfile_dir;
};

struct Deps {
    const Clock& clock;
    HttpClient& http;
    MailSender& mail;
    CommandRunner& commands;
    EnvLookup env = process_environment();
    int stdin_fd = 0;
    std::FILE* out = stdout;
    std::FILE* err = stderr;
    std::string host;  // empty: local_hostname()
};

// Evaluation exits with the worst severity of the alerts firing after the run
// (0 none, 1 warning, 2 critical), 65 on malformed input with --strict, and a
// sysexits code when something else fails.
Result<ExitCode> run(const Options& options, Deps& deps);

}  // namespace nasops::alert
