// nasops-sync as cron runs it, against a local folder standing in for the NAS.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fixtures/child_process.hpp"
#include "fixtures/fault_row.hpp"
#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/record/record.hpp"

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
using nasops::testing::write_file;
namespace fs = std::filesystem;

namespace {

const fs::path k_tool = fs::path(NASOPS_TOOLS_DIR) / "nasops-sync";

class SyncLocal : public ::testing::Test {
protected:
    SyncLocal() {
        fs::create_directories(media);
        fs::create_directories(nas);
        write_config("");
    }

    void write_config(const std::string& extra) {
        write_file(config, fmt::format("[paths]\nstate_dir = \"{}\"\nlog_dir = \"{}\"\nrun_dir = \"{}\"\n\n[sync]\n"
                                       "sources = [\"{}\"]\ntarget = \"{}\"\n{}",
                                       (dir / "state").string(), (dir / "log").string(), (dir / "run").string(),
                                       media.string(), nas.string(), extra));
        ::chmod(config.c_str(), 0600);
    }

    CommandResult sync(std::vector<std::string> args) {
        std::vector<std::string> argv{k_tool.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back("--config");
        argv.push_back(config.string());
        auto r = run_command(argv, {}, std::chrono::seconds(120));
        EXPECT_FALSE(r.timed_out);
        return r;
    }

    void add(const std::string& rel, const std::string& content) {
        write_file(media / rel, content);
        age_file(media / rel);
    }

    nasops::testing::TempDir dir{"nasops-sync-it"};
    fs::path media = dir / "media";
    fs::path nas = dir / "nas";
    fs::path config = dir / "nasops.toml";
};

}  // namespace

TEST_F(SyncLocal, FullRunThenASecondRunTransfersNothing) {
    const auto big = random_bytes(2 * 1024 * 1024 + 3, 1);
    add("cam1/2026-11-22/clip 1.mp4", big);
    add("cam2/still.jpg", "jpeg bytes");
    add("-odd 'name'.txt", "odd");

    auto first = sync({"run", "--json"});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    const auto records = parse_records(first.out);
    int completed = 0;
    for (const auto& r : records) {
        EXPECT_EQ(r["kind"], "transfer");
        EXPECT_EQ(r["tool"], "sync");
        if (r["state"] == "completed") ++completed;
    }
    EXPECT_EQ(completed, 3);
    EXPECT_EQ(records.size(), 9u) << "pending, transferring, completed for each file";
    EXPECT_EQ(read_file(nas / "cam1/2026-11-22/clip 1.mp4"), big);
    EXPECT_EQ(read_file(nas / "-odd 'name'.txt"), "odd");

    auto second = sync({"run", "--json"});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_EQ(second.out, "") << "nothing changed, nothing to report";

    // Operators' query keeps working.
    auto counts = run_command(
        {"sqlite3", (dir / "state/nasops.db").string(), "SELECT state, COUNT(*) FROM media_files GROUP BY state"});
    ASSERT_EQ(counts.exit_code, 0) << counts.err;
    EXPECT_EQ(counts.out, "completed|3\n");

    auto status = sync({"status", "--format", "json"});
    ASSERT_EQ(status.exit_code, 0) << status.err;
    bool saw_completed = false;
    for (const auto& r : parse_records(status.out)) {
        EXPECT_EQ(r["kind"], "metric");
        if (r["name"] == "sync_files" && r["labels"]["state"] == "completed") {
            EXPECT_EQ(r["value"], 3);
            saw_completed = true;
        }
    }
    EXPECT_TRUE(saw_completed) << status.out;

    auto ls = sync({"ls", "--state", "completed"});
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_NE(ls.out.find("clip 1.mp4"), std::string::npos) << ls.out;

    const auto audit = read_file(dir / "log/audit.log");
    for (const char* event : {"FILE_DISCOVERED", "TRANSFER_STARTED", "TRANSFER_COMPLETED"})
        EXPECT_NE(audit.find(event), std::string::npos) << event;
}

TEST_F(SyncLocal, TwoRunsAtOnceTheSecondExits75QuietlyWithQuiet) {
    add("slow.bin", random_bytes(3 * 1024 * 1024, 2));
    SpawnOptions options;
    options.stdout_file = dir / "first.out";
    options.stderr_file = dir / "first.err";
    ChildProcess first({k_tool.string(), "run", "--bwlimit", "1M", "--config", config.string()}, options);
    // Wait until the first run holds the lock (it writes its pid there).
    const auto lock = dir / "state/sync.lock";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!(fs::exists(lock) && read_file(lock) == std::to_string(first.pid()) + "\n")) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the first run never took the lock";
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    auto second = sync({"run"});
    EXPECT_EQ(second.exit_code, 75) << second.err;
    EXPECT_NE(second.err.find("held by another run"), std::string::npos) << second.err;
    EXPECT_NE(second.err.find(std::to_string(first.pid())), std::string::npos) << second.err;
    // As cron runs it (--quiet): the overlap is no news to mail; the same 75,
    // nothing on stdout or stderr, and the line in the log instead.
    auto quiet = sync({"run", "--quiet"});
    EXPECT_EQ(quiet.exit_code, 75) << quiet.err;
    EXPECT_EQ(quiet.out + quiet.err, "") << "cron would mail this";
    const auto log = read_file(dir / "log/sync.log");
    const auto logged = log.find("held by another run (pid " + std::to_string(first.pid()) + ")");
    ASSERT_NE(logged, std::string::npos) << log;
    EXPECT_NE(log.find("this run ends with exit 75", logged), std::string::npos) << log;
    EXPECT_EQ(first.wait(), 0) << read_file(dir / "first.err");
    EXPECT_TRUE(fs::exists(nas / "slow.bin"));
}

// systemd and timeout(1) stop a run with SIGTERM: it must end as cleanly as
// on ^C (no row left 'transferring', the upload resumed by the next run) and
// die of the signal it got.
FAULT_TEST_F(SyncLocal, SigtermAndSigintStopTheRunCleanly) {
    FaultReport fault(
        "SIGTERM and SIGINT mid-run (local target)",
        "dies of the signal, the file back to pending, no partial file at its final name; next run completes");
    std::vector<int> statuses;
    for (const int signal : {SIGTERM, SIGINT}) {
        SCOPED_TRACE(signal == SIGTERM ? "SIGTERM" : "SIGINT");
        const std::string name = fmt::format("slow-{}.bin", signal);
        const auto content = random_bytes(4 * 1024 * 1024, static_cast<unsigned>(signal));
        add(name, content);
        SpawnOptions options;
        options.stderr_file = dir / "stopped.err";
        ChildProcess run({k_tool.string(), "run", "--bwlimit", "1M", "--config", config.string()}, options);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!fs::exists(dir / "log/audit.log") ||
               read_file(dir / "log/audit.log").find("TRANSFER_STARTED") == std::string::npos ||
               read_file(dir / "log/audit.log").find(name) == std::string::npos) {
            ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the upload never started";
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // some bytes sent
        run.signal(signal);
        const auto status = run.wait_for(std::chrono::seconds(20));
        ASSERT_TRUE(status.has_value()) << "the run outlived its signal";
        EXPECT_EQ(*status, 128 + signal) << read_file(dir / "stopped.err");
        statuses.push_back(*status);

        auto states = run_command({"sqlite3", (dir / "state/nasops.db").string(),
                                   "SELECT state FROM media_files WHERE rel_path = '" + name + "'"});
        EXPECT_EQ(states.out, "pending\n") << states.err;
        EXPECT_FALSE(fs::exists(nas / name)) << "a partial upload got the final name";

        auto again = sync({"run"});
        ASSERT_EQ(again.exit_code, 0) << again.err;
        EXPECT_EQ(read_file(nas / name), content);
    }
    fault.files_lost(count_files_lost(snapshot_files(media), nas));
    fault.observed(
        fmt::format("exit {} and {}; each file completed byte-exact by the next run", statuses.at(0), statuses.at(1)));
}

// A source file named like nasops's own partial uploads is skipped, and -v says so.
TEST_F(SyncLocal, SourceFilesNamedLikeOurPartialUploadsAreSkippedAndSaidAtVerbose) {
    add(".nasops-clip.mp4.part", "looks like ours");
    add("clip.mp4", "clip");
    auto quiet = sync({"run"});
    ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
    EXPECT_EQ(quiet.err.find(".nasops-clip.mp4.part"), std::string::npos) << quiet.err;
    EXPECT_TRUE(fs::exists(nas / "clip.mp4"));
    EXPECT_FALSE(fs::exists(nas / ".nasops-clip.mp4.part"));
    auto verbose = sync({"run", "-v"});
    ASSERT_EQ(verbose.exit_code, 0) << verbose.err;
    EXPECT_NE(verbose.err.find("skipping " + (media / ".nasops-clip.mp4.part").string() +
                               ": named like nasops's own partial uploads"),
              std::string::npos)
        << verbose.err;
}

TEST_F(SyncLocal, BadConfigExits78WithFileLineColumn) {
    write_config("jobs = 0\nverfy = \"size\"\n");
    auto r = sync({"run"});
    EXPECT_EQ(r.exit_code, 78) << r.err;
    EXPECT_NE(r.err.find(config.string() + ":9:8"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("jobs"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("did you mean 'verify'"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "state/nasops.db")) << "nothing happens with a bad config";

    write_config("remove_source = true\nverify = \"none\"\n");
    r = sync({"run"});
    EXPECT_EQ(r.exit_code, 78) << r.err;
    EXPECT_NE(r.err.find(config.string() + ":9:17: sync.remove_source"), std::string::npos) << r.err;
}

TEST_F(SyncLocal, DryRunChangesNothing) {
    add("a.mp4", "aaa");
    auto r = sync({"run", "--dry-run"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("would upload " + (media / "a.mp4").string()), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(dir / "state/nasops.db"));
    EXPECT_FALSE(fs::exists(nas / "a.mp4"));
}

TEST_F(SyncLocal, MissingTargetFolderIsUnavailableAndFilesWait) {
    add("a.mp4", "aaa");
    fs::remove_all(nas);
    auto r = sync({"run"});
    EXPECT_EQ(r.exit_code, 69) << r.err;
    EXPECT_NE(r.err.find("is the NAS share mounted"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(nas)) << "an unmounted share is never created on the local disk";
    auto counts =
        run_command({"sqlite3", (dir / "state/nasops.db").string(), "SELECT state, attempts FROM media_files"});
    EXPECT_EQ(counts.out, "pending|0\n");
}

TEST_F(SyncLocal, CommandLineSourceAndTargetWithoutConfigKeys) {
    write_file(config, fmt::format("[paths]\nstate_dir = \"{}\"\nlog_dir = \"{}\"\n", (dir / "state").string(),
                                   (dir / "log").string()));
    // No source anywhere: not configured yet, which is no failure (cron stays quiet); --verbose says why.
    auto none = sync({"run"});
    EXPECT_EQ(none.exit_code, 0) << none.err;
    EXPECT_EQ(none.err, "");
    auto told = sync({"run", "--verbose"});
    EXPECT_EQ(told.exit_code, 0) << told.err;
    EXPECT_NE(told.err.find("nasops-sync is not configured"), std::string::npos) << told.err;

    add("x/y.txt", "y");
    auto r = sync({"run", "--source", media.string(), "--target", nas.string(), "--min-age", "0s", "--verify", "size"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(nas / "x/y.txt"), "y");
    EXPECT_NE(r.out.find("uploaded 1 files"), std::string::npos) << r.out;
}

TEST_F(SyncLocal, VerifyCatchesACorruptedCopy) {
    add("a.mp4", "original content");
    ASSERT_EQ(sync({"run", "--quiet"}).exit_code, 0);
    write_file(nas / "a.mp4", "ORIGINAL CONTENT");
    auto r = sync({"verify", "--json"});
    EXPECT_EQ(r.exit_code, 65) << r.err;
    const auto records = parse_records(r.out);
    ASSERT_EQ(records.size(), 2u) << r.out;
    EXPECT_EQ(records[0]["details"]["problem"], "sha256");
    EXPECT_EQ(records[0]["details"]["requeued"], true);
    ASSERT_EQ(sync({"run", "--quiet"}).exit_code, 0);
    EXPECT_EQ(read_file(nas / "a.mp4"), "original content");
    EXPECT_EQ(sync({"verify", "--quiet"}).exit_code, 0);
}

TEST_F(SyncLocal, RetryRequeuesFailedFiles) {
    add("a.mp4", "aaa");
    // A file that vanishes after it was queued fails without retries.
    ASSERT_EQ(sync({"run", "--dry-run"}).exit_code, 0);
    write_config("min_age = \"2h\"\n");
    ASSERT_EQ(sync({"run", "--quiet"}).exit_code, 0);  // queued, but an hour old is not stable enough
    fs::remove(media / "a.mp4");
    write_config("");
    auto r = sync({"run", "--quiet"});
    EXPECT_EQ(r.exit_code, 74) << r.err;
    auto ls = sync({"ls", "--state", "failed", "--json"});
    const auto records = parse_records(ls.out);
    ASSERT_EQ(records.size(), 1u) << ls.out;
    EXPECT_NE(records[0]["error"].get<std::string>().find("gone"), std::string::npos);

    auto none = sync({"retry", "nope.mp4"});
    EXPECT_EQ(none.exit_code, 66) << none.err;
    auto dry = sync({"retry", "--dry-run", (media / "a.mp4").string()});
    EXPECT_EQ(dry.exit_code, 0) << dry.err;
    EXPECT_EQ(dry.out, "would requeue 1 failed files\n");
    const auto dry_json = sync({"retry", "--dry-run", "--all-failed", "--json"});
    ASSERT_EQ(dry_json.exit_code, 0) << dry_json.err;
    const auto counted = parse_records(dry_json.out);
    ASSERT_EQ(counted.size(), 1u) << dry_json.out;
    EXPECT_EQ(counted[0]["name"], "retry");
    EXPECT_EQ(counted[0]["details"], (nlohmann::json{{"requeued", 1}, {"dry_run", true}}));
    auto retry = sync({"retry", "a.mp4"});
    EXPECT_EQ(retry.exit_code, 0) << retry.err;
    EXPECT_EQ(retry.out, "requeued 1 failed files\n");
    EXPECT_EQ(sync({"retry"}).exit_code, 64);
}

TEST_F(SyncLocal, RemoveSourceRemovesWhatEarlierRunsUploadedButNeverAChangedFile) {
    add("day1/a.mp4", "payload a");
    add("day1/b.mp4", "payload b");
    add("day2/c.mp4", "payload c");
    add("day3/d.mp4", "payload d");
    auto first = sync({"run", "--quiet"});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_TRUE(fs::exists(media / "day1/a.mp4")) << "remove-source is off";

    // After the upload: b is rewritten (the camera is at it again: not stable
    // yet), c is replaced by another file (a new inode) with the same size.
    write_file(media / "day1/b.mp4", "payload b, longer now");
    write_file(media / "day2/c.mp4.new", "PAYLOAD C");
    age_file(media / "day2/c.mp4.new");
    fs::rename(media / "day2/c.mp4.new", media / "day2/c.mp4");
    write_file(media / "day3" / ".nasops-e.mp4.part", "someone's partial upload");
    fs::create_directories(media / "day4");
    write_file(media / "day4/growing.mp4", "still being written");

    // A dry run names the local copies the run will remove first, and removes none.
    auto dry = sync({"run", "--dry-run", "--remove-source"});
    ASSERT_EQ(dry.exit_code, 0) << dry.err;
    for (const auto* name : {"day1/a.mp4", "day3/d.mp4"})
        EXPECT_NE(dry.out.find("would remove " + (media / name).string() +
                               " (9 B; its copy on the NAS is verified by "
                               "sha256)"),
                  std::string::npos)
            << name << "\n"
            << dry.out;
    for (const auto* name : {"day1/b.mp4", "day2/c.mp4"})
        EXPECT_EQ(dry.out.find("would remove " + (media / name).string()), std::string::npos)
            << name << " changed since its upload: " << dry.out;
    EXPECT_NE(dry.out.find(", 2 local copies of earlier uploads to remove; nothing was changed"), std::string::npos)
        << dry.out;
    EXPECT_TRUE(fs::exists(media / "day1/a.mp4"));
    const auto dry_json = parse_records(sync({"run", "--dry-run", "--remove-source", "--json"}).out);
    const auto removals = std::count_if(dry_json.begin(), dry_json.end(), [](const nlohmann::json& r) {
        return r.value("action", "") == "remove" && r["state"] == "completed" && r["verified_by"] == "sha256";
    });
    EXPECT_EQ(removals, 2);

    auto second = sync({"run", "--remove-source", "--delete-empty-src-dirs"});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_FALSE(fs::exists(media / "day1/a.mp4")) << "uploaded and verified by an earlier run";
    EXPECT_TRUE(fs::exists(media / "day1/b.mp4")) << "changed since its upload, and not stable yet";
    EXPECT_EQ(read_file(nas / "day1/b.mp4"), "payload b");
    EXPECT_FALSE(fs::exists(media / "day2/c.mp4")) << "the new file was uploaded and verified, then removed";
    EXPECT_EQ(read_file(nas / "day2/c.mp4"), "PAYLOAD C");
    EXPECT_FALSE(fs::exists(media / "day2")) << "left empty: removed";
    EXPECT_FALSE(fs::exists(media / "day3/d.mp4"));
    EXPECT_TRUE(fs::is_directory(media / "day3")) << "a folder holding a partial file is kept";
    EXPECT_TRUE(fs::exists(media / "day4/growing.mp4"));
    EXPECT_TRUE(fs::is_directory(media)) << "never the source itself";
    EXPECT_NE(second.out.find("3 local files removed, 1 empty folders removed"), std::string::npos) << second.out;
    const auto audit = read_file(dir / "log/audit.log");
    EXPECT_NE(audit.find("\"event\":\"FILE_REMOVED\",\"path\":\"" + (media / "day1/a.mp4").string()), std::string::npos)
        << audit;
    EXPECT_EQ(audit.find("\"path\":\"" + (media / "day1/b.mp4").string() + "\",\"sha256\""), std::string::npos)
        << audit;

    // Once b is stable, the config key alone does the same.
    write_config("remove_source = true\ndelete_empty_src_dirs = true\n");
    age_file(media / "day1/b.mp4");
    auto third = sync({"run", "--quiet"});
    ASSERT_EQ(third.exit_code, 0) << third.err;
    EXPECT_EQ(read_file(nas / "day1/b.mp4"), "payload b, longer now");
    EXPECT_FALSE(fs::exists(media / "day1")) << "b removed once its new version is verified, then its folder";
}

TEST_F(SyncLocal, DeleteEmptySrcDirsWithoutRemoveSourceIsAUsageError) {
    auto r = sync({"run", "--delete-empty-src-dirs"});
    EXPECT_EQ(r.exit_code, 64) << r.err;
    EXPECT_NE(r.err.find("--delete-empty-src-dirs"), std::string::npos) << r.err;
}

namespace {

struct stat stat_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st;
}

}  // namespace

FAULT_TEST_F(SyncLocal, ADeletedDatabaseIsSaidLoudlyAndWhatTheNasHasIsAdoptedNotSent) {
    FaultReport fault("state DB deleted",
                      "a warning even with --quiet; identical copies adopted unsent, changed ones sent again");
    add("cam1/a.mp4", random_bytes(600 * 1024, 1));
    add("cam1/b.mp4", "payload b");
    add("c.mp4", "payload c");
    add("d.mp4", "payload d");
    const auto sources = snapshot_files(media);
    ASSERT_EQ(sync({"run", "--quiet"}).exit_code, 0);
    const auto a_before = stat_of(nas / "cam1/a.mp4");
    const auto b_before = stat_of(nas / "cam1/b.mp4");

    // The database is lost; on the NAS, c was changed (another size) and d
    // was overwritten with other bytes of the same size.
    for (const auto* name : {"nasops.db", "nasops.db-wal", "nasops.db-shm"}) fs::remove(dir / "state" / name);
    write_file(nas / "c.mp4", "payload c, but longer");
    write_file(nas / "d.mp4", "PAYLOAD D");

    auto r = sync({"run", "--json", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("nasops-sync: warning: the state database " + (dir / "state/nasops.db").string() + " is new"),
              std::string::npos)
        << "said on stderr even with --quiet: " << r.err;
    std::uint64_t sent = 0;
    std::vector<std::string> adopted;
    for (const auto& rec : parse_records(r.out)) {
        if (rec["state"] != "completed") continue;
        sent += rec["bytes_sent"].get<std::uint64_t>();
        if (rec.value("adopted", false)) adopted.push_back(rec["rel_path"]);
    }
    std::sort(adopted.begin(), adopted.end());
    EXPECT_EQ(adopted, (std::vector<std::string>{"cam1/a.mp4", "cam1/b.mp4"}));
    EXPECT_EQ(sent, 18u) << "only c and d are sent again";
    const auto a_after = stat_of(nas / "cam1/a.mp4");
    EXPECT_EQ(a_after.st_ino, a_before.st_ino) << "an adopted copy is not rewritten";
    EXPECT_EQ(a_after.st_mtim.tv_nsec, a_before.st_mtim.tv_nsec);
    EXPECT_EQ(stat_of(nas / "cam1/b.mp4").st_ino, b_before.st_ino);
    EXPECT_EQ(read_file(nas / "c.mp4"), "payload c");
    EXPECT_EQ(read_file(nas / "d.mp4"), "payload d");
    EXPECT_NE(read_file(dir / "log/sync.log").find("is new"), std::string::npos);
    EXPECT_NE(read_file(dir / "log/audit.log").find("\"error\":\"new state database\""), std::string::npos);

    auto next = sync({"run"});
    ASSERT_EQ(next.exit_code, 0) << next.err;
    EXPECT_EQ(next.err.find("is new"), std::string::npos) << "said once, by the run that found it new";
    fault.files_lost(count_files_lost(sources, nas));
    fault.observed(
        fmt::format("exit {} warning 'is new'; {} adopted, {} bytes sent again", r.exit_code, adopted.size(), sent));
}

// --bwlimit as a timetable: the run takes the rate of the slot it starts in
// and says so in its log. The timetable is built around the present local
// time (a slot from an hour ago to an hour ahead), so which slot holds does
// not depend on when the test runs.
TEST_F(SyncLocal, BwlimitTimetableTakesTheRateOfTheCurrentSlot) {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    const int minute = local.tm_hour * 60 + local.tm_min;
    const auto at = [&](int offset) {
        const int m = ((minute + offset) % 1440 + 1440) % 1440;
        return fmt::format("{:02}:{:02}", m / 60, m % 60);
    };
    struct Case {
        std::string timetable;
        std::string logged;
    };
    const Case cases[] = {
        {fmt::format("{},1M {},off", at(-60), at(60)), "bandwidth limit 1.0 MiB/s (timetable)"},
        {fmt::format("{},off;{},1M", at(-60), at(60)), "bandwidth limit off (timetable)"},
    };
    int n = 0;
    for (const auto& c : cases) {
        SCOPED_TRACE(c.timetable);
        const auto name = fmt::format("clip-{}.bin", n);
        const auto content = random_bytes(64 * 1024, static_cast<unsigned>(++n));
        add(name, content);
        fs::remove(dir / "log/sync.log");
        auto r = sync({"run", "--bwlimit", c.timetable});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(read_file(nas / name), content);
        const auto log = read_file(dir / "log/sync.log");
        EXPECT_NE(log.find(c.logged), std::string::npos) << log;
    }
}

TEST_F(SyncLocal, ABadBwlimitTimetableNamesTheEntry) {
    auto cli = sync({"run", "--bwlimit", "08:00,2M 19:60,off"});
    EXPECT_EQ(cli.exit_code, 64) << cli.err;
    EXPECT_NE(cli.err.find("--bwlimit: invalid bandwidth timetable entry 2 '19:60,off': '19:60' is not a time of day"),
              std::string::npos)
        << cli.err;

    write_config("bwlimit = \"Mon-08:00,512k Sun-10:00,off Mon-08:00,1M\"\n");
    auto file = sync({"run"});
    EXPECT_EQ(file.exit_code, 78) << file.err;
    EXPECT_NE(file.err.find(config.string() + ":"), std::string::npos) << file.err;
    EXPECT_NE(file.err.find("'sync.bwlimit': invalid bandwidth timetable entry 3 'Mon-08:00,1M': 'Mon-08:00,512k' "
                            "already sets Mon-08:00"),
              std::string::npos)
        << file.err;
    EXPECT_FALSE(fs::exists(dir / "state/nasops.db")) << "neither run started";
}
