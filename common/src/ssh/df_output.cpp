#include "nasops/ssh/df_output.hpp"

#include <charconv>
#include <limits>
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
    // A count of 1024-byte blocks, in bytes; nullopt for what is not one, or
    // does not fit in 64 bits once in bytes (a server's garbage, not a disk).
    auto kib = [](std::string_view s) -> std::optional<std::uint64_t> {
        std::uint64_t v = 0;
        const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
        if (v > std::numeric_limits<std::uint64_t>::max() / 1024) return std::nullopt;
        return v * 1024;
    };
    // The capacity ("67%") follows the three numbers; device and mount point may both hold spaces.
    for (std::size_t i = 3; i < words.size(); ++i) {
        if (!words[i].ends_with('%')) continue;
        const auto total = kib(words[i - 3]);
        const auto used = kib(words[i - 2]);
        const auto available = kib(words[i - 1]);
        if (!total || !used || !available) continue;
        FsStat st;
        st.total_bytes = *total;
        st.available_bytes = *available;
        st.free_bytes = *total >= *used ? *total - *used : 0;
        return st;
    }
    return std::nullopt;
}

}  // namespace nasops
