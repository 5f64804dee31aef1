#include "retention.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "backup.hpp"
#include "database.hpp"
#include "nasops/util/sha256.hpp"
#include "sidecar.hpp"

namespace nasops::dbmaint {

namespace fs = std::filesystem;

std::vector<BackupFile> list_backups(const fs::path& dir) {
    std::vector<BackupFile> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (!entry.is_regular_file(ec)) continue;
        const auto taken = parse_backup_file_name(entry.path().filename().string());
        if (!taken) continue;
        found.push_back(BackupFile{entry.path(), *taken, fs::exists(sidecar_path(entry.path()), ec)});
    }
    std::ranges::sort(found, [](const auto& a, const auto& b) { return a.taken > b.taken; });
    return found;
}

std::vector<BackupFile> expired_backups(const std::vector<BackupFile>& all, const RetentionPolicy& policy,
                                        SystemTimePoint now, const fs::path& keep) {
    const auto newest_good = std::ranges::find_if(all, &BackupFile::has_sidecar);
    const auto max_age = std::chrono::hours(24) * policy.keep_days;
    std::vector<BackupFile> expired;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& b = all[i];
        if (static_cast<int>(i) < policy.keep_last) continue;
        if (now - b.taken < max_age) continue;
        if (b.path == keep) continue;
        if (newest_good != all.end() && b.path == newest_good->path) continue;
        expired.push_back(b);
    }
    return expired;
}

fs::path newest_verified_backup(const std::vector<BackupFile>& all) {
    for (const auto& b : all) {
        if (!b.has_sidecar) continue;
        auto recorded = read_sidecar(b.path);
        auto actual = sha256_file(b.path);
        if (recorded && actual && *recorded == *actual) return b.path;
    }
    return {};
}

Result<StepReport> apply_retention(const fs::path& dir, const RetentionPolicy& policy, SystemTimePoint now,
                                   const fs::path& keep, bool dry_run) {
    StepTimer timer;
    const auto all = list_backups(dir);
    // The one just written was checked moments ago: only without it is a backup hashed again.
    const auto expired = expired_backups(all, policy, now, keep.empty() ? newest_verified_backup(all) : keep);
    StepReport report{.step = "retention", .path = dir.string()};
    std::uint64_t before = 0;
    for (const auto& b : all) before += file_bytes(b.path);
    report.bytes_before = before;
    nlohmann::json deleted = nlohmann::json::array();
    std::uint64_t freed = 0;
    for (const auto& b : expired) {
        deleted.push_back(b.path.filename().string());
        freed += file_bytes(b.path);
        if (dry_run) continue;
        std::error_code ec;
        fs::remove(sidecar_path(b.path), ec);
        if (!fs::remove(b.path, ec) && ec)
            return fail(ExitCode::io_error,
                        fmt::format("cannot delete old backup {}: {}", b.path.string(), ec.message()));
    }
    report.bytes_after = before - freed;
    report.rows = static_cast<std::int64_t>(expired.size());
    report.details = {{"deleted", deleted}, {"kept", all.size() - expired.size()}};
    report.message =
        fmt::format("{} {} of {} backups (keep_last {}, keep_days {})", dry_run ? "would delete" : "deleted",
                    expired.size(), all.size(), policy.keep_last, policy.keep_days);
    report.duration_ms = timer.elapsed_ms();
    return report;
}

}  // namespace nasops::dbmaint
