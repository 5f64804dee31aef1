// nasops-alert against real servers on 127.0.0.1: the HTTP sink, aiosmtpd
// (plain, STARTTLS, SMTPS, with a login), a real Alertmanager, and real
// commands; each server down then back to prove the outbox delivers exactly once.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "alert/run.hpp"
#include "fixtures/alert_harness.hpp"
#include "fixtures/child_process.hpp"
#include "fixtures/fault_row.hpp"
#include "fixtures/http_sink.hpp"
#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/net/http.hpp"
#include "nasops/util/base64.hpp"
#include "nasops/util/command_runner.hpp"

using namespace nasops;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// For the fault matrix: the notifications a webhook sink answered 2xx,
// counted by their Idempotency-Key against the `expected` distinct ones.
void count_webhook_deliveries(nasops::testing::FaultReport& fault, const std::vector<nlohmann::json>& requests,
                              std::size_t expected) {
    std::set<std::string> keys;
    std::size_t answered = 0;
    for (const auto& r : requests) {
        if (r["status"] != 200) continue;
        ++answered;
        keys.insert(r["headers"].value("Idempotency-Key", ""));
    }
    fault.notifications(expected > keys.size() ? expected - keys.size() : 0, answered - keys.size());
}

// The fixture with the real runners, at the real time; its check records
// carry a UTF-8 message, as real ones may.
class AlertLive : public nasops::testing::AlertHarness {
protected:
    AlertLive()
        : AlertHarness(std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()), http,
                       mail, commands) {
        check_message = "93 % utilisé";
    }

    CurlHttpClient http;
    CurlMailSender mail{clock};
    SpawnCommandRunner commands;
};

std::string webhook_config(const std::string& url) {
    return "[alert]\ndefault_channels = [\"hook\"]\n\n[[alert.channel]]\nname = \"hook\"\ntype = \"webhook\"\nurl = "
           "\"" +
           url + "\"\nheaders = { X-Source = \"edge-01\" }\ntimeout = \"5s\"\n";
}

std::string alertmanager_config(const std::string& url) {
    return "[alert]\ndefault_channels = [\"am\"]\n[[alert.channel]]\nname = \"am\"\ntype = \"alertmanager\"\nurl = \"" +
           url + "\"\ntimeout = \"5s\"\n";
}

}  // namespace

TEST(HttpClientLive, SendsAndReceivesThroughARealServer) {
    nasops::testing::TempDir dir;
    nasops::testing::HttpSink sink(dir / "sink");
    CurlHttpClient http;
    auto response = http.send(HttpRequest{.method = "POST",
                                          .url = sink.url("/x?token=secret"),
                                          .headers = {{"Content-Type", "application/json"}, {"X-A", "b"}},
                                          .body = R"({"a":1})",
                                          .username = "u",
                                          .password = "p"});
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, R"({"errcode":0,"errmsg":"ok"})");
    const auto requests = sink.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0]["method"], "POST");
    EXPECT_EQ(requests[0]["path"], "/x?token=secret");
    EXPECT_EQ(requests[0]["body"], R"({"a":1})");
    EXPECT_EQ(requests[0]["headers"]["X-A"], "b");
    EXPECT_EQ(requests[0]["headers"]["Authorization"], "Basic " + base64_encode("u:p"));

    sink.set_status(503);
    EXPECT_EQ(http.send(HttpRequest{.method = "POST", .url = sink.url()})->status, 503);

    const int port = sink.port();
    sink.stop();
    auto refused =
        http.send(HttpRequest{.method = "POST", .url = "http://127.0.0.1:" + std::to_string(port) + "/h?token=s3cret"});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ExitCode::unavailable);
    EXPECT_EQ(refused.error().message.find("s3cret"), std::string::npos) << "secrets never in messages";
    EXPECT_NE(refused.error().message.find("token=***"), std::string::npos) << refused.error().message;

    auto bad = http.send(HttpRequest{.method = "POST", .url = "gopher://127.0.0.1/"});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ExitCode::config);
}

TEST(HttpClientLive, TimesOut) {
    // A listener that never answers: connect succeeds, the response never comes.
    nasops::testing::TempDir dir;
    nasops::testing::ChildProcess silent({"/usr/bin/python3", "-c",
                                          "import socket,time,sys\n"
                                          "s=socket.socket();s.bind(('127.0.0.1',0));s.listen(5)\n"
                                          "open(sys.argv[1],'w').write(str(s.getsockname()[1]))\n"
                                          "c=s.accept();time.sleep(60)\n",
                                          (dir / "port").string()});
    const int port = std::stoi(nasops::testing::wait_for_file(dir / "port"));
    CurlHttpClient http;
    auto response = http.send(HttpRequest{
        .method = "POST", .url = "http://127.0.0.1:" + std::to_string(port) + "/", .timeout = Duration(500)});
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, ExitCode::unavailable);
    EXPECT_NE(response.error().message.find("imed out"), std::string::npos) << response.error().message;
}

FAULT_TEST_F(AlertLive, WebhookDownThenBackDeliversExactlyOnce) {
    nasops::testing::FaultReport fault("webhook down, then back; then answering 500",
                                       "queued, then delivered exactly once each (firing, resolved)");
    nasops::testing::HttpSink sink(dir / "sink");
    config(webhook_config(sink.url()));
    const int port = sink.port();
    sink.stop();

    auto fired = evaluate(check("disk", "critical", 0.93));
    ASSERT_TRUE(fired.code) << fired.code.error().message;
    EXPECT_EQ(*fired.code, ExitCode::critical);
    auto queued = run(alert::Options{.action = alert::Action::ls, .undelivered = true});
    EXPECT_NE(queued.out.find("queued"), std::string::npos) << queued.out;

    sink.start();
    ASSERT_EQ(sink.port(), port);
    clock.advance(2min);  // past the first backoff
    evaluate(check("disk", "critical", 0.93));
    auto requests = sink.requests();
    ASSERT_EQ(requests.size(), 1u);
    const auto body = nlohmann::json::parse(requests[0]["body"].get<std::string>());
    EXPECT_EQ(body["version"], "4");
    EXPECT_EQ(body["alerts"][0]["labels"]["alertname"], "disk");
    EXPECT_EQ(requests[0]["headers"]["X-Source"], "edge-01");

    clock.advance(5min);
    evaluate(check("disk", "critical", 0.93));
    auto flushed = run(alert::Options{.action = alert::Action::flush});
    ASSERT_TRUE(flushed.code);
    EXPECT_EQ(sink.requests().size(), 1u) << "delivered once, never again";

    // 5xx: queued, then delivered by flush.
    sink.set_status(500);
    clock.advance(5min);
    evaluate(check("disk", "ok", 0.5));
    EXPECT_EQ(sink.requests().size(), 2u);
    sink.set_status(200);
    auto retried = run(alert::Options{.action = alert::Action::flush});
    ASSERT_TRUE(retried.code) << retried.code.error().message;
    requests = sink.requests();
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[1]["body"], requests[2]["body"]) << "the same resolved notification, re-sent";
    EXPECT_EQ(nlohmann::json::parse(requests[2]["body"].get<std::string>())["status"], "resolved");
    EXPECT_EQ(run(alert::Options{.action = alert::Action::ls, .undelivered = true}).out, "");
    count_webhook_deliveries(fault, requests, 2);
    fault.observed(
        fmt::format("{} requests, {} answered 200; nothing left undelivered", requests.size(),
                    std::count_if(requests.begin(), requests.end(), [](const auto& r) { return r["status"] == 200; })));
}

FAULT_TEST_F(AlertLive, AWebhookRetriedAfterALostAnswerCarriesTheSameKey) {
    nasops::testing::FaultReport fault("webhook drops the connection mid-POST",
                                       "retried with the same Idempotency-Key: at least once, duplicates droppable");
    // The receiver takes the POST and drops the connection without answering:
    // nasops-alert cannot know it arrived and sends it again on the retry.
    nasops::testing::HttpSink sink(dir / "sink");
    sink.set_statuses({"drop", "200"});
    config(webhook_config(sink.url()));

    evaluate(check("disk", "critical", 0.93));
    EXPECT_NE(run(alert::Options{.action = alert::Action::ls, .undelivered = true}).out.find("queued"),
              std::string::npos);
    auto flushed = run(alert::Options{.action = alert::Action::flush});
    ASSERT_TRUE(flushed.code) << flushed.code.error().message;
    EXPECT_EQ(run(alert::Options{.action = alert::Action::ls, .undelivered = true}).out, "");

    clock.advance(5min);
    evaluate(check("disk", "ok", 0.5));  // a second notification: resolved

    const auto requests = sink.requests();
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[0]["status"], "drop");
    EXPECT_EQ(requests[1]["status"], 200);
    const auto key = requests[0]["headers"]["Idempotency-Key"].get<std::string>();
    EXPECT_EQ(key.size(), 32u) << key;
    EXPECT_EQ(requests[1]["headers"]["Idempotency-Key"], key) << "the retry carries the key of the first attempt";
    for (int i : {0, 1}) {
        const auto body = nlohmann::json::parse(requests[i]["body"].get<std::string>());
        EXPECT_EQ(body["idempotencyKey"], key) << "request " << i;
        EXPECT_EQ(body["status"], "firing");
    }
    const auto resolved = nlohmann::json::parse(requests[2]["body"].get<std::string>());
    EXPECT_EQ(resolved["status"], "resolved");
    EXPECT_EQ(resolved["idempotencyKey"], requests[2]["headers"]["Idempotency-Key"]);
    EXPECT_NE(resolved["idempotencyKey"], key) << "another notification, another key";
    count_webhook_deliveries(fault, requests, 2);
    fault.observed(fmt::format("3 requests (drop, 200, 200); the retry carried key {}...; 2 distinct keys answered",
                               key.substr(0, 8)));
}

TEST_F(AlertLive, SlackAndDingTalkThroughTheSink) {
    nasops::testing::HttpSink sink(dir / "sink");
    config(
        "[alert]\ndefault_channels = [\"slack\", \"ding\"]\n"
        "[[alert.channel]]\nname = \"slack\"\ntype = \"slack\"\nurl = \"" +
        sink.url("/services/T0/B0/XXXXXXXXXXXXXXXXXXXXXXXX") +
        "\"\n"
        "[[alert.channel]]\nname = \"ding\"\ntype = \"dingtalk\"\nurl = \"" +
        sink.url("/robot/send?access_token=abc") + "\"\ntoken = \"SECsecret\"\nat_mobiles = [\"13800000000\"]\n");
    evaluate(check("disk", "critical", 0.93));
    const auto requests = sink.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[0]["path"], "/services/T0/B0/XXXXXXXXXXXXXXXXXXXXXXXX");
    EXPECT_TRUE(nlohmann::json::parse(requests[0]["body"].get<std::string>())["text"].get<std::string>().starts_with(
        "*[FIRING:1] disk"));
    const auto ding_path = requests[1]["path"].get<std::string>();
    EXPECT_TRUE(ding_path.starts_with("/robot/send?access_token=abc&timestamp=")) << ding_path;
    EXPECT_NE(ding_path.find("&sign="), std::string::npos);
    const auto ding = nlohmann::json::parse(requests[1]["body"].get<std::string>());
    EXPECT_EQ(ding["at"]["atMobiles"][0], "13800000000");
}

TEST_F(AlertLive, EmailThroughPlainStarttlsAndSmtps) {
    nasops::testing::make_certificate(dir / "tls");
    const auto cert = dir / "tls" / "cert.pem";
    const auto key = dir / "tls" / "key.pem";
    nasops::testing::SmtpSink plain(dir / "plain", nasops::testing::SmtpSink::Tls::none);
    nasops::testing::SmtpSink starttls(dir / "starttls", nasops::testing::SmtpSink::Tls::starttls, cert, key,
                                       "nasops:s3cret");
    nasops::testing::SmtpSink smtps(dir / "smtps", nasops::testing::SmtpSink::Tls::smtps, cert, key);
    const auto port = [](const auto& s) { return std::to_string(s.port()); };
    nasops::testing::write_file(dir / "smtp.pass", "s3cret\n");
    ::chmod((dir / "smtp.pass").c_str(), 0600);
    config(
        "[alert]\ndefault_channels = [\"plain\", \"starttls\", \"smtps\"]\n"
        "[[alert.channel]]\nname = \"plain\"\ntype = \"email\"\nsmtp_url = \"smtp://127.0.0.1:" +
        port(plain) +
        "\"\nstarttls = false\nfrom = \"nasops@example.com\"\nto = [\"ops@example.com\", \"oncall@example.com\"]\n"
        "subject = \"{{title}} ({{severity}})\"\n"
        "[[alert.channel]]\nname = \"starttls\"\ntype = \"email\"\nsmtp_url = \"smtp://127.0.0.1:" +
        port(starttls) +
        "\"\nfrom = \"nasops@example.com\"\nto = [\"ops@example.com\"]\nusername = \"nasops\"\n"
        "password_file = \"" +
        (dir / "smtp.pass").string() + "\"\nca_file = \"" + cert.string() +
        "\"\n"
        "[[alert.channel]]\nname = \"smtps\"\ntype = \"email\"\nsmtp_url = \"smtps://127.0.0.1:" +
        port(smtps) + "\"\nfrom = \"nasops@example.com\"\nto = [\"ops@example.com\"]\nca_file = \"" + cert.string() +
        "\"\n");
    auto fired = evaluate(check("disk", "critical", 0.93));
    ASSERT_TRUE(fired.code) << fired.code.error().message;
    EXPECT_EQ(run(alert::Options{.action = alert::Action::ls, .undelivered = true}).out, "");

    const auto plain_mail = plain.messages();
    ASSERT_EQ(plain_mail.size(), 1u);
    EXPECT_EQ(plain_mail[0]["mail_from"], "nasops@example.com");
    EXPECT_EQ(plain_mail[0]["rcpt_tos"], nlohmann::json::array({"ops@example.com", "oncall@example.com"}));
    const auto data = plain_mail[0]["data"].get<std::string>();
    EXPECT_NE(data.find("Subject: [FIRING:1] disk cam-01 (critical)"), std::string::npos) << data;
    EXPECT_NE(data.find("Message-ID: <"), std::string::npos);
    EXPECT_NE(data.find("Date: "), std::string::npos);
    EXPECT_NE(data.find("Content-Type: text/plain; charset=UTF-8"), std::string::npos);
    EXPECT_NE(data.find(base64_encode("nasops-alert on edge-01").substr(0, 20)), std::string::npos);

    const auto secure = starttls.messages();
    ASSERT_EQ(secure.size(), 1u);
    EXPECT_TRUE(secure[0]["tls"].get<bool>());
    EXPECT_TRUE(secure[0]["authenticated"].get<bool>());
    ASSERT_EQ(smtps.messages().size(), 1u);
    EXPECT_TRUE(smtps.messages()[0]["tls"].get<bool>());
}

TEST_F(AlertLive, StarttlsIsRequiredAndLoginChecked) {
    nasops::testing::SmtpSink plain(dir / "plain", nasops::testing::SmtpSink::Tls::none);
    nasops::testing::make_certificate(dir / "tls");
    nasops::testing::SmtpSink auth(dir / "auth", nasops::testing::SmtpSink::Tls::starttls, dir / "tls" / "cert.pem",
                                   dir / "tls" / "key.pem", "nasops:right");
    SmtpSettings settings{.url = "smtp://127.0.0.1:" + std::to_string(plain.port())};
    MailMessage message{.from = "a@example.com", .to = {"b@example.com"}, .subject = "s", .body = "b"};
    auto refused = mail.send(settings, message);
    ASSERT_FALSE(refused) << "a server without STARTTLS gets nothing";
    EXPECT_TRUE(plain.messages().empty());

    SmtpSettings wrong{.url = "smtp://127.0.0.1:" + std::to_string(auth.port()),
                       .username = "nasops",
                       .password = "wrong",
                       .ca_file = dir / "tls" / "cert.pem"};
    auto denied = mail.send(wrong, message);
    ASSERT_FALSE(denied);
    EXPECT_EQ(denied.error().code, ExitCode::data_error) << denied.error().message;
    EXPECT_EQ(denied.error().message.find("wrong"), std::string::npos);

    SmtpSettings untrusted{
        .url = "smtp://127.0.0.1:" + std::to_string(auth.port()), .username = "nasops", .password = "right"};
    EXPECT_FALSE(mail.send(untrusted, message)) << "the certificate is verified";
    EXPECT_TRUE(auth.messages().empty());
}

FAULT_TEST_F(AlertLive, SmtpServerDownThenBack) {
    nasops::testing::FaultReport fault("SMTP server down, then back", "queued, then one mail with its Message-ID");
    nasops::testing::SmtpSink sink(dir / "smtp", nasops::testing::SmtpSink::Tls::none);
    const int port = sink.port();
    config(
        "[alert]\ndefault_channels = [\"mail\"]\n[[alert.channel]]\nname = \"mail\"\ntype = \"email\"\n"
        "smtp_url = \"smtp://127.0.0.1:" +
        std::to_string(port) +
        "\"\nstarttls = false\n"
        "from = \"nasops@example.com\"\nto = [\"ops@example.com\"]\ntimeout = \"5s\"\n");
    sink.stop();
    evaluate(check("disk", "critical", 0.93));
    EXPECT_NE(run(alert::Options{.action = alert::Action::ls, .undelivered = true}).out.find("queued"),
              std::string::npos);
    sink.start();
    auto flushed = run(alert::Options{.action = alert::Action::flush});
    ASSERT_TRUE(flushed.code) << flushed.code.error().message;
    clock.advance(10min);
    evaluate(check("disk", "critical", 0.93));
    const auto messages = sink.messages();
    fault.notifications(messages.empty() ? 1 : 0, messages.empty() ? 0 : messages.size() - 1);
    fault.observed(fmt::format("{} mail received after the server came back", messages.size()));
    ASSERT_EQ(messages.size(), 1u) << "exactly one delivery";
    // The Message-ID is the delivery's key, the same had a retry re-sent it.
    const auto data = messages[0]["data"].get<std::string>();
    EXPECT_TRUE(std::regex_search(data, std::regex("Message-ID: <[0-9a-f]{32}@[^>]+>"))) << data;
}

FAULT_TEST_F(AlertLive, AlertmanagerReceivesAndResolves) {
    nasops::testing::FaultReport fault("Alertmanager down while an alert resolves, then back",
                                       "the resolution waits in the outbox and reaches Alertmanager once");
    nasops::testing::Alertmanager am(dir / "am");
    config(alertmanager_config(am.url()));
    auto fired = evaluate(check("disk", "critical", 0.93));
    ASSERT_TRUE(fired.code) << fired.code.error().message;
    EXPECT_EQ(run(alert::Options{.action = alert::Action::ls, .undelivered = true}).out, "");
    const auto alerts = am.alerts();
    ASSERT_EQ(alerts.size(), 1u) << alerts.dump();
    EXPECT_EQ(alerts[0]["labels"]["alertname"], "disk");
    EXPECT_EQ(alerts[0]["labels"]["instance"], "cam-01");
    EXPECT_EQ(alerts[0]["labels"]["severity"], "critical");
    EXPECT_EQ(alerts[0]["annotations"]["value"], "0.93");
    // No [alert] external_url: no link that no browser could open.
    EXPECT_EQ(alerts[0].value("generatorURL", ""), "") << alerts.dump();
    EXPECT_EQ(alerts[0]["status"]["state"], "active");

    // Alertmanager down: the resolution waits in the outbox and arrives once it is back.
    const int port = am.port();
    am.stop();
    clock.advance(1min);
    evaluate(check("disk", "ok", 0.4));
    am.start();
    ASSERT_EQ(am.port(), port);
    auto flushed = run(alert::Options{.action = alert::Action::flush});
    ASSERT_TRUE(flushed.code) << flushed.code.error().message;
    EXPECT_EQ(run(alert::Options{.action = alert::Action::ls, .undelivered = true}).out, "");
    // The restarted Alertmanager holds only what reached it after the restart:
    // the resolution, its endsAt the resolve time (on this test's clock, which
    // runs a minute ahead of the real one).
    const auto received = am.alerts_received("firing") + am.alerts_received("resolved");
    EXPECT_EQ(received, 1);
    fault.notifications(received < 1 ? 1 : 0, received > 1 ? static_cast<std::size_t>(received - 1) : 0);
    fault.observed(
        fmt::format("after the restart Alertmanager received {} alert, ending at the resolve time", received));
    const auto after = am.alerts();
    bool found = false;
    for (const auto& a : after) {
        if (a["labels"]["alertname"] != "disk") continue;
        found = true;
        const auto ends = parse_rfc3339(a["endsAt"].get<std::string>());
        ASSERT_TRUE(ends) << a.dump();
        EXPECT_LE(*ends, std::chrono::system_clock::now() + 1min) << a.dump();
    }
    EXPECT_TRUE(found) << after.dump();
}

// Alertmanager drops an alert once its endsAt passes, so a client run from
// cron re-sends what fires on every run (endsAt moving forward each time), and
// what resolved for resolve_timeout (endsAt in the past), then never again.
TEST_F(AlertLive, AlertmanagerGetsFiringAlertsEveryRunAndResolvedOnesForResolveTimeout) {
    nasops::testing::Alertmanager am(dir / "am");
    config(alertmanager_config(am.url()));
    // The runs happen in the last minutes of Alertmanager's own clock, so that
    // the time an alert resolved is in the past for it, as in production.
    clock.set(std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) - 8min);
    auto ends_at = [&] {
        const auto alerts = am.alerts();
        EXPECT_EQ(alerts.size(), 1u) << alerts.dump();
        return alerts.empty() ? SystemTimePoint{} : parse_rfc3339(alerts[0]["endsAt"].get<std::string>()).value();
    };

    auto first = evaluate(check("disk", "critical", 0.93));
    ASSERT_TRUE(first.code) << first.code.error().message;
    const auto first_end = ends_at();
    EXPECT_GT(first_end, std::chrono::system_clock::now());
    EXPECT_EQ(am.alerts_received("firing"), 1);

    clock.advance(1min);
    ASSERT_TRUE(evaluate(check("disk", "critical", 0.95)).code);
    EXPECT_EQ(ends_at() - first_end, 1min) << "re-sent with endsAt a run later";
    EXPECT_EQ(am.alerts_received("firing"), 2);

    clock.advance(1min);
    const auto resolved_at = clock.now();
    ASSERT_TRUE(evaluate(check("disk", "ok", 0.4)).code);
    EXPECT_EQ(am.alerts_received("resolved"), 1);
    EXPECT_TRUE(am.alerts().empty()) << "endsAt is in the past: Alertmanager resolved it: " << am.alerts().dump();

    // resolve_timeout is 5m: re-sent up to then, then no more.
    const std::pair<std::chrono::minutes, long> later_runs[] = {{2min, 2}, {4min, 3}, {5min, 4}, {6min, 4}, {9min, 4}};
    for (const auto& [after, received] : later_runs) {
        clock.set(resolved_at + after);
        auto later = evaluate(check("disk", "ok", 0.4));
        ASSERT_TRUE(later.code) << later.code.error().message;
        EXPECT_EQ(am.alerts_received("resolved"), received) << after.count() << " min after it resolved";
    }
    EXPECT_EQ(am.alerts_received("firing"), 2);
    EXPECT_TRUE(am.alerts().empty()) << am.alerts().dump();
    EXPECT_EQ(run(alert::Options{.action = alert::Action::ls, .undelivered = true}).out, "");
}

// An https webhook trusts the CA of its ca_file setting, and only it.
TEST_F(AlertLive, HttpsWebhookTrustsItsCaFile) {
    nasops::testing::make_certificate(dir / "tls");
    nasops::testing::HttpSink sink(dir / "sink", 0, dir / "tls" / "cert.pem", dir / "tls" / "key.pem");
    ASSERT_TRUE(sink.url().starts_with("https://"));
    config(webhook_config(sink.url()) + "ca_file = \"" + (dir / "tls" / "cert.pem").string() + "\"\n");

    auto fired = evaluate(check("disk", "critical", 0.93));
    ASSERT_TRUE(fired.code) << fired.code.error().message;
    EXPECT_EQ(run(alert::Options{.action = alert::Action::ls, .undelivered = true}).out, "");
    const auto requests = sink.requests();
    ASSERT_EQ(requests.size(), 1u);
    const auto body = nlohmann::json::parse(requests[0]["body"].get<std::string>());
    EXPECT_EQ(body["alerts"][0]["labels"]["alertname"], "disk");
}

TEST_F(AlertLive, HttpsWebhookWithAnUntrustedCertificateStaysInTheOutbox) {
    nasops::testing::make_certificate(dir / "tls");
    nasops::testing::make_certificate(dir / "other");
    nasops::testing::HttpSink sink(dir / "sink", 0, dir / "tls" / "cert.pem", dir / "tls" / "key.pem");
    // Trusts another CA than the one that signed the sink's certificate.
    config(webhook_config(sink.url()) + "ca_file = \"" + (dir / "other" / "cert.pem").string() + "\"\n");

    auto fired = evaluate(check("disk", "critical", 0.93));
    ASSERT_TRUE(fired.code) << fired.code.error().message;
    EXPECT_TRUE(sink.requests().empty());
    const auto queued = nasops::testing::parse_records(
        run(alert::Options{.action = alert::Action::ls, .format = OutputFormat::json, .undelivered = true}).out);
    ASSERT_EQ(queued.size(), 1u);
    const auto& details = queued[0]["details"];
    EXPECT_EQ(details["channel"], "hook");
    EXPECT_EQ(details["state"], "queued") << "a certificate problem is retried, not dropped";
    const auto error = details["last_error"].get<std::string>();
    EXPECT_NE(error.find("certificate"), std::string::npos) << error;
}

TEST_F(AlertLive, ExecRunsTheCommandWithTheAlert) {
    const auto script = dir / "action.sh";
    nasops::testing::write_file(
        script,
        "#!/bin/sh\ncat > \"$0.stdin\"\necho \"$NASOPS_ALERT_NAME $NASOPS_ALERT_SEVERITY "
        "$NASOPS_ALERT_VALUE $NASOPS_ALERT_LABEL_TARGET\" > \"$0.env\"\necho cleaned 42 files\n");
    ::chmod(script.c_str(), 0755);
    const auto slow = dir / "slow.sh";
    nasops::testing::write_file(slow, "#!/bin/sh\nsleep 30\n");
    ::chmod(slow.c_str(), 0755);
    config("[alert]\n[[alert.channel]]\nname = \"cleanup\"\ntype = \"exec\"\ncommand = [\"" + script.string() +
           "\"]\n[[alert.channel]]\nname = \"slow\"\ntype = \"exec\"\ncommand = [\"" + slow.string() +
           "\"]\ntimeout = \"1s\"\n"
           "[[alert.rule]]\nname = \"disk_full\"\nmatch = { name = \"disk\" }\nexpr = \"value > 90%\"\n"
           "severity = \"critical\"\nchannels = [\"cleanup\", \"slow\"]\n");
    evaluate(check("disk", "critical", 0.93));
    EXPECT_EQ(nasops::testing::read_file(dir / "action.sh.env"), "disk_full critical 0.93 /srv\n");
    const auto input = nlohmann::json::parse(nasops::testing::read_file(dir / "action.sh.stdin"));
    EXPECT_EQ(input["labels"]["alertname"], "disk_full");
    EXPECT_EQ(input["channel"], "cleanup");
    auto history = run(alert::Options{.action = alert::Action::history});
    EXPECT_NE(history.out.find("delivered        disk_full -> cleanup"), std::string::npos) << history.out;
    EXPECT_NE(history.out.find("exit 0: cleaned 42 files"), std::string::npos) << history.out;
    EXPECT_NE(history.out.find("timed out after 1s"), std::string::npos) << history.out;
}

TEST(AlertCli, PipeWithMalformedLinesAndStrict) {
    nasops::testing::TempDir dir;
    nasops::testing::write_file(dir / "nasops.toml", "[paths]\nstate_dir = \"" + (dir / "state").string() +
                                                         "\"\nlog_dir = \"" + (dir / "log").string() + "\"\n");
    const std::string tool = std::string(NASOPS_TOOLS_DIR) + "/nasops-alert";
    const std::string good =
        R"({"v":1,"ts":"2026-11-22T04:00:00Z","tool":"health","host":"cam-01","kind":"check","name":"disk","status":"warning","value":0.85})";
    const auto input = good + "\n{broken\n";
    auto lenient = nasops::testing::run_command({tool, "--config", (dir / "nasops.toml").string(), "--json"}, input);
    EXPECT_EQ(lenient.exit_code, 1) << lenient.err;
    EXPECT_NE(lenient.err.find("stdin: line 2: malformed JSON"), std::string::npos) << lenient.err;
    const auto record = nlohmann::json::parse(lenient.out);
    EXPECT_EQ(record["kind"], "alert");
    EXPECT_EQ(record["state"], "firing");

    auto strict = nasops::testing::run_command({tool, "--config", (dir / "nasops.toml").string(), "--strict"}, input);
    EXPECT_EQ(strict.exit_code, 65) << strict.err;
    EXPECT_NE(strict.err.find("line 2"), std::string::npos);
    EXPECT_EQ(strict.out, "");

    auto ls = nasops::testing::run_command({tool, "ls", "--config", (dir / "nasops.toml").string()});
    EXPECT_EQ(ls.exit_code, 1);
    EXPECT_NE(ls.out.find("firing     disk"), std::string::npos) << ls.out;

    nasops::testing::write_file(dir / "bad.toml", "[alert]\n[[alert.rule]]\nname = \"x\"\nexpr = \"value >\"\n");
    auto bad = nasops::testing::run_command({tool, "--config", (dir / "bad.toml").string()}, "");
    EXPECT_EQ(bad.exit_code, 78);
    EXPECT_NE(bad.err.find("bad.toml:4:16: alert.rule[0].expr: expected a number"), std::string::npos) << bad.err;
}

// The handbook's audit trail has every delivery that failed for good: an
// operator reading audit.log sees which channel, which notification and why.
TEST(AlertCli, ADeliveryRefusedForGoodIsInTheAuditLogWithItsChannelAndError) {
    nasops::testing::TempDir dir;
    nasops::testing::HttpSink sink(dir / "sink");
    sink.set_status(400);  // a client error: not retried
    nasops::testing::write_file(dir / "nasops.toml",
                                nasops::testing::paths_config(dir.path()) + "\n" + webhook_config(sink.url()));
    const std::string tool = std::string(NASOPS_TOOLS_DIR) + "/nasops-alert";
    const std::string record =
        R"({"v":1,"ts":"2026-11-22T04:00:00Z","tool":"health","host":"cam-01","kind":"check","name":"disk","status":"critical","value":0.95})";
    auto r = nasops::testing::run_command({tool, "--config", (dir / "nasops.toml").string()}, record + "\n");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(sink.requests().size(), 1u);
    std::optional<nlohmann::json> failed;
    std::istringstream lines(nasops::testing::read_file(dir / "log" / "audit.log"));
    for (std::string line; std::getline(lines, line);) {
        auto event = nlohmann::json::parse(line);
        if (event["event"] == "NOTIFICATION_FAILED") failed = event;
    }
    ASSERT_TRUE(failed.has_value()) << nasops::testing::read_file(dir / "log" / "audit.log");
    EXPECT_EQ((*failed)["channel"], "hook");
    EXPECT_EQ((*failed)["attempts"], 1);
    EXPECT_TRUE((*failed)["error"].get<std::string>().contains("HTTP 400")) << *failed;
}

// Secrets at mode 0644: a Slack URL (its path is the secret) in the config,
// a password_file for mail. Refused as ssh refuses a key, with the chmod to run.
FAULT_TEST(AlertCli, SecretsReadableByOthersAreRefusedWithTheFixToRun) {
    nasops::testing::FaultReport fault("secrets readable by others (Slack URL in a 0644 config, 0644 password_file)",
                                       "exit 78 naming the file and 'run chmod 600'; accepted once it is done");
    nasops::testing::TempDir dir;
    const auto config = dir / "nasops.toml";
    const auto password = dir / "smtp.password";
    nasops::testing::write_file(password, "hunter2\n");
    nasops::testing::write_file(
        config, nasops::testing::paths_config(dir.path()) +
                    "[alert]\ndefault_channels = [\"slack\"]\n"
                    "[[alert.channel]]\nname = \"slack\"\ntype = \"slack\"\n"
                    "url = \"https://hooks.slack.com/services/T0/B0/XXXXXXXXXXXXXXXXXXXXXXXX\"\n"
                    "[[alert.channel]]\nname = \"mail\"\ntype = \"email\"\nsmtp_url = \"smtp://127.0.0.1:25\"\n"
                    "from = \"nasops@example.com\"\nto = [\"ops@example.com\"]\nusername = \"nasops\"\n"
                    "password_file = \"" +
                    password.string() + "\"\n");
    const auto alert = [&] { return nasops::testing::run_tool("alert", {"--config", config.string(), "ls"}); };
    std::vector<std::string> seen;

    ::chmod(config.c_str(), 0644);
    ::chmod(password.c_str(), 0600);
    auto r = alert();
    EXPECT_EQ(r.exit_code, 78) << r.err;
    EXPECT_NE(r.err.find("run chmod 600 " + config.string()), std::string::npos) << r.err;
    seen.push_back(fmt::format("config 0644: exit {}", r.exit_code));

    ::chmod(config.c_str(), 0600);
    ::chmod(password.c_str(), 0644);
    r = alert();
    EXPECT_EQ(r.exit_code, 78) << r.err;
    EXPECT_NE(r.err.find("run chmod 600 " + password.string()), std::string::npos) << r.err;
    seen.push_back(fmt::format("password_file 0644: exit {}", r.exit_code));

    ::chmod(password.c_str(), 0600);
    r = alert();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    seen.push_back(fmt::format("both 0600: exit {}", r.exit_code));
    fault.observed(fmt::format("{}; {}; {}", seen.at(0), seen.at(1), seen.at(2)));
}

// Records a tool cannot read are skipped with their line number and the rest
// taken; a line longer than 1 MiB is dropped as it streams in, never held whole.
FAULT_TEST(AlertCli, MalformedAndOverLongLinesAreSkippedAndTheRestTaken) {
    nasops::testing::FaultReport fault("malformed NDJSON and a 50 MB line into nasops-alert",
                                       "each bad line named by number and skipped; the good records after them taken");
    nasops::testing::TempDir dir;
    nasops::testing::write_file(dir / "nasops.toml", nasops::testing::paths_config(dir.path()));
    const std::string good =
        R"({"v":1,"ts":"2026-11-22T04:00:00Z","tool":"health","host":"cam-01","kind":"check","name":"disk","status":"critical","value":0.95})";
    std::string input = "{broken\n";
    input += "{\"v\":1,\"pad\":\"" + std::string(50u * 1000 * 1000, 'x') + "\"}\n";
    input += "\x01\x02 not json at all\n" + good + "\n";
    auto r = nasops::testing::run_tool("alert", {"--config", (dir / "nasops.toml").string(), "--json"}, {}, input);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("stdin: line 1: malformed JSON"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("line 2: longer than 1 MiB, skipped"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("stdin: line 3: malformed JSON"), std::string::npos) << r.err;
    const auto records = nasops::testing::parse_records(r.out);
    ASSERT_EQ(records.size(), 1u) << r.out;
    EXPECT_EQ(records[0]["state"], "firing");
    fault.notifications(records.empty() ? 1 : 0, records.size() > 1 ? records.size() - 1 : 0);
    fault.observed(fmt::format("exit {}; {} alert record from the one good line; 3 lines named on stderr", r.exit_code,
                               records.size()));
}
