#pragma once

// `analyze` and `checkpoint`: the planner's statistics, and the WAL folded
// back into the database file.

#include <filesystem>

#include "step.hpp"

namespace nasops::dbmaint {

// PRAGMA analysis_limit, ANALYZE, then PRAGMA optimize.
Result<StepReport> analyze_database(const std::filesystem::path& database, bool dry_run);

// PRAGMA wal_checkpoint(TRUNCATE): reports the WAL bytes freed; WARNING when a
// reader kept it from finishing.
Result<StepReport> checkpoint_database(const std::filesystem::path& database, bool dry_run);

}  // namespace nasops::dbmaint
