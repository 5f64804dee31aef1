#pragma once

// The rules of a span record's fields in one place, whoever found the fields:
// parse_span_fields (trace.hpp) takes them from an nlohmann object, and
// nasops-trace's span reader straight from the line's text, without building
// one.

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/obs/trace.hpp"

namespace nasops {

// The string fields of a span record as found; nullopt when absent.
struct SpanFieldTexts {
    std::optional<std::string_view> name, trace_id, span_id, parent_span_id, span_kind, start, end, status,
        status_message;
};

// Checks the string fields and stores them in `span`, reusing its storage;
// its attributes and events are left as they are. Errors
// (ExitCode::data_error) name the field that is missing or malformed.
Result<void> set_span_fields(const SpanFieldTexts& texts, SpanData& span);

// The "events" of a span record: an array of objects, each with a name, a
// time and optional attributes. Errors as set_span_fields.
Result<std::vector<SpanEvent>> parse_span_events(const nlohmann::json& events);

}  // namespace nasops
