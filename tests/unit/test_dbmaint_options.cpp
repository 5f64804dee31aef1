#include <gtest/gtest.h>

#include <string>

#include "dbmaint/options.hpp"
#include "nasops/core/config.hpp"

using namespace nasops;
using namespace nasops::dbmaint;
using namespace std::chrono_literals;

namespace {

Config config_of(std::string_view text) {
    auto c = parse_config(text, "test.toml");
    if (!c) throw std::runtime_error(c.error().message);
    return *c;
}

const Paths k_paths{.state_dir = "/var/lib/nasops", .log_dir = "/var/log/nasops", .run_dir = "/run/nasops"};

}  // namespace

TEST(DbmaintOptions, DefaultsComeFromTheSchemaAndTheStateFolder) {
    const auto s = resolve_settings(CliOptions{}, Config::defaults(), k_paths).value();
    EXPECT_EQ(s.database, "/var/lib/nasops/nasops.db");
    EXPECT_EQ(s.backup_dir, "/var/lib/nasops/backups");
    EXPECT_EQ(s.keep_last, 7);
    EXPECT_EQ(s.keep_days, 30);
    EXPECT_DOUBLE_EQ(s.freelist_ratio, 0.2);
    EXPECT_EQ(s.batch, 5000);
    EXPECT_EQ(s.lock_timeout, 0s);
    EXPECT_TRUE(s.retention.empty());
    EXPECT_EQ(s.depth, CheckDepth::quick);
}

TEST(DbmaintOptions, TheFileOverridesDefaultsAndTheCommandLineOverridesTheFile) {
    const auto config = config_of(R"(
[dbmaint]
backup_dir = "/mnt/usb/nasops"
keep_last = 3
keep_days = 10
vacuum_freelist_ratio = "35%"
purge_batch = 100
lock_timeout = "1m"

[dbmaint.retention]
media_files = "14d"
alert_history = "90d"
)");
    auto s = resolve_settings(CliOptions{}, config, k_paths).value();
    EXPECT_EQ(s.backup_dir, "/mnt/usb/nasops");
    EXPECT_EQ(s.keep_last, 3);
    EXPECT_EQ(s.keep_days, 10);
    EXPECT_DOUBLE_EQ(s.freelist_ratio, 0.35);
    EXPECT_EQ(s.batch, 100);
    EXPECT_EQ(s.lock_timeout, 1min);
    ASSERT_EQ(s.retention.size(), 2U);
    EXPECT_EQ(s.retention.at("media_files"), 24h * 14);
    EXPECT_EQ(s.retention.at("alert_history"), 24h * 90);

    CliOptions cli;
    cli.backup_dir = "/srv/backups";
    cli.keep_last = 2;
    cli.keep_days = 0;
    cli.freelist_ratio = "0.5";
    cli.batch = 7;
    cli.lock_timeout = "5s";
    cli.full = true;
    s = resolve_settings(cli, config, k_paths).value();
    EXPECT_EQ(s.backup_dir, "/srv/backups");
    EXPECT_EQ(s.keep_last, 2);
    EXPECT_EQ(s.keep_days, 0);
    EXPECT_DOUBLE_EQ(s.freelist_ratio, 0.5);
    EXPECT_EQ(s.batch, 7);
    EXPECT_EQ(s.lock_timeout, 5s);
    EXPECT_EQ(s.depth, CheckDepth::full);
}

TEST(DbmaintOptions, BadOptionsAreUsageErrorsNamingTheOption) {
    CliOptions cli;
    cli.freelist_ratio = "lots";
    auto s = resolve_settings(cli, Config::defaults(), k_paths);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, ExitCode::usage);
    EXPECT_NE(s.error().message.find("--freelist-ratio"), std::string::npos);

    cli = {};
    cli.keep_last = 0;
    s = resolve_settings(cli, Config::defaults(), k_paths);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, ExitCode::usage);
    EXPECT_NE(s.error().message.find("--keep-last"), std::string::npos);

    cli = {};
    cli.batch = 0;
    EXPECT_EQ(resolve_settings(cli, Config::defaults(), k_paths).error().code, ExitCode::usage);
}

TEST(DbmaintOptions, BadFileValuesAreConfigErrorsNamingTheLine) {
    // A ratio is checked when nasops.toml is read, as every key of the schema's types.
    const auto ratio = parse_config("[dbmaint]\nvacuum_freelist_ratio = \"half\"\n", "test.toml");
    ASSERT_FALSE(ratio);
    EXPECT_EQ(ratio.error().code, ExitCode::config);
    EXPECT_NE(ratio.error().message.find("test.toml:2:25:"), std::string::npos) << ratio.error().message;
    EXPECT_NE(ratio.error().message.find("vacuum_freelist_ratio"), std::string::npos);
    // The string of earlier releases is still read.
    EXPECT_DOUBLE_EQ(resolve_settings(CliOptions{}, config_of("[dbmaint]\nvacuum_freelist_ratio = \"0.3\"\n"), k_paths)
                         ->freelist_ratio,
                     0.3);

    auto s = resolve_settings(CliOptions{}, config_of("[dbmaint.retention]\nmedia_files = \"soon\"\n"), k_paths);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, ExitCode::config);
    EXPECT_NE(s.error().message.find("media_files"), std::string::npos) << s.error().message;

    EXPECT_FALSE(parse_config("[dbmaint]\nkeep_last = 0\n", "test.toml"));
    EXPECT_FALSE(parse_config("[dbmaint]\nkeep_backups = 3\n", "test.toml"));
}
