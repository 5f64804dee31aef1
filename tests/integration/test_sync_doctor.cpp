// nasops-sync doctor against a real sshd playing the NAS, broken one way at
// a time: each finding names the step, and what is not OK says what to try.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "fixtures/sshd_fixture.hpp"
#include "fixtures/sync_harness.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/core/lock.hpp"
#include "nasops/util/clock.hpp"

using nasops::testing::parse_records;
using nasops::testing::write_file;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

struct Found {
    std::string status;
    std::string message;
    std::string fix;
};

class SyncDoctor : public ::testing::Test, protected nasops::testing::SyncHarness {
protected:
    SyncDoctor() : SyncHarness("nasops-sync-doctor") {
        fs::create_directories(nas.remote_root() / "media");
        write_config("127.0.0.1", (nas.remote_root() / "media").string());
    }

    void write_config(const std::string& host, const std::string& remote_root, const fs::path& identity = {}) {
        write_file(config, fmt::format("[paths]\nstate_dir = \"{0}/state\"\nlog_dir = \"{0}/log\"\nrun_dir = "
                                       "\"{0}/run\"\n\n[nas]\nhost = \"{1}\"\nport = {2}\nuser = \"{3}\"\n"
                                       "identity_file = \"{4}\"\nknown_hosts = \"{5}\"\nremote_root = \"{6}\"\n"
                                       "connect_timeout = \"5s\"\n\n[sync]\nsources = [\"{7}\"]\n",
                                       dir.path().string(), host, nas.port(), nas.user(),
                                       (identity.empty() ? nas.identity_file() : identity).string(),
                                       nas.known_hosts_file().string(), remote_root, media.string()));
        ::chmod(config.c_str(), 0600);
    }

    // Runs doctor with --format json; the findings by name, in `order`.
    std::map<std::string, Found> doctor(int expected_exit, std::vector<std::string>* order = nullptr) {
        auto r = sync({"doctor", "--format", "json"});
        EXPECT_EQ(r.exit_code, expected_exit) << r.out << r.err;
        std::map<std::string, Found> found;
        for (const auto& rec : parse_records(r.out)) {
            EXPECT_EQ(rec["kind"], "check");
            const auto name = rec["name"].get<std::string>();
            if (order) order->push_back(name);
            found[name] = Found{rec["status"], rec["message"], rec.value("fix", "")};
        }
        return found;
    }

    nasops::testing::SshdFixture nas;
};

TEST_F(SyncDoctor, AHealthyNasIsOkAtEveryStepInTheGuidesOrder) {
    std::vector<std::string> order;
    auto found = doctor(0, &order);
    EXPECT_EQ(order, (std::vector<std::string>{"dns", "tcp", "ssh", "host_key", "auth", "sftp", "remote_root",
                                               "remote_write", "verify", "space", "state_db", "lock", "log"}));
    for (const auto& [name, f] : found) {
        EXPECT_EQ(f.status, "ok") << name << ": " << f.message;
        EXPECT_EQ(f.fix, "") << name;
    }
    EXPECT_THAT(found["verify"].message, HasSubstr("SHA-256"));
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(nas.remote_root() / "media")) left.push_back(e.path().filename());
    EXPECT_TRUE(left.empty()) << "the test file is removed: " << left.front();

    auto text = sync({"doctor"});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_THAT(text.out, HasSubstr("OK        host_key      its host key matches"));
}

TEST_F(SyncDoctor, ANasThatIsDownIsCriticalAtTcpAndTheRestIsNotChecked) {
    nas.stop();
    auto found = doctor(2);
    EXPECT_EQ(found["dns"].status, "ok");
    EXPECT_EQ(found["tcp"].status, "critical");
    EXPECT_THAT(found["tcp"].fix, HasSubstr(fmt::format("nc -vz 127.0.0.1 {}", nas.port())));
    for (const auto* later : {"ssh", "host_key", "auth", "sftp", "remote_root", "remote_write", "verify", "space"})
        EXPECT_EQ(found[later].status, "unknown") << later;
    EXPECT_EQ(found["state_db"].status, "ok") << "the local checks still run";
}

TEST_F(SyncDoctor, ANameThatDoesNotResolveIsCriticalAtDns) {
    write_config("nas.nasops-test.invalid", "/media");
    auto found = doctor(2);
    EXPECT_EQ(found["dns"].status, "critical");
    EXPECT_THAT(found["dns"].fix, HasSubstr("getent hosts nas.nasops-test.invalid"));
}

TEST_F(SyncDoctor, UnknownAndChangedHostKeysAreCriticalWithWhatToCheck) {
    write_file(nas.known_hosts_file(), "");
    auto unknown = doctor(2);
    EXPECT_EQ(unknown["tcp"].status, "ok");
    EXPECT_EQ(unknown["host_key"].status, "critical");
    EXPECT_THAT(unknown["host_key"].message, HasSubstr(nas.host_key_fingerprint()));
    EXPECT_THAT(unknown["host_key"].fix, HasSubstr("--accept-new-host-key"));
    EXPECT_EQ(nasops::testing::read_file(nas.known_hosts_file()), "") << "doctor records no key";
}

TEST_F(SyncDoctor, AKeyTheNasDoesNotAuthorizeIsCriticalAtAuthWithSshCopyId) {
    const auto stranger = nas.generate_client_key("stranger");
    write_config("127.0.0.1", (nas.remote_root() / "media").string(), stranger);
    auto found = doctor(2);
    EXPECT_EQ(found["host_key"].status, "ok");
    EXPECT_EQ(found["auth"].status, "critical");
    EXPECT_THAT(found["auth"].fix, HasSubstr("ssh-copy-id -i " + stranger.string() + ".pub"));
}

TEST_F(SyncDoctor, AMissingRemoteRootIsCriticalWithTheMountHint) {
    write_config("127.0.0.1", (nas.remote_root() / "volume2").string());
    auto found = doctor(2);
    EXPECT_EQ(found["sftp"].status, "ok");
    EXPECT_EQ(found["remote_root"].status, "critical");
    EXPECT_THAT(found["remote_root"].fix, HasSubstr("create_remote_root = true"));
    EXPECT_FALSE(fs::exists(nas.remote_root() / "volume2")) << "doctor creates nothing";
}

TEST_F(SyncDoctor, AHeldLockAndRecentErrorsAreWarnings) {
    add("a.mp4", "clip");
    ASSERT_EQ(sync({"run", "--quiet"}).exit_code, 0);
    std::ofstream(dir / "log/sync.log", std::ios::app)
        << nasops::rfc3339_millis(std::chrono::system_clock::now())
        << " nasops-sync[42] error: cannot write /volume1/x on the NAS: permission denied\n";
    auto held = nasops::LockFile::acquire(dir / "state/sync.lock", nasops::Duration{0});
    ASSERT_TRUE(held) << held.error().message;
    auto found = doctor(1);
    EXPECT_EQ(found["lock"].status, "warning");
    EXPECT_THAT(found["lock"].message, HasSubstr(std::to_string(::getpid())));
    EXPECT_EQ(found["log"].status, "warning");
    EXPECT_THAT(found["log"].message, HasSubstr("permission denied"));
    EXPECT_EQ(found["state_db"].status, "ok");
}

TEST_F(SyncDoctor, ACorruptStateDatabaseIsCriticalWithTheRestore) {
    add("a.mp4", "clip");
    ASSERT_EQ(sync({"run", "--quiet"}).exit_code, 0);
    {
        std::fstream db(dir / "state/nasops.db", std::ios::in | std::ios::out | std::ios::binary);
        const std::string garbage(4096, 'x');
        db.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    }
    auto found = doctor(2);
    EXPECT_EQ(found["state_db"].status, "critical");
    EXPECT_THAT(found["state_db"].message, HasSubstr("nasops.db"));
    EXPECT_THAT(found["state_db"].fix, HasSubstr("nasops-dbmaint restore"));
}

}  // namespace
