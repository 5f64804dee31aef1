// A state database that cannot be read is never an empty one: every
// subcommand of every tool that reads it fails loudly, with SQLite's words,
// the file and the documented code (65, data error), so that
// `nasops-sync status | nasops-alert` cannot report an empty queue.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fixtures/child_process.hpp"
#include "fixtures/fault_row.hpp"
#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"

namespace fs = std::filesystem;
using nasops::testing::run_tool;
using nasops::testing::write_file;

namespace {

struct Case {
    std::string tool;
    std::vector<std::string> args;
    int expected;  // exit code
    std::string input;
};

// Overwrites the first 4 KiB (the header and the start of sqlite_schema), as
// a failing disk or a stray write would.
void corrupt_header(const fs::path& db) {
    std::fstream file(db, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(file) << db;
    const auto garbage = nasops::testing::random_bytes(4096, 7);
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
}

}  // namespace

FAULT_TEST(CorruptDatabase, EverySubcommandThatReadsItFailsWithTheFileAndCode65) {
    nasops::testing::FaultReport fault("state DB header corrupted",
                                       "every subcommand of every tool that reads it: code 65 (checks: CRITICAL), "
                                       "naming the file and SQLite's words");
    nasops::testing::TempDir dir("nasops-corrupt-db");
    const auto media = dir / "media";
    const auto nas = dir / "nas";
    fs::create_directories(media);
    fs::create_directories(nas);
    write_file(media / "clip.mp4", "frames");
    nasops::testing::age_file(media / "clip.mp4");
    const auto config = dir / "nasops.toml";
    write_file(config, nasops::testing::paths_config(dir.path()) +
                           fmt::format("[sync]\nsources = [\"{}\"]\ntarget = \"{}\"\nmin_age = \"0s\"\n",
                                       media.string(), nas.string()));
    const std::string check_record =
        R"({"v":1,"ts":"2026-12-06T12:00:00Z","tool":"health","host":"cam-01","kind":"check","name":"disk",)"
        R"("target":"/","status":"ok","value":0.5})"
        "\n";
    // A real database with every tool's tables and rows in it.
    ASSERT_EQ(run_tool("sync", {"--config", config.string(), "run"}).exit_code, 0);
    ASSERT_EQ(run_tool("capacity", {"--config", config.string(), "record", "--quiet"}).exit_code, 0);
    ASSERT_EQ(run_tool("alert", {"--config", config.string(), "--quiet"}, {}, check_record).exit_code, 0);
    const auto db = dir / "state" / "nasops.db";
    ASSERT_TRUE(fs::is_regular_file(db));
    corrupt_header(db);

    const std::vector<Case> cases{
        {"sync", {"run"}, 65, ""},
        {"sync", {"status"}, 65, ""},
        {"sync", {"status", "--json"}, 65, ""},
        {"sync", {"ls"}, 65, ""},
        {"sync", {"verify"}, 65, ""},
        {"sync", {"retry", "--all-failed"}, 65, ""},
        {"sync", {"hostkey"}, 65, ""},
        {"sync", {"hostkey", "--accept"}, 65, ""},
        {"alert", {}, 65, check_record},
        {"alert", {"ls"}, 65, ""},
        {"alert", {"silence", "ls"}, 65, ""},
        {"alert", {"flush"}, 65, ""},
        {"capacity", {"record"}, 65, ""},
        {"capacity", {"forecast"}, 65, ""},
        {"capacity", {"report"}, 65, ""},
        {"capacity", {"show"}, 65, ""},
        {"capacity", {"transfers"}, 65, ""},
        {"dbmaint", {"backup"}, 65, ""},
        {"dbmaint", {"purge"}, 65, ""},
        {"dbmaint", {"vacuum"}, 65, ""},
        {"dbmaint", {"checkpoint"}, 65, ""},
        // A check: the monitoring-plugins answer, CRITICAL, as nasops-health's db check gives.
        {"dbmaint", {"check"}, 2, ""},
        {"health", {"db"}, 2, ""},
        // The security check cannot tell whether the NAS host key changed: a finding, WARNING.
        {"health", {"security"}, 1, ""},
    };
    std::size_t loud = 0;
    for (const auto& c : cases) {
        std::vector<std::string> args{"--config", config.string()};
        args.insert(args.end(), c.args.begin(), c.args.end());
        const auto r = run_tool(c.tool, args, {}, c.input);
        std::string name = "nasops-" + c.tool;
        for (const auto& a : c.args) name += " " + a;
        EXPECT_EQ(r.exit_code, c.expected) << name << "\nstdout: " << r.out << "\nstderr: " << r.err;
        const auto said = r.err + r.out;
        EXPECT_NE(said.find(db.string()), std::string::npos) << name << " does not name the file: " << said;
        EXPECT_NE(said.find("file is not a database"), std::string::npos) << name << ": " << said;
        if (r.exit_code == c.expected && said.find(db.string()) != std::string::npos) ++loud;
    }
    fault.observed(fmt::format("{} of {} subcommands gave their code and named the file", loud, cases.size()));
}
