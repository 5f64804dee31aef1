#pragma once

// `nasops-sync verify`: the completed files checked again on the target.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nasops/core/error.hpp"
#include "options.hpp"
#include "queue.hpp"
#include "target.hpp"

namespace nasops::sync {

// `nasops-sync verify`: checks every completed file on the target: it
// exists, has its size, and (where the target can hash, unless `verify` is
// size) has its SHA-256.
struct VerifyProblem {
    FileRow row;
    std::string what;  // "missing", "size", "sha256"
    std::string detail;
    bool requeued = false;  // the local file is still there: queued for upload again
};

struct VerifySummary {
    std::uint64_t checked = 0;
    std::uint64_t ok = 0;
    std::uint64_t hashed = 0;  // checked by SHA-256, not only by size
    std::vector<VerifyProblem> problems;
};

// Without DryRun::yes, a bad copy whose local file still exists (same
// version) is queued again; one whose local file is gone stays completed
// and is reported. A good copy whose upload was not verified (--verify none)
// or recorded no verify (completed before schema v3) is recorded verified
// now, by "sha256" or "size": --remove-source may then remove its local file.
Result<VerifySummary> verify_completed(Queue& queue, Target& target, Verify verify, DryRun dry_run,
                                       std::size_t batch = 256);

}  // namespace nasops::sync
