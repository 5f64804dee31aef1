// The evaluator's fingerprints: computed on the hot path without building the
// labels, they must equal the fingerprint of the labels the alert carries, or
// alerts stored by one run would not be found by the next.

#include <gtest/gtest.h>

#include "alert/engine.hpp"

using namespace nasops;
using namespace nasops::alert;

namespace {

struct Case {
    const char* what;
    Labels rule_labels;
    bool from_checks;
    nlohmann::json record;
};

}  // namespace

TEST(AlertFingerprint, HotPathEqualsTheFingerprintOfTheAlertsLabels) {
    const nlohmann::json check{{"kind", "check"},  {"name", "disk"}, {"host", "cam-01"},
                               {"target", "/srv"}, {"path", "/a"},   {"status", "critical"}};
    nlohmann::json overlapping = check;
    // Record labels that the envelope, the rule and alertname override.
    overlapping["labels"] = {{"instance", "x"}, {"alertname", "y"}, {"area", "z"},
                             {"severity", "s"}, {"check", "c"},     {"zone", "north"}};
    const Case cases[] = {
        {"no labels", {}, false, check},
        {"check rule", {}, true, check},
        {"rule labels before and after alertname", {{"area", "storage"}, {"tier", "1"}}, false, check},
        {"everything overlaps", {{"area", "storage"}, {"instance", "rule"}, {"alertname", "r"}}, false, overlapping},
        {"metric without host", {{"b", "2"}}, false, {{"kind", "metric"}, {"name", "m1"}, {"labels", {{"a", "1"}}}}},
    };
    std::vector<std::pair<std::string_view, std::string_view>> scratch;
    for (const auto& c : cases) {
        Rule rule;
        rule.name = "rule_1";
        rule.labels = c.rule_labels;
        rule.from_checks = c.from_checks;
        EXPECT_EQ(series_fingerprint(rule, c.record, scratch), fingerprint(rule.name, series_labels(rule, c.record)))
            << c.what;
    }
}

TEST(AlertFingerprint, DependsOnTheRuleAndTheLabelsButNotTheSeverity) {
    const auto a = fingerprint("r", Labels{{"alertname", "r"}, {"instance", "cam-01"}});
    EXPECT_EQ(a.size(), 16u);
    EXPECT_EQ(a, fingerprint("r", Labels{{"alertname", "r"}, {"instance", "cam-01"}, {"severity", "critical"}}));
    EXPECT_NE(a, fingerprint("s", Labels{{"alertname", "r"}, {"instance", "cam-01"}}));
    EXPECT_NE(a, fingerprint("r", Labels{{"alertname", "r"}, {"instance", "cam-02"}}));
}
