#include "nasops/db/transfer_stats.hpp"

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <array>
#include <set>
#include <string>
#include <string_view>

#include "nasops/db/store.hpp"

namespace nasops {

namespace {

// What the queries below cannot do without; `size` is read where it exists.
constexpr std::array<std::string_view, 6> k_columns{"state",        "discovered_at", "started_at",
                                                    "completed_at", "bytes_sent",    "seconds"};

std::set<std::string, std::less<>> columns_of(SQLite::Database& db, const std::string& table) {
    std::set<std::string, std::less<>> columns;
    SQLite::Statement info(db, "SELECT name FROM pragma_table_info(?)");
    info.bind(1, table);
    while (info.executeStep()) columns.insert(info.getColumn(0).getString());
    return columns;
}

bool has_attempts_table(SQLite::Database& db) {
    const auto columns = columns_of(db, "sync_attempts");
    return std::ranges::all_of(std::array<std::string_view, 4>{"finished_at", "outcome", "bytes", "seconds"},
                               [&](std::string_view c) { return columns.contains(c); });
}

// The finished uploads as rows (finished_at, outcome, bytes, seconds): per
// attempt, or per file where there is no sync_attempts table. The window and
// the list of completed uploads both read them through here.
std::string finished_uploads(bool per_attempt) {
    return per_attempt ? "SELECT finished_at, outcome, bytes, seconds FROM sync_attempts"
                       : "SELECT COALESCE(completed_at, started_at, discovered_at) AS finished_at,"
                         " state AS outcome, bytes_sent AS bytes, seconds"
                         " FROM media_files WHERE state IN ('completed', 'failed')";
}

// ?1 since, ?2 until (NULL: no end).
constexpr const char* k_within = " WHERE finished_at >= ?1 AND (?2 IS NULL OR finished_at < ?2)";

// One row: completed, failed, bytes and seconds of the completed uploads that
// took time, average seconds of the completed ones, bytes of them all.
std::string window_query(bool per_attempt) {
    return "SELECT"
           " COALESCE(SUM(outcome = 'completed'), 0),"
           " COALESCE(SUM(outcome = 'failed'), 0),"
           " COALESCE(SUM(CASE WHEN outcome = 'completed' AND seconds > 0 THEN bytes END), 0),"
           " COALESCE(SUM(CASE WHEN outcome = 'completed' AND seconds > 0 THEN seconds END), 0),"
           " AVG(CASE WHEN outcome = 'completed' THEN seconds END),"
           " COALESCE(SUM(CASE WHEN outcome = 'completed' THEN bytes END), 0)"
           " FROM (" +
           finished_uploads(per_attempt) + ")" + k_within;
}

std::string completed_query(bool per_attempt) {
    return "SELECT finished_at, bytes, seconds FROM (" + finished_uploads(per_attempt) + ")" + k_within +
           " AND outcome = 'completed' ORDER BY finished_at";
}

std::uint64_t count(const SQLite::Column& column) {
    return static_cast<std::uint64_t>(column.getInt64());
}

void bind_range(SQLite::Statement& q, SystemTimePoint since, std::optional<SystemTimePoint> until) {
    q.bind(1, rfc3339_millis(since));
    if (until) {
        q.bind(2, rfc3339_millis(*until));
    } else {
        q.bind(2);
    }
}

}  // namespace

std::optional<double> TransferWindow::success_ratio() const noexcept {
    if (completed + failed == 0) return std::nullopt;
    return static_cast<double>(completed) / static_cast<double>(completed + failed);
}

std::optional<double> TransferWindow::bytes_per_second() const noexcept {
    if (seconds <= 0) return std::nullopt;
    return static_cast<double>(bytes) / seconds;
}

std::optional<std::vector<std::string>> missing_transfer_columns(SQLite::Database& db) {
    const auto columns = columns_of(db, "media_files");
    if (columns.empty()) return std::nullopt;
    std::vector<std::string> missing;
    for (const auto c : k_columns) {
        if (!columns.contains(c)) missing.emplace_back(c);
    }
    return missing;
}

Result<bool> has_transfer_tables(SQLite::Database& db) {
    return db_guard(db, "reading nasops-sync's tables", [&]() -> Result<bool> {
        const auto missing = missing_transfer_columns(db);
        return missing && missing->empty();
    });
}

Result<TransferQueue> read_transfer_queue(SQLite::Database& db, SystemTimePoint now) {
    return db_guard(db, "reading the transfer queue", [&]() -> Result<TransferQueue> {
        TransferQueue out;
        SQLite::Statement states(db,
                                 columns_of(db, "media_files").contains("size")
                                     ? "SELECT state, COUNT(*), COALESCE(SUM(size), 0) FROM media_files GROUP BY state"
                                     : "SELECT state, COUNT(*), 0 FROM media_files GROUP BY state");
        while (states.executeStep()) {
            const auto state = states.getColumn(0).getString();
            const auto n = count(states.getColumn(1));
            if (state == "pending") {
                out.pending = n;
                out.bytes_queued += count(states.getColumn(2));
            } else if (state == "transferring") {
                out.transferring = n;
                out.bytes_queued += count(states.getColumn(2));
            } else if (state == "completed") {
                out.completed = n;
                out.bytes_completed = count(states.getColumn(2));
            } else if (state == "failed") {
                out.failed = n;
            }
        }
        if (columns_of(db, "media_files").contains("verified_by")) {
            SQLite::Statement methods(db,
                                      "SELECT COALESCE(verified_by, 'unknown'), COUNT(*) FROM media_files "
                                      "WHERE state = 'completed' GROUP BY 1");
            while (methods.executeStep())
                out.completed_by_verify[methods.getColumn(0).getString()] = count(methods.getColumn(1));
        }
        SQLite::Statement oldest(db, "SELECT MIN(discovered_at) FROM media_files WHERE state = 'pending'");
        if (oldest.executeStep() && !oldest.getColumn(0).isNull()) {
            if (auto t = parse_rfc3339(oldest.getColumn(0).getString()))
                out.oldest_pending_age = *t < now ? std::chrono::duration_cast<Duration>(now - *t) : Duration{0};
        }
        SQLite::Statement last(db, has_attempts_table(db)
                                       ? "SELECT MAX(finished_at) FROM sync_attempts WHERE outcome = 'completed'"
                                       : "SELECT MAX(completed_at) FROM media_files WHERE state = 'completed'");
        if (last.executeStep() && !last.getColumn(0).isNull()) out.last_success = last.getColumn(0).getString();
        return out;
    });
}

Result<TransferWindow> read_transfer_window(SQLite::Database& db, SystemTimePoint since,
                                            std::optional<SystemTimePoint> until) {
    return db_guard(db, "reading the finished transfers", [&]() -> Result<TransferWindow> {
        TransferWindow out;
        out.per_attempt = has_attempts_table(db);
        SQLite::Statement q(db, window_query(out.per_attempt));
        bind_range(q, since, until);
        q.executeStep();
        out.completed = count(q.getColumn(0));
        out.failed = count(q.getColumn(1));
        out.bytes = count(q.getColumn(2));
        out.seconds = q.getColumn(3).getDouble();
        if (!q.getColumn(4).isNull()) out.average_seconds = q.getColumn(4).getDouble();
        out.bytes_completed = count(q.getColumn(5));
        return out;
    });
}

Result<std::vector<CompletedUpload>> read_completed_uploads(SQLite::Database& db, SystemTimePoint since,
                                                            SystemTimePoint until) {
    return db_guard(db, "reading the completed transfers", [&]() -> Result<std::vector<CompletedUpload>> {
        std::vector<CompletedUpload> out;
        SQLite::Statement q(db, completed_query(has_attempts_table(db)));
        bind_range(q, since, until);
        while (q.executeStep()) {
            const auto finished = parse_rfc3339(q.getColumn(0).getString());
            if (!finished) continue;  // not written by nasops-sync
            out.push_back(CompletedUpload{*finished, count(q.getColumn(1)), q.getColumn(2).getDouble()});
        }
        return out;
    });
}

}  // namespace nasops
