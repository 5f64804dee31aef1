#include "copy_check.hpp"

#include <fmt/format.h>

#include "nasops/util/text.hpp"

namespace nasops::sync {

namespace {

std::optional<CopyProblem> missing(std::string_view location) {
    return CopyProblem{"missing", fmt::format("{} is missing", location)};
}

}  // namespace

std::optional<CopyProblem> check_copy(const CopyEvidence& evidence, std::string_view location, std::uint64_t size,
                                      std::string_view sha256) {
    if (const auto* entry = std::get_if<TargetEntry>(&evidence)) {
        if (!entry->exists || !entry->is_regular) return missing(location);
        if (entry->size != size)
            return CopyProblem{"size",
                               fmt::format("{} has {} bytes, the local file had {}", location, entry->size, size)};
        return std::nullopt;
    }
    const auto& digest = std::get<std::optional<std::string>>(evidence);
    if (!digest) return missing(location);
    const std::string seen = lower(*digest);  // sha256sum prints lower case; another tool may not
    if (seen != sha256)
        return CopyProblem{"sha256", fmt::format("{} has SHA-256 {}, the local file had {}", location, seen, sha256)};
    return std::nullopt;
}

std::string size_only_reason(Verify verify, const Target& target) {
    if (verify == Verify::size || verify == Verify::none) return fmt::format("--verify {}", verify_name(verify));
    return target.no_hash_reason();
}

}  // namespace nasops::sync
