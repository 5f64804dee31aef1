#include "forecast_output.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "nasops/obs/metrics.hpp"
#include "nasops/util/clock.hpp"
#include "nasops/util/units.hpp"

namespace nasops::capacity {

namespace {

std::string iso(std::int64_t ts) {
    return rfc3339_millis(SystemTimePoint{std::chrono::seconds{ts}});
}

std::string size_text(double bytes) {
    return format_size(static_cast<std::uint64_t>(std::llround(std::max(0.0, bytes))));
}

std::string signed_size(double bytes) {
    return fmt::format("{}{}", bytes < 0 ? "-" : "+", size_text(std::fabs(bytes)));
}

std::string percent(double ratio) {
    return fmt::format("{:.1f}%", ratio * 100.0);
}

std::string days_text(const std::optional<double>& days, std::int64_t from) {
    if (!days) return "never at this rate";
    if (*days == 0) return "already";
    return fmt::format("{:.1f} days ({})", *days, date_after(from, *days));
}

std::string state_word(const Forecast& f) {
    switch (f.state) {
        case ForecastState::insufficient_data: return "UNKNOWN insufficient data";
        case ForecastState::not_filling: return "not filling";
        case ForecastState::filling: return "filling";
    }
    return "";
}

}  // namespace

std::string date_after(std::int64_t from, double days) {
    const auto seconds = static_cast<std::int64_t>(std::llround(std::min(days, 1e6) * k_seconds_per_day));
    return fmt::format("{:%Y-%m-%d}", std::chrono::sys_seconds{std::chrono::seconds{from + seconds}});
}

nlohmann::json forecast_fields(const TargetForecast& t, const ForecastOptions& options) {
    const auto& f = t.forecast;
    nlohmann::json j = nlohmann::json::object();
    j["target"] = t.target;
    j["state"] = forecast_state_name(f.state);
    j["status"] = f.state == ForecastState::insufficient_data ? "unknown" : "ok";
    j["samples"] = f.samples;
    if (f.as_of != 0) {
        j["as_of"] = iso(f.as_of);
        j["used_bytes"] = f.used;
        j["total_bytes"] = f.total;
        j["used_ratio"] = f.used_ratio;
    }
    if (f.fit) {
        j["fit_start"] = iso(f.fit_start);
        j["growth_bytes_per_day"] = f.growth_per_day();
        j["growth_bytes_per_second"] = f.growth_per_second;
        if (f.r2) j["r2"] = *f.r2;
    }
    j["horizon_days"] = options.horizon_days;
    if (f.predicted_used) {
        j["predicted_used_bytes"] = *f.predicted_used;
        j["cleanup_bytes"] = f.cleanup_needed;
    }
    j["warning_ratio"] = options.warning_ratio;
    j["critical_ratio"] = options.critical_ratio;
    if (f.days_until_warning) j["days_until_warning"] = *f.days_until_warning;
    if (f.days_until_critical) j["days_until_critical"] = *f.days_until_critical;
    if (f.days_until_full) j["days_until_full"] = *f.days_until_full;
    if (f.days_until_full_low) j["days_until_full_low"] = *f.days_until_full_low;
    if (f.days_until_full_high) j["days_until_full_high"] = *f.days_until_full_high;
    if (f.days_until_full_low || f.days_until_full_high) j["confidence"] = options.confidence;
    j["resets"] = f.resets.size();
    if (!f.resets.empty()) j["last_reset"] = iso(f.resets.back().ts);
    j["saw_tooth"] = f.saw_tooth;
    j["notes"] = f.notes;
    std::string message = fmt::format("{}: {}", t.target, state_word(f));
    if (f.days_until_full) message += fmt::format(", full in {:.1f} days", *f.days_until_full);
    j["message"] = message;
    return j;
}

std::string forecast_text(const TargetForecast& t, const ForecastOptions& options, const Glyphs& glyphs) {
    const auto& f = t.forecast;
    std::string out;
    if (f.as_of == 0) {
        out += fmt::format("{}: {}\n", t.target, state_word(f));
    } else {
        out += fmt::format("{}: {}, {} used ({} of {})\n", t.target, state_word(f), percent(f.used_ratio),
                           size_text(static_cast<double>(f.used)), size_text(static_cast<double>(f.total)));
    }
    if (f.fit) {
        out += fmt::format("  growth       {}/day (R\u00b2 {}, {} samples since {:%Y-%m-%d %H:%M} UTC)\n",
                           signed_size(f.growth_per_day()), f.r2 ? fmt::format("{:.3f}", *f.r2) : "-", f.samples,
                           std::chrono::sys_seconds{std::chrono::seconds{f.fit_start}});
    }
    if (f.predicted_used) {
        const double ratio = f.total > 0 ? *f.predicted_used / static_cast<double>(f.total) : 0.0;
        out +=
            fmt::format("  in {} days   {} ({})\n", options.horizon_days, size_text(*f.predicted_used), percent(ratio));
    }
    if (f.state != ForecastState::insufficient_data) {
        out += fmt::format("  {:<12} {}\n", percent(options.warning_ratio) + " in",
                           days_text(f.days_until_warning, f.as_of));
        out += fmt::format("  {:<12} {}\n", percent(options.critical_ratio) + " in",
                           days_text(f.days_until_critical, f.as_of));
        std::string full = days_text(f.days_until_full, f.as_of);
        if (f.days_until_full_low && f.days_until_full_high)
            full += fmt::format(", {:.0f}% interval {:.1f}{}{:.1f} days", options.confidence * 100,
                                *f.days_until_full_low, glyphs.range_dash, *f.days_until_full_high);
        else if (f.days_until_full_low)
            full += fmt::format(", {:.0f}% interval {:.1f} days or later", options.confidence * 100,
                                *f.days_until_full_low);
        out += fmt::format("  full in      {}\n", full);
        out += fmt::format("  cleanup      {}\n",
                           f.cleanup_needed > 0
                               ? fmt::format("{} to stay under {} in {} days", size_text(f.cleanup_needed),
                                             percent(options.warning_ratio), options.horizon_days)
                               : fmt::format("none needed to stay under {} in {} days", percent(options.warning_ratio),
                                             options.horizon_days));
    }
    for (const auto& note : f.notes) out += fmt::format("  note: {}\n", note);
    return out;
}

Result<std::string> forecast_exposition(std::span<const TargetForecast> forecasts) {
    Exposition e;
    TRY(e.declare("nasops_capacity_seconds_until_full", MetricType::gauge,
                  "Forecast time until the file system is full at its fitted growth; +Inf when not filling."));
    TRY(e.declare("nasops_capacity_growth_bytes_per_second", MetricType::gauge,
                  "Fitted growth of the used bytes (least squares over the window, after the last cleanup)."));
    TRY(e.declare("nasops_capacity_used_ratio", MetricType::gauge, "Used share of the file system, 0 to 1."));
    TRY(e.declare("nasops_capacity_used_bytes", MetricType::gauge, "Bytes used at the last sample."));
    TRY(e.declare("nasops_capacity_size_bytes", MetricType::gauge,
                  "Bytes usable (used plus available) at the last sample."));
    for (const auto& t : forecasts) {
        const auto& f = t.forecast;
        const Labels labels{{"target", t.target}};
        if (f.as_of == 0) continue;
        TRY(e.add("nasops_capacity_used_ratio", labels, f.used_ratio));
        TRY(e.add("nasops_capacity_used_bytes", labels, static_cast<double>(f.used)));
        TRY(e.add("nasops_capacity_size_bytes", labels, static_cast<double>(f.total)));
        if (f.state == ForecastState::insufficient_data) continue;
        TRY(e.add("nasops_capacity_growth_bytes_per_second", labels, f.growth_per_second));
        TRY(e.add(
            "nasops_capacity_seconds_until_full", labels,
            f.days_until_full ? *f.days_until_full * k_seconds_per_day : std::numeric_limits<double>::infinity()));
    }
    return e.text();
}

}  // namespace nasops::capacity
