#pragma once

// `check`: is the database sound? PRAGMA quick_check, or with CheckDepth::full
// integrity_check and foreign_key_check; and its size, pages, free pages, WAL.

#include <SQLiteCpp/Database.h>

#include <filesystem>
#include <string>
#include <vector>

#include "options.hpp"
#include "step.hpp"

namespace nasops::dbmaint {

// Never fails: a missing database is UNKNOWN ("no database yet"), a file that
// cannot be opened, is not a database or does not pass the check is CRITICAL
// with SQLite's own message, a sound one OK. The report's status is the exit code.
StepReport check_database(const std::filesystem::path& database, CheckDepth depth);

// The lines PRAGMA quick_check or integrity_check print ("ok" alone when
// sound), at most `limit` of them; a corrupt file may make SQLite throw
// instead, which becomes an Error with SQLite's message (data_error).
Result<std::vector<std::string>> integrity_lines(SQLite::Database& db, const std::filesystem::path& path,
                                                 CheckDepth depth, int limit = 20);

}  // namespace nasops::dbmaint
