#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ostream>
#include <utility>

#include "nasops/record/json_fast.hpp"
#include "nasops/record/record.hpp"

namespace nasops {

namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 5> k_envelope_keys{"v", "ts", "tool", "host", "kind"};

std::string to_json_text(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// ,"key": before a member's value.
void append_key(std::string& out, std::string_view key) {
    out += ',';
    append_json_string(out, key);
    out += ':';
}

template <typename Integer>
void append_integer(std::string& out, Integer value) {
    char digits[24];
    const auto end = std::to_chars(std::begin(digits), std::end(digits), value).ptr;
    out.append(digits, end);
}

// `value` as dump() writes it; the common scalars without dump()'s serializer
// (which reads the locale each time), the rest through it.
void append_value(std::string& out, const json& value) {
    switch (value.type()) {
        case json::value_t::string: append_json_string(out, value.get_ref<const std::string&>()); return;
        case json::value_t::number_integer: append_integer(out, value.get<std::int64_t>()); return;
        case json::value_t::number_unsigned: append_integer(out, value.get<std::uint64_t>()); return;
        case json::value_t::boolean: out += value.get<bool>() ? "true" : "false"; return;
        case json::value_t::null: out += "null"; return;
        default: out += to_json_text(value); return;
    }
}

// write(2) until everything is out; waits when the descriptor is non-blocking.
int write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const auto n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                pollfd p{fd, POLLOUT, 0};
                ::poll(&p, 1, -1);
                continue;
            }
            return errno;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return 0;
}

}  // namespace

RecordFormatter::RecordFormatter(std::string_view tool, std::string_view host)
    : m_tool_host(fmt::format(",\"tool\":{},\"host\":{}", to_json_text(json(tool)), to_json_text(json(host)))) {}

Result<void> RecordFormatter::append(std::string& out, RecordKind kind, const json& fields, SystemTimePoint ts,
                                     std::span<const RawMember> extra) const {
    if (!fields.is_null() && !fields.is_object()) {
        return fail(ExitCode::software, fmt::format("record fields must be a JSON object, not {}", fields.type_name()));
    }
    for (const auto key : k_envelope_keys) {
        if (fields.is_object() && fields.contains(key)) {
            return fail(ExitCode::software,
                        fmt::format("record field '{}' belongs to the envelope and cannot be set by a tool", key));
        }
    }
    out += "{\"v\":";
    out += std::to_string(k_record_schema_version);
    out += ",\"ts\":\"";
    out += rfc3339_millis(ts);
    out += '"';
    out += m_tool_host;
    out += ",\"kind\":\"";
    out += record_kind_name(kind);
    out += '"';
    // nlohmann's objects iterate in key order: merging `extra` in keeps it.
    auto next = extra.begin();
    if (fields.is_object()) {
        for (auto it = fields.begin(); it != fields.end(); ++it) {
            const std::string& key = it.key();
            while (next != extra.end() && next->key < key) {
                append_key(out, next->key);
                out += next->json_text;
                ++next;
            }
            if (next != extra.end() && next->key == key) continue;
            append_key(out, key);
            append_value(out, it.value());
        }
    }
    for (; next != extra.end(); ++next) {
        append_key(out, next->key);
        out += next->json_text;
    }
    out += "}\n";
    return {};
}

RecordWriter::RecordWriter(std::FILE* file, std::ostream* stream, std::string_view tool, std::string_view host,
                           const Clock& clock, std::string sink_name)
    : m_file(file), m_stream(stream), m_formatter(tool, host), m_clock(&clock), m_sink_name(std::move(sink_name)) {
    if (tool.empty() || host.empty()) {
        throw Fatal{Error{"a record writer needs a tool name and a host name", ExitCode::software}};
    }
}

RecordWriter::RecordWriter(std::FILE* out, std::string_view tool, std::string_view host, const Clock& clock,
                           std::string sink_name)
    : RecordWriter(out, nullptr, tool, host, clock, std::move(sink_name)) {}

RecordWriter::RecordWriter(std::ostream& out, std::string_view tool, std::string_view host, const Clock& clock,
                           std::string sink_name)
    : RecordWriter(nullptr, &out, tool, host, clock, std::move(sink_name)) {}

Result<void> RecordWriter::write(RecordKind kind, const nlohmann::json& fields) {
    m_line.clear();
    if (auto ok = m_formatter.append(m_line, kind, fields, m_clock->now()); !ok) return ok;
    auto failed = [&](int err) {
        return fail(ExitCode::io_error, fmt::format("cannot write record to {}: {}", m_sink_name,
                                                    err != 0 ? std::strerror(err) : "write failed"));
    };
    if (m_stream != nullptr) {
        m_stream->write(m_line.data(), static_cast<std::streamsize>(m_line.size()));
        m_stream->flush();
        if (!*m_stream) return failed(0);
        return {};
    }
    const int fd = ::fileno(m_file);
    if (fd < 0) {
        // A FILE without a descriptor (fmemopen, open_memstream): stdio only.
        if (std::fwrite(m_line.data(), 1, m_line.size(), m_file) != m_line.size() || std::fflush(m_file) != 0) {
            return failed(errno);
        }
        return {};
    }
    // Whatever stdio still holds goes first, so that records stay in order
    // with other output; then the record leaves in one write(2).
    if (std::fflush(m_file) != 0) return failed(errno);
    if (const int err = write_all(fd, m_line.data(), m_line.size()); err != 0) return failed(err);
    return {};
}

Result<std::string> format_record(RecordKind kind, const nlohmann::json& fields, std::string_view tool,
                                  std::string_view host, SystemTimePoint ts) {
    if (tool.empty() || host.empty()) {
        return fail(ExitCode::software, "a record needs a tool name and a host name");
    }
    std::string line;
    TRY(RecordFormatter(tool, host).append(line, kind, fields, ts));
    return line;
}

}  // namespace nasops
