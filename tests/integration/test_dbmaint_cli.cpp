// nasops-dbmaint as cron and an operator run it: the built binary on real
// SQLite files, with corruption, tampered backups, a full disk, a writer that
// does not stop, and kill -9 in the middle of a backup or a restore.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "fixtures/child_process.hpp"
#include "fixtures/fault_row.hpp"
#include "fixtures/http_sink.hpp"
#include "fixtures/sample_db.hpp"
#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/core/lock.hpp"
#include "sync/schema.hpp"

using namespace nasops;
using namespace std::chrono_literals;
using nasops::testing::ChildProcess;
using nasops::testing::CommandResult;
using nasops::testing::FaultReport;
using nasops::testing::parse_records;
using nasops::testing::read_file;
using nasops::testing::run_command;
using nasops::testing::write_file;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

class DbmaintCli : public ::testing::Test {
protected:
    DbmaintCli() {
        write_file(config, nasops::testing::paths_config(dir.path()));
        fs::create_directories(state);
    }

    CommandResult dbmaint(std::vector<std::string> args) {
        args.push_back("--config");
        args.push_back(config.string());
        return nasops::testing::run_tool("dbmaint", args);
    }
    std::vector<std::string> argv(std::vector<std::string> args) const {
        std::vector<std::string> all{std::string(NASOPS_TOOLS_DIR) + "/nasops-dbmaint"};
        all.insert(all.end(), args.begin(), args.end());
        all.push_back("--config");
        all.push_back(config.string());
        return all;
    }
    void make(const nasops::testing::MediaRows& rows) {
        nasops::testing::make_database(db, sync::migrations(), rows, std::chrono::system_clock::now());
    }
    // Rows with 2 KiB of payload each, so that copies take a while.
    void make_large(int rows) {
        make({});
        SQLite::Database raw(db.string(), SQLite::OPEN_READWRITE);
        raw.exec("BEGIN");
        SQLite::Statement insert(raw,
                                 "INSERT INTO media_files (source, rel_path, state, last_error) VALUES "
                                 "('/srv/media', ?, 'completed', hex(randomblob(1024)))");
        for (int i = 0; i < rows; ++i) {
            insert.reset();
            insert.bind(1, fmt::format("clip-{}", i));
            insert.exec();
        }
        raw.exec("COMMIT");
    }
    // sqlite3 .dump of a database: the exact rows, as the issue compares them.
    std::string dump(const fs::path& path) {
        auto r = run_command({"sqlite3", path.string(), ".dump"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return r.out;
    }
    // The backups of `folder` with the given extension (".db" or ".gz"), by name.
    std::vector<fs::path> backups_in(const fs::path& folder, std::string_view extension = ".db") {
        std::vector<fs::path> found;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(folder, ec))
            if (e.path().extension() == extension) found.push_back(e.path());
        std::ranges::sort(found);
        return found;
    }
    // A tampered and a truncated `backup` are refused by restore (65) and
    // verify (CRITICAL), the live database untouched; put back, it verifies.
    // Returns what happened, in words, for the fault matrix.
    std::string expect_damage_refused(const fs::path& backup) {
        const auto original = read_file(backup);
        const auto live = read_file(db);
        const auto damaged = nasops::testing::damaged_copies(original);
        std::size_t refused = 0;
        for (const auto& content : damaged) {
            write_file(backup, content);
            auto r = dbmaint({"restore", backup.string()});
            EXPECT_EQ(r.exit_code, 65) << r.err;
            if (r.exit_code == 65 && read_file(db) == live) ++refused;
            EXPECT_TRUE(contains(r.err, "does not match its sidecar")) << r.err;
            EXPECT_EQ(read_file(db), live);
            EXPECT_FALSE(fs::exists(state / ".nasops.db.restore-tmp"));
            auto v = dbmaint({"verify", backup.string()});
            EXPECT_EQ(v.exit_code, 2) << v.out;
        }
        write_file(backup, original);
        EXPECT_EQ(dbmaint({"verify", backup.string()}).exit_code, 0);
        return fmt::format("{} of {} damaged copies refused with 65, the live database untouched", refused,
                           damaged.size());
    }
    // What sqlite3 reads from the database gzip -d makes of `gz` (zcat, as an operator would).
    std::string dump_gzipped(const fs::path& gz) {
        const auto plain = dir / "zcat.db";
        fs::remove(plain);
        auto r = run_command({"sh", "-c", "zcat \"$1\" > \"$2\"", "sh", gz.string(), plain.string()});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return dump(plain);
    }

    nasops::testing::TempDir dir{"nasops-dbmaint-it"};
    fs::path config = dir / "nasops.toml";
    fs::path state = dir / "state";
    fs::path db = state / "nasops.db";
    fs::path backups = state / "backups";
};

}  // namespace

TEST_F(DbmaintCli, NoDatabaseYetIsUnknownForCheckAndMissingInputForBackup) {
    auto r = dbmaint({"check"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_TRUE(contains(r.out, "no database yet")) << r.out;
    r = dbmaint({"check", "--format", "json"});
    EXPECT_EQ(r.exit_code, 3);
    const auto records = parse_records(r.out);
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0]["kind"], "maint");
    EXPECT_EQ(records[0]["status"], "unknown");
    r = dbmaint({"backup"});
    EXPECT_EQ(r.exit_code, 66) << r.err;
    EXPECT_TRUE(contains(r.err, "nasops-dbmaint: error: no database at")) << r.err;
    EXPECT_FALSE(fs::exists(db));
}

// A fresh host, before the first nightly backup: the weekly `verify --quiet`
// of the cron table has nothing to mail. A folder that is there but empty
// (backups made, then lost) stays UNKNOWN.
TEST_F(DbmaintCli, VerifyBeforeTheFirstBackupIsQuietButAnEmptiedFolderIsUnknown) {
    make({});
    auto r = dbmaint({"verify", "--quiet"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out + r.err, "") << "cron would mail this";
    r = dbmaint({"verify"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(contains(r.out, "verify: no backup yet: " + backups.string() + " does not exist")) << r.out;
    r = dbmaint({"verify", "--format", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto records = parse_records(r.out);
    ASSERT_EQ(records.size(), 1U) << r.out;
    EXPECT_EQ(records[0]["status"], "ok");
    EXPECT_TRUE(contains(records[0]["message"].get<std::string>(), "no backup yet")) << records[0];

    ASSERT_EQ(dbmaint({"backup", "--quiet"}).exit_code, 0);
    EXPECT_EQ(dbmaint({"verify", "--quiet"}).exit_code, 0);
    for (const auto& b : backups_in(backups)) {
        fs::remove(b);
        fs::remove(b.string() + ".sha256");
    }
    r = dbmaint({"verify", "--quiet"});
    EXPECT_EQ(r.exit_code, 3) << r.out;
    EXPECT_TRUE(contains(r.out, "verify: UNKNOWN: no backups in " + backups.string())) << r.out;
}

FAULT_TEST_F(DbmaintCli, FlippedBytesAreCriticalAndARestoreBringsBackTheExactRows) {
    FaultReport fault("state DB page-corrupted",
                      "dbmaint check CRITICAL naming the file; a restore brings back the exact rows");
    make({.completed_old = 3000, .pending_old = 40, .failed_old = 5});
    ASSERT_EQ(dbmaint({"check", "--full"}).exit_code, 0);
    auto backed = dbmaint({"backup", "--format", "json"});
    ASSERT_EQ(backed.exit_code, 0) << backed.err;
    const auto records = parse_records(backed.out);
    ASSERT_EQ(records.size(), 2U);
    EXPECT_EQ(records[0]["step"], "backup");
    EXPECT_EQ(records[1]["step"], "retention");
    for (const auto* field : {"status", "duration_ms", "bytes_before", "bytes_after", "message"})
        EXPECT_TRUE(records[0].contains(field)) << field;
    const fs::path backup = records[0]["path"].get<std::string>();
    const auto good = dump(db);

    nasops::testing::corrupt_pages(db);
    auto r = dbmaint({"check", "--format", "json"});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    const auto checked = parse_records(r.out);
    ASSERT_EQ(checked.size(), 1U);
    EXPECT_EQ(checked[0]["status"], "critical");
    EXPECT_TRUE(contains(checked[0]["message"].get<std::string>(), db.string())) << checked[0];

    ASSERT_EQ(dbmaint({"verify"}).exit_code, 0);
    r = dbmaint({"restore", backup.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(contains(r.out, "media_files")) << r.out;
    EXPECT_EQ(dump(db), good);
    EXPECT_EQ(dbmaint({"check", "--full"}).exit_code, 0);
    fault.observed(fmt::format("check said {}; after the restore the rows are {}",
                               checked[0]["status"].get<std::string>(),
                               dump(db) == good ? "the same as before" : "DIFFERENT"));
}

FAULT_TEST_F(DbmaintCli, ATamperedOrTruncatedBackupIsRefusedWithTheLiveDatabaseUntouched) {
    FaultReport fault("restore of a tampered or truncated backup", "refused, the live database untouched");
    make({.completed_old = 500});
    ASSERT_EQ(dbmaint({"backup"}).exit_code, 0);
    const auto backup = backups_in(backups).at(0);
    const auto refused = expect_damage_refused(backup);
    // sha256sum agrees with the sidecar's format.
    auto sums =
        run_command({"sha256sum", "-c", backup.filename().string() + ".sha256"}, {}, 30s, {.working_dir = backups});
    EXPECT_EQ(sums.exit_code, 0) << sums.out << sums.err;
    fault.observed(fmt::format("{}; sha256sum -c on the sidecar exit {}", refused, sums.exit_code));
}

TEST_F(DbmaintCli, RestoreWaitsForNoOneAndSaysWhichLockIsHeld) {
    make({.completed_old = 10});
    ASSERT_EQ(dbmaint({"backup"}).exit_code, 0);
    const auto backup = backups_in(backups).at(0);
    {
        auto held = LockFile::acquire(state / "sync.lock", 0s).value();
        auto r = dbmaint({"restore", backup.string()});
        EXPECT_EQ(r.exit_code, 75) << r.err;
        EXPECT_TRUE(contains(r.err, "sync.lock")) << r.err;
    }
    EXPECT_EQ(dbmaint({"restore", backup.string(), "--lock-timeout", "5s"}).exit_code, 0);
}

TEST_F(DbmaintCli, ABackupTakenWhileAnotherProcessWritesCompletesAndPassesIntegrityCheck) {
    make_large(5000);
    std::atomic<bool> stop{false};
    std::atomic<int> written{0};
    std::string writer_error;
    std::thread writer([&] {
        try {
            SQLite::Database w(db.string(), SQLite::OPEN_READWRITE, 5000);
            while (!stop) {
                w.exec(fmt::format("INSERT INTO media_files (source, rel_path, state) VALUES ('/w', 'w-{}', 'pending')",
                                   written.load()));
                ++written;
            }
        } catch (const std::exception& e) {
            writer_error = e.what();
        }
    });
    CommandResult r;
    for (int i = 0; i < 3 && r.exit_code != 0; ++i) {
        r = dbmaint({"backup", "--format", "json"});
        if (r.exit_code == 73) std::this_thread::sleep_for(1100ms);  // one backup per second
    }
    const int during = written.load();
    stop = true;
    writer.join();
    EXPECT_EQ(writer_error, "");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_GT(during, 0);
    const fs::path backup = parse_records(r.out).at(0)["path"].get<std::string>();
    auto integrity = run_command({"sqlite3", backup.string(), "PRAGMA integrity_check"});
    EXPECT_EQ(integrity.out, "ok\n");
    EXPECT_EQ(dbmaint({"verify", backup.string()}).exit_code, 0);
}

TEST_F(DbmaintCli, ABackupOnAFullDiskFailsAndLeavesNoFileUnderAFinalName) {
    make_large(3000);  // about 7 MiB
    const auto small = dir / "small";
    fs::create_directories(small);
    nasops::testing::TmpfsMount mount(small, "1m");
    auto r = dbmaint({"backup", "--backup-dir", small.string()});
    EXPECT_TRUE(r.exit_code == 73 || r.exit_code == 74) << r.exit_code << " " << r.err;
    EXPECT_TRUE(backups_in(small).empty());
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(small)) left.push_back(e.path().filename().string());
    EXPECT_TRUE(left.empty()) << left.front();
}

FAULT_TEST_F(DbmaintCli, KillingABackupAtAnyMomentLeavesOnlyWholeBackups) {
    FaultReport fault("dbmaint backup killed (kill -9 at 5, 40, 150, 400 ms)",
                      "only whole backups under final names, each verifying; the live database unchanged");
    make_large(20000);  // about 45 MiB
    const auto live = dump(db);
    for (auto delay : {5ms, 40ms, 150ms, 400ms}) {
        ChildProcess child(argv({"backup"}));
        std::this_thread::sleep_for(delay);
        child.signal(SIGKILL);
        child.wait();
        for (const auto& b : backups_in(backups)) {
            // A file under a final name is a whole database (it was fsync'd
            // before the rename); with its sidecar, it verifies.
            EXPECT_EQ(run_command({"sqlite3", b.string(), "PRAGMA integrity_check"}).out, "ok\n") << b;
            if (fs::exists(b.string() + ".sha256")) {
                EXPECT_EQ(dbmaint({"verify", b.string()}).exit_code, 0) << b;
            }
        }
        std::this_thread::sleep_for(1100ms);  // one backup per second
    }
    auto r = dbmaint({"backup"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::size_t whole = 0, temporary = 0;
    for (const auto& e : fs::directory_iterator(backups)) {
        EXPECT_FALSE(e.path().filename().string().ends_with(".tmp")) << e.path();
        if (e.path().filename().string().ends_with(".tmp")) ++temporary;
    }
    for (const auto& b : backups_in(backups))
        if (run_command({"sqlite3", b.string(), "PRAGMA integrity_check"}).out == "ok\n") ++whole;
    EXPECT_EQ(dump(db), live);
    fault.observed(fmt::format("{} backups, {} whole; {} temporary files left; live database {}",
                               backups_in(backups).size(), whole, temporary,
                               dump(db) == live ? "unchanged" : "CHANGED"));
}

TEST_F(DbmaintCli, KillingARestoreAtAnyMomentLeavesTheOldDatabaseOrTheNewOne) {
    make_large(20000);
    ASSERT_EQ(dbmaint({"backup"}).exit_code, 0);
    const auto backup = backups_in(backups).at(0);
    const auto restored = dump(backup);
    {
        SQLite::Database raw(db.string(), SQLite::OPEN_READWRITE);
        raw.exec("DELETE FROM media_files WHERE id % 3 = 0");
        raw.exec("INSERT INTO media_files (source, rel_path, state) VALUES ('/s', 'after', 'pending')");
    }
    const auto old = dump(db);
    ASSERT_NE(old, restored);
    for (auto delay : {5ms, 40ms, 150ms, 400ms}) {
        ChildProcess child(argv({"restore", backup.string()}));
        std::this_thread::sleep_for(delay);
        child.signal(SIGKILL);
        child.wait();
        const auto now = dump(db);
        EXPECT_TRUE(now == old || now == restored) << "after " << delay.count() << " ms: a mix";
        auto check = dbmaint({"check", "--full"});
        EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
        std::this_thread::sleep_for(1100ms);  // a new before-restore name
    }
    auto r = dbmaint({"restore", backup.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(dump(db), restored);
    EXPECT_FALSE(fs::exists(state / ".nasops.db.restore-tmp"));
}

TEST_F(DbmaintCli, DailyRunsEveryStepAndSaysSoInOneLine) {
    make({.completed_old = 120, .completed_new = 3, .pending_old = 4});
    auto r = dbmaint({"daily", "--dry-run", "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> steps;
    for (const auto& rec : parse_records(r.out)) steps.push_back(rec["step"]);
    EXPECT_EQ(steps,
              (std::vector<std::string>{"check", "purge", "vacuum", "analyze", "checkpoint", "backup", "retention"}));
    EXPECT_EQ(parse_records(r.out)[1]["rows"], 120);
    EXPECT_FALSE(fs::exists(backups));

    r = dbmaint({"daily"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(std::ranges::count(r.out, '\n'), 1) << r.out;
    EXPECT_TRUE(contains(r.out, "purge 120 rows")) << r.out;
    EXPECT_EQ(nasops::testing::dump_query(db, "SELECT count(*) FROM media_files"), "7\n");
    EXPECT_EQ(backups_in(backups).size(), 1U);
    std::this_thread::sleep_for(1100ms);  // one backup per second
    r = dbmaint({"daily", "--quiet"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
}

TEST_F(DbmaintCli, DailyStopsAtACorruptDatabaseWithItsCode) {
    make({.completed_old = 3000});
    nasops::testing::corrupt_pages(db);
    auto r = dbmaint({"daily", "--format", "json"});
    EXPECT_EQ(r.exit_code, 2);
    const auto records = parse_records(r.out);
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0]["step"], "check");
    EXPECT_EQ(records[0]["status"], "critical");
    EXPECT_FALSE(fs::exists(backups));
}

TEST_F(DbmaintCli, PurgingAMillionRowsWhileSyncRunsInALoopNeverMakesSyncWaitOrFail) {
    const int k_old = 1'000'000;
    make({.completed_old = k_old, .completed_new = 10, .pending_old = 30, .failed_old = 20});
    const auto media = dir / "media";
    const auto nas = dir / "nas";
    fs::create_directories(media);
    fs::create_directories(nas);
    write_file(config, nasops::testing::paths_config(dir.path()) +
                           fmt::format("\n[sync]\nsources = [\"{}\"]\ntarget = \"{}\"\nmin_age = \"0s\"\n",
                                       media.string(), nas.string()));
    ChildProcess purge(argv({"purge", "--format", "json"}), {.stdout_file = dir / "purge.out"});
    int runs = 0;
    while (purge.running() || runs == 0) {
        write_file(media / fmt::format("clip-{}.mp4", runs), "frames " + std::to_string(runs));
        nasops::testing::age_file(media / fmt::format("clip-{}.mp4", runs));
        auto r = nasops::testing::run_tool("sync", {"run", "--config", config.string()});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_FALSE(contains(r.err, "busy") || contains(r.err, "locked")) << r.err;
        ++runs;
    }
    ASSERT_EQ(purge.wait(), 0) << read_file(dir / "purge.out");
    const auto records = parse_records(read_file(dir / "purge.out"));
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0]["details"]["tables"]["media_files"], k_old);
    EXPECT_EQ(nasops::testing::dump_query(db, "SELECT state || ' ' || count(*) FROM media_files GROUP BY state"),
              fmt::format("completed {}\nfailed 20\npending 30\n", 10 + runs));
    EXPECT_GT(runs, 1);
}

TEST_F(DbmaintCli, AFailedNightBecomesOneNotificationThroughNasopsAlert) {
    nasops::testing::HttpSink sink(dir / "sink");
    write_file(config, nasops::testing::paths_config(dir.path()) +
                           "\n[alert]\ndefault_channels = [\"hook\"]\n\n[[alert.channel]]\nname = \"hook\"\n"
                           "type = \"webhook\"\nurl = \"" +
                           sink.url() +
                           "\"\ntimeout = \"5s\"\n\n[[alert.rule]]\nname = \"dbmaint_failed\"\n"
                           "match = { kind = \"maint\", status = \"=~critical|unknown\" }\nseverity = \"critical\"\n"
                           "summary = \"nasops-dbmaint {{step}}: {{message}}\"\n");
    make_large(3000);  // about 7 MiB
    auto night = dbmaint({"daily", "--format", "json"});
    ASSERT_EQ(night.exit_code, 0) << night.err;
    auto alert = nasops::testing::run_tool("alert", {"--config", config.string()}, {}, night.out);
    EXPECT_EQ(alert.exit_code, 0) << alert.err;
    EXPECT_TRUE(sink.requests().empty());

    // The next night's backup goes to a disk that is full: that step fails.
    const auto small = dir / "small";
    fs::create_directories(small);
    nasops::testing::TmpfsMount mount(small, "1m");
    std::this_thread::sleep_for(1100ms);  // one backup per second
    night = dbmaint({"daily", "--format", "json", "--backup-dir", small.string()});
    ASSERT_TRUE(night.exit_code == 73 || night.exit_code == 74) << night.exit_code << night.err;
    const auto records = parse_records(night.out);
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.back()["step"], "backup");
    EXPECT_EQ(records.back()["status"], "critical");
    alert = nasops::testing::run_tool("alert", {"--config", config.string()}, {}, night.out);
    EXPECT_EQ(alert.exit_code, 2) << alert.err;  // a critical alert fires
    const auto requests = sink.requests();
    ASSERT_EQ(requests.size(), 1U);
    const auto body = requests[0]["body"].get<std::string>();
    EXPECT_TRUE(contains(body, "dbmaint_failed")) << body;
    EXPECT_TRUE(contains(body, "nasops-dbmaint backup")) << body;
}

TEST_F(DbmaintCli, AGzipBackupIsReadByGzipAndSqlite3AndRestoresTheExactRows) {
    make({.completed_old = 3000, .pending_old = 40, .failed_old = 5});
    auto backed = dbmaint({"backup", "--gzip", "--format", "json"});
    ASSERT_EQ(backed.exit_code, 0) << backed.err;
    const fs::path gz = parse_records(backed.out).at(0)["path"].get<std::string>();
    ASSERT_EQ(gz.parent_path(), backups);
    ASSERT_TRUE(gz.filename().string().ends_with(".db.gz")) << gz;
    EXPECT_TRUE(backups_in(backups).empty());
    const auto good = dump(db);
    // The tools an operator has: gzip, zcat, sqlite3, sha256sum.
    auto tested = run_command({"gzip", "-t", gz.string()});
    EXPECT_EQ(tested.exit_code, 0) << tested.err;
    EXPECT_EQ(dump_gzipped(gz), good);
    auto sums = run_command({"sha256sum", "-c", gz.filename().string() + ".sha256"}, {}, 30s, {.working_dir = backups});
    EXPECT_EQ(sums.exit_code, 0) << sums.out << sums.err;
    EXPECT_EQ(dbmaint({"verify"}).exit_code, 0);

    nasops::testing::corrupt_pages(db);
    ASSERT_EQ(dbmaint({"check"}).exit_code, 2);
    auto r = dbmaint({"restore", gz.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(dump(db), good);
    EXPECT_EQ(dbmaint({"check", "--full"}).exit_code, 0);
    EXPECT_FALSE(fs::exists(state / ".nasops.db.restore-tmp"));
}

TEST_F(DbmaintCli, ATamperedOrTruncatedGzipBackupIsRefusedWithTheLiveDatabaseUntouched) {
    make({.completed_old = 500});
    ASSERT_EQ(dbmaint({"backup", "--gzip"}).exit_code, 0);
    const auto gz = backups_in(backups, ".gz").at(0);
    expect_damage_refused(gz);
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(backups)) left.push_back(e.path().filename().string());
    EXPECT_EQ(left.size(), 2U) << left.front();
}

TEST_F(DbmaintCli, KillingAGzipBackupAtAnyMomentLeavesOnlyWholeBackups) {
    make_large(20000);  // about 45 MiB
    const auto live = dump(db);
    for (auto delay : {5ms, 40ms, 150ms, 400ms, 800ms}) {
        ChildProcess child(argv({"backup", "--gzip"}));
        std::this_thread::sleep_for(delay);
        child.signal(SIGKILL);
        child.wait();
        EXPECT_TRUE(backups_in(backups).empty());
        for (const auto& gz : backups_in(backups, ".gz")) {
            // A file under a final name is a whole gzip stream of a whole
            // database (fsync'd before the rename); with its sidecar, it verifies.
            EXPECT_EQ(run_command({"gzip", "-t", gz.string()}).exit_code, 0) << gz;
            EXPECT_EQ(dump_gzipped(gz), live) << gz;
            if (fs::exists(gz.string() + ".sha256")) {
                EXPECT_EQ(dbmaint({"verify", gz.string()}).exit_code, 0) << gz;
            }
        }
        std::this_thread::sleep_for(1100ms);  // one backup per second
    }
    auto r = dbmaint({"backup", "--gzip"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const auto& e : fs::directory_iterator(backups)) {
        const auto name = e.path().filename().string();
        EXPECT_TRUE(name.ends_with(".db.gz") || name.ends_with(".db.gz.sha256")) << name;
    }
    EXPECT_EQ(dump(db), live);
}

TEST_F(DbmaintCli, RetentionCountsPlainAndGzipBackupsAndTheConfigTurnsGzipOn) {
    make({.completed_old = 50});
    ASSERT_EQ(dbmaint({"backup"}).exit_code, 0);
    std::this_thread::sleep_for(1100ms);  // one backup per second
    ASSERT_EQ(dbmaint({"backup", "--gzip"}).exit_code, 0);
    std::this_thread::sleep_for(1100ms);
    const auto oldest = backups_in(backups).at(0);
    // [dbmaint] gzip = true: the nightly round writes .db.gz; keep_last 2 counts both kinds.
    write_file(config,
               nasops::testing::paths_config(dir.path()) + "\n[dbmaint]\ngzip = true\nkeep_last = 2\nkeep_days = 0\n");
    auto r = dbmaint({"daily", "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto records = parse_records(r.out);
    ASSERT_EQ(records.back()["step"], "retention");
    EXPECT_EQ(records.back()["details"]["deleted"], nlohmann::json::array({oldest.filename().string()}));
    EXPECT_TRUE(backups_in(backups).empty());
    EXPECT_EQ(backups_in(backups, ".gz").size(), 2U);
    EXPECT_FALSE(fs::exists(oldest.string() + ".sha256"));
}

// A backup run alone (a cron line of its own, or by hand before an upgrade)
// tells the fleet: the backup figures of nasops_dbmaint.prom follow it, and
// the last check's outcome and time stay what the check wrote.
TEST_F(DbmaintCli, ABackupAloneUpdatesTheBackupMetricsAndKeepsTheLastCheck) {
    make({.completed_new = 1});
    const auto textfiles = dir / "textfiles";
    fs::create_directories(textfiles);
    const auto prom = textfiles / "nasops_dbmaint.prom";
    const auto value_of = [&](const std::string& family) {
        const auto text = read_file(prom);
        const auto at = text.find("\n" + family + " ");
        return at == std::string::npos
                   ? std::string("absent")
                   : text.substr(at + family.size() + 2, text.find('\n', at + 1) - at - family.size() - 2);
    };

    // A backup before any check: the backup figures, no check to speak of.
    auto r = dbmaint({"backup", "--textfile-dir", textfiles.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(fs::exists(prom)) << "backup wrote no textfile";
    EXPECT_EQ(value_of("nasops_dbmaint_backups"), "1");
    EXPECT_NE(value_of("nasops_dbmaint_last_backup_timestamp_seconds"), "0");
    EXPECT_EQ(value_of("nasops_dbmaint_check_status"), "absent");

    r = dbmaint({"check", "--textfile-dir", textfiles.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto checked_at = value_of("nasops_dbmaint_last_check_timestamp_seconds");
    EXPECT_EQ(value_of("nasops_dbmaint_check_status"), "0");
    const auto first_backup = value_of("nasops_dbmaint_last_backup_timestamp_seconds");

    std::this_thread::sleep_for(1100ms);  // backup names have a resolution of one second
    r = dbmaint({"backup", "--textfile-dir", textfiles.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(value_of("nasops_dbmaint_backups"), "2");
    EXPECT_GT(std::stod(value_of("nasops_dbmaint_last_backup_timestamp_seconds")), std::stod(first_backup));
    EXPECT_EQ(value_of("nasops_dbmaint_check_status"), "0");
    EXPECT_EQ(value_of("nasops_dbmaint_last_check_timestamp_seconds"), checked_at);
    const auto lint = run_command({"/usr/bin/promtool", "check", "metrics"}, read_file(prom));
    EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;

    // A dry run writes nothing.
    const auto before = read_file(prom);
    r = dbmaint({"backup", "--dry-run", "--textfile-dir", textfiles.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(prom), before);
}
