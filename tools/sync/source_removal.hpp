#pragma once

// --remove-source, in one place for the files a run completes and for those
// completed by earlier runs (as rclone move does): a local file is removed
// only when its row is completed, its copy was verified (verified_by "sha256"
// or "size", never "none" nor unknown), and the file on disk is still the
// version uploaded (same size, mtime and inode, checked just before the
// unlink). A file that changed since is left, and its next scan queues it
// again; one still being written has changed by definition.

#include <cstdint>
#include <functional>
#include <span>

#include "nasops/core/error.hpp"
#include "nasops/core/log.hpp"
#include "queue.hpp"
#include "scanner.hpp"

namespace nasops::sync {

struct RunOptions;

// Whether `row`'s local file may be removed once it is found unchanged:
// completed, verified, not removed yet.
bool removable(const FileRow& row) noexcept;

// Removes the local files of `rows` that are removable() and unchanged,
// records them as removed in one transaction, and logs and audits each
// removal (FILE_REMOVED). A file not found is left unmarked: its source may
// be an unmounted card that comes back. Returns how many files were removed;
// an Error is the database's only.
Result<std::uint64_t> remove_local_copies(std::span<const FileRow> rows, SourceFiles& files, Queue& queue,
                                          LogBatch& log);

// The same for every removable row of the run's sources that its filter
// takes: files completed by earlier runs, including those uploaded before
// --remove-source was turned on.
Result<std::uint64_t> remove_completed_sources(const RunOptions& options, Queue& queue);

// Those rows, a page at a time (for remove_completed_sources and run --dry-run).
Result<void> for_each_removable_page(const RunOptions& options, Queue& queue,
                                     const std::function<Result<void>(std::span<const FileRow>)>& visit);

}  // namespace nasops::sync
