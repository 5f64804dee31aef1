#include "report.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

#include "nasops/core/log.hpp"
#include "nasops/record/record.hpp"
#include "nasops/util/units.hpp"
#include "span_reader.hpp"

namespace nasops::trace {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::nanoseconds;

// file's rotations and file, oldest first.
std::vector<fs::path> oldest_first(const fs::path& file) {
    auto out = rotations_of(file);
    std::reverse(out.begin(), out.end());
    out.push_back(file);
    return out;
}

Result<void> read_one(const fs::path& file, const SpanFilter& filter, SpanDetail detail,
                      const std::function<void(TracedSpan&)>& each) {
    std::error_code ec;
    if (!fs::exists(file, ec)) return {};
    TRY_ASSIGN(auto reader, SpanReader::open(file, 0, LastLine::read, detail, filter));
    std::size_t problems = 0;
    std::string first_problem;
    for (;;) {
        TRY_ASSIGN(const auto verdict, reader.next());
        if (!verdict) break;
        if (*verdict == LineVerdict::span) {
            each(reader.span());
        } else if (*verdict == LineVerdict::malformed && problems++ == 0) {
            first_problem = reader.problem();
        }
    }
    if (problems > 0) logger().warning("{}: {} line(s) skipped, the first: {}", file.string(), problems, first_problem);
    return {};
}

std::string seconds_text(nanoseconds d) {
    const double s = static_cast<double>(d.count()) / 1e9;
    if (s < 1.0) return fmt::format("{:.1f}ms", s * 1e3);
    if (s < 600.0) return fmt::format("{:.3f}s", s);
    return format_duration(std::chrono::duration_cast<Duration>(d));
}

std::string status_text(std::size_t errors) {
    return errors > 0 ? "ERROR" : "ok";
}

std::string attribute_text(const json& value) {
    return value.is_string() ? value.get<std::string>() : value.dump();
}

}  // namespace

Result<void> for_each_span(const fs::path& file, const SpanFilter& filter, SpanDetail detail,
                           const std::function<void(TracedSpan&)>& each) {
    for (const auto& f : oldest_first(file)) TRY(read_one(f, filter, detail, each));
    return {};
}

Result<std::vector<TracedSpan>> read_spans(const fs::path& file, std::optional<SystemTimePoint> since,
                                           std::string_view trace_id, SpanDetail detail) {
    std::vector<TracedSpan> out;
    TRY(for_each_span(file, SpanFilter{since, std::string(trace_id)}, detail,
                      [&](TracedSpan& span) { out.push_back(std::move(span)); }));
    return out;
}

std::vector<TraceRow> list_traces(const std::vector<TracedSpan>& spans, const TraceFilter& filter) {
    std::map<std::string, std::vector<const SpanData*>> by_trace;
    for (const auto& s : spans) by_trace[s.span.trace_id].push_back(&s.span);
    std::vector<TraceRow> rows;
    for (const auto& [id, members] : by_trace) {
        std::set<std::string_view> ids;
        for (const auto* s : members) ids.insert(s->span_id);
        TraceRow row{.trace_id = id, .start = members.front()->start};
        SystemTimePoint last = members.front()->end;
        const SpanData* root = nullptr;
        for (const auto* s : members) {
            row.start = std::min(row.start, s->start);
            last = std::max(last, s->end);
            ++row.spans;
            if (s->status == SpanStatus::error) ++row.errors;
            const bool top = s->parent_span_id.empty() || !ids.contains(s->parent_span_id);
            if (top && (!root || s->start < root->start)) root = s;
        }
        row.duration = std::chrono::duration_cast<nanoseconds>(last - row.start);
        row.root_name = root ? root->name : members.front()->name;
        if (!filter.name.empty() && row.root_name != filter.name) continue;
        if (filter.errors_only && row.errors == 0) continue;
        rows.push_back(std::move(row));
    }
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
    return rows;
}

std::string traces_text(const std::vector<TraceRow>& rows) {
    if (rows.empty()) return "no traces\n";
    std::string out = fmt::format("{:<32}  {:<24}  {:<20}  {:>10}  {:<6}  {}\n", "TRACE", "NAME", "START", "DURATION",
                                  "STATUS", "SPANS");
    for (const auto& r : rows) {
        out += fmt::format("{:<32}  {:<24}  {:<20}  {:>10}  {:<6}  {}\n", r.trace_id, r.root_name,
                           rfc3339_millis(r.start).substr(0, 19) + "Z", seconds_text(r.duration), status_text(r.errors),
                           r.spans);
    }
    return out;
}

Result<std::string> trace_records(const std::vector<TraceRow>& rows, std::string_view host, SystemTimePoint now) {
    std::string out;
    for (const auto& r : rows) {
        const json details{{"trace_id", r.trace_id},
                           {"name", r.root_name},
                           {"start", rfc3339_nanos(r.start)},
                           {"duration_ms", static_cast<double>(r.duration.count()) / 1e6},
                           {"status", r.errors > 0 ? "error" : "ok"},
                           {"spans", r.spans},
                           {"errors", r.errors}};
        TRY_ASSIGN(auto line,
                   format_record(RecordKind::event, {{"name", "trace"}, {"details", details}}, "trace", host, now));
        out += line;
    }
    return out;
}

std::string waterfall(const std::vector<TracedSpan>& spans, int columns) {
    if (spans.empty()) return {};
    std::set<std::string_view> ids;
    SystemTimePoint first = spans.front().span.start, last = spans.front().span.end;
    for (const auto& s : spans) {
        ids.insert(s.span.span_id);
        first = std::min(first, s.span.start);
        last = std::max(last, s.span.end);
    }
    std::map<std::string_view, std::vector<const TracedSpan*>> children;  // parent id -> spans
    std::vector<const TracedSpan*> roots;
    for (const auto& s : spans) {
        if (s.span.parent_span_id.empty() || !ids.contains(s.span.parent_span_id))
            roots.push_back(&s);
        else
            children[s.span.parent_span_id].push_back(&s);
    }
    const auto by_start = [](const TracedSpan* a, const TracedSpan* b) { return a->span.start < b->span.start; };
    std::sort(roots.begin(), roots.end(), by_start);
    for (auto& [_, list] : children) std::sort(list.begin(), list.end(), by_start);

    const auto total = std::max<nanoseconds>(std::chrono::duration_cast<nanoseconds>(last - first), nanoseconds{1});
    constexpr int k_label = 36;
    const int bar_width = std::max(10, columns - k_label - 22);
    std::string out =
        fmt::format("trace {}  {}  {}\n", spans.front().span.trace_id, rfc3339_millis(first), seconds_text(total));

    std::vector<std::pair<const TracedSpan*, int>> stack;  // depth-first, with the depth
    for (auto it = roots.rbegin(); it != roots.rend(); ++it) stack.emplace_back(*it, 0);
    while (!stack.empty()) {
        const auto [node, depth] = stack.back();
        stack.pop_back();
        const auto& s = node->span;
        std::string label = std::string(static_cast<std::size_t>(std::min(depth, 12) * 2), ' ') + s.name;
        if (label.size() > static_cast<std::size_t>(k_label)) {
            label.resize(k_label - 1);
            label += '~';
        }
        const auto offset = std::chrono::duration_cast<nanoseconds>(s.start - first);
        const auto length = std::chrono::duration_cast<nanoseconds>(s.end - s.start);
        const auto scale = [&](nanoseconds d) {
            return static_cast<int>(
                std::llround(static_cast<double>(d.count()) / static_cast<double>(total.count()) * bar_width));
        };
        const int lead = std::clamp(scale(offset), 0, bar_width - 1);
        const int fill = std::clamp(scale(length), 1, bar_width - lead);
        std::string bar = std::string(static_cast<std::size_t>(lead), ' ') +
                          std::string(static_cast<std::size_t>(fill), '#') +
                          std::string(static_cast<std::size_t>(bar_width - lead - fill), ' ');
        out += fmt::format("{:<{}}  {:>10}  {:<5}  |{}|\n", label, k_label, seconds_text(length),
                           s.status == SpanStatus::error ? "ERROR" : "ok", bar);
        const std::string indent(static_cast<std::size_t>(std::min(depth, 12) * 2 + 4), ' ');
        if (!s.status_message.empty()) out += fmt::format("{}status: {}\n", indent, s.status_message);
        for (const auto& [key, value] : s.attributes.items())
            out += fmt::format("{}{} = {}\n", indent, key, attribute_text(value));
        for (const auto& e : s.events) {
            out += fmt::format("{}event +{} {}", indent,
                               seconds_text(std::chrono::duration_cast<nanoseconds>(e.time - s.start)), e.name);
            for (const auto& [key, value] : e.attributes.items())
                out += fmt::format(" {}={}", key, attribute_text(value));
            out += '\n';
        }
        if (const auto c = children.find(s.span_id); c != children.end())
            for (auto it = c->second.rbegin(); it != c->second.rend(); ++it) stack.emplace_back(*it, depth + 1);
    }
    return out;
}

std::string spans_json(const std::vector<TracedSpan>& spans) {
    std::string out;
    for (const auto& s : spans) {
        auto line = format_record(RecordKind::span, span_fields(s.span), s.tool, s.host, s.span.end);
        if (line) out += *line;
    }
    return out;
}

int terminal_columns(std::FILE* out) {
    winsize ws{};
    if (::isatty(::fileno(out)) && ::ioctl(::fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    if (const char* c = std::getenv("COLUMNS"); c && std::atoi(c) > 0) return std::atoi(c);
    return 100;
}

nanoseconds percentile(const std::vector<nanoseconds>& sorted, double p) {
    if (sorted.empty()) return nanoseconds{0};
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

void OperationSummary::add(const TracedSpan& s) {
    const std::string& key = m_by == GroupBy::name ? s.span.name : s.tool;
    auto group = m_groups.find(key);
    if (group == m_groups.end()) group = m_groups.emplace(key, Group{}).first;
    auto& g = group->second;
    const auto d = std::chrono::duration_cast<nanoseconds>(s.span.end - s.span.start);
    g.durations.push_back(d);
    if (s.span.status == SpanStatus::error) ++g.errors;
    // The three slowest traces, each with its slowest span; of equals, the first seen.
    auto& slowest = g.slowest;
    auto same = std::find_if(slowest.begin(), slowest.end(), [&](const auto& t) { return t.first == s.span.trace_id; });
    if (same != slowest.end()) {
        if (d <= same->second) return;
        same->second = d;
    } else if (slowest.size() < 3) {
        slowest.emplace_back(s.span.trace_id, d);
    } else if (d > slowest.back().second) {
        slowest.back() = {s.span.trace_id, d};
    } else {
        return;
    }
    std::stable_sort(slowest.begin(), slowest.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
}

std::vector<OperationStats> OperationSummary::finish() && {
    std::vector<OperationStats> out;
    for (auto& [key, g] : m_groups) {
        std::sort(g.durations.begin(), g.durations.end());
        out.push_back(OperationStats{.key = key,
                                     .count = g.durations.size(),
                                     .errors = g.errors,
                                     .p50 = percentile(g.durations, 0.50),
                                     .p95 = percentile(g.durations, 0.95),
                                     .p99 = percentile(g.durations, 0.99),
                                     .max = g.durations.back(),
                                     .slowest = std::move(g.slowest)});
    }
    return out;
}

std::vector<OperationStats> summarise(const std::vector<TracedSpan>& spans, GroupBy by) {
    OperationSummary summary(by);
    for (const auto& s : spans) summary.add(s);
    return std::move(summary).finish();
}

std::string summary_text(const std::vector<OperationStats>& stats, GroupBy by) {
    if (stats.empty()) return "no spans\n";
    std::string out = fmt::format("{:<28}  {:>7}  {:>7}  {:>10}  {:>10}  {:>10}  {:>10}  {}\n",
                                  by == GroupBy::name ? "OPERATION" : "TOOL", "COUNT", "ERRORS", "P50", "P95", "P99",
                                  "MAX", "SLOWEST TRACE");
    for (const auto& s : stats) {
        out += fmt::format("{:<28}  {:>7}  {:>6.1f}%  {:>10}  {:>10}  {:>10}  {:>10}  {}\n", s.key, s.count,
                           100.0 * static_cast<double>(s.errors) / static_cast<double>(s.count), seconds_text(s.p50),
                           seconds_text(s.p95), seconds_text(s.p99), seconds_text(s.max),
                           s.slowest.empty() ? std::string("-") : s.slowest.front().first);
    }
    return out;
}

Result<std::string> summary_records(const std::vector<OperationStats>& stats, GroupBy by, std::string_view host,
                                    SystemTimePoint now) {
    std::string out;
    const auto seconds = [](nanoseconds d) { return static_cast<double>(d.count()) / 1e9; };
    for (const auto& s : stats) {
        const json labels = {{by == GroupBy::name ? "span" : "tool", s.key}};
        const auto metric = [&](std::string_view name, double value, std::string_view unit,
                                json extra = json::object()) -> Result<void> {
            json fields = {{"name", name}, {"value", value}, {"unit", unit}, {"labels", labels}};
            for (auto& [k, v] : extra.items()) fields[k] = v;
            TRY_ASSIGN(auto line, format_record(RecordKind::metric, fields, "trace", host, now));
            out += line;
            return {};
        };
        TRY(metric("trace_span_count", static_cast<double>(s.count), "count"));
        TRY(metric("trace_span_error_ratio", static_cast<double>(s.errors) / static_cast<double>(s.count), "ratio"));
        TRY(metric("trace_span_duration_p50_seconds", seconds(s.p50), "seconds"));
        TRY(metric("trace_span_duration_p95_seconds", seconds(s.p95), "seconds"));
        TRY(metric("trace_span_duration_p99_seconds", seconds(s.p99), "seconds"));
        json slowest = json::array();
        for (const auto& [id, d] : s.slowest) slowest.push_back({{"trace_id", id}, {"duration_ms", seconds(d) * 1e3}});
        TRY(metric("trace_span_duration_max_seconds", seconds(s.max), "seconds", {{"slowest", slowest}}));
    }
    return out;
}

}  // namespace nasops::trace
