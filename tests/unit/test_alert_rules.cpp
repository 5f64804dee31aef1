// alert/rules: the [alert] section checked once (rules, channels, inhibit
// rules, settings), templates, and the handbook's rules in deploy/nasops.toml.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "alert/engine.hpp"
#include "alert/rules.hpp"
#include "fixtures/temp_dir.hpp"
#include "nasops/core/config.hpp"

using namespace nasops;
using namespace nasops::alert;
using namespace std::chrono_literals;

namespace {

nlohmann::json rec(std::string_view text) {
    return nlohmann::json::parse(text);
}

Result<AlertSettings> settings_of(std::string_view toml) {
    TRY_ASSIGN(auto config, parse_config(toml, "nasops.toml"));
    return load_settings(config);
}

// The message of the config error `toml` gives; empty when it loads.
std::string problems_of(std::string_view toml) {
    const auto settings = settings_of(toml);
    if (settings) return {};
    EXPECT_EQ(settings.error().code, ExitCode::config) << settings.error().message;
    return settings.error().message;
}

}  // namespace

TEST(AlertRules, WithoutRulesEveryBadCheckIsAnAlertAndCriticalInhibitsWarning) {
    const auto settings = settings_of("");
    ASSERT_TRUE(settings) << settings.error().message;
    ASSERT_EQ(settings->rules.size(), 1u);
    const auto& rule = settings->rules.front();
    EXPECT_TRUE(rule.from_checks);
    EXPECT_EQ(rule.name, "(checks)");
    ASSERT_EQ(rule.match.size(), 1u);
    EXPECT_EQ(rule.match.front().to_string(), "kind=check");
    EXPECT_EQ(rule.repeat_interval, settings->repeat_interval);
    ASSERT_EQ(settings->inhibit.size(), 1u);
    EXPECT_EQ(settings->inhibit.front().source.front().to_string(), "severity=critical");
    EXPECT_EQ(settings->inhibit.front().target.front().to_string(), "severity=warning");
    EXPECT_EQ(settings->inhibit.front().equal, (std::vector<std::string>{"alertname", "instance"}));
    EXPECT_TRUE(settings->channels.empty());
}

TEST(AlertRules, ARuleTakesItsKeysAndTheDefaults) {
    const auto settings = settings_of(R"(
[alert]
repeat_interval = "2h"
default_channels = ["hook"]
[[alert.channel]]
name = "hook"
type = "webhook"
url = "http://127.0.0.1:9/hook"
[[alert.channel]]
name = "pager"
type = "exec"
command = ["/bin/true"]
[[alert.rule]]
name = "disk_full"
match = { name = "=~disk|nas_disk", kind = "check", status = "!=ok" }
expr = "value > 0.9"
for = "5m"
keep_firing_for = "10m"
severity = "critical"
labels = { team = "ops" }
summary = "{{target}} at {{value | percent}}"
[[alert.rule]]
name = "paged"
channels = ["pager"]
repeat_interval = "15m"
)");
    ASSERT_TRUE(settings) << settings.error().message;
    ASSERT_EQ(settings->rules.size(), 2u);
    const auto* disk = settings->rule("disk_full");
    ASSERT_NE(disk, nullptr);
    std::vector<std::string> match;
    for (const auto& m : disk->match) match.push_back(m.to_string());
    // Equality first, as it is cheap and usually decides; otherwise in name order.
    EXPECT_EQ(match, (std::vector<std::string>{"kind=check", "name=~disk|nas_disk", "status!=ok"}));
    EXPECT_TRUE(disk->expr);
    EXPECT_EQ(disk->for_duration, Duration(5min));
    EXPECT_EQ(disk->keep_firing_for, Duration(10min));
    EXPECT_EQ(disk->severity, "critical");
    EXPECT_EQ(disk->labels, (Labels{{"team", "ops"}}));
    EXPECT_EQ(disk->summary.names(), (std::vector<std::string>{"target", "value"}));
    EXPECT_EQ(disk->channels, (std::vector<std::string>{"hook"}));
    EXPECT_EQ(disk->repeat_interval, Duration(2h));
    const auto* paged = settings->rule("paged");
    ASSERT_NE(paged, nullptr);
    EXPECT_EQ(paged->channels, (std::vector<std::string>{"pager"}));
    EXPECT_EQ(paged->repeat_interval, Duration(15min));
    EXPECT_FALSE(paged->expr);
    EXPECT_EQ(settings->rule("nothing"), nullptr);
    ASSERT_NE(settings->channel("pager"), nullptr);
    EXPECT_EQ(settings->channel("pager")->type, ChannelType::exec);
}

TEST(AlertRules, EachBadTableIsNamedAtItsPlace) {
    struct Case {
        std::string toml;
        std::string says;
    };
    const std::string hook = "[[alert.channel]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"http://h/\"\n";
    const Case cases[] = {
        {"[alert]\ndefault_channels = [\"nowhere\"]\n",
         "nasops.toml:2:20: alert.default_channels: no [[alert.channel]] is named 'nowhere'"},
        {hook + hook, "alert.channel[1].name: a channel of this name exists already"},
        {"[[alert.channel]]\nname = \"w\"\ntype = \"webhook\"\n",
         "alert.channel[0].url: a webhook channel needs a url"},
        {"[[alert.channel]]\nname = \"s\"\ntype = \"slack\"\nurl = \"ftp://x\"\n",
         "nasops.toml:4:7: alert.channel[0].url: must be an http:// or https:// URL"},
        {"[[alert.channel]]\nname = \"m\"\ntype = \"email\"\n",
         "alert.channel[0].smtp_url: an email channel needs smtp_url"},
        {"[[alert.channel]]\nname = \"m\"\ntype = \"email\"\nsmtp_url = \"http://x\"\nfrom = \"a@b\"\nto = [\"c@d\"]\n",
         "alert.channel[0].smtp_url: must be an smtp:// or smtps:// URL"},
        {"[[alert.channel]]\nname = \"m\"\ntype = \"email\"\nsmtp_url = \"smtp://x\"\nto = [\"c@d\"]\n",
         "alert.channel[0].from: an email channel needs a from address"},
        {"[[alert.channel]]\nname = \"m\"\ntype = \"email\"\nsmtp_url = \"smtp://x\"\nfrom = \"a@b\"\n",
         "alert.channel[0].to: an email channel needs at least one recipient"},
        {"[[alert.channel]]\nname = \"x\"\ntype = \"exec\"\n",
         "alert.channel[0].command: an exec channel needs a command"},
        {hook + "password = \"p\"\npassword_file = \"/p\"\n",
         "alert.channel[0].password_file: set password or password_file, not both"},
        {"[[alert.rule]]\nname = \"r\"\n[[alert.rule]]\nname = \"r\"\n",
         "nasops.toml:4:8: alert.rule[1].name: a rule of this name exists already"},
        {"[[alert.rule]]\nname = \"r\"\nmatch = { name = \"=~(\" }\n",
         "alert.rule[0].match: 'name': invalid regular expression '('"},
        {"[[alert.rule]]\nname = \"r\"\nexpr = \"value > > 3\"\n",
         "nasops.toml:3:17: alert.rule[0].expr: expected a number"},
        {"[[alert.rule]]\nname = \"r\"\nchannels = [\"nowhere\"]\n",
         "alert.rule[0].channels: no [[alert.channel]] is named 'nowhere'"},
        {"[[alert.inhibit]]\nsource_match = { severity = \"critical\" }\n",
         "alert.inhibit[0].target_match: an inhibit rule needs both source_match and target_match"},
        {"[[alert.inhibit]]\ntarget_match = { severity = \"warning\" }\n",
         "alert.inhibit[0].source_match: an inhibit rule needs both source_match and target_match"},
    };
    for (const auto& c : cases) {
        const auto message = problems_of(c.toml);
        EXPECT_NE(message.find(c.says), std::string::npos) << c.toml << "\n--> " << message;
    }
}

TEST(AlertRules, EveryProblemIsReportedAtOnce) {
    const auto message = problems_of(
        "[alert]\ndefault_channels = [\"a\", \"b\"]\n[[alert.rule]]\nname = \"r\"\nexpr = \"value >\"\n"
        "[[alert.channel]]\nname = \"x\"\ntype = \"exec\"\n");
    EXPECT_NE(message.find("no [[alert.channel]] is named 'a'"), std::string::npos) << message;
    EXPECT_NE(message.find("no [[alert.channel]] is named 'b'"), std::string::npos) << message;
    EXPECT_NE(message.find("alert.rule[0].expr"), std::string::npos) << message;
    EXPECT_NE(message.find("an exec channel needs a command"), std::string::npos) << message;
    EXPECT_EQ(std::ranges::count(message, '\n'), 3) << message;
}

TEST(AlertRules, TheChannelPasswordComesFromTheFileWhenOneIsNamed) {
    nasops::testing::TempDir dir;
    { std::ofstream(dir / "secret") << "hunter2\r\nsecond line\n"; }
    ::chmod((dir / "secret").c_str(), 0600);
    ChannelConfig inline_password{.name = "m", .password = "p"};
    EXPECT_EQ(channel_password(inline_password).value(), "p");
    ChannelConfig from_file{.name = "m", .password_file = dir / "secret"};
    EXPECT_EQ(channel_password(from_file).value(), "hunter2");
    ChannelConfig missing{.name = "m", .password_file = dir / "nothing"};
    const auto r = channel_password(missing);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::config);
    EXPECT_EQ(r.error().message,
              "channel 'm': password_file: cannot open " + (dir / "nothing").string() + ": No such file or directory");
}

TEST(AlertRules, APasswordFileOthersCanReadIsAConfigError) {
    nasops::testing::TempDir dir;
    const auto secret = dir / "smtp.password";
    { std::ofstream(secret) << "hunter2\n"; }
    ::chmod(secret.c_str(), 0644);
    const auto toml =
        "[[alert.channel]]\nname = \"m\"\ntype = \"email\"\nsmtp_url = \"smtp://x\"\nfrom = \"a@b\"\n"
        "to = [\"c@d\"]\nusername = \"u\"\npassword_file = \"" +
        secret.string() + "\"\n";
    EXPECT_EQ(problems_of(toml), "nasops.toml:8:17: alert.channel[0].password_file: " + secret.string() +
                                     " is readable by others (mode 0644), which ssh refuses for a key: run chmod 600 " +
                                     secret.string());
    ChannelConfig channel{.name = "m", .password_file = secret};
    EXPECT_FALSE(channel_password(channel)) << "nor read at delivery";
    ::chmod(secret.c_str(), 0600);
    EXPECT_EQ(problems_of(toml), "");
    EXPECT_EQ(channel_password(channel).value(), "hunter2");
}

TEST(AlertTemplates, FormatValueIsPlain) {
    struct Case {
        std::optional<double> value;
        std::string_view text;
    };
    const Case cases[] = {{std::nullopt, ""}, {0.93, "0.93"}, {1200.0, "1200"}, {-3.0, "-3"}, {0.5, "0.5"}};
    for (const auto& c : cases) EXPECT_EQ(format_value(c.value), c.text) << c.text;
}

TEST(AlertTemplates, NamesLeaveFiltersOut) {
    EXPECT_EQ(Template("{{ value | percent }} of {{labels.mount}} {{message}}").names(),
              (std::vector<std::string>{"value", "labels.mount", "message"}));
    EXPECT_TRUE(Template("no placeholders {{").names().empty());
    EXPECT_TRUE(Template().empty());
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
    // The NAS's check, under the name nasops-health gives it in records.
    evaluator.process(check("nas_disk", R"("target":"nas:/volume1","status":"critical","value":0.97)"));
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
    std::set<std::string> storage;
    for (const auto& [fp, a] : evaluator.alerts()) {
        if (a.alertname() == "storage_space_critical") storage.insert(a.annotations.at("summary"));
        if (a.alertname() == "transfer_failure_rate") {
            EXPECT_NEAR(*a.value, 0.2, 1e-9);
        }
        if (a.alertname() == "slow_large_transfer") {
            EXPECT_EQ(a.annotations.at("summary"), "/srv/a.mp4 took 40m");
        }
    }
    EXPECT_EQ(storage,
              (std::set<std::string>{"Storage /srv on cam-01 at 95.0%", "Storage nas:/volume1 on cam-01 at 97.0%"}));
}
