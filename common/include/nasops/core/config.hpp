#pragma once

// nasops.toml: the one configuration file every tool reads (nasops.toml(5)).
//
// Search order: the --config path, else $NASOPS_CONFIG, else
// /etc/nasops/nasops.toml when it exists, else the built-in defaults, so that
// every tool runs with no config at all. The file is checked against the
// schema of config_schema.hpp; every problem is reported at once, one line
// each, as "<file>:<line>:<column>: <what>", with ExitCode::config.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "nasops/core/config_schema.hpp"
#include "nasops/core/environment.hpp"
#include "nasops/core/error.hpp"
#include "nasops/util/units.hpp"

namespace nasops {

inline constexpr std::string_view k_system_config_path = "/etc/nasops/nasops.toml";
inline constexpr std::string_view k_config_env_var = "NASOPS_CONFIG";

// Where a value was written. line and column are 1-based; 0 for a built-in default.
struct SourcePosition {
    std::string file;  // empty for a built-in default
    std::uint32_t line = 0;
    std::uint32_t column = 0;

    bool known() const noexcept { return line != 0; }
    // "/etc/nasops/nasops.toml:12:5"; just the file when the line is unknown;
    // "built-in default" when there is no file.
    std::string to_string() const;
};

using StringMap = std::map<std::string, std::string, std::less<>>;

class ConfigTable;

namespace detail {
struct ConfigBuilder;
using ConfigValue = std::variant<std::monostate, std::string, bool, std::int64_t, Duration, std::uint64_t, double,
                                 std::vector<std::string>, StringMap, std::vector<ConfigTable>>;
}  // namespace detail

// The checked values of one section, or of one entry of an array of tables
// ([[alert.channel]]), each key holding the file's value or its default.
// Getters take a key of the schema: asking for a key the schema does not have,
// or with the getter of another type, is a programming error and throws
// std::logic_error.
class ConfigTable {
public:
    // "sync", or "alert.channel[0]" for the first [[alert.channel]] entry.
    const std::string& name() const noexcept { return m_name; }
    // "sync.jobs", "alert.channel[0].url".
    std::string qualified(std::string_view key) const;
    // Where the table starts: its [header] or inline table; unknown for a section the file lacks.
    const SourcePosition& position() const noexcept { return m_position; }
    // Where `key` is set; an unknown position when it holds its default.
    const SourcePosition& position(std::string_view key) const;
    // True when the file sets `key`, false when the default applies.
    bool is_set(std::string_view key) const;

    // string and path keys; "" when unset.
    const std::string& get_string(std::string_view key) const;
    std::filesystem::path get_path(std::string_view key) const;
    bool get_bool(std::string_view key) const;
    std::int64_t get_int(std::string_view key) const;
    // The non-optional getters throw std::logic_error when the key has no
    // default and the file does not set it: use the optional ones for those.
    Duration get_duration(std::string_view key) const;
    std::optional<Duration> get_optional_duration(std::string_view key) const;
    std::uint64_t get_size(std::string_view key) const;
    std::optional<std::uint64_t> get_optional_size(std::string_view key) const;
    // Bytes per second.
    std::uint64_t get_rate(std::string_view key) const;
    std::optional<std::uint64_t> get_optional_rate(std::string_view key) const;
    // rate_timetable keys: the text, checked by parse_rate_timetable when loaded
    // (an integer of bytes per second as its decimal text); nullopt when unset.
    std::optional<std::string> get_optional_rate_timetable(std::string_view key) const;
    // ratio keys: a share in [0, 1].
    double get_ratio(std::string_view key) const;
    // string_list and path_list keys.
    const std::vector<std::string>& get_string_list(std::string_view key) const;
    const StringMap& get_string_map(std::string_view key) const;
    // The entries of a table_list key, in file order, each with its position.
    std::span<const ConfigTable> get_entries(std::string_view key) const;

    // An Error (ExitCode::config) for a check the schema cannot express, as
    // "<file>:<line>:<column>: <table>.<key>: <message>", pointing at the key,
    // or at the table when the key holds its default.
    Error error_at(std::string_view key, std::string_view message) const;

private:
    friend struct detail::ConfigBuilder;

    struct Slot {
        detail::ConfigValue value;
        SourcePosition position;
        bool from_file = false;
    };

    const Slot& slot(std::string_view key, std::initializer_list<ValueType> accepted, std::string_view getter) const;

    std::string m_name;
    SourcePosition m_position;
    std::span<const KeySpec> m_specs;
    std::vector<Slot> m_slots;  // parallel to m_specs
};

class Config {
public:
    // The built-in defaults alone, what the tools run with when there is no file.
    // Throws std::logic_error if a default in the schema is malformed (a unit test loads them).
    static Config defaults();

    // The file that was loaded; empty for the built-in defaults.
    const std::filesystem::path& source() const noexcept { return m_source; }

    // A section of the schema ("sync"); throws std::logic_error for another name.
    const ConfigTable& section(std::string_view name) const;

    const std::string& get_string(std::string_view section_name, std::string_view key) const {
        return section(section_name).get_string(key);
    }
    std::filesystem::path get_path(std::string_view section_name, std::string_view key) const {
        return section(section_name).get_path(key);
    }
    bool get_bool(std::string_view section_name, std::string_view key) const {
        return section(section_name).get_bool(key);
    }
    std::int64_t get_int(std::string_view section_name, std::string_view key) const {
        return section(section_name).get_int(key);
    }
    Duration get_duration(std::string_view section_name, std::string_view key) const {
        return section(section_name).get_duration(key);
    }
    std::optional<Duration> get_optional_duration(std::string_view section_name, std::string_view key) const {
        return section(section_name).get_optional_duration(key);
    }
    std::uint64_t get_size(std::string_view section_name, std::string_view key) const {
        return section(section_name).get_size(key);
    }
    std::optional<std::uint64_t> get_optional_size(std::string_view section_name, std::string_view key) const {
        return section(section_name).get_optional_size(key);
    }
    std::uint64_t get_rate(std::string_view section_name, std::string_view key) const {
        return section(section_name).get_rate(key);
    }
    std::optional<std::uint64_t> get_optional_rate(std::string_view section_name, std::string_view key) const {
        return section(section_name).get_optional_rate(key);
    }
    std::optional<std::string> get_optional_rate_timetable(std::string_view section_name, std::string_view key) const {
        return section(section_name).get_optional_rate_timetable(key);
    }
    const std::vector<std::string>& get_string_list(std::string_view section_name, std::string_view key) const {
        return section(section_name).get_string_list(key);
    }
    const StringMap& get_string_map(std::string_view section_name, std::string_view key) const {
        return section(section_name).get_string_map(key);
    }
    std::span<const ConfigTable> get_entries(std::string_view section_name, std::string_view key) const {
        return section(section_name).get_entries(key);
    }

private:
    friend struct detail::ConfigBuilder;

    std::filesystem::path m_source;
    std::vector<ConfigTable> m_sections;  // parallel to config_schema()
};

// Where load_config() looks; the environment and the system path are
// injectable so that tests never depend on the real /etc or environment.
struct ConfigSearch {
    std::filesystem::path explicit_path{};  // --config; empty when not given
    EnvLookup env = process_environment();
    std::filesystem::path system_path{k_system_config_path};
};

// Loads the file the search order picks, or the defaults when no file is
// named and the system file does not exist. A file named by --config or
// $NASOPS_CONFIG that cannot be opened is an error ("cannot open <path>: No
// such file or directory"), never a silent fallback to defaults.
Result<Config> load_config(const ConfigSearch& search);

// Loads exactly `path`. A file that holds a secret (a password, a token, a
// URL with a credential in it, a Slack webhook) must be private
// (private_file.hpp): ExitCode::config naming the keys and the fix otherwise.
Result<Config> load_config_file(const std::filesystem::path& path);

// Checks TOML text that does not come from a file (so no permission check);
// `source_name` stands for the file in positions.
Result<Config> parse_config(std::string_view text, std::string_view source_name);

}  // namespace nasops
