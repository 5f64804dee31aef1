#include "health/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>

#include "health/thresholds.hpp"
#include "nasops/obs/metrics.hpp"

namespace nasops::health {

namespace {

std::string_view symbol(Status s, const Glyphs& glyphs) {
    switch (s) {
        case Status::ok: return glyphs.ok;
        case Status::warning: return glyphs.warning;
        case Status::critical: return glyphs.critical;
        case Status::unknown: return "?";
    }
    return "?";
}

std::string_view colour_of(Status s) {
    switch (s) {
        case Status::ok: return "\033[32m";
        case Status::warning: return "\033[33m";
        case Status::critical: return "\033[31m";
        case Status::unknown: return "\033[35m";
    }
    return "";
}

// Characters as a terminal shows them: UTF-8 continuation bytes take no column.
std::size_t columns(std::string_view s) {
    return static_cast<std::size_t>(
        std::ranges::count_if(s, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string pad(std::string_view s, std::size_t width) {
    std::string out(s);
    const auto used = columns(s);
    if (used < width) out.append(width - used, ' ');
    return out;
}

// Nagios reads '|' as the start of perfdata and a newline as the end of the line.
std::string plugin_safe(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        if (c == '|') c = '/';
        if (c == '\n' || c == '\r') c = ' ';
    }
    return out;
}

// Cuts `text` to at most `limit` bytes at a UTF-8 boundary, ending with "..." when cut.
std::string fit(std::string text, std::size_t limit) {
    if (text.size() <= limit) return text;
    std::size_t cut = limit - 3;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text.resize(cut);
    return text + "...";
}

// What one line of a Nagios status shows.
constexpr std::size_t k_status_line_bytes = 79;

// The pieces of a status line, most important last: "HEALTH CRITICAL - ",
// "1 critical, 3 ok: ", "disk /srv/media: ", "91.0% used", and the reason a
// threshold alerted, " (critical: disk_used 91.0% above 90.0%)".
struct StatusLine {
    std::string head;
    std::string tally;
    std::string title;
    std::string description;
    std::string reason;
};

// The line cut to k_status_line_bytes without ever cutting the reason: the
// description is shortened first, then the tally dropped, then the
// description; only a reason too long for any line is cut itself.
std::string fit_status_line(StatusLine l) {
    for (auto* part : {&l.head, &l.tally, &l.title, &l.description, &l.reason}) *part = plugin_safe(*part);
    constexpr std::size_t k_least_description = 8;  // "91.0%..." still says something
    auto with = [&](bool tally) -> std::optional<std::string> {
        const auto fixed = l.head.size() + (tally ? l.tally.size() : 0) + l.title.size() + l.reason.size();
        if (fixed > k_status_line_bytes) return std::nullopt;
        const auto left = k_status_line_bytes - fixed;
        if (l.description.size() > left && left < k_least_description) return std::nullopt;
        return l.head + (tally ? l.tally : "") + l.title + fit(l.description, left) + l.reason;
    };
    if (auto line = with(true)) return *line;
    if (auto line = with(false)) return *line;
    auto reason = l.reason;
    if (reason.starts_with(" (") && reason.ends_with(')')) reason = reason.substr(2, reason.size() - 3);
    return fit(l.head + l.title + reason, k_status_line_bytes);
}

struct PerfUnit {
    double divisor;  // base units per perfdata unit
    std::string_view uom;
};

PerfUnit perf_unit(Quantity q) {
    switch (q) {
        case Quantity::percent: return {0.01, "%"};
        case Quantity::bytes: return {1, "B"};
        case Quantity::seconds:
        case Quantity::days: return {1, "s"};
        case Quantity::count:
        case Quantity::rate: return {1, ""};
    }
    return {1, ""};
}

std::string perf_label(const Metric& m, const std::string& target) {
    std::string label = target.empty() ? m.name : m.name + " " + target;
    std::string quoted = "'";
    for (const char c : label) {
        if (c == '\'') {
            quoted += "''";
        } else if (c == '=' || c == '\n' || c == '|') {
            quoted += '_';
        } else {
            quoted += c;
        }
    }
    return quoted + "'";
}

std::string check_title(const CheckResult& r) {
    return r.target.empty() ? r.name : r.name + " " + r.target;
}

}  // namespace

Status overall_status(std::span<const CheckResult> results) {
    Status s = Status::ok;
    for (const auto& r : results) s = worse(s, r.status);
    return s;
}

std::string render_text(std::span<const CheckResult> results, bool colour, const Glyphs& glyphs) {
    std::size_t name_width = 0;
    std::size_t target_width = 0;
    for (const auto& r : results) {
        name_width = std::max(name_width, columns(r.name));
        target_width = std::max(target_width, columns(r.target));
    }
    std::string out;
    for (const auto& r : results) {
        const auto state = pad(status_name(r.status), 8);
        if (colour) {
            out += fmt::format("{}{} {}\033[0m", colour_of(r.status), symbol(r.status, glyphs), state);
        } else {
            out += fmt::format("{} {}", symbol(r.status, glyphs), state);
        }
        out += " " + pad(r.name, name_width);
        if (target_width > 0) out += "  " + pad(r.target, target_width);
        out += "  " + r.message;
        while (out.ends_with(' ')) out.pop_back();
        out += '\n';
    }
    return out;
}

nlohmann::json check_record_fields(const CheckResult& r) {
    nlohmann::json fields = nlohmann::json::object();
    fields["name"] = r.name;
    if (!r.target.empty()) fields["target"] = r.target;
    fields["status"] = status_word(r.status);
    auto metric_json = [](const Metric& m) {
        nlohmann::json j = nlohmann::json::object();
        j["value"] = m.value;
        j["unit"] = record_unit(m.quantity);
        if (m.warn) j["warn"] = format_range(*m.warn);
        if (m.crit) j["crit"] = format_range(*m.crit);
        return j;
    };
    if (!r.metrics.empty()) {
        const auto headline = metric_json(r.metrics.front());
        for (const auto& [key, value] : headline.items()) fields[key] = value;
    }
    fields["message"] = r.message;
    fields["duration_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(r.duration).count();
    if (!r.labels.empty()) {
        nlohmann::json labels = nlohmann::json::object();
        for (const auto& [k, v] : r.labels) labels[k] = v;
        fields["labels"] = std::move(labels);
    }
    if (!r.metrics.empty()) {
        nlohmann::json metrics = nlohmann::json::array();
        for (const auto& m : r.metrics) {
            auto j = metric_json(m);
            j["name"] = m.name;
            j["status"] = status_word(m.status);
            metrics.push_back(std::move(j));
        }
        fields["metrics"] = std::move(metrics);
    }
    return fields;
}

Result<void> write_records(RecordWriter& writer, std::span<const CheckResult> results) {
    for (const auto& r : results) {
        if (auto written = writer.write(RecordKind::check, check_record_fields(r)); !written) return written;
    }
    return {};
}

std::string nagios_status_line(std::span<const CheckResult> results) {
    const Status overall = overall_status(results);
    StatusLine line;
    auto describe = [&](const CheckResult& r, std::string title) {
        line.title = std::move(title);
        line.description =
            r.message.ends_with(r.reason) ? r.message.substr(0, r.message.size() - r.reason.size()) : r.message;
        line.reason = r.message.ends_with(r.reason) ? r.reason : "";
    };
    if (results.size() == 1) {
        const auto& r = results.front();
        std::string title = r.name;
        std::ranges::transform(title, title.begin(),
                               [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; });
        line.head = fmt::format("{} {} - ", title, status_name(r.status));
        describe(r, r.target.empty() ? "" : r.target + ": ");
    } else {
        std::array<std::size_t, 4> counts{};
        const CheckResult* worst = nullptr;
        for (const auto& r : results) {
            ++counts[static_cast<std::size_t>(severity_rank(r.status))];
            if (r.status != Status::ok && (worst == nullptr || severity_rank(r.status) > severity_rank(worst->status)))
                worst = &r;
        }
        std::string tally;
        for (const auto& [status, index] :
             {std::pair{"critical", 3}, std::pair{"warning", 2}, std::pair{"unknown", 1}, std::pair{"ok", 0}}) {
            if (counts[static_cast<std::size_t>(index)] == 0) continue;
            tally += fmt::format("{}{} {}", tally.empty() ? "" : ", ", counts[static_cast<std::size_t>(index)], status);
        }
        line.head = fmt::format("HEALTH {} - ", status_name(overall));
        if (results.empty()) {
            line.tally = "no checks";
        } else if (worst == nullptr) {
            line.tally = tally;
        } else {
            line.tally = tally + ": ";
            describe(*worst, check_title(*worst) + ": ");
        }
    }
    return fit_status_line(std::move(line));
}

std::string render_nagios(std::span<const CheckResult> results) {
    std::string perf;
    for (const auto& r : results) {
        for (const auto& m : r.metrics) {
            const auto unit = perf_unit(m.quantity);
            std::string item = fmt::format(
                "{}={}{};{};{};{};{}", perf_label(m, r.target), plain_number(m.value / unit.divisor), unit.uom,
                m.warn ? format_range(*m.warn, unit.divisor) : "", m.crit ? format_range(*m.crit, unit.divisor) : "",
                m.min ? plain_number(*m.min / unit.divisor) : "", m.max ? plain_number(*m.max / unit.divisor) : "");
            while (item.ends_with(';')) item.pop_back();
            perf += (perf.empty() ? "" : " ") + item;
        }
    }
    std::string out = nagios_status_line(results);
    if (!perf.empty()) out += " | " + perf;
    out += '\n';
    if (results.size() > 1) {
        for (const auto& r : results) {
            out += plugin_safe(fmt::format("[{}] {}: {}", status_name(r.status), check_title(r), r.message)) + '\n';
        }
    }
    return out;
}

Result<std::string> render_prom(std::span<const CheckResult> results) {
    Exposition e;
    TRY(e.declare("nasops_health_check_status", MetricType::gauge,
                  "State of a health check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."));
    TRY(e.declare("nasops_health_check_duration_seconds", MetricType::gauge, "Time a health check took."));
    for (const auto& r : results) {
        Labels labels{{"check", r.name}};
        if (!r.target.empty()) labels.push_back({"target", r.target});
        for (const auto& [k, v] : r.labels) labels.push_back({k, v});
        TRY(e.add("nasops_health_check_status", labels, static_cast<double>(to_int(to_exit_code(r.status)))));
        TRY(e.add("nasops_health_check_duration_seconds", labels, std::chrono::duration<double>(r.duration).count()));
    }
    for (const auto& r : results) {
        Labels labels;
        if (!r.target.empty()) labels.push_back({"target", r.target});
        for (const auto& [k, v] : r.labels) labels.push_back({k, v});
        for (const auto& m : r.metrics) {
            const auto* spec = find_metric_spec(m.name);
            if (spec == nullptr) return fail(ExitCode::software, fmt::format("metric '{}' has no spec", m.name));
            const auto name = prometheus_name(*spec);
            TRY(e.declare(name, MetricType::gauge, spec->help));
            TRY(e.add(name, labels, m.value));
        }
    }
    return e.text();
}

}  // namespace nasops::health
