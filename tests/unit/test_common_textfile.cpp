#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "fixtures/temp_dir.hpp"
#include "nasops/core/config.hpp"
#include "nasops/obs/textfile.hpp"

using namespace nasops;
namespace fs = std::filesystem;

namespace {

Config config_of(std::string_view text) {
    auto config = parse_config(text, "nasops.toml");
    EXPECT_TRUE(config) << config.error().message;
    return config ? std::move(*config) : Config::defaults();
}

}  // namespace

TEST(Textfile, EachToolHasItsOwnFile) {
    EXPECT_EQ(textfile_name("sync"), "nasops_sync.prom");
    EXPECT_EQ(textfile_name("dbmaint"), "nasops_dbmaint.prom");
}

TEST(Textfile, TheCommandLineWinsOverTheMetricsSection) {
    const auto config = config_of("[metrics]\ntextfile_dir = \"/var/lib/prometheus/node-exporter\"\n");
    EXPECT_EQ(textfile_dir_setting(std::nullopt, config, "sync"), fs::path("/var/lib/prometheus/node-exporter"));
    EXPECT_EQ(textfile_dir_setting(std::string("/tmp/textfiles"), config, "sync"), fs::path("/tmp/textfiles"));
    // A relative folder is taken from where the command was typed.
    EXPECT_EQ(textfile_dir_setting(std::string("here"), config, "alert"), fs::current_path() / "here");
}

TEST(Textfile, NothingIsWrittenWhenNoFolderIsSet) {
    const auto config = config_of("");
    for (const auto* tool : {"sync", "health", "alert", "capacity", "dbmaint", "trace"}) {
        EXPECT_EQ(textfile_dir_setting(std::nullopt, config, tool), std::nullopt) << tool;
    }
}

TEST(Textfile, TheFormerHealthKeyServesHealthOnlyAndMetricsWins) {
    const auto old_only = config_of("[health]\ntextfile_dir = \"/old\"\n");
    EXPECT_EQ(textfile_dir_setting(std::nullopt, old_only, "health"), fs::path("/old"));
    EXPECT_EQ(textfile_dir_setting(std::nullopt, old_only, "sync"), std::nullopt);
    const auto both = config_of("[health]\ntextfile_dir = \"/old\"\n[metrics]\ntextfile_dir = \"/new\"\n");
    EXPECT_EQ(textfile_dir_setting(std::nullopt, both, "health"), fs::path("/new"));
}

TEST(Textfile, PublishWritesTheFileAndAFailureLeavesTheOldOne) {
    nasops::testing::TempDir dir;
    const std::string text = "# HELP nasops_up Up.\n# TYPE nasops_up gauge\nnasops_up 1\n";
    EXPECT_TRUE(publish_textfile(dir.path(), "sync", Result<std::string>(text)));
    EXPECT_EQ(nasops::testing::read_file(dir / "nasops_sync.prom"), text);

    // An exposition that could not be built replaces nothing.
    EXPECT_FALSE(publish_textfile(dir.path(), "sync", fail(ExitCode::software, "metric x has no help text")));
    EXPECT_EQ(nasops::testing::read_file(dir / "nasops_sync.prom"), text);

    // A missing folder is not created: node_exporter reads another one.
    EXPECT_FALSE(publish_textfile(dir / "missing", "sync", Result<std::string>(text)));
    EXPECT_FALSE(fs::exists(dir / "missing"));

    // No folder: nothing to do, nothing failed.
    EXPECT_TRUE(publish_textfile(std::optional<fs::path>(), "sync", Result<std::string>(text)));
}

TEST(Textfile, TheOptionNamesTheFileItWrites) {
    CLI::App app("test", "nasops-test");
    std::string dir;
    const auto* option = add_textfile_dir_option(app, dir, "trace");
    EXPECT_EQ(option->get_name(), "--textfile-dir");
    EXPECT_NE(option->get_description().find("nasops_trace.prom"), std::string::npos) << option->get_description();
    app.parse(std::vector<std::string>{"/tmp/tf", "--textfile-dir"});
    EXPECT_EQ(dir, "/tmp/tf");
}
