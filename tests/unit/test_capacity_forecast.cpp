#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "capacity/forecast.hpp"
#include "capacity/regression.hpp"
#include "fixtures/child_process.hpp"

using namespace nasops::capacity;

namespace {

constexpr double k_gib = 1024.0 * 1024.0 * 1024.0;
constexpr std::int64_t k_hour = 3600;
constexpr std::int64_t k_day = 86400;
constexpr std::int64_t k_t0 = 1'780'000'000;  // 2026-05-28

std::uint64_t gib(double n) {
    return static_cast<std::uint64_t>(std::llround(n * k_gib));
}

// Hourly samples for `days` days from k_t0: start GiB used, growing per_day GiB a day.
std::vector<Sample> hourly(int days, double start, double per_day, double total) {
    std::vector<Sample> out;
    for (std::int64_t h = 0; h <= days * 24; ++h) {
        const double d = static_cast<double>(h) / 24.0;
        out.push_back(Sample{k_t0 + h * k_hour, gib(start + per_day * d), gib(total)});
    }
    return out;
}

bool notes_mention(const Forecast& f, const std::string& part) {
    return std::ranges::any_of(f.notes, [&](const std::string& n) { return n.find(part) != std::string::npos; });
}

}  // namespace

TEST(CapacityRegression, StudentTQuantilesMatchTables) {
    EXPECT_NEAR(student_t_quantile(0.95, 10), 1.812461, 1e-5);
    EXPECT_NEAR(student_t_quantile(0.975, 1), 12.706205, 1e-4);
    EXPECT_NEAR(student_t_quantile(0.975, 30), 2.042272, 1e-5);
    EXPECT_NEAR(student_t_quantile(0.95, 100000), 1.644868, 1e-4);
    EXPECT_NEAR(student_t_quantile(0.05, 10), -1.812461, 1e-5);
}

TEST(CapacityRegression, ExactLineHasNoResidual) {
    const std::vector<Point> pts{{0, 1}, {1, 3}, {2, 5}, {3, 7}};
    const auto fit = fit_line(pts).value();
    EXPECT_DOUBLE_EQ(fit.slope, 2.0);
    EXPECT_DOUBLE_EQ(fit.intercept, 1.0);
    EXPECT_DOUBLE_EQ(fit.r2.value(), 1.0);
    EXPECT_DOUBLE_EQ(fit.residual_sd.value(), 0.0);
    EXPECT_FALSE(fit_line(std::vector<Point>{{5, 1}, {5, 2}}));  // one x: no line
    EXPECT_FALSE(fit_line(std::vector<Point>{{5, 1}}));
}

// The regression agrees with an independent implementation: python3's
// statistics.linear_regression and correlation, on the same points.
TEST(CapacityRegression, AgreesWithPythonStatistics) {
    std::mt19937_64 rng(42);
    std::normal_distribution<double> noise(0.0, 3.0 * k_gib);
    std::vector<Point> pts;
    std::ostringstream input;
    input.precision(17);
    for (int h = 0; h < 500; ++h) {
        const double x = static_cast<double>(k_t0 + h * k_hour + (h % 7) * 13);
        const double y = 400 * k_gib + 1.7 * k_gib * (x - k_t0) / k_day + noise(rng);
        pts.push_back({x, std::round(y)});
        input << pts.back().x << ' ' << pts.back().y << '\n';
    }
    const std::string script =
        "import sys, statistics\n"
        "xs, ys = [], []\n"
        "for line in sys.stdin:\n"
        "    x, y = line.split()\n"
        "    xs.append(float(x)); ys.append(float(y))\n"
        "r = statistics.linear_regression(xs, ys)\n"
        "print(repr(r.slope), repr(r.intercept), repr(statistics.correlation(xs, ys) ** 2))\n";
    const auto run = nasops::testing::run_command({"/usr/bin/python3", "-c", script}, input.str());
    ASSERT_EQ(run.exit_code, 0) << run.err;
    std::istringstream out(run.out);
    double slope = 0, intercept = 0, r2 = 0;
    ASSERT_TRUE(out >> slope >> intercept >> r2) << run.out;
    const auto fit = fit_line(pts).value();
    EXPECT_NEAR(fit.slope, slope, std::fabs(slope) * 1e-9);
    EXPECT_NEAR(fit.intercept, intercept, std::fabs(intercept) * 1e-7);
    EXPECT_NEAR(fit.r2.value(), r2, 1e-9);
    EXPECT_GT(r2, 0.5);  // the data do have a trend: the comparison means something
}

TEST(CapacityForecast, ExactGrowthGivesDaysUntilFullToTheHour) {
    // 60 days hourly at +2 GiB/day on 1 TiB: 520 GiB now, full in (1024-520)/2 = 252 days.
    const auto samples = hourly(60, 400, 2, 1024);
    const auto f = forecast(samples, ForecastOptions{}, samples.back().ts);
    ASSERT_EQ(f.state, ForecastState::filling);
    EXPECT_EQ(f.samples, 30u * 24u + 1u);  // the 30-day window
    EXPECT_EQ(f.fit_start, samples.back().ts - 30 * k_day);
    EXPECT_NEAR(f.growth_per_day(), 2 * k_gib, 1.0);
    EXPECT_NEAR(f.days_until_full.value() * 24, 252 * 24, 1.0);
    EXPECT_NEAR(f.days_until_warning.value() * 24, (0.8 * 1024 - 520) / 2 * 24, 1.0);
    EXPECT_NEAR(f.days_until_critical.value() * 24, (0.9 * 1024 - 520) / 2 * 24, 1.0);
    EXPECT_NEAR(f.predicted_used.value(), 580 * k_gib, 1e4);
    EXPECT_EQ(f.cleanup_needed, 0.0);
    EXPECT_NEAR(f.r2.value(), 1.0, 1e-12);
    EXPECT_NEAR(f.used_ratio, 520.0 / 1024.0, 1e-9);
    // Without noise the interval closes on the point.
    EXPECT_NEAR(f.days_until_full_low.value() * 24, 252 * 24, 1.0);
    EXPECT_NEAR(f.days_until_full_high.value() * 24, 252 * 24, 1.0);
    EXPECT_TRUE(f.resets.empty());
}

TEST(CapacityForecast, CleanupNeededKeepsUsageUnderTheWarningLevel) {
    // 520 GiB of 600 GiB, +2 GiB/day: 580 GiB in 30 days, 100 GiB over 80% (480 GiB).
    const auto samples = hourly(60, 400, 2, 600);
    const auto f = forecast(samples, ForecastOptions{}, samples.back().ts);
    EXPECT_NEAR(f.cleanup_needed, 100 * k_gib, 1e4);
    EXPECT_EQ(f.days_until_warning.value(), 0.0);  // already past 80%
    EXPECT_NEAR(f.days_until_full.value() * 24, 40 * 24, 1.0);
    ForecastOptions week;
    week.horizon_days = 7;
    EXPECT_NEAR(forecast(samples, week, samples.back().ts).cleanup_needed, 54 * k_gib, 1e4);
}

TEST(CapacityForecast, NoisyIntervalCoversTheTruth) {
    // The true line fills 1 TiB in 252 days; the samples carry 2 GiB of noise.
    int covered = 0;
    for (int seed = 0; seed < 50; ++seed) {
        std::mt19937_64 rng(static_cast<std::uint64_t>(seed));
        std::normal_distribution<double> noise(0.0, 2.0);
        auto samples = hourly(60, 400, 2, 1024);
        for (auto& s : samples) s.used = gib(static_cast<double>(s.used) / k_gib + noise(rng));
        const auto f = forecast(samples, ForecastOptions{}, samples.back().ts);
        ASSERT_EQ(f.state, ForecastState::filling);
        const double low = f.days_until_full_low.value();
        const double high = f.days_until_full_high.value();
        EXPECT_LE(low, f.days_until_full.value());
        EXPECT_GE(high, f.days_until_full.value());
        EXPECT_LT(high - low, 60.0);  // informative, not "0 to forever"
        if (low <= 252.0 && 252.0 <= high) ++covered;
        EXPECT_LT(f.r2.value(), 1.0);
    }
    EXPECT_GE(covered, 45);  // a 90% interval
}

TEST(CapacityForecast, FitsOnlyAfterACleanup) {
    // +2 GiB/day for 40 days, 150 GiB deleted, then +3 GiB/day for 20 days.
    auto samples = hourly(40, 400, 2, 1024);
    const auto after = hourly(20, 330, 3, 1024);
    for (std::size_t i = 1; i < after.size(); ++i) {
        auto s = after[i];
        s.ts += 40 * k_day;
        samples.push_back(s);
    }
    const auto f = forecast(samples, ForecastOptions{}, samples.back().ts);
    ASSERT_EQ(f.resets.size(), 1u);
    EXPECT_FALSE(f.saw_tooth);
    EXPECT_EQ(f.resets[0].ts, k_t0 + 40 * k_day + k_hour);
    EXPECT_EQ(f.fit_start, f.resets[0].ts);
    EXPECT_NEAR(f.growth_per_day(), 3 * k_gib, 1.0);
    EXPECT_NEAR(f.days_until_full.value(), (1024.0 - 390.0) / 3.0, 1.0 / 24);
    EXPECT_TRUE(notes_mention(f, "cleanup at")) << f.notes.at(0);
}

TEST(CapacityForecast, SawToothFitsTheLastTooth) {
    // Retention brings the NAS back to 300 GiB every 7 days; it grows 10 GiB/day in between.
    std::vector<Sample> samples;
    for (std::int64_t h = 0; h <= 60 * 24; ++h) {
        const double days_in_tooth = static_cast<double>(h % (7 * 24)) / 24.0;
        samples.push_back(Sample{k_t0 + h * k_hour, gib(300 + 10 * days_in_tooth), gib(1024)});
    }
    const auto f = forecast(samples, ForecastOptions{}, samples.back().ts);
    EXPECT_TRUE(f.saw_tooth);
    EXPECT_EQ(f.resets.size(), 4u);  // days 35, 42, 49, 56 in the last 30
    EXPECT_EQ(f.fit_start, k_t0 + 56 * k_day);
    EXPECT_NEAR(f.growth_per_day(), 10 * k_gib, 1.0);
    EXPECT_TRUE(notes_mention(f, "saw-tooth: 4 drops")) << f.notes.at(0);
    EXPECT_TRUE(notes_mention(f, "one every 7d"));
}

TEST(CapacityForecast, FlatIsNotFilling) {
    const auto samples = hourly(10, 500, 0, 1024);
    const auto f = forecast(samples, ForecastOptions{}, samples.back().ts);
    EXPECT_EQ(f.state, ForecastState::not_filling);
    EXPECT_FALSE(f.days_until_full);
    EXPECT_FALSE(f.days_until_warning);
    EXPECT_EQ(f.growth_per_second, 0.0);
    EXPECT_EQ(f.predicted_used.value(), 500 * k_gib);
    EXPECT_TRUE(notes_mention(f, "flat"));

    // Noise around a flat line is no growth either.
    std::mt19937_64 rng(7);
    std::normal_distribution<double> noise(0.0, 1.0);
    auto noisy = samples;
    for (auto& s : noisy) s.used = gib(500 + noise(rng));
    EXPECT_EQ(forecast(noisy, ForecastOptions{}, noisy.back().ts).state, ForecastState::not_filling);
}

TEST(CapacityForecast, ShrinkingIsNotFilling) {
    const auto samples = hourly(10, 500, -1, 1024);
    const auto f = forecast(samples, ForecastOptions{}, samples.back().ts);
    EXPECT_EQ(f.state, ForecastState::not_filling);
    EXPECT_FALSE(f.days_until_full);
    EXPECT_NEAR(f.growth_per_day(), -1 * k_gib, 1.0);
    EXPECT_TRUE(notes_mention(f, "shrinks by 1.0 GiB/day")) << f.notes.at(0);
    // Already over 80% and not filling: the cleanup is what is over it today.
    const auto full = hourly(10, 950, -1, 1024);
    EXPECT_NEAR(forecast(full, ForecastOptions{}, full.back().ts).cleanup_needed, (940 - 0.8 * 1024) * k_gib, 1e4);
}

TEST(CapacityForecast, OneSampleIsInsufficientData) {
    const std::vector<Sample> one{{k_t0, gib(10), gib(100)}};
    const auto f = forecast(one, ForecastOptions{}, k_t0);
    EXPECT_EQ(f.state, ForecastState::insufficient_data);
    EXPECT_FALSE(f.fit);
    EXPECT_FALSE(f.days_until_full);
    EXPECT_FALSE(f.predicted_used);
    EXPECT_EQ(f.used, gib(10));  // what was measured is still told
    EXPECT_TRUE(notes_mention(f, "insufficient data: 1 sample"));
    EXPECT_EQ(forecast(std::vector<Sample>{}, ForecastOptions{}, k_t0).state, ForecastState::insufficient_data);
}

TEST(CapacityForecast, TwoSamplesASecondApartAreInsufficientData) {
    const std::vector<Sample> two{{k_t0, gib(10), gib(100)}, {k_t0 + 1, gib(11), gib(100)}};
    const auto f = forecast(two, ForecastOptions{}, k_t0 + 1);
    EXPECT_EQ(f.state, ForecastState::insufficient_data);
    EXPECT_FALSE(f.days_until_full);
    EXPECT_TRUE(notes_mention(f, "less than an hour"));
}

TEST(CapacityForecast, TwoSamplesAnHourApartFillWithoutAnInterval) {
    const std::vector<Sample> two{{k_t0, gib(10), gib(100)}, {k_t0 + k_hour, gib(11), gib(100)}};
    const auto f = forecast(two, ForecastOptions{}, k_t0 + k_hour);
    EXPECT_EQ(f.state, ForecastState::filling);
    EXPECT_NEAR(f.days_until_full.value(), 89.0 / 24.0, 1e-9);  // 1 GiB an hour, 89 GiB to go
    EXPECT_FALSE(f.days_until_full_low);                        // two points leave nothing to estimate the noise from
    EXPECT_FALSE(f.days_until_full_high);
}

TEST(CapacityForecast, OrderAndDuplicatesDoNotMatter) {
    const auto samples = hourly(20, 400, 2, 1024);
    const auto reference = forecast(samples, ForecastOptions{}, samples.back().ts);
    auto shuffled = samples;
    std::mt19937 rng(3);
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    shuffled.insert(shuffled.end(), samples.begin(), samples.begin() + 50);  // imported twice
    const auto f = forecast(shuffled, ForecastOptions{}, samples.back().ts);
    EXPECT_EQ(f.samples, reference.samples);
    EXPECT_DOUBLE_EQ(f.growth_per_second, reference.growth_per_second);
    EXPECT_DOUBLE_EQ(f.days_until_full.value(), reference.days_until_full.value());

    // Two different values for one time: the last one given wins.
    std::vector<Sample> twice{
        {k_t0, gib(10), gib(100)}, {k_t0 + k_hour, gib(99), gib(100)}, {k_t0 + k_hour, gib(12), gib(100)}};
    const auto g = forecast(twice, ForecastOptions{}, k_t0 + k_hour);
    EXPECT_EQ(g.used, gib(12));
    EXPECT_NEAR(g.growth_per_day(), 48 * k_gib, 1.0);
}

TEST(CapacityForecast, AVolumeThatGrewUsesItsNewSize) {
    // 1 TiB for 50 days, then resized to 2 TiB; usage grows 2 GiB/day throughout.
    auto samples = hourly(60, 400, 2, 1024);
    for (auto& s : samples)
        if (s.ts >= k_t0 + 50 * k_day) s.total = gib(2048);
    const auto f = forecast(samples, ForecastOptions{}, samples.back().ts);
    EXPECT_EQ(f.total, gib(2048));
    EXPECT_NEAR(f.growth_per_day(), 2 * k_gib, 1.0);
    EXPECT_NEAR(f.days_until_full.value() * 24, (2048.0 - 520.0) / 2 * 24, 1.0);
    EXPECT_TRUE(notes_mention(f, "size changed"));
}

TEST(CapacityForecast, SamplesFromAClockThatJumpedAreLeftOut) {
    auto samples = hourly(20, 400, 2, 1024);
    const auto now = samples.back().ts;
    samples.push_back(Sample{now + 365 * k_day, gib(100), gib(1024)});  // a clock a year ahead
    const auto f = forecast(samples, ForecastOptions{}, now);
    EXPECT_EQ(f.as_of, now);
    EXPECT_TRUE(f.resets.empty());
    EXPECT_NEAR(f.growth_per_day(), 2 * k_gib, 1.0);
    EXPECT_TRUE(notes_mention(f, "1 sample(s) dated after"));
    // A clock that jumped back shows up as samples out of order: sorting puts them in place.
    auto back = hourly(20, 400, 2, 1024);
    std::swap(back[100], back[200]);
    EXPECT_NEAR(forecast(back, ForecastOptions{}, now).growth_per_day(), 2 * k_gib, 1.0);
}

TEST(CapacityForecast, WindowLimitsTheFit) {
    // +1 GiB/day for 50 days, then +4 GiB/day: a 7-day window sees only the new rate.
    auto samples = hourly(50, 100, 1, 1024);
    const auto fast = hourly(10, 150, 4, 1024);
    for (std::size_t i = 1; i < fast.size(); ++i) {
        auto s = fast[i];
        s.ts += 50 * k_day;
        samples.push_back(s);
    }
    ForecastOptions week;
    week.window = std::chrono::seconds(7 * k_day);
    EXPECT_NEAR(forecast(samples, week, samples.back().ts).growth_per_day(), 4 * k_gib, 1.0);
    EXPECT_EQ(forecast(samples, week, samples.back().ts).samples, 7u * 24u + 1u);
}

TEST(CapacityForecast, AnOldLastSampleIsSaid) {
    const auto samples = hourly(10, 400, 2, 1024);
    EXPECT_FALSE(notes_mention(forecast(samples, ForecastOptions{}, samples.back().ts + k_day), "still running"));
    const auto f = forecast(samples, ForecastOptions{}, samples.back().ts + 3 * k_day);
    EXPECT_TRUE(notes_mention(f, "the last sample is from 2026-06-07 20:26 UTC")) << f.notes.at(0);
    EXPECT_EQ(f.as_of, samples.back().ts);  // the numbers still count from the last sample
}
