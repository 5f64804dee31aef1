#include <fmt/format.h>
#include <gtest/gtest.h>

#include <limits>

#include "health/check.hpp"

using namespace nasops;
using namespace nasops::health;

namespace {

ThresholdRange range(std::string_view text, Quantity q = Quantity::count) {
    auto r = parse_threshold(text, q);
    EXPECT_TRUE(r) << text << ": " << (r ? "" : r.error().message);
    return r ? *r : ThresholdRange{};
}

Status judge(std::optional<std::string_view> warn, std::optional<std::string_view> crit, double value,
             Quantity q = Quantity::count) {
    CheckResult result{.name = "t"};
    Metric m{.name = "m", .value = value, .quantity = q};
    if (warn) m.warn = range(*warn, q);
    if (crit) m.crit = range(*crit, q);
    result.metrics.push_back(m);
    evaluate(result);
    return result.status;
}

}  // namespace

TEST(HealthThreshold, EveryRangeFormAtItsEdges) {
    // "10": alert outside 0..10, ends included.
    EXPECT_EQ(judge("10", std::nullopt, 0), Status::ok);
    EXPECT_EQ(judge("10", std::nullopt, 10), Status::ok);
    EXPECT_EQ(judge("10", std::nullopt, 10.000001), Status::warning);
    EXPECT_EQ(judge("10", std::nullopt, -0.5), Status::warning);
    // "10:": alert below 10.
    EXPECT_EQ(judge("10:", std::nullopt, 10), Status::ok);
    EXPECT_EQ(judge("10:", std::nullopt, 9.99), Status::warning);
    EXPECT_EQ(judge("10:", std::nullopt, 1e12), Status::ok);
    // "~:10": alert above 10, any negative is fine.
    EXPECT_EQ(judge("~:10", std::nullopt, -1e9), Status::ok);
    EXPECT_EQ(judge("~:10", std::nullopt, 10), Status::ok);
    EXPECT_EQ(judge("~:10", std::nullopt, 10.5), Status::warning);
    // "10:20": alert outside 10..20.
    EXPECT_EQ(judge("10:20", std::nullopt, 9.9), Status::warning);
    EXPECT_EQ(judge("10:20", std::nullopt, 10), Status::ok);
    EXPECT_EQ(judge("10:20", std::nullopt, 20), Status::ok);
    EXPECT_EQ(judge("10:20", std::nullopt, 20.1), Status::warning);
    // "@10:20": alert inside 10..20, ends included.
    EXPECT_EQ(judge("@10:20", std::nullopt, 9.9), Status::ok);
    EXPECT_EQ(judge("@10:20", std::nullopt, 10), Status::warning);
    EXPECT_EQ(judge("@10:20", std::nullopt, 20), Status::warning);
    EXPECT_EQ(judge("@10:20", std::nullopt, 20.1), Status::ok);
}

TEST(HealthThreshold, CriticalIsTestedBeforeWarning) {
    EXPECT_EQ(judge("80", "90", 79), Status::ok);
    EXPECT_EQ(judge("80", "90", 85), Status::warning);
    EXPECT_EQ(judge("80", "90", 90), Status::warning);
    EXPECT_EQ(judge("80", "90", 90.5), Status::critical);
    // A critical range that is looser than the warning one still wins when it alerts.
    EXPECT_EQ(judge("95:", "90:", 92), Status::warning);
    EXPECT_EQ(judge("95:", "90:", 89), Status::critical);
    EXPECT_EQ(judge(std::nullopt, "60:", 30, Quantity::seconds), Status::critical);
    EXPECT_EQ(judge(std::nullopt, std::nullopt, 1e9), Status::ok);
}

TEST(HealthThreshold, EndsAreReadInTheQuantitysUnit) {
    // Percent: ends are percentages, values ratios.
    auto pct = range("80", Quantity::percent);
    EXPECT_DOUBLE_EQ(pct.end, 0.8);
    EXPECT_DOUBLE_EQ(range("80%:95%", Quantity::percent).start, 0.8);
    EXPECT_EQ(judge("80", "90", 0.85, Quantity::percent), Status::warning);
    EXPECT_EQ(judge("80", "90", 0.905, Quantity::percent), Status::critical);
    // Bytes: a plain number of bytes or a size.
    EXPECT_DOUBLE_EQ(range("1GiB", Quantity::bytes).end, 1073741824.0);
    EXPECT_DOUBLE_EQ(range("100M:", Quantity::bytes).start, 100.0 * 1024 * 1024);
    EXPECT_DOUBLE_EQ(range("512", Quantity::bytes).end, 512.0);
    // Days: held in seconds.
    auto days = range("30:", Quantity::days);
    EXPECT_TRUE(days.end_infinite);
    EXPECT_DOUBLE_EQ(days.start, 30 * 86400.0);
    EXPECT_DOUBLE_EQ(range("12h:", Quantity::days).start, 12 * 3600.0);
    // Seconds: a number or a duration.
    EXPECT_DOUBLE_EQ(range("5m", Quantity::seconds).end, 300.0);
    EXPECT_DOUBLE_EQ(range("2.5", Quantity::seconds).end, 2.5);
    // Rates: MB/s.
    EXPECT_DOUBLE_EQ(range("10:", Quantity::rate).start, 10e6);
    EXPECT_DOUBLE_EQ(range("~:1MiB/s", Quantity::rate).end, 1048576.0);
    // "@" and "~" survive the conversion.
    auto inside = range("@10:20", Quantity::percent);
    EXPECT_TRUE(inside.inside);
    EXPECT_DOUBLE_EQ(inside.start, 0.1);
    EXPECT_DOUBLE_EQ(inside.end, 0.2);
    EXPECT_TRUE(range("~:5", Quantity::percent).start_infinite);
}

TEST(HealthThreshold, BadTextIsAUsageErrorQuotingIt) {
    for (const auto& [text, q] : std::vector<std::pair<std::string, Quantity>>{
             {"", Quantity::count},
             {"abc", Quantity::count},
             {"~:", Quantity::count},
             {"20:10", Quantity::count},
             {"5GiB:1GiB", Quantity::bytes},
             {"80x", Quantity::percent},
             {"@", Quantity::count},
             {"10:abc", Quantity::seconds},
             {"soon:", Quantity::days},
         }) {
        auto r = parse_threshold(text, q);
        ASSERT_FALSE(r) << "'" << text << "' was accepted";
        EXPECT_EQ(r.error().code, ExitCode::usage);
        EXPECT_NE(r.error().message.find(fmt::format("'{}'", text)), std::string::npos) << r.error().message;
    }
}

TEST(HealthThreshold, FormatRangeWritesPlainNumbers) {
    EXPECT_EQ(format_range(range("80", Quantity::percent)), "0.8");
    EXPECT_EQ(format_range(range("80", Quantity::percent), 0.01), "80");
    EXPECT_EQ(format_range(range("95:", Quantity::percent), 0.01), "95:");
    EXPECT_EQ(format_range(range("~:10")), "~:10");
    EXPECT_EQ(format_range(range("@10:20")), "@10:20");
    EXPECT_EQ(format_range(range("5GiB", Quantity::bytes)), "5368709120");
    EXPECT_EQ(format_range(range("30:", Quantity::days)), "2592000:");
}

TEST(HealthThreshold, PlainNumberHasNoExponentAndNoLocale) {
    EXPECT_EQ(plain_number(0.8), "0.8");
    EXPECT_EQ(plain_number(1e15), "1000000000000000");
    EXPECT_EQ(plain_number(-2.5), "-2.5");
    EXPECT_EQ(plain_number(1e-9), "0");
    EXPECT_EQ(plain_number(-1e-9), "0");
    EXPECT_EQ(plain_number(123.4567891), "123.456789");
    EXPECT_EQ(plain_number(std::numeric_limits<double>::quiet_NaN()), "0");
}

TEST(HealthEvaluate, MessageNamesEveryMetricThatAlerted) {
    CheckResult r{.name = "load", .message = "load 4.0 3.0 1.0"};
    r.metrics.push_back(Metric{.name = "load1", .value = 2.5, .warn = range("1.5"), .crit = range("2")});
    r.metrics.push_back(Metric{.name = "load5", .value = 1.6, .warn = range("1.5"), .crit = range("2")});
    r.metrics.push_back(Metric{.name = "load15", .value = 0.5, .warn = range("1.5"), .crit = range("2")});
    evaluate(r);
    EXPECT_EQ(r.status, Status::critical);
    EXPECT_EQ(r.metrics[0].status, Status::critical);
    EXPECT_EQ(r.metrics[1].status, Status::warning);
    EXPECT_EQ(r.metrics[2].status, Status::ok);
    EXPECT_EQ(r.message, "load 4.0 3.0 1.0 (critical: load1 2.50 above 2; warning: load5 1.60 above 1.50)");
}

TEST(HealthEvaluate, CheckVerdictAndMetricsCombine) {
    CheckResult down{.name = "process", .status = Status::critical, .message = "not running"};
    down.metrics.push_back(Metric{.name = "n", .value = 0, .warn = range("1:")});
    evaluate(down);
    EXPECT_EQ(down.status, Status::critical);
    EXPECT_EQ(down.message, "not running");  // the metric adds nothing worse

    CheckResult unknown{.name = "x", .status = Status::unknown, .message = "partial"};
    unknown.metrics.push_back(
        Metric{.name = "size", .value = 10, .quantity = Quantity::bytes, .warn = range("5", Quantity::bytes)});
    evaluate(unknown);
    EXPECT_EQ(unknown.status, Status::warning);  // monitoring-plugins rank WARNING above UNKNOWN
    EXPECT_EQ(unknown.message, "partial (warning: size 10 B above 5 B)");
}

TEST(HealthEvaluate, DescribesEachKindOfViolation) {
    EXPECT_EQ(describe_violation(range("80", Quantity::percent), 0.9, Quantity::percent), "above 80.0%");
    EXPECT_EQ(describe_violation(range("10:", Quantity::rate), 1e6, Quantity::rate), "below 10.00 MB/s");
    EXPECT_EQ(describe_violation(range("30:", Quantity::days), 86400, Quantity::days), "below 30.0 days");
    EXPECT_EQ(describe_violation(range("@10:20"), 15, Quantity::count), "inside 10..20");
    EXPECT_EQ(describe_violation(range("10:20"), 5, Quantity::count), "below 10");
}

TEST(HealthStatus, WorstFollowsMonitoringPlugins) {
    EXPECT_EQ(worse(Status::ok, Status::unknown), Status::unknown);
    EXPECT_EQ(worse(Status::unknown, Status::warning), Status::warning);
    EXPECT_EQ(worse(Status::critical, Status::unknown), Status::critical);
    EXPECT_EQ(worse(Status::warning, Status::critical), Status::critical);
    EXPECT_EQ(to_exit_code(Status::unknown), ExitCode::unknown);
    EXPECT_EQ(status_name(Status::warning), "WARNING");
    EXPECT_EQ(status_word(Status::critical), "critical");
}

TEST(HealthQuantity, FormatsForPeople) {
    EXPECT_EQ(format_quantity(0.873, Quantity::percent), "87.3%");
    EXPECT_EQ(format_quantity(1536, Quantity::bytes), "1.5 KiB");
    EXPECT_EQ(format_quantity(2.345, Quantity::seconds), "2.35s");
    EXPECT_EQ(format_quantity(5400, Quantity::seconds), "1h30m");
    EXPECT_EQ(format_quantity(86400 * 12.5, Quantity::days), "12.5 days");
    EXPECT_EQ(format_quantity(12.34e6, Quantity::rate), "12.34 MB/s");
    EXPECT_EQ(format_quantity(3, Quantity::count), "3");
    EXPECT_EQ(record_unit(Quantity::days), "seconds");
    EXPECT_EQ(record_unit(Quantity::percent), "ratio");
}
