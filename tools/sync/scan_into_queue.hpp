#pragma once

// The scan of a run: every source is walked (scanner) and each file is
// registered in the queue, in batched transactions; new and changed files
// are reported (a transfer record "pending", an audit line) and conflicts
// logged.

#include <cstdint>
#include <functional>

#include "engine.hpp"
#include "nasops/core/error.hpp"
#include "queue.hpp"
#include "run_state.hpp"

namespace nasops::sync {

struct ScanCounts {
    std::uint64_t scanned = 0, added = 0, changed = 0, conflicts = 0, errors = 0;
};

// Registers the files of every source in the queue. `found_work` is called
// when a file is added or changed that this run may upload at once.
Result<ScanCounts> scan_into_queue(const RunOptions& options, Queue& queue, Reporter& reporter,
                                   const std::function<void()>& found_work);

}  // namespace nasops::sync
