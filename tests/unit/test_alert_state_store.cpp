// alert/state_store: nasops-alert's tables in a real SQLite file: alert
// states, notify states, the outbox, silences and history.

#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

#include "alert/state_store.hpp"
#include "fixtures/temp_dir.hpp"

using namespace nasops;
using namespace nasops::alert;
using namespace std::chrono_literals;

namespace {

const SystemTimePoint k_now = *parse_rfc3339("2026-11-22T04:00:00Z");

AlertState firing_alert(std::string fingerprint, std::string severity = "critical") {
    AlertState a;
    a.fingerprint = std::move(fingerprint);
    a.rule = "disk_full";
    a.labels = {{"alertname", "disk_full"}, {"severity", std::move(severity)}, {"instance", "cam-01"}};
    a.annotations = {{"summary", "Storage /srv at 95.0%"}};
    a.value = 0.95;
    a.phase = AlertPhase::firing;
    a.active_since = k_now - 10min;
    a.fired_at = k_now - 5min;
    a.last_true = k_now;
    a.channels = {"hook"};
    return a;
}

PlannedNotification notification(std::string group_key, std::vector<std::string> channels) {
    return {{{"group_key", std::move(group_key)},
             {"alerts", nlohmann::json::array({{{"labels", {{"alertname", "disk_full"}}}}})}},
            std::move(channels)};
}

class AlertStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto opened = AlertStore::open(dir / "nasops.db");
        ASSERT_TRUE(opened) << opened.error().message;
        store.emplace(std::move(*opened));
    }

    // Saves `notifications` as one run at `now`, nothing else.
    void enqueue(std::vector<PlannedNotification> notifications, SystemTimePoint now = k_now,
                 const std::set<std::string>& alertmanager = {}) {
        RunChanges changes{.notifications = std::move(notifications), .now = now};
        const auto saved = store->save_run(changes, alertmanager);
        ASSERT_TRUE(saved) << saved.error().message;
    }

    nasops::testing::TempDir dir;
    std::optional<AlertStore> store;
};

}  // namespace

TEST_F(AlertStoreTest, ANewDatabaseIsEmpty) {
    EXPECT_TRUE(store->load_alerts().value().empty());
    EXPECT_TRUE(store->load_notify_states().value().empty());
    EXPECT_TRUE(store->load_silences(k_now, true).value().empty());
    EXPECT_TRUE(store->due_deliveries(k_now, true).value().empty());
    EXPECT_TRUE(store->undelivered().value().empty());
    EXPECT_TRUE(store->history(10).value().empty());
}

TEST_F(AlertStoreTest, AlertsAndNotifyStatesSurviveARoundTrip) {
    AlertMap alerts;
    alerts.emplace("00000000000000a1", firing_alert("00000000000000a1"));
    auto resolved = firing_alert("00000000000000b2", "warning");
    resolved.phase = AlertPhase::resolved;
    resolved.resolved_at = k_now;
    resolved.cleared = true;
    resolved.value.reset();
    alerts.emplace(resolved.fingerprint, resolved);
    NotifyStates states{{{"00000000000000a1", "hook"}, {k_now - 1min, "critical", true, false}}};
    RunChanges changes{.alerts = &alerts, .notify_states = &states, .now = k_now};
    ASSERT_TRUE(store->save_run(changes, {}));

    const auto loaded = store->load_alerts().value();
    ASSERT_EQ(loaded.size(), 2u);
    for (const auto& [fp, want] : alerts) {
        const auto& got = loaded.at(fp);
        EXPECT_EQ(got.rule, want.rule);
        EXPECT_EQ(got.labels, want.labels);
        EXPECT_EQ(got.annotations, want.annotations);
        EXPECT_EQ(got.value, want.value);
        EXPECT_EQ(got.phase, want.phase);
        EXPECT_EQ(got.active_since, want.active_since);
        EXPECT_EQ(got.fired_at, want.fired_at);
        EXPECT_EQ(got.last_true, want.last_true);
        EXPECT_EQ(got.resolved_at, want.resolved_at);
        EXPECT_EQ(got.cleared, want.cleared);
        EXPECT_EQ(got.channels, want.channels);
    }
    const auto notify = store->load_notify_states().value();
    ASSERT_EQ(notify.size(), 1u);
    const auto& s = notify.at({"00000000000000a1", "hook"});
    EXPECT_EQ(s.last_sent, k_now - 1min);
    EXPECT_EQ(s.severity, "critical");
    EXPECT_TRUE(s.firing_sent);
    EXPECT_FALSE(s.resolved_sent);

    // A forgotten alert leaves with its notify states.
    const std::set<std::string> forgotten{"00000000000000a1"};
    AlertMap none;
    RunChanges forget{.alerts = &none, .forgotten = &forgotten, .notify_states = &states, .now = k_now};
    ASSERT_TRUE(store->save_run(forget, {}));
    EXPECT_EQ(store->load_alerts().value().count("00000000000000a1"), 0u);
    EXPECT_TRUE(store->load_notify_states().value().empty());
}

TEST_F(AlertStoreTest, EachNotificationGetsAQueuedDeliveryPerChannel) {
    enqueue({notification("{alertname=\"disk_full\"}", {"hook", "mail"})});
    const auto due = store->due_deliveries(k_now, false).value();
    ASSERT_EQ(due.size(), 2u);
    EXPECT_EQ(due[0].channel, "hook");
    EXPECT_EQ(due[1].channel, "mail");
    for (const auto& d : due) {
        EXPECT_EQ(d.state, DeliveryState::queued);
        EXPECT_EQ(d.attempts, 0);
        EXPECT_EQ(d.notification_id, due[0].notification_id);
        EXPECT_EQ(d.payload["group_key"], "{alertname=\"disk_full\"}");
        EXPECT_EQ(d.created_at, k_now);
    }
}

TEST_F(AlertStoreTest, OutcomesDecideWhatIsDueAndWhatIsUndelivered) {
    enqueue({notification("a", {"hook"}), notification("b", {"hook"}), notification("c", {"hook"}),
             notification("d", {"hook"})});
    auto due = store->due_deliveries(k_now, false).value();
    ASSERT_EQ(due.size(), 4u);
    struct Case {
        DeliveryState state;
        std::optional<SystemTimePoint> next_attempt_at;
        std::string event;
    };
    const Case outcomes[] = {
        {DeliveryState::delivered, std::nullopt, "delivered"},
        {DeliveryState::queued, k_now + 2min, "delivery_failed"},  // backoff
        {DeliveryState::failed, std::nullopt, "delivery_failed"},
        {DeliveryState::dead, std::nullopt, "dead_lettered"},
    };
    for (std::size_t i = 0; i < 4; ++i) {
        auto& d = due[i];
        d.state = outcomes[i].state;
        d.attempts = 1;
        d.next_attempt_at = outcomes[i].next_attempt_at;
        if (d.state == DeliveryState::delivered)
            d.delivered_at = k_now;
        else
            d.last_error = "HTTP 500";
        const auto recorded = store->record_outcome(d, HistoryEntry{.at = k_now,
                                                                    .event = outcomes[i].event,
                                                                    .alertname = "disk_full",
                                                                    .channel = "hook",
                                                                    .notification_id = d.notification_id});
        ASSERT_TRUE(recorded) << recorded.error().message;
    }
    EXPECT_TRUE(store->due_deliveries(k_now + 1min, false).value().empty()) << "the retry waits for its backoff";
    const auto later = store->due_deliveries(k_now + 2min, false).value();
    ASSERT_EQ(later.size(), 1u);
    EXPECT_EQ(later[0].id, due[1].id);
    EXPECT_EQ(later[0].attempts, 1);
    EXPECT_EQ(later[0].last_error, "HTTP 500");
    EXPECT_EQ(store->due_deliveries(k_now, true).value().size(), 1u) << "flush ignores the backoff";

    std::vector<DeliveryState> undelivered;
    const auto left = store->undelivered().value();
    for (const auto& d : left) undelivered.push_back(d.state);
    EXPECT_EQ(undelivered,
              (std::vector<DeliveryState>{DeliveryState::queued, DeliveryState::failed, DeliveryState::dead}));
    EXPECT_EQ(store->history(10).value().size(), 4u);
}

TEST_F(AlertStoreTest, ANewStateOfAGroupSupersedesTheQueuedOneOnAlertmanagerChannelsOnly) {
    enqueue({notification("g", {"am", "hook"})}, k_now, {"am"});
    enqueue({notification("g", {"am", "hook"})}, k_now + 1min, {"am"});
    enqueue({notification("other", {"am"})}, k_now + 1min, {"am"});
    std::vector<std::pair<std::string, std::int64_t>> due;
    const auto deliveries = store->due_deliveries(k_now + 1min, false).value();
    for (const auto& d : deliveries) due.emplace_back(d.channel, d.notification_id);
    EXPECT_EQ(due, (std::vector<std::pair<std::string, std::int64_t>>{{"hook", 1}, {"am", 2}, {"hook", 2}, {"am", 3}}));
}

TEST_F(AlertStoreTest, SilencesAreListedUntilTheyExpireAndRemovedByAPrefix) {
    Silence s{.matchers = {Matcher::parse("alertname=disk_full").value(), Matcher::parse("instance=~cam-.*").value()},
              .starts_at = k_now,
              .ends_at = k_now + 1h,
              .comment = "disk swap",
              .created_by = "ops"};
    const auto id = store->add_silence(s, k_now).value();
    EXPECT_EQ(id.size(), 36u) << id;
    const auto explicit_id = store->add_silence(
        Silence{.id = "abcd0000-0000-4000-8000-000000000000", .starts_at = k_now, .ends_at = k_now + 2h}, k_now);
    ASSERT_TRUE(explicit_id);

    auto active = store->load_silences(k_now + 30min).value();
    ASSERT_EQ(active.size(), 2u);
    const auto& first = active[0].id == id ? active[0] : active[1];
    EXPECT_EQ(first.matchers.size(), 2u);
    EXPECT_EQ(first.matchers[1].to_string(), "instance=~cam-.*");
    EXPECT_EQ(first.comment, "disk swap");
    EXPECT_EQ(first.created_by, "ops");
    EXPECT_EQ(first.ends_at, k_now + 1h);
    EXPECT_EQ(store->load_silences(k_now + 90min).value().size(), 1u) << "the first one expired";

    EXPECT_FALSE(store->remove_silence("abc", k_now).value()) << "a prefix needs 4 characters";
    EXPECT_FALSE(store->remove_silence("ffffffff-ffff", k_now).value());
    EXPECT_TRUE(store->remove_silence("abcd0000", k_now + 10min).value());
    EXPECT_FALSE(store->remove_silence("abcd0000", k_now + 20min).value()) << "expired already";
    EXPECT_EQ(store->load_silences(k_now + 15min).value().size(), 1u);
    EXPECT_EQ(store->load_silences(k_now + 15min, true).value().size(), 2u) << "expired, not deleted";
}

// A stored matcher that no longer reads (an unescaped quote, written before
// matchers followed Alertmanager's grammar) must not leave its silence
// muting more than its author meant: the silence mutes nothing instead.
TEST_F(AlertStoreTest, ASilenceWithAnUnreadableMatcherIsNotLoaded) {
    Silence s{.matchers = {Matcher::parse("alertname=disk_full").value(), Matcher::parse("a=\"x\\\"y\"").value()},
              .starts_at = k_now,
              .ends_at = k_now + 1h};
    const auto id = store->add_silence(s, k_now).value();
    auto loaded = store->load_silences(k_now).value();
    ASSERT_EQ(loaded.size(), 1u);
    EXPECT_EQ(loaded[0].matchers[1].value(), "x\"y") << "a quote in a value is written escaped and read back";

    SQLite::Statement old(store->db(), "UPDATE alert_silences SET matchers = ? WHERE id = ?");
    old.bind(1, R"(["alertname=disk_full", "a=x\"y"])");
    old.bind(2, id);
    ASSERT_EQ(old.exec(), 1);
    ::testing::internal::CaptureStderr();
    EXPECT_TRUE(store->load_silences(k_now).value().empty());
    const auto said = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(said.find("silence " + id + " mutes nothing: its matcher 'a=x\"y' no longer reads"), std::string::npos)
        << said;
    EXPECT_NE(said.find("nasops-alert silence rm " + id), std::string::npos) << said;
    EXPECT_TRUE(store->remove_silence(id, k_now).value()) << "the way out the warning names works";
}

TEST_F(AlertStoreTest, AnAmbiguousSilencePrefixIsAUsageError) {
    for (const char* id : {"abcd1111-0000-4000-8000-000000000000", "abcd2222-0000-4000-8000-000000000000"}) {
        ASSERT_TRUE(store->add_silence(Silence{.id = id, .starts_at = k_now, .ends_at = k_now + 1h}, k_now));
    }
    const auto r = store->remove_silence("abcd", k_now);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::usage);
    EXPECT_EQ(r.error().message, "silence id 'abcd' is ambiguous: give more of it");
}

TEST_F(AlertStoreTest, HistoryKeepsTheLatestEntriesInOrder) {
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(store->add_history(HistoryEntry{.at = k_now + std::chrono::minutes(i),
                                                    .event = "fired",
                                                    .alertname = fmt::format("a{}", i),
                                                    .value = static_cast<double>(i),
                                                    .labels = {{"instance", "cam-01"}}}));
    }
    const auto last = store->history(3).value();
    ASSERT_EQ(last.size(), 3u);
    EXPECT_EQ(last[0].alertname, "a2");
    EXPECT_EQ(last[2].alertname, "a4");
    EXPECT_EQ(last[2].at, k_now + 4min);
    EXPECT_EQ(last[2].value, 4.0);
    EXPECT_EQ(last[2].labels["instance"], "cam-01");
    EXPECT_FALSE(last[2].notification_id);
}

TEST_F(AlertStoreTest, AFailureNamesTheDatabaseAndWhatWasBeingDone) {
    store->db().exec("DROP TABLE alert_history");
    const auto r = store->history(3);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::io_error);
    EXPECT_EQ(r.error().message.rfind("database " + (dir / "nasops.db").string() + ": reading the history: ", 0), 0u)
        << r.error().message;
}
