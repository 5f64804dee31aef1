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
        // Alertmanager's grammar: the operator is read first, then the value,
        // whose quotes and escapes never turn into an operator.
        {"severity=\"~x\"", "severity", MatchOp::equal, "~x", "severity=\"~x\""},
        {"severity=\"=x\"", "severity", MatchOp::equal, "=x", "severity=\"=x\""},
        {"severity!=~x", "severity", MatchOp::not_equal, "~x", "severity!=\"~x\""},
        {"a=\"x\\\"y\"", "a", MatchOp::equal, "x\"y", "a=\"x\\\"y\""},
        {"a=\"x\\\\y\"", "a", MatchOp::equal, "x\\y", "a=\"x\\\\y\""},
        {"a=\"two\\nlines\"", "a", MatchOp::equal, "two\nlines", "a=\"two\\nlines\""},
        {"a=\"\"", "a", MatchOp::equal, "", "a="},
        {"a=\" padded \"", "a", MatchOp::equal, " padded ", "a=\" padded \""},
        {"  a =  b  ", "a", MatchOp::equal, "b", "a=b"},            // blanks around name and value dropped
        {"a=~\\d+", "a", MatchOp::regex, "\\d+", "a=~\"\\\\d+\""},  // a backslash before another letter stays
        {"a=~\"\\\\.\"", "a", MatchOp::regex, "\\.", "a=~\"\\\\.\""},
        {"a=x\\", "a", MatchOp::equal, "x\\", "a=\"x\\\\\""},  // a last backslash is itself
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
        // RE2, as Alertmanager, refuses a repeated repetition.
        {"a=~.**mount", "invalid matcher 'a=~.**mount': invalid regular expression '.**mount'"},
        {"a=\"\"x\"\"", "invalid matcher 'a=\"\"x\"\"': the value has a double quote"},
        {"a=\"x", "the value has a double quote"},
        {"a=x\"", "the value has a double quote"},
        {"a=\"x\\\"", "the value has a double quote"},  // the closing quote is escaped
    };
    for (const auto& c : cases) {
        const auto m = Matcher::parse(c.text);
        ASSERT_FALSE(m) << c.text;
        EXPECT_EQ(m.error().code, ExitCode::usage) << c.text;
        EXPECT_NE(m.error().message.find(c.says), std::string::npos) << m.error().message;
    }
}

TEST(AlertMatcher, WritesEveryValueSoThatItParsesBack) {
    const std::string values[] = {
        "",      "disk",   "~x", "=x",  "!x",  "\"x\"", "\"\"x\"\"", "x\"", "\\",     "x\\",  "\\n",  "two\nlines",
        " lead", "trail ", "\t", "a b", "{x}", "a,b",   "\x01\x7f",  "é",   "\"=~\"", "a=~b", "\\\"",
    };
    for (const std::string op : {"=", "!="}) {
        for (const auto& value : values) {
            // A rule's match table reads "=~x" as a regex: equality with "~x" is written bare.
            const auto pair = op == "=" && value.starts_with('~') ? value : op + value;
            const auto m = Matcher::from_pair("name", pair).value();
            ASSERT_EQ(m.value(), value);
            const auto again = Matcher::parse(m.to_string());
            ASSERT_TRUE(again) << m.to_string() << ": " << again.error().message;
            EXPECT_EQ(again->op(), m.op()) << m.to_string();
            EXPECT_EQ(again->value(), value) << m.to_string();
            EXPECT_EQ(again->to_string(), m.to_string());
        }
    }
    for (const std::string regex : {"disk.*", "\\d+\\.\\d", "\"[a-z]\"", " x ", "a|b", "\\\\", "~x", "(?s).*"}) {
        for (const auto op : {"=~", "!~"}) {
            const auto m = Matcher::from_pair("name", op + regex).value();
            const auto again = Matcher::parse(m.to_string());
            ASSERT_TRUE(again) << m.to_string() << ": " << again.error().message;
            EXPECT_EQ(again->op(), m.op()) << m.to_string();
            EXPECT_EQ(again->value(), regex) << m.to_string();
        }
    }
}

TEST(AlertMatcher, PathologicalRegexesFinishWithTheRightAnswer) {
    // Patterns that make a backtracking engine try every way to split the
    // value: std::regex took over 10 s on 60 bytes. RE2 is linear, so these
    // finish (ctest's timeout is the guard); the answers must still be right.
    const std::string long_value(100000, 'a');
    struct Case {
        std::string_view matcher;
        std::string value;
        bool hit;
    };
    const Case cases[] = {
        {"v=~(.*)*mount", long_value + "mount", true},
        {"v=~(.*)*mount", long_value + "moun", false},
        {"v=~(.*.*)*mount", std::string(60, 'x') + "/mnt", false},
        {"v=~(a+)+b", long_value, false},
        {"v=~(a+)+b", long_value + "b", true},
        {"v=~(a|aa)*c", long_value, false},
        {"v!~(a|a)*", long_value, false},
        {"v!~(a|a)*", long_value + "b", true},
    };
    for (const auto& c : cases) {
        const auto m = Matcher::parse(c.matcher);
        ASSERT_TRUE(m) << c.matcher << ": " << m.error().message;
        EXPECT_EQ(m->matches(c.value), c.hit) << c.matcher << " on " << c.value.size() << " bytes";
    }
}

TEST(AlertMatcher, RegexesAreRe2Syntax) {
    struct Case {
        std::string_view matcher;
        std::string_view value;
        bool hit;
    };
    const Case cases[] = {
        {"v=~\\d{3}", "123", true},
        {"v=~[[:alpha:]]+", "disk", true},
        {"v=~(?i)DISK", "disk", true},
        {"v=~\\pL+", "caméra", true},
        {"v=~.", "é", true},  // one UTF-8 character
        {"v=~a.b", "a\nb", false},
        {"v=~(?s)a.b", "a\nb", true},  // as Go's regexp
        {"v=~disk|nas_disk", "nas_disk", true},
        {"v=~disk|nas", "nas_disk", false},  // the alternation anchored whole
    };
    for (const auto& c : cases) {
        EXPECT_EQ(Matcher::parse(c.matcher).value().matches(c.value), c.hit) << c.matcher << " on " << c.value;
    }
    // ECMAScript's lookahead and backreferences are not RE2; they are refused, not misread.
    EXPECT_FALSE(Matcher::parse("v=~(?=x)x"));
    EXPECT_FALSE(Matcher::parse("v=~(a)\\1"));
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
    for (const auto& c : cases) EXPECT_EQ(m.matches(c.value), c.hit) << c.value;
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
