#pragma once

// The verify comparison, in one place for both verifies: the one that ends
// each upload (worker.cpp) and `nasops-sync verify` (verify_command.cpp). A
// copy on the target is the file uploaded when a regular file is there with
// the file's size and, where the target hashed it, the file's SHA-256.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "options.hpp"
#include "target.hpp"

namespace nasops::sync {

struct CopyProblem {
    std::string what;    // "missing", "size" or "sha256"
    std::string detail;  // what is wrong, naming the copy's location
};

// What the target said of a copy: its metadata, or its SHA-256 (nullopt: no such file).
using CopyEvidence = std::variant<TargetEntry, std::optional<std::string>>;

// What is wrong with the copy at `location`, as `evidence` shows it, of a
// file of `size` bytes and SHA-256 `sha256` (lower-case hex); nullopt when
// the copy is good.
std::optional<CopyProblem> check_copy(const CopyEvidence& evidence, std::string_view location, std::uint64_t size,
                                      std::string_view sha256);

// Why copies checked under `verify` on `target` were not hashed: the option
// the operator chose (--verify size or none), or what the target answered
// when asked to compute SHA-256. Stored with each such copy (verify_reason).
std::string size_only_reason(Verify verify, const Target& target);

}  // namespace nasops::sync
