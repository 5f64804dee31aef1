#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <random>
#include <span>
#include <string>
#include <thread>

#include "fixtures/sshd_fixture.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/ssh/ssh_session.hpp"
#include "nasops/util/unique_fd.hpp"

using namespace nasops;
using nasops::testing::random_bytes;
using nasops::testing::read_file;
using nasops::testing::SshdFixture;

namespace {

// errno of a plain TCP connect to 127.0.0.1:port (0 when it was accepted).
int tcp_connect_errno(int port) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 ? 0 : errno;
}

// Whether connecting to `port` is refused within two seconds. Under ctest -j
// another test may briefly listen on a port just freed (its own free-port
// pick), so one accepted connect does not prove the stopped sshd still listens.
bool refused_within_two_seconds(int port) {
    for (int attempt = 0; attempt < 40; ++attempt) {
        if (tcp_connect_errno(port) == ECONNREFUSED) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

}  // namespace

TEST(SshdFixture, SftpUploadLandsByteIdenticalInRemoteRoot) {
    SshdFixture nas;
    EXPECT_TRUE(nas.running());
    EXPECT_GT(nas.port(), 0);
    EXPECT_TRUE(std::filesystem::is_directory(nas.remote_root()));

    auto session = SshSession::connect(nas.options());
    ASSERT_TRUE(session) << session.error().message << "\nsshd log:\n" << nas.log();
    auto pipeline = session->sftp_pipeline();
    ASSERT_TRUE(pipeline) << pipeline.error().message;

    const std::string data = random_bytes(5 * 1024 * 1024 + 12345, 42);
    const SftpPut put{.path = (nas.remote_root() / "upload.bin").string(), .data = data};
    const auto written = pipeline->put(std::span(&put, 1));
    ASSERT_TRUE(written[0]) << written[0].error().message;

    const std::string landed = read_file(nas.remote_root() / "upload.bin");
    ASSERT_EQ(landed.size(), data.size());
    EXPECT_TRUE(landed == data) << "uploaded bytes differ";
}

TEST(SshdFixture, StopRefusesConnectionsAndDropsSessionsThenStartServesAgain) {
    SshdFixture nas;
    auto session = SshSession::connect(nas.options());
    ASSERT_TRUE(session) << session.error().message;
    ASSERT_EQ(tcp_connect_errno(nas.port()), 0);

    nas.stop();
    EXPECT_FALSE(nas.running());
    EXPECT_TRUE(refused_within_two_seconds(nas.port()));
    // The established session died with the server, as it does when a NAS goes down.
    const std::vector<std::string> argv{"true"};
    const auto ran = session->exec(argv);
    ASSERT_FALSE(ran);
    EXPECT_EQ(ran.error().code, ExitCode::unavailable) << ran.error().message;
    const auto refused = SshSession::connect(nas.options());
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ExitCode::unavailable);

    const int port = nas.port();
    nas.start();
    EXPECT_EQ(nas.port(), port);
    auto again = SshSession::connect(nas.options());
    ASSERT_TRUE(again) << again.error().message << "\nsshd log:\n" << nas.log();
    const auto echoed = again->exec(std::vector<std::string>{"echo", "back"});
    ASSERT_TRUE(echoed) << echoed.error().message;
    EXPECT_EQ(echoed->out, "back\n");
}

TEST(SshdFixture, KnownHostsNamesTheServerKey) {
    SshdFixture nas;
    const std::string known = read_file(nas.known_hosts_file());
    EXPECT_EQ(known.rfind("[127.0.0.1]:" + std::to_string(nas.port()) + " ssh-ed25519 ", 0), 0u) << known;
    auto session = SshSession::connect(nas.options());
    ASSERT_TRUE(session) << session.error().message;
    EXPECT_EQ(session->host_key_type(), "ssh-ed25519");
    EXPECT_EQ(session->host_key_fingerprint(), nas.host_key_fingerprint());
    EXPECT_FALSE(session->host_key_added());
}
