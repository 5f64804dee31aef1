#pragma once

// Helpers shared by the ssh modules (ssh_session.cpp, sftp.cpp, known_hosts.cpp);
// not part of the public API.

#include <libssh2.h>
#include <libssh2_sftp.h>

#include <chrono>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "nasops/core/error.hpp"
#include "nasops/util/units.hpp"

namespace nasops::ssh_detail {

// libssh2's message for its last error on `session`, e.g. "Timed out waiting on socket".
std::string last_error_text(LIBSSH2_SESSION* session);

// True for failures of the connection itself (socket closed, timeout), after
// which the session cannot be used again.
bool is_connection_error(int rc) noexcept;

// An Error for a failed libssh2 call: "<what>: <libssh2 message>". Connection
// failures get ExitCode::unavailable and end the session (see abandon()); other
// failures get `code`.
Error session_error(LIBSSH2_SESSION* session, int socket, int rc, std::string_view what, ExitCode code);

// Non-blocking: appends to `sink` what the channel's `stream` (0: stdout,
// SSH_EXTENDED_DATA_STDERR) has ready, through `buffer`, until it would block
// or ends. Returns 0, or the libssh2 error that broke the read; `progress`
// becomes true when anything arrived.
int read_ready(LIBSSH2_CHANNEL* channel, int stream, std::string& sink, std::span<char> buffer, bool& progress);

// What pump_channel moves: `input` is written to the channel's stdin (and
// EOF sent after it when `send_eof`); stdout and stderr are appended to `out`
// and `err`.
struct ChannelIo {
    std::string_view input;
    bool send_eof = true;
    std::string& out;
    std::string& err;
};

// The outcome of pump_channel when no error broke it.
enum class PumpEnd { done, eof };

// Drives a command's channel, non-blocking, until `done()` says what was
// read is enough (PumpEnd::done) or the command ends its output
// (PumpEnd::eof). A peer silent for `timeout` ends the session
// (ExitCode::unavailable); a broken channel is an error naming `what`.
// The session is blocking again on return.
Result<PumpEnd> pump_channel(LIBSSH2_SESSION* session, int socket, LIBSSH2_CHANNEL* channel, ChannelIo io,
                             Duration timeout, const std::function<bool()>& done, std::string_view what);

// Ends a session that can no longer be trusted (connection lost, timed out
// mid-exchange): its socket is shut down and the session made blocking again,
// so that every later call, and the freeing of its handles, fails at once
// rather than waiting on the NAS.
void abandon(LIBSSH2_SESSION* session, int socket) noexcept;

// Waits until the socket can move data in the direction libssh2 is blocked on,
// at most `timeout`; false when the time ran out. It waits a second at most
// each time (and says true), so that a caller drives libssh2 again even when
// libssh2 holds input it has not handed out yet: the caller's own clock of
// progress decides when the peer has been silent for too long.
bool wait_socket(LIBSSH2_SESSION* session, int fd, std::chrono::steady_clock::duration timeout);

// The SFTP status name ("no such file", "permission denied", ...) of a
// LIBSSH2_FX_* code.
std::string_view sftp_status_text(unsigned long status) noexcept;

// Whether an SFTP status says the path is not there (no such file, or no such
// directory on the way), the one case callers treat as an answer, not a failure.
bool sftp_is_missing(unsigned long status) noexcept;

}  // namespace nasops::ssh_detail
