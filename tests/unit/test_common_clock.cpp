#include <gtest/gtest.h>

#include "nasops/util/clock.hpp"

using namespace nasops;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

SystemTimePoint at(int y, unsigned mo, unsigned d, hours h, minutes mi, seconds s, nanoseconds ns = 0ns) {
    return sys_days{year{y} / month{mo} / day{d}} + h + mi + s + duration_cast<system_clock::duration>(ns);
}

}  // namespace

TEST(Rfc3339, FormatsUtcWithThreeFractionDigits) {
    EXPECT_EQ(rfc3339_millis(at(2026, 11, 22, 4h, 16min, 40s, 123ms)), "2026-11-22T04:16:40.123Z");
    EXPECT_EQ(rfc3339_millis(SystemTimePoint{}), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(rfc3339_millis(at(2024, 2, 29, 23h, 59min, 59s, 7ms)), "2024-02-29T23:59:59.007Z");
}

TEST(Rfc3339, TruncatesToTheMillisecondTowardThePast) {
    EXPECT_EQ(rfc3339_millis(at(2026, 1, 1, 0h, 0min, 0s, 999'999'999ns)), "2026-01-01T00:00:00.999Z");
    // Before 1970 flooring, not truncation toward zero, keeps the date right.
    EXPECT_EQ(rfc3339_millis(SystemTimePoint{} - 1ns), "1969-12-31T23:59:59.999Z");
}

TEST(Rfc3339, ParsesWhatItFormats) {
    const auto t = at(2026, 11, 22, 4h, 16min, 40s, 123ms);
    auto parsed = parse_rfc3339(rfc3339_millis(t));
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(*parsed, t);
}

TEST(Rfc3339, ParsesOffsetsFractionsAndLowerCase) {
    const auto utc = at(2026, 11, 22, 4h, 16min, 40s);
    EXPECT_EQ(parse_rfc3339("2026-11-22T04:16:40Z").value(), utc);
    EXPECT_EQ(parse_rfc3339("2026-11-22t04:16:40z").value(), utc);
    EXPECT_EQ(parse_rfc3339("2026-11-22T06:16:40+02:00").value(), utc);
    EXPECT_EQ(parse_rfc3339("2026-11-21T23:46:40-04:30").value(), utc);
    EXPECT_EQ(parse_rfc3339("2026-11-22T04:16:40-00:00").value(), utc);
    EXPECT_EQ(parse_rfc3339("2026-11-22T04:16:40.5Z").value(), utc + 500ms);
    EXPECT_EQ(parse_rfc3339("2026-11-22T04:16:40.123456789Z").value(), utc + 123'456'789ns);
    // Digits past nanoseconds are dropped, not rounded.
    EXPECT_EQ(parse_rfc3339("2026-11-22T04:16:40.1234567899Z").value(), utc + 123'456'789ns);
}

TEST(Rfc3339, RefusesMalformedTextNamingIt) {
    for (const char* bad :
         {"", "2026-11-22", "2026-11-22T04:16:40", "2026-11-22 04:16:40Z", "2026-13-01T00:00:00Z",
          "2026-02-29T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T04:60:00Z", "2026-11-22T04:16:60Z",
          "2026-11-22T04:16:40.Z", "2026-11-22T04:16:40+2:00", "2026-11-22T04:16:40+02:00x", "26-11-22T04:16:40Z",
          "2026-11-22T04:16:40ZZ", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"}) {
        auto r = parse_rfc3339(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ExitCode::data_error);
        EXPECT_NE(r.error().message.find(std::string("'") + bad + "'"), std::string::npos) << r.error().message;
    }
}

TEST(ManualClock, MovesOnlyWhenTold) {
    const auto start = at(2026, 11, 22, 4h, 16min, 40s);
    ManualClock clock(start);
    EXPECT_EQ(clock.now(), start);
    EXPECT_EQ(clock.now(), start);
    clock.advance(90s);
    EXPECT_EQ(clock.now(), start + 90s);
    clock.set(start - 1h);
    EXPECT_EQ(clock.now(), start - 1h);
}

TEST(SystemClock, ReadsTheRealClock) {
    const SystemClock clock;
    const Clock& as_interface = clock;
    const auto before = system_clock::now();
    const auto now = as_interface.now();
    const auto after = system_clock::now();
    EXPECT_LE(before, now);
    EXPECT_LE(now, after);
}
