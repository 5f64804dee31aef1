#include "maint_metrics.hpp"

#include <charconv>
#include <chrono>

#include "database.hpp"
#include "nasops/obs/metrics.hpp"
#include "retention.hpp"

namespace nasops::dbmaint {

namespace {

constexpr std::string_view k_check_status = "nasops_dbmaint_check_status";
constexpr std::string_view k_check_time = "nasops_dbmaint_last_check_timestamp_seconds";

double seconds_since_epoch(SystemTimePoint t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// The value of the unlabelled sample of `family` in `exposition`.
std::optional<double> sample_value(std::string_view exposition, std::string_view family) {
    std::size_t pos = 0;
    while (pos < exposition.size()) {
        auto end = exposition.find('\n', pos);
        if (end == std::string_view::npos) end = exposition.size();
        const auto line = exposition.substr(pos, end - pos);
        pos = end + 1;
        if (!line.starts_with(family) || line.size() <= family.size() || line[family.size()] != ' ') continue;
        const auto text = line.substr(family.size() + 1);
        double value = 0;
        const auto [last, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec == std::errc{} && last == text.data() + text.size()) return value;
    }
    return std::nullopt;
}

}  // namespace

Result<std::string> maint_metrics(const Settings& s, const std::optional<CheckOutcome>& check) {
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
    if (!check) return e.text();
    const int status = to_int(check->status);
    TRY(e.declare_one(k_check_status, MetricType::gauge,
                      "Outcome of the last integrity check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
                      status <= 3 ? static_cast<double>(status) : 2.0));
    // In milliseconds, so that published_check reads back exactly what was checked.
    TRY(e.declare_one(k_check_time, MetricType::gauge,
                      "When the database was last checked, in seconds since the epoch.",
                      seconds_since_epoch(std::chrono::floor<std::chrono::milliseconds>(check->at))));
    return e.text();
}

std::optional<CheckOutcome> published_check(std::string_view exposition) {
    const auto status = sample_value(exposition, k_check_status);
    const auto at = sample_value(exposition, k_check_time);
    if (!status || !at || *status < 0 || *status > 3) return std::nullopt;
    return CheckOutcome{
        .status = static_cast<ExitCode>(static_cast<int>(*status)),
        .at = SystemTimePoint(std::chrono::round<std::chrono::milliseconds>(std::chrono::duration<double>(*at)))};
}

}  // namespace nasops::dbmaint
