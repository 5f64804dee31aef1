#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "fixtures/temp_dir.hpp"
#include "nasops/core/config.hpp"

using namespace nasops;
using namespace std::chrono_literals;
using nasops::testing::TempDir;
using nasops::testing::write_file;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

namespace fs = std::filesystem;

namespace {

// Writes `content` as a config file readable by its owner only, then loads it.
Result<Config> load_text(const TempDir& dir, const std::string& content, const std::string& name = "nasops.toml") {
    const auto path = dir / name;
    write_file(path, content);
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
    return load_config_file(path);
}

std::string message_of(const Result<Config>& result) {
    EXPECT_FALSE(result.has_value());
    return result ? std::string() : result.error().message;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto end = text.find('\n', start);
        lines.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return lines;
}

}  // namespace

// --- search order -----------------------------------------------------------

TEST(ConfigSearch, NoFileAnywhereGivesTheBuiltInDefaults) {
    TempDir dir;
    auto config = load_config({.env = fixed_environment({}), .system_path = dir / "etc/nasops.toml"});
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_TRUE(config->source().empty());
    EXPECT_EQ(config->get_int("sync", "jobs"), 4);
    EXPECT_EQ(config->get_duration("sync", "min_age"), 30s);
    EXPECT_EQ(config->get_string("sync", "verify"), "auto");
    EXPECT_FALSE(config->get_bool("sync", "remove_source"));
    EXPECT_EQ(config->get_int("sync", "max_retries"), 5);
    EXPECT_EQ(config->get_duration("sync", "lock_timeout"), 0s);
    EXPECT_EQ(config->get_optional_rate_timetable("sync", "bwlimit"), std::nullopt);
    EXPECT_EQ(config->get_optional_duration("sync", "max_duration"), std::nullopt);
    EXPECT_EQ(config->get_optional_size("sync", "max_bytes"), std::nullopt);
    EXPECT_TRUE(config->get_string_list("sync", "sources").empty());
    EXPECT_EQ(config->get_int("nas", "port"), 22);
    EXPECT_EQ(config->get_string("nas", "host"), "");
    EXPECT_EQ(config->get_path("nas", "known_hosts"), fs::path());
    EXPECT_EQ(config->get_duration("nas", "connect_timeout"), 10s);
    EXPECT_EQ(config->get_string_list("health", "disk_paths"), std::vector<std::string>{"/"});
    EXPECT_EQ(config->get_duration("alert", "repeat_interval"), 4h);
    EXPECT_EQ(config->get_duration("alert", "resolve_timeout"), 5min);
    EXPECT_TRUE(config->get_entries("alert", "rule").empty());
    EXPECT_TRUE(config->get_entries("alert", "channel").empty());
    EXPECT_EQ(config->get_duration("capacity", "retention"), 730 * 24h);
    EXPECT_EQ(config->get_int("capacity", "horizon_days"), 30);
    EXPECT_EQ(config->get_int("dbmaint", "keep_last"), 7);
    EXPECT_EQ(config->get_int("dbmaint", "keep_days"), 30);
    EXPECT_DOUBLE_EQ(config->section("dbmaint").get_ratio("vacuum_freelist_ratio"), 0.2);
    EXPECT_DOUBLE_EQ(config->section("capacity").get_ratio("reset_drop_ratio"), 0.1);
    EXPECT_EQ(config->get_int("dbmaint", "purge_batch"), 5000);
    EXPECT_TRUE(config->get_string_map("dbmaint", "retention").empty());
    EXPECT_EQ(config->get_string("trace", "service_name"), "nasops");
    EXPECT_FALSE(config->section("sync").is_set("jobs"));
    EXPECT_FALSE(config->section("sync").position("jobs").known());
}

TEST(ConfigSearch, EverySectionOfTheSchemaHasItsDefaults) {
    const auto config = Config::defaults();
    for (const auto& section : config_schema()) {
        EXPECT_EQ(config.section(section.name).name(), section.name);
    }
    EXPECT_THROW((void)config.section("nosuch"), std::logic_error);
}

TEST(ConfigSearch, SystemFileIsReadWhenItExists) {
    TempDir dir;
    const auto system = dir / "etc/nasops.toml";
    write_file(system, "[sync]\njobs = 8\n");
    auto config = load_config({.env = fixed_environment({}), .system_path = system});
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->source(), system);
    EXPECT_EQ(config->get_int("sync", "jobs"), 8);
    EXPECT_TRUE(config->section("sync").is_set("jobs"));
}

TEST(ConfigSearch, EnvironmentBeatsTheSystemFile) {
    TempDir dir;
    const auto system = dir / "etc/nasops.toml";
    const auto from_env = dir / "env.toml";
    write_file(system, "[sync]\njobs = 8\n");
    write_file(from_env, "[sync]\njobs = 9\n");
    auto config =
        load_config({.env = fixed_environment({{"NASOPS_CONFIG", from_env.string()}}), .system_path = system});
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->source(), from_env);
    EXPECT_EQ(config->get_int("sync", "jobs"), 9);
}

TEST(ConfigSearch, EmptyEnvironmentVariableIsIgnored) {
    TempDir dir;
    const auto system = dir / "etc/nasops.toml";
    write_file(system, "[sync]\njobs = 8\n");
    auto config = load_config({.env = fixed_environment({{"NASOPS_CONFIG", ""}}), .system_path = system});
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->source(), system);
}

TEST(ConfigSearch, ConfigFlagBeatsEnvironment) {
    TempDir dir;
    const auto flag = dir / "flag.toml";
    const auto from_env = dir / "env.toml";
    write_file(flag, "[sync]\njobs = 2\n");
    write_file(from_env, "[sync]\njobs = 9\n");
    auto config = load_config({.explicit_path = flag,
                               .env = fixed_environment({{"NASOPS_CONFIG", from_env.string()}}),
                               .system_path = dir / "none.toml"});
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->source(), flag);
    EXPECT_EQ(config->get_int("sync", "jobs"), 2);
}

TEST(ConfigSearch, MissingExplicitFileIsAnErrorNotTheDefaults) {
    TempDir dir;
    const auto missing = dir / "missing.toml";
    write_file(dir / "etc/nasops.toml", "");
    auto by_flag =
        load_config({.explicit_path = missing, .env = fixed_environment({}), .system_path = dir / "etc/nasops.toml"});
    ASSERT_FALSE(by_flag);
    EXPECT_EQ(by_flag.error().code, ExitCode::config);
    EXPECT_EQ(by_flag.error().message, "cannot open " + missing.string() + ": No such file or directory");

    auto by_env = load_config(
        {.env = fixed_environment({{"NASOPS_CONFIG", missing.string()}}), .system_path = dir / "etc/nasops.toml"});
    ASSERT_FALSE(by_env);
    EXPECT_EQ(by_env.error().code, ExitCode::config);
    EXPECT_THAT(by_env.error().message, StartsWith("cannot open " + missing.string() + ": No such file or directory"));
    EXPECT_THAT(by_env.error().message, HasSubstr("$NASOPS_CONFIG"));
}

TEST(ConfigSearch, FolderInPlaceOfTheFileIsAnError) {
    TempDir dir;
    fs::create_directories(dir / "etc/nasops.toml");
    auto config = load_config({.env = fixed_environment({}), .system_path = dir / "etc/nasops.toml"});
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().code, ExitCode::config);
    EXPECT_THAT(config.error().message, HasSubstr((dir / "etc/nasops.toml").string()));
    EXPECT_THAT(config.error().message, HasSubstr("Is a directory"));
}

// --- errors -------------------------------------------------------------------

TEST(ConfigErrors, MalformedTomlNamesFileLineAndColumn) {
    TempDir dir;
    auto config = load_text(dir, "[sync]\njobs = 4\nmin_age = \"30s\n");
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().code, ExitCode::config);
    EXPECT_THAT(config.error().message, StartsWith((dir / "nasops.toml").string() + ":3:"));
    EXPECT_EQ(lines_of(config.error().message).size(), 1u);
}

TEST(ConfigErrors, UnknownKeyWithDidYouMean) {
    TempDir dir;
    const auto path = (dir / "nasops.toml").string();
    EXPECT_EQ(message_of(load_text(dir, "[sync]\njob = 4\n")),
              path + ":2:1: unknown key 'sync.job' (did you mean 'jobs'?)");
    EXPECT_EQ(message_of(load_text(dir, "[sync]\n  mni_age = \"5s\"\n")),
              path + ":2:3: unknown key 'sync.mni_age' (did you mean 'min_age'?)");
    // Nothing close: no suggestion.
    EXPECT_EQ(message_of(load_text(dir, "[sync]\nfrobnicate = 1\n")), path + ":2:1: unknown key 'sync.frobnicate'");
    // A key of another section.
    EXPECT_EQ(message_of(load_text(dir, "[sync]\nhost = \"nas\"\n")),
              path + ":2:1: unknown key 'sync.host' (did you mean 'nas.host'?)");
}

TEST(ConfigErrors, UnknownSectionAndKeysOutsideSections) {
    TempDir dir;
    const auto path = (dir / "nasops.toml").string();
    EXPECT_EQ(message_of(load_text(dir, "[synk]\njobs = 4\n")),
              path + ":1:2: unknown section 'synk' (did you mean 'sync'?)");
    EXPECT_EQ(message_of(load_text(dir, "[frobnicator]\nx = 1\n")), path + ":1:2: unknown section 'frobnicator'");
    EXPECT_EQ(message_of(load_text(dir, "jobs = 4\n")),
              path + ":1:1: unknown key 'jobs' outside any section (did you mean 'jobs' under [sync]?)");
    EXPECT_THAT(message_of(load_text(dir, "sync = 4\n")),
                HasSubstr("'sync' must be a section ([sync]), not an integer"));
}

TEST(ConfigErrors, EveryProblemIsReportedInFileOrder) {
    TempDir dir;
    const auto path = (dir / "nasops.toml").string();
    auto config = load_text(dir,
                            "[sync]\n"
                            "min_age = 'soon'\n"
                            "jobs = 100\n"
                            "job = 4\n"
                            "[nas]\n"
                            "port = \"22\"\n"
                            "[bogus]\n");
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().code, ExitCode::config);
    const auto lines = lines_of(config.error().message);
    ASSERT_EQ(lines.size(), 5u) << config.error().message;
    EXPECT_THAT(lines[0], StartsWith(path + ":2:11: invalid value for 'sync.min_age': invalid duration 'soon'"));
    EXPECT_EQ(lines[1], path + ":3:8: 'sync.jobs' must be between 1 and 64, not 100");
    EXPECT_EQ(lines[2], path + ":4:1: unknown key 'sync.job' (did you mean 'jobs'?)");
    EXPECT_EQ(lines[3], path + ":6:8: 'nas.port' must be an integer, not a string");
    EXPECT_EQ(lines[4], path + ":7:2: unknown section 'bogus'");
}

TEST(ConfigErrors, WrongTypes) {
    TempDir dir;
    const auto path = (dir / "nasops.toml").string();
    EXPECT_EQ(message_of(load_text(dir, "[sync]\njobs = \"four\"\n")),
              path + ":2:8: 'sync.jobs' must be an integer, not a string");
    EXPECT_EQ(message_of(load_text(dir, "[sync]\nremove_source = \"yes\"\n")),
              path + ":2:17: 'sync.remove_source' must be true or false, not a string");
    EXPECT_EQ(message_of(load_text(dir, "[sync]\nsources = \"/srv\"\n")),
              path + ":2:11: 'sync.sources' must be an array of absolute paths, not a string");
    EXPECT_EQ(message_of(load_text(dir, "[sync]\nsources = [\"/srv\", 3]\n")),
              path + ":2:20: 'sync.sources[1]' must be a string, not an integer");
    EXPECT_EQ(
        message_of(load_text(dir, "[sync]\nmin_age = 1.5\n")),
        path +
            R"(:2:11: 'sync.min_age' must be a duration such as "30s", "5m" or "1h30m", not a floating-point number)");
    EXPECT_EQ(message_of(load_text(dir, "[nas]\nidentity_file = \"id_ed25519\"\n")),
              path + ":2:17: 'nas.identity_file' must be an absolute path, not 'id_ed25519'");
    EXPECT_EQ(message_of(load_text(dir, "[alert]\n[[alert.rule]]\nname = \"r\"\nlabels = { team = 1 }\n")),
              path + ":4:19: 'alert.rule[0].labels.team' must be a string, not an integer");
}

TEST(ConfigErrors, BadUnitAndEnumValuesCarryTheParserMessage) {
    TempDir dir;
    const auto path = (dir / "nasops.toml").string();
    auto duration = message_of(load_text(dir, "[sync]\nmin_age = 'soon'\n"));
    EXPECT_THAT(duration, StartsWith(path + ":2:11: invalid value for 'sync.min_age': invalid duration 'soon'"));

    auto size = message_of(load_text(dir, "[sync]\nmax_bytes = \"10X\"\n"));
    EXPECT_THAT(size, StartsWith(path + ":2:13: invalid value for 'sync.max_bytes': invalid size '10X'"));

    auto rate = message_of(load_text(dir, "[sync]\nbwlimit = \"fast\"\n"));
    EXPECT_THAT(rate, StartsWith(path + ":2:11: invalid value for 'sync.bwlimit': "));
    EXPECT_THAT(rate, HasSubstr("'fast'"));

    auto timetable = message_of(load_text(dir, "[sync]\nbwlimit = \"08:00,2M 25:00,off\"\n"));
    EXPECT_THAT(timetable, StartsWith(path + ":2:11: invalid value for 'sync.bwlimit': invalid bandwidth timetable "
                                             "entry 2 '25:00,off': '25:00' is not a time of day"));

    EXPECT_EQ(message_of(load_text(dir, "[sync]\nverify = \"sha265\"\n")),
              path +
                  ":2:10: invalid value 'sha265' for 'sync.verify' (expected one of: auto, sha256, size, none); "
                  "did you mean 'sha256'?");
    EXPECT_EQ(message_of(load_text(dir, "[sync]\nverify = \"md5\"\n")),
              path + ":2:10: invalid value 'md5' for 'sync.verify' (expected one of: auto, sha256, size, none)");
    EXPECT_EQ(message_of(load_text(dir, "[sync]\nmin_age = \"\"\n")),
              path + R"(:2:11: 'sync.min_age' cannot be empty: it must be a duration such as "30s", "5m" or "1h30m")");
    EXPECT_EQ(message_of(load_text(dir, "[sync]\nmin_age = -5\n")),
              path + R"(:2:11: 'sync.min_age' must be a duration such as "30s", "5m" or "1h30m", not -5)");
}

TEST(ConfigErrors, IntegersOutOfRange) {
    TempDir dir;
    const auto path = (dir / "nasops.toml").string();
    EXPECT_EQ(message_of(load_text(dir, "[sync]\njobs = 0\n")),
              path + ":2:8: 'sync.jobs' must be between 1 and 64, not 0");
    EXPECT_EQ(message_of(load_text(dir, "[sync]\njobs = 65\n")),
              path + ":2:8: 'sync.jobs' must be between 1 and 64, not 65");
    EXPECT_EQ(message_of(load_text(dir, "[sync]\nmax_retries = -1\n")),
              path + ":2:15: 'sync.max_retries' must be at least 0, not -1");
    EXPECT_EQ(message_of(load_text(dir, "[nas]\nport = 70000\n")),
              path + ":2:8: 'nas.port' must be between 1 and 65535, not 70000");
    auto edges = load_text(dir, "[sync]\njobs = 64\n[nas]\nport = 1\n");
    ASSERT_TRUE(edges) << edges.error().message;
    EXPECT_EQ(edges->get_int("sync", "jobs"), 64);
    EXPECT_EQ(edges->get_int("nas", "port"), 1);
}

TEST(ConfigErrors, RatiosAreNumbersOrPercentStringsFromZeroToOne) {
    TempDir dir;
    const auto path = (dir / "nasops.toml").string();
    auto good = load_text(dir, "[capacity]\nreset_drop_ratio = 0.25\nwarning_ratio = \"75%\"\ncritical_ratio = 1\n");
    ASSERT_TRUE(good) << good.error().message;
    EXPECT_DOUBLE_EQ(good->section("capacity").get_ratio("reset_drop_ratio"), 0.25);
    EXPECT_DOUBLE_EQ(good->section("capacity").get_ratio("warning_ratio"), 0.75);
    EXPECT_DOUBLE_EQ(good->section("capacity").get_ratio("critical_ratio"), 1.0);
    EXPECT_EQ(message_of(load_text(dir, "[capacity]\nreset_drop_ratio = 1.5\n")),
              path + R"(:2:20: 'capacity.reset_drop_ratio' must be a ratio from 0 to 1 such as 0.2 or "20%", not 1.5)");
    EXPECT_EQ(
        message_of(load_text(dir, "[capacity]\nreset_drop_ratio = -0.1\n")),
        path + R"(:2:20: 'capacity.reset_drop_ratio' must be a ratio from 0 to 1 such as 0.2 or "20%", not -0.1)");
    EXPECT_EQ(
        message_of(load_text(dir, "[capacity]\nreset_drop_ratio = 10\n")),
        path +
            R"(:2:20: 'capacity.reset_drop_ratio' must be a ratio from 0 to 1 such as 0.2 or "20%", not 10 (10% is 0.1 or "10%"))");
    EXPECT_THAT(message_of(load_text(dir, "[capacity]\nreset_drop_ratio = \"abc\"\n")),
                StartsWith(path + ":2:20: invalid value for 'capacity.reset_drop_ratio': 'abc' is not a ratio"));
    EXPECT_EQ(
        message_of(load_text(dir, "[dbmaint]\nvacuum_freelist_ratio = true\n")),
        path +
            R"(:2:25: 'dbmaint.vacuum_freelist_ratio' must be a ratio from 0 to 1 such as 0.2 or "20%", not a boolean)");
}

TEST(ConfigErrors, AKeyOfAnEarlierReleaseNamesItsNewName) {
    TempDir dir;
    const auto path = (dir / "nasops.toml").string();
    const auto config = load_text(dir, "[capacity]\nwarning_percent = 80\ncritical_percent = 90\n");
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().code, ExitCode::config);
    const auto lines = lines_of(config.error().message);
    ASSERT_EQ(lines.size(), 2u) << config.error().message;
    EXPECT_EQ(lines[0], path + R"(:2:1: unknown key 'capacity.warning_percent' (renamed 'warning_ratio', a ratio )"
                               R"(from 0 to 1 such as 0.2 or "20%"))");
    EXPECT_EQ(lines[1], path + R"(:3:1: unknown key 'capacity.critical_percent' (renamed 'critical_ratio', a ratio )"
                               R"(from 0 to 1 such as 0.2 or "20%"))");
}

// --- secrets ------------------------------------------------------------------

TEST(ConfigSecrets, SecretInAFileOthersCanReadIsRefused) {
    TempDir dir;
    const auto path = dir / "nasops.toml";
    write_file(path,
               "[alert]\n"
               "[[alert.channel]]\nname = \"ops\"\ntype = \"slack\"\ntoken = \"xoxb-1\"\n"
               "[[alert.channel]]\nname = \"mail\"\ntype = \"email\"\npassword = \"hunter2\"\n");
    for (const auto mode : {fs::perms(0644), fs::perms(0640), fs::perms(0604)}) {
        fs::permissions(path, mode);
        auto config = load_config_file(path);
        ASSERT_FALSE(config);
        EXPECT_EQ(config.error().code, ExitCode::config);
        EXPECT_THAT(config.error().message, StartsWith(path.string() + ": holds secrets"));
        EXPECT_THAT(config.error().message, HasSubstr("alert.channel[0].token, alert.channel[1].password"));
        EXPECT_THAT(config.error().message, HasSubstr("chmod 600 " + path.string()));
        EXPECT_THAT(config.error().message, Not(HasSubstr("hunter2")));
    }
    fs::permissions(path, fs::perms(0600));
    auto config = load_config_file(path);
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->get_entries("alert", "channel")[0].get_string("token"), "xoxb-1");
    EXPECT_EQ(config->get_entries("alert", "channel")[1].get_string("password"), "hunter2");
}

TEST(ConfigSecrets, FileWithoutSecretsMayBeWorldReadable) {
    TempDir dir;
    const auto path = dir / "nasops.toml";
    write_file(path,
               "[alert]\n[[alert.channel]]\nname = \"mail\"\ntype = \"email\"\n"
               "password_file = \"/etc/nasops/smtp.password\"\n");
    fs::permissions(path, fs::perms(0644));
    auto config = load_config_file(path);
    ASSERT_TRUE(config) << config.error().message;
}

TEST(ConfigSecrets, AUrlWithACredentialIsASecret) {
    TempDir dir;
    const auto path = dir / "nasops.toml";
    const auto channel = [](std::string_view type, std::string_view url) {
        return fmt::format("[alert]\n[[alert.channel]]\nname = \"c\"\ntype = \"{}\"\nurl = \"{}\"\n", type, url);
    };
    for (const auto& text : {channel("webhook", "https://ops:hunter2@hooks.example.com/in"),
                             channel("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=abc"),
                             channel("webhook", "https://api.example.com/hook?team=a&key=abc"),
                             channel("slack", "https://hooks.slack.com/services/T0/B0/XXXX"),
                             channel("slack", "http://proxy.internal:8080/services/T0/B0/XXXX")}) {
        write_file(path, text);
        fs::permissions(path, fs::perms(0644));
        auto config = load_config_file(path);
        ASSERT_FALSE(config) << text;
        EXPECT_EQ(config.error().code, ExitCode::config);
        EXPECT_EQ(config.error().message,
                  path.string() +
                      ": holds secrets (alert.channel[0].url) but is readable by others (mode 0644), "
                      "which ssh refuses for a key: run chmod 600 " +
                      path.string());
        fs::permissions(path, fs::perms(0400));
        EXPECT_TRUE(load_config_file(path)) << text;
    }
    write_file(path, channel("webhook", "https://ops@hooks.example.com/in?team=a"));
    fs::permissions(path, fs::perms(0644));
    auto plain = load_config_file(path);
    EXPECT_TRUE(plain) << plain.error().message;
}

TEST(ConfigSecrets, ASecretInAFileOfAnotherUserIsRefused) {
    TempDir dir;
    const auto path = dir / "nasops.toml";
    write_file(path, "[alert]\n[[alert.channel]]\nname = \"mail\"\ntype = \"email\"\npassword = \"hunter2\"\n");
    fs::permissions(path, fs::perms(0600));
    ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0) << "the tests run as root";
    auto config = load_config_file(path);
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().code, ExitCode::config);
    EXPECT_THAT(config.error().message, StartsWith(path.string() + ": holds secrets (alert.channel[0].password)"));
    EXPECT_THAT(config.error().message, HasSubstr("is owned by nobody, not by root: run chown root " + path.string()));
    ASSERT_EQ(::chown(path.c_str(), 0, 0), 0);
    EXPECT_TRUE(load_config_file(path));
}

// --- arrays of tables -----------------------------------------------------------

TEST(ConfigEntries, UnknownAndMissingKeysInEntries) {
    TempDir dir;
    const auto path = (dir / "nasops.toml").string();
    auto config = load_text(dir,
                            "[alert]\n"
                            "[[alert.channel]]\n"
                            "name = \"ops\"\n"
                            "type = \"webhook\"\n"
                            "urll = \"http://x\"\n"
                            "[[alert.channel]]\n"
                            "type = \"pager\"\n"
                            "[[alert.rule]]\n"
                            "name = \"r\"\n"
                            "severity = \"critical\"\n"
                            "bogus = 1\n");
    ASSERT_FALSE(config);
    const auto lines = lines_of(config.error().message);
    ASSERT_EQ(lines.size(), 4u) << config.error().message;
    EXPECT_EQ(lines[0], path + ":5:1: unknown key 'alert.channel[0].urll' (did you mean 'url'?)");
    EXPECT_EQ(lines[1], path + ":6:1: 'alert.channel[1]' lacks the required key 'name'");
    EXPECT_THAT(lines[2], StartsWith(path + ":7:8: invalid value 'pager' for 'alert.channel[1].type'"));
    EXPECT_EQ(lines[3], path + ":11:1: unknown key 'alert.rule[0].bogus'");
}

TEST(ConfigEntries, SingleTableWhereAnArrayIsExpected) {
    TempDir dir;
    const auto path = (dir / "nasops.toml").string();
    EXPECT_EQ(message_of(load_text(dir, "[alert.channel]\nname = \"ops\"\n")),
              path + ":1:1: 'alert.channel' must be an array of tables: write [[alert.channel]], not [alert.channel]");
}

TEST(ConfigEntries, EntriesHaveTypedValuesDefaultsAndPositions) {
    TempDir dir;
    const auto path = (dir / "nasops.toml").string();
    auto config = load_text(dir,
                            "[alert]\n"
                            "default_channels = [\"ops\"]\n"
                            "\n"
                            "[[alert.channel]]\n"
                            "name = \"ops\"\n"
                            "type = \"webhook\"\n"
                            "url = \"https://hooks.example.net/x\"\n"
                            "headers = { X-Source = \"edge-01\", Accept = \"application/json\" }\n"
                            "timeout = 15\n"
                            "\n"
                            "[[alert.rule]]\n"
                            "name = \"disk\"\n"
                            "match = { kind = \"check\", check = \"disk\" }\n"
                            "for = \"10m\"\n"
                            "channels = [\"ops\"]\n");
    ASSERT_TRUE(config) << config.error().message;
    const auto channels = config->get_entries("alert", "channel");
    ASSERT_EQ(channels.size(), 1u);
    const auto& ops = channels[0];
    EXPECT_EQ(ops.name(), "alert.channel[0]");
    EXPECT_EQ(ops.position().to_string(), path + ":4:1");
    EXPECT_EQ(ops.get_string("type"), "webhook");
    EXPECT_EQ(ops.get_string("url"), "https://hooks.example.net/x");
    EXPECT_EQ(ops.get_string_map("headers"), (StringMap{{"X-Source", "edge-01"}, {"Accept", "application/json"}}));
    EXPECT_EQ(ops.get_duration("timeout"), 15s);
    EXPECT_EQ(ops.get_string("token"), "");
    EXPECT_TRUE(ops.get_string_list("command").empty());

    const auto rules = config->get_entries("alert", "rule");
    ASSERT_EQ(rules.size(), 1u);
    EXPECT_EQ(rules[0].get_string_map("match").at("check"), "disk");
    EXPECT_EQ(rules[0].get_duration("for"), 10min);
    EXPECT_EQ(rules[0].get_duration("keep_firing_for"), 0s);
    EXPECT_EQ(rules[0].get_optional_duration("repeat_interval"), std::nullopt);
    EXPECT_EQ(rules[0].position("for").to_string(), path + ":14:7");

    // A check the schema cannot express points at the key.
    const auto error = rules[0].error_at("for", "must be shorter than repeat_interval");
    EXPECT_EQ(error.code, ExitCode::config);
    EXPECT_EQ(error.message, path + ":14:7: alert.rule[0].for: must be shorter than repeat_interval");
    // A key left at its default: the table's own position.
    EXPECT_EQ(rules[0].error_at("expr", "is required with no match").message,
              path + ":11:1: alert.rule[0].expr: is required with no match");
}

// --- typed access -----------------------------------------------------------------

TEST(ConfigGetters, EveryTypeReadsBack) {
    TempDir dir;
    auto config = load_text(dir,
                            "[paths]\nstate_dir = \"/srv/state\"\n"
                            "[nas]\nhost = \"192.168.200.103\"\naccept_new_host_key = true\n"
                            "[sync]\n"
                            "sources = [\"/srv/a\", \"/srv/b\"]\n"
                            "exclude = [\"*.part\"]\n"
                            "min_age = \"1h30m\"\n"
                            "bwlimit = \"10MiB/s\"\n"
                            "max_bytes = \"1.5GiB\"\n"
                            "max_duration = \"\"\n"
                            "verify = \"size\"\n");
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->get_path("paths", "state_dir"), fs::path("/srv/state"));
    EXPECT_EQ(config->get_string("nas", "host"), "192.168.200.103");
    EXPECT_TRUE(config->get_bool("nas", "accept_new_host_key"));
    EXPECT_EQ(config->get_string_list("sync", "sources"), (std::vector<std::string>{"/srv/a", "/srv/b"}));
    EXPECT_EQ(config->get_string_list("sync", "exclude"), std::vector<std::string>{"*.part"});
    EXPECT_EQ(config->get_duration("sync", "min_age"), 90min);
    EXPECT_EQ(config->section("sync").get_optional_rate_timetable("bwlimit"), "10MiB/s");
    EXPECT_EQ(config->get_size("sync", "max_bytes"), 1536u * 1024 * 1024);
    EXPECT_EQ(config->get_optional_duration("sync", "max_duration"), std::nullopt);
    EXPECT_TRUE(config->section("sync").is_set("max_duration"));
    EXPECT_EQ(config->get_string("sync", "verify"), "size");
}

TEST(ConfigGetters, MisuseIsAProgrammingError) {
    const auto config = Config::defaults();
    EXPECT_THROW((void)config.get_int("sync", "no_such_key"), std::logic_error);
    EXPECT_THROW((void)config.get_string("sync", "jobs"), std::logic_error);
    EXPECT_THROW((void)config.get_duration("sync", "jobs"), std::logic_error);
    EXPECT_THROW((void)config.get_duration("sync", "max_duration"), std::logic_error);
    EXPECT_THROW((void)config.get_size("sync", "max_bytes"), std::logic_error);
    EXPECT_THROW((void)config.get_rate("sync", "bwlimit"), std::logic_error);  // a rate_timetable key
}

TEST(ConfigGetters, TextWithoutAFileIsCheckedTheSameWay) {
    auto config = parse_config("[sync]\njobs = 3\n", "<test>");
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->get_int("sync", "jobs"), 3);
    auto bad = parse_config("[sync]\njobs = 0\n", "<test>");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "<test>:2:8: 'sync.jobs' must be between 1 and 64, not 0");
}

// --- the shipped example ------------------------------------------------------------

TEST(ConfigExample, DeployExampleLoads) {
    const fs::path example = fs::path(NASOPS_SOURCE_DIR) / "deploy/nasops.toml";
    auto config = load_config_file(example);
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->get_string("nas", "host"), "192.168.200.103");
    EXPECT_EQ(config->get_string("nas", "user"), "nasops");
    EXPECT_EQ(config->get_path("nas", "identity_file"), fs::path("/etc/nasops/id_ed25519"));
    EXPECT_EQ(config->get_path("nas", "known_hosts"), fs::path("/etc/nasops/known_hosts"));
    EXPECT_EQ(config->get_path("nas", "remote_root"), fs::path("/volume1/media"));
    EXPECT_EQ(config->get_string_list("sync", "sources"), std::vector<std::string>{"/srv/edge/media"});
}

TEST(ConfigExample, ManPageDocumentsEverySectionAndKey) {
    const auto page = nasops::testing::read_file(fs::path(NASOPS_SOURCE_DIR) / "man/nasops.toml.5.scd");
    ASSERT_FALSE(page.empty());
    for (const auto& section : config_schema()) {
        EXPECT_THAT(page, HasSubstr("## [" + std::string(section.name) + "]"));
        for (const auto& key : section.keys) {
            const auto entry = "*" + std::string(key.name) + "* (" + std::string(value_type_name(key.type));
            EXPECT_THAT(page, HasSubstr(entry)) << section.name << "." << key.name;
            for (const auto& field : key.fields) {
                const auto field_entry =
                    "*" + std::string(field.name) + "* (" + std::string(value_type_name(field.type));
                EXPECT_THAT(page, HasSubstr(field_entry)) << section.name << "." << key.name << "." << field.name;
            }
        }
    }
}

TEST(ConfigExample, ManPageExampleLoads) {
    const auto page = nasops::testing::read_file(fs::path(NASOPS_SOURCE_DIR) / "man/nasops.toml.5.scd");
    const std::string start_marker = "# EXAMPLE\n\n```\n";
    const auto start = page.find(start_marker);
    ASSERT_NE(start, std::string::npos);
    const auto body_start = start + start_marker.size();
    const auto end = page.find("```", body_start);
    ASSERT_NE(end, std::string::npos);
    auto config = parse_config(page.substr(body_start, end - body_start), "nasops.toml(5) EXAMPLE");
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->get_entries("alert", "rule").size(), 1u);
}
