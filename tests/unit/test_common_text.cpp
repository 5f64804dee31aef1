#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/util/text.hpp"

using namespace nasops;

TEST(Text, TrimRemovesAsciiWhitespaceAtBothEndsOnly) {
    struct Case {
        std::string_view in, out;
    };
    const Case cases[] = {
        {"", ""},
        {"   ", ""},
        {"a", "a"},
        {" a ", "a"},
        {"\t\r\n\v\fa b\t\r\n\v\f", "a b"},
        {"a  b", "a  b"},
        {"\xc2\xa0x", "\xc2\xa0x"},  // a UTF-8 no-break space is not ASCII whitespace
    };
    for (const auto& c : cases) EXPECT_EQ(trim(c.in), c.out) << '"' << c.in << '"';
}

TEST(Text, LowerFoldsAsciiOnly) {
    EXPECT_EQ(lower("Edge-01.EXAMPLE.net"), "edge-01.example.net");
    EXPECT_EQ(lower("MiB"), "mib");
    EXPECT_EQ(lower(""), "");
    EXPECT_EQ(lower("\xc3\x84x"), "\xc3\x84x");  // "Äx": UTF-8 bytes unchanged
}

TEST(Text, IequalsIgnoresAsciiCase) {
    EXPECT_TRUE(iequals("Content-Type", "content-type"));
    EXPECT_TRUE(iequals("", ""));
    EXPECT_FALSE(iequals("abc", "abd"));
    EXPECT_FALSE(iequals("abc", "ab"));
}

TEST(Text, EditDistanceCountsTyposOfEachKind) {
    struct Case {
        std::string_view a, b;
        std::size_t distance;
    };
    const Case cases[] = {
        {"", "", 0},
        {"", "abc", 3},
        {"abc", "", 3},
        {"jobs", "jobs", 0},
        {"job", "jobs", 1},         // insertion
        {"jobss", "jobs", 1},       // deletion
        {"jabs", "jobs", 1},        // substitution
        {"mni_age", "min_age", 1},  // transposition of neighbours
        {"MIN_AGE", "min_age", 0},  // case does not count
        {"disk_usd", "disk_used", 1},
        {"kitten", "sitting", 3},
        {"ca", "abc", 3},  // optimal string alignment, not Damerau: no edit after a swap
    };
    for (const auto& c : cases) {
        EXPECT_EQ(edit_distance(c.a, c.b), c.distance) << c.a << " -> " << c.b;
        EXPECT_EQ(edit_distance(c.b, c.a), c.distance) << c.b << " -> " << c.a;
    }
}

TEST(Text, NearEnoughAllowsAThirdOfTheCandidateBetweenOneAndThree) {
    struct Case {
        std::size_t distance;
        std::string_view candidate;
        bool near;
    };
    const Case cases[] = {
        {1, "db", true},                            // short names still get one typo
        {2, "db", false},     {2, "jobs_x", true},  // 6 / 3
        {3, "jobs_x", false}, {3, "transfer_rate", true}, {4, "transfer_queue_files", false},  // never more than 3
    };
    for (const auto& c : cases) EXPECT_EQ(near_enough(c.distance, c.candidate), c.near) << c.candidate;
}

TEST(Text, DidYouMeanPicksTheClosestNearEnoughCandidate) {
    const std::array<std::string_view, 5> names{"jobs", "min_age", "verify", "disk_used", "disk_free"};
    struct Case {
        std::string_view word;
        std::optional<std::string_view> suggestion;
    };
    const Case cases[] = {
        {"job", "jobs"},           {"mni_age", "min_age"}, {"VERIFY", "verify"},        {"disk_usd", "disk_used"},
        {"disk_fre", "disk_free"}, {"x", std::nullopt},    {"bandwidth", std::nullopt},
    };
    for (const auto& c : cases) EXPECT_EQ(did_you_mean(c.word, names), c.suggestion) << c.word;
}

TEST(Text, DidYouMeanTakesTheFirstOfEqualsAndAProjection) {
    struct Named {
        std::string name;
    };
    const std::vector<Named> items{{"cpu"}, {"cpv"}};
    EXPECT_EQ(did_you_mean("cpx", items, &Named::name), "cpu");
    EXPECT_EQ(did_you_mean("cpx", std::vector<Named>{}, &Named::name), std::nullopt);
}
