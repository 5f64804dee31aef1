#include "carrier.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include "nasops/util/atomic_file.hpp"

namespace nasops::trace {

namespace {

std::string carrier_text(const OpenSpan& open) {
    auto span = open.span;
    span.end = span.start;
    auto fields = span_fields(span);
    fields.erase("end");
    fields.erase("duration_ms");
    fields["flags"] = open.flags;
    return fields.dump() + "\n";
}

}  // namespace

SpanData new_span(std::string name, SpanKind kind, const std::optional<TraceContext>& parent) {
    SpanData span;
    span.name = std::move(name);
    span.kind = kind;
    span.trace_id = parent ? parent->trace_id : new_trace_id();
    span.parent_span_id = parent ? parent->span_id : std::string();
    span.span_id = new_span_id();
    return span;
}

TraceContext context_of(const SpanData& span, const std::optional<TraceContext>& parent) {
    return TraceContext{span.trace_id, span.span_id, parent ? parent->flags : std::uint8_t{1}};
}

Result<void> open_carrier(const std::filesystem::path& carrier, const SpanData& span, std::uint8_t flags) {
    std::error_code ec;
    if (std::filesystem::exists(carrier, ec))
        return fail(ExitCode::cant_create,
                    fmt::format("carrier {} exists: a span is open there already (end it first)", carrier.string()));
    return write_file_atomically(carrier, carrier_text(OpenSpan{span, flags}), 0600);
}

Result<OpenSpan> read_carrier(const std::filesystem::path& carrier) {
    std::ifstream in(carrier);
    if (!in)
        return fail(ExitCode::no_input, fmt::format("cannot open carrier {}: {} (was the span started?)",
                                                    carrier.string(), std::strerror(errno)));
    std::stringstream text;
    text << in.rdbuf();
    const auto object = nlohmann::json::parse(text.str(), nullptr, false);
    const auto bad = [&](std::string_view why) {
        return fail(ExitCode::data_error, fmt::format("carrier {}: {}", carrier.string(), why));
    };
    if (!object.is_object()) return bad("not a span carrier (not a JSON object)");
    auto fields = object;
    fields["end"] = fields.value("start", "");
    auto span = parse_span_fields(fields);
    if (!span) return bad(span.error().message);
    OpenSpan open{std::move(*span), 1};
    if (const auto it = object.find("flags"); it != object.end() && it->is_number_unsigned() && *it <= 255)
        open.flags = it->get<std::uint8_t>();
    return open;
}

Result<void> update_carrier(const std::filesystem::path& carrier, const OpenSpan& open) {
    return write_file_atomically(carrier, carrier_text(open), 0600);
}

Result<void> close_carrier(const std::filesystem::path& carrier) {
    std::error_code ec;
    std::filesystem::remove(carrier, ec);
    if (ec)
        return fail(ExitCode::io_error, fmt::format("cannot remove carrier {}: {}", carrier.string(), ec.message()));
    return {};
}

}  // namespace nasops::trace
