#pragma once

// SFTP on an SshSession (libssh2 1.10): folders, metadata, atomic-as-possible
// renames, file systems' free space, and files written in the large slices
// libssh2 needs to pipeline. Paths are remote paths; errors name them.

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "nasops/error.hpp"
#include "nasops/ssh_library.hpp"

namespace nasops {

struct RemoteStat {
    bool exists = false;
    bool is_directory = false;
    bool is_regular = false;
    std::uint64_t size = 0;
    std::chrono::sys_seconds mtime{};
    std::uint32_t permissions = 0;  // st_mode bits, file type included
};

// statvfs(3) of a remote file system, in bytes and inodes.
struct RemoteFsStat {
    std::uint64_t total_bytes = 0;
    std::uint64_t free_bytes = 0;       // free for root
    std::uint64_t available_bytes = 0;  // free for unprivileged users
    std::uint64_t total_inodes = 0;
    std::uint64_t free_inodes = 0;
    std::uint64_t available_inodes = 0;
};

// An open remote file. Writes are kept in a window of bytes not yet
// acknowledged; every libssh2 call gets the whole window, which is what lets
// libssh2 keep many 30,000-byte WRITE requests in flight, and write() returns
// while up to k_in_flight bytes are still travelling, so the caller reads the
// next chunk while the server writes the last. flush(), fsync() and close()
// wait for every acknowledgement; the destructor closes the handle WITHOUT
// sending what is left, so an abandoned upload never grows further. After a
// failed write the file accepts no more writes.
class SftpFile {
public:
    // OpenSSH's channel window: more would only wait for window adjustments.
    static constexpr std::size_t k_in_flight = std::size_t{2} << 20;

    SftpFile(SftpFile&&) noexcept = default;
    SftpFile& operator=(SftpFile&&) noexcept = default;
    ~SftpFile() = default;

    // Appends `data` at the current offset (ExitCode::io_error, or unavailable
    // when the connection is lost).
    Result<void> write(std::string_view data);
    // Sends the buffered bytes and waits until the server has acknowledged them all.
    Result<void> flush();
    // flush(), then fsync@openssh.com: the data is on the NAS's disk. Servers
    // without the extension make this an Error (operation not supported).
    Result<void> fsync();
    // flush(), then closes the handle; the server's verdict on the close is
    // reported. After a failed write it releases the handle and reports that failure.
    Result<void> close();

    // Reads up to buffer.size() bytes at the current offset; 0 at end of file.
    Result<std::size_t> read(std::span<char> buffer);

    // The offset of the next byte written or read, buffered bytes included.
    std::uint64_t offset() const { return m_offset; }
    const std::string& path() const { return m_path; }

private:
    friend class Sftp;
    SftpFile(LIBSSH2_SESSION* session, int socket, LIBSSH2_SFTP* sftp, LIBSSH2_SFTP_HANDLE* handle, std::string path,
             std::uint64_t offset);

    // Hands the window to libssh2 until at most `limit` bytes are unacknowledged.
    Result<void> pump(std::size_t limit);

    LIBSSH2_SESSION* m_session = nullptr;
    int m_socket = -1;  // the session's, not owned
    LIBSSH2_SFTP* m_sftp = nullptr;
    Libssh2Ptr<LIBSSH2_SFTP_HANDLE> m_handle;
    std::string m_path;
    std::string m_window;  // from the first unacknowledged byte at m_window_start
    std::size_t m_window_start = 0;
    std::uint64_t m_offset = 0;
    bool m_failed = false;
};

// The SFTP subsystem of one SshSession (SshSession::sftp()); destroy it, and its
// files, before the session.
class Sftp {
public:
    Sftp(Sftp&&) noexcept = default;
    Sftp& operator=(Sftp&&) noexcept = default;
    ~Sftp() = default;

    // Creates `path` and every missing parent folder (ExitCode::cant_create). An
    // existing folder is success; an existing non-folder is an error.
    Result<void> mkdir_p(std::string_view path, int mode = 0755);

    // Metadata of `path`, following symbolic links; a missing path is
    // exists == false, not an error.
    Result<RemoteStat> stat(std::string_view path);

    // Renames `from` to `to`, replacing `to`. Asks for an atomic overwrite; SFTP
    // v3 servers (OpenSSH) refuse to replace an existing file, and then `to` is
    // removed and the rename retried, which leaves a moment without `to`.
    Result<void> rename(std::string_view from, std::string_view to);

    // Removes the file `path` (ExitCode::no_input when missing).
    Result<void> remove(std::string_view path);

    // Sets the modification (and access) time of `path`. Some NAS refuse it: the
    // Error says so, and callers may log it once and go on.
    Result<void> set_mtime(std::string_view path, std::chrono::sys_seconds mtime);

    // statvfs@openssh.com on the file system holding `path`; an Error when the
    // server lacks the extension.
    Result<RemoteFsStat> statvfs(std::string_view path);

    // Opens `path` for writing, creating it with `mode` or truncating it.
    Result<SftpFile> open_for_write(std::string_view path, int mode = 0644);
    // Opens `path` for writing at `offset`, keeping its first `offset` bytes:
    // the resume of an interrupted upload. Creates the file when missing.
    Result<SftpFile> open_for_resume(std::string_view path, std::uint64_t offset, int mode = 0644);
    // Opens `path` for reading from `offset`.
    Result<SftpFile> open_for_read(std::string_view path, std::uint64_t offset = 0);

private:
    friend class SshSession;
    Sftp(LIBSSH2_SESSION* session, int socket, Libssh2Ptr<LIBSSH2_SFTP> sftp);

    Result<SftpFile> open(std::string_view path, unsigned long flags, int mode, std::string_view what, ExitCode code);

    LIBSSH2_SESSION* m_session = nullptr;
    int m_socket = -1;  // the session's, not owned
    Libssh2Ptr<LIBSSH2_SFTP> m_sftp;
};

}  // namespace nasops
