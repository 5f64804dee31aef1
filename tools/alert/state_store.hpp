#pragma once

// nasops-alert's tables in the shared database: alert states, what each
// channel was last sent, silences, the history of transitions and deliveries,
// and the outbox (notifications and their per-channel deliveries).

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "alert/engine.hpp"
#include "nasops/db/store.hpp"

namespace nasops::alert {

std::span<const Migration> migrations();

enum class DeliveryState { queued, delivered, failed, dead, superseded };
std::string_view delivery_state_name(DeliveryState state) noexcept;

struct Delivery {
    std::int64_t id = 0;
    std::int64_t notification_id = 0;
    std::string channel;
    DeliveryState state = DeliveryState::queued;
    int attempts = 0;
    std::optional<SystemTimePoint> next_attempt_at;
    std::string last_error;
    std::optional<SystemTimePoint> delivered_at;
    SystemTimePoint created_at;
    nlohmann::json payload;
};

struct HistoryEntry {
    std::int64_t id = 0;
    SystemTimePoint at;
    std::string event;  // fired, resolved, delivered, delivery_failed, dead_lettered, silence_added, silence_removed
    std::string alertname;
    std::string fingerprint;
    std::string channel;
    std::optional<std::int64_t> notification_id;
    std::optional<double> value;
    std::string detail;
    nlohmann::json labels;
};

// Everything one evaluation changes, written in one transaction.
struct RunChanges {
    const AlertMap* alerts = nullptr;
    const std::set<std::string>* forgotten = nullptr;
    const NotifyStates* notify_states = nullptr;
    std::vector<PlannedNotification> notifications;
    std::vector<HistoryEntry> history;
    SystemTimePoint now;
};

class AlertStore {
public:
    static Result<AlertStore> open(const std::filesystem::path& path);

    Result<AlertMap> load_alerts();
    Result<NotifyStates> load_notify_states();
    // Silences that have not expired at `now`; all of them with include_expired.
    Result<std::vector<Silence>> load_silences(SystemTimePoint now, bool include_expired = false);

    // Writes alerts, notify states, the new notifications (each with a queued
    // delivery per channel) and history. Queued deliveries to an alertmanager
    // channel for the same group are superseded by the new one: only the latest
    // state of a group is worth sending.
    Result<void> save_run(const RunChanges& changes, const std::set<std::string>& alertmanager_channels);

    Result<std::string> add_silence(const Silence& silence, SystemTimePoint now);
    // False when no silence has this id (or a prefix of at least 4 of its characters).
    Result<bool> remove_silence(std::string_view id, SystemTimePoint now);

    // Queued deliveries due at `now` (all queued ones with ignore_backoff), oldest first.
    Result<std::vector<Delivery>> due_deliveries(SystemTimePoint now, bool ignore_backoff);
    // Deliveries not delivered: queued, failed and dead ones.
    Result<std::vector<Delivery>> undelivered();
    // When a notification was last delivered to any channel; nullopt before the first.
    Result<std::optional<SystemTimePoint>> last_delivery();
    Result<void> record_outcome(const Delivery& delivery, const HistoryEntry& entry);

    Result<std::vector<HistoryEntry>> history(std::size_t limit);
    Result<void> add_history(const HistoryEntry& entry);

    SQLite::Database& db() { return m_store.db(); }

private:
    explicit AlertStore(Store store) : m_store(std::move(store)) {}
    Store m_store;
};

}  // namespace nasops::alert
