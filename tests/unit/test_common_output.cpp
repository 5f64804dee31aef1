#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "nasops/core/exit_code.hpp"
#include "nasops/core/output.hpp"

using namespace nasops;

namespace {
constexpr std::array k_text_json{OutputFormat::text, OutputFormat::json};
constexpr std::array k_all{OutputFormat::text, OutputFormat::json, OutputFormat::nagios, OutputFormat::prom};
}  // namespace

TEST(OutputFormat, ParsesOfferedFormats) {
    EXPECT_EQ(parse_output_format("json", k_text_json).value(), OutputFormat::json);
    EXPECT_EQ(parse_output_format("prom", k_all).value(), OutputFormat::prom);
}

TEST(OutputFormat, KnownButNotOfferedIsAUsageErrorListingTheChoices) {
    auto r = parse_output_format("nagios", k_text_json);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::usage);
    EXPECT_NE(r.error().message.find("not offered"), std::string::npos);
    EXPECT_NE(r.error().message.find("text, json"), std::string::npos);
}

TEST(OutputFormat, UnknownIsAUsageError) {
    auto r = parse_output_format("xml", k_all);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("unknown format"), std::string::npos);
}

// Under ctest stderr is not a terminal, and a regular file never is.
TEST(Output, NoColourOrProgressOffATty) {
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    EXPECT_FALSE(colour_enabled(f, Quiet::no));
    EXPECT_FALSE(progress_enabled(f, Quiet::no));
    EXPECT_FALSE(progress_enabled(f, Quiet::yes));
    ProgressLine line(f, progress_enabled(f, Quiet::no));
    line.update(1, 2, 10, 20);
    std::fflush(f);
    EXPECT_EQ(std::ftell(f), 0);  // nothing drawn into a file
    std::fclose(f);
}

TEST(Output, ProgressRendersCountsRateAndEta) {
    const auto text = ProgressLine::render(3, 10, 512ull << 20, 2048ull << 20, 10.0);
    EXPECT_EQ(text, "files 3/10  512.0 MiB/2.0 GiB  51.2 MiB/s  ETA 30s");
    EXPECT_EQ(ProgressLine::render(0, 5, 0, 100, 0.0), "files 0/5  0 B/100 B  0 B/s  ETA --");
}

TEST(ExitCode, WorstStateRanksCriticalOverWarningOverUnknownOverOk) {
    EXPECT_EQ(worst_state(ExitCode::ok, ExitCode::warning), ExitCode::warning);
    EXPECT_EQ(worst_state(ExitCode::critical, ExitCode::warning), ExitCode::critical);
    EXPECT_EQ(worst_state(ExitCode::unknown, ExitCode::ok), ExitCode::unknown);
    EXPECT_EQ(worst_state(ExitCode::unknown, ExitCode::warning), ExitCode::warning);
    EXPECT_EQ(exit_code_name(ExitCode::critical), "CRITICAL");
    EXPECT_EQ(to_int(ExitCode::temp_failure), 75);
    EXPECT_EQ(to_int(ExitCode::config), 78);
}
