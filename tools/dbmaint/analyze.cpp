#include "analyze.hpp"

#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>

#include "database.hpp"
#include "nasops/util/units.hpp"

namespace nasops::dbmaint {

namespace fs = std::filesystem;

Result<StepReport> analyze_database(const fs::path& database, bool dry_run) {
    StepTimer timer;
    TRY_ASSIGN(auto db, open_database(database, Access::read_write));
    StepReport report{.step = "analyze", .path = database.string()};
    report.bytes_before = file_bytes(database) + file_bytes(wal_path(database));
    if (dry_run) {
        report.message = fmt::format("would run ANALYZE and PRAGMA optimize on {}", database.string());
    } else {
        try {
            // A bounded sample per index: statistics good enough for the planner, in bounded time.
            db->exec("PRAGMA analysis_limit = 1000");
            db->exec("ANALYZE");
            db->exec("PRAGMA optimize");
        } catch (const std::exception& e) {
            return std::unexpected(db_error(database, "ANALYZE", e));
        }
        report.message = fmt::format("refreshed the planner's statistics of {}", database.string());
    }
    report.bytes_after = file_bytes(database) + file_bytes(wal_path(database));
    report.duration_ms = timer.elapsed_ms();
    return report;
}

Result<StepReport> checkpoint_database(const fs::path& database, bool dry_run) {
    StepTimer timer;
    TRY_ASSIGN(auto db, open_database(database, Access::read_write));
    StepReport report{.step = "checkpoint", .path = database.string()};
    const auto wal_before = file_bytes(wal_path(database));
    report.bytes_before = wal_before;
    if (dry_run) {
        report.bytes_after = wal_before;
        report.message = fmt::format("would checkpoint and truncate the WAL ({})", format_size(wal_before));
        report.duration_ms = timer.elapsed_ms();
        return report;
    }
    try {
        SQLite::Statement q(*db, "PRAGMA wal_checkpoint(TRUNCATE)");
        q.executeStep();
        const bool busy = q.getColumn(0).getInt() != 0;
        const auto log_frames = q.getColumn(1).getInt64();
        const auto done_frames = q.getColumn(2).getInt64();
        q.reset();
        const auto wal_after = file_bytes(wal_path(database));
        report.bytes_after = wal_after;
        report.details = {{"busy", busy}, {"wal_frames", log_frames}, {"checkpointed_frames", done_frames}};
        if (busy) {
            report.status = ExitCode::warning;
            report.message = fmt::format("a reader kept the checkpoint from finishing: WAL {} -> {}",
                                         format_size(wal_before), format_size(wal_after));
        } else {
            report.message = fmt::format("WAL {} -> {}: {} freed", format_size(wal_before), format_size(wal_after),
                                         format_size(wal_before > wal_after ? wal_before - wal_after : 0));
        }
    } catch (const std::exception& e) {
        return std::unexpected(db_error(database, "wal_checkpoint", e));
    }
    report.duration_ms = timer.elapsed_ms();
    return report;
}

}  // namespace nasops::dbmaint
