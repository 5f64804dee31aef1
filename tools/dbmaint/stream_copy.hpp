#pragma once

// One pass over a file that writes another: a plain copy, gzip or gunzip
// (zlib, streaming, in constant memory), hashing what is read or what is
// written on the way, so that a backup is not read once more for its SHA-256.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "nasops/core/error.hpp"

namespace nasops::dbmaint {

enum class Transform { copy, gzip, gunzip };
enum class Hash { none, input, output };
enum class Durability : bool { none, fsync };

struct Streamed {
    std::string sha256;  // of the input or of the output, as asked; empty with Hash::none
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    // gunzip only: why the input is not one whole gzip stream (corrupt,
    // truncated, bytes after its end). The input is still read to its end and
    // hashed, so that a caller can first tell whether it is the file its
    // checksum names; `to` is removed then.
    std::optional<std::string> damage;
};

// A file removed at scope exit unless kept: a temporary name that a failure
// must not leave behind.
class RemovedAtExit {
public:
    explicit RemovedAtExit(std::filesystem::path path) : m_path(std::move(path)) {}
    ~RemovedAtExit();
    RemovedAtExit(const RemovedAtExit&) = delete;
    RemovedAtExit& operator=(const RemovedAtExit&) = delete;
    const std::filesystem::path& path() const { return m_path; }
    void keep() { m_kept = true; }

private:
    std::filesystem::path m_path;
    bool m_kept = false;
};

// Writes `to` (mode 0600, replacing a file of that name) from `from`. On any
// failure, damage included, `to` is removed. Errors name the file: no_input
// when `from` cannot be opened, cant_create for `to`, io_error for a read, a
// write (a full disk) or a sync.
Result<Streamed> stream_copy(const std::filesystem::path& from, const std::filesystem::path& to, Transform transform,
                             Hash hash, Durability durability);

}  // namespace nasops::dbmaint
