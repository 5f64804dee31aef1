#pragma once

// Bandwidth by time of day, as rclone's --bwlimit takes it: a plain rate
// ("10M", parse_rate), or entries "[Day-]HH:MM,RATE" separated by blanks or
// ';' ("08:00,2M 19:00,off", "Mon-08:00,512k Sat-10:00,off"). An entry's
// rate holds from its time until the next entry's, the last one wrapping
// round to the first; an entry without a day holds that time on every day.
// "off" (or 0) is no limit. Times are local, read from an injected clock.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/util/clock.hpp"

namespace nasops {

// Bytes per second, or nullopt for no limit.
using RateLimit = std::optional<std::uint64_t>;

inline constexpr int k_minutes_per_week = 7 * 24 * 60;

class RateTimetable {
public:
    // Errors name the entry, its place and what is wrong (ExitCode::usage).
    static Result<RateTimetable> parse(std::string_view text);

    // The limit in force at `minute_of_week` (0 is Sunday 00:00).
    RateLimit at(int minute_of_week) const;
    // Whether it is one rate at all times (a plain rate, or every entry the same).
    bool constant() const;
    // Whether no entry limits anything ("off", "0", "00:00,off").
    bool unlimited() const;

    bool operator==(const RateTimetable&) const = default;

private:
    struct Change {
        int minute_of_week;
        RateLimit limit;

        bool operator==(const Change&) const = default;
    };
    std::vector<Change> m_changes;  // sorted by minute_of_week, never empty
};

// The minute of the week of `t` in the local time zone (0 is Sunday 00:00).
int local_minute_of_week(SystemTimePoint t);

// "2 MiB/s" or "off".
std::string format_rate_limit(RateLimit limit);

}  // namespace nasops
