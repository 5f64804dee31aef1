#include "nasops/util/fs_stat.hpp"

#include <fmt/format.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

namespace nasops {

Result<FsStat> local_fs_stat(const std::filesystem::path& path) {
    struct statvfs st {};
    if (::statvfs(path.c_str(), &st) != 0) {
        const int err = errno;
        return fail(err == ENOENT ? ExitCode::no_input : ExitCode::io_error,
                    fmt::format("cannot statvfs {}: {}", path.string(), std::strerror(err)));
    }
    return fs_stat_of(st);
}

}  // namespace nasops
