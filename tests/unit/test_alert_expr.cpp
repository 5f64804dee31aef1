#include <gtest/gtest.h>

#include "alert/expr.hpp"

using namespace nasops;
using namespace nasops::alert;

namespace {

nlohmann::json record() {
    return nlohmann::json::parse(R"({"kind":"check","name":"disk","status":"warning","value":0.93,
        "success_ratio":0.85,"queue_length":150,"bytes":20000000000,"seconds":2000,"flag":true,
        "labels":{"mount":"/srv","job":"nightly"},"text_number":"42"})");
}

bool eval(std::string_view text) {
    auto expr = Expr::parse(text);
    EXPECT_TRUE(expr) << text << ": " << (expr ? "" : expr.error().message);
    if (!expr) return false;
    auto result = expr->evaluate(record());
    EXPECT_TRUE(result.has_value()) << text << " was unknown";
    return result.value_or(false);
}

std::optional<bool> eval_optional(std::string_view text) {
    auto expr = Expr::parse(text);
    EXPECT_TRUE(expr) << text;
    return expr->evaluate(record());
}

ExprError parse_error(std::string_view text) {
    auto expr = Expr::parse(text);
    EXPECT_FALSE(expr) << text << " parsed";
    return expr ? ExprError{} : expr.error();
}

}  // namespace

TEST(AlertExpr, ComparesNumbers) {
    EXPECT_TRUE(eval("value > 0.9"));
    EXPECT_FALSE(eval("value > 0.95"));
    EXPECT_TRUE(eval("value >= 0.93 and value <= 0.93"));
    EXPECT_TRUE(eval("value == 0.93"));
    EXPECT_TRUE(eval("value = 0.93"));
    EXPECT_TRUE(eval("value != 1"));
    EXPECT_TRUE(eval("text_number == 42"));
}

TEST(AlertExpr, UnitsOnNumbers) {
    EXPECT_TRUE(eval("value > 90%"));
    EXPECT_FALSE(eval("value > 95%"));
    EXPECT_TRUE(eval("bytes > 10G"));    // 10 GiB
    EXPECT_TRUE(eval("bytes > 10GB"));   // 10^9
    EXPECT_TRUE(eval("seconds > 30m"));  // 1800 s
    EXPECT_FALSE(eval("seconds > 1h"));
    EXPECT_TRUE(eval("seconds > 1800 and bytes > 10GB"));  // the handbook's slow transfer
}

TEST(AlertExpr, BooleanLogicAndPrecedence) {
    EXPECT_TRUE(eval("success_ratio < 0.9 and queue_length > 100"));
    EXPECT_FALSE(eval("success_ratio < 0.8 and queue_length > 100"));
    EXPECT_TRUE(eval("success_ratio < 0.8 or queue_length > 100"));
    EXPECT_TRUE(eval("not success_ratio < 0.8"));
    EXPECT_FALSE(eval("success_ratio < 0.8 or queue_length > 100 and value > 1"));  // and binds tighter
    EXPECT_TRUE(eval("(success_ratio < 0.8 or queue_length > 100) and value < 1"));
    EXPECT_TRUE(eval("queue_length > 100 && !(value > 1) || false"));
    EXPECT_TRUE(eval("flag == true"));
}

TEST(AlertExpr, Arithmetic) {
    EXPECT_TRUE(eval("bytes / seconds > 1M"));
    EXPECT_TRUE(eval("queue_length * 2 - 100 == 200"));
    EXPECT_TRUE(eval("-value < 0"));
}

TEST(AlertExpr, StatusWordsCompareByRank) {
    EXPECT_TRUE(eval("status >= \"warning\""));
    EXPECT_FALSE(eval("status >= 'critical'"));
    EXPECT_TRUE(eval("status > 'unknown'"));
    EXPECT_TRUE(eval("status != 'ok'"));
    EXPECT_TRUE(eval("labels.job == 'nightly'"));
}

TEST(AlertExpr, MissingFieldMakesTheConditionUnknown) {
    EXPECT_FALSE(eval_optional("nope > 1").has_value());
    EXPECT_FALSE(eval_optional("labels.nope == 'x'").has_value());
    EXPECT_FALSE(eval_optional("nope > 1 and value > 0.5").has_value());
    EXPECT_EQ(eval_optional("nope > 1 and value > 5"), false);  // false and unknown is false
    EXPECT_EQ(eval_optional("nope > 1 or value > 0.5"), true);  // true or unknown is true
    EXPECT_FALSE(eval_optional("value / 0 > 1").has_value());
}

TEST(AlertExpr, PrimaryValueIsTheLeftOfTheFirstComparison) {
    auto expr = Expr::parse("success_ratio < 0.9 and queue_length > 100");
    ASSERT_TRUE(expr);
    EXPECT_DOUBLE_EQ(expr->primary_value(record()).value(), 0.85);
    auto status = Expr::parse("status == 'warning'");
    EXPECT_FALSE(status->primary_value(record()).has_value());
}

TEST(AlertExpr, ErrorsSayWhatAndWhere) {
    auto e = parse_error("value >");
    EXPECT_EQ(e.offset, 7u);
    EXPECT_NE(e.message.find("expected a number"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("found the end"), std::string::npos) << e.message;
    e = parse_error("value > 90 junk");
    EXPECT_EQ(e.offset, 11u);
    e = parse_error("value > 10 < 20");
    EXPECT_NE(e.message.find("do not chain"), std::string::npos);
    e = parse_error("value > 10XB");
    EXPECT_EQ(e.offset, 10u);
    EXPECT_NE(e.message.find("unknown unit 'XB'"), std::string::npos) << e.message;
    e = parse_error("(value > 1");
    EXPECT_NE(e.message.find("expected ')'"), std::string::npos);
    e = parse_error("name == 'open");
    EXPECT_EQ(e.offset, 8u);
    EXPECT_NE(e.message.find("unterminated"), std::string::npos);
    e = parse_error("value $ 3");
    EXPECT_EQ(e.offset, 6u);
    EXPECT_EQ(parse_error("   ").message, "empty expression");
}

// The fuzz target's find: 3,000 opening brackets overflowed the parser's
// stack. Nesting and depth are bounded; what stays within the bounds works.
TEST(AlertExpr, DeepNestingIsRefusedNotAStackOverflow) {
    const auto wrapped = [](std::string_view open, int n, std::string_view inner, std::string_view close) {
        std::string text;
        for (int i = 0; i < n; ++i) text += open;
        text += inner;
        for (int i = 0; i < n; ++i) text += close;
        return text;
    };
    auto e = parse_error(wrapped("(", 3000, "value > 1", ")"));
    EXPECT_NE(e.message.find("nest more than 64 deep"), std::string::npos) << e.message;
    EXPECT_GT(e.offset, 60u) << "where it went too deep";
    EXPECT_LT(e.offset, 70u) << "where it went too deep";
    e = parse_error(wrapped("not ", 500, "ok", ""));
    EXPECT_NE(e.message.find("nest more than 64 deep"), std::string::npos) << e.message;
    e = parse_error(wrapped("-", 500, "1", "") + " < 0");
    EXPECT_NE(e.message.find("nest more than 64 deep"), std::string::npos) << e.message;

    std::string chain = "value";
    for (int i = 0; i < 300; ++i) chain += " + 1";
    e = parse_error(chain + " > 0");
    EXPECT_NE(e.message.find("more than 256 operators deep"), std::string::npos) << e.message;

    const auto record = nlohmann::json::parse(R"({"value": 5})");
    EXPECT_EQ(Expr::parse(wrapped("(", 60, "value > 1", ")")).value().evaluate(record), true);
    EXPECT_EQ(Expr::parse(wrapped("not ", 60, "value > 1", "")).value().evaluate(record), true);
}
