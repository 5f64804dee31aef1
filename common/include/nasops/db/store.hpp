#pragma once

// The SQLite database shared by the tools (<state>/nasops.db): WAL mode,
// busy_timeout, foreign keys, and versioned migrations applied on open.
// Each tool declares its own tables as migration steps under its own name;
// one table, schema_version, records how far each component has got.
//
// A second common table, purge_declarations, says what nasops-dbmaint may
// purge, so that dbmaint knows no tool's tables. A tool declares each of its
// tables that grows with time in the migration that creates it:
//   INSERT OR REPLACE INTO purge_declarations
//     (table_name, component, time_column, keep_condition, default_retention)
//   VALUES ('media_files', 'sync', 'completed_at', 'state <> ''completed''', '30d');
// time_column holds RFC 3339 UTC text (rfc3339_millis); keep_condition is an
// SQL expression over the table's columns, true for rows never to be purged
// (a row for which it is NULL is kept too); default_retention is a duration
// ("30d") that [dbmaint.retention] may override.

#include <SQLiteCpp/Database.h>

#include <exception>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>

#include "nasops/core/error.hpp"

namespace nasops {

struct Migration {
    std::string_view component;  // "sync", "alert", …
    int version;                 // 1, 2, 3… in order, per component
    std::string_view sql;        // one or more statements, run in one transaction
};

enum class OpenMode { read_write, read_only };

class Store {
public:
    static constexpr int k_busy_timeout_ms = 5000;

    // Opens (creating if needed, in read_write mode) the database at `path` and
    // applies the migrations not yet recorded, each step in its own IMMEDIATE
    // transaction so that two processes opening a new database at once apply
    // every step exactly once. A database whose schema is newer than these
    // migrations know is refused (ExitCode::data_error): an older binary must
    // not write to it.
    static Result<Store> open(const std::filesystem::path& path, std::span<const Migration> migrations,
                              OpenMode mode = OpenMode::read_write);

    SQLite::Database& db() { return *m_db; }
    const std::filesystem::path& path() const { return m_path; }

    // The version recorded for `component`, 0 when none; a database that
    // cannot be read is an error (db_error), never 0.
    Result<int> schema_version(std::string_view component);

private:
    Store(std::unique_ptr<SQLite::Database> db, std::filesystem::path path)
        : m_db(std::move(db)), m_path(std::move(path)) {}

    std::unique_ptr<SQLite::Database> m_db;
    std::filesystem::path m_path;
};

// Runs `body` inside a transaction that commits when it returns a value and
// rolls back when it returns an Error or throws. BEGIN IMMEDIATE takes the write
// lock up front, so a busy database waits busy_timeout instead of failing
// half-way through.
template <class F>
auto in_transaction(SQLite::Database& db, F&& body) -> decltype(body());

// A failure while `doing` something with the database `file` ("reading the
// queue", "saving the run"), in one wording for every tool:
// "database <file>: <doing>: <SQLite's words>", with the exit code its SQLite
// error code deserves: a file that is not a database or is corrupt is bad data
// (65), a lock another process holds is temporary (75), a file SQLite cannot
// open 73, a read-only file or one it may not read 66, anything else 74.
Error db_error(const std::filesystem::path& file, std::string_view doing, const std::exception& e);
Error db_error(const SQLite::Database& db, std::string_view doing, const std::exception& e);
ExitCode sqlite_exit_code(const std::exception& e);

// Runs `body`, which returns a Result, and turns an exception it throws
// (SQLite's, or a JSON column that will not encode) into db_error(db, doing, e).
template <class F>
auto db_guard(const SQLite::Database& db, std::string_view doing, F&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const std::exception& e) {
        return std::unexpected(db_error(db, doing, e));
    }
}

namespace detail {
void begin_immediate(SQLite::Database& db);
void commit(SQLite::Database& db);
void rollback(SQLite::Database& db) noexcept;
}  // namespace detail

template <class F>
auto in_transaction(SQLite::Database& db, F&& body) -> decltype(body()) {
    detail::begin_immediate(db);
    try {
        auto result = body();
        if (result) {
            detail::commit(db);
        } else {
            detail::rollback(db);
        }
        return result;
    } catch (...) {
        detail::rollback(db);
        throw;
    }
}

}  // namespace nasops
