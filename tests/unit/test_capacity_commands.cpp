#include <SQLiteCpp/Statement.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>

#include "capacity/commands.hpp"
#include "capacity/options.hpp"
#include "capacity/samples.hpp"
#include "fixtures/record_capture.hpp"
#include "fixtures/temp_dir.hpp"
#include "nasops/core/config.hpp"
#include "nasops/util/clock.hpp"
#include "sync/schema.hpp"

using namespace nasops;
using namespace nasops::capacity;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t k_t0 = 1'780'012'800;  // 2026-05-29 00:00 UTC

Config config_of(std::string_view text) {
    auto c = parse_config(text, "test.toml");
    if (!c) throw std::runtime_error(c.error().message);
    return *c;
}

// A folder with a nasops.toml whose state and log folders are inside it.
struct StateFolder {
    nasops::testing::TempDir dir;
    std::filesystem::path config = dir / "nasops.toml";
    StateFolder() {
        std::ofstream(config) << fmt::format(
            "[paths]\nstate_dir = \"{0}/state\"\nlog_dir = \"{0}/log\"\n"
            "run_dir = \"{0}/run\"\n",
            dir.path().string());
    }
    CliOptions cli() const {
        CliOptions c;
        c.common.config_path = config.string();
        c.common.quiet = false;
        return c;
    }
};

// Runs a subcommand with `input` on its stdin; returns its exit code and stdout
// (whose records are kept for the schema check, as a built tool's are).
std::pair<Result<ExitCode>, std::string> run(Subcommand sub, const CliOptions& cli, const Clock& clock,
                                             const std::string& input = {}) {
    nasops::testing::TempDir io;
    const auto in_path = io / "in";
    std::ofstream(in_path) << input;
    const int in_fd = ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
    std::FILE* out = std::tmpfile();
    auto result =
        execute(sub, cli, CommandEnv{.clock = clock, .out = out, .in_fd = in_fd, .env = fixed_environment({})});
    ::close(in_fd);
    std::fflush(out);
    std::rewind(out);
    std::string text;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, out)) > 0;) text.append(buf, n);
    std::fclose(out);
    nasops::testing::capture_records("nasops-capacity", text);
    return {std::move(result), text};
}

std::string disk_record(std::int64_t ts, const std::string& target, double ratio, double free) {
    return fmt::format(
        R"({{"v":1,"ts":"{}","tool":"health","host":"h","kind":"check","name":"disk","target":"{}","status":"ok",)"
        R"("metrics":[{{"name":"disk_used","value":{}}},{{"name":"disk_free","value":{}}}]}})",
        rfc3339_millis(SystemTimePoint{std::chrono::seconds{ts}}), target, ratio, free);
}

}  // namespace

TEST(CapacityOptions, DefaultsComeFromTheSchema) {
    const auto s = resolve_settings(CliOptions{}, Config::defaults(), Subcommand::forecast).value();
    EXPECT_EQ(s.forecast.window, std::chrono::seconds(30 * 86400));
    EXPECT_EQ(s.forecast.horizon_days, 30);
    EXPECT_DOUBLE_EQ(s.forecast.reset_drop_ratio, 0.1);
    EXPECT_DOUBLE_EQ(s.forecast.warning_ratio, 0.8);
    EXPECT_DOUBLE_EQ(s.forecast.critical_ratio, 0.9);
    EXPECT_EQ(resolve_settings(CliOptions{}, Config::defaults(), Subcommand::transfers).value().transfer_days, 7);
}

TEST(CapacityOptions, CommandLineOverConfig) {
    const auto config = config_of(
        "[capacity]\nwindow = \"7d\"\nhorizon_days = 14\nwarning_ratio = 0.7\ncritical_ratio = \"85%\"\n"
        "reset_drop_ratio = 0.25\n");
    auto s = resolve_settings(CliOptions{}, config, Subcommand::forecast).value();
    EXPECT_EQ(s.forecast.window, std::chrono::seconds(7 * 86400));
    EXPECT_EQ(s.forecast.horizon_days, 14);
    EXPECT_DOUBLE_EQ(s.forecast.warning_ratio, 0.7);
    EXPECT_DOUBLE_EQ(s.forecast.reset_drop_ratio, 0.25);
    EXPECT_DOUBLE_EQ(s.forecast.critical_ratio, 0.85);
    CliOptions cli;
    cli.window = "2d";
    cli.days = 3;
    s = resolve_settings(cli, config, Subcommand::forecast).value();
    EXPECT_EQ(s.forecast.window, std::chrono::seconds(2 * 86400));
    EXPECT_EQ(s.forecast.horizon_days, 3);
}

TEST(CapacityOptions, BadValuesNameTheOptionOrKey) {
    CliOptions cli;
    cli.window = "soon";
    auto bad = resolve_settings(cli, Config::defaults(), Subcommand::forecast);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ExitCode::usage);
    EXPECT_NE(bad.error().message.find("--window"), std::string::npos) << bad.error().message;
    cli.window = "10m";
    bad = resolve_settings(cli, Config::defaults(), Subcommand::forecast);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("at least 1h"), std::string::npos);
    cli = {};
    cli.days = 0;
    EXPECT_EQ(resolve_settings(cli, Config::defaults(), Subcommand::forecast).error().code, ExitCode::usage);
    cli = {};
    cli.common.format = "prom";
    bad = resolve_settings(cli, Config::defaults(), Subcommand::show);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("forecast only"), std::string::npos);
    // A [capacity] value the forecast cannot use: exit 78 naming where and which key.
    for (const auto& [text, where] : {
             std::pair{"[capacity]\nwarning_ratio = 0.95\ncritical_ratio = 0.9\n",
                       "test.toml:3:18: capacity.critical_ratio"},
             std::pair{"[capacity]\nreset_drop_ratio = 0\n", "test.toml:2:20: capacity.reset_drop_ratio"},
             std::pair{"[capacity]\nwarning_ratio = \"0%\"\n", "test.toml:2:17: capacity.warning_ratio"},
         }) {
        const auto refused = resolve_settings(CliOptions{}, config_of(text), Subcommand::forecast);
        ASSERT_FALSE(refused) << text;
        EXPECT_EQ(refused.error().code, ExitCode::config);
        EXPECT_NE(refused.error().message.find(where), std::string::npos) << refused.error().message;
    }
}

TEST(CapacityCommands, RecordFromStdinThenForecastAsRecords) {
    StateFolder setup;
    ManualClock clock(SystemTimePoint{std::chrono::seconds{k_t0 + 10 * 86400}});
    // Ten days of hourly disk checks: 100 GiB, from 10% used, +1 GiB a day; one memory check in between.
    std::string input;
    const double gib = 1024.0 * 1024 * 1024;
    for (int h = 0; h <= 240; ++h) {
        const double used = 10 + h / 24.0;
        input += disk_record(k_t0 + h * 3600, "/srv/media", used / 100, (100 - used) * gib) + "\n";
        if (h == 5)
            input += R"({"v":1,"ts":"2026-05-29T05:00:00Z","tool":"health","host":"h","kind":"check","name":"load",)"
                     R"("status":"ok","value":0.1})"
                     "\n";
    }
    auto cli = setup.cli();
    cli.from_stdin = true;
    const auto [recorded, text] = run(Subcommand::record, cli, clock, input);
    ASSERT_TRUE(recorded) << recorded.error().message;
    EXPECT_EQ(*recorded, ExitCode::ok);
    EXPECT_NE(text.find("/srv/media: 20.0% used"), std::string::npos) << text;

    auto fcli = setup.cli();
    fcli.common.format = "json";
    const auto [forecasted, records] = run(Subcommand::forecast, fcli, clock);
    ASSERT_TRUE(forecasted) << forecasted.error().message;
    std::istringstream lines(records);
    std::string line;
    ASSERT_TRUE(std::getline(lines, line)) << records;
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["kind"], "forecast");
    EXPECT_EQ(j["tool"], "capacity");
    EXPECT_EQ(j["target"], "/srv/media");
    EXPECT_EQ(j["samples"], 241);
    EXPECT_NEAR(j["days_until_full"].get<double>(), 80.0, 1.0 / 24);
    EXPECT_NEAR(j["days_until_warning"].get<double>(), 60.0, 1.0 / 24);
    EXPECT_FALSE(std::getline(lines, line)) << "one target, one record";
}

TEST(CapacityCommands, BadStdinLinesAreReportedAndTheRestRecorded) {
    StateFolder setup;
    ManualClock clock(SystemTimePoint{std::chrono::seconds{k_t0}});
    auto cli = setup.cli();
    cli.from_stdin = true;
    const std::string input =
        disk_record(k_t0, "/a", 0.5, 1000) + "\nnot json\n" + disk_record(k_t0, "/b", 0.5, 10) + "\n";
    const auto [result, text] = run(Subcommand::record, cli, clock, input);
    ASSERT_TRUE(result);
    EXPECT_EQ(*result, ExitCode::data_error);
    EXPECT_NE(text.find("/a: 50.0% used"), std::string::npos) << text;
    EXPECT_NE(text.find("/b: 50.0% used"), std::string::npos) << text;
}

TEST(CapacityCommands, ForecastWithNothingRecordedSaysSo) {
    StateFolder setup;
    ManualClock clock(SystemTimePoint{std::chrono::seconds{k_t0}});
    const auto [result, text] = run(Subcommand::forecast, setup.cli(), clock);
    ASSERT_TRUE(result);
    EXPECT_NE(text.find("no samples yet"), std::string::npos);
    auto cli = setup.cli();
    cli.target = "/nowhere";
    const auto [missing, none] = run(Subcommand::forecast, cli, clock);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ExitCode::no_input);
}

TEST(CapacityCommands, RecordSamplesTheLocalTargets) {
    StateFolder setup;
    ManualClock clock(SystemTimePoint{std::chrono::seconds{k_t0}});
    auto cli = setup.cli();
    cli.targets = {setup.dir.path().string()};
    cli.common.format = "json";
    const auto [result, text] = run(Subcommand::record, cli, clock);
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_EQ(*result, ExitCode::ok);
    // The state folder is on the same file system as the extra target: one sample, named after the target.
    const auto j = nlohmann::json::parse(text.substr(0, text.find('\n')));
    EXPECT_EQ(j["labels"]["target"], setup.dir.path().string());
    EXPECT_GT(j["total_bytes"].get<double>(), 0);
    EXPECT_EQ(text.find('\n'), text.size() - 1) << text;
    auto store = Store::open(setup.dir / "state/nasops.db", migrations()).value();
    EXPECT_EQ(SampleStore(store.db()).samples(setup.dir.path().string()).value().size(), 1u);

    // A target that does not exist is an error naming it; nothing else is lost.
    cli.targets.push_back((setup.dir / "missing").string());
    const auto [partial, more] = run(Subcommand::record, cli, clock);
    ASSERT_TRUE(partial);
    EXPECT_EQ(*partial, ExitCode::no_input);
}

TEST(CapacityCommands, TransfersReadsSyncHistoryFromTheSharedDatabase) {
    StateFolder setup;
    // Ten whole days of uploads before "now": day d has 10 + 2d uploads of 1 MB taking 1 s each.
    const std::int64_t now = k_t0 + 10 * 86400 + 3600;
    {
        std::filesystem::create_directories(setup.dir / "state");
        auto store = Store::open(setup.dir / "state/nasops.db", sync::migrations()).value();
        store.db().exec("INSERT INTO media_files (id, source, rel_path, state) VALUES (1, '/s', 'a', 'completed')");
        SQLite::Statement ins(store.db(),
                              "INSERT INTO sync_attempts (file_id, finished_at, outcome, bytes, seconds)"
                              " VALUES (1, ?, 'completed', 1000000, 1)");
        for (int d = 0; d < 10; ++d) {
            for (int k = 0; k < 10 + 2 * d; ++k) {
                ins.bind(1, rfc3339_millis(SystemTimePoint{std::chrono::seconds{k_t0 + d * 86400 + 12 * 3600 + k}}));
                ins.exec();
                ins.reset();
            }
        }
    }
    ManualClock clock(SystemTimePoint{std::chrono::seconds{now}});
    auto cli = setup.cli();
    cli.common.format = "json";
    const auto [result, out] = run(Subcommand::transfers, cli, clock);
    ASSERT_TRUE(result) << result.error().message;
    const auto j = nlohmann::json::parse(out);
    EXPECT_EQ(j["kind"], "forecast");
    EXPECT_EQ(j["target"], "transfers");
    EXPECT_EQ(j["history_days"], 10);
    EXPECT_NEAR(j["files_growth_per_day"].get<double>(), 2.0, 1e-9);
    EXPECT_NEAR(j["predicted_daily_files"].get<double>(), 10 + 2 * 16, 1e-9);  // day 9 + 7
    EXPECT_NEAR(j["peak_multiplier"].get<double>(), 24.0, 1e-9);               // all at noon
    EXPECT_NEAR(j["job_bytes_per_second"].get<double>(), 1e6, 1e-6);
    EXPECT_EQ(j["recommended_jobs"], 1);
}

TEST(CapacityCommands, RecordKeepsTheSyncQueueCounts) {
    StateFolder setup;
    std::filesystem::create_directories(setup.dir / "state");
    {
        auto store = Store::open(setup.dir / "state/nasops.db", sync::migrations()).value();
        store.db().exec(
            "INSERT INTO media_files (source, rel_path, size, state) VALUES ('/s', 'a', 100, 'pending'),"
            " ('/s', 'b', 2048, 'completed')");
    }
    ManualClock clock(SystemTimePoint{std::chrono::seconds{k_t0}});
    auto cli = setup.cli();
    cli.targets = {setup.dir.path().string()};
    const auto [recorded, text] = run(Subcommand::record, cli, clock);
    ASSERT_TRUE(recorded) << recorded.error().message;
    EXPECT_NE(text.find("sync queue: 1 files (100 B) to upload, 1 uploaded (2.0 KiB)"), std::string::npos) << text;
    const auto [shown, history] = run(Subcommand::show, setup.cli(), clock);
    ASSERT_TRUE(shown);
    EXPECT_NE(history.find("sync queue (1 samples)"), std::string::npos) << history;
    // --from-stdin records what the records say, not the queue (it may run elsewhere).
    cli.from_stdin = true;
    clock.advance(std::chrono::hours(1));
    const auto [imported, out] = run(Subcommand::record, cli, clock, "");
    ASSERT_TRUE(imported);
    EXPECT_EQ(out.find("sync queue"), std::string::npos) << out;
}
