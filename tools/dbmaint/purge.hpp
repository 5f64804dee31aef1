#pragma once

// `purge`: delete rows past their retention, as each tool declared them in
// the common purge_declarations table (store.hpp), with [dbmaint.retention]
// overriding a declaration's default retention. Deletes in batches, one
// short transaction each with a pause between, so that a concurrent writer
// (nasops-sync run) waits for the write lock about one batch at most. A
// waiting writer polls (SQLite's busy handler) at growing intervals: 25 ms
// apart after 33 ms of waiting, 50 ms after 128 ms. So a batch is kept short
// (at most `batch` rows, halved while one takes longer than `target`) and the
// pause after it is long enough for the writer's next poll to fall inside it
// (`pause`, or half the batch's time when that is longer).

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
    std::chrono::milliseconds target{20};  // the longest a batch should hold the write lock
    std::chrono::milliseconds pause{25};   // between two batches, at least
    SystemTimePoint now;
    bool dry_run = false;
};

// details.tables holds rows deleted (or, dry run, to delete) per table; rows the total.
Result<StepReport> purge_database(const std::filesystem::path& database, const RetentionOverrides& overrides,
                                  const PurgeOptions& options);

}  // namespace nasops::dbmaint
