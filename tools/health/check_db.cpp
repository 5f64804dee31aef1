// db and transfer: the SQLite database, read only.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <system_error>

#include "health/checks.hpp"

namespace nasops::health {

namespace {

int busy_ms(Duration timeout) {
    return static_cast<int>(std::clamp<std::int64_t>(timeout.count() / 2, 100, 5000));
}

std::uint64_t size_or_zero(const std::filesystem::path& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    return ec ? 0 : size;
}

class DbCheck final : public Check {
public:
    DbCheck(std::filesystem::path path, ThresholdsPtr thresholds)
        : Check("db", path.string()), m_path(std::move(path)), m_thresholds(std::move(thresholds)) {}

    CheckResult run(const CheckContext& context) override {
        std::error_code ec;
        if (!std::filesystem::exists(m_path, ec)) return unknown(fmt::format("no database at {}", m_path.string()));
        auto result = blank();
        const double size = static_cast<double>(size_or_zero(m_path) + size_or_zero(m_path.string() + "-wal"));
        std::vector<std::string> problems;
        try {
            SQLite::Database db(m_path.string(), SQLite::OPEN_READONLY, busy_ms(context.timeout));
            SQLite::Statement check(db, "PRAGMA quick_check");
            while (check.executeStep()) {
                std::string line = check.getColumn(0).getString();
                if (line != "ok") problems.push_back(std::move(line));
            }
        } catch (const SQLite::Exception& e) {
            result.status = Status::critical;
            result.message = fmt::format("cannot check {}: {}", m_path.string(), e.what());
            result.metrics.push_back(m_thresholds->metric("db_size", size));
            return result;
        }
        result.metrics.push_back(m_thresholds->metric("db_size", size));
        if (problems.empty()) {
            result.message = fmt::format("quick_check ok, {}", format_size(static_cast<std::uint64_t>(size)));
        } else {
            result.status = Status::critical;
            result.message = fmt::format("quick_check found {} problem{}: {}", problems.size(),
                                         problems.size() == 1 ? "" : "s", problems.front());
        }
        return result;
    }

private:
    std::filesystem::path m_path;
    ThresholdsPtr m_thresholds;
};

// The columns of media_files this check reads; the sync tool's schema has more.
constexpr const char* k_transfer_columns[] = {"state",        "discovered_at", "started_at",
                                              "completed_at", "bytes_sent",    "seconds"};

class TransferCheck final : public Check {
public:
    TransferCheck(std::filesystem::path path, Duration window, ThresholdsPtr thresholds)
        : Check("transfer", path.string()),
          m_path(std::move(path)),
          m_window(window),
          m_thresholds(std::move(thresholds)) {}

    CheckResult run(const CheckContext& context) override {
        std::error_code ec;
        if (!std::filesystem::exists(m_path, ec)) {
            return unknown(fmt::format("no sync database yet ({} does not exist)", m_path.string()));
        }
        try {
            SQLite::Database db(m_path.string(), SQLite::OPEN_READONLY, busy_ms(context.timeout));
            std::set<std::string> columns;
            SQLite::Statement info(db, "PRAGMA table_info(media_files)");
            while (info.executeStep()) columns.insert(info.getColumn(1).getString());
            if (columns.empty()) {
                return unknown(fmt::format("no sync database yet (no media_files table in {})", m_path.string()));
            }
            std::string missing;
            for (const char* c : k_transfer_columns) {
                if (!columns.contains(c)) missing += (missing.empty() ? "" : ", ") + std::string(c);
            }
            if (!missing.empty()) {
                return unknown(fmt::format("media_files in {} lacks column(s) {}", m_path.string(), missing));
            }
            return measure(db, context);
        } catch (const SQLite::Exception& e) {
            return unknown(fmt::format("cannot read {}: {}", m_path.string(), e.what()));
        }
    }

private:
    CheckResult measure(SQLite::Database& db, const CheckContext& context) {
        const auto now = context.clock->now();
        const auto now_text = rfc3339_millis(now);
        const auto since_text = rfc3339_millis(now - m_window);
        auto result = blank();

        // Finished within the window. nasops-sync records every attempt in
        // sync_attempts (a failure that is retried later leaves media_files
        // 'pending'); without that table, media_files' final states are all there is.
        SQLite::Statement has_attempts(db,
                                       "SELECT COUNT(*) FROM pragma_table_info('sync_attempts')"
                                       " WHERE name IN ('finished_at', 'outcome', 'bytes', 'seconds')");
        has_attempts.executeStep();
        const bool attempts = has_attempts.getColumn(0).getInt() == 4;
        SQLite::Statement finished(
            db, attempts ? "SELECT"
                           " COALESCE(SUM(outcome = 'completed'), 0),"
                           " COALESCE(SUM(outcome = 'failed'), 0),"
                           " SUM(CASE WHEN outcome = 'completed' AND seconds > 0 THEN bytes END),"
                           " SUM(CASE WHEN outcome = 'completed' AND seconds > 0 THEN seconds END),"
                           " AVG(CASE WHEN outcome = 'completed' THEN seconds END)"
                           " FROM sync_attempts WHERE julianday(finished_at) >= julianday(?)"
                         : "SELECT"
                           " COALESCE(SUM(state = 'completed'), 0),"
                           " COALESCE(SUM(state = 'failed'), 0),"
                           " SUM(CASE WHEN state = 'completed' AND seconds > 0 THEN bytes_sent END),"
                           " SUM(CASE WHEN state = 'completed' AND seconds > 0 THEN seconds END),"
                           " AVG(CASE WHEN state = 'completed' THEN seconds END)"
                           " FROM media_files"
                           " WHERE state IN ('completed', 'failed')"
                           " AND julianday(COALESCE(completed_at, started_at, discovered_at)) >= julianday(?)");
        finished.bind(1, since_text);
        finished.executeStep();
        const auto completed = finished.getColumn(0).getInt64();
        const auto failed = finished.getColumn(1).getInt64();
        std::vector<std::string> parts;
        const auto window = format_duration(m_window);
        if (completed + failed > 0) {
            const double ratio = static_cast<double>(completed) / static_cast<double>(completed + failed);
            auto m = m_thresholds->metric("transfer_success", ratio);
            m.min = 0;
            m.max = 1;
            result.metrics.push_back(m);
            parts.push_back(fmt::format("{} of {} transfer{} succeeded in the last {} ({})", completed,
                                        completed + failed, attempts ? " attempts" : "s", window,
                                        format_quantity(ratio, Quantity::percent)));
        } else {
            parts.push_back(fmt::format("no transfers finished in the last {}", window));
        }
        if (!finished.getColumn(2).isNull() && !finished.getColumn(3).isNull() &&
            finished.getColumn(3).getDouble() > 0) {
            const double rate = finished.getColumn(2).getDouble() / finished.getColumn(3).getDouble();
            result.metrics.push_back(m_thresholds->metric("transfer_rate", rate));
            parts.push_back(format_quantity(rate, Quantity::rate));
        }
        if (!finished.getColumn(4).isNull()) {
            const double average = finished.getColumn(4).getDouble();
            result.metrics.push_back(m_thresholds->metric("transfer_average_duration", average));
            parts.push_back(fmt::format("average {}", format_quantity(average, Quantity::seconds)));
        }

        SQLite::Statement queue(db,
                                "SELECT COUNT(*),"
                                " (julianday(?) - MIN(CASE WHEN state = 'pending' THEN julianday(discovered_at) END))"
                                " * 86400.0"
                                " FROM media_files WHERE state IN ('pending', 'transferring')");
        queue.bind(1, now_text);
        queue.executeStep();
        const auto queued = queue.getColumn(0).getInt64();
        result.metrics.push_back(m_thresholds->metric("transfer_queue_files", static_cast<double>(queued)));
        parts.push_back(fmt::format("{} queued", queued));
        if (!queue.getColumn(1).isNull()) {
            const double age = std::max(0.0, queue.getColumn(1).getDouble());
            result.metrics.push_back(m_thresholds->metric("transfer_oldest_pending_age", age));
            parts.push_back(fmt::format("oldest pending for {}", format_quantity(age, Quantity::seconds)));
        }
        for (const auto& p : parts) result.message += (result.message.empty() ? "" : ", ") + p;
        return result;
    }

    std::filesystem::path m_path;
    Duration m_window;
    ThresholdsPtr m_thresholds;
};

}  // namespace

std::shared_ptr<Check> make_db_check(std::filesystem::path db_path, ThresholdsPtr thresholds) {
    return std::make_shared<DbCheck>(std::move(db_path), std::move(thresholds));
}

std::shared_ptr<Check> make_transfer_check(std::filesystem::path db_path, Duration window, ThresholdsPtr thresholds) {
    return std::make_shared<TransferCheck>(std::move(db_path), window, std::move(thresholds));
}

}  // namespace nasops::health
