#pragma once

// --delete-empty-src-dirs: after a run, the folders below a source left
// empty are removed, deepest first, as rclone move --delete-empty-src-dirs
// does. Only rmdir is used, which fails on a folder that holds anything (a
// hidden file, a temporary file, a file still being written): a file created
// at the last moment is never lost. Never the source itself, never through a
// link, never a folder the filter excludes. A folder that is empty but
// changed within min-age (a camera that has just made it is about to write
// into it) is kept, unless this run removed files from it.

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>

#include "nasops/util/clock.hpp"
#include "scanner.hpp"

namespace nasops::sync {

struct EmptyFolderRules {
    const Filter& filter;
    // A folder modified after this is kept, unless it is in `emptied`.
    SystemTimePoint changed_after;
    // Folders (relative to the source, '/'-separated) this run removed files from.
    const std::set<std::string>& emptied;
};

struct EmptyFolderCounts {
    std::uint64_t removed = 0;
    std::uint64_t errors = 0;  // folders that could not be read or removed (logged)
};

// Whether an empty folder modified at `mtime` may be removed under `rules`.
bool may_remove_folder(const EmptyFolderRules& rules, std::string_view rel_path, SystemTimePoint mtime);

// Removes the empty folders below `source` under `rules`, logging and
// auditing (FILE_REMOVED, "folder": true) each one.
EmptyFolderCounts remove_empty_folders(const std::filesystem::path& source, const EmptyFolderRules& rules);

}  // namespace nasops::sync
