#include "queue.hpp"

#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "nasops/db/store.hpp"

namespace nasops::sync {

namespace {

constexpr std::size_t k_scan_batch = 4000;

constexpr std::string_view k_columns =
    "id, source, rel_path, size, mtime_ns, inode, state, attempts, last_error, sha256, discovered_at, stable_since, "
    "started_at, completed_at, bytes_sent, seconds, next_attempt_at, verified_by, removed_at, adopt, verify_reason";

std::optional<std::string> opt_text(const SQLite::Column& c) {
    if (c.isNull()) return std::nullopt;
    return c.getString();
}

FileRow read_row(SQLite::Statement& q) {
    FileRow row;
    row.id = q.getColumn(0).getInt64();
    row.source = q.getColumn(1).getString();
    row.rel_path = q.getColumn(2).getString();
    row.version.size = static_cast<std::uint64_t>(q.getColumn(3).getInt64());
    row.version.mtime_ns = q.getColumn(4).getInt64();
    row.version.inode = static_cast<std::uint64_t>(q.getColumn(5).getInt64());
    row.state = parse_state(q.getColumn(6).getString()).value_or(FileState::pending);
    row.attempts = q.getColumn(7).getInt();
    row.last_error = opt_text(q.getColumn(8));
    row.sha256 = opt_text(q.getColumn(9));
    row.discovered_at = opt_text(q.getColumn(10));
    row.stable_since = opt_text(q.getColumn(11));
    row.started_at = opt_text(q.getColumn(12));
    row.completed_at = opt_text(q.getColumn(13));
    if (!q.getColumn(14).isNull()) row.bytes_sent = static_cast<std::uint64_t>(q.getColumn(14).getInt64());
    if (!q.getColumn(15).isNull()) row.seconds = q.getColumn(15).getDouble();
    row.next_attempt_at = opt_text(q.getColumn(16));
    row.verified_by = opt_text(q.getColumn(17));
    row.removed_at = opt_text(q.getColumn(18));
    row.adopt = q.getColumn(19).getInt() != 0;
    row.verify_reason = opt_text(q.getColumn(20));
    return row;
}

void bind_version(SQLite::Statement& q, int first, const FileVersion& v) {
    q.bind(first, static_cast<std::int64_t>(v.size));
    q.bind(first + 1, v.mtime_ns);
    q.bind(first + 2, static_cast<std::int64_t>(v.inode));
}

SystemTimePoint time_of_ns(std::int64_t ns) {
    return SystemTimePoint(std::chrono::duration_cast<SystemTimePoint::duration>(std::chrono::nanoseconds(ns)));
}

// A file's new version, and when it counts as unchanged since (RFC 3339).
struct NewVersion {
    FileVersion version;
    std::string stable_since;
};

// Puts row `id` back to pending as a file to upload from scratch (queue.hpp
// says what is cleared and why), with its new version if it has one.
void reset_to_pending(SQLite::Database& db, std::int64_t id, SystemTimePoint now,
                      const std::optional<NewVersion>& version, std::optional<std::string_view> last_error) {
    SQLite::Statement q(
        db,
        "UPDATE media_files SET size = COALESCE(:size, size), mtime_ns = COALESCE(:mtime_ns, mtime_ns), "
        "inode = COALESCE(:inode, inode), stable_since = COALESCE(:stable_since, stable_since), "
        "state = 'pending', attempts = 0, last_error = :last_error, next_attempt_at = NULL, "
        "sha256 = NULL, started_at = NULL, completed_at = NULL, bytes_sent = NULL, seconds = NULL, "
        "verified_by = NULL, verify_reason = NULL, removed_at = NULL, adopt = 0, "
        "discovered_at = CASE WHEN state = 'completed' THEN :now ELSE discovered_at END "
        "WHERE id = :id");
    if (version) {
        q.bind(":size", static_cast<std::int64_t>(version->version.size));
        q.bind(":mtime_ns", version->version.mtime_ns);
        q.bind(":inode", static_cast<std::int64_t>(version->version.inode));
        q.bind(":stable_since", version->stable_since);
    }
    if (last_error) q.bind(":last_error", std::string(*last_error));
    q.bind(":now", rfc3339_millis(now));
    q.bind(":id", id);
    q.exec();
}

}  // namespace

std::string_view state_name(FileState state) noexcept {
    switch (state) {
        case FileState::pending: return "pending";
        case FileState::transferring: return "transferring";
        case FileState::completed: return "completed";
        case FileState::failed: return "failed";
    }
    return "pending";
}

std::optional<FileState> parse_state(std::string_view name) noexcept {
    for (auto s : {FileState::pending, FileState::transferring, FileState::completed, FileState::failed})
        if (state_name(s) == name) return s;
    return std::nullopt;
}

std::string local_path(const FileRow& row) {
    // What std::filesystem::path's operator/ gives for a relative rel_path,
    // without parsing both into components (several times per small file).
    std::string path = row.source;
    if (!path.empty() && path.back() != '/') path += '/';
    path += row.rel_path;
    return path;
}

Duration backoff_delay(const QueuePolicy& policy, int failures) noexcept {
    Duration delay = policy.backoff_base;
    for (int i = 1; i < failures && delay < policy.backoff_max; ++i) delay *= 2;
    return std::min(delay, policy.backoff_max);
}

SystemTimePoint stable_since_for(SystemTimePoint now, const FileVersion& version) noexcept {
    return std::min(now, time_of_ns(version.mtime_ns));
}

Eligibility::Eligibility(SystemTimePoint now, Duration min_age)
    : m_now(now), m_now_text(rfc3339_millis(now)), m_stable_cutoff(rfc3339_millis(now - min_age)) {}

void Eligibility::bind(SQLite::Statement& q) const {
    q.bind(":now", m_now_text);
    q.bind(":stable_cutoff", m_stable_cutoff);
}

bool Eligibility::stable(std::string_view stable_since) const {
    return stable_since <= m_stable_cutoff;
}

bool Eligibility::operator()(const FileRow& row) const {
    return row.state == FileState::pending && (!row.next_attempt_at || *row.next_attempt_at <= m_now_text) &&
           row.stable_since && stable(*row.stable_since);
}

bool Eligibility::stable(const FileVersion& version) const {
    return stable(rfc3339_millis(stable_since_for(m_now, version)));
}

Queue::Queue(SQLite::Database& db, const Clock& clock, QueuePolicy policy)
    : m_db(db), m_clock(clock), m_policy(policy) {}

std::string Queue::now_text() const {
    return rfc3339_millis(m_clock.now());
}

Result<std::uint64_t> Queue::recover_interrupted() {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "recovering interrupted transfers", [&]() -> Result<std::uint64_t> {
        return in_transaction(m_db, [&]() -> Result<std::uint64_t> {
            SQLite::Statement q(m_db, "UPDATE media_files SET state = 'pending' WHERE state = 'transferring'");
            return static_cast<std::uint64_t>(q.exec());
        });
    });
}

Result<void> Queue::begin_scan(Adopt adopt) {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "starting a scan", [&]() -> Result<void> {
        if (m_in_scan) return fail(ExitCode::software, "a scan is already open");
        detail::begin_immediate(m_db);
        m_in_scan = true;
        m_scan_adopt = adopt;
        m_batch_count = 0;
        return {};
    });
}

void Queue::commit_batch_locked() {
    detail::commit(m_db);
    detail::begin_immediate(m_db);
    m_batch_count = 0;
}

Result<void> Queue::end_scan() {
    std::lock_guard lock(m_mutex);
    if (!m_in_scan) return {};
    m_in_scan = false;
    return db_guard(m_db, "committing the scan", [&]() -> Result<void> {
        detail::commit(m_db);
        return {};
    });
}

Result<Registered> Queue::register_file(std::string_view source, const ScannedFile& file) {
    std::lock_guard lock(m_mutex);
    if (!m_in_scan) return fail(ExitCode::software, "register_file outside begin_scan/end_scan");
    auto result = db_guard(m_db, "registering a file", [&]() -> Result<Registered> {
        if (!m_lookup) {
            m_lookup.emplace(m_db,
                             "SELECT id, size, mtime_ns, inode, removed_at IS NOT NULL FROM media_files "
                             "WHERE source = ? AND rel_path = ?");
            m_insert.emplace(m_db,
                             "INSERT INTO media_files (source, rel_path, size, mtime_ns, inode, state, attempts, "
                             "discovered_at, stable_since, adopt) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)");
        }
        const std::string src(source);
        const auto now = m_clock.now();
        const auto stable_since = rfc3339_millis(stable_since_for(now, file.version));

        auto& lookup = *m_lookup;
        lookup.reset();
        lookup.bind(1, src);
        lookup.bind(2, file.rel_path);
        if (lookup.executeStep()) {
            const std::int64_t id = lookup.getColumn(0).getInt64();
            const FileVersion known{static_cast<std::uint64_t>(lookup.getColumn(1).getInt64()),
                                    lookup.getColumn(2).getInt64(),
                                    static_cast<std::uint64_t>(lookup.getColumn(3).getInt64())};
            const bool removed = lookup.getColumn(4).getInt() != 0;
            lookup.reset();
            if (known == file.version && !removed) return Registered::unchanged;
            reset_to_pending(m_db, id, now, NewVersion{file.version, stable_since}, std::nullopt);
        } else {
            lookup.reset();
            if (other_source_locked(file.rel_path, src)) return Registered::conflict;
            auto& insert = *m_insert;
            insert.reset();
            insert.bind(1, src);
            insert.bind(2, file.rel_path);
            bind_version(insert, 3, file.version);
            insert.bind(6, rfc3339_millis(now));
            insert.bind(7, stable_since);
            insert.bind(8, m_scan_adopt == Adopt::yes ? 1 : 0);
            insert.exec();
            insert.reset();
            ++m_batch_count;
            if (m_batch_count >= k_scan_batch) commit_batch_locked();
            return Registered::added;
        }
        ++m_batch_count;
        if (m_batch_count >= k_scan_batch) commit_batch_locked();
        return Registered::changed;
    });
    if (!result) {
        detail::rollback(m_db);
        m_in_scan = false;
    }
    return result;
}

std::optional<std::string> Queue::other_source_locked(std::string_view rel_path, std::string_view source) {
    if (!m_conflict)
        m_conflict.emplace(m_db, "SELECT source FROM media_files WHERE rel_path = ? AND source <> ? LIMIT 1");
    auto& q = *m_conflict;
    q.reset();
    q.bind(1, std::string(rel_path));
    q.bind(2, std::string(source));
    std::optional<std::string> other;
    if (q.executeStep()) other = q.getColumn(0).getString();
    q.reset();
    return other;
}

Result<std::optional<std::string>> Queue::other_source_of(std::string_view rel_path, std::string_view source) {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "reading the queue",
                    [&]() -> Result<std::optional<std::string>> { return other_source_locked(rel_path, source); });
}

Eligibility Queue::eligibility() const {
    return Eligibility(m_clock.now(), m_policy.min_age);
}

bool Queue::stable_now(const FileVersion& version) const {
    return eligibility().stable(version);
}

std::string Queue::eligible_query() {
    return fmt::format("SELECT {} FROM media_files WHERE {} AND id > :after_id ORDER BY id LIMIT :limit", k_columns,
                       Eligibility::sql);
}

Result<std::vector<FileRow>> Queue::eligible(std::int64_t after_id, std::size_t limit) {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "reading the queue", [&]() -> Result<std::vector<FileRow>> {
        SQLite::Statement q(m_db, eligible_query());
        eligibility().bind(q);
        q.bind(":after_id", after_id);
        q.bind(":limit", static_cast<std::int64_t>(limit));
        std::vector<FileRow> rows;
        while (q.executeStep()) rows.push_back(read_row(q));
        return rows;
    });
}

Result<std::uint64_t> Queue::count_waiting() {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "reading the queue", [&]() -> Result<std::uint64_t> {
        SQLite::Statement q(
            m_db, fmt::format("SELECT COUNT(*) FROM media_files WHERE state = 'pending' AND NOT {}", Eligibility::sql));
        eligibility().bind(q);
        q.executeStep();
        return static_cast<std::uint64_t>(q.getColumn(0).getInt64());
    });
}

Result<Backlog> Queue::count_eligible() {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "reading the queue", [&]() -> Result<Backlog> {
        SQLite::Statement q(
            m_db, fmt::format("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM media_files WHERE {}", Eligibility::sql));
        eligibility().bind(q);
        q.executeStep();
        return Backlog{static_cast<std::uint64_t>(q.getColumn(0).getInt64()),
                       static_cast<std::uint64_t>(q.getColumn(1).getInt64())};
    });
}

Result<std::vector<FileRow>> Queue::rows(FileState state, std::int64_t after_id, std::size_t limit) {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "reading the queue", [&]() -> Result<std::vector<FileRow>> {
        SQLite::Statement q(
            m_db, fmt::format("SELECT {} FROM media_files WHERE state = ? AND id > ? ORDER BY id LIMIT ?", k_columns));
        q.bind(1, std::string(state_name(state)));
        q.bind(2, after_id);
        q.bind(3, static_cast<std::int64_t>(limit));
        std::vector<FileRow> out;
        while (q.executeStep()) out.push_back(read_row(q));
        return out;
    });
}

Result<std::optional<FileRow>> Queue::find(std::int64_t id) {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "reading the queue", [&]() -> Result<std::optional<FileRow>> {
        SQLite::Statement q(m_db, fmt::format("SELECT {} FROM media_files WHERE id = ?", k_columns));
        q.bind(1, id);
        if (!q.executeStep()) return std::nullopt;
        return read_row(q);
    });
}

Result<std::optional<FileRow>> Queue::find(std::string_view source, std::string_view rel_path) {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "reading the queue", [&]() -> Result<std::optional<FileRow>> {
        SQLite::Statement q(m_db,
                            fmt::format("SELECT {} FROM media_files WHERE source = ? AND rel_path = ?", k_columns));
        q.bind(1, std::string(source));
        q.bind(2, std::string(rel_path));
        if (!q.executeStep()) return std::nullopt;
        return read_row(q);
    });
}

Result<void> Queue::mark_transferring(std::int64_t id) {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "marking a transfer started", [&]() -> Result<void> {
        return in_transaction(m_db, [&]() -> Result<void> {
            SQLite::Statement q(m_db,
                                "UPDATE media_files SET state = 'transferring', started_at = ? "
                                "WHERE id = ? AND state = 'pending'");
            q.bind(1, now_text());
            q.bind(2, id);
            if (q.exec() != 1) return fail(ExitCode::software, fmt::format("queue row {} is no longer pending", id));
            return {};
        });
    });
}

Result<void> Queue::mark_completed(std::int64_t id, std::optional<std::string> sha256, const AttemptResult& attempt,
                                   std::optional<std::string> verified_by) {
    const Completion one{id, std::move(sha256), attempt, std::move(verified_by)};
    return mark_completed(std::span<const Completion>(&one, 1));
}

Result<void> Queue::mark_completed(std::span<const Completion> completions) {
    return complete(completions, Completed::uploaded);
}

Result<void> Queue::mark_adopted(std::span<const Completion> completions) {
    return complete(completions, Completed::adopted);
}

Result<void> Queue::complete(std::span<const Completion> completions, Completed how) {
    const bool uploaded = how == Completed::uploaded;
    // A small file's upload went from pending (Worker::read_small); its start
    // is taken as its end.
    const std::string_view from = uploaded ? "'pending', 'transferring'" : "'pending'";
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, uploaded ? "marking transfers completed" : "marking files adopted", [&]() -> Result<void> {
        return in_transaction(m_db, [&]() -> Result<void> {
            const auto now = now_text();
            // An adoption is no attempt: attempts and sync_attempts are left as they are.
            SQLite::Statement q(
                m_db,
                fmt::format("UPDATE media_files SET state = 'completed', attempts = attempts + {}, last_error = NULL, "
                            "sha256 = :sha256, completed_at = :now, bytes_sent = :bytes, seconds = :seconds, "
                            "next_attempt_at = NULL, verified_by = :verified_by, verify_reason = :verify_reason, "
                            "removed_at = NULL, adopt = 0{} "
                            "WHERE id = :id AND state IN ({})",
                            uploaded ? 1 : 0,
                            uploaded ? ", started_at = CASE state WHEN 'pending' THEN :now ELSE started_at END" : "",
                            from));
            SQLite::Statement log(m_db,
                                  "INSERT INTO sync_attempts (file_id, finished_at, outcome, bytes, seconds) "
                                  "VALUES (?, ?, 'completed', ?, ?)");
            for (const auto& c : completions) {
                q.reset();
                q.clearBindings();
                if (c.sha256) q.bind(":sha256", *c.sha256);
                q.bind(":now", now);
                q.bind(":bytes", static_cast<std::int64_t>(c.attempt.bytes_sent));
                if (uploaded) q.bind(":seconds", c.attempt.seconds);
                if (c.verified_by) q.bind(":verified_by", *c.verified_by);
                if (c.verify_reason) q.bind(":verify_reason", *c.verify_reason);
                q.bind(":id", c.id);
                if (q.exec() != 1)
                    return fail(ExitCode::software, fmt::format("queue row {} is not {}", c.id,
                                                                uploaded ? "pending or transferring" : "pending"));
                if (!uploaded) continue;
                log.reset();
                log.bind(1, c.id);
                log.bind(2, now);
                log.bind(3, static_cast<std::int64_t>(c.attempt.bytes_sent));
                log.bind(4, c.attempt.seconds);
                log.exec();
            }
            return {};
        });
    });
}

Result<FileRow> Queue::mark_failed_attempt(std::int64_t id, std::string_view error, const AttemptResult& attempt) {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "recording a failed transfer", [&]() -> Result<FileRow> {
        return in_transaction(m_db, [&]() -> Result<FileRow> {
            const auto now = m_clock.now();
            SQLite::Statement get(
                m_db, "SELECT attempts FROM media_files WHERE id = ? AND state IN ('pending', 'transferring')");
            get.bind(1, id);
            if (!get.executeStep())
                return fail(ExitCode::software, fmt::format("queue row {} is not pending or transferring", id));
            const int attempts = get.getColumn(0).getInt() + 1;
            get.reset();
            const bool give_up = attempts > m_policy.max_retries;
            SQLite::Statement q(m_db,
                                "UPDATE media_files SET state = ?, attempts = ?, last_error = ?, next_attempt_at = ? "
                                "WHERE id = ?");
            q.bind(1, give_up ? "failed" : "pending");
            q.bind(2, attempts);
            q.bind(3, std::string(error));
            if (give_up) {
                q.bind(4);
            } else {
                q.bind(4, rfc3339_millis(now + backoff_delay(m_policy, attempts)));
            }
            q.bind(5, id);
            q.exec();
            SQLite::Statement log(m_db,
                                  "INSERT INTO sync_attempts (file_id, finished_at, outcome, bytes, seconds, error) "
                                  "VALUES (?, ?, 'failed', ?, ?, ?)");
            log.bind(1, id);
            log.bind(2, rfc3339_millis(now));
            log.bind(3, static_cast<std::int64_t>(attempt.bytes_sent));
            log.bind(4, attempt.seconds);
            log.bind(5, std::string(error));
            log.exec();
            SQLite::Statement row(m_db, fmt::format("SELECT {} FROM media_files WHERE id = ?", k_columns));
            row.bind(1, id);
            row.executeStep();
            return read_row(row);
        });
    });
}

Result<void> Queue::release(std::int64_t id, std::optional<std::string_view> reason) {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "releasing a transfer", [&]() -> Result<void> {
        return in_transaction(m_db, [&]() -> Result<void> {
            SQLite::Statement q(m_db,
                                "UPDATE media_files SET state = 'pending', last_error = COALESCE(?2, last_error) "
                                "WHERE id = ?1 AND state IN ('pending', 'transferring')");
            q.bind(1, id);
            if (reason) q.bind(2, std::string(*reason));
            q.exec();
            return {};
        });
    });
}

Result<void> Queue::mark_changed(std::int64_t id, const FileVersion& version) {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "recording a changed file", [&]() -> Result<void> {
        return in_transaction(m_db, [&]() -> Result<void> {
            const auto now = m_clock.now();
            reset_to_pending(m_db, id, now, NewVersion{version, rfc3339_millis(stable_since_for(now, version))},
                             std::nullopt);
            return {};
        });
    });
}

Result<bool> Queue::record_host_key(const HostKey& key) {
    std::lock_guard lock(m_mutex);
    // A connection made while the scan runs: the scan's batch transaction is
    // open on this connection, and the key is committed with its batch.
    return nasops::record_host_key(m_db, key, m_clock.now(), m_in_scan ? OpenTransaction::yes : OpenTransaction::no);
}

Result<void> Queue::mark_vanished(std::int64_t id, std::string_view error) {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "recording a vanished file", [&]() -> Result<void> {
        return in_transaction(m_db, [&]() -> Result<void> {
            SQLite::Statement q(m_db,
                                "UPDATE media_files SET state = 'failed', last_error = ?, next_attempt_at = NULL, "
                                "started_at = NULL WHERE id = ?");
            q.bind(1, std::string(error));
            q.bind(2, id);
            q.exec();
            return {};
        });
    });
}

Result<void> Queue::requeue(std::int64_t id, std::string_view reason) {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "requeueing a file", [&]() -> Result<void> {
        return in_transaction(m_db, [&]() -> Result<void> {
            reset_to_pending(m_db, id, m_clock.now(), std::nullopt, reason);
            return {};
        });
    });
}

Result<std::vector<FileRow>> Queue::removable(std::string_view source, std::int64_t after_id, std::size_t limit) {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "reading the files to remove", [&]() -> Result<std::vector<FileRow>> {
        SQLite::Statement q(m_db, fmt::format("SELECT {} FROM media_files WHERE state = 'completed' AND removed_at IS "
                                              "NULL AND source = ? AND id > ? AND verified_by IN ('sha256', 'size') "
                                              "ORDER BY id LIMIT ?",
                                              k_columns));
        q.bind(1, std::string(source));
        q.bind(2, after_id);
        q.bind(3, static_cast<std::int64_t>(limit));
        std::vector<FileRow> out;
        while (q.executeStep()) out.push_back(read_row(q));
        return out;
    });
}

Result<void> Queue::update_each(std::span<const std::int64_t> ids, std::string_view doing, std::string_view sql,
                                const std::string& value, const std::optional<std::string>& second) {
    if (ids.empty()) return {};
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, doing, [&]() -> Result<void> {
        return in_transaction(m_db, [&]() -> Result<void> {
            SQLite::Statement q(m_db, std::string(sql));
            for (const auto id : ids) {
                q.reset();
                q.bind(1, value);
                q.bind(2, id);
                if (second) q.bind(3, *second);
                q.exec();
            }
            return {};
        });
    });
}

Result<void> Queue::mark_verified(std::span<const std::int64_t> ids, std::string_view verified_by,
                                  std::optional<std::string_view> verify_reason) {
    return update_each(ids, "recording verified copies",
                       "UPDATE media_files SET verified_by = ?1, verify_reason = ?3 WHERE id = ?2 AND "
                       "state = 'completed' AND (verified_by IS NULL OR verified_by = 'none')",
                       std::string(verified_by),
                       verify_reason ? std::optional<std::string>(*verify_reason) : std::nullopt);
}

Result<void> Queue::mark_removed(std::span<const std::int64_t> ids) {
    return update_each(ids, "recording removed local files",
                       "UPDATE media_files SET removed_at = ?1 WHERE id = ?2 AND state = 'completed'", now_text());
}

Result<std::vector<std::string>> Queue::removed_since(std::string_view source, SystemTimePoint since) {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "reading the removed files", [&]() -> Result<std::vector<std::string>> {
        SQLite::Statement q(m_db, "SELECT rel_path FROM media_files WHERE source = ? AND removed_at >= ?");
        q.bind(1, std::string(source));
        q.bind(2, rfc3339_millis(since));
        std::vector<std::string> out;
        while (q.executeStep()) out.push_back(q.getColumn(0).getString());
        return out;
    });
}

namespace {
// The rows `retry` acts on: failed, and named by their local path or their relative path.
constexpr std::string_view k_retry_match =
    "state = 'failed' AND (rel_path = ?1 OR "
    "(CASE WHEN substr(source, -1) = '/' THEN source ELSE source || '/' END) || rel_path = ?1)";
constexpr std::string_view k_retry_set = "state = 'pending', attempts = 0, next_attempt_at = NULL";
}  // namespace

Result<std::uint64_t> Queue::retry_paths(std::span<const std::string> paths, DryRun dry_run) {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "requeueing failed files", [&]() -> Result<std::uint64_t> {
        return in_transaction(m_db, [&]() -> Result<std::uint64_t> {
            SQLite::Statement q(m_db,
                                dry_run == DryRun::yes
                                    ? fmt::format("SELECT COUNT(*) FROM media_files WHERE {}", k_retry_match)
                                    : fmt::format("UPDATE media_files SET {} WHERE {}", k_retry_set, k_retry_match));
            std::uint64_t total = 0;
            for (const auto& p : paths) {
                q.reset();
                q.bind(1, p);
                if (dry_run == DryRun::yes) {
                    q.executeStep();
                    total += static_cast<std::uint64_t>(q.getColumn(0).getInt64());
                } else {
                    total += static_cast<std::uint64_t>(q.exec());
                }
            }
            return total;
        });
    });
}

Result<std::uint64_t> Queue::retry_all_failed(DryRun dry_run) {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "requeueing failed files", [&]() -> Result<std::uint64_t> {
        if (dry_run == DryRun::yes) {
            SQLite::Statement q(m_db, "SELECT COUNT(*) FROM media_files WHERE state = 'failed'");
            q.executeStep();
            return static_cast<std::uint64_t>(q.getColumn(0).getInt64());
        }
        return in_transaction(m_db, [&]() -> Result<std::uint64_t> {
            SQLite::Statement q(m_db, fmt::format("UPDATE media_files SET {} WHERE state = 'failed'", k_retry_set));
            return static_cast<std::uint64_t>(q.exec());
        });
    });
}

Result<void> Queue::for_each(std::optional<FileState> state, const std::function<void(const FileRow&)>& visit) {
    std::lock_guard lock(m_mutex);
    return db_guard(m_db, "listing the queue", [&]() -> Result<void> {
        SQLite::Statement q(
            m_db, fmt::format("SELECT {} FROM media_files {} ORDER BY id", k_columns, state ? "WHERE state = ?" : ""));
        if (state) q.bind(1, std::string(state_name(*state)));
        while (q.executeStep()) visit(read_row(q));
        return {};
    });
}

}  // namespace nasops::sync
