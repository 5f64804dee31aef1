#pragma once

// Finding the files of a source folder, and opening them again later, without
// ever following a symbolic link: a link inside a source (to a file or to a
// folder, pointing inside or outside it) is skipped and logged at debug level.
// Only the source folder itself may be a link, since the operator named it.

#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/util/unique_fd.hpp"

namespace nasops::sync {

// What identifies one version of a file: a change of any of these makes it a
// new version to upload.
struct FileVersion {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;  // nanoseconds since the epoch
    std::uint64_t inode = 0;

    friend bool operator==(const FileVersion&, const FileVersion&) = default;
};

FileVersion file_version(const struct stat& st) noexcept;

struct DirCloser {
    void operator()(DIR* dir) const noexcept { ::closedir(dir); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

// Opens the folder `name` in `parent` for reading, never through a link;
// nullptr with errno set when it cannot (ELOOP or ENOTDIR: a link).
DirPtr open_folder(int parent, const char* name);

struct ScannedFile {
    std::string rel_path;  // relative to the source, '/'-separated, as the bytes of the names
    FileVersion version;
};

// --include and --exclude, rsync-like:
//   - a pattern without '/' is matched (fnmatch, '*' also matching '.') against
//     the name of the file and of every folder above it: "*.mp4", ".thumbnails";
//   - a pattern with '/' is matched against the relative path of the file and of
//     every folder above it ('*' also matches '/'): "cam1/tmp", "*/2026-*/*.mp4";
//     a leading or trailing '/' is ignored;
//   - a file is taken when no exclude pattern matches it and, if there are
//     include patterns, at least one of them does: exclude wins;
//   - a folder that an exclude pattern matches is not even read.
class Filter {
public:
    Filter() = default;
    Filter(std::vector<std::string> include, std::vector<std::string> exclude);

    bool takes_file(std::string_view rel_path) const;
    bool prunes_folder(std::string_view rel_path) const;
    // The exclude pattern that matches `rel_path` or a folder above it, as
    // normalised (no leading or trailing '/'); nullopt when none does.
    std::optional<std::string> excluded_by(std::string_view rel_path) const;
    // Whether an include pattern takes `rel_path` (true when there are none).
    bool included(std::string_view rel_path) const;
    const std::vector<std::string>& include_patterns() const { return m_include; }

private:
    std::vector<std::string> m_include;
    std::vector<std::string> m_exclude;
};

// The temporary name a file is uploaded under, in its destination folder:
// ".nasops-<name>.part", or ".nasops-<hash of name>.part" when that would be
// longer than a file name may be (255 bytes). The same name gives the same
// temporary name, so that an interrupted upload can be resumed.
std::string temp_name_for(std::string_view name);
// True for names temp_name_for makes: the scanner skips them.
bool is_temp_name(std::string_view name) noexcept;

struct ScanStats {
    std::uint64_t files = 0;       // regular files taken
    std::uint64_t folders = 0;     // folders read
    std::uint64_t excluded = 0;    // files and folders left out by the filter
    std::uint64_t symlinks = 0;    // links skipped
    std::uint64_t temp_files = 0;  // our own temporary files skipped
    std::uint64_t other = 0;       // sockets, FIFOs, devices skipped
    std::uint64_t errors = 0;      // entries or folders that could not be read (logged)
};

// The deepest folder level the walk descends to; deeper folders are logged and skipped.
inline constexpr std::size_t k_max_scan_depth = 256;

// Walks `source` recursively, calling `on_file` for every regular file the
// filter takes, as it is found: nothing is collected, so memory does not grow
// with the number of files. An unreadable entry or folder below the source is
// logged, counted in `errors`, and the walk goes on; a source that cannot be
// opened at all is an Error (ExitCode::no_input). An Error returned by
// `on_file` stops the walk and is returned.
Result<ScanStats> scan_source(const std::filesystem::path& source, const Filter& filter,
                              const std::function<Result<void>(const ScannedFile&)>& on_file);

// The folder holding `rel_path` under `source`, opened one component at a time
// without following links, and the file's own name in it. Errors name the path
// (ExitCode::no_input when a component is missing or is a link).
struct SourceParent {
    UniqueFd folder;
    std::string name;
};
Result<SourceParent> open_source_parent(const std::filesystem::path& source, std::string_view rel_path);

// Opens and removes files under the sources, refusing links anywhere below
// a source (see open_source_parent). The folder of the last file stays open:
// the files of one folder come one after another, and each would otherwise
// cost an open of every folder on its path. One per thread.
class SourceFiles {
public:
    struct Opened {
        UniqueFd fd;
        struct stat st;
    };

    // Opens `rel_path` under `source` for reading; anything but a regular
    // file is refused (ExitCode::no_input).
    Result<Opened> open(const std::filesystem::path& source, std::string_view rel_path);

    // Removes `rel_path` under `source` if it is still the version `expected`
    // (--remove-source after a verified upload). A file that changed since is
    // left alone and the Error says so (ExitCode::data_error).
    Result<void> remove(const std::filesystem::path& source, std::string_view rel_path, const FileVersion& expected);
    // The check remove() makes before it unlinks, alone (run --dry-run): the
    // same errors, and nothing is changed.
    Result<void> check_removable(const std::filesystem::path& source, std::string_view rel_path,
                                 const FileVersion& expected);

private:
    // The folder holding `rel_path`, borrowed until the next call, and the file's name in it.
    Result<std::pair<int, std::string>> folder_of(const std::filesystem::path& source, std::string_view rel_path);

    std::string m_folder_key;  // source and folder of m_folder
    UniqueFd m_folder;
};

}  // namespace nasops::sync
