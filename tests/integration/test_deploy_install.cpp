// What `make -f Makefile.ops install` puts on a host (deploy/, CMake install
// rules), installed into a temp folder: where each file goes, that a fresh
// install's cron lines are silent, that every systemd unit scores below 4.0
// in systemd-analyze security, and that the shipped logrotate rule keeps
// what the handbook asks and rotates for real.

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "fixtures/child_process.hpp"
#include "fixtures/cron_table.hpp"
#include "fixtures/staged_install.hpp"
#include "fixtures/temp_dir.hpp"

namespace fs = std::filesystem;
using nasops::testing::cron_lines;
using nasops::testing::read_file;
using nasops::testing::replace_all;
using nasops::testing::run_command;
using nasops::testing::SpawnOptions;
using nasops::testing::StagedInstall;
using nasops::testing::Strip;
using nasops::testing::TempDir;
using nasops::testing::write_file;

namespace {

const std::vector<std::string> k_tools{"sync", "health", "alert", "capacity", "dbmaint", "trace"};

std::vector<fs::path> files_in(const fs::path& dir, const std::string& extension) {
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == extension) found.push_back(entry.path());
    return found;
}

}  // namespace

TEST(DeployInstall, PutsEachFileWhereDebianLooksAndStripsTheTools) {
    StagedInstall install(Strip::yes);
    const auto prefix = install.prefix();
    for (const auto& tool : k_tools) {
        const auto binary = prefix / "bin" / ("nasops-" + tool);
        ASSERT_TRUE(fs::exists(binary)) << binary;
        const auto sections = run_command({"readelf", "-S", "-W", binary.string()});
        EXPECT_EQ(sections.out.find(".debug_info"), std::string::npos) << binary << " keeps its debug info";
        EXPECT_NE(sections.out.find(".gnu_debuglink"), std::string::npos) << binary << " names no debug file";
        EXPECT_TRUE(fs::exists(prefix / "share/bash-completion/completions" / ("nasops-" + tool)));
        EXPECT_TRUE(fs::exists(prefix / "share/zsh/site-functions" / ("_nasops-" + tool)));
        EXPECT_TRUE(fs::exists(prefix / "share/fish/vendor_completions.d" / ("nasops-" + tool + ".fish")));
        EXPECT_TRUE(fs::exists(prefix / "share/man/man1" / ("nasops-" + tool + ".1.gz")));
    }
    // The debug info kept, one file per tool, by build id.
    std::size_t debug_files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(prefix / "lib/debug/.build-id"))
        if (entry.path().extension() == ".debug") ++debug_files;
    EXPECT_EQ(debug_files, k_tools.size());
    // Only the tools: no test binary is installed.
    std::size_t binaries = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(prefix / "bin")) ++binaries;
    EXPECT_EQ(binaries, k_tools.size());

    EXPECT_TRUE(fs::exists(install.root() / "etc/cron.d/nasops"));
    EXPECT_TRUE(fs::exists(install.root() / "etc/logrotate.d/nasops"));
    EXPECT_TRUE(fs::exists(prefix / "lib/tmpfiles.d/nasops.conf"));
    for (const auto* name : {"nasops.toml", "nasops.toml.example"}) {
        const auto status = fs::status(install.root() / "etc/nasops" / name);
        EXPECT_EQ(status.permissions(), fs::perms::owner_read | fs::perms::owner_write) << name;
    }
    // Units are shipped, none is enabled: nothing under etc/systemd.
    EXPECT_EQ(files_in(prefix / "lib/systemd/system", ".timer").size(),
              files_in(prefix / "lib/systemd/system", ".service").size());
    EXPECT_FALSE(fs::exists(install.root() / "etc/systemd"));
}

// The fleet's files, for a central Prometheus and Grafana: the rules and
// the dashboard as they are in deploy/, and the rules' promtool unit tests
// beside them, which pass where they are installed (they name the rules as
// ../nasops.rules.yml).
TEST(DeployInstall, ShipsTheFleetRulesWithTheirTestsAndTheDashboard) {
    StagedInstall install(Strip::no);
    const auto share = install.prefix() / "share/nasops";
    const fs::path deploy = fs::path(NASOPS_SOURCE_DIR) / "deploy";
    ASSERT_TRUE(fs::exists(share / "prometheus/nasops.rules.yml"));
    EXPECT_EQ(read_file(share / "prometheus/nasops.rules.yml"), read_file(deploy / "prometheus/nasops.rules.yml"));
    ASSERT_TRUE(fs::exists(share / "grafana/nasops.json"));
    EXPECT_EQ(read_file(share / "grafana/nasops.json"), read_file(deploy / "grafana/nasops.json"));
    const auto tests = files_in(share / "prometheus/tests", ".yml");
    EXPECT_EQ(tests.size(), files_in(deploy / "prometheus/tests", ".yml").size());
    ASSERT_FALSE(tests.empty());

    ASSERT_TRUE(fs::exists("/usr/bin/promtool")) << "install the Debian package prometheus";
    std::vector<std::string> argv{"/usr/bin/promtool", "test", "rules"};
    for (const auto& test : tests) argv.push_back(test.filename().string());
    const auto run =
        run_command(argv, {}, std::chrono::minutes(1), SpawnOptions{.working_dir = share / "prometheus/tests"});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_NE(run.out.find("SUCCESS"), std::string::npos) << run.out;
}

// A fresh install sends no cron mail: each line of the installed cron table,
// run as cron runs it (sh -c, its PATH) against the installed default config,
// prints nothing (cron mails stdout and stderr alike). The jobs exit 0; the
// lines into nasops-alert exit with the alerts firing, among them the WARNING
// "nasops-sync is not configured" that monitoring sees.
TEST(DeployInstall, CronLinesAreSilentOnTheShippedConfig) {
    StagedInstall install(Strip::no);
    TempDir work("nasops-cron");
    const auto config = install.shipped_config_under(work.path());
    const auto lines = cron_lines(read_file(install.root() / "etc/cron.d/nasops"));
    ASSERT_GE(lines.size(), 5u);

    SpawnOptions cron;
    cron.env["PATH"] = (install.prefix() / "bin").string() + ":/usr/bin:/bin";
    cron.env["NASOPS_CONFIG"] = config.string();
    cron.unset_env = {"TRACEPARENT", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"};
    cron.working_dir = work.path();
    for (const auto& line : lines) {
        EXPECT_EQ(line.user, "nasops") << line.text;
        const auto run = run_command({"/bin/sh", "-c", line.command}, {}, std::chrono::minutes(2), cron);
        if (line.command.find("| nasops-alert") != std::string::npos) {
            // The alerts firing: at least the WARNING, CRITICAL too on a loaded machine.
            EXPECT_TRUE(run.exit_code == 1 || run.exit_code == 2) << line.text << ": exit " << run.exit_code;
        } else {
            EXPECT_EQ(run.exit_code, 0) << line.text << "\n" << run.err;
        }
        EXPECT_EQ(run.out + run.err, "") << line.text << ": cron would mail this";
    }
    // What the WARNING says, and that sync told its log why it did nothing.
    const auto health =
        run_command({"/bin/sh", "-c", "nasops-health transfer --format nagios"}, {}, std::chrono::minutes(1), cron);
    EXPECT_EQ(health.exit_code, 1) << health.err;
    EXPECT_NE(health.out.find("nasops-sync is not configured"), std::string::npos) << health.out;
    EXPECT_NE(read_file(work / "log/nasops/sync.log").find("nasops-sync is not configured"), std::string::npos);
    const auto verbose = run_command({"/bin/sh", "-c", "nasops-sync run --verbose"}, {}, std::chrono::minutes(1), cron);
    EXPECT_EQ(verbose.exit_code, 0);
    EXPECT_NE(verbose.err.find("nasops-sync is not configured"), std::string::npos) << verbose.err;
}

// Each unit's score, from the line "→ Overall exposure level for X: 1.4 OK".
TEST(DeployInstall, EveryUnitScoresBelowFourInSystemdAnalyzeSecurity) {
    StagedInstall install(Strip::no);
    const auto units = files_in(install.prefix() / "lib/systemd/system", ".service");
    ASSERT_GE(units.size(), 6u);
    static const std::regex overall_re(R"(Overall exposure level for \S+: ([0-9]+\.[0-9]+))");
    for (const auto& unit : units) {
        const auto text = read_file(unit);
        const auto at = text.find("\nExecStart=");
        ASSERT_NE(at, std::string::npos) << unit;
        const auto exec_start = text.substr(at + 1, text.find('\n', at + 1) - at - 1);
        EXPECT_NE(exec_start.find("/usr/local/bin/nasops-"), std::string::npos) << unit << exec_start;
        EXPECT_NE(text.find("ConditionPathExists=!/etc/cron.d/nasops"), std::string::npos) << unit;
        EXPECT_NE(text.find("User=nasops"), std::string::npos) << unit;
        const auto analyzed = run_command({"systemd-analyze", "security", "--offline=true", unit.string()});
        std::smatch m;
        ASSERT_TRUE(std::regex_search(analyzed.out, m, overall_re)) << unit << "\n" << analyzed.out << analyzed.err;
        EXPECT_LT(std::stod(m[1].str()), 4.0) << unit << "\n" << analyzed.out;
    }
}

// logrotate's dry run of the shipped rule: no error, no file listed twice,
// and the handbook's keeping: 30 rotations for a tool's log, 365 for the audit log.
TEST(DeployInstall, ShippedLogrotateRuleKeepsWhatTheHandbookAsks) {
    const auto debug =
        run_command({"/usr/sbin/logrotate", "--debug", "--force", NASOPS_SOURCE_DIR "/deploy/logrotate.d/nasops"});
    EXPECT_EQ(debug.exit_code, 0) << debug.err;
    const auto said = debug.out + debug.err;
    EXPECT_EQ(said.find("error"), std::string::npos) << said;
    EXPECT_EQ(said.find("duplicate"), std::string::npos) << said;
    const auto rotations_of = [&](const std::string& pattern) {
        // A block of several files spans lines up to its count.
        const std::regex re("rotating pattern: " + pattern + R"(\s[^(]*\((\d+) rotations\))");
        std::smatch m;
        return std::regex_search(said, m, re) ? std::stoi(m[1].str()) : -1;
    };
    EXPECT_EQ(rotations_of("/var/log/nasops/sync.log"), 30) << said;
    EXPECT_EQ(rotations_of("/var/log/nasops/audit.log"), 365) << said;
    EXPECT_EQ(rotations_of("/var/log/nasops/traces.jsonl"), 7) << said;
}

// The shipped rule, pointed at a temp folder, forced: every log, the audit
// log and both JSON-lines files rotate once, and the files come back empty.
TEST(DeployInstall, ShippedLogrotateRuleRotatesEveryLogOnce) {
    TempDir dir("nasops-logrotate");
    const auto log = dir / "log";
    fs::create_directories(log);
    fs::create_directories(dir / "run");
    auto rule = read_file(NASOPS_SOURCE_DIR "/deploy/logrotate.d/nasops");
    rule = replace_all(rule, "/var/log/nasops", log.string());
    rule = replace_all(rule, "/run/nasops", (dir / "run").string());
    write_file(dir / "logrotate.conf", rule);
    std::vector<std::string> files{"audit.log", "transfers.jsonl", "traces.jsonl"};
    for (const auto& tool : k_tools) files.push_back(tool + ".log");
    for (const auto& file : files) write_file(log / file, file + " line before rotation\n");

    const auto rotated = run_command({"/usr/sbin/logrotate", "--force", "--verbose", "--state",
                                      (dir / "logrotate.state").string(), (dir / "logrotate.conf").string()});
    ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
    EXPECT_EQ(rotated.err.find("error"), std::string::npos) << rotated.err;
    for (const auto& file : files) {
        // delaycompress: the first rotation stays plain.
        EXPECT_EQ(read_file(log / (file + ".1")), file + " line before rotation\n") << file;
        EXPECT_TRUE(fs::exists(log / file)) << file << " was not created again";
        EXPECT_EQ(fs::file_size(log / file), 0u) << file;
        EXPECT_FALSE(fs::exists(log / (file + ".2"))) << file << " rotated twice";
    }
}

// The man pages' FILES sections name what an install puts on the host: the
// shared files in nasops-sync(1), each unit in the page of the tool it runs.
TEST(DeployInstall, ManPagesFilesSectionsNameWhatIsInstalled) {
    StagedInstall install(Strip::no);
    const auto files_section = [](const std::string& page) {
        const auto text = read_file(fs::path(NASOPS_SOURCE_DIR) / "man" / page);
        const auto start = text.find("\n# FILES\n");
        if (start == std::string::npos) return std::string();
        return text.substr(start, text.find("\n# ", start + 1) - start);
    };
    const auto sync_files = files_section("nasops-sync.1.scd");
    for (const auto* shared : {"/etc/nasops/nasops.toml_", "/etc/nasops/nasops.toml.example", "/etc/cron.d/nasops",
                               "/etc/logrotate.d/nasops", "/usr/lib/tmpfiles.d/nasops.conf"})
        EXPECT_NE(sync_files.find(shared), std::string::npos) << shared << " is not in nasops-sync(1) FILES";
    ASSERT_TRUE(fs::exists(install.root() / "etc/cron.d/nasops"));
    ASSERT_TRUE(fs::exists(install.prefix() / "lib/tmpfiles.d/nasops.conf"));
    // The fleet's files, by their place in the package, in nasops-metrics(7).
    const auto metrics_files = files_section("nasops-metrics.7.scd");
    const auto share = install.prefix() / "share/nasops";
    ASSERT_TRUE(fs::is_directory(share / "prometheus") && fs::is_directory(share / "grafana"));
    for (const auto& entry : fs::recursive_directory_iterator(share)) {
        const auto folder = entry.path().lexically_relative(share).begin()->string();
        if (!entry.is_regular_file() || (folder != "prometheus" && folder != "grafana")) continue;
        const auto relative = entry.path().lexically_relative(share);
        // A folder of several files is named as the folder ("/usr/share/nasops/prometheus/tests/").
        const auto named = relative.parent_path().filename() == "tests"
                               ? "/usr/share/nasops/" + relative.parent_path().string() + "/"
                               : "/usr/share/nasops/" + relative.string();
        EXPECT_NE(metrics_files.find(named), std::string::npos) << named << " is not in nasops-metrics(7) FILES";
    }
    for (const auto& unit : files_in(install.prefix() / "lib/systemd/system", ".service")) {
        const auto name = unit.filename().string();
        std::string page;
        for (const auto& tool : k_tools)
            if (name.starts_with("nasops-" + tool)) page = "nasops-" + tool + ".1.scd";
        ASSERT_FALSE(page.empty()) << name << " runs no tool";
        EXPECT_NE(files_section(page).find(name), std::string::npos) << name << " is not in " << page << " FILES";
    }
}
