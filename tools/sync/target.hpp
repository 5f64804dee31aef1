#pragma once

// Where files are uploaded to: one small interface above a local folder and
// an SFTP server, so that the upload logic is one code path and is tested
// without a network. Paths given to a Target are relative to its root,
// '/'-separated; the empty path is the root itself.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/core/error.hpp"

namespace nasops::sync {

struct TargetEntry {
    bool exists = false;
    bool is_regular = false;
    std::uint64_t size = 0;
};

// A file being written on the target. Destroying it without finish() closes
// it without making its contents durable: an abandoned upload.
class TargetFile {
public:
    virtual ~TargetFile() = default;
    // Appends `data` at the current offset.
    virtual Result<void> write(std::string_view data) = 0;
    // Sends what is buffered, makes the bytes durable where the target can
    // (fsync), and closes the file.
    virtual Result<void> finish() = 0;
};

// One SHA-256 (64 hex digits) per path asked for; nullopt for a file that
// does not exist.
using Digests = std::vector<std::optional<std::string>>;

// A small file for Target::write_files: its whole contents, already read.
struct WholeFile {
    std::string rel_path;
    std::string_view data;
    std::int64_t mtime_ns = 0;
};

struct RenamePair {
    std::string from;
    std::string to;
};

// Errors follow the ssh module: ExitCode::unavailable means the target is gone
// (connection lost) and this Target must not be used again; any other code is
// about the one file or folder named in the message.
class Target {
public:
    virtual ~Target() = default;

    // The target as the operator wrote it: "/srv/nas", "sftp://nas@10.0.0.5:22/volume1/media".
    virtual std::string describe() const = 0;
    // Where `rel_path` is on the target, for messages.
    virtual std::string location(std::string_view rel_path) const = 0;

    // Metadata of `rel_path`; a missing path is exists == false, not an Error.
    virtual Result<TargetEntry> stat(std::string_view rel_path) = 0;
    // Creates the folder `rel_path` and every missing parent; an existing folder is success.
    virtual Result<void> make_dirs(std::string_view rel_path) = 0;
    // Opens `rel_path` for writing at `offset`: 0 creates or truncates it; more
    // keeps its first `offset` bytes (a resumed upload) and drops the rest. An
    // offset past the file's end is an Error.
    virtual Result<std::unique_ptr<TargetFile>> open_write(std::string_view rel_path, std::uint64_t offset) = 0;
    // Renames `from` to `to`, replacing `to`.
    virtual Result<void> rename(std::string_view from, std::string_view to) = 0;
    virtual Result<void> remove(std::string_view rel_path) = 0;
    // Sets the modification time. Returns false when the target refuses to
    // (some NAS do): the caller logs that once and goes on.
    virtual Result<bool> set_mtime(std::string_view rel_path, std::int64_t mtime_ns) = 0;
    // The batches below do what the one-file calls do, for many files at
    // once, so that a target with a network between can keep many requests
    // in flight. Each returns one result per item, in order; once an item
    // fails with ExitCode::unavailable, every later one does too. The
    // defaults make the one-file calls in turn.

    // Writes each file whole at its rel_path (created or truncated; its folder
    // must exist), closes it as TargetFile::finish does, and sets its
    // modification time. Per file as set_mtime: true, false when the target
    // refused the time (the data is written all the same), or the Error that
    // lost the file.
    virtual std::vector<Result<bool>> write_files(std::span<const WholeFile> files);
    // rename() of each pair.
    virtual std::vector<Result<void>> rename_all(std::span<const RenamePair> renames);
    // stat() of each path.
    virtual std::vector<Result<TargetEntry>> stat_all(std::span<const std::string> rel_paths);

    // Makes the renames done so far durable (a local folder: fsync of the
    // folders touched); a no-op where the protocol has no such thing.
    virtual Result<void> commit() = 0;
    // Bytes an unprivileged writer may still use on the file system of the root.
    virtual Result<std::uint64_t> available_space() = 0;
    // The SHA-256 of each of `rel_paths`, computed on the target side, in one
    // batch; nullopt when this target cannot compute hashes (the caller then
    // verifies by size).
    virtual Result<std::optional<Digests>> sha256(std::span<const std::string> rel_paths) = 0;
    // sha256() in two halves, so that the target may compute while the
    // caller goes on writing: sha256_request() asks for the hashes of
    // `rel_paths`; sha256_collect() returns those of the oldest request not
    // collected yet. The default computes them at the collect.
    virtual Result<void> sha256_request(std::span<const std::string> rel_paths);
    virtual Result<std::optional<Digests>> sha256_collect();

private:
    std::deque<std::vector<std::string>> m_hash_requests;  // of the default halves
};

// Makes a new Target, each with its own connection: one per upload worker.
using TargetFactory = std::function<Result<std::unique_ptr<Target>>()>;

// The folder part of a relative path ("a/b/c.mp4" -> "a/b", "c.mp4" -> "").
std::string_view parent_of(std::string_view rel_path) noexcept;
// The name part of a relative path ("a/b/c.mp4" -> "c.mp4").
std::string_view name_of(std::string_view rel_path) noexcept;
// `folder` + '/' + `name`, or `name` alone when folder is empty.
std::string join_path(std::string_view folder, std::string_view name);

}  // namespace nasops::sync
