#pragma once

// One upload worker of a run, on a thread of its own with its own Target
// (one SSH session): takes eligible rows from the run until none is left or
// the run stops, and for each file: checks that it fits, marks it
// transferring, reads it once (hashing it in the same pass) and writes it
// under a temporary name (small files whole, in pipelined batches; large
// ones streamed, resumed where a partial copy is left), sets its mtime,
// verifies a batch at a time (the target hashes one batch while the next
// uploads), renames the good copies to their final names, and records every
// outcome in the queue.

#include <memory>

#include "run_state.hpp"
#include "target.hpp"

namespace nasops::sync {

// `target`: a connection made already (the first worker's), else the worker
// makes one with `make_target`.
void run_worker(RunState& run, const TargetFactory& make_target, std::unique_ptr<Target> target);

}  // namespace nasops::sync
