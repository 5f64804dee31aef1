#pragma once

// The sync tables of nasops.db, as migration steps of the component "sync".
//
// media_files holds one row per (source, relative path): the file's size,
// mtime and inode as last scanned, its state, and the bookkeeping of its
// uploads. Operators read it directly:
//   sqlite3 nasops.db "SELECT state, COUNT(*) FROM media_files GROUP BY state"
// and nasops-health reads it for its transfer-queue check: keep the column
// names. sync_attempts keeps one row per finished upload attempt, for the
// success ratio and throughput that `nasops-sync status` reports.

#include <span>

#include "nasops/db/store.hpp"

namespace nasops::sync {

std::span<const Migration> migrations();

}  // namespace nasops::sync
