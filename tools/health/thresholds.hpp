#pragma once

// Every metric nasops-health reports, with its quantity, its default
// thresholds (the ops handbook's) and its Prometheus help; and the thresholds
// in force for a run: the defaults, then [health.warn] and [health.crit] of
// nasops.toml, then -w/-c for the one check named on the command line.

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "health/check.hpp"
#include "nasops/core/config.hpp"

namespace nasops::health {

struct MetricSpec {
    std::string_view name;   // "disk_used"
    std::string_view check;  // the command-line name of the check that reports it: "disk"
    Quantity quantity;
    std::string_view warn;  // default, in the quantity's threshold unit; empty: none
    std::string_view crit;
    std::string_view help;  // Prometheus HELP text
    // -w and -c set the thresholds of the primary metrics of the check they go with.
    bool primary = false;
};

std::span<const MetricSpec> metric_specs();
// The spec of `name`, or nullptr.
const MetricSpec* find_metric_spec(std::string_view name);

// The Prometheus family name of a metric: "nasops_" + name + the base-unit
// suffix of its quantity ("_ratio", "_bytes", "_seconds", "_bytes_per_second").
std::string prometheus_name(const MetricSpec& spec);

// The check names of the command line, in the order --help lists them.
std::span<const std::string_view> check_names();
// The one spelling of a check's name, on the command line, in the config and
// in records, labels and perfdata: "nas-disk", the command line's former
// spelling, is "nas_disk".
std::string canonical_check_name(std::string_view check_name);

// What "N%" in -w/-c means for the checks with a free-space metric (disk, nas_disk).
enum class PercentOf {
    free,  // check_disk's meaning (default): "-w 20%" warns when less than 20% is free
    used,  // --used: "-w 80%" warns when more than 80% is used
};

// check_disk's forms of -w/-c, for the checks with a free-space metric: a
// single "N%" is free space below N% (so used space above 100-N%), a single
// size such as "500M" is free bytes below it. nullopt for anything else (a
// bare number or a range keeps nasops's meaning, used space in percent) and
// for "N%" under PercentOf::used. An "N%" that is no share of 100 is a usage
// error.
struct MetricRange {
    std::string metric;  // "disk_used", "disk_free"
    std::string range;   // in the metric's threshold unit: "80", "500M:"
};
Result<std::optional<MetricRange>> check_disk_form(std::string_view check, std::string_view text, PercentOf percent_of);

struct ThresholdPair {
    std::optional<ThresholdRange> warn;
    std::optional<ThresholdRange> crit;
};

// The thresholds of one run. Immutable once resolved; shared by the checks.
class Thresholds {
public:
    // The built-in defaults only.
    static Thresholds defaults();

    // Defaults, then the [health.warn] / [health.crit] tables of `health`, then
    // `warn` / `crit` (from -w / -c) for the primary metrics of `check`, or in
    // check_disk's forms (check_disk_form) for the metric they name.
    // Config problems are ExitCode::config naming the file, line and key (an
    // unknown metric name, a bad range); bad -w/-c text or a check without
    // thresholds is ExitCode::usage.
    static Result<Thresholds> resolve(const ConfigTable& health, std::string_view check,
                                      const std::optional<std::string>& warn, const std::optional<std::string>& crit,
                                      PercentOf percent_of = PercentOf::free);

    // The ranges in force for `metric`; throws std::logic_error for a name
    // that metric_specs() lacks (a programming error).
    const ThresholdPair& get(std::string_view metric) const;

    // A metric named `name` holding `value`, with its quantity and thresholds.
    Metric metric(std::string_view name, double value) const;

private:
    std::map<std::string, ThresholdPair, std::less<>> m_pairs;
};

}  // namespace nasops::health
