#include "nasops/util/text.hpp"

#include <algorithm>
#include <vector>

namespace nasops {

namespace {

constexpr std::string_view k_space = " \t\n\v\f\r";

constexpr char lower_char(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::string_view trim(std::string_view text) noexcept {
    const auto first = text.find_first_not_of(k_space);
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(k_space);
    return text.substr(first, last - first + 1);
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::ranges::transform(out, out.begin(), lower_char);
    return out;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return std::ranges::equal(a, b, [](char x, char y) { return lower_char(x) == lower_char(y); });
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    auto same = [](char x, char y) { return lower_char(x) == lower_char(y); };
    const std::size_t cols = b.size() + 1;
    std::vector<std::size_t> d((a.size() + 1) * cols);
    auto at = [&](std::size_t i, std::size_t j) -> std::size_t& { return d[i * cols + j]; };
    for (std::size_t i = 0; i <= a.size(); ++i) at(i, 0) = i;
    for (std::size_t j = 0; j <= b.size(); ++j) at(0, j) = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = same(a[i - 1], b[j - 1]) ? 0 : 1;
            at(i, j) = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
            if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1])) {
                at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
            }
        }
    }
    return at(a.size(), b.size());
}

bool near_enough(std::size_t distance, std::string_view candidate) noexcept {
    return distance <= std::clamp<std::size_t>(candidate.size() / 3, 1, 3);
}

}  // namespace nasops
