// service: a systemd unit's state, where systemd runs.

#include <fmt/format.h>

#include <system_error>

#include "health/checks.hpp"
#include "nasops/util/command_runner.hpp"

namespace nasops::health {

namespace {

class ServiceCheck final : public Check {
public:
    ServiceCheck(std::string unit, std::filesystem::path systemd_dir, std::string systemctl, ThresholdsPtr thresholds)
        : Check("service", unit),
          m_unit(std::move(unit)),
          m_systemd_dir(std::move(systemd_dir)),
          m_systemctl(std::move(systemctl)),
          m_thresholds(std::move(thresholds)) {}

    CheckResult run(const CheckContext& context) override {
        // sd_booted(3)'s test: systemd is PID 1 exactly when this folder exists.
        std::error_code ec;
        if (!std::filesystem::is_directory(m_systemd_dir, ec)) {
            return unknown(fmt::format("systemd is not running (no {})", m_systemd_dir.string()));
        }
        SpawnCommandRunner systemctl(StderrTo::discard);
        auto output = systemctl.run({m_systemctl, "is-active", "--", m_unit}, {}, {}, context.timeout);
        if (!output) return unknown(output.error().message);
        if (output->timed_out) {
            auto result =
                unknown(fmt::format("{} did not finish within {}", m_systemctl, format_duration(context.timeout)));
            result.status = context.timeout_status;
            return result;
        }
        std::string state = output->output;
        while (!state.empty() && (state.back() == '\n' || state.back() == ' ')) state.pop_back();
        if (state.empty()) return unknown(fmt::format("systemctl is-active {} printed nothing", m_unit));
        auto result = blank();
        result.metrics.push_back(m_thresholds->metric("service_active", state == "active" ? 1 : 0));
        if (state == "active") {
            result.status = Status::ok;
        } else if (state == "activating" || state == "reloading" || state == "deactivating" || state == "refreshing") {
            result.status = Status::warning;
        } else {
            result.status = Status::critical;
        }
        result.message = fmt::format("{} is {}", m_unit, state);
        return result;
    }

private:
    std::string m_unit;
    std::filesystem::path m_systemd_dir;
    std::string m_systemctl;
    ThresholdsPtr m_thresholds;
};

}  // namespace

std::shared_ptr<Check> make_service_check(std::string unit, std::filesystem::path systemd_dir, std::string systemctl,
                                          ThresholdsPtr thresholds) {
    return std::make_shared<ServiceCheck>(std::move(unit), std::move(systemd_dir), std::move(systemctl),
                                          std::move(thresholds));
}

}  // namespace nasops::health
