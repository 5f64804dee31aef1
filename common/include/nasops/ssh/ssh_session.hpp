#pragma once

// An SSH connection to the NAS through libssh2 1.10: TCP connect with a
// timeout, host key verification against OpenSSH's known_hosts, public key
// authentication (key file or ssh-agent), and remote commands whose every
// argument is quoted. SFTP runs over the same session (nasops/ssh/sftp.hpp).

#include <chrono>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "nasops/core/error.hpp"
#include "nasops/ssh/known_hosts.hpp"
#include "nasops/ssh/remote_command.hpp"
#include "nasops/ssh/remote_shell.hpp"
#include "nasops/ssh/sftp.hpp"
#include "nasops/ssh/sftp_pipeline.hpp"
#include "nasops/ssh/ssh_library.hpp"
#include "nasops/util/unique_fd.hpp"
#include "nasops/util/units.hpp"

namespace nasops {

struct SshOptions {
    std::string host;
    int port = 22;
    std::string user;
    // Private key for public key authentication (ed25519 or ECDSA: libssh2 1.10
    // cannot make the rsa-sha2 signatures current OpenSSH servers require).
    // Empty: use the keys of the ssh-agent at $SSH_AUTH_SOCK.
    std::filesystem::path identity_file;
    // Passphrase of identity_file, read by the caller from a file; never argv.
    std::string passphrase;
    // OpenSSH known_hosts file the host key is checked against; required.
    std::filesystem::path known_hosts;
    // OpenSSH's StrictHostKeyChecking=accept-new: an unknown host's key is added
    // to known_hosts; a changed or revoked key is refused all the same.
    bool accept_new_host_key = false;
    // Limit for the TCP connect, and for the handshake and authentication.
    Duration connect_timeout = std::chrono::seconds(10);
    // Limit for each later wait on the NAS (one SFTP request, a silent remote
    // command), so that a dead NAS never hangs a run.
    Duration timeout = std::chrono::seconds(60);
};

// One authenticated SSH session. Errors are Results:
//   ExitCode::unavailable  the NAS cannot be reached: DNS failure, connection
//                          refused, timeout, connection lost mid-operation;
//   ExitCode::config       host key unknown, changed or revoked; authentication
//                          refused; unusable identity file.
// After an ExitCode::unavailable error the session is dead: connect again.
// A session is used by one thread at a time. Sftp and SftpPipeline objects made from it must
// be destroyed before it.
class SshSession {
public:
    static Result<SshSession> connect(const SshOptions& options);

    SshSession(SshSession&&) noexcept = default;
    SshSession& operator=(SshSession&& other) noexcept;
    ~SshSession();

    // Runs argv on the NAS through the user's login shell, each argument quoted
    // with shell_quote, so that the command receives exactly these arguments.
    // `input`, when given, is written to its stdin, then stdin is closed. A
    // command that neither exits nor prints within the session timeout fails
    // (ExitCode::unavailable). Output is kept in memory: for small outputs.
    // A non-zero exit status is not an error: the caller reads exit_status.
    Result<ExecResult> exec(std::span<const std::string> argv, std::optional<std::string_view> input = std::nullopt);
    // exec() in two halves: starts argv on a channel of its own and returns;
    // RemoteCommand::wait() collects its end. It must be destroyed before the session.
    Result<RemoteCommand> start(std::span<const std::string> argv);

    // Starts a long-lived `sh` on the NAS, for commands run many times
    // (nasops/ssh/remote_shell.hpp). It must be destroyed before the session.
    Result<RemoteShell> shell();

    // Opens the SFTP subsystem on this session.
    Result<Sftp> sftp();
    // Opens the SFTP subsystem again, on a channel of its own, for the
    // pipelined batches of nasops/ssh/sftp_pipeline.hpp. It may live alongside sftp().
    Result<SftpPipeline> sftp_pipeline();

    // Changes the limit of every later wait on the NAS (SshOptions::timeout).
    void set_timeout(Duration timeout);

    // "host:port", for messages.
    const std::string& endpoint() const { return m_endpoint; }
    // The server's host key as OpenSSH prints it: type and SHA256 fingerprint.
    const std::string& host_key_type() const { return m_host_key_type; }
    const std::string& host_key_fingerprint() const { return m_host_key_fingerprint; }
    // True when this connection added the host key to known_hosts (accept-new),
    // so that the caller can log it.
    bool host_key_added() const { return m_host_key_added; }

private:
    SshSession() = default;
    // Says goodbye to the server, frees the session, then closes the socket.
    void close() noexcept;

    Result<void> verify_host_key(const SshOptions& options, const KnownHosts& known_hosts);
    Result<void> authenticate(const SshOptions& options);

    Libssh2Library m_library;
    UniqueFd m_socket;
    Libssh2Ptr<LIBSSH2_SESSION> m_session;
    std::string m_endpoint;
    std::string m_host_key_type;
    std::string m_host_key_fingerprint;
    Duration m_timeout{};
    bool m_host_key_added = false;
};

}  // namespace nasops
