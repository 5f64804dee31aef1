#pragma once

// `stats`: size, pages, free pages, WAL, rows per table, and the handbook's
//   SELECT state, COUNT(*) FROM media_files GROUP BY state
// when the table is there.

#include <filesystem>
#include <string>

#include "step.hpp"

namespace nasops::dbmaint {

Result<StepReport> database_stats(const std::filesystem::path& database);

// The report as a table for people.
std::string stats_table(const StepReport& report);

}  // namespace nasops::dbmaint
