#pragma once

// Rule evaluation over records, with alert state that lives across cron runs.
//
// Each rule turns the records it matches into series, one per set of labels
// (the rule's labels, instance = the record's host, check/metric = its name,
// target and path, and the record's own labels). A series whose condition
// holds becomes a pending alert; it fires once the condition has held for the
// rule's `for`, confirmed by a record of the run that fires it, so an alert
// never fires on a condition nobody has seen for a while. A firing alert
// resolves when a record shows the condition false for longer than
// keep_firing_for, when nothing has reported it for stale_after, or when its
// rule is removed. A pending alert whose condition turns false is dropped
// without a word.
//
// The evaluator keeps every alert in memory for the run: memory grows with the
// number of alerts, never with the number of records.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "alert/rules.hpp"
#include "nasops/record/record.hpp"
#include "nasops/util/clock.hpp"

namespace nasops::alert {

enum class AlertPhase { pending, firing, resolved };

std::string_view phase_name(AlertPhase phase) noexcept;
std::optional<AlertPhase> parse_phase(std::string_view text) noexcept;

struct AlertState {
    std::string fingerprint;  // 16 hex digits: the rule and the labels but severity
    std::string rule;
    Labels labels;  // alertname and severity included
    Labels annotations;
    std::optional<double> value;  // the latest value while active; the last firing value once resolved
    AlertPhase phase = AlertPhase::pending;
    SystemTimePoint active_since;  // when the condition started to hold
    std::optional<SystemTimePoint> fired_at;
    SystemTimePoint last_true;  // when the condition was last seen holding
    std::optional<SystemTimePoint> resolved_at;
    bool cleared = false;  // the condition was seen false after last_true
    bool seen = false;     // seen holding in this run (not stored)
    std::vector<std::string> channels;

    const std::string& alertname() const;
    std::string severity() const;
};

// Hashes a fingerprint by its first 8 bytes: 16 hex digits of a hash already,
// they need no hashing again (any other string works, just less evenly).
struct FingerprintHash {
    std::size_t operator()(const std::string& fingerprint) const noexcept;
};

using AlertMap = std::unordered_map<std::string, AlertState, FingerprintHash>;

struct Transition {
    std::string fingerprint;
    AlertPhase to;       // firing or resolved
    std::string reason;  // for resolved: "condition cleared", "stale", "rule removed"
};

// The labels an alert carries for `record` under `rule`, severity excluded.
Labels series_labels(const Rule& rule, const nlohmann::json& record);
std::string fingerprint(std::string_view rule, const Labels& labels);
// fingerprint(rule.name, series_labels(rule, record)) without building the labels; `scratch` is reused.
std::string series_fingerprint(const Rule& rule, const nlohmann::json& record,
                               std::vector<std::pair<std::string_view, std::string_view>>& scratch);

class Evaluator {
public:
    // `alerts`: the alerts the database holds. `now` stamps every change of the run.
    Evaluator(const AlertSettings& settings, SystemTimePoint now, AlertMap alerts);

    // Evaluates one record against every rule.
    void process(const nlohmann::json& record);
    // Applies `for`, keep_firing_for, staleness and removed rules, forgets
    // alerts resolved longer than resolve_timeout ago, and returns the alerts
    // that fired or resolved in this run.
    std::vector<Transition> finish();

    const AlertMap& alerts() const noexcept { return m_alerts; }
    AlertMap& alerts() noexcept { return m_alerts; }
    // Alerts to remove from the database.
    const std::set<std::string>& forgotten() const noexcept { return m_forgotten; }
    std::uint64_t records() const noexcept { return m_records; }

private:
    // A rule with the matchers its index does not already answer.
    struct Candidate {
        const Rule* rule;
        std::vector<const Matcher*> residual;
    };

    void evaluate(const Candidate& candidate, const nlohmann::json& record);
    // The rules the current record can match.
    const std::vector<const Candidate*>& candidates();

    const AlertSettings* m_settings;
    SystemTimePoint m_now;
    AlertMap m_alerts;
    std::set<std::string> m_forgotten;
    std::vector<std::pair<std::string_view, std::string_view>> m_pairs;  // reused by every record
    std::vector<std::pair<std::string_view, std::string_view>> m_base;   // the record's own labels, by key
    bool m_base_ready = false;
    std::uint64_t m_records = 0;
    // Fields of the current record that every rule reads; null when missing.
    const std::string* m_kind = nullptr;
    const std::string* m_name = nullptr;
    const std::string* m_status = nullptr;

    // Rules indexed by the kind and name their equality matchers require, so a
    // record meets only the rules that can match it.
    std::vector<Candidate> m_candidates;
    std::map<std::string, std::map<std::string, std::vector<const Candidate*>, std::less<>>, std::less<>>
        m_by_kind_name;
    std::map<std::string, std::vector<const Candidate*>, std::less<>> m_by_kind;
    std::vector<const Candidate*> m_any;
    std::vector<const Candidate*> m_scratch;
};

// ---- notifications ------------------------------------------------------------

struct Silence {
    std::string id;
    std::vector<Matcher> matchers;
    SystemTimePoint starts_at;
    SystemTimePoint ends_at;
    std::string comment;
    std::string created_by;

    bool active(SystemTimePoint now) const { return starts_at <= now && now < ends_at; }
};

// What was last enqueued for an alert on one channel.
struct NotifyState {
    SystemTimePoint last_sent;
    std::string severity;
    bool firing_sent = false;
    bool resolved_sent = false;
};

using NotifyKey = std::pair<std::string, std::string>;  // fingerprint, channel
using NotifyStates = std::map<NotifyKey, NotifyState>;

struct Muting {
    std::set<std::string> silenced;   // fingerprints
    std::set<std::string> inhibited;  // fingerprints
};

// Which firing alerts silences and inhibit rules mute now.
Muting compute_muting(const AlertSettings& settings, const AlertMap& alerts, const std::vector<Silence>& silences,
                      SystemTimePoint now);

// One notification to enqueue: the channel-independent payload and the channels
// that get exactly this payload.
struct PlannedNotification {
    nlohmann::json payload;
    std::vector<std::string> channels;
};

// The fields every JSON shape of an alert has: fingerprint, labels,
// annotations, starts_at, and ends_at and value when known. The alert record
// (run) and the notification payload add their own.
nlohmann::json alert_fields(const AlertState& alert);

// The alert as it travels in a notification payload: alert_fields, its status
// (firing or resolved) and, with [alert] external_url, a generator URL.
nlohmann::json alert_payload(const AlertState& alert, const AlertSettings& settings);

// Groups what needs notifying, per channel, by the group_by labels (one group
// per alert for exec channels) and updates `states`. A firing alert is sent
// when the channel has not had it, when its severity changed, or after its
// rule's repeat_interval; a resolved one once, to the channels that had it
// firing. Alertmanager channels get every firing alert on every run, and
// resolved ones for resolve_timeout, as Alertmanager's clients must.
std::vector<PlannedNotification> plan_notifications(const AlertSettings& settings, const AlertMap& alerts,
                                                    const Muting& muting, NotifyStates& states, SystemTimePoint now);

}  // namespace nasops::alert
