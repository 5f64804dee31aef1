// The channel formats: webhook, Slack, DingTalk, Alertmanager, email and exec.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "alert/channels.hpp"
#include "alert/engine.hpp"
#include "alert/rules.hpp"
#include "nasops/core/config.hpp"
#include "nasops/net/http.hpp"
#include "nasops/util/base64.hpp"

using namespace nasops;
using namespace nasops::alert;

namespace {

nlohmann::json payload(std::string_view severity = "critical", std::string_view status = "firing") {
    nlohmann::json alert{
        {"fingerprint", "0123456789abcdef"},
        {"status", status},
        {"labels", {{"alertname", "disk"}, {"severity", severity}, {"instance", "cam-01"}, {"target", "/srv"}}},
        {"annotations", {{"summary", "Storage /srv at 93.0%"}}},
        {"starts_at", "2026-11-22T04:00:00.000Z"},
        {"value", 0.93},
        {"generator_url", "https://grafana.example/d/nasops"},
    };
    if (status == "resolved") alert["ends_at"] = "2026-11-22T05:00:00.000Z";
    return {{"group_key", "{alertname=\"disk\"}"},
            {"group_labels", {{"alertname", "disk"}}},
            {"status", status},
            {"created_at", "2026-11-22T04:00:00.000Z"},
            {"alerts", nlohmann::json::array({alert})}};
}

}  // namespace

TEST(AlertChannels, SlackMessage) {
    const auto body = slack_body(payload());
    EXPECT_EQ(body["text"], "*[FIRING:1] disk*\n:red_circle: critical disk: Storage /srv at 93.0% (value 0.93)");
}

TEST(AlertChannels, DingTalkMentionsOnlyForCritical) {
    const auto critical = dingtalk_body(payload(), {"13800000000"});
    EXPECT_EQ(critical["msgtype"], "markdown");
    EXPECT_EQ(critical["markdown"]["title"], "[FIRING:1] disk");
    EXPECT_NE(critical["markdown"]["text"].get<std::string>().find("@13800000000"), std::string::npos);
    EXPECT_EQ(critical["at"]["atMobiles"], nlohmann::json::array({"13800000000"}));
    const auto warning = dingtalk_body(payload("warning"), {"13800000000"});
    EXPECT_TRUE(warning["at"]["atMobiles"].empty());
    EXPECT_EQ(warning["markdown"]["text"].get<std::string>().find('@'), std::string::npos);
    const auto resolved = dingtalk_body(payload("critical", "resolved"), {"13800000000"});
    EXPECT_TRUE(resolved["at"]["atMobiles"].empty());
}

TEST(AlertChannels, DingTalkSignature) {
    // timestamp + "\n" + secret, HMAC-SHA256 keyed by the secret, base64, URL-encoded.
    const auto t = SystemTimePoint(std::chrono::milliseconds(1700000000000));
    const auto url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc", "SECxyz", t);
    const auto expected_sign = url_encode(base64_encode(hmac_sha256("SECxyz", "1700000000000\nSECxyz")));
    EXPECT_EQ(url,
              "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000&sign=" + expected_sign);
}

TEST(AlertChannels, WebhookIsAlertmanagerV4) {
    const auto body = webhook_body(payload("critical", "resolved"), "ops", "http://edge/");
    EXPECT_EQ(body["version"], "4");
    EXPECT_EQ(body["receiver"], "ops");
    EXPECT_EQ(body["status"], "resolved");
    EXPECT_EQ(body["externalURL"], "http://edge/");
    EXPECT_EQ(body["truncatedAlerts"], 0);
    EXPECT_EQ(body["commonLabels"]["instance"], "cam-01");
    EXPECT_EQ(body["alerts"][0]["endsAt"], "2026-11-22T05:00:00.000Z");
    EXPECT_EQ(body["alerts"][0]["generatorURL"], "https://grafana.example/d/nasops");
    EXPECT_EQ(body["alerts"][0]["fingerprint"], "0123456789abcdef");
}

TEST(AlertChannels, AlertmanagerBody) {
    const auto firing = alertmanager_body(payload(), Duration(300'000));
    ASSERT_EQ(firing.size(), 1u);
    EXPECT_EQ(firing[0]["endsAt"], "2026-11-22T04:15:00.000Z");
    EXPECT_EQ(firing[0]["annotations"]["value"], "0.93");
    EXPECT_EQ(alertmanager_endpoint("http://am:9093/"), "http://am:9093/api/v2/alerts");
    EXPECT_EQ(alertmanager_endpoint("http://am:9093/api/v2/alerts"), "http://am:9093/api/v2/alerts");
}

TEST(AlertChannels, EmailListsAlertsWithValues) {
    ChannelConfig channel{.name = "mail", .type = ChannelType::email, .from = "a@example.com", .to = {"b@example.com"}};
    const auto mail = email_message(payload("critical", "resolved"), channel, "edge-01");
    EXPECT_EQ(mail.subject, "[RESOLVED:1] disk");
    EXPECT_NE(mail.body.find("nasops-alert on edge-01: 0 firing, 1 resolved"), std::string::npos) << mail.body;
    EXPECT_NE(mail.body.find("[RESOLVED] disk — critical"), std::string::npos) << mail.body;
    EXPECT_NE(mail.body.find("last value: 0.93"), std::string::npos) << mail.body;
    EXPECT_NE(mail.body.find("labels: instance=cam-01 target=/srv"), std::string::npos) << mail.body;
}

TEST(AlertChannels, ExecEnvironment) {
    const auto env = exec_environment(payload()["alerts"][0], "restart");
    auto get = [&](std::string_view name) {
        for (const auto& [k, v] : env) {
            if (k == name) return v;
        }
        return std::string("(unset)");
    };
    EXPECT_EQ(get("NASOPS_ALERT_NAME"), "disk");
    EXPECT_EQ(get("NASOPS_ALERT_STATUS"), "firing");
    EXPECT_EQ(get("NASOPS_ALERT_VALUE"), "0.93");
    EXPECT_EQ(get("NASOPS_ALERT_LABEL_INSTANCE"), "cam-01");
    EXPECT_EQ(get("NASOPS_CHANNEL"), "restart");
}

TEST(AlertChannels, DeliveryKeyIsStableAndTellsNotificationsApart) {
    const auto created = SystemTimePoint(std::chrono::milliseconds(1700000000000));
    const auto key = delivery_key("cam-01", 7, created, "hook");
    EXPECT_EQ(key.size(), 32u);
    EXPECT_EQ(key.find_first_not_of("0123456789abcdef"), std::string::npos) << key;
    EXPECT_EQ(delivery_key("cam-01", 7, created, "hook"), key) << "the same on every attempt";
    EXPECT_NE(delivery_key("cam-01", 8, created, "hook"), key) << "another notification";
    EXPECT_NE(delivery_key("cam-01", 7, created, "mail"), key) << "another channel";
    EXPECT_NE(delivery_key("cam-02", 7, created, "hook"), key) << "another host's outbox";
    EXPECT_NE(delivery_key("cam-01", 7, created + std::chrono::milliseconds(1), "hook"), key)
        << "the same id in a database made anew";
}

TEST(AlertChannels, TheKeyIsInTheWebhookBodyTheMessageIdAndTheExecEnvironment) {
    EXPECT_EQ(webhook_body(payload(), "ops", "", "0123abcd")["idempotencyKey"], "0123abcd");
    EXPECT_FALSE(webhook_body(payload(), "ops", "").contains("idempotencyKey"));

    ChannelConfig channel{.name = "mail", .type = ChannelType::email, .from = "a@example.com", .to = {"b@example.com"}};
    EXPECT_EQ(email_message(payload(), channel, "edge-01", "0123abcd").message_id, "0123abcd@edge-01");
    EXPECT_EQ(email_message(payload(), channel, "edge-01").message_id, "") << "none: the sender makes a new one";

    const auto env = exec_environment(payload()["alerts"][0], "restart", "0123abcd");
    EXPECT_NE(std::ranges::find(env, std::pair<std::string, std::string>{"NASOPS_IDEMPOTENCY_KEY", "0123abcd"}),
              env.end());
}
