// db and transfer: the SQLite database, read only.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <system_error>

#include "health/checks.hpp"
#include "nasops/db/transfer_stats.hpp"
#include "nasops/util/units.hpp"

namespace nasops::health {

namespace {

// Below this many bytes sent in the window, transfer_rate is reported but not
// judged: throughput then measures latency, not the link.
constexpr std::uint64_t k_rate_min_bytes = 64ull << 20;

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
            const auto missing = missing_transfer_columns(db);
            if (!missing) {
                return unknown(fmt::format("no sync database yet (no media_files table in {})", m_path.string()));
            }
            if (!missing->empty()) {
                return unknown(
                    fmt::format("media_files in {} lacks column(s) {}", m_path.string(), fmt::join(*missing, ", ")));
            }
            return measure(db, context);
        } catch (const SQLite::Exception& e) {
            return unknown(fmt::format("cannot read {}: {}", m_path.string(), e.what()));
        }
    }

private:
    CheckResult measure(SQLite::Database& db, const CheckContext& context) {
        const auto now = context.clock->now();
        const auto finished = read_transfer_window(db, now - m_window);
        if (!finished) return unknown(finished.error().message);
        const auto queue = read_transfer_queue(db, now);
        if (!queue) return unknown(queue.error().message);

        auto result = blank();
        std::vector<std::string> parts;
        const auto window = format_duration(m_window);
        if (const auto ratio = finished->success_ratio()) {
            auto m = m_thresholds->metric("transfer_success", *ratio);
            m.min = 0;
            m.max = 1;
            result.metrics.push_back(m);
            parts.push_back(fmt::format("{} of {} transfer{} succeeded in the last {} ({})", finished->completed,
                                        finished->completed + finished->failed,
                                        finished->per_attempt ? " attempts" : "s", window,
                                        format_quantity(*ratio, Quantity::percent)));
        } else {
            parts.push_back(fmt::format("no transfers finished in the last {}", window));
        }
        if (const auto rate = finished->bytes_per_second()) {
            auto m = m_thresholds->metric("transfer_rate", *rate);
            std::string judged;
            if (finished->bytes < k_rate_min_bytes) {
                // A few small files take their per-file round trips, not the link's bandwidth.
                m.warn.reset();
                m.crit.reset();
                judged = fmt::format(" (not judged under {})", format_size(k_rate_min_bytes));
            }
            result.metrics.push_back(std::move(m));
            parts.push_back(format_quantity(*rate, Quantity::rate) + judged);
        }
        if (finished->average_seconds) {
            result.metrics.push_back(m_thresholds->metric("transfer_average_duration", *finished->average_seconds));
            parts.push_back(fmt::format("average {}", format_quantity(*finished->average_seconds, Quantity::seconds)));
        }
        result.metrics.push_back(m_thresholds->metric("transfer_queue_files", static_cast<double>(queue->queued())));
        parts.push_back(fmt::format("{} queued", queue->queued()));
        if (queue->oldest_pending_age) {
            const double age = std::chrono::duration<double>(*queue->oldest_pending_age).count();
            result.metrics.push_back(m_thresholds->metric("transfer_oldest_pending_age", age));
            parts.push_back(fmt::format("oldest pending for {}", format_quantity(age, Quantity::seconds)));
        }
        if (!queue->completed_by_verify.empty()) {
            const auto by_size =
                queue->completed_by_verify.contains("size") ? queue->completed_by_verify.at("size") : 0;
            result.metrics.push_back(m_thresholds->metric("transfer_size_verified", static_cast<double>(by_size)));
            if (by_size > 0) parts.push_back(fmt::format("{} verified by size only", by_size));
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
