#include "nasops/util/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>

#include "nasops/util/text.hpp"

namespace nasops {

namespace {

// Reads a non-negative decimal number ("10", "1.5", ".5") at the front of `text`.
// Returns the number of characters used, 0 when there is none.
std::size_t read_number(std::string_view text, double& value) {
    std::size_t i = 0;
    bool digits = false;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, digits = true;
    if (i < text.size() && text[i] == '.') {
        ++i;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, digits = true;
    }
    if (!digits) return 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, value);
    if (ec != std::errc{} || ptr != text.data() + i) return 0;
    return i;
}

struct DurationUnit {
    std::string_view suffix;
    std::int64_t ms;
};
// Longest suffixes first so that "ms" is not read as "m".
constexpr std::array k_duration_units{
    DurationUnit{"ms", 1},        DurationUnit{"s", 1000},       DurationUnit{"m", 60'000},
    DurationUnit{"h", 3'600'000}, DurationUnit{"d", 86'400'000}, DurationUnit{"w", 604'800'000},
};

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
    const auto input = trim(text);
    auto bad = [&](std::string_view why) {
        return fail(ExitCode::usage,
                    fmt::format("invalid duration '{}': {} (expected e.g. 90s, 5m, 2h, 7d, 1h30m, 250ms)", text, why));
    };
    if (input.empty()) return bad("empty");
    std::string_view rest = input;
    double total_ms = 0;
    bool first = true;
    while (!rest.empty()) {
        double number = 0;
        const auto used = read_number(rest, number);
        if (used == 0) return bad(rest.front() == '-' ? "negative" : "a number must come before each unit");
        rest.remove_prefix(used);
        std::size_t unit_len = 0;
        while (unit_len < rest.size() && std::isalpha(static_cast<unsigned char>(rest[unit_len]))) ++unit_len;
        const auto unit = lower(rest.substr(0, unit_len));
        rest.remove_prefix(unit_len);
        if (unit.empty()) {
            if (!first || !rest.empty()) return bad("a unit is missing");
            total_ms += number * 1000;  // a bare number is seconds
            break;
        }
        const auto* found = std::ranges::find_if(k_duration_units, [&](const auto& u) { return u.suffix == unit; });
        if (found == k_duration_units.end()) return bad(fmt::format("unknown unit '{}'", unit));
        total_ms += number * static_cast<double>(found->ms);
        first = false;
    }
    // Below 2^53 (about 285,000 years) every whole millisecond is exact in a
    // double, so what format_duration prints parses back to the same value;
    // from there on a sum may be rounded, even down to 2^53 itself.
    if (total_ms >= 0x1p53) return bad("too large");
    return Duration(static_cast<std::int64_t>(std::llround(total_ms)));
}

std::string format_duration(Duration d) {
    auto ms = d.count();
    if (ms == 0) return "0s";
    std::string out;
    if (ms < 0) {
        out = "-";
        ms = -ms;
    }
    constexpr std::array<DurationUnit, 4> k_parts{DurationUnit{"d", 86'400'000}, DurationUnit{"h", 3'600'000},
                                                  DurationUnit{"m", 60'000}, DurationUnit{"s", 1000}};
    for (const auto& part : k_parts) {
        if (ms >= part.ms) {
            out += fmt::format("{}{}", ms / part.ms, part.suffix);
            ms %= part.ms;
        }
    }
    if (ms > 0) out += fmt::format("{}ms", ms);
    return out;
}

Result<std::uint64_t> parse_size(std::string_view text) {
    const auto input = trim(text);
    auto bad = [&](std::string_view why) {
        return fail(ExitCode::usage,
                    fmt::format("invalid size '{}': {} (expected e.g. 512, 10M, 1.5GiB, 100MB)", text, why));
    };
    if (input.empty()) return bad("empty");
    if (input.front() == '-') return bad("negative");
    double number = 0;
    const auto used = read_number(input, number);
    if (used == 0) return bad("no number");
    auto suffix = trim(input.substr(used));
    double multiplier = 1;
    if (!suffix.empty() && suffix != "b" && suffix != "B") {
        const auto u = lower(suffix);
        constexpr std::string_view k_prefixes = "kmgtp";
        const auto pos = k_prefixes.find(u.front());
        if (pos == std::string_view::npos) return bad(fmt::format("unknown unit '{}'", suffix));
        const auto tail = std::string_view(u).substr(1);
        double base = 0;
        if (tail.empty() || tail == "ib") {
            base = 1024;
        } else if (tail == "b") {
            base = 1000;
        } else {
            return bad(fmt::format("unknown unit '{}'", suffix));
        }
        multiplier = std::pow(base, static_cast<double>(pos + 1));
    }
    const double bytes = number * multiplier;
    if (bytes >= 18'446'744'073'709'551'616.0) return bad("too large");
    return static_cast<std::uint64_t>(std::llround(bytes));
}

std::string format_size(std::uint64_t bytes) {
    constexpr std::array<std::string_view, 6> k_units{"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) return fmt::format("{} B", bytes);
    auto value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024 && unit + 1 < k_units.size()) {
        value /= 1024;
        ++unit;
    }
    return fmt::format("{:.1f} {}", value, k_units[unit]);
}

Result<std::uint64_t> parse_rate(std::string_view text) {
    auto input = trim(text);
    if (input.ends_with("/s")) input.remove_suffix(2);
    auto size = parse_size(input);
    if (!size) {
        return fail(ExitCode::usage,
                    fmt::format("invalid rate '{}': expected bytes per second, e.g. 10M or 500KiB/s", text));
    }
    return size;
}

Result<double> parse_ratio(std::string_view text) {
    std::string_view number = text;
    const bool percent = number.ends_with('%');
    if (percent) number.remove_suffix(1);
    double value = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (number.empty() || ec != std::errc{} || end != number.data() + number.size())
        return fail(ExitCode::usage, fmt::format("'{}' is not a ratio such as \"0.2\" or \"20%\"", text));
    if (percent) value /= 100.0;
    if (!(value >= 0.0 && value <= 1.0))
        return fail(ExitCode::usage, fmt::format("'{}' is not between 0 and 1 (0% and 100%)", text));
    return value;
}

bool ThresholdRange::alerts(double value) const noexcept {
    const bool above_start = start_infinite || value >= start;
    const bool below_end = end_infinite || value <= end;
    const bool within = above_start && below_end;
    return inside ? within : !within;
}

std::string ThresholdRange::to_string() const {
    auto num = [](double v) { return fmt::format("{}", v); };
    std::string out = inside ? "@" : "";
    if (start_infinite) {
        out += "~:";
    } else if (start != 0 || end_infinite) {
        out += num(start) + ":";
    }
    if (!end_infinite) out += num(end);
    return out;
}

Result<ThresholdRange> parse_range(std::string_view text) {
    auto bad = [&](std::string_view why) {
        return fail(
            ExitCode::usage,
            fmt::format("invalid threshold range '{}': {} (expected 10, 10:, ~:10, 10:20 or @10:20)", text, why));
    };
    auto parse_number = [](std::string_view s, double& out) {
        s = trim(s);
        if (s.empty()) return false;
        auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        return ec == std::errc{} && ptr == s.data() + s.size() && std::isfinite(out);
    };
    auto input = trim(text);
    ThresholdRange range;
    if (input.starts_with('@')) {
        range.inside = true;
        input.remove_prefix(1);
    }
    if (input.empty()) return bad("empty");
    const auto colon = input.find(':');
    if (colon == std::string_view::npos) {
        if (!parse_number(input, range.end)) return bad("not a number");
        return range;
    }
    const auto lo = trim(input.substr(0, colon));
    const auto hi = trim(input.substr(colon + 1));
    if (lo == "~") {
        range.start_infinite = true;
    } else if (!parse_number(lo, range.start)) {
        return bad("start is not a number or ~");
    }
    if (hi.empty()) {
        range.end_infinite = true;
    } else if (!parse_number(hi, range.end)) {
        return bad("end is not a number");
    }
    if (range.start_infinite && range.end_infinite) return bad("both ends open");
    if (!range.start_infinite && !range.end_infinite && range.start > range.end) return bad("start is above end");
    return range;
}

}  // namespace nasops
