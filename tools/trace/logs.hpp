#pragma once

// nasops-trace logs: the tools' text logs (<log>/<tool>.log, rotated and
// gzipped ones too) and the audit log read back as counts by level, tool and
// kind of message, the most frequent messages, a per-hour timeline, the audit
// events, and the slowest operations from the spans.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/core/glyphs.hpp"
#include "nasops/core/log.hpp"
#include "nasops/util/clock.hpp"
#include "report.hpp"

namespace nasops::trace {

// One line of a tool's text log: "<ts> nasops-<tool>[<pid>] <level>: <message>".
struct LogLine {
    SystemTimePoint time;
    std::string tool;
    LogLevel level = LogLevel::info;
    std::string message;
};
std::optional<LogLine> parse_log_line(std::string_view line);

// The message with what varies from one occurrence to the next replaced:
// quoted text by '...', paths by PATH, URLs by URL, IP addresses and
// host:port by HOST, hex ids and numbers by N, so that "upload of /a/1.mp4
// failed: connection reset" and "upload of /b/2.mp4 failed: connection
// reset" are one kind.
std::string normalise_message(std::string_view message);

struct MessageKind {
    std::string pattern;  // the normalised message
    std::string tool;
    LogLevel level = LogLevel::info;
    std::uint64_t count = 0;
    SystemTimePoint first_seen, last_seen;
    std::string example;  // the last occurrence, as written
};

struct LogAnalysis {
    SystemTimePoint since, until;
    std::map<std::string, std::uint64_t> by_level;  // "error", "warning", ...
    std::map<std::string, std::uint64_t> by_tool;
    std::vector<MessageKind> kinds;              // most frequent first
    std::vector<std::uint64_t> hourly;           // lines per hour from `since`, oldest first
    std::map<std::string, std::uint64_t> audit;  // audit event -> count
    std::map<std::string, std::uint64_t> audit_last_hour;
    std::vector<TracedSpan> slowest;  // the slowest spans, longest first (at most 5)
    std::uint64_t unreadable = 0;     // lines that are not log lines
};

struct LogFilter {
    SystemTimePoint since;
    SystemTimePoint now;
    std::string tool;                     // only this tool; empty: all
    LogLevel max_level = LogLevel::info;  // warning: warnings and errors only
};

// Reads every <tool>.log in `log_dir` with its rotations (.1, .2.gz, ...),
// audit.log and its rotations, and traces.jsonl.
Result<LogAnalysis> analyse_logs(const std::filesystem::path& log_dir, const LogFilter& filter);

std::string logs_text(const LogAnalysis& analysis, std::size_t top, const Glyphs& glyphs);
// Metric records for nasops-alert: log_lines {level, tool}, log_message_kind
// {level, tool, pattern} (with first_seen, last_seen, example),
// audit_events and audit_events_last_hour {event}.
Result<std::string> logs_records(const LogAnalysis& analysis, std::size_t top, std::string_view host,
                                 SystemTimePoint now);

// Bars for `values` on the eight levels of `glyphs` ("▁▂▃▅▇"), scaled to their maximum; a blank for 0.
std::string sparkline(const std::vector<std::uint64_t>& values, const Glyphs& glyphs);

}  // namespace nasops::trace
