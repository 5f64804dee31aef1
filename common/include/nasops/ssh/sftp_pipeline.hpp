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
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/ssh/sftp.hpp"
#include "nasops/ssh/sftp_packet.hpp"
#include "nasops/ssh/ssh_library.hpp"
#include "nasops/util/units.hpp"

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

class SftpPipeline;

// One file written through an SftpPipeline a piece at a time, for files too
// large to hold in memory: each write() sends WRITE requests of the server's
// largest size at once and returns while up to k_in_flight bytes are still
// unacknowledged, so that the server never waits for the next request.
// Destroying it before close() closes the handle without waiting: an
// abandoned upload. The pipeline must outlive it and stay where it is.
class SftpUpload {
public:
    // Twice OpenSSH's channel window: the server always has requests queued.
    static constexpr std::size_t k_in_flight = std::size_t{4} << 20;

    SftpUpload(SftpUpload&& other) noexcept;
    SftpUpload& operator=(SftpUpload&&) = delete;
    SftpUpload(const SftpUpload&) = delete;
    SftpUpload& operator=(const SftpUpload&) = delete;
    ~SftpUpload();

    // Appends `data`. A WRITE the server refused fails this or a later call
    // (ExitCode::io_error); a lost connection is ExitCode::unavailable.
    Result<void> write(std::string_view data);
    // Waits for every WRITE to be acknowledged, then closes the file.
    Result<void> close();
    // The bytes written so far, the resume offset included.
    std::uint64_t offset() const { return m_offset; }

private:
    friend class SftpPipeline;
    struct State {
        std::string path;
        std::size_t unacknowledged = 0;  // bytes written and not yet acknowledged
        bool close_answered = false;
        std::optional<Error> error;
    };
    SftpUpload(SftpPipeline& pipeline, std::string path, std::string handle, std::uint64_t offset);
    // The pipeline's failure, named after this file.
    std::unexpected<Error> lost(std::string_view verb, const Error& why) const;

    SftpPipeline* m_pipeline;  // null once moved from or closed
    std::string m_handle;
    std::uint64_t m_offset;
    std::shared_ptr<State> m_state;  // shared with the handlers of its requests
};

class SftpPipeline {
public:
    // The files put() has open on the server at once (OPEN sent, CLOSE not
    // yet answered); each further file is opened when one of them is closed.
    static constexpr std::size_t k_max_files_open = 64;
    // Bytes per WRITE request where the server does not tell its limit:
    // every SFTP server accepts 32 KiB.
    static constexpr std::size_t k_write_size = 32 * 1024;
    // The most per WRITE request, whatever the server allows: OpenSSH's limit.
    static constexpr std::size_t k_max_write_size = 255 * 1024;

    SftpPipeline(SftpPipeline&&) noexcept = default;
    SftpPipeline& operator=(SftpPipeline&&) noexcept = default;
    ~SftpPipeline() = default;

    // Whether the server offers posix-rename@openssh.com (OpenSSH does).
    bool has_posix_rename() const { return m_posix_rename; }
    // Bytes per WRITE request: the server's limit (limits@openssh.com, OpenSSH
    // 8.6 and later) up to k_max_write_size, else k_write_size.
    std::size_t write_size() const { return m_write_size; }

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

    // Opens `path` for an SftpUpload at `offset`: 0 creates or truncates it;
    // more keeps its first `offset` bytes (a resumed upload) and drops the
    // rest. ExitCode::cant_create when it cannot be opened, data_error when it
    // holds fewer than `offset` bytes.
    Result<SftpUpload> open_upload(std::string path, std::uint64_t offset, std::uint32_t mode = 0644);

private:
    friend class SshSession;
    friend class SftpUpload;
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
    // The same, until m_out is sent and `done` holds, or no request is pending.
    Result<void> run_until(const std::function<bool()>& done);
    Result<void> exchange(const std::function<bool()>& done);

    std::unexpected<Error> broken(int rc);
    std::unexpected<Error> broken(std::string why);

    LIBSSH2_SESSION* m_session = nullptr;
    int m_socket = -1;  // the session's, not owned
    Libssh2Ptr<LIBSSH2_CHANNEL> m_channel;
    Duration m_timeout{};
    std::string m_endpoint;
    bool m_posix_rename = false;
    std::size_t m_write_size = k_write_size;
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
