#pragma once

// A file system's size and free space, read the same way from any
// statvfs-shaped struct: the NAS's (libssh2's LIBSSH2_SFTP_STATVFS,
// statvfs@openssh.com, or `df -P` parsed into one), a local disk's (POSIX
// struct statvfs). Health's disk and nas_disk checks, sync and capacity read
// them through here.

#include <cstdint>
#include <filesystem>

#include "nasops/core/error.hpp"

namespace nasops {

// statvfs(3) of a file system, in bytes and inodes.
struct FsStat {
    std::uint64_t total_bytes = 0;
    std::uint64_t free_bytes = 0;       // free for root
    std::uint64_t available_bytes = 0;  // free for unprivileged users
    std::uint64_t total_inodes = 0;
    std::uint64_t free_inodes = 0;
    std::uint64_t available_inodes = 0;
};

// Sizes count f_frsize blocks, or f_bsize ones where f_frsize is 0 (servers
// that leave it unset).
template <class Statvfs>
FsStat fs_stat_of(const Statvfs& st) {
    const auto block = static_cast<std::uint64_t>(st.f_frsize != 0 ? st.f_frsize : st.f_bsize);
    FsStat out;
    out.total_bytes = static_cast<std::uint64_t>(st.f_blocks) * block;
    out.free_bytes = static_cast<std::uint64_t>(st.f_bfree) * block;
    out.available_bytes = static_cast<std::uint64_t>(st.f_bavail) * block;
    out.total_inodes = static_cast<std::uint64_t>(st.f_files);
    out.free_inodes = static_cast<std::uint64_t>(st.f_ffree);
    out.available_inodes = static_cast<std::uint64_t>(st.f_favail);
    return out;
}

// statvfs(3) of the local file system holding `path`: "cannot statvfs <path>:
// <why>", ExitCode::no_input when `path` is missing, io_error otherwise.
Result<FsStat> local_fs_stat(const std::filesystem::path& path);

}  // namespace nasops
