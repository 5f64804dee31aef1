#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fixtures/sshd_fixture.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/ssh/ssh_session.hpp"
#include "nasops/util/unique_fd.hpp"

using namespace nasops;
using nasops::testing::random_bytes;
using nasops::testing::read_file;
using nasops::testing::SshdFixture;
using nasops::testing::write_file;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// Sets (or, with nullopt, unsets) an environment variable for one scope.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::optional<std::string>& value) : m_name(name) {
        if (const char* old = std::getenv(name)) m_saved = old;
        if (value)
            ::setenv(name, value->c_str(), 1);
        else
            ::unsetenv(name);
    }
    ~ScopedEnv() {
        if (m_saved)
            ::setenv(m_name, m_saved->c_str(), 1);
        else
            ::unsetenv(m_name);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* m_name;
    std::optional<std::string> m_saved;
};

SshSession connect_or_die(const SshdFixture& nas) {
    auto session = SshSession::connect(nas.options());
    if (!session) throw std::runtime_error(session.error().message + "\nsshd log:\n" + nas.log());
    return std::move(*session);
}

class SshSessionTest : public ::testing::Test {
protected:
    SshdFixture nas;
    std::string endpoint() const { return "127.0.0.1:" + std::to_string(nas.port()); }
    std::string remote(const std::string& name) const { return (nas.remote_root() / name).string(); }
};

class SftpTest : public SshSessionTest {
protected:
    void SetUp() override {
        session.emplace(connect_or_die(nas));
        auto opened = session->sftp();
        ASSERT_TRUE(opened) << opened.error().message;
        sftp.emplace(std::move(*opened));
    }
    void TearDown() override {
        sftp.reset();
        session.reset();
    }
    // The NAS's file system is this machine's.
    static void upload(const std::string& path, const std::string& content) { write_file(path, content); }

    std::optional<SshSession> session;
    std::optional<Sftp> sftp;
};

}  // namespace

// ---- host keys ----------------------------------------------------------------

TEST_F(SshSessionTest, UnknownHostKeyIsRefusedWithItsFingerprint) {
    SshOptions options = nas.options();
    options.known_hosts = nas.dir() / "empty_known_hosts";
    write_file(options.known_hosts, "");
    const auto r = SshSession::connect(options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::untrusted);
    const std::string& m = r.error().message;
    EXPECT_TRUE(contains(m, endpoint())) << m;
    EXPECT_TRUE(contains(m, "ssh-ed25519")) << m;
    EXPECT_TRUE(contains(m, nas.host_key_fingerprint())) << m;
    EXPECT_TRUE(contains(m, options.known_hosts.string())) << m;
    EXPECT_EQ(read_file(options.known_hosts), "");
}

TEST_F(SshSessionTest, AcceptNewAddsTheKeyAndTheNextConnectionTrustsIt) {
    SshOptions options = nas.options();
    options.known_hosts = nas.dir() / "fresh" / "known_hosts";  // neither file nor folder exist
    options.accept_new_host_key = true;
    auto first = SshSession::connect(options);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_TRUE(first->host_key_added());
    const std::string added = read_file(options.known_hosts);
    EXPECT_EQ(added.rfind("[127.0.0.1]:" + std::to_string(nas.port()) + " ssh-ed25519 AAAA", 0), 0u) << added;

    options.accept_new_host_key = false;
    auto second = SshSession::connect(options);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_FALSE(second->host_key_added());
    EXPECT_EQ(second->host_key_fingerprint(), nas.host_key_fingerprint());
    EXPECT_EQ(read_file(options.known_hosts), added);
}

TEST_F(SshSessionTest, ChangedHostKeyIsRefusedEvenWithAcceptNew) {
    const std::string known_before = read_file(nas.known_hosts_file());
    nas.regenerate_host_key();
    SshOptions options = nas.options();
    options.accept_new_host_key = true;
    const auto r = SshSession::connect(options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::untrusted);
    const std::string& m = r.error().message;
    EXPECT_TRUE(contains(m, "CHANGED")) << m;
    EXPECT_TRUE(contains(m, endpoint())) << m;
    EXPECT_TRUE(contains(m, nas.host_key_fingerprint())) << m;
    EXPECT_TRUE(contains(m, nas.known_hosts_file().string())) << m;
    EXPECT_EQ(read_file(nas.known_hosts_file()), known_before);
}

TEST_F(SshSessionTest, AsksForTheKeyTypeKnownHostsHolds) {
    const auto ecdsa = nas.add_host_key("ecdsa");
    // known_hosts holds the ed25519 key only; libssh2 on its own would ask for ECDSA first.
    auto by_ed25519 = SshSession::connect(nas.options());
    ASSERT_TRUE(by_ed25519) << by_ed25519.error().message;
    EXPECT_EQ(by_ed25519->host_key_type(), "ssh-ed25519");

    const std::string pub = read_file(ecdsa);
    write_file(nas.known_hosts_file(),
               "[127.0.0.1]:" + std::to_string(nas.port()) + " " + pub.substr(0, pub.rfind(' ')) + "\n");
    auto by_ecdsa = SshSession::connect(nas.options());
    ASSERT_TRUE(by_ecdsa) << by_ecdsa.error().message;
    EXPECT_EQ(by_ecdsa->host_key_type(), "ecdsa-sha2-nistp256");
}

// ---- authentication and reachability --------------------------------------------

TEST_F(SshSessionTest, UnauthorizedIdentityIsAnAuthenticationError) {
    SshOptions options = nas.options();
    options.identity_file = nas.generate_client_key("stranger");
    const auto r = SshSession::connect(options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::config);
    const std::string& m = r.error().message;
    EXPECT_TRUE(contains(m, nas.user() + "@" + endpoint())) << m;
    EXPECT_TRUE(contains(m, "publickey")) << m;
    EXPECT_TRUE(contains(m, options.identity_file.string())) << m;
}

TEST_F(SshSessionTest, MissingIdentityFileIsAConfigError) {
    SshOptions options = nas.options();
    options.identity_file = nas.dir() / "no_such_key";
    const auto r = SshSession::connect(options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::config);
    EXPECT_TRUE(contains(r.error().message, options.identity_file.string())) << r.error().message;
}

TEST_F(SshSessionTest, NoIdentityAndNoAgentIsAConfigError) {
    SshOptions options = nas.options();
    options.identity_file.clear();
    const ScopedEnv no_agent("SSH_AUTH_SOCK", std::nullopt);
    const auto r = SshSession::connect(options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::config);
    EXPECT_TRUE(contains(r.error().message, "SSH_AUTH_SOCK")) << r.error().message;
}

TEST_F(SshSessionTest, AgentKeysAuthenticateWhenNoIdentityFileIsSet) {
    const std::filesystem::path socket = nas.dir() / "agent.sock";
    nasops::testing::SpawnOptions quiet;
    quiet.stdout_file = nas.dir() / "agent.log";
    quiet.stderr_file = nas.dir() / "agent.log";
    nasops::testing::ChildProcess agent({"ssh-agent", "-D", "-a", socket.string()}, quiet);
    for (int i = 0; i < 500 && !std::filesystem::exists(socket); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(std::filesystem::exists(socket)) << read_file(nas.dir() / "agent.log");
    const ScopedEnv with_agent("SSH_AUTH_SOCK", socket.string());
    const auto add = [&](const std::filesystem::path& key) {
        const auto r = nasops::testing::run_command({"ssh-add", key.string()});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    };
    SshOptions options = nas.options();
    options.identity_file.clear();

    // Only a stranger's key in the agent: refused, and the message says what was tried.
    add(nas.generate_client_key("stranger"));
    const auto refused = SshSession::connect(options);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ExitCode::config);
    EXPECT_TRUE(contains(refused.error().message, "agent key 'nasops-test-stranger'")) << refused.error().message;

    add(nas.identity_file());
    auto session = SshSession::connect(options);
    ASSERT_TRUE(session) << session.error().message;
    const auto r = session->exec(std::vector<std::string>{"echo", "via agent"});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->out, "via agent\n");
}

TEST(SshConnect, RefusedConnectionIsUnavailable) {
    SshdFixture nas;
    nas.stop();
    const auto r = SshSession::connect(nas.options());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::unavailable);
    EXPECT_TRUE(contains(r.error().message, "127.0.0.1:" + std::to_string(nas.port()))) << r.error().message;
    EXPECT_TRUE(contains(r.error().message, "refused")) << r.error().message;
}

TEST(SshConnect, UnresolvableHostIsUnavailable) {
    SshOptions options;
    // An empty label: glibc rejects the name without asking any DNS server,
    // so the test neither needs nor waits on a network.
    options.host = "nas..invalid";
    options.user = "nobody";
    options.known_hosts = "/dev/null";
    const auto r = SshSession::connect(options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::unavailable);
    EXPECT_TRUE(contains(r.error().message, "'nas..invalid'")) << r.error().message;
}

TEST(SshConnect, ServerThatNeverSpeaksTimesOutAsUnavailable) {
    // A socket that listens but never answers: the TCP connection succeeds,
    // the SSH banner never comes.
    nasops::UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener.get(), 4), 0);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);

    nasops::testing::TempDir dir;
    SshOptions options;
    options.host = "127.0.0.1";
    options.port = ntohs(addr.sin_port);
    options.user = "nobody";
    options.known_hosts = dir / "known_hosts";
    options.connect_timeout = std::chrono::milliseconds(300);
    const auto r = SshSession::connect(options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::unavailable) << r.error().message;
    EXPECT_TRUE(contains(r.error().message, "handshake")) << r.error().message;
}

TEST(SshConnect, IncompleteOptionsAreConfigErrors) {
    SshOptions options;
    options.host = "127.0.0.1";
    options.user = "someone";
    const auto no_known_hosts = SshSession::connect(options);
    ASSERT_FALSE(no_known_hosts);
    EXPECT_EQ(no_known_hosts.error().code, ExitCode::config);
    EXPECT_TRUE(contains(no_known_hosts.error().message, "known_hosts")) << no_known_hosts.error().message;
    options.known_hosts = "/dev/null";
    options.user.clear();
    const auto no_user = SshSession::connect(options);
    ASSERT_FALSE(no_user);
    EXPECT_EQ(no_user.error().code, ExitCode::config);
}

// ---- remote commands --------------------------------------------------------------

namespace {

// Arguments a careless quoting would split, expand or run; `canary` is a
// file that exists only if one of them ran as a command.
std::vector<std::string> hostile_arguments(const std::string& canary) {
    return {"plain",
            "with  spaces",
            "it's",
            "\"double\"",
            "$(touch " + canary + ")",
            "`touch " + canary + "`",
            "$HOME",
            "line1\nline2",
            "-n",
            "--help",
            "*",
            "; touch " + canary,
            "&& exit 1",
            "\\back",
            "",
            "trailing\n",
            "tab\there",
            "caf\xc3\xa9"};
}

}  // namespace

TEST_F(SshSessionTest, ExecPassesHostileArgumentsThroughUnchanged) {
    auto session = connect_or_die(nas);
    const std::string canary = (nas.dir() / "canary").string();
    const auto args = hostile_arguments(canary);
    std::vector<std::string> argv{"printf", "%s\\n"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = session.exec(argv);
    ASSERT_TRUE(r) << r.error().message;
    std::string expected;
    for (const std::string& a : args) expected += a + "\n";
    EXPECT_EQ(r->exit_status, 0) << r->err;
    EXPECT_EQ(r->out, expected);
    EXPECT_EQ(r->err, "");
    EXPECT_FALSE(std::filesystem::exists(canary));
}

TEST_F(SshSessionTest, ExecReportsStatusStdoutAndStderrSeparately) {
    auto session = connect_or_die(nas);
    const auto r = session.exec(std::vector<std::string>{"sh", "-c", "echo out; echo err >&2; exit 3"});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->exit_status, 3);
    EXPECT_EQ(r->out, "out\n");
    EXPECT_EQ(r->err, "err\n");
    EXPECT_EQ(r->exit_signal, "");

    const auto missing = session.exec(std::vector<std::string>{"nasops-no-such-command"});
    ASSERT_TRUE(missing) << missing.error().message;
    EXPECT_EQ(missing->exit_status, 127);
}

TEST_F(SshSessionTest, ExecReportsAKillingSignal) {
    auto session = connect_or_die(nas);
    const auto r = session.exec(std::vector<std::string>{"sh", "-c", "kill -TERM $$"});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->exit_signal, "TERM");
    EXPECT_EQ(r->exit_status, -1);
}

TEST_F(SshSessionTest, ExecStreamsLargeInputAndOutputBothWays) {
    // More than the SSH channel windows in each direction at once: a blocking
    // writer would deadlock against `cat` waiting for its output to be read.
    auto session = connect_or_die(nas);
    const std::string input = random_bytes(6 * 1024 * 1024 + 3, 7);
    const auto r = session.exec(std::vector<std::string>{"cat"}, input);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->exit_status, 0);
    ASSERT_EQ(r->out.size(), input.size());
    EXPECT_TRUE(r->out == input);

    const auto empty = session.exec(std::vector<std::string>{"wc", "-c"}, std::string_view{});
    ASSERT_TRUE(empty) << empty.error().message;
    EXPECT_EQ(empty->out, "0\n");
    // Without input, stdin is closed at once: a command reading it ends.
    const auto none = session.exec(std::vector<std::string>{"cat"});
    ASSERT_TRUE(none) << none.error().message;
    EXPECT_EQ(none->out, "");
}

TEST_F(SshSessionTest, SilentCommandHitsTheSessionTimeout) {
    auto session = connect_or_die(nas);
    session.set_timeout(std::chrono::milliseconds(300));
    const auto r = session.exec(std::vector<std::string>{"sleep", "30"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::unavailable);
    EXPECT_TRUE(contains(r.error().message, "sleep")) << r.error().message;
}

TEST_F(SshSessionTest, ExecRefusesNulBytesAndEmptyCommands) {
    auto session = connect_or_die(nas);
    const auto nul = session.exec(std::vector<std::string>{"echo", std::string("a\0b", 3)});
    ASSERT_FALSE(nul);
    EXPECT_EQ(nul.error().code, ExitCode::data_error);
    const auto empty = session.exec(std::vector<std::string>{});
    ASSERT_FALSE(empty);
    // The session is still usable.
    const auto ok = session.exec(std::vector<std::string>{"true"});
    ASSERT_TRUE(ok) << ok.error().message;
}

// ---- a remote shell for many commands ---------------------------------------------

namespace {

RemoteShell shell_or_die(SshSession& session) {
    auto shell = session.shell();
    if (!shell) throw std::runtime_error(shell.error().message);
    return std::move(*shell);
}

constexpr Duration k_shell_timeout = std::chrono::seconds(20);

}  // namespace

TEST_F(SshSessionTest, ShellRunsCommandsOneAfterAnotherWithTheirOwnOutputAndStatus) {
    auto session = connect_or_die(nas);
    auto shell = shell_or_die(session);
    const std::string canary = (nas.dir() / "canary").string();
    const auto args = hostile_arguments(canary);
    std::vector<std::string> argv{"printf", "%s\\n"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = shell.run(argv, k_shell_timeout);
    ASSERT_TRUE(r) << r.error().message;
    std::string expected;
    for (const std::string& a : args) expected += a + "\n";
    EXPECT_EQ(r->out, expected);
    EXPECT_EQ(r->err, "");
    EXPECT_EQ(r->exit_status, 0);
    EXPECT_FALSE(std::filesystem::exists(canary));

    r = shell.run(std::vector<std::string>{"sh", "-c", "echo out; echo err >&2; exit 3"}, k_shell_timeout);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->out, "out\n");
    EXPECT_EQ(r->err, "err\n");
    EXPECT_EQ(r->exit_status, 3);

    // Output left without its last newline, and no output at all.
    r = shell.run(std::vector<std::string>{"printf", "%s", "no newline"}, k_shell_timeout);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->out, "no newline");
    r = shell.run(std::vector<std::string>{"true"}, k_shell_timeout);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->out, "");
    EXPECT_EQ(r->err, "");

    r = shell.run(std::vector<std::string>{"nasops-no-such-command"}, k_shell_timeout);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->exit_status, 127);
    EXPECT_TRUE(contains(r->err, "nasops-no-such-command")) << r->err;

    r = shell.run(std::vector<std::string>{"sh", "-c", "kill -TERM $$"}, k_shell_timeout);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->exit_status, 128 + SIGTERM);
    EXPECT_TRUE(shell.usable());
}

TEST_F(SshSessionTest, ShellCommandsCannotReadTheShellsInputAndMayPrintMuch) {
    auto session = connect_or_die(nas);
    auto shell = shell_or_die(session);
    // `cat` reads /dev/null, not the lines meant for the shell after it.
    auto r = shell.run(std::vector<std::string>{"cat"}, k_shell_timeout);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->out, "");
    r = shell.run(std::vector<std::string>{"echo", "after cat"}, k_shell_timeout);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->out, "after cat\n");
    // More than the channel window, on both streams.
    const std::size_t size = 5u * 1024 * 1024;
    r = shell.run(
        std::vector<std::string>{"sh", "-c", "yes stdout-line | head -c 5242880; yes err | head -c 5242880 >&2"},
        k_shell_timeout);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->out.size(), size);
    EXPECT_EQ(r->err.size(), size);
    EXPECT_TRUE(r->out.starts_with("stdout-line\nstdout-line\n"));
    EXPECT_EQ(r->exit_status, 0);
}

TEST_F(SshSessionTest, ShellCommandsSentAheadComeBackInOrderWhileTheSessionDoesOtherWork) {
    auto session = connect_or_die(nas);
    auto shell = shell_or_die(session);
    ASSERT_TRUE(
        shell.send(std::vector<std::string>{"sh", "-c", "sleep 0.3; echo first; echo e1 >&2"}, k_shell_timeout));
    ASSERT_TRUE(
        shell.send(std::vector<std::string>{"sh", "-c", "yes second | head -c 3000000; exit 4"}, k_shell_timeout));
    ASSERT_TRUE(shell.send(std::vector<std::string>{"printf", "%s", "third"}, k_shell_timeout));
    EXPECT_EQ(shell.waiting(), 3u);
    // The session serves other channels meanwhile.
    const auto other = session.exec(std::vector<std::string>{"echo", "meanwhile"});
    ASSERT_TRUE(other) << other.error().message;
    EXPECT_EQ(other->out, "meanwhile\n");

    auto r = shell.receive(k_shell_timeout);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->out, "first\n");
    EXPECT_EQ(r->err, "e1\n");
    r = shell.receive(k_shell_timeout);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->out.size(), 3000000u);
    EXPECT_TRUE(r->out.starts_with("second\n"));
    EXPECT_EQ(r->err, "");
    EXPECT_EQ(r->exit_status, 4);
    r = shell.receive(k_shell_timeout);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->out, "third");
    EXPECT_EQ(shell.waiting(), 0u);
    // Nothing sent: nothing to wait for.
    const auto none = shell.receive(k_shell_timeout);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, ExitCode::software);
}

TEST_F(SshSessionTest, ShellThatEndsIsAnErrorAndTheSessionLivesOn) {
    auto session = connect_or_die(nas);
    auto shell = shell_or_die(session);
    // The command kills the shell that runs it.
    const auto r = shell.run(std::vector<std::string>{"sh", "-c", "kill -KILL $PPID"}, k_shell_timeout);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::io_error);
    EXPECT_TRUE(contains(r.error().message, "shell ended")) << r.error().message;
    EXPECT_FALSE(shell.usable());
    const auto again = shell.run(std::vector<std::string>{"true"}, k_shell_timeout);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ExitCode::io_error);

    const auto exec = session.exec(std::vector<std::string>{"echo", "still here"});
    ASSERT_TRUE(exec) << exec.error().message;
    EXPECT_EQ(exec->out, "still here\n");
    auto fresh = shell_or_die(session);
    const auto ok = fresh.run(std::vector<std::string>{"echo", "new shell"}, k_shell_timeout);
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->out, "new shell\n");
}

TEST_F(SshSessionTest, ShellCommandSilentPastTheTimeoutEndsTheSession) {
    auto session = connect_or_die(nas);
    auto shell = shell_or_die(session);
    const auto r = shell.run(std::vector<std::string>{"sleep", "30"}, std::chrono::milliseconds(300));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::unavailable);
    EXPECT_TRUE(contains(r.error().message, "sleep")) << r.error().message;
    EXPECT_FALSE(shell.usable());
}

TEST_F(SshSessionTest, ShellRefusesNulBytesAndEmptyCommands) {
    auto session = connect_or_die(nas);
    auto shell = shell_or_die(session);
    const auto nul = shell.run(std::vector<std::string>{"echo", std::string("a\0b", 3)}, k_shell_timeout);
    ASSERT_FALSE(nul);
    EXPECT_EQ(nul.error().code, ExitCode::data_error);
    const auto empty = shell.run(std::vector<std::string>{}, k_shell_timeout);
    ASSERT_FALSE(empty);
    const auto ok = shell.run(std::vector<std::string>{"true"}, k_shell_timeout);
    ASSERT_TRUE(ok) << ok.error().message;
}

// ---- SFTP -------------------------------------------------------------------------

TEST_F(SftpTest, MkdirPCreatesMissingFoldersAndIsIdempotent) {
    const std::string deep = remote("a/b/c");
    ASSERT_TRUE(sftp->mkdir_p(deep)) << "first";
    EXPECT_TRUE(std::filesystem::is_directory(deep));
    const auto again = sftp->mkdir_p(deep + "/");
    ASSERT_TRUE(again) << again.error().message;

    upload(remote("a/file"), "x");
    const auto blocked = sftp->mkdir_p(remote("a/file/sub"));
    ASSERT_FALSE(blocked);
    EXPECT_EQ(blocked.error().code, ExitCode::cant_create);
    EXPECT_TRUE(contains(blocked.error().message, remote("a/file"))) << blocked.error().message;
}

TEST_F(SftpTest, StatReportsSizeTypeAndMtimeOrAbsence) {
    upload(remote("f.bin"), std::string(12345, 'z'));
    const auto st = sftp->stat(remote("f.bin"));
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_TRUE(st->exists);
    EXPECT_TRUE(st->is_regular);
    EXPECT_FALSE(st->is_directory);
    EXPECT_EQ(st->size, 12345u);
    struct stat local {};
    ASSERT_EQ(::stat(remote("f.bin").c_str(), &local), 0);
    EXPECT_EQ(st->mtime.time_since_epoch().count(), local.st_mtime);
    EXPECT_EQ(st->permissions & 07777, local.st_mode & 07777);

    const auto dir = sftp->stat(nas.remote_root().string());
    ASSERT_TRUE(dir);
    EXPECT_TRUE(dir->is_directory);
    const auto missing = sftp->stat(remote("nope/none"));
    ASSERT_TRUE(missing) << missing.error().message;
    EXPECT_FALSE(missing->exists);
}

TEST_F(SftpTest, RenameReplacesAnExistingTarget) {
    upload(remote("new.part"), "new content");
    upload(remote("final"), "old content");
    const auto renamed = sftp->rename(remote("new.part"), remote("final"));
    ASSERT_TRUE(renamed) << renamed.error().message;
    EXPECT_EQ(read_file(remote("final")), "new content");
    EXPECT_FALSE(std::filesystem::exists(remote("new.part")));

    upload(remote("second.part"), "second");
    ASSERT_TRUE(sftp->rename(remote("second.part"), remote("fresh")));
    EXPECT_EQ(read_file(remote("fresh")), "second");

    const auto missing = sftp->rename(remote("absent"), remote("final"));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ExitCode::no_input);
    EXPECT_TRUE(contains(missing.error().message, remote("absent"))) << missing.error().message;
    EXPECT_EQ(read_file(remote("final")), "new content");
}

TEST_F(SftpTest, RemoveDeletesAndReportsMissingFiles) {
    upload(remote("doomed"), "x");
    ASSERT_TRUE(sftp->remove(remote("doomed")));
    EXPECT_FALSE(std::filesystem::exists(remote("doomed")));
    const auto again = sftp->remove(remote("doomed"));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ExitCode::no_input);
    EXPECT_TRUE(contains(again.error().message, remote("doomed"))) << again.error().message;
}

TEST_F(SftpTest, SetMtimeChangesTheRemoteFile) {
    upload(remote("dated"), "x");
    const std::chrono::sys_seconds when{std::chrono::seconds(1'000'000'000)};
    const auto set = sftp->set_mtime(remote("dated"), when);
    ASSERT_TRUE(set) << set.error().message;
    struct stat local {};
    ASSERT_EQ(::stat(remote("dated").c_str(), &local), 0);
    EXPECT_EQ(local.st_mtime, 1'000'000'000);
    EXPECT_EQ(sftp->stat(remote("dated"))->mtime, when);

    const auto missing = sftp->set_mtime(remote("absent"), when);
    ASSERT_FALSE(missing);
    EXPECT_TRUE(contains(missing.error().message, remote("absent")));
    const auto out_of_range = sftp->set_mtime(remote("dated"), std::chrono::sys_seconds{std::chrono::seconds(-1)});
    ASSERT_FALSE(out_of_range);
}

TEST_F(SftpTest, StatvfsMatchesTheLocalFileSystem) {
    const auto st = sftp->statvfs(nas.remote_root().string());
    ASSERT_TRUE(st) << st.error().message;
    struct statvfs local {};
    ASSERT_EQ(::statvfs(nas.remote_root().c_str(), &local), 0);
    const std::uint64_t block = local.f_frsize != 0 ? local.f_frsize : local.f_bsize;
    EXPECT_EQ(st->total_bytes, std::uint64_t{local.f_blocks} * block);
    EXPECT_EQ(st->total_inodes, std::uint64_t{local.f_files});
    EXPECT_GT(st->total_bytes, 0u);
    EXPECT_LE(st->available_bytes, st->free_bytes);
    EXPECT_LE(st->free_bytes, st->total_bytes);
    EXPECT_LE(st->available_inodes, st->free_inodes);
    // Other tests write meanwhile: free space agrees within 256 MiB.
    const auto local_avail = static_cast<double>(std::uint64_t{local.f_bavail} * block);
    EXPECT_NEAR(static_cast<double>(st->available_bytes), local_avail, 256.0 * 1024 * 1024);
}
