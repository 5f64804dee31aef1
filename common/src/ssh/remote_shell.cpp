#include "nasops/ssh/remote_shell.hpp"

#include <fmt/format.h>

#include <charconv>
#include <functional>
#include <random>

#include "nasops/ssh/shell_quote.hpp"
#include "ssh_internal.hpp"

namespace nasops {

namespace {

std::string random_marker() {
    std::random_device device;
    std::uniform_int_distribution<std::uint64_t> bits;
    return fmt::format("nasops-end-{:016x}{:016x}", bits(device), bits(device));
}

// Where the first "\n<marker> <status>\n" line of `out` starts, its end, and the status.
struct StatusLine {
    std::size_t start, end;
    int status;
};
std::optional<StatusLine> find_status_line(std::string_view out, std::string_view marker) {
    const std::string head = fmt::format("\n{} ", marker);
    for (auto at = out.find(head); at != std::string_view::npos; at = out.find(head, at + 1)) {
        const auto digits = at + head.size();
        const auto nl = out.find('\n', digits);
        if (nl == std::string_view::npos) return std::nullopt;
        int status = 0;
        const auto [end, ec] = std::from_chars(out.data() + digits, out.data() + nl, status);
        if (ec == std::errc{} && end == out.data() + nl) return StatusLine{at, nl + 1, status};
    }
    return std::nullopt;
}

}  // namespace

RemoteShell::RemoteShell(LIBSSH2_SESSION* session, int socket, Libssh2Ptr<LIBSSH2_CHANNEL> channel,
                         std::string endpoint)
    : m_session(session),
      m_socket(socket),
      m_channel(std::move(channel)),
      m_endpoint(std::move(endpoint)),
      m_marker(random_marker()) {}

RemoteShell::~RemoteShell() {
    if (m_channel) libssh2_channel_send_eof(m_channel.get());
}

Result<void> RemoteShell::send(std::span<const std::string> argv, Duration timeout) {
    const std::string what = fmt::format("cannot run {} on {}", argv.empty() ? "" : argv.front(), m_endpoint);
    if (!m_channel) return fail(ExitCode::io_error, fmt::format("{}: its remote shell has ended", what));
    if (argv.empty()) return fail(ExitCode::software, fmt::format("cannot run an empty command on {}", m_endpoint));
    for (const std::string& arg : argv)
        if (arg.find('\0') != std::string::npos)
            return fail(ExitCode::data_error,
                        fmt::format("cannot run {} on {}: an argument holds a NUL byte", argv[0], m_endpoint));
    // The blank line before each marker ends a last line the command left open.
    const std::string line = fmt::format("{} </dev/null; printf '\\n%s %d\\n' {} \"$?\"; printf '\\n%s\\n' {} >&2\n",
                                         shell_join(argv), m_marker, m_marker);
    TRY(pump(line, timeout, what, [] { return true; }));
    m_waiting.push_back(argv.front());
    return {};
}

Result<ExecResult> RemoteShell::receive(Duration timeout) {
    if (m_waiting.empty()) return fail(ExitCode::software, fmt::format("no command is running on {}", m_endpoint));
    const std::string what = fmt::format("cannot run {} on {}", m_waiting.front(), m_endpoint);
    if (!m_channel) return fail(ExitCode::io_error, fmt::format("{}: its remote shell has ended", what));
    const std::string err_end = fmt::format("\n{}\n", m_marker);
    std::optional<StatusLine> status;
    std::size_t err_at = std::string::npos;
    TRY(pump({}, timeout, what, [&] {
        status = find_status_line(m_out, m_marker);
        err_at = m_err.find(err_end);
        return status && err_at != std::string::npos;
    }));
    m_waiting.pop_front();
    ExecResult result;
    result.out = m_out.substr(0, status->start);
    m_out.erase(0, status->end);
    result.err = m_err.substr(0, err_at);
    m_err.erase(0, err_at + err_end.size());
    result.exit_status = status->status;
    return result;
}

Result<ExecResult> RemoteShell::run(std::span<const std::string> argv, Duration timeout) {
    if (!m_waiting.empty())
        return fail(ExitCode::software, fmt::format("cannot run {} on {}: commands sent before are not received yet",
                                                    argv.empty() ? "" : argv.front(), m_endpoint));
    TRY(send(argv, timeout));
    return receive(timeout);
}

Result<void> RemoteShell::pump(std::string_view input, Duration timeout, std::string_view what,
                               const std::function<bool()>& done) {
    const ssh_detail::ChannelIo io{.input = input, .send_eof = false, .out = m_out, .err = m_err};
    auto pumped = ssh_detail::pump_channel(m_session, m_socket, m_channel.get(), io, timeout, done, what);
    if (pumped && *pumped == ssh_detail::PumpEnd::done) return {};
    m_channel.reset();
    m_waiting.clear();
    if (!pumped) return std::unexpected(pumped.error());
    return fail(ExitCode::io_error, fmt::format("{}: its remote shell ended", what));
}

}  // namespace nasops
