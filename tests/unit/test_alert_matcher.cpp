// alert/matcher: Alertmanager-style matchers on records and labels, and the
// one way labels become JSON and text.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "alert/matcher.hpp"

using namespace nasops;
using namespace nasops::alert;

TEST(AlertMatcher, ParsesEachOperatorAndWritesItBack) {
    struct Case {
        std::string_view text;
        std::string_view name;
        MatchOp op;
        std::string_view value;
        std::string_view written;
    };
    const Case cases[] = {
        {"alertname=disk", "alertname", MatchOp::equal, "disk", "alertname=disk"},
        {"alertname=\"disk\"", "alertname", MatchOp::equal, "disk", "alertname=disk"},  // quotes dropped
        {"env!=prod", "env", MatchOp::not_equal, "prod", "env!=prod"},
        {"alertname=~disk.*", "alertname", MatchOp::regex, "disk.*", "alertname=~disk.*"},
        {"host!~cam-0[12]", "host", MatchOp::not_regex, "cam-0[12]", "host!~cam-0[12]"},
        {"labels.mount=/srv", "labels.mount", MatchOp::equal, "/srv", "labels.mount=/srv"},
        {"severity=", "severity", MatchOp::equal, "", "severity="},
    };
    for (const auto& c : cases) {
        const auto m = Matcher::parse(c.text);
        ASSERT_TRUE(m) << c.text << ": " << m.error().message;
        EXPECT_EQ(m->name(), c.name) << c.text;
        EXPECT_EQ(m->op(), c.op) << c.text;
        EXPECT_EQ(m->value(), c.value) << c.text;
        EXPECT_EQ(m->to_string(), c.written) << c.text;
    }
}

TEST(AlertMatcher, RefusesBadTextQuotingIt) {
    struct Case {
        std::string_view text;
        std::string_view says;
    };
    const Case cases[] = {
        {"alertname", "invalid matcher 'alertname': expected name=value"},
        {"=disk", "invalid matcher '=disk': expected name=value"},
        {"a!b", "invalid matcher 'a!b': expected name=value"},
        {"a b=c", "invalid matcher 'a b=c': invalid matcher name 'a b'"},
        {"a=~(", "invalid matcher 'a=~(': invalid regular expression '('"},
    };
    for (const auto& c : cases) {
        const auto m = Matcher::parse(c.text);
        ASSERT_FALSE(m) << c.text;
        EXPECT_EQ(m.error().code, ExitCode::usage) << c.text;
        EXPECT_NE(m.error().message.find(c.says), std::string::npos) << m.error().message;
    }
}

TEST(AlertMatcher, FromPairTakesTheOperatorFromTheValue) {
    struct Case {
        std::string_view value;
        MatchOp op;
        std::string_view rest;
    };
    const Case cases[] = {
        {"disk", MatchOp::equal, "disk"}, {"=disk", MatchOp::equal, "disk"},    {"!=disk", MatchOp::not_equal, "disk"},
        {"=~d.*", MatchOp::regex, "d.*"}, {"!~d.*", MatchOp::not_regex, "d.*"}, {"", MatchOp::equal, ""},
    };
    for (const auto& c : cases) {
        const auto m = Matcher::from_pair("name", c.value);
        ASSERT_TRUE(m) << c.value;
        EXPECT_EQ(m->op(), c.op) << c.value;
        EXPECT_EQ(m->value(), c.rest) << c.value;
    }
    EXPECT_FALSE(Matcher::from_pair("", "x"));
    EXPECT_FALSE(Matcher::from_pair("a/b", "x"));
}

TEST(AlertMatcher, RegexesAreAnchoredAtBothEnds) {
    const auto m = Matcher::parse("name=~disk").value();
    struct Case {
        std::string_view value;
        bool hit;
    };
    const Case cases[] = {{"disk", true}, {"disk_used", false}, {"nas-disk", false}, {"", false}};
    for (int round = 0; round < 2; ++round) {  // the second round answers from the cache
        for (const auto& c : cases) EXPECT_EQ(m.matches(c.value), c.hit) << c.value << " round " << round;
    }
    const auto not_m = Matcher::parse("name!~disk").value();
    for (const auto& c : cases) EXPECT_EQ(not_m.matches(c.value), !c.hit) << c.value;
}

TEST(AlertMatcher, MatchesRecordFieldsAsJsonWritesThem) {
    const auto record = nlohmann::json::parse(
        R"({"kind":"check","name":"disk","value":0.5,"count":3,"ok":true,"none":null,"labels":{"mount":"/srv"}})");
    struct Case {
        std::string_view matcher;
        bool hit;
    };
    const Case cases[] = {
        {"kind=check", true},        {"name=~dis.", true},      {"value=0.5", true},
        {"count=3", true},           {"ok=true", true},         {"none=", true},  // null reads as ""
        {"missing=", true},   // a missing field too, as in Prometheus
        {"env!=prod", true},  // so a missing label is not "prod"
        {"labels.mount=/srv", true}, {"labels.mount=/", false}, {"labels.nothing.deeper=", true},
        {"kind!=check", false},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(Matcher::parse(c.matcher).value().matches_record(record), c.hit) << c.matcher;
    }
}

TEST(AlertMatcher, MatchesAllNeedsEveryMatcher) {
    const Labels labels{{"alertname", "disk"}, {"severity", "critical"}};
    const std::vector<Matcher> both{Matcher::parse("alertname=disk").value(),
                                    Matcher::parse("severity=~crit.*").value()};
    const std::vector<Matcher> one_wrong{Matcher::parse("alertname=disk").value(),
                                         Matcher::parse("severity=warning").value()};
    EXPECT_TRUE(matches_all(both, labels));
    EXPECT_FALSE(matches_all(one_wrong, labels));
    EXPECT_TRUE(matches_all({}, labels));
    EXPECT_TRUE(Matcher::parse("instance=").value().matches_labels(labels));
}

TEST(AlertLabels, TurnIntoJsonAndBack) {
    const Labels labels{{"alertname", "disk"}, {"instance", "cam-01"}, {"mount", "/srv"}};
    const auto j = labels_json(labels);
    EXPECT_EQ(j.dump(), R"({"alertname":"disk","instance":"cam-01","mount":"/srv"})");
    EXPECT_EQ(labels_from_json(j), labels);
    EXPECT_EQ(labels_json({}).dump(), "{}");
}

TEST(AlertLabels, FromJsonKeepsStringMembersOnly) {
    EXPECT_EQ(labels_from_json(nlohmann::json::parse(R"({"a":"x","b":1,"c":null,"d":{"e":"f"}})")),
              (Labels{{"a", "x"}}));
    EXPECT_TRUE(labels_from_json(nlohmann::json::parse("[1,2]")).empty());
    EXPECT_TRUE(labels_from_json(nlohmann::json()).empty());
}

TEST(AlertLabels, InlineInNameOrderWithoutTheSkippedNames) {
    const Labels labels{{"severity", "critical"}, {"mount", "/srv"}, {"alertname", "disk"}, {"instance", "cam-01"}};
    EXPECT_EQ(labels_inline(labels), "instance=cam-01 mount=/srv");
    EXPECT_EQ(labels_inline(labels, {}), "alertname=disk instance=cam-01 mount=/srv severity=critical");
    EXPECT_EQ(labels_inline(labels, {"mount", "instance", "alertname", "severity"}), "");
    EXPECT_EQ(labels_inline({}), "");
}
