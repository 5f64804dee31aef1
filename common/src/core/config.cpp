#include "nasops/core/config.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

#include "nasops/core/private_file.hpp"
#include "nasops/util/rate_timetable.hpp"
#include "nasops/util/text.hpp"

namespace nasops {

std::string SourcePosition::to_string() const {
    if (file.empty()) return "built-in default";
    if (!known()) return file;
    return fmt::format("{}:{}:{}", file, line, column);
}

namespace {

// "file:line:column: " for a position in a file, nothing for a built-in default.
std::string location_prefix(const SourcePosition& position) {
    return position.file.empty() ? std::string() : position.to_string() + ": ";
}

std::vector<std::string_view> split_choices(std::string_view choices) {
    std::vector<std::string_view> out;
    while (!choices.empty()) {
        const auto bar = choices.find('|');
        out.push_back(choices.substr(0, bar));
        if (bar == std::string_view::npos) break;
        choices.remove_prefix(bar + 1);
    }
    return out;
}

std::string_view node_phrase(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a floating-point number";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        case toml::node_type::array: return "an array";
        case toml::node_type::table: return "a table";
        case toml::node_type::none: break;
    }
    return "nothing";
}

std::string expected_phrase(ValueType type) {
    switch (type) {
        case ValueType::string: return "a string";
        case ValueType::path: return "a string holding an absolute path";
        case ValueType::boolean: return "true or false";
        case ValueType::integer: return "an integer";
        case ValueType::duration: return R"(a duration such as "30s", "5m" or "1h30m")";
        case ValueType::size: return R"(a size such as "10M" or "1.5GiB")";
        case ValueType::rate: return R"(a rate such as "10M" or "10MiB/s")";
        case ValueType::rate_timetable: return R"(a rate such as "10M", or a timetable such as "08:00,2M 19:00,off")";
        case ValueType::ratio: return R"(a ratio from 0 to 1 such as 0.2 or "20%")";
        case ValueType::string_list: return "an array of strings";
        case ValueType::path_list: return "an array of absolute paths";
        case ValueType::string_map: return "a table of strings";
        case ValueType::table_list: return "an array of tables";
    }
    return "a value";
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
    std::string out;
    for (const auto& part : parts) {
        if (!out.empty()) out += separator;
        out += part;
    }
    return out;
}

// Closes the descriptor when the file has been read.
class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : m_fd(fd) {}
    ~FileDescriptor() {
        if (m_fd >= 0) ::close(m_fd);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const noexcept { return m_fd; }

private:
    int m_fd;
};

}  // namespace

namespace detail {

// Turns a parsed TOML document into checked values, collecting every problem
// instead of stopping at the first (mold's checkpoint style).
struct ConfigBuilder {
    struct Problem {
        SourcePosition position;
        std::string message;
    };

    std::string file;  // stands for the file in positions; empty for built-in defaults
    std::vector<Problem> problems{};
    std::vector<std::string>
        secrets_set{};  // qualified names of the secret keys the file sets, and of URLs with a credential

    SourcePosition position_of(const toml::source_region& region) const {
        return SourcePosition{file, region.begin.line, region.begin.column};
    }

    void problem(SourcePosition position, std::string message) {
        problems.push_back(Problem{std::move(position), std::move(message)});
    }

    // Every problem, one line each, in file order.
    Error error() {
        std::ranges::stable_sort(problems, [](const Problem& a, const Problem& b) {
            return std::pair(a.position.line, a.position.column) < std::pair(b.position.line, b.position.column);
        });
        std::vector<std::string> lines;
        lines.reserve(problems.size());
        for (const auto& p : problems) lines.push_back(location_prefix(p.position) + p.message);
        return Error{join(lines, "\n"), ExitCode::config};
    }

    static ConfigValue empty_value(ValueType type) {
        switch (type) {
            case ValueType::string:
            case ValueType::path: return std::string();
            case ValueType::string_list:
            case ValueType::path_list: return std::vector<std::string>();
            case ValueType::string_map: return StringMap();
            case ValueType::table_list: return std::vector<ConfigTable>();
            default: return std::monostate();
        }
    }

    // The schema's default, checked by the same code as a value in a file.
    static ConfigValue default_value(const KeySpec& spec, const std::string& qualified) {
        if (spec.default_value.empty()) return empty_value(spec.type);
        toml::table doc;
        try {
            doc = toml::parse(fmt::format("v = {}", spec.default_value));
        } catch (const toml::parse_error& e) {
            throw std::logic_error(fmt::format("built-in default of '{}' is not TOML: {}", qualified, e.description()));
        }
        ConfigBuilder checker;
        auto value = checker.convert(*doc.get("v"), spec, qualified);
        if (!value || !checker.problems.empty()) {
            throw std::logic_error(
                fmt::format("built-in default of '{}' is invalid: {}", qualified, checker.error().message));
        }
        return std::move(*value);
    }

    std::nullopt_t type_problem(const toml::node& node, const KeySpec& spec, std::string_view qualified) {
        problem(position_of(node.source()),
                fmt::format("'{}' must be {}, not {}", qualified, expected_phrase(spec.type), node_phrase(node)));
        return std::nullopt;
    }

    bool check_absolute(const toml::node& node, std::string_view text, std::string_view qualified) {
        if (text.empty() || text.front() == '/') return true;
        problem(position_of(node.source()), fmt::format("'{}' must be an absolute path, not '{}'", qualified, text));
        return false;
    }

    std::optional<ConfigValue> convert_string(const toml::node& node, const KeySpec& spec,
                                              const std::string& qualified) {
        if (!node.is_string()) return type_problem(node, spec, qualified);
        std::string text = node.as_string()->get();
        if (spec.type == ValueType::path && !check_absolute(node, text, qualified)) return std::nullopt;
        if (!spec.choices.empty()) {
            const auto choices = split_choices(spec.choices);
            if (std::ranges::find(choices, text) == choices.end()) {
                auto message = fmt::format("invalid value '{}' for '{}' (expected one of: {})", text, qualified,
                                           fmt::join(choices, ", "));
                if (auto near = did_you_mean(text, choices)) {
                    message += fmt::format("; did you mean '{}'?", *near);
                }
                problem(position_of(node.source()), std::move(message));
                return std::nullopt;
            }
        }
        return ConfigValue(std::move(text));
    }

    std::optional<ConfigValue> convert_integer(const toml::node& node, const KeySpec& spec,
                                               const std::string& qualified) {
        if (!node.is_integer()) return type_problem(node, spec, qualified);
        const std::int64_t value = node.as_integer()->get();
        if (value < spec.min || value > spec.max) {
            problem(position_of(node.source()),
                    spec.max == std::numeric_limits<std::int64_t>::max()
                        ? fmt::format("'{}' must be at least {}, not {}", qualified, spec.min, value)
                        : fmt::format("'{}' must be between {} and {}, not {}", qualified, spec.min, spec.max, value));
            return std::nullopt;
        }
        return ConfigValue(value);
    }

    // Durations, sizes and rates: a string for the units parser, or a plain
    // integer of seconds or bytes.
    std::optional<ConfigValue> convert_unit(const toml::node& node, const KeySpec& spec, const std::string& qualified) {
        if (node.is_integer()) {
            const std::int64_t number = node.as_integer()->get();
            constexpr std::int64_t k_max_seconds = std::numeric_limits<std::int64_t>::max() / 1000;
            if (number < 0 || (spec.type == ValueType::duration && number > k_max_seconds)) {
                problem(position_of(node.source()),
                        fmt::format("'{}' must be {}, not {}", qualified, expected_phrase(spec.type), number));
                return std::nullopt;
            }
            if (spec.type == ValueType::duration) return ConfigValue(Duration(number * 1000));
            if (spec.type == ValueType::rate_timetable) return ConfigValue(std::to_string(number));
            return ConfigValue(static_cast<std::uint64_t>(number));
        }
        if (!node.is_string()) return type_problem(node, spec, qualified);
        const std::string& text = node.as_string()->get();
        if (text.empty()) {
            if (spec.default_value.empty()) return ConfigValue(std::monostate());
            problem(position_of(node.source()),
                    fmt::format("'{}' cannot be empty: it must be {}", qualified, expected_phrase(spec.type)));
            return std::nullopt;
        }
        auto report = [&](const Error& e) -> std::optional<ConfigValue> {
            problem(position_of(node.source()), fmt::format("invalid value for '{}': {}", qualified, e.message));
            return std::nullopt;
        };
        if (spec.type == ValueType::duration) {
            auto parsed = parse_duration(text);
            if (!parsed) return report(parsed.error());
            return ConfigValue(*parsed);
        }
        if (spec.type == ValueType::rate_timetable) {
            if (auto parsed = RateTimetable::parse(text); !parsed) return report(parsed.error());
            return ConfigValue(text);
        }
        auto parsed = spec.type == ValueType::size ? parse_size(text) : parse_rate(text);
        if (!parsed) return report(parsed.error());
        return ConfigValue(*parsed);
    }

    // A TOML number, or a string for parse_ratio ("20%").
    std::optional<ConfigValue> convert_ratio(const toml::node& node, const KeySpec& spec,
                                             const std::string& qualified) {
        double value = 0;
        if (node.is_floating_point()) {
            value = node.as_floating_point()->get();
        } else if (node.is_integer()) {
            value = static_cast<double>(node.as_integer()->get());
        } else if (node.is_string()) {
            auto parsed = parse_ratio(node.as_string()->get());
            if (!parsed) {
                problem(position_of(node.source()),
                        fmt::format("invalid value for '{}': {}", qualified, parsed.error().message));
                return std::nullopt;
            }
            value = *parsed;
        } else {
            return type_problem(node, spec, qualified);
        }
        if (!(value >= 0.0 && value <= 1.0)) {
            auto message = fmt::format("'{}' must be {}, not {}", qualified, expected_phrase(spec.type), value);
            // A whole number up to 100 is most likely a percent, as the *_percent keys this type replaced took.
            if (node.is_integer() && value > 1.0 && value <= 100.0)
                message += fmt::format(R"( ({0}% is {1} or "{0}%"))", value, value / 100.0);
            problem(position_of(node.source()), std::move(message));
            return std::nullopt;
        }
        return ConfigValue(value);
    }

    std::optional<ConfigValue> convert_list(const toml::node& node, const KeySpec& spec, const std::string& qualified) {
        const auto* array = node.as_array();
        if (array == nullptr) return type_problem(node, spec, qualified);
        std::vector<std::string> items;
        bool ok = true;
        for (std::size_t i = 0; i < array->size(); ++i) {
            const auto& element = *array->get(i);
            const auto name = fmt::format("{}[{}]", qualified, i);
            if (!element.is_string()) {
                problem(position_of(element.source()),
                        fmt::format("'{}' must be a string, not {}", name, node_phrase(element)));
                ok = false;
                continue;
            }
            const std::string& text = element.as_string()->get();
            if (spec.type == ValueType::path_list && !check_absolute(element, text, name)) ok = false;
            items.push_back(text);
        }
        if (!ok) return std::nullopt;
        return ConfigValue(std::move(items));
    }

    std::optional<ConfigValue> convert_map(const toml::node& node, const KeySpec& spec, const std::string& qualified) {
        const auto* table = node.as_table();
        if (table == nullptr) return type_problem(node, spec, qualified);
        StringMap map;
        bool ok = true;
        for (const auto& [key, value] : *table) {
            if (!value.is_string()) {
                problem(position_of(value.source()),
                        fmt::format("'{}.{}' must be a string, not {}", qualified, key.str(), node_phrase(value)));
                ok = false;
                continue;
            }
            map.emplace(std::string(key.str()), value.as_string()->get());
        }
        if (!ok) return std::nullopt;
        return ConfigValue(std::move(map));
    }

    std::optional<ConfigValue> convert_entries(const toml::node& node, const KeySpec& spec,
                                               const std::string& qualified) {
        const auto* array = node.as_array();
        if (array == nullptr) {
            problem(position_of(node.source()),
                    node.is_table()
                        ? fmt::format("'{0}' must be an array of tables: write [[{0}]], not [{0}]", qualified)
                        : fmt::format("'{}' must be an array of tables ([[{}]]), not {}", qualified, qualified,
                                      node_phrase(node)));
            return std::nullopt;
        }
        std::vector<ConfigTable> entries;
        bool ok = true;
        for (std::size_t i = 0; i < array->size(); ++i) {
            const auto& element = *array->get(i);
            const auto name = fmt::format("{}[{}]", qualified, i);
            if (!element.is_table()) {
                problem(position_of(element.source()),
                        fmt::format("'{}' must be a table, not {}", name, node_phrase(element)));
                ok = false;
                continue;
            }
            entries.push_back(build_table(name, position_of(element.source()), spec.fields, element.as_table()));
        }
        if (!ok) return std::nullopt;
        return ConfigValue(std::move(entries));
    }

    std::optional<ConfigValue> convert(const toml::node& node, const KeySpec& spec, const std::string& qualified) {
        switch (spec.type) {
            case ValueType::string:
            case ValueType::path: return convert_string(node, spec, qualified);
            case ValueType::boolean:
                if (!node.is_boolean()) return type_problem(node, spec, qualified);
                return ConfigValue(node.as_boolean()->get());
            case ValueType::integer: return convert_integer(node, spec, qualified);
            case ValueType::duration:
            case ValueType::size:
            case ValueType::rate:
            case ValueType::rate_timetable: return convert_unit(node, spec, qualified);
            case ValueType::ratio: return convert_ratio(node, spec, qualified);
            case ValueType::string_list:
            case ValueType::path_list: return convert_list(node, spec, qualified);
            case ValueType::string_map: return convert_map(node, spec, qualified);
            case ValueType::table_list: return convert_entries(node, spec, qualified);
        }
        return type_problem(node, spec, qualified);
    }

    std::string unknown_key_message(std::string_view table_name, std::string_view key,
                                    std::span<const KeySpec> specs) const {
        auto message = fmt::format("unknown key '{}.{}'", table_name, key);
        for (const auto& spec : specs) {
            if (!spec.former_name.empty() && spec.former_name == key) {
                return message + fmt::format(" (renamed '{}', {})", spec.name, expected_phrase(spec.type));
            }
        }
        if (auto near = did_you_mean(key, specs, &KeySpec::name)) {
            return message + fmt::format(" (did you mean '{}'?)", *near);
        }
        // A key put in the wrong section: [sync] host = ... belongs in [nas].
        if (find_section_spec(table_name) != nullptr) {
            for (const auto& section : config_schema()) {
                if (find_key_spec(section.keys, key) != nullptr) {
                    return message + fmt::format(" (did you mean '{}.{}'?)", section.name, key);
                }
            }
        }
        return message;
    }

    // A string that is a URL with a credential in it, or the url of a Slack
    // channel: its path is the credential, whatever the host (a proxy).
    static bool holds_credential(const KeySpec& spec, const ConfigValue& value, const toml::table* table) {
        const auto* text = std::get_if<std::string>(&value);
        if (text == nullptr || text->empty()) return false;
        if (url_holds_secret(*text)) return true;
        return spec.name == "url" && table->get_as<std::string>("type") != nullptr &&
               table->get_as<std::string>("type")->get() == "slack";
    }

    ConfigTable build_table(std::string name, SourcePosition position, std::span<const KeySpec> specs,
                            const toml::table* table) {
        ConfigTable out;
        out.m_name = std::move(name);
        out.m_position = std::move(position);
        out.m_specs = specs;
        out.m_slots.resize(specs.size());
        for (std::size_t i = 0; i < specs.size(); ++i) {
            const auto& spec = specs[i];
            auto& slot = out.m_slots[i];
            const auto qualified = out.qualified(spec.name);
            const toml::node* node = table != nullptr ? table->get(spec.name) : nullptr;
            if (node == nullptr) {
                slot.value = default_value(spec, qualified);
                if (spec.required == Required::yes) {
                    problem(out.m_position, fmt::format("'{}' lacks the required key '{}'", out.m_name, spec.name));
                }
                continue;
            }
            slot.position = position_of(node->source());
            slot.from_file = true;
            auto value = convert(*node, spec, qualified);
            slot.value = value ? std::move(*value) : default_value(spec, qualified);
            if (spec.secret == Secret::yes || holds_credential(spec, slot.value, table))
                secrets_set.push_back(qualified);
        }
        if (table != nullptr) {
            for (const auto& [key, value] : *table) {
                if (find_key_spec(specs, key.str()) == nullptr) {
                    problem(position_of(key.source()), unknown_key_message(out.m_name, key.str(), specs));
                }
            }
        }
        return out;
    }

    Config build(const toml::table& root, std::filesystem::path source) {
        Config config;
        config.m_source = std::move(source);
        for (const auto& section : config_schema()) {
            const toml::node* node = root.get(section.name);
            const toml::table* table = node != nullptr ? node->as_table() : nullptr;
            if (node != nullptr && table == nullptr) {
                problem(position_of(node->source()),
                        fmt::format("'{0}' must be a section ([{0}]), not {1}", section.name, node_phrase(*node)));
            }
            config.m_sections.push_back(build_table(
                std::string(section.name), table != nullptr ? position_of(table->source()) : SourcePosition{file, 0, 0},
                section.keys, table));
        }
        for (const auto& [key, value] : root) {
            if (find_section_spec(key.str()) != nullptr) continue;
            if (value.is_table()) {
                auto message = fmt::format("unknown section '{}'", key.str());
                if (auto near = did_you_mean(key.str(), config_schema(), &SectionSpec::name)) {
                    message += fmt::format(" (did you mean '{}'?)", *near);
                }
                problem(position_of(key.source()), std::move(message));
                continue;
            }
            auto message = fmt::format("unknown key '{}' outside any section", key.str());
            for (const auto& section : config_schema()) {
                if (find_key_spec(section.keys, key.str()) != nullptr) {
                    message += fmt::format(" (did you mean '{}' under [{}]?)", key.str(), section.name);
                    break;
                }
            }
            problem(position_of(key.source()), std::move(message));
        }
        return config;
    }
};

}  // namespace detail

namespace {

// Parses and checks `text`; `file` is the file's mode and owner for the secrets rule.
Result<Config> check_text(std::string_view text, const std::string& source_name, std::filesystem::path source,
                          const std::optional<struct stat>& file) {
    detail::ConfigBuilder builder{.file = source_name};
    toml::table root;
    try {
        root = toml::parse(text, source_name);
    } catch (const toml::parse_error& e) {
        return fail(ExitCode::config,
                    fmt::format("{}{}", location_prefix(builder.position_of(e.source())), e.description()));
    }
    auto config = builder.build(root, std::move(source));
    if (file && !builder.secrets_set.empty()) {
        if (auto problem = private_file_problem(source_name, *file)) {
            builder.problem(SourcePosition{source_name, 0, 0},
                            fmt::format("holds secrets ({}) but {}", join(builder.secrets_set, ", "), *problem));
        }
    }
    if (!builder.problems.empty()) return std::unexpected(builder.error());
    return config;
}

// `named_by` says who named the file when that is not obvious ("$NASOPS_CONFIG").
Result<Config> load_file(const std::filesystem::path& path, std::string_view named_by) {
    const auto suffix = named_by.empty() ? std::string() : fmt::format(" (named by {})", named_by);
    const FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        return fail(ExitCode::config, fmt::format("cannot open {}: {}{}", path.string(), std::strerror(errno), suffix));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return fail(ExitCode::config, fmt::format("cannot stat {}: {}{}", path.string(), std::strerror(errno), suffix));
    }
    std::string text;
    char buffer[16384];
    for (;;) {
        const auto got = ::read(fd.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            return fail(ExitCode::config,
                        fmt::format("cannot read {}: {}{}", path.string(), std::strerror(errno), suffix));
        }
        if (got == 0) break;
        text.append(buffer, static_cast<std::size_t>(got));
    }
    return check_text(text, path.string(), path, st);
}

}  // namespace

Config Config::defaults() {
    detail::ConfigBuilder builder;
    auto config = builder.build(toml::table{}, {});
    if (!builder.problems.empty()) throw std::logic_error("invalid built-in config: " + builder.error().message);
    return config;
}

const ConfigTable& Config::section(std::string_view name) const {
    const auto sections = config_schema();
    for (std::size_t i = 0; i < sections.size(); ++i) {
        if (sections[i].name == name) return m_sections.at(i);
    }
    throw std::logic_error(fmt::format("config section '{}' is not in the schema", name));
}

Result<Config> load_config(const ConfigSearch& search) {
    if (!search.explicit_path.empty()) return load_file(search.explicit_path, {});
    if (auto from_env = non_empty_env(search.env, k_config_env_var)) {
        return load_file(*from_env, fmt::format("${}", k_config_env_var));
    }
    struct stat st {};
    if (::stat(search.system_path.c_str(), &st) == 0) return load_file(search.system_path, {});
    if (errno != ENOENT && errno != ENOTDIR) {
        return fail(ExitCode::config,
                    fmt::format("cannot open {}: {}", search.system_path.string(), std::strerror(errno)));
    }
    return Config::defaults();
}

Result<Config> load_config_file(const std::filesystem::path& path) {
    return load_file(path, {});
}

Result<Config> parse_config(std::string_view text, std::string_view source_name) {
    return check_text(text, std::string(source_name), std::filesystem::path(source_name), std::nullopt);
}

// ConfigTable

std::string ConfigTable::qualified(std::string_view key) const {
    return fmt::format("{}.{}", m_name, key);
}

const ConfigTable::Slot& ConfigTable::slot(std::string_view key, std::initializer_list<ValueType> accepted,
                                           std::string_view getter) const {
    const auto* spec = find_key_spec(m_specs, key);
    if (spec == nullptr) throw std::logic_error(fmt::format("config key '{}' is not in the schema", qualified(key)));
    if (accepted.size() != 0 && std::ranges::find(accepted, spec->type) == accepted.end()) {
        throw std::logic_error(fmt::format("config key '{}' is {}: {} cannot read it", qualified(key),
                                           value_type_name(spec->type), getter));
    }
    return m_slots[static_cast<std::size_t>(spec - m_specs.data())];
}

const SourcePosition& ConfigTable::position(std::string_view key) const {
    return slot(key, {}, "position").position;
}

bool ConfigTable::is_set(std::string_view key) const {
    return slot(key, {}, "is_set").from_file;
}

namespace {

template <class T>
std::optional<T> optional_of(const detail::ConfigValue& value) {
    if (std::holds_alternative<std::monostate>(value)) return std::nullopt;
    return std::get<T>(value);
}

template <class T>
T required_of(const detail::ConfigValue& value, const std::string& qualified, std::string_view optional_getter) {
    if (std::holds_alternative<std::monostate>(value)) {
        throw std::logic_error(
            fmt::format("config key '{}' has no default and is not set: read it with {}", qualified, optional_getter));
    }
    return std::get<T>(value);
}

}  // namespace

const std::string& ConfigTable::get_string(std::string_view key) const {
    return std::get<std::string>(slot(key, {ValueType::string, ValueType::path}, "get_string").value);
}

std::filesystem::path ConfigTable::get_path(std::string_view key) const {
    return std::get<std::string>(slot(key, {ValueType::path, ValueType::string}, "get_path").value);
}

bool ConfigTable::get_bool(std::string_view key) const {
    return required_of<bool>(slot(key, {ValueType::boolean}, "get_bool").value, qualified(key), "is_set");
}

std::int64_t ConfigTable::get_int(std::string_view key) const {
    return required_of<std::int64_t>(slot(key, {ValueType::integer}, "get_int").value, qualified(key), "is_set");
}

double ConfigTable::get_ratio(std::string_view key) const {
    return required_of<double>(slot(key, {ValueType::ratio}, "get_ratio").value, qualified(key), "is_set");
}

Duration ConfigTable::get_duration(std::string_view key) const {
    return required_of<Duration>(slot(key, {ValueType::duration}, "get_duration").value, qualified(key),
                                 "get_optional_duration");
}

std::optional<Duration> ConfigTable::get_optional_duration(std::string_view key) const {
    return optional_of<Duration>(slot(key, {ValueType::duration}, "get_optional_duration").value);
}

std::uint64_t ConfigTable::get_size(std::string_view key) const {
    return required_of<std::uint64_t>(slot(key, {ValueType::size}, "get_size").value, qualified(key),
                                      "get_optional_size");
}

std::optional<std::uint64_t> ConfigTable::get_optional_size(std::string_view key) const {
    return optional_of<std::uint64_t>(slot(key, {ValueType::size}, "get_optional_size").value);
}

std::uint64_t ConfigTable::get_rate(std::string_view key) const {
    return required_of<std::uint64_t>(slot(key, {ValueType::rate}, "get_rate").value, qualified(key),
                                      "get_optional_rate");
}

std::optional<std::uint64_t> ConfigTable::get_optional_rate(std::string_view key) const {
    return optional_of<std::uint64_t>(slot(key, {ValueType::rate}, "get_optional_rate").value);
}

std::optional<std::string> ConfigTable::get_optional_rate_timetable(std::string_view key) const {
    return optional_of<std::string>(slot(key, {ValueType::rate_timetable}, "get_optional_rate_timetable").value);
}

const std::vector<std::string>& ConfigTable::get_string_list(std::string_view key) const {
    return std::get<std::vector<std::string>>(
        slot(key, {ValueType::string_list, ValueType::path_list}, "get_string_list").value);
}

const StringMap& ConfigTable::get_string_map(std::string_view key) const {
    return std::get<StringMap>(slot(key, {ValueType::string_map}, "get_string_map").value);
}

std::span<const ConfigTable> ConfigTable::get_entries(std::string_view key) const {
    return std::get<std::vector<ConfigTable>>(slot(key, {ValueType::table_list}, "get_entries").value);
}

Error ConfigTable::error_at(std::string_view key, std::string_view message) const {
    const auto& s = slot(key, {}, "error_at");
    const auto& where = s.from_file ? s.position : m_position;
    return Error{fmt::format("{}{}: {}", location_prefix(where), qualified(key), message), ExitCode::config};
}

}  // namespace nasops
