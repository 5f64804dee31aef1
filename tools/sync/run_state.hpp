#pragma once

// What the upload workers of one run share: the queue handed out a page at a
// time, the limits (--max-duration, --max-bytes, --bwlimit), the transfer
// records, the counts of the summary, and how the run ends (stopped, target
// unavailable, a fatal error).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>

#include "engine.hpp"
#include "nasops/core/error.hpp"
#include "nasops/record/record.hpp"
#include "queue.hpp"

namespace nasops::sync {

using Steady = std::chrono::steady_clock;

double seconds_since(Steady::time_point start);

// A transfer bandwidth shared by every worker: each write waits until the
// bytes sent since the rate took effect fit in it. The rate is the
// timetable's at the clock's local time, looked up again at each new minute,
// so that a run crossing an entry's time changes rate there (within one
// write); each change is logged.
class RateLimiter {
public:
    RateLimiter(RateTimetable timetable, const Clock& clock);

    void consume(std::size_t bytes);
    // The limit in force now (and from now on, until the next write).
    RateLimit rate_in_force();

private:
    // Takes the timetable's limit at `now` when `now` is in another minute
    // than the last lookup (a clock set back included).
    void follow_timetable(SystemTimePoint now);

    RateTimetable m_timetable;
    const Clock& m_clock;
    std::mutex m_mutex;
    RateLimit m_rate;
    std::optional<std::chrono::sys_time<std::chrono::minutes>> m_minute;  // of the last lookup
    double m_total = 0;
    bool m_started = false;
    Steady::time_point m_start;
};

// One transfer record per state change, on the run's record writer.
class Reporter {
public:
    explicit Reporter(RecordWriter* records) : m_records(records) {}

    // Whether records are written at all: callers build their fields only then.
    bool enabled() const noexcept { return m_records != nullptr; }
    void transfer(const FileRow& row, FileState state, nlohmann::json fields);

private:
    RecordWriter* m_records;
    std::mutex m_mutex;
    bool m_write_failed = false;
};

// The target folders made (or found there) in this run, shared by its
// workers so that each is asked for once, not once per worker.
class FoldersMade {
public:
    bool contains(const std::string& folder) const;
    void insert(std::string folder);

private:
    mutable std::mutex m_mutex;
    std::set<std::string, std::less<>> m_folders;
};

// What the workers of one run share.
class RunState {
public:
    RunState(const RunOptions& run_options, Queue& run_queue, const Clock& run_clock, const RunOutputs& run_outputs);

    const RunOptions& options;
    Queue& queue;
    const Clock& clock;
    const RunOutputs& outputs;
    Reporter reporter;
    std::optional<RateLimiter> limiter;
    std::optional<SystemTimePoint> deadline;
    FoldersMade folders_made;

    std::atomic<std::uint64_t> bytes_sent{0};
    // Small files taken into a batch and not sent yet: --max-bytes counts
    // them as sent, so that a batch does not start files past the limit.
    std::atomic<std::uint64_t> bytes_batched{0};
    std::atomic<std::uint64_t> files_done{0};
    std::atomic<std::uint64_t> bytes_done{0};
    std::atomic<bool> stop{false};
    std::atomic<bool> mtime_refusal_logged{false};
    // A write found the target full (its free space, read after the failure,
    // is `full_available`): no other file starts in this run; each is held.
    std::atomic<bool> target_full{false};
    std::atomic<std::uint64_t> full_available{0};

    // The next eligible row, or nullopt when there is none left for this run.
    Result<std::optional<FileRow>> next();
    // Whether a new file may be started; records why not when the run must stop.
    bool may_start();
    // Whether an upload in progress must be abandoned now (SIGINT, max-duration).
    bool must_abandon();
    void halt(std::string_view why);
    // Whether `error` says the target is gone (ExitCode::unavailable: the
    // connection is lost, see target.hpp); the first such error is the run's
    // unavailable_error. Every target error is read here.
    bool target_lost(const Error& error);
    void fatal(Error error);
    std::optional<Error> fatal_error();

    template <class F>
    void count(F&& update) {
        std::lock_guard lock(m_mutex);
        update(summary);
    }

    RunSummary summary;

    bool interrupted() const { return outputs.interrupted != nullptr && outputs.interrupted->load() != 0; }

private:
    // Whether SIGINT came, or the deadline has passed; either stops the run.
    bool stopped_by_interrupt();
    bool stopped_by_deadline();

    std::mutex m_mutex;
    std::deque<FileRow> m_buffer;
    std::int64_t m_last_id = 0;
    bool m_exhausted = false;
    std::optional<Error> m_fatal;
};

}  // namespace nasops::sync
