#include "worker.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>

#include "background_hasher.hpp"
#include "copy_check.hpp"
#include "nasops/core/log.hpp"
#include "nasops/obs/trace.hpp"
#include "nasops/util/sha256.hpp"
#include "nasops/util/units.hpp"
#include "scanner.hpp"
#include "source_removal.hpp"

namespace nasops::sync {

namespace {

enum class Adopted : bool { no, yes };

// What happens to the partial copy of a file whose write found the target
// full: a large file's is kept to resume from; a small file's is removed, as
// small files are always sent whole.
enum class PartialCopy : bool { keep, remove };

// Free space on the target against what a file needs there.
struct Room {
    std::uint64_t available = 0;
    std::uint64_t needed = 0;
};

constexpr std::size_t k_chunk = std::size_t{1} << 20;  // one read, one hash update, one target write
constexpr std::uint64_t k_batch_bytes = 64ull << 20;   // verify at least every 64 MiB
// Files up to this size are read whole and written in batches, many requests
// in flight at once; above it, the transfer time dwarfs the round trips.
constexpr std::uint64_t k_small_file = 256 * 1024;
// Files from this size on are hashed by the target while they are written,
// where it can (TargetFile::hash_while_written): below it, reading the file
// again costs the NAS less than starting the processes that follow it.
constexpr std::uint64_t k_hash_while_written = 16ull << 20;
constexpr std::size_t k_small_batch_files = 64;
constexpr std::uint64_t k_small_batch_bytes = 2 * 1024 * 1024;
constexpr std::size_t k_adopt_batch = 256;                 // files looked for on the target together (Adopt::yes)
constexpr std::uint64_t k_space_margin = 64 * 1024;        // room kept for the file system's own blocks
constexpr auto k_space_refresh = std::chrono::seconds(2);  // how long a free-space reading is trusted

// Bytes per second, as transfer records carry it (base units).
double bytes_per_second(std::uint64_t bytes, double seconds) {
    return seconds > 0 ? static_cast<double>(bytes) / seconds : 0.0;
}

// Megabytes (10^6) per second, as the audit trail and logs say it.
double mb_per_s(std::uint64_t bytes, double seconds) {
    return seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0.0;
}

// How the copies of a batch were verified ("sha256", "size", "none"), and
// why not by SHA-256 when they were not.
struct Verification {
    std::string by;
    std::optional<std::string> reason;
};

// A file written under its temporary name, waiting for the batch verify; or
// one found on the target already, waiting for its adoption.
struct Staged {
    FileRow row;
    std::string temp;    // the copy on the target: its temporary name (an adopted file's final name)
    std::string sha256;  // of the local file, from the upload's read pass
    AttemptResult attempt;
    bool outcome_recorded = false;  // completed, failed or released: nothing is left to do for it
};

// The clock of one attempt, and what it has sent so far.
struct Timing {
    Steady::time_point started;
    AttemptResult attempt;

    const AttemptResult& elapsed() {
        attempt.seconds = seconds_since(started);
        return attempt;
    }
};

// A small file read whole, waiting to be written with its batch.
struct SmallFile {
    FileRow row;
    std::string temp;
    std::string data;
    std::string sha256;
    Timing timing;
};

// Under a trace, the span of the work in hand (a batch of small files, a
// large file, a verify): its failed attempts mark it failed. For a scope,
// `span` is in hand, and it ends with the scope.
class SpanInHand {
public:
    SpanInHand(Span*& slot, std::optional<Span>& span)
        : m_slot(slot), m_span(span), m_previous(std::exchange(slot, span ? &*span : nullptr)) {}
    SpanInHand(const SpanInHand&) = delete;
    SpanInHand& operator=(const SpanInHand&) = delete;
    ~SpanInHand() {
        m_slot = m_previous;
        m_span.reset();
    }

private:
    Span*& m_slot;
    std::optional<Span>& m_span;
    Span* m_previous;
};

// Marks the span in hand failed: its message is the first failure's, and
// sync.failed counts them.
void mark_failed(Span* span, std::string_view message) {
    if (span == nullptr) return;
    if (span->data().status != SpanStatus::error) span->set_error(message);
    span->set_attribute("sync.failed", span->data().attributes.value("sync.failed", 0) + 1);
}

class Worker {
public:
    // `target`: a connection made already (the first worker's), else one is made.
    Worker(RunState& run, const TargetFactory& make_target, std::unique_ptr<Target> target)
        : m_run(run), m_make_target(make_target), m_target(std::move(target)) {}

    void operator()() {
        if (!m_target) {
            auto target = m_make_target();
            if (!target) {
                setup_failed(target.error());
                return;
            }
            m_target = std::move(*target);
        }
        if (auto root = m_target->make_dirs(""); !root) {
            setup_failed(root.error());
            return;
        }
        // Not zeroed: a run of small files never touches these pages, nor counts them in its RSS.
        for (auto& buffer : m_buffers) buffer = std::make_unique_for_overwrite<char[]>(k_chunk);
        while (!m_target_lost && m_run.may_start()) {
            auto row = m_run.next();
            if (!row) {
                m_run.fatal(row.error());
                break;
            }
            if (!*row) break;
            if ((*row)->adopt) {
                add_adoptable(**row);
            } else {
                send(**row);
            }
            m_log.flush();
        }
        if (!m_target_lost) adopt_batch();
        if (!m_target_lost) flush_small();
        drop_small();
        if (!m_target_lost) verify_and_commit();
        if (!m_target_lost) finish_verify();
        release_staged();
        m_verify_span.reset();
        m_log.flush();
    }

private:
    // ---- outcomes of one file ------------------------------------------------

    // Whether a change to the queue was saved; a database failure is the run's
    // fatal error, and stops it.
    bool saved_in_queue(const Result<void>& r) {
        if (!r) m_run.fatal(r.error());
        return static_cast<bool>(r);
    }

    // The file goes back to pending without counting an attempt (the run
    // stopped, the target is gone or full); `reason` is said in its transfer
    // record, and `why`, when given, is kept as its last error too.
    void release_to_pending(const FileRow& row, std::string_view reason,
                            std::optional<std::string_view> why = std::nullopt) {
        if (!saved_in_queue(m_run.queue.release(row.id, why))) return;
        if (m_span_in_hand != nullptr) m_span_in_hand->set_attribute("sync.released", std::string(reason));
        nlohmann::json fields{{"reason", reason}};
        if (why) fields["error"] = *why;
        m_run.reporter.transfer(row, FileState::pending, std::move(fields));
    }

    // Whether the local file of `row` is gone (removed before it could be
    // uploaded): then it is recorded failed, with no retry, at once.
    bool source_vanished(const FileRow& row) {
        const auto path = local_path(row);
        std::error_code ec;
        if (std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found) return false;
        const std::string why = "the local file is gone: it was removed before it could be uploaded";
        const int attempt_no = row.attempts + 1;
        m_log.warning("{}: {}", path, why);
        if (!saved_in_queue(m_run.queue.mark_vanished(row.id, why))) return true;
        m_log.audit(AuditEvent::transfer_failed,
                    {{"path", path}, {"error", why}, {"attempt", attempt_no}, {"final", true}});
        m_run.reporter.transfer(row, FileState::failed, {{"attempt", attempt_no}, {"error", why}});
        m_run.count([](RunSummary& s) {
            ++s.failed_attempts;
            ++s.gave_up;
        });
        return true;
    }

    // The local file changed during its upload: queued again as its new version.
    void requeue_changed(const FileRow& row, const FileVersion& now) {
        m_log.info("{} changed while it was being uploaded; it will be uploaded once it is stable", local_path(row));
        if (!saved_in_queue(m_run.queue.mark_changed(row.id, now))) return;
        m_run.reporter.transfer(row, FileState::pending, {{"reason", "changed"}});
    }

    void failed_attempt(const FileRow& row, const Error& error, const AttemptResult& attempt) {
        mark_failed(m_span_in_hand, error.message);
        auto updated = m_run.queue.mark_failed_attempt(row.id, error.message, attempt);
        if (!updated) {
            m_run.fatal(updated.error());
            return;
        }
        const bool gave_up = updated->state == FileState::failed;
        const int max_attempts = m_run.queue.policy().max_retries + 1;
        if (gave_up) {
            m_log.error("giving up on {} after {} attempts: {}", local_path(row), updated->attempts, error.message);
        } else {
            m_log.warning("cannot upload {} (attempt {} of {}): {}; next attempt after {}", local_path(row),
                          updated->attempts, max_attempts, error.message, updated->next_attempt_at.value_or("?"));
        }
        m_log.audit(
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

    // ---- target errors -----------------------------------------------------------

    // Whether `error` says the target is gone (RunState::target_lost): then
    // this worker stops, and whatever it holds goes back to pending.
    bool target_gone(const Error& error) {
        if (!m_run.target_lost(error)) return false;
        m_target_lost = true;
        mark_failed(m_span_in_hand, error.message);
        return true;
    }

    // A target error before any file was taken: the target is gone, or the
    // error stops the run (a refused host key, a root that cannot be made).
    void setup_failed(const Error& error) {
        if (!target_gone(error)) m_run.fatal(error);
    }

    // Whether `error` says the target is gone; if so `row` is released.
    bool release_if_gone(const FileRow& row, const Error& error) {
        if (!target_gone(error)) return false;
        release_to_pending(row, "target unavailable");
        return true;
    }

    // A target error about the file in hand: the target is gone (the file is
    // released) or this attempt failed.
    void target_error(const FileRow& row, const Error& error, const AttemptResult& attempt) {
        if (!release_if_gone(row, error)) failed_attempt(row, error, attempt);
    }

    // ---- one upload ------------------------------------------------------------

    // Whether `need` bytes fit on the target, from a reading refreshed every
    // few seconds (one statvfs per file would cost a round trip each).
    std::optional<bool> has_room(std::uint64_t need) {
        if (m_space_unknown) return true;
        const auto now = Steady::now();
        if (!m_space || now - m_space_at > k_space_refresh || *m_space < need + k_space_margin) {
            auto space = m_target->available_space("");
            if (!space) {
                if (target_gone(space.error())) return std::nullopt;
                // Asking again for every file would cost a remote command each: give up for this run.
                m_log.warning("{}; uploading without checking the free space", space.error().message);
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

    // The temporary name of a file's upload, in its destination folder.
    static std::string temp_path(const FileRow& row) {
        return join_path(parent_of(row.rel_path), temp_name_for(name_of(row.rel_path)));
    }

    // Whether the file, sent from `offset`, fits on the target: then its room
    // is taken off the free-space reading. A file that does not fit is held
    // (STORAGE_WARNING); one whose target is gone is recorded as such.
    bool reserve_room(const FileRow& row, std::uint64_t offset) {
        const auto need = row.version.size - offset;
        if (m_run.target_full) {
            const auto available = m_run.full_available.load();
            hold_for_room(row, {available, need},
                          fmt::format("held: {} was found full during this run ({} free, {} needed)",
                                      m_target->describe(), format_size(available), format_size(need)));
            return false;
        }
        const auto room = has_room(need);
        if (!room) return false;
        if (*room) return true;
        const Room lacking{m_space.value_or(0), need};
        if (hold_for_room(row, lacking,
                          fmt::format("held: not enough room on {} ({} free, {} needed)", m_target->describe(),
                                      format_size(lacking.available), format_size(need))))
            log_no_room_once(row);
        return false;
    }

    // A file held for lack of room on the target: it stays pending (or goes
    // back to it, when its write found the target full) with `why` as its
    // last error, no attempt counted; STORAGE_WARNING, and the run exits 73.
    // One whose local file is gone meanwhile is recorded as vanished instead
    // (false), so that it is not held run after run.
    bool hold_for_room(const FileRow& row, Room room, const std::string& why) {
        if (source_vanished(row)) return false;
        release_to_pending(row, "no room", why);
        m_run.count([](RunSummary& s) { ++s.held_no_space; });
        m_log.audit(AuditEvent::storage_warning, {{"path", local_path(row)},
                                                  {"size", row.version.size},
                                                  {"available", room.available},
                                                  {"needed", room.needed},
                                                  {"target", m_target->describe()}});
        return true;
    }

    // After a failed write of `temp` (open, write or close): whether the file
    // system that holds it lacks room for the rest of the file, asked now.
    // A small file's partial copy is removed first (PartialCopy::remove), as
    // small files are always sent whole. nullopt: it has room, or the target
    // cannot tell (or is gone): the failure stands as it is.
    std::optional<Room> lacking_room(const FileRow& row, const std::string& temp, PartialCopy partial) {
        std::uint64_t on_target = 0;
        if (partial == PartialCopy::remove) {
            if (auto removed = m_target->remove(temp); !removed && target_gone(removed.error())) return std::nullopt;
        } else {
            auto part = std::move(m_target->stat(std::span(&temp, 1)).front());
            if (!part && target_gone(part.error())) return std::nullopt;
            if (part && part->exists && part->is_regular) on_target = std::min(part->size, row.version.size);
        }
        auto space = m_target->available_space(parent_of(temp));
        if (!space) {
            if (!target_gone(space.error())) m_log.debug("{}", space.error().message);
            return std::nullopt;
        }
        const Room room{*space, row.version.size - on_target};
        if (room.available >= room.needed + k_space_margin) return std::nullopt;
        return room;
    }

    // A write of the file in hand failed: the target is gone (the file is
    // released), full (the file is held: see man nasops-sync, "A full NAS"),
    // or this attempt failed.
    void write_failed(const FileRow& row, const std::string& temp, PartialCopy partial, const Error& error,
                      Timing& timing) {
        if (release_if_gone(row, error)) return;
        const auto room = lacking_room(row, temp, partial);
        if (m_target_lost) {
            release_to_pending(row, "target unavailable");
            return;
        }
        if (!room) {
            failed_attempt(row, error, timing.elapsed());
            return;
        }
        m_run.full_available = room->available;
        m_run.target_full = true;
        mark_failed(m_span_in_hand, "the NAS is full");
        const auto why = fmt::format("held: the NAS is full: {} could not be written ({} free, {} more needed)",
                                     m_target->location(temp), format_size(room->available), format_size(room->needed));
        if (!hold_for_room(row, *room, why)) return;
        m_log.warning(
            "{} is full: cannot finish {}: {} could not be written ({} free, {} more needed); it stays "
            "pending, {}, and no other file is started in this run",
            m_target->describe(), local_path(row), m_target->location(temp), format_size(room->available),
            format_size(room->needed),
            partial == PartialCopy::keep ? "its partial copy kept to resume from" : "its partial copy removed");
    }

    // Reports an attempt the queue has marked transferring; its clock starts.
    Steady::time_point announce(const FileRow& row, std::uint64_t offset) {
        const int attempt_no = row.attempts + 1;
        if (m_run.reporter.enabled())
            m_run.reporter.transfer(
                row, FileState::transferring,
                {{"attempt", attempt_no}, {"bytes", offset}, {"target", m_target->location(row.rel_path)}});
        m_log.audit(
            AuditEvent::transfer_started,
            {{"path", local_path(row)}, {"size", row.version.size}, {"attempt", attempt_no}, {"offset", offset}});
        if (offset > 0) m_log.info("resuming {} at byte {}", local_path(row), offset);
        return Steady::now();
    }

    // Starts an attempt that sends the file from `offset`: checks that it fits
    // on the target, marks it transferring and reports that. nullopt when the
    // file is not started (held for room, target gone, database failure): the
    // outcome is recorded already.
    std::optional<Steady::time_point> start_attempt(const FileRow& row, std::uint64_t offset) {
        if (!reserve_room(row, offset)) return std::nullopt;
        if (!saved_in_queue(m_run.queue.mark_transferring(row.id))) return std::nullopt;
        return announce(row, offset);
    }

    // Opens the local file of a started attempt and checks that it is still the
    // queued version. nullopt when it is gone, unreadable or changed: the
    // outcome is recorded already.
    std::optional<UniqueFd> open_source(const FileRow& row, Timing& timing) {
        auto opened = m_sources.open(row.source, row.rel_path);
        if (!opened) {
            if (!source_vanished(row)) failed_attempt(row, opened.error(), timing.elapsed());
            return std::nullopt;
        }
        if (file_version(opened->st) != row.version) {
            requeue_changed(row, file_version(opened->st));
            return std::nullopt;
        }
        return std::move(opened->fd);
    }

    // Whether the local file behind `fd` is still the queued version, all of
    // whose `size` bytes were read; records the change when not.
    bool unchanged_after_read(const FileRow& row, int fd, std::uint64_t read) {
        struct stat st {};
        if (::fstat(fd, &st) == 0 && file_version(st) == row.version && read == row.version.size) return true;
        requeue_changed(row, file_version(st));
        return false;
    }

    // The local file of a started attempt could not be read: `error` is the errno.
    void read_failed(const FileRow& row, int error, Timing& timing) {
        failed_attempt(
            row, Error{fmt::format("cannot read {}: {}", local_path(row), std::strerror(error)), ExitCode::io_error},
            timing.elapsed());
    }

    // Creates the destination folder of a started attempt, once per run.
    bool make_folder(const FileRow& row, Timing& timing) {
        const std::string folder(parent_of(row.rel_path));
        if (m_run.folders_made.contains(folder)) return true;
        if (auto made = m_target->make_dirs(folder); !made) {
            target_error(row, made.error(), timing.elapsed());
            return false;
        }
        m_run.folders_made.insert(folder);
        return true;
    }

    // Waits until the bandwidth limit allows `bytes` more, then counts them as
    // sent for the file and the run.
    void throttle_and_count(std::uint64_t bytes, Timing& timing) {
        if (m_run.limiter) m_run.limiter->consume(bytes);
        timing.attempt.bytes_sent += bytes;
        m_run.bytes_sent += bytes;
        m_run.bytes_done += bytes;
    }

    // A copy is finished: `time_set` says whether its modification time is
    // set too. A target that refuses is logged once per run.
    void note_mtime_refusal(bool time_set) {
        if (!time_set && !m_run.mtime_refusal_logged.exchange(true)) {
            m_log.warning("{} does not let modification times be set (refused); the database keeps them",
                          m_target->describe());
        }
    }

    // A file written under its temporary name, its time set: it waits for the batch verify.
    void stage(const FileRow& row, std::string temp, std::string sha256, Timing& timing) {
        m_staged_bytes += row.version.size;
        m_staged.push_back(Staged{row, std::move(temp), std::move(sha256), timing.elapsed()});
    }

    // A large file, streamed: read in chunks, each hashed and written in the same pass.
    void upload(const FileRow& row) {
        auto span = child_span(m_run.outputs.trace, "sync file");
        const SpanInHand in_hand(m_span_in_hand, span);
        if (span) {
            span->set_attribute("file.path", local_path(row));
            span->set_attribute("file.size", row.version.size);
        }
        const std::string temp = temp_path(row);

        // An earlier attempt on this same version left a partial copy: resume it.
        std::uint64_t offset = 0;
        if (row.started_at) {
            auto partial = std::move(m_target->stat(std::span(&temp, 1)).front());
            if (!partial && target_gone(partial.error())) return;
            if (partial && partial->exists && partial->is_regular && partial->size <= row.version.size)
                offset = partial->size;
        }

        if (span && offset > 0) span->set_attribute("sync.offset", offset);
        const auto started = start_attempt(row, offset);
        m_log.flush();  // the start of a long upload is logged at its start
        if (!started) return;
        Timing timing{*started};
        auto fd = open_source(row, timing);
        if (!fd) return;
        if (!make_folder(row, timing)) return;
        auto file = m_target->open_write(temp, offset);
        if (!file) {
            write_failed(row, temp, PartialCopy::keep, file.error(), timing);
            return;
        }
        if (hashing() && row.version.size >= k_hash_while_written) (*file)->hash_while_written();

        BackgroundHasher hash;
        std::size_t turn = 0;  // the buffer read into: the other may still be in the hasher's hands
        std::uint64_t position = 0;
        for (;;) {
            if (m_run.must_abandon()) {
                file->reset();
                release_to_pending(row, m_run.interrupted() ? "interrupted" : "stopped");
                return;
            }
            auto& buffer = m_buffers[turn];
            turn ^= 1;
            const ssize_t n = ::read(fd->get(), buffer.get(), k_chunk);
            if (n < 0) {
                if (errno == EINTR) continue;
                read_failed(row, errno, timing);
                return;
            }
            if (n == 0) break;
            const std::string_view chunk(buffer.get(), static_cast<std::size_t>(n));
            hash.update(chunk);
            const auto end = position + chunk.size();
            if (end > offset) {
                const auto data = chunk.substr(offset > position ? offset - position : 0);
                throttle_and_count(data.size(), timing);
                if (auto written = (*file)->write(data); !written) {
                    file->reset();
                    write_failed(row, temp, PartialCopy::keep, written.error(), timing);
                    return;
                }
            }
            position = end;
        }
        if (!unchanged_after_read(row, fd->get(), position)) return;
        auto finished = (*file)->finish(row.version.mtime_ns);
        if (!finished) {
            file->reset();
            write_failed(row, temp, PartialCopy::keep, finished.error(), timing);
            return;
        }
        note_mtime_refusal(*finished);
        if (span) span->set_attribute("sync.bytes_sent", timing.attempt.bytes_sent);
        stage(row, temp, hash.hex_digest(), timing);
    }

    // Sends a file: a small one joins its batch, a large one is streamed;
    // then the files written are verified once there are enough of them.
    void send(const FileRow& row) {
        if (is_small(row)) {
            add_small(row);
            if (!m_target_lost && small_batch_full()) flush_small();
        } else {
            upload(row);
        }
        if (!m_target_lost && (m_staged.size() >= std::max<std::size_t>(m_run.options.verify_batch, 1) ||
                               m_staged_bytes >= k_batch_bytes))
            verify_and_commit();
    }

    // ---- adoption: files the target has already, after a lost database -----------

    // A file registered after the database was lost waits for its batch's
    // look at the target.
    void add_adoptable(const FileRow& row) {
        m_adoptable.push_back(row);
        if (m_adoptable.size() >= k_adopt_batch) adopt_batch();
    }

    // The SHA-256 of the local file of `row`, read here; nullopt when it cannot
    // be read whole or is no longer the queued version (it is then sent, and
    // its upload finds out why).
    std::optional<std::string> local_sha256(const FileRow& row) {
        auto opened = m_sources.open(row.source, row.rel_path);
        if (!opened || file_version(opened->st) != row.version) return std::nullopt;
        Sha256 hash;
        std::uint64_t read = 0;
        for (;;) {
            const ssize_t n = ::read(opened->fd.get(), m_buffers[0].get(), k_chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return std::nullopt;
            if (n == 0) break;
            hash.update(std::string_view(m_buffers[0].get(), static_cast<std::size_t>(n)));
            read += static_cast<std::uint64_t>(n);
        }
        struct stat st {};
        if (::fstat(opened->fd.get(), &st) != 0 || file_version(st) != row.version || read != row.version.size)
            return std::nullopt;
        return hash.hex_digest();
    }

    // Looks on the target for the final copies of the files waiting for
    // adoption: one whose copy has its size (and, when the verify hashes, its
    // SHA-256, which the target computes for the whole batch in one request,
    // as for a verify) is recorded completed without being sent; the others
    // are sent as any file is, their copies replaced through a temporary name.
    void adopt_batch() {
        if (m_adoptable.empty()) return;
        auto rows = std::exchange(m_adoptable, {});
        if (m_run.must_abandon()) return;  // not started: they stay pending, still to adopt
        std::vector<std::string> finals;
        finals.reserve(rows.size());
        for (const auto& row : rows) finals.push_back(row.rel_path);
        auto entries = m_target->stat(finals);

        std::vector<Staged> found;  // the same size on the target; `sha256` the local file's
        std::vector<FileRow> to_send;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            auto& entry = entries[i];
            if (!entry && target_gone(entry.error())) return;
            if (entry && entry->exists && entry->is_regular && entry->size == rows[i].version.size) {
                if (auto digest = local_sha256(rows[i])) {
                    found.push_back(Staged{rows[i], rows[i].rel_path, std::move(*digest), {}});
                    continue;
                }
            }
            to_send.push_back(std::move(rows[i]));
        }

        Verification verified = without_hash("size");
        if (!found.empty() && hashing()) {
            auto asked = m_target->sha256(temp_names(found));
            auto digests = asked ? asked->collect() : Result<std::optional<Digests>>(std::unexpected(asked.error()));
            if (!digests && target_gone(digests.error())) return;
            if (digests && *digests) {
                verified = {"sha256", std::nullopt};
                std::vector<Staged> same;
                for (std::size_t i = 0; i < found.size(); ++i) {
                    if (bad_copy(found[i], (**digests)[i])) {
                        to_send.push_back(std::move(found[i].row));
                    } else {
                        same.push_back(std::move(found[i]));
                    }
                }
                found = std::move(same);
            } else if (!digests || m_run.options.verify == Verify::sha256) {
                // No hash to compare where one is required (or asking failed): send them.
                for (auto& f : found) to_send.push_back(std::move(f.row));
                found.clear();
            }
        }
        adopt(found, verified);
        for (const auto& row : to_send) {
            if (m_target_lost || !m_run.may_start()) break;
            send(row);
        }
    }

    // Records `files`, found on the target, as completed without sending them.
    void adopt(std::vector<Staged>& files, const Verification& verified) {
        if (files.empty()) return;
        std::vector<Queue::Completion> completions;
        completions.reserve(files.size());
        for (const auto& f : files) completions.push_back({f.row.id, f.sha256, {}, verified.by, verified.reason});
        if (!saved_in_queue(m_run.queue.mark_adopted(completions))) return;
        for (auto& f : files) report_completed(f, verified, Adopted::yes);
        if (m_run.options.remove_source == RemoveSource::yes) {
            std::vector<FileRow> done;
            done.reserve(files.size());
            for (const auto& f : files) done.push_back(completed_row(f, verified));
            remove_sources(done);
        }
    }

    // ---- small files, in batches -------------------------------------------------

    static bool is_small(const FileRow& row) { return row.version.size <= k_small_file; }

    bool small_batch_full() const {
        return m_small_rows.size() >= k_small_batch_files || m_small_bytes >= k_small_batch_bytes ||
               m_small_rows.size() + m_staged.size() >= std::max<std::size_t>(m_run.options.verify_batch, 1);
    }

    // A small file waits for its batch; it is always sent whole, as a partial
    // copy is not worth resuming.
    void add_small(const FileRow& row) {
        m_small_bytes += row.version.size;
        m_run.bytes_batched += row.version.size;
        m_small_rows.push_back(row);
    }

    // Starts the attempts of the batch's files that fit and reads each whole,
    // hashing it. Their rows stay pending while the batch is in flight (see
    // Queue::mark_completed): a batch takes milliseconds, and one UPDATE per
    // file to say so cost a tenth of the client's CPU per small file.
    std::vector<SmallFile> read_small() {
        std::vector<FileRow> rows;
        rows.reserve(m_small_rows.size());
        for (auto& row : m_small_rows)
            if (!m_target_lost && reserve_room(row, 0)) rows.push_back(std::move(row));
        m_small_rows.clear();

        std::vector<SmallFile> files;
        files.reserve(rows.size());
        for (auto& row : rows) {
            if (m_target_lost) {
                release_to_pending(row, "target unavailable");
                continue;
            }
            Timing timing{announce(row, 0)};
            auto fd = open_source(row, timing);
            if (!fd) continue;
            // Exactly its size: a file that grew or shrank since its open is
            // caught by the fstat after the read, so no read(2) has to find its end.
            std::string data(row.version.size, '\0');
            std::size_t got = 0;
            bool read_error = false;
            while (got < data.size()) {
                const ssize_t n = ::read(fd->get(), data.data() + got, data.size() - got);
                if (n < 0) {
                    if (errno == EINTR) continue;
                    read_failed(row, errno, timing);
                    read_error = true;
                    break;
                }
                if (n == 0) break;
                got += static_cast<std::size_t>(n);
            }
            if (read_error || !unchanged_after_read(row, fd->get(), got)) continue;
            data.resize(got);
            if (!make_folder(row, timing)) continue;
            throttle_and_count(data.size(), timing);
            auto digest = sha256_hex(data);
            auto temp = temp_path(row);
            files.push_back(SmallFile{std::move(row), std::move(temp), std::move(data), std::move(digest), timing});
        }
        return files;
    }

    // Writes the batch of small files under their temporary names; each that
    // arrives is staged, each that fails is a failed attempt of its own.
    void flush_small() {
        if (m_small_rows.empty()) return;
        if (m_run.must_abandon()) {
            drop_small();
            return;
        }
        auto span = child_span(m_run.outputs.trace, "sync batch");
        const SpanInHand in_hand(m_span_in_hand, span);
        if (span) {
            span->set_attribute("sync.files", m_small_rows.size());
            span->set_attribute("sync.bytes", m_small_bytes);
        }
        // The batch's bytes count as batched until read_small has counted them
        // as sent: never as neither, so --max-bytes is not overshot.
        const auto batched = std::exchange(m_small_bytes, 0);
        auto batch = read_small();
        m_run.bytes_batched -= batched;
        if (m_target_lost) {
            for (const auto& f : batch) release_to_pending(f.row, "target unavailable");
            return;
        }
        if (batch.empty()) return;
        std::vector<WholeFile> files;
        files.reserve(batch.size());
        for (const auto& f : batch) files.push_back(WholeFile{f.temp, f.data, f.row.version.mtime_ns});
        const auto written = m_target->write_files(files);
        for (std::size_t i = 0; i < batch.size(); ++i) {
            auto& f = batch[i];
            if (!written[i]) {
                write_failed(f.row, f.temp, PartialCopy::remove, written[i].error(), f.timing);
                continue;
            }
            note_mtime_refusal(*written[i]);
            stage(f.row, std::move(f.temp), std::move(f.sha256), f.timing);
            if (span) span->set_attribute("sync.written", span->data().attributes.value("sync.written", 0) + 1);
        }
    }

    // Small files waiting for their batch were never started: they stay pending.
    void drop_small() {
        m_small_rows.clear();
        m_run.bytes_batched -= std::exchange(m_small_bytes, 0);
    }

    void log_no_room_once(const FileRow& row) {
        if (m_no_room_logged) return;
        m_no_room_logged = true;
        m_log.warning(
            "not enough room on {} for {} ({}; {} available): it stays pending, as will other files that "
            "do not fit",
            m_target->describe(), local_path(row), format_size(row.version.size), format_size(m_space.value_or(0)));
    }

    // ---- verify, rename, complete ----------------------------------------------

    static std::vector<std::string> temp_names(const std::vector<Staged>& batch) {
        std::vector<std::string> temps;
        temps.reserve(batch.size());
        for (const auto& s : batch) temps.push_back(s.temp);
        return temps;
    }

    // Why the temporary copy of `s` is not the file uploaded, as `evidence` shows it; nullopt when it is.
    std::optional<std::string> bad_copy(const Staged& s, const CopyEvidence& evidence) const {
        const auto problem = check_copy(evidence, m_target->location(s.temp), s.row.version.size, s.sha256);
        if (!problem) return std::nullopt;
        return "verification failed: " + problem->detail;
    }

    bool hashing() const { return m_run.options.verify == Verify::automatic || m_run.options.verify == Verify::sha256; }

    // Copies verified `by` "size" or "none", not by SHA-256: why, as the queue keeps it.
    Verification without_hash(std::string by) const {
        return {std::move(by), size_only_reason(m_run.options.verify, *m_target)};
    }

    // Ends the verify of the batch before, then starts that of the files
    // staged: their hashes are asked for now, and computed by the target while
    // this worker writes the next batch.
    void verify_and_commit() {
        finish_verify();
        if (m_staged.empty() || m_target_lost) return;
        m_verifying = std::exchange(m_staged, {});
        const auto bytes = std::exchange(m_staged_bytes, 0);
        if (auto span = child_span(m_run.outputs.trace, "sync verify batch")) {
            m_verify_span.emplace(std::move(*span));
            m_verify_span->set_attribute("sync.files", m_verifying.size());
            m_verify_span->set_attribute("sync.bytes", bytes);
        }
        if (!hashing()) return;
        auto asked = m_target->sha256(temp_names(m_verifying));
        if (!asked) {
            const SpanInHand in_hand(m_span_in_hand, m_verify_span);
            fail_batch(asked.error());
            return;
        }
        m_hashes.emplace(std::move(*asked));
    }

    // Checks the batch whose verify has begun against the target (its hashes,
    // or by size), removes the bad copies, gives the good ones their final
    // names and records them completed.
    void finish_verify() {
        if (m_verifying.empty()) return;
        const SpanInHand in_hand(m_span_in_hand, m_verify_span);
        const Verify mode = m_run.options.verify;
        std::vector<std::optional<std::string>> problems(m_verifying.size());
        Verification verified = without_hash(std::string(verify_name(mode)));

        bool hashed = false;
        if (hashing()) {
            auto digests =
                m_hashes ? m_hashes->collect() : fail(ExitCode::software, "the batch's SHA-256s were never asked for");
            m_hashes.reset();
            if (!digests) {
                fail_batch(digests.error());
                return;
            }
            if (*digests) {
                hashed = true;
                verified = {"sha256", std::nullopt};
                for (std::size_t i = 0; i < m_verifying.size(); ++i)
                    problems[i] = bad_copy(m_verifying[i], (**digests)[i]);
            } else if (mode == Verify::sha256) {
                for (auto& p : problems)
                    p = fmt::format(
                        "verification failed: {} cannot compute SHA-256 (--verify sha256); use --verify auto "
                        "or size",
                        m_target->describe());
            }
        }
        if (!hashed && mode != Verify::sha256 && mode != Verify::none) {
            verified = without_hash("size");
            const auto stats = m_target->stat(temp_names(m_verifying));
            for (std::size_t i = 0; i < m_verifying.size(); ++i) {
                const auto& st = stats[i];
                if (!st) {
                    fail_batch(st.error());
                    return;
                }
                problems[i] = bad_copy(m_verifying[i], *st);
            }
        }

        // Bad copies are removed; verified ones take their final names, all
        // renames of the batch at once.
        std::vector<std::size_t> good;
        for (std::size_t i = 0; i < m_verifying.size() && !m_target_lost; ++i) {
            auto& s = m_verifying[i];
            if (!problems[i]) {
                good.push_back(i);
                continue;
            }
            s.outcome_recorded = true;
            if (auto removed = m_target->remove(s.temp); !removed && release_if_gone(s.row, removed.error())) continue;
            failed_attempt(s.row, Error{*problems[i], ExitCode::data_error}, s.attempt);
        }
        std::vector<std::size_t> renamed;
        if (!m_target_lost && !good.empty()) {
            std::vector<RenamePair> pairs;
            pairs.reserve(good.size());
            for (auto i : good) pairs.push_back(RenamePair{m_verifying[i].temp, m_verifying[i].row.rel_path});
            const auto moved = m_target->rename(pairs);
            for (std::size_t k = 0; k < good.size(); ++k) {
                auto& s = m_verifying[good[k]];
                if (moved[k]) {
                    renamed.push_back(good[k]);
                    continue;
                }
                s.outcome_recorded = true;
                target_error(s.row, moved[k].error(), s.attempt);
            }
        }
        if (!renamed.empty()) {
            if (auto committed = m_target->commit(); !committed) {
                for (auto i : renamed) {
                    m_verifying[i].outcome_recorded = true;
                    target_error(m_verifying[i].row, committed.error(), m_verifying[i].attempt);
                }
                renamed.clear();
            }
        }
        if (!renamed.empty()) {
            std::vector<Queue::Completion> completions;
            completions.reserve(renamed.size());
            for (auto i : renamed)
                completions.push_back({m_verifying[i].row.id, m_verifying[i].sha256, m_verifying[i].attempt,
                                       verified.by, verified.reason});
            if (!saved_in_queue(m_run.queue.mark_completed(completions))) {
                release_staged();
                return;
            }
        }
        if (m_verify_span) {
            m_verify_span->set_attribute("sync.verified_by", verified.by);
            m_verify_span->set_attribute("sync.completed", renamed.size());
        }
        for (auto i : renamed) report_completed(m_verifying[i], verified, Adopted::no);
        if (m_run.options.remove_source == RemoveSource::yes) {
            std::vector<FileRow> done;
            done.reserve(renamed.size());
            for (auto i : renamed) done.push_back(completed_row(m_verifying[i], verified));
            remove_sources(done);
        }
        if (m_target_lost) {
            release_staged();
            return;
        }
        m_verifying.clear();
    }

    // Reports a file whose completion the queue has recorded: uploaded now,
    // or adopted (the target had it already; nothing was sent).
    void report_completed(Staged& s, const Verification& verified, Adopted adopted) {
        const std::string& verified_by = verified.by;
        s.outcome_recorded = true;
        const auto& row = s.row;
        const auto path = local_path(row);
        const auto size = row.version.size;
        const bool adopting = adopted == Adopted::yes;
        if (adopting) {
            m_log.info("adopted {}: {} has it already, with the same size{}; not sent again", path,
                       m_target->location(row.rel_path), verified_by == "sha256" ? " and SHA-256" : "");
        } else {
            m_log.info("uploaded {} ({}, {:.1f} MB/s, verified by {})", path, format_size(size),
                       mb_per_s(s.attempt.bytes_sent, s.attempt.seconds), verified_by);
        }
        nlohmann::json audit{{"path", path},
                             {"bytes", size},
                             {"bytes_sent", s.attempt.bytes_sent},
                             {"seconds", s.attempt.seconds},
                             {"mb_per_s", mb_per_s(s.attempt.bytes_sent, s.attempt.seconds)},
                             {"sha256", s.sha256},
                             {"verified_by", verified_by}};
        if (verified.reason) audit["verify_reason"] = *verified.reason;
        if (adopting) audit["adopted"] = true;
        m_log.audit(AuditEvent::transfer_completed, audit);
        if (m_run.reporter.enabled()) {
            nlohmann::json fields{{"bytes", size},
                                  {"bytes_sent", s.attempt.bytes_sent},
                                  {"seconds", s.attempt.seconds},
                                  {"bytes_per_second", bytes_per_second(s.attempt.bytes_sent, s.attempt.seconds)},
                                  {"sha256", s.sha256},
                                  {"verified_by", verified_by},
                                  {"target", m_target->location(row.rel_path)}};
            if (verified.reason) fields["verify_reason"] = *verified.reason;
            if (adopting) {
                fields["adopted"] = true;
            } else {
                fields["attempt"] = row.attempts + 1;
            }
            m_run.reporter.transfer(row, FileState::completed, std::move(fields));
        }
        m_run.files_done += 1;
        if (adopting) m_run.bytes_done += size;
        m_run.count([&](RunSummary& sum) {
            if (adopting) {
                ++sum.adopted;
            } else {
                ++sum.uploaded;
                sum.bytes_uploaded += size;
            }
        });
    }

    // The row of a file the queue has just recorded completed.
    static FileRow completed_row(const Staged& s, const Verification& verified) {
        FileRow row = s.row;
        row.state = FileState::completed;
        row.sha256 = s.sha256;
        row.verified_by = verified.by;
        row.verify_reason = verified.reason;
        return row;
    }

    // --remove-source: the local files of `rows`, completed now, are removed
    // where they are verified and unchanged (source_removal.hpp).
    void remove_sources(std::span<const FileRow> rows) {
        auto removed = remove_local_copies(rows, m_sources, m_run.queue, m_log);
        if (!removed) {
            m_run.fatal(removed.error());
            return;
        }
        m_run.count([&](RunSummary& sum) { sum.removed += *removed; });
    }

    // The verify of the batch in it failed: every file's attempt failed, or
    // the target is gone and they are released.
    void fail_batch(const Error& error) {
        if (target_gone(error)) {
            release_staged();
            return;
        }
        for (auto& s : m_verifying) {
            s.outcome_recorded = true;
            failed_attempt(s.row, error, s.attempt);
        }
        m_verifying.clear();
    }

    // Staged files not completed, in a verify or waiting for one, go back to
    // pending; their full temporary copy makes the next run's attempt a verify only.
    void release_staged() {
        for (auto* batch : {&m_verifying, &m_staged}) {
            for (auto& s : *batch) {
                if (s.outcome_recorded) continue;
                s.outcome_recorded = true;
                release_to_pending(s.row, m_target_lost ? "target unavailable" : "stopped");
            }
            batch->clear();
        }
        m_staged_bytes = 0;
    }

    RunState& m_run;
    const TargetFactory& m_make_target;
    std::unique_ptr<Target> m_target;
    std::array<std::unique_ptr<char[]>, 2> m_buffers;  // a large file's chunks, read into in turn
    SourceFiles m_sources;
    // The worker's lines, written at the end of each batch and before each large file's upload.
    LogBatch m_log{logger()};
    std::vector<Staged> m_staged;  // written, waiting for their verify
    std::uint64_t m_staged_bytes = 0;
    std::vector<Staged> m_verifying;         // the batch whose verify has begun
    std::optional<PendingDigests> m_hashes;  // its SHA-256s, asked of the target
    std::vector<FileRow> m_small_rows;       // small files waiting for their batch, not started
    std::vector<FileRow> m_adoptable;        // files to look for on the target first (Adopt::yes), not started
    std::uint64_t m_small_bytes = 0;
    std::optional<std::uint64_t> m_space;
    Steady::time_point m_space_at;
    bool m_space_unknown = false;
    bool m_no_room_logged = false;
    bool m_target_lost = false;  // the target is gone (target_gone): this worker stops
    // Under a trace: the span of the work in hand (SpanInHand), and that of
    // the batch whose verify has begun, which ends when the verify does.
    Span* m_span_in_hand = nullptr;
    std::optional<Span> m_verify_span;
};

}  // namespace

void run_worker(RunState& run, const TargetFactory& make_target, std::unique_ptr<Target> target) {
    Worker worker(run, make_target, std::move(target));
    worker();
}

}  // namespace nasops::sync
