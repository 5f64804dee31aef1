#pragma once

// `purge`: delete rows past their retention, as each tool declared them in
// the common purge_declarations table (store.hpp), with [dbmaint.retention]
// overriding a declaration's default retention. Deletes in batches, one
// short transaction each with a pause between, so that a concurrent writer
// (nasops-sync run) waits for the write lock about one batch at most. A
// waiting writer polls (SQLite's busy handler) at growing intervals: 25 ms
// apart after 33 ms of waiting, 50 ms after 128 ms. So a batch is kept short
// and the pause after it is long enough for the writer's next poll to fall
// inside it (`pause`, or half the batch's time when that is longer).
//
// How many rows fit in `target` depends on the rows, the indexes, the disk
// and the machine's load: the first batch is small (`first_batch`) and each
// next one is sized from the rate the last one ran at, growing at most
// twofold, never over `batch`. (A first batch of the full 5,000 rows of 1 KiB
// wrote 5,120 pages to the WAL and held the lock 0.5-0.8 s on a loaded host.)
// The purge's commits do not fsync the WAL (synchronous = NORMAL), so no
// fsync is made while the lock is held: a power cut may only undo the last
// batches, which the next purge deletes again. After each batch the purge
// checkpoints the WAL itself (PASSIVE: it blocks no one), so that a writer
// whose commit runs SQLite's auto-checkpoint finds little left to copy. When
// the writer's commit does come first, it copies the pages of one batch and
// fsyncs them inside its COMMIT: so a batch is also kept under
// `max_wal_frames` pages. Measured with bench/dbmaint.sh on 1,000,000 rows
// of 1 KiB: batches bounded by time alone (about 1,000 pages) let a writer's
// COMMIT take 127 ms; 500 pages, 19 ms, the purge taking 60 s instead of 24.

#include <SQLiteCpp/Database.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "nasops/util/clock.hpp"
#include "nasops/util/units.hpp"
#include "step.hpp"

namespace nasops::dbmaint {

struct PurgeDeclaration {
    std::string table;
    std::string component;
    std::string time_column;
    std::string keep_condition;  // SQL, true for rows never purged
    Duration retention{0};
    bool overridden = false;  // by [dbmaint.retention]
};

using RetentionOverrides = std::map<std::string, Duration, std::less<>>;

// The declarations in `db` with the overrides applied; none when the table
// does not exist yet. An override for a table nobody declares is a config
// error (ExitCode::config) naming it; a declaration whose retention does not
// parse is data_error.
Result<std::vector<PurgeDeclaration>> read_declarations(SQLite::Database& db, const std::filesystem::path& path,
                                                        const RetentionOverrides& overrides);

struct PurgeOptions {
    int batch = 5000;                      // rows per transaction, at most
    int first_batch = 250;                 // rows of the first transaction (at most `batch`)
    std::chrono::milliseconds target{20};  // the longest a batch should hold the write lock
    std::chrono::milliseconds pause{25};   // between two batches, at least
    int max_wal_frames = 500;              // pages one batch may leave in the WAL
    SystemTimePoint now;
    bool dry_run = false;
};

// The rows of the next batch after one of `size` rows took `took` and left
// `wal_frames` pages in the WAL (0: not known): as many as the last one's
// rate fits in options.target and its pages in options.max_wal_frames, at
// most twice `size` and options.batch, at least k_min_batch (or
// options.batch when smaller).
inline constexpr int k_min_batch = 50;
int next_batch_size(int size, std::chrono::microseconds took, const PurgeOptions& options, int wal_frames = 0);

// details.tables holds rows deleted (or, dry run, to delete) per table; rows the total.
Result<StepReport> purge_database(const std::filesystem::path& database, const RetentionOverrides& overrides,
                                  const PurgeOptions& options);

}  // namespace nasops::dbmaint
