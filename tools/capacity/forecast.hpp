#pragma once

// The storage forecast of one target from its usage samples: least squares
// over a window, after the last cleanup, with a prediction interval for the
// day it fills. Pure arithmetic on the samples it is given: no I/O, and the
// time "now" is a parameter.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "regression.hpp"

namespace nasops::capacity {

inline constexpr std::int64_t k_seconds_per_day = 86400;

// One usage sample of a filesystem.
struct Sample {
    std::int64_t ts = 0;      // Unix seconds
    std::uint64_t used = 0;   // bytes in use
    std::uint64_t total = 0;  // bytes usable: used + available (what df's Use% divides by)
};

struct ForecastOptions {
    std::chrono::seconds window{30 * k_seconds_per_day};  // samples older than this before the last are left out
    int horizon_days = 30;                                // "usage in N days" and the cleanup are for this day
    double reset_drop_ratio = 0.1;                        // a drop of more than this share of the usage is a cleanup
    double warning_ratio = 0.8;                           // "days until 80%"; the cleanup keeps usage under it
    double critical_ratio = 0.9;                          // "days until 90%"
    double confidence = 0.9;                              // of the interval of days until full
};

enum class ForecastState {
    insufficient_data,  // fewer than 2 samples, or less than an hour between them: no numbers (UNKNOWN)
    not_filling,        // flat, shrinking, or growth not told apart from the noise
    filling,
};
std::string_view forecast_state_name(ForecastState state) noexcept;  // "insufficient_data", ...

// A drop in usage larger than reset_drop_ratio: a cleanup or a retention job.
struct Reset {
    std::int64_t ts = 0;  // the first sample after the drop
    std::uint64_t before = 0;
    std::uint64_t after = 0;
};

struct Forecast {
    ForecastState state = ForecastState::insufficient_data;
    // What a person should know about how the numbers came about, in words:
    // "fitted after the cleanup at ...", "3 samples dated in the future ignored".
    std::vector<std::string> notes;

    std::size_t samples = 0;  // samples in the fit
    std::int64_t fit_start = 0;
    std::int64_t as_of = 0;  // the last sample's time: every "days until" counts from it
    std::uint64_t used = 0;  // the last sample's
    std::uint64_t total = 0;
    double used_ratio = 0;
    std::vector<Reset> resets;  // in the window, oldest first
    bool saw_tooth = false;     // two or more resets in the window

    std::optional<LinearFit> fit;  // x: Unix seconds, y: bytes used
    std::optional<double> r2;
    double growth_per_second = 0;          // bytes; 0 without a fit
    std::optional<double> predicted_used;  // bytes at as_of + horizon_days
    std::optional<double> days_until_warning;
    std::optional<double> days_until_critical;
    std::optional<double> days_until_full;
    // The interval of days until full at `confidence`: the first day the upper
    // and the lower prediction bands reach the total.
    std::optional<double> days_until_full_low;
    std::optional<double> days_until_full_high;
    double cleanup_needed = 0;  // bytes to delete so the usage stays under warning_ratio at the horizon

    double growth_per_day() const { return growth_per_second * k_seconds_per_day; }
};

// The forecast of one target. `samples` may come in any order and repeat a
// time (the last one given for a time wins); samples dated more than an hour
// after `now` (a clock that jumped) are left out and said so.
Forecast forecast(std::span<const Sample> samples, const ForecastOptions& options, std::int64_t now);

}  // namespace nasops::capacity
