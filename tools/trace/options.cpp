#include "options.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>

#include "nasops/core/settings.hpp"
#include "nasops/obs/textfile.hpp"

namespace nasops::trace {

namespace {

constexpr std::array k_formats{OutputFormat::text, OutputFormat::json};

Result<SystemTimePoint> time_option(const std::string& text, std::string_view option) {
    auto parsed = parse_rfc3339(text);
    if (!parsed) return std::unexpected(option_error(option, parsed.error().message));
    return *parsed;
}

}  // namespace

Result<nlohmann::json> parse_attributes(const std::vector<std::string>& pairs) {
    auto out = nlohmann::json::object();
    for (const auto& pair : pairs) {
        const auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0)
            return std::unexpected(option_error("--attr", fmt::format("'{}' is not key=value", pair)));
        const auto key = pair.substr(0, eq);
        const std::string_view value = std::string_view(pair).substr(eq + 1);
        std::int64_t number = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
        if (!value.empty() && ec == std::errc{} && end == value.data() + value.size())
            out[key] = number;
        else if (value == "true" || value == "false")
            out[key] = value == "true";
        else
            out[key] = std::string(value);
    }
    return out;
}

Result<Settings> resolve_settings(const CliOptions& cli, const Config& config) {
    Settings s;
    TRY_ASSIGN(const auto common, resolve_common(cli.common, k_formats));
    s.format = common.format;
    s.quiet = common.quiet;
    s.verbose = common.verbose;
    s.name = cli.name.value_or("");
    TRY_ASSIGN(s.attributes, parse_attributes(cli.attributes));
    if (cli.kind) {
        const auto kind = parse_span_kind(*cli.kind);
        if (!kind)
            return std::unexpected(option_error(
                "--kind", fmt::format("'{}' is not one of internal, client, server, producer, consumer", *cli.kind)));
        s.kind = *kind;
    }
    TRY_ASSIGN(s.timeout, typed_duration(cli.timeout, "--timeout"));
    TRY_ASSIGN(const auto kill_after, typed_duration(cli.kill_after, "--kill-after"));
    if (kill_after) s.kill_after = *kill_after;
    s.command = cli.command;
    if (cli.start) {
        TRY_ASSIGN(s.start, time_option(*cli.start, "--start"));
    }
    if (cli.end) {
        TRY_ASSIGN(s.end, time_option(*cli.end, "--end"));
    }
    if (s.start && s.end && *s.end < *s.start) return std::unexpected(option_error("--end", "is before --start"));
    if (cli.status) {
        const auto status = parse_span_status(*cli.status);
        if (!status)
            return std::unexpected(
                option_error("--status", fmt::format("'{}' is not one of unset, ok, error", *cli.status)));
        s.status = *status;
    }
    s.status_message = cli.status_message.value_or("");
    if (cli.carrier) s.carrier = *cli.carrier;
    if (cli.since) {
        auto since = parse_duration(*cli.since);
        if (!since) return std::unexpected(option_error("--since", since.error().message));
        s.since = *since;
    }
    s.errors_only = cli.errors_only;
    s.record_argv = cli.record_argv;
    if (cli.by) {
        if (*cli.by == "name")
            s.by = GroupBy::name;
        else if (*cli.by == "tool")
            s.by = GroupBy::tool;
        else
            return std::unexpected(option_error("--by", fmt::format("'{}' is not one of name, tool", *cli.by)));
    }
    if (cli.trace_id) {
        if (!valid_trace_id(*cli.trace_id))
            return std::unexpected(option_error(
                "TRACE_ID", fmt::format("'{}' is not a trace id (32 lowercase hex digits)", *cli.trace_id)));
        s.trace_id = *cli.trace_id;
    }
    if (cli.batch_size) {
        if (*cli.batch_size < 1 || *cli.batch_size > 100'000)
            return std::unexpected(option_error("--batch-size", "must be between 1 and 100000"));
        s.batch_size = static_cast<std::size_t>(*cli.batch_size);
    }
    s.follow = cli.follow;
    if (cli.flush_interval) {
        if (!cli.follow) return std::unexpected(option_error("--flush-interval", "is for --follow"));
        auto interval = parse_duration(*cli.flush_interval);
        if (!interval) return std::unexpected(option_error("--flush-interval", interval.error().message));
        if (*interval <= Duration(0))
            return std::unexpected(option_error("--flush-interval", "must be longer than 0s"));
        s.flush_interval = *interval;
    }
    if (cli.max_attempts) {
        if (*cli.max_attempts < 1 || *cli.max_attempts > 100)
            return std::unexpected(option_error("--max-attempts", "must be between 1 and 100"));
        s.max_attempts = static_cast<int>(*cli.max_attempts);
    }
    s.tool = cli.tool.value_or("");
    if (cli.level) {
        bool found = false;
        for (auto l : {LogLevel::error, LogLevel::warning, LogLevel::info, LogLevel::debug}) {
            if (log_level_name(l) == *cli.level) {
                s.level = l;
                found = true;
            }
        }
        if (!found)
            return std::unexpected(
                option_error("--level", fmt::format("'{}' is not one of error, warning, info, debug", *cli.level)));
    }
    if (cli.top) {
        if (*cli.top < 1 || *cli.top > 1000)
            return std::unexpected(option_error("--top", "must be between 1 and 1000"));
        s.top = static_cast<std::size_t>(*cli.top);
    }
    s.textfile_dir = textfile_dir_setting(cli.textfile_dir, config, "trace");
    return s;
}

}  // namespace nasops::trace
