#pragma once

// The database file as dbmaint sees it: opened without migrations (dbmaint
// knows no tool's tables), its size, pages and WAL, its tables' row counts.

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/db/store.hpp"

namespace nasops::dbmaint {

enum class Access { read_only, read_write };

// An existing database file, opened with busy_timeout and foreign keys on.
// A missing file is ExitCode::no_input ("no database at ..."); a file that is
// not a database, or is corrupt, ExitCode::data_error with SQLite's message.
Result<std::unique_ptr<SQLite::Database>> open_database(const std::filesystem::path& path, Access access);

struct DbFacts {
    std::uint64_t file_bytes = 0;
    std::uint64_t wal_bytes = 0;
    std::uint64_t page_size = 0;
    std::uint64_t page_count = 0;
    std::uint64_t freelist_count = 0;
    double freelist_ratio() const {
        return page_count == 0 ? 0.0 : static_cast<double>(freelist_count) / static_cast<double>(page_count);
    }
};

Result<DbFacts> read_facts(SQLite::Database& db, const std::filesystem::path& path);

// The size of `path` in bytes; 0 when it does not exist.
std::uint64_t file_bytes(const std::filesystem::path& path);
std::filesystem::path wal_path(const std::filesystem::path& database);
std::filesystem::path shm_path(const std::filesystem::path& database);

// Every table but SQLite's own, by name, with its row count.
using TableRows = std::vector<std::pair<std::string, std::int64_t>>;
Result<TableRows> table_rows(SQLite::Database& db, const std::filesystem::path& path);

// The most of a database file SQLite maps into memory when asked (PRAGMA
// mmap_size; SQLite's own limit is 2 GiB): reading pages from the mapping
// instead of with one read(2) each costs about a third less CPU.
inline constexpr std::int64_t k_mmap_bytes = std::int64_t{2} << 30;

// SQL text quoted as an identifier ("a""b").
std::string quote_identifier(std::string_view name);

// fsync of a file, then of its folder, so that a rename or a new name survives
// a power cut. Errors are ExitCode::io_error naming the file.
Result<void> sync_file(const std::filesystem::path& path);
Result<void> sync_dir(const std::filesystem::path& dir);

}  // namespace nasops::dbmaint
