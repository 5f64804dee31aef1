#include "alert/state_store.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>

#include <random>

#include "nasops/core/log.hpp"

namespace nasops::alert {

namespace {

// Times are RFC 3339 UTC text with milliseconds: fixed width, so text order is time order.
constexpr std::string_view k_v1 = R"sql(
CREATE TABLE alert_states (
    fingerprint TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    labels TEXT NOT NULL,
    annotations TEXT NOT NULL,
    value REAL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
    active_since TEXT NOT NULL,
    fired_at TEXT,
    last_true TEXT NOT NULL,
    resolved_at TEXT,
    cleared INTEGER NOT NULL DEFAULT 0,
    channels TEXT NOT NULL
);
CREATE TABLE alert_notify_states (
    fingerprint TEXT NOT NULL,
    channel TEXT NOT NULL,
    last_sent TEXT NOT NULL,
    severity TEXT NOT NULL,
    firing_sent INTEGER NOT NULL,
    resolved_sent INTEGER NOT NULL,
    PRIMARY KEY (fingerprint, channel)
);
CREATE TABLE alert_silences (
    id TEXT PRIMARY KEY,
    matchers TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE alert_notifications (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    group_key TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE TABLE alert_deliveries (
    id INTEGER PRIMARY KEY,
    notification_id INTEGER NOT NULL REFERENCES alert_notifications (id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'failed', 'dead', 'superseded')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    delivered_at TEXT,
    UNIQUE (notification_id, channel)
);
CREATE INDEX alert_deliveries_state ON alert_deliveries (state, next_attempt_at);
CREATE TABLE alert_history (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    alertname TEXT NOT NULL DEFAULT '',
    fingerprint TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL DEFAULT '',
    notification_id INTEGER,
    value REAL,
    detail TEXT NOT NULL DEFAULT '',
    labels TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_history_at ON alert_history (at);
)sql";

// What nasops-dbmaint may purge (purge_declarations, store.hpp): history, and
// notifications none of whose deliveries is still queued.
constexpr std::string_view k_v2 = R"sql(
INSERT OR REPLACE INTO purge_declarations (table_name, component, time_column, keep_condition, default_retention)
VALUES ('alert_history', 'alert', 'at', '0', '90d'),
       ('alert_notifications', 'alert', 'created_at',
        'EXISTS (SELECT 1 FROM alert_deliveries d WHERE d.notification_id = alert_notifications.id AND d.state = ''queued'')',
        '90d');
)sql";

constexpr Migration k_migrations[] = {
    {"alert", 1, k_v1},
    {"alert", 2, k_v2},
};

std::optional<SystemTimePoint> time_column(const SQLite::Column& column) {
    if (column.isNull()) return std::nullopt;
    auto parsed = parse_rfc3339(column.getString());
    if (!parsed) return std::nullopt;
    return *parsed;
}

SystemTimePoint time_or_epoch(const SQLite::Column& column) {
    return time_column(column).value_or(SystemTimePoint{});
}

Labels labels_from(const std::string& text) {
    return labels_from_json(nlohmann::json::parse(text, nullptr, false));
}

std::string labels_text(const Labels& labels) {
    return labels_json(labels).dump();
}

void bind_optional_time(SQLite::Statement& q, int index, const std::optional<SystemTimePoint>& t) {
    if (t)
        q.bind(index, rfc3339_millis(*t));
    else
        q.bind(index);
}

void bind_optional_double(SQLite::Statement& q, int index, const std::optional<double>& v) {
    if (v)
        q.bind(index, *v);
    else
        q.bind(index);
}

std::string new_silence_id() {
    std::random_device random;
    const auto a = random();
    const auto b = random();
    const auto c = random();
    const auto d = random();
    return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:04x}{:08x}", a, b >> 16, b & 0xfff, (c >> 16 & 0x3fff) | 0x8000,
                       c & 0xffff, d);
}

void insert_history(SQLite::Database& db, const HistoryEntry& entry) {
    SQLite::Statement q(db,
                        "INSERT INTO alert_history (at, event, alertname, fingerprint, channel, notification_id, "
                        "value, detail, labels) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q.bind(1, rfc3339_millis(entry.at));
    q.bind(2, entry.event);
    q.bind(3, entry.alertname);
    q.bind(4, entry.fingerprint);
    q.bind(5, entry.channel);
    if (entry.notification_id)
        q.bind(6, *entry.notification_id);
    else
        q.bind(6);
    bind_optional_double(q, 7, entry.value);
    q.bind(8, entry.detail);
    q.bind(9, entry.labels.is_object() ? entry.labels.dump() : std::string("{}"));
    q.exec();
}

std::vector<Delivery> read_deliveries(SQLite::Statement& q) {
    std::vector<Delivery> out;
    while (q.executeStep()) {
        Delivery d;
        d.id = q.getColumn(0).getInt64();
        d.notification_id = q.getColumn(1).getInt64();
        d.channel = q.getColumn(2).getString();
        const auto state = q.getColumn(3).getString();
        for (auto s : {DeliveryState::queued, DeliveryState::delivered, DeliveryState::failed, DeliveryState::dead,
                       DeliveryState::superseded}) {
            if (delivery_state_name(s) == state) d.state = s;
        }
        d.attempts = q.getColumn(4).getInt();
        d.next_attempt_at = time_column(q.getColumn(5));
        d.last_error = q.getColumn(6).getString();
        d.delivered_at = time_column(q.getColumn(7));
        d.created_at = time_or_epoch(q.getColumn(8));
        d.payload = nlohmann::json::parse(q.getColumn(9).getString(), nullptr, false);
        out.push_back(std::move(d));
    }
    return out;
}

constexpr std::string_view k_delivery_columns =
    "SELECT d.id, d.notification_id, d.channel, d.state, d.attempts, d.next_attempt_at, d.last_error, "
    "d.delivered_at, n.created_at, n.payload FROM alert_deliveries d JOIN alert_notifications n "
    "ON n.id = d.notification_id ";

}  // namespace

std::span<const Migration> migrations() {
    return k_migrations;
}

std::string_view delivery_state_name(DeliveryState state) noexcept {
    switch (state) {
        case DeliveryState::queued: return "queued";
        case DeliveryState::delivered: return "delivered";
        case DeliveryState::failed: return "failed";
        case DeliveryState::dead: return "dead";
        case DeliveryState::superseded: return "superseded";
    }
    return "queued";
}

Result<AlertStore> AlertStore::open(const std::filesystem::path& path) {
    TRY_ASSIGN(auto store, Store::open(path, migrations()));
    return AlertStore(std::move(store));
}

Result<AlertMap> AlertStore::load_alerts() {
    return db_guard(db(), "loading alerts", [&]() -> Result<AlertMap> {
        AlertMap alerts;
        SQLite::Statement q(db(),
                            "SELECT fingerprint, rule, labels, annotations, value, state, active_since, fired_at, "
                            "last_true, resolved_at, cleared, channels FROM alert_states");
        while (q.executeStep()) {
            AlertState a;
            a.fingerprint = q.getColumn(0).getString();
            a.rule = q.getColumn(1).getString();
            a.labels = labels_from(q.getColumn(2).getString());
            a.annotations = labels_from(q.getColumn(3).getString());
            if (!q.getColumn(4).isNull()) a.value = q.getColumn(4).getDouble();
            a.phase = parse_phase(q.getColumn(5).getString()).value_or(AlertPhase::pending);
            a.active_since = time_or_epoch(q.getColumn(6));
            a.fired_at = time_column(q.getColumn(7));
            a.last_true = time_or_epoch(q.getColumn(8));
            a.resolved_at = time_column(q.getColumn(9));
            a.cleared = q.getColumn(10).getInt() != 0;
            const auto channels = nlohmann::json::parse(q.getColumn(11).getString(), nullptr, false);
            if (channels.is_array()) {
                for (const auto& c : channels) {
                    if (c.is_string()) a.channels.push_back(c.get<std::string>());
                }
            }
            alerts.emplace(a.fingerprint, std::move(a));
        }
        return alerts;
    });
}

Result<NotifyStates> AlertStore::load_notify_states() {
    return db_guard(db(), "loading what each channel was sent", [&]() -> Result<NotifyStates> {
        NotifyStates states;
        SQLite::Statement q(db(),
                            "SELECT fingerprint, channel, last_sent, severity, firing_sent, resolved_sent "
                            "FROM alert_notify_states");
        while (q.executeStep()) {
            NotifyState s;
            s.last_sent = time_or_epoch(q.getColumn(2));
            s.severity = q.getColumn(3).getString();
            s.firing_sent = q.getColumn(4).getInt() != 0;
            s.resolved_sent = q.getColumn(5).getInt() != 0;
            states.emplace(NotifyKey{q.getColumn(0).getString(), q.getColumn(1).getString()}, s);
        }
        return states;
    });
}

Result<std::vector<Silence>> AlertStore::load_silences(SystemTimePoint now, bool include_expired) {
    return db_guard(db(), "loading silences", [&]() -> Result<std::vector<Silence>> {
        std::vector<Silence> out;
        SQLite::Statement q(
            db(), include_expired ? "SELECT id, matchers, starts_at, ends_at, comment, created_by FROM alert_silences "
                                    "ORDER BY starts_at"
                                  : "SELECT id, matchers, starts_at, ends_at, comment, created_by FROM alert_silences "
                                    "WHERE ends_at > ? ORDER BY starts_at");
        if (!include_expired) q.bind(1, rfc3339_millis(now));
        while (q.executeStep()) {
            Silence s;
            s.id = q.getColumn(0).getString();
            // A silence with a matcher that no longer reads (written before
            // matchers followed Alertmanager's quoting) mutes nothing: without
            // that matcher it would mute more than its author meant.
            // It is said on every run, so that it is not lost, with the way out.
            const auto matchers = nlohmann::json::parse(q.getColumn(1).getString(), nullptr, false);
            std::string unreadable = matchers.is_array() ? "" : q.getColumn(1).getString();
            for (const auto& m : matchers.is_array() ? matchers : nlohmann::json::array()) {
                const auto text = m.is_string() ? m.get<std::string>() : m.dump();
                auto parsed = Matcher::parse(text);
                if (!parsed) {
                    unreadable = text;
                    break;
                }
                s.matchers.push_back(std::move(*parsed));
            }
            if (!unreadable.empty()) {
                logger().warning(
                    "silence {} mutes nothing: its matcher '{}' no longer reads (matchers follow "
                    "Alertmanager's syntax); remove it with 'nasops-alert silence rm {}' and add it again",
                    s.id, unreadable, s.id);
                continue;
            }
            s.starts_at = time_or_epoch(q.getColumn(2));
            s.ends_at = time_or_epoch(q.getColumn(3));
            s.comment = q.getColumn(4).getString();
            s.created_by = q.getColumn(5).getString();
            out.push_back(std::move(s));
        }
        return out;
    });
}

Result<void> AlertStore::save_run(const RunChanges& changes, const std::set<std::string>& alertmanager_channels) {
    return db_guard(db(), "saving the run", [&]() -> Result<void> {
        return in_transaction(db(), [&]() -> Result<void> {
            if (changes.forgotten != nullptr) {
                SQLite::Statement del(db(), "DELETE FROM alert_states WHERE fingerprint = ?");
                SQLite::Statement del_notify(db(), "DELETE FROM alert_notify_states WHERE fingerprint = ?");
                for (const auto& fp : *changes.forgotten) {
                    del.bind(1, fp);
                    del.exec();
                    del.reset();
                    del_notify.bind(1, fp);
                    del_notify.exec();
                    del_notify.reset();
                }
            }
            if (changes.alerts != nullptr) {
                SQLite::Statement up(db(),
                                     "INSERT OR REPLACE INTO alert_states (fingerprint, rule, labels, annotations, "
                                     "value, state, active_since, fired_at, last_true, resolved_at, cleared, channels) "
                                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
                for (const auto& [fp, a] : *changes.alerts) {
                    up.bind(1, fp);
                    up.bind(2, a.rule);
                    up.bind(3, labels_text(a.labels));
                    up.bind(4, labels_text(a.annotations));
                    bind_optional_double(up, 5, a.value);
                    up.bind(6, std::string(phase_name(a.phase)));
                    up.bind(7, rfc3339_millis(a.active_since));
                    bind_optional_time(up, 8, a.fired_at);
                    up.bind(9, rfc3339_millis(a.last_true));
                    bind_optional_time(up, 10, a.resolved_at);
                    up.bind(11, a.cleared ? 1 : 0);
                    up.bind(12, nlohmann::json(a.channels).dump());
                    up.exec();
                    up.reset();
                }
            }
            if (changes.notify_states != nullptr) {
                SQLite::Statement up(db(),
                                     "INSERT OR REPLACE INTO alert_notify_states (fingerprint, channel, last_sent, "
                                     "severity, firing_sent, resolved_sent) VALUES (?, ?, ?, ?, ?, ?)");
                for (const auto& [key, s] : *changes.notify_states) {
                    if (changes.forgotten != nullptr && changes.forgotten->contains(key.first)) continue;
                    up.bind(1, key.first);
                    up.bind(2, key.second);
                    up.bind(3, rfc3339_millis(s.last_sent));
                    up.bind(4, s.severity);
                    up.bind(5, s.firing_sent ? 1 : 0);
                    up.bind(6, s.resolved_sent ? 1 : 0);
                    up.exec();
                    up.reset();
                }
            }
            const auto now = rfc3339_millis(changes.now);
            for (const auto& planned : changes.notifications) {
                const auto group_key = planned.payload.value("group_key", std::string());
                for (const auto& channel : planned.channels) {
                    if (!alertmanager_channels.contains(channel)) continue;
                    SQLite::Statement supersede(
                        db(),
                        "UPDATE alert_deliveries SET state = 'superseded' WHERE state = 'queued' AND channel = ? "
                        "AND notification_id IN (SELECT id FROM alert_notifications WHERE group_key = ?)");
                    supersede.bind(1, channel);
                    supersede.bind(2, group_key);
                    supersede.exec();
                }
                SQLite::Statement note(
                    db(), "INSERT INTO alert_notifications (created_at, group_key, payload) VALUES (?, ?, ?)");
                note.bind(1, now);
                note.bind(2, group_key);
                note.bind(3, planned.payload.dump());
                note.exec();
                const auto id = db().getLastInsertRowid();
                SQLite::Statement delivery(db(),
                                           "INSERT INTO alert_deliveries (notification_id, channel, state, "
                                           "next_attempt_at) VALUES (?, ?, 'queued', ?)");
                for (const auto& channel : planned.channels) {
                    delivery.bind(1, id);
                    delivery.bind(2, channel);
                    delivery.bind(3, now);
                    delivery.exec();
                    delivery.reset();
                }
            }
            for (const auto& entry : changes.history) insert_history(db(), entry);
            return {};
        });
    });
}

Result<std::string> AlertStore::add_silence(const Silence& silence, SystemTimePoint now) {
    return db_guard(db(), "adding a silence", [&]() -> Result<std::string> {
        nlohmann::json matchers = nlohmann::json::array();
        for (const auto& m : silence.matchers) matchers.push_back(m.to_string());
        const auto id = silence.id.empty() ? new_silence_id() : silence.id;
        SQLite::Statement q(db(),
                            "INSERT INTO alert_silences (id, matchers, starts_at, ends_at, comment, created_by, "
                            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
        q.bind(1, id);
        q.bind(2, matchers.dump());
        q.bind(3, rfc3339_millis(silence.starts_at));
        q.bind(4, rfc3339_millis(silence.ends_at));
        q.bind(5, silence.comment);
        q.bind(6, silence.created_by);
        q.bind(7, rfc3339_millis(now));
        q.exec();
        return id;
    });
}

Result<bool> AlertStore::remove_silence(std::string_view id, SystemTimePoint now) {
    return db_guard(db(), "expiring a silence", [&]() -> Result<bool> {
        if (id.size() < 4) return false;
        SQLite::Statement find(db(), "SELECT id FROM alert_silences WHERE id = ? OR substr(id, 1, ?) = ?");
        find.bind(1, std::string(id));
        find.bind(2, static_cast<int>(id.size()));
        find.bind(3, std::string(id));
        std::vector<std::string> ids;
        while (find.executeStep()) ids.push_back(find.getColumn(0).getString());
        if (ids.size() != 1) {
            if (ids.size() > 1) {
                return fail(ExitCode::usage, fmt::format("silence id '{}' is ambiguous: give more of it", id));
            }
            return false;
        }
        // Expire rather than delete: the history says when it ended.
        SQLite::Statement q(db(), "UPDATE alert_silences SET ends_at = ? WHERE id = ? AND ends_at > ?");
        q.bind(1, rfc3339_millis(now));
        q.bind(2, ids.front());
        q.bind(3, rfc3339_millis(now));
        return q.exec() > 0;
    });
}

Result<std::vector<Delivery>> AlertStore::due_deliveries(SystemTimePoint now, bool ignore_backoff) {
    return db_guard(db(), "reading the outbox", [&]() -> Result<std::vector<Delivery>> {
        SQLite::Statement q(db(), std::string(k_delivery_columns) +
                                      (ignore_backoff ? "WHERE d.state = 'queued' ORDER BY d.id"
                                                      : "WHERE d.state = 'queued' AND (d.next_attempt_at IS NULL OR "
                                                        "d.next_attempt_at <= ?) ORDER BY d.id"));
        if (!ignore_backoff) q.bind(1, rfc3339_millis(now));
        return read_deliveries(q);
    });
}

Result<std::vector<Delivery>> AlertStore::undelivered() {
    return db_guard(db(), "reading the outbox", [&]() -> Result<std::vector<Delivery>> {
        SQLite::Statement q(
            db(), std::string(k_delivery_columns) + "WHERE d.state IN ('queued', 'failed', 'dead') ORDER BY d.id");
        return read_deliveries(q);
    });
}

Result<std::optional<SystemTimePoint>> AlertStore::last_delivery() {
    return db_guard(db(), "reading the outbox", [&]() -> Result<std::optional<SystemTimePoint>> {
        SQLite::Statement q(db(), "SELECT MAX(delivered_at) FROM alert_deliveries WHERE state = 'delivered'");
        q.executeStep();
        return time_column(q.getColumn(0));
    });
}

Result<void> AlertStore::record_outcome(const Delivery& delivery, const HistoryEntry& entry) {
    return db_guard(db(), "recording a delivery", [&]() -> Result<void> {
        return in_transaction(db(), [&]() -> Result<void> {
            SQLite::Statement q(db(),
                                "UPDATE alert_deliveries SET state = ?, attempts = ?, next_attempt_at = ?, "
                                "last_error = ?, delivered_at = ? WHERE id = ?");
            q.bind(1, std::string(delivery_state_name(delivery.state)));
            q.bind(2, delivery.attempts);
            bind_optional_time(q, 3, delivery.next_attempt_at);
            q.bind(4, delivery.last_error);
            bind_optional_time(q, 5, delivery.delivered_at);
            q.bind(6, delivery.id);
            q.exec();
            insert_history(db(), entry);
            return {};
        });
    });
}

Result<std::vector<HistoryEntry>> AlertStore::history(std::size_t limit) {
    return db_guard(db(), "reading the history", [&]() -> Result<std::vector<HistoryEntry>> {
        std::vector<HistoryEntry> out;
        SQLite::Statement q(db(),
                            "SELECT id, at, event, alertname, fingerprint, channel, notification_id, value, detail, "
                            "labels FROM (SELECT * FROM alert_history ORDER BY id DESC LIMIT ?) ORDER BY id");
        q.bind(1, static_cast<std::int64_t>(limit));
        while (q.executeStep()) {
            HistoryEntry h;
            h.id = q.getColumn(0).getInt64();
            h.at = time_or_epoch(q.getColumn(1));
            h.event = q.getColumn(2).getString();
            h.alertname = q.getColumn(3).getString();
            h.fingerprint = q.getColumn(4).getString();
            h.channel = q.getColumn(5).getString();
            if (!q.getColumn(6).isNull()) h.notification_id = q.getColumn(6).getInt64();
            if (!q.getColumn(7).isNull()) h.value = q.getColumn(7).getDouble();
            h.detail = q.getColumn(8).getString();
            h.labels = nlohmann::json::parse(q.getColumn(9).getString(), nullptr, false);
            out.push_back(std::move(h));
        }
        return out;
    });
}

Result<void> AlertStore::add_history(const HistoryEntry& entry) {
    return db_guard(db(), "recording history", [&]() -> Result<void> {
        insert_history(db(), entry);
        return {};
    });
}

}  // namespace nasops::alert
