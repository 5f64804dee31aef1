#pragma once

// Parsing and printing of the units every tool and config key shares:
// durations, sizes, rates, and monitoring-plugins threshold ranges.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "nasops/core/error.hpp"

namespace nasops {

using Duration = std::chrono::milliseconds;

// "90s", "5m", "2h", "7d", "1w", "250ms", "1h30m"; a bare number is seconds.
// Errors name the text and say what was expected (ExitCode::usage).
Result<Duration> parse_duration(std::string_view text);
// The shortest exact form: 5400000ms -> "1h30m", 250ms -> "250ms", 0 -> "0s".
std::string format_duration(Duration d);

// Sizes in bytes. Binary multiples for K, M, G, T, P and KiB..PiB (as rsync and
// ssh do: "10M" is 10 MiB); decimal for KB, MB, GB, TB, PB. Fractions are allowed
// ("1.5GiB"); the suffix is case-insensitive except that "b" alone means bytes.
Result<std::uint64_t> parse_size(std::string_view text);
// Human form with binary units and up to one decimal: "1.5 GiB", "512 B".
std::string format_size(std::uint64_t bytes);

// Bytes per second: a size, optionally followed by "/s" ("10M", "10MiB/s").
Result<std::uint64_t> parse_rate(std::string_view text);

// A share in [0, 1]: "0.2" or "20%". Errors say what was expected.
Result<double> parse_ratio(std::string_view text);

// A monitoring-plugins threshold range (Nagios plugin development guidelines):
//   "10"     alert outside 0..10        "10:"  alert below 10
//   "~:10"   alert above 10             "10:20" alert outside 10..20
//   "@10:20" alert inside 10..20 (inclusive)
struct ThresholdRange {
    double start = 0;
    double end = 0;
    bool start_infinite = false;  // "~" lower bound
    bool end_infinite = false;    // empty upper bound
    bool inside = false;          // "@": alert when inside the range

    // True when `value` should raise the alert this range describes.
    bool alerts(double value) const noexcept;
    // The range as the user wrote it, normalised ("10", "10:", "~:10", "@10:20").
    std::string to_string() const;
};

Result<ThresholdRange> parse_range(std::string_view text);

}  // namespace nasops
