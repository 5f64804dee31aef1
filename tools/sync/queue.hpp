#pragma once

// The transfer queue in media_files: registration of scanned files, the
// stability rule (min-age), the states pending -> transferring -> completed |
// failed, retries with exponential backoff, and recovery after a crash.
// Every change of state is one transaction. A Queue may be used from several
// threads (the upload workers): its methods serialise on one mutex.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/db/host_keys.hpp"
#include "nasops/util/clock.hpp"
#include "nasops/util/units.hpp"
#include "scanner.hpp"

namespace nasops::sync {

enum class FileState { pending, transferring, completed, failed };

enum class DryRun : bool { no, yes };

// Whether the files a scan registers are to be looked for on the target
// before they are sent (the database is new: the old one was lost).
enum class Adopt : bool { no, yes };

std::string_view state_name(FileState state) noexcept;
std::optional<FileState> parse_state(std::string_view name) noexcept;

struct FileRow {
    std::int64_t id = 0;
    std::string source;
    std::string rel_path;
    FileVersion version;
    FileState state = FileState::pending;
    int attempts = 0;  // finished attempts: completed or failed ones
    std::optional<std::string> last_error;
    std::optional<std::string> sha256;
    std::optional<std::string> discovered_at;
    std::optional<std::string> stable_since;
    std::optional<std::string> started_at;  // set while an upload of this version has begun; cleared by a new version
    std::optional<std::string> completed_at;
    std::optional<std::uint64_t> bytes_sent;
    std::optional<double> seconds;
    std::optional<std::string> next_attempt_at;
    std::optional<std::string> verified_by;    // completed: "sha256", "size" or "none"; NULL before schema v3
    std::optional<std::string> verify_reason;  // verified by size or not at all: why (--verify size, the NAS's answer)
    std::optional<std::string> removed_at;     // when --remove-source removed the local file
    bool adopt = false;  // registered after the database was lost: looked for on the target before it is sent
};

// Where the row's file is on the local disk: its source folder / rel_path.
std::string local_path(const FileRow& row);

struct QueuePolicy {
    // A file is eligible once its size and mtime have not changed for this long.
    Duration min_age = std::chrono::seconds(30);
    // Retries after the first failed attempt; then the file is `failed`.
    int max_retries = 5;
    // The wait after the n-th failure is backoff_base * 2^(n-1), at most backoff_max.
    Duration backoff_base = std::chrono::seconds(30);
    Duration backoff_max = std::chrono::hours(1);
};

// The wait before the next attempt after `failures` failed attempts (>= 1).
Duration backoff_delay(const QueuePolicy& policy, int failures) noexcept;

// When a file seen with `version` at `now` counts as unchanged since: the
// time it was first seen so, or its mtime if that is older.
SystemTimePoint stable_since_for(SystemTimePoint now, const FileVersion& version) noexcept;

// The min-age rule, decided here once: a run at `now` may upload a row that
// is pending, unchanged for min_age (stable_since at or before now - min_age)
// and past its next attempt time. The SQL condition and the C++ predicate
// compare the same RFC 3339 texts (rfc3339_millis), so they always agree.
class Eligibility {
public:
    Eligibility(SystemTimePoint now, Duration min_age);

    // The rule as a condition on a media_files row, with the parameters :now
    // and :stable_cutoff, which bind() sets.
    static constexpr std::string_view sql =
        "(state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= :now) "
        "AND stable_since <= :stable_cutoff)";
    void bind(SQLite::Statement& q) const;

    // The rule in C++: whether `row` is eligible.
    bool operator()(const FileRow& row) const;
    // Whether a file seen now with `version` is unchanged for min_age already:
    // the stable_since part of the rule, for the stable_since the queue records.
    bool stable(const FileVersion& version) const;

private:
    bool stable(std::string_view stable_since) const;

    SystemTimePoint m_now;
    std::string m_now_text;
    std::string m_stable_cutoff;
};

struct Backlog {
    std::uint64_t files = 0;
    std::uint64_t bytes = 0;
};

enum class Registered {
    added,      // a new file
    changed,    // a known file with another size, mtime or inode: queued again
    unchanged,  // nothing to do
    conflict,   // another source already holds this relative path: not queued
};

// What an upload worker reports when an attempt ends.
struct AttemptResult {
    std::uint64_t bytes_sent = 0;  // bytes sent in this attempt (a resumed upload sends fewer)
    double seconds = 0;
};

class Queue {
public:
    Queue(SQLite::Database& db, const Clock& clock, QueuePolicy policy);

    const QueuePolicy& policy() const { return m_policy; }

    // Rows left in `transferring` by a run that crashed or was killed go back
    // to `pending`, keeping what makes their upload resumable. Call it only
    // while holding the run lock. Returns how many rows were recovered.
    Result<std::uint64_t> recover_interrupted();

    // Registration of scanned files is batched: begin_scan(), any number of
    // register_file(), end_scan(). Changes are committed every few thousand
    // files and at end_scan(); an Error rolls back the open batch.
    Result<void> begin_scan(Adopt adopt = Adopt::no);
    Result<Registered> register_file(std::string_view source, const ScannedFile& file);
    Result<void> end_scan();
    // The min-age rule at this moment, under this queue's policy.
    Eligibility eligibility() const;
    // Whether a file added or changed with `version` now is unchanged for
    // min_age already, and so eligible at once (unless another source holds its path).
    bool stable_now(const FileVersion& version) const;

    // The pending files whose turn has come (stable for min_age, next attempt
    // due), with id > after_id, in id order, at most `limit`.
    Result<std::vector<FileRow>> eligible(std::int64_t after_id, std::size_t limit);
    // The query eligible() runs (Eligibility's parameters, :after_id, :limit),
    // for tests that check SQLite's plan of it.
    static std::string eligible_query();
    // The other source folder whose file has `rel_path` (the target holds
    // one file per path: the scan leaves this source's out), if any.
    Result<std::optional<std::string>> other_source_of(std::string_view rel_path, std::string_view source);
    // Pending files still waiting: not stable for min_age yet, or in backoff.
    Result<std::uint64_t> count_waiting();
    // The files and bytes eligible() would return, all of them.
    Result<Backlog> count_eligible();
    // The rows in `state` with id > after_id, in id order, at most `limit`.
    Result<std::vector<FileRow>> rows(FileState state, std::int64_t after_id, std::size_t limit);

    Result<std::optional<FileRow>> find(std::int64_t id);
    Result<std::optional<FileRow>> find(std::string_view source, std::string_view rel_path);

    // pending -> transferring; started_at is set. Fails (ExitCode::software)
    // when the row is no longer pending.
    Result<void> mark_transferring(std::int64_t id);
    // transferring -> completed, with the verified hash (if any), the figures
    // of the attempt and how the copy was verified ("sha256", "size", "none").
    // A batch of small files is never marked transferring: its attempts go
    // from pending, and started_at is set to the completion time. A run
    // killed mid-batch leaves such rows pending, as recover_interrupted would.
    Result<void> mark_completed(std::int64_t id, std::optional<std::string> sha256, const AttemptResult& attempt,
                                std::optional<std::string> verified_by = std::nullopt);
    struct Completion {
        std::int64_t id = 0;
        std::optional<std::string> sha256;
        AttemptResult attempt;
        std::optional<std::string> verified_by;
        std::optional<std::string> verify_reason;
    };
    // The same for a batch of files, in one transaction.
    Result<void> mark_completed(std::span<const Completion> completions);
    // pending -> completed without an attempt (no sync_attempts row, nothing
    // sent): the target has the file already. In one transaction; fails
    // (ExitCode::software) when a row is no longer pending.
    Result<void> mark_adopted(std::span<const Completion> completions);
    // A failed attempt: transferring (or pending, for a small file's batch:
    // see mark_completed) -> pending with next_attempt_at after the
    // backoff, or -> failed once max_retries retries have failed. Returns the new row.
    Result<FileRow> mark_failed_attempt(std::int64_t id, std::string_view error, const AttemptResult& attempt);
    // Back to pending (or left pending) without counting an attempt: the run
    // stopped, the NAS went away or had no room. The upload stays resumable.
    // `reason`, when given, becomes the row's last error, which `ls` shows:
    // why a file the run did not fail is still waiting (held for room).
    Result<void> release(std::int64_t id, std::optional<std::string_view> reason = std::nullopt);
    // mark_changed, requeue and a scan that finds a new version (register_file)
    // put a row back to pending as a file to upload from scratch, by one
    // statement: attempts 0, no next attempt time, no hash, no started_at (so
    // no earlier partial copy is resumed), no completed_at, and none of the
    // figures of an earlier completed attempt (bytes_sent, seconds,
    // verified_by, removed_at); a row that was completed counts as discovered
    // now. A file found at the path of one --remove-source removed is a new
    // file, whatever its size, mtime and inode (an inode is reused).

    // The file changed (size, mtime or inode): pending again as a new version,
    // stable from now.
    Result<void> mark_changed(std::int64_t id, const FileVersion& version);
    // The local file is gone before it could be uploaded: failed, no retry.
    Result<void> mark_vanished(std::int64_t id, std::string_view error);
    // A completed file whose copy on the target is bad (nasops-sync verify):
    // pending again as if new, `reason` its last error, so that the next run
    // uploads it.
    Result<void> requeue(std::int64_t id, std::string_view reason);

    // The completed rows of `source` whose copy was verified (verified_by
    // "sha256" or "size") and whose local file has not been removed, with
    // id > after_id, in id order, at most `limit`: what --remove-source removes.
    Result<std::vector<FileRow>> removable(std::string_view source, std::int64_t after_id, std::size_t limit);
    // Records how the copies of these completed rows, which had no verify
    // ("none" or unknown), were verified since (nasops-sync verify).
    Result<void> mark_verified(std::span<const std::int64_t> ids, std::string_view verified_by,
                               std::optional<std::string_view> verify_reason = std::nullopt);
    // Records that the local files of these completed rows were removed, in one transaction.
    Result<void> mark_removed(std::span<const std::int64_t> ids);
    // The relative paths of the files of `source` removed at or after `since`.
    Result<std::vector<std::string>> removed_since(std::string_view source, SystemTimePoint since);

    // failed -> pending (attempts reset) for the rows whose local path
    // (source/rel_path) or rel_path is in `paths`; returns how many. With
    // DryRun::yes nothing changes and the count is what would be requeued.
    Result<std::uint64_t> retry_paths(std::span<const std::string> paths, DryRun dry_run = DryRun::no);
    Result<std::uint64_t> retry_all_failed(DryRun dry_run = DryRun::no);

    // Records the NAS host key a connection verified (db/host_keys.hpp) under
    // the queue's lock, as the workers connect at once; true when it changed.
    Result<bool> record_host_key(const HostKey& key);

    // Visits the rows, in id order, optionally only those in `state`.
    Result<void> for_each(std::optional<FileState> state, const std::function<void(const FileRow&)>& visit);

private:
    enum class Completed { uploaded, adopted };
    // The one statement behind mark_completed and mark_adopted.
    Result<void> complete(std::span<const Completion> completions, Completed how);
    // Runs `sql`, whose ?1 is `value` and ?2 a row id, for each of `ids`, in one transaction.
    // Runs `sql` for each id: ?1 is `value`, ?2 the id, ?3 `second` (NULL when absent).
    Result<void> update_each(std::span<const std::int64_t> ids, std::string_view doing, std::string_view sql,
                             const std::string& value, const std::optional<std::string>& second = std::nullopt);
    std::string now_text() const;
    std::optional<std::string> other_source_locked(std::string_view rel_path, std::string_view source);
    void commit_batch_locked();

    SQLite::Database& m_db;
    const Clock& m_clock;
    QueuePolicy m_policy;
    std::mutex m_mutex;

    bool m_in_scan = false;
    Adopt m_scan_adopt = Adopt::no;
    std::size_t m_batch_count = 0;
    std::optional<SQLite::Statement> m_lookup;
    std::optional<SQLite::Statement> m_insert;
    std::optional<SQLite::Statement> m_conflict;
};

}  // namespace nasops::sync
