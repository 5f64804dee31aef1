#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "fixtures/temp_dir.hpp"
#include "nasops/db/store.hpp"
#include "nasops/db/transfer_stats.hpp"
#include "sync/schema.hpp"

using namespace nasops;
using namespace std::chrono_literals;

namespace {

const SystemTimePoint k_now = SystemTimePoint{std::chrono::seconds(1'800'000'000)};

// A database file with nasops-sync's own tables, filled row by row.
class TransferStats : public ::testing::Test {
protected:
    void SetUp() override {
        auto opened = Store::open(m_dir / "nasops.db", sync::migrations());
        ASSERT_TRUE(opened) << opened.error().message;
        m_store.emplace(std::move(*opened));
    }

    SQLite::Database& db() { return m_store->db(); }

    std::int64_t file(const std::string& state, Duration discovered_ago, std::int64_t size = 100) {
        SQLite::Statement q(db(),
                            "INSERT INTO media_files(source, rel_path, size, state, discovered_at)"
                            " VALUES('/srv', ?, ?, ?, ?)");
        q.bind(1, fmt::format("f{}.mp4", ++m_files));
        q.bind(2, size);
        q.bind(3, state);
        q.bind(4, rfc3339_millis(k_now - discovered_ago));
        q.exec();
        return db().getLastInsertRowid();
    }

    void attempt(std::int64_t id, const std::string& outcome, Duration ago, std::int64_t bytes, double seconds) {
        SQLite::Statement q(db(),
                            "INSERT INTO sync_attempts(file_id, finished_at, outcome, bytes, seconds)"
                            " VALUES(?, ?, ?, ?, ?)");
        q.bind(1, id);
        q.bind(2, rfc3339_millis(k_now - ago));
        q.bind(3, outcome);
        q.bind(4, bytes);
        q.bind(5, seconds);
        q.exec();
    }

    nasops::testing::TempDir m_dir;
    std::optional<Store> m_store;
    int m_files = 0;
};

}  // namespace

TEST_F(TransferStats, AnEmptyDatabaseHasCountsButNoRatiosOrAges) {
    const auto queue = read_transfer_queue(db(), k_now);
    ASSERT_TRUE(queue) << queue.error().message;
    EXPECT_EQ(queue->queued(), 0u);
    EXPECT_EQ(queue->completed + queue->failed, 0u);
    EXPECT_FALSE(queue->oldest_pending_age);
    EXPECT_FALSE(queue->last_success);
    const auto window = read_transfer_window(db(), k_now - 1h);
    ASSERT_TRUE(window) << window.error().message;
    EXPECT_TRUE(window->per_attempt);
    EXPECT_FALSE(window->success_ratio());
    EXPECT_FALSE(window->bytes_per_second());
    EXPECT_FALSE(window->average_seconds);
}

TEST_F(TransferStats, TheQueueCountsStatesBytesAndTheOldestPendingFile) {
    file("pending", 30min, 1000);
    file("pending", 5min, 2000);
    file("transferring", 2h, 400);  // in transfer, not pending: not the oldest pending
    attempt(file("completed", 3h, 7), "completed", 2h, 7, 1.0);
    file("failed", 4h, 9);
    const auto queue = read_transfer_queue(db(), k_now);
    ASSERT_TRUE(queue) << queue.error().message;
    EXPECT_EQ(queue->pending, 2u);
    EXPECT_EQ(queue->transferring, 1u);
    EXPECT_EQ(queue->completed, 1u);
    EXPECT_EQ(queue->failed, 1u);
    EXPECT_EQ(queue->queued(), 3u);
    EXPECT_EQ(queue->bytes_queued, 3400u);
    EXPECT_EQ(queue->bytes_completed, 7u);
    EXPECT_EQ(queue->oldest_pending_age, Duration(30min));
    EXPECT_EQ(queue->last_success, rfc3339_millis(k_now - 2h));
}

TEST_F(TransferStats, APendingFileDiscoveredInTheFutureIsZeroOld) {
    file("pending", -5min);
    EXPECT_EQ(read_transfer_queue(db(), k_now)->oldest_pending_age, Duration(0));
}

TEST_F(TransferStats, AWindowCountsAttemptsFinishedWithinIt) {
    for (int i = 0; i < 3; ++i) attempt(file("completed", 50min), "completed", 40min, 30'000'000, 3.0);
    // Failed once, queued again: media_files alone would not show the failure.
    attempt(file("pending", 20min), "failed", 10min, 1000, 1.0);
    // Completed without taking time (nothing left to send): counted, not in the rate.
    attempt(file("completed", 20min), "completed", 10min, 5'000'000, 0.0);
    attempt(file("completed", 5h), "completed", 4h, 1, 100.0);  // outside the last hour

    struct Case {
        Duration span;
        std::uint64_t completed, failed;
        double ratio, rate, average;
    };
    const Case cases[] = {
        {1h, 4, 1, 0.8, 10e6, 9.0 / 4},
        {5h, 5, 1, 5.0 / 6, 90'000'001 / 109.0, 109.0 / 5},
    };
    for (const auto& c : cases) {
        const auto w = read_transfer_window(db(), k_now - c.span);
        ASSERT_TRUE(w) << w.error().message;
        EXPECT_TRUE(w->per_attempt);
        EXPECT_EQ(w->completed, c.completed) << format_duration(c.span);
        EXPECT_EQ(w->failed, c.failed) << format_duration(c.span);
        EXPECT_DOUBLE_EQ(w->success_ratio().value(), c.ratio) << format_duration(c.span);
        EXPECT_DOUBLE_EQ(w->bytes_per_second().value(), c.rate) << format_duration(c.span);
        EXPECT_DOUBLE_EQ(w->average_seconds.value(), c.average) << format_duration(c.span);
    }
    EXPECT_FALSE(read_transfer_window(db(), k_now - 1min)->success_ratio());
    // Up to 30 minutes ago: the three 3 s uploads only.
    const auto early = read_transfer_window(db(), k_now - 1h, k_now - 30min);
    ASSERT_TRUE(early) << early.error().message;
    EXPECT_EQ(early->completed, 3u);
    EXPECT_EQ(early->failed, 0u);
    EXPECT_DOUBLE_EQ(early->bytes_per_second().value(), 10e6);
}

TEST_F(TransferStats, CompletedUploadsAreListedOldestFirstWithinTheRange) {
    attempt(file("completed", 50min), "completed", 40min, 300, 3.0);
    attempt(file("pending", 20min), "failed", 10min, 1000, 1.0);  // not completed
    attempt(file("completed", 5h), "completed", 4h, 1, 100.0);
    attempt(file("completed", 5min), "completed", 1min, 7, 0.5);  // at `until`: not in
    const auto list = read_completed_uploads(db(), k_now - 5h, k_now - 1min);
    ASSERT_TRUE(list) << list.error().message;
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].finished, k_now - 4h);
    EXPECT_EQ((*list)[0].bytes, 1u);
    EXPECT_DOUBLE_EQ((*list)[0].seconds, 100.0);
    EXPECT_EQ((*list)[1].finished, k_now - 40min);
    EXPECT_EQ((*list)[1].bytes, 300u);
}

TEST_F(TransferStats, WithoutAttemptsTheFilesFinalStatesCount) {
    db().exec("DROP TABLE sync_attempts");
    auto done = [&](const std::string& state, Duration ago, std::int64_t bytes, double seconds) {
        const auto id = file(state, ago + 10min);
        SQLite::Statement q(db(), "UPDATE media_files SET completed_at = ?, bytes_sent = ?, seconds = ? WHERE id = ?");
        q.bind(1, rfc3339_millis(k_now - ago));
        q.bind(2, bytes);
        q.bind(3, seconds);
        q.bind(4, id);
        q.exec();
    };
    done("completed", 40min, 50'000'000, 10.0);
    done("completed", 30min, 50'000'000, 10.0);
    done("failed", 30min, 0, 0.0);
    done("completed", 3h, 1, 1.0);
    const auto w = read_transfer_window(db(), k_now - 1h);
    ASSERT_TRUE(w) << w.error().message;
    EXPECT_FALSE(w->per_attempt);
    EXPECT_EQ(w->completed, 2u);
    EXPECT_EQ(w->failed, 1u);
    EXPECT_DOUBLE_EQ(w->bytes_per_second().value(), 5e6);
    EXPECT_EQ(read_transfer_queue(db(), k_now)->last_success, rfc3339_millis(k_now - 30min));
    // The same rows are the completed uploads.
    const auto list = read_completed_uploads(db(), k_now - 1h, k_now);
    ASSERT_TRUE(list) << list.error().message;
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].finished, k_now - 40min);
    EXPECT_EQ((*list)[1].bytes, 50'000'000u);
}

TEST_F(TransferStats, MissingColumnsAreNamedAndAMissingTableIsNone) {
    EXPECT_EQ(missing_transfer_columns(db()), std::vector<std::string>{});
    EXPECT_TRUE(has_transfer_tables(db()).value());
    SQLite::Database other((m_dir / "other.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    EXPECT_EQ(missing_transfer_columns(other), std::nullopt);
    EXPECT_FALSE(has_transfer_tables(other).value());
    other.exec("CREATE TABLE media_files(id INTEGER PRIMARY KEY, state TEXT, discovered_at TEXT)");
    EXPECT_EQ(missing_transfer_columns(other),
              (std::vector<std::string>{"started_at", "completed_at", "bytes_sent", "seconds"}));
    EXPECT_FALSE(has_transfer_tables(other).value());
}

TEST_F(TransferStats, WithoutASizeColumnNothingIsCountedAsBytesQueued) {
    SQLite::Database other((m_dir / "other.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    other.exec(
        "CREATE TABLE media_files(id INTEGER PRIMARY KEY, state TEXT, discovered_at TEXT, started_at TEXT,"
        " completed_at TEXT, bytes_sent INTEGER, seconds REAL);"
        "INSERT INTO media_files(state, discovered_at) VALUES('pending', '2026-01-15T08:00:00.000Z')");
    EXPECT_EQ(missing_transfer_columns(other), std::vector<std::string>{});
    const auto queue = read_transfer_queue(other, k_now);
    ASSERT_TRUE(queue) << queue.error().message;
    EXPECT_EQ(queue->pending, 1u);
    EXPECT_EQ(queue->bytes_queued, 0u);
}

TEST_F(TransferStats, ATableThatCannotBeReadIsAnErrorNamingTheDatabase) {
    SQLite::Database other((m_dir / "other.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    const auto queue = read_transfer_queue(other, k_now);
    ASSERT_FALSE(queue);
    EXPECT_EQ(queue.error().code, ExitCode::io_error);
    EXPECT_NE(
        queue.error().message.find("database " + (m_dir / "other.db").string() + ": reading the transfer queue: "),
        std::string::npos)
        << queue.error().message;
}
