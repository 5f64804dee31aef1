// security: what on this host lets another user read a secret or change what
// nasops uploads or runs (security_scan), counted as one metric.

#include <SQLiteCpp/Database.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "health/checks.hpp"
#include "health/security_scan.hpp"
#include "nasops/core/log.hpp"
#include "nasops/db/host_keys.hpp"
#include "nasops/db/store.hpp"

namespace nasops::health {

namespace {

// Findings kept with their fix and logged; the metric counts them all.
constexpr std::size_t k_findings_listed = 100;
// Findings quoted in the check's one-line message.
constexpr std::size_t k_findings_in_message = 3;

// A NAS host key that changed since the run before, which nasops-sync
// recorded and no one acknowledged: known_hosts was changed to let the runs
// connect, and the change must have been meant.
void check_host_keys(const std::filesystem::path& sync_db, SecurityFindings& findings) {
    std::error_code ec;
    if (sync_db.empty() || !std::filesystem::exists(sync_db, ec)) return;
    auto changes = [&]() -> Result<std::vector<SeenHostKey>> {
        try {
            SQLite::Database db(sync_db.string(), SQLite::OPEN_READONLY);
            return unacknowledged_host_key_changes(db);
        } catch (const std::exception& e) {
            return std::unexpected(db_error(sync_db, "reading the NAS host keys", e));
        }
    }();
    if (!changes) {
        findings.add(fmt::format("cannot tell whether the NAS host key changed: {}: run nasops-health --check db",
                                 changes.error().message));
        return;
    }
    for (const auto& c : *changes) {
        findings.add(fmt::format(
            "the host key of {} changed: it was {} (last seen {}), it is {} (first seen {}), not acknowledged: "
            "check the new fingerprint with the NAS (ssh-keygen -lf on its host key), then run nasops-sync "
            "hostkey --accept",
            c.key.endpoint, c.replaced->key_text(), c.replaced_last_seen, c.key.key_text(), c.first_seen));
    }
}

class SecurityCheck final : public Check {
public:
    SecurityCheck(SecurityTargets targets, ThresholdsPtr thresholds)
        : Check("security", ""), m_targets(std::move(targets)), m_thresholds(std::move(thresholds)) {}

    CheckResult run(const CheckContext& /*context*/) override {
        SecurityFindings findings(k_findings_listed);
        for (const auto& folder : m_targets.media) scan_tree(folder, Setuid::finding, Depth::whole_tree, findings);
        for (const auto& folder : m_targets.folders) scan_tree(folder, Setuid::allowed, Depth::whole_tree, findings);
        if (!m_targets.config_folder.empty()) {
            scan_tree(m_targets.config_folder, Setuid::allowed, Depth::its_entries, findings);
        }
        for (const auto& file : m_targets.private_files) check_private_file(file, findings);
        for (const auto& file : m_targets.owned_files) check_file_owner(file, findings);
        check_host_keys(m_targets.sync_db, findings);

        auto result = blank();
        result.metrics.push_back(m_thresholds->metric("security_findings", static_cast<double>(findings.total())));
        for (const auto& finding : findings.listed()) logger().warning("security: {}", finding);
        if (findings.total() > findings.listed().size()) {
            logger().warning("security: {} more findings not listed", findings.total() - findings.listed().size());
        }
        if (findings.total() == 0) {
            result.message = fmt::format("no findings in {} files and folders", findings.examined);
            return result;
        }
        result.message = fmt::format("{} finding{} in {} files and folders: ", findings.total(),
                                     findings.total() == 1 ? "" : "s", findings.examined);
        const auto quoted = std::min(findings.listed().size(), k_findings_in_message);
        for (std::size_t i = 0; i < quoted; ++i) result.message += (i == 0 ? "" : "; ") + findings.listed()[i];
        if (findings.total() > quoted) result.message += fmt::format("; and {} more", findings.total() - quoted);
        return result;
    }

private:
    SecurityTargets m_targets;
    ThresholdsPtr m_thresholds;
};

}  // namespace

std::shared_ptr<Check> make_security_check(SecurityTargets targets, ThresholdsPtr thresholds) {
    return std::make_shared<SecurityCheck>(std::move(targets), std::move(thresholds));
}

}  // namespace nasops::health
