#include "run_metrics.hpp"

#include <chrono>

#include "nasops/db/transfer_stats.hpp"
#include "nasops/obs/metrics.hpp"

namespace nasops::sync {

namespace {

double seconds_since_epoch(SystemTimePoint t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

Result<std::string> run_metrics(SQLite::Database& db, const RunSummary& run, SystemTimePoint now) {
    TRY_ASSIGN(const auto queue, read_transfer_queue(db, now));
    TRY_ASSIGN(const auto ever, read_transfer_window(db, SystemTimePoint{}));
    TRY_ASSIGN(const auto last_hour, read_transfer_window(db, now - std::chrono::hours(1)));

    Exposition e;
    TRY(e.declare_one("nasops_sync_files_transferred_total", MetricType::counter,
                      "Uploads completed, every run of the database counted.", static_cast<double>(ever.completed)));
    TRY(e.declare_one("nasops_sync_transferred_bytes_total", MetricType::counter,
                      "Bytes of the completed uploads, every run of the database counted.",
                      static_cast<double>(ever.bytes_completed)));
    TRY(e.declare_one("nasops_sync_transfer_failures_total", MetricType::counter,
                      "Upload attempts that failed, every run of the database counted.",
                      static_cast<double>(ever.failed)));

    TRY(e.declare("nasops_sync_queue_files", MetricType::gauge, "Files of the queue by state."));
    for (const auto& [state, n] : {std::pair{"pending", queue.pending}, std::pair{"transferring", queue.transferring},
                                   std::pair{"completed", queue.completed}, std::pair{"failed", queue.failed}}) {
        TRY(e.add("nasops_sync_queue_files", {{"state", state}}, static_cast<double>(n)));
    }
    TRY(e.declare_one("nasops_sync_queue_bytes", MetricType::gauge, "Bytes of the files waiting for or in transfer.",
                      static_cast<double>(queue.bytes_queued)));
    TRY(e.declare("nasops_sync_oldest_pending_age_seconds", MetricType::gauge,
                  "Time since the oldest pending file was discovered; 0 when none is pending."));
    TRY(e.add("nasops_sync_oldest_pending_age_seconds",
              queue.oldest_pending_age ? std::chrono::duration<double>(*queue.oldest_pending_age).count() : 0.0));
    if (queue.last_success) {
        if (const auto t = parse_rfc3339(*queue.last_success)) {
            TRY(e.declare_one("nasops_sync_last_success_timestamp_seconds", MetricType::gauge,
                              "When the latest upload completed, in seconds since the epoch.",
                              seconds_since_epoch(*t)));
        }
    }

    TRY(e.declare_one("nasops_sync_last_run_timestamp_seconds", MetricType::gauge,
                      "When the last run ended, in seconds since the epoch.", seconds_since_epoch(now)));
    TRY(e.declare_one("nasops_sync_run_duration_seconds", MetricType::gauge, "How long the last run took.",
                      run.seconds));
    TRY(e.declare_one("nasops_sync_run_exit_code", MetricType::gauge,
                      "Exit status of the last run: 0 done, 66 a source unreadable, 69 NAS unreachable, 73 files held "
                      "for lack of room, 74 failed attempts, 130 interrupted.",
                      static_cast<double>(to_int(run.exit_code()))));
    if (const auto rate = last_hour.bytes_per_second()) {
        TRY(e.declare("nasops_sync_throughput_bytes_per_second", MetricType::gauge,
                      "Bytes per second of the uploads completed within the last hour (absent without any)."));
        TRY(e.add("nasops_sync_throughput_bytes_per_second", {{"window", "1h"}}, *rate));
    }
    return e.text();
}

}  // namespace nasops::sync
