#include "span_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "nasops/obs/span_record.hpp"
#include "nasops/record/record_line.hpp"

namespace nasops::trace {

namespace {

using nlohmann::json;

// The top-level fields a span reader looks at: the envelope, then the span's.
enum Field : std::size_t {
    f_v,
    f_ts,
    f_tool,
    f_host,
    f_kind,
    f_name,
    f_trace_id,
    f_span_id,
    f_parent_span_id,
    f_span_kind,
    f_start,
    f_end,
    f_status,
    f_status_message,
    f_attributes,
    f_events,
    f_count
};

constexpr std::array<std::string_view, f_count> k_field_names{
    "v",         "ts",    "tool", "host",   "kind",           "name",       "trace_id", "span_id", "parent_span_id",
    "span_kind", "start", "end",  "status", "status_message", "attributes", "events"};

// For the slow path: RecordReader::keep_fields's sorted list.
const std::vector<std::string>& kept_fields() {
    static const std::vector<std::string> fields = [] {
        std::vector<std::string> out(k_field_names.begin(), k_field_names.end());
        std::ranges::sort(out);
        return out;
    }();
    return fields;
}

std::optional<Field> field_of(std::string_view key) {
    for (std::size_t i = 0; i < f_count; ++i)
        if (k_field_names[i] == key) return static_cast<Field>(i);
    return std::nullopt;
}

}  // namespace

SpanReader::SpanReader(LineFile lines, SpanDetail detail, SpanFilter filter)
    : m_lines(std::move(lines)), m_detail(detail), m_filter(std::move(filter)), m_unescaped(f_count) {}

Result<SpanReader> SpanReader::open(const std::filesystem::path& path, std::uint64_t offset, LastLine last,
                                    SpanDetail detail, SpanFilter filter) {
    TRY_ASSIGN(auto lines, LineFile::open(path, offset, last));
    return SpanReader(std::move(lines), detail, std::move(filter));
}

Result<std::optional<LineVerdict>> SpanReader::next() {
    for (;;) {
        TRY_ASSIGN(const auto line, m_lines.next());
        if (!line) return std::optional<LineVerdict>();
        if (auto verdict = decode_quickly(*line)) return verdict;
        if (auto verdict = decode_slowly(*line)) return verdict;
    }
}

bool SpanReader::wanted(SystemTimePoint ts, std::string_view trace_id) const {
    if (m_filter.since && ts < *m_filter.since) return false;
    return m_filter.trace_id.empty() || trace_id == m_filter.trace_id;
}

std::optional<LineVerdict> SpanReader::decode_quickly(std::string_view line) {
    if (line.size() > k_max_record_line) return std::nullopt;
    if (!scan_json_object(line.data(), line.data() + line.size(), m_members)) return std::nullopt;
    std::array<const JsonMember*, f_count> found{};
    for (const auto& m : m_members) {
        if (m.key_escaped) return std::nullopt;
        if (const auto f = field_of(m.key)) found[*f] = &m;  // of duplicate keys the last wins, as in nlohmann
    }
    // Each string field as text; anything but a string leaves the line to the slow path.
    std::array<std::optional<std::string_view>, f_count> text{};
    for (std::size_t f = f_ts; f <= f_status_message; ++f) {
        const auto* m = found[f];
        if (m == nullptr) continue;
        if (m->kind != JsonKind::string) return std::nullopt;
        if (m->value_escaped) {
            unescape_json_string(m->value, m_unescaped[f]);
            text[f] = m_unescaped[f];
        } else {
            text[f] = m->value;
        }
    }

    // The envelope, as decode_record_line checks it.
    if (found[f_v] == nullptr || found[f_v]->kind != JsonKind::number || found[f_v]->value != "1") return std::nullopt;
    if (!text[f_kind] || !text[f_ts] || text[f_tool].value_or("").empty() || text[f_host].value_or("").empty())
        return std::nullopt;
    const auto kind = parse_record_kind(*text[f_kind]);
    if (!kind) return std::nullopt;
    const auto ts = parse_rfc3339(*text[f_ts]);
    if (!ts) return std::nullopt;
    if (*kind != RecordKind::span) return LineVerdict::other_record;
    if (!wanted(*ts, text[f_trace_id].value_or(""))) return LineVerdict::filtered;

    // The span, through the same checks as parse_span_fields.
    const auto* attributes = found[f_attributes];
    const auto* events = found[f_events];
    if (attributes != nullptr && attributes->kind != JsonKind::object) return std::nullopt;
    auto& span = m_span.span;
    const SpanFieldTexts fields{text[f_name],          text[f_trace_id], text[f_span_id], text[f_parent_span_id],
                                text[f_span_kind],     text[f_start],    text[f_end],     text[f_status],
                                text[f_status_message]};
    if (auto set = set_span_fields(fields, span); !set) {
        m_problem = fmt::format("line {}: {}", m_lines.line_number(), set.error().message);
        return LineVerdict::malformed;
    }
    if (attributes != nullptr && m_detail == SpanDetail::full) {
        const auto raw = attributes->value;
        if (!parse_json_fast(raw.data(), raw.data() + raw.size(), span.attributes)) return std::nullopt;
    } else if (!span.attributes.is_object() || !span.attributes.empty()) {
        span.attributes = json::object();
    }
    span.events.clear();
    if (events != nullptr) {
        const auto raw = events->value;
        if (!parse_json_fast(raw.data(), raw.data() + raw.size(), m_events)) return std::nullopt;
        auto parsed = parse_span_events(m_events);
        if (!parsed) {
            m_problem = fmt::format("line {}: {}", m_lines.line_number(), parsed.error().message);
            return LineVerdict::malformed;
        }
        span.events = std::move(*parsed);
    }
    m_span.tool.assign(*text[f_tool]);
    m_span.host.assign(*text[f_host]);
    return LineVerdict::span;
}

std::optional<LineVerdict> SpanReader::decode_slowly(std::string_view line) {
    auto item = decode_record_line(line, m_lines.line_number(), &kept_fields());
    if (!item) return std::nullopt;
    if (auto* problem = std::get_if<ReadProblem>(&*item)) {
        m_problem = std::move(problem->message);
        return LineVerdict::malformed;
    }
    auto& record = std::get<Record>(*item);
    if (record.kind != RecordKind::span) return LineVerdict::other_record;
    const auto trace_id = record.object.find("trace_id");
    const bool string_id = trace_id != record.object.end() && trace_id->is_string();
    if (!wanted(record.time, string_id ? trace_id->get_ref<const std::string&>() : std::string_view()))
        return LineVerdict::filtered;
    auto span = parse_span(record);
    if (!span) {
        m_problem = fmt::format("line {}: {}", m_lines.line_number(), span.error().message);
        return LineVerdict::malformed;
    }
    m_span = TracedSpan{std::move(*span), std::move(record.tool), std::move(record.host)};
    return LineVerdict::span;
}

}  // namespace nasops::trace
