#pragma once

// A file system's size and free space from a statvfs-shaped struct, read the
// same way for the NAS (libssh2's LIBSSH2_SFTP_STATVFS, statvfs@openssh.com)
// and for a local disk (POSIX struct statvfs).

#include <cstdint>

#include "nasops/ssh/sftp.hpp"

namespace nasops {

// Sizes count f_frsize blocks, or f_bsize ones where f_frsize is 0 (servers
// that leave it unset).
template <class Statvfs>
RemoteFsStat fs_stat_of(const Statvfs& st) {
    const auto block = static_cast<std::uint64_t>(st.f_frsize != 0 ? st.f_frsize : st.f_bsize);
    RemoteFsStat out;
    out.total_bytes = static_cast<std::uint64_t>(st.f_blocks) * block;
    out.free_bytes = static_cast<std::uint64_t>(st.f_bfree) * block;
    out.available_bytes = static_cast<std::uint64_t>(st.f_bavail) * block;
    out.total_inodes = static_cast<std::uint64_t>(st.f_files);
    out.free_inodes = static_cast<std::uint64_t>(st.f_ffree);
    out.available_inodes = static_cast<std::uint64_t>(st.f_favail);
    return out;
}

}  // namespace nasops
