#include "nasops/ssh/df_output.hpp"

#include <charconv>
#include <vector>

namespace nasops {

std::optional<FsStat> parse_df_output(std::string_view text) {
    const auto first_nl = text.find('\n');
    if (first_nl == std::string_view::npos) return std::nullopt;
    auto line = text.substr(first_nl + 1);
    line = line.substr(0, line.find('\n'));
    std::vector<std::string_view> words;
    std::size_t pos = 0;
    while (pos < line.size()) {
        while (pos < line.size() && line[pos] == ' ') ++pos;
        const auto end = line.find(' ', pos);
        if (pos < line.size()) words.push_back(line.substr(pos, end == std::string_view::npos ? end : end - pos));
        pos = end == std::string_view::npos ? line.size() : end;
    }
    auto number = [](std::string_view s) -> std::optional<std::uint64_t> {
        std::uint64_t v = 0;
        const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
        return v;
    };
    // The capacity ("67%") follows the three numbers; device and mount point may both hold spaces.
    for (std::size_t i = 3; i < words.size(); ++i) {
        if (!words[i].ends_with('%')) continue;
        const auto blocks = number(words[i - 3]);
        const auto used = number(words[i - 2]);
        const auto available = number(words[i - 1]);
        if (!blocks || !used || !available) continue;
        FsStat st;
        st.total_bytes = *blocks * 1024;
        st.available_bytes = *available * 1024;
        st.free_bytes = st.total_bytes >= *used * 1024 ? st.total_bytes - *used * 1024 : 0;
        return st;
    }
    return std::nullopt;
}

}  // namespace nasops
