#include "database.hpp"

#include <SQLiteCpp/Statement.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "nasops/util/unique_fd.hpp"

namespace nasops::dbmaint {

namespace fs = std::filesystem;

Result<std::unique_ptr<SQLite::Database>> open_database(const fs::path& path, Access access) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return fail(ExitCode::no_input, fmt::format("no database at {}", path.string()));
    const int flags = access == Access::read_only ? SQLite::OPEN_READONLY : SQLite::OPEN_READWRITE;
    try {
        auto db = std::make_unique<SQLite::Database>(path.string(), flags, 5000);
        // The first read of a file that is not a database fails here, with SQLite's own words.
        db->exec("PRAGMA foreign_keys = ON");
        SQLite::Statement probe(*db, "SELECT count(*) FROM sqlite_schema");
        probe.executeStep();
        return db;
    } catch (const std::exception& e) {
        return std::unexpected(db_error(path, "cannot open database", e));
    }
}

fs::path wal_path(const fs::path& database) {
    return fs::path(database.string() + "-wal");
}

fs::path shm_path(const fs::path& database) {
    return fs::path(database.string() + "-shm");
}

std::uint64_t file_bytes(const fs::path& path) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    return ec ? 0 : size;
}

Result<DbFacts> read_facts(SQLite::Database& db, const fs::path& path) {
    try {
        DbFacts facts;
        facts.page_size = static_cast<std::uint64_t>(db.execAndGet("PRAGMA page_size").getInt64());
        facts.page_count = static_cast<std::uint64_t>(db.execAndGet("PRAGMA page_count").getInt64());
        facts.freelist_count = static_cast<std::uint64_t>(db.execAndGet("PRAGMA freelist_count").getInt64());
        facts.file_bytes = file_bytes(path);
        facts.wal_bytes = file_bytes(wal_path(path));
        return facts;
    } catch (const std::exception& e) {
        return std::unexpected(db_error(path, "cannot read its size", e));
    }
}

std::string quote_identifier(std::string_view name) {
    std::string quoted = "\"";
    for (char c : name) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    return quoted + '"';
}

Result<TableRows> table_rows(SQLite::Database& db, const fs::path& path) {
    try {
        std::vector<std::string> names;
        SQLite::Statement q(db,
                            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
                            "ESCAPE '\\' ORDER BY name");
        while (q.executeStep()) names.push_back(q.getColumn(0).getString());
        TableRows rows;
        for (const auto& name : names)
            rows.emplace_back(name, db.execAndGet("SELECT count(*) FROM " + quote_identifier(name)).getInt64());
        return rows;
    } catch (const std::exception& e) {
        return std::unexpected(db_error(path, "cannot count rows", e));
    }
}

Result<void> sync_file(const fs::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0)
        return fail(ExitCode::io_error, fmt::format("cannot sync {}: {}", path.string(), std::strerror(errno)));
    return {};
}

Result<void> sync_dir(const fs::path& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0)
        return fail(ExitCode::io_error, fmt::format("cannot sync folder {}: {}", dir.string(), std::strerror(errno)));
    return {};
}

}  // namespace nasops::dbmaint
