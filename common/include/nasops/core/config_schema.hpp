#pragma once

// The schema of nasops.toml: one table of key specs per section, the single
// source of truth for validation, defaults, did-you-mean and typed access.
// Adding a key is one line in common/src/core/config_schema.cpp (and its entry in
// man/nasops.toml.5.scd).

#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

namespace nasops {

enum class ValueType {
    string,  // any string; `choices` can restrict it to a set of words
    path,    // an absolute path; empty means unset
    boolean,
    integer,         // a TOML integer within [min, max]
    duration,        // "30s", "5m", "1h30m" (parse_duration), or an integer number of seconds
    size,            // "10M", "1.5GiB" (parse_size), or an integer number of bytes
    rate,            // "10M", "10MiB/s" (parse_rate), or an integer number of bytes per second
    rate_timetable,  // a rate as above, or rates by time of day: "08:00,2M 19:00,off" (parse_rate_timetable)
    ratio,           // a share in [0, 1]: a number (0.2, 1) or a string ("0.2", "20%", parse_ratio)
    string_list,     // ["a", "b"]
    path_list,       // ["/srv/a", "/srv/b"]: absolute paths
    string_map,      // { key = "value", ... }: free-form keys with string values
    table_list,      // [[section.key]] entries, each checked against `fields`
};

enum class Secret : bool { no, yes };
enum class Required : bool { no, yes };

struct KeySpec {
    std::string_view name;
    ValueType type;
    // A secret (password, token) makes a file readable by group or others unacceptable.
    Secret secret = Secret::no;
    // A required key of an array-of-tables entry must be present in every entry.
    Required required = Required::no;
    // The default, written as in the file: a TOML value ("4", "true", R"("30s")",
    // R"(["/"])"). Empty: no default; strings, paths, lists and maps are then
    // empty, other types unset (the optional getters return nullopt), and a
    // duration, size, rate or rate_timetable key may also be set to "" to mean unset.
    std::string_view default_value = {};
    // "auto|sha256|size|none": the only values a string key accepts.
    std::string_view choices = {};
    // Bounds of an integer key, inclusive.
    std::int64_t min = 0;
    std::int64_t max = std::numeric_limits<std::int64_t>::max();
    // table_list: the keys of each entry.
    std::span<const KeySpec> fields = {};
    // The name an earlier release gave this key: a file that still uses it is
    // an error that names this key, as the value's form may have changed too.
    std::string_view former_name = {};
};

struct SectionSpec {
    std::string_view name;
    std::span<const KeySpec> keys;
};

// The sections of nasops.toml in the order the man page lists them.
std::span<const SectionSpec> config_schema();

// The spec named `name`, or nullptr.
const SectionSpec* find_section_spec(std::string_view name);
const KeySpec* find_key_spec(std::span<const KeySpec> keys, std::string_view name);

// "string", "duration", "array of strings", … as error messages say it.
std::string_view value_type_name(ValueType type) noexcept;

}  // namespace nasops
