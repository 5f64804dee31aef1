#include "forecast.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "nasops/util/units.hpp"

namespace nasops::capacity {

namespace {

constexpr std::int64_t k_min_span_seconds = 3600;
constexpr std::int64_t k_future_slack_seconds = 3600;
constexpr std::int64_t k_stale_after_seconds = 2 * 86400;

std::string minute_text(std::int64_t ts) {
    return fmt::format("{:%Y-%m-%d %H:%M} UTC", std::chrono::sys_seconds{std::chrono::seconds{ts}});
}

// Sorted by time, one sample per time (the last given wins), none from the future.
std::vector<Sample> clean_samples(std::span<const Sample> samples, std::int64_t now, std::vector<std::string>& notes) {
    std::vector<Sample> out;
    out.reserve(samples.size());
    std::size_t future = 0;
    for (const auto& s : samples) {
        if (s.ts > now + k_future_slack_seconds) {
            ++future;
            continue;
        }
        out.push_back(s);
    }
    if (future > 0)
        notes.push_back(
            fmt::format("{} sample(s) dated after {} ignored (a clock that jumped)", future, minute_text(now)));
    std::stable_sort(out.begin(), out.end(), [](const Sample& a, const Sample& b) { return a.ts < b.ts; });
    std::size_t kept = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (kept > 0 && out[kept - 1].ts == out[i].ts) {
            out[kept - 1] = out[i];
        } else {
            out[kept++] = out[i];
        }
    }
    out.resize(kept);
    return out;
}

bool is_reset(const Sample& before, const Sample& after, double drop_ratio) {
    if (after.used >= before.used) return false;
    return static_cast<double>(before.used - after.used) > drop_ratio * static_cast<double>(before.used);
}

// The first x >= from where band(x) >= level, for a band that is increasing
// from `from` on; nullopt when it does not get there within a million years.
template <class Band>
std::optional<double> first_crossing(Band band, double from, double level) {
    if (band(from) >= level) return from;
    constexpr double k_limit = 1e6 * 365.0 * k_seconds_per_day;
    double step = 3600.0;
    double lo = from;
    double hi = from + step;
    while (band(hi) < level) {
        lo = hi;
        step *= 2.0;
        hi = from + step;
        if (step > k_limit) return std::nullopt;
    }
    for (int i = 0; i < 100 && hi - lo > 1.0; ++i) {
        const double mid = 0.5 * (lo + hi);
        (band(mid) < level ? lo : hi) = mid;
    }
    return hi;
}

}  // namespace

std::string_view forecast_state_name(ForecastState state) noexcept {
    switch (state) {
        case ForecastState::insufficient_data: return "insufficient_data";
        case ForecastState::not_filling: return "not_filling";
        case ForecastState::filling: return "filling";
    }
    return "insufficient_data";
}

Forecast forecast(std::span<const Sample> input, const ForecastOptions& options, std::int64_t now) {
    Forecast f;
    const auto samples = clean_samples(input, now, f.notes);
    if (samples.empty()) {
        f.notes.push_back("insufficient data: no samples");
        return f;
    }
    const Sample& last = samples.back();
    f.as_of = last.ts;
    f.used = last.used;
    f.total = last.total;
    f.used_ratio = last.total > 0 ? static_cast<double>(last.used) / static_cast<double>(last.total) : 0.0;
    if (now - last.ts > k_stale_after_seconds)
        f.notes.push_back(
            fmt::format("the last sample is from {}: is nasops-capacity record still running?", minute_text(last.ts)));

    // The window, then the segment after the last reset in it.
    const std::int64_t window_start = last.ts - options.window.count();
    std::size_t begin = 0;
    while (begin < samples.size() && samples[begin].ts < window_start) ++begin;
    std::size_t segment = begin;
    for (std::size_t i = begin + 1; i < samples.size(); ++i) {
        if (!is_reset(samples[i - 1], samples[i], options.reset_drop_ratio)) continue;
        f.resets.push_back(Reset{.ts = samples[i].ts, .before = samples[i - 1].used, .after = samples[i].used});
        segment = i;
    }
    f.saw_tooth = f.resets.size() >= 2;
    if (f.saw_tooth) {
        const auto period = (f.resets.back().ts - f.resets.front().ts) / static_cast<std::int64_t>(f.resets.size() - 1);
        f.notes.push_back(fmt::format("saw-tooth: {} drops in the window, one every {}; fitted after the last at {}",
                                      f.resets.size(), format_duration(std::chrono::seconds(period)),
                                      minute_text(f.resets.back().ts)));
    } else if (!f.resets.empty()) {
        const auto& r = f.resets.back();
        f.notes.push_back(fmt::format("cleanup at {} ({} -> {}); fitted after it", minute_text(r.ts),
                                      format_size(r.before), format_size(r.after)));
    }
    for (std::size_t i = segment + 1; i < samples.size(); ++i) {
        if (samples[i].total != samples[i - 1].total) {
            f.notes.push_back(fmt::format("the volume's size changed at {} ({} -> {}); the forecast uses the latest",
                                          minute_text(samples[i].ts), format_size(samples[i - 1].total),
                                          format_size(samples[i].total)));
        }
    }

    std::vector<Point> points;
    points.reserve(samples.size() - segment);
    for (std::size_t i = segment; i < samples.size(); ++i)
        points.push_back(Point{static_cast<double>(samples[i].ts), static_cast<double>(samples[i].used)});
    f.samples = points.size();
    f.fit_start = samples[segment].ts;
    const auto span = last.ts - f.fit_start;
    if (points.size() < 2 || span < k_min_span_seconds) {
        f.notes.push_back(points.size() < 2 ? fmt::format("insufficient data: {} sample{}", points.size(),
                                                          points.size() == 1 ? "" : "s")
                                            : fmt::format("insufficient data: {} samples over {}, less than an hour",
                                                          points.size(), format_duration(std::chrono::seconds(span))));
        return f;
    }
    f.fit = fit_line(points);
    const auto& fit = *f.fit;
    f.r2 = fit.r2;
    f.growth_per_second = fit.slope;

    const double x0 = static_cast<double>(f.as_of);
    const double total = static_cast<double>(f.total);
    const double horizon = x0 + static_cast<double>(options.horizon_days) * k_seconds_per_day;
    const double t_crit = fit.t_quantile(options.confidence).value_or(0.0);
    const auto slope_t = fit.slope_t();
    const bool significant = fit.slope > 0 && (!slope_t || *slope_t > t_crit);

    if (!significant) {
        f.state = ForecastState::not_filling;
        f.predicted_used = static_cast<double>(f.used);
        if (fit.slope < 0 && (!slope_t || *slope_t < -t_crit)) {
            f.notes.push_back(
                fmt::format("not filling: usage shrinks by {}/day",
                            format_size(static_cast<std::uint64_t>(std::llround(-fit.slope * k_seconds_per_day)))));
        } else {
            f.notes.push_back("not filling: usage is flat (no growth told apart from the noise)");
        }
    } else {
        f.state = ForecastState::filling;
        f.predicted_used = fit.at(horizon);
        const double now_used = static_cast<double>(f.used);
        const auto days_until = [&](double ratio) -> double {
            const double level = ratio * total;
            if (now_used >= level) return 0.0;
            const double x = fit.x_mean + (level - fit.y_mean) / fit.slope;
            return std::max(0.0, (x - x0) / k_seconds_per_day);
        };
        f.days_until_warning = days_until(options.warning_ratio);
        f.days_until_critical = days_until(options.critical_ratio);
        f.days_until_full = days_until(1.0);
        if (fit.residual_sd) {
            const auto upper = [&](double x) { return fit.at(x) + fit.prediction_half_width(x, t_crit); };
            const auto lower = [&](double x) { return fit.at(x) - fit.prediction_half_width(x, t_crit); };
            if (auto lo = first_crossing(upper, x0, total)) f.days_until_full_low = (*lo - x0) / k_seconds_per_day;
            if (auto hi = first_crossing(lower, x0, total)) f.days_until_full_high = (*hi - x0) / k_seconds_per_day;
            if (f.days_until_full_low) f.days_until_full_low = std::min(*f.days_until_full_low, *f.days_until_full);
            if (f.days_until_full_high) f.days_until_full_high = std::max(*f.days_until_full_high, *f.days_until_full);
        }
    }
    f.cleanup_needed = std::max(0.0, *f.predicted_used - options.warning_ratio * total);
    return f;
}

}  // namespace nasops::capacity
