#pragma once

// Reading traces without a backend: the spans of traces.jsonl as a list of
// traces (ls), one trace as a waterfall (show), and per-operation statistics
// (summary).

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/obs/trace.hpp"
#include "options.hpp"
#include "span_reader.hpp"

namespace nasops::trace {

// Calls `each` with every span of `file` and of its rotations beside it
// (file.1, file.2.gz, ..., compressed ones read decompressed), oldest first,
// that `filter` lets through, built to `detail`. Lines that are not span
// records are reported once per file as a warning, with their line, and
// skipped. A missing file is no spans.
Result<void> for_each_span(const std::filesystem::path& file, const SpanFilter& filter, SpanDetail detail,
                           const std::function<void(TracedSpan&)>& each);
// The same spans, collected.
Result<std::vector<TracedSpan>> read_spans(const std::filesystem::path& file, std::optional<SystemTimePoint> since,
                                           std::string_view trace_id = {}, SpanDetail detail = SpanDetail::full);

// One line of ls.
struct TraceRow {
    std::string trace_id;
    std::string root_name;  // the span without a parent in the trace (the earliest when several)
    SystemTimePoint start;
    std::chrono::nanoseconds duration{0};  // first start to last end
    std::size_t spans = 0;
    std::size_t errors = 0;  // spans with status error
};

struct TraceFilter {
    std::string name;  // only traces whose root has this name; empty: all
    bool errors_only = false;
};

// The traces of `spans`, by start.
std::vector<TraceRow> list_traces(const std::vector<TracedSpan>& spans, const TraceFilter& filter);
std::string traces_text(const std::vector<TraceRow>& rows);
// One event record per trace (name "trace"), its details trace_id, name,
// start, duration_ms, status, spans, errors.
Result<std::string> trace_records(const std::vector<TraceRow>& rows, std::string_view host, SystemTimePoint now);

// The spans of one trace as an indented tree, each with its duration, status,
// a bar placed and scaled on the trace's timeline to fit `columns`, then its
// attributes and events.
std::string waterfall(const std::vector<TracedSpan>& spans, int columns);
// The span records, one per line, as they were written (envelope included).
std::string spans_json(const std::vector<TracedSpan>& spans);
// The width of the terminal `out` writes to; $COLUMNS or 100 when it is none.
int terminal_columns(std::FILE* out);

// Per operation (span name, or tool): exact statistics over the spans given.
struct OperationStats {
    std::string key;
    std::size_t count = 0;
    std::size_t errors = 0;
    std::chrono::nanoseconds p50{0}, p95{0}, p99{0}, max{0};
    std::vector<std::pair<std::string, std::chrono::nanoseconds>> slowest;  // trace ids, longest first (at most 3)
};

// The nearest-rank percentile (0 < p <= 1) of sorted `values`.
std::chrono::nanoseconds percentile(const std::vector<std::chrono::nanoseconds>& sorted, double p);

// Exact statistics per operation, one span at a time: memory grows with the
// number of spans by one duration each, not by the spans.
class OperationSummary {
public:
    explicit OperationSummary(GroupBy by) : m_by(by) {}
    void add(const TracedSpan& span);
    // Operations sorted by key.
    std::vector<OperationStats> finish() &&;

private:
    struct Group {
        std::vector<std::chrono::nanoseconds> durations;
        std::vector<std::pair<std::string, std::chrono::nanoseconds>> slowest;  // one per trace, longest first
        std::size_t errors = 0;
    };
    GroupBy m_by;
    std::map<std::string, Group, std::less<>> m_groups;
};

// Operations sorted by key.
std::vector<OperationStats> summarise(const std::vector<TracedSpan>& spans, GroupBy by);
std::string summary_text(const std::vector<OperationStats>& stats, GroupBy by);
// Metric records for nasops-alert, per operation: trace_span_count,
// trace_span_error_ratio and trace_span_duration_{p50,p95,p99,max}_seconds,
// labelled {"span": name} (or {"tool": tool}); the max one lists the slowest
// trace ids.
Result<std::string> summary_records(const std::vector<OperationStats>& stats, GroupBy by, std::string_view host,
                                    SystemTimePoint now);

}  // namespace nasops::trace
