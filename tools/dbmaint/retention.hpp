#pragma once

// Which backups to keep: the newest keep_last, and every one younger than
// keep_days; the others are deleted with their sidecars. The backup just
// written (or, when there is none, the newest backup that verifies), and the
// newest backup that has a sidecar, are never deleted, so a folder never
// loses its only good backup.

#include <filesystem>
#include <vector>

#include "nasops/util/clock.hpp"
#include "step.hpp"

namespace nasops::dbmaint {

struct BackupFile {
    std::filesystem::path path;
    SystemTimePoint taken;  // from its name
    bool has_sidecar = false;
};

// The backups in `dir` (files named nasops-YYYYmmddTHHMMSSZ.db), newest first.
std::vector<BackupFile> list_backups(const std::filesystem::path& dir);

struct RetentionPolicy {
    int keep_last = 7;
    int keep_days = 30;
};

// The backups of `all` (newest first) that the policy lets go, given `now`
// and the one just written (`keep`, may be empty).
std::vector<BackupFile> expired_backups(const std::vector<BackupFile>& all, const RetentionPolicy& policy,
                                        SystemTimePoint now, const std::filesystem::path& keep);

// The newest of `all` (newest first) whose file matches the SHA-256 its
// sidecar records, hashing them newest first until one does; empty when none
// does. A sidecar alone does not make a backup good: its file may have been
// changed or truncated since.
std::filesystem::path newest_verified_backup(const std::vector<BackupFile>& all);

// Deletes the expired backups of `dir` (or says which with dry_run). `keep`
// is the backup just written and checked; without one, the newest backup
// that verifies (newest_verified_backup) is kept in its place, so that
// retention never deletes the last good backup.
Result<StepReport> apply_retention(const std::filesystem::path& dir, const RetentionPolicy& policy, SystemTimePoint now,
                                   const std::filesystem::path& keep, bool dry_run);

}  // namespace nasops::dbmaint
