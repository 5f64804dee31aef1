#pragma once

// The work of `nasops-sync run`, above the Queue and the Target interface,
// with the clock, the targets and the outputs injected so that tests drive it
// without a network or real waiting.
//
// A run: rows left in `transferring` are recovered, the sources are scanned
// into the queue (scan_into_queue), then `jobs` workers (worker), each with
// its own Target, upload the eligible files. Each file is read once, in 1 MiB
// chunks, hashed (SHA-256) in the same pass, written under a temporary name
// in its destination folder, closed (and fsynced where the target can),
// verified in batches, and only then renamed to its final name and marked
// completed. `run --dry-run` is plan.hpp; `nasops-sync verify` is
// verify_command.hpp.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/record/record.hpp"
#include "nasops/util/clock.hpp"
#include "options.hpp"
#include "queue.hpp"
#include "scanner.hpp"
#include "target.hpp"

namespace nasops {
class Span;
}

namespace nasops::sync {

struct RunOptions {
    std::vector<std::filesystem::path> sources;
    Filter filter;
    Verify verify = Verify::automatic;
    RemoveSource remove_source = RemoveSource::no;
    DeleteEmptySrcDirs delete_empty_src_dirs = DeleteEmptySrcDirs::no;
    Duration min_age = std::chrono::seconds(30);  // an empty folder is removed once unchanged this long
    int jobs = 4;
    std::optional<RateTimetable> bwlimit;    // all workers together, by local time of day
    std::optional<Duration> max_duration;    // no file is started, and uploads stop, after this long
    std::optional<std::uint64_t> max_bytes;  // no file is started once this much has been sent
    std::size_t verify_batch = 256;          // files verified together (one remote sha256sum)
    // The database is new (the old one was lost): the files the scan finds are
    // looked for on the target first, and those it has already are adopted.
    Adopt adopt = Adopt::no;
};

// What the run reports to. Everything is optional.
struct RunOutputs {
    RecordWriter* records = nullptr;  // one transfer record per state change
    bool progress = false;            // a progress line on stderr
    // Set (by a SIGINT handler) to stop: uploads in flight are abandoned, resumable.
    const std::atomic<int>* interrupted = nullptr;  // non-zero: a stop signal came
    // The run's span (active under TRACEPARENT): the scan, each connection,
    // each batch of small files, each large file and each verify are its children.
    const Span* trace = nullptr;
};

struct RunSummary {
    std::uint64_t recovered = 0;       // rows found in `transferring` and recovered
    std::uint64_t scanned = 0;         // files the scan took
    std::uint64_t added = 0;           // new files queued
    std::uint64_t changed = 0;         // known files queued again because they changed
    std::uint64_t conflicts = 0;       // files whose relative path another source holds
    std::uint64_t source_errors = 0;   // sources or entries that could not be read
    std::uint64_t uploaded = 0;        // files completed in this run
    std::uint64_t adopted = 0;         // files completed without sending: the target had them (Adopt::yes)
    std::uint64_t bytes_sent = 0;      // bytes written to the target in this run
    std::uint64_t bytes_uploaded = 0;  // sizes of the completed files
    std::uint64_t failed_attempts = 0;
    std::uint64_t gave_up = 0;          // files that became `failed`
    std::uint64_t held_no_space = 0;    // files left pending for lack of room on the target
    std::uint64_t removed = 0;          // local files removed (--remove-source)
    std::uint64_t folders_removed = 0;  // empty source folders removed (--delete-empty-src-dirs)
    std::uint64_t waiting = 0;          // pending files not yet stable or in backoff
    std::uint64_t left_pending = 0;     // eligible files not started (limits, stop, NAS gone)
    bool target_unavailable = false;
    std::string unavailable_error;
    bool interrupted = false;
    std::optional<std::string> stopped_by;  // "max-duration" or "max-bytes"
    double seconds = 0;

    // 130 interrupted; 69 the target went away; 73 files held for lack of
    // room; 74 failed attempts; 66 a source could not be read; else 0.
    ExitCode exit_code() const noexcept;
};

// `make_target` with each connection in a `sync connect` span under `parent`
// (when there is one and it is active); `make_target` must outlive it.
TargetFactory traced_connect(const TargetFactory& make_target, const Span* parent);

// Scans and uploads. Errors are only those that stop the run as a whole (the
// database failing); everything about one file is in the summary and the queue.
Result<RunSummary> run_sync(const RunOptions& options, Queue& queue, const Clock& clock,
                            const TargetFactory& make_target, const RunOutputs& outputs);

}  // namespace nasops::sync
