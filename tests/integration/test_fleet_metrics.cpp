// What a fleet scrapes: each tool, run against real components (sshd as the
// NAS, an HTTP sink as the webhook and the OTLP collector), writes its
// textfile; promtool passes every file, and the families written are the
// families nasops-metrics(7) documents, tool by tool, with the same type, so
// that the table cannot drift from the code. A textfile that cannot be
// written is a warning and leaves the exit status alone.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures/child_process.hpp"
#include "fixtures/fleet_round.hpp"
#include "fixtures/http_sink.hpp"
#include "fixtures/metrics_doc.hpp"
#include "fixtures/sshd_fixture.hpp"
#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"
#include "health/thresholds.hpp"

namespace fs = std::filesystem;
using nasops::testing::age_file;
using nasops::testing::CommandResult;
using nasops::testing::read_file;
using nasops::testing::run_command;
using nasops::testing::run_tool;
using nasops::testing::TempDir;
using nasops::testing::write_file;
using ::testing::HasSubstr;

namespace {

// The families of an exposition, from its TYPE lines: name -> type.
std::map<std::string, std::string> families_of(const std::string& exposition) {
    std::map<std::string, std::string> out;
    std::istringstream lines(exposition);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string hash, keyword, name, type;
        words >> hash >> keyword >> name >> type;
        if (hash == "#" && keyword == "TYPE") out[name] = type;
    }
    return out;
}

void expect_promtool_clean(const fs::path& file) {
    ASSERT_TRUE(fs::exists("/usr/bin/promtool")) << "install the Debian package prometheus";
    ASSERT_TRUE(fs::exists(file)) << file << " was not written";
    const auto text = read_file(file);
    const auto lint = run_command({"/usr/bin/promtool", "check", "metrics"}, text);
    EXPECT_EQ(lint.exit_code, 0) << file << ": " << lint.out << lint.err;
    EXPECT_EQ(lint.out + lint.err, "") << file << " has promtool warnings";
}

// One host's state, config and textfile folder, with the NAS and the sink running.
class FleetHost : public ::testing::Test {
protected:
    void SetUp() override {
        fs::create_directories(m_dir / "media/cam1");
        fs::create_directories(m_textfiles);
        for (int i = 0; i < 3; ++i) {
            const auto file = m_dir / fmt::format("media/cam1/clip{}.mp4", i);
            write_file(file, nasops::testing::random_bytes(20000 + 1000 * i, i));
            age_file(file);
        }
        write_file(
            m_config,
            nasops::testing::paths_config(m_dir.path()) + m_nas.config_section() +
                fmt::format("[sync]\nsources = [\"{}\"]\nmin_age = \"0s\"\n"
                            "[alert]\ndefault_channels = [\"hook\"]\n"
                            "[[alert.channel]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"{}\"\n"
                            "[[alert.rule]]\nname = \"disk-full\"\nmatch = {{ kind = \"check\", name = \"disk\" }}\n"
                            "severity = \"critical\"\n"
                            "[metrics]\ntextfile_dir = \"{}\"\n",
                            (m_dir / "media").string(), m_sink.url(), m_textfiles.string()));
    }

    CommandResult tool(const std::string& name, std::vector<std::string> args, const std::string& input = {},
                       const std::map<std::string, std::string>& env = {}) {
        args.insert(args.begin(), {"--config", m_config.string()});
        return run_tool(name, args, env, input);
    }

    TempDir m_dir{"nasops-fleet"};
    nasops::testing::SshdFixture m_nas;
    nasops::testing::HttpSink m_sink{m_dir / "sink"};
    fs::path m_textfiles = m_dir / "textfiles";
    fs::path m_config = m_dir / "nasops.toml";
};

}  // namespace

TEST_F(FleetHost, EveryToolWritesTheFamiliesNasopsMetrics7Documents) {
    const auto documented = nasops::testing::documented_metric_families();
    ASSERT_FALSE(documented.empty());

    // Each tool as cron runs it, the textfile folder from [metrics].
    auto r = tool("sync", {"run", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = tool("health", {"--no-cpu", "--format", "json"});
    ASSERT_LE(r.exit_code, 3) << r.err;
    r = tool("alert", {}, nasops::testing::k_critical_disk_record);
    EXPECT_EQ(r.exit_code, 2) << r.err;  // the alert fires and is delivered to the sink
    ASSERT_EQ(m_sink.requests().size(), 1u);
    ASSERT_NO_FATAL_FAILURE(nasops::testing::run_capacity_dbmaint_trace(
        [this](const std::string& name, std::vector<std::string> args, const std::string& input,
               const std::map<std::string, std::string>& env) { return tool(name, std::move(args), input, env); },
        m_sink.port()));

    std::map<std::string, std::map<std::string, std::string>> written;  // tool -> family -> type
    for (const auto* name : {"sync", "health", "alert", "capacity", "dbmaint", "trace"}) {
        const auto file = m_textfiles / fmt::format("nasops_{}.prom", name);
        expect_promtool_clean(file);
        if (fs::exists(file)) written[name] = families_of(read_file(file));
        EXPECT_FALSE(fs::exists(m_textfiles / fmt::format("nasops_{}.prom.tmp", name)));
    }
    EXPECT_EQ(std::distance(fs::directory_iterator(m_textfiles), fs::directory_iterator{}), 6);

    std::map<std::string, std::map<std::string, std::string>> expected;  // tool -> family -> type
    for (const auto& [family, doc] : documented) expected[doc.tool][family] = doc.type;
    for (const auto* name : {"sync", "alert", "capacity", "dbmaint", "trace"}) {
        EXPECT_EQ(written[name], expected[name]) << "nasops-" << name << ": families written (left) and in "
                                                 << "nasops-metrics(7) (right)";
    }
    // Which health families a run writes depends on the checks the host can
    // run (no systemd here, maybe no swap): each written one is documented,
    // and the documented ones are the checks' metric table, exactly.
    for (const auto& [family, type] : written["health"]) {
        EXPECT_TRUE(expected["health"].contains(family)) << family << " is not in nasops-metrics(7)";
        EXPECT_EQ(type, expected["health"][family]) << family;
    }
    EXPECT_GE(written["health"].size(), 20u);
    std::map<std::string, std::string> health_table{{"nasops_health_check_status", "gauge"},
                                                    {"nasops_health_check_duration_seconds", "gauge"}};
    for (const auto& spec : nasops::health::metric_specs())
        health_table[nasops::health::prometheus_name(spec)] = "gauge";
    EXPECT_EQ(expected["health"], health_table);

    // The counters come from the database: a second run that sends nothing keeps them.
    const auto sync_text = read_file(m_textfiles / "nasops_sync.prom");
    EXPECT_THAT(sync_text, HasSubstr("nasops_sync_files_transferred_total 3\n"));
    EXPECT_THAT(sync_text, HasSubstr("nasops_sync_transferred_bytes_total 63000\n"));
    EXPECT_THAT(sync_text, HasSubstr("nasops_sync_queue_files{state=\"completed\"} 3\n"));
    r = tool("sync", {"run", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(read_file(m_textfiles / "nasops_sync.prom"), HasSubstr("nasops_sync_files_transferred_total 3\n"));
    EXPECT_THAT(read_file(m_textfiles / "nasops_alert.prom"),
                HasSubstr("nasops_alert_active_alerts{severity=\"critical\"} 1\n"));
    EXPECT_THAT(read_file(m_textfiles / "nasops_dbmaint.prom"), HasSubstr("nasops_dbmaint_check_status 0\n"));
    EXPECT_THAT(read_file(m_textfiles / "nasops_dbmaint.prom"), HasSubstr("nasops_dbmaint_backups 1\n"));
    EXPECT_THAT(read_file(m_textfiles / "nasops_trace.prom"), HasSubstr("nasops_trace_export_pending_spans 0\n"));
}

// The command line wins over [metrics]; a folder that cannot be written is a
// warning naming it, and the job's exit status stays what the job earned.
TEST_F(FleetHost, ATextfileThatCannotBeWrittenIsAWarningNotAFailure) {
    const auto missing = m_dir / "no-such-folder";
    auto r = tool("sync", {"run", "--textfile-dir", missing.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr("warning"));
    EXPECT_THAT(r.err, HasSubstr(missing.string()));
    EXPECT_FALSE(fs::exists(m_textfiles / "nasops_sync.prom"));  // --textfile-dir replaced [metrics]
    EXPECT_TRUE(fs::exists(m_nas.remote_root() / "cam1/clip2.mp4")) << "the upload happened";

    r = tool("dbmaint", {"check", "--textfile-dir", missing.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr(missing.string()));
    r = tool("health", {"fds", "--textfile-dir", missing.string()});
    EXPECT_LE(r.exit_code, 2) << r.err;  // not UNKNOWN for the textfile's sake
    EXPECT_THAT(r.err, HasSubstr(missing.string()));
    r = tool("capacity", {"forecast", "--quiet", "--textfile-dir", missing.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr(missing.string()));
}

// The one place that resolves the folder keeps [health] textfile_dir of
// earlier releases working for nasops-health, and says what to write instead.
TEST_F(FleetHost, TheFormerHealthKeyStillWorksWithAWarning) {
    const auto old_dir = m_dir / "old-textfiles";
    fs::create_directories(old_dir);
    write_file(m_config, nasops::testing::paths_config(m_dir.path()) +
                             fmt::format("[health]\ntextfile_dir = \"{}\"\n", old_dir.string()));
    auto r = tool("health", {"fds"});
    EXPECT_LE(r.exit_code, 2) << r.err;
    EXPECT_TRUE(fs::exists(old_dir / "nasops_health.prom"));
    EXPECT_THAT(r.err, HasSubstr("health.textfile_dir is deprecated"));
    EXPECT_THAT(r.err, HasSubstr("[metrics]"));
    // Only health reads it.
    r = tool("capacity", {"forecast"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(fs::exists(old_dir / "nasops_capacity.prom"));
}
