#include "nasops/obs/trace.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/rand.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "nasops/core/log.hpp"
#include "nasops/util/unique_fd.hpp"

namespace nasops {

namespace {

using nlohmann::json;

constexpr std::string_view k_hex = "0123456789abcdef";

bool lower_hex(std::string_view text) noexcept {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool all_zero(std::string_view text) noexcept {
    return std::all_of(text.begin(), text.end(), [](char c) { return c == '0'; });
}

// `n` random bytes as 2n hex digits, never all zero.
std::string random_hex(std::size_t n) {
    std::array<unsigned char, 16> bytes{};
    for (;;) {
        if (RAND_bytes(bytes.data(), static_cast<int>(n)) != 1) {
            // OpenSSL's generator failed (it should not): the kernel's is as good.
            std::size_t got = 0;
            while (got < n) {
                const auto r = ::getrandom(bytes.data() + got, n - got, 0);
                if (r > 0) got += static_cast<std::size_t>(r);
            }
        }
        if (std::any_of(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n), [](auto b) { return b != 0; }))
            break;
    }
    std::string out(2 * n, '0');
    for (std::size_t i = 0; i < n; ++i) {
        out[2 * i] = k_hex[bytes[i] >> 4];
        out[2 * i + 1] = k_hex[bytes[i] & 0xf];
    }
    return out;
}

}  // namespace

std::optional<TraceContext> parse_traceparent(std::string_view text) {
    // version "-" trace-id "-" parent-id "-" flags: 2+1+32+1+16+1+2 = 55
    if (text.size() < 55) return std::nullopt;
    const auto version = text.substr(0, 2);
    if (!lower_hex(version) || version == "ff") return std::nullopt;
    if (text[2] != '-' || text[35] != '-' || text[52] != '-') return std::nullopt;
    if (version == "00" ? text.size() != 55 : (text.size() > 55 && text[55] != '-')) return std::nullopt;
    TraceContext context;
    context.trace_id = std::string(text.substr(3, 32));
    context.span_id = std::string(text.substr(36, 16));
    const auto flags = text.substr(53, 2);
    if (!valid_trace_id(context.trace_id) || !valid_span_id(context.span_id) || !lower_hex(flags)) return std::nullopt;
    context.flags = static_cast<std::uint8_t>((k_hex.find(flags[0]) << 4) | k_hex.find(flags[1]));
    return context;
}

std::string format_traceparent(const TraceContext& context) {
    return fmt::format("00-{}-{}-{:02x}", context.trace_id, context.span_id, context.flags);
}

std::string new_trace_id() {
    return random_hex(16);
}

std::string new_span_id() {
    return random_hex(8);
}

bool valid_trace_id(std::string_view id) noexcept {
    return id.size() == 32 && lower_hex(id) && !all_zero(id);
}

bool valid_span_id(std::string_view id) noexcept {
    return id.size() == 16 && lower_hex(id) && !all_zero(id);
}

std::string_view span_kind_name(SpanKind kind) noexcept {
    switch (kind) {
        case SpanKind::internal: return "internal";
        case SpanKind::client: return "client";
        case SpanKind::server: return "server";
        case SpanKind::producer: return "producer";
        case SpanKind::consumer: return "consumer";
    }
    return "internal";
}

std::optional<SpanKind> parse_span_kind(std::string_view name) noexcept {
    for (auto k : {SpanKind::internal, SpanKind::client, SpanKind::server, SpanKind::producer, SpanKind::consumer})
        if (span_kind_name(k) == name) return k;
    return std::nullopt;
}

std::string_view span_status_name(SpanStatus status) noexcept {
    switch (status) {
        case SpanStatus::unset: return "unset";
        case SpanStatus::ok: return "ok";
        case SpanStatus::error: return "error";
    }
    return "unset";
}

std::optional<SpanStatus> parse_span_status(std::string_view name) noexcept {
    for (auto s : {SpanStatus::unset, SpanStatus::ok, SpanStatus::error})
        if (span_status_name(s) == name) return s;
    return std::nullopt;
}

json span_fields(const SpanData& span) {
    json fields = json::object();
    fields["name"] = span.name;
    fields["trace_id"] = span.trace_id;
    fields["span_id"] = span.span_id;
    if (!span.parent_span_id.empty()) fields["parent_span_id"] = span.parent_span_id;
    fields["span_kind"] = span_kind_name(span.kind);
    fields["start"] = rfc3339_nanos(span.start);
    fields["end"] = rfc3339_nanos(span.end);
    fields["duration_ms"] =
        static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(span.end - span.start).count()) / 1e6;
    fields["status"] = span_status_name(span.status);
    if (!span.status_message.empty()) fields["status_message"] = span.status_message;
    fields["attributes"] = span.attributes.is_object() ? span.attributes : json::object();
    if (!span.events.empty()) {
        json events = json::array();
        for (const auto& e : span.events)
            events.push_back({{"name", e.name}, {"time", rfc3339_nanos(e.time)}, {"attributes", e.attributes}});
        fields["events"] = std::move(events);
    }
    return fields;
}

Result<void> append_line(const std::filesystem::path& file, std::string_view line) {
    UniqueFd fd(::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
    if (!fd) return fail(ExitCode::cant_create, fmt::format("cannot open {}: {}", file.string(), std::strerror(errno)));
    // One write(2): an O_APPEND write to a regular file is placed at the end
    // and written whole under the inode's lock, so concurrent appenders never
    // interleave. A short write (a full disk) is reported, not continued: a
    // second write could land after another process's line.
    ssize_t n;
    do {
        n = ::write(fd.get(), line.data(), line.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) return fail(ExitCode::io_error, fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
    if (static_cast<std::size_t>(n) != line.size())
        return fail(ExitCode::io_error,
                    fmt::format("cannot write {}: short write ({} of {} bytes)", file.string(), n, line.size()));
    if (fd.close() != 0)
        return fail(ExitCode::io_error, fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
    return {};
}

// ---- SpanSink ---------------------------------------------------------------

SpanSink::SpanSink(std::filesystem::path file, std::string tool, std::string host, const Clock& clock)
    : m_file(std::move(file)), m_tool(std::move(tool)), m_host(std::move(host)), m_clock(&clock) {}

Result<void> SpanSink::write(const SpanData& span) const {
    TRY_ASSIGN(const auto line, format_record(RecordKind::span, span_fields(span), m_tool, m_host, span.end));
    auto appended = append_line(m_file, line);
    if (!appended && appended.error().code == ExitCode::cant_create && !m_file.parent_path().empty()) {
        std::error_code ec;
        if (!std::filesystem::exists(m_file.parent_path(), ec) &&
            std::filesystem::create_directories(m_file.parent_path(), ec))
            return append_line(m_file, line);
    }
    return appended;
}

// ---- Tracer -----------------------------------------------------------------

Tracer::Tracer(SpanSink sink, std::optional<TraceContext> parent)
    : m_sink(std::move(sink)), m_parent(std::move(parent)) {}

Tracer Tracer::from_environment(std::string_view tool, const std::filesystem::path& log_dir, const EnvLookup& env,
                                const Clock& clock) {
    const auto value = env("TRACEPARENT");
    if (!value) return Tracer();
    auto parent = parse_traceparent(*value);
    if (!parent) return Tracer();
    return Tracer(SpanSink(log_dir / k_traces_file, std::string(tool), local_hostname(), clock), std::move(parent));
}

// ---- Span -------------------------------------------------------------------

Span::Span(const Tracer& tracer, std::string_view name, SpanKind kind) {
    if (tracer.active()) begin(tracer.sink(), tracer.parent(), name, kind);
}

Span::Span(const Span& parent, std::string_view name, SpanKind kind) {
    if (parent.active()) begin(parent.m_sink, parent.context(), name, kind);
}

Span::Span(Span&& other) noexcept
    : m_sink(std::exchange(other.m_sink, nullptr)),
      m_flags(other.m_flags),
      m_data(std::move(other.m_data)),
      m_ended(std::exchange(other.m_ended, true)) {}

Span::~Span() {
    if (!active() || m_ended) return;
    if (auto written = end(); !written) logger().warning("trace span '{}': {}", m_data.name, written.error().message);
}

void Span::begin(const SpanSink* sink, const std::optional<TraceContext>& parent, std::string_view name,
                 SpanKind kind) {
    m_sink = sink;
    m_data.name = std::string(name);
    m_data.kind = kind;
    if (parent) {
        m_data.trace_id = parent->trace_id;
        m_data.parent_span_id = parent->span_id;
        m_flags = parent->flags;
    } else {
        m_data.trace_id = new_trace_id();
    }
    m_data.span_id = new_span_id();
    m_data.start = sink->clock().now();
}

std::optional<TraceContext> Span::context() const {
    if (!active()) return std::nullopt;
    return TraceContext{m_data.trace_id, m_data.span_id, m_flags};
}

void Span::set_attribute(std::string_view key, json value) {
    if (!active()) return;
    m_data.attributes[std::string(key)] = std::move(value);
}

void Span::add_event(std::string_view name, json attributes) {
    if (!active()) return;
    m_data.events.push_back(SpanEvent{std::string(name), m_sink->clock().now(),
                                      attributes.is_object() ? std::move(attributes) : json::object()});
}

void Span::set_status(SpanStatus status, std::string_view message) {
    if (!active()) return;
    m_data.status = status;
    m_data.status_message = std::string(message);
}

Result<void> Span::end() {
    if (!active() || m_ended) return {};
    m_ended = true;
    m_data.end = std::max(m_sink->clock().now(), m_data.start);
    return m_sink->write(m_data);
}

Result<void> Span::record_child(SpanData child) const {
    if (!active()) return {};
    child.trace_id = m_data.trace_id;
    child.parent_span_id = m_data.span_id;
    child.span_id = new_span_id();
    child.end = std::max(child.end, child.start);
    return m_sink->write(child);
}

}  // namespace nasops
