#pragma once

// One run at a time: an exclusive flock(2) on <state>/<tool>.lock, so that an
// overlapping cron run waits or gives up (ExitCode::temp_failure, 75) instead
// of colliding. The kernel drops the lock when the process dies, even on kill -9.

#include <filesystem>
#include <optional>

#include "nasops/core/error.hpp"
#include "nasops/core/output.hpp"
#include "nasops/util/unique_fd.hpp"
#include "nasops/util/units.hpp"

namespace nasops {

class LockFile {
public:
    // Takes the lock, waiting up to `timeout` (0: try once). The holder's pid is
    // written into the file so that a refusal can name who holds it.
    static Result<LockFile> acquire(const std::filesystem::path& path, Duration timeout);

    // acquire(), for a job that cron starts again every interval. Another run
    // still holding the lock after `timeout` is the normal overlap of a run
    // longer than the interval: with Quiet::yes it is written to the tool's
    // log file only and the answer is nullopt, for the caller to end with
    // ExitCode::temp_failure (75) and not a word on stderr, which cron would
    // mail; with Quiet::no it is acquire()'s Error, said on stderr as before.
    // A run stuck for hours shows elsewhere: its files wait (nasops-health's
    // transfer check, the NasopsSyncStalled rule), and `nasops-sync doctor`
    // names the holder.
    static Result<std::optional<LockFile>> acquire_or_overlap(const std::filesystem::path& path, Duration timeout,
                                                              Quiet quiet);

    // Closing the descriptor releases the lock. The file itself stays: removing
    // it would let a waiter lock an unlinked inode while a third run creates and
    // locks a new one.

    // How long acquire() waited, for the lock-wait metric.
    Duration waited() const { return m_waited; }
    const std::filesystem::path& path() const { return m_path; }

private:
    // acquire(), setting `held` when the refusal is another run holding the lock.
    static Result<LockFile> take(const std::filesystem::path& path, Duration timeout, bool& held);

    LockFile(UniqueFd fd, std::filesystem::path path, Duration waited)
        : m_fd(std::move(fd)), m_path(std::move(path)), m_waited(waited) {}

    UniqueFd m_fd;
    std::filesystem::path m_path;
    Duration m_waited{0};
};

}  // namespace nasops
