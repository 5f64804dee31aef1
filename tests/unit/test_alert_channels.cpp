// The channel formats, the handbook's rules in deploy/nasops.toml, and templates.

#include <gtest/gtest.h>

#include <filesystem>

#include "alert/channels.hpp"
#include "alert/engine.hpp"
#include "alert/rules.hpp"
#include "nasops/core/config.hpp"

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
        {"generator_url", "nasops://edge/alert/disk"},
    };
    if (status == "resolved") alert["ends_at"] = "2026-11-22T05:00:00.000Z";
    return {{"group_key", "{alertname=\"disk\"}"},
            {"group_labels", {{"alertname", "disk"}}},
            {"status", status},
            {"created_at", "2026-11-22T04:00:00.000Z"},
            {"alerts", nlohmann::json::array({alert})}};
}

nlohmann::json rec(std::string_view text) {
    return nlohmann::json::parse(text);
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
    EXPECT_EQ(body["alerts"][0]["generatorURL"], "nasops://edge/alert/disk");
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

TEST(AlertTemplates, RenderLabelsValuesFieldsAndFilters) {
    const Labels labels{{"alertname", "disk"}, {"instance", "cam-01"}, {"target", "/srv"}};
    const auto record = rec(R"({"message":"93% used","bytes":1610612736,"seconds":5400})");
    EXPECT_EQ(
        Template("Storage {{target}} at {{ value | percent }} on {{labels.instance}}").render(labels, 0.931, &record),
        "Storage /srv at 93.1% on cam-01");
    EXPECT_EQ(Template("{{message}}; {{bytes | bytes}} in {{seconds | duration}}").render(labels, {}, &record),
              "93% used; 1.5 GiB in 1h30m");
    EXPECT_EQ(Template("{{value}} {{nope}}|{{unclosed").render(labels, 1200.0, nullptr), "1200 |{{unclosed");
}

TEST(AlertRules, TheShippedHandbookRulesLoadAndFire) {
    auto config = load_config_file(std::filesystem::path(NASOPS_SOURCE_DIR) / "deploy/nasops.toml");
    ASSERT_TRUE(config) << config.error().message;
    auto settings = load_settings(*config);
    ASSERT_TRUE(settings) << settings.error().message;
    ASSERT_EQ(settings->rules.size(), 7u);

    const auto now = *parse_rfc3339("2026-11-22T04:00:00Z");
    Evaluator evaluator(*settings, now, {});
    auto check = [](std::string_view name, std::string_view rest) {
        return rec(
            std::string(
                R"({"v":1,"ts":"2026-11-22T04:00:00Z","tool":"health","host":"cam-01","kind":"check","name":")") +
            std::string(name) + "\"," + std::string(rest) + "}");
    };
    evaluator.process(check("disk", R"("target":"/srv","status":"critical","value":0.95)"));
    evaluator.process(check("disk", R"("target":"/","status":"ok","value":0.20)"));
    evaluator.process(check("process", R"("target":"nasops-sync","status":"critical","value":12,
        "metrics":[{"name":"process_uptime","value":12},{"name":"process_instances","value":1}])"));
    evaluator.process(check("ssh", R"("target":"nas","status":"critical","value":0.2,
        "metrics":[{"name":"ssh_latency","value":0.2},{"name":"ssh_success","value":0.5}])"));
    evaluator.process(check("transfer", R"("status":"critical","value":0.8,
        "metrics":[{"name":"transfer_success","value":0.8}])"));
    evaluator.process(rec(R"({"v":1,"ts":"2026-11-22T04:00:00Z","tool":"sync","host":"cam-01","kind":"transfer",
        "path":"/srv/a.mp4","state":"completed","bytes":20000000000,"seconds":2400})"));
    // nasops-capacity's forecasts: a volume full in 5 days, and one not filling (no days_until_full).
    evaluator.process(rec(R"({"v":1,"ts":"2026-11-22T04:00:00Z","tool":"capacity","host":"cam-01","kind":"forecast",
        "target":"/srv","state":"filling","days_until_full":5.0})"));
    evaluator.process(rec(R"({"v":1,"ts":"2026-11-22T04:00:00Z","tool":"capacity","host":"cam-01","kind":"forecast",
        "target":"/","state":"not_filling"})"));
    const auto transitions = evaluator.finish();
    std::set<std::string> fired;
    for (const auto& t : transitions) fired.insert(evaluator.alerts().at(t.fingerprint).alertname());
    // ssh (for 3m), the failure rate (for 5m) and both forecast rules of /srv (for 2h) are pending.
    EXPECT_EQ(fired, (std::set<std::string>{"storage_space_critical", "daemon_restarting", "slow_large_transfer"}));
    std::size_t pending = 0;
    for (const auto& [fp, a] : evaluator.alerts()) pending += a.phase == AlertPhase::pending ? 1 : 0;
    EXPECT_EQ(pending, 4u);
    for (const auto& [fp, a] : evaluator.alerts()) {
        if (a.alertname() == "storage_space_critical") {
            EXPECT_EQ(a.annotations.at("summary"), "Storage /srv on cam-01 at 95.0%");
        }
        if (a.alertname() == "transfer_failure_rate") {
            EXPECT_NEAR(*a.value, 0.2, 1e-9);
        }
        if (a.alertname() == "slow_large_transfer") {
            EXPECT_EQ(a.annotations.at("summary"), "/srv/a.mp4 took 40m");
        }
    }
}
