#include "health/check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

#include "nasops/util/text.hpp"

namespace nasops::health {

namespace {

std::optional<double> whole_number(std::string_view s) {
    double value = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || ptr != s.data() + s.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

// One end of a range, in base units; nullopt when it cannot be read.
std::optional<double> parse_end(std::string_view text, Quantity quantity) {
    text = trim(text);
    if (text.empty()) return std::nullopt;
    switch (quantity) {
        case Quantity::percent: {
            if (text.ends_with('%')) text.remove_suffix(1);
            const auto v = whole_number(trim(text));
            return v ? std::optional(*v / 100.0) : std::nullopt;
        }
        case Quantity::count: return whole_number(text);
        case Quantity::bytes: {
            if (auto v = whole_number(text)) return v;
            auto size = parse_size(text);
            return size ? std::optional(static_cast<double>(*size)) : std::nullopt;
        }
        case Quantity::seconds:
        case Quantity::days: {
            if (auto v = whole_number(text)) return quantity == Quantity::days ? *v * 86400.0 : *v;
            auto d = parse_duration(text);
            return d ? std::optional(static_cast<double>(d->count()) / 1000.0) : std::nullopt;
        }
        case Quantity::rate: {
            if (auto v = whole_number(text)) return *v * 1e6;
            auto r = parse_rate(text);
            return r ? std::optional(static_cast<double>(*r)) : std::nullopt;
        }
    }
    return std::nullopt;
}

std::string_view end_hint(Quantity quantity) {
    switch (quantity) {
        case Quantity::percent: return "a percentage such as 80 or 80%";
        case Quantity::bytes: return "a size such as 1073741824 or 1GiB";
        case Quantity::seconds: return "seconds or a duration such as 300 or 5m";
        case Quantity::days: return "days or a duration such as 30 or 12h";
        case Quantity::count: return "a number";
        case Quantity::rate: return "MB/s (10^6 bytes per second) such as 10, or a rate such as 10MiB/s";
    }
    return "a number";
}

}  // namespace

int severity_rank(Status s) noexcept {
    switch (s) {
        case Status::critical: return 3;
        case Status::warning: return 2;
        case Status::unknown: return 1;
        case Status::ok: return 0;
    }
    return 0;
}

std::string_view status_name(Status status) noexcept {
    switch (status) {
        case Status::ok: return "OK";
        case Status::warning: return "WARNING";
        case Status::critical: return "CRITICAL";
        case Status::unknown: return "UNKNOWN";
    }
    return "UNKNOWN";
}

std::string_view status_word(Status status) noexcept {
    switch (status) {
        case Status::ok: return "ok";
        case Status::warning: return "warning";
        case Status::critical: return "critical";
        case Status::unknown: return "unknown";
    }
    return "unknown";
}

ExitCode to_exit_code(Status status) noexcept {
    switch (status) {
        case Status::ok: return ExitCode::ok;
        case Status::warning: return ExitCode::warning;
        case Status::critical: return ExitCode::critical;
        case Status::unknown: return ExitCode::unknown;
    }
    return ExitCode::unknown;
}

Status worse(Status a, Status b) noexcept {
    const auto code = worst_state(to_exit_code(a), to_exit_code(b));
    switch (code) {
        case ExitCode::ok: return Status::ok;
        case ExitCode::warning: return Status::warning;
        case ExitCode::critical: return Status::critical;
        default: return Status::unknown;
    }
}

std::string_view record_unit(Quantity quantity) noexcept {
    switch (quantity) {
        case Quantity::percent: return "ratio";
        case Quantity::bytes: return "bytes";
        case Quantity::seconds:
        case Quantity::days: return "seconds";
        case Quantity::count: return "count";
        case Quantity::rate: return "bytes_per_second";
    }
    return "count";
}

std::string format_quantity(double value, Quantity quantity) {
    switch (quantity) {
        case Quantity::percent: return fmt::format("{:.1f}%", value * 100.0);
        case Quantity::bytes:
            if (value < 0) return fmt::format("-{}", format_size(static_cast<std::uint64_t>(-value)));
            return format_size(static_cast<std::uint64_t>(value));
        case Quantity::seconds: {
            const double magnitude = std::abs(value);
            if (magnitude < 10) return fmt::format("{:.2f}s", value);
            if (magnitude < 120) return fmt::format("{:.1f}s", value);
            const auto whole = std::chrono::seconds(static_cast<std::int64_t>(std::llround(magnitude)));
            return (value < 0 ? "-" : "") + format_duration(std::chrono::duration_cast<Duration>(whole));
        }
        case Quantity::days: return fmt::format("{:.1f} days", value / 86400.0);
        case Quantity::count:
            if (value == std::trunc(value) && std::abs(value) < 1e15) return fmt::format("{:.0f}", value);
            return fmt::format("{:.2f}", value);
        case Quantity::rate: return fmt::format("{:.2f} MB/s", value / 1e6);
    }
    return plain_number(value);
}

std::string plain_number(double value) {
    if (!std::isfinite(value)) return "0";
    auto text = fmt::format("{:.6f}", value);
    while (text.ends_with('0')) text.pop_back();
    if (text.ends_with('.')) text.pop_back();
    if (text == "-0") text = "0";
    return text;
}

Result<ThresholdRange> parse_threshold(std::string_view text, Quantity quantity) {
    auto bad = [&](std::string_view why) {
        return fail(ExitCode::usage, fmt::format("invalid threshold '{}': {} (expected a range such as 10, 10:, "
                                                 "~:10, 10:20 or @10:20)",
                                                 text, why));
    };
    auto input = trim(text);
    std::string rebuilt;
    if (input.starts_with('@')) {
        rebuilt = "@";
        input.remove_prefix(1);
    }
    if (trim(input).empty()) return bad("empty");
    const auto colon = input.find(':');
    auto convert = [&](std::string_view end) -> Result<double> {
        auto v = parse_end(end, quantity);
        if (!v) return bad(fmt::format("'{}' is not {}", trim(end), end_hint(quantity)));
        return *v;
    };
    std::optional<double> start;
    std::optional<double> finish;
    if (colon == std::string_view::npos) {
        TRY_ASSIGN(auto v, convert(input));
        finish = v;
        rebuilt += plain_number(v);
    } else {
        const auto lo = trim(input.substr(0, colon));
        const auto hi = trim(input.substr(colon + 1));
        if (lo == "~" && hi.empty()) return bad("both ends open");
        if (lo == "~") {
            rebuilt += "~:";
        } else {
            TRY_ASSIGN(auto v, convert(lo));
            start = v;
            rebuilt += plain_number(v) + ":";
        }
        if (!hi.empty()) {
            TRY_ASSIGN(auto v, convert(hi));
            finish = v;
            rebuilt += plain_number(v);
        }
        if (start && finish && *start > *finish) return bad("start is above end");
    }
    auto range = parse_range(rebuilt);
    if (!range) return bad(range.error().message);
    // parse_range read the rounded text; keep the exact values.
    if (start) range->start = *start;
    if (finish) range->end = *finish;
    return range;
}

std::string format_range(const ThresholdRange& range, double divisor) {
    std::string out = range.inside ? "@" : "";
    if (range.start_infinite) {
        out += "~:";
    } else if (range.start != 0 || range.end_infinite) {
        out += plain_number(range.start / divisor) + ":";
    }
    if (!range.end_infinite) out += plain_number(range.end / divisor);
    return out;
}

std::string describe_violation(const ThresholdRange& range, double value, Quantity quantity) {
    if (range.inside) {
        const auto lo = range.start_infinite ? std::string("~") : format_quantity(range.start, quantity);
        const auto hi = range.end_infinite ? std::string("~") : format_quantity(range.end, quantity);
        return fmt::format("inside {}..{}", lo, hi);
    }
    if (!range.start_infinite && value < range.start) return "below " + format_quantity(range.start, quantity);
    return "above " + format_quantity(range.end, quantity);
}

void evaluate(CheckResult& result) {
    const Status own = result.status;
    std::vector<const Metric*> alerting;
    for (auto& metric : result.metrics) {
        metric.status = Status::ok;
        if (metric.crit && metric.crit->alerts(metric.value)) {
            metric.status = Status::critical;
        } else if (metric.warn && metric.warn->alerts(metric.value)) {
            metric.status = Status::warning;
        }
        result.status = worse(result.status, metric.status);
        if (severity_rank(metric.status) > severity_rank(own)) alerting.push_back(&metric);
    }
    if (alerting.empty()) return;
    std::ranges::stable_sort(
        alerting, [](const Metric* a, const Metric* b) { return severity_rank(a->status) > severity_rank(b->status); });
    std::string why;
    for (const auto* m : alerting) {
        const auto& range = m->status == Status::critical ? *m->crit : *m->warn;
        why += why.empty() ? "" : "; ";
        why += fmt::format("{}: {} {} {}", status_word(m->status), m->name, format_quantity(m->value, m->quantity),
                           describe_violation(range, m->value, m->quantity));
    }
    result.reason = result.message.empty() ? why : fmt::format(" ({})", why);
    result.message += result.reason;
}

Status failure_status(const CheckContext& context, std::chrono::nanoseconds elapsed, Duration limit, Status otherwise) {
    return elapsed >= limit ? context.timeout_status : otherwise;
}

CheckResult Check::unknown(std::string message) const {
    auto result = blank();
    result.status = Status::unknown;
    result.message = std::move(message);
    return result;
}

}  // namespace nasops::health
