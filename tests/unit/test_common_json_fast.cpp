// json_fast's member scan and string writer: a scan accepts exactly what the
// fast parser accepts, and lists what nlohmann would build; a written string
// reads back as the text it was given.

#include <gtest/gtest.h>

#include "nasops/record/json_fast.hpp"

using namespace nasops;
using nlohmann::json;

namespace {

std::vector<JsonMember> scan(std::string_view text, bool* ok = nullptr) {
    std::vector<JsonMember> members;
    const bool accepted = scan_json_object(text.data(), text.data() + text.size(), members);
    if (ok != nullptr) *ok = accepted;
    return members;
}

bool fast_accepts(std::string_view text) {
    json out;
    return parse_json_fast(text.data(), text.data() + text.size(), out);
}

}  // namespace

TEST(JsonFastScan, ListsTopLevelMembersWithTheirKindAndText) {
    const std::string text = R"( {"a":1, "b" : "x\"y", "c":{"d":[1,2]},"e":[],"f":true,"g":null,"a":-2.5e3} )";
    bool ok = false;
    const auto members = scan(text, &ok);
    ASSERT_TRUE(ok);
    ASSERT_EQ(members.size(), 7u);  // the duplicate too, in order
    EXPECT_EQ(members[0].key, "a");
    EXPECT_EQ(members[0].kind, JsonKind::number);
    EXPECT_EQ(members[0].value, "1");
    EXPECT_EQ(members[1].kind, JsonKind::string);
    EXPECT_EQ(members[1].value, R"(x\"y)");
    EXPECT_TRUE(members[1].value_escaped);
    std::string unescaped;
    unescape_json_string(members[1].value, unescaped);
    EXPECT_EQ(unescaped, "x\"y");
    EXPECT_EQ(members[2].kind, JsonKind::object);
    EXPECT_EQ(json::parse(members[2].value), json::parse(R"({"d":[1,2]})"));
    EXPECT_EQ(members[3].kind, JsonKind::array);
    EXPECT_EQ(members[4].kind, JsonKind::boolean);
    EXPECT_EQ(members[5].kind, JsonKind::null);
    EXPECT_EQ(members[6].value, "-2.5e3");
    EXPECT_FALSE(members[0].key_escaped);
}

TEST(JsonFastScan, AcceptsWhatTheFastParserAcceptsAndOnlyObjects) {
    for (const std::string_view text :
         {R"({})", R"({"a":1})", R"({"a":"\u00e9\ud83d\ude00"})", R"({"k\n":0})", R"({"a":1e999})", R"({"a":1,})",
          R"({"a" 1})", R"({"a":"\x"})", "{\"a\":\"\xff\"}", R"({"a":01})", R"({"a":1} x)", R"({"a":[1,2)"}) {
        bool ok = false;
        scan(text, &ok);
        EXPECT_EQ(ok, fast_accepts(text)) << text;
    }
    for (const std::string_view text : {"[1,2]", "\"s\"", "3", "null"}) {
        bool ok = true;
        scan(text, &ok);
        EXPECT_FALSE(ok) << text;
        EXPECT_TRUE(fast_accepts(text)) << text;
    }
    std::string deep = R"({"a":)" + std::string(300, '[') + std::string(300, ']') + "}";
    bool ok = true;
    scan(deep, &ok);
    EXPECT_FALSE(ok);  // nesting beyond 256 is left to nlohmann, as parse_json_fast leaves it
}

TEST(JsonFastWrite, StringsReadBackAndEscapeAsNlohmann) {
    for (const std::string& text :
         {std::string("plain"), std::string("quote \" backslash \\ slash /"),
          std::string("tab\tnewline\nreturn\rbell\x07 del\x7f"), std::string("\xc3\xa9t\xc3\xa9"),
          std::string("\xf0\x9f\x98\x80"), std::string("nul\0byte", 8), std::string()}) {
        std::string out;
        append_json_string(out, text);
        EXPECT_EQ(out, json(text).dump()) << text;
        EXPECT_EQ(json::parse(out).get<std::string>(), text);
    }
    std::string out;
    append_json_string(out, "bad \xff byte");
    EXPECT_EQ(json::parse(out).get<std::string>(), "bad \xef\xbf\xbd byte");
}
