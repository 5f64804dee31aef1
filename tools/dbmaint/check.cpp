#include "check.hpp"

#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>

#include "database.hpp"
#include "nasops/util/units.hpp"

namespace nasops::dbmaint {

namespace fs = std::filesystem;

Result<std::vector<std::string>> integrity_lines(SQLite::Database& db, const fs::path& path, CheckDepth depth,
                                                 int limit) {
    const auto pragma = depth == CheckDepth::full ? "integrity_check" : "quick_check";
    try {
        std::vector<std::string> lines;
        SQLite::Statement q(db, fmt::format("PRAGMA {}({})", pragma, limit));
        while (q.executeStep()) lines.push_back(q.getColumn(0).getString());
        return lines;
    } catch (const std::exception& e) {
        auto error = db_error(path, pragma, e);
        error.code = ExitCode::data_error;
        return std::unexpected(error);
    }
}

namespace {

// "table users row 4: parent accounts missing" for the first violations.
Result<std::vector<std::string>> foreign_key_problems(SQLite::Database& db, const fs::path& path) {
    try {
        std::vector<std::string> lines;
        SQLite::Statement q(db, "PRAGMA foreign_key_check");
        while (q.executeStep() && lines.size() < 20)
            lines.push_back(fmt::format("table {} row {}: no row in {} it refers to", q.getColumn(0).getString(),
                                        q.getColumn(1).getInt64(), q.getColumn(2).getString()));
        return lines;
    } catch (const std::exception& e) {
        auto error = db_error(path, "foreign_key_check", e);
        error.code = ExitCode::data_error;
        return std::unexpected(error);
    }
}

std::string join_lines(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& line : lines) text += (text.empty() ? "" : "; ") + line;
    // integrity_check may put several problems in one row: a message stays on one line.
    for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', nl)) text.replace(nl, 1, "; ");
    return text;
}

}  // namespace

StepReport check_database(const fs::path& database, CheckDepth depth) {
    StepTimer timer;
    StepReport report{.step = "check", .path = database.string()};
    const auto finish = [&](ExitCode status, std::string message) {
        report.status = status;
        report.message = std::move(message);
        report.duration_ms = timer.elapsed_ms();
        return report;
    };
    std::error_code ec;
    if (!fs::exists(database, ec))
        return finish(ExitCode::unknown, fmt::format("no database yet at {}", database.string()));
    report.bytes_before = report.bytes_after = file_bytes(database);

    auto db = open_database(database, Access::read_only);
    if (!db) return finish(ExitCode::critical, db.error().message);
    auto lines = integrity_lines(**db, database, depth);
    if (!lines) return finish(ExitCode::critical, lines.error().message);
    if (lines->size() != 1 || lines->front() != "ok")
        return finish(ExitCode::critical, fmt::format("{}: {}", database.string(), join_lines(*lines)));
    if (depth == CheckDepth::full) {
        auto problems = foreign_key_problems(**db, database);
        if (!problems) return finish(ExitCode::critical, problems.error().message);
        if (!problems->empty())
            return finish(ExitCode::critical,
                          fmt::format("{}: foreign keys: {}", database.string(), join_lines(*problems)));
    }
    auto facts = read_facts(**db, database);
    if (!facts) return finish(ExitCode::critical, facts.error().message);
    report.details = {{"page_size", facts->page_size},
                      {"page_count", facts->page_count},
                      {"freelist_count", facts->freelist_count},
                      {"wal_bytes", facts->wal_bytes}};
    return finish(ExitCode::ok, fmt::format("{} {}: {}, {} pages, {} free ({:.1f}%), WAL {}", database.string(),
                                            depth == CheckDepth::full ? "passes integrity_check and foreign_key_check"
                                                                      : "passes quick_check",
                                            format_size(facts->file_bytes), facts->page_count, facts->freelist_count,
                                            facts->freelist_ratio() * 100.0, format_size(facts->wal_bytes)));
}

}  // namespace nasops::dbmaint
