// check, stats, vacuum, analyze and checkpoint on real SQLite files.

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "dbmaint/analyze.hpp"
#include "dbmaint/check.hpp"
#include "dbmaint/database.hpp"
#include "dbmaint/stats.hpp"
#include "dbmaint/vacuum.hpp"
#include "fixtures/sample_db.hpp"
#include "fixtures/temp_dir.hpp"
#include "sync/schema.hpp"

using namespace nasops;
using namespace nasops::dbmaint;
using nasops::testing::TempDir;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

class DbmaintCheck : public ::testing::Test {
protected:
    void make(const nasops::testing::MediaRows& rows) {
        nasops::testing::make_database(db, sync::migrations(), rows, std::chrono::system_clock::now());
    }
    TempDir dir{"nasops-dbmaint-check"};
    fs::path db = dir / "nasops.db";
};

}  // namespace

TEST_F(DbmaintCheck, AMissingDatabaseIsUnknownNotAnError) {
    const auto r = check_database(db, CheckDepth::quick);
    EXPECT_EQ(r.status, ExitCode::unknown);
    EXPECT_TRUE(contains(r.message, "no database yet")) << r.message;
    EXPECT_FALSE(fs::exists(db));
}

TEST_F(DbmaintCheck, ASoundDatabasePassesWithItsSizes) {
    make({.completed_old = 50, .pending_old = 5});
    for (auto depth : {CheckDepth::quick, CheckDepth::full}) {
        const auto r = check_database(db, depth);
        EXPECT_EQ(r.status, ExitCode::ok) << r.message;
        EXPECT_EQ(r.bytes_before, fs::file_size(db));
        EXPECT_GT(r.details.at("page_count").get<int>(), 1);
        EXPECT_TRUE(r.details.contains("freelist_count"));
        EXPECT_TRUE(r.details.contains("wal_bytes"));
        EXPECT_TRUE(contains(r.message, depth == CheckDepth::full ? "integrity_check" : "quick_check")) << r.message;
    }
}

TEST_F(DbmaintCheck, AFileThatIsNotADatabaseIsCriticalWithSqlitesWords) {
    nasops::testing::write_file(db, std::string(8192, 'x'));
    const auto r = check_database(db, CheckDepth::quick);
    EXPECT_EQ(r.status, ExitCode::critical);
    EXPECT_TRUE(contains(r.message, "file is not a database")) << r.message;
}

TEST_F(DbmaintCheck, FlippedBytesAreCriticalAndTheFileIsLeftAsItIs) {
    make({.completed_old = 2000});
    nasops::testing::corrupt_pages(db);
    const auto before = nasops::testing::read_file(db);
    const auto r = check_database(db, CheckDepth::quick);
    EXPECT_EQ(r.status, ExitCode::critical) << r.message;
    EXPECT_TRUE(contains(r.message, "malformed") || contains(r.message, "corrupt") || contains(r.message, "Page") ||
                contains(r.message, "page"))
        << r.message;
    EXPECT_EQ(nasops::testing::read_file(db), before);
}

TEST_F(DbmaintCheck, FullFindsForeignKeyViolations) {
    make({.completed_old = 1});
    {
        SQLite::Database raw(db.string(), SQLite::OPEN_READWRITE);
        raw.exec("PRAGMA foreign_keys = OFF");
        raw.exec("INSERT INTO sync_attempts (file_id, finished_at, outcome) VALUES (999, 'x', 'failed')");
    }
    EXPECT_EQ(check_database(db, CheckDepth::quick).status, ExitCode::ok);
    const auto r = check_database(db, CheckDepth::full);
    EXPECT_EQ(r.status, ExitCode::critical);
    EXPECT_TRUE(contains(r.message, "sync_attempts")) << r.message;
}

TEST_F(DbmaintCheck, StatsCountRowsPerTableAndMediaByState) {
    make({.completed_old = 3, .completed_new = 2, .pending_old = 4, .failed_old = 1});
    const auto r = database_stats(db).value();
    EXPECT_EQ(r.details.at("tables").at("media_files").get<int>(), 10);
    EXPECT_EQ(r.details.at("media_files_by_state").at("completed").get<int>(), 5);
    EXPECT_EQ(r.details.at("media_files_by_state").at("pending").get<int>(), 4);
    EXPECT_EQ(r.details.at("media_files_by_state").at("failed").get<int>(), 1);
    const auto table = stats_table(r);
    EXPECT_TRUE(contains(table, "media_files")) << table;
    EXPECT_TRUE(contains(table, "completed")) << table;
    EXPECT_EQ(database_stats(dir / "none.db").error().code, ExitCode::no_input);
}

TEST_F(DbmaintCheck, VacuumRunsOnlyPastTheThresholdOrWhenForced) {
    make({.completed_old = 5000});
    {
        SQLite::Database raw(db.string(), SQLite::OPEN_READWRITE);
        raw.exec("DELETE FROM media_files WHERE id % 4 <> 0");
        raw.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    auto skipped = vacuum_database(db, VacuumRequest{.threshold = 0.99}).value();
    EXPECT_TRUE(contains(skipped.message, "nothing to do")) << skipped.message;
    EXPECT_EQ(skipped.bytes_after, skipped.bytes_before);

    auto dry = vacuum_database(db, VacuumRequest{.threshold = 0.1, .dry_run = true}).value();
    EXPECT_TRUE(contains(dry.message, "would rebuild")) << dry.message;
    EXPECT_EQ(file_bytes(db), *dry.bytes_before - file_bytes(wal_path(db)));

    auto done = vacuum_database(db, VacuumRequest{.threshold = 0.1}).value();
    EXPECT_LT(*done.bytes_after, *done.bytes_before) << done.message;
    EXPECT_EQ(check_database(db, CheckDepth::full).status, ExitCode::ok);
    EXPECT_EQ(nasops::testing::dump_query(db, "SELECT count(*) FROM media_files"), "1250\n");

    auto forced = vacuum_database(db, VacuumRequest{.threshold = 0.99, .force = Force::yes}).value();
    EXPECT_TRUE(contains(forced.message, "rebuilt")) << forced.message;
}

TEST_F(DbmaintCheck, VacuumIntoWritesACompactCopyAndRefusesAnExistingFile) {
    make({.completed_old = 100});
    const auto into = dir / "copy.db";
    auto r = vacuum_database(db, VacuumRequest{.into = into}).value();
    EXPECT_EQ(r.path, into.string());
    EXPECT_EQ(nasops::testing::dump_query(into, "SELECT count(*) FROM media_files"), "100\n");
    EXPECT_FALSE(fs::exists(into.string() + ".tmp"));
    auto again = vacuum_database(db, VacuumRequest{.into = into});
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ExitCode::cant_create);
    EXPECT_TRUE(contains(again.error().message, "exists")) << again.error().message;
}

TEST_F(DbmaintCheck, AnalyzeWritesStatisticsAndCheckpointEmptiesTheWal) {
    make({.completed_old = 200});
    SQLite::Database holder(db.string(), SQLite::OPEN_READWRITE);  // keeps the WAL from being removed
    holder.exec("PRAGMA journal_mode = WAL");
    holder.exec("UPDATE media_files SET size = size + 1");
    EXPECT_GT(file_bytes(wal_path(db)), 0U);

    EXPECT_TRUE(contains(analyze_database(db, true).value().message, "would"));
    auto analyzed = analyze_database(db, false).value();
    EXPECT_EQ(analyzed.status, ExitCode::ok);
    EXPECT_GT(holder.execAndGet("SELECT count(*) FROM sqlite_stat1").getInt(), 0);

    auto dry = checkpoint_database(db, true).value();
    EXPECT_GT(file_bytes(wal_path(db)), 0U);
    EXPECT_EQ(dry.bytes_before, dry.bytes_after);
    auto r = checkpoint_database(db, false).value();
    EXPECT_EQ(r.status, ExitCode::ok) << r.message;
    EXPECT_GT(*r.bytes_before, 0U);
    EXPECT_EQ(*r.bytes_after, 0U);
    EXPECT_EQ(file_bytes(wal_path(db)), 0U);
}

TEST_F(DbmaintCheck, ACheckpointAReaderHoldsBackIsAWarning) {
    make({.completed_old = 200});
    SQLite::Database writer(db.string(), SQLite::OPEN_READWRITE);
    writer.exec("UPDATE media_files SET size = size + 1");
    SQLite::Database reader(db.string(), SQLite::OPEN_READONLY);
    reader.exec("BEGIN");
    reader.execAndGet("SELECT count(*) FROM media_files");  // a read transaction on the old snapshot
    writer.exec("UPDATE media_files SET size = size + 1");
    auto r = checkpoint_database(db, false).value();
    EXPECT_EQ(r.status, ExitCode::warning) << r.message;
    EXPECT_TRUE(r.details.at("busy").get<bool>());
    reader.exec("COMMIT");
}
