#include "nasops/ssh/ssh_session.hpp"

#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <system_error>
#include <vector>

#include "nasops/ssh/shell_quote.hpp"
#include "ssh_internal.hpp"

namespace nasops {

namespace {

using Clock = std::chrono::steady_clock;

// OpenSSH's order of host key algorithms, as far as libssh2 1.10 knows them.
constexpr std::array<std::string_view, 6> k_host_key_order{
    "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa", "ssh-dss"};

std::string format_endpoint(const std::string& host, int port) {
    if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
    return fmt::format("{}:{}", host, port);
}

long to_libssh2_ms(Duration d) {
    return static_cast<long>(std::max<Duration::rep>(d.count(), 1));
}

int poll_ms(Clock::duration remaining) {
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(remaining).count();
    return static_cast<int>(std::clamp<std::int64_t>(ms, 0, 24 * 3600 * 1000));
}

int last_errno(LIBSSH2_SESSION* session) {
    const int rc = libssh2_session_last_errno(session);
    return rc != 0 ? rc : LIBSSH2_ERROR_SOCKET_NONE;
}

// A non-blocking TCP connection to host:port within `timeout`, trying every
// address the name resolves to. The socket stays non-blocking: libssh2's
// blocking mode polls it, which is what makes its timeouts work.
Result<UniqueFd> tcp_connect(const std::string& host, int port, Duration timeout, const std::string& endpoint) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
        const std::string why = rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc);
        return fail(ExitCode::unavailable,
                    fmt::format("cannot connect to {}: cannot resolve '{}': {}", endpoint, host, why));
    }
    const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);

    const auto deadline = Clock::now() + timeout;
    std::string last_error = "no address";
    for (const addrinfo* ai = addresses.get(); ai != nullptr; ai = ai->ai_next) {
        UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
        if (!fd) {
            last_error = std::strerror(errno);
            continue;
        }
        if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
            if (errno != EINPROGRESS) {
                last_error = std::strerror(errno);
                continue;
            }
            pollfd p{fd.get(), POLLOUT, 0};
            int n = 0;
            do {
                n = ::poll(&p, 1, poll_ms(deadline - Clock::now()));
            } while (n < 0 && errno == EINTR);
            if (n == 0) {
                last_error = fmt::format("timed out after {}", format_duration(timeout));
                break;
            }
            int err = 0;
            socklen_t len = sizeof err;
            if (n < 0 || ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
            if (err != 0) {
                last_error = std::strerror(err);
                continue;
            }
        }
        const int one = 1;
        ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return fd;
    }
    return fail(ExitCode::unavailable, fmt::format("cannot connect to {}: {}", endpoint, last_error));
}

// libssh2's recv, asking the kernel to acknowledge what arrives at once. sshd
// sets TCP_NODELAY only for sessions with a terminal, so when it answers with
// two small packets, Nagle holds the second until the first is acknowledged,
// and Linux delays that acknowledgement by up to 40 ms: a stall on every
// channel opened and every short answer. Quick-ack mode does not last, so it
// is asked for before each read.
ssize_t recv_acking_at_once(libssh2_socket_t socket, void* buffer, std::size_t length, int flags, void** /*abstract*/) {
    const int one = 1;
    ::setsockopt(socket, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    const ssize_t n = ::recv(socket, buffer, length, flags);
    if (n >= 0) return n;
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

bool offers_method(std::string_view list, std::string_view method) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        if (list.substr(0, comma) == method) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

Result<SshSession> SshSession::connect(const SshOptions& options) {
    const std::string endpoint = format_endpoint(options.host, options.port);
    if (options.host.empty()) return fail(ExitCode::config, "cannot connect to the NAS: no host is configured");
    if (options.port < 1 || options.port > 65535)
        return fail(ExitCode::config,
                    fmt::format("cannot connect to {}: port {} is out of range", endpoint, options.port));
    if (options.user.empty())
        return fail(ExitCode::config, fmt::format("cannot connect to {}: no user is configured", endpoint));
    if (options.known_hosts.empty())
        return fail(ExitCode::config, fmt::format("cannot connect to {}: no known_hosts file is configured", endpoint));

    TRY_ASSIGN(auto known_hosts, KnownHosts::load(options.known_hosts));

    SshSession session;
    session.m_endpoint = endpoint;
    session.m_timeout = options.timeout;
    TRY_ASSIGN(auto socket, tcp_connect(options.host, options.port, options.connect_timeout, endpoint));
    session.m_socket = std::move(socket);

    session.m_session.reset(libssh2_session_init());
    LIBSSH2_SESSION* s = session.m_session.get();
    if (s == nullptr) return fail(ExitCode::software, "cannot create a libssh2 session (out of memory?)");
    libssh2_session_callback_set(s, LIBSSH2_CALLBACK_RECV, reinterpret_cast<void*>(&recv_acking_at_once));
    libssh2_session_set_blocking(s, 1);
    libssh2_session_set_timeout(s, to_libssh2_ms(options.connect_timeout));

    // Ask first for the key types known_hosts holds for this host, as OpenSSH
    // does, so that a host known by its ed25519 key is not met with its ECDSA key.
    std::vector<std::string> order = known_hosts.key_types(options.host, options.port);
    for (const std::string_view name : k_host_key_order)
        if (std::ranges::find(order, name) == order.end()) order.emplace_back(name);
    std::string preference;
    for (const std::string& name : order) preference += (preference.empty() ? "" : ",") + name;
    libssh2_session_method_pref(s, LIBSSH2_METHOD_HOSTKEY, preference.c_str());

    if (const int rc = libssh2_session_handshake(s, session.m_socket.get()); rc != 0) {
        if (ssh_detail::is_connection_error(rc)) ssh_detail::abandon(s, session.m_socket.get());
        const ExitCode code = (rc == LIBSSH2_ERROR_KEX_FAILURE || rc == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED)
                                  ? ExitCode::config
                                  : ExitCode::unavailable;
        return fail(code, fmt::format("SSH handshake with {} failed: {}", endpoint, ssh_detail::last_error_text(s)));
    }
    TRY(session.verify_host_key(options, known_hosts));
    TRY(session.authenticate(options));
    session.set_timeout(options.timeout);
    return session;
}

SshSession::~SshSession() {
    close();
}

SshSession& SshSession::operator=(SshSession&& other) noexcept {
    if (this != &other) {
        close();
        m_socket = std::move(other.m_socket);
        m_session = std::move(other.m_session);
        m_endpoint = std::move(other.m_endpoint);
        m_host_key_type = std::move(other.m_host_key_type);
        m_host_key_fingerprint = std::move(other.m_host_key_fingerprint);
        m_timeout = other.m_timeout;
        m_host_key_added = other.m_host_key_added;
    }
    return *this;
}

void SshSession::close() noexcept {
    if (m_session) libssh2_session_disconnect(m_session.get(), "nasops: session closed");
    m_session.reset();
    m_socket.reset();
}

Result<void> SshSession::verify_host_key(const SshOptions& options, const KnownHosts& known_hosts) {
    LIBSSH2_SESSION* s = m_session.get();
    std::size_t length = 0;
    int type = 0;
    const char* key = libssh2_session_hostkey(s, &length, &type);
    const char* digest = libssh2_hostkey_hash(s, LIBSSH2_HOSTKEY_HASH_SHA256);
    if (key == nullptr || digest == nullptr)
        return fail(ExitCode::unavailable,
                    fmt::format("cannot read the host key of {}: {}", m_endpoint, ssh_detail::last_error_text(s)));
    const std::string_view blob(key, length);
    m_host_key_type = ssh_key_type(blob).value_or("unknown key type");
    m_host_key_fingerprint = sha256_fingerprint(std::string_view(digest, 32));
    const std::string file = known_hosts.path().string();
    const std::string name = known_hosts_name(options.host, options.port);

    switch (known_hosts.check(options.host, options.port, blob)) {
        case HostKeyStatus::known: return {};
        case HostKeyStatus::unknown:
            if (options.accept_new_host_key) {
                if (auto added = append_known_host(known_hosts.path(), options.host, options.port, blob); !added)
                    return added;
                m_host_key_added = true;
                return {};
            }
            return fail(ExitCode::untrusted,
                        fmt::format("host key of {} is not known: its {} key {} is not in {}; check that fingerprint "
                                    "with the NAS (ssh-keygen -lf on its host key), then add the key "
                                    "(ssh-keyscan -p {} -t {} {} >> {}) or allow accept_new_host_key",
                                    m_endpoint, m_host_key_type, m_host_key_fingerprint, file, options.port,
                                    m_host_key_type, options.host, file));
        case HostKeyStatus::changed:
            return fail(
                ExitCode::untrusted,
                fmt::format("HOST KEY OF {} HAS CHANGED: it sent the {} key {}, which differs from the key for "
                            "{} in {}; someone may be intercepting the connection, or the NAS was "
                            "reinstalled; refusing to connect (if the change is expected: ssh-keygen -R '{}' -f {})",
                            m_endpoint, m_host_key_type, m_host_key_fingerprint, name, file, name, file));
        case HostKeyStatus::revoked:
            return fail(ExitCode::untrusted, fmt::format("host key of {} is REVOKED in {}: its {} key {} is refused",
                                                         m_endpoint, file, m_host_key_type, m_host_key_fingerprint));
    }
    return fail(ExitCode::software, "unreachable host key status");
}

Result<void> SshSession::authenticate(const SshOptions& options) {
    LIBSSH2_SESSION* s = m_session.get();
    const std::string who = fmt::format("{}@{}", options.user, m_endpoint);
    const auto user_length = static_cast<unsigned int>(options.user.size());
    const char* list = libssh2_userauth_list(s, options.user.c_str(), user_length);
    if (list == nullptr) {
        if (libssh2_userauth_authenticated(s) != 0) return {};
        return std::unexpected(ssh_detail::session_error(s, m_socket.get(), last_errno(s),
                                                         fmt::format("cannot authenticate {}", who), ExitCode::config));
    }
    const std::string methods = list;
    if (!offers_method(methods, "publickey"))
        return fail(ExitCode::config, fmt::format("cannot authenticate {}: the server does not accept public keys "
                                                  "(it accepts: {})",
                                                  who, methods));

    std::vector<std::string> tried;
    if (!options.identity_file.empty()) {
        const std::string path = options.identity_file.string();
        std::error_code ec;
        if (!std::filesystem::exists(options.identity_file, ec))
            return fail(ExitCode::config,
                        fmt::format("cannot authenticate {}: identity file {} does not exist", who, path));
        const int rc = libssh2_userauth_publickey_fromfile_ex(s, options.user.c_str(), user_length, nullptr,
                                                              path.c_str(), options.passphrase.c_str());
        if (rc == 0) return {};
        if (ssh_detail::is_connection_error(rc))
            return std::unexpected(ssh_detail::session_error(
                s, m_socket.get(), rc, fmt::format("cannot authenticate {}", who), ExitCode::config));
        if (rc == LIBSSH2_ERROR_FILE)
            return fail(ExitCode::config,
                        fmt::format("cannot authenticate {}: cannot use identity file {}: {} (a wrong passphrase, or a "
                                    "key type libssh2 cannot use?)",
                                    who, path, ssh_detail::last_error_text(s)));
        tried.push_back(fmt::format("publickey with {}", path));
    } else {
        const char* socket = std::getenv("SSH_AUTH_SOCK");
        if (socket == nullptr || *socket == '\0')
            return fail(ExitCode::config, fmt::format("cannot authenticate {}: no identity file is configured and no "
                                                      "ssh-agent is available (SSH_AUTH_SOCK is not set)",
                                                      who));
        Libssh2Ptr<LIBSSH2_AGENT> agent(libssh2_agent_init(s));
        if (!agent || libssh2_agent_connect(agent.get()) != 0 || libssh2_agent_list_identities(agent.get()) != 0)
            return fail(ExitCode::config, fmt::format("cannot authenticate {}: cannot use the ssh-agent at {}: {}", who,
                                                      socket, ssh_detail::last_error_text(s)));
        libssh2_agent_publickey* identity = nullptr;
        libssh2_agent_publickey* previous = nullptr;
        while (libssh2_agent_get_identity(agent.get(), &identity, previous) == 0) {
            const int rc = libssh2_agent_userauth(agent.get(), options.user.c_str(), identity);
            if (rc == 0) return {};
            if (ssh_detail::is_connection_error(rc))
                return std::unexpected(ssh_detail::session_error(
                    s, m_socket.get(), rc, fmt::format("cannot authenticate {}", who), ExitCode::config));
            tried.push_back(
                fmt::format("publickey with agent key '{}'", identity->comment != nullptr ? identity->comment : ""));
            previous = identity;
        }
        if (tried.empty())
            return fail(ExitCode::config,
                        fmt::format("cannot authenticate {}: the ssh-agent at {} holds no keys", who, socket));
    }
    std::string attempts;
    for (const std::string& t : tried) attempts += (attempts.empty() ? "" : "; ") + t;
    return fail(ExitCode::config,
                fmt::format("authentication failed for {}: tried {} (the server accepts: {})", who, attempts, methods));
}

void SshSession::set_timeout(Duration timeout) {
    m_timeout = timeout;
    if (m_session) libssh2_session_set_timeout(m_session.get(), to_libssh2_ms(timeout));
}

Result<Sftp> SshSession::sftp() {
    LIBSSH2_SESSION* s = m_session.get();
    LIBSSH2_SFTP* sftp = libssh2_sftp_init(s);
    if (sftp == nullptr)
        return std::unexpected(ssh_detail::session_error(
            s, m_socket.get(), last_errno(s), fmt::format("cannot start SFTP on {}", m_endpoint), ExitCode::config));
    return Sftp(s, m_socket.get(), Libssh2Ptr<LIBSSH2_SFTP>(sftp));
}

Result<RemoteShell> SshSession::shell() {
    const std::string what = fmt::format("cannot start a shell on {}", m_endpoint);
    LIBSSH2_SESSION* s = m_session.get();
    Libssh2Ptr<LIBSSH2_CHANNEL> channel(libssh2_channel_open_session(s));
    if (!channel)
        return std::unexpected(ssh_detail::session_error(s, m_socket.get(), last_errno(s), what, ExitCode::io_error));
    if (const int rc = libssh2_channel_exec(channel.get(), "sh"); rc != 0)
        return std::unexpected(ssh_detail::session_error(s, m_socket.get(), rc, what, ExitCode::io_error));
    return RemoteShell(s, m_socket.get(), std::move(channel), m_endpoint);
}

Result<SftpPipeline> SshSession::sftp_pipeline() {
    return SftpPipeline::open(m_session.get(), m_socket.get(), m_timeout, m_endpoint);
}

Result<RemoteCommand> SshSession::start(std::span<const std::string> argv) {
    if (argv.empty()) return fail(ExitCode::software, fmt::format("cannot run an empty command on {}", m_endpoint));
    for (const std::string& arg : argv)
        if (arg.find('\0') != std::string::npos)
            return fail(ExitCode::data_error,
                        fmt::format("cannot run {} on {}: an argument holds a NUL byte", argv[0], m_endpoint));
    std::string what = fmt::format("cannot run {} on {}", argv[0], m_endpoint);
    const std::string command = shell_join(argv);
    LIBSSH2_SESSION* s = m_session.get();

    Libssh2Ptr<LIBSSH2_CHANNEL> channel(libssh2_channel_open_session(s));
    if (!channel)
        return std::unexpected(ssh_detail::session_error(s, m_socket.get(), last_errno(s), what, ExitCode::io_error));
    if (const int rc = libssh2_channel_exec(channel.get(), command.c_str()); rc != 0)
        return std::unexpected(ssh_detail::session_error(s, m_socket.get(), rc, what, ExitCode::io_error));
    return RemoteCommand(s, m_socket.get(), std::move(channel), std::move(what));
}

Result<ExecResult> SshSession::exec(std::span<const std::string> argv, std::optional<std::string_view> input) {
    TRY_ASSIGN(auto command, start(argv));
    return command.wait(input.value_or(std::string_view{}), m_timeout);
}

}  // namespace nasops
