#include "nasops/util/rate_timetable.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>

#include "nasops/util/text.hpp"
#include "nasops/util/units.hpp"

namespace nasops {

namespace {

constexpr int k_minutes_per_day = 24 * 60;
// Between entries: ";" or any blank trim() removes (a TOML multi-line string holds newlines).
constexpr std::string_view k_separators = " \t\n\v\f\r;";
// tm_wday order: 0 is Sunday.
constexpr std::array<std::string_view, 7> k_days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

struct Entry {
    std::optional<int> day;  // nullopt: every day
    int minute_of_day = 0;
    RateLimit limit;
};

std::optional<int> two_digit_number(std::string_view text, int max) {
    if (text.empty() || text.size() > 2) return std::nullopt;
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value > max) return std::nullopt;
    return value;
}

Result<RateLimit> parse_limit(std::string_view text) {
    if (iequals(text, "off")) return RateLimit{};
    TRY_ASSIGN(const auto rate, parse_rate(text));
    if (rate == 0) return RateLimit{};  // 0 is no limit, as rsync and rclone read it
    return RateLimit{rate};
}

// "[Day-]HH:MM,RATE"; the error says what is wrong with it.
Result<Entry> parse_entry(std::string_view text) {
    const auto bad = [](std::string why) { return fail(ExitCode::usage, std::move(why)); };
    const auto comma = text.find(',');
    if (comma == std::string_view::npos) return bad("expected [Day-]HH:MM,RATE");
    auto when = text.substr(0, comma);
    Entry entry;
    if (const auto dash = when.find('-'); dash != std::string_view::npos) {
        const auto day = when.substr(0, dash);
        const auto it = std::ranges::find_if(k_days, [&](std::string_view d) { return iequals(d, day); });
        if (it == k_days.end()) return bad(fmt::format("'{}' is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)", day));
        entry.day = static_cast<int>(it - k_days.begin());
        when.remove_prefix(dash + 1);
    }
    const auto colon = when.find(':');
    const auto hour = colon == std::string_view::npos ? std::nullopt : two_digit_number(when.substr(0, colon), 23);
    const auto minute = colon == std::string_view::npos || when.size() - colon != 3
                            ? std::nullopt
                            : two_digit_number(when.substr(colon + 1), 59);
    if (!hour || !minute) return bad(fmt::format("'{}' is not a time of day (HH:MM, 00:00 to 23:59)", when));
    entry.minute_of_day = *hour * 60 + *minute;
    auto limit = parse_limit(text.substr(comma + 1));
    if (!limit) return bad(limit.error().message);
    entry.limit = *limit;
    return entry;
}

}  // namespace

Result<RateTimetable> RateTimetable::parse(std::string_view text) {
    RateTimetable table;
    const auto trimmed = trim(text);
    if (trimmed.find(',') == std::string_view::npos) {
        auto limit = parse_limit(trimmed);
        if (!limit) {
            return fail(ExitCode::usage,
                        fmt::format("{}, or a timetable such as \"08:00,2M 19:00,off\"", limit.error().message));
        }
        table.m_changes.push_back({0, *limit});
        return table;
    }

    std::vector<std::pair<int, std::string_view>> written;  // minute of the week, the entry that set it
    std::size_t number = 0;
    std::size_t start = 0;
    while (start < trimmed.size()) {
        const auto end = std::min(trimmed.find_first_of(k_separators, start), trimmed.size());
        const auto item = trimmed.substr(start, end - start);
        start = end + 1;
        if (item.empty()) continue;
        ++number;
        auto entry = parse_entry(item);
        if (!entry) {
            return fail(ExitCode::usage, fmt::format("invalid bandwidth timetable entry {} '{}': {}", number, item,
                                                     entry.error().message));
        }
        for (int day = 0; day < 7; ++day) {
            if (entry->day && *entry->day != day) continue;
            const int minute = day * k_minutes_per_day + entry->minute_of_day;
            const auto same = std::ranges::find(written, minute, &std::pair<int, std::string_view>::first);
            if (same != written.end()) {
                return fail(ExitCode::usage,
                            fmt::format("invalid bandwidth timetable entry {} '{}': '{}' already sets {}-{:02}:{:02}",
                                        number, item, same->second, k_days[static_cast<std::size_t>(day)],
                                        entry->minute_of_day / 60, entry->minute_of_day % 60));
            }
            written.emplace_back(minute, item);
            table.m_changes.push_back({minute, entry->limit});
        }
    }
    std::ranges::sort(table.m_changes, {}, &Change::minute_of_week);
    return table;
}

RateLimit RateTimetable::at(int minute_of_week) const {
    // The last change at or before the minute; before the first, the week's last.
    const auto after = std::ranges::upper_bound(m_changes, minute_of_week, {}, &Change::minute_of_week);
    return after == m_changes.begin() ? m_changes.back().limit : std::prev(after)->limit;
}

bool RateTimetable::constant() const {
    return std::ranges::all_of(m_changes, [&](const Change& c) { return c.limit == m_changes.front().limit; });
}

bool RateTimetable::unlimited() const {
    return std::ranges::all_of(m_changes, [](const Change& c) { return !c.limit; });
}

int local_minute_of_week(SystemTimePoint t) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm local{};
    localtime_r(&seconds, &local);
    return local.tm_wday * k_minutes_per_day + local.tm_hour * 60 + local.tm_min;
}

std::string format_rate_limit(RateLimit limit) {
    return limit ? format_size(*limit) + "/s" : "off";
}

}  // namespace nasops
