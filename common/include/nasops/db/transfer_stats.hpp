#pragma once

// The transfer figures of the sync database, read once for everyone who
// reports them: `nasops-sync status`, nasops-health's transfer check,
// nasops-capacity's media counts and transfer-load forecast (and the metrics a
// fleet exports). The tables are nasops-sync's (media_files, one row
// per file, and sync_attempts, one row per finished upload attempt); the
// timestamps in them are RFC 3339 UTC text with milliseconds, so text order
// is time order.

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/util/clock.hpp"
#include "nasops/util/units.hpp"

namespace nasops {

// The queue as it stands.
struct TransferQueue {
    std::uint64_t pending = 0;  // waiting for an upload (a retry in backoff included)
    std::uint64_t transferring = 0;
    std::uint64_t completed = 0;
    std::uint64_t failed = 0;
    std::uint64_t bytes_queued = 0;     // sizes of the pending and transferring files (0 without a size column)
    std::uint64_t bytes_completed = 0;  // sizes of the completed files (0 without a size column)
    std::optional<Duration> oldest_pending_age;  // since the oldest pending file was discovered
    std::optional<std::string> last_success;     // when the latest upload completed (RFC 3339)
    // The completed files by how their copy was verified: "sha256", "size",
    // "none", or "unknown" (completed before the method was recorded).
    std::map<std::string, std::uint64_t> completed_by_verify;

    // Files waiting for or in transfer.
    std::uint64_t queued() const noexcept { return pending + transferring; }
};

// The uploads that finished within a window. Counted per attempt from
// sync_attempts, so a failure retried later still counts; a database without
// that table has only media_files' final states, one per file.
struct TransferWindow {
    bool per_attempt = true;
    std::uint64_t completed = 0;
    std::uint64_t failed = 0;
    std::uint64_t bytes = 0;                // sent by the completed ones that took time
    double seconds = 0;                     // the time they took
    std::optional<double> average_seconds;  // of the completed ones; nullopt without any
    std::uint64_t bytes_completed = 0;      // sent by all the completed ones

    // completed / (completed + failed); nullopt when nothing finished.
    std::optional<double> success_ratio() const noexcept;
    // bytes / seconds; nullopt when no completed upload took time.
    std::optional<double> bytes_per_second() const noexcept;
};

// The media_files columns the queries below read that `db` lacks; nullopt
// when it has no media_files table at all (nasops-sync never ran).
std::optional<std::vector<std::string>> missing_transfer_columns(SQLite::Database& db);

// Whether `db` has a media_files table with every column the queries below
// read: false for a database nasops-sync never wrote to.
Result<bool> has_transfer_tables(SQLite::Database& db);

// The queue at `now`. SQLite failures are Errors naming the database.
Result<TransferQueue> read_transfer_queue(SQLite::Database& db, SystemTimePoint now);

// The uploads finished at or after `since` (and before `until`, when given).
Result<TransferWindow> read_transfer_window(SQLite::Database& db, SystemTimePoint since,
                                            std::optional<SystemTimePoint> until = std::nullopt);

// One completed upload: per attempt from sync_attempts, else (a database
// without that table) per file from media_files, as TransferWindow counts them.
struct CompletedUpload {
    SystemTimePoint finished;
    std::uint64_t bytes = 0;
    double seconds = 0;
};

// The uploads completed at or after `since` and before `until`, oldest first.
Result<std::vector<CompletedUpload>> read_completed_uploads(SQLite::Database& db, SystemTimePoint since,
                                                            SystemTimePoint until);

}  // namespace nasops
