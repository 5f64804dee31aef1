#include "nasops/util/clock.hpp"

#include <fmt/format.h>

#include <limits>

namespace nasops {

SystemTimePoint SystemClock::now() const {
    return std::chrono::system_clock::now();
}

ManualClock::ManualClock(SystemTimePoint start) : m_ticks(start.time_since_epoch().count()) {}

SystemTimePoint ManualClock::now() const {
    return SystemTimePoint{std::chrono::system_clock::duration{m_ticks.load(std::memory_order_relaxed)}};
}

void ManualClock::set(SystemTimePoint t) {
    m_ticks.store(t.time_since_epoch().count(), std::memory_order_relaxed);
}

void ManualClock::advance(std::chrono::system_clock::duration d) {
    m_ticks.fetch_add(d.count(), std::memory_order_relaxed);
}

namespace {

// UTC, floored to 10^-digits of a second, `digits` fraction digits (1 to 9).
std::string rfc3339_with_fraction(SystemTimePoint t, int digits) {
    using namespace std::chrono;
    const auto ns = floor<nanoseconds>(t);
    const auto day = floor<days>(ns);
    const year_month_day ymd{day};
    const hh_mm_ss hms{ns - day};
    long long fraction = hms.subseconds().count();
    for (int i = digits; i < 9; ++i) fraction /= 10;
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:0{}}Z", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                       hms.minutes().count(), hms.seconds().count(), fraction, digits);
}

}  // namespace

std::string rfc3339_millis(SystemTimePoint t) {
    return rfc3339_with_fraction(t, 3);
}

std::string rfc3339_nanos(SystemTimePoint t) {
    return rfc3339_with_fraction(t, 9);
}

namespace {

class TimestampScanner {
public:
    explicit TimestampScanner(std::string_view text) : m_text(text) {}

    // Reads exactly `n` digits; false when there are fewer.
    bool digits(std::size_t n, int& value) {
        if (m_pos + n > m_text.size()) return false;
        value = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const char c = m_text[m_pos + i];
            if (c < '0' || c > '9') return false;
            value = value * 10 + (c - '0');
        }
        m_pos += n;
        return true;
    }

    bool literal(char c) {
        if (m_pos < m_text.size() && m_text[m_pos] == c) {
            ++m_pos;
            return true;
        }
        return false;
    }

    bool literal_any_case(char lower) { return literal(lower) || literal(static_cast<char>(lower - 'a' + 'A')); }

    // Reads one or more fraction digits as nanoseconds.
    bool fraction(std::int64_t& nanos) {
        nanos = 0;
        std::size_t count = 0;
        while (m_pos < m_text.size() && m_text[m_pos] >= '0' && m_text[m_pos] <= '9') {
            if (count < 9) nanos = nanos * 10 + (m_text[m_pos] - '0');
            ++count;
            ++m_pos;
        }
        for (std::size_t i = count; i < 9; ++i) nanos *= 10;
        return count > 0;
    }

    bool at_end() const { return m_pos == m_text.size(); }
    std::size_t position() const { return m_pos; }

private:
    std::string_view m_text;
    std::size_t m_pos = 0;
};

}  // namespace

Result<SystemTimePoint> parse_rfc3339(std::string_view text) {
    using namespace std::chrono;
    auto bad = [&](std::string_view why) {
        return fail(
            ExitCode::data_error,
            fmt::format("invalid timestamp '{}': {} (expected RFC 3339, e.g. 2026-11-22T04:16:40.123Z)", text, why));
    };
    TimestampScanner in(text);
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (!in.digits(4, y) || !in.literal('-') || !in.digits(2, mo) || !in.literal('-') || !in.digits(2, d)) {
        return bad("the date is not YYYY-MM-DD");
    }
    if (!in.literal_any_case('t')) return bad("no 'T' between date and time");
    if (!in.digits(2, h) || !in.literal(':') || !in.digits(2, mi) || !in.literal(':') || !in.digits(2, s)) {
        return bad("the time is not HH:MM:SS");
    }
    std::int64_t nanos = 0;
    if (in.literal('.') && !in.fraction(nanos)) return bad("no digits after '.'");
    int offset_minutes = 0;
    if (!in.literal_any_case('z')) {
        int sign = 0;
        if (in.literal('+')) {
            sign = 1;
        } else if (in.literal('-')) {
            sign = -1;
        } else {
            return bad("no time zone ('Z' or an offset such as +02:00)");
        }
        int oh = 0, om = 0;
        if (!in.digits(2, oh) || !in.literal(':') || !in.digits(2, om) || oh > 23 || om > 59) {
            return bad("the offset is not +HH:MM or -HH:MM");
        }
        offset_minutes = sign * (oh * 60 + om);
    }
    if (!in.at_end()) return bad(fmt::format("unexpected text after position {}", in.position()));

    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return bad("no such date");
    if (h > 23 || mi > 59) return bad("no such time of day");
    if (s > 59) return bad("seconds out of range (leap seconds are not supported)");

    const std::int64_t day_count = sys_days{ymd}.time_since_epoch().count();
    const std::int64_t secs = day_count * 86'400 + h * 3'600 + mi * 60 + s - std::int64_t{offset_minutes} * 60;
    using Ticks = system_clock::duration;
    constexpr auto k_max_secs = duration_cast<seconds>(Ticks::max()).count() - 1;
    constexpr auto k_min_secs = duration_cast<seconds>(Ticks::min()).count() + 1;
    if (secs > k_max_secs || secs < k_min_secs) return bad("out of the range this system's clock can hold");
    return SystemTimePoint{duration_cast<Ticks>(seconds{secs}) + duration_cast<Ticks>(nanoseconds{nanos})};
}

}  // namespace nasops
