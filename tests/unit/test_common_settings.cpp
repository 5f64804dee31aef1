// core/settings: the command line over nasops.toml over the defaults, one
// helper per kind of value, and start_tool.

#include <gtest/gtest.h>

#include <fstream>

#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/core/settings.hpp"

using namespace nasops;
using namespace std::chrono_literals;

namespace {

// [sync] with min_age, max_duration, max_bytes, bwlimit, jobs and include set in the file.
const Config& file_config() {
    static const Config config = parse_config(R"([sync]
min_age = "10m"
max_duration = "1h"
max_bytes = "2G"
bwlimit = "10M"
jobs = 8
include = ["*.mp4"]
)",
                                              "nasops.toml")
                                     .value();
    return config;
}

const ConfigTable& file_sync() {
    return file_config().section("sync");
}

const ConfigTable& default_sync() {
    static const Config config = Config::defaults();
    return config.section("sync");
}

std::optional<std::string> typed(const char* text) {
    return text == nullptr ? std::nullopt : std::optional<std::string>(text);
}

}  // namespace

TEST(Settings, ADurationComesFromTheCommandLineElseTheFileElseTheDefault) {
    struct Case {
        const char* typed;
        const ConfigTable& section;
        Duration want;
    };
    const Case cases[] = {
        {"90s", file_sync(), 90s},
        {"90s", default_sync(), 90s},
        {nullptr, file_sync(), 10min},
        {nullptr, default_sync(), 30s},  // the schema's default
    };
    for (const auto& c : cases) {
        const auto d = duration_setting(typed(c.typed), "--min-age", c.section, "min_age");
        ASSERT_TRUE(d) << d.error().message;
        EXPECT_EQ(*d, c.want) << (c.typed ? c.typed : "(not typed)");
    }
}

TEST(Settings, OptionalValuesAreNoneWhenNeitherLineNorFileGivesThem) {
    EXPECT_EQ(optional_duration_setting(std::nullopt, "--max-duration", default_sync(), "max_duration").value(),
              std::nullopt);
    EXPECT_EQ(optional_duration_setting(std::nullopt, "--max-duration", file_sync(), "max_duration").value(),
              Duration(1h));
    EXPECT_EQ(optional_duration_setting(typed("5m"), "--max-duration", file_sync(), "max_duration").value(),
              Duration(5min));

    EXPECT_EQ(optional_size_setting(std::nullopt, "--max-bytes", default_sync(), "max_bytes").value(), std::nullopt);
    EXPECT_EQ(optional_size_setting(std::nullopt, "--max-bytes", file_sync(), "max_bytes").value(),
              parse_size("2G").value());
    EXPECT_EQ(optional_size_setting(typed("1K"), "--max-bytes", file_sync(), "max_bytes").value(),
              parse_size("1K").value());

    EXPECT_EQ(optional_rate_timetable_setting(std::nullopt, "--bwlimit", default_sync(), "bwlimit").value(),
              std::nullopt);
    EXPECT_EQ(optional_rate_timetable_setting(std::nullopt, "--bwlimit", file_sync(), "bwlimit").value(),
              RateTimetable::parse("10M").value());
    EXPECT_EQ(optional_rate_timetable_setting(typed("1M"), "--bwlimit", file_sync(), "bwlimit").value(),
              RateTimetable::parse("1M").value());
    EXPECT_EQ(optional_rate_timetable_setting(typed("08:00,1M 19:00,off"), "--bwlimit", file_sync(), "bwlimit").value(),
              RateTimetable::parse("08:00,1M 19:00,off").value());
}

TEST(Settings, ABadTypedValueIsAUsageErrorNamingTheOption) {
    struct Case {
        Result<bool> outcome;
        std::string_view starts;
    };
    const auto failed = [](const auto& r) -> Result<bool> {
        if (r) return true;
        return std::unexpected(r.error());
    };
    const Case cases[] = {
        {failed(duration_setting(typed("soon"), "--min-age", file_sync(), "min_age")), "--min-age: "},
        {failed(optional_duration_setting(typed("5x"), "--max-duration", file_sync(), "max_duration")),
         "--max-duration: "},
        {failed(optional_size_setting(typed("lots"), "--max-bytes", file_sync(), "max_bytes")), "--max-bytes: "},
        {failed(optional_rate_timetable_setting(typed("fast"), "--bwlimit", file_sync(), "bwlimit")), "--bwlimit: "},
        {failed(optional_rate_timetable_setting(typed("8:00,1M Mon-9,2M"), "--bwlimit", file_sync(), "bwlimit")),
         "--bwlimit: invalid bandwidth timetable entry 2 'Mon-9,2M'"},
        {failed(int_setting(0, "--jobs", file_sync(), "jobs", 1, 64)), "--jobs: 0 is not within 1..64"},
        {failed(int_setting(65, "--jobs", file_sync(), "jobs", 1, 64)), "--jobs: 65 is not within 1..64"},
        {failed(typed_duration(typed("0s"), "--timeout")), "--timeout: must be more than 0"},
        {failed(typed_duration(typed("later"), "--timeout")), "--timeout: "},
    };
    for (const auto& c : cases) {
        ASSERT_FALSE(c.outcome) << c.starts;
        EXPECT_EQ(c.outcome.error().code, ExitCode::usage) << c.outcome.error().message;
        EXPECT_EQ(c.outcome.error().message.rfind(c.starts, 0), 0u) << c.outcome.error().message;
    }
}

TEST(Settings, IntegersAndListsFollowTheSameOrder) {
    EXPECT_EQ(int_setting(2, "--jobs", file_sync(), "jobs", 1, 64).value(), 2);
    EXPECT_EQ(int_setting(std::nullopt, "--jobs", file_sync(), "jobs", 1, 64).value(), 8);
    EXPECT_EQ(int_setting(std::nullopt, "--jobs", default_sync(), "jobs", 1, 64).value(), 4);
    EXPECT_EQ(list_setting({"*.mov", "*.jpg"}, file_sync(), "include"), (std::vector<std::string>{"*.mov", "*.jpg"}));
    EXPECT_EQ(list_setting({}, file_sync(), "include"), (std::vector<std::string>{"*.mp4"}));
    EXPECT_TRUE(list_setting({}, default_sync(), "include").empty());
}

TEST(Settings, ATypedDurationWithoutAKeyIsNoneUntilTyped) {
    EXPECT_EQ(typed_duration(std::nullopt, "--timeout").value(), std::nullopt);
    EXPECT_EQ(typed_duration(typed(""), "--timeout").value(), std::nullopt);
    EXPECT_EQ(typed_duration(typed("2m"), "--timeout").value(), Duration(2min));
}

TEST(Settings, CommonOptionsAreCheckedAgainstTheFormatsATooloffers) {
    const OutputFormat offered[] = {OutputFormat::text, OutputFormat::json};
    CommonOptions cli;
    cli.quiet = true;
    cli.verbose = 2;
    const auto text = resolve_common(cli, offered);
    ASSERT_TRUE(text) << text.error().message;
    EXPECT_EQ(text->format, OutputFormat::text);
    EXPECT_TRUE(text->quiet);
    EXPECT_EQ(text->verbose, 2);
    cli.json = true;
    EXPECT_EQ(resolve_common(cli, offered).value().format, OutputFormat::json);
    cli.json = false;
    cli.format = "nagios";
    const auto refused = resolve_common(cli, offered);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ExitCode::usage);
    EXPECT_NE(refused.error().message.find("nagios"), std::string::npos) << refused.error().message;
}

TEST(Settings, OptionErrorNamesTheOption) {
    const auto e = option_error("--min-age", "'x' is not a duration");
    EXPECT_EQ(e.message, "--min-age: 'x' is not a duration");
    EXPECT_EQ(e.code, ExitCode::usage);
}

TEST(StartTool, LoadsTheNamedConfigAndResolvesItsFolders) {
    nasops::testing::TempDir dir;
    std::ofstream(dir / "nasops.toml") << nasops::testing::paths_config(dir.path()) << "[sync]\njobs = 3\n";
    CommonOptions cli;
    cli.config_path = (dir / "nasops.toml").string();
    const auto started = start_tool(ToolStart{.tool = "dbmaint",
                                              .cli = cli,
                                              .files = LogFiles::no,
                                              .env = fixed_environment({}),
                                              .system_config = dir / "absent.toml"});
    ASSERT_TRUE(started) << started.error().message;
    EXPECT_EQ(started->config.source(), dir / "nasops.toml");
    EXPECT_EQ(started->config.get_int("sync", "jobs"), 3);
    EXPECT_EQ(started->paths.state_dir, dir / "state");
    EXPECT_EQ(started->paths.log_dir, dir / "log");
}

TEST(StartTool, ABadConfigStopsTheRunWithTheConfigsCode) {
    nasops::testing::TempDir dir;
    std::ofstream(dir / "nasops.toml") << "[sync]\njob = 3\n";
    CommonOptions cli;
    cli.config_path = (dir / "nasops.toml").string();
    const auto started = start_tool(ToolStart{.tool = "dbmaint",
                                              .cli = cli,
                                              .files = LogFiles::no,
                                              .env = fixed_environment({}),
                                              .system_config = dir / "absent.toml"});
    ASSERT_FALSE(started);
    EXPECT_EQ(started.error().code, ExitCode::config);
    EXPECT_NE(started.error().message.find("unknown key 'sync.job' (did you mean 'jobs'?)"), std::string::npos)
        << started.error().message;
}
