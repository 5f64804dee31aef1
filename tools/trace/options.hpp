#pragma once

// The settings of one nasops-trace invocation: the command line over the
// [trace] section of nasops.toml over the built-in defaults. main.cpp fills
// CliOptions; everything else is here.

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nasops/core/cli.hpp"
#include "nasops/core/config.hpp"
#include "nasops/core/error.hpp"
#include "nasops/core/log.hpp"
#include "nasops/core/output.hpp"
#include "nasops/obs/trace.hpp"
#include "nasops/util/units.hpp"

namespace nasops::trace {

// What the command line says; nullopt and empty mean "not given".
struct CliOptions {
    CommonOptions common;
    std::optional<std::string> name;        // exec, span, start, event --name
    std::vector<std::string> attributes;    // --attr key=value, repeatable
    std::optional<std::string> kind;        // --kind internal|client|server
    std::optional<std::string> timeout;     // exec --timeout
    std::optional<std::string> kill_after;  // exec --kill-after
    std::vector<std::string> command;       // exec -- COMMAND [ARG...]
    bool record_argv = false;               // exec --record-argv
    std::optional<std::string> start;       // span --start TS
    std::optional<std::string> end;         // span --end TS
    std::optional<std::string> status;      // span, end --status ok|error|unset
    std::optional<std::string> status_message;
    std::optional<std::string> carrier;         // start, end, event --carrier FILE
    std::optional<std::string> since;           // ls, summary --since
    bool errors_only = false;                   // ls --errors
    std::optional<std::string> by;              // summary --by name|tool
    std::optional<std::string> trace_id;        // show TRACE_ID
    std::optional<std::int64_t> batch_size;     // export --batch-size
    std::optional<std::int64_t> max_attempts;   // export --max-attempts
    bool follow = false;                        // export --follow
    std::optional<std::string> flush_interval;  // export --flush-interval
    std::optional<std::string> tool;            // logs --tool
    std::optional<std::string> level;           // logs --level
    std::optional<std::int64_t> top;            // logs --top
    std::optional<std::string> textfile_dir;    // export --textfile-dir
};

enum class GroupBy { name, tool };

struct Settings {
    OutputFormat format = OutputFormat::text;
    bool quiet = false;
    int verbose = 0;
    std::string name;
    nlohmann::json attributes = nlohmann::json::object();
    SpanKind kind = SpanKind::internal;
    std::optional<Duration> timeout;
    Duration kill_after{std::chrono::seconds(10)};
    std::vector<std::string> command;
    bool record_argv = false;  // the command's words as process.command_args (they may hold secrets)
    std::optional<SystemTimePoint> start;
    std::optional<SystemTimePoint> end;
    std::optional<SpanStatus> status;
    std::string status_message;
    std::filesystem::path carrier;
    Duration since{std::chrono::hours(24)};
    bool errors_only = false;
    GroupBy by = GroupBy::name;
    std::string trace_id;
    std::size_t batch_size = 512;
    int max_attempts = 5;
    bool follow = false;
    Duration flush_interval{std::chrono::seconds(5)};
    std::string tool;
    LogLevel level = LogLevel::info;
    std::size_t top = 10;
    std::optional<std::filesystem::path> textfile_dir;  // export: where nasops_trace.prom goes
};

// Merges the command line over `config`. Bad option values are usage errors
// (ExitCode::usage) naming the option.
Result<Settings> resolve_settings(const CliOptions& cli, const Config& config);

// "key=value" into attributes: a value that reads as an integer, a number,
// true or false becomes one; anything else stays a string. Errors name --attr.
Result<nlohmann::json> parse_attributes(const std::vector<std::string>& pairs);

}  // namespace nasops::trace
