// Proven against the real engines (issue 21): the tools run on a host whose
// NAS is a throwaway sshd and write their textfiles for Debian's
// node_exporter; Debian's Prometheus scrapes it every second with the shipped
// rules loaded and sends alerts to Debian's Alertmanager, whose webhook is
// the HTTP sink. Through Prometheus' HTTP API: every family the tools wrote
// arrives with the host's instance label, every rule and every dashboard
// panel evaluates without error and shows the host, and a NAS made full
// fires NasopsNasAlmostFull through Alertmanager to the webhook, then
// resolves it. A missing engine fails the test.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/statvfs.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fixtures/child_process.hpp"
#include "fixtures/fleet_round.hpp"
#include "fixtures/http_sink.hpp"
#include "fixtures/metrics_doc.hpp"
#include "fixtures/prometheus_engines.hpp"
#include "fixtures/sshd_fixture.hpp"
#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/util/clock.hpp"

namespace fs = std::filesystem;
using nasops::testing::alert_rule_exprs;
using nasops::testing::CommandResult;
using nasops::testing::read_file;
using nasops::testing::TempDir;
using nasops::testing::write_file;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const fs::path k_deploy = fs::path(NASOPS_SOURCE_DIR) / "deploy";

// The shipped rules with every `for:` cut to 1s, so that a condition made
// true fires within the test rather than after its 5 minutes or an hour;
// the expressions, labels and annotations are the shipped ones, untouched.
std::string rules_with_short_for(const std::string& shipped) {
    return std::regex_replace(shipped, std::regex(R"((\n[ ]*for:)[ ]*\S+)"), "$1 1s");
}

// A panel as Grafana queries it: the hosts picked in its `host` variable,
// the time range shown, the step (Grafana's $__interval) and the data
// source's scrape interval (its "Scrape interval" setting).
struct GrafanaView {
    std::vector<std::string> hosts;
    std::chrono::seconds range;
    std::chrono::seconds step;
    std::chrono::seconds scrape;
};

// A value of a multi-value variable inside =~, escaped as Grafana's
// Prometheus data source does (prometheusSpecialRegexEscape): a backslash
// becomes four, a regex metacharacter gets two before it, so that PromQL's
// string leaves one for the regex.
std::string grafana_regex_escape(const std::string& value) {
    std::string out;
    for (const char c : value) {
        if (c == '\\') {
            out += R"(\\\\)";
        } else if (std::string_view("$^*{}[]'+?.()|").find(c) != std::string_view::npos) {
            out += R"(\\)";
            out += c;
        } else {
            out += c;
        }
    }
    return out;
}

// `expr` of a dashboard target with the variables put in as Grafana puts
// them for `view`, as $name or ${name}: host (several hosts: "(a|b)"),
// __interval (the step) and __interval_ms, __rate_interval
// (max($__interval + scrape interval, 4 x scrape interval), Grafana's
// rule), __range, __range_s and __range_ms. A variable left over is one this helper does not know: the test fails
// rather than guess.
std::string grafana_expr(std::string expr, const GrafanaView& view) {
    std::string hosts;
    for (const auto& host : view.hosts) hosts += (hosts.empty() ? "" : "|") + grafana_regex_escape(host);
    if (view.hosts.size() > 1) hosts = "(" + hosts + ")";
    const auto seconds = [](std::chrono::seconds s) { return fmt::format("{}s", s.count()); };
    // Longer names first: $__range is the start of $__range_ms.
    const std::vector<std::pair<std::string, std::string>> variables{
        {"__rate_interval", seconds(std::max(view.step + view.scrape, 4 * view.scrape))},
        {"__interval_ms", std::to_string(std::chrono::milliseconds(view.step).count())},
        {"__interval", seconds(view.step)},
        {"__range_ms", std::to_string(std::chrono::milliseconds(view.range).count())},
        {"__range_s", std::to_string(view.range.count())},
        {"__range", seconds(view.range)},
        {"host", hosts},
    };
    for (const auto& [name, value] : variables) {
        for (const auto& form : {"${" + name + "}", "$" + name}) {
            for (auto at = expr.find(form); at != std::string::npos; at = expr.find(form, at + value.size()))
                expr.replace(at, form.size(), value);
        }
    }
    EXPECT_EQ(expr.find('$'), std::string::npos) << "a dashboard variable the test does not know: " << expr;
    return expr;
}

// The families of an exposition, from its TYPE lines, with how many samples each has.
std::map<std::string, std::size_t> samples_per_family(const std::string& exposition) {
    std::map<std::string, std::size_t> out;
    std::istringstream lines(exposition);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("# TYPE ")) {
            std::istringstream words(line.substr(7));
            std::string name;
            words >> name;
            out[name];
        } else if (!line.empty() && line.front() != '#') {
            ++out[line.substr(0, line.find_first_of("{ "))];
        }
    }
    return out;
}

// Seconds since the epoch, as Prometheus' API takes times.
std::string api_time(nasops::SystemTimePoint t) {
    return fmt::format("{:.3f}", std::chrono::duration<double>(t.time_since_epoch()).count());
}

// Polls `done` every 200 ms; false after `limit`.
template <typename F>
bool eventually(F done, std::chrono::seconds limit = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(200ms);
    }
    return done();
}

// One edge host whose media folder and NAS share are small file systems of
// their own (so that "full" is the test's to decide, not the build
// machine's), with node_exporter reading its textfile folder, Prometheus
// scraping it with the shipped rules, and Alertmanager posting to the sink.
// SetUp runs the tools once as the crontab would on a healthy host.
class FleetEngines : public ::testing::Test {
protected:
    void SetUp() override {
        fs::create_directories(m_textfiles);
        write_file(m_rules, rules_with_short_for(read_file(k_deploy / "prometheus/nasops.rules.yml")));
        write_file(m_config,
                   nasops::testing::paths_config(m_dir.path()) + m_nas.config_section() +
                       fmt::format("[sync]\nsources = [\"{0}\"]\nmin_age = \"0s\"\n"
                                   "[health]\ndisk_paths = [\"{0}\"]\nprocesses = [\"prometheus\"]\n"
                                   "[[health.http]]\nurl = \"{1}\"\n"
                                   "[alert]\ndefault_channels = [\"hook\"]\n"
                                   "[[alert.channel]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"{2}\"\n"
                                   "[[alert.rule]]\nname = \"disk-full\"\nmatch = {{ kind = \"check\", name = "
                                   "\"disk\" }}\nseverity = \"critical\"\n"
                                   "[metrics]\ntextfile_dir = \"{3}\"\n",
                                   m_media.string(), m_sink.url("/health"), m_sink.url("/hook"), m_textfiles.string()));

        m_engines_started = std::chrono::system_clock::now();
        m_node = std::make_unique<nasops::testing::NodeExporter>(m_dir / "node_exporter", m_textfiles);
        m_alertmanager =
            std::make_unique<nasops::testing::Alertmanager>(m_dir / "alertmanager", 0, m_sink.url("/alertmanager"));
        m_prometheus = std::make_unique<nasops::testing::Prometheus>(
            m_dir / "prometheus",
            nasops::testing::PrometheusSetup{.targets = {m_node->target()},
                                             .rule_files = {m_rules},
                                             .alertmanager = fmt::format("127.0.0.1:{}", m_alertmanager->port())});
        run_healthy_round();
    }

    std::string host() const { return m_node->target(); }

    CommandResult tool(const std::string& name, std::vector<std::string> args, const std::string& input = {},
                       const std::map<std::string, std::string>& env = {}) {
        args.insert(args.begin(), {"--config", m_config.string()});
        return nasops::testing::run_tool(name, args, env, input);
    }

    void add_media(int first, int count) {
        for (int i = first; i < first + count; ++i) {
            const auto file = m_media / fmt::format("cam1/clip{}.mp4", i);
            write_file(file, nasops::testing::random_bytes(20000 + 1000 * i, i));
            nasops::testing::age_file(file);
        }
    }

    // The value of `family` for this host in Prometheus, NaN while it has none.
    double value_of(const std::string& family) const {
        const auto series = m_prometheus->query(fmt::format("{}{{instance=\"{}\"}}", family, host()));
        return series.empty() ? NAN : std::stod(series.at(0).at("value").at(1).get<std::string>());
    }

    // Each tool as the crontab runs it, on a host where all is well; the
    // uploads come in two runs with a scrape between them, so that rate()
    // over the counters has an increase to show.
    void run_healthy_round() {
        add_media(0, 3);
        auto r = tool("sync", {"run", "--quiet"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        ASSERT_TRUE(eventually([&] { return value_of("nasops_sync_files_transferred_total") == 3; }))
            << "Prometheus never got nasops-sync's first textfile";
        add_media(3, 2);
        r = tool("sync", {"run", "--quiet"});
        ASSERT_EQ(r.exit_code, 0) << r.err;

        r = tool("health", {"--format", "json"});
        // CRITICAL elsewhere is not this test's business: the load of a busy build
        // machine, the uptime of the watched Prometheus, which started seconds ago.
        ASSERT_LE(r.exit_code, 2) << r.out << r.err;
        for (const auto* check : {"disk", "nas_disk", "ssh", "http", "transfer"})
            ASSERT_EQ(check_status(r.out, check), "ok") << check << ": " << r.out;
        r = tool("alert", {}, nasops::testing::k_critical_disk_record);
        ASSERT_EQ(r.exit_code, 2) << r.err;  // fired and delivered to the sink
        ASSERT_NO_FATAL_FAILURE(nasops::testing::run_capacity_dbmaint_trace(
            [this](const std::string& name, std::vector<std::string> args, const std::string& input,
                   const std::map<std::string, std::string>& env) { return tool(name, std::move(args), input, env); },
            m_sink.port()));

        // Every file scraped as it is now: the last upload counted, the last tool's file read.
        ASSERT_TRUE(eventually([&] {
            return value_of("nasops_sync_files_transferred_total") == 5 &&
                   value_of("nasops_trace_export_pending_spans") == 0 &&
                   m_prometheus->query(fmt::format("node_textfile_mtime_seconds{{instance=\"{}\"}}", host())).size() ==
                       6;
        })) << "Prometheus never got every textfile of the round";
        m_round_done = std::chrono::system_clock::now();
    }

    // The status of the check `name` in nasops-health's JSON output (its first target's).
    static std::string check_status(const std::string& out, const std::string& name) {
        for (const auto& record : nasops::testing::parse_records(out))
            if (record.value("kind", "") == "check" && record.value("name", "") == name)
                return record.value("status", "");
        return "not run";
    }

    // The webhook posts Alertmanager made: {"status", "alerts": [...]}, one per notification.
    std::vector<json> alertmanager_posts() const {
        std::vector<json> posts;
        for (const auto& request : m_sink.requests())
            if (request.at("path") == "/alertmanager")
                posts.push_back(json::parse(request.at("body").get<std::string>()));
        return posts;
    }

    TempDir m_dir{"nasops-fleet-engines"};
    fs::path m_media = m_dir / "media";
    nasops::testing::TmpfsMount m_media_disk{m_media, "16m"};
    nasops::testing::SshdFixture m_nas;
    nasops::testing::TmpfsMount m_nas_disk{m_nas.remote_root(), "8m"};
    nasops::testing::HttpSink m_sink{m_dir / "sink"};
    fs::path m_textfiles = m_dir / "textfiles";
    fs::path m_config = m_dir / "nasops.toml";
    fs::path m_rules = m_dir / "nasops.rules.yml";
    std::unique_ptr<nasops::testing::NodeExporter> m_node;
    std::unique_ptr<nasops::testing::Alertmanager> m_alertmanager;
    std::unique_ptr<nasops::testing::Prometheus> m_prometheus;
    nasops::SystemTimePoint m_engines_started;
    nasops::SystemTimePoint m_round_done;
};

}  // namespace

TEST(GrafanaVariables, PutsTheHostsAndIntervalsAsGrafanaDoes) {
    const GrafanaView view{.hosts = {"127.0.0.1:9100"}, .range = 3600s, .step = 15s, .scrape = 15s};
    EXPECT_EQ(grafana_expr(R"(rate(a{instance=~"$host"}[$__rate_interval]) + b[$__range] / ${__interval_ms})", view),
              R"(rate(a{instance=~"127\\.0\\.0\\.1:9100"}[60s]) + b[3600s] / 15000)");
    EXPECT_EQ(grafana_expr("$__rate_interval", GrafanaView{.hosts = {}, .range = 60s, .step = 90s, .scrape = 15s}),
              "105s");
    EXPECT_EQ(grafana_expr(R"(a{instance=~"$host"})",
                           GrafanaView{.hosts = {"edge-01", "edge(2)"}, .range = 60s, .step = 1s, .scrape = 1s}),
              R"x(a{instance=~"(edge-01|edge\\(2\\))"})x");
}

TEST_F(FleetEngines, EveryFamilyTheToolsWroteArrivesWithTheHostsInstance) {
    // Documented families this host does not write, and why; any other missing one fails.
    const std::map<std::string, std::string> k_not_written_here{
        {"nasops_swap_used_ratio", "written only on a machine with swap"},
        {"nasops_transfer_oldest_pending_age_seconds", "written only while a file waits: every file is uploaded here"},
        {"nasops_service_active", "no [health] services: a test machine may run no systemd"},
        {"nasops_tls_cert_expiry_seconds", "no [health] tls_targets"},
        {"nasops_security_findings", "the security check runs only when named"},
    };
    std::set<std::string> written;
    std::size_t files = 0;
    for (const auto& entry : fs::directory_iterator(m_textfiles)) {
        if (entry.path().extension() != ".prom") continue;
        ++files;
        for (const auto& [family, samples] : samples_per_family(read_file(entry.path()))) {
            written.insert(family);
            const auto series = m_prometheus->query(fmt::format("{}{{instance=\"{}\"}}", family, host()));
            EXPECT_EQ(series.size(), samples)
                << family << " of " << entry.path().filename() << ": series in Prometheus";
            for (const auto& s : series) {
                EXPECT_EQ(s.at("metric").value("job", ""), "node") << family;
            }
        }
    }
    EXPECT_EQ(files, 6u) << "one textfile per tool";
    // node_exporter read every file, and says when each was written (NasopsTextfileStale reads it).
    EXPECT_EQ(value_of("node_textfile_scrape_error"), 0);
    EXPECT_EQ(m_prometheus->query(fmt::format("node_textfile_mtime_seconds{{instance=\"{}\"}}", host())).size(), files);

    const auto documented = nasops::testing::documented_metric_families();
    for (const auto& [family, doc] : documented) {
        if (written.contains(family)) continue;
        EXPECT_TRUE(k_not_written_here.contains(family))
            << family << " (nasops-" << doc.tool << ") was not written on this host, and the test does not say why";
    }
    for (const auto& family : written) EXPECT_TRUE(documented.contains(family)) << family << " is not documented";
}

TEST_F(FleetEngines, EveryRuleAndEveryPanelEvaluatesAndShowsTheHost) {
    // The rules: every one of the shipped file loaded and evaluated without
    // error once the round's data were in.
    const auto shipped = alert_rule_exprs(read_file(k_deploy / "prometheus/nasops.rules.yml"));
    ASSERT_GE(shipped.size(), 12u);
    json groups;
    const auto evaluated_since_round = [&] {
        groups = m_prometheus->api("rules").at("data").at("groups");
        std::size_t fresh = 0;
        for (const auto& group : groups)
            for (const auto& rule : group.at("rules")) {
                const auto at = nasops::parse_rfc3339(rule.value("lastEvaluation", ""));
                if (at && *at > m_round_done) ++fresh;
            }
        return fresh == shipped.size();
    };
    ASSERT_TRUE(eventually(evaluated_since_round)) << groups.dump(2);
    std::set<std::string> loaded;
    for (const auto& group : groups)
        for (const auto& rule : group.at("rules")) {
            const auto name = rule.at("name").get<std::string>();
            loaded.insert(name);
            EXPECT_EQ(rule.at("health"), "ok") << name << ": " << rule.value("lastError", "");
            EXPECT_EQ(rule.value("lastError", ""), "") << name;
        }
    std::set<std::string> names;
    for (const auto& [name, expr] : shipped) names.insert(name);
    EXPECT_EQ(loaded, names);

    // Each expression, as the file has it: every rule is an alert condition,
    // which must stay empty on this healthy host; what stands for "returns
    // data" is that every series it reads has data for the host, so that
    // the condition can become true here (the test below makes one true).
    for (const auto& [name, expr] : shipped) {
        const auto answer = m_prometheus->api("query", {{"query", expr}});
        ASSERT_EQ(answer.value("status", ""), "success") << name << ": " << answer.dump();
        for (const auto& series : answer.at("data").at("result"))
            EXPECT_NE(series.at("metric").value("instance", ""), host()) << name << " fires on a healthy host";
        for (const auto& metric : nasops::testing::promql_metric_names(expr)) {
            EXPECT_FALSE(m_prometheus->query(fmt::format("{}{{instance=\"{}\"}}", metric, host())).empty())
                << name << " reads " << metric << ", which this host does not have";
        }
    }

    // The dashboard: its host variable lists this host, and each target, as
    // Grafana sends it for the time since the engines started, evaluates and
    // has a value for the host (there is no exception: every panel has data
    // on a host that ran each tool).
    const auto dashboard = json::parse(read_file(k_deploy / "grafana/nasops.json"));
    const auto hosts = m_prometheus->api("label/instance/values", {{"match[]", "nasops_health_check_status"}});
    EXPECT_EQ(hosts.at("data"), json::array({host()})) << "label_values(nasops_health_check_status, instance)";
    const auto now = std::chrono::system_clock::now();
    const GrafanaView view{.hosts = {host()},
                           .range = std::chrono::ceil<std::chrono::seconds>(now - m_engines_started),
                           .step = 1s,
                           .scrape = 1s};
    std::size_t targets = 0;
    for (const auto& panel : dashboard.at("panels")) {
        const auto title = panel.at("title").get<std::string>();
        for (const auto& target : panel.at("targets")) {
            ++targets;
            const auto expr = grafana_expr(target.at("expr").get<std::string>(), view);
            const auto answer = m_prometheus->api(
                "query_range",
                {{"query", expr}, {"start", api_time(now - view.range)}, {"end", api_time(now)}, {"step", "1"}});
            ASSERT_EQ(answer.value("status", ""), "success") << title << ": " << expr << "\n" << answer.dump();
            std::size_t values = 0;
            for (const auto& series : answer.at("data").at("result")) {
                EXPECT_EQ(series.at("metric").value("instance", ""), host()) << title << ": " << expr;
                for (const auto& point : series.at("values"))
                    if (!std::isnan(std::stod(point.at(1).get<std::string>()))) ++values;
            }
            EXPECT_GT(values, 0u) << title << ": no value for " << host() << " from " << expr << "\n" << answer.dump();
        }
    }
    EXPECT_GE(targets, 14u);
}

TEST_F(FleetEngines, AFullNasFiresThroughAlertmanagerToTheWebhookAndResolves) {
    ASSERT_TRUE(alertmanager_posts().empty()) << "an alert fired on the healthy host: " << alertmanager_posts()[0];

    // Another writer fills the NAS share past 90%: what nasops-health's nas_disk check measures over SFTP.
    struct statvfs st {};
    ASSERT_EQ(::statvfs(m_nas.remote_root().c_str(), &st), 0);
    const auto size = static_cast<double>(st.f_blocks) * static_cast<double>(st.f_frsize);
    const auto used = static_cast<double>(st.f_blocks - st.f_bfree) * static_cast<double>(st.f_frsize);
    const auto filler = m_nas.remote_root() / "someone-elses-backup.bin";
    write_file(filler, std::string(static_cast<std::size_t>(0.95 * size - used), 'x'));
    auto r = tool("health", {"--format", "json"});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_EQ(check_status(r.out, "nas_disk"), "critical") << r.out;

    const auto fired = [&](const std::string& status) {
        for (const auto& post : alertmanager_posts())
            for (const auto& alert : post.at("alerts"))
                if (alert.at("status") == status && alert.at("labels").value("alertname", "") == "NasopsNasAlmostFull")
                    return alert;
        return json();
    };
    ASSERT_TRUE(eventually([&] { return !fired("firing").is_null(); }))
        << "Alertmanager posted no NasopsNasAlmostFull; Prometheus has " << m_prometheus->api("alerts").dump();
    const auto alert = fired("firing");
    EXPECT_EQ(alert.at("labels").value("instance", ""), host());
    EXPECT_EQ(alert.at("labels").value("severity", ""), "critical");
    EXPECT_NE(alert.at("labels").value("target", "").find(m_nas.remote_root().string()), std::string::npos) << alert;
    EXPECT_NE(alert.at("annotations").value("summary", "").find("more than 90% full"), std::string::npos) << alert;
    // Alertmanager holds it too, and nothing else fired.
    const auto held = m_alertmanager->alerts();
    ASSERT_EQ(held.size(), 1u) << held.dump();
    EXPECT_EQ(held.at(0).at("labels").value("alertname", ""), "NasopsNasAlmostFull");
    for (const auto& post : alertmanager_posts())
        for (const auto& a : post.at("alerts"))
            EXPECT_EQ(a.at("labels").value("alertname", ""), "NasopsNasAlmostFull") << "fired too: " << a;

    // The share is freed: the next health run resolves it, and the webhook hears that too.
    fs::remove(filler);
    r = tool("health", {"--format", "json"});
    EXPECT_EQ(check_status(r.out, "nas_disk"), "ok") << r.out;
    EXPECT_TRUE(eventually([&] { return !fired("resolved").is_null(); }))
        << "no resolved NasopsNasAlmostFull; Prometheus has " << m_prometheus->api("alerts").dump();
}
