#pragma once

// The free space of a remote file system for servers without the SFTP
// statvfs@openssh.com extension: POSIX `df -P -k` over exec. Shared by sync's
// free-space check and health's nas_disk.

#include <optional>
#include <string_view>

#include "nasops/core/error.hpp"
#include "nasops/ssh/ssh_session.hpp"
#include "nasops/util/fs_stat.hpp"

namespace nasops {

// Reads the one file-system line of `df -P -k` output (inodes stay 0). The
// device and the mount point may both hold spaces: the numbers are found by
// the capacity column ("67%") that follows them.
std::optional<FsStat> parse_df_output(std::string_view text);

// Runs `df -P -k -- path` on the server. ExitCode::unavailable when the
// session fails; ExitCode::io_error, with df's exit status and stderr, when df
// fails or prints something else.
Result<FsStat> remote_df(SshSession& session, std::string_view path);

}  // namespace nasops
