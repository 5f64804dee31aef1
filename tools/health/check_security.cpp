// security: what on this host lets another user read a secret or change what
// nasops uploads or runs (security_scan), counted as one metric.

#include <fmt/format.h>

#include <algorithm>

#include "health/checks.hpp"
#include "health/security_scan.hpp"
#include "nasops/core/log.hpp"

namespace nasops::health {

namespace {

// Findings kept with their fix and logged; the metric counts them all.
constexpr std::size_t k_findings_listed = 100;
// Findings quoted in the check's one-line message.
constexpr std::size_t k_findings_in_message = 3;

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
