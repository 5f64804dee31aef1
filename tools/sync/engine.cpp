#include "engine.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "nasops/log.hpp"
#include "nasops/output.hpp"
#include "nasops/sha256.hpp"
#include "nasops/units.hpp"

namespace nasops::sync {

namespace {

using Steady = std::chrono::steady_clock;

constexpr std::size_t k_chunk = std::size_t{1} << 20;      // one read, one hash update, one target write
constexpr std::size_t k_fetch = 256;                       // rows taken from the queue at a time
constexpr std::uint64_t k_batch_bytes = 1ull << 30;        // verify at least every GiB
constexpr std::uint64_t k_space_margin = 64 * 1024;        // room kept for the file system's own blocks
constexpr auto k_space_refresh = std::chrono::seconds(2);  // how long a free-space reading is trusted

std::string local_path(const FileRow& row) {
    return (std::filesystem::path(row.source) / row.rel_path).string();
}

double seconds_since(Steady::time_point start) {
    return std::chrono::duration<double>(Steady::now() - start).count();
}

// Megabits per second, as transfer records carry it.
double mbps(std::uint64_t bytes, double seconds) {
    return seconds > 0 ? static_cast<double>(bytes) * 8.0 / seconds / 1e6 : 0.0;
}

// Megabytes (10^6) per second, as the audit trail and logs say it.
double mb_per_s(std::uint64_t bytes, double seconds) {
    return seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0.0;
}

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// A transfer bandwidth shared by every worker: each write waits until the
// bytes sent so far fit in the rate since the first write.
class RateLimiter {
public:
    explicit RateLimiter(std::uint64_t bytes_per_second) : m_rate(static_cast<double>(bytes_per_second)) {}

    void consume(std::size_t bytes) {
        Steady::time_point due;
        {
            std::lock_guard lock(m_mutex);
            if (!m_started) {
                m_start = Steady::now();
                m_started = true;
            }
            m_total += static_cast<double>(bytes);
            due =
                m_start + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(m_total / m_rate));
        }
        std::this_thread::sleep_until(due);
    }

private:
    std::mutex m_mutex;
    double m_rate;
    double m_total = 0;
    bool m_started = false;
    Steady::time_point m_start;
};

// One transfer record per state change, on the run's record writer.
class Reporter {
public:
    explicit Reporter(RecordWriter* records) : m_records(records) {}

    void transfer(const FileRow& row, FileState state, nlohmann::json fields) {
        if (m_records == nullptr) return;
        nlohmann::json record{{"path", local_path(row)}, {"rel_path", row.rel_path}, {"state", state_name(state)}};
        for (auto& [key, value] : fields.items()) record[key] = std::move(value);
        std::lock_guard lock(m_mutex);
        if (auto written = m_records->write(RecordKind::transfer, record); !written && !m_write_failed) {
            m_write_failed = true;
            logger().error("{}", written.error().message);
        }
    }

private:
    RecordWriter* m_records;
    std::mutex m_mutex;
    bool m_write_failed = false;
};

// What the workers of one run share.
class RunState {
public:
    RunState(const RunOptions& run_options, Queue& run_queue, const Clock& run_clock, const RunOutputs& run_outputs)
        : options(run_options),
          queue(run_queue),
          clock(run_clock),
          outputs(run_outputs),
          reporter(run_outputs.records) {
        if (options.bwlimit) limiter.emplace(*options.bwlimit);
        if (options.max_duration) deadline = clock.now() + *options.max_duration;
    }

    const RunOptions& options;
    Queue& queue;
    const Clock& clock;
    const RunOutputs& outputs;
    Reporter reporter;
    std::optional<RateLimiter> limiter;
    std::optional<SystemTimePoint> deadline;

    std::atomic<std::uint64_t> bytes_sent{0};
    std::atomic<std::uint64_t> files_done{0};
    std::atomic<std::uint64_t> bytes_done{0};
    std::atomic<bool> stop{false};
    std::atomic<bool> mtime_refusal_logged{false};

    // The next eligible row, or nullopt when there is none left for this run.
    Result<std::optional<FileRow>> next() {
        std::lock_guard lock(m_mutex);
        if (m_buffer.empty() && !m_exhausted) {
            auto rows = queue.eligible(m_last_id, k_fetch);
            if (!rows) return std::unexpected(rows.error());
            if (rows->size() < k_fetch) m_exhausted = true;
            for (auto& r : *rows) {
                m_last_id = r.id;
                m_buffer.push_back(std::move(r));
            }
        }
        if (m_buffer.empty()) return std::nullopt;
        FileRow row = std::move(m_buffer.front());
        m_buffer.pop_front();
        return row;
    }

    // Whether a new file may be started; records why not when the run must stop.
    bool may_start() {
        if (stop.load()) return false;
        if (interrupted()) {
            std::lock_guard lock(m_mutex);
            summary.interrupted = true;
            stop = true;
            return false;
        }
        if (deadline && clock.now() >= *deadline) {
            halt("max-duration");
            return false;
        }
        if (options.max_bytes && bytes_sent.load() >= *options.max_bytes) {
            halt("max-bytes");
            return false;
        }
        return true;
    }

    // Whether an upload in progress must be abandoned now (SIGINT, max-duration).
    bool must_abandon() {
        if (interrupted()) {
            std::lock_guard lock(m_mutex);
            summary.interrupted = true;
            stop = true;
            return true;
        }
        if (deadline && clock.now() >= *deadline) {
            halt("max-duration");
            return true;
        }
        return false;
    }

    void halt(std::string_view why) {
        std::lock_guard lock(m_mutex);
        if (!summary.stopped_by) {
            summary.stopped_by = std::string(why);
            logger().info("stopping: {} reached", why);
        }
        stop = true;
    }

    void target_unavailable(const Error& error) {
        std::lock_guard lock(m_mutex);
        if (!summary.target_unavailable) {
            summary.target_unavailable = true;
            summary.unavailable_error = error.message;
            logger().error("{}", error.message);
        }
    }

    void fatal(Error error) {
        std::lock_guard lock(m_mutex);
        if (!m_fatal) m_fatal = std::move(error);
        stop = true;
    }
    std::optional<Error> fatal_error() {
        std::lock_guard lock(m_mutex);
        return m_fatal;
    }

    template <class F>
    void count(F&& update) {
        std::lock_guard lock(m_mutex);
        update(summary);
    }

    RunSummary summary;

    bool interrupted() const { return outputs.interrupted != nullptr && outputs.interrupted->load(); }

private:
    std::mutex m_mutex;
    std::deque<FileRow> m_buffer;
    std::int64_t m_last_id = 0;
    bool m_exhausted = false;
    std::optional<Error> m_fatal;
};

// A file written under its temporary name, waiting for the batch verify.
struct Staged {
    FileRow row;
    std::string temp;
    std::string sha256;  // of the local file, from the upload's read pass
    AttemptResult attempt;
    bool done = false;
};

class Worker {
public:
    // `target`: a connection made already (the first worker's), else one is made.
    Worker(RunState& run, const TargetFactory& make_target, std::unique_ptr<Target> target)
        : m_run(run), m_make_target(make_target), m_target(std::move(target)) {}

    void operator()() {
        if (!m_target) {
            auto target = m_make_target();
            if (!target) {
                if (target.error().code == ExitCode::unavailable) {
                    m_run.target_unavailable(target.error());
                } else {
                    m_run.fatal(target.error());
                }
                return;
            }
            m_target = std::move(*target);
        }
        if (auto root = m_target->make_dirs(""); !root) {
            if (root.error().code == ExitCode::unavailable) {
                m_run.target_unavailable(root.error());
            } else {
                m_run.fatal(root.error());
            }
            return;
        }
        m_buffer.resize(k_chunk);
        while (!m_dead && m_run.may_start()) {
            auto row = m_run.next();
            if (!row) {
                m_run.fatal(row.error());
                break;
            }
            if (!*row) break;
            upload(**row);
            if (!m_dead && (m_staged.size() >= std::max<std::size_t>(m_run.options.verify_batch, 1) ||
                            m_staged_bytes >= k_batch_bytes))
                verify_and_commit();
        }
        if (!m_dead) verify_and_commit();
        release_staged();
    }

private:
    // ---- outcomes of one file ------------------------------------------------

    bool check(const Result<void>& r) {
        if (!r) m_run.fatal(r.error());
        return static_cast<bool>(r);
    }

    void released(const FileRow& row, std::string_view reason) {
        if (!check(m_run.queue.release(row.id))) return;
        m_run.reporter.transfer(row, FileState::pending, {{"reason", reason}});
    }

    void changed(const FileRow& row, const FileVersion& now) {
        logger().info("{} changed while it was being uploaded; it will be uploaded once it is stable", local_path(row));
        if (!check(m_run.queue.mark_changed(row.id, now))) return;
        m_run.reporter.transfer(row, FileState::pending, {{"reason", "changed"}});
    }

    void failed_attempt(const FileRow& row, const Error& error, const AttemptResult& attempt) {
        auto updated = m_run.queue.mark_failed_attempt(row.id, error.message, attempt);
        if (!updated) {
            m_run.fatal(updated.error());
            return;
        }
        const bool gave_up = updated->state == FileState::failed;
        const int max_attempts = m_run.queue.policy().max_retries + 1;
        if (gave_up) {
            logger().error("giving up on {} after {} attempts: {}", local_path(row), updated->attempts, error.message);
        } else {
            logger().warning("cannot upload {} (attempt {} of {}): {}; next attempt after {}", local_path(row),
                             updated->attempts, max_attempts, error.message, updated->next_attempt_at.value_or("?"));
        }
        logger().audit(
            AuditEvent::transfer_failed,
            {{"path", local_path(row)}, {"error", error.message}, {"attempt", updated->attempts}, {"final", gave_up}});
        nlohmann::json fields{{"attempt", updated->attempts},
                              {"error", error.message},
                              {"bytes", attempt.bytes_sent},
                              {"seconds", attempt.seconds}};
        if (updated->next_attempt_at) fields["next_attempt_at"] = *updated->next_attempt_at;
        m_run.reporter.transfer(row, updated->state, std::move(fields));
        m_run.count([&](RunSummary& s) {
            ++s.failed_attempts;
            if (gave_up) ++s.gave_up;
        });
    }

    // A target error about the file in hand: the target is gone (release the
    // file, stop this worker) or this attempt failed.
    void target_error(const FileRow& row, const Error& error, const AttemptResult& attempt) {
        if (error.code == ExitCode::unavailable) {
            m_dead = true;
            m_run.target_unavailable(error);
            released(row, "target unavailable");
            return;
        }
        failed_attempt(row, error, attempt);
    }

    // ---- one upload ------------------------------------------------------------

    // Whether `need` bytes fit on the target, from a reading refreshed every
    // few seconds (one statvfs per file would cost a round trip each).
    std::optional<bool> has_room(std::uint64_t need) {
        if (m_space_unknown) return true;
        const auto now = Steady::now();
        if (!m_space || now - m_space_at > k_space_refresh || *m_space < need + k_space_margin) {
            auto space = m_target->available_space();
            if (!space) {
                if (space.error().code == ExitCode::unavailable) {
                    m_dead = true;
                    m_run.target_unavailable(space.error());
                    return std::nullopt;
                }
                // Asking again for every file would cost a remote command each: give up for this run.
                logger().warning("{}; uploading without checking the free space", space.error().message);
                m_space_unknown = true;
                return true;
            }
            m_space = *space;
            m_space_at = now;
        }
        if (*m_space < need + k_space_margin) return false;
        *m_space -= need;
        return true;
    }

    void upload(const FileRow& row) {
        const std::string folder(parent_of(row.rel_path));
        const std::string temp = join_path(folder, temp_name_for(name_of(row.rel_path)));
        const std::string path = local_path(row);

        // An earlier attempt on this same version left a partial copy: resume it.
        std::uint64_t offset = 0;
        if (row.started_at) {
            auto partial = m_target->stat(temp);
            if (!partial && partial.error().code == ExitCode::unavailable) {
                m_dead = true;
                m_run.target_unavailable(partial.error());
                return;
            }
            if (partial && partial->exists && partial->is_regular && partial->size <= row.version.size)
                offset = partial->size;
        }

        const auto room = has_room(row.version.size - offset);
        if (!room) return;
        if (!*room) {
            m_run.count([](RunSummary& s) { ++s.held_no_space; });
            logger().audit(AuditEvent::storage_warning, {{"path", path},
                                                         {"size", row.version.size},
                                                         {"available", m_space.value_or(0)},
                                                         {"target", m_target->describe()}});
            log_no_room_once(row);
            return;
        }

        if (!check(m_run.queue.mark_transferring(row.id))) return;
        const int attempt_no = row.attempts + 1;
        const auto started = Steady::now();
        m_run.reporter.transfer(
            row, FileState::transferring,
            {{"attempt", attempt_no}, {"bytes", offset}, {"target", m_target->location(row.rel_path)}});
        logger().audit(AuditEvent::transfer_started,
                       {{"path", path}, {"size", row.version.size}, {"attempt", attempt_no}, {"offset", offset}});
        if (offset > 0) logger().info("resuming {} at byte {}", path, offset);

        AttemptResult attempt;
        const auto elapsed = [&] {
            attempt.seconds = seconds_since(started);
            return attempt;
        };

        auto fd = open_source_file(row.source, row.rel_path);
        if (!fd) {
            std::error_code ec;
            if (std::filesystem::symlink_status(path, ec).type() == std::filesystem::file_type::not_found) {
                const std::string why = "the local file is gone: it was removed before it could be uploaded";
                logger().warning("{}: {}", path, why);
                if (!check(m_run.queue.mark_vanished(row.id, why))) return;
                logger().audit(AuditEvent::transfer_failed,
                               {{"path", path}, {"error", why}, {"attempt", attempt_no}, {"final", true}});
                m_run.reporter.transfer(row, FileState::failed, {{"attempt", attempt_no}, {"error", why}});
                m_run.count([](RunSummary& s) {
                    ++s.failed_attempts;
                    ++s.gave_up;
                });
                return;
            }
            failed_attempt(row, fd.error(), elapsed());
            return;
        }
        struct stat st {};
        if (::fstat(fd->get(), &st) != 0) {
            failed_attempt(row,
                           Error{fmt::format("cannot stat {}: {}", path, std::strerror(errno)), ExitCode::io_error},
                           elapsed());
            return;
        }
        if (file_version(st) != row.version) {
            changed(row, file_version(st));
            return;
        }

        if (!m_folders_made.contains(folder)) {
            if (auto made = m_target->make_dirs(folder); !made) {
                target_error(row, made.error(), elapsed());
                return;
            }
            m_folders_made.insert(folder);
        }
        auto file = m_target->open_write(temp, offset);
        if (!file) {
            target_error(row, file.error(), elapsed());
            return;
        }

        Sha256 hash;
        std::uint64_t position = 0;
        for (;;) {
            if (m_run.must_abandon()) {
                file->reset();
                released(row, m_run.interrupted() ? "interrupted" : "stopped");
                return;
            }
            const ssize_t n = ::read(fd->get(), m_buffer.data(), m_buffer.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                failed_attempt(row,
                               Error{fmt::format("cannot read {}: {}", path, std::strerror(errno)), ExitCode::io_error},
                               elapsed());
                return;
            }
            if (n == 0) break;
            const std::string_view chunk(m_buffer.data(), static_cast<std::size_t>(n));
            hash.update(chunk);
            const auto end = position + chunk.size();
            if (end > offset) {
                const auto data = chunk.substr(offset > position ? offset - position : 0);
                if (m_run.limiter) m_run.limiter->consume(data.size());
                if (auto written = (*file)->write(data); !written) {
                    target_error(row, written.error(), elapsed());
                    return;
                }
                attempt.bytes_sent += data.size();
                m_run.bytes_sent += data.size();
                m_run.bytes_done += data.size();
            }
            position = end;
        }
        if (::fstat(fd->get(), &st) != 0 || file_version(st) != row.version || position != row.version.size) {
            changed(row, file_version(st));
            return;
        }
        if (auto finished = (*file)->finish(); !finished) {
            target_error(row, finished.error(), elapsed());
            return;
        }
        m_staged_bytes += row.version.size;
        m_staged.push_back(Staged{row, temp, hash.hex_digest(), elapsed()});
    }

    void log_no_room_once(const FileRow& row) {
        if (m_no_room_logged) return;
        m_no_room_logged = true;
        logger().warning(
            "not enough room on {} for {} ({}; {} available): it stays pending, as will other files that "
            "do not fit",
            m_target->describe(), local_path(row), format_size(row.version.size), format_size(m_space.value_or(0)));
    }

    // ---- verify, rename, complete ----------------------------------------------

    void verify_and_commit() {
        if (m_staged.empty()) return;
        const Verify mode = m_run.options.verify;
        std::vector<std::optional<std::string>> problems(m_staged.size());
        std::string verified_by = std::string(verify_name(mode));

        bool hashed = false;
        if (mode == Verify::automatic || mode == Verify::sha256) {
            std::vector<std::string> temps;
            temps.reserve(m_staged.size());
            for (const auto& s : m_staged) temps.push_back(s.temp);
            auto digests = m_target->sha256(temps);
            if (!digests) {
                fail_batch(digests.error());
                return;
            }
            if (*digests) {
                hashed = true;
                verified_by = "sha256";
                for (std::size_t i = 0; i < m_staged.size(); ++i) {
                    const auto& d = (**digests)[i];
                    if (!d) {
                        problems[i] = fmt::format("verification failed: {} is missing on the target after the upload",
                                                  m_target->location(m_staged[i].temp));
                    } else if (lower(*d) != m_staged[i].sha256) {
                        problems[i] = fmt::format("verification failed: SHA-256 differs (local {}, target {})",
                                                  m_staged[i].sha256, lower(*d));
                    }
                }
            } else if (mode == Verify::sha256) {
                for (auto& p : problems)
                    p = fmt::format(
                        "verification failed: {} cannot compute SHA-256 (--verify sha256); use --verify auto "
                        "or size",
                        m_target->describe());
            }
        }
        if (!hashed && mode != Verify::sha256 && mode != Verify::none) {
            verified_by = "size";
            for (std::size_t i = 0; i < m_staged.size(); ++i) {
                auto st = m_target->stat(m_staged[i].temp);
                if (!st) {
                    fail_batch(st.error());
                    return;
                }
                if (!st->exists) {
                    problems[i] = fmt::format("verification failed: {} is missing on the target after the upload",
                                              m_target->location(m_staged[i].temp));
                } else if (st->size != m_staged[i].row.version.size) {
                    problems[i] = fmt::format("verification failed: size differs (local {}, target {})",
                                              m_staged[i].row.version.size, st->size);
                }
            }
        }

        // Verified copies take their final names; bad ones are removed.
        std::vector<std::size_t> renamed;
        for (std::size_t i = 0; i < m_staged.size() && !m_dead; ++i) {
            auto& s = m_staged[i];
            if (problems[i]) {
                if (auto removed = m_target->remove(s.temp);
                    !removed && removed.error().code == ExitCode::unavailable) {
                    target_error(s.row, removed.error(), s.attempt);
                    s.done = true;
                    continue;
                }
                s.done = true;
                failed_attempt(s.row, Error{*problems[i], ExitCode::data_error}, s.attempt);
                continue;
            }
            if (auto moved = m_target->rename(s.temp, s.row.rel_path); !moved) {
                s.done = true;
                target_error(s.row, moved.error(), s.attempt);
                continue;
            }
            auto stamped = m_target->set_mtime(s.row.rel_path, s.row.version.mtime_ns);
            if (!stamped && stamped.error().code == ExitCode::unavailable) {
                s.done = true;
                target_error(s.row, stamped.error(), s.attempt);
                continue;
            }
            if ((!stamped || !*stamped) && !m_run.mtime_refusal_logged.exchange(true)) {
                logger().warning("{} does not let modification times be set ({}); the database keeps them",
                                 m_target->describe(), stamped ? "refused" : stamped.error().message);
            }
            renamed.push_back(i);
        }
        if (!renamed.empty()) {
            if (auto committed = m_target->commit(); !committed) {
                for (auto i : renamed) {
                    m_staged[i].done = true;
                    target_error(m_staged[i].row, committed.error(), m_staged[i].attempt);
                }
                renamed.clear();
            }
        }
        if (!renamed.empty()) {
            std::vector<Queue::Completion> completions;
            completions.reserve(renamed.size());
            for (auto i : renamed) completions.push_back({m_staged[i].row.id, m_staged[i].sha256, m_staged[i].attempt});
            if (!check(m_run.queue.mark_completed(completions))) {
                release_staged();
                return;
            }
        }
        for (auto i : renamed) complete(m_staged[i], verified_by);
        if (m_dead) {
            release_staged();
            return;
        }
        m_staged.clear();
        m_staged_bytes = 0;
    }

    // Reports a file whose completion the queue has recorded, and removes its
    // local copy when asked to.
    void complete(Staged& s, const std::string& verified_by) {
        s.done = true;
        const auto& row = s.row;
        const auto path = local_path(row);
        const auto size = row.version.size;
        logger().info("uploaded {} ({}, {:.1f} MB/s, verified by {})", path, format_size(size),
                      mb_per_s(s.attempt.bytes_sent, s.attempt.seconds), verified_by);
        logger().audit(AuditEvent::transfer_completed, {{"path", path},
                                                        {"bytes", size},
                                                        {"bytes_sent", s.attempt.bytes_sent},
                                                        {"seconds", s.attempt.seconds},
                                                        {"mb_per_s", mb_per_s(s.attempt.bytes_sent, s.attempt.seconds)},
                                                        {"sha256", s.sha256},
                                                        {"verified_by", verified_by}});
        m_run.reporter.transfer(row, FileState::completed,
                                {{"attempt", row.attempts + 1},
                                 {"bytes", size},
                                 {"bytes_sent", s.attempt.bytes_sent},
                                 {"seconds", s.attempt.seconds},
                                 {"mbps", mbps(s.attempt.bytes_sent, s.attempt.seconds)},
                                 {"sha256", s.sha256},
                                 {"verified_by", verified_by},
                                 {"target", m_target->location(row.rel_path)}});
        m_run.files_done += 1;
        m_run.count([&](RunSummary& sum) {
            ++sum.uploaded;
            sum.bytes_uploaded += size;
        });
        if (m_run.options.remove_source == RemoveSource::yes && verified_by != "none") {
            if (auto removed = remove_source_file(row.source, row.rel_path, row.version); removed) {
                logger().info("removed {} (its copy on the NAS is verified by {})", path, verified_by);
                logger().audit(AuditEvent::file_removed,
                               {{"path", path}, {"sha256", s.sha256}, {"verified_by", verified_by}});
                m_run.count([](RunSummary& sum) { ++sum.removed; });
            } else {
                logger().warning("{}", removed.error().message);
            }
        }
    }

    // The batch verify itself failed: every staged file's attempt failed, or
    // the target is gone and they are released.
    void fail_batch(const Error& error) {
        if (error.code == ExitCode::unavailable) {
            m_dead = true;
            m_run.target_unavailable(error);
            release_staged();
            return;
        }
        for (auto& s : m_staged) {
            s.done = true;
            failed_attempt(s.row, error, s.attempt);
        }
        m_staged.clear();
        m_staged_bytes = 0;
    }

    // Staged files not completed go back to pending; their full temporary
    // copy makes the next run's attempt a verify only.
    void release_staged() {
        for (auto& s : m_staged) {
            if (s.done) continue;
            s.done = true;
            released(s.row, m_dead ? "target unavailable" : "stopped");
        }
        m_staged.clear();
        m_staged_bytes = 0;
    }

    RunState& m_run;
    const TargetFactory& m_make_target;
    std::unique_ptr<Target> m_target;
    std::vector<char> m_buffer;
    std::vector<Staged> m_staged;
    std::uint64_t m_staged_bytes = 0;
    std::set<std::string> m_folders_made;
    std::optional<std::uint64_t> m_space;
    Steady::time_point m_space_at;
    bool m_space_unknown = false;
    bool m_no_room_logged = false;
    bool m_dead = false;
};

struct ScanCounts {
    std::uint64_t scanned = 0, added = 0, changed = 0, conflicts = 0, errors = 0;
};

Result<ScanCounts> scan_into_queue(const RunOptions& options, Queue& queue, Reporter& reporter) {
    ScanCounts counts;
    for (const auto& source : options.sources) {
        const std::string src = source.string();
        if (auto begun = queue.begin_scan(); !begun) return std::unexpected(begun.error());
        std::optional<Error> db_failure;
        auto stats = scan_source(source, options.filter, [&](const ScannedFile& file) -> Result<void> {
            auto registered = queue.register_file(src, file);
            if (!registered) {
                db_failure = registered.error();
                return std::unexpected(registered.error());
            }
            switch (*registered) {
                case Registered::unchanged: break;
                case Registered::added:
                case Registered::changed: {
                    const bool added = *registered == Registered::added;
                    (added ? counts.added : counts.changed) += 1;
                    const auto path = (source / file.rel_path).string();
                    logger().audit(AuditEvent::file_discovered,
                                   {{"path", path}, {"size", file.version.size}, {"changed", !added}});
                    FileRow row;
                    row.source = src;
                    row.rel_path = file.rel_path;
                    reporter.transfer(row, FileState::pending,
                                      {{"reason", added ? "discovered" : "changed"}, {"bytes", file.version.size}});
                    break;
                }
                case Registered::conflict:
                    ++counts.conflicts;
                    logger().warning("not queueing {}: another source already has a file at {} on the target",
                                     (source / file.rel_path).string(), file.rel_path);
                    break;
            }
            return {};
        });
        if (auto ended = queue.end_scan(); !ended) return std::unexpected(ended.error());
        if (db_failure) return std::unexpected(*db_failure);
        if (!stats) {
            logger().error("{}", stats.error().message);
            ++counts.errors;
            continue;
        }
        counts.scanned += stats->files;
        counts.errors += stats->errors;
        logger().debug("scanned {}: {} files, {} folders, {} excluded, {} links skipped, {} unreadable", src,
                       stats->files, stats->folders, stats->excluded, stats->symlinks, stats->errors);
    }
    return counts;
}

}  // namespace

ExitCode RunSummary::exit_code() const noexcept {
    if (interrupted) return ExitCode::interrupted;
    if (target_unavailable) return ExitCode::unavailable;
    if (held_no_space > 0) return ExitCode::cant_create;
    if (failed_attempts > 0) return ExitCode::io_error;
    if (source_errors > 0) return ExitCode::no_input;
    return ExitCode::ok;
}

Result<RunSummary> run_sync(const RunOptions& options, Queue& queue, const Clock& clock,
                            const TargetFactory& make_target, const RunOutputs& outputs) {
    const auto started = Steady::now();
    RunState run(options, queue, clock, outputs);

    auto recovered = queue.recover_interrupted();
    if (!recovered) return std::unexpected(recovered.error());
    if (*recovered > 0) logger().info("{} transfers were interrupted by an earlier run; they will resume", *recovered);
    run.summary.recovered = *recovered;

    auto scanned = scan_into_queue(options, queue, run.reporter);
    if (!scanned) return std::unexpected(scanned.error());
    run.summary.scanned = scanned->scanned;
    run.summary.added = scanned->added;
    run.summary.changed = scanned->changed;
    run.summary.conflicts = scanned->conflicts;
    run.summary.source_errors = scanned->errors;

    auto backlog = queue.count_eligible();
    if (!backlog) return std::unexpected(backlog.error());
    // The first connection is made alone: a refused host key or login fails
    // once, and an accepted new host key is recorded once, not by every worker.
    std::unique_ptr<Target> first;
    if (backlog->files > 0) {
        auto target = make_target();
        if (!target) {
            if (target.error().code != ExitCode::unavailable) return std::unexpected(target.error());
            run.target_unavailable(target.error());
        } else {
            first = std::move(*target);
        }
    }
    if (first) {
        const int jobs = static_cast<int>(std::min<std::uint64_t>(std::max(options.jobs, 1), backlog->files));
        std::vector<std::thread> threads;
        std::atomic<int> running{jobs};
        std::mutex done_mutex;
        std::condition_variable done;
        for (int i = 0; i < jobs; ++i) {
            threads.emplace_back([&, target = i == 0 ? std::move(first) : nullptr]() mutable {
                Worker worker(run, make_target, std::move(target));
                worker();
                {
                    std::lock_guard lock(done_mutex);
                    --running;
                }
                done.notify_all();
            });
        }
        ProgressLine progress(stderr, outputs.progress);
        {
            std::unique_lock lock(done_mutex);
            while (running.load() > 0) {
                done.wait_for(lock, std::chrono::milliseconds(100));
                progress.update(run.files_done.load(), backlog->files, run.bytes_done.load(), backlog->bytes);
            }
        }
        progress.clear();
        for (auto& t : threads) t.join();
    }
    if (auto fatal = run.fatal_error()) return std::unexpected(*fatal);

    auto waiting = queue.count_waiting();
    if (!waiting) return std::unexpected(waiting.error());
    auto left = queue.count_eligible();
    if (!left) return std::unexpected(left.error());
    RunSummary summary = run.summary;
    summary.waiting = *waiting;
    summary.left_pending = left->files;
    summary.bytes_sent = run.bytes_sent.load();
    summary.seconds = seconds_since(started);
    return summary;
}

Result<DryRunSummary> plan_sync(const RunOptions& options, Queue* queue, const QueuePolicy& policy, const Clock& clock,
                                const std::function<void(const PlannedFile&)>& visit) {
    DryRunSummary summary;
    const auto now = clock.now();
    const auto stable_cutoff = now - policy.min_age;
    for (const auto& source : options.sources) {
        const std::string src = source.string();
        auto stats = scan_source(source, options.filter, [&](const ScannedFile& file) -> Result<void> {
            std::optional<FileRow> row;
            if (queue != nullptr) {
                auto found = queue->find(src, file.rel_path);
                if (!found) return std::unexpected(found.error());
                row = std::move(*found);
            }
            PlannedFile plan{src, file.rel_path, file.version.size, PlannedFile::Action::upload, row.has_value()};
            if (!row || row->version != file.version) {
                ++summary.would_queue;
                const bool stable = stable_since_for(now, file.version) <= stable_cutoff;
                plan.action = stable ? PlannedFile::Action::upload : PlannedFile::Action::queue_new;
            } else if (row->state == FileState::transferring) {
                plan.action = PlannedFile::Action::upload;  // a crashed run's file: recovered first
            } else if (row->state == FileState::pending) {
                plan.action = is_eligible(*row, now, policy) ? PlannedFile::Action::upload : PlannedFile::Action::wait;
            } else {
                return {};  // completed or failed, unchanged: nothing to do
            }
            if (plan.action == PlannedFile::Action::upload) {
                ++summary.would_upload;
                summary.upload_bytes += plan.size;
            } else {
                ++summary.would_wait;
            }
            visit(plan);
            return {};
        });
        if (!stats) {
            if (stats.error().code != ExitCode::no_input) return std::unexpected(stats.error());
            logger().error("{}", stats.error().message);
            ++summary.source_errors;
            continue;
        }
        summary.source_errors += stats->errors;
    }
    return summary;
}

Result<VerifySummary> verify_completed(Queue& queue, Target& target, Verify verify, DryRun dry_run, std::size_t batch) {
    VerifySummary summary;
    std::int64_t after = 0;
    bool can_hash = verify != Verify::size && verify != Verify::none;
    for (;;) {
        auto rows = queue.rows(FileState::completed, after, std::max<std::size_t>(batch, 1));
        if (!rows) return std::unexpected(rows.error());
        if (rows->empty()) break;
        after = rows->back().id;

        std::vector<std::optional<VerifyProblem>> found(rows->size());
        std::vector<std::size_t> to_hash;
        for (std::size_t i = 0; i < rows->size(); ++i) {
            const auto& row = (*rows)[i];
            auto st = target.stat(row.rel_path);
            if (!st) return std::unexpected(st.error());
            if (!st->exists || !st->is_regular) {
                found[i] = VerifyProblem{row, "missing", fmt::format("{} is missing", target.location(row.rel_path))};
            } else if (st->size != row.version.size) {
                found[i] = VerifyProblem{row, "size",
                                         fmt::format("{} has {} bytes, the local file had {}",
                                                     target.location(row.rel_path), st->size, row.version.size)};
            } else if (can_hash && row.sha256) {
                to_hash.push_back(i);
            }
        }
        if (!to_hash.empty()) {
            std::vector<std::string> paths;
            for (auto i : to_hash) paths.push_back((*rows)[i].rel_path);
            auto digests = target.sha256(paths);
            if (!digests) return std::unexpected(digests.error());
            if (!*digests) {
                if (verify == Verify::sha256)
                    return fail(ExitCode::unavailable,
                                fmt::format("{} cannot compute SHA-256 (--verify sha256); use --verify auto or size",
                                            target.describe()));
                can_hash = false;
            } else {
                for (std::size_t k = 0; k < to_hash.size(); ++k) {
                    const auto i = to_hash[k];
                    const auto& row = (*rows)[i];
                    const auto& d = (**digests)[k];
                    ++summary.hashed;
                    if (!d) {
                        found[i] =
                            VerifyProblem{row, "missing", fmt::format("{} is missing", target.location(row.rel_path))};
                    } else if (lower(*d) != *row.sha256) {
                        found[i] = VerifyProblem{row, "sha256",
                                                 fmt::format("{} has SHA-256 {}, the upload had {}",
                                                             target.location(row.rel_path), lower(*d), *row.sha256)};
                    }
                }
            }
        }
        for (std::size_t i = 0; i < rows->size(); ++i) {
            ++summary.checked;
            if (!found[i]) {
                ++summary.ok;
                continue;
            }
            auto& problem = *found[i];
            const auto& row = problem.row;
            struct stat st {};
            const auto path = local_path(row);
            const bool local_same =
                ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && file_version(st) == row.version;
            if (local_same && dry_run == DryRun::no) {
                if (auto requeued = queue.requeue(row.id, "verify: " + problem.detail); !requeued)
                    return std::unexpected(requeued.error());
                problem.requeued = true;
                logger().warning("{}: queued for upload again", problem.detail);
            } else if (!local_same) {
                logger().error("{}; the local file is gone or changed, so it cannot be uploaded again", problem.detail);
            }
            summary.problems.push_back(std::move(problem));
        }
    }
    return summary;
}

}  // namespace nasops::sync
