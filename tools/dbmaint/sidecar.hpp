#pragma once

// The SHA-256 sidecar beside every backup, in the format of sha256sum -c:
//   <64 hex digits><two spaces><file name>\n
// so that `cd <backup_dir> && sha256sum -c nasops-*.db.sha256` checks them too.

#include <filesystem>
#include <string>

#include "nasops/core/error.hpp"
#include "options.hpp"
#include "stream_copy.hpp"

namespace nasops::dbmaint {

std::filesystem::path sidecar_path(const std::filesystem::path& backup);

// The line for `backup` (its file name only, as sha256sum writes it in its folder).
std::string sidecar_line(std::string_view hex, const std::filesystem::path& backup);

// Writes the sidecar atomically (temp, fsync, rename), mode 0600.
Result<void> write_sidecar(const std::filesystem::path& backup, std::string_view hex);

// The digest the sidecar of `backup` records. A missing sidecar is
// ExitCode::no_input; a malformed one, or one naming another file, data_error.
Result<std::string> read_sidecar(const std::filesystem::path& backup);

// Checks `backup` against its sidecar, then runs integrity_check (or
// quick_check, for a copy just made) on the database it holds, opened
// read-only: the file itself, or for a .db.gz backup the file decompressed
// into a temporary file in its folder (removed after). Any mismatch,
// truncation or corruption is ExitCode::data_error naming the file and what is
// wrong; a missing backup is no_input. Returns the digest.
Result<std::string> verify_backup_file(const std::filesystem::path& backup, CheckDepth depth = CheckDepth::full);

// Writes the database `backup` holds to `dest` (mode 0600): a copy of a .db
// backup, the decompressed stream of a .db.gz one, hashing the backup's bytes
// in the same pass. The backup must hash to `expected` and `dest` pass the
// check, or `dest` is removed and the error is data_error naming the backup.
Result<void> unpack_backup(const std::filesystem::path& backup, const std::filesystem::path& dest,
                           std::string_view expected, CheckDepth depth, Durability durability);

// How check_pages reads a file: with read(2), or mapped into memory, which
// costs a third less CPU but is only for a file this process has just
// written: a mapped file that shrinks under it, or a disk that fails to read,
// kills the process (SIGBUS) instead of returning an error.
enum class Reading : bool { read, mapped };

// integrity_check (or quick_check) of the database file `file`, opened
// read-only; `label` names it in errors (data_error).
Result<void> check_pages(const std::filesystem::path& file, std::string_view label, CheckDepth depth,
                         Reading reading = Reading::read);

}  // namespace nasops::dbmaint
