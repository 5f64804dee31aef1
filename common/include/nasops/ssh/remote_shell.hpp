#pragma once

// A long-lived `sh` on the NAS (SshSession::shell()), for a command run many
// times over one session, such as the batch verify's sha256sum: each command
// goes to the shell as one line on its stdin. SshSession::exec pays, per
// command, a channel, an sshd fork and the start of the user's login shell;
// here each command costs only the shell's fork of it.
//
// Each command's end is a line with a random marker and its exit status,
// printed by the shell after it; stdin of the command is /dev/null, so it
// cannot read the lines meant for the shell.

#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "nasops/core/error.hpp"
#include "nasops/ssh/ssh_library.hpp"
#include "nasops/util/units.hpp"

namespace nasops {

struct ExecResult {
    int exit_status = 0;      // the command's exit status; -1 when it was killed by a signal
    std::string exit_signal;  // "TERM", "KILL"... when killed by a signal, else empty
    std::string out;          // everything it wrote to stdout
    std::string err;          // everything it wrote to stderr
};

class RemoteShell {
public:
    RemoteShell(RemoteShell&&) noexcept = default;
    RemoteShell& operator=(RemoteShell&&) noexcept = default;
    // Closes the shell's stdin, which ends it, and its channel.
    ~RemoteShell();

    // Runs argv, each argument quoted with shell_quote, and waits for its end:
    // at most `timeout` without output. A command killed by a signal has
    // exit_status 128 + its number, as sh reports it. Errors: the connection is
    // lost or silent for `timeout` (ExitCode::unavailable, the session is
    // closed); the shell itself ended (ExitCode::io_error). After an error the
    // shell is not usable().
    Result<ExecResult> run(std::span<const std::string> argv, Duration timeout);

    // run() in two halves, so that the caller can do other work on the
    // session while the command runs: send() gives the shell the command and
    // returns; receive() waits for the end of the oldest command sent and not
    // received yet. Several may be sent before the first is received: the
    // shell runs them one after another. `timeout` bounds the wait for the
    // shell to take the command. Errors are run()'s.
    Result<void> send(std::span<const std::string> argv, Duration timeout);
    Result<ExecResult> receive(Duration timeout);

    bool usable() const { return static_cast<bool>(m_channel); }
    // Commands sent and not received yet.
    std::size_t waiting() const { return m_waiting.size(); }

private:
    friend class SshSession;
    RemoteShell(LIBSSH2_SESSION* session, int socket, Libssh2Ptr<LIBSSH2_CHANNEL> channel, std::string endpoint);
    // Writes `input` to the shell and reads its output into m_out and m_err
    // until `done()`; a shell that ends or breaks is unusable after.
    Result<void> pump(std::string_view input, Duration timeout, std::string_view what,
                      const std::function<bool()>& done);

    Libssh2Library m_library;
    LIBSSH2_SESSION* m_session;
    int m_socket;
    Libssh2Ptr<LIBSSH2_CHANNEL> m_channel;
    std::string m_endpoint;
    std::string m_marker;
    std::string m_out;  // output read and not received yet: it may hold later commands' too
    std::string m_err;
    std::deque<std::string> m_waiting;  // the commands sent and not received, by name
};

}  // namespace nasops
