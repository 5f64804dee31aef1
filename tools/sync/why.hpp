#pragma once

// nasops-sync why: the story of one file, told from what the scanner would
// see on the local disk and what the queue holds for it. It only reads: no
// lock, no write to the database.

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/util/clock.hpp"
#include "queue.hpp"
#include "scanner.hpp"

namespace nasops::sync {

// What is at a path on the local disk, as the scanner would see it.
struct LocalFile {
    enum class Kind {
        regular,
        missing,       // nothing there
        symlink,       // the file itself is a link
        link_in_path,  // a folder above it is a link (or not a folder)
        folder,
        special,     // a socket, FIFO or device
        unreadable,  // it or a folder above it cannot be looked at
    };
    Kind kind = Kind::missing;
    FileVersion version;  // regular
    int error = 0;        // unreadable; regular that cannot be opened for reading
};

// Looks at `rel_path` under `source` without following a link, as the scan does.
LocalFile look_at(const std::filesystem::path& source, std::string_view rel_path);

// Where a PATH of the command line is: its source and its path relative to it.
struct Located {
    std::filesystem::path source;
    std::string rel_path;
};

// `given` as a local path (absolute, or relative to the current folder) under
// one of `sources`; else, when relative, as a path relative to the first
// source that has it on disk or in the queue (`queue` may be null). Nullopt:
// under no source.
Result<std::optional<Located>> locate(std::string_view given, std::span<const std::filesystem::path> sources,
                                      Queue* queue);

// Everything the story of one path is told from.
struct WhyFacts {
    std::string path;              // the local path
    std::optional<Located> where;  // nullopt: under no source
    LocalFile local;
    std::optional<std::string> excluded_by;  // the exclude glob that leaves it out
    bool not_included = false;               // include globs exist and none takes it
    std::vector<std::string> include;        // those globs, to name them
    std::optional<FileRow> row;
    std::optional<std::string> taken_by;  // no row: the other source whose file has this rel_path
};

// One word a script can test, and the story in plain sentences.
struct Explanation {
    std::string finding;  // e.g. "completed", "waiting_min_age", "excluded", "symlink", "not_under_source"
    std::string text;
    bool unknown = false;  // the path does not exist and the queue has no row for it (exit 66)
};

Explanation explain(const WhyFacts& facts, const QueuePolicy& policy, SystemTimePoint now);

// How a completed file's copy was verified, from its verified_by value, in
// the words why, ls and status all use: "verified by SHA-256", "verified by
// size only", "not verified: --verify none", "no verify recorded".
std::string_view verify_phrase(std::string_view verified_by);
// How a completed row's copy was verified, with why not by SHA-256 when it
// was not: "verified by size only: --verify size" (ls, why).
std::string row_verify_phrase(const FileRow& row);

}  // namespace nasops::sync
