#pragma once

// `restore FILE`: put a verified backup in place of the live database.
//
// First the backup is copied (a .db.gz one decompressed) next to the live
// database under a temporary name, hashed in that pass against its sidecar,
// fsync'd and integrity_checked; then every tool's lock is taken, so that no
// cron run writes meanwhile; the live database (WAL included) is copied aside
// as nasops.db.before-restore-<ts>; the live WAL is folded in and removed; and
// one rename puts the checked copy in place. A kill at any moment leaves the
// old database or the new one. A dry run checks the backup the same way and
// removes the copy.

#include <filesystem>
#include <string>
#include <vector>

#include "nasops/util/clock.hpp"
#include "nasops/util/units.hpp"
#include "step.hpp"

namespace nasops::dbmaint {

struct RestoreRequest {
    std::filesystem::path backup;
    std::filesystem::path database;
    std::filesystem::path state_dir;  // where the tools' locks are
    Duration lock_timeout{0};
    SystemTimePoint now;
    bool dry_run = false;
};

// The lock files restore takes: <tool>.lock of the six tools and any other
// *.lock in `state_dir`, without dbmaint's own (the caller holds it).
std::vector<std::filesystem::path> tool_locks(const std::filesystem::path& state_dir);

// A tampered, truncated or corrupt backup is ExitCode::data_error and the
// live database is not touched; a held lock is temp_failure (75).
// details.tables holds {"before": n, "after": m} per table.
Result<StepReport> restore_database(const RestoreRequest& request);

// Rows per table before and after, as a table for people.
std::string restore_table(const StepReport& report);

}  // namespace nasops::dbmaint
