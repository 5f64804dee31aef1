#include <fmt/format.h>
#include <gtest/gtest.h>

#include "nasops/util/units.hpp"

using namespace nasops;
using namespace std::chrono_literals;

TEST(Duration, ParsesEachUnitAndCompounds) {
    EXPECT_EQ(parse_duration("90s").value(), 90s);
    EXPECT_EQ(parse_duration("5m").value(), 5min);
    EXPECT_EQ(parse_duration("2h").value(), 2h);
    EXPECT_EQ(parse_duration("7d").value(), 7 * 24h);
    EXPECT_EQ(parse_duration("1w").value(), 7 * 24h);
    EXPECT_EQ(parse_duration("250ms").value(), 250ms);
    EXPECT_EQ(parse_duration("1h30m").value(), 90min);
    EXPECT_EQ(parse_duration("1.5h").value(), 90min);
    EXPECT_EQ(parse_duration("45").value(), 45s);
    EXPECT_EQ(parse_duration(" 10S ").value(), 10s);
}

TEST(Duration, RejectsBadTextWithTheTextInTheMessage) {
    for (const char* bad : {"", "abc", "5x", "-5m", "5m3", "m", "1h 30q"}) {
        auto r = parse_duration(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ExitCode::usage);
        EXPECT_NE(r.error().message.find(fmt::format("'{}'", bad)), std::string::npos) << r.error().message;
    }
}

TEST(Duration, FormatsShortestExactForm) {
    EXPECT_EQ(format_duration(0ms), "0s");
    EXPECT_EQ(format_duration(90min), "1h30m");
    EXPECT_EQ(format_duration(250ms), "250ms");
    EXPECT_EQ(format_duration(26h + 1s), "1d2h1s");
    EXPECT_EQ(parse_duration(format_duration(3723004ms)).value(), 3723004ms);
}

// Found by fuzz/units_fuzz: above 2^53 ms a duration was rounded to a
// double, and its printed form parsed back to another value.
TEST(Duration, RefusesWhatADoubleCannotHoldToTheMillisecond) {
    const auto too_long = parse_duration("1777777777777770");
    ASSERT_FALSE(too_long);
    EXPECT_NE(too_long.error().message.find("too large"), std::string::npos);
    const Duration longest{(std::int64_t{1} << 53) - 1};
    EXPECT_EQ(parse_duration(format_duration(longest)).value(), longest);
    EXPECT_FALSE(parse_duration(format_duration(longest + 1ms)));
    EXPECT_FALSE(parse_duration(format_duration(longest + 2ms)));
}

TEST(Size, BinaryAndDecimalMultiples) {
    EXPECT_EQ(parse_size("512").value(), 512u);
    EXPECT_EQ(parse_size("512B").value(), 512u);
    EXPECT_EQ(parse_size("10K").value(), 10u * 1024);
    EXPECT_EQ(parse_size("10M").value(), 10u * 1024 * 1024);
    EXPECT_EQ(parse_size("10MiB").value(), 10u * 1024 * 1024);
    EXPECT_EQ(parse_size("10MB").value(), 10'000'000u);
    EXPECT_EQ(parse_size("1.5GiB").value(), 1536u * 1024 * 1024);
    EXPECT_EQ(parse_size("2t").value(), 2ull << 40);
    EXPECT_EQ(parse_size("1 GB").value(), 1'000'000'000u);
}

TEST(Size, RejectsBadText) {
    for (const char* bad : {"", "M", "-1M", "10X", "10MiBs", "1e3", "99999999999P"}) {
        auto r = parse_size(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ExitCode::usage);
        EXPECT_NE(r.error().message.find("invalid size"), std::string::npos);
    }
}

TEST(Size, FormatsHumanBinary) {
    EXPECT_EQ(format_size(512), "512 B");
    EXPECT_EQ(format_size(1536), "1.5 KiB");
    EXPECT_EQ(format_size(3ull << 30), "3.0 GiB");
}

TEST(Rate, AcceptsPerSecondSuffix) {
    EXPECT_EQ(parse_rate("10M").value(), 10u << 20);
    EXPECT_EQ(parse_rate("500KiB/s").value(), 500u << 10);
    EXPECT_FALSE(parse_rate("fast"));
}

TEST(Ratio, TakesFractionsAndPercentagesFromZeroToOne) {
    EXPECT_DOUBLE_EQ(parse_ratio("0.2").value(), 0.2);
    EXPECT_DOUBLE_EQ(parse_ratio("25%").value(), 0.25);
    EXPECT_DOUBLE_EQ(parse_ratio("1").value(), 1.0);
    EXPECT_FALSE(parse_ratio("1.5"));
    EXPECT_FALSE(parse_ratio("-0.1"));
    EXPECT_FALSE(parse_ratio("abc"));
    EXPECT_FALSE(parse_ratio(""));
    EXPECT_FALSE(parse_ratio("%"));
    EXPECT_NE(parse_ratio("20 %").error().message.find("'20 %'"), std::string::npos);
}

// The five forms of the monitoring-plugins guidelines, at and around their edges.
TEST(Range, PlainNumberAlertsOutsideZeroToN) {
    auto r = parse_range("10").value();
    EXPECT_TRUE(r.alerts(-0.1));
    EXPECT_FALSE(r.alerts(0));
    EXPECT_FALSE(r.alerts(10));
    EXPECT_TRUE(r.alerts(10.01));
}

TEST(Range, OpenEndAlertsBelowStart) {
    auto r = parse_range("10:").value();
    EXPECT_TRUE(r.alerts(9.99));
    EXPECT_FALSE(r.alerts(10));
    EXPECT_FALSE(r.alerts(1e12));
}

TEST(Range, TildeStartAlertsAboveEnd) {
    auto r = parse_range("~:10").value();
    EXPECT_FALSE(r.alerts(-1e12));
    EXPECT_FALSE(r.alerts(10));
    EXPECT_TRUE(r.alerts(10.5));
}

TEST(Range, BoundedAlertsOutside) {
    auto r = parse_range("10:20").value();
    EXPECT_TRUE(r.alerts(9));
    EXPECT_FALSE(r.alerts(10));
    EXPECT_FALSE(r.alerts(20));
    EXPECT_TRUE(r.alerts(21));
}

TEST(Range, AtAlertsInsideInclusive) {
    auto r = parse_range("@10:20").value();
    EXPECT_FALSE(r.alerts(9.9));
    EXPECT_TRUE(r.alerts(10));
    EXPECT_TRUE(r.alerts(15));
    EXPECT_TRUE(r.alerts(20));
    EXPECT_FALSE(r.alerts(20.1));
}

TEST(Range, NegativeAndFractionalBounds) {
    auto r = parse_range("-5.5:-1").value();
    EXPECT_TRUE(r.alerts(-6));
    EXPECT_FALSE(r.alerts(-3));
    EXPECT_TRUE(r.alerts(0));
}

TEST(Range, RoundTripsToString) {
    for (const char* text : {"10", "10:", "~:10", "10:20", "@10:20"}) {
        EXPECT_EQ(parse_range(text).value().to_string(), text);
    }
}

TEST(Range, RejectsBadText) {
    for (const char* bad : {"", "@", "abc", "20:10", "~:", "1:2:3", "10:x", "nan"}) {
        auto r = parse_range(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ExitCode::usage);
        EXPECT_NE(r.error().message.find("invalid threshold range"), std::string::npos);
    }
}
