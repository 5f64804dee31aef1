#include "nasops/core/environment.hpp"

#include <cstdlib>
#include <utility>

namespace nasops {

EnvLookup process_environment() {
    return [](std::string_view name) -> std::optional<std::string> {
        const char* value = std::getenv(std::string(name).c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    };
}

EnvLookup fixed_environment(std::map<std::string, std::string, std::less<>> vars) {
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        const auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

std::optional<std::string> non_empty_env(const EnvLookup& env, std::string_view name) {
    auto value = env(name);
    if (!value || value->empty()) return std::nullopt;
    return value;
}

}  // namespace nasops
