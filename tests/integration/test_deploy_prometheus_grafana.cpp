// The fleet files of deploy/: the Prometheus rules and the Grafana dashboard
// read only metrics that exist (a family of nasops-metrics(7), or
// node_exporter's node_*), the dashboard is importable as it is, and every
// rule has promtool unit tests that make it fire and keep it quiet
// (promtool itself runs them: the ctest tests PrometheusRules*).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "fixtures/metrics_doc.hpp"
#include "fixtures/temp_dir.hpp"

namespace fs = std::filesystem;
using nasops::testing::alert_rule_exprs;
using nasops::testing::documented_metric_families;
using nasops::testing::known_metric;
using nasops::testing::promql_metric_names;
using nasops::testing::read_file;

namespace {

const fs::path k_deploy = fs::path(NASOPS_SOURCE_DIR) / "deploy";

}  // namespace

TEST(DeployPrometheus, EveryRuleReadsMetricsThatExist) {
    const auto documented = documented_metric_families();
    const auto rules = alert_rule_exprs(read_file(k_deploy / "prometheus/nasops.rules.yml"));
    EXPECT_GE(rules.size(), 12u);
    for (const auto& [alert, expr] : rules) {
        const auto names = promql_metric_names(expr);
        EXPECT_FALSE(names.empty()) << alert << ": no metric in " << expr;
        for (const auto& name : names) {
            EXPECT_TRUE(known_metric(documented, name)) << alert << " reads " << name << ", which no tool writes";
        }
    }
}

TEST(DeployPrometheus, EveryRuleHasATestThatFiresItAndOneThatDoesNot) {
    const auto rules = alert_rule_exprs(read_file(k_deploy / "prometheus/nasops.rules.yml"));
    std::string tests;
    for (const auto& entry : fs::directory_iterator(k_deploy / "prometheus/tests")) {
        if (entry.path().extension() == ".yml") tests += read_file(entry.path());
    }
    for (const auto& [alert, expr] : rules) {
        // "alertname: X" followed by its exp_alerts: a list with labels, or [].
        const std::regex firing("alertname: " + alert + "\\n\\s*exp_alerts:\\n\\s*- exp_labels:");
        const std::regex quiet("alertname: " + alert + "\\n\\s*exp_alerts: \\[\\]");
        EXPECT_TRUE(std::regex_search(tests, firing)) << alert << " has no test in which it fires";
        EXPECT_TRUE(std::regex_search(tests, quiet)) << alert << " has no test in which it stays quiet";
    }
}

TEST(DeployGrafana, TheDashboardIsImportableAndReadsMetricsThatExist) {
    const auto documented = documented_metric_families();
    const auto dashboard = nlohmann::json::parse(read_file(k_deploy / "grafana/nasops.json"));
    EXPECT_GE(dashboard.at("schemaVersion").get<int>(), 36) << "a current Grafana's dashboard schema";
    EXPECT_FALSE(dashboard.at("title").get<std::string>().empty());
    EXPECT_FALSE(dashboard.at("uid").get<std::string>().empty());

    // The host variable lists the fleet from a nasops metric.
    const auto& variables = dashboard.at("templating").at("list");
    const auto host = std::find_if(variables.begin(), variables.end(),
                                   [](const nlohmann::json& v) { return v.at("name") == "host"; });
    ASSERT_NE(host, variables.end()) << "no host variable";
    const auto definition = host->at("definition").get<std::string>();
    std::smatch m;
    ASSERT_TRUE(std::regex_match(definition, m, std::regex(R"(label_values\((nasops_[a-z0-9_]+), instance\))")))
        << definition;
    EXPECT_TRUE(documented.contains(m[1])) << m[1];

    std::set<std::string> titles;
    std::set<std::string> read;
    for (const auto& panel : dashboard.at("panels")) {
        const auto title = panel.at("title").get<std::string>();
        titles.insert(title);
        EXPECT_TRUE(panel.contains("datasource")) << title << " has no datasource";
        ASSERT_TRUE(panel.contains("targets") && !panel.at("targets").empty()) << title << " has no target";
        for (const auto& target : panel.at("targets")) {
            EXPECT_TRUE(target.contains("datasource")) << title;
            const auto expr = target.at("expr").get<std::string>();
            EXPECT_NE(expr.find("$host"), std::string::npos) << title << ": " << expr << " ignores the host variable";
            const auto names = promql_metric_names(expr);
            EXPECT_FALSE(names.empty()) << title << ": " << expr;
            for (const auto& name : names) {
                EXPECT_TRUE(known_metric(documented, name)) << title << " reads " << name << ", which no tool writes";
                read.insert(name);
            }
        }
    }
    // What the handbook's dashboard shows, and the fleet's additions.
    for (const auto* name :
         {"nasops_sync_files_transferred_total", "nasops_sync_queue_files", "nasops_disk_used_ratio",
          "node_cpu_seconds_total", "node_memory_MemAvailable_bytes", "nasops_sync_transferred_bytes_total",
          "nasops_sync_transfer_failures_total", "nasops_capacity_seconds_until_full", "nasops_alert_active_alerts",
          "nasops_dbmaint_last_backup_timestamp_seconds"}) {
        EXPECT_TRUE(read.contains(name)) << "no panel shows " << name;
    }
}

TEST(DeployGrafana, ThresholdsAreTheHandbooks) {
    const auto dashboard = nlohmann::json::parse(read_file(k_deploy / "grafana/nasops.json"));
    std::map<std::string, std::vector<double>> steps;
    for (const auto& panel : dashboard.at("panels")) {
        const auto& defaults = panel.at("fieldConfig").at("defaults");
        if (!defaults.contains("thresholds")) continue;
        for (const auto& step : defaults.at("thresholds").at("steps")) {
            if (!step.at("value").is_null())
                steps[panel.at("title").get<std::string>()].push_back(step.at("value").get<double>());
        }
    }
    EXPECT_EQ(steps["Transfer success rate"], (std::vector<double>{0.90, 0.95, 0.98}));
    EXPECT_EQ(steps["Storage used"], (std::vector<double>{0.8, 0.9}));
}

TEST(PromqlMetricNames, TakesSelectorsAndLeavesFunctionsLabelsAndOperators) {
    EXPECT_EQ(promql_metric_names(R"(sum by (instance) (rate(nasops_a_total{state="x y"}[$__rate_interval])) > 1e6)"),
              (std::set<std::string>{"nasops_a_total"}));
    EXPECT_EQ(promql_metric_names("time() - b and on (instance) c{d=\"e\"} > bool 3600 unless node_x offset 5m"),
              (std::set<std::string>{"b", "c", "node_x"}));
    EXPECT_EQ(promql_metric_names("resets(a[30m]) >= 2 or sum by (instance) (b) > 0"),
              (std::set<std::string>{"a", "b"}));
}
