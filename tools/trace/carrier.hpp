#pragma once

// Spans measured outside nasops-trace exec: one given whole (span), and one
// opened and closed by separate commands of a shell script through a carrier
// file (start, event, end). The carrier holds the open span as JSON; it is
// written atomically and removed when the span ends.

#include <filesystem>
#include <optional>
#include <string>

#include "nasops/core/error.hpp"
#include "nasops/obs/trace.hpp"

namespace nasops::trace {

// A new span named `name`: a child of `parent` when given, else the root of a
// new trace.
SpanData new_span(std::string name, SpanKind kind, const std::optional<TraceContext>& parent);

// The context a child of `span` continues (for TRACEPARENT).
TraceContext context_of(const SpanData& span, const std::optional<TraceContext>& parent);

// Writes the open span to `carrier`; refuses (ExitCode::cant_create) when the
// file exists: a span is open there already.
Result<void> open_carrier(const std::filesystem::path& carrier, const SpanData& span, std::uint8_t flags);
// Reads the open span of `carrier` (ExitCode::no_input when missing,
// data_error when it is not a carrier), and its flags.
struct OpenSpan {
    SpanData span;
    std::uint8_t flags = 1;
};
Result<OpenSpan> read_carrier(const std::filesystem::path& carrier);
// Rewrites `carrier` with `open` (atomically).
Result<void> update_carrier(const std::filesystem::path& carrier, const OpenSpan& open);
// Removes the carrier once its span is written.
Result<void> close_carrier(const std::filesystem::path& carrier);

}  // namespace nasops::trace
