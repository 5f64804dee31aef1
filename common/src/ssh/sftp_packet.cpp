#include "nasops/ssh/sftp_packet.hpp"

#include <fmt/format.h>

#include <utility>

namespace nasops {

namespace {

constexpr std::uint32_t k_attr_size = 0x01;
constexpr std::uint32_t k_attr_uidgid = 0x02;
constexpr std::uint32_t k_attr_permissions = 0x04;
constexpr std::uint32_t k_attr_acmodtime = 0x08;
constexpr std::uint32_t k_attr_extended = 0x80000000U;

void put_u8(std::string& out, std::uint8_t v) {
    out.push_back(static_cast<char>(v));
}

void put_u32(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_u64(std::string& out, std::uint64_t v) {
    put_u32(out, static_cast<std::uint32_t>(v >> 32));
    put_u32(out, static_cast<std::uint32_t>(v & 0xffffffffU));
}

void put_string(std::string& out, std::string_view s) {
    put_u32(out, static_cast<std::uint32_t>(s.size()));
    out.append(s);
}

void put_attrs(std::string& out, const SftpAttrs& attrs) {
    std::uint32_t flags = 0;
    if (attrs.size) flags |= k_attr_size;
    if (attrs.permissions) flags |= k_attr_permissions;
    if (attrs.atime_mtime) flags |= k_attr_acmodtime;
    put_u32(out, flags);
    if (attrs.size) put_u64(out, *attrs.size);
    if (attrs.permissions) put_u32(out, *attrs.permissions);
    if (attrs.atime_mtime) {
        put_u32(out, attrs.atime_mtime->first);
        put_u32(out, attrs.atime_mtime->second);
    }
}

// Writes the type and id of a packet after a length placeholder; end() fills the length.
class Packet {
public:
    Packet(std::string& out, SftpType type) : m_out(out), m_start(out.size()) {
        put_u32(m_out, 0);
        put_u8(m_out, static_cast<std::uint8_t>(type));
    }
    Packet(std::string& out, SftpType type, std::uint32_t id) : Packet(out, type) { put_u32(m_out, id); }
    Packet(const Packet&) = delete;
    Packet& operator=(const Packet&) = delete;
    ~Packet() {
        const auto length = static_cast<std::uint32_t>(m_out.size() - m_start - 4);
        for (int i = 0; i < 4; ++i)
            m_out[m_start + static_cast<std::size_t>(i)] = static_cast<char>((length >> (24 - 8 * i)) & 0xff);
    }

private:
    std::string& m_out;
    std::size_t m_start;
};

// Reads the fields of one packet's body; any read past its end sets `bad`.
class Reader {
public:
    explicit Reader(std::string_view body) : m_body(body) {}

    std::uint32_t u32() {
        if (m_body.size() < 4) return short_read();
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(m_body[static_cast<std::size_t>(i)]);
        m_body.remove_prefix(4);
        return v;
    }
    std::uint64_t u64() {
        const std::uint64_t high = u32();
        return (high << 32) | u32();
    }
    std::string string() {
        const std::uint32_t n = u32();
        if (bad || m_body.size() < n) {
            short_read();
            return {};
        }
        std::string s(m_body.substr(0, n));
        m_body.remove_prefix(n);
        return s;
    }
    SftpAttrs attrs() {
        SftpAttrs a;
        const std::uint32_t flags = u32();
        if ((flags & k_attr_size) != 0) a.size = u64();
        if ((flags & k_attr_uidgid) != 0) {
            u32();
            u32();
        }
        if ((flags & k_attr_permissions) != 0) a.permissions = u32();
        if ((flags & k_attr_acmodtime) != 0) {
            const std::uint32_t atime = u32();
            a.atime_mtime = std::pair{atime, u32()};
        }
        if ((flags & k_attr_extended) != 0) {
            const std::uint32_t count = u32();
            for (std::uint32_t i = 0; i < count && !bad; ++i) {
                string();
                string();
            }
        }
        return a;
    }
    bool empty() const { return m_body.empty(); }
    std::string_view rest() { return std::exchange(m_body, {}); }

    bool bad = false;

private:
    std::uint32_t short_read() {
        bad = true;
        m_body = {};
        return 0;
    }

    std::string_view m_body;
};

std::uint32_t peek_u32(std::string_view s) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
    return v;
}

}  // namespace

void encode_sftp_init(std::string& out, std::uint32_t version) {
    Packet p(out, SftpType::init);
    put_u32(out, version);
}

void encode_sftp_open(std::string& out, std::uint32_t id, std::string_view path, std::uint32_t flags,
                      const SftpAttrs& attrs) {
    Packet p(out, SftpType::open, id);
    put_string(out, path);
    put_u32(out, flags);
    put_attrs(out, attrs);
}

void encode_sftp_write(std::string& out, std::uint32_t id, std::string_view handle, std::uint64_t offset,
                       std::string_view data) {
    Packet p(out, SftpType::write, id);
    put_string(out, handle);
    put_u64(out, offset);
    put_string(out, data);
}

void encode_sftp_fsetstat(std::string& out, std::uint32_t id, std::string_view handle, const SftpAttrs& attrs) {
    Packet p(out, SftpType::fsetstat, id);
    put_string(out, handle);
    put_attrs(out, attrs);
}

void encode_sftp_close(std::string& out, std::uint32_t id, std::string_view handle) {
    Packet p(out, SftpType::close, id);
    put_string(out, handle);
}

void encode_sftp_stat(std::string& out, std::uint32_t id, std::string_view path) {
    Packet p(out, SftpType::stat, id);
    put_string(out, path);
}

void encode_sftp_remove(std::string& out, std::uint32_t id, std::string_view path) {
    Packet p(out, SftpType::remove, id);
    put_string(out, path);
}

void encode_sftp_fstat(std::string& out, std::uint32_t id, std::string_view handle) {
    Packet p(out, SftpType::fstat, id);
    put_string(out, handle);
}

void encode_sftp_posix_rename(std::string& out, std::uint32_t id, std::string_view from, std::string_view to) {
    Packet p(out, SftpType::extended, id);
    put_string(out, "posix-rename@openssh.com");
    put_string(out, from);
    put_string(out, to);
}

void encode_sftp_limits(std::string& out, std::uint32_t id) {
    Packet p(out, SftpType::extended, id);
    put_string(out, "limits@openssh.com");
}

Result<SftpLimits> decode_sftp_limits(std::string_view extended) {
    Reader r(extended);
    SftpLimits limits;
    limits.max_packet = r.u64();
    limits.max_read = r.u64();
    limits.max_write = r.u64();
    limits.max_open_handles = r.u64();
    if (r.bad)
        return fail(ExitCode::data_error,
                    fmt::format("malformed SFTP reply: {} bytes of limits@openssh.com, not 32", extended.size()));
    return limits;
}

Result<std::optional<SftpReply>> decode_sftp_reply(std::string_view& buffer) {
    if (buffer.size() < 4) return std::nullopt;
    const std::uint32_t length = peek_u32(buffer);
    if (length < 1 || length > k_sftp_max_packet)
        return fail(ExitCode::data_error, fmt::format("malformed SFTP reply: a packet of {} bytes", length));
    if (buffer.size() - 4 < length) return std::nullopt;
    const std::string_view body = buffer.substr(5, length - 1);
    const auto type = static_cast<SftpType>(static_cast<unsigned char>(buffer[4]));

    SftpReply reply;
    reply.type = type;
    Reader r(body);
    switch (type) {
        case SftpType::version:
            reply.version = r.u32();
            while (!r.bad && !r.empty()) {
                std::string name = r.string();
                std::string data = r.string();
                if (!r.bad) reply.extensions.emplace_back(std::move(name), std::move(data));
            }
            break;
        case SftpType::status:
            reply.id = r.u32();
            reply.status = r.u32();
            // SFTP v3 servers before OpenSSH may end the packet after the code.
            if (!r.empty()) reply.message = r.string();
            if (!r.empty()) r.string();
            break;
        case SftpType::handle:
            reply.id = r.u32();
            reply.handle = r.string();
            break;
        case SftpType::attrs:
            reply.id = r.u32();
            reply.attrs = r.attrs();
            break;
        case SftpType::extended_reply:
            reply.id = r.u32();
            reply.extended = r.rest();
            break;
        case SftpType::data:
        case SftpType::name: reply.id = r.u32(); break;
        default:
            return fail(ExitCode::data_error,
                        fmt::format("malformed SFTP reply: unexpected packet type {}", static_cast<int>(type)));
    }
    if (r.bad)
        return fail(ExitCode::data_error,
                    fmt::format("malformed SFTP reply: a packet of type {} is too short for its fields",
                                static_cast<int>(type)));
    buffer.remove_prefix(4 + static_cast<std::size_t>(length));
    return reply;
}

}  // namespace nasops
