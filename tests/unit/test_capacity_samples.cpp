#include <gtest/gtest.h>

#include <chrono>

#include "capacity/samples.hpp"
#include "fixtures/temp_dir.hpp"
#include "sync/schema.hpp"

using namespace nasops;
using namespace nasops::capacity;

namespace {

constexpr std::int64_t k_hour = 3600;
constexpr std::int64_t k_day = 86400;
constexpr std::int64_t k_t0 = 1'780'012'800;  // a midnight UTC (2026-05-29)

Store open_store(const nasops::testing::TempDir& dir) {
    return Store::open(dir / "nasops.db", migrations()).value();
}

}  // namespace

TEST(CapacitySamples, StoresReplacesAndReadsBack) {
    nasops::testing::TempDir dir;
    auto store = open_store(dir);
    SampleStore s(store.db());
    const std::vector<TargetSample> in{{"/b", {k_t0, 10, 100}}, {"/a", {k_t0 + 60, 20, 100}}, {"/a", {k_t0, 5, 100}}};
    EXPECT_EQ(s.add(in).value(), 3u);
    EXPECT_EQ(s.targets().value(), (std::vector<std::string>{"/a", "/b"}));
    const auto a = s.samples("/a").value();
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(a[0].ts, k_t0);  // oldest first
    EXPECT_EQ(a[1].used, 20u);
    // The same target and time again (a history imported twice): replaced, not doubled.
    const std::vector<TargetSample> again{{"/a", {k_t0, 7, 200}}};
    ASSERT_TRUE(s.add(again));
    const auto b = s.samples("/a").value();
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[0].used, 7u);
    EXPECT_EQ(b[0].total, 200u);
    EXPECT_EQ(s.samples("/a", k_t0 + 1).value().size(), 1u);
    EXPECT_EQ(store.schema_version("capacity"), 1);
}

TEST(CapacitySamples, DownsamplesHourlyForThirtyDaysThenDaily) {
    nasops::testing::TempDir dir;
    auto store = open_store(dir);
    SampleStore s(store.db());
    // Every 5 minutes for 100 days, as `nasops-health | record --from-stdin` every 5 minutes would.
    std::vector<TargetSample> in;
    for (std::int64_t t = 0; t < 100 * k_day; t += 300)
        in.push_back({"/srv", {k_t0 + t, static_cast<std::uint64_t>(t), 1u << 30}});
    const std::int64_t now = k_t0 + 100 * k_day;
    const auto pruned = s.add_and_downsample(in, std::nullopt, now, std::chrono::hours(24 * 60)).value();
    const auto kept = s.samples("/srv").value();
    // 60 days kept: days 40-70 one a day (30), days 70-99 one an hour (29*24), the last day every 5 minutes (288).
    EXPECT_EQ(pruned.expired, 40u * 288u);
    EXPECT_EQ(kept.size(), 30u + 29u * 24u + 288u);
    // What is kept of a day or an hour is its last sample.
    EXPECT_EQ(kept.front().ts, k_t0 + 40 * k_day + k_day - 300);
    EXPECT_EQ(kept[30].ts, k_t0 + 70 * k_day + k_hour - 300);
    EXPECT_EQ(kept.back().ts, now - 300);
    // Downsampling again changes nothing.
    const auto again = s.downsample(now, std::chrono::hours(24 * 60)).value();
    EXPECT_EQ(again.expired + again.to_daily + again.to_hourly, 0u);
}

TEST(CapacitySamples, MediaCountsOfTheSyncQueue) {
    nasops::testing::TempDir dir;
    auto store = Store::open(dir / "nasops.db", sync::migrations()).value();
    auto plain = open_store(dir);  // the same file, with the capacity tables too
    store.db().exec(
        "INSERT INTO media_files (source, rel_path, size, state) VALUES"
        " ('/s', 'a', 100, 'pending'), ('/s', 'b', 200, 'transferring'), ('/s', 'c', 400, 'completed'),"
        " ('/s', 'd', 800, 'failed')");
    const auto m = read_media_counts(plain.db(), k_t0).value().value();
    EXPECT_EQ(m.ts, k_t0);
    EXPECT_EQ(m.pending_files, 2u);
    EXPECT_EQ(m.pending_bytes, 300u);
    EXPECT_EQ(m.completed_files, 1u);
    EXPECT_EQ(m.completed_bytes, 400u);
    SampleStore s(plain.db());
    ASSERT_TRUE(s.add_and_downsample({}, m, k_t0, std::chrono::hours(24 * 60)));
    ASSERT_TRUE(
        s.add_and_downsample({}, MediaCounts{.ts = k_t0 + 61 * k_day}, k_t0 + 61 * k_day, std::chrono::hours(24 * 60)));
    const auto kept = s.media().value();
    ASSERT_EQ(kept.size(), 1u);  // the first is past the retention now
    EXPECT_EQ(kept[0].ts, k_t0 + 61 * k_day);
    // A database without sync's tables has no counts.
    nasops::testing::TempDir other;
    auto alone = open_store(other);
    EXPECT_FALSE(read_media_counts(alone.db(), k_t0).value());
}

TEST(CapacitySamples, ADatabaseFailureNamesTheFileAndWhatWasDone) {
    nasops::testing::TempDir dir;
    auto store = open_store(dir);
    store.db().exec("DROP TABLE capacity_samples");
    SampleStore s(store.db());
    const auto r = s.samples("/srv/media");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::io_error);
    EXPECT_NE(
        r.error().message.find("database " + (dir / "nasops.db").string() + ": reading the samples of /srv/media: "),
        std::string::npos)
        << r.error().message;
}
