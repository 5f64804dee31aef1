#include "maint_metrics.hpp"

#include <chrono>

#include "database.hpp"
#include "nasops/obs/metrics.hpp"
#include "retention.hpp"

namespace nasops::dbmaint {

namespace {

double seconds_since_epoch(SystemTimePoint t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

Result<std::string> maint_metrics(const Settings& s, ExitCode check_status, SystemTimePoint now) {
    const auto backups = list_backups(s.backup_dir);  // newest first
    std::optional<SystemTimePoint> newest;
    for (const auto& b : backups) {
        if (!b.has_sidecar) continue;  // not verified: a backup cut short is no backup
        newest = b.taken;
        break;
    }

    Exposition e;
    TRY(e.declare("nasops_dbmaint_database_size_bytes", MetricType::gauge, "Size of the state database with its WAL."));
    TRY(e.add("nasops_dbmaint_database_size_bytes",
              static_cast<double>(file_bytes(s.database) + file_bytes(wal_path(s.database)))));
    TRY(e.declare_one("nasops_dbmaint_backups", MetricType::gauge, "Backups in the backup folder.",
                      static_cast<double>(backups.size())));
    TRY(e.declare_one("nasops_dbmaint_last_backup_timestamp_seconds", MetricType::gauge,
                      "When the newest backup with its SHA-256 sidecar was taken, in seconds since the epoch; 0 when "
                      "there is none.",
                      newest ? seconds_since_epoch(*newest) : 0.0));
    TRY(e.declare("nasops_dbmaint_check_status", MetricType::gauge,
                  "Outcome of the last integrity check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."));
    const int status = to_int(check_status);
    TRY(e.add("nasops_dbmaint_check_status", status <= 3 ? static_cast<double>(status) : 2.0));
    TRY(e.declare_one("nasops_dbmaint_last_check_timestamp_seconds", MetricType::gauge,
                      "When the database was last checked, in seconds since the epoch.", seconds_since_epoch(now)));
    return e.text();
}

}  // namespace nasops::dbmaint
