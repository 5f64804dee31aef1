#include "purge.hpp"

#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "database.hpp"
#include "nasops/db/store.hpp"

namespace nasops::dbmaint {

namespace fs = std::filesystem;

namespace {

bool table_exists(SQLite::Database& db, std::string_view table) {
    SQLite::Statement q(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?");
    q.bind(1, std::string(table));
    return q.executeStep();
}

// The WHERE clause of the rows past retention: older than the cutoff (?1) and
// not kept by the tool's condition (NULL keeps a row too).
std::string purgeable(const PurgeDeclaration& d) {
    return fmt::format("{} < ?1 AND NOT coalesce(({}), 1)", quote_identifier(d.time_column), d.keep_condition);
}

}  // namespace

int next_batch_size(int size, std::chrono::microseconds took, const PurgeOptions& options, int wal_frames) {
    const auto floor = std::min(k_min_batch, options.batch);
    const auto ceiling = std::min(options.batch, size * 2);
    const auto took_us = std::max<std::int64_t>(took.count(), 1);
    const auto target_us = std::chrono::duration_cast<std::chrono::microseconds>(options.target).count();
    auto fits = static_cast<std::int64_t>(size) * target_us / took_us;
    if (wal_frames > 0) fits = std::min(fits, static_cast<std::int64_t>(size) * options.max_wal_frames / wal_frames);
    return static_cast<int>(std::clamp<std::int64_t>(fits, floor, std::max(floor, ceiling)));
}

Result<std::vector<PurgeDeclaration>> read_declarations(SQLite::Database& db, const fs::path& path,
                                                        const RetentionOverrides& overrides) {
    std::vector<PurgeDeclaration> found;
    try {
        if (table_exists(db, "purge_declarations")) {
            SQLite::Statement q(db,
                                "SELECT table_name, component, time_column, keep_condition, default_retention "
                                "FROM purge_declarations ORDER BY table_name");
            while (q.executeStep()) {
                PurgeDeclaration d{.table = q.getColumn(0).getString(),
                                   .component = q.getColumn(1).getString(),
                                   .time_column = q.getColumn(2).getString(),
                                   .keep_condition = q.getColumn(3).getString()};
                const auto text = q.getColumn(4).getString();
                auto retention = parse_duration(text);
                if (!retention)
                    return fail(ExitCode::data_error,
                                fmt::format("{}: purge_declarations: {} declares retention '{}': {}", path.string(),
                                            d.table, text, retention.error().message));
                d.retention = *retention;
                found.push_back(std::move(d));
            }
        }
    } catch (const std::exception& e) {
        return std::unexpected(db_error(path, "cannot read purge_declarations", e));
    }
    for (const auto& [table, retention] : overrides) {
        auto it = std::ranges::find(found, table, &PurgeDeclaration::table);
        if (it == found.end()) {
            std::string declared;
            for (const auto& d : found) declared += (declared.empty() ? "" : ", ") + d.table;
            return fail(ExitCode::config,
                        fmt::format("[dbmaint.retention] {}: no tool declares this table as purgeable ({})", table,
                                    declared.empty() ? "none is declared in this database" : "declared: " + declared));
        }
        it->retention = retention;
        it->overridden = true;
    }
    return found;
}

Result<StepReport> purge_database(const fs::path& database, const RetentionOverrides& overrides,
                                  const PurgeOptions& options) {
    StepTimer timer;
    TRY_ASSIGN(auto db, open_database(database, Access::read_write));
    TRY_ASSIGN(const auto declarations, read_declarations(*db, database, overrides));
    try {
        db->exec("PRAGMA synchronous = NORMAL");
    } catch (const std::exception& e) {
        return std::unexpected(db_error(database, "purge", e));
    }
    StepReport report{.step = "purge", .path = database.string()};
    report.bytes_before = file_bytes(database) + file_bytes(wal_path(database));
    nlohmann::json tables = nlohmann::json::object();
    std::int64_t total = 0;
    std::string summary;
    try {
        for (const auto& d : declarations) {
            if (!table_exists(*db, d.table)) continue;
            const auto cutoff = rfc3339_millis(options.now - d.retention);
            std::int64_t deleted = 0;
            if (options.dry_run) {
                SQLite::Statement q(
                    *db, fmt::format("SELECT count(*) FROM {} WHERE {}", quote_identifier(d.table), purgeable(d)));
                q.bind(1, cutoff);
                q.executeStep();
                deleted = q.getColumn(0).getInt64();
            } else {
                SQLite::Statement del(*db, fmt::format("DELETE FROM {0} WHERE rowid IN (SELECT rowid FROM {0} WHERE "
                                                       "{1} LIMIT ?2)",
                                                       quote_identifier(d.table), purgeable(d)));
                int size = std::clamp(options.first_batch, 1, options.batch);
                for (;;) {
                    const auto started = std::chrono::steady_clock::now();
                    auto batch = in_transaction(*db, [&]() -> Result<int> {
                        del.reset();
                        del.bind(1, cutoff);
                        del.bind(2, size);
                        return del.exec();
                    });
                    TRY(batch);
                    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - started);
                    deleted += *batch;
                    // Copy the batch's pages into the database now, outside the
                    // lock: else the writer whose commit passes 1000 WAL frames
                    // copies them all itself, inside its commit. The answer's
                    // second column is the pages now in the WAL.
                    SQLite::Statement checkpoint(*db, "PRAGMA wal_checkpoint(PASSIVE)");
                    checkpoint.executeStep();
                    const int wal_frames = checkpoint.getColumn(1).getInt();
                    if (*batch < size) break;
                    size = next_batch_size(size, took, options, wal_frames);
                    std::this_thread::sleep_for(std::max<std::chrono::microseconds>(options.pause, took / 2));
                }
            }
            tables[d.table] = deleted;
            total += deleted;
            summary += fmt::format("{}{} {}", summary.empty() ? "" : ", ", d.table, deleted);
        }
    } catch (const std::exception& e) {
        return std::unexpected(db_error(database, "purge", e));
    }
    report.rows = total;
    report.bytes_after = file_bytes(database) + file_bytes(wal_path(database));
    nlohmann::json declared = nlohmann::json::object();
    for (const auto& d : declarations) declared[d.table] = format_duration(d.retention);
    report.details = {{"tables", tables}, {"retention", declared}};
    report.message = declarations.empty()
                         ? std::string("no table is declared purgeable in this database")
                         : fmt::format("{} {} rows ({})", options.dry_run ? "would delete" : "deleted", total,
                                       summary.empty() ? "no declared table exists yet" : summary);
    report.duration_ms = timer.elapsed_ms();
    return report;
}

}  // namespace nasops::dbmaint
