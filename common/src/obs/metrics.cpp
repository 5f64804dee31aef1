#include "nasops/obs/metrics.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <optional>
#include <utility>

#include "nasops/util/atomic_file.hpp"
#include "nasops/util/utf8.hpp"

namespace nasops {

namespace {

// What promtool's linter (client_golang promlint) warns about, so that it never has to.
constexpr std::array<std::string_view, 14> k_unit_abbreviations{"s",  "ms", "us", "ns", "sec", "b", "kb",
                                                                "mb", "gb", "tb", "pb", "m",   "h", "d"};
struct UnitBase {
    std::string_view unit;
    std::string_view base;
};
constexpr std::array k_units{
    UnitBase{"amperes", "amperes"},    UnitBase{"bytes", "bytes"},     UnitBase{"celsius", "celsius"},
    UnitBase{"grams", "grams"},        UnitBase{"joules", "joules"},   UnitBase{"kelvin", "kelvin"},
    UnitBase{"meters", "meters"},      UnitBase{"metres", "metres"},   UnitBase{"seconds", "seconds"},
    UnitBase{"volts", "volts"},        UnitBase{"minutes", "seconds"}, UnitBase{"hours", "seconds"},
    UnitBase{"days", "seconds"},       UnitBase{"weeks", "seconds"},   UnitBase{"kelvins", "kelvin"},
    UnitBase{"fahrenheit", "celsius"}, UnitBase{"rankine", "celsius"}, UnitBase{"inches", "meters"},
    UnitBase{"yards", "meters"},       UnitBase{"miles", "meters"},    UnitBase{"bits", "bytes"},
    UnitBase{"calories", "joules"},    UnitBase{"pounds", "grams"},    UnitBase{"ounces", "grams"},
};
constexpr std::array<std::string_view, 18> k_unit_prefixes{"pico", "nano",  "micro", "milli", "centi", "deci",
                                                           "deca", "hecto", "kilo",  "kibi",  "mega",  "mibi",
                                                           "giga", "gibi",  "tera",  "tebi",  "peta",  "pebi"};
constexpr std::array<std::string_view, 4> k_type_words{"counter", "gauge", "histogram", "summary"};

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool has_camel_case(std::string_view name) {
    for (std::size_t i = 1; i < name.size(); ++i) {
        if (name[i - 1] >= 'a' && name[i - 1] <= 'z' && name[i] >= 'A' && name[i] <= 'Z') return true;
    }
    return false;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::vector<std::string_view> split_words(std::string_view name) {
    std::vector<std::string_view> words;
    std::size_t start = 0;
    while (true) {
        const auto end = name.find('_', start);
        words.push_back(name.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return words;
}

// The base unit a word should use instead, when it is a non-base unit ("days" -> "seconds").
std::optional<std::string_view> non_base_unit(std::string_view word) {
    for (const auto& u : k_units) {
        if (word == u.unit) return u.unit == u.base ? std::nullopt : std::optional(u.base);
    }
    for (const auto prefix : k_unit_prefixes) {
        if (!word.starts_with(prefix)) continue;
        const auto rest = word.substr(prefix.size());
        for (const auto& u : k_units) {
            if (rest == u.unit) return u.base;
        }
    }
    return std::nullopt;
}

// Appends `text` with invalid UTF-8 sequences replaced by U+FFFD, escaping
// backslash, newline and (when `quote`) the double quote.
void append_escaped(std::string& out, std::string_view text, bool quote) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            if (c == '\\') {
                out += "\\\\";
            } else if (c == '\n') {
                out += "\\n";
            } else if (quote && c == '"') {
                out += "\\\"";
            } else {
                out += static_cast<char>(c);
            }
            ++i;
            continue;
        }
        const std::size_t len = utf8_length(text.data() + i, text.data() + text.size());
        if (len > 0) {
            out.append(text.substr(i, len));
            i += len;
        } else {
            out += "\xef\xbf\xbd";
            ++i;
        }
    }
}

}  // namespace

std::string_view metric_type_name(MetricType type) noexcept {
    switch (type) {
        case MetricType::gauge: return "gauge";
        case MetricType::counter: return "counter";
        case MetricType::untyped: return "untyped";
    }
    return "untyped";
}

Result<void> check_metric_name(std::string_view name, MetricType type) {
    auto bad = [&](std::string_view why) {
        return fail(ExitCode::software, fmt::format("invalid metric name '{}': {}", name, why));
    };
    if (name.empty()) return bad("empty");
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        if (!(is_alpha(c) || c == '_' || c == ':' || (i > 0 && is_digit(c)))) {
            return bad("only letters, digits, '_' and ':' are allowed, and it cannot start with a digit");
        }
    }
    if (!name.starts_with(k_metric_prefix) || name.size() == k_metric_prefix.size()) {
        return bad(fmt::format("nasops metric names start with '{}' followed by a name", k_metric_prefix));
    }
    if (name.find(':') != std::string_view::npos) return bad("':' is reserved for recording rules");
    if (has_camel_case(name)) return bad("write it in snake_case, not camelCase");
    const bool total = name.ends_with("_total");
    if (type == MetricType::counter && !total) return bad("a counter's name ends in _total");
    if (type == MetricType::gauge && total) return bad("only counters end in _total");
    for (const auto suffix : {"_bucket", "_count", "_sum"}) {
        if (name.ends_with(suffix))
            return bad(fmt::format("the suffix {} belongs to histograms and summaries", suffix));
    }
    const auto lowered = lower(name);
    const auto words = split_words(lowered);
    for (std::size_t i = 1; i < words.size(); ++i) {
        for (const auto type_word : k_type_words) {
            if (words[i] == type_word) return bad(fmt::format("do not put the type '{}' in the name", type_word));
        }
        for (const auto abbreviation : k_unit_abbreviations) {
            if (words[i] == abbreviation) {
                return bad(
                    fmt::format("'{}' is an abbreviated unit: spell out the base unit (seconds, bytes)", words[i]));
            }
        }
        if (const auto base = non_base_unit(words[i])) {
            return bad(fmt::format("use the base unit '{}' instead of '{}'", *base, words[i]));
        }
    }
    return {};
}

Result<void> check_label_name(std::string_view name) {
    auto bad = [&](std::string_view why) {
        return fail(ExitCode::software, fmt::format("invalid label name '{}': {}", name, why));
    };
    if (name.empty()) return bad("empty");
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        if (!(is_alpha(c) || c == '_' || (i > 0 && is_digit(c)))) {
            return bad("only letters, digits and '_' are allowed, and it cannot start with a digit");
        }
    }
    if (name.starts_with("__")) return bad("names starting with '__' are reserved for Prometheus");
    if (has_camel_case(name)) return bad("write it in snake_case, not camelCase");
    if (name == "le" || name == "quantile") return bad("reserved for histogram and summary buckets");
    return {};
}

std::string format_metric_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    constexpr double k_two_pow_63 = 9223372036854775808.0;
    if (value == std::trunc(value) && value > -k_two_pow_63 && value < k_two_pow_63) {
        return fmt::format("{}", static_cast<std::int64_t>(value));
    }
    return fmt::format("{}", value);  // shortest form that reads back exactly
}

Exposition::Family* Exposition::find(std::string_view name) {
    const auto it = std::find_if(m_families.begin(), m_families.end(), [&](const Family& f) { return f.name == name; });
    return it == m_families.end() ? nullptr : &*it;
}

Result<void> Exposition::declare(std::string_view name, MetricType type, std::string_view help) {
    if (auto ok = check_metric_name(name, type); !ok) return ok;
    if (help.empty()) return fail(ExitCode::software, fmt::format("metric {} has no help text", name));
    std::string escaped_help;
    append_escaped(escaped_help, help, false);
    if (const auto* existing = find(name)) {
        if (existing->type != type || existing->help != escaped_help) {
            return fail(ExitCode::software,
                        fmt::format("metric {} declared twice with a different type or help", name));
        }
        return {};
    }
    m_families.push_back(Family{std::string(name), type, std::move(escaped_help), {}, {}});
    return {};
}

Result<void> Exposition::add(std::string_view name, const Labels& labels, double value) {
    auto* family = find(name);
    if (family == nullptr) {
        return fail(ExitCode::software, fmt::format("metric {} has a sample but was never declared", name));
    }
    if (family->type == MetricType::counter && value < 0) {
        return fail(ExitCode::software,
                    fmt::format("counter {} cannot be negative ({})", name, format_metric_value(value)));
    }
    std::vector<std::pair<std::string_view, std::string_view>> present;
    for (const auto& label : labels) {
        if (auto ok = check_label_name(label.name); !ok) {
            return fail(ExitCode::software, fmt::format("metric {}: {}", name, ok.error().message));
        }
        for (const auto& other : labels) {
            if (&other != &label && other.name == label.name) {
                return fail(ExitCode::software, fmt::format("metric {}: label '{}' given twice", name, label.name));
            }
        }
        if (!label.value.empty()) present.emplace_back(label.name, label.value);
    }
    std::sort(present.begin(), present.end());
    std::string key;
    for (const auto& [label_name, label_value] : present) {
        key.append(label_name).append(1, '\0').append(label_value).append(1, '\0');
    }
    if (!family->label_sets.insert(std::move(key)).second) {
        return fail(ExitCode::software, fmt::format("metric {}: two samples with the same labels", name));
    }

    std::string line = family->name;
    if (!labels.empty()) {
        line += '{';
        for (std::size_t i = 0; i < labels.size(); ++i) {
            if (i > 0) line += ',';
            line += labels[i].name;
            line += "=\"";
            append_escaped(line, labels[i].value, true);
            line += '"';
        }
        line += '}';
    }
    line += ' ';
    line += format_metric_value(value);
    family->samples.push_back(std::move(line));
    return {};
}

bool Exposition::empty() const noexcept {
    return std::all_of(m_families.begin(), m_families.end(), [](const Family& f) { return f.samples.empty(); });
}

std::string Exposition::text() const {
    std::string out;
    for (const auto& family : m_families) {
        if (family.samples.empty()) continue;
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", family.name, family.help, family.name,
                           metric_type_name(family.type));
        for (const auto& sample : family.samples) {
            out += sample;
            out += '\n';
        }
    }
    return out;
}

Result<void> write_textfile(const std::filesystem::path& dir, std::string_view file_name, std::string_view text) {
    if (file_name.size() <= 5 || !file_name.ends_with(".prom") || file_name.find('/') != std::string_view::npos) {
        return fail(ExitCode::software,
                    fmt::format("textfile name '{}' must be a plain file name ending in .prom", file_name));
    }
    // node_exporter reads the file as another user: 0644 whatever the umask.
    return write_file_atomically(dir / file_name, text, 0644);
}

}  // namespace nasops
