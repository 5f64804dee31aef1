#pragma once

// Environment variables as an injectable lookup, so that code reading
// $NASOPS_CONFIG, $HOME or $XDG_STATE_HOME can be tested without touching the
// process environment.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace nasops {

// Returns the variable's value, or nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Reads the real process environment (getenv).
EnvLookup process_environment();

// An environment holding exactly `vars`, for tests.
EnvLookup fixed_environment(std::map<std::string, std::string, std::less<>> vars);

// The value of `name`, or nullopt when it is unset or empty: an empty
// $XDG_STATE_HOME or $NASOPS_CONFIG means "not set" by convention.
std::optional<std::string> non_empty_env(const EnvLookup& env, std::string_view name);

// Whether the locale's character set is UTF-8, decided as setlocale(3) would
// (the first non-empty of LC_ALL, LC_CTYPE, LANG) without changing the
// process's locale: "C", "POSIX", unset (cron's usual environment) and
// latin-1 locales are not, so text meant for them stays ASCII.
bool locale_is_utf8(const EnvLookup& env);

}  // namespace nasops
