#pragma once

// SFTP on an SshSession (libssh2 1.10): folders, metadata, atomic-as-possible
// renames and file systems' free space, one request at a time. Files are
// written through nasops/ssh/sftp_pipeline.hpp. Paths are remote paths; errors
// name them.

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "nasops/core/error.hpp"
#include "nasops/ssh/ssh_library.hpp"
#include "nasops/util/fs_stat.hpp"

namespace nasops {

struct RemoteStat {
    bool exists = false;
    bool is_directory = false;
    bool is_regular = false;
    std::uint64_t size = 0;
    std::chrono::sys_seconds mtime{};
    std::uint32_t permissions = 0;  // st_mode bits, file type included
};

// The SFTP subsystem of one SshSession (SshSession::sftp()); destroy it before the session.
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
    Result<FsStat> statvfs(std::string_view path);

private:
    friend class SshSession;
    Sftp(LIBSSH2_SESSION* session, int socket, Libssh2Ptr<LIBSSH2_SFTP> sftp);

    LIBSSH2_SESSION* m_session = nullptr;
    int m_socket = -1;  // the session's, not owned
    Libssh2Ptr<LIBSSH2_SFTP> m_sftp;
};

}  // namespace nasops
