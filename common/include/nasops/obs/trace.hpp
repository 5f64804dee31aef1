#pragma once

// Trace spans for every tool: the W3C trace context (traceparent) and an RAII
// Span that appends one `span` record (nasops-records(7)) to
// <log>/traces.jsonl when it ends. A tool traces itself only when a trace
// context was handed to it (TRACEPARENT, as nasops-trace exec or any
// OpenTelemetry-aware wrapper sets it); without one a Tracer is inactive and
// its spans cost a branch each: no id, no clock read, no allocation, no file.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/core/environment.hpp"
#include "nasops/core/error.hpp"
#include "nasops/record/record.hpp"
#include "nasops/util/clock.hpp"

namespace nasops {

// The file spans are appended to, in the log folder.
inline constexpr std::string_view k_traces_file = "traces.jsonl";

// One position in a trace: the trace, the span that is the parent of whatever
// is started under it, and the flags (bit 0: sampled).
struct TraceContext {
    std::string trace_id;  // 32 lowercase hex digits, not all zero
    std::string span_id;   // 16 lowercase hex digits, not all zero
    std::uint8_t flags = 1;

    bool operator==(const TraceContext&) const = default;
};

// Parses a W3C traceparent header ("00-<trace-id>-<parent-id>-<flags>").
// Returns nullopt for anything the Trace Context specification says to
// ignore: version ff, a malformed or upper-case field, an all-zero id, and a
// version 00 value with anything after the flags. A later version is read by
// its first four fields when a '-' follows them.
std::optional<TraceContext> parse_traceparent(std::string_view text);
// "00-<trace-id>-<span-id>-<flags>".
std::string format_traceparent(const TraceContext& context);

// New random ids (OpenSSL's RAND_bytes), in lowercase hex, never all zero.
std::string new_trace_id();
std::string new_span_id();

// True for 32 (trace) or 16 (span) lowercase hex digits, not all zero.
bool valid_trace_id(std::string_view id) noexcept;
bool valid_span_id(std::string_view id) noexcept;

enum class SpanKind { internal, client, server, producer, consumer };
std::string_view span_kind_name(SpanKind kind) noexcept;  // "internal", ...
std::optional<SpanKind> parse_span_kind(std::string_view name) noexcept;

enum class SpanStatus { unset, ok, error };
std::string_view span_status_name(SpanStatus status) noexcept;  // "unset", "ok", "error"
std::optional<SpanStatus> parse_span_status(std::string_view name) noexcept;

struct SpanEvent {
    std::string name;
    SystemTimePoint time;
    nlohmann::json attributes = nlohmann::json::object();
};

// Everything a span record holds besides its envelope.
struct SpanData {
    std::string name;
    std::string trace_id;
    std::string span_id;
    std::string parent_span_id;  // empty for the root of a trace
    SpanKind kind = SpanKind::internal;
    SystemTimePoint start;
    SystemTimePoint end;
    SpanStatus status = SpanStatus::unset;
    std::string status_message;
    nlohmann::json attributes = nlohmann::json::object();  // string, number or boolean values
    std::vector<SpanEvent> events;
};

// The record's fields (without the envelope):
//   name, trace_id, span_id, [parent_span_id], span_kind, start, end,
//   duration_ms, status, [status_message], attributes, [events]
nlohmann::json span_fields(const SpanData& span);
// The span a `span` record holds. Errors (ExitCode::data_error) name the
// field that is missing or malformed.
Result<SpanData> parse_span(const Record& record);
Result<SpanData> parse_span_fields(const nlohmann::json& object);

// Appends `line` (one record, ending in "\n") to `file` with a single
// write(2) on a descriptor opened O_APPEND, so that any number of processes
// appending at once never interleave their lines. Creates the file (mode
// 0640) when missing. Errors: ExitCode::cant_create or io_error, naming it.
Result<void> append_line(const std::filesystem::path& file, std::string_view line);

// Writes span records to one traces file, as one tool on one host; creates
// the file's folder when it is missing.
class SpanSink {
public:
    SpanSink(std::filesystem::path file, std::string tool, std::string host, const Clock& clock);
    // Formats `span` as a record stamped with its end and appends it.
    Result<void> write(const SpanData& span) const;
    const std::filesystem::path& file() const noexcept { return m_file; }
    const Clock& clock() const noexcept { return *m_clock; }

private:
    std::filesystem::path m_file;
    std::string m_tool;
    std::string m_host;
    const Clock* m_clock;
};

// Where a process's spans go and what they continue. Inactive (the default)
// means no tracing at all.
class Tracer {
public:
    Tracer() = default;
    // Active: spans without a parent span are children of `parent`, or roots
    // of a new trace when it is nullopt.
    Tracer(SpanSink sink, std::optional<TraceContext> parent);

    // Active when `env` has a valid TRACEPARENT, writing to
    // <log_dir>/traces.jsonl as `tool`; inactive otherwise.
    static Tracer from_environment(std::string_view tool, const std::filesystem::path& log_dir, const EnvLookup& env,
                                   const Clock& clock);

    bool active() const noexcept { return m_sink.has_value(); }
    const std::optional<TraceContext>& parent() const noexcept { return m_parent; }
    const SpanSink* sink() const noexcept { return m_sink ? &*m_sink : nullptr; }

private:
    std::optional<SpanSink> m_sink;
    std::optional<TraceContext> m_parent;
};

// A span from its construction to end() or its destructor, whichever comes
// first; the record is written then. Spans of an inactive tracer do nothing.
// Not thread-safe: one span is used by one thread (child spans may be
// started and ended on other threads).
class Span {
public:
    // A child of the tracer's context (or a new trace's root).
    Span(const Tracer& tracer, std::string_view name, SpanKind kind = SpanKind::internal);
    // A child of `parent` (inactive when the parent is).
    Span(const Span& parent, std::string_view name, SpanKind kind = SpanKind::internal);
    Span(Span&& other) noexcept;
    Span& operator=(Span&&) = delete;
    Span(const Span&) = delete;
    Span& operator=(const Span&) = delete;
    // Ends the span if end() was not called; a failed write is logged as a warning.
    ~Span();

    bool active() const noexcept { return m_sink != nullptr; }
    // This span's context, to hand to a child process (TRACEPARENT) or to
    // start child spans from; nullopt when inactive.
    std::optional<TraceContext> context() const;

    void set_attribute(std::string_view key, nlohmann::json value);
    void add_event(std::string_view name, nlohmann::json attributes = nlohmann::json::object());
    void set_status(SpanStatus status, std::string_view message = {});
    void set_error(std::string_view message) { set_status(SpanStatus::error, message); }
    // The data so far (tests; the end time is set by end()).
    const SpanData& data() const noexcept { return m_data; }

    // Stamps the end time and writes the record; later calls do nothing.
    Result<void> end();

    // Writes a finished child of this span measured elsewhere (a check timed
    // on its own thread): `child` gets this span's trace and parent ids and a
    // new span id. Does nothing when inactive.
    Result<void> record_child(SpanData child) const;

private:
    void begin(const SpanSink* sink, const std::optional<TraceContext>& parent, std::string_view name, SpanKind kind);

    const SpanSink* m_sink = nullptr;
    std::uint8_t m_flags = 1;
    SpanData m_data;
    bool m_ended = false;
};

}  // namespace nasops
