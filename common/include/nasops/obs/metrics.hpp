#pragma once

// Prometheus text exposition (format 0.0.4) for node_exporter's textfile
// collector. Everything written here passes `promtool check metrics` without a
// warning: the conventions promtool lints are refused when a family is
// declared, not discovered after deployment.

#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/core/error.hpp"

namespace nasops {

enum class MetricType { gauge, counter, untyped };

// "gauge", "counter", "untyped", as on a TYPE line.
std::string_view metric_type_name(MetricType type) noexcept;

// The prefix every nasops metric name must start with. It is required, not
// added, so that a name in the code reads exactly as it does in Prometheus.
inline constexpr std::string_view k_metric_prefix = "nasops_";

// Checks a metric name against the exposition grammar ([a-zA-Z_:][a-zA-Z0-9_:]*)
// and the conventions: the nasops_ prefix; no ':' (reserved for recording
// rules); no camelCase; counters end in _total and nothing else does; no
// _bucket, _count or _sum suffix (histogram and summary series); no type name
// (_counter, _gauge, ...); base units only (seconds, bytes: not _days,
// _milliseconds, _kilobytes) and no abbreviated units (_s, _ms, _b, _mb, ...).
// A bad name is a programming error: ExitCode::software, naming the metric.
Result<void> check_metric_name(std::string_view name, MetricType type);

// Checks a label name: [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"
// (reserved), not camelCase, not "le" or "quantile" (histogram and summary
// labels). ExitCode::software.
Result<void> check_label_name(std::string_view name);

// A sample value as Prometheus parses it: integral values below 2^63 in full
// without an exponent ("1048576"), others in the shortest form that reads back
// exactly ("0.25", "1e+300"), and "+Inf", "-Inf", "NaN".
std::string format_metric_value(double value);

struct Label {
    std::string name;
    std::string value;
};
using Labels = std::vector<Label>;

// An exposition being assembled: families are declared, then samples added in
// any order; text() prints each family once (HELP, TYPE, then all its samples)
// in the order the families were declared, samples in the order they were
// added. Families without samples are left out. No timestamps are ever
// written: node_exporter drops a whole textfile that has one.
class Exposition {
public:
    // Declares a family. Declaring it again with the same type and help is
    // allowed; with another type or help it is an error. Help must not be
    // empty. All errors are ExitCode::software.
    Result<void> declare(std::string_view name, MetricType type, std::string_view help);

    // Adds a sample to a declared family. Label values may hold any text
    // (they are escaped; invalid UTF-8 becomes U+FFFD). Refused
    // (ExitCode::software): an undeclared family, a bad or repeated label
    // name, a label set the family already has (labels with empty values count
    // as absent, as in Prometheus), a negative counter.
    Result<void> add(std::string_view name, const Labels& labels, double value);
    Result<void> add(std::string_view name, double value) { return add(name, Labels{}, value); }
    // Declares a family and adds its one unlabelled sample, so that the name
    // is written once: most families of a tool's textfile are a single number.
    Result<void> declare_one(std::string_view name, MetricType type, std::string_view help, double value) {
        if (auto declared = declare(name, type, help); !declared) return declared;
        return add(name, value);
    }

    bool empty() const noexcept;
    // The exposition text, ending with a newline (empty when there are no samples).
    std::string text() const;

private:
    struct Family {
        std::string name;
        MetricType type;
        std::string help;
        std::vector<std::string> samples;               // formatted sample lines, without "\n"
        std::set<std::string, std::less<>> label_sets;  // canonical label sets, for duplicate checks
    };
    Family* find(std::string_view name);

    std::vector<Family> m_families;
};

// Atomically replaces `dir`/`file_name` with `text`, as node_exporter's textfile
// collector needs (it must never read a half-written file): writes
// `file_name`.tmp in the same folder, fsyncs it, renames it over the final name
// and fsyncs the folder. The file is mode 0644 whatever the umask, because the
// collector runs as another user. On failure the old file is intact and no
// .tmp is left behind. `file_name` must be a plain name ending in ".prom"
// (ExitCode::software otherwise); a folder that is missing or not writable is
// ExitCode::cant_create, a failed write, fsync or rename ExitCode::io_error;
// messages name the path.
Result<void> write_textfile(const std::filesystem::path& dir, std::string_view file_name, std::string_view text);

}  // namespace nasops
