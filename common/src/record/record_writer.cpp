#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ostream>
#include <utility>

#include "nasops/record/record.hpp"

namespace nasops {

namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 5> k_envelope_keys{"v", "ts", "tool", "host", "kind"};

std::string to_json_text(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string tool_host_members(std::string_view tool, std::string_view host) {
    return fmt::format(",\"tool\":{},\"host\":{}", to_json_text(json(tool)), to_json_text(json(host)));
}

// Builds the record line (with its "\n") into `out`, reusing its storage.
Result<void> format_into(std::string& out, RecordKind kind, const json& fields, std::string_view tool_host,
                         SystemTimePoint ts) {
    if (!fields.is_null() && !fields.is_object()) {
        return fail(ExitCode::software, fmt::format("record fields must be a JSON object, not {}", fields.type_name()));
    }
    for (const auto key : k_envelope_keys) {
        if (fields.is_object() && fields.contains(key)) {
            return fail(ExitCode::software,
                        fmt::format("record field '{}' belongs to the envelope and cannot be set by a tool", key));
        }
    }
    out.clear();
    out += "{\"v\":";
    out += std::to_string(k_record_schema_version);
    out += ",\"ts\":\"";
    out += rfc3339_millis(ts);
    out += '"';
    out += tool_host;
    out += ",\"kind\":\"";
    out += record_kind_name(kind);
    out += '"';
    if (fields.is_object() && !fields.empty()) {
        const auto body = to_json_text(fields);  // "{...}": splice its members after the envelope
        out += ',';
        out.append(body, 1, std::string::npos);
    } else {
        out += '}';
    }
    out += '\n';
    return {};
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

RecordWriter::RecordWriter(std::FILE* file, std::ostream* stream, std::string_view tool, std::string_view host,
                           const Clock& clock, std::string sink_name)
    : m_file(file), m_stream(stream), m_clock(&clock), m_sink_name(std::move(sink_name)) {
    if (tool.empty() || host.empty()) {
        throw Fatal{Error{"a record writer needs a tool name and a host name", ExitCode::software}};
    }
    m_tool_host = tool_host_members(tool, host);
}

RecordWriter::RecordWriter(std::FILE* out, std::string_view tool, std::string_view host, const Clock& clock,
                           std::string sink_name)
    : RecordWriter(out, nullptr, tool, host, clock, std::move(sink_name)) {}

RecordWriter::RecordWriter(std::ostream& out, std::string_view tool, std::string_view host, const Clock& clock,
                           std::string sink_name)
    : RecordWriter(nullptr, &out, tool, host, clock, std::move(sink_name)) {}

Result<void> RecordWriter::write(RecordKind kind, const nlohmann::json& fields) {
    if (auto ok = format_into(m_line, kind, fields, m_tool_host, m_clock->now()); !ok) return ok;
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
    TRY(format_into(line, kind, fields, tool_host_members(tool, host), ts));
    return line;
}

}  // namespace nasops
