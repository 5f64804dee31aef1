#pragma once

// The one way a tool turns what was typed into what it runs with: each setting
// is the command line's value when given, else nasops.toml's, else the
// built-in default (the config schema holds the defaults, so a ConfigTable
// already answers for the last two).
//
// A tool keeps two structs: CliOptions, what CLI11 parsed (std::optional or
// empty when not given; durations, sizes and rates as the text typed), and
// Settings, what it runs with. One function per tool, resolve_settings(cli,
// config), builds the second from the first with the helpers below, so that a
// bad value names the option (--min-age: ..., exit 64) and a bad file value
// names file:line:column and key (exit 78).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/core/cli.hpp"
#include "nasops/core/config.hpp"
#include "nasops/core/error.hpp"
#include "nasops/core/output.hpp"
#include "nasops/core/paths.hpp"
#include "nasops/util/rate_timetable.hpp"
#include "nasops/util/units.hpp"

namespace nasops {

// "<option>: <message>", a usage error (exit 64).
Error option_error(std::string_view option, std::string_view message);

// The settings CommonOptions carry, checked: --format against what the tool offers.
struct CommonSettings {
    OutputFormat format = OutputFormat::text;
    bool quiet = false;
    int verbose = 0;
};
Result<CommonSettings> resolve_common(const CommonOptions& cli, std::span<const OutputFormat> offered);

// Each returns the typed value, parsed, when `typed` holds one, else the
// config's (or default) value of `key` in `section`.
Result<Duration> duration_setting(const std::optional<std::string>& typed, std::string_view option,
                                  const ConfigTable& section, std::string_view key);
Result<std::optional<Duration>> optional_duration_setting(const std::optional<std::string>& typed,
                                                          std::string_view option, const ConfigTable& section,
                                                          std::string_view key);
Result<std::uint64_t> size_setting(const std::optional<std::string>& typed, std::string_view option,
                                   const ConfigTable& section, std::string_view key);
Result<std::optional<std::uint64_t>> optional_size_setting(const std::optional<std::string>& typed,
                                                           std::string_view option, const ConfigTable& section,
                                                           std::string_view key);
// A rate or a timetable of rates (rate_timetable keys, --bwlimit).
Result<std::optional<RateTimetable>> optional_rate_timetable_setting(const std::optional<std::string>& typed,
                                                                     std::string_view option,
                                                                     const ConfigTable& section, std::string_view key);
Result<double> ratio_setting(const std::optional<std::string>& typed, std::string_view option,
                             const ConfigTable& section, std::string_view key);
// An integer within [min, max]; a typed value outside it is a usage error.
Result<std::int64_t> int_setting(std::optional<std::int64_t> typed, std::string_view option, const ConfigTable& section,
                                 std::string_view key, std::int64_t min, std::int64_t max);
// A list given on the command line replaces the config's whole list.
std::vector<std::string> list_setting(const std::vector<std::string>& typed, const ConfigTable& section,
                                      std::string_view key);

// A path typed on the command line, made absolute against the folder the
// command was typed in (a tool may change folder later) and normalised.
std::filesystem::path absolute_from_cwd(const std::string& text);

// A duration typed on the command line that no config key backs, such as
// --timeout of a single run: nullopt when not typed, an error when not > 0.
Result<std::optional<Duration>> typed_duration(const std::optional<std::string>& typed, std::string_view option);

// What every run of a tool begins with, in one call: nasops.toml loaded (the
// search order of config.hpp), the state, log and run folders resolved, and
// the logger set up for `tool` (stderr by --quiet/-v; files under the log
// folder when `files` says so: a read-only command leaves no log behind).
enum class LogFiles : bool { no, yes };
// Whether a log file that cannot be opened stops the run, or is said once on
// stderr while the run goes on (a notification matters more than its log line).
enum class LogFailure : bool { fatal, warn };
struct ToolContext {
    Config config;
    Paths paths;
};
struct ToolStart {
    std::string_view tool;  // "dbmaint"
    const CommonOptions& cli;
    LogFiles files = LogFiles::yes;
    LogFailure log_failure = LogFailure::fatal;
    EnvLookup env = process_environment();
    std::filesystem::path system_config{k_system_config_path};
};
Result<ToolContext> start_tool(const ToolStart& start);

}  // namespace nasops
