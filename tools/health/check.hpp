#pragma once

// The check framework of nasops-health: what a check measures (metrics with
// their thresholds), what it concludes (a status and a message), and the
// interface every check implements. Results follow monitoring-plugins
// semantics: each metric is compared with its critical range, then its warning
// range; a check's status is the worst of its metrics and of what the check
// itself found (a process that is not running, a database that fails its
// integrity check).

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/core/exit_code.hpp"
#include "nasops/util/clock.hpp"
#include "nasops/util/units.hpp"

namespace nasops::health {

enum class Status { ok, warning, critical, unknown };

// "OK", "WARNING", "CRITICAL", "UNKNOWN".
std::string_view status_name(Status status) noexcept;
// "ok", "warning", "critical", "unknown": the status field of check records.
std::string_view status_word(Status status) noexcept;
ExitCode to_exit_code(Status status) noexcept;
// critical 3, warning 2, unknown 1, ok 0: the order monitoring-plugins'
// worst_state uses, and the order reports list checks in.
int severity_rank(Status status) noexcept;
// The worse of two statuses as monitoring-plugins rank them (worst_state).
Status worse(Status a, Status b) noexcept;

// What a metric measures. Values are always held in base units (ratios 0-1,
// bytes, seconds, bytes per second); thresholds are written by people in the
// unit they think in, given here for each quantity.
enum class Quantity {
    percent,  // a ratio 0-1; thresholds in percent ("80", "80%")
    bytes,    // thresholds in bytes or with a size suffix ("1GiB", "500M")
    seconds,  // thresholds in seconds or as a duration ("300", "5m")
    days,     // held in seconds; thresholds in days or as a duration ("30", "12h")
    count,    // a plain number
    rate,     // bytes per second; thresholds in MB/s (10^6 bytes per second)
};

// The unit of a check record's "value": "ratio", "bytes", "seconds", "count", "bytes_per_second".
std::string_view record_unit(Quantity quantity) noexcept;
// A value for people: "87.0%", "1.5 GiB", "2.3s", "12.5 days", "12.34 MB/s", "3".
std::string format_quantity(double value, Quantity quantity);

// A number as C-locale text without an exponent: up to six decimals, trailing
// zeros dropped ("0.8", "1073741824", "-2.5"). Used for ranges and perfdata.
std::string plain_number(double value);

// Parses a threshold written in the quantity's threshold unit, in the range
// syntax of monitoring-plugins ("80", "80:", "~:80", "10:20", "@10:20"), each
// end optionally carrying a unit ("1GiB:", "30d:", "80%"). The range returned
// is in base units. Errors quote the text (ExitCode::usage).
Result<ThresholdRange> parse_threshold(std::string_view text, Quantity quantity);

// `range` with both ends divided by `divisor`, in range syntax with plain
// numbers: format_range(r, 1) for records, format_range(r, 0.01) for percent.
std::string format_range(const ThresholdRange& range, double divisor = 1);

// One measured number, with the thresholds it is judged by.
struct Metric {
    // Names the metric everywhere: "disk_used" is nasops_disk_used_ratio in
    // Prometheus, 'disk_used /srv' in perfdata, a key of [health.warn].
    std::string name;
    double value = 0;
    Quantity quantity = Quantity::count;
    std::optional<ThresholdRange> warn;  // base units
    std::optional<ThresholdRange> crit;  // base units
    std::optional<double> min;           // bounds for perfdata, base units
    std::optional<double> max;
    Status status = Status::ok;  // set by evaluate()
};

// The outcome of one check on one target.
struct CheckResult {
    std::string name;    // "disk", "nas_disk": the check record's name
    std::string target;  // "/srv/media", "nas:22", "https://..."; empty when there is none
    // What the check itself concluded apart from its thresholds (a process not
    // running is critical); evaluate() makes it the worst of this and the metrics.
    Status status = Status::ok;
    std::string message;  // one line for a human
    // What evaluate() appended to `message` when a threshold made the status
    // worse (" (critical: load1 3.20 above 2.00)"): the part a shortened
    // status line must keep.
    std::string reason;
    std::vector<Metric> metrics;  // the first one is the check's headline value
    std::map<std::string, std::string, std::less<>> labels;
    std::chrono::microseconds duration{0};  // records round it to ms; Prometheus gets float seconds
};

// Judges every metric against its ranges (critical first), sets the result's
// status to the worst, and when a metric made it worse than what the check
// found, appends the reason to the message: "(warning: disk_used 85.0% above 80.0%)".
void evaluate(CheckResult& result);

// Why `value` alerts with `range`: "above 80.0%", "below 10.00 MB/s", "inside 10..20".
std::string describe_violation(const ThresholdRange& range, double value, Quantity quantity);

struct CheckContext {
    std::shared_ptr<const Clock> clock;
    // This check's own time limit: checks that wait on the network or on a
    // command use it as their limit too, so that they report their own reason
    // before the runner gives up on them.
    Duration timeout{std::chrono::seconds(10)};
    // The state of a check that ran out of time, whoever notices it first,
    // the check or the runner: UNKNOWN unless -t N:STATE asks otherwise.
    Status timeout_status = Status::unknown;
};

// The status of a check whose wait failed after `elapsed`, `limit` being the
// time it allowed that wait: a failure once the time had run out is a
// timeout (context.timeout_status), any other failure `otherwise`.
Status failure_status(const CheckContext& context, std::chrono::nanoseconds elapsed, Duration limit, Status otherwise);

// One check of one target. Checks run on threads of their own that the runner
// may abandon when they exceed their time (a statvfs on a dead NFS mount never
// returns), so a check owns everything it uses: it holds copies, never
// references to the caller's objects.
class Check {
public:
    Check(std::string name, std::string target) : m_name(std::move(name)), m_target(std::move(target)) {}
    virtual ~Check() = default;
    Check(const Check&) = delete;
    Check& operator=(const Check&) = delete;

    const std::string& name() const noexcept { return m_name; }
    const std::string& target() const noexcept { return m_target; }

    // Measures and returns the result, name and target filled in; the runner
    // evaluates it. A check that cannot measure returns Status::unknown with
    // the reason; an exception is turned into UNKNOWN by the runner.
    virtual CheckResult run(const CheckContext& context) = 0;

protected:
    // A result with this check's name and target and nothing else.
    CheckResult blank() const { return CheckResult{.name = m_name, .target = m_target}; }
    // A result that says the check could not be evaluated, and why.
    CheckResult unknown(std::string message) const;

private:
    std::string m_name;
    std::string m_target;
};

}  // namespace nasops::health
