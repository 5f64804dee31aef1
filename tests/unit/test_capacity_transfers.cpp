#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <chrono>

#include "capacity/samples.hpp"
#include "capacity/transfers.hpp"
#include "fixtures/temp_dir.hpp"
#include "nasops/util/clock.hpp"
#include "sync/schema.hpp"

using namespace nasops;
using namespace nasops::capacity;

namespace {

constexpr std::int64_t k_day = 86400;
constexpr std::int64_t k_t0 = 1'780'012'800;  // 2026-05-29 00:00 UTC

}  // namespace

TEST(CapacityTransfers, GrowthPeakAndJobsFromAKnownHistory) {
    // Day d has 100 + 10d uploads of 1 MB, each taking 1 s; every day half of them in hour 20.
    TransferHistory h;
    h.first_day = k_t0 / k_day;
    for (int d = 0; d < 10; ++d) {
        const double n = 100 + 10 * d;
        h.files.push_back(n);
        h.bytes.push_back(n * 1e6);
        h.files_by_hour[20] += n / 2;
        for (int hour = 0; hour < 10; ++hour) h.files_by_hour[static_cast<std::size_t>(hour)] += n / 20;
    }
    h.job_bytes_per_second = 1e6;
    const auto f = forecast_transfers(h, 7);
    ASSERT_TRUE(f.enough);
    EXPECT_EQ(f.days, 10);
    EXPECT_NEAR(f.daily_files, 145, 1e-9);
    EXPECT_NEAR(f.files_growth_per_day, 10, 1e-9);
    EXPECT_NEAR(f.predicted_daily_files, 100 + 10 * 16, 1e-9);  // day 9 + 7
    EXPECT_NEAR(f.predicted_daily_bytes, 260e6, 1e-3);
    EXPECT_NEAR(f.peak_multiplier, 12.0, 1e-9);  // half the day's files in one of 24 hours
    EXPECT_NEAR(f.job_bytes_per_second.value(), 1e6, 1e-6);
    // Peak hour: 260 MB / 24 * 12 = 130 MB in an hour: 36.1 kB/s, one job at 1 MB/s.
    EXPECT_EQ(f.recommended_jobs, 1);
    h.job_bytes_per_second = 1e3;  // each upload took 1000 s: 1 kB/s a job, 37 jobs
    EXPECT_EQ(forecast_transfers(h, 7).recommended_jobs, 37);
}

TEST(CapacityTransfers, TooLittleHistoryIsSaid) {
    TransferHistory h;
    h.files = {3};
    h.bytes = {3};
    const auto f = forecast_transfers(h, 7);
    EXPECT_FALSE(f.enough);
    EXPECT_EQ(f.note, "insufficient data: 1 day of uploads");
}

TEST(CapacityTransfers, ReadsSyncAttemptsByDayAndHour) {
    nasops::testing::TempDir dir;
    auto store = Store::open(dir / "nasops.db", sync::migrations()).value();
    auto& db = store.db();
    db.exec("INSERT INTO media_files (id, source, rel_path, state) VALUES (1, '/s', 'a', 'completed')");
    const auto iso = [](std::int64_t ts) { return rfc3339_millis(SystemTimePoint{std::chrono::seconds{ts}}); };
    SQLite::Statement ins(db,
                          "INSERT INTO sync_attempts (file_id, finished_at, outcome, bytes, seconds)"
                          " VALUES (1, ?, ?, ?, ?)");
    const auto add = [&](std::int64_t ts, const char* outcome, std::int64_t bytes, double seconds) {
        ins.bind(1, iso(ts));
        ins.bind(2, outcome);
        ins.bind(3, bytes);
        ins.bind(4, seconds);
        ins.exec();
        ins.reset();
    };
    add(k_t0 + 5 * 3600, "completed", 1000, 1);
    add(k_t0 + 5 * 3600 + 60, "completed", 3000, 1);
    add(k_t0 + 5 * 3600 + 120, "failed", 500, 1);  // not a transfer that happened
    add(k_t0 + 2 * k_day + 7 * 3600, "completed", 2000, 2);
    add(k_t0 + 4 * k_day + 3600, "completed", 9000, 1);  // today
    const auto h = read_transfer_history(db, k_t0 - k_day, k_t0 + 4 * k_day + 7200).value();
    EXPECT_EQ(h.first_day, k_t0 / k_day);
    // Up to yesterday, the empty days included: today's upload is not counted, its day is not over.
    EXPECT_EQ(h.files, (std::vector<double>{2, 0, 1, 0}));
    EXPECT_EQ(h.bytes, (std::vector<double>{4000, 0, 2000, 0}));
    EXPECT_EQ(h.files_by_hour[5], 2);
    EXPECT_EQ(h.files_by_hour[7], 1);
    EXPECT_EQ(h.files_by_hour[1], 0);  // today's
    // Throughput over the same days: today's upload (9000 B in 1 s) is not in it.
    EXPECT_EQ(h.job_bytes_per_second, 1500);
    // A database without nasops-sync's tables: no history, no error.
    nasops::testing::TempDir other;
    auto plain = Store::open(other / "nasops.db", capacity::migrations()).value();
    EXPECT_TRUE(read_transfer_history(plain.db(), 0, k_t0).value().files.empty());
}
