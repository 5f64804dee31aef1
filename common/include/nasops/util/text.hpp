#pragma once

// Small text helpers every module uses, once: trimming, ASCII case, and the
// "did you mean" that config keys, metric names and every other name a user
// types are checked with (as ninja's edit_distance.{h,cc} serves all its
// suggestions).

#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace nasops {

// `text` without leading and trailing ASCII whitespace (space, \t, \n, \v, \f, \r).
std::string_view trim(std::string_view text) noexcept;

// `text` with A-Z turned into a-z; other bytes (UTF-8 included) unchanged, whatever the locale.
std::string lower(std::string_view text);

// Whether `a` and `b` are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b) noexcept;

// Optimal string alignment distance, ignoring ASCII case: insertions,
// deletions, substitutions and transpositions of two neighbours cost 1 each,
// so "job" -> "jobs" and "mni_age" -> "min_age" are both 1.
std::size_t edit_distance(std::string_view a, std::string_view b);

// Whether `candidate` is within the edit distance a typo of it may have:
// a third of its length, at least 1 and at most 3.
bool near_enough(std::size_t distance, std::string_view candidate) noexcept;

// The candidate closest to `word` (the first of equals) when it is near
// enough to be a likely typo, else nullopt. `name_of` turns an element of
// `candidates` into its name.
template <class Range, class Proj = std::identity>
std::optional<std::string_view> did_you_mean(std::string_view word, const Range& candidates, Proj name_of = {}) {
    std::optional<std::string_view> best;
    std::size_t best_distance = std::numeric_limits<std::size_t>::max();
    for (const auto& candidate : candidates) {
        const std::string_view name = std::invoke(name_of, candidate);
        const auto distance = edit_distance(word, name);
        if (near_enough(distance, name) && distance < best_distance) {
            best = name;
            best_distance = distance;
        }
    }
    return best;
}

}  // namespace nasops
