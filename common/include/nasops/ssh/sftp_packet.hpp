#pragma once

// SFTP version 3 packets (draft-ietf-secsh-filexfer-02, as OpenSSH's
// sftp-server speaks it), encoded and decoded without any I/O: the requests
// nasops pipelines itself (nasops/ssh/sftp_pipeline.hpp) and the replies it reads.
// Every packet is uint32 length, byte type, then the fields; strings are
// uint32 length + bytes; integers are big-endian.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nasops/core/error.hpp"

namespace nasops {

enum class SftpType : std::uint8_t {
    init = 1,
    version = 2,
    open = 3,
    close = 4,
    write = 6,
    fstat = 8,
    fsetstat = 10,
    remove = 13,
    stat = 17,
    status = 101,
    handle = 102,
    data = 103,
    name = 104,
    attrs = 105,
    extended = 200,
    extended_reply = 201,
};

// SSH_FXF_* flags of OPEN.
namespace sftp_open {
inline constexpr std::uint32_t read = 0x01;
inline constexpr std::uint32_t write = 0x02;
inline constexpr std::uint32_t create = 0x08;
inline constexpr std::uint32_t truncate = 0x10;
}  // namespace sftp_open

// SSH_FX_* status codes of a STATUS reply (the ones nasops tells apart).
namespace sftp_status {
inline constexpr std::uint32_t ok = 0;
inline constexpr std::uint32_t eof = 1;
inline constexpr std::uint32_t no_such_file = 2;
inline constexpr std::uint32_t permission_denied = 3;
inline constexpr std::uint32_t failure = 4;
inline constexpr std::uint32_t op_unsupported = 8;
}  // namespace sftp_status

// File attributes; only the fields present are sent or were received.
struct SftpAttrs {
    std::optional<std::uint64_t> size;
    std::optional<std::uint32_t> permissions;  // st_mode bits, file type included
    // Access and modification times, seconds since the epoch (SFTP v3: unsigned 32-bit).
    std::optional<std::pair<std::uint32_t, std::uint32_t>> atime_mtime;

    friend bool operator==(const SftpAttrs&, const SftpAttrs&) = default;
};

// The largest packet accepted from the server: OpenSSH's own limit (256 KiB)
// with room to spare. A longer length is a broken stream, not a packet.
inline constexpr std::uint32_t k_sftp_max_packet = 1024 * 1024;

// Encoders: each appends one whole packet, length included, to `out`.
void encode_sftp_init(std::string& out, std::uint32_t version);
void encode_sftp_open(std::string& out, std::uint32_t id, std::string_view path, std::uint32_t flags,
                      const SftpAttrs& attrs);
void encode_sftp_write(std::string& out, std::uint32_t id, std::string_view handle, std::uint64_t offset,
                       std::string_view data);
void encode_sftp_fsetstat(std::string& out, std::uint32_t id, std::string_view handle, const SftpAttrs& attrs);
void encode_sftp_close(std::string& out, std::uint32_t id, std::string_view handle);
void encode_sftp_stat(std::string& out, std::uint32_t id, std::string_view path);
void encode_sftp_remove(std::string& out, std::uint32_t id, std::string_view path);
void encode_sftp_fstat(std::string& out, std::uint32_t id, std::string_view handle);
// posix-rename@openssh.com: rename(2) on the server, which replaces `to` atomically.
void encode_sftp_posix_rename(std::string& out, std::uint32_t id, std::string_view from, std::string_view to);
// limits@openssh.com: the server's largest packet, READ and WRITE, and open handles.
void encode_sftp_limits(std::string& out, std::uint32_t id);

// One packet from the server; the fields its type carries are filled.
struct SftpReply {
    SftpType type = SftpType::status;
    std::uint32_t id = 0;  // every reply but VERSION
    // STATUS
    std::uint32_t status = 0;
    std::string message;
    // HANDLE
    std::string handle;
    // ATTRS
    SftpAttrs attrs;
    // VERSION: the protocol version and the extensions, as name/data pairs.
    std::uint32_t version = 0;
    std::vector<std::pair<std::string, std::string>> extensions;
    // EXTENDED_REPLY: the bytes after the id, whose layout depends on the request.
    std::string extended;
};

// The answer to limits@openssh.com; 0 means the server sets no limit.
struct SftpLimits {
    std::uint64_t max_packet = 0;
    std::uint64_t max_read = 0;
    std::uint64_t max_write = 0;
    std::uint64_t max_open_handles = 0;
};
// Decodes SftpReply::extended of a limits@openssh.com reply (ExitCode::data_error when too short).
Result<SftpLimits> decode_sftp_limits(std::string_view extended);

// Takes the first packet off the front of `buffer` and decodes it: nullopt
// (and `buffer` untouched) while the buffer does not hold a whole packet yet.
// A packet longer than k_sftp_max_packet, too short for its fields, or of a
// type nasops never asks for is an Error (ExitCode::data_error).
Result<std::optional<SftpReply>> decode_sftp_reply(std::string_view& buffer);

}  // namespace nasops
