// purge: what the tools declare, the overrides of [dbmaint.retention], and
// batched deletes that never touch a row a tool keeps.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "alert/state_store.hpp"
#include "dbmaint/purge.hpp"
#include "fixtures/sample_db.hpp"
#include "fixtures/temp_dir.hpp"
#include "sync/schema.hpp"

using namespace nasops;
using namespace nasops::dbmaint;
using namespace std::chrono_literals;
using nasops::testing::dump_query;
using nasops::testing::TempDir;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

class DbmaintPurge : public ::testing::Test {
protected:
    DbmaintPurge() {
        nasops::testing::make_database(
            db, sync::migrations(),
            {.completed_old = 23, .completed_new = 4, .pending_old = 5, .failed_old = 6, .transferring_old = 2}, now);
        auto store = Store::open(db, alert::migrations()).value();
        const auto old_ts = rfc3339_millis(now - 24h * 200);
        const auto new_ts = rfc3339_millis(now - 24h * 10);
        for (int i = 0; i < 9; ++i)
            store.db().exec(
                fmt::format("INSERT INTO alert_history (at, event) VALUES ('{}', 'fired')", i < 7 ? old_ts : new_ts));
        // Two old notifications: one delivered, one still queued for a channel.
        store.db().exec(
            fmt::format("INSERT INTO alert_notifications (id, created_at, group_key, payload) VALUES "
                        "(1, '{0}', 'g', '{{}}'), (2, '{0}', 'g', '{{}}')",
                        old_ts));
        store.db().exec(
            "INSERT INTO alert_deliveries (notification_id, channel, state) VALUES "
            "(1, 'ops', 'delivered'), (2, 'ops', 'queued'), (2, 'mail', 'delivered')");
    }
    std::string count(const std::string& where) {
        return dump_query(db, "SELECT count(*) FROM media_files WHERE " + where);
    }
    TempDir dir{"nasops-dbmaint-purge"};
    fs::path db = dir / "nasops.db";
    SystemTimePoint now = std::chrono::system_clock::now();
};

}  // namespace

TEST_F(DbmaintPurge, ToolsDeclareTheirTablesInTheirMigrations) {
    SQLite::Database raw(db.string(), SQLite::OPEN_READONLY);
    const auto declared = read_declarations(raw, db, {}).value();
    std::vector<std::string> tables;
    for (const auto& d : declared) tables.push_back(d.table);
    EXPECT_EQ(tables, (std::vector<std::string>{"alert_history", "alert_notifications", "media_files"}));
    EXPECT_EQ(declared[2].component, "sync");
    EXPECT_EQ(declared[2].time_column, "completed_at");
    EXPECT_EQ(declared[2].retention, 24h * 30);
    EXPECT_EQ(declared[0].retention, 24h * 90);
    EXPECT_FALSE(declared[2].overridden);

    const auto overridden = read_declarations(raw, db, {{"media_files", 24h * 7}}).value();
    EXPECT_EQ(overridden[2].retention, 24h * 7);
    EXPECT_TRUE(overridden[2].overridden);

    auto unknown = read_declarations(raw, db, {{"media_file", 24h}});
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, ExitCode::config);
    EXPECT_TRUE(contains(unknown.error().message, "media_file:")) << unknown.error().message;
    EXPECT_TRUE(contains(unknown.error().message, "media_files")) << unknown.error().message;
}

TEST_F(DbmaintPurge, DeletesOnlyCompletedRowsPastRetentionAndDryRunDeletesNothing) {
    const auto dry = purge_database(db, {}, PurgeOptions{.now = now, .dry_run = true}).value();
    EXPECT_EQ(dry.details.at("tables").at("media_files").get<int>(), 23);
    EXPECT_EQ(dry.details.at("tables").at("alert_history").get<int>(), 7);
    EXPECT_EQ(dry.details.at("tables").at("alert_notifications").get<int>(), 1);
    EXPECT_EQ(dry.rows, 31);
    EXPECT_EQ(count("1"), "40\n");

    const auto r = purge_database(db, {}, PurgeOptions{.batch = 5, .pause = 0ms, .now = now}).value();
    EXPECT_EQ(r.rows, 31);
    EXPECT_TRUE(contains(r.message, "media_files 23")) << r.message;
    EXPECT_EQ(count("state = 'completed'"), "4\n");
    EXPECT_EQ(count("state = 'pending'"), "5\n");
    EXPECT_EQ(count("state = 'failed'"), "6\n");
    EXPECT_EQ(count("state = 'transferring'"), "2\n");
    EXPECT_EQ(dump_query(db, "SELECT count(*) FROM alert_history"), "2\n");
    EXPECT_EQ(dump_query(db, "SELECT id FROM alert_notifications"), "2\n");  // still queued for a channel
    EXPECT_EQ(dump_query(db, "SELECT count(*) FROM alert_deliveries"), "2\n");

    const auto again = purge_database(db, {}, PurgeOptions{.now = now}).value();
    EXPECT_EQ(again.rows, 0);
}

TEST_F(DbmaintPurge, AnOverrideShortensOrLengthensARetention) {
    auto r = purge_database(db, {{"media_files", 24h * 365}}, PurgeOptions{.now = now, .dry_run = true}).value();
    EXPECT_EQ(r.details.at("tables").at("media_files").get<int>(), 0);
    r = purge_database(db, {{"media_files", 12h}}, PurgeOptions{.now = now}).value();
    EXPECT_EQ(r.details.at("tables").at("media_files").get<int>(), 27);
    EXPECT_EQ(count("state = 'completed'"), "0\n");
    EXPECT_EQ(count("1"), "13\n");
}

TEST_F(DbmaintPurge, ADatabaseWithoutDeclarationsHasNothingToPurge) {
    const auto other = dir / "bare.db";
    {
        SQLite::Database raw(other.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        raw.exec("CREATE TABLE t (x)");
    }
    const auto r = purge_database(other, {}, PurgeOptions{.now = now}).value();
    EXPECT_EQ(r.rows, 0);
    EXPECT_TRUE(contains(r.message, "no table is declared")) << r.message;
    EXPECT_EQ(purge_database(dir / "none.db", {}, PurgeOptions{.now = now}).error().code, ExitCode::no_input);
}

TEST(DbmaintPurgeBatch, TheNextBatchFitsTheTargetAtTheLastRateAndGrowsAtMostTwofold) {
    const PurgeOptions options{.batch = 5000, .target = 20ms};
    EXPECT_EQ(next_batch_size(1000, 40ms, options), 500);                // twice too slow: half
    EXPECT_EQ(next_batch_size(1000, 200ms, options), 100);               // ten times: a tenth
    EXPECT_EQ(next_batch_size(250, 5ms, options), 500);                  // fast: twice, not four times
    EXPECT_EQ(next_batch_size(4000, 1ms, options), 5000);                // never over batch
    EXPECT_EQ(next_batch_size(100, 2000ms, options), k_min_batch);       // never under the floor
    EXPECT_EQ(next_batch_size(100, 0ms, options), 200);                  // a batch too quick to time
    EXPECT_EQ(next_batch_size(5, 1000ms, PurgeOptions{.batch = 5}), 5);  // a batch under the floor stays
    // A batch is also kept under max_wal_frames (500) pages in the WAL.
    EXPECT_EQ(next_batch_size(1000, 10ms, options, 1000), 500);  // fast, but twice the pages: half
    EXPECT_EQ(next_batch_size(1000, 10ms, options, 250), 2000);  // few pages: time and growth decide
    EXPECT_EQ(next_batch_size(1000, 40ms, options, 250), 500);   // the slower bound wins
}
