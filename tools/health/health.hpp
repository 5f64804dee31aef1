#pragma once

// nasops-health as a library: the options main.cpp parses, what run() needs
// from the outside world, and the run itself (load config, pick and build the
// checks, run them concurrently, print in the chosen format, exit with the worst).

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "health/check.hpp"
#include "health/checks.hpp"
#include "health/thresholds.hpp"
#include "nasops/core/config.hpp"
#include "nasops/core/environment.hpp"
#include "nasops/core/output.hpp"
#include "nasops/core/paths.hpp"
#include "nasops/util/clock.hpp"

namespace nasops::health {

struct Options {
    std::vector<std::string> checks;  // command-line names; empty: [health] checks, else the automatic set
    OutputFormat format = OutputFormat::text;
    std::filesystem::path config_path;  // --config
    bool quiet = false;
    std::optional<std::string> warn;          // -w: for the primary metrics of the one check named
    std::optional<std::string> crit;          // -c
    PercentOf percent_of = PercentOf::free;   // --used: "N%" in -w/-c of disk checks is used space
    std::optional<Duration> timeout;          // --timeout: the whole run
    Status timeout_status = Status::unknown;  // --timeout N:STATE: a check that runs out of time
    std::optional<Duration> cpu_sample;
    bool no_cpu = false;
    std::optional<std::string> textfile_dir;  // --textfile-dir; nullopt: [metrics] textfile_dir
};

// -t/--timeout as monitoring-plugins write it: a duration (a bare number is
// seconds), then optionally ":STATE", the state of a check that runs out of
// time: ok, warning, critical, unknown (any case) or 0-3. Default UNKNOWN.
struct TimeoutOption {
    std::optional<Duration> limit;
    Status state = Status::unknown;
};
Result<TimeoutOption> parse_timeout_option(const std::optional<std::string>& typed);

// Everything run() takes from the machine, injectable for tests.
struct Deps {
    std::shared_ptr<const Clock> clock = std::make_shared<SystemClock>();
    EnvLookup env = process_environment();
    std::filesystem::path system_config{k_system_config_path};
    std::FILE* out = stdout;
    bool out_is_tty_colour = false;  // colour for text output (colour_enabled on stdout)
    std::string host;                // for records; empty: local_hostname()
    std::filesystem::path proc_root = "/proc";
    std::filesystem::path systemd_dir = "/run/systemd/system";
    std::string systemctl = "systemctl";
};

struct Outcome {
    ExitCode code = ExitCode::ok;  // the worst status of the checks
    std::size_t abandoned = 0;     // checks still running on their threads when the run ended
};

// The checks to run, in order, built from the options and the configuration:
// named ones, or [health] checks, or the automatic set. A check named but not
// configured (no NAS, no process list) is built as one that reports UNKNOWN
// with the reason. Errors: an unknown name in [health] checks or a bad
// [health] value (ExitCode::config); -w/-c with other than one check
// (ExitCode::usage).
Result<std::vector<std::shared_ptr<Check>>> build_checks(const Options& options, const Config& config,
                                                         const Paths& paths, const Deps& deps);

// The whole run: config, checks, output on deps.out, the textfile when asked.
// A bad config or usage is an Error whose code the entry point turns into
// UNKNOWN (3); otherwise the Outcome's code is the worst check status
// (UNKNOWN at least when the textfile could not be written).
Result<Outcome> run(const Options& options, const Deps& deps);

}  // namespace nasops::health
