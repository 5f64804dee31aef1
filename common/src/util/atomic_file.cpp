#include "nasops/util/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "nasops/util/unique_fd.hpp"

namespace nasops {

namespace {

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const auto n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace

Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content, mode_t mode) {
    auto tmp = path;
    tmp += ".tmp";
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
    if (fd.get() < 0) {
        return fail(ExitCode::cant_create, fmt::format("cannot create {}: {}", tmp.string(), std::strerror(errno)));
    }
    auto give_up = [&](std::string_view what) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return fail(ExitCode::io_error, fmt::format("cannot {} {}: {}", what, tmp.string(), std::strerror(err)));
    };
    if (::fchmod(fd.get(), mode) != 0) return give_up("set the mode of");  // umask must not widen or narrow it
    if (!write_all(fd.get(), content)) return give_up("write");
    if (::fsync(fd.get()) != 0) return give_up("fsync");
    if (fd.close() != 0) return give_up("close");
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return fail(ExitCode::cant_create,
                    fmt::format("cannot rename {} to {}: {}", tmp.string(), path.string(), std::strerror(err)));
    }
    const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    // The rename is durable only once the folder itself is synced.
    UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd || ::fsync(dir_fd.get()) != 0) {
        return fail(ExitCode::io_error, fmt::format("cannot fsync folder {}: {}", dir.string(), std::strerror(errno)));
    }
    return {};
}

}  // namespace nasops
