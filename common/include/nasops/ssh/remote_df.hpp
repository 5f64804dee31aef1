#pragma once

// The free space of a remote file system for servers without the SFTP
// statvfs@openssh.com extension: POSIX `df -P -k` over exec. Shared by sync's
// free-space check and health's nas_disk.

#include <optional>
#include <string_view>

#include "nasops/core/error.hpp"
#include "nasops/ssh/df_output.hpp"
#include "nasops/ssh/ssh_session.hpp"
#include "nasops/util/fs_stat.hpp"

namespace nasops {

// Runs `df -P -k -- path` on the server. ExitCode::unavailable when the
// session fails; ExitCode::io_error, with df's exit status and stderr, when df
// fails or prints something else.
Result<FsStat> remote_df(SshSession& session, std::string_view path);

}  // namespace nasops
