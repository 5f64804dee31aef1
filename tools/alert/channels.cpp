#include "alert/channels.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "nasops/core/log.hpp"
#include "nasops/util/base64.hpp"
#include "nasops/util/sha256.hpp"
#include "nasops/version.hpp"

namespace nasops::alert {

namespace {

constexpr std::string_view k_zero_time = "0001-01-01T00:00:00Z";

std::string str(const nlohmann::json& j, std::string_view key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const nlohmann::json& alerts_of(const nlohmann::json& payload) {
    static const nlohmann::json k_none = nlohmann::json::array();
    const auto it = payload.find("alerts");
    return it != payload.end() && it->is_array() ? *it : k_none;
}

// Labels shared by every alert, with the same value.
nlohmann::json common(const nlohmann::json& alerts, std::string_view key) {
    nlohmann::json out = nlohmann::json::object();
    bool first = true;
    for (const auto& alert : alerts) {
        const auto it = alert.find(key);
        const auto& map = it != alert.end() && it->is_object() ? *it : nlohmann::json::object();
        if (first) {
            out = map;
            first = false;
            continue;
        }
        for (auto entry = out.begin(); entry != out.end();) {
            const auto other = map.find(entry.key());
            if (other == map.end() || *other != entry.value())
                entry = out.erase(entry);
            else
                ++entry;
        }
    }
    return out;
}

std::size_t count_status(const nlohmann::json& alerts, std::string_view status) {
    return static_cast<std::size_t>(
        std::ranges::count_if(alerts, [&](const nlohmann::json& a) { return str(a, "status") == status; }));
}

std::string value_text(const nlohmann::json& alert) {
    const auto it = alert.find("value");
    if (it == alert.end() || !it->is_number()) return {};
    return format_value(it->get<double>());
}

std::string label(const nlohmann::json& alert, std::string_view name) {
    const auto it = alert.find("labels");
    if (it == alert.end() || !it->is_object()) return {};
    return str(*it, name);
}

std::string annotation(const nlohmann::json& alert, std::string_view name) {
    const auto it = alert.find("annotations");
    if (it == alert.end() || !it->is_object()) return {};
    return str(*it, name);
}

bool any_critical_firing(const nlohmann::json& alerts) {
    return std::ranges::any_of(alerts, [](const nlohmann::json& a) {
        return str(a, "status") == "firing" && label(a, "severity") == "critical";
    });
}

DeliveryResult from_transport_error(const Error& error) {
    // A bad URL or CA file will not get better by waiting.
    if (error.code == ExitCode::config) return {DeliveryStatus::rejected, error.message};
    return {DeliveryStatus::retry, error.message};
}

DeliveryResult from_status(const HttpResponse& response) {
    auto body = response.body.substr(0, 200);
    std::ranges::replace(body, '\n', ' ');
    const auto detail = fmt::format("HTTP {}{}{}", response.status, body.empty() ? "" : ": ", body);
    if (response.status >= 200 && response.status < 300) return {DeliveryStatus::delivered, detail};
    if (retryable_status(response.status)) return {DeliveryStatus::retry, detail};
    return {DeliveryStatus::rejected, detail};
}

std::string env_name(std::string_view label) {
    std::string out;
    for (unsigned char c : label) out.push_back(std::isalnum(c) ? static_cast<char>(std::toupper(c)) : '_');
    return out;
}

class HttpNotifier : public Notifier {
public:
    HttpNotifier(const ChannelConfig& channel, const AlertSettings& settings, NotifierDeps& deps)
        : m_channel(channel), m_settings(settings), m_deps(deps) {}

    DeliveryResult deliver(const nlohmann::json& payload, std::string_view key) override {
        HttpRequest request;
        request.method = "POST";
        request.url = url();
        request.timeout = m_channel.timeout;
        request.ca_file = m_channel.ca_file;
        request.headers.push_back({"Content-Type", "application/json"});
        request.headers.push_back({"Idempotency-Key", std::string(key)});
        for (const auto& [k, v] : m_channel.headers) request.headers.push_back({k, v});
        if (!m_channel.token.empty() && token_is_bearer()) {
            request.headers.push_back({"Authorization", "Bearer " + m_channel.token});
        }
        if (!m_channel.username.empty()) {
            auto password = channel_password(m_channel);
            if (!password) return {DeliveryStatus::rejected, password.error().message};
            request.username = m_channel.username;
            request.password = *password;
        }
        request.body = body(payload, key).dump();
        auto response = m_deps.http.send(request);
        if (!response) return from_transport_error(response.error());
        return check(*response);
    }

protected:
    virtual std::string url() { return m_channel.url; }
    virtual nlohmann::json body(const nlohmann::json& payload, std::string_view key) = 0;
    virtual bool token_is_bearer() const { return true; }
    virtual DeliveryResult check(const HttpResponse& response) { return from_status(response); }

    const ChannelConfig& m_channel;
    const AlertSettings& m_settings;
    NotifierDeps& m_deps;
};

class WebhookNotifier final : public HttpNotifier {
public:
    using HttpNotifier::HttpNotifier;

private:
    nlohmann::json body(const nlohmann::json& payload, std::string_view key) override {
        return webhook_body(payload, m_channel.name, m_settings.external_url, key);
    }
};

class SlackNotifier final : public HttpNotifier {
public:
    using HttpNotifier::HttpNotifier;

private:
    nlohmann::json body(const nlohmann::json& payload, std::string_view /*key*/) override {
        return slack_body(payload);
    }
    bool token_is_bearer() const override { return false; }
};

class DingTalkNotifier final : public HttpNotifier {
public:
    using HttpNotifier::HttpNotifier;

private:
    std::string url() override {
        if (m_channel.token.empty()) return m_channel.url;
        return dingtalk_signed_url(m_channel.url, m_channel.token, m_deps.clock.now());
    }
    nlohmann::json body(const nlohmann::json& payload, std::string_view /*key*/) override {
        return dingtalk_body(payload, m_channel.at_mobiles);
    }
    bool token_is_bearer() const override { return false; }
    DeliveryResult check(const HttpResponse& response) override {
        auto result = from_status(response);
        if (result.status != DeliveryStatus::delivered) return result;
        // DingTalk answers 200 with {"errcode":310000,"errmsg":"..."} when it refuses.
        const auto body = nlohmann::json::parse(response.body, nullptr, false);
        if (!body.is_object() || !body.contains("errcode") || body["errcode"] == 0) return result;
        const auto code = body["errcode"].is_number() ? body["errcode"].get<long>() : -1;
        const auto detail = fmt::format("DingTalk errcode {}: {}", code, str(body, "errmsg"));
        return {code == 130101 ? DeliveryStatus::retry : DeliveryStatus::rejected, detail};
    }
};

class AlertmanagerNotifier final : public HttpNotifier {
public:
    using HttpNotifier::HttpNotifier;

private:
    std::string url() override { return alertmanager_endpoint(m_channel.url); }
    nlohmann::json body(const nlohmann::json& payload, std::string_view /*key*/) override {
        return alertmanager_body(payload, m_settings.resolve_timeout);
    }
};

class EmailNotifier final : public Notifier {
public:
    EmailNotifier(const ChannelConfig& channel, NotifierDeps& deps) : m_channel(channel), m_deps(deps) {}

    DeliveryResult deliver(const nlohmann::json& payload, std::string_view key) override {
        SmtpSettings settings;
        settings.url = m_channel.smtp_url;
        settings.username = m_channel.username;
        auto password = channel_password(m_channel);
        if (!password) return {DeliveryStatus::rejected, password.error().message};
        settings.password = *password;
        settings.tls = m_channel.starttls ? SmtpTls::starttls_required : SmtpTls::none;
        settings.ca_file = m_channel.ca_file;
        settings.timeout = m_channel.timeout;
        auto sent = m_deps.mail.send(settings, email_message(payload, m_channel, m_deps.host, key));
        if (sent) return {DeliveryStatus::delivered, fmt::format("sent to {} recipient(s)", m_channel.to.size())};
        const auto status =
            sent.error().code == ExitCode::unavailable ? DeliveryStatus::retry : DeliveryStatus::rejected;
        return {status, sent.error().message};
    }

private:
    const ChannelConfig& m_channel;
    NotifierDeps& m_deps;
};

class ExecNotifier final : public Notifier {
public:
    ExecNotifier(const ChannelConfig& channel, NotifierDeps& deps) : m_channel(channel), m_deps(deps) {}

    DeliveryResult deliver(const nlohmann::json& payload, std::string_view key) override {
        DeliveryResult result{DeliveryStatus::delivered, {}};
        for (const auto& alert : alerts_of(payload)) {
            nlohmann::json input = alert;
            input["channel"] = m_channel.name;
            auto outcome = m_deps.commands.run(m_channel.command, exec_environment(alert, m_channel.name, key),
                                               input.dump() + "\n", m_channel.timeout);
            if (!outcome) return {DeliveryStatus::rejected, outcome.error().message};
            auto first_line = outcome->output.substr(0, outcome->output.find('\n'));
            if (first_line.size() > 200) first_line.resize(200);
            if (outcome->timed_out) {
                return {DeliveryStatus::retry, fmt::format("{} timed out after {}", m_channel.command.front(),
                                                           format_duration(m_channel.timeout))};
            }
            const auto detail =
                fmt::format("exit {}{}{}", outcome->exit_code, first_line.empty() ? "" : ": ", first_line);
            if (outcome->exit_code == 75) return {DeliveryStatus::retry, detail};  // EX_TEMPFAIL: try again later
            if (outcome->exit_code != 0) return {DeliveryStatus::rejected, detail};
            result.detail = detail;
        }
        return result;
    }

private:
    const ChannelConfig& m_channel;
    NotifierDeps& m_deps;
};

}  // namespace

std::unique_ptr<Notifier> make_notifier(const ChannelConfig& channel, const AlertSettings& settings,
                                        NotifierDeps& deps) {
    switch (channel.type) {
        case ChannelType::webhook: return std::make_unique<WebhookNotifier>(channel, settings, deps);
        case ChannelType::slack: return std::make_unique<SlackNotifier>(channel, settings, deps);
        case ChannelType::dingtalk: return std::make_unique<DingTalkNotifier>(channel, settings, deps);
        case ChannelType::alertmanager: return std::make_unique<AlertmanagerNotifier>(channel, settings, deps);
        case ChannelType::email: return std::make_unique<EmailNotifier>(channel, deps);
        case ChannelType::exec: return std::make_unique<ExecNotifier>(channel, deps);
    }
    return nullptr;
}

nlohmann::json test_payload(SystemTimePoint now, std::string_view host, std::string_view channel,
                            std::string_view external_url) {
    const auto ts = rfc3339_millis(now);
    nlohmann::json alert{
        {"fingerprint", "0000000000000000"},
        {"status", "firing"},
        {"labels", {{"alertname", "nasops_test"}, {"severity", "info"}, {"instance", host}}},
        {"annotations",
         {{"summary", fmt::format("Test notification from nasops-alert on {} through channel {}", host, channel)}}},
        {"starts_at", ts},
    };
    if (!external_url.empty()) alert["generator_url"] = external_url;
    return nlohmann::json{{"group_key", "{alertname=\"nasops_test\"}"},
                          {"group_labels", {{"alertname", "nasops_test"}}},
                          {"status", "firing"},
                          {"created_at", ts},
                          {"alerts", nlohmann::json::array({alert})}};
}

std::string delivery_key(std::string_view host, std::int64_t notification_id, SystemTimePoint created_at,
                         std::string_view channel) {
    Sha256 hash;
    hash.update(fmt::format("{}\n{}\n{}\n{}", host, notification_id, rfc3339_millis(created_at), channel));
    return hash.hex_digest().substr(0, 32);
}

nlohmann::json webhook_body(const nlohmann::json& payload, std::string_view receiver, std::string_view external_url,
                            std::string_view key) {
    const auto& alerts = alerts_of(payload);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& a : alerts) {
        nlohmann::json item{
            {"status", str(a, "status")},
            {"labels", a.value("labels", nlohmann::json::object())},
            {"annotations", a.value("annotations", nlohmann::json::object())},
            {"startsAt", str(a, "starts_at")},
            {"endsAt", a.contains("ends_at") ? str(a, "ends_at") : std::string(k_zero_time)},
            {"generatorURL", str(a, "generator_url")},
            {"fingerprint", str(a, "fingerprint")},
        };
        if (a.contains("value")) item["value"] = a["value"];
        list.push_back(std::move(item));
    }
    nlohmann::json body{
        {"version", "4"},
        {"groupKey", str(payload, "group_key")},
        {"truncatedAlerts", 0},
        {"status", str(payload, "status")},
        {"receiver", receiver},
        {"groupLabels", payload.value("group_labels", nlohmann::json::object())},
        {"commonLabels", common(alerts, "labels")},
        {"commonAnnotations", common(alerts, "annotations")},
        {"externalURL", external_url},
        {"alerts", std::move(list)},
    };
    if (!key.empty()) body["idempotencyKey"] = key;
    return body;
}

std::string notification_title(const nlohmann::json& payload) {
    const auto& alerts = alerts_of(payload);
    const auto firing = count_status(alerts, "firing");
    const auto resolved = count_status(alerts, "resolved");
    std::string title = firing > 0 ? fmt::format("[FIRING:{}]", firing) : fmt::format("[RESOLVED:{}]", resolved);
    const auto group = payload.value("group_labels", nlohmann::json::object());
    for (const auto& [k, v] : group.items()) {
        if (v.is_string()) title += " " + v.get<std::string>();
    }
    return title;
}

namespace {

// One line per alert: "critical disk_full: Storage /srv at 93.1% (value 0.931)".
std::string alert_line(const nlohmann::json& a) {
    const auto summary = annotation(a, "summary");
    const auto value = value_text(a);
    auto line = fmt::format("{} {}", label(a, "severity"), label(a, "alertname"));
    if (!summary.empty()) line += ": " + summary;
    if (!value.empty()) line += fmt::format(" (value {})", value);
    return line;
}

}  // namespace

nlohmann::json slack_body(const nlohmann::json& payload) {
    std::string text = "*" + notification_title(payload) + "*";
    for (const auto& a : alerts_of(payload)) {
        text += fmt::format("\n{} {}",
                            str(a, "status") == "firing" ? ":red_circle:" : ":large_green_circle:", alert_line(a));
    }
    return nlohmann::json{{"text", text}, {"mrkdwn", true}};
}

nlohmann::json dingtalk_body(const nlohmann::json& payload, const std::vector<std::string>& at_mobiles) {
    const auto& alerts = alerts_of(payload);
    const auto title = notification_title(payload);
    std::string text = "### " + title + "\n";
    for (const auto& a : alerts) {
        text += fmt::format("\n- **{}** {}", str(a, "status") == "firing" ? "FIRING" : "RESOLVED", alert_line(a));
    }
    const bool mention = any_critical_firing(alerts) && !at_mobiles.empty();
    if (mention) {
        text += "\n\n";
        for (const auto& mobile : at_mobiles) text += "@" + mobile + " ";
        text.pop_back();
    }
    return nlohmann::json{
        {"msgtype", "markdown"},
        {"markdown", {{"title", title}, {"text", text}}},
        {"at", {{"atMobiles", mention ? nlohmann::json(at_mobiles) : nlohmann::json::array()}, {"isAtAll", false}}},
    };
}

std::string dingtalk_signed_url(std::string_view url, std::string_view secret, SystemTimePoint now) {
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const auto to_sign = fmt::format("{}\n{}", millis, secret);
    const auto sign = url_encode(base64_encode(hmac_sha256(secret, to_sign)));
    return fmt::format("{}{}timestamp={}&sign={}", url, url.find('?') == std::string_view::npos ? '?' : '&', millis,
                       sign);
}

std::string alertmanager_endpoint(std::string_view url) {
    std::string out(url);
    while (out.ends_with('/')) out.pop_back();
    if (!out.ends_with("/api/v2/alerts")) out += "/api/v2/alerts";
    return out;
}

nlohmann::json alertmanager_body(const nlohmann::json& payload, Duration resolve_timeout) {
    const auto created = parse_rfc3339(str(payload, "created_at"));
    nlohmann::json list = nlohmann::json::array();
    for (const auto& a : alerts_of(payload)) {
        nlohmann::json annotations = a.value("annotations", nlohmann::json::object());
        if (a.contains("value") && a["value"].is_number()) annotations["value"] = value_text(a);
        nlohmann::json item{
            {"labels", a.value("labels", nlohmann::json::object())},
            {"annotations", std::move(annotations)},
            {"startsAt", str(a, "starts_at")},
        };
        if (a.contains("generator_url")) item["generatorURL"] = str(a, "generator_url");
        if (a.contains("ends_at")) {
            item["endsAt"] = str(a, "ends_at");
        } else if (created) {
            item["endsAt"] = rfc3339_millis(*created + 3 * resolve_timeout);
        }
        list.push_back(std::move(item));
    }
    return list;
}

MailMessage email_message(const nlohmann::json& payload, const ChannelConfig& channel, std::string_view host,
                          std::string_view key) {
    const auto& alerts = alerts_of(payload);
    MailMessage mail;
    if (!key.empty()) mail.message_id = fmt::format("{}@{}", key, host.empty() ? "localhost" : host);
    mail.from = channel.from;
    mail.to = channel.to;
    const auto title = notification_title(payload);
    if (channel.subject.empty()) {
        mail.subject = title;
    } else {
        auto labels = labels_from_json(common(alerts, "labels"));
        labels.emplace("status", str(payload, "status"));
        labels.emplace("title", title);
        labels.emplace("count", std::to_string(alerts.size()));
        std::optional<double> value;
        if (!alerts.empty() && alerts.front().contains("value") && alerts.front()["value"].is_number()) {
            value = alerts.front()["value"].get<double>();
        }
        mail.subject = channel.subject.render(labels, value, &payload);
    }
    std::string body = fmt::format("nasops-alert on {}: {} firing, {} resolved\n", host, count_status(alerts, "firing"),
                                   count_status(alerts, "resolved"));
    for (const auto& a : alerts) {
        const bool firing = str(a, "status") == "firing";
        body += fmt::format("\n[{}] {} — {}\n", firing ? "FIRING" : "RESOLVED", label(a, "alertname"),
                            label(a, "severity"));
        if (auto summary = annotation(a, "summary"); !summary.empty()) body += "  " + summary + "\n";
        if (auto description = annotation(a, "description"); !description.empty()) body += "  " + description + "\n";
        if (auto value = value_text(a); !value.empty()) {
            body += fmt::format("  {}: {}\n", firing ? "value" : "last value", value);
        }
        if (auto labels = labels_inline(labels_from_json(a.value("labels", nlohmann::json::object()))); !labels.empty())
            body += "  labels: " + labels + "\n";
        body += "  since: " + str(a, "starts_at") + "\n";
        if (!firing) body += "  resolved: " + str(a, "ends_at") + "\n";
    }
    body += fmt::format("\n-- \nnasops-alert {}\n", k_version);
    mail.body = std::move(body);
    return mail;
}

EnvVars exec_environment(const nlohmann::json& alert, std::string_view channel, std::string_view key) {
    EnvVars env{
        {"NASOPS_ALERT_NAME", label(alert, "alertname")},
        {"NASOPS_ALERT_STATUS", str(alert, "status")},
        {"NASOPS_ALERT_SEVERITY", label(alert, "severity")},
        {"NASOPS_ALERT_VALUE", value_text(alert)},
        {"NASOPS_ALERT_SUMMARY", annotation(alert, "summary")},
        {"NASOPS_ALERT_DESCRIPTION", annotation(alert, "description")},
        {"NASOPS_ALERT_FINGERPRINT", str(alert, "fingerprint")},
        {"NASOPS_ALERT_STARTS_AT", str(alert, "starts_at")},
        {"NASOPS_ALERT_ENDS_AT", str(alert, "ends_at")},
        {"NASOPS_CHANNEL", std::string(channel)},
    };
    if (!key.empty()) env.emplace_back("NASOPS_IDEMPOTENCY_KEY", std::string(key));
    if (const auto it = alert.find("labels"); it != alert.end() && it->is_object()) {
        for (const auto& [k, v] : it->items()) {
            if (v.is_string()) env.emplace_back("NASOPS_ALERT_LABEL_" + env_name(k), v.get<std::string>());
        }
    }
    return env;
}

}  // namespace nasops::alert
