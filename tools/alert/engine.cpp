#include "alert/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "nasops/net/http.hpp"

namespace nasops::alert {

namespace {

const std::string k_empty;

const std::string* string_field(const nlohmann::json& record, std::string_view name) {
    const auto it = record.find(name);
    if (it == record.end() || !it->is_string()) return nullptr;
    return &it->get_ref<const std::string&>();
}

std::optional<double> number_field(const nlohmann::json& record, std::string_view name) {
    const auto it = record.find(name);
    if (it == record.end() || !it->is_number()) return std::nullopt;
    return it->get<double>();
}

// The equality a rule requires of `field`, or null.
const std::string* required_equal(const Rule& rule, std::string_view field) {
    for (const auto& m : rule.match) {
        if (m.op() == MatchOp::equal && m.name() == field) return &m.value();
    }
    return nullptr;
}

std::string default_summary(const Labels& labels, const nlohmann::json& record) {
    const auto* message = string_field(record, "message");
    const auto name = labels.find("alertname");
    const auto target = labels.find("target");
    std::string text = name == labels.end() ? std::string() : name->second;
    if (target != labels.end()) text += " " + target->second;
    const auto instance = labels.find("instance");
    if (instance != labels.end()) text += " on " + instance->second;
    if (message != nullptr && !message->empty()) text += ": " + *message;
    return text;
}

}  // namespace

std::string_view phase_name(AlertPhase phase) noexcept {
    switch (phase) {
        case AlertPhase::pending: return "pending";
        case AlertPhase::firing: return "firing";
        case AlertPhase::resolved: return "resolved";
    }
    return "pending";
}

std::optional<AlertPhase> parse_phase(std::string_view text) noexcept {
    for (auto p : {AlertPhase::pending, AlertPhase::firing, AlertPhase::resolved}) {
        if (phase_name(p) == text) return p;
    }
    return std::nullopt;
}

std::size_t FingerprintHash::operator()(const std::string& fingerprint) const noexcept {
    if (fingerprint.size() < sizeof(std::uint64_t)) return std::hash<std::string>{}(fingerprint);
    std::uint64_t head = 0;
    std::memcpy(&head, fingerprint.data(), sizeof head);
    return static_cast<std::size_t>(head * 0x9e3779b97f4a7c15ULL);  // spreads the hex digits' bits
}

const std::string& AlertState::alertname() const {
    const auto it = labels.find("alertname");
    return it == labels.end() ? k_empty : it->second;
}

std::string AlertState::severity() const {
    const auto it = labels.find("severity");
    return it == labels.end() ? std::string() : it->second;
}

Labels series_labels(const Rule& rule, const nlohmann::json& record) {
    Labels labels;
    if (const auto it = record.find("labels"); it != record.end() && it->is_object()) {
        for (const auto& [key, value] : it->items()) {
            if (value.is_string()) labels.insert_or_assign(key, value.get<std::string>());
        }
    }
    const auto* kind = string_field(record, "kind");
    const auto* name = string_field(record, "name");
    if (kind != nullptr && name != nullptr) {
        if (*kind == "check")
            labels.insert_or_assign("check", *name);
        else if (*kind == "metric")
            labels.insert_or_assign("metric", *name);
        else if (*kind == "event")
            labels.insert_or_assign("event", *name);
    }
    for (std::string_view field : {"target", "path"}) {
        if (const auto* value = string_field(record, field)) labels.insert_or_assign(std::string(field), *value);
    }
    if (const auto* host = string_field(record, "host")) labels.insert_or_assign("instance", *host);
    for (const auto& [key, value] : rule.labels) labels.insert_or_assign(key, value);
    labels.insert_or_assign("alertname", rule.from_checks && name != nullptr ? *name : rule.name);
    labels.erase("severity");
    return labels;
}

namespace {

std::string hash_pairs(std::string_view rule, const std::vector<std::pair<std::string_view, std::string_view>>& pairs) {
    std::uint64_t hash = 14695981039346656037ULL;
    auto mix = [&](std::string_view text) {
        for (unsigned char c : text) {
            hash ^= c;
            hash *= 1099511628211ULL;
        }
        hash ^= 0xff;
        hash *= 1099511628211ULL;
    };
    mix(rule);
    for (const auto& [key, value] : pairs) {
        if (key == "severity") continue;
        mix(key);
        mix(value);
    }
    std::string hex(16, '0');
    for (int i = 15; i >= 0; --i, hash >>= 4) hex[static_cast<std::size_t>(i)] = "0123456789abcdef"[hash & 0xf];
    return hex;
}

}  // namespace

std::string fingerprint(std::string_view rule, const Labels& labels) {
    std::vector<std::pair<std::string_view, std::string_view>> pairs(labels.begin(), labels.end());
    return hash_pairs(rule, pairs);
}

namespace {

using Pair = std::pair<std::string_view, std::string_view>;

// The labels a record gives every rule's series, in order of precedence.
void record_pairs(const nlohmann::json& record, std::vector<Pair>& pairs) {
    pairs.clear();
    if (const auto it = record.find("labels"); it != record.end() && it->is_object()) {
        for (const auto& [key, value] : it->items()) {
            if (value.is_string()) pairs.emplace_back(key, value.get_ref<const std::string&>());
        }
    }
    const auto* kind = string_field(record, "kind");
    const auto* name = string_field(record, "name");
    if (kind != nullptr && name != nullptr) {
        if (*kind == "check")
            pairs.emplace_back("check", *name);
        else if (*kind == "metric")
            pairs.emplace_back("metric", *name);
        else if (*kind == "event")
            pairs.emplace_back("event", *name);
    }
    for (std::string_view field : {"target", "path"}) {
        if (const auto* value = string_field(record, field)) pairs.emplace_back(field, *value);
    }
    if (const auto* host = string_field(record, "host")) pairs.emplace_back("instance", *host);
}

// Sorts by key (stable, in place: the lists are short) and keeps the last of
// equal keys, as insert_or_assign does.
void sort_unique(std::vector<Pair>& pairs) {
    for (std::size_t i = 1; i < pairs.size(); ++i) {
        for (std::size_t j = i; j > 0 && pairs[j].first < pairs[j - 1].first; --j) std::swap(pairs[j], pairs[j - 1]);
    }
    std::size_t out = 0;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        if (i + 1 < pairs.size() && pairs[i + 1].first == pairs[i].first) continue;
        pairs[out++] = pairs[i];
    }
    pairs.resize(out);
}

// The series' labels in key order: `base` (record_pairs after sort_unique),
// overridden by the rule's labels, overridden by alertname; then hashed.
std::string finish_fingerprint(const Rule& rule, const std::string* record_name, const std::vector<Pair>& base,
                               std::vector<Pair>& out) {
    const std::string_view alertname =
        rule.from_checks && record_name != nullptr ? std::string_view(*record_name) : std::string_view(rule.name);
    out.clear();
    bool alertname_done = false;
    auto emit = [&](std::string_view key, std::string_view value) {
        if (!alertname_done && key >= "alertname") {
            out.emplace_back("alertname", alertname);
            alertname_done = true;
            if (key == "alertname") return;
        }
        out.emplace_back(key, value);
    };
    auto b = base.begin();
    auto r = rule.labels.begin();
    while (b != base.end() || r != rule.labels.end()) {
        if (r == rule.labels.end() || (b != base.end() && b->first < r->first)) {
            emit(b->first, b->second);
            ++b;
        } else {
            if (b != base.end() && b->first == r->first) ++b;  // the rule's label wins
            emit(r->first, r->second);
            ++r;
        }
    }
    if (!alertname_done) out.emplace_back("alertname", alertname);
    return hash_pairs(rule.name, out);
}

}  // namespace

std::string series_fingerprint(const Rule& rule, const nlohmann::json& record, std::vector<Pair>& scratch) {
    std::vector<Pair> base;
    record_pairs(record, base);
    sort_unique(base);
    return finish_fingerprint(rule, string_field(record, "name"), base, scratch);
}

Evaluator::Evaluator(const AlertSettings& settings, SystemTimePoint now, AlertMap alerts)
    : m_settings(&settings), m_now(now), m_alerts(std::move(alerts)) {
    m_candidates.reserve(settings.rules.size());  // the indexes point into it
    for (const auto& rule : settings.rules) {
        const auto* kind = required_equal(rule, "kind");
        const auto* name = required_equal(rule, "name");
        // The index answers the equalities on kind (and name) it is keyed by:
        // a candidate checks only the rule's other matchers.
        auto& candidate = m_candidates.emplace_back(Candidate{&rule, {}});
        for (const auto& m : rule.match) {
            if (&m.value() == kind || (kind != nullptr && &m.value() == name)) continue;
            candidate.residual.push_back(&m);
        }
        if (kind != nullptr && name != nullptr)
            m_by_kind_name[*kind][*name].push_back(&candidate);
        else if (kind != nullptr)
            m_by_kind[*kind].push_back(&candidate);
        else
            m_any.push_back(&candidate);
    }
}

const std::vector<const Evaluator::Candidate*>& Evaluator::candidates() {
    m_scratch.clear();
    if (m_kind != nullptr) {
        if (const auto by_kind = m_by_kind_name.find(*m_kind); by_kind != m_by_kind_name.end() && m_name != nullptr) {
            if (const auto it = by_kind->second.find(*m_name); it != by_kind->second.end()) {
                m_scratch.insert(m_scratch.end(), it->second.begin(), it->second.end());
            }
        }
        if (const auto it = m_by_kind.find(*m_kind); it != m_by_kind.end()) {
            m_scratch.insert(m_scratch.end(), it->second.begin(), it->second.end());
        }
    }
    m_scratch.insert(m_scratch.end(), m_any.begin(), m_any.end());
    return m_scratch;
}

void Evaluator::process(const nlohmann::json& record) {
    ++m_records;
    if (!record.is_object()) return;
    m_base_ready = false;
    m_kind = string_field(record, "kind");
    m_name = string_field(record, "name");
    m_status = string_field(record, "status");
    for (const Candidate* candidate : candidates()) evaluate(*candidate, record);
}

void Evaluator::evaluate(const Candidate& candidate, const nlohmann::json& record) {
    for (const Matcher* m : candidate.residual) {
        if (!m->matches_record(record)) return;
    }
    const Rule& rule = *candidate.rule;
    const auto* status = m_status;
    bool active = false;
    if (rule.expr) {
        const auto holds = rule.expr->evaluate(record);
        if (!holds) return;
        active = *holds;
    } else {
        if (status == nullptr) return;
        active = *status == "warning" || *status == "critical";
    }

    if (!m_base_ready) {
        record_pairs(record, m_base);
        sort_unique(m_base);
        m_base_ready = true;
    }
    const auto fp = finish_fingerprint(rule, m_name, m_base, m_pairs);
    auto it = m_alerts.find(fp);
    if (!active) {
        if (it == m_alerts.end()) return;
        if (it->second.phase == AlertPhase::pending) {
            m_forgotten.insert(fp);
            m_alerts.erase(it);
        } else if (it->second.phase == AlertPhase::firing) {
            it->second.cleared = true;
            it->second.seen = false;
        }
        return;
    }

    std::string severity = rule.severity;
    if (severity.empty()) {
        severity = status != nullptr && (*status == "warning" || *status == "critical") ? *status : "warning";
    }
    // An alert's labels are fixed by its fingerprint, but for severity: build them once.
    const bool known = it != m_alerts.end() && it->second.phase != AlertPhase::resolved && !it->second.labels.empty();
    Labels labels = known ? std::move(it->second.labels) : series_labels(rule, record);
    labels.insert_or_assign("severity", std::move(severity));
    if (it == m_alerts.end()) {
        // Only an alert forgotten earlier in this run can be in m_forgotten.
        if (!m_forgotten.empty()) m_forgotten.erase(fp);
        it = m_alerts.emplace(fp, AlertState{}).first;
        it->second.fingerprint = fp;
        it->second.active_since = m_now;
    } else if (it->second.phase == AlertPhase::resolved) {
        it->second.phase = AlertPhase::pending;
        it->second.active_since = m_now;
        it->second.fired_at.reset();
        it->second.resolved_at.reset();
    }
    AlertState& alert = it->second;
    alert.seen = true;
    alert.rule = rule.name;
    alert.last_true = m_now;
    alert.cleared = false;
    auto value = rule.expr ? rule.expr->primary_value(record) : number_field(record, "value");
    if (!value) value = number_field(record, "value");
    if (alert.channels != rule.channels) alert.channels = rule.channels;
    // The annotations follow the value; unchanged, they need no new rendering.
    if (known && value == alert.value && alert.labels.empty() && !alert.annotations.empty()) {
        alert.labels = std::move(labels);
        return;
    }
    alert.value = value;
    alert.annotations.clear();
    const auto summary =
        rule.summary.empty() ? default_summary(labels, record) : rule.summary.render(labels, alert.value, &record);
    if (!summary.empty()) alert.annotations.emplace("summary", summary);
    if (!rule.description.empty()) {
        alert.annotations.emplace("description", rule.description.render(labels, alert.value, &record));
    }
    alert.labels = std::move(labels);
}

std::vector<Transition> Evaluator::finish() {
    std::vector<Transition> transitions;
    for (auto it = m_alerts.begin(); it != m_alerts.end();) {
        AlertState& alert = it->second;
        const Rule* rule = m_settings->rule(alert.rule);
        auto resolve = [&](std::string reason) {
            alert.phase = AlertPhase::resolved;
            alert.resolved_at = m_now;
            alert.cleared = false;
            transitions.push_back({alert.fingerprint, AlertPhase::resolved, std::move(reason)});
        };
        bool forget = false;
        switch (alert.phase) {
            case AlertPhase::pending:
                if (rule == nullptr || m_now - alert.last_true > m_settings->stale_after) {
                    forget = true;
                } else if (alert.seen && m_now - alert.active_since >= rule->for_duration) {
                    alert.phase = AlertPhase::firing;
                    alert.fired_at = m_now;
                    transitions.push_back({alert.fingerprint, AlertPhase::firing, {}});
                }
                break;
            case AlertPhase::firing:
                if (rule == nullptr) {
                    resolve("rule removed");
                } else if (alert.cleared && m_now - alert.last_true >= rule->keep_firing_for) {
                    resolve("condition cleared");
                } else if (!alert.cleared && m_now - alert.last_true > m_settings->stale_after) {
                    resolve("stale: not reported for " + format_duration(m_settings->stale_after));
                }
                break;
            case AlertPhase::resolved:
                if (alert.resolved_at && m_now - *alert.resolved_at > m_settings->resolve_timeout) forget = true;
                break;
        }
        if (forget) {
            m_forgotten.insert(alert.fingerprint);
            it = m_alerts.erase(it);
        } else {
            ++it;
        }
    }
    std::ranges::sort(transitions, {}, &Transition::fingerprint);
    return transitions;
}

// ---- notifications --------------------------------------------------------------

Muting compute_muting(const AlertSettings& settings, const AlertMap& alerts, const std::vector<Silence>& silences,
                      SystemTimePoint now) {
    Muting muting;
    std::vector<const AlertState*> firing;
    for (const auto& [fp, alert] : alerts) {
        if (alert.phase == AlertPhase::firing) firing.push_back(&alert);
    }
    for (const auto* alert : firing) {
        for (const auto& silence : silences) {
            if (silence.active(now) && matches_all(silence.matchers, alert->labels)) {
                muting.silenced.insert(alert->fingerprint);
                break;
            }
        }
    }
    for (const auto& rule : settings.inhibit) {
        for (const auto* target : firing) {
            if (muting.inhibited.contains(target->fingerprint) || !matches_all(rule.target, target->labels)) continue;
            for (const auto* source : firing) {
                if (source == target || !matches_all(rule.source, source->labels)) continue;
                const bool equal = std::ranges::all_of(rule.equal, [&](const std::string& name) {
                    const auto a = source->labels.find(name);
                    const auto b = target->labels.find(name);
                    const std::string_view va = a == source->labels.end() ? "" : std::string_view(a->second);
                    const std::string_view vb = b == target->labels.end() ? "" : std::string_view(b->second);
                    return va == vb;
                });
                if (equal) {
                    muting.inhibited.insert(target->fingerprint);
                    break;
                }
            }
        }
    }
    return muting;
}

nlohmann::json alert_fields(const AlertState& alert) {
    nlohmann::json out{
        {"fingerprint", alert.fingerprint},
        {"labels", labels_json(alert.labels)},
        {"annotations", labels_json(alert.annotations)},
        {"starts_at", rfc3339_millis(alert.fired_at.value_or(alert.active_since))},
    };
    if (alert.resolved_at) out["ends_at"] = rfc3339_millis(*alert.resolved_at);
    if (alert.value) out["value"] = *alert.value;
    return out;
}

nlohmann::json alert_payload(const AlertState& alert, const AlertSettings& settings) {
    auto out = alert_fields(alert);
    out["status"] = alert.phase == AlertPhase::resolved ? "resolved" : "firing";
    // A link only when there is one a browser can open: [alert] external_url.
    if (!settings.external_url.empty()) out["generator_url"] = settings.external_url;
    return out;
}

std::vector<PlannedNotification> plan_notifications(const AlertSettings& settings, const AlertMap& alerts,
                                                    const Muting& muting, NotifyStates& states, SystemTimePoint now) {
    // Deterministic order: by fingerprint.
    std::vector<const AlertState*> ordered;
    for (const auto& [fp, alert] : alerts) ordered.push_back(&alert);
    std::ranges::sort(ordered, {}, &AlertState::fingerprint);
    auto muted = [&](const AlertState& a) {
        return muting.silenced.contains(a.fingerprint) || muting.inhibited.contains(a.fingerprint);
    };

    std::map<std::string, PlannedNotification> by_payload;  // serialised payload -> notification
    std::vector<std::string> order;
    for (const auto& channel : settings.channels) {
        const bool alertmanager = channel.type == ChannelType::alertmanager;
        const bool per_alert = channel.type == ChannelType::exec;
        const Rule* rule_of = nullptr;
        struct Group {
            Labels labels;
            std::vector<const AlertState*> members;
            bool needed = false;
            std::vector<const AlertState*> needing;
        };
        std::map<std::string, Group> groups;
        for (const auto* alert : ordered) {
            if (std::ranges::find(alert->channels, channel.name) == alert->channels.end()) continue;
            if (alert->phase == AlertPhase::pending) continue;
            const bool firing = alert->phase == AlertPhase::firing;
            if (firing && muted(*alert)) continue;
            rule_of = settings.rule(alert->rule);
            const auto repeat = rule_of != nullptr ? rule_of->repeat_interval : settings.repeat_interval;
            const auto state = states.find({alert->fingerprint, channel.name});
            bool needs = false;
            if (firing) {
                needs = alertmanager || state == states.end() || !state->second.firing_sent ||
                        state->second.severity != alert->severity() || now - state->second.last_sent >= repeat;
            } else if (alertmanager) {
                needs = alert->resolved_at && now - *alert->resolved_at <= settings.resolve_timeout;
            } else {
                needs = state != states.end() && state->second.firing_sent && !state->second.resolved_sent;
            }
            if (!firing && !needs) continue;

            Labels group_labels;
            std::string key;
            if (per_alert) {
                group_labels = alert->labels;
                key = alert->fingerprint;
            } else {
                for (const auto& name : settings.group_by) {
                    const auto it = alert->labels.find(name);
                    if (it != alert->labels.end()) group_labels.emplace(name, it->second);
                }
            }
            if (key.empty()) {
                key = "{";
                bool first = true;
                for (const auto& [k, v] : group_labels) {
                    key += fmt::format("{}{}=\"{}\"", first ? "" : ",", k, v);
                    first = false;
                }
                key += "}";
            }
            auto& group = groups[key];
            group.labels = group_labels;
            group.members.push_back(alert);
            if (needs) {
                group.needed = true;
                group.needing.push_back(alert);
            }
        }
        for (auto& [key, group] : groups) {
            if (!group.needed) continue;
            nlohmann::json list = nlohmann::json::array();
            bool any_firing = false;
            for (const auto* alert : group.members) {
                const bool firing = alert->phase == AlertPhase::firing;
                const bool needed = std::ranges::find(group.needing, alert) != group.needing.end();
                if (!firing && !needed) continue;
                any_firing = any_firing || firing;
                list.push_back(alert_payload(*alert, settings));
                auto& state = states[{alert->fingerprint, channel.name}];
                if (firing) {
                    state.last_sent = now;
                    state.severity = alert->severity();
                    state.firing_sent = true;
                    state.resolved_sent = false;
                } else {
                    state.resolved_sent = true;
                }
            }
            nlohmann::json payload{
                {"group_key", key},
                {"group_labels", labels_json(group.labels)},
                {"status", any_firing ? "firing" : "resolved"},
                {"created_at", rfc3339_millis(now)},
                {"alerts", std::move(list)},
            };
            auto text = payload.dump();
            auto [it, inserted] = by_payload.try_emplace(text, PlannedNotification{std::move(payload), {}});
            if (inserted) order.push_back(text);
            it->second.channels.push_back(channel.name);
        }
    }
    std::vector<PlannedNotification> out;
    for (const auto& text : order) out.push_back(std::move(by_payload.at(text)));
    return out;
}

}  // namespace nasops::alert
