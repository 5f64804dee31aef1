#pragma once

// Notification channels. A notification's payload is channel-independent
// (plan_notifications); each channel renders it in its own format and sends
// it. The format functions are pure so tests can check them byte for byte.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "alert/rules.hpp"
#include "nasops/net/http.hpp"
#include "nasops/util/clock.hpp"
#include "nasops/util/command_runner.hpp"

namespace nasops::alert {

enum class DeliveryStatus {
    delivered,
    retry,     // worth trying again later: unreachable, timed out, 5xx, 429
    rejected,  // refused for good: 4xx, a bad address, a command that failed
};

struct DeliveryResult {
    DeliveryStatus status = DeliveryStatus::delivered;
    std::string detail;  // what happened, secrets masked: "HTTP 200", "exit 0: restarted", the error
};

class Notifier {
public:
    virtual ~Notifier() = default;
    // Sends one notification. `key` is the same on every attempt at the same
    // delivery (delivery_key), so that a receiver can drop a second copy:
    // delivery is at least once, and a retry after a lost answer sends again.
    virtual DeliveryResult deliver(const nlohmann::json& payload, std::string_view key) = 0;
};

// The idempotency key of one notification to one channel: 32 hex digits of
// SHA-256 over the host, the notification's id and creation time in the
// outbox, and the channel, all of which a retry keeps. The time tells apart
// two notifications that got the same id from two databases (one restored).
std::string delivery_key(std::string_view host, std::int64_t notification_id, SystemTimePoint created_at,
                         std::string_view channel);

struct NotifierDeps {
    HttpClient& http;
    MailSender& mail;
    CommandRunner& commands;
    const Clock& clock;
    std::string host;
};

std::unique_ptr<Notifier> make_notifier(const ChannelConfig& channel, const AlertSettings& settings,
                                        NotifierDeps& deps);

// A notification with one firing alert named nasops_test, for `test --channel`.
nlohmann::json test_payload(SystemTimePoint now, std::string_view host, std::string_view channel,
                            std::string_view external_url);

// The Alertmanager webhook body (version 4) for `receiver`.
// With a key, it is also in the body as "idempotencyKey".
nlohmann::json webhook_body(const nlohmann::json& payload, std::string_view receiver, std::string_view external_url,
                            std::string_view key = {});
// Slack's incoming-webhook message: {"text": ...} with mrkdwn.
nlohmann::json slack_body(const nlohmann::json& payload);
// DingTalk's robot message: markdown, and the mobiles to @ when a critical alert fires.
nlohmann::json dingtalk_body(const nlohmann::json& payload, const std::vector<std::string>& at_mobiles);
// The URL of a DingTalk robot with a signing secret: &timestamp=...&sign=... appended.
std::string dingtalk_signed_url(std::string_view url, std::string_view secret, SystemTimePoint now);
// POST /api/v2/alerts of Alertmanager: firing alerts end 3 × resolve_timeout
// after the notification was made (renewed each run), resolved ones at their end.
nlohmann::json alertmanager_body(const nlohmann::json& payload, Duration resolve_timeout);
// The API address for a channel url: ".../api/v2/alerts" appended unless present.
std::string alertmanager_endpoint(std::string_view url);
// The mail for an email channel: the subject template (default
// "[FIRING:2] disk_full cam-01") and a text body listing each alert with its value.
// With a key, the Message-ID is <key@host>: a mail re-sent after a lost answer
// has the Message-ID of the first, which mail systems use to drop duplicates.
MailMessage email_message(const nlohmann::json& payload, const ChannelConfig& channel, std::string_view host,
                          std::string_view key = {});
// The one-line title every channel uses: "[FIRING:2] disk_full cam-01".
std::string notification_title(const nlohmann::json& payload);
// The variables an exec command gets for one alert: NASOPS_ALERT_NAME,
// _STATUS, _SEVERITY, _VALUE, _SUMMARY, _DESCRIPTION, _FINGERPRINT,
// _STARTS_AT, _ENDS_AT, NASOPS_ALERT_LABEL_<NAME> for each label, and
// NASOPS_CHANNEL, and NASOPS_IDEMPOTENCY_KEY with a key.
EnvVars exec_environment(const nlohmann::json& alert, std::string_view channel, std::string_view key = {});

}  // namespace nasops::alert
