#pragma once

// Where files are uploaded to: one narrow interface above a local folder and
// an SFTP server, so that the upload logic is one code path and is tested
// without a network. Paths given to a Target are relative to its root,
// '/'-separated; the empty path is the root itself.
//
// The calls that take many items (stat, write_files, rename) answer one
// result per item, in order, so that a target with a network between keeps
// many requests in flight (the SFTP target pipelines them); a caller with one
// item passes a span of one. Errors follow the ssh module: ExitCode::unavailable
// means the target is gone (connection lost) and this Target must not be used
// again; once an item fails so, every later one does too. Any other code is
// about the one file or folder named in the message.

#include <cstdint>
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
    // Sends what is buffered, sets the modification time, makes the bytes
    // durable where the target can (fsync), and closes the file. False when
    // the target refused the time (some NAS do): the data is there all the same.
    virtual Result<bool> finish(std::int64_t mtime_ns) = 0;
    // A target that can compute the file's SHA-256 as the bytes arrive
    // starts now, so that sha256() of this path, after finish(), need not
    // read the file again. Does nothing where the target cannot; sha256()
    // then reads the file as usual.
    virtual void hash_while_written() {}
};

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

// One SHA-256 (64 hex digits) per path asked for; nullopt for a file that
// does not exist.
using Digests = std::vector<std::optional<std::string>>;

// The SHA-256s asked of a target (Target::sha256), which it may still be
// computing. collect() returns them, once, waiting for the target if need be:
// nullopt when the target cannot hash (the caller then verifies by size).
class PendingDigests {
public:
    using Collect = std::move_only_function<Result<std::optional<Digests>>()>;
    explicit PendingDigests(Collect collect) : m_collect(std::move(collect)) {}

    Result<std::optional<Digests>> collect();

private:
    Collect m_collect;
};

class Target {
public:
    virtual ~Target() = default;

    // The target as the operator wrote it: "/srv/nas", "sftp://nas@10.0.0.5:22/volume1/media".
    virtual std::string describe() const = 0;
    // Where `rel_path` is on the target, for messages.
    virtual std::string location(std::string_view rel_path) const = 0;
    // Metadata of each path; a missing path is exists == false, not an Error.
    virtual std::vector<Result<TargetEntry>> stat(std::span<const std::string> rel_paths) = 0;
    // Creates the folder `rel_path` and every missing parent; an existing folder is success.
    virtual Result<void> make_dirs(std::string_view rel_path) = 0;
    // Opens `rel_path` for writing at `offset`: 0 creates or truncates it; more
    // keeps its first `offset` bytes (a resumed upload) and drops the rest. An
    // offset past the file's end is an Error.
    virtual Result<std::unique_ptr<TargetFile>> open_write(std::string_view rel_path, std::uint64_t offset) = 0;
    // Writes each file whole at its rel_path (created or truncated; its folder
    // must exist) and finishes it as TargetFile::finish does, with its mtime.
    virtual std::vector<Result<bool>> write_files(std::span<const WholeFile> files) = 0;
    // Renames each `from` to its `to`, replacing `to`.
    virtual std::vector<Result<void>> rename(std::span<const RenamePair> renames) = 0;
    virtual Result<void> remove(std::string_view rel_path) = 0;
    // Makes the renames done so far durable (a local folder: fsync of the
    // folders touched); a no-op where the protocol has no such thing.
    virtual Result<void> commit() = 0;
    // Bytes an unprivileged writer may still use on the file system that
    // holds the folder `rel_folder` (the root when empty): a share may mount
    // another volume, or have a quota, below its root.
    virtual Result<std::uint64_t> available_space(std::string_view rel_folder) = 0;
    // Asks for the SHA-256 of each path, computed on the target side. The
    // target may compute them while the caller goes on writing: the returned
    // PendingDigests collects them. Collect in the order asked.
    virtual Result<PendingDigests> sha256(std::span<const std::string> rel_paths) = 0;
    // Why sha256() gives no digests (the target cannot hash), in words an
    // operator can act on; stored with each copy verified by size instead.
    virtual std::string no_hash_reason() const { return "the target cannot compute SHA-256"; }
};

// Makes a new Target, each with its own connection: one per upload worker.
using TargetFactory = std::function<Result<std::unique_ptr<Target>>()>;

// ---- for implementations ----------------------------------------------------

// A call that takes many items, for a target that does them one at a time:
// `one(item)` for each item in turn until one fails with
// ExitCode::unavailable; the items after it get that same Error untried.
template <class T, class Item, class F>
std::vector<Result<T>> one_at_a_time(std::span<const Item> items, F&& one) {
    std::vector<Result<T>> out;
    out.reserve(items.size());
    std::optional<Error> gone;
    for (const auto& item : items) {
        if (gone) {
            out.emplace_back(std::unexpected(*gone));
            continue;
        }
        out.push_back(one(item));
        if (!out.back() && out.back().error().code == ExitCode::unavailable) gone = out.back().error();
    }
    return out;
}

// write_files one file at a time: open_write, write, finish.
std::vector<Result<bool>> write_each(Target& target, std::span<const WholeFile> files);

// The folder part of a relative path ("a/b/c.mp4" -> "a/b", "c.mp4" -> "").
std::string_view parent_of(std::string_view rel_path) noexcept;
// The name part of a relative path ("a/b/c.mp4" -> "c.mp4").
std::string_view name_of(std::string_view rel_path) noexcept;
// `folder` + '/' + `name`, or `name` alone when folder is empty.
std::string join_path(std::string_view folder, std::string_view name);

}  // namespace nasops::sync
