#include "samples.hpp"

#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>
#include <memory>

#include "nasops/db/transfer_stats.hpp"

namespace nasops::capacity {

namespace {

constexpr Migration k_migrations[] = {
    {"capacity", 1,
     "CREATE TABLE capacity_samples ("
     " target TEXT NOT NULL,"
     " ts INTEGER NOT NULL,"  // Unix seconds
     " used INTEGER NOT NULL,"
     " total INTEGER NOT NULL,"
     " PRIMARY KEY (target, ts)) WITHOUT ROWID;"
     "CREATE TABLE capacity_media ("
     " ts INTEGER PRIMARY KEY,"  // Unix seconds
     " pending_files INTEGER NOT NULL,"
     " pending_bytes INTEGER NOT NULL,"
     " completed_files INTEGER NOT NULL,"
     " completed_bytes INTEGER NOT NULL);"},
};

constexpr std::int64_t k_raw_for = 86400;          // every sample for a day
constexpr std::int64_t k_hourly_for = 30 * 86400;  // then one an hour for 30 days

// Deletes the samples older than `before` that a later sample of the same
// target shares a `bucket`-second bucket with.
std::size_t keep_last_per_bucket(SQLite::Database& db, std::int64_t before, std::int64_t bucket) {
    SQLite::Statement del(db,
                          "DELETE FROM capacity_samples AS a WHERE a.ts < ?1 AND EXISTS ("
                          " SELECT 1 FROM capacity_samples AS b WHERE b.target = a.target AND b.ts > a.ts"
                          " AND b.ts < (a.ts / ?2 + 1) * ?2)");
    del.bind(1, before);
    del.bind(2, bucket);
    return static_cast<std::size_t>(del.exec());
}

}  // namespace

std::span<const Migration> migrations() {
    return k_migrations;
}

namespace {

void insert_samples(SQLite::Database& db, std::span<const TargetSample> samples) {
    SQLite::Statement insert(db,
                             "INSERT INTO capacity_samples (target, ts, used, total) VALUES (?, ?, ?, ?)"
                             " ON CONFLICT (target, ts) DO UPDATE SET used = excluded.used, total = excluded.total");
    for (const auto& s : samples) {
        insert.bind(1, s.target);
        insert.bind(2, s.sample.ts);
        insert.bind(3, static_cast<std::int64_t>(s.sample.used));
        insert.bind(4, static_cast<std::int64_t>(s.sample.total));
        insert.exec();
        insert.reset();
    }
}

void insert_media(SQLite::Database& db, const MediaCounts& m) {
    SQLite::Statement insert(db,
                             "INSERT OR REPLACE INTO capacity_media (ts, pending_files, pending_bytes, completed_files,"
                             " completed_bytes) VALUES (?, ?, ?, ?, ?)");
    insert.bind(1, m.ts);
    insert.bind(2, static_cast<std::int64_t>(m.pending_files));
    insert.bind(3, static_cast<std::int64_t>(m.pending_bytes));
    insert.bind(4, static_cast<std::int64_t>(m.completed_files));
    insert.bind(5, static_cast<std::int64_t>(m.completed_bytes));
    insert.exec();
}

Pruned prune(SQLite::Database& db, std::int64_t now, Duration retention) {
    const auto keep = std::chrono::duration_cast<std::chrono::seconds>(retention).count();
    Pruned p;
    SQLite::Statement expire_media(db, "DELETE FROM capacity_media WHERE ts < ?");
    expire_media.bind(1, now - keep);
    expire_media.exec();
    SQLite::Statement expire(db, "DELETE FROM capacity_samples WHERE ts < ?");
    expire.bind(1, now - keep);
    p.expired = static_cast<std::size_t>(expire.exec());
    p.to_daily = keep_last_per_bucket(db, now - k_hourly_for, 86400);
    p.to_hourly = keep_last_per_bucket(db, now - k_raw_for, 3600);
    return p;
}

}  // namespace

Result<std::size_t> SampleStore::add(std::span<const TargetSample> samples) {
    return db_guard(*m_db, "storing the capacity samples", [&]() -> Result<std::size_t> {
        return in_transaction(*m_db, [&]() -> Result<std::size_t> {
            insert_samples(*m_db, samples);
            return samples.size();
        });
    });
}

Result<Pruned> SampleStore::downsample(std::int64_t now, Duration retention) {
    return db_guard(*m_db, "downsampling the capacity samples", [&]() -> Result<Pruned> {
        return in_transaction(*m_db, [&]() -> Result<Pruned> { return prune(*m_db, now, retention); });
    });
}

Result<Pruned> SampleStore::add_and_downsample(std::span<const TargetSample> samples,
                                               const std::optional<MediaCounts>& media, std::int64_t now,
                                               Duration retention) {
    return db_guard(*m_db, "storing the capacity samples", [&]() -> Result<Pruned> {
        return in_transaction(*m_db, [&]() -> Result<Pruned> {
            insert_samples(*m_db, samples);
            if (media) insert_media(*m_db, *media);
            return prune(*m_db, now, retention);
        });
    });
}

Result<std::vector<MediaCounts>> SampleStore::media(std::int64_t since) {
    return db_guard(*m_db, "reading the recorded media counts", [&]() -> Result<std::vector<MediaCounts>> {
        std::vector<MediaCounts> out;
        SQLite::Statement q(*m_db,
                            "SELECT ts, pending_files, pending_bytes, completed_files, completed_bytes"
                            " FROM capacity_media WHERE ts >= ? ORDER BY ts");
        q.bind(1, since);
        while (q.executeStep()) {
            const auto u = [&](int i) { return static_cast<std::uint64_t>(q.getColumn(i).getInt64()); };
            out.push_back(MediaCounts{q.getColumn(0).getInt64(), u(1), u(2), u(3), u(4)});
        }
        return out;
    });
}

Result<std::optional<MediaCounts>> read_media_counts(SQLite::Database& db, std::int64_t ts) {
    TRY_ASSIGN(const bool synced, has_transfer_tables(db));
    if (!synced) return std::optional<MediaCounts>{};
    TRY_ASSIGN(const auto queue, read_transfer_queue(db, SystemTimePoint{std::chrono::seconds{ts}}));
    return MediaCounts{.ts = ts,
                       .pending_files = queue.queued(),
                       .pending_bytes = queue.bytes_queued,
                       .completed_files = queue.completed,
                       .completed_bytes = queue.bytes_completed};
}

Result<std::vector<std::string>> SampleStore::targets() {
    return db_guard(*m_db, "listing the capacity targets", [&]() -> Result<std::vector<std::string>> {
        std::vector<std::string> out;
        // A skip-scan of the primary key, one look-up per target: DISTINCT
        // would read every sample (175,200 for 20 targets over a year).
        SQLite::Statement q(*m_db,
                            "WITH RECURSIVE t(target) AS (SELECT MIN(target) FROM capacity_samples UNION ALL"
                            " SELECT (SELECT MIN(target) FROM capacity_samples WHERE target > t.target) FROM t"
                            " WHERE t.target IS NOT NULL)"
                            " SELECT target FROM t WHERE target IS NOT NULL");
        while (q.executeStep()) out.push_back(q.getColumn(0).getString());
        return out;
    });
}

Result<std::vector<Sample>> SampleStore::samples(const std::string& target, std::int64_t since) {
    return db_guard(*m_db, fmt::format("reading the samples of {}", target), [&]() -> Result<std::vector<Sample>> {
        // SQLite's C API here: forecast reads a year of hourly samples per
        // target, and SQLiteCpp's Column (a shared_ptr copy per value) was a
        // fifth of its time.
        sqlite3* db = m_db->getHandle();
        sqlite3_stmt* raw = nullptr;
        if (const int rc = sqlite3_prepare_v2(
                db, "SELECT ts, used, total FROM capacity_samples WHERE target = ? AND ts >= ? ORDER BY ts", -1, &raw,
                nullptr);
            rc != SQLITE_OK)
            throw SQLite::Exception(db, rc);
        const std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> q(raw, &sqlite3_finalize);
        sqlite3_bind_text(q.get(), 1, target.data(), static_cast<int>(target.size()), SQLITE_STATIC);
        sqlite3_bind_int64(q.get(), 2, since);
        std::vector<Sample> out;
        int rc = 0;
        while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
            out.push_back(Sample{.ts = sqlite3_column_int64(q.get(), 0),
                                 .used = static_cast<std::uint64_t>(sqlite3_column_int64(q.get(), 1)),
                                 .total = static_cast<std::uint64_t>(sqlite3_column_int64(q.get(), 2))});
        }
        if (rc != SQLITE_DONE) throw SQLite::Exception(db, rc);
        return out;
    });
}

}  // namespace nasops::capacity
