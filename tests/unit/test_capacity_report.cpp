#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "capacity/forecast_output.hpp"
#include "capacity/report.hpp"

using namespace nasops;
using namespace nasops::capacity;

namespace {

constexpr std::int64_t k_day = 86400;
constexpr std::int64_t k_t0 = 1'780'012'800;  // 2026-05-29 00:00 UTC
constexpr std::uint64_t k_gib = 1ull << 30;

// Daily samples for `days` days, +per_day GiB a day from start GiB, of 100 GiB.
std::vector<Sample> daily(int days, std::uint64_t start, std::uint64_t per_day) {
    std::vector<Sample> out;
    for (int d = 0; d < days; ++d)
        out.push_back(
            Sample{k_t0 + d * k_day + 3600, (start + per_day * static_cast<std::uint64_t>(d)) * k_gib, 100 * k_gib});
    return out;
}

TargetHistory history(std::string target, std::vector<Sample> samples) {
    auto f = forecast(samples, ForecastOptions{}, samples.empty() ? k_t0 : samples.back().ts);
    return TargetHistory{std::move(target), std::move(samples), std::move(f)};
}

}  // namespace

TEST(CapacityReport, SparklineRisesOneLevelADayOverEightDays) {
    const auto s = daily(8, 10, 1);
    EXPECT_EQ(sparkline(s, s.back().ts, unicode_glyphs(), 8), "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588");
    // Days without a sample are blanks; the line is always `days` wide.
    EXPECT_EQ(sparkline(s, s.back().ts + 2 * k_day, unicode_glyphs(), 10),
              "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588  ");
    EXPECT_EQ(sparkline({}, k_t0, unicode_glyphs(), 3), "   ");
    const auto flat = daily(3, 10, 0);
    EXPECT_EQ(sparkline(flat, flat.back().ts, unicode_glyphs(), 3), "\u2584\u2584\u2584");
    EXPECT_EQ(sparkline(s, s.back().ts, ascii_glyphs(), 8), "_.-:=+*#");  // a C locale
}

TEST(CapacityReport, TableHasARowPerTargetWithDates) {
    // 10 days at +1 GiB/day: 19 GiB of 100 now, 80% on day 80, full on day 100 of 2026-05-29's count.
    const std::vector<TargetHistory> targets{history("/srv/media", daily(10, 10, 1)), history("/empty", {})};
    const auto text = report_text(targets, ForecastOptions{}, unicode_glyphs());
    EXPECT_NE(text.find("target"), std::string::npos);
    EXPECT_NE(text.find("/srv/media"), std::string::npos);
    EXPECT_NE(text.find("+1.0 GiB/day"), std::string::npos) << text;
    // Full: 81 GiB to go at 1 GiB/day from 2026-06-07 01:00: 2026-08-27.
    EXPECT_NE(text.find("2026-08-27"), std::string::npos) << text;
    EXPECT_NE(text.find("insufficient data"), std::string::npos) << text;
    EXPECT_NE(text.find("\u2588"), std::string::npos);

    const auto ascii = report_text(targets, ForecastOptions{}, ascii_glyphs());
    EXPECT_NE(ascii.find("2026-08-27"), std::string::npos) << ascii;
    EXPECT_TRUE(std::ranges::all_of(ascii, [](char c) { return static_cast<unsigned char>(c) < 0x80; })) << ascii;
}

TEST(CapacityReport, SvgHasThePartsOfTheChart) {
    auto cleaned = daily(20, 10, 2);
    for (std::size_t i = 10; i < cleaned.size(); ++i) cleaned[i].used -= 15 * k_gib;  // a cleanup on day 10
    const std::vector<TargetHistory> targets{history("/srv/<media>&", cleaned)};
    const auto svg = report_svg(targets, ForecastOptions{});
    EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
    EXPECT_NE(svg.find("<polyline"), std::string::npos);                 // the history
    EXPECT_NE(svg.find("<polygon"), std::string::npos);                  // the interval band
    EXPECT_NE(svg.find("stroke-dasharray=\"8 5\""), std::string::npos);  // the forecast
    EXPECT_NE(svg.find(">80%<"), std::string::npos);
    EXPECT_NE(svg.find(">90%<"), std::string::npos);
    EXPECT_NE(svg.find(">100%<"), std::string::npos);
    EXPECT_NE(svg.find("<circle"), std::string::npos);                  // the reset
    EXPECT_NE(svg.find("/srv/&lt;media&gt;&amp;"), std::string::npos);  // names are escaped
    EXPECT_NE(svg.find("GiB"), std::string::npos);                      // human sizes on the axis
    EXPECT_NE(svg.find("2026-06-"), std::string::npos);                 // dates on the axis
    const auto html = report_html(targets, ForecastOptions{}, "cam-01", k_t0);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find("http://", html.find("<svg") + 60), std::string::npos);  // nothing fetched
    EXPECT_NE(html.find("<svg"), std::string::npos);
    EXPECT_NE(html.find("<table>"), std::string::npos);
}

TEST(CapacityOutput, ForecastRecordCarriesTheNumbers) {
    const auto h = history("/srv/media", daily(10, 10, 1));
    const auto j = forecast_fields(TargetForecast{h.target, h.forecast}, ForecastOptions{});
    EXPECT_EQ(j["target"], "/srv/media");
    EXPECT_EQ(j["state"], "filling");
    EXPECT_EQ(j["status"], "ok");
    EXPECT_NEAR(j["days_until_full"].get<double>(), 81.0, 1e-6);
    EXPECT_NEAR(j["days_until_warning"].get<double>(), 61.0, 1e-6);
    EXPECT_NEAR(j["growth_bytes_per_day"].get<double>(), static_cast<double>(k_gib), 1.0);
    EXPECT_NEAR(j["used_ratio"].get<double>(), 0.19, 1e-9);
    EXPECT_EQ(j["samples"], 10);
    const auto none = forecast_fields(TargetForecast{"/x", forecast({}, ForecastOptions{}, k_t0)}, ForecastOptions{});
    EXPECT_EQ(none["status"], "unknown");
    EXPECT_FALSE(none.contains("days_until_full"));
    EXPECT_FALSE(none.contains("growth_bytes_per_day"));
}

TEST(CapacityOutput, ExpositionIsInBaseUnits) {
    const auto fill = history("/a", daily(10, 10, 1));
    const auto flat = history("/b", daily(10, 10, 0));
    const std::vector<TargetForecast> f{{fill.target, fill.forecast}, {flat.target, flat.forecast}};
    const auto text = forecast_exposition(f).value();
    const std::string full_a = "nasops_capacity_seconds_until_full{target=\"/a\"} ";
    const auto at = text.find(full_a);
    ASSERT_NE(at, std::string::npos) << text;
    EXPECT_NEAR(std::stod(text.substr(at + full_a.size())), 81.0 * 86400, 1e-3);  // in seconds, not days
    EXPECT_NE(text.find("nasops_capacity_seconds_until_full{target=\"/b\"} +Inf\n"), std::string::npos) << text;
    EXPECT_NE(text.find("nasops_capacity_used_ratio{target=\"/a\"} 0.19\n"), std::string::npos) << text;
    EXPECT_NE(text.find("# TYPE nasops_capacity_growth_bytes_per_second gauge"), std::string::npos);
}
