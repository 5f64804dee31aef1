#pragma once

// The transfer-load forecast (the handbook's predict_transfer_load) from
// nasops-sync's history in the shared database: files and bytes a day, their
// growth, the load predicted N days ahead, the peak-hour multiplier measured
// from the history, and the --jobs nasops-sync needs for the predicted peak
// hour at the per-job throughput it has measured.

#include <SQLiteCpp/Database.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nasops/core/error.hpp"

namespace nasops::capacity {

struct TransferHistory {
    std::int64_t first_day = 0;                  // Unix day number (seconds / 86400) of files[0]
    std::vector<double> files;                   // completed uploads per day, days without any included
    std::vector<double> bytes;                   // bytes uploaded per day
    std::array<double, 24> files_by_hour{};      // completed uploads by hour of the day (UTC)
    std::optional<double> job_bytes_per_second;  // TransferWindow::bytes_per_second over the same days
};

// The completed uploads (read_completed_uploads, nasops/db/transfer_stats.hpp)
// finished from `since` to the end of yesterday (UTC; today is not over), by
// day and hour. A database without nasops-sync's tables gives an empty history.
Result<TransferHistory> read_transfer_history(SQLite::Database& db, std::int64_t since, std::int64_t now);

struct TransferForecast {
    bool enough = false;     // at least two days of history
    std::string note;        // why not, when not
    int days = 0;            // days of history
    double daily_files = 0;  // averages over the history
    double daily_bytes = 0;
    double files_growth_per_day = 0;  // fitted change of the daily files, per day
    double bytes_growth_per_day = 0;
    int horizon_days = 7;
    double predicted_daily_files = 0;  // at the horizon, never below 0
    double predicted_daily_bytes = 0;
    double peak_multiplier = 1;                  // the busiest hour of the day against an even spread (24 hours)
    std::optional<double> job_bytes_per_second;  // measured per-job throughput
    int recommended_jobs = 1;                    // for the predicted peak hour, 1 to 64
};

TransferForecast forecast_transfers(const TransferHistory& history, int horizon_days);

}  // namespace nasops::capacity
