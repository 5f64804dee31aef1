#include "vacuum.hpp"

#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

#include "database.hpp"
#include "nasops/util/units.hpp"

namespace nasops::dbmaint {

namespace fs = std::filesystem;

Result<std::uint64_t> free_bytes(const fs::path& dir) {
    struct statvfs st {};
    if (::statvfs(dir.c_str(), &st) != 0)
        return fail(ExitCode::io_error,
                    fmt::format("cannot read the free space of {}: {}", dir.string(), std::strerror(errno)));
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

namespace {

Result<void> require_room(const fs::path& dir, std::uint64_t needed, std::string_view what) {
    TRY_ASSIGN(const auto free, free_bytes(dir));
    if (free < needed)
        return fail(ExitCode::cant_create,
                    fmt::format("not enough free space for {}: {} free on {}, the database is {}", what,
                                format_size(free), dir.string(), format_size(needed)));
    return {};
}

Result<StepReport> vacuum_into(SQLite::Database& db, const fs::path& database, const fs::path& into, StepReport report,
                               bool dry_run) {
    std::error_code ec;
    if (fs::exists(into, ec))
        return fail(ExitCode::cant_create, fmt::format("--into {}: the file exists; name a new one", into.string()));
    const auto dir = into.parent_path();
    TRY(require_room(dir, *report.bytes_before, "VACUUM INTO"));
    report.path = into.string();
    if (dry_run) {
        report.message = fmt::format("would write a compact copy of {} to {}", database.string(), into.string());
        return report;
    }
    const fs::path temp = into.string() + ".tmp";
    fs::remove(temp, ec);
    try {
        SQLite::Statement q(db, "VACUUM INTO ?");
        q.bind(1, temp.string());
        q.exec();
    } catch (const std::exception& e) {
        fs::remove(temp, ec);
        return std::unexpected(db_error(into, "VACUUM INTO", e));
    }
    if (auto synced = sync_file(temp); !synced) {
        fs::remove(temp, ec);
        return std::unexpected(synced.error());
    }
    fs::rename(temp, into, ec);
    if (ec) {
        fs::remove(temp, ec);
        return fail(ExitCode::cant_create,
                    fmt::format("cannot rename {} to {}: {}", temp.string(), into.string(), ec.message()));
    }
    TRY(sync_dir(dir));
    report.bytes_after = file_bytes(into);
    report.message = fmt::format("wrote a compact copy of {} ({}) to {} ({})", database.string(),
                                 format_size(*report.bytes_before), into.string(), format_size(*report.bytes_after));
    return report;
}

}  // namespace

Result<StepReport> vacuum_database(const fs::path& database, const VacuumRequest& request) {
    StepTimer timer;
    TRY_ASSIGN(auto db, open_database(database, Access::read_write));
    TRY_ASSIGN(const auto facts, read_facts(*db, database));
    StepReport report{.step = "vacuum", .bytes_before = facts.file_bytes + facts.wal_bytes, .path = database.string()};
    report.details = {{"page_count", facts.page_count},
                      {"freelist_count", facts.freelist_count},
                      {"freelist_ratio", facts.freelist_ratio()},
                      {"threshold", request.threshold}};
    if (request.into) {
        TRY_ASSIGN(auto done, vacuum_into(*db, database, *request.into, std::move(report), request.dry_run));
        done.duration_ms = timer.elapsed_ms();
        return done;
    }
    const auto ratio_text = fmt::format("{:.1f}% of the pages are free (threshold {:.1f}%)",
                                        facts.freelist_ratio() * 100.0, request.threshold * 100.0);
    if (request.force == Force::no && facts.freelist_ratio() <= request.threshold) {
        report.bytes_after = report.bytes_before;
        report.message = fmt::format("nothing to do: {}", ratio_text);
        report.duration_ms = timer.elapsed_ms();
        return report;
    }
    TRY(require_room(database.parent_path(), facts.file_bytes, "VACUUM"));
    if (request.dry_run) {
        report.bytes_after = report.bytes_before;
        report.message = fmt::format("would rebuild {}: {}", database.string(), ratio_text);
        report.duration_ms = timer.elapsed_ms();
        return report;
    }
    try {
        db->exec("VACUUM");
        db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const std::exception& e) {
        return std::unexpected(db_error(database, "VACUUM", e));
    }
    report.bytes_after = file_bytes(database) + file_bytes(wal_path(database));
    report.message = fmt::format("rebuilt {}: {} -> {} ({})", database.string(), format_size(*report.bytes_before),
                                 format_size(*report.bytes_after), ratio_text);
    report.duration_ms = timer.elapsed_ms();
    return report;
}

}  // namespace nasops::dbmaint
