#pragma once

// The settings of one nasops-capacity invocation: the command line, which
// wins, over the [capacity] section of nasops.toml, which wins over the
// built-in defaults. main.cpp fills CliOptions; everything else is here.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "forecast.hpp"
#include "nasops/core/cli.hpp"
#include "nasops/core/config.hpp"
#include "nasops/core/error.hpp"
#include "nasops/core/output.hpp"

namespace nasops::capacity {

// What the command line says; nullopt and empty mean "not given".
struct CliOptions {
    CommonOptions common;
    bool dry_run = false;
    bool from_stdin = false;                  // record --from-stdin
    std::vector<std::string> targets;         // record --target PATH (repeatable)
    bool no_nas = false;                      // record --no-nas
    std::optional<std::string> window;        // forecast, report: --window DURATION
    std::optional<std::int64_t> days;         // forecast, report, transfers: --days N
    std::optional<std::string> textfile_dir;  // forecast --textfile-dir DIR
    std::optional<std::string> svg;           // report --svg FILE
    std::optional<std::string> html;          // report --html FILE
    std::optional<std::string> target;        // show, forecast, report --target NAME: one target only
    std::optional<std::string> since;         // show --since DURATION
};

struct Settings {
    OutputFormat format = OutputFormat::text;
    bool quiet = false;
    int verbose = 0;
    bool dry_run = false;
    bool from_stdin = false;
    std::vector<std::filesystem::path> extra_targets;  // --target, else [capacity] targets
    bool nas = true;                                   // sample the NAS share of [nas] (off: --no-nas)
    ForecastOptions forecast;                          // window, horizon, reset and warning levels
    std::int64_t transfer_days = 7;                    // transfers --days
    Duration retention{std::chrono::hours(24 * 730)};  // daily samples are kept this long
    std::optional<std::filesystem::path> textfile_dir;
    std::optional<std::filesystem::path> svg;
    std::optional<std::filesystem::path> html;
    std::optional<std::string> target;
    std::optional<Duration> since;
};

// The subcommand decides the defaults of --days: 30 for forecast and report,
// 7 for transfers.
enum class Subcommand { record, forecast, show, report, transfers };

// Merges the command line over `config`: bad options are usage errors naming
// the option, bad file values config errors naming file:line:column and key.
Result<Settings> resolve_settings(const CliOptions& cli, const Config& config, Subcommand subcommand);

}  // namespace nasops::capacity
