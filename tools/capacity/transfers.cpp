#include "transfers.hpp"

#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <span>

#include "nasops/db/transfer_stats.hpp"
#include "nasops/util/clock.hpp"
#include "regression.hpp"

namespace nasops::capacity {

namespace {

constexpr std::int64_t k_day = 86400;
constexpr int k_max_jobs = 64;  // nasops-sync's --jobs limit

}  // namespace

Result<TransferHistory> read_transfer_history(SQLite::Database& db, std::int64_t since, std::int64_t now) {
    TransferHistory h;
    TRY_ASSIGN(const bool synced, has_transfer_tables(db));
    if (!synced) return h;
    // Whole days only: today's uploads so far would read as a slow day.
    const std::int64_t last_day = now / k_day - 1;
    h.first_day = last_day;
    const auto from = SystemTimePoint{std::chrono::seconds{since}};
    const auto until = SystemTimePoint{std::chrono::seconds{(last_day + 1) * k_day}};
    TRY_ASSIGN(const auto uploads, read_completed_uploads(db, from, until));
    if (uploads.empty()) return h;
    TRY_ASSIGN(const auto window, read_transfer_window(db, from, until));
    h.job_bytes_per_second = window.bytes_per_second();
    const auto seconds_of = [](const CompletedUpload& u) {
        return std::chrono::duration_cast<std::chrono::seconds>(u.finished.time_since_epoch()).count();
    };
    h.first_day = seconds_of(uploads.front()) / k_day;
    const auto n = static_cast<std::size_t>(last_day - h.first_day + 1);
    h.files.assign(n, 0);
    h.bytes.assign(n, 0);
    for (const auto& u : uploads) {
        const auto ts = seconds_of(u);
        const auto i = static_cast<std::size_t>(ts / k_day - h.first_day);
        h.files[i] += 1;
        h.bytes[i] += static_cast<double>(u.bytes);
        h.files_by_hour[static_cast<std::size_t>((ts % k_day) / 3600)] += 1;
    }
    return h;
}

TransferForecast forecast_transfers(const TransferHistory& history, int horizon_days) {
    TransferForecast f;
    f.horizon_days = horizon_days;
    f.days = static_cast<int>(history.files.size());
    if (f.days < 2) {
        f.note = fmt::format("insufficient data: {} day{} of uploads", f.days, f.days == 1 ? "" : "s");
        return f;
    }
    f.enough = true;
    std::vector<Point> files, bytes;
    for (std::size_t i = 0; i < history.files.size(); ++i) {
        files.push_back(Point{static_cast<double>(i), history.files[i]});
        bytes.push_back(Point{static_cast<double>(i), history.bytes[i]});
        f.daily_files += history.files[i];
        f.daily_bytes += history.bytes[i];
    }
    const double total_files = f.daily_files;
    f.daily_files /= f.days;
    f.daily_bytes /= f.days;
    const auto files_fit = fit_line(files);
    const auto bytes_fit = fit_line(bytes);
    const double at = static_cast<double>(f.days - 1 + horizon_days);
    f.files_growth_per_day = files_fit->slope;
    f.bytes_growth_per_day = bytes_fit->slope;
    f.predicted_daily_files = std::max(0.0, files_fit->at(at));
    f.predicted_daily_bytes = std::max(0.0, bytes_fit->at(at));
    const double busiest = *std::ranges::max_element(history.files_by_hour);
    f.peak_multiplier = total_files > 0 ? busiest / (total_files / 24.0) : 1.0;
    f.job_bytes_per_second = history.job_bytes_per_second;
    if (f.job_bytes_per_second && *f.job_bytes_per_second > 0) {
        // The peak hour's bytes must go within the hour.
        const double peak_rate = f.predicted_daily_bytes / 24.0 * f.peak_multiplier / 3600.0;
        f.recommended_jobs =
            std::clamp(static_cast<int>(std::ceil(peak_rate / *f.job_bytes_per_second)), 1, k_max_jobs);
    }
    return f;
}

}  // namespace nasops::capacity
