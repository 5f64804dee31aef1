#pragma once

// `nasops-sync run --dry-run`: what a run would do, changing nothing.

#include <cstdint>
#include <functional>
#include <string>

#include "engine.hpp"
#include "nasops/core/error.hpp"
#include "nasops/util/clock.hpp"
#include "queue.hpp"

namespace nasops::sync {

// One line of `run --dry-run`: what a run would do with a file.
struct PlannedFile {
    std::string source;
    std::string rel_path;
    std::uint64_t size = 0;
    enum class Action { upload, wait, queue_new, remove } action = Action::upload;
    bool known = false;       // the queue knows the file already
    std::string verified_by;  // remove: how its copy was verified
};

struct DryRunSummary {
    std::uint64_t would_queue = 0;   // new or changed files
    std::uint64_t would_upload = 0;  // files eligible now
    std::uint64_t upload_bytes = 0;
    std::uint64_t would_wait = 0;    // not stable yet, or in backoff
    std::uint64_t would_remove = 0;  // --remove-source: local copies of earlier uploads
    std::uint64_t source_errors = 0;
};

// What run_sync would do, changing nothing: scans the sources and compares
// with the queue (when `queue` is null, as if it were empty). Every file a run
// would queue or upload is passed to `visit`; with --remove-source, first
// every local copy it would remove before its scan (remove_completed_sources).
Result<DryRunSummary> plan_sync(const RunOptions& options, Queue* queue, const QueuePolicy& policy, const Clock& clock,
                                const std::function<void(const PlannedFile&)>& visit);

}  // namespace nasops::sync
