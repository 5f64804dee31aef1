#pragma once

// The SHA-256 sidecar beside every backup, in the format of sha256sum -c:
//   <64 hex digits><two spaces><file name>\n
// so that `cd <backup_dir> && sha256sum -c nasops-*.db.sha256` checks them too.

#include <filesystem>
#include <string>

#include "nasops/core/error.hpp"
#include "options.hpp"

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
// quick_check, for a copy just made) on it, opened read-only. Any mismatch,
// truncation or corruption is ExitCode::data_error naming the file and what is
// wrong; a missing backup is no_input. Returns the digest.
Result<std::string> verify_backup_file(const std::filesystem::path& backup, CheckDepth depth = CheckDepth::full);

}  // namespace nasops::dbmaint
