// nasops-alert's actions through alert::run(), with a manual clock and fake
// HTTP, mail and command runners: rules, `for` across runs, grouping,
// inhibition, silences, the outbox and bad input.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "alert/run.hpp"
#include "fixtures/alert_harness.hpp"
#include "fixtures/test_data.hpp"

using namespace nasops;
using namespace std::chrono_literals;

namespace {

class FakeHttp final : public HttpClient {
public:
    Result<HttpResponse> send(const HttpRequest& request) override {
        requests.push_back(request);
        if (!script.empty()) {
            auto next = script.front();
            if (script.size() > 1 || !sticky) script.pop_front();
            return next;
        }
        return HttpResponse{200, "ok", {}};
    }
    // Requests to the URLs containing `part`.
    std::vector<nlohmann::json> bodies(std::string_view part = "") const {
        std::vector<nlohmann::json> out;
        for (const auto& r : requests) {
            if (r.url.find(part) != std::string::npos) out.push_back(nlohmann::json::parse(r.body));
        }
        return out;
    }
    std::vector<HttpRequest> requests;
    std::deque<Result<HttpResponse>> script;  // answers in order; then 200
    bool sticky = false;                      // keep answering the last scripted answer
};

Result<HttpResponse> refused() {
    return fail(ExitCode::unavailable, "POST http://127.0.0.1:9/hook: Failed to connect: Connection refused");
}

class FakeMail final : public MailSender {
public:
    Result<void> send(const SmtpSettings& settings, const MailMessage& message) override {
        sent.push_back({settings, message});
        return {};
    }
    std::vector<std::pair<SmtpSettings, MailMessage>> sent;
};

class FakeCommands final : public CommandRunner {
public:
    Result<CommandOutcome> run(const std::vector<std::string>& argv, const EnvVars& env, std::string_view input,
                               Duration) override {
        calls.push_back({argv, env, std::string(input)});
        return CommandOutcome{exit_code, false, "restarted nasops-sync\n"};
    }
    struct Call {
        std::vector<std::string> argv;
        EnvVars env;
        std::string input;
    };
    std::vector<Call> calls;
    int exit_code = 0;
};

// The fixture with fake runners, at a fixed time.
class AlertRun : public nasops::testing::AlertHarness {
protected:
    AlertRun() : AlertHarness(*parse_rfc3339("2026-11-22T04:00:00Z"), http, mail, commands) {}

    FakeHttp http;
    FakeMail mail;
    FakeCommands commands;
};

// One [[alert.rule]] table matching `match` (a TOML inline table), then the `more` lines.
std::string rule(std::string_view name, std::string_view match, std::string_view expr, std::string_view severity,
                 std::string_view more = "") {
    return fmt::format("\n[[alert.rule]]\nname = \"{}\"\nmatch = {}\nexpr = \"{}\"\nseverity = \"{}\"\n{}", name, match,
                       expr, severity, more);
}

constexpr std::string_view k_disk = R"({ kind = "check", name = "disk" })";

std::string metric_named(std::string_view name) {
    return fmt::format(R"({{ kind = "metric", name = "{}" }})", name);
}

// An [alert] section (its own keys in `alert_keys`) whose one channel,
// `name`, is the default; `keys` holds the channel's lines after its type.
std::string one_channel(std::string_view name, std::string_view type, std::string_view keys,
                        std::string_view alert_keys = "") {
    return fmt::format(
        "[alert]\ndefault_channels = [\"{0}\"]\n{3}\n[[alert.channel]]\nname = \"{0}\"\ntype = \"{1}\"\n{2}", name,
        type, keys, alert_keys);
}

const std::string k_hook_url = "url = \"http://127.0.0.1:9/hook\"\n";
const std::string k_webhook = one_channel("hook", "webhook", k_hook_url + "headers = { X-Source = \"edge\" }\n");

}  // namespace

TEST_F(AlertRun, WithoutRulesCheckRecordsFireAndResolve) {
    config(k_webhook);
    auto first = evaluate(check("disk", "critical", 0.96) + check("memory", "ok", 0.3) + check("load", "unknown", 0));
    ASSERT_TRUE(first.code) << first.code.error().message;
    EXPECT_EQ(*first.code, ExitCode::critical);
    EXPECT_NE(first.out.find("FIRING   disk [critical]"), std::string::npos) << first.out;
    EXPECT_EQ(first.out.find("memory"), std::string::npos);
    EXPECT_EQ(first.out.find("load"), std::string::npos) << "unknown is not an alert";
    ASSERT_EQ(http.requests.size(), 1u);
    const auto body = nlohmann::json::parse(http.requests[0].body);
    EXPECT_EQ(body["version"], "4");
    EXPECT_EQ(body["status"], "firing");
    EXPECT_EQ(body["receiver"], "hook");
    EXPECT_EQ(body["alerts"][0]["labels"]["alertname"], "disk");
    EXPECT_EQ(body["alerts"][0]["labels"]["instance"], "cam-01");
    EXPECT_EQ(body["alerts"][0]["labels"]["severity"], "critical");
    EXPECT_EQ(body["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
    EXPECT_EQ(body["alerts"][0]["generatorURL"], "") << "no [alert] external_url: no link";
    bool has_header = false;
    for (const auto& h : http.requests[0].headers)
        has_header = has_header || (h.name == "X-Source" && h.value == "edge");
    EXPECT_TRUE(has_header);

    clock.advance(5min);
    auto second = evaluate(check("disk", "ok", 0.5));
    ASSERT_TRUE(second.code);
    EXPECT_EQ(*second.code, ExitCode::ok);
    EXPECT_NE(second.out.find("RESOLVED disk"), std::string::npos) << second.out;
    ASSERT_EQ(http.requests.size(), 2u);
    const auto resolved = nlohmann::json::parse(http.requests[1].body);
    EXPECT_EQ(resolved["status"], "resolved");
    EXPECT_EQ(resolved["alerts"][0]["status"], "resolved");
    EXPECT_DOUBLE_EQ(resolved["alerts"][0]["value"].get<double>(), 0.96) << "the last firing value";
    EXPECT_EQ(resolved["alerts"][0]["endsAt"], "2026-11-22T04:05:00.000Z");

    clock.advance(5min);
    auto quiet = evaluate(check("disk", "ok", 0.5));
    EXPECT_EQ(quiet.out, "");
    EXPECT_EQ(http.requests.size(), 2u) << "a resolved alert is notified once";
}

TEST_F(AlertRun, ForIsJudgedAcrossRuns) {
    config(k_webhook + rule("transfer_failure_rate", metric_named("transfer_failure_ratio"), "value > 10%", "critical",
                            "for = \"5m\"\nsummary = \"{{value | percent}} of transfers failed on {{instance}}\"\n"));
    auto first = evaluate(metric("transfer_failure_ratio", 0.2));
    ASSERT_TRUE(first.code) << first.code.error().message;
    EXPECT_EQ(*first.code, ExitCode::ok) << "pending is not firing";
    EXPECT_EQ(first.out, "");
    EXPECT_TRUE(http.requests.empty()) << "a pending alert never notifies";
    auto ls = action(alert::Action::ls);
    EXPECT_NE(ls.out.find("pending"), std::string::npos) << ls.out;

    clock.advance(3min);
    evaluate(metric("transfer_failure_ratio", 0.3));
    EXPECT_TRUE(http.requests.empty());

    clock.advance(2min);
    auto fired = evaluate(metric("transfer_failure_ratio", 0.25));
    EXPECT_EQ(*fired.code, ExitCode::critical);
    EXPECT_NE(fired.out.find("FIRING   transfer_failure_rate"), std::string::npos) << fired.out;
    ASSERT_EQ(http.requests.size(), 1u);
    const auto body = nlohmann::json::parse(http.requests[0].body);
    EXPECT_EQ(body["alerts"][0]["annotations"]["summary"], "25.0% of transfers failed on cam-01");
    EXPECT_EQ(body["alerts"][0]["startsAt"], "2026-11-22T04:05:00.000Z");
}

TEST_F(AlertRun, PendingNeedsConfirmationAndDropsSilently) {
    config(k_webhook +
           rule("ssh_success_low", metric_named("ssh_success_ratio"), "value < 80%", "warning", "for = \"3m\"\n"));
    evaluate(metric("ssh_success_ratio", 0.5));
    clock.advance(4min);
    auto unconfirmed = evaluate(metric("other_metric", 1));
    EXPECT_EQ(unconfirmed.out, "") << "no record of the run confirmed the condition";
    clock.advance(1min);
    auto cleared = evaluate(metric("ssh_success_ratio", 0.95));
    EXPECT_EQ(cleared.out, "");
    clock.advance(5min);
    auto again = evaluate(metric("ssh_success_ratio", 0.5));
    EXPECT_EQ(again.out, "") << "pending starts over after the condition cleared";
    EXPECT_TRUE(http.requests.empty());
    auto history = action(alert::Action::history);
    EXPECT_EQ(history.out, "");
}

TEST_F(AlertRun, KeepFiringForHoldsAnAlertAfterItClears) {
    config(k_webhook + rule("daemon_restarting", metric_named("sync_uptime_seconds"), "value < 60", "critical",
                            "keep_firing_for = \"10m\"\n"));
    auto fired = evaluate(metric("sync_uptime_seconds", 5));
    EXPECT_NE(fired.out.find("FIRING"), std::string::npos);
    clock.advance(5min);
    auto held = evaluate(metric("sync_uptime_seconds", 300));
    EXPECT_EQ(held.out, "") << "still firing within keep_firing_for";
    EXPECT_EQ(*held.code, ExitCode::critical);
    clock.advance(5min);
    auto resolved = evaluate(metric("sync_uptime_seconds", 600));
    EXPECT_NE(resolved.out.find("RESOLVED daemon_restarting"), std::string::npos) << resolved.out;
    const auto last = nlohmann::json::parse(http.requests.back().body);
    EXPECT_EQ(last["alerts"][0]["value"], 5) << "resolved notifications carry the last firing value";
}

TEST_F(AlertRun, RepeatIntervalSuppressesUntilItPasses) {
    config(k_webhook);
    evaluate(check("disk", "warning", 0.85));
    clock.advance(1h);
    evaluate(check("disk", "warning", 0.86));
    EXPECT_EQ(http.requests.size(), 1u);
    clock.advance(3h);
    evaluate(check("disk", "warning", 0.87));
    ASSERT_EQ(http.requests.size(), 2u) << "repeated after 4h";
    const auto repeat = nlohmann::json::parse(http.requests[1].body);
    EXPECT_EQ(repeat["alerts"][0]["value"], 0.87);
}

TEST_F(AlertRun, SeverityChangeIsNotifiedAtOnce) {
    config(k_webhook);
    evaluate(check("disk", "warning", 0.85));
    clock.advance(5min);
    auto escalated = evaluate(check("disk", "critical", 0.97));
    EXPECT_EQ(*escalated.code, ExitCode::critical);
    ASSERT_EQ(http.requests.size(), 2u);
    EXPECT_EQ(nlohmann::json::parse(http.requests[1].body)["alerts"][0]["labels"]["severity"], "critical");
}

TEST_F(AlertRun, GroupingSendsOneNotificationPerGroup) {
    config(one_channel("hook", "webhook", k_hook_url, "group_by = [\"alertname\"]\n"));
    evaluate(check("disk", "warning", 0.85, "cam-01") + check("disk", "critical", 0.96, "cam-02") +
             check("memory", "warning", 0.9, "cam-01"));
    ASSERT_EQ(http.requests.size(), 2u) << "disk and memory";
    const auto disk = nlohmann::json::parse(http.requests[0].body);
    EXPECT_EQ(disk["groupLabels"], (nlohmann::json{{"alertname", "disk"}}));
    EXPECT_EQ(disk["alerts"].size(), 2u);
    EXPECT_EQ(disk["commonLabels"]["alertname"], "disk");
    EXPECT_FALSE(disk["commonLabels"].contains("instance"));

    // A new alert in the group re-sends the group, the others as context.
    clock.advance(1min);
    evaluate(check("disk", "warning", 0.85, "cam-03"));
    ASSERT_EQ(http.requests.size(), 3u);
    EXPECT_EQ(nlohmann::json::parse(http.requests[2].body)["alerts"].size(), 3u);
}

TEST_F(AlertRun, CriticalInhibitsWarningOfTheSameAlertAndInstance) {
    config(k_webhook + rule("disk_space", k_disk, "value > 80%", "warning") +
           rule("disk_space", k_disk, "value > 90%", "critical"));
    auto dup = evaluate(check("disk", "critical", 0.95));
    ASSERT_FALSE(dup.code) << "two rules of one name";
    EXPECT_EQ(dup.code.error().code, ExitCode::config);

    // Rule labels cannot rename an alert (alertname is always the rule's): two
    // rules inhibit each other through a label of their own.
    const std::string storage = "labels = { area = \"storage\" }\n";
    config(k_webhook + rule("disk_warn", k_disk, "value > 80%", "warning", storage) +
           rule("disk_crit", k_disk, "value > 90%", "critical", storage) + R"(
[[alert.inhibit]]
source_match = { severity = "critical" }
target_match = { severity = "warning" }
equal = ["area", "instance"]
)");
    auto run = evaluate(check("disk", "critical", 0.95) + check("disk", "critical", 0.95, "cam-02", "/data"));
    ASSERT_TRUE(run.code) << run.code.error().message;
    std::vector<std::string> names;
    for (const auto& body : http.bodies()) {
        for (const auto& a : body["alerts"]) names.push_back(a["labels"]["alertname"].get<std::string>());
    }
    EXPECT_EQ(std::count(names.begin(), names.end(), "disk_crit"), 2);
    EXPECT_EQ(std::count(names.begin(), names.end(), "disk_warn"), 0) << "inhibited";
    auto ls = action(alert::Action::ls);
    EXPECT_NE(ls.out.find("inhibited  disk_warn"), std::string::npos) << ls.out;
    EXPECT_NE(ls.out.find("firing     disk_crit"), std::string::npos) << ls.out;
}

TEST_F(AlertRun, DefaultInhibitionUsesAlertnameAndInstance) {
    config(k_webhook + rule("storage", k_disk, "value > 80%", "warning", "labels = { tier = \"a\" }\n") +
           rule("storage_pool", k_disk, "value > 90%", "critical"));
    // Different alertnames: nothing is inhibited.
    evaluate(check("disk", "critical", 0.95));
    std::size_t alerts = 0;
    for (const auto& body : http.bodies()) alerts += body["alerts"].size();
    EXPECT_EQ(alerts, 2u);
}

TEST_F(AlertRun, SilencesMuteUntilTheyExpire) {
    config(k_webhook);
    auto added = run(alert::Options{.action = alert::Action::silence_add,
                                    .matchers = {"alertname=~disk.*"},
                                    .silence_for = "2h",
                                    .comment = "replacing the disk"});
    ASSERT_TRUE(added.code) << added.code.error().message;
    const auto id = added.out.substr(0, added.out.find('\n'));
    EXPECT_EQ(id.size(), 36u) << added.out;

    auto listed = action(alert::Action::silence_ls);
    EXPECT_NE(listed.out.find(id), std::string::npos);
    EXPECT_NE(listed.out.find("alertname=~disk.*"), std::string::npos);
    EXPECT_NE(listed.out.find("replacing the disk"), std::string::npos);
    EXPECT_NE(listed.out.find("tester"), std::string::npos);

    auto fired = evaluate(check("disk", "critical", 0.96) + check("memory", "warning", 0.9));
    EXPECT_NE(fired.out.find("FIRING   disk"), std::string::npos) << "silenced alerts still fire";
    ASSERT_EQ(http.requests.size(), 1u) << "only memory is notified";
    EXPECT_EQ(nlohmann::json::parse(http.requests[0].body)["alerts"][0]["labels"]["alertname"], "memory");
    auto ls = action(alert::Action::ls);
    EXPECT_NE(ls.out.find("silenced   disk"), std::string::npos) << ls.out;

    clock.advance(2h + 1min);
    auto expired = action(alert::Action::silence_ls);
    EXPECT_EQ(expired.out, "") << "silences expire by themselves";
    evaluate(check("disk", "critical", 0.97) + check("memory", "warning", 0.9));
    ASSERT_EQ(http.requests.size(), 2u);
    EXPECT_EQ(nlohmann::json::parse(http.requests[1].body)["alerts"][0]["labels"]["alertname"], "disk");
}

TEST_F(AlertRun, SilenceRemoveAndBadSilences) {
    config(k_webhook);
    auto added = run(alert::Options{.action = alert::Action::silence_add, .matchers = {"instance=cam-01"}});
    ASSERT_TRUE(added.code);
    const auto id = added.out.substr(0, 8);
    auto removed = run(alert::Options{.action = alert::Action::silence_rm, .silence_id = id});
    ASSERT_TRUE(removed.code) << removed.code.error().message;
    EXPECT_EQ(action(alert::Action::silence_ls).out, "");
    auto again = run(alert::Options{.action = alert::Action::silence_rm, .silence_id = id});
    ASSERT_FALSE(again.code);
    EXPECT_EQ(again.code.error().code, ExitCode::usage);
    auto bad = run(alert::Options{.action = alert::Action::silence_add, .matchers = {"alertname"}});
    ASSERT_FALSE(bad.code);
    EXPECT_EQ(bad.code.error().code, ExitCode::usage);
    auto none = run(alert::Options{.action = alert::Action::silence_add});
    ASSERT_FALSE(none.code);
    auto zero = run(alert::Options{.action = alert::Action::silence_add, .matchers = {"a=b"}, .silence_for = "0s"});
    ASSERT_FALSE(zero.code);
}

TEST_F(AlertRun, FailedDeliveryStaysQueuedAndIsRetriedWithBackoff) {
    config(k_webhook);
    http.script = {refused()};
    auto first = evaluate(check("disk", "critical", 0.96));
    ASSERT_TRUE(first.code);
    EXPECT_EQ(http.requests.size(), 1u);
    auto undelivered = run(alert::Options{.action = alert::Action::ls, .undelivered = true});
    EXPECT_NE(undelivered.out.find("queued"), std::string::npos) << undelivered.out;
    EXPECT_NE(undelivered.out.find("Connection refused"), std::string::npos) << undelivered.out;

    clock.advance(30s);
    evaluate("");
    EXPECT_EQ(http.requests.size(), 1u) << "backoff: not yet";
    clock.advance(31s);
    evaluate("");
    EXPECT_EQ(http.requests.size(), 2u) << "retried after the backoff";
    EXPECT_EQ(http.requests[0].body, http.requests[1].body) << "the same notification";
    clock.advance(10min);
    evaluate("");
    EXPECT_EQ(http.requests.size(), 2u) << "delivered once, never again";
    EXPECT_EQ(run(alert::Options{.action = alert::Action::ls, .undelivered = true}).out, "");
    auto history = action(alert::Action::history);
    EXPECT_NE(history.out.find("delivery_failed"), std::string::npos) << history.out;
    EXPECT_NE(history.out.find("delivered"), std::string::npos) << history.out;
}

TEST_F(AlertRun, RetryNeverResendsToAChannelThatAccepted) {
    config(R"(
[alert]
default_channels = ["a", "b"]
[[alert.channel]]
name = "a"
type = "webhook"
url = "http://127.0.0.1:9/a"
[[alert.channel]]
name = "b"
type = "webhook"
url = "http://127.0.0.1:9/b"
)");
    http.script = {HttpResponse{200, "ok", {}}, HttpResponse{503, "busy", {}}};
    evaluate(check("disk", "critical", 0.96));
    EXPECT_EQ(http.bodies("/a").size(), 1u);
    EXPECT_EQ(http.bodies("/b").size(), 1u);
    auto flushed = action(alert::Action::flush);
    ASSERT_TRUE(flushed.code) << flushed.code.error().message;
    EXPECT_EQ(flushed.out, "delivered 1, still queued 0, failed 0, dead-lettered 0\n");
    EXPECT_EQ(http.bodies("/a").size(), 1u) << "a accepted it: not sent again";
    EXPECT_EQ(http.bodies("/b").size(), 2u);
}

TEST_F(AlertRun, ClientErrorIsNotRetriedAndIsReported) {
    config(k_webhook);
    http.script = {HttpResponse{400, "bad payload", {}}};
    evaluate(check("disk", "critical", 0.96));
    clock.advance(10min);
    evaluate("");
    auto flushed = action(alert::Action::flush);
    EXPECT_EQ(http.requests.size(), 1u) << "a 4xx is not retried";
    auto undelivered = run(alert::Options{.action = alert::Action::ls, .undelivered = true});
    EXPECT_NE(undelivered.out.find("failed"), std::string::npos) << undelivered.out;
    EXPECT_NE(undelivered.out.find("HTTP 400: bad payload"), std::string::npos) << undelivered.out;
    ASSERT_TRUE(nasops::testing::read_file(dir / "log" / "audit.log").find("NOTIFICATION_FAILED") != std::string::npos);
}

TEST_F(AlertRun, DeadLetteredAfterMaxAttempts) {
    config("[alert]\nmax_attempts = 2\nretry_backoff = \"10s\"\n" +
           k_webhook.substr(k_webhook.find("default_channels")));
    http.script = {refused()};
    http.sticky = true;
    auto first = evaluate(check("disk", "critical", 0.96));
    ASSERT_TRUE(first.code) << first.code.error().message;
    clock.advance(11s);
    evaluate("");
    EXPECT_EQ(http.requests.size(), 2u);
    clock.advance(10min);
    evaluate("");
    auto flushed = action(alert::Action::flush);
    EXPECT_EQ(http.requests.size(), 2u) << "dead letters are not retried";
    auto undelivered =
        run(alert::Options{.action = alert::Action::ls, .format = OutputFormat::json, .undelivered = true});
    ASSERT_FALSE(undelivered.out.empty());
    const auto record = nlohmann::json::parse(undelivered.out.substr(0, undelivered.out.find('\n')));
    EXPECT_EQ(record["details"]["state"], "dead");
    EXPECT_EQ(record["details"]["attempts"], 2);
}

TEST_F(AlertRun, FlushIgnoresBackoffAndReportsWhatIsLeft) {
    config(k_webhook);
    http.script = {refused(), refused()};
    evaluate(check("disk", "critical", 0.96));
    auto failed = action(alert::Action::flush);
    ASSERT_FALSE(failed.code);
    EXPECT_EQ(failed.code.error().code, ExitCode::unavailable);
    EXPECT_EQ(http.requests.size(), 2u);
    auto ok = action(alert::Action::flush);
    ASSERT_TRUE(ok.code);
    EXPECT_EQ(http.requests.size(), 3u);
}

TEST_F(AlertRun, MalformedLinesAreReportedAndSkipped) {
    config(k_webhook);
    const auto input = check("disk", "critical", 0.96) + "not json\n" + "[1,2]\n" + check("memory", "warning", 0.9);
    auto lenient = evaluate(input);
    ASSERT_TRUE(lenient.code);
    EXPECT_NE(lenient.err.find("line 2: malformed JSON"), std::string::npos) << lenient.err;
    EXPECT_NE(lenient.err.find("line 3: not a JSON object"), std::string::npos) << lenient.err;
    EXPECT_NE(lenient.out.find("memory"), std::string::npos) << "records after a bad line are evaluated";
}

TEST_F(AlertRun, StrictStopsOnTheFirstMalformedLineAndChangesNothing) {
    config(k_webhook);
    auto strict = run(alert::Options{.strict = true}, check("disk", "critical", 0.96) + "{oops\n");
    ASSERT_FALSE(strict.code);
    EXPECT_EQ(strict.code.error().code, ExitCode::data_error);
    EXPECT_NE(strict.code.error().message.find("line 2"), std::string::npos) << strict.code.error().message;
    EXPECT_TRUE(http.requests.empty());
    EXPECT_EQ(action(alert::Action::ls).out, "");
}

TEST_F(AlertRun, MissingInputFileIsNoInput) {
    config(k_webhook);
    auto missing = run(alert::Options{.inputs = {dir / "nope.jsonl"}});
    ASSERT_FALSE(missing.code);
    EXPECT_EQ(missing.code.error().code, ExitCode::no_input);
}

TEST_F(AlertRun, RecordWithoutTheFieldDoesNotMatch) {
    config(k_webhook +
           rule("queue_stuck", R"({ kind = "metric" })", "success_ratio < 0.9 and queue_length > 100", "warning"));
    auto run1 = evaluate(metric("queue_length", 500));
    EXPECT_EQ(run1.out, "");
    nlohmann::json both{
        {"v", 1},           {"ts", "2026-11-22T04:00:00Z"}, {"tool", "sync"},       {"host", "cam-01"},
        {"kind", "metric"}, {"name", "sync_status"},        {"success_ratio", 0.5}, {"queue_length", 150}};
    auto run2 = evaluate(both.dump() + "\n");
    EXPECT_NE(run2.out.find("FIRING   queue_stuck"), std::string::npos) << run2.out;
    EXPECT_NE(run2.out.find("value=0.5"), std::string::npos) << run2.out;
}

TEST_F(AlertRun, BadRuleIsAConfigErrorAtFileLineColumn) {
    config("[alert]\n[[alert.rule]]\nname = \"r\"\nexpr = \"value > > 3\"\n");
    auto bad = evaluate("");
    ASSERT_FALSE(bad.code);
    EXPECT_EQ(bad.code.error().code, ExitCode::config);
    // The line of expr in the file (after the 4 lines of [paths] and a blank one) and the column of the second '>'.
    EXPECT_NE(bad.code.error().message.find("nasops.toml:9:17: alert.rule[0].expr: expected a number"),
              std::string::npos)
        << bad.code.error().message;

    config("[alert]\n[[alert.rule]]\nname = \"r\"\nchannels = [\"nowhere\"]\nmatch = { name = \"=~(\" }\n");
    bad = evaluate("");
    ASSERT_FALSE(bad.code);
    EXPECT_NE(bad.code.error().message.find("no [[alert.channel]] is named 'nowhere'"), std::string::npos)
        << bad.code.error().message;
    EXPECT_NE(bad.code.error().message.find("invalid regular expression"), std::string::npos)
        << "every problem at once: " << bad.code.error().message;

    config("[alert]\n[[alert.channel]]\nname = \"m\"\ntype = \"email\"\n");
    bad = evaluate("");
    ASSERT_FALSE(bad.code);
    EXPECT_NE(bad.code.error().message.find("needs smtp_url"), std::string::npos) << bad.code.error().message;
}

TEST_F(AlertRun, JsonOutputIsAlertRecords) {
    config(k_webhook);
    auto fired = run(alert::Options{.format = OutputFormat::json}, check("disk", "critical", 0.96));
    const auto record = nlohmann::json::parse(fired.out);
    EXPECT_EQ(record["kind"], "alert");
    EXPECT_EQ(record["tool"], "alert");
    EXPECT_EQ(record["alertname"], "disk");
    EXPECT_EQ(record["state"], "firing");
    EXPECT_EQ(record["severity"], "critical");
    EXPECT_EQ(record["value"], 0.96);
    EXPECT_EQ(record["labels"]["target"], "/srv");
    EXPECT_EQ(record["starts_at"], "2026-11-22T04:00:00.000Z");
    // Feeding our own output back is harmless.
    auto again = evaluate(fired.out);
    EXPECT_EQ(again.out, "");
}

// The out-of-the-box config has no channel: the operator is told once per
// run, and by ls, that the alerts go nowhere; --quiet keeps cron's mail empty.
TEST_F(AlertRun, NoChannelConfiguredIsSaidOncePerRunAndByLs) {
    config("[alert]\n");
    const std::string k_said = "no [[alert.channel]] is configured: alerts are recorded but sent nowhere";
    auto fired = evaluate(check("disk", "critical", 0.96));
    ASSERT_TRUE(fired.code) << fired.code.error().message;
    EXPECT_NE(fired.out.find("FIRING"), std::string::npos) << "still recorded";
    const auto at = fired.err.find(k_said);
    EXPECT_NE(at, std::string::npos) << fired.err;
    EXPECT_EQ(fired.err.find(k_said, at + 1), std::string::npos) << "said more than once:\n" << fired.err;
    EXPECT_NE(action(alert::Action::ls).err.find(k_said), std::string::npos);
    auto quiet = run(alert::Options{.quiet = true}, check("disk", "critical", 0.97));
    EXPECT_EQ(quiet.err.find(k_said), std::string::npos) << quiet.err;

    config(k_webhook);
    EXPECT_EQ(evaluate(check("disk", "critical", 0.98)).err.find(k_said), std::string::npos);
}

TEST_F(AlertRun, DryRunChangesNothing) {
    config(k_webhook);
    auto dry = run(alert::Options{.dry_run = true}, check("disk", "critical", 0.96));
    EXPECT_NE(dry.out.find("FIRING"), std::string::npos);
    EXPECT_TRUE(http.requests.empty());
    auto real = evaluate(check("disk", "critical", 0.96));
    EXPECT_NE(real.out.find("FIRING"), std::string::npos) << "the dry run stored nothing";
}

TEST_F(AlertRun, StaleAlertsResolveByThemselves) {
    config(k_webhook);
    evaluate(check("disk", "critical", 0.96));
    clock.advance(20min);
    EXPECT_EQ(evaluate("").out, "");
    clock.advance(11min);
    auto stale = evaluate("");
    EXPECT_NE(stale.out.find("RESOLVED disk"), std::string::npos) << stale.out;
    auto history = action(alert::Action::history);
    EXPECT_NE(history.out.find("stale"), std::string::npos) << history.out;
}

TEST_F(AlertRun, AlertmanagerChannelResendsFiringAndResolvedForResolveTimeout) {
    config(one_channel("am", "alertmanager", "url = \"http://127.0.0.1:9093/\"\n",
                       "external_url = \"https://grafana.example/d/nasops\"\n"));
    evaluate(check("disk", "critical", 0.96));
    clock.advance(5min);
    evaluate(check("disk", "critical", 0.96));
    ASSERT_EQ(http.requests.size(), 2u) << "firing alerts are re-sent every run";
    EXPECT_EQ(http.requests[0].url, "http://127.0.0.1:9093/api/v2/alerts");
    const auto firing = nlohmann::json::parse(http.requests[1].body);
    ASSERT_TRUE(firing.is_array());
    EXPECT_EQ(firing[0]["labels"]["alertname"], "disk");
    EXPECT_EQ(firing[0]["startsAt"], "2026-11-22T04:00:00.000Z");
    EXPECT_EQ(firing[0]["endsAt"], "2026-11-22T04:20:00.000Z");
    EXPECT_EQ(firing[0]["annotations"]["value"], "0.96");
    EXPECT_EQ(firing[0]["generatorURL"], "https://grafana.example/d/nasops");

    clock.advance(1min);
    evaluate(check("disk", "ok", 0.5));
    clock.advance(2min);
    evaluate("");
    clock.advance(4min);
    evaluate("");
    ASSERT_EQ(http.requests.size(), 4u) << "resolved re-sent within resolve_timeout only";
    const auto resolved = nlohmann::json::parse(http.requests[3].body);
    EXPECT_EQ(resolved[0]["endsAt"], "2026-11-22T04:06:00.000Z");
}

TEST_F(AlertRun, ExecChannelGetsTheAlertAndItsOutcomeGoesIntoHistory) {
    config(one_channel("restart", "exec", R"(command = ["/usr/local/bin/restart-service", "nasops-sync"]
timeout = "30s"
)"));
    evaluate(check("disk", "critical", 0.96) + check("memory", "warning", 0.9));
    ASSERT_EQ(commands.calls.size(), 2u) << "one run per alert";
    const auto& call = commands.calls[0];
    EXPECT_EQ(call.argv, (std::vector<std::string>{"/usr/local/bin/restart-service", "nasops-sync"}));
    const auto input = nlohmann::json::parse(call.input);
    EXPECT_EQ(input["labels"]["alertname"], "disk");
    EXPECT_EQ(input["status"], "firing");
    auto env = [&](std::string_view name) {
        for (const auto& [k, v] : call.env) {
            if (k == name) return v;
        }
        return std::string("(unset)");
    };
    EXPECT_EQ(env("NASOPS_ALERT_NAME"), "disk");
    EXPECT_EQ(env("NASOPS_ALERT_SEVERITY"), "critical");
    EXPECT_EQ(env("NASOPS_ALERT_VALUE"), "0.96");
    EXPECT_EQ(env("NASOPS_ALERT_LABEL_TARGET"), "/srv");
    auto history = action(alert::Action::history);
    EXPECT_NE(history.out.find("exit 0: restarted nasops-sync"), std::string::npos) << history.out;

    commands.exit_code = 1;
    clock.advance(5h);
    evaluate(check("disk", "critical", 0.96));
    auto failed = action(alert::Action::history);
    EXPECT_NE(failed.out.find("delivery_failed"), std::string::npos) << failed.out;
    EXPECT_NE(failed.out.find("exit 1"), std::string::npos) << failed.out;
}

TEST_F(AlertRun, EmailChannelSendsTheAlertsWithTheirValues) {
    config(one_channel("mail", "email", R"(smtp_url = "smtp://mail.example.com:587"
from = "nasops@example.com"
to = ["ops@example.com", "oncall@example.com"]
username = "nasops"
password = "s3cret"
subject = "{{alertname}} on {{instance}}: {{status}}"
)"));
    evaluate(check("disk", "critical", 0.96));
    ASSERT_EQ(mail.sent.size(), 1u);
    const auto& [settings, message] = mail.sent[0];
    EXPECT_EQ(settings.url, "smtp://mail.example.com:587");
    EXPECT_EQ(settings.tls, SmtpTls::starttls_required);
    EXPECT_EQ(settings.password, "s3cret");
    EXPECT_EQ(message.to.size(), 2u);
    EXPECT_EQ(message.subject, "disk on cam-01: firing");
    EXPECT_NE(message.body.find("[FIRING] disk — critical"), std::string::npos) << message.body;
    EXPECT_NE(message.body.find("value: 0.96"), std::string::npos) << message.body;
}

TEST_F(AlertRun, TestSendsThroughTheNamedChannel) {
    config(k_webhook);
    auto ok = run(alert::Options{.action = alert::Action::test, .channel = "hook"});
    ASSERT_TRUE(ok.code) << ok.code.error().message;
    EXPECT_NE(ok.out.find("hook: delivered (HTTP 200"), std::string::npos) << ok.out;
    ASSERT_EQ(http.requests.size(), 1u);
    EXPECT_EQ(nlohmann::json::parse(http.requests[0].body)["alerts"][0]["labels"]["alertname"], "nasops_test");

    http.script = {refused()};
    auto down = run(alert::Options{.action = alert::Action::test, .channel = "hook"});
    ASSERT_FALSE(down.code);
    EXPECT_EQ(down.code.error().code, ExitCode::unavailable);
    EXPECT_NE(down.out.find("hook: unreachable"), std::string::npos) << down.out;

    auto unknown = run(alert::Options{.action = alert::Action::test, .channel = "nope"});
    ASSERT_FALSE(unknown.code);
    EXPECT_EQ(unknown.code.error().code, ExitCode::usage);
    EXPECT_NE(unknown.code.error().message.find("configured: hook"), std::string::npos);
}

// With --format json every action prints records, one per line, of the kinds
// and names nasops-records(7) documents (and, in the test suite, its schemas).
TEST_F(AlertRun, EveryActionPrintsRecordsWithFormatJson) {
    config(k_webhook);
    const auto json_run = [&](alert::Options options, const std::string& input = {}) {
        options.format = OutputFormat::json;
        auto outcome = run(std::move(options), input);
        EXPECT_TRUE(outcome.code) << outcome.code.error().message;
        return nasops::testing::parse_records(outcome.out);
    };
    const auto names = [](const std::vector<nlohmann::json>& records) {
        std::vector<std::string> out;
        for (const auto& r : records)
            out.push_back(r.at("kind").get<std::string>() + " " + r.value("name", r.value("state", "")));
        return out;
    };

    const auto fired = json_run({}, check("disk", "critical", 0.96));
    EXPECT_EQ(names(fired), std::vector<std::string>{"alert firing"});
    const auto listed = json_run({.action = alert::Action::ls});
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_TRUE(listed[0].contains("since")) << listed[0];
    EXPECT_EQ(names(json_run({.action = alert::Action::flush})), std::vector<std::string>{"event flush"});
    EXPECT_EQ(names(json_run({.action = alert::Action::test, .channel = "hook"})),
              std::vector<std::string>{"event channel_test"});
    EXPECT_EQ(
        names(json_run({.action = alert::Action::silence_add, .matchers = {"alertname=disk"}, .comment = "swap"})),
        std::vector<std::string>{"event silence_added"});
    EXPECT_EQ(names(json_run({.action = alert::Action::silence_ls})), std::vector<std::string>{"event silence"});
    const auto history = names(json_run({.action = alert::Action::history}));
    for (const auto* expected :
         {"event alert_fired", "event alert_delivered", "event alert_test_delivered", "event alert_silence_added"}) {
        EXPECT_NE(std::ranges::find(history, expected), history.end()) << expected;
    }
    clock.advance(1h);
    const auto resolved = json_run({}, check("disk", "ok", 0.5));
    EXPECT_EQ(names(resolved), std::vector<std::string>{"alert resolved"});
    EXPECT_TRUE(resolved[0].contains("ends_at")) << resolved[0];
}
