#include "nasops/db/store.hpp"

#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nasops/util/units.hpp"

namespace nasops {

namespace {

// Below this much free space a failed write is put down to a full disk.
constexpr std::uint64_t k_nearly_full_bytes = 1024 * 1024;

// SQLite's words, and whether the disk under the file is full: SQLite calls
// a -wal or -shm file it cannot grow "disk I/O error", which sends the
// operator looking for a failing disk.
std::string sqlite_failure(const std::filesystem::path& file, const std::exception& e) {
    std::string text = e.what();
    const auto* se = dynamic_cast<const SQLite::Exception*>(&e);
    const int code = se ? se->getErrorCode() : SQLITE_ERROR;
    if (code != SQLITE_FULL && code != SQLITE_IOERR && code != SQLITE_CANTOPEN) return text;
    const auto folder = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
    struct statvfs fs {};
    if (::statvfs(folder.c_str(), &fs) != 0) return text;
    const auto free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
    if (free_bytes < k_nearly_full_bytes)
        text += fmt::format(" (the file system of {} is full: {} free)", folder.string(), format_size(free_bytes));
    return text;
}

}  // namespace

ExitCode sqlite_exit_code(const std::exception& e) {
    const auto* se = dynamic_cast<const SQLite::Exception*>(&e);
    switch (se ? se->getErrorCode() : SQLITE_ERROR) {
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT: return ExitCode::data_error;
        case SQLITE_BUSY:
        case SQLITE_LOCKED: return ExitCode::temp_failure;
        case SQLITE_CANTOPEN: return ExitCode::cant_create;
        case SQLITE_READONLY:
        case SQLITE_PERM: return ExitCode::no_input;
        default: return ExitCode::io_error;
    }
}

Error db_error(const std::filesystem::path& file, std::string_view doing, const std::exception& e) {
    return Error{fmt::format("database {}: {}: {}", file.string(), doing, sqlite_failure(file, e)),
                 sqlite_exit_code(e)};
}

Error db_error(const SQLite::Database& db, std::string_view doing, const std::exception& e) {
    return db_error(std::filesystem::path(db.getFilename()), doing, e);
}

namespace detail {
void begin_immediate(SQLite::Database& db) {
    db.exec("BEGIN IMMEDIATE");
}
void commit(SQLite::Database& db) {
    db.exec("COMMIT");
}
void rollback(SQLite::Database& db) noexcept {
    try {
        db.exec("ROLLBACK");
    } catch (...) {  // nothing to roll back: the failure ended the transaction already
    }
}
}  // namespace detail

namespace {

constexpr std::string_view k_version_table =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " component TEXT PRIMARY KEY,"
    " version INTEGER NOT NULL,"
    " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))";

constexpr std::string_view k_purge_table =
    "CREATE TABLE IF NOT EXISTS purge_declarations ("
    " table_name TEXT PRIMARY KEY,"
    " component TEXT NOT NULL,"
    " time_column TEXT NOT NULL,"
    " keep_condition TEXT NOT NULL DEFAULT '0',"
    " default_retention TEXT NOT NULL)";

int read_version(SQLite::Database& db, std::string_view component) {
    SQLite::Statement q(db, "SELECT version FROM schema_version WHERE component = ?");
    q.bind(1, std::string(component));
    return q.executeStep() ? q.getColumn(0).getInt() : 0;
}

Result<void> apply_migrations(SQLite::Database& db, const std::filesystem::path& path,
                              std::span<const Migration> migrations) {
    std::map<std::string_view, std::vector<const Migration*>> by_component;
    for (const auto& m : migrations) by_component[m.component].push_back(&m);

    for (auto& [component, steps] : by_component) {
        std::ranges::sort(steps, {}, &Migration::version);
        const int known = steps.back()->version;
        for (const auto* step : steps) {
            TRY(in_transaction(db, [&]() -> Result<bool> {
                const int current = read_version(db, component);
                if (current > known) {
                    return fail(ExitCode::data_error,
                                fmt::format("{}: schema of '{}' is at version {}, newer than this program knows ({}); "
                                            "upgrade nasops before using this database",
                                            path.string(), component, current, known));
                }
                if (current >= step->version) return false;
                try {
                    db.exec(std::string(step->sql));
                } catch (const SQLite::Exception& e) {
                    return fail(ExitCode::software, fmt::format("{}: migration {} v{} failed: {}", path.string(),
                                                                component, step->version, e.what()));
                }
                SQLite::Statement up(db,
                                     "INSERT INTO schema_version(component, version) VALUES(?, ?) "
                                     "ON CONFLICT(component) DO UPDATE SET version = excluded.version, "
                                     "applied_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')");
                up.bind(1, std::string(component));
                up.bind(2, step->version);
                up.exec();
                return true;
            }));
        }
    }
    return {};
}

// SQLite counts every allocation under one process-wide mutex for
// sqlite3_status(), which nasops never reads: on small files that lock was 2%
// of nasops-sync's CPU. It can only be switched off before SQLite initialises,
// which the first open does.
void skip_sqlite_memory_statistics() {
    static std::once_flag once;
    std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

Result<Store> Store::open(const std::filesystem::path& path, std::span<const Migration> migrations, OpenMode mode) {
    const int flags =
        mode == OpenMode::read_only ? SQLite::OPEN_READONLY : (SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    std::unique_ptr<SQLite::Database> db;
    skip_sqlite_memory_statistics();
    try {
        db = std::make_unique<SQLite::Database>(path.string(), flags, k_busy_timeout_ms);
    } catch (const SQLite::Exception& e) {
        return fail(mode == OpenMode::read_only ? ExitCode::no_input : ExitCode::cant_create,
                    fmt::format("cannot open database {}: {}", path.string(), sqlite_failure(path, e)));
    }
    // Two tools creating the database at once can meet in SQLite's deadlock
    // guard: a statement that read, then wants to write (the switch to WAL,
    // CREATE TABLE IF NOT EXISTS) gets SQLITE_BUSY at once, without waiting
    // busy_timeout. Every step here is idempotent, so it is tried again.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(k_busy_timeout_ms);
    for (;;) {
        try {
            // The first read of the header: a file that is not a database fails
            // here, with SQLite's own words (foreign_keys alone reads nothing).
            (void)db->execAndGet("PRAGMA schema_version");
            db->exec("PRAGMA foreign_keys = ON");
            if (mode == OpenMode::read_write) {
                db->exec("PRAGMA journal_mode = WAL");
                db->exec("PRAGMA synchronous = NORMAL");
                db->exec(std::string(k_version_table));
                db->exec(std::string(k_purge_table));
                TRY(apply_migrations(*db, path, migrations));
            }
            return Store(std::move(db), path);
        } catch (const SQLite::Exception& e) {
            if (e.getErrorCode() != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline)
                return fail(sqlite_exit_code(e),
                            fmt::format("database {}: {}", path.string(), sqlite_failure(path, e)));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

Result<int> Store::schema_version(std::string_view component) {
    return db_guard(*m_db, "reading its schema version", [&]() -> Result<int> {
        // A read-only open of a database that never had migrations has no table yet.
        SQLite::Statement table(*m_db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'");
        if (!table.executeStep()) return 0;
        return read_version(*m_db, component);
    });
}

}  // namespace nasops
