// The subcommands of nasops-sync (commands.hpp) called in-process, on a local
// target in a temp dir, with a manual clock: status, ls, retry and verify, and
// the run they read after.

#include <SQLiteCpp/Database.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/util/clock.hpp"
#include "sync/commands.hpp"

using namespace nasops;
using namespace nasops::sync;
using namespace std::chrono_literals;
using nasops::testing::parse_records;
using nasops::testing::paths_config;
using nasops::testing::read_file;
using nasops::testing::write_file;
namespace fs = std::filesystem;

namespace {

// What a subcommand returned and printed.
struct Ran {
    Result<ExitCode> code;
    std::string out;

    // The exit code, or the Error's code when the command failed as a whole.
    ExitCode exit() const { return code ? *code : code.error().code; }
};

class SyncCommands : public ::testing::Test {
protected:
    SyncCommands() {
        fs::create_directories(media);
        fs::create_directories(nas);
        write_file(config, fmt::format("{}\n[sync]\nsources = [\"{}\"]\ntarget = \"{}\"\n", paths_config(dir.path()),
                                       media.string(), nas.string()));
        ::chmod(config.c_str(), 0600);
        // Files written by the test are an hour old on this clock: past min-age.
        clock.set(std::chrono::system_clock::now() + 1h);
    }

    // Runs `command` with the options `cli` (its config is the test's).
    Ran sync(Command command, CliOptions cli = {}) {
        cli.common.config_path = config.string();
        cli.common.quiet = true;
        std::FILE* out = std::tmpfile();
        auto code = execute(command, cli, CommandEnv{.clock = clock, .out = out});
        std::string text;
        std::rewind(out);
        char buf[4096];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, out)) > 0;) text.append(buf, n);
        std::fclose(out);
        return Ran{std::move(code), std::move(text)};
    }

    static CliOptions json() {
        CliOptions cli;
        cli.common.json = true;
        return cli;
    }

    // Runs `sql` on the queue's database, as an operator with sqlite3 would.
    void sql(const std::string& statement) {
        SQLite::Database db((dir / "state" / "nasops.db").string(), SQLite::OPEN_READWRITE);
        db.exec(statement);
    }

    std::string state_of(const std::string& rel) {
        SQLite::Database db((dir / "state" / "nasops.db").string(), SQLite::OPEN_READONLY);
        return db.execAndGet("SELECT state FROM media_files WHERE rel_path = '" + rel + "'").getString();
    }

    // Uploads a.mp4 and cam/b.mp4 with a run.
    void upload_two() {
        write_file(media / "a.mp4", "first file");
        write_file(media / "cam/b.mp4", "second file");
        const auto r = sync(Command::run);
        ASSERT_EQ(r.exit(), ExitCode::ok) << (r.code ? r.out : r.code.error().message);
        ASSERT_EQ(read_file(nas / "cam/b.mp4"), "second file");
    }

    nasops::testing::TempDir dir{"nasops-sync-cmd"};
    fs::path media = dir / "media";
    fs::path nas = dir / "nas";
    fs::path config = dir / "nasops.toml";
    ManualClock clock;
};

}  // namespace

TEST_F(SyncCommands, BeforeAnyRunEveryReadingCommandFindsAnEmptyQueue) {
    struct Case {
        const char* name;
        Command command;
        std::function<void(CliOptions&)> options;
        const char* output;  // a line the text output has
    };
    const Case cases[] = {
        {"status", Command::status, [](CliOptions&) {}, "pending              0\n"},
        {"ls", Command::ls, [](CliOptions&) {}, ""},
        {"retry --all-failed --dry-run", Command::retry,
         [](CliOptions& o) {
             o.all_failed = true;
             o.dry_run = true;
         },
         "would requeue 0 failed files\n"},
        {"verify --dry-run", Command::verify, [](CliOptions& o) { o.dry_run = true; }, ""},
    };
    for (const auto& c : cases) {
        CliOptions cli;
        c.options(cli);
        const auto r = sync(c.command, cli);
        EXPECT_EQ(r.exit(), ExitCode::ok) << c.name << ": " << (r.code ? r.out : r.code.error().message);
        EXPECT_NE(r.out.find(c.output), std::string::npos) << c.name << ": " << r.out;
        EXPECT_FALSE(fs::exists(dir / "state" / "nasops.db")) << c.name << " must not create the database";
    }
}

TEST_F(SyncCommands, StatusCountsWhatARunDid) {
    upload_two();
    const auto text = sync(Command::status);
    ASSERT_EQ(text.exit(), ExitCode::ok);
    EXPECT_NE(text.out.find("completed            2  (2 verified by SHA-256)\n"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("last hour       2 completed, 0 failed, success 100.0%"), std::string::npos) << text.out;

    const auto records = parse_records(sync(Command::status, json()).out);
    std::map<std::string, double> files;
    std::map<std::string, double> verified;
    for (const auto& r : records) {
        EXPECT_EQ(r["kind"], "metric");
        if (r["name"] == "sync_files") files[r["labels"]["state"]] = r["value"];
        if (r["name"] == "sync_completed_files_by_verify") verified[r["labels"]["verified_by"]] = r["value"];
    }
    EXPECT_EQ(files,
              (std::map<std::string, double>{{"completed", 2}, {"failed", 0}, {"pending", 0}, {"transferring", 0}}));
    EXPECT_EQ(verified, (std::map<std::string, double>{{"sha256", 2}}));
}

TEST_F(SyncCommands, LsListsEveryFileOrThoseInOneState) {
    upload_two();
    sql("UPDATE media_files SET state = 'failed', last_error = 'disk on fire' WHERE rel_path = 'a.mp4'");
    struct Case {
        std::optional<std::string> state;
        std::vector<std::string> lines;  // in order
    };
    const Case cases[] = {
        {std::nullopt,
         {fmt::format("failed             10 B  {}  (disk on fire)", (media / "a.mp4").string()),
          fmt::format("completed          11 B  {}  (verified by SHA-256)", (media / "cam/b.mp4").string())}},
        {"failed", {fmt::format("failed             10 B  {}  (disk on fire)", (media / "a.mp4").string())}},
        {"pending", {}},
    };
    for (const auto& c : cases) {
        CliOptions cli;
        cli.state = c.state;
        const auto r = sync(Command::ls, cli);
        ASSERT_EQ(r.exit(), ExitCode::ok) << c.state.value_or("all");
        std::string expected;
        for (const auto& line : c.lines) expected += line + "\n";
        EXPECT_EQ(r.out, expected) << c.state.value_or("all");
    }
    auto listed = json();
    listed.state = "failed";
    const auto records = parse_records(sync(Command::ls, listed).out);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0]["rel_path"], "a.mp4");
    EXPECT_EQ(records[0]["state"], "failed");
    EXPECT_EQ(records[0]["error"], "disk on fire");
}

TEST_F(SyncCommands, RetryRequeuesTheFailedFilesItIsGiven) {
    struct Case {
        const char* name;
        std::vector<std::string> paths;
        bool all_failed;
        bool dry_run;
        ExitCode exit;
        std::string output;
        const char* a_state;  // a.mp4 after the command
    };
    const auto a_local = (media / "a.mp4").string();
    const Case cases[] = {
        {"by local path", {a_local}, false, false, ExitCode::ok, "requeued 1 failed files\n", "pending"},
        {"by relative path", {"a.mp4"}, false, false, ExitCode::ok, "requeued 1 failed files\n", "pending"},
        {"all failed", {}, true, false, ExitCode::ok, "requeued 2 failed files\n", "pending"},
        {"dry run", {"a.mp4"}, false, true, ExitCode::ok, "would requeue 1 failed files\n", "failed"},
        {"a file that is not failed",
         {"nothing.mp4"},
         false,
         false,
         ExitCode::no_input,
         "requeued 0 failed files\n",
         "failed"},
        {"neither paths nor --all-failed", {}, false, false, ExitCode::usage, "", "failed"},
        {"both paths and --all-failed", {"a.mp4"}, true, false, ExitCode::usage, "", "failed"},
    };
    upload_two();
    for (const auto& c : cases) {
        sql("UPDATE media_files SET state = 'failed', attempts = 6");
        CliOptions cli;
        cli.paths = c.paths;
        cli.all_failed = c.all_failed;
        cli.dry_run = c.dry_run;
        const auto r = sync(Command::retry, cli);
        EXPECT_EQ(r.exit(), c.exit) << c.name;
        EXPECT_EQ(r.out, c.output) << c.name;
        EXPECT_EQ(state_of("a.mp4"), c.a_state) << c.name;
    }
}

TEST_F(SyncCommands, VerifyFindsABadCopyAndQueuesItAgain) {
    upload_two();
    write_file(nas / "a.mp4", "FIRST FILE");  // same size, other bytes

    CliOptions dry;
    dry.dry_run = true;
    const auto looked = sync(Command::verify, dry);
    EXPECT_EQ(looked.exit(), ExitCode::data_error);
    EXPECT_NE(looked.out.find("BAD sha256  " + (nas / "a.mp4").string() + " has SHA-256 "), std::string::npos)
        << looked.out;
    EXPECT_EQ(state_of("a.mp4"), "completed") << "a dry run changes nothing";

    const auto records = parse_records(sync(Command::verify, json()).out);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0]["name"], "verify_failed");
    EXPECT_EQ(records[0]["details"]["problem"], "sha256");
    EXPECT_EQ(records[0]["details"]["requeued"], true);
    EXPECT_EQ(records[1]["name"], "verify");
    EXPECT_EQ(records[1]["details"]["checked"], 2);
    EXPECT_EQ(records[1]["details"]["bad"], 1);
    EXPECT_EQ(state_of("a.mp4"), "pending");

    ASSERT_EQ(sync(Command::run).exit(), ExitCode::ok);
    EXPECT_EQ(read_file(nas / "a.mp4"), "first file");
    const auto again = sync(Command::verify);
    EXPECT_EQ(again.exit(), ExitCode::ok) << again.out;
}
