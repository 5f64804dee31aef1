// nasops-sync against a real OpenSSH server playing the NAS (tests/fixtures/sshd_fixture.hpp).

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fixtures/child_process.hpp"
#include "fixtures/fault_row.hpp"
#include "fixtures/sshd_fixture.hpp"
#include "fixtures/sync_harness.hpp"
#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/record/record.hpp"
#include "nasops/util/sha256.hpp"

using namespace nasops;
using nasops::testing::age_file;
using nasops::testing::ChildProcess;
using nasops::testing::CommandResult;
using nasops::testing::count_files_lost;
using nasops::testing::FaultReport;
using nasops::testing::parse_records;
using nasops::testing::random_bytes;
using nasops::testing::read_file;
using nasops::testing::run_command;
using nasops::testing::snapshot_files;
using nasops::testing::SpawnOptions;
using nasops::testing::SshdFixture;
using nasops::testing::TmpfsMount;
using nasops::testing::wait_until;
using nasops::testing::write_file;
namespace fs = std::filesystem;

namespace {

std::uintmax_t size_or_zero(const fs::path& p) {
    std::error_code ec;
    const auto n = fs::file_size(p, ec);
    return ec ? 0 : n;
}

// Files under their final names on the NAS whose bytes differ from the source's.
std::size_t torn_copies(const nasops::testing::FileSnapshot& sources, const fs::path& nas_root) {
    std::size_t torn = 0;
    for (const auto& [rel, sha] : snapshot_files(nas_root)) {
        if (rel.ends_with(".part")) continue;
        const auto source = sources.find(rel);
        if (source == sources.end() || source->second != sha) ++torn;
    }
    return torn;
}

// The first line of `text` that has `word` in it, for a row's observation.
std::string line_with(const std::string& text, const std::string& word) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        if (line.find(word) != std::string::npos) return line;
    return "(no line with '" + word + "')";
}

// Whether a process on this machine (the NAS here) has `text` in its command line.
bool a_process_mentions(const std::string& text) {
    return run_command({"pgrep", "-f", "--", text}).exit_code == 0;
}

std::size_t part_files(const fs::path& root) {
    std::size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.path().filename().string().ends_with(".part")) ++n;
    return n;
}

std::size_t files_under(const fs::path& root) {
    std::size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file()) ++n;
    return n;
}

class SyncSftp : public ::testing::Test, protected nasops::testing::SyncHarness {
protected:
    SyncSftp() : SyncHarness("nasops-sync-sftp") {
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

    // Starts a run over 600 small files (named <stem>NNN.txt, bytes from
    // `seed` on) and returns it once 100 of them are on the NAS: mid-batch,
    // as the bandwidth limit spreads it over seconds.
    ChildProcess run_until_mid_batch(const std::string& stem, unsigned seed) {
        for (int i = 0; i < 600; ++i)
            add(fmt::format("d{}/{}{:03}.txt", i % 3, stem, i), random_bytes(4096, seed + static_cast<unsigned>(i)));
        SpawnOptions quiet;
        quiet.stderr_file = dir / "first.err";
        quiet.stdout_file = dir / "first.out";
        ChildProcess first(argv({"run", "--jobs", "2", "--bwlimit", "400K"}), quiet);
        EXPECT_TRUE(wait_until([&] { return files_under(remote) >= 100; })) << read_file(dir / "first.err");
        return first;
    }

    SshdFixture nas;
    fs::path remote = nas.remote_root() / "media";
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

FAULT_TEST_F(SyncSftp, MinAgeSkipsAGrowingFile) {
    FaultReport fault("a file still being written", "waits pending while it grows; never uploaded half-written");
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
    fault.observed(fmt::format("recording.mp4 {} at {} bytes, not on the NAS: {}",
                               query("SELECT state FROM media_files WHERE rel_path = 'recording.mp4'"),
                               query("SELECT size FROM media_files WHERE rel_path = 'recording.mp4'"),
                               !fs::exists(remote / "recording.mp4")));
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

FAULT_TEST_F(SyncSftp, KillDashNineMidUploadThenResumeSendsLess) {
    FaultReport fault("kill -9 mid-upload, big file",
                      "no file under its final name; the next run resumes and the copy is byte-exact");
    const std::size_t size = 48u * 1024 * 1024;
    const auto big = random_bytes(size, 2);
    add("big.bin", big);
    const auto before = snapshot_files(media);
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
    EXPECT_TRUE(wait_until([&] { return !a_process_mentions(partial.string()); }, std::chrono::seconds(10)))
        << "the NAS still hashes the upload that was killed";
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
    fault.files_lost(count_files_lost(before, remote));
    fault.observed(fmt::format("killed after {} MiB; the next run sent the other {:.1f} MiB and verified by SHA-256",
                               seen >> 20, static_cast<double>(bytes_sent) / (1 << 20)));
}

TEST_F(SyncSftp, SigtermMidUploadLeavesNoHashRunningOnTheNasAndTheNextRunCompletes) {
    const std::size_t size = 40u * 1024 * 1024;
    const auto big = random_bytes(size, 5);
    add("big.bin", big);
    const auto partial = remote / ".nasops-big.bin.part";
    SpawnOptions quiet;
    quiet.stderr_file = dir / "first.err";
    quiet.stdout_file = dir / "first.out";
    ChildProcess first(argv({"run", "--bwlimit", "12M"}), quiet);
    ASSERT_TRUE(wait_until([&] { return size_or_zero(partial) >= 4u * 1024 * 1024; }))
        << "the upload did not start: " << read_file(dir / "first.err");
    ASSERT_TRUE(a_process_mentions(partial.string())) << "no hash follows the upload on the NAS";
    first.signal(SIGTERM);
    const auto status = first.wait_for(std::chrono::seconds(20));
    ASSERT_TRUE(status.has_value()) << "the run outlived its signal";
    EXPECT_EQ(*status, 128 + SIGTERM) << read_file(dir / "first.err");
    EXPECT_TRUE(wait_until([&] { return !a_process_mentions(partial.string()); }, std::chrono::seconds(10)))
        << "the NAS still hashes the upload that was abandoned";

    auto second = sync({"run", "--json"});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_EQ(completed_verified_by(second.out, "sha256"), 1);
    EXPECT_EQ(sha256_hex(read_file(remote / "big.bin")), sha256_hex(big));
}

FAULT_TEST_F(SyncSftp, SshdStoppedMidRunThenRestarted) {
    FaultReport fault("sshd killed mid-run, then back",
                      "the run ends 69 with nothing left 'transferring'; the next run completes all, no retry spent");
    std::vector<std::string> contents;
    for (int i = 0; i < 12; ++i) {
        contents.push_back(random_bytes(1024 * 1024, 100 + i));
        add(fmt::format("f{:02}.bin", i), contents.back());
    }
    SpawnOptions quiet;
    quiet.stderr_file = dir / "first.err";
    quiet.stdout_file = dir / "first.out";
    const auto before = snapshot_files(media);
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
    fault.files_lost(count_files_lost(before, remote));
    fault.observed(fmt::format("first run exit {}; the next run completed {} files, {} failed attempts", *status,
                               query("SELECT COUNT(*) FROM media_files WHERE state = 'completed'"),
                               query("SELECT COUNT(*) FROM sync_attempts WHERE outcome = 'failed'")));
}

FAULT_TEST_F(SyncSftp, UnknownHostKeyIsRefusedWithItsFingerprint) {
    FaultReport fault("unknown host key",
                      "exit 77 naming the fingerprint, nothing sent; --accept-new-host-key records it once");
    add("a.mp4", "a");
    const auto before = snapshot_files(media);
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
    fault.files_lost(count_files_lost(before, remote));
    fault.observed(fmt::format("exit {} naming {}; then exit {} with the key recorded", r.exit_code,
                               nas.host_key_fingerprint(), accepted.exit_code));
}

FAULT_TEST_F(SyncSftp, ChangedHostKeyIsRefusedEvenWithAcceptNew) {
    FaultReport fault("changed host key",
                      "exit 77 'HAS CHANGED' with the new fingerprint, also with --accept-new-host-key");
    add("a.mp4", "a");
    nas.regenerate_host_key();
    std::vector<int> codes;
    for (const auto& extra : {std::vector<std::string>{}, std::vector<std::string>{"--accept-new-host-key"}}) {
        std::vector<std::string> args{"run"};
        args.insert(args.end(), extra.begin(), extra.end());
        auto r = sync(args);
        codes.push_back(r.exit_code);
        EXPECT_EQ(r.exit_code, 77) << r.err;
        EXPECT_NE(r.err.find("HAS CHANGED"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(nas.host_key_fingerprint()), std::string::npos) << r.err;
    }
    EXPECT_FALSE(fs::exists(remote / "a.mp4"));
    EXPECT_EQ(query("SELECT state FROM media_files"), "pending");
    fault.observed(fmt::format("exit {} and {}; nothing sent, the file stays {}", codes.at(0), codes.at(1),
                               query("SELECT state FROM media_files")));
}

// A host key changed on purpose (known_hosts updated to let the runs connect)
// is still reported by nasops-health's security check, from what the runs
// recorded, until it is acknowledged.
FAULT_TEST_F(SyncSftp, AChangedHostKeyAcceptedInKnownHostsIsAFindingUntilAcknowledged) {
    FaultReport fault("host key changed and put in known_hosts by hand",
                      "the run warns; nasops-health security reports old and new keys until hostkey --accept");
    const auto endpoint = fmt::format("127.0.0.1:{}", nas.port());
    const auto security = [&] {
        auto r = run_command({(fs::path(NASOPS_TOOLS_DIR) / "nasops-health").string(), "--config", config.string(),
                              "security", "--json"});
        std::string message;
        for (const auto& rec : parse_records(r.out))
            if (rec["name"] == "security") message = rec.value("message", "");
        return message;
    };
    add("a.mp4", "a");
    ASSERT_EQ(sync({"run", "--quiet"}).exit_code, 0);
    const auto old_key = nas.host_key_fingerprint();
    EXPECT_EQ(query("SELECT endpoint || ' ' || fingerprint || ' ' || (previous_id IS NULL) FROM nas_host_keys"),
              endpoint + " " + old_key + " 1");
    EXPECT_EQ(security().find("host key"), std::string::npos) << "the first key seen is trusted as known_hosts is";

    nas.regenerate_host_key();
    nas.trust_host_key();
    const auto new_key = nas.host_key_fingerprint();
    ASSERT_NE(new_key, old_key);
    add("b.mp4", "b");
    auto changed = sync({"run"});
    ASSERT_EQ(changed.exit_code, 0) << changed.err;
    EXPECT_NE(changed.err.find("the host key of " + endpoint + " changed since the last run"), std::string::npos)
        << changed.err;

    const auto finding = security();
    EXPECT_NE(finding.find("the host key of " + endpoint + " changed: it was ssh-ed25519 " + old_key),
              std::string::npos)
        << finding;
    EXPECT_NE(finding.find("it is ssh-ed25519 " + new_key), std::string::npos) << finding;
    EXPECT_NE(finding.find("nasops-sync hostkey --accept"), std::string::npos) << finding;
    auto listed = sync({"hostkey"});
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    EXPECT_NE(listed.out.find("CHANGED from ssh-ed25519 " + old_key + ", not acknowledged"), std::string::npos)
        << listed.out;

    // A later run with the same key keeps the change unacknowledged.
    ASSERT_EQ(sync({"run", "--quiet"}).exit_code, 0);
    EXPECT_NE(security().find("the host key of " + endpoint + " changed"), std::string::npos);

    auto accepted = sync({"hostkey", "--accept"});
    ASSERT_EQ(accepted.exit_code, 0) << accepted.err;
    EXPECT_NE(accepted.out.find("acknowledged 1 host key change"), std::string::npos) << accepted.out;
    EXPECT_EQ(security().find("host key"), std::string::npos) << "acknowledged: no finding";
    auto json = sync({"hostkey", "--format", "json"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    const auto keys = parse_records(json.out);
    ASSERT_EQ(keys.size(), 2u) << json.out;
    EXPECT_EQ(keys[1]["details"]["fingerprint"], new_key);
    EXPECT_EQ(keys[1]["details"]["replaced"], "ssh-ed25519 " + old_key);
    EXPECT_EQ(keys[1]["details"]["changed"], false);
    EXPECT_TRUE(keys[1]["details"].contains("acknowledged_at"));
    fault.observed(fmt::format("run warned: {}; security reported it: {}; after --accept: {}",
                               changed.err.find("changed since the last run") != std::string::npos,
                               finding.find(new_key) != std::string::npos,
                               security().find("host key") == std::string::npos ? "no finding" : "STILL A FINDING"));
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

FAULT_TEST_F(SyncSftp, NasFullHoldsWhatDoesNotFitAndRemovesOnlyVerifiedFiles) {
    FaultReport fault("NAS full before an upload",
                      "exit 73 'not enough room', the file held pending with no retry spent, STORAGE_WARNING audited");
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
    // The operator's question at 3 a.m., answered for both files.
    const auto why = sync({"why", (media / "big.mp4").string(), (media / "small.mp4").string()});
    EXPECT_EQ(why.exit_code, 0) << why.err;
    EXPECT_TRUE(why.out.contains("held for room on the NAS")) << why.out;
    EXPECT_TRUE(why.out.contains("verified by SHA-256")) << why.out;
    EXPECT_TRUE(why.out.contains("the local copy was removed")) << why.out;
    fault.observed(fmt::format("exit {}; big.mp4 {}, small.mp4 uploaded and its source removed", r.exit_code,
                               query("SELECT state || ' after ' || attempts || ' attempts' FROM media_files "
                                     "WHERE rel_path = 'big.mp4'")));
}

// The NAS fills during an upload: the share's root has room, so the pre-check
// lets both files start, but their folder is a small volume of its own that
// another writer has nearly filled.
FAULT_TEST_F(SyncSftp, NasFullDuringAnUploadHoldsTheFileKeepsItsPartAndResumesOnceThereIsRoom) {
    FaultReport fault("NAS full during an upload",
                      "exit 73 saying the NAS is full; held pending with no retry spent, the reason in ls; one .part "
                      "kept and resumed once there is room");
    const auto volume = remote / "cam1";
    TmpfsMount mount(volume, "4m");
    write_file(volume / "other-writer.bin", random_bytes(2560 * 1024, 7));
    const auto one = random_bytes(3 * 1024 * 1024, 21);
    const auto two = random_bytes(3 * 1024 * 1024 + 5, 22);
    add("cam1/one.mp4", one);
    add("cam1/two.mp4", two);
    const auto before = snapshot_files(media);

    auto r = sync({"run", "--json", "--jobs", "1"});
    EXPECT_EQ(r.exit_code, 73) << r.err;
    EXPECT_NE(r.err.find("is full: cannot finish"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("more needed"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("SFTP status"), std::string::npos) << "the NAS is said to be full, not a bare status\n"
                                                            << r.err;
    // Both stay pending with no attempt counted, their reason kept; the one
    // whose write found the NAS full keeps its partial copy, the other was never started.
    EXPECT_EQ(query("SELECT COUNT(*) FROM media_files WHERE state = 'pending' AND attempts = 0 "
                    "AND last_error LIKE 'held: %'"),
              "2");
    EXPECT_EQ(query("SELECT COUNT(*) FROM media_files WHERE last_error LIKE 'held: the NAS is full: %"
                    ".part could not be written (% free, % more needed)'"),
              "1");
    EXPECT_EQ(query("SELECT COUNT(*) FROM sync_attempts"), "0");
    int parts = 0;
    for (const auto& e : fs::directory_iterator(volume)) {
        if (e.path().extension() != ".part") continue;
        ++parts;
        EXPECT_GT(e.file_size(), 0u) << e.path();
    }
    EXPECT_EQ(parts, 1) << "only the file being written when the NAS filled has a partial copy";
    int held = 0;
    for (const auto& rec : parse_records(r.out))
        if (rec["state"] == "pending" && rec.value("reason", "") == "no room") ++held;
    EXPECT_EQ(held, 2) << r.out;
    EXPECT_NE(read_file(dir / "log/audit.log").find("STORAGE_WARNING"), std::string::npos);

    auto ls = sync({"ls"});
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_NE(ls.out.find("(held: the NAS is full: "), std::string::npos) << ls.out;
    auto ls_json = sync({"ls", "--format", "json"});
    ASSERT_EQ(ls_json.exit_code, 0) << ls_json.err;
    for (const auto& rec : parse_records(ls_json.out))
        EXPECT_TRUE(rec.value("error", "").starts_with("held: ")) << rec.dump();

    // Room is made: the partial copy is resumed, and both arrive intact.
    ASSERT_EQ(run_command({"mount", "-o", "remount,size=16m", volume.string()}).exit_code, 0);
    auto again = sync({"run", "--json", "--jobs", "1"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    bool resumed = false;
    for (const auto& rec : parse_records(again.out))
        if (rec["state"] == "transferring" && rec.value("bytes", 0) > 0) resumed = true;
    EXPECT_TRUE(resumed) << again.out;
    EXPECT_TRUE(read_file(volume / "one.mp4") == one);
    EXPECT_TRUE(read_file(volume / "two.mp4") == two);
    for (const auto& e : fs::directory_iterator(volume)) EXPECT_NE(e.path().extension(), ".part") << e.path();
    EXPECT_EQ(query("SELECT COUNT(*) FROM media_files WHERE state = 'completed' AND last_error IS NULL"), "2");
    fault.files_lost(count_files_lost(before, remote));
    fault.observed(fmt::format("full: exit {} ('{}'), {} .part kept; with room: exit {}, the copy resumed: {}",
                               r.exit_code, line_with(r.err, "is full"), parts, again.exit_code, resumed));
}

// A file held for room whose local copy is removed is noticed by the next
// run at once, as any vanished file is, not held run after run.
TEST_F(SyncSftp, ASourceDeletedWhileHeldForRoomIsRecordedGoneNotHeldAgain) {
    const auto small_root = nas.remote_root() / "small";
    TmpfsMount mount(small_root, "2m");
    write_config(small_root);
    add("big.mp4", random_bytes(3 * 1024 * 1024, 3));
    auto held = sync({"run"});
    ASSERT_EQ(held.exit_code, 73) << held.err;
    EXPECT_NE(held.out.find("1 held for lack of room"), std::string::npos) << held.out;
    EXPECT_EQ(query("SELECT state || ' ' || attempts FROM media_files WHERE last_error LIKE "
                    "'held: not enough room on sftp://%(% free, % needed)'"),
              "pending 0");

    fs::remove(media / "big.mp4");
    auto r = sync({"run"});
    EXPECT_EQ(r.exit_code, 74) << r.err;
    EXPECT_EQ(r.out.find("held for lack of room"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("the local file is gone"), std::string::npos) << r.err;
    EXPECT_EQ(query("SELECT state || ': ' || last_error FROM media_files"),
              "failed: the local file is gone: it was removed before it could be uploaded");
    auto third = sync({"run"});
    EXPECT_EQ(third.exit_code, 0) << third.err;
    auto ls = sync({"ls"});
    EXPECT_NE(ls.out.find("failed"), std::string::npos) << ls.out;
    EXPECT_NE(ls.out.find("(the local file is gone"), std::string::npos) << ls.out;
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

FAULT_TEST_F(SyncSftp, TwoRunsAtOnceTheSecondExits75) {
    FaultReport fault("two runs at once",
                      "the second exits 75 at once, or waits with --lock-timeout; the first completes");
    add("slow.bin", random_bytes(4 * 1024 * 1024, 5));
    const auto before = snapshot_files(media);
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
    const int first_status = first.wait();
    EXPECT_EQ(first_status, 0) << read_file(dir / "first.err");
    fault.files_lost(count_files_lost(before, remote));
    fault.observed(fmt::format("second exit {}; with --lock-timeout exit {}; first exit {}", second.exit_code,
                               waiting.exit_code, first_status));
}

FAULT_TEST_F(SyncSftp, OddFileNamesArriveIntactAndVerify) {
    FaultReport fault("hostile file names",
                      "all 12 arrive byte-exact and verify by SHA-256; no command runs on the NAS");
    std::string deep;
    for (int i = 0; i < 12; ++i) deep += std::string(60, static_cast<char>('a' + i)) + "/";
    const std::vector<std::string> names{"with space.mp4",     "quote'single.mp4",    "quote\"double.mp4",
                                         "new\nline.mp4",      "-leading-dash.mp4",   "--help",
                                         "ünïcødé 日本語.mp4", "back\\slash.mp4",     "$(touch pwned)",
                                         "semi;colon&amp",     std::string(255, 'L'), deep + "deep.mp4"};
    for (const auto& n : names) add(n, "content of " + n);
    const auto before = snapshot_files(media);
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
    fault.files_lost(count_files_lost(before, remote));
    fault.observed(fmt::format("run exit {}; verify says '{}'; pwned marker {}", r.exit_code,
                               v.out.substr(0, v.out.find('\n')),
                               fs::exists(nas.dir() / "home/pwned") ? "created" : "absent"));
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

FAULT_TEST_F(SyncSftp, SshdStoppedMidBatchOfSmallFilesThenTheNextRunCompletesAll) {
    FaultReport fault("sshd killed mid-batch of small files, then back",
                      "the run ends 69; the next run completes all 600 with no retry spent and no .part left");
    auto first = run_until_mid_batch("s", 1000);
    const auto before = snapshot_files(media);
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
    const auto leftovers = part_files(remote);
    EXPECT_EQ(leftovers, 0u) << "no temporary copy is left behind";
    fault.files_lost(count_files_lost(before, remote));
    fault.observed(fmt::format("first run exit {}; then {} completed, {} .part files left", *status,
                               query("SELECT COUNT(*) FROM media_files WHERE state = 'completed'"), leftovers));
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

TEST_F(SyncSftp, ALargeFileIsHashedOnTheNasWhileItIsWrittenNotReadAgainAfter) {
    // `openssl` and `tail` on the NAS are wrappers that note each call.
    const fs::path calls = dir / "nas-calls";
    for (const std::string program : {"openssl", "tail"})
        nas_program(program,
                    fmt::format("echo \"{} $*\" >> {}\nexec /usr/bin/{} \"$@\"\n", program, calls.string(), program));
    const auto content = random_bytes(24u * 1024 * 1024, 12);
    add("big.bin", content);
    auto r = sync({"run", "--json", "--verify", "sha256"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(completed_verified_by(r.out, "sha256"), 1);
    EXPECT_EQ(sha256_hex(read_file(remote / "big.bin")), sha256_hex(content));
    const auto part = (remote / ".nasops-big.bin.part").string();
    const auto noted = read_file(calls);
    EXPECT_TRUE(noted.contains("tail -c +1 -f -s 0.05 --pid=")) << noted;
    EXPECT_TRUE(noted.contains("-- " + part)) << "the follower read the temporary copy\n" << noted;
    EXPECT_TRUE(noted.contains("openssl dgst -sha256 -r\n")) << "the follower hashed its stdin\n" << noted;
    EXPECT_FALSE(noted.contains("openssl dgst -sha256 -r -- " + part)) << "the copy was read again after its upload\n"
                                                                       << noted;
    EXPECT_FALSE(a_process_mentions(part)) << "a follower outlived its upload";

    // The copy goes bad on the NAS afterwards: `verify` reads it again, and catches it.
    auto bad = content;
    bad[bad.size() / 3] = static_cast<char>(bad[bad.size() / 3] ^ 1);
    write_file(remote / "big.bin", bad);
    r = sync({"verify"});
    EXPECT_EQ(r.exit_code, 65) << r.out << r.err;
}

TEST_F(SyncSftp, ANasWhoseTailCannotFollowAFileHasTheCopyReadAgainAfterItsUpload) {
    // BusyBox's tail has no --pid.
    nas_program("tail", "echo \"tail: unrecognized option '--pid'\" >&2\nexit 1\n");
    // The hashers on the NAS note each call.
    const fs::path calls = dir / "hasher-calls";
    for (const std::string program : {"openssl", "sha256sum"})
        nas_program(program,
                    fmt::format("echo \"{} $*\" >> {}\nexec /usr/bin/{} \"$@\"\n", program, calls.string(), program));
    const auto first = random_bytes(20u * 1024 * 1024, 13);
    const auto second = random_bytes(18u * 1024 * 1024, 14);
    add("one.bin", first);
    add("two.bin", second);
    auto r = sync({"run", "--json", "--jobs", "1", "--verify", "sha256"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(completed_verified_by(r.out, "sha256"), 2);
    EXPECT_EQ(sha256_hex(read_file(remote / "one.bin")), sha256_hex(first));
    EXPECT_EQ(sha256_hex(read_file(remote / "two.bin")), sha256_hex(second));
    const auto noted = read_file(calls);
    // Both copies read again after their upload, by one sha256sum over the batch.
    const auto batch = line_with(noted, "sha256sum -- " + remote.string());
    EXPECT_TRUE(batch.contains((remote / ".nasops-one.bin.part").string())) << noted;
    EXPECT_TRUE(batch.contains((remote / ".nasops-two.bin.part").string())) << noted;
    EXPECT_TRUE(read_file(dir / "log" / "sync.log").contains("could not hash")) << read_file(dir / "log" / "sync.log");
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

FAULT_TEST_F(SyncSftp, RemoveSourceAndAdoptionAfterATruncatedDatabaseSendNothingTheNasHas) {
    FaultReport fault("state DB truncated to nothing",
                      "said loudly; copies the NAS holds with the same SHA-256 are adopted, a differing one is sent");
    add("day1/a.mp4", random_bytes(700 * 1024, 5));
    add("day1/b.mp4", "payload b");
    add("day2/c.mp4", "payload c");
    const auto sources = snapshot_files(media);
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
    fault.files_lost(count_files_lost(sources, remote));
    fault.observed(fmt::format("exit {}; {} adopted without sending, c.mp4 sent again", r.exit_code, adopted));
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

FAULT_TEST_F(SyncSftp, KillDashNineMidBatchOfSmallFilesThenTheNextRunCompletesAll) {
    FaultReport fault("kill -9 mid-batch of small files",
                      "every file under a final name is whole; the next run completes all 600, no .part left");
    auto first = run_until_mid_batch("k", 3000);
    const auto before = snapshot_files(media);
    first.signal(SIGKILL);
    EXPECT_EQ(first.wait(), 128 + SIGKILL);
    const auto torn = torn_copies(before, remote);
    EXPECT_EQ(torn, 0u) << "a final name holds other bytes than its source";
    const auto arrived = files_under(remote);

    auto second = sync({"run"});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_EQ(query("SELECT COUNT(*) FROM media_files WHERE state = 'completed'"), "600");
    EXPECT_EQ(part_files(remote), 0u);
    fault.files_lost(count_files_lost(before, remote));
    fault.observed(fmt::format(
        "killed with {} files on the NAS, {} torn; the next run: exit {}, {} completed, {} .part", arrived, torn,
        second.exit_code, query("SELECT COUNT(*) FROM media_files WHERE state = 'completed'"), part_files(remote)));
}

FAULT_TEST_F(SyncSftp, AFrozenNasIsGivenUpAfterTheTimeoutAndTheNextRunCompletes) {
    FaultReport fault(
        "sshd frozen (SIGSTOP) mid-run, then thawed",
        "the run gives up after [nas] timeout with 69, nothing left 'transferring'; the next run completes");
    write_config(remote, "min_age = \"0s\"\n");
    auto text = read_file(config);
    text.replace(text.find("[sync]"), 6, "timeout = \"3s\"\n\n[sync]");
    write_file(config, text);
    ::chmod(config.c_str(), 0600);
    for (int i = 0; i < 8; ++i)
        add(fmt::format("f{}.bin", i), random_bytes(1024 * 1024, 4000 + static_cast<unsigned>(i)));
    const auto before = snapshot_files(media);
    SpawnOptions quiet;
    quiet.stderr_file = dir / "first.err";
    quiet.stdout_file = dir / "first.out";
    ChildProcess first(argv({"run", "--jobs", "1", "--bwlimit", "1M"}), quiet);
    ASSERT_TRUE(wait_until([&] { return fs::exists(remote / ".nasops-f0.bin.part") || fs::exists(remote / "f0.bin"); }))
        << read_file(dir / "first.err");
    nas.freeze();
    const auto status = first.wait_for(std::chrono::seconds(60));
    nas.thaw();
    ASSERT_TRUE(status) << "the run hung on a frozen NAS";
    EXPECT_EQ(*status, 69) << read_file(dir / "first.err");
    EXPECT_EQ(query("SELECT COUNT(*) FROM media_files WHERE state = 'transferring'"), "0");
    EXPECT_EQ(query("SELECT COUNT(*) FROM sync_attempts WHERE outcome = 'failed'"), "0")
        << "a NAS that stopped answering is not counted against the files";

    auto second = sync({"run"});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_EQ(query("SELECT COUNT(*) FROM media_files WHERE state = 'completed'"), "8");
    fault.files_lost(count_files_lost(before, remote));
    fault.observed(fmt::format("first run exit {} ('{}'); the next run exit {}, {} completed", *status,
                               line_with(read_file(dir / "first.err"), "error"), second.exit_code,
                               query("SELECT COUNT(*) FROM media_files WHERE state = 'completed'")));
}

FAULT_TEST_F(SyncSftp, HashedKnownHostsEntriesAreTrusted) {
    FaultReport fault("known_hosts hashed by ssh-keygen -H", "the NAS's hashed entry is trusted; the upload verifies");
    add("a.mp4", "clip a");
    const auto before = snapshot_files(media);
    const auto hashed = run_command({"ssh-keygen", "-H", "-f", nas.known_hosts_file().string()});
    ASSERT_EQ(hashed.exit_code, 0) << hashed.err;
    const auto known = read_file(nas.known_hosts_file());
    ASSERT_TRUE(known.starts_with("|1|")) << known;
    auto r = sync({"run"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    fault.files_lost(count_files_lost(before, remote));
    fault.observed(fmt::format("known_hosts starts '{}'; run exit {}", known.substr(0, 4), r.exit_code));
}

FAULT_TEST_F(SyncSftp, AFullStateDiskStopsTheRunLoudlyAndLosesNothing) {
    FaultReport fault("local state disk full (tmpfs)",
                      "the run stops with 73/74 naming the database; once there is room the next run completes all");
    TmpfsMount state(dir / "state", "1m");
    add("first.mp4", "before the disk filled");
    ASSERT_EQ(sync({"run", "--quiet"}).exit_code, 0);
    // Fill what is left of the state disk.
    {
        std::ofstream filler(dir / "state" / "filler", std::ios::binary);
        const std::string block(64 * 1024, 'f');
        while (filler.write(block.data(), static_cast<std::streamsize>(block.size())) && filler.flush()) {
        }
    }
    for (int i = 0; i < 300; ++i)
        add(fmt::format("later/{:03}-{}.mp4", i, std::string(120, 'n')), "clip " + std::to_string(i));
    const auto before = snapshot_files(media);
    auto full = sync({"run"});
    EXPECT_TRUE(full.exit_code == 73 || full.exit_code == 74) << full.exit_code << ": " << full.err;
    EXPECT_NE(full.err.find((dir / "state" / "nasops.db").string()), std::string::npos) << full.err;
    EXPECT_NE(full.err.find("the file system of " + (dir / "state").string() + " is full"), std::string::npos)
        << full.err;

    fs::remove(dir / "state" / "filler");
    auto next = sync({"run"});
    ASSERT_EQ(next.exit_code, 0) << next.err;
    EXPECT_EQ(query("SELECT COUNT(*) FROM media_files WHERE state = 'completed'"), "301");
    fault.files_lost(count_files_lost(before, remote));
    fault.observed(fmt::format("full: exit {} ('{}'); with room: exit {}, {} completed", full.exit_code,
                               line_with(full.err, "error"), next.exit_code,
                               query("SELECT COUNT(*) FROM media_files WHERE state = 'completed'")));
}

FAULT_TEST_F(SyncSftp, LogrotateDuringALongRunLosesNoLine) {
    FaultReport fault("logrotate (the shipped rule, forced) during a long run",
                      "each transfer's start and completion audited once, across audit.log.1 and audit.log");
    for (int i = 0; i < 10; ++i)
        add(fmt::format("r{}.bin", i), random_bytes(512 * 1024, 5000 + static_cast<unsigned>(i)));
    const auto before = snapshot_files(media);
    auto rule = read_file(fs::path(NASOPS_SOURCE_DIR) / "deploy/logrotate.d/nasops");
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"/var/log/nasops", (dir / "log").string()},
                                   {"/run/nasops", (dir / "run").string()},
                                   {"create 0640 root adm", "create 0640"}})
        for (auto at = rule.find(from); at != std::string::npos; at = rule.find(from, at + to.size()))
            rule.replace(at, from.size(), to);
    write_file(dir / "logrotate.conf", rule);
    SpawnOptions quiet;
    quiet.stderr_file = dir / "run.err";
    quiet.stdout_file = dir / "run.out";
    // Completions are audited after the batch verify at the end of this run;
    // the rotation comes while the first files are being sent.
    ChildProcess run(argv({"run", "--jobs", "1", "--bwlimit", "1M"}), quiet);
    const auto audit = dir / "log/audit.log";
    ASSERT_TRUE(wait_until([&] {
        return fs::exists(audit) && read_file(audit).find("TRANSFER_STARTED") != std::string::npos;
    })) << read_file(dir / "run.err");
    const auto rotated = run_command({"/usr/sbin/logrotate", "--force", "--state", (dir / "logrotate.state").string(),
                                      (dir / "logrotate.conf").string()});
    ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
    EXPECT_EQ(run.wait(), 0) << read_file(dir / "run.err");

    ASSERT_TRUE(fs::exists(dir / "log/audit.log.1")) << "the rule rotated nothing";
    const auto count = [](const fs::path& file, const std::string& what) {
        const auto text = read_file(file);
        std::size_t n = 0;
        for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
        return n;
    };
    const auto rotated_lines = count(dir / "log/audit.log.1", "TRANSFER_");
    const auto new_lines = count(audit, "TRANSFER_");
    EXPECT_GT(rotated_lines, 0u);
    EXPECT_GT(new_lines, 0u) << "the run went on writing to the renamed file";
    for (const char* event : {"TRANSFER_STARTED", "TRANSFER_COMPLETED"})
        EXPECT_EQ(count(dir / "log/audit.log.1", event) + count(audit, event), 10u) << event;
    fault.files_lost(count_files_lost(before, remote));
    fault.observed(
        fmt::format("{} started and {} completed lines in all: {} in audit.log.1, {} in audit.log",
                    count(dir / "log/audit.log.1", "TRANSFER_STARTED") + count(audit, "TRANSFER_STARTED"),
                    count(dir / "log/audit.log.1", "TRANSFER_COMPLETED") + count(audit, "TRANSFER_COMPLETED"),
                    rotated_lines, new_lines));
}
