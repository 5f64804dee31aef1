// nasops.toml as every tool loads it. A refusal says what and where; an
// accepted file holds, for every key of the schema and of every entry of its
// arrays of tables, a value of the key's type (a timetable that parses).

#include <span>

#include "fuzz_check.hpp"
#include "nasops/core/config.hpp"
#include "nasops/core/config_schema.hpp"
#include "nasops/util/rate_timetable.hpp"

namespace {

void read_every_key(const nasops::ConfigTable& table, std::span<const nasops::KeySpec> keys) {
    using nasops::ValueType;
    for (const auto& key : keys) {
        switch (key.type) {
            case ValueType::string:
            case ValueType::path: static_cast<void>(table.get_string(key.name)); break;
            case ValueType::boolean: static_cast<void>(table.get_bool(key.name)); break;
            case ValueType::integer: {
                if (!table.is_set(key.name) && key.default_value.empty()) break;
                const auto value = table.get_int(key.name);
                FUZZ_CHECK(value >= key.min && value <= key.max);
                break;
            }
            case ValueType::duration: static_cast<void>(table.get_optional_duration(key.name)); break;
            case ValueType::size: static_cast<void>(table.get_optional_size(key.name)); break;
            case ValueType::rate: static_cast<void>(table.get_optional_rate(key.name)); break;
            case ValueType::rate_timetable:
                if (const auto text = table.get_optional_rate_timetable(key.name))
                    FUZZ_CHECK(nasops::RateTimetable::parse(*text).has_value());
                break;
            case ValueType::ratio: {
                if (!table.is_set(key.name) && key.default_value.empty()) break;
                const auto value = table.get_ratio(key.name);
                FUZZ_CHECK(value >= 0 && value <= 1);
                break;
            }
            case ValueType::string_list:
            case ValueType::path_list: static_cast<void>(table.get_string_list(key.name)); break;
            case ValueType::string_map: static_cast<void>(table.get_string_map(key.name)); break;
            case ValueType::table_list:
                for (const auto& entry : table.get_entries(key.name)) read_every_key(entry, key.fields);
                break;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto config = nasops::parse_config(nasops::fuzz::as_text(data, size), "nasops.toml");
    if (!config) {
        FUZZ_CHECK(!config.error().message.empty());
        return 0;
    }
    for (const auto& section : nasops::config_schema()) read_every_key(config->section(section.name), section.keys);
    return 0;
}
