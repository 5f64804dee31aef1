#pragma once

// An SFTP channel of its own on an SshSession (SshSession::sftp_pipeline()),
// driven by nasops rather than by libssh2's synchronous SFTP API, so that the
// requests for many files are in flight at once: libssh2 1.10 waits for each
// reply before it sends the next request, which makes a small file cost five
// round trips. Requests are matched to their replies by id. Every operation
// here is a batch whose results come back per item, in the order asked.
//
// A failure of the channel itself (connection lost, no answer within the
// session timeout, a malformed reply) is ExitCode::unavailable for every item
// not answered yet; the session is then closed (see SshSession) and the
// pipeline refuses further work.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "nasops/error.hpp"
#include "nasops/sftp.hpp"
#include "nasops/sftp_packet.hpp"
#include "nasops/ssh_library.hpp"
#include "nasops/units.hpp"

namespace nasops {

// A whole file to write in one go.
struct SftpPut {
    std::string path;                    // remote path, created or truncated
    std::string_view data;               // its whole contents
    std::optional<std::uint32_t> mtime;  // seconds since the epoch; set (with atime) before the close
    std::uint32_t mode = 0644;
};

struct SftpRename {
    std::string from;
    std::string to;
};

class SftpPipeline {
public:
    // Requests sent before the first reply is waited for; more wait their turn.
    static constexpr std::size_t k_max_files_open = 64;
    // Bytes per WRITE request: every SFTP server accepts 32 KiB.
    static constexpr std::size_t k_write_size = 32 * 1024;

    SftpPipeline(SftpPipeline&&) noexcept = default;
    SftpPipeline& operator=(SftpPipeline&&) noexcept = default;
    ~SftpPipeline() = default;

    // Whether the server offers posix-rename@openssh.com (OpenSSH does).
    bool has_posix_rename() const { return m_posix_rename; }

    // Writes each file: OPEN (create, truncate), its WRITEs, an FSETSTAT of
    // its times when asked, CLOSE; up to k_max_files_open files at a time.
    // Per file: true when the times were set, false when the server refused
    // them (the data is written all the same), or the Error that lost the
    // file (ExitCode::cant_create when it cannot be opened, io_error when a
    // write or the close fails).
    std::vector<Result<bool>> put(std::span<const SftpPut> files);

    // rename(2) on the server through posix-rename@openssh.com, replacing each
    // `to` atomically. Only when has_posix_rename(); per item, an Error
    // (ExitCode::cant_create, or no_input when `from` is missing).
    std::vector<Result<void>> posix_rename(std::span<const SftpRename> renames);

    // STAT of each path (links followed); a missing path is exists == false.
    std::vector<Result<RemoteStat>> stat(std::span<const std::string> paths);

private:
    friend class SshSession;
    using Handler = std::function<void(const SftpReply&)>;

    // Opens the "sftp" subsystem on a new channel of `session` and exchanges
    // INIT/VERSION. `socket` is the session's; `timeout` bounds each wait.
    static Result<SftpPipeline> open(LIBSSH2_SESSION* session, int socket, Duration timeout, std::string endpoint);
    SftpPipeline(LIBSSH2_SESSION* session, int socket, Libssh2Ptr<LIBSSH2_CHANNEL> channel, Duration timeout,
                 std::string endpoint);

    // A new request id whose reply goes to `handler`; the caller appends the
    // request, with that id, to m_out.
    std::uint32_t expect(Handler handler);
    // Sends m_out and dispatches replies until no request is pending. After a
    // failure every later call fails the same way.
    Result<void> run();
    Result<void> exchange();
    std::unexpected<Error> broken(int rc);
    std::unexpected<Error> broken(std::string why);

    LIBSSH2_SESSION* m_session = nullptr;
    int m_socket = -1;  // the session's, not owned
    Libssh2Ptr<LIBSSH2_CHANNEL> m_channel;
    Duration m_timeout{};
    std::string m_endpoint;
    bool m_posix_rename = false;
    std::uint32_t m_next_id = 1;
    std::unordered_map<std::uint32_t, Handler> m_pending;
    std::string m_out;  // requests not yet taken by libssh2, from m_out_sent
    std::size_t m_out_sent = 0;
    std::string m_in;  // bytes read and not yet decoded
    std::vector<char> m_read_buffer;
    std::optional<Error> m_failure;
};

// A failed STATUS reply as an Error: "<what>: <status text> (SFTP status N)",
// with `missing` for no-such-file and `code` for anything else.
Error sftp_status_error(const SftpReply& reply, std::string_view what, ExitCode code, ExitCode missing);

}  // namespace nasops
