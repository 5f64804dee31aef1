// The record reader's JSON parsing: its fast parser must agree with
// nlohmann::json::parse on every line, valid or not (same values, same number
// types, same verdict), and keep_fields must only leave fields out.

#include <gtest/gtest.h>

#include <sstream>

#include "nasops/record/record.hpp"

using namespace nasops;
using nlohmann::json;

namespace {

const std::string k_envelope = R"({"v":1,"ts":"2026-11-22T04:16:40.123Z","tool":"t","host":"h","kind":"event")";

std::vector<ReadItem> read_lines(const std::vector<std::string>& lines, const std::vector<std::string>& keep = {}) {
    std::string input;
    for (const auto& line : lines) input += line + "\n";
    std::istringstream in(input);
    RecordReader reader(in);
    reader.keep_fields(keep);
    std::vector<ReadItem> items;
    while (auto item = reader.next()) items.push_back(std::move(*item));
    return items;
}

// Same dump and the same number types all the way down (1 and 1u dump alike).
bool same_json(const json& a, const json& b) {
    if (a.type() != b.type() || a.size() != b.size()) return false;
    if (a.is_object()) {
        for (auto it = a.begin(); it != a.end(); ++it) {
            if (!b.contains(it.key()) || !same_json(*it, b.at(it.key()))) return false;
        }
        return true;
    }
    if (a.is_array()) {
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (!same_json(a[i], b[i])) return false;
        }
        return true;
    }
    return a.dump() == b.dump();
}

// Each line read alone must give what nlohmann gives: the same object, or a
// malformed_json problem when nlohmann refuses the line.
void expect_agreement(const std::vector<std::string>& lines) {
    const auto items = read_lines(lines);
    ASSERT_EQ(items.size(), lines.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto expected = json::parse(lines[i], nullptr, false);
        if (expected.is_discarded()) {
            const auto* problem = std::get_if<ReadProblem>(&items[i]);
            ASSERT_NE(problem, nullptr) << "accepted what nlohmann refuses: " << lines[i];
            EXPECT_EQ(problem->kind, ReadProblemKind::malformed_json) << lines[i];
            continue;
        }
        const auto* record = std::get_if<Record>(&items[i]);
        ASSERT_NE(record, nullptr) << lines[i] << ": " << std::get<ReadProblem>(items[i]).message;
        EXPECT_TRUE(same_json(record->object, expected))
            << lines[i] << "\n  read: " << record->object.dump() << "\n  nlohmann: " << expected.dump();
    }
}

std::vector<std::string> with_x(std::initializer_list<std::string_view> values) {
    std::vector<std::string> lines;
    for (const auto value : values) lines.push_back(k_envelope + R"(,"x":)" + std::string(value) + "}");
    return lines;
}

}  // namespace

TEST(RecordParse, NumbersKeepNlohmannsTypesAndLimits) {
    expect_agreement(with_x({"0",
                             "-0",
                             "1",
                             "-1",
                             "42",
                             "1.5",
                             "-1.25e-2",
                             "1e3",
                             "1E+3",
                             "1e-3",
                             "0.1",
                             "18446744073709551615",
                             "18446744073709551616",
                             "9223372036854775807",
                             "-9223372036854775808",
                             "-9223372036854775809",
                             "1e308",
                             "1.7976931348623157e308",
                             "1e309",
                             "-1e309",
                             "1e-400",
                             "123456789012345678901234567890",
                             "01",
                             "-01",
                             "1.",
                             ".5",
                             "+1",
                             "-",
                             "1e",
                             "1e+",
                             "0x10",
                             "NaN",
                             "Infinity",
                             "-Infinity",
                             "1.5.2",
                             "--1"}));
}

TEST(RecordParse, StringsEscapesAndUtf8AsNlohmann) {
    expect_agreement(with_x({R"("")",
                             R"("abc")",
                             R"("a\nb\tc\"d\\e\/f\bg\fh\ri")",
                             R"("\u00e9\u20ac")",
                             R"("\ud83d\ude00")",
                             R"("\u0000")",
                             R"("\uD83D\uDE00")",
                             R"("\ud83d")",
                             R"("\ud83d\u0041")",
                             R"("\ude00")",
                             R"("\u12")",
                             R"("\u12g4")",
                             R"("\x")",
                             R"("\)",
                             "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
                             "\"\x7f\"",
                             "\"\xff\"",
                             "\"\xc0\xaf\"",
                             "\"\xc1\xbf\"",
                             "\"\xe0\x80\xaf\"",
                             "\"\xed\xa0\x80\"",
                             "\"\xf0\x80\x80\xaf\"",
                             "\"\xf4\x90\x80\x80\"",
                             "\"\xf5\x80\x80\x80\"",
                             "\"\xe2\x82\"",
                             "\"\xe2\x82",
                             "\"a\x01"
                             "b\"",
                             "\"tab\there\"",
                             R"("unterminated)"}));
}

TEST(RecordParse, StructuresLiteralsAndWhitespaceAsNlohmann) {
    auto lines = with_x({"true", "false", "null", "tru", "nulll", "[]", "{}", "[1,[2,[3]],{\"a\":null}]",
                         R"({"b":{"c":[true,false,null,"s",1.5,-2]}})", "[1,]", "[,1]", R"({"a":1,})", R"({"a" 1})",
                         "{1:2}", R"({"a":1 "b":2})", " [ 1 , 2 ] ", "[\t1\t]", "[1 2]"});
    lines.push_back(" \t" + k_envelope + R"( , "x" : 1 } )");
    lines.push_back(k_envelope + R"(,"x":1,"x":"last wins"})");
    lines.push_back(k_envelope + R"(,"x":1} trailing)");
    lines.push_back(k_envelope + R"(,"x":1}{})");
    lines.push_back(k_envelope + R"(,"x":1)");
    lines.push_back("\xef\xbb\xbf" + k_envelope + "}");  // a byte order mark, which nlohmann skips
    lines.push_back(k_envelope + R"(,"x":)" + std::string(300, '[') + std::string(300, ']') + "}");
    expect_agreement(lines);
}

TEST(RecordParse, KeepFieldsLeavesOtherFieldsOutButStillChecksThem) {
    const auto items = read_lines(
        {
            k_envelope + R"(,"name":"disk","value":0.9,"details":{"rows":[1,2]},"message":"m"})",
            k_envelope + R"(,"name":"disk","details":{"rows":[1,2}})",        // malformed where it is not kept
            "\xef\xbb\xbf" + k_envelope + R"(,"name":"bom","message":"m"})",  // parsed by nlohmann, then trimmed
        },
        {"name", "value"});
    ASSERT_EQ(items.size(), 3u);
    const auto& first = std::get<Record>(items[0]);
    EXPECT_EQ(first.object, json::parse(k_envelope + R"(,"name":"disk","value":0.9})"));
    EXPECT_EQ(first.tool, "t");
    ASSERT_TRUE(std::holds_alternative<ReadProblem>(items[1]));
    EXPECT_EQ(std::get<ReadProblem>(items[1]).kind, ReadProblemKind::malformed_json);
    const auto& third = std::get<Record>(items[2]);
    EXPECT_EQ(third.object, json::parse(k_envelope + R"(,"name":"bom"})"));
}

TEST(RecordParse, WithoutKeepFieldsEveryFieldPassesThrough) {
    const std::string line = k_envelope + R"(,"name":"disk","unknown_field":{"a":[1,"b"]}})";
    const auto items = read_lines({line});
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(std::get<Record>(items[0]).object, json::parse(line));
}
