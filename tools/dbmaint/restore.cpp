#include "restore.hpp"

#include <SQLiteCpp/Statement.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <set>

#include "backup.hpp"
#include "database.hpp"
#include "nasops/core/lock.hpp"
#include "nasops/util/units.hpp"
#include "sidecar.hpp"
#include "stream_copy.hpp"

namespace nasops::dbmaint {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_tools[] = {"sync", "health", "alert", "capacity", "trace"};

std::string compact_utc(SystemTimePoint t) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    return fmt::format("{:%Y%m%dT%H%M%S}Z", tm);
}

std::map<std::string, std::int64_t> rows_of(const fs::path& path, Access access) {
    std::map<std::string, std::int64_t> rows;
    auto db = open_database(path, access);
    if (!db) return rows;
    if (auto counted = table_rows(**db, path); counted)
        for (auto& [name, n] : *counted) rows[name] = n;
    return rows;
}

// Folds the live WAL into the database and removes -wal and -shm, so that
// the file renamed over it meets no WAL of another database.
Result<void> retire_wal(const fs::path& database) {
    {
        TRY_ASSIGN(auto db, open_database(database, Access::read_write));
        try {
            SQLite::Statement q(*db, "PRAGMA wal_checkpoint(TRUNCATE)");
            q.executeStep();
            if (q.getColumn(0).getInt() != 0)
                return fail(ExitCode::temp_failure,
                            fmt::format("{}: a reader keeps the WAL from being folded in; stop it and try again",
                                        database.string()));
        } catch (const std::exception& e) {
            return std::unexpected(db_error(database, "wal_checkpoint", e));
        }
    }
    if (file_bytes(wal_path(database)) > 0)
        return fail(ExitCode::temp_failure, fmt::format("{} still holds frames; another process has the database open",
                                                        wal_path(database).string()));
    std::error_code ec;
    fs::remove(wal_path(database), ec);
    fs::remove(shm_path(database), ec);
    return {};
}

}  // namespace

std::vector<fs::path> tool_locks(const fs::path& state_dir) {
    std::set<fs::path> locks;
    for (auto tool : k_tools) locks.insert(state_dir / fmt::format("{}.lock", tool));
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(state_dir, ec))
        if (entry.path().extension() == ".lock") locks.insert(entry.path());
    locks.erase(state_dir / "dbmaint.lock");
    return {locks.begin(), locks.end()};
}

Result<StepReport> restore_database(const RestoreRequest& r) {
    StepTimer timer;
    std::error_code ec;
    if (!fs::is_regular_file(r.backup, ec))
        return fail(ExitCode::no_input, fmt::format("no backup at {}", r.backup.string()));
    TRY_ASSIGN(const auto hex, read_sidecar(r.backup));
    // The database the backup holds, copied (or decompressed) next to the live
    // one and checked there: the bytes renamed into place are the bytes checked.
    RemovedAtExit temp(r.database.parent_path() / ".nasops.db.restore-tmp");
    TRY(unpack_backup(r.backup, temp.path(), hex, CheckDepth::full, r.dry_run ? Durability::none : Durability::fsync));

    std::vector<LockFile> held;
    for (const auto& lock : tool_locks(r.state_dir)) {
        TRY_ASSIGN(auto taken, LockFile::acquire(lock, r.lock_timeout));
        held.push_back(std::move(taken));
    }
    const bool had_database = fs::exists(r.database, ec);
    const auto before = had_database ? rows_of(r.database, Access::read_only) : std::map<std::string, std::int64_t>{};
    StepReport report{.step = "restore", .path = r.backup.string()};
    report.bytes_before = file_bytes(r.database) + file_bytes(wal_path(r.database));
    const fs::path aside = r.database.string() + ".before-restore-" + compact_utc(r.now);
    const auto copy_aside = [](const fs::path& from, const fs::path& to) -> Result<void> {
        TRY(stream_copy(from, to, Transform::copy, Hash::none, Durability::fsync));
        return {};
    };
    if (!r.dry_run) {
        // A corrupt database (the usual reason to restore) cannot be read
        // through SQLite: its files are then kept aside as they are.
        bool corrupt = false;
        if (had_database) {
            if (auto copied = online_copy(r.database, aside, Durability::fsync); !copied) {
                if (copied.error().code != ExitCode::data_error) return std::unexpected(copied.error());
                corrupt = true;
                TRY(copy_aside(r.database, aside));
                if (fs::exists(wal_path(r.database), ec)) TRY(copy_aside(wal_path(r.database), wal_path(aside)));
            }
        }
        // The tools that read the database (health, as another user) keep their access.
        if (struct stat st{}; had_database && ::stat(r.database.c_str(), &st) == 0) {
            // Best effort: a non-root run cannot give a file away, and keeps it 0600.
            [[maybe_unused]] const int owned = ::chown(temp.path().c_str(), st.st_uid, st.st_gid);
            [[maybe_unused]] const int moded = ::chmod(temp.path().c_str(), st.st_mode & 07777);
        }
        if (corrupt) {
            fs::remove(wal_path(r.database), ec);
            fs::remove(shm_path(r.database), ec);
        } else if (had_database) {
            TRY(retire_wal(r.database));
        }
        fs::rename(temp.path(), r.database, ec);
        if (ec)
            return fail(ExitCode::cant_create, fmt::format("cannot rename {} to {}: {}", temp.path().string(),
                                                           r.database.string(), ec.message()));
        temp.keep();
        TRY(sync_dir(r.database.parent_path()));
    }
    const auto after = rows_of(r.dry_run ? temp.path() : r.database, Access::read_only);
    nlohmann::json tables = nlohmann::json::object();
    std::set<std::string> names;
    for (const auto& [n, c] : before) names.insert(n);
    for (const auto& [n, c] : after) names.insert(n);
    std::int64_t total = 0;
    for (const auto& name : names) {
        const auto b = before.contains(name) ? before.at(name) : 0;
        const auto a = after.contains(name) ? after.at(name) : 0;
        tables[name] = {{"before", b}, {"after", a}};
        total += a;
    }
    report.rows = total;
    report.bytes_after = file_bytes(r.dry_run ? temp.path() : r.database);
    report.details = {{"tables", tables}, {"sha256", hex}};
    if (had_database) report.details["before_restore"] = aside.string();
    report.message = r.dry_run ? fmt::format("would restore {} over {}", r.backup.string(), r.database.string())
                               : fmt::format("restored {} over {}{}", r.backup.string(), r.database.string(),
                                             had_database ? fmt::format(" (the old one is {})", aside.string()) : "");
    report.duration_ms = timer.elapsed_ms();
    return report;
}

std::string restore_table(const StepReport& report) {
    std::string text = report.message + "\n\ntable                  before    after\n";
    for (const auto& [name, counts] : report.details.at("tables").items())
        text += fmt::format("{:<20} {:>8} {:>8}\n", name, counts.at("before").get<std::int64_t>(),
                            counts.at("after").get<std::int64_t>());
    return text;
}

}  // namespace nasops::dbmaint
