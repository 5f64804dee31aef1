#include "alert/outbox.hpp"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <set>

#include "nasops/core/log.hpp"

namespace nasops::alert {

namespace {

constexpr Duration k_max_backoff{3'600'000};

std::string first_alertname(const nlohmann::json& payload) {
    const auto it = payload.find("alerts");
    if (it == payload.end() || !it->is_array() || it->empty()) return {};
    const auto& labels = (*it)[0].value("labels", nlohmann::json::object());
    return labels.value("alertname", std::string());
}

}  // namespace

Duration backoff_after(int attempts, Duration base) {
    Duration wait = base;
    for (int i = 1; i < attempts && wait < k_max_backoff; ++i) wait *= 2;
    return std::min(wait, k_max_backoff);
}

Result<DeliverySummary> deliver_due(AlertStore& store, const AlertSettings& settings, NotifierDeps& deps,
                                    SystemTimePoint now, bool ignore_backoff, const Span* trace) {
    TRY_ASSIGN(auto due, store.due_deliveries(now, ignore_backoff));
    DeliverySummary summary;
    std::map<std::string, std::unique_ptr<Notifier>> notifiers;
    std::set<std::string> unreachable;

    for (auto& delivery : due) {
        HistoryEntry entry{.at = now,
                           .alertname = first_alertname(delivery.payload),
                           .channel = delivery.channel,
                           .notification_id = delivery.notification_id};
        const ChannelConfig* channel = settings.channel(delivery.channel);
        if (channel == nullptr) {
            delivery.state = DeliveryState::failed;
            delivery.last_error = "the channel is no longer configured";
            delivery.next_attempt_at.reset();
            entry.event = "delivery_failed";
            entry.detail = delivery.last_error;
            ++summary.failed;
            logger().error("notification {} to channel '{}' dropped: {}", delivery.notification_id, delivery.channel,
                           delivery.last_error);
            TRY(store.record_outcome(delivery, entry));
            continue;
        }
        if (unreachable.contains(delivery.channel)) {
            ++summary.retrying;
            continue;
        }
        auto& notifier = notifiers[delivery.channel];
        if (!notifier) notifier = make_notifier(*channel, settings, deps);
        std::optional<Span> span;
        if (trace && trace->active()) {
            span.emplace(*trace, "deliver " + delivery.channel, SpanKind::client);
            span->set_attribute("alert.channel", delivery.channel);
            span->set_attribute("alert.notification_id", delivery.notification_id);
        }
        const auto result = notifier->deliver(
            delivery.payload, delivery_key(deps.host, delivery.notification_id, delivery.created_at, delivery.channel));
        if (span && result.status != DeliveryStatus::delivered) span->set_error(result.detail);
        span.reset();  // ends and writes it
        ++delivery.attempts;
        delivery.last_error.clear();
        switch (result.status) {
            case DeliveryStatus::delivered:
                delivery.state = DeliveryState::delivered;
                delivery.delivered_at = now;
                delivery.next_attempt_at.reset();
                entry.event = "delivered";
                ++summary.delivered;
                logger().info("notification {} delivered to '{}': {}", delivery.notification_id, delivery.channel,
                              result.detail);
                break;
            case DeliveryStatus::retry:
                unreachable.insert(delivery.channel);
                delivery.last_error = result.detail;
                if (delivery.attempts >= settings.max_attempts) {
                    delivery.state = DeliveryState::dead;
                    delivery.next_attempt_at.reset();
                    entry.event = "dead_lettered";
                    ++summary.dead;
                    logger().error("notification {} to '{}' dead-lettered after {} attempts: {}",
                                   delivery.notification_id, delivery.channel, delivery.attempts, result.detail);
                    logger().audit(AuditEvent::notification_failed, {{"channel", delivery.channel},
                                                                     {"notification_id", delivery.notification_id},
                                                                     {"attempts", delivery.attempts},
                                                                     {"error", result.detail},
                                                                     {"dead_lettered", true}});
                } else {
                    delivery.next_attempt_at = now + backoff_after(delivery.attempts, settings.retry_backoff);
                    entry.event = "delivery_failed";
                    ++summary.retrying;
                    logger().warning("notification {} to '{}' failed (attempt {} of {}), will retry: {}",
                                     delivery.notification_id, delivery.channel, delivery.attempts,
                                     settings.max_attempts, result.detail);
                }
                break;
            case DeliveryStatus::rejected:
                delivery.state = DeliveryState::failed;
                delivery.last_error = result.detail;
                delivery.next_attempt_at.reset();
                entry.event = "delivery_failed";
                ++summary.failed;
                logger().error("notification {} refused by '{}', not retried: {}", delivery.notification_id,
                               delivery.channel, result.detail);
                logger().audit(AuditEvent::notification_failed, {{"channel", delivery.channel},
                                                                 {"notification_id", delivery.notification_id},
                                                                 {"attempts", delivery.attempts},
                                                                 {"error", result.detail}});
                break;
        }
        entry.detail = result.detail;
        TRY(store.record_outcome(delivery, entry));
    }
    return summary;
}

}  // namespace nasops::alert
