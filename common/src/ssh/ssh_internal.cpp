#include "ssh_internal.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <vector>

namespace nasops::ssh_detail {

std::string last_error_text(LIBSSH2_SESSION* session) {
    char* message = nullptr;
    int length = 0;
    libssh2_session_last_error(session, &message, &length, 0);
    if (message == nullptr || length <= 0) return "unknown libssh2 error";
    return std::string(message, static_cast<std::size_t>(length));
}

bool is_connection_error(int rc) noexcept {
    switch (rc) {
        case LIBSSH2_ERROR_SOCKET_NONE:
        case LIBSSH2_ERROR_BANNER_RECV:
        case LIBSSH2_ERROR_BANNER_SEND:
        case LIBSSH2_ERROR_SOCKET_SEND:
        case LIBSSH2_ERROR_TIMEOUT:
        case LIBSSH2_ERROR_SOCKET_DISCONNECT:
        case LIBSSH2_ERROR_SOCKET_TIMEOUT:
        case LIBSSH2_ERROR_SOCKET_RECV:
        case LIBSSH2_ERROR_BAD_SOCKET: return true;
        default: return false;
    }
}

Error session_error(LIBSSH2_SESSION* session, int socket, int rc, std::string_view what, ExitCode code) {
    std::string text = last_error_text(session);
    if (is_connection_error(rc)) {
        abandon(session, socket);
        return Error{fmt::format("{}: connection lost: {}", what, text), ExitCode::unavailable};
    }
    return Error{fmt::format("{}: {}", what, text), code};
}

int read_ready(LIBSSH2_CHANNEL* channel, int stream, std::string& sink, std::span<char> buffer, bool& progress) {
    for (;;) {
        const ssize_t n = libssh2_channel_read_ex(channel, stream, buffer.data(), buffer.size());
        if (n > 0) {
            sink.append(buffer.data(), static_cast<std::size_t>(n));
            progress = true;
            continue;
        }
        if (n == 0 || n == LIBSSH2_ERROR_EAGAIN) return 0;
        return static_cast<int>(n);
    }
}

void abandon(LIBSSH2_SESSION* session, int socket) noexcept {
    ::shutdown(socket, SHUT_RDWR);
    libssh2_session_set_blocking(session, 1);
}

Result<PumpEnd> pump_channel(LIBSSH2_SESSION* session, int socket, LIBSSH2_CHANNEL* channel, ChannelIo io,
                             Duration timeout, const std::function<bool()>& done, std::string_view what) {
    using Clock = std::chrono::steady_clock;
    // Non-blocking: a command that fills its stdout while we are still
    // writing its stdin must not deadlock either side.
    libssh2_session_set_blocking(session, 0);
    const auto broken = [&](int rc) {
        libssh2_session_set_blocking(session, 1);
        return std::unexpected(session_error(session, socket, rc, what, ExitCode::io_error));
    };
    bool stdin_open = true;
    std::vector<char> buffer(32 * 1024);
    auto last_progress = Clock::now();
    for (;;) {
        bool progress = false;
        if (stdin_open && !io.input.empty()) {
            const ssize_t n = libssh2_channel_write(channel, io.input.data(), io.input.size());
            if (n > 0) {
                io.input.remove_prefix(static_cast<std::size_t>(n));
                progress = true;
            } else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
                if (is_connection_error(static_cast<int>(n))) return broken(static_cast<int>(n));
                stdin_open = false;  // the command closed its stdin: like SIGPIPE, it reads no more
            }
        }
        if (stdin_open && io.input.empty() && io.send_eof) {
            const int rc = libssh2_channel_send_eof(channel);
            if (rc == 0) {
                stdin_open = false;
                progress = true;
            } else if (rc != LIBSSH2_ERROR_EAGAIN) {
                if (is_connection_error(rc)) return broken(rc);
                stdin_open = false;
            }
        }
        for (const int stream : {0, SSH_EXTENDED_DATA_STDERR}) {
            std::string& sink = stream == 0 ? io.out : io.err;
            if (const int rc = read_ready(channel, stream, sink, buffer, progress); rc != 0) return broken(rc);
        }
        if (io.input.empty() && done()) break;
        if (libssh2_channel_eof(channel) == 1) {
            libssh2_session_set_blocking(session, 1);
            return PumpEnd::eof;
        }
        const auto now = Clock::now();
        if (progress) {
            last_progress = now;
            continue;
        }
        const auto remaining = timeout - (now - last_progress);
        if (remaining <= Clock::duration::zero() || !wait_socket(session, socket, remaining)) {
            abandon(session, socket);
            return std::unexpected(
                Error{fmt::format("{}: no answer for {}; the session is closed", what, format_duration(timeout)),
                      ExitCode::unavailable});
        }
    }
    libssh2_session_set_blocking(session, 1);
    return PumpEnd::done;
}

bool wait_socket(LIBSSH2_SESSION* session, int fd, std::chrono::steady_clock::duration timeout) {
    const int directions = libssh2_session_block_directions(session);
    short events = 0;
    if ((directions & LIBSSH2_SESSION_BLOCK_INBOUND) != 0) events |= POLLIN;
    if ((directions & LIBSSH2_SESSION_BLOCK_OUTBOUND) != 0) events |= POLLOUT;
    if (events == 0) events = POLLIN;
    pollfd p{fd, events, 0};
    constexpr std::int64_t k_slice_ms = 1000;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
    if (ms > k_slice_ms) {
        ::poll(&p, 1, static_cast<int>(k_slice_ms));
        return true;
    }
    return ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(ms, 0))) != 0;
}

std::string_view sftp_status_text(unsigned long status) noexcept {
    switch (status) {
        case LIBSSH2_FX_OK: return "ok";
        case LIBSSH2_FX_EOF: return "end of file";
        case LIBSSH2_FX_NO_SUCH_FILE: return "no such file";
        case LIBSSH2_FX_PERMISSION_DENIED: return "permission denied";
        case LIBSSH2_FX_FAILURE: return "failure";
        case LIBSSH2_FX_BAD_MESSAGE: return "bad message";
        case LIBSSH2_FX_NO_CONNECTION: return "no connection";
        case LIBSSH2_FX_CONNECTION_LOST: return "connection lost";
        case LIBSSH2_FX_OP_UNSUPPORTED: return "operation not supported by the server";
        case LIBSSH2_FX_INVALID_HANDLE: return "invalid handle";
        case LIBSSH2_FX_NO_SUCH_PATH: return "no such path";
        case LIBSSH2_FX_FILE_ALREADY_EXISTS: return "file already exists";
        case LIBSSH2_FX_WRITE_PROTECT: return "write protected";
        case LIBSSH2_FX_NO_MEDIA: return "no media";
        case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM: return "no space left on the file system";
        case LIBSSH2_FX_QUOTA_EXCEEDED: return "quota exceeded";
        case LIBSSH2_FX_UNKNOWN_PRINCIPAL: return "unknown principal";
        case LIBSSH2_FX_LOCK_CONFLICT: return "lock conflict";
        case LIBSSH2_FX_DIR_NOT_EMPTY: return "folder not empty";
        case LIBSSH2_FX_NOT_A_DIRECTORY: return "not a folder";
        case LIBSSH2_FX_INVALID_FILENAME: return "invalid file name";
        case LIBSSH2_FX_LINK_LOOP: return "too many symbolic links";
        default: return "unknown SFTP status";
    }
}

bool sftp_is_missing(unsigned long status) noexcept {
    return status == LIBSSH2_FX_NO_SUCH_FILE || status == LIBSSH2_FX_NO_SUCH_PATH;
}

}  // namespace nasops::ssh_detail
