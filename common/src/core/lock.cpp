#include "nasops/core/lock.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

#include "nasops/core/log.hpp"

namespace nasops {

namespace {

std::string read_holder_pid(int fd) {
    char buf[32] = {};
    const auto n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string text(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

void write_own_pid(int fd) {
    const auto text = fmt::format("{}\n", ::getpid());
    if (::ftruncate(fd, 0) == 0) {
        // Best effort: the pid only improves the message another run prints.
        [[maybe_unused]] auto n = ::pwrite(fd, text.data(), text.size(), 0);
    }
}

}  // namespace

Result<LockFile> LockFile::acquire(const std::filesystem::path& path, Duration timeout) {
    bool held = false;
    return take(path, timeout, held);
}

Result<std::optional<LockFile>> LockFile::acquire_or_overlap(const std::filesystem::path& path, Duration timeout,
                                                             Quiet quiet) {
    bool held = false;
    auto lock = take(path, timeout, held);
    if (lock) return std::optional<LockFile>(std::move(*lock));
    if (!held || quiet == Quiet::no) return std::unexpected(std::move(lock).error());
    logger().warning("{}; this run ends with exit 75 (quiet: an overlap of cron runs is not an error)",
                     lock.error().message);
    return std::optional<LockFile>{};
}

Result<LockFile> LockFile::take(const std::filesystem::path& path, Duration timeout, bool& held) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) {
        return fail(ExitCode::cant_create,
                    fmt::format("cannot open lock file {}: {}", path.string(), std::strerror(errno)));
    }
    const auto start = std::chrono::steady_clock::now();
    auto pause = std::chrono::milliseconds(5);
    while (true) {
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
            write_own_pid(fd.get());
            const auto waited = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start);
            return LockFile(std::move(fd), path, waited);
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            return fail(ExitCode::io_error, fmt::format("cannot lock {}: {}", path.string(), std::strerror(errno)));
        }
        const auto elapsed = std::chrono::steady_clock::now() - start;
        if (elapsed >= timeout) {
            const auto holder = read_holder_pid(fd.get());
            held = true;
            return fail(ExitCode::temp_failure,
                        fmt::format("{} is held by another run{} (waited {}); try again later or raise --lock-timeout",
                                    path.string(), holder.empty() ? "" : fmt::format(" (pid {})", holder),
                                    format_duration(std::chrono::duration_cast<Duration>(elapsed))));
        }
        const auto left = timeout - std::chrono::duration_cast<Duration>(elapsed);
        std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(pause, left));
        pause = std::min(pause * 2, std::chrono::milliseconds(100));
    }
}

}  // namespace nasops
