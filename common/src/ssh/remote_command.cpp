#include "nasops/ssh/remote_command.hpp"

#include <fmt/format.h>

#include "ssh_internal.hpp"

namespace nasops {

RemoteCommand::RemoteCommand(LIBSSH2_SESSION* session, int socket, Libssh2Ptr<LIBSSH2_CHANNEL> channel,
                             std::string what)
    : m_session(session), m_socket(socket), m_channel(std::move(channel)), m_what(std::move(what)) {}

RemoteCommand::~RemoteCommand() {
    if (m_channel) libssh2_channel_send_eof(m_channel.get());
}

Result<ExecResult> RemoteCommand::wait(std::string_view input, Duration timeout) {
    if (!m_channel) return fail(ExitCode::software, fmt::format("{}: it was waited for already", m_what));
    const Libssh2Ptr<LIBSSH2_CHANNEL> channel = std::move(m_channel);
    ExecResult result;
    const ssh_detail::ChannelIo io{.input = input, .out = result.out, .err = result.err};
    TRY(ssh_detail::pump_channel(
        m_session, m_socket, channel.get(), io, timeout, [] { return false; }, m_what));

    if (const int rc = libssh2_channel_close(channel.get()); rc != 0)
        return std::unexpected(ssh_detail::session_error(m_session, m_socket, rc, m_what, ExitCode::io_error));
    if (const int rc = libssh2_channel_wait_closed(channel.get()); rc != 0)
        return std::unexpected(ssh_detail::session_error(m_session, m_socket, rc, m_what, ExitCode::io_error));
    result.exit_status = libssh2_channel_get_exit_status(channel.get());
    char* signal = nullptr;
    std::size_t signal_length = 0;
    libssh2_channel_get_exit_signal(channel.get(), &signal, &signal_length, nullptr, nullptr, nullptr, nullptr);
    if (signal != nullptr) {
        result.exit_signal.assign(signal, signal_length);
        libssh2_free(m_session, signal);
        result.exit_status = -1;
    }
    return result;
}

}  // namespace nasops
