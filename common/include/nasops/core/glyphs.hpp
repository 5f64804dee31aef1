#pragma once

// The characters of terminal text that need UTF-8, each with the plain-ASCII
// stand-in that a C, POSIX or latin-1 locale (cron's usual environment, an
// old serial console) shows instead of mojibake. Chosen once per run.

#include <array>
#include <cstddef>
#include <string_view>

#include "nasops/core/environment.hpp"

namespace nasops {

struct Glyphs {
    std::array<std::string_view, 8> levels;  // a sparkline's eight heights, lowest first
    std::string_view blank;                  // a sparkline's gap (no data)
    std::string_view range_dash;             // between the two ends of a range: "3–5 days"
    std::string_view ok;                     // status marks
    std::string_view warning;
    std::string_view critical;

    // levels[min(level, 7)].
    std::string_view level(std::size_t level) const noexcept;
};

const Glyphs& unicode_glyphs();
const Glyphs& ascii_glyphs();
// unicode_glyphs() when the locale of `env` is UTF-8 (locale_is_utf8), else ascii_glyphs().
const Glyphs& glyphs_for(const EnvLookup& env);

}  // namespace nasops
