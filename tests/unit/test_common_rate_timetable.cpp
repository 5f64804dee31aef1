// util/rate_timetable: --bwlimit's rates by time of day, as rclone writes
// them, and the local minute of the week they are looked up by.

#include <gtest/gtest.h>

#include <ctime>
#include <string>

#include "nasops/util/rate_timetable.hpp"

using namespace nasops;

namespace {

constexpr std::uint64_t k_kib = 1024;
constexpr std::uint64_t k_mib = 1024 * 1024;

enum Day { sun, mon, tue, wed, thu, fri, sat };

int minute(Day day, int hour, int min) {
    return day * 24 * 60 + hour * 60 + min;
}

RateTimetable table(std::string_view text) {
    auto parsed = RateTimetable::parse(text);
    EXPECT_TRUE(parsed) << text << ": " << parsed.error().message;
    return parsed.value_or(RateTimetable::parse("off").value());
}

}  // namespace

TEST(RateTimetable, APlainRateHoldsAllWeek) {
    const auto t = table("10M");
    for (const int m : {0, minute(wed, 12, 30), k_minutes_per_week - 1}) EXPECT_EQ(t.at(m), 10 * k_mib) << m;
    EXPECT_TRUE(t.constant());
    EXPECT_FALSE(t.unlimited());
    EXPECT_EQ(table("500KiB/s").at(0), 500 * k_kib);
    EXPECT_EQ(table("1048576").at(0), k_mib);  // a bare number is bytes, as for every rate
}

TEST(RateTimetable, OffAndZeroAreNoLimit) {
    for (const auto text : {"off", "OFF", "0", "00:00,off", "08:00,0 19:00,off"}) {
        const auto t = table(text);
        EXPECT_TRUE(t.unlimited()) << text;
        EXPECT_EQ(t.at(minute(mon, 9, 0)), std::nullopt) << text;
    }
}

TEST(RateTimetable, EachEntryHoldsUntilTheNextAndTheLastWrapsRound) {
    const auto t = table("08:00,2M 19:00,off");
    EXPECT_FALSE(t.constant());
    EXPECT_FALSE(t.unlimited());
    for (const Day day : {sun, mon, sat}) {
        EXPECT_EQ(t.at(minute(day, 7, 59)), std::nullopt) << day;  // from 19:00 the day before
        EXPECT_EQ(t.at(minute(day, 8, 0)), 2 * k_mib) << day;
        EXPECT_EQ(t.at(minute(day, 18, 59)), 2 * k_mib) << day;
        EXPECT_EQ(t.at(minute(day, 19, 0)), std::nullopt) << day;
    }
    EXPECT_EQ(t.at(0), std::nullopt);  // Sunday 00:00: Saturday's 19:00 still holds
    // A single entry holds all day, every day.
    EXPECT_EQ(table("12:00,1M").at(minute(tue, 3, 0)), k_mib);
    // rclone's daytime example, written in any order.
    const auto day = table("23:00,off 08:00,512k 13:00,512k 12:00,10M 18:00,30M");
    EXPECT_EQ(day.at(minute(thu, 12, 30)), 10 * k_mib);
    EXPECT_EQ(day.at(minute(thu, 13, 0)), 512 * k_kib);
    EXPECT_EQ(day.at(minute(thu, 22, 59)), 30 * k_mib);
    EXPECT_EQ(day.at(minute(fri, 3, 0)), std::nullopt);
}

TEST(RateTimetable, DaysTieEntriesToOneDayOfTheWeek) {
    const auto t = table("Mon-08:00,512k Sat-10:00,off");
    EXPECT_EQ(t.at(minute(mon, 7, 59)), std::nullopt);  // the weekend's off holds until Monday 08:00
    EXPECT_EQ(t.at(minute(mon, 8, 0)), 512 * k_kib);
    EXPECT_EQ(t.at(minute(wed, 3, 0)), 512 * k_kib);
    EXPECT_EQ(t.at(minute(sat, 9, 59)), 512 * k_kib);
    EXPECT_EQ(t.at(minute(sat, 10, 0)), std::nullopt);
    EXPECT_EQ(t.at(minute(sun, 23, 59)), std::nullopt);

    // rclone's example: an entry without a day holds on every day.
    const auto mixed = table("Mon-00:00,512 12:00,1M Sun-20:00,off");
    EXPECT_EQ(mixed.at(minute(mon, 0, 0)), 512u);
    EXPECT_EQ(mixed.at(minute(mon, 12, 0)), k_mib);
    EXPECT_EQ(mixed.at(minute(tue, 0, 0)), k_mib);
    EXPECT_EQ(mixed.at(minute(sun, 19, 59)), k_mib);
    EXPECT_EQ(mixed.at(minute(sun, 20, 0)), std::nullopt);
    EXPECT_EQ(table("mon-08:00,1M SUN-09:00,off").at(minute(mon, 9, 0)), k_mib);  // days in any case
}

TEST(RateTimetable, EntriesAreSeparatedByBlanksOrSemicolons) {
    const auto spaced = table("08:00,2M 19:00,off");
    EXPECT_EQ(table("08:00,2M;19:00,off"), spaced);
    EXPECT_EQ(table("  08:00,2M \t 19:00,off ; "), spaced);
    EXPECT_EQ(table("8:00,2M 19:00,off"), spaced);          // one-digit hours too
    EXPECT_EQ(table("\r08:00,2M\n19:00,off\r\n"), spaced);  // any blank: a TOML multi-line string
}

TEST(RateTimetable, BadEntriesAreNamedWithTheirPlace) {
    struct Case {
        std::string_view text;
        std::string_view says;
    };
    const Case cases[] = {
        {"", "invalid rate ''"},
        {"fast", "invalid rate 'fast'"},
        {"fast", "or a timetable such as \"08:00,2M 19:00,off\""},
        {"08:00", "invalid rate '08:00'"},
        {"08:00,2M 19:00", "invalid bandwidth timetable entry 2 '19:00': expected [Day-]HH:MM,RATE"},
        {"24:00,1M", "entry 1 '24:00,1M': '24:00' is not a time of day (HH:MM, 00:00 to 23:59)"},
        {"08:60,1M", "'08:60' is not a time of day"},
        {"08:5,1M", "'08:5' is not a time of day"},
        {"008:00,1M", "'008:00' is not a time of day"},
        {",1M", "'' is not a time of day"},
        {"Mon08:00,1M", "'Mon08:00' is not a time of day"},
        {"Xyz-08:00,1M", "entry 1 'Xyz-08:00,1M': 'Xyz' is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)"},
        {"-08:00,1M", "'' is not a day"},
        {"08:00,1M 09:00,fast", "entry 2 '09:00,fast': invalid rate 'fast'"},
        {"08:00,-1M", "entry 1 '08:00,-1M': invalid rate '-1M'"},
        {"08:00,1M:off", "invalid rate '1M:off'"},  // no separate download rate: nasops only uploads
        {"08:00,1M 08:00,2M", "entry 2 '08:00,2M': '08:00,1M' already sets Sun-08:00"},
        {"Mon-08:00,1M 08:00,2M", "entry 2 '08:00,2M': 'Mon-08:00,1M' already sets Mon-08:00"},
    };
    for (const auto& c : cases) {
        const auto parsed = RateTimetable::parse(c.text);
        ASSERT_FALSE(parsed) << c.text;
        EXPECT_EQ(parsed.error().code, ExitCode::usage) << c.text;
        EXPECT_NE(parsed.error().message.find(c.says), std::string::npos) << parsed.error().message;
    }
}

TEST(RateTimetable, LocalMinuteOfTheWeekCountsFromSunday) {
    // Built from local fields, so that the answer holds in any time zone.
    std::tm local{};
    local.tm_year = 2026 - 1900;
    local.tm_mon = 11;
    local.tm_mday = 9;  // a Wednesday
    local.tm_hour = 19;
    local.tm_min = 5;
    local.tm_sec = 42;
    local.tm_isdst = -1;
    const auto t = std::chrono::system_clock::from_time_t(std::mktime(&local));
    EXPECT_EQ(local_minute_of_week(t), minute(wed, 19, 5));
    EXPECT_EQ(format_rate_limit(2 * k_mib), "2.0 MiB/s");
    EXPECT_EQ(format_rate_limit(std::nullopt), "off");
}
