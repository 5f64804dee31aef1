// sync/run_state's RateLimiter: the rate a run is held to follows the
// --bwlimit timetable at the clock's local time, so that a run crossing an
// entry's time changes rate there. The clock is a ManualClock; no test waits
// on real time.

#include <gtest/gtest.h>

#include <ctime>

#include "nasops/util/clock.hpp"
#include "sync/run_state.hpp"

using namespace nasops;
using namespace nasops::sync;

namespace {

constexpr std::uint64_t k_kib = 1024;
constexpr std::uint64_t k_mib = 1024 * 1024;

// December 2026, local time: the 7th is a Monday, the 12th a Saturday.
SystemTimePoint local_time(int day, int hour, int minute, int second = 0) {
    std::tm local{};
    local.tm_year = 2026 - 1900;
    local.tm_mon = 11;
    local.tm_mday = day;
    local.tm_hour = hour;
    local.tm_min = minute;
    local.tm_sec = second;
    local.tm_isdst = -1;
    return std::chrono::system_clock::from_time_t(std::mktime(&local));
}

}  // namespace

TEST(SyncRateLimiter, SwitchesRateAtTheTimetableBoundaries) {
    ManualClock clock(local_time(7, 18, 58, 30));
    RateLimiter limiter(RateTimetable::parse("08:00,2M 19:00,off").value(), clock);
    EXPECT_EQ(limiter.rate_in_force(), 2 * k_mib);
    clock.set(local_time(7, 18, 59, 59));
    EXPECT_EQ(limiter.rate_in_force(), 2 * k_mib);
    clock.set(local_time(7, 19, 0, 0));  // a run still going at 19:00
    EXPECT_EQ(limiter.rate_in_force(), std::nullopt);
    limiter.consume(64 * k_mib);  // off: nothing to wait for
    clock.set(local_time(8, 7, 59, 59));
    EXPECT_EQ(limiter.rate_in_force(), std::nullopt);
    clock.set(local_time(8, 8, 0, 0));
    EXPECT_EQ(limiter.rate_in_force(), 2 * k_mib);
    limiter.consume(1);  // limited again: one byte at 2 MiB/s
}

TEST(SyncRateLimiter, FollowsDaysOfTheWeek) {
    ManualClock clock(local_time(6, 12, 0));  // Sunday
    RateLimiter limiter(RateTimetable::parse("Mon-08:00,512k Sat-10:00,off").value(), clock);
    EXPECT_EQ(limiter.rate_in_force(), std::nullopt);
    clock.set(local_time(7, 8, 0));
    EXPECT_EQ(limiter.rate_in_force(), 512 * k_kib);
    clock.set(local_time(10, 23, 59));  // Thursday night
    EXPECT_EQ(limiter.rate_in_force(), 512 * k_kib);
    clock.set(local_time(12, 10, 0));  // Saturday 10:00
    EXPECT_EQ(limiter.rate_in_force(), std::nullopt);
}

TEST(SyncRateLimiter, APlainRateNeverChanges) {
    ManualClock clock(local_time(9, 3, 0));
    RateLimiter limiter(RateTimetable::parse("10M").value(), clock);
    for (int hour = 0; hour < 24; hour += 5) {
        clock.set(local_time(9, hour, 30));
        EXPECT_EQ(limiter.rate_in_force(), 10 * k_mib) << hour;
    }
}
