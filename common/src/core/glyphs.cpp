#include "nasops/core/glyphs.hpp"

#include <algorithm>

namespace nasops {

std::string_view Glyphs::level(std::size_t level) const noexcept {
    return levels[std::min<std::size_t>(level, levels.size() - 1)];
}

const Glyphs& unicode_glyphs() {
    static constexpr Glyphs k_unicode{
        .levels = {"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"},  // ▁..█
        .blank = " ",
        .range_dash = "\u2013",  // –
        .ok = "\u2713",          // ✓
        .warning = "\u26a0",     // ⚠
        .critical = "\u2717",    // ✗
    };
    return k_unicode;
}

const Glyphs& ascii_glyphs() {
    static constexpr Glyphs k_ascii{
        .levels = {"_", ".", "-", ":", "=", "+", "*", "#"},
        .blank = " ",
        .range_dash = "-",
        .ok = "+",
        .warning = "!",
        .critical = "x",
    };
    return k_ascii;
}

const Glyphs& glyphs_for(const EnvLookup& env) {
    return locale_is_utf8(env) ? unicode_glyphs() : ascii_glyphs();
}

}  // namespace nasops
