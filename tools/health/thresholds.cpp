#include "health/thresholds.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <ranges>
#include <stdexcept>
#include <vector>

#include "nasops/util/text.hpp"
#include "nasops/util/units.hpp"

namespace nasops::health {

namespace {

using enum Quantity;

// One line per metric. Keep man/nasops-health.1.scd in step.
// clang-format off
constexpr MetricSpec k_specs[] = {
    {"disk_used", "disk", percent, "80", "90", "Used fraction of a local file system, 0-1.", true},
    {"disk_inodes_used", "disk", percent, "80", "90", "Used fraction of the inodes of a local file system, 0-1."},
    {"disk_free", "disk", bytes, "", "", "Bytes available to unprivileged users on a local file system."},
    {"nas_disk_used", "nas_disk", percent, "80", "90", "Used fraction of the NAS file system, 0-1.", true},
    {"nas_disk_inodes_used", "nas_disk", percent, "80", "90", "Used fraction of the inodes of the NAS file system, 0-1."},
    {"nas_disk_free", "nas_disk", bytes, "", "", "Bytes available on the NAS file system."},
    {"memory_used", "memory", percent, "80", "95", "Used fraction of memory (from MemAvailable), 0-1.", true},
    {"swap_used", "memory", percent, "80", "95", "Used fraction of swap, 0-1; absent without swap."},
    {"cpu_used", "cpu", percent, "70", "90", "Busy fraction of all CPUs over the sample, 0-1.", true},
    {"load1_per_core", "load", count, "1.5", "2", "1-minute load average divided by the number of CPUs.", true},
    {"load5_per_core", "load", count, "1.5", "2", "5-minute load average divided by the number of CPUs.", true},
    {"load15_per_core", "load", count, "1.5", "2", "15-minute load average divided by the number of CPUs.", true},
    {"fds_used", "fds", percent, "80", "95", "Used fraction of the system's file handles, 0-1.", true},
    {"process_fds_used", "fds", percent, "80", "95", "Used fraction of a process's open-files limit, 0-1.", true},
    {"process_uptime", "process", seconds, "", "60:", "Time since the oldest matching process started.", true},
    {"process_resident_memory", "process", bytes, "", "", "Resident memory of the matching processes."},
    {"process_instances", "process", count, "", "", "Number of matching processes."},
    {"service_active", "service", count, "", "", "1 when the systemd unit is active, else 0."},
    {"db_size", "db", bytes, "1GiB", "5GiB", "Size of the SQLite database with its WAL.", true},
    {"logs_largest_file", "logs", bytes, "100MiB", "500MiB", "Size of the largest log file.", true},
    {"logs_size", "logs", bytes, "", "", "Total size of the log files."},
    {"logs_error_lines", "logs", count, "0", "", "ERROR lines logged within the log window."},
    {"ssh_latency", "ssh", seconds, "5", "10", "Time to connect, authenticate and make one round trip to the NAS.", true},
    {"ssh_success", "ssh", percent, "95:", "80:", "Fraction of recent SSH probes that succeeded, 0-1."},
    {"http_latency", "http", seconds, "", "", "Time until the whole HTTP response was received.", true},
    {"http_status_code", "http", count, "", "", "HTTP status code of the response."},
    {"tls_cert_expiry", "tls", days, "30:", "7:", "Time until the TLS certificate expires (negative once expired).", true},
    {"transfer_success", "transfer", percent, "95:", "90:", "Fraction of transfers finished within the window that succeeded, 0-1.", true},
    {"transfer_rate", "transfer", rate, "10:", "5:", "Average throughput of the transfers completed within the window."},
    {"transfer_queue_files", "transfer", count, "100", "500", "Files waiting for or in transfer."},
    {"transfer_average_duration", "transfer", seconds, "300", "600", "Average time of the transfers completed within the window."},
    {"transfer_oldest_pending_age", "transfer", seconds, "", "", "Time since the oldest pending file was discovered."},
    {"transfer_size_verified", "transfer", count, "", "", "Completed files whose copy was verified by size only (the NAS ran no sha256sum)."},
    {"security_findings", "security", count, "0", "", "Files and folders the security check found open to others.", true},
};
// clang-format on

constexpr std::array<std::string_view, 15> k_check_names{"disk", "nas_disk", "memory",  "cpu",      "load",
                                                         "fds",  "process",  "service", "db",       "logs",
                                                         "ssh",  "http",     "tls",     "transfer", "security"};

// " (did you mean 'x'?)" for a metric name near `name`, else nothing.
std::string suggestion(std::string_view name) {
    const auto near = did_you_mean(name, k_specs, &MetricSpec::name);
    return near ? fmt::format(" (did you mean '{}'?)", *near) : std::string();
}

std::optional<ThresholdRange> parse_default(const MetricSpec& spec, std::string_view text) {
    if (text.empty()) return std::nullopt;
    auto range = parse_threshold(text, spec.quantity);
    if (!range)
        throw std::logic_error(fmt::format("bad default threshold of {}: {}", spec.name, range.error().message));
    return *range;
}

}  // namespace

std::span<const MetricSpec> metric_specs() {
    return k_specs;
}

const MetricSpec* find_metric_spec(std::string_view name) {
    const auto* it = std::ranges::find(k_specs, name, &MetricSpec::name);
    return it == std::end(k_specs) ? nullptr : it;
}

std::string prometheus_name(const MetricSpec& spec) {
    std::string_view suffix;
    switch (spec.quantity) {
        case percent: suffix = "_ratio"; break;
        case bytes: suffix = "_bytes"; break;
        case seconds:
        case days: suffix = "_seconds"; break;
        case count: suffix = ""; break;
        case rate: suffix = "_bytes_per_second"; break;
    }
    return fmt::format("nasops_{}{}", spec.name, suffix);
}

std::span<const std::string_view> check_names() {
    return k_check_names;
}

std::string canonical_check_name(std::string_view check_name) {
    return check_name == "nas-disk" ? "nas_disk" : std::string(check_name);
}

Result<std::optional<MetricRange>> check_disk_form(std::string_view check, std::string_view text,
                                                   PercentOf percent_of) {
    auto free_metric = std::string(check) + "_free";
    if (find_metric_spec(free_metric) == nullptr) return std::optional<MetricRange>();
    text = trim(text);
    if (text.find_first_of(":@~,") != std::string_view::npos) return std::optional<MetricRange>();
    if (text.ends_with('%')) {
        if (percent_of == PercentOf::used) return std::optional<MetricRange>();
        const auto number = trim(text.substr(0, text.size() - 1));
        double free = 0;
        const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), free);
        if (number.empty() || ec != std::errc{} || end != number.data() + number.size() || !(free >= 0 && free <= 100))
            return fail(ExitCode::usage, fmt::format("'{}' is not a share of free space between 0% and 100%", text));
        // Free below N% is used above 100-N%.
        return std::optional(MetricRange{std::string(check) + "_used", plain_number(100 - free)});
    }
    double plain = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), plain);
    const bool bare_number = ec == std::errc{} && end == text.data() + text.size();
    if (bare_number || !parse_size(text)) return std::optional<MetricRange>();
    return std::optional(MetricRange{std::move(free_metric), std::string(text) + ":"});
}

Thresholds Thresholds::defaults() {
    Thresholds t;
    for (const auto& spec : k_specs) {
        t.m_pairs.emplace(std::string(spec.name),
                          ThresholdPair{parse_default(spec, spec.warn), parse_default(spec, spec.crit)});
    }
    return t;
}

Result<Thresholds> Thresholds::resolve(const ConfigTable& health, std::string_view check,
                                       const std::optional<std::string>& warn, const std::optional<std::string>& crit,
                                       PercentOf percent_of) {
    auto t = defaults();
    std::vector<std::string> problems;
    for (const auto key : {"warn", "crit"}) {
        const bool is_warn = std::string_view(key) == "warn";
        for (const auto& [metric, text] : health.get_string_map(key)) {
            const auto* spec = find_metric_spec(metric);
            if (spec == nullptr) {
                problems.push_back(
                    health.error_at(key, fmt::format("unknown metric '{}'{}", metric, suggestion(metric))).message);
                continue;
            }
            auto& slot = is_warn ? t.m_pairs[metric].warn : t.m_pairs[metric].crit;
            if (text.empty()) {  // "" switches the default off
                slot.reset();
                continue;
            }
            auto range = parse_threshold(text, spec->quantity);
            if (!range) {
                problems.push_back(health.error_at(key, fmt::format("{}: {}", metric, range.error().message)).message);
                continue;
            }
            slot = *range;
        }
    }
    if (!problems.empty()) {
        std::string message;
        for (const auto& p : problems) message += (message.empty() ? "" : "\n") + p;
        return fail(ExitCode::config, std::move(message));
    }
    if (!warn && !crit) return t;

    std::vector<const MetricSpec*> primary;
    for (const auto& spec : k_specs) {
        if (spec.check == check && spec.primary) primary.push_back(&spec);
    }
    if (primary.empty()) {
        return fail(ExitCode::usage, fmt::format("-w/-c: the {} check has no thresholds to set", check));
    }
    // One range for every primary metric, or one each, comma-separated in the
    // order of the metrics (check_load's "-w 1.5,1.2,1"); a range has no comma.
    for (const auto& [text, option] : {std::pair{&warn, "-w"}, std::pair{&crit, "-c"}}) {
        if (!*text) continue;
        std::vector<std::string_view> ranges;
        for (const auto part : std::views::split(std::string_view(**text), ','))
            ranges.emplace_back(part.begin(), part.end());
        if (ranges.size() != 1 && ranges.size() != primary.size()) {
            std::string names;
            for (const auto* spec : primary) names += (names.empty() ? "" : ", ") + std::string(spec->name);
            return fail(ExitCode::usage,
                        fmt::format("{}: '{}' has {} ranges; the {} check takes one, or one each for {}", option,
                                    **text, ranges.size(), check, names));
        }
        auto slot = [&t, is_warn = std::string_view(option) == "-w" ](std::string_view metric) -> auto& {
            auto& pair = t.m_pairs[std::string(metric)];
            return is_warn ? pair.warn : pair.crit;
        };
        auto form = check_disk_form(check, **text, percent_of);
        if (!form) return fail(ExitCode::usage, fmt::format("{}: {}", option, form.error().message));
        if (*form) {
            auto range = parse_threshold((*form)->range, find_metric_spec((*form)->metric)->quantity);
            if (!range) return fail(ExitCode::usage, fmt::format("{}: {}", option, range.error().message));
            // One threshold per option, as check_disk has: "-w 500M" replaces the used-space warning.
            for (const auto* spec : primary) slot(spec->name).reset();
            slot((*form)->metric) = *range;
            continue;
        }
        for (std::size_t i = 0; i < primary.size(); ++i) {
            auto range = parse_threshold(ranges.size() == 1 ? ranges.front() : ranges[i], primary[i]->quantity);
            if (!range) return fail(ExitCode::usage, fmt::format("{}: {}", option, range.error().message));
            slot(primary[i]->name) = *range;
        }
    }
    return t;
}

const ThresholdPair& Thresholds::get(std::string_view metric) const {
    const auto it = m_pairs.find(metric);
    if (it == m_pairs.end()) throw std::logic_error(fmt::format("no metric named '{}'", metric));
    return it->second;
}

Metric Thresholds::metric(std::string_view name, double value) const {
    const auto* spec = find_metric_spec(name);
    if (spec == nullptr) throw std::logic_error(fmt::format("no metric named '{}'", name));
    const auto& pair = get(name);
    return Metric{
        .name = std::string(name), .value = value, .quantity = spec->quantity, .warn = pair.warn, .crit = pair.crit};
}

}  // namespace nasops::health
