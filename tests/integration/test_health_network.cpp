// The checks that talk to servers, against real servers started here: an HTTP
// server (python3 http.server), a TLS server (openssl s_server) with a
// certificate made by the test, the fixture sshd as the NAS, and a NAS that
// accepts connections and never answers.

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "fixtures/child_process.hpp"
#include "fixtures/sshd_fixture.hpp"
#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"
#include "health/checks.hpp"
#include "nasops/record/record.hpp"
#include "nasops/util/unique_fd.hpp"

namespace fs = std::filesystem;
using nasops::testing::ChildProcess;
using nasops::testing::CommandResult;
using nasops::testing::parse_records;
using nasops::testing::run_command;
using nasops::testing::write_file;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

namespace {

bool accepts(int port) {
    nasops::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

void wait_for_port(int port, ChildProcess& server) {
    for (int i = 0; i < 200; ++i) {
        if (accepts(port)) return;
        ASSERT_TRUE(server.running()) << "the server on port " << port << " exited";
        std::this_thread::sleep_for(50ms);
    }
    FAIL() << "nothing listens on port " << port;
}

CommandResult health(const std::vector<std::string>& args) {
    return nasops::testing::run_tool("health", args);
}

fs::path write_config(const nasops::testing::TempDir& dir, const std::string& extra) {
    const auto path = dir / "nasops.toml";
    write_file(path, nasops::testing::paths_config(dir.path()) + extra);
    return path;
}

const nlohmann::json* metric_of(const nlohmann::json& record, const std::string& name) {
    if (!record.contains("metrics")) return nullptr;
    for (const auto& m : record["metrics"]) {
        if (m["name"] == name) return &m;
    }
    return nullptr;
}

// A self-signed ECDSA certificate valid for `days`, made with the openssl command.
void make_certificate(const nasops::testing::TempDir& dir, int days) {
    auto r = run_command({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                          "-nodes", "-keyout", (dir / "key.pem").string(), "-out", (dir / "cert.pem").string(), "-days",
                          std::to_string(days), "-subj", "/CN=nasops-health-test"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace

TEST(HealthHttp, StatusLatencyAndBodyMatchAgainstALocalServer) {
    nasops::testing::TempDir dir;
    write_file(dir / "www/index.html", "<html>status: healthy</html>\n");
    const int port = nasops::testing::free_local_port();
    nasops::testing::SpawnOptions quiet;
    quiet.stderr_file = dir / "http.log";
    ChildProcess server({"/usr/bin/python3", "-m", "http.server", std::to_string(port), "--bind", "127.0.0.1",
                         "--directory", (dir / "www").string()},
                        quiet);
    wait_for_port(port, server);
    const auto base = fmt::format("http://127.0.0.1:{}", port);
    const auto config = write_config(dir, fmt::format(R"([[health.http]]
url = "{0}/"
match = "healthy"
[[health.http]]
url = "{0}/missing"
[[health.http]]
url = "{0}/missing?expected"
status = 404
[[health.http]]
url = "{0}/index.html"
match = "degraded"
[[health.http]]
url = "{0}/index.html?slow"
warn = "0"
[[health.http]]
url = "http://127.0.0.1:{1}/"
)",
                                                      base, nasops::testing::free_local_port()));
    auto r = health({"--config", config.string(), "http", "--format", "json"});
    const auto records = parse_records(r.out);
    ASSERT_EQ(records.size(), 6u) << r.out << r.err;
    EXPECT_EQ(records[0]["status"], "ok") << records[0].dump();
    EXPECT_THAT(records[0]["message"].get<std::string>(), HasSubstr("HTTP 200 in "));
    EXPECT_THAT(records[0]["message"].get<std::string>(), HasSubstr("body contains 'healthy'"));
    EXPECT_EQ(records[0]["unit"], "seconds");
    EXPECT_DOUBLE_EQ((*metric_of(records[0], "http_status_code"))["value"].get<double>(), 200.0);
    EXPECT_EQ(records[1]["status"], "critical");
    EXPECT_THAT(records[1]["message"].get<std::string>(), HasSubstr("HTTP 404 in "));
    EXPECT_THAT(records[1]["message"].get<std::string>(), HasSubstr("(expected 200)"));
    EXPECT_EQ(records[2]["status"], "ok") << records[2].dump();
    EXPECT_EQ(records[3]["status"], "critical");
    EXPECT_THAT(records[3]["message"].get<std::string>(), HasSubstr("body does not contain 'degraded'"));
    EXPECT_EQ(records[4]["status"], "warning");  // any latency is above "0"
    EXPECT_EQ(records[4]["warn"], "0");
    EXPECT_EQ(records[5]["status"], "critical");
    EXPECT_THAT(records[5]["message"].get<std::string>(), HasSubstr("Couldn't connect"));
    EXPECT_EQ(r.exit_code, 2);
}

TEST(HealthTls, DaysToExpiryOfAServerAndOfAPemFile) {
    nasops::testing::TempDir dir;
    make_certificate(dir, 20);
    const int port = nasops::testing::free_local_port();
    nasops::testing::SpawnOptions quiet;
    quiet.stdout_file = dir / "s_server.log";
    quiet.stderr_file = dir / "s_server.log";
    ChildProcess server({"openssl", "s_server", "-accept", fmt::format("127.0.0.1:{}", port), "-cert",
                         (dir / "cert.pem").string(), "-key", (dir / "key.pem").string(), "-www", "-quiet"},
                        quiet);
    wait_for_port(port, server);
    const auto config = write_config(dir, fmt::format("[health]\ntls_targets = [\"127.0.0.1:{}\", \"{}\"]\n"
                                                      "[[health.http]]\nurl = \"https://127.0.0.1:{}/\"\n",
                                                      port, (dir / "cert.pem").string(), port));
    auto r = health({"--config", config.string(), "tls", "http", "--format", "json"});
    const auto records = parse_records(r.out);
    ASSERT_EQ(records.size(), 3u) << r.out << r.err;
    for (const auto& record : {records[0], records[1]}) {
        // 20 days left: below the 30-day warning, above the 7-day critical.
        EXPECT_EQ(record["status"], "warning") << record.dump();
        EXPECT_EQ(record["unit"], "seconds");
        EXPECT_NEAR(record["value"].get<double>(), 20 * 86400.0, 120.0);
        EXPECT_EQ(record["warn"], "2592000:");
        EXPECT_THAT(record["message"].get<std::string>(), HasSubstr("CN=nasops-health-test"));
        EXPECT_THAT(record["message"].get<std::string>(), HasSubstr("in 20.0 days"));
    }
    EXPECT_EQ(records[0]["target"], fmt::format("127.0.0.1:{}", port));
    // The http check verifies TLS: a self-signed certificate is refused.
    EXPECT_EQ(records[2]["status"], "critical");
    EXPECT_THAT(records[2]["message"].get<std::string>(), HasSubstr("certificate"));

    // -w/-c in days, as check_http -C takes them.
    auto nagios = health({"--config", config.string(), "tls", "-w", "10:", "-c", "5:", "--format", "nagios"});
    EXPECT_EQ(nagios.exit_code, 0) << nagios.out;
    EXPECT_THAT(nagios.out, ::testing::StartsWith("HEALTH OK - 2 ok | 'tls_cert_expiry 127.0.0.1:"));
    EXPECT_THAT(nagios.out, HasSubstr("s;864000:;432000:"));

    server.stop();
    auto down = health({"--config", config.string(), "tls", "--format", "json"});
    const auto after = parse_records(down.out);
    ASSERT_EQ(after.size(), 2u);
    EXPECT_EQ(after[0]["status"], "critical");
    EXPECT_THAT(after[0]["message"].get<std::string>(), HasSubstr("cannot complete a TLS handshake"));
    EXPECT_EQ(after[1]["status"], "warning");  // the file is still there
}

TEST(HealthTls, ExpiredAndUnreadableCertificates) {
    nasops::testing::TempDir dir;
    make_certificate(dir, 3);
    auto thresholds = std::make_shared<const nasops::health::Thresholds>(nasops::health::Thresholds::defaults());
    auto check = nasops::health::make_tls_check((dir / "cert.pem").string(), thresholds);
    auto at = [&](nasops::SystemTimePoint now) {
        const nasops::health::CheckContext context{.clock = std::make_shared<nasops::ManualClock>(now), .timeout = 5s};
        auto result = check->run(context);
        nasops::health::evaluate(result);
        return result;
    };
    const auto now = std::chrono::system_clock::now();
    auto soon = at(now);
    EXPECT_EQ(soon.status, nasops::health::Status::critical);  // 3 days: below 7
    EXPECT_THAT(soon.message, HasSubstr("critical: tls_cert_expiry 3.0 days below 7.0 days"));
    auto expired = at(now + 24h * 10);
    EXPECT_EQ(expired.status, nasops::health::Status::critical);
    EXPECT_NEAR(expired.metrics.front().value, -7 * 86400.0, 120.0);
    EXPECT_THAT(expired.message, HasSubstr("expired "));
    EXPECT_THAT(expired.message, HasSubstr("7.0 days ago"));

    write_file(dir / "not.pem", "hello\n");
    auto garbage = nasops::health::make_tls_check((dir / "not.pem").string(), thresholds)
                       ->run({.clock = std::make_shared<nasops::SystemClock>(), .timeout = 5s});
    EXPECT_EQ(garbage.status, nasops::health::Status::unknown);
    EXPECT_THAT(garbage.message, HasSubstr("cannot read a PEM certificate from"));
    auto missing = nasops::health::make_tls_check((dir / "none.pem").string(), thresholds)
                       ->run({.clock = std::make_shared<nasops::SystemClock>(), .timeout = 5s});
    EXPECT_EQ(missing.status, nasops::health::Status::unknown);
    EXPECT_THAT(missing.message, HasSubstr("cannot open"));
}

TEST(HealthNas, DiskAndSshAgainstTheFixtureSshd) {
    nasops::testing::SshdFixture nas;
    nasops::testing::TempDir dir;
    const auto config = write_config(dir, nas.config_section());
    auto first = health({"--config", config.string(), "nas-disk", "ssh", "--format", "json"});  // former spelling
    auto records = parse_records(first.out);
    ASSERT_EQ(records.size(), 2u) << first.out << first.err << nas.log();
    const auto& disk = records[0];
    EXPECT_EQ(disk["name"], "nas_disk");
    EXPECT_EQ(disk["target"], "127.0.0.1:" + nas.remote_root().string());
    EXPECT_NE(disk["status"], "unknown") << disk.dump();
    EXPECT_THAT(disk["message"].get<std::string>(), HasSubstr("(by SFTP statvfs)"));
    // The NAS is this machine: its figures are those of the local file system under remote_root.
    auto local = nasops::health::make_disk_check(nas.remote_root(), std::make_shared<const nasops::health::Thresholds>(
                                                                        nasops::health::Thresholds::defaults()))
                     ->run({.clock = std::make_shared<nasops::SystemClock>(), .timeout = 5s});
    EXPECT_NEAR(disk["value"].get<double>(), local.metrics.front().value, 0.01);
    ASSERT_NE(metric_of(disk, "nas_disk_free"), nullptr);
    const auto& ssh = records[1];
    EXPECT_EQ(ssh["name"], "ssh");
    EXPECT_EQ(ssh["target"], fmt::format("{}@127.0.0.1:{}", nas.user(), nas.port()));
    EXPECT_EQ(ssh["status"], "ok") << ssh.dump();
    EXPECT_EQ(ssh["unit"], "seconds");
    EXPECT_GT(ssh["value"].get<double>(), 0.0);
    ASSERT_NE(metric_of(ssh, "ssh_success"), nullptr);
    EXPECT_DOUBLE_EQ((*metric_of(ssh, "ssh_success"))["value"].get<double>(), 1.0);
    EXPECT_THAT(ssh["message"].get<std::string>(), HasSubstr("1 of 1 probes in the last 1d succeeded"));

    (void)health({"--config", config.string(), "ssh", "--format", "json"});
    nas.stop();
    auto down = health({"--config", config.string(), "nas_disk", "ssh", "--format", "json"});
    records = parse_records(down.out);
    ASSERT_EQ(records.size(), 2u) << down.out << down.err;
    EXPECT_EQ(records[0]["status"], "unknown");
    EXPECT_THAT(records[0]["message"].get<std::string>(), HasSubstr("127.0.0.1"));
    EXPECT_EQ(records[1]["status"], "critical");
    EXPECT_EQ(metric_of(records[1], "ssh_latency"), nullptr);  // no probe, no latency
    // Two probes of three succeeded: below the 80% critical line.
    ASSERT_NE(metric_of(records[1], "ssh_success"), nullptr) << records[1].dump();
    EXPECT_NEAR((*metric_of(records[1], "ssh_success"))["value"].get<double>(), 2.0 / 3.0, 1e-9);
    EXPECT_EQ((*metric_of(records[1], "ssh_success"))["status"], "critical");
    EXPECT_EQ(down.exit_code, 2);
}

TEST(HealthNas, ASilentNasIsReportedOnTime) {
    // Accepts TCP connections (the kernel's backlog) and never says a word.
    nasops::UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener.get(), 16), 0);
    socklen_t length = sizeof addr;
    ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &length), 0);
    const int port = ntohs(addr.sin_port);

    nasops::testing::TempDir dir;
    write_file(dir / "known_hosts", "");
    write_file(dir / "id", "");
    const auto config =
        write_config(dir, fmt::format("[nas]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"nas\"\nknown_hosts = \"{}\"\n"
                                      "connect_timeout = \"60s\"\n[health]\ncheck_timeout = \"2s\"\n"
                                      // The probes' success ratio would judge the history on top.
                                      "[health.warn]\nssh_success = \"\"\n[health.crit]\nssh_success = \"\"\n",
                                      port, (dir / "known_hosts").string()));
    const auto start = std::chrono::steady_clock::now();
    auto r = health({"--config", config.string(), "nas_disk", "ssh", "memory", "--format", "json"});
    const auto took = std::chrono::steady_clock::now() - start;
    const auto records = parse_records(r.out);
    ASSERT_EQ(records.size(), 3u) << r.out << r.err;
    // Both ran out of time: one state for a timeout, whichever check it is.
    EXPECT_EQ(records[0]["status"], "unknown");
    EXPECT_THAT(records[0]["message"].get<std::string>(), HasSubstr(fmt::format("127.0.0.1:{}", port)));
    EXPECT_EQ(records[1]["status"], "unknown") << records[1].dump();
    EXPECT_THAT(records[1]["message"].get<std::string>(), HasSubstr(fmt::format("127.0.0.1:{}", port)));
    EXPECT_NE(records[2]["status"], "unknown");
    EXPECT_LT(took, 20s);  // generous: the 60 s connect timeout did not apply

    // check_http's form, -t N:STATE: the same silence is CRITICAL for both.
    auto strict = health({"--config", config.string(), "nas_disk", "ssh", "--format", "json", "-t", "10:CRITICAL"});
    const auto judged = parse_records(strict.out);
    ASSERT_EQ(judged.size(), 2u) << strict.out << strict.err;
    EXPECT_EQ(judged[0]["status"], "critical") << judged[0].dump();
    EXPECT_EQ(judged[1]["status"], "critical") << judged[1].dump();
    EXPECT_EQ(strict.exit_code, 2);
}

TEST(HealthNas, UnconfiguredNasIsUnknownWithTheReason) {
    nasops::testing::TempDir dir;
    auto r = health({"--config", write_config(dir, "").string(), "nas_disk", "ssh", "--format", "json"});
    const auto records = parse_records(r.out);
    ASSERT_EQ(records.size(), 2u);
    for (const auto& record : records) {
        EXPECT_EQ(record["status"], "unknown");
        EXPECT_EQ(record["message"], "no NAS configured ([nas] host is empty)");
    }
    EXPECT_EQ(r.exit_code, 3);
}
