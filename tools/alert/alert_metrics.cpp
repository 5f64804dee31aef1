#include "alert/alert_metrics.hpp"

#include <chrono>
#include <map>

#include "nasops/obs/metrics.hpp"

namespace nasops::alert {

Result<std::string> alert_metrics(const AlertMap& alerts, AlertStore& store) {
    // Both usual severities always have a series, so that a rule on them never meets an absent one.
    std::map<std::string, std::uint64_t, std::less<>> firing{{"critical", 0}, {"warning", 0}};
    for (const auto& [fingerprint, alert] : alerts) {
        if (alert.phase == AlertPhase::firing) ++firing[alert.severity()];
    }
    TRY_ASSIGN(const auto undelivered, store.undelivered());
    std::map<std::string, std::uint64_t, std::less<>> by_state{{"queued", 0}, {"failed", 0}, {"dead", 0}};
    for (const auto& d : undelivered) ++by_state[std::string(delivery_state_name(d.state))];
    TRY_ASSIGN(const auto last, store.last_delivery());

    Exposition e;
    TRY(e.declare("nasops_alert_active_alerts", MetricType::gauge, "Alerts firing, by severity."));
    for (const auto& [severity, n] : firing) {
        TRY(e.add("nasops_alert_active_alerts", {{"severity", severity}}, static_cast<double>(n)));
    }
    TRY(e.declare("nasops_alert_undelivered_notifications", MetricType::gauge,
                  "Deliveries of notifications not delivered: queued for a retry, refused (failed) or given up "
                  "(dead), per channel and notification."));
    for (const auto& [state, n] : by_state) {
        TRY(e.add("nasops_alert_undelivered_notifications", {{"state", state}}, static_cast<double>(n)));
    }
    if (last) {
        TRY(e.declare("nasops_alert_last_delivery_timestamp_seconds", MetricType::gauge,
                      "When a notification was last delivered, in seconds since the epoch."));
        TRY(e.add("nasops_alert_last_delivery_timestamp_seconds",
                  std::chrono::duration<double>(last->time_since_epoch()).count()));
    }
    return e.text();
}

}  // namespace nasops::alert
