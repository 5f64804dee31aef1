// nasops-sync's guarantees on every kind of SFTP server a NAS may run:
// OpenSSH with exec (hashes on the NAS), an SFTP-only OpenSSH account locked
// in a chroot, and ProFTPD's mod_sftp, another SSH and SFTP implementation.
// Where the NAS cannot run sha256sum, the copies are verified by size and
// the run says so; everything else holds the same everywhere.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fixtures/child_process.hpp"
#include "fixtures/fault_row.hpp"
#include "fixtures/proftpd_fixture.hpp"
#include "fixtures/sshd_fixture.hpp"
#include "fixtures/sync_harness.hpp"
#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"

using nasops::testing::age_file;
using nasops::testing::ChildProcess;
using nasops::testing::count_files_lost;
using nasops::testing::parse_records;
using nasops::testing::random_bytes;
using nasops::testing::read_file;
using nasops::testing::snapshot_files;
using nasops::testing::SpawnOptions;
using nasops::testing::wait_until;
using nasops::testing::write_file;
namespace fs = std::filesystem;

namespace {

enum class Server { openssh, openssh_sftp_only_chroot, proftpd };

std::string server_name(Server s) {
    switch (s) {
        case Server::openssh: return "OpenSSH";
        case Server::openssh_sftp_only_chroot: return "OpenSshSftpOnlyChroot";
        case Server::proftpd: return "ProftpdModSftp";
    }
    return "?";
}

std::uintmax_t size_or_zero(const fs::path& p) {
    std::error_code ec;
    const auto n = fs::file_size(p, ec);
    return ec ? 0 : n;
}

class SyncServers : public ::testing::TestWithParam<Server>, protected nasops::testing::SyncHarness {
protected:
    SyncServers() : SyncHarness("nasops-sync-servers") {
        if (GetParam() == Server::proftpd) {
            m_proftpd = std::make_unique<nasops::testing::ProftpdSftpFixture>();
            nas = m_proftpd->endpoint("media");
        } else {
            m_sshd = std::make_unique<nasops::testing::SshdFixture>();
            if (GetParam() == Server::openssh_sftp_only_chroot) m_sshd->restrict_to_sftp_in_chroot();
            nas = m_sshd->endpoint("media");
        }
        write_file(config,
                   fmt::format("[paths]\nstate_dir = \"{0}/state\"\nlog_dir = \"{0}/log\"\nrun_dir = \"{0}/run\"\n\n"
                               "[nas]\nhost = \"127.0.0.1\"\nport = {1}\nuser = \"{2}\"\nidentity_file = \"{3}\"\n"
                               "known_hosts = \"{4}\"\nremote_root = \"{5}\"\nconnect_timeout = \"5s\"\n\n"
                               "[sync]\nsources = [\"{6}\"]\n",
                               dir.path().string(), nas.port, nas.user, nas.identity_file.string(),
                               nas.known_hosts_file.string(), nas.remote_root, media.string()));
        ::chmod(config.c_str(), 0600);
    }

    bool hashes_on_the_nas() const { return GetParam() == Server::openssh; }

    std::string server_log() const { return m_proftpd ? m_proftpd->log() : m_sshd->log(); }

    std::unique_ptr<nasops::testing::SshdFixture> m_sshd;
    std::unique_ptr<nasops::testing::ProftpdSftpFixture> m_proftpd;
    nasops::testing::SftpEndpoint nas;
};

TEST_P(SyncServers, EveryFileArrivesByteExactVerifiedAsTheServerAllowsAndASecondRunSendsNothing) {
    add("cam1/2026-12-06/clip.mp4", random_bytes(3 * 1024 * 1024 + 7, 1));
    add("empty", "");
    for (int i = 0; i < 200; ++i) add(fmt::format("small/s{:03}.jpg", i), random_bytes(2048 + i, 100 + i));
    const std::vector<std::string> hostile{"with space.mp4", "quote'single.mp4",   "quote\"double.mp4",
                                           "new\nline.mp4",  "-leading-dash.mp4",  "ünïcødé 日本語.mp4",
                                           "$(touch pwned)", std::string(250, 'L')};
    for (const auto& name : hostile) add("odd/" + name, "content of " + name);
    const auto before = snapshot_files(media);

    auto r = sync({"run", "--json", "-v"});
    ASSERT_EQ(r.exit_code, 0) << r.err << server_log();
    const std::string expected_method = hashes_on_the_nas() ? "sha256" : "size";
    std::size_t completed = 0;
    for (const auto& rec : parse_records(r.out)) {
        if (rec["state"] != "completed") continue;
        ++completed;
        EXPECT_EQ(rec["verified_by"], expected_method) << rec.dump();
        // Why not by SHA-256, in the NAS's own words: what an operator needs to act on.
        if (hashes_on_the_nas()) {
            EXPECT_FALSE(rec.contains("verify_reason")) << rec.dump();
        } else {
            EXPECT_THAT(rec.value("verify_reason", ""), ::testing::HasSubstr("sha256sum")) << rec.dump();
        }
    }
    EXPECT_EQ(completed, before.size());
    EXPECT_EQ(count_files_lost(before, nas.local_root), 0u);
    if (!hashes_on_the_nas()) {
        EXPECT_NE(r.err.find("sha256sum"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("uploads there are verified by size"), std::string::npos) << r.err;
        auto ls = sync({"ls"});
        EXPECT_NE(ls.out.find("(verified by size only: "), std::string::npos) << ls.out;
        EXPECT_EQ(query("SELECT COUNT(*) FROM media_files WHERE verify_reason LIKE '%sha256sum%'"),
                  std::to_string(before.size()));
    }
    EXPECT_FALSE(fs::exists(nas.local_root / "odd/pwned"));
    EXPECT_EQ(query("SELECT COUNT(*) FROM media_files WHERE verified_by = '" + expected_method + "'"),
              std::to_string(before.size()));

    auto again = sync({"run", "--json"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(again.out, "") << "a second run sends nothing";
}

TEST_P(SyncServers, KillDashNineLeavesNoPartialCopyUnderTheFinalNameAndTheNextRunCompletes) {
    const auto big = random_bytes(24u * 1024 * 1024, 2);
    add("big.bin", big);
    const auto before = snapshot_files(media);
    SpawnOptions quiet;
    quiet.stderr_file = dir / "first.err";
    quiet.stdout_file = dir / "first.out";
    ChildProcess first(argv({"run", "--bwlimit", "8M"}), quiet);
    const auto partial = nas.local_root / ".nasops-big.bin.part";
    ASSERT_TRUE(wait_until([&] { return size_or_zero(partial) >= 4u * 1024 * 1024; }))
        << read_file(dir / "first.err") << server_log();
    first.signal(SIGKILL);
    EXPECT_EQ(first.wait(), 128 + SIGKILL);
    EXPECT_FALSE(fs::exists(nas.local_root / "big.bin")) << "never a partial file under the final name";

    auto second = sync({"run"});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_EQ(count_files_lost(before, nas.local_root), 0u);
    EXPECT_FALSE(fs::exists(partial));
}

TEST_P(SyncServers, AChangedFileReplacesItsCopy) {
    add("a.mp4", "the first take");
    add("b.mp4", random_bytes(600 * 1024, 3));
    ASSERT_EQ(sync({"run", "--quiet"}).exit_code, 0);
    add("a.mp4", "the second take, longer");
    // The same size, other bytes, and an mtime two hours back (the quick
    // check of size and mtime is what tells, as for rsync).
    write_file(media / "b.mp4", random_bytes(600 * 1024, 4));
    const auto two_hours_ago = ::time(nullptr) - 7200;
    const timeval older[2] = {{two_hours_ago, 0}, {two_hours_ago, 0}};
    ASSERT_EQ(::utimes((media / "b.mp4").c_str(), older), 0);
    const auto before = snapshot_files(media);
    auto r = sync({"run"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(count_files_lost(before, nas.local_root), 0u) << "the NAS holds the new bytes";
}

// doctor on each server: all OK on OpenSSH; where the NAS runs no commands,
// the one WARNING is that copies are verified by size.
TEST_P(SyncServers, DoctorSaysWhatTheServerLacks) {
    auto r = sync({"doctor", "--format", "json"});
    EXPECT_EQ(r.exit_code, hashes_on_the_nas() ? 0 : 1) << r.out << r.err;
    for (const auto& rec : parse_records(r.out)) {
        const bool lacking = rec["name"] == "verify" && !hashes_on_the_nas();
        EXPECT_EQ(rec["status"], lacking ? "warning" : "ok") << rec.dump();
        if (lacking) {
            EXPECT_NE(rec["message"].get<std::string>().find("verified by size only"), std::string::npos);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Servers, SyncServers,
                         ::testing::Values(Server::openssh, Server::openssh_sftp_only_chroot, Server::proftpd),
                         [](const ::testing::TestParamInfo<Server>& param_info) {
                             return server_name(param_info.param);
                         });

}  // namespace
