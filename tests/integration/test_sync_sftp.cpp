// nasops-sync against a real OpenSSH server playing the NAS (tests/fixtures/sshd_fixture.hpp).

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fixtures/child_process.hpp"
#include "fixtures/sshd_fixture.hpp"
#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/record/record.hpp"
#include "nasops/util/sha256.hpp"

using namespace nasops;
using nasops::testing::age_file;
using nasops::testing::ChildProcess;
using nasops::testing::CommandResult;
using nasops::testing::parse_records;
using nasops::testing::random_bytes;
using nasops::testing::read_file;
using nasops::testing::run_command;
using nasops::testing::SpawnOptions;
using nasops::testing::SshdFixture;
using nasops::testing::TmpfsMount;
using nasops::testing::wait_until;
using nasops::testing::write_file;
namespace fs = std::filesystem;

namespace {

const fs::path k_tool = fs::path(NASOPS_TOOLS_DIR) / "nasops-sync";

std::uintmax_t size_or_zero(const fs::path& p) {
    std::error_code ec;
    const auto n = fs::file_size(p, ec);
    return ec ? 0 : n;
}

class SyncSftp : public ::testing::Test {
protected:
    SyncSftp() {
        fs::create_directories(media);
        fs::create_directories(remote);
        write_config(remote);
    }

    void write_config(const fs::path& remote_root, const std::string& sync_extra = "") {
        write_file(config,
                   fmt::format("[paths]\nstate_dir = \"{}\"\nlog_dir = \"{}\"\nrun_dir = \"{}\"\n\n"
                               "[nas]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\nidentity_file = \"{}\"\n"
                               "known_hosts = \"{}\"\nremote_root = \"{}\"\nconnect_timeout = \"5s\"\n\n"
                               "[sync]\nsources = [\"{}\"]\n{}",
                               (dir / "state").string(), (dir / "log").string(), (dir / "run").string(), nas.port(),
                               nas.user(), nas.identity_file().string(), nas.known_hosts_file().string(),
                               remote_root.string(), media.string(), sync_extra));
        ::chmod(config.c_str(), 0600);
    }

    std::vector<std::string> argv(std::vector<std::string> args) const {
        std::vector<std::string> out{k_tool.string()};
        out.insert(out.end(), args.begin(), args.end());
        out.push_back("--config");
        out.push_back(config.string());
        return out;
    }

    CommandResult sync(std::vector<std::string> args) {
        auto r = run_command(argv(std::move(args)), {}, std::chrono::seconds(240));
        EXPECT_FALSE(r.timed_out);
        return r;
    }

    void add(const std::string& rel, const std::string& content) {
        write_file(media / rel, content);
        age_file(media / rel);
    }

    // One value from the queue.
    std::string query(const std::string& sql) {
        SQLite::Database db((dir / "state/nasops.db").string(), SQLite::OPEN_READONLY);
        SQLite::Statement q(db, sql);
        return q.executeStep() ? q.getColumn(0).getString() : std::string("<no row>");
    }

    // Puts a program called `name` running `script` (dash) first in the
    // PATH of the NAS's commands.
    void nas_program(const std::string& name, const std::string& script) {
        const fs::path bin = dir / "nas-bin";
        fs::create_directories(bin);
        write_file(bin / name, "#!/bin/dash\n" + script);
        fs::permissions(bin / name, fs::perms::owner_all);
        nas.prepend_remote_path(bin);
    }

    // How many files `sync run --json` output says were completed, verified by `how`.
    static int completed_verified_by(const std::string& out, const std::string& how) {
        int n = 0;
        for (const auto& rec : parse_records(out))
            if (rec["state"] == "completed" && rec["verified_by"] == how) ++n;
        return n;
    }

    // Batch verifies go to one long-lived `sh` per session. On a NAS where
    // that shell ends (`script` is the NAS's `sh`), each sha256sum runs by an
    // exec of its own and every file is still verified by SHA-256.
    void expect_all_verified_with_nas_sh(const std::string& script) {
        nas_program("sh", script);
        for (int i = 0; i < 600; ++i) add(fmt::format("clip-{:03}.bin", i), "clip " + std::to_string(i));
        auto r = sync({"run", "--json", "--jobs", "1", "--verify", "sha256"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(completed_verified_by(r.out, "sha256"), 600);
        EXPECT_EQ(read_file(remote / "clip-599.bin"), "clip 599");
    }

    SshdFixture nas;
    nasops::testing::TempDir dir{"nasops-sync-sftp"};
    fs::path media = dir / "media";
    fs::path remote = nas.remote_root() / "media";
    fs::path config = dir / "nasops.toml";
};

}  // namespace

TEST_F(SyncSftp, FullRunVerifiedBySha256ThenNothingToDo) {
    const auto big = random_bytes(5 * 1024 * 1024 + 11, 1);
    add("cam1/2026-11-22/clip.mp4", big);
    add("cam2/still.jpg", "jpeg");
    add("empty", "");
    auto r = sync({"run", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err << nas.log();
    int completed = 0;
    for (const auto& rec : parse_records(r.out)) {
        if (rec["state"] != "completed") continue;
        ++completed;
        EXPECT_EQ(rec["verified_by"], "sha256") << rec.dump();
    }
    EXPECT_EQ(completed, 3);
    EXPECT_EQ(read_file(remote / "cam1/2026-11-22/clip.mp4"), big);
    EXPECT_EQ(read_file(remote / "cam2/still.jpg"), "jpeg");
    EXPECT_TRUE(fs::exists(remote / "empty"));
    struct stat local {
    }, copy{};
    ASSERT_EQ(::stat((media / "cam2/still.jpg").c_str(), &local), 0);
    ASSERT_EQ(::stat((remote / "cam2/still.jpg").c_str(), &copy), 0);
    EXPECT_EQ(local.st_mtim.tv_sec, copy.st_mtim.tv_sec) << "mtime preserved (to the second, as SFTP v3 carries it)";
    EXPECT_EQ(query("SELECT sha256 FROM media_files WHERE rel_path = 'cam1/2026-11-22/clip.mp4'"), sha256_hex(big));

    auto again = sync({"run", "--json"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(again.out, "");
    EXPECT_EQ(sync({"verify", "--quiet"}).exit_code, 0);
}

TEST_F(SyncSftp, MinAgeSkipsAGrowingFile) {
    write_file(media / "recording.mp4", "first part");  // mtime: now
    add("old.mp4", "old");
    auto r = sync({"run"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("1 waiting"), std::string::npos) << r.out;
    EXPECT_TRUE(fs::exists(remote / "old.mp4"));
    EXPECT_FALSE(fs::exists(remote / "recording.mp4"));
    EXPECT_EQ(query("SELECT state FROM media_files WHERE rel_path = 'recording.mp4'"), "pending");
    // The camera goes on writing: still nothing, the clock of stability restarts.
    write_file(media / "recording.mp4", "first part, second part");
    r = sync({"run"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(fs::exists(remote / "recording.mp4"));
    EXPECT_EQ(query("SELECT size FROM media_files WHERE rel_path = 'recording.mp4'"), "23");
}

TEST_F(SyncSftp, ARunConnectsToTheNasOnlyWhenItHasSomethingToUpload) {
    const auto connections = [&] {
        const std::string log = nas.log();
        std::size_t n = 0;
        for (auto at = log.find("Accepted publickey"); at != std::string::npos;
             at = log.find("Accepted publickey", at + 1))
            ++n;
        return n;
    };
    write_file(media / "recording.mp4", "being written");  // mtime: now, held by the default min-age of 30 s
    auto r = sync({"run"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(connections(), 0u) << "a new file that must wait makes no connection\n" << nas.log();

    add("old.mp4", "old");
    r = sync({"run"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(fs::exists(remote / "old.mp4"));
    const std::size_t after_upload = connections();
    EXPECT_GE(after_upload, 1u);

    r = sync({"run"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(connections(), after_upload) << "nothing to upload: no connection";
}

TEST_F(SyncSftp, KillDashNineMidUploadThenResumeSendsLess) {
    const std::size_t size = 48u * 1024 * 1024;
    const auto big = random_bytes(size, 2);
    add("big.bin", big);
    const auto partial = remote / ".nasops-big.bin.part";
    SpawnOptions quiet;
    quiet.stderr_file = dir / "first.err";
    quiet.stdout_file = dir / "first.out";
    ChildProcess first(argv({"run", "--bwlimit", "12M"}), quiet);
    const std::uintmax_t seen = 8u * 1024 * 1024;
    ASSERT_TRUE(wait_until([&] { return size_or_zero(partial) >= seen; }))
        << "the upload did not start: " << read_file(dir / "first.err");
    first.signal(SIGKILL);
    EXPECT_EQ(first.wait(), 128 + SIGKILL);
    EXPECT_EQ(query("SELECT state FROM media_files WHERE rel_path = 'big.bin'"), "transferring")
        << "what kill -9 leaves behind";
    EXPECT_FALSE(fs::exists(remote / "big.bin")) << "never a partial file under the final name";

    auto second = sync({"run", "--json"});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    std::uint64_t bytes_sent = 0;
    for (const auto& rec : parse_records(second.out))
        if (rec["state"] == "completed") bytes_sent = rec["bytes_sent"].get<std::uint64_t>();
    EXPECT_GT(bytes_sent, 0u);
    EXPECT_LE(bytes_sent, size - seen) << "the second run resumed instead of starting over";
    EXPECT_EQ(query("SELECT bytes_sent FROM media_files WHERE rel_path = 'big.bin'"), std::to_string(bytes_sent));
    EXPECT_EQ(sha256_hex(read_file(remote / "big.bin")), sha256_hex(big));
    EXPECT_FALSE(fs::exists(partial));
    EXPECT_EQ(query("SELECT sha256 FROM media_files WHERE rel_path = 'big.bin'"), sha256_hex(big));
}

TEST_F(SyncSftp, SshdStoppedMidRunThenRestarted) {
    std::vector<std::string> contents;
    for (int i = 0; i < 12; ++i) {
        contents.push_back(random_bytes(1024 * 1024, 100 + i));
        add(fmt::format("f{:02}.bin", i), contents.back());
    }
    SpawnOptions quiet;
    quiet.stderr_file = dir / "first.err";
    quiet.stdout_file = dir / "first.out";
    ChildProcess first(argv({"run", "--jobs", "1", "--bwlimit", "2M"}), quiet);
    // Files are renamed to their final names after a batch verify: count the
    // bytes that arrived, under any name.
    ASSERT_TRUE(wait_until([&] {
        std::uintmax_t arrived = 0;
        for (const auto& e : fs::directory_iterator(remote)) arrived += size_or_zero(e.path());
        return arrived >= 3u * 1024 * 1024;
    })) << read_file(dir / "first.err");
    nas.stop();
    const auto status = first.wait_for(std::chrono::seconds(60));
    ASSERT_TRUE(status) << "the run hung after the NAS went away";
    EXPECT_EQ(*status, 69) << read_file(dir / "first.err") << read_file(dir / "first.out");
    EXPECT_EQ(query("SELECT COUNT(*) FROM media_files WHERE state = 'transferring'"), "0");

    nas.start();
    auto second = sync({"run"});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    for (int i = 0; i < 12; ++i)
        EXPECT_EQ(read_file(remote / fmt::format("f{:02}.bin", i)), contents[static_cast<std::size_t>(i)]) << i;
    EXPECT_EQ(query("SELECT COUNT(*) FROM media_files WHERE state = 'completed'"), "12");
    EXPECT_EQ(query("SELECT COUNT(*) FROM sync_attempts WHERE outcome = 'failed'"), "0")
        << "a NAS that went away is not counted against the files";
}

TEST_F(SyncSftp, UnknownHostKeyIsRefusedWithItsFingerprint) {
    add("a.mp4", "a");
    write_file(nas.known_hosts_file(), "");
    auto r = sync({"run"});
    EXPECT_EQ(r.exit_code, 77) << r.err;
    EXPECT_NE(r.err.find("is not known"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(nas.host_key_fingerprint()), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(remote / "a.mp4"));

    auto accepted = sync({"run", "--accept-new-host-key"});
    EXPECT_EQ(accepted.exit_code, 0) << accepted.err;
    const auto known = read_file(nas.known_hosts_file());
    const auto name = fmt::format("[127.0.0.1]:{} ", nas.port());
    ASSERT_NE(known.find(name), std::string::npos) << known;
    EXPECT_EQ(known.find(name, known.find(name) + 1), std::string::npos) << "recorded once, not by every worker";
    EXPECT_TRUE(fs::exists(remote / "a.mp4"));
}

TEST_F(SyncSftp, ChangedHostKeyIsRefusedEvenWithAcceptNew) {
    add("a.mp4", "a");
    nas.regenerate_host_key();
    for (const auto& extra : {std::vector<std::string>{}, std::vector<std::string>{"--accept-new-host-key"}}) {
        std::vector<std::string> args{"run"};
        args.insert(args.end(), extra.begin(), extra.end());
        auto r = sync(args);
        EXPECT_EQ(r.exit_code, 77) << r.err;
        EXPECT_NE(r.err.find("HAS CHANGED"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(nas.host_key_fingerprint()), std::string::npos) << r.err;
    }
    EXPECT_FALSE(fs::exists(remote / "a.mp4"));
    EXPECT_EQ(query("SELECT state FROM media_files"), "pending");
}

// A missing remote root is most often an unmounted NAS volume: uploading
// would fill the folder underneath its mount point. Refused, as a missing
// local target is, unless [nas] create_remote_root asks for it.
TEST_F(SyncSftp, AMissingRemoteRootIsRefusedUnlessAskedToCreateIt) {
    const auto unmounted = nas.remote_root() / "volume2" / "media";
    write_config(unmounted);
    add("a.mp4", "clip");
    auto refused = sync({"run"});
    EXPECT_EQ(refused.exit_code, 69) << refused.err;
    EXPECT_NE(refused.err.find(unmounted.string() + " does not exist"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("create_remote_root = true"), std::string::npos) << refused.err;
    EXPECT_FALSE(fs::exists(nas.remote_root() / "volume2")) << "nothing made under the mount point";
    EXPECT_EQ(query("SELECT state FROM media_files"), "pending");

    auto text = read_file(config);
    const std::string anchor = "connect_timeout = \"5s\"\n";
    text.replace(text.find(anchor), anchor.size(), anchor + "create_remote_root = true\n");
    write_file(config, text);
    auto created = sync({"run", "-v"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    EXPECT_NE(created.err.find("created the remote root"), std::string::npos) << created.err;
    EXPECT_EQ(read_file(unmounted / "a.mp4"), "clip");
}

TEST_F(SyncSftp, NasFullHoldsWhatDoesNotFitAndRemovesOnlyVerifiedFiles) {
    const auto small_root = nas.remote_root() / "small";
    TmpfsMount mount(small_root, "2m");
    write_config(small_root);
    add("big.mp4", random_bytes(3 * 1024 * 1024, 3));
    add("small.mp4", random_bytes(100 * 1024, 4));
    write_file(media / "fresh.mp4", "still being written");
    auto r = sync({"run", "--remove-source", "--jobs", "1"});
    EXPECT_EQ(r.exit_code, 73) << r.err;
    EXPECT_NE(r.err.find("not enough room"), std::string::npos) << r.err;
    EXPECT_TRUE(fs::exists(small_root / "small.mp4"));
    EXPECT_FALSE(fs::exists(small_root / "big.mp4"));
    EXPECT_FALSE(fs::exists(small_root / ".nasops-big.mp4.part")) << "nothing written for a file that cannot fit";
    EXPECT_EQ(query("SELECT state || '/' || attempts FROM media_files WHERE rel_path = 'big.mp4'"), "pending/0");
    // Only the verified copy's local file is gone.
    EXPECT_FALSE(fs::exists(media / "small.mp4"));
    EXPECT_TRUE(fs::exists(media / "big.mp4"));
    EXPECT_TRUE(fs::exists(media / "fresh.mp4"));
    const auto audit = read_file(dir / "log/audit.log");
    EXPECT_NE(audit.find("STORAGE_WARNING"), std::string::npos);
    EXPECT_NE(audit.find("FILE_REMOVED"), std::string::npos);
    EXPECT_EQ(audit.find("\"event\":\"FILE_REMOVED\",\"path\":\"" + (media / "big.mp4").string()), std::string::npos);
}

TEST_F(SyncSftp, CorruptedRemoteCopyIsCaughtByVerify) {
    add("a.mp4", "the original bytes");
    add("b.mp4", "fine");
    ASSERT_EQ(sync({"run", "--quiet"}).exit_code, 0);
    write_file(remote / "a.mp4", "THE ORIGINAL BYTES");  // same size: only a hash can tell
    auto dry = sync({"verify", "--dry-run"});
    EXPECT_EQ(dry.exit_code, 65) << dry.err;
    EXPECT_NE(dry.out.find("BAD sha256"), std::string::npos) << dry.out;
    EXPECT_EQ(query("SELECT state FROM media_files WHERE rel_path = 'a.mp4'"), "completed");

    auto r = sync({"verify"});
    EXPECT_EQ(r.exit_code, 65) << r.err;
    EXPECT_NE(r.out.find("1 good, 1 bad (2 by SHA-256)"), std::string::npos) << r.out;
    EXPECT_EQ(query("SELECT state FROM media_files WHERE rel_path = 'a.mp4'"), "pending");
    ASSERT_EQ(sync({"run", "--quiet"}).exit_code, 0);
    EXPECT_EQ(read_file(remote / "a.mp4"), "the original bytes");
    EXPECT_EQ(sync({"verify"}).exit_code, 0);
}

TEST_F(SyncSftp, TwoRunsAtOnceTheSecondExits75) {
    add("slow.bin", random_bytes(4 * 1024 * 1024, 5));
    SpawnOptions quiet;
    quiet.stderr_file = dir / "first.err";
    quiet.stdout_file = dir / "first.out";
    ChildProcess first(argv({"run", "--bwlimit", "1M"}), quiet);
    const auto lock = dir / "state/sync.lock";
    ASSERT_TRUE(wait_until([&] { return fs::exists(lock) && read_file(lock) == std::to_string(first.pid()) + "\n"; }));
    auto second = sync({"run"});
    EXPECT_EQ(second.exit_code, 75) << second.err;
    auto waiting = sync({"run", "--lock-timeout", "120s"});
    EXPECT_EQ(waiting.exit_code, 0) << "--lock-timeout waits for the first run: " << waiting.err;
    EXPECT_EQ(first.wait(), 0) << read_file(dir / "first.err");
}

TEST_F(SyncSftp, OddFileNamesArriveIntactAndVerify) {
    std::string deep;
    for (int i = 0; i < 12; ++i) deep += std::string(60, static_cast<char>('a' + i)) + "/";
    const std::vector<std::string> names{"with space.mp4",     "quote'single.mp4",    "quote\"double.mp4",
                                         "new\nline.mp4",      "-leading-dash.mp4",   "--help",
                                         "ünïcødé 日本語.mp4", "back\\slash.mp4",     "$(touch pwned)",
                                         "semi;colon&amp",     std::string(255, 'L'), deep + "deep.mp4"};
    for (const auto& n : names) add(n, "content of " + n);
    auto r = sync({"run", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const auto& rec : parse_records(r.out)) {
        if (rec["state"] == "completed") {
            EXPECT_EQ(rec["verified_by"], "sha256") << rec.dump();
        }
    }
    for (const auto& n : names) EXPECT_EQ(read_file(remote / n), "content of " + n) << n;
    EXPECT_FALSE(fs::exists(nas.dir() / "home/pwned"));
    EXPECT_FALSE(fs::exists(remote / "pwned"));
    auto v = sync({"verify"});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    EXPECT_NE(v.out.find("12 good, 0 bad (12 by SHA-256)"), std::string::npos) << v.out;
}

TEST_F(SyncSftp, TenThousandSmallFiles) {
    for (int i = 0; i < 10000; ++i) {
        const auto p = media / fmt::format("d{:02}", i % 20) / fmt::format("f{:05}.txt", i);
        write_file(p, std::to_string(i));
    }
    // One old mtime for all, without 10,000 utimes calls from the test's own loop mattering.
    for (const auto& e : fs::recursive_directory_iterator(media))
        if (e.is_regular_file()) age_file(e.path());
    auto r = sync({"run"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("uploaded 10000 files"), std::string::npos) << r.out;
    EXPECT_EQ(read_file(remote / "d07/f04567.txt"), "4567");
    EXPECT_EQ(query("SELECT COUNT(*) FROM media_files WHERE state = 'completed'"), "10000");
    auto again = sync({"run", "--json"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(again.out, "");
}

TEST_F(SyncSftp, OneSmallFileThatCannotBeWrittenFailsAloneInItsBatch) {
    // A file on the NAS where a folder must be: that one file cannot be written.
    write_file(remote / "blocked", "not a folder");
    for (int i = 0; i < 30; ++i) add(fmt::format("ok{:02}.txt", i), "content " + std::to_string(i));
    add("blocked/clip.txt", "cannot land");
    auto r = sync({"run", "--json", "--jobs", "1"});
    EXPECT_EQ(r.exit_code, 74) << r.err;
    for (int i = 0; i < 30; ++i)
        EXPECT_EQ(read_file(remote / fmt::format("ok{:02}.txt", i)), "content " + std::to_string(i)) << i;
    EXPECT_EQ(query("SELECT COUNT(*) FROM media_files WHERE state = 'completed'"), "30");
    EXPECT_EQ(query("SELECT state || ' ' || attempts FROM media_files WHERE rel_path = 'blocked/clip.txt'"),
              "pending 1");
    EXPECT_EQ(query("SELECT COUNT(*) FROM sync_attempts WHERE outcome = 'failed'"), "1");
    EXPECT_NE(r.err.find("blocked"), std::string::npos) << r.err;
}

TEST_F(SyncSftp, SshdStoppedMidBatchOfSmallFilesThenTheNextRunCompletesAll) {
    for (int i = 0; i < 600; ++i) add(fmt::format("d{}/s{:03}.txt", i % 3, i), random_bytes(4096, 1000 + i));
    SpawnOptions quiet;
    quiet.stderr_file = dir / "first.err";
    quiet.stdout_file = dir / "first.out";
    // The bandwidth limit spreads the run over seconds, so that it is mid-batch when the NAS goes.
    ChildProcess first(argv({"run", "--jobs", "2", "--bwlimit", "400K"}), quiet);
    ASSERT_TRUE(wait_until([&] {
        std::size_t arrived = 0;
        for (const auto& e : fs::recursive_directory_iterator(remote))
            if (e.is_regular_file()) ++arrived;
        return arrived >= 100;
    })) << read_file(dir / "first.err");
    nas.stop();
    const auto status = first.wait_for(std::chrono::seconds(60));
    ASSERT_TRUE(status) << "the run hung after the NAS went away";
    EXPECT_EQ(*status, 69) << read_file(dir / "first.err");
    EXPECT_EQ(query("SELECT COUNT(*) FROM media_files WHERE state = 'transferring'"), "0");
    EXPECT_NE(query("SELECT COUNT(*) FROM media_files WHERE state = 'pending'"), "0") << "the run was cut short";

    nas.start();
    auto second = sync({"run"});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_EQ(query("SELECT COUNT(*) FROM media_files WHERE state = 'completed'"), "600");
    EXPECT_EQ(query("SELECT COUNT(*) FROM sync_attempts WHERE outcome = 'failed'"), "0")
        << "a NAS that went away is not counted against the files";
    for (int i = 0; i < 600; i += 37)
        EXPECT_EQ(read_file(remote / fmt::format("d{}/s{:03}.txt", i % 3, i)), random_bytes(4096, 1000 + i)) << i;
    std::size_t leftovers = 0;
    for (const auto& e : fs::recursive_directory_iterator(remote))
        if (e.path().filename().string().ends_with(".part")) ++leftovers;
    EXPECT_EQ(leftovers, 0u) << "no temporary copy is left behind";
}

TEST_F(SyncSftp, AChangedSmallFileReplacesItsCopyAtomically) {
    add("a.txt", "first version");
    ASSERT_EQ(sync({"run"}).exit_code, 0);
    add("a.txt", "second, longer version");
    auto r = sync({"run", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(remote / "a.txt"), "second, longer version");
    EXPECT_EQ(query("SELECT sha256 FROM media_files WHERE rel_path = 'a.txt'"), sha256_hex("second, longer version"));
}

TEST_F(SyncSftp, ANasWhoseShellEndsAtOnceIsStillVerifiedBySha256) {
    expect_all_verified_with_nas_sh("exit 0\n");
}

TEST_F(SyncSftp, ANasWhoseShellEndsWithHashesRequestedIsStillVerifiedBySha256) {
    // The first command (the probe for sha256sum) runs; the shell ends before
    // the batches' hashes it was asked for.
    expect_all_verified_with_nas_sh("IFS= read -r line && eval \"$line\"\nexit 0\n");
}

TEST_F(SyncSftp, AFileVerifiedAloneIsHashedByOpensslWhereTheNasHasIt) {
    // `openssl` on the NAS is a wrapper that notes each call.
    const fs::path calls = dir / "openssl-calls";
    nas_program("openssl", fmt::format("echo \"$*\" >> {}\nexec /usr/bin/openssl \"$@\"\n", calls.string()));
    const auto content = random_bytes(3 * 1024 * 1024, 11);
    add("big.bin", content);
    auto r = sync({"run", "--json", "--verify", "sha256"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(completed_verified_by(r.out, "sha256"), 1);
    EXPECT_EQ(sha256_hex(read_file(remote / "big.bin")), sha256_hex(content));
    const auto noted = read_file(calls);
    EXPECT_TRUE(noted.contains("dgst -sha256 -r -- /dev/null")) << noted;
    EXPECT_TRUE(noted.contains("dgst -sha256 -r -- " + (remote / ".nasops-big.bin.part").string())) << noted;

    // The copy goes bad on the NAS, its size unchanged: verify, by openssl again, catches it.
    auto bad = content;
    bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 1);
    write_file(remote / "big.bin", bad);
    r = sync({"verify"});
    EXPECT_EQ(r.exit_code, 65) << r.out << r.err;
    EXPECT_TRUE(read_file(calls).contains("dgst -sha256 -r -- " + (remote / "big.bin").string()));
}

TEST_F(SyncSftp, AFileVerifiedAloneFallsBackToSha256sumWhereOpensslFails) {
    nas_program("openssl", "echo 'openssl: broken' >&2\nexit 1\n");
    add("one.bin", "a clip");
    auto r = sync({"run", "--json", "--verify", "sha256"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(completed_verified_by(r.out, "sha256"), 1);
    EXPECT_EQ(read_file(remote / "one.bin"), "a clip");
}

TEST_F(SyncSftp, ABatchVerifyOfLongNamesIsSplitIntoCommandsTheTransportCarries) {
    // 256 names of 230 bytes, plus the remote root: one sha256sum command line
    // would be over 70 KB, more than libssh2 sends in one packet.
    for (int i = 0; i < 256; ++i) add(fmt::format("{:03}-{}", i, std::string(226, 'n')), "clip " + std::to_string(i));
    auto r = sync({"run", "--json", "--jobs", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(completed_verified_by(r.out, "sha256"), 256);
    EXPECT_EQ(query("SELECT COUNT(*) FROM media_files WHERE state = 'completed'"), "256");
}

TEST_F(SyncSftp, RemoveSourceAndAdoptionAfterATruncatedDatabaseSendNothingTheNasHas) {
    add("day1/a.mp4", random_bytes(700 * 1024, 5));
    add("day1/b.mp4", "payload b");
    add("day2/c.mp4", "payload c");
    ASSERT_EQ(sync({"run", "--quiet"}).exit_code, 0);
    struct stat before {};
    ASSERT_EQ(::stat((remote / "day1/a.mp4").c_str(), &before), 0);

    // The database is truncated to nothing; on the NAS, c now holds other
    // bytes of the same size: only its SHA-256 tells.
    fs::resize_file(dir / "state/nasops.db", 0);
    for (const auto* name : {"nasops.db-wal", "nasops.db-shm"}) fs::remove(dir / "state" / name);
    write_file(remote / "day2/c.mp4", "PAYLOAD C");

    auto r = sync({"run", "--json", "--remove-source", "--delete-empty-src-dirs"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("is new"), std::string::npos) << r.err;
    int adopted = 0;
    for (const auto& rec : parse_records(r.out)) {
        if (rec["state"] != "completed") continue;
        if (rec.value("adopted", false)) {
            ++adopted;
            EXPECT_EQ(rec["bytes_sent"], 0);
            EXPECT_EQ(rec["verified_by"], "sha256") << "hashed on the NAS";
        } else {
            EXPECT_EQ(rec["rel_path"], "day2/c.mp4");
        }
    }
    EXPECT_EQ(adopted, 2);
    struct stat after {};
    ASSERT_EQ(::stat((remote / "day1/a.mp4").c_str(), &after), 0);
    EXPECT_EQ(after.st_ino, before.st_ino) << "an adopted copy is not rewritten";
    EXPECT_EQ(read_file(remote / "day2/c.mp4"), "payload c") << "a copy with another SHA-256 is sent again";
    EXPECT_FALSE(fs::exists(media / "day1")) << "adopted and verified: removed, then its folder";
    EXPECT_FALSE(fs::exists(media / "day2"));
    EXPECT_TRUE(fs::is_directory(media));
}

TEST_F(SyncSftp, RemoveSourceRemovesFilesUploadedByEarlierRunsWithoutSendingThemAgain) {
    add("a.mp4", random_bytes(400 * 1024, 6));
    add("sub/b.mp4", "payload b");
    ASSERT_EQ(sync({"run", "--quiet"}).exit_code, 0);
    EXPECT_TRUE(fs::exists(media / "a.mp4"));
    write_file(media / "sub/b.mp4", "payload b, rewritten");  // changed after its upload, not stable yet

    auto r = sync({"run", "--json", "--remove-source"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const auto& rec : parse_records(r.out)) EXPECT_NE(rec["state"], "completed") << rec.dump();
    EXPECT_FALSE(fs::exists(media / "a.mp4"));
    EXPECT_TRUE(fs::exists(media / "sub/b.mp4")) << "changed since its upload";
    EXPECT_EQ(read_file(remote / "sub/b.mp4"), "payload b");
    EXPECT_EQ(query("SELECT removed_at IS NOT NULL FROM media_files WHERE rel_path = 'a.mp4'"), "1");
}
