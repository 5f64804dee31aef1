#include "logs.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <regex>

#include "gz_file.hpp"
#include "nasops/record/record.hpp"

namespace nasops::trace {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::hours;

// Calls `each` with every line of `path`, plain or gzipped.
template <class F>
Result<void> each_line(const fs::path& path, F&& each) {
    const auto file = open_gz(path);
    if (!file) return fail(ExitCode::no_input, fmt::format("cannot open {}", path.string()));
    std::string line;
    char buf[8192];
    while (gzgets(file.get(), buf, sizeof buf) != nullptr) {
        line += buf;
        if (line.empty() || line.back() != '\n') continue;
        line.pop_back();
        each(std::string_view(line));
        line.clear();
    }
    int err = 0;
    gzerror(file.get(), &err);
    if (err != Z_OK && err != Z_STREAM_END)
        return fail(ExitCode::io_error, fmt::format("cannot read {}: corrupt or truncated", path.string()));
    if (!line.empty()) each(std::string_view(line));
    return {};
}

// "<base>.log", "<base>.log.N", "<base>.log.N.gz": base, or nullopt.
std::optional<std::string> log_base(const std::string& name) {
    static const std::regex pattern(R"(^(.+)\.log(\.[0-9]+)?(\.gz)?$)");
    std::smatch m;
    if (!std::regex_match(name, m, pattern)) return std::nullopt;
    return m[1].str();
}

std::optional<LogLevel> parse_level(std::string_view name) {
    for (auto l : {LogLevel::error, LogLevel::warning, LogLevel::info, LogLevel::debug})
        if (log_level_name(l) == name) return l;
    return std::nullopt;
}

bool is_ipv4(std::string_view s) {
    int dots = 0, digits = 0;
    for (char c : s) {
        if (c == '.') {
            if (digits == 0) return false;
            ++dots;
            digits = 0;
        } else if (std::isdigit(static_cast<unsigned char>(c))) {
            ++digits;
        } else {
            return false;
        }
    }
    return dots == 3 && digits > 0;
}

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

std::string normalise_token(std::string_view token) {
    if (token.find("://") != std::string_view::npos) return "URL";
    if (token.starts_with('/') || token.starts_with("./") || token.starts_with("~/")) return "PATH";
    const auto colon = token.rfind(':');
    if (colon != std::string_view::npos && colon > 0 && all_digits(token.substr(colon + 1))) return "HOST";
    if (is_ipv4(token)) return "HOST";
    const bool hex = token.size() >= 8 && std::all_of(token.begin(), token.end(), [](char c) {
                         return std::isxdigit(static_cast<unsigned char>(c));
                     });
    if (hex &&
        std::any_of(token.begin(), token.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        return "ID";
    std::string out;
    for (std::size_t i = 0; i < token.size();) {
        if (std::isdigit(static_cast<unsigned char>(token[i]))) {
            while (i < token.size() && (std::isdigit(static_cast<unsigned char>(token[i])) || token[i] == '.')) ++i;
            out += 'N';
        } else {
            out += token[i++];
        }
    }
    return out;
}

}  // namespace

std::optional<LogLine> parse_log_line(std::string_view line) {
    // 2026-11-22T04:16:40.123Z nasops-sync[123] warning: message
    const auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return std::nullopt;
    auto time = parse_rfc3339(line.substr(0, sp1));
    if (!time) return std::nullopt;
    auto rest = line.substr(sp1 + 1);
    if (!rest.starts_with("nasops-")) return std::nullopt;
    const auto bracket = rest.find('[');
    const auto close = rest.find("] ");
    if (bracket == std::string_view::npos || close == std::string_view::npos || close < bracket) return std::nullopt;
    LogLine out;
    out.time = *time;
    out.tool = std::string(rest.substr(7, bracket - 7));
    rest = rest.substr(close + 2);
    const auto colon = rest.find(": ");
    if (colon == std::string_view::npos) return std::nullopt;
    const auto level = parse_level(rest.substr(0, colon));
    if (!level) return std::nullopt;
    out.level = *level;
    out.message = std::string(rest.substr(colon + 2));
    return out;
}

std::string normalise_message(std::string_view message) {
    std::string out;
    std::size_t i = 0;
    while (i < message.size()) {
        const char c = message[i];
        if (c == '\'' || c == '"') {  // quoted text: what was quoted varies
            const auto end = message.find(c, i + 1);
            if (end != std::string_view::npos) {
                out += c;
                out += "...";
                out += c;
                i = end + 1;
                continue;
            }
        }
        if (std::isspace(static_cast<unsigned char>(c)) || c == '(' || c == ')' || c == ',' || c == ';' || c == '=') {
            out += c;
            ++i;
            continue;
        }
        auto end = i;
        const auto word_end = std::find_if(message.begin() + static_cast<std::ptrdiff_t>(i), message.end(),
                                           [](char ch) { return std::isspace(static_cast<unsigned char>(ch)); });
        const auto word = message.substr(i, static_cast<std::size_t>(word_end - message.begin()) - i);
        if (word.find("://") != std::string_view::npos) {  // a URL runs to the next space
            out += "URL";
            i += word.size();
            continue;
        }
        while (end < message.size() && !std::isspace(static_cast<unsigned char>(message[end])) && message[end] != ',' &&
               message[end] != ';' && message[end] != ')' && message[end] != '(' && message[end] != '=')
            ++end;
        auto token = message.substr(i, end - i);
        std::string trail;  // a sentence's ':' or '.' is not part of the token
        while (!token.empty() && (token.back() == ':' || token.back() == '.')) {
            trail.insert(trail.begin(), token.back());
            token.remove_suffix(1);
        }
        out += normalise_token(token) + trail;
        i = end;
    }
    return out;
}

std::string sparkline(const std::vector<std::uint64_t>& values, const Glyphs& glyphs) {
    const auto max = values.empty() ? 0 : *std::max_element(values.begin(), values.end());
    std::string out;
    for (const auto v : values) {
        if (v == 0) {
            out += glyphs.blank;
            continue;
        }
        out += glyphs.level(static_cast<std::size_t>((v * 7 + max - 1) / max));
    }
    return out;
}

Result<LogAnalysis> analyse_logs(const fs::path& log_dir, const LogFilter& filter) {
    LogAnalysis a;
    a.since = filter.since;
    a.until = filter.now;
    const auto span_hours = std::max<std::int64_t>(1, std::chrono::ceil<hours>(filter.now - filter.since).count());
    a.hourly.assign(static_cast<std::size_t>(std::min<std::int64_t>(span_hours, 24 * 31)), 0);
    std::map<std::tuple<std::string, std::string, int>, MessageKind> kinds;

    std::error_code ec;
    std::vector<fs::path> text_logs, audit_logs;
    for (const auto& entry : fs::directory_iterator(log_dir, ec)) {
        const auto name = entry.path().filename().string();
        const auto base = log_base(name);
        if (!base) continue;
        (*base == "audit" ? audit_logs : text_logs).push_back(entry.path());
    }
    if (ec && ec != std::errc::no_such_file_or_directory)
        return fail(ExitCode::no_input, fmt::format("cannot list {}: {}", log_dir.string(), ec.message()));
    std::sort(text_logs.begin(), text_logs.end());
    std::sort(audit_logs.begin(), audit_logs.end());

    for (const auto& path : text_logs) {
        TRY(each_line(path, [&](std::string_view text) {
            auto line = parse_log_line(text);
            if (!line) {
                if (!text.empty()) ++a.unreadable;
                return;
            }
            if (line->time < filter.since || line->time > filter.now) return;
            if (!filter.tool.empty() && line->tool != filter.tool) return;
            if (line->level > filter.max_level) return;
            ++a.by_level[std::string(log_level_name(line->level))];
            ++a.by_tool[line->tool];
            const auto bucket = static_cast<std::size_t>(std::chrono::floor<hours>(line->time - filter.since).count());
            if (bucket < a.hourly.size()) ++a.hourly[bucket];
            auto pattern = normalise_message(line->message);
            auto& kind = kinds[{pattern, line->tool, static_cast<int>(line->level)}];
            if (kind.count == 0) {
                kind.pattern = std::move(pattern);
                kind.tool = line->tool;
                kind.level = line->level;
                kind.first_seen = line->time;
            }
            ++kind.count;
            kind.first_seen = std::min(kind.first_seen, line->time);
            if (line->time >= kind.last_seen) {
                kind.last_seen = line->time;
                kind.example = line->message;
            }
        }));
    }
    for (const auto& path : audit_logs) {
        TRY(each_line(path, [&](std::string_view text) {
            const auto record = json::parse(text, nullptr, false);
            if (!record.is_object() || !record.contains("event") || !record["event"].is_string()) {
                if (!text.empty()) ++a.unreadable;
                return;
            }
            const auto ts = parse_rfc3339(record.value("ts", ""));
            if (!ts || *ts < filter.since || *ts > filter.now) return;
            if (!filter.tool.empty() && record.value("tool", "") != filter.tool) return;
            const auto event = record["event"].get<std::string>();
            ++a.audit[event];
            if (*ts >= filter.now - hours(1)) ++a.audit_last_hour[event];
        }));
    }
    for (auto& [_, kind] : kinds) a.kinds.push_back(std::move(kind));
    std::stable_sort(a.kinds.begin(), a.kinds.end(), [](const auto& x, const auto& y) {
        return x.level != y.level ? x.level < y.level : x.count > y.count;
    });

    TRY_ASSIGN(auto spans, read_spans(log_dir / k_traces_file, filter.since, {}, SpanDetail::timing));
    std::sort(spans.begin(), spans.end(),
              [](const auto& x, const auto& y) { return (x.span.end - x.span.start) > (y.span.end - y.span.start); });
    if (!filter.tool.empty()) std::erase_if(spans, [&](const auto& s) { return s.tool != filter.tool; });
    if (spans.size() > 5) spans.resize(5);
    a.slowest = std::move(spans);
    return a;
}

std::string logs_text(const LogAnalysis& a, std::size_t top, const Glyphs& glyphs) {
    std::string out = fmt::format("from {} to {}\n", rfc3339_millis(a.since), rfc3339_millis(a.until));
    out += "by level:";
    for (const auto& [level, n] : a.by_level) out += fmt::format("  {} {}", level, n);
    out += a.by_level.empty() ? "  none\nby tool:" : "\nby tool:";
    for (const auto& [tool, n] : a.by_tool) out += fmt::format("  {} {}", tool, n);
    out += a.by_tool.empty() ? "  none\n" : "\n";
    out += fmt::format("per hour: |{}|\n", sparkline(a.hourly, glyphs));
    if (!a.kinds.empty()) {
        out += fmt::format("\n{:<8} {:<8} {:>6}  {:<20}  {:<20}  {}\n", "LEVEL", "TOOL", "COUNT", "FIRST", "LAST",
                           "MESSAGE");
        for (std::size_t i = 0; i < a.kinds.size() && i < top; ++i) {
            const auto& k = a.kinds[i];
            out += fmt::format("{:<8} {:<8} {:>6}  {:<20}  {:<20}  {}\n", log_level_name(k.level), k.tool, k.count,
                               rfc3339_millis(k.first_seen).substr(0, 19) + "Z",
                               rfc3339_millis(k.last_seen).substr(0, 19) + "Z", k.pattern);
        }
    }
    if (!a.audit.empty()) {
        out += "\naudit events:";
        for (const auto& [event, n] : a.audit) out += fmt::format("  {} {}", event, n);
        out += '\n';
    }
    if (!a.slowest.empty()) {
        out += "\nslowest operations:\n";
        for (const auto& s : a.slowest)
            out += fmt::format("  {:>10.3f}s  {:<24}  {}  trace {}\n",
                               std::chrono::duration<double>(s.span.end - s.span.start).count(), s.span.name, s.tool,
                               s.span.trace_id);
    }
    return out;
}

Result<std::string> logs_records(const LogAnalysis& a, std::size_t top, std::string_view host, SystemTimePoint now) {
    std::string out;
    const auto metric = [&](std::string_view name, double value, json labels,
                            json extra = json::object()) -> Result<void> {
        json fields = {{"name", name}, {"value", value}, {"unit", "count"}, {"labels", std::move(labels)}};
        for (auto& [k, v] : extra.items()) fields[k] = v;
        TRY_ASSIGN(auto line, format_record(RecordKind::metric, fields, "trace", host, now));
        out += line;
        return {};
    };
    std::map<std::pair<std::string, std::string>, std::uint64_t> lines;  // (level, tool)
    for (const auto& k : a.kinds) lines[{std::string(log_level_name(k.level)), k.tool}] += k.count;
    for (const auto& [key, n] : lines)
        TRY(metric("log_lines", static_cast<double>(n), {{"level", key.first}, {"tool", key.second}}));
    for (std::size_t i = 0; i < a.kinds.size() && i < top; ++i) {
        const auto& k = a.kinds[i];
        TRY(metric("log_message_kind", static_cast<double>(k.count),
                   {{"level", log_level_name(k.level)}, {"tool", k.tool}, {"pattern", k.pattern}},
                   {{"first_seen", rfc3339_millis(k.first_seen)},
                    {"last_seen", rfc3339_millis(k.last_seen)},
                    {"example", k.example}}));
    }
    for (const auto& [event, n] : a.audit) TRY(metric("audit_events", static_cast<double>(n), {{"event", event}}));
    for (const auto& [event, n] : a.audit_last_hour)
        TRY(metric("audit_events_last_hour", static_cast<double>(n), {{"event", event}}));
    return out;
}

}  // namespace nasops::trace
