#pragma once

// `backup`: an online copy of the live database with SQLite's backup API,
// written under a temporary name, fsync'd, renamed to
// <backup_dir>/nasops-YYYYmmddTHHMMSSZ.db (mode 0600), its SHA-256 sidecar
// beside it, then reopened read-only and checked. With gzip the copy is
// compressed (zlib, streaming) into nasops-YYYYmmddTHHMMSSZ.db.gz before the
// rename, and the sidecar is the .gz file's.

#include <filesystem>
#include <optional>
#include <string>

#include "nasops/util/clock.hpp"
#include "options.hpp"
#include "step.hpp"
#include "stream_copy.hpp"

namespace nasops::dbmaint {

// "nasops-20261122T031500Z.db" (or ".db.gz") for `t` (UTC, seconds).
std::string backup_file_name(SystemTimePoint t, Compression compression = Compression::none);
// The time a backup's file name carries (.db or .db.gz); nullopt for a name of another form.
std::optional<SystemTimePoint> parse_backup_file_name(std::string_view name);
// A backup whose name ends in .gz, which holds the database gzip-compressed.
bool is_gzip_backup(const std::filesystem::path& backup);
// A temporary name beside `backup` for what reading it needs written (its
// database decompressed), unique to this process; a later backup removes it
// if this process is killed.
std::filesystem::path scratch_path(const std::filesystem::path& backup);

// Copies the database at `source` into a new file `dest` (which must not
// exist) with the backup API, in one read transaction: a consistent snapshot
// while writers go on (WAL). A busy or locked source is retried until
// `patience` has passed. The copy is left in rollback-journal mode (no -wal
// or -shm beside it), with mode 0600, fsync'd with Durability::fsync. On
// failure `dest` is removed. A missing source is ExitCode::no_input; a full
// disk io_error.
Result<void> online_copy(const std::filesystem::path& source, const std::filesystem::path& dest, Durability durability,
                         std::chrono::milliseconds patience = std::chrono::seconds(60));

// The whole backup: copy, (compress,) fsync, rename, sidecar, read-only
// quick_check (of the decompressed copy, hashed again on the way, for gzip).
// Leftover temporary files of a killed run are removed first.
Result<StepReport> backup_database(const std::filesystem::path& database, const std::filesystem::path& backup_dir,
                                   SystemTimePoint now, Compression compression, bool dry_run);

}  // namespace nasops::dbmaint
