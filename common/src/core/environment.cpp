#include "nasops/core/environment.hpp"

#include <cstdlib>
#include <utility>

#include "nasops/util/text.hpp"

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

bool locale_is_utf8(const EnvLookup& env) {
    for (const auto* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
        const auto value = non_empty_env(env, name);
        if (!value) continue;
        // "en_US.UTF-8", "C.UTF-8", "de_DE.utf8@euro": the codeset follows the dot.
        const auto dot = value->find('.');
        if (dot == std::string::npos) return false;
        const auto codeset = lower(value->substr(dot + 1, value->find('@', dot) - dot - 1));
        return codeset == "utf-8" || codeset == "utf8";
    }
    return false;
}

}  // namespace nasops
