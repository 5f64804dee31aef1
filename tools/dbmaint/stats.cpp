#include "stats.hpp"

#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>

#include "database.hpp"
#include "nasops/util/units.hpp"

namespace nasops::dbmaint {

namespace fs = std::filesystem;

Result<StepReport> database_stats(const fs::path& database) {
    StepTimer timer;
    TRY_ASSIGN(auto db, open_database(database, Access::read_only));
    TRY_ASSIGN(const auto facts, read_facts(*db, database));
    TRY_ASSIGN(const auto tables, table_rows(*db, database));
    StepReport report{
        .step = "stats", .bytes_before = facts.file_bytes, .bytes_after = facts.file_bytes, .path = database.string()};
    nlohmann::json rows = nlohmann::json::object();
    std::int64_t total = 0;
    bool has_media = false;
    for (const auto& [name, count] : tables) {
        rows[name] = count;
        total += count;
        has_media = has_media || name == "media_files";
    }
    report.rows = total;
    report.details = {{"page_size", facts.page_size},
                      {"page_count", facts.page_count},
                      {"freelist_count", facts.freelist_count},
                      {"wal_bytes", facts.wal_bytes},
                      {"tables", rows}};
    if (has_media) {
        try {
            nlohmann::json states = nlohmann::json::object();
            SQLite::Statement q(*db, "SELECT state, COUNT(*) FROM media_files GROUP BY state ORDER BY state");
            while (q.executeStep()) states[q.getColumn(0).getString()] = q.getColumn(1).getInt64();
            report.details["media_files_by_state"] = states;
        } catch (const std::exception& e) {
            return std::unexpected(db_error(database, "media_files by state", e));
        }
    }
    report.message =
        fmt::format("{}: {}, {} pages of {}, {} free ({:.1f}%), WAL {}, {} rows in {} tables", database.string(),
                    format_size(facts.file_bytes), facts.page_count, format_size(facts.page_size), facts.freelist_count,
                    facts.freelist_ratio() * 100.0, format_size(facts.wal_bytes), total, tables.size());
    report.duration_ms = timer.elapsed_ms();
    return report;
}

std::string stats_table(const StepReport& r) {
    const auto& d = r.details;
    std::string text = fmt::format("{:<16} {}\n", "database", r.path);
    text += fmt::format("{:<16} {}\n", "size", format_size(r.bytes_after.value_or(0)));
    text += fmt::format("{:<16} {} of {}\n", "pages", d.value("page_count", 0), format_size(d.value("page_size", 0)));
    text += fmt::format("{:<16} {}\n", "free pages", d.value("freelist_count", 0));
    text += fmt::format("{:<16} {}\n", "wal", format_size(d.value("wal_bytes", std::uint64_t{0})));
    text += "\ntable                    rows\n";
    for (const auto& [name, count] : d.at("tables").items())
        text += fmt::format("{:<20} {:>8}\n", name, count.get<std::int64_t>());
    if (d.contains("media_files_by_state")) {
        text += "\nmedia_files state        rows\n";
        for (const auto& [state, count] : d.at("media_files_by_state").items())
            text += fmt::format("{:<20} {:>8}\n", state, count.get<std::int64_t>());
    }
    return text;
}

}  // namespace nasops::dbmaint
