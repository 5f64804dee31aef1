// alert/outbox: what deliver_due does with each answer of a channel, against
// a real alert database and a scripted HTTP client.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>

#include "alert/outbox.hpp"
#include "fixtures/temp_dir.hpp"

using namespace nasops;
using namespace nasops::alert;
using namespace std::chrono_literals;

namespace {

const SystemTimePoint k_now = *parse_rfc3339("2026-11-22T04:00:00Z");

// Answers each request with the next scripted answer, then 200.
class ScriptedHttp final : public HttpClient {
public:
    Result<HttpResponse> send(const HttpRequest& request) override {
        urls.push_back(request.url);
        if (script.empty()) return HttpResponse{200, "ok", {}};
        auto next = script.front();
        script.pop_front();
        return next;
    }
    std::deque<Result<HttpResponse>> script;
    std::vector<std::string> urls;
};

class NoMail final : public MailSender {
public:
    Result<void> send(const SmtpSettings&, const MailMessage&) override {
        return fail(ExitCode::software, "no mail in this test");
    }
};

class NoCommands final : public CommandRunner {
public:
    Result<CommandOutcome> run(const std::vector<std::string>&, const EnvVars&, std::string_view, Duration) override {
        return fail(ExitCode::software, "no commands in this test");
    }
};

nlohmann::json payload(std::string_view group) {
    nlohmann::json alert{{"fingerprint", "0123456789abcdef"},
                         {"status", "firing"},
                         {"labels", {{"alertname", "disk_full"}, {"severity", "critical"}}},
                         {"annotations", nlohmann::json::object()},
                         {"starts_at", "2026-11-22T04:00:00.000Z"},
                         {"generator_url", "https://grafana.example/d/nasops"}};
    return {{"group_key", group},
            {"group_labels", {{"alertname", "disk_full"}}},
            {"status", "firing"},
            {"created_at", "2026-11-22T04:00:00.000Z"},
            {"alerts", nlohmann::json::array({alert})}};
}

class AlertOutbox : public ::testing::Test {
protected:
    AlertOutbox() : clock(k_now), deps{http, mail, commands, clock, "edge"} {
        settings.max_attempts = 3;
        settings.retry_backoff = 1min;
        settings.channels.push_back(ChannelConfig{.name = "a", .url = "http://127.0.0.1:9/a"});
        settings.channels.push_back(ChannelConfig{.name = "b", .url = "http://127.0.0.1:9/b"});
    }

    void SetUp() override {
        auto opened = AlertStore::open(dir / "nasops.db");
        ASSERT_TRUE(opened) << opened.error().message;
        store.emplace(std::move(*opened));
    }

    // One notification per group, each to `channels`.
    void enqueue(std::initializer_list<std::string_view> groups, std::vector<std::string> channels) {
        RunChanges changes{.now = k_now};
        for (const auto group : groups) changes.notifications.push_back({payload(group), channels});
        ASSERT_TRUE(store->save_run(changes, {}));
    }

    DeliverySummary deliver(SystemTimePoint now, bool ignore_backoff = false) {
        const auto summary = deliver_due(*store, settings, deps, now, ignore_backoff);
        EXPECT_TRUE(summary) << summary.error().message;
        return summary.value_or(DeliverySummary{});
    }

    std::vector<std::string> events() {
        std::vector<std::string> out;
        const auto history = store->history(100).value();
        for (const auto& h : history) out.push_back(h.event + " " + h.channel);
        return out;
    }

    nasops::testing::TempDir dir;
    ScriptedHttp http;
    NoMail mail;
    NoCommands commands;
    ManualClock clock;
    NotifierDeps deps;
    AlertSettings settings;
    std::optional<AlertStore> store;
};

}  // namespace

TEST(AlertOutboxBackoff, DoublesPerAttemptUpToAnHour) {
    struct Case {
        int attempts;
        Duration base, wait;
    };
    const Case cases[] = {
        {1, 1min, 1min},  {2, 1min, 2min}, {3, 1min, 4min}, {7, 1min, 60min},
        {8, 1min, 60min}, {1, 2h, 60min},  {0, 30s, 30s},   {40, 1min, 60min},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(backoff_after(c.attempts, c.base), c.wait) << c.attempts << " x " << format_duration(c.base);
    }
}

TEST_F(AlertOutbox, ADeliveredNotificationIsNeverSentAgain) {
    enqueue({"g"}, {"a", "b"});
    const auto first = deliver(k_now);
    EXPECT_EQ(first.delivered, 2);
    EXPECT_EQ(http.urls, (std::vector<std::string>{"http://127.0.0.1:9/a", "http://127.0.0.1:9/b"}));
    const auto again = deliver(k_now + 1h, true);
    EXPECT_EQ(again.delivered, 0);
    EXPECT_EQ(http.urls.size(), 2u);
    EXPECT_TRUE(store->undelivered().value().empty());
    EXPECT_EQ(events(), (std::vector<std::string>{"delivered a", "delivered b"}));
}

TEST_F(AlertOutbox, EachAnswerOfAChannelHasItsOutcome) {
    struct Case {
        Result<HttpResponse> answer;
        DeliveryState state;
        std::string event;
        bool retried;
    };
    const Case cases[] = {
        {HttpResponse{200, "ok", {}}, DeliveryState::delivered, "delivered", false},
        {HttpResponse{204, "", {}}, DeliveryState::delivered, "delivered", false},
        {HttpResponse{500, "boom", {}}, DeliveryState::queued, "delivery_failed", true},
        {HttpResponse{503, "busy", {}}, DeliveryState::queued, "delivery_failed", true},
        {HttpResponse{429, "slow down", {}}, DeliveryState::queued, "delivery_failed", true},
        {fail(ExitCode::unavailable, "Connection refused"), DeliveryState::queued, "delivery_failed", true},
        {HttpResponse{400, "bad", {}}, DeliveryState::failed, "delivery_failed", false},
        {HttpResponse{404, "gone", {}}, DeliveryState::failed, "delivery_failed", false},
    };
    int n = 0;
    for (const auto& c : cases) {
        const auto group = fmt::format("g{}", ++n);
        enqueue({group}, {"a"});
        http.script = {c.answer};
        const auto summary = deliver(k_now);
        EXPECT_EQ(summary.delivered + summary.retrying + summary.failed, 1) << group;
        const auto history = store->history(1).value();
        ASSERT_EQ(history.size(), 1u);
        EXPECT_EQ(history[0].event, c.event) << group;
        const auto due_later = store->due_deliveries(k_now + 1min, false).value();
        EXPECT_EQ(due_later.size(), c.retried ? 1u : 0u) << group;
        for (auto d : due_later) {  // leave the queue empty for the next case
            EXPECT_EQ(d.attempts, 1);
            EXPECT_FALSE(d.last_error.empty());
            d.state = DeliveryState::failed;
            ASSERT_TRUE(store->record_outcome(d, HistoryEntry{.at = k_now, .event = "test"}));
        }
    }
}

TEST_F(AlertOutbox, AfterAChannelFailsItsOtherDeliveriesWaitForTheNextRun) {
    enqueue({"g1", "g2", "g3"}, {"a", "b"});
    http.script = {fail(ExitCode::unavailable, "Connection refused")};  // a's first delivery; then 200
    const auto summary = deliver(k_now);
    EXPECT_EQ(summary.retrying, 3) << "one attempt to a, two left waiting";
    EXPECT_EQ(summary.delivered, 3) << "b is not held up by a";
    EXPECT_EQ(std::ranges::count(http.urls, std::string("http://127.0.0.1:9/a")), 1);
    // The two a never tried are due at once; the one tried waits its backoff.
    EXPECT_EQ(store->due_deliveries(k_now, false).value().size(), 2u);
    EXPECT_EQ(store->due_deliveries(k_now + 1min, false).value().size(), 3u);
}

TEST_F(AlertOutbox, ARetriedDeliveryIsDeadAfterMaxAttempts) {
    enqueue({"g"}, {"a"});
    const std::vector<int> waits{1, 2};  // minutes of backoff after attempts 1 and 2
    auto now = k_now;
    for (const int wait : waits) {
        http.script = {HttpResponse{500, "boom", {}}};
        EXPECT_EQ(deliver(now).retrying, 1);
        EXPECT_TRUE(store->due_deliveries(now + std::chrono::minutes(wait) - 1s, false).value().empty());
        now += std::chrono::minutes(wait);
    }
    http.script = {HttpResponse{500, "boom", {}}};
    EXPECT_EQ(deliver(now).dead, 1);
    const auto left = store->undelivered().value();
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].state, DeliveryState::dead);
    EXPECT_EQ(left[0].attempts, 3);
    EXPECT_EQ(events(), (std::vector<std::string>{"delivery_failed a", "delivery_failed a", "dead_lettered a"}));
}

TEST_F(AlertOutbox, ADeliveryToARemovedChannelFailsWithoutASend) {
    enqueue({"g"}, {"gone"});
    const auto summary = deliver(k_now);
    EXPECT_EQ(summary.failed, 1);
    EXPECT_TRUE(http.urls.empty());
    const auto left = store->undelivered().value();
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].state, DeliveryState::failed);
    EXPECT_EQ(left[0].last_error, "the channel is no longer configured");
}
