#include "nasops/remote_shell.hpp"

#include <fmt/format.h>

#include <charconv>
#include <random>

#include "nasops/shell_quote.hpp"
#include "ssh_internal.hpp"

namespace nasops {

namespace {

std::string random_marker() {
    std::random_device device;
    std::uniform_int_distribution<std::uint64_t> bits;
    return fmt::format("nasops-end-{:016x}{:016x}", bits(device), bits(device));
}

// The exit status on the line "\n<marker> <status>\n" that ends `out`, if it is there.
std::optional<int> status_at_end(std::string_view out, std::string_view marker) {
    if (!out.ends_with('\n')) return std::nullopt;
    const auto line_start = out.rfind('\n', out.size() - 2);
    if (line_start == std::string_view::npos) return std::nullopt;
    std::string_view line = out.substr(line_start + 1, out.size() - line_start - 2);
    if (!line.starts_with(marker) || line.size() < marker.size() + 2 || line[marker.size()] != ' ') return std::nullopt;
    line.remove_prefix(marker.size() + 1);
    int status = 0;
    const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), status);
    if (ec != std::errc{} || end != line.data() + line.size()) return std::nullopt;
    return status;
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

Result<ExecResult> RemoteShell::run(std::span<const std::string> argv, Duration timeout) {
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
    const std::string err_end = fmt::format("\n{}\n", m_marker);
    ExecResult result;
    std::optional<int> status;
    const ssh_detail::ChannelIo io{.input = line, .send_eof = false, .out = result.out, .err = result.err};
    auto pumped = ssh_detail::pump_channel(
        m_session, m_socket, m_channel.get(), io, timeout,
        [&] {
            status = status_at_end(result.out, m_marker);
            return status && result.err.ends_with(err_end);
        },
        what);
    if (!pumped || *pumped == ssh_detail::PumpEnd::eof) {
        m_channel.reset();
        if (!pumped) return std::unexpected(pumped.error());
        return fail(ExitCode::io_error, fmt::format("{}: its remote shell ended", what));
    }
    result.out.resize(result.out.rfind('\n', result.out.size() - 2));
    result.err.resize(result.err.size() - err_end.size());
    result.exit_status = *status;
    return result;
}

}  // namespace nasops
