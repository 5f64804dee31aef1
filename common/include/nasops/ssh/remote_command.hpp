#pragma once

// A command started on the NAS on a channel of its own (SshSession::start)
// and waited for later: meanwhile the session carries SFTP and other
// channels, so that the NAS works on the command while the caller uploads.
// SshSession::exec is start() then wait().

#include <string>
#include <string_view>

#include "nasops/core/error.hpp"
#include "nasops/ssh/remote_shell.hpp"
#include "nasops/ssh/ssh_library.hpp"
#include "nasops/util/units.hpp"

namespace nasops {

class RemoteCommand {
public:
    RemoteCommand(RemoteCommand&&) noexcept = default;
    RemoteCommand& operator=(RemoteCommand&&) noexcept = default;
    // A command not waited for: its stdin is closed and its channel freed,
    // without waiting for its end. A command that watches its stdin (as the
    // hash that follows an upload does) ends then.
    ~RemoteCommand();

    // Writes `input` to the command's stdin, then EOF, and reads all it
    // prints until it ends, silent for at most `timeout`. A non-zero exit
    // status is not an error: the caller reads exit_status. Errors: the
    // connection is lost or silent for `timeout` (ExitCode::unavailable, the
    // session is closed); the channel broke (ExitCode::io_error). Once only.
    Result<ExecResult> wait(std::string_view input, Duration timeout);

private:
    friend class SshSession;
    RemoteCommand(LIBSSH2_SESSION* session, int socket, Libssh2Ptr<LIBSSH2_CHANNEL> channel, std::string what);

    Libssh2Library m_library;
    LIBSSH2_SESSION* m_session;
    int m_socket;
    Libssh2Ptr<LIBSSH2_CHANNEL> m_channel;
    std::string m_what;  // "cannot run <command> on <host:port>", for errors
};

}  // namespace nasops
