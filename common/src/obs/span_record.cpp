#include "nasops/obs/span_record.hpp"

#include <fmt/format.h>

namespace nasops {

namespace {

using nlohmann::json;

Error bad_field(std::string_view field, std::string_view why) {
    return Error{fmt::format("span record: '{}' {}", field, why), ExitCode::data_error};
}

Result<std::string_view> required(const std::optional<std::string_view>& text, std::string_view field) {
    if (!text) return std::unexpected(bad_field(field, "is missing"));
    return *text;
}

Result<SystemTimePoint> time_text(const std::optional<std::string_view>& text, std::string_view field) {
    TRY_ASSIGN(const auto value, required(text, field));
    auto parsed = parse_rfc3339(value);
    if (!parsed) return std::unexpected(bad_field(field, parsed.error().message));
    return *parsed;
}

// A string member of `object`: nullopt when absent, an error when not a string.
Result<std::optional<std::string_view>> string_member(const json& object, std::string_view field) {
    const auto it = object.find(field);
    if (it == object.end()) return std::optional<std::string_view>();
    if (!it->is_string()) return std::unexpected(bad_field(field, "is not a string"));
    return std::optional<std::string_view>(it->get_ref<const std::string&>());
}

}  // namespace

Result<void> set_span_fields(const SpanFieldTexts& texts, SpanData& span) {
    TRY_ASSIGN(const auto name, required(texts.name, "name"));
    span.name.assign(name);
    TRY_ASSIGN(const auto trace_id, required(texts.trace_id, "trace_id"));
    if (!valid_trace_id(trace_id)) return std::unexpected(bad_field("trace_id", "is not 32 lowercase hex digits"));
    span.trace_id.assign(trace_id);
    TRY_ASSIGN(const auto span_id, required(texts.span_id, "span_id"));
    if (!valid_span_id(span_id)) return std::unexpected(bad_field("span_id", "is not 16 lowercase hex digits"));
    span.span_id.assign(span_id);
    const auto parent = texts.parent_span_id.value_or(std::string_view());
    if (!parent.empty() && !valid_span_id(parent))
        return std::unexpected(bad_field("parent_span_id", "is not 16 lowercase hex digits"));
    span.parent_span_id.assign(parent);
    span.kind = SpanKind::internal;
    if (const auto kind = texts.span_kind.value_or(std::string_view()); !kind.empty()) {
        const auto k = parse_span_kind(kind);
        if (!k) return std::unexpected(bad_field("span_kind", fmt::format("'{}' is not a span kind", kind)));
        span.kind = *k;
    }
    TRY_ASSIGN(span.start, time_text(texts.start, "start"));
    TRY_ASSIGN(span.end, time_text(texts.end, "end"));
    if (span.end < span.start) return std::unexpected(bad_field("end", "is before 'start'"));
    span.status = SpanStatus::unset;
    if (const auto status = texts.status.value_or(std::string_view()); !status.empty()) {
        const auto s = parse_span_status(status);
        if (!s) return std::unexpected(bad_field("status", fmt::format("'{}' is not unset, ok or error", status)));
        span.status = *s;
    }
    span.status_message.assign(texts.status_message.value_or(std::string_view()));
    return {};
}

Result<std::vector<SpanEvent>> parse_span_events(const json& events) {
    if (!events.is_array()) return std::unexpected(bad_field("events", "is not an array"));
    std::vector<SpanEvent> out;
    out.reserve(events.size());
    for (const auto& e : events) {
        if (!e.is_object()) return std::unexpected(bad_field("events", "holds something that is not an object"));
        SpanEvent event;
        TRY_ASSIGN(const auto name, string_member(e, "name"));
        TRY_ASSIGN(const auto n, required(name, "name"));
        event.name = std::string(n);
        TRY_ASSIGN(const auto time, string_member(e, "time"));
        TRY_ASSIGN(event.time, time_text(time, "time"));
        if (const auto a = e.find("attributes"); a != e.end() && a->is_object()) event.attributes = *a;
        out.push_back(std::move(event));
    }
    return out;
}

Result<SpanData> parse_span_fields(const json& object) {
    SpanFieldTexts texts;
    TRY_ASSIGN(texts.name, string_member(object, "name"));
    TRY_ASSIGN(texts.trace_id, string_member(object, "trace_id"));
    TRY_ASSIGN(texts.span_id, string_member(object, "span_id"));
    TRY_ASSIGN(texts.parent_span_id, string_member(object, "parent_span_id"));
    TRY_ASSIGN(texts.span_kind, string_member(object, "span_kind"));
    TRY_ASSIGN(texts.start, string_member(object, "start"));
    TRY_ASSIGN(texts.end, string_member(object, "end"));
    TRY_ASSIGN(texts.status, string_member(object, "status"));
    TRY_ASSIGN(texts.status_message, string_member(object, "status_message"));
    SpanData span;
    TRY(set_span_fields(texts, span));
    if (const auto it = object.find("attributes"); it != object.end()) {
        if (!it->is_object()) return std::unexpected(bad_field("attributes", "is not an object"));
        span.attributes = *it;
    }
    if (const auto it = object.find("events"); it != object.end()) {
        TRY_ASSIGN(span.events, parse_span_events(*it));
    }
    return span;
}

Result<SpanData> parse_span(const Record& record) {
    if (record.kind != RecordKind::span)
        return fail(ExitCode::data_error,
                    fmt::format("a '{}' record is not a span record", record_kind_name(record.kind)));
    return parse_span_fields(record.object);
}

}  // namespace nasops
