// nasops-health as cron, NRPE and node_exporter run it: the built binary, its
// four formats, its exit codes, a hung check, and every bad configuration.

#include <SQLiteCpp/Database.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <regex>
#include <sstream>

#include "fixtures/child_process.hpp"
#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/record/record.hpp"

namespace fs = std::filesystem;
using nasops::testing::CommandResult;
using nasops::testing::read_file;
using nasops::testing::run_command;
using nasops::testing::write_file;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

namespace {

CommandResult health(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
    return nasops::testing::run_tool("health", args, env);
}

// A config whose state and log folders are in `dir`.
fs::path write_config(const nasops::testing::TempDir& dir, const std::string& extra = "") {
    const auto path = dir / "nasops.toml";
    write_file(path, nasops::testing::paths_config(dir.path()) + extra);
    return path;
}

// The records of health's output; each must be a check record from health.
std::vector<nlohmann::json> records_of(const std::string& out) {
    auto records = nasops::testing::parse_records(out);
    for (const auto& record : records) {
        EXPECT_EQ(record.value("kind", ""), "check") << record.dump();
        EXPECT_EQ(record.value("tool", ""), "health") << record.dump();
    }
    return records;
}

int worst_exit(const std::vector<nlohmann::json>& records) {
    // monitoring-plugins: CRITICAL > WARNING > UNKNOWN > OK
    const std::map<std::string, std::pair<int, int>> rank{
        {"ok", {0, 0}}, {"unknown", {1, 3}}, {"warning", {2, 1}}, {"critical", {3, 2}}};
    std::pair<int, int> worst{0, 0};
    for (const auto& r : records) worst = std::max(worst, rank.at(r["status"].get<std::string>()));
    return worst.second;
}

const nlohmann::json* find_record(const std::vector<nlohmann::json>& records, const std::string& name,
                                  const std::string& target = "") {
    for (const auto& r : records) {
        if (r["name"] == name && r.value("target", "") == target) return &r;
    }
    return nullptr;
}

}  // namespace

TEST(HealthCli, JsonRecordsOfTheAutomaticSetAndTheWorstExitCode) {
    nasops::testing::TempDir dir;
    const auto config = write_config(dir);
    auto r = health({"--config", config.string(), "--no-cpu", "--format", "json"});
    const auto records = records_of(r.out);
    ASSERT_EQ(records.size(), 5u) << r.out << r.err;  // disk /, memory, load, fds, transfer; no cpu
    for (const auto* name : {"memory", "load", "fds"}) EXPECT_NE(find_record(records, name), nullptr) << name;
    // No [sync] sources: a fresh install, a WARNING that monitoring sees.
    const auto* transfer = find_record(records, "transfer");
    ASSERT_NE(transfer, nullptr);
    EXPECT_EQ((*transfer)["status"], "warning");
    EXPECT_THAT((*transfer)["message"].get<std::string>(), HasSubstr("nasops-sync is not configured"));
    const auto* disk = find_record(records, "disk", "/");
    ASSERT_NE(disk, nullptr);
    EXPECT_EQ((*disk)["unit"], "ratio");
    EXPECT_EQ((*disk)["warn"], "0.8");
    EXPECT_TRUE((*disk)["duration_ms"].is_number_integer());
    EXPECT_EQ(r.exit_code, worst_exit(records)) << r.err;
    EXPECT_EQ(r.err, "");
}

TEST(HealthCli, TextFormatIsAlignedAndUncolouredInAPipe) {
    nasops::testing::TempDir dir;
    auto r = health({"--config", write_config(dir).string(), "fds", "memory"}, {{"LANG", "C.UTF-8"}});
    EXPECT_EQ(r.out.find('\033'), std::string::npos);
    std::istringstream lines(r.out);
    std::string fds_line;
    std::string memory_line;
    std::getline(lines, fds_line);
    std::getline(lines, memory_line);
    EXPECT_THAT(fds_line,
                ::testing::MatchesRegex("(✓ OK      |⚠ WARNING |✗ CRITICAL) fds     .* file handles in use.*"));
    EXPECT_THAT(memory_line, ::testing::MatchesRegex("(✓ OK      |⚠ WARNING |✗ CRITICAL) memory  .* used, .*"));

    // LC_ALL=C wins over LANG, as setlocale(3) has it: plain ASCII symbols.
    auto plain = health({"--config", write_config(dir).string(), "fds"}, {{"LANG", "C.UTF-8"}, {"LC_ALL", "C"}});
    EXPECT_THAT(plain.out,
                ::testing::MatchesRegex("(\\+ OK      |! WARNING |x CRITICAL) fds  .* file handles in use.*\n"));
}

TEST(HealthCli, NagiosLineUnder80WithCLocalePerfdata) {
    nasops::testing::TempDir dir;
    auto r = health({"--config", write_config(dir).string(), "--format", "nagios", "disk", "memory", "fds"},
                    {{"LC_ALL", "de_DE.UTF-8"}, {"LANG", "de_DE.UTF-8"}});
    const auto first = r.out.substr(0, r.out.find('\n'));
    const auto bar = first.find(" | ");
    ASSERT_NE(bar, std::string::npos) << r.out;
    EXPECT_LT(bar, 80u) << first;
    EXPECT_THAT(first.substr(0, bar), ::testing::MatchesRegex("HEALTH (OK|WARNING|CRITICAL|UNKNOWN) - .*"));
    const std::regex item(R"('([^']|'')+'=-?[0-9]+(\.[0-9]+)?(%|B|s|c)?(;[~@0-9.:]*){0,4})");
    const std::string perf = first.substr(bar + 3);
    std::size_t items = 0;
    for (std::sregex_iterator it(perf.begin(), perf.end(), item), end; it != end; ++it) ++items;
    EXPECT_EQ(items, 5u) << perf;  // disk_used, disk_inodes_used, disk_free, memory_used, fds_used
    EXPECT_EQ(perf.find(','), std::string::npos) << "decimal comma in " << perf;
    EXPECT_THAT(perf, HasSubstr("'disk_used /'="));
    EXPECT_THAT(r.out, HasSubstr("\n[")) << "long output, one line per check";

    auto one =
        health({"--config", write_config(dir).string(), "--format", "nagios", "fds", "-w", "~:0", "-c", "~:100"});
    EXPECT_EQ(one.exit_code, 1) << one.out << one.err;
    EXPECT_THAT(one.out, ::testing::StartsWith("FDS WARNING - "));
    EXPECT_THAT(one.out, HasSubstr(";~:0;~:100;0;100"));
}

TEST(HealthCli, ThresholdsFromTheCommandLineDecideTheExitCode) {
    nasops::testing::TempDir dir;
    const auto config = write_config(dir).string();
    EXPECT_EQ(health({"--config", config, "memory", "-w", "100", "-c", "100"}).exit_code, 0);
    EXPECT_EQ(health({"--config", config, "memory", "-w", "@0:100", "-c", "100"}).exit_code, 1);
    EXPECT_EQ(health({"--config", config, "memory", "-w", "100", "-c", "~:0"}).exit_code, 2);
    EXPECT_EQ(health({"--config", config, "memory", "-c", "1000:"}).exit_code, 2);
    auto tls = health({"--config", config, "tls"});
    EXPECT_EQ(tls.exit_code, 3);
    EXPECT_THAT(tls.out, HasSubstr("no certificates configured ([health] tls_targets is empty)"));
}

// check_disk's command lines moved over unchanged give check_disk's answer.
TEST(HealthCli, DiskThresholdsInCheckDiskFormsAreOnFreeSpace) {
    nasops::testing::TempDir dir;
    const auto config = write_config(dir).string();
    auto any_used = health({"--config", config, "--format", "json", "disk", "-w", "100%", "-c", "0%"});
    EXPECT_EQ(any_used.exit_code, 1) << any_used.out << any_used.err;  // less than 100% free
    const auto records = records_of(any_used.out);
    const auto* used = find_record(records, "disk", "/");
    ASSERT_NE(used, nullptr) << any_used.out;
    EXPECT_EQ((*used)["warn"], "0");  // free below 100% is used above 0
    EXPECT_EQ((*used)["crit"], "1");
    EXPECT_EQ(health({"--config", config, "disk", "-w", "0%", "-c", "0%"}).exit_code, 0);
    EXPECT_EQ(health({"--config", config, "disk", "-c", "1P"}).exit_code, 2);  // less than 1 PiB free
    EXPECT_EQ(health({"--config", config, "disk", "--used", "-w", "0%"}).exit_code, 1);
    auto used_alone = health({"--config", config, "disk", "--used"});
    EXPECT_EQ(used_alone.exit_code, 3);
    EXPECT_THAT(used_alone.err, HasSubstr("--used changes what N% means in -w and -c"));
}

TEST(HealthCli, PrometheusOutputPassesPromtoolAndTheTextfileIsAtomic) {
    nasops::testing::TempDir dir;
    fs::create_directories(dir / "log");
    write_file(dir / "log/nasops-sync.log", "2026-01-01T00:00:00.000Z nasops-sync[1] info: hello\n");
    fs::create_directories(dir / "state");
    {
        SQLite::Database db((dir / "state/nasops.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec(
            "CREATE TABLE media_files(id INTEGER PRIMARY KEY, rel_path TEXT, state TEXT, discovered_at TEXT,"
            " started_at TEXT, completed_at TEXT, bytes_sent INTEGER, seconds REAL);"
            "INSERT INTO media_files(rel_path, state, discovered_at) VALUES('a.mp4', 'pending',"
            " strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-5 minutes'));"
            "INSERT INTO media_files(rel_path, state, discovered_at, started_at, completed_at, bytes_sent, seconds)"
            " VALUES('b.mp4', 'completed', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-9 minutes'),"
            " strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-8 minutes'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 minutes'),"
            " 120000000, 8.5)");
    }
    nasops::testing::ChildProcess daemon({"sleep", "60"});
    write_file(dir / "run/daemon.pid", std::to_string(daemon.pid()));
    const auto config = write_config(dir, fmt::format("[sync]\nsources = [\"{0}\"]\n[health]\n"
                                                      "processes = [\"{0}/run/daemon.pid\"]\n"
                                                      "tls_targets = [\"/etc/ssl/certs/ISRG_Root_X1.pem\"]\n"
                                                      "labels = {{ site = \"north \\\"yard\\\"\" }}\n",
                                                      dir.path().string()));
    const auto textfile_dir = dir / "textfile";
    fs::create_directories(textfile_dir);
    auto r =
        health({"--config", config.string(), "--no-cpu", "--format", "prom", "--textfile-dir", textfile_dir.string()});
    ASSERT_THAT(r.out, HasSubstr("# TYPE nasops_health_check_status gauge")) << r.err;
    for (const auto* family :
         {"nasops_disk_used_ratio", "nasops_memory_used_ratio", "nasops_load1_per_core", "nasops_fds_used_ratio",
          "nasops_process_fds_used_ratio", "nasops_process_uptime_seconds", "nasops_db_size_bytes",
          "nasops_logs_largest_file_bytes", "nasops_tls_cert_expiry_seconds", "nasops_transfer_queue_files",
          "nasops_transfer_rate_bytes_per_second"}) {
        EXPECT_THAT(r.out, HasSubstr(std::string("# HELP ") + family + " ")) << family;
    }
    EXPECT_THAT(r.out, HasSubstr("site=\"north \\\"yard\\\"\""));
    EXPECT_THAT(r.out, HasSubstr("nasops_transfer_rate_bytes_per_second{target="));
    ASSERT_TRUE(fs::exists("/usr/bin/promtool")) << "install the Debian package prometheus";
    auto lint = run_command({"/usr/bin/promtool", "check", "metrics"}, r.out);
    EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
    EXPECT_EQ(lint.out + lint.err, "");

    const auto prom = textfile_dir / "nasops_health.prom";
    ASSERT_TRUE(fs::exists(prom));
    EXPECT_FALSE(fs::exists(textfile_dir / "nasops_health.prom.tmp"));
    struct stat st {};
    ASSERT_EQ(::stat(prom.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
    const auto text = read_file(prom);
    EXPECT_THAT(text, HasSubstr("nasops_db_size_bytes"));
    auto lint_file = run_command({"/usr/bin/promtool", "check", "metrics"}, text);
    EXPECT_EQ(lint_file.exit_code, 0) << lint_file.err;
}

// The textfile is for the fleet; the checks' outcome is the exit status
// (nasops-metrics(7)): a folder that cannot be written is a warning.
TEST(HealthCli, AnUnwritableTextfileDirIsAWarningAfterTheOutput) {
    nasops::testing::TempDir dir;
    auto r = health({"--config", write_config(dir).string(), "fds", "-w", "100", "-c", "100", "--format", "json",
                     "--textfile-dir", (dir / "missing").string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(records_of(r.out).size(), 1u);
    EXPECT_THAT(r.err, HasSubstr("nasops-health: warning: "));
    EXPECT_THAT(r.err, HasSubstr((dir / "missing").string()));
}

// A full stdout while a check is still blocked on its thread: the failure is
// said and exits 74 as any other, and the run leaves at once (with _Exit, under
// the blocked thread).
TEST(HealthCli, AFullStdoutWhileACheckHangsIsAnIoError) {
    nasops::testing::TempDir dir;
    const auto fifo = dir / "hung.pid";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const auto config =
        write_config(dir, fmt::format("[health]\nprocesses = [\"{}\"]\ncheck_timeout = \"1s\"\n", fifo.string()));
    const auto r = run_command({"/bin/sh", "-c",
                                fmt::format("{}/nasops-health --config {} process memory --format json > /dev/full",
                                            NASOPS_TOOLS_DIR, config.string())});
    EXPECT_EQ(r.exit_code, 74) << r.err;
    EXPECT_THAT(r.err, HasSubstr("nasops-health: error: cannot write record to stdout: No space left on device"))
        << r.err;
}

TEST(HealthCli, AHungCheckIsUnknownAndTheOthersReportOnTime) {
    nasops::testing::TempDir dir;
    // Opening a FIFO that nobody writes blocks in the kernel, as a dead NFS mount does.
    const auto fifo = dir / "hung.pid";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const auto config = write_config(dir, fmt::format("[health]\nprocesses = [\"{}\"]\ncheck_timeout = \"1s\"\n"
                                                      "timeout = \"30s\"\n",
                                                      fifo.string()));
    const auto start = std::chrono::steady_clock::now();
    auto r = health({"--config", config.string(), "process", "memory", "fds", "--format", "json"});
    const auto took = std::chrono::steady_clock::now() - start;
    const auto records = records_of(r.out);
    ASSERT_EQ(records.size(), 4u) << r.out << r.err;  // process, memory, fds, and fds of the process
    const auto* hung = find_record(records, "process", fifo.string());
    ASSERT_NE(hung, nullptr);
    EXPECT_EQ((*hung)["status"], "unknown");
    EXPECT_EQ((*hung)["message"], "timed out after 1s");
    const auto* fds_of_hung = find_record(records, "fds", fifo.string());
    ASSERT_NE(fds_of_hung, nullptr);
    EXPECT_EQ((*fds_of_hung)["message"], "timed out after 1s");
    EXPECT_NE((*find_record(records, "memory"))["status"], "unknown");
    EXPECT_NE((*find_record(records, "fds"))["status"], "unknown");
    EXPECT_EQ(r.exit_code, worst_exit(records));
    // Generous: the run did not wait for the blocked thread, nor for the overall 30 s.
    EXPECT_LT(took, 20s);

    // The overall --timeout bounds every check, whatever check_timeout says.
    const auto config2 =
        write_config(dir, fmt::format("[health]\nprocesses = [\"{}\"]\ncheck_timeout = \"30s\"\n", fifo.string()));
    auto overall = health({"--config", config2.string(), "process", "--timeout", "1s", "--format", "json"});
    const auto records2 = records_of(overall.out);
    ASSERT_EQ(records2.size(), 1u);
    EXPECT_EQ(records2[0]["message"], "did not finish within the overall timeout of 1s");
    EXPECT_EQ(overall.exit_code, 3);
}

TEST(HealthCli, TransferWithoutASyncDatabaseIsUnknown) {
    nasops::testing::TempDir dir;
    const auto configured = "[sync]\nsources = [\"" + (dir / "media").string() + "\"]\n";
    auto r = health({"--config", write_config(dir, configured).string(), "transfer", "--format", "nagios"});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_THAT(r.out, ::testing::StartsWith("TRANSFER UNKNOWN - "));
    auto json = health({"--config", write_config(dir, configured).string(), "transfer", "--json"});
    EXPECT_EQ(json.exit_code, 3);
    const auto records = records_of(json.out);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0]["message"],
              fmt::format("no sync database yet ({}/state/nasops.db does not exist)", dir.path().string()));
}

TEST(HealthCli, TheSecurityCheckNamesEachFindingWithItsFix) {
    nasops::testing::TempDir dir;
    const auto media = dir / "media";
    write_file(media / "cam-01" / "clip.mp4", "video");
    write_file(media / "run-me", "#!/bin/sh\n");
    write_file(dir / "ssh" / "id_ed25519", "key");
    write_file(dir / "ssh" / "known_hosts", "nas ssh-ed25519 AAAA\n");
    for (const auto& folder : {dir.path(), media, media / "cam-01", dir / "ssh"}) ::chmod(folder.c_str(), 0755);
    ::chmod((media / "cam-01").c_str(), 0777);
    ::chmod((media / "run-me").c_str(), 02755);
    ::chmod((dir / "ssh" / "id_ed25519").c_str(), 0640);
    ASSERT_EQ(::chown((dir / "ssh" / "known_hosts").c_str(), 65534, 65534), 0) << "the tests run as root";
    const auto config =
        write_config(dir, fmt::format("[sync]\nsources = [\"{0}\"]\n[nas]\nidentity_file = \"{1}/id_ed25519\"\n"
                                      "known_hosts = \"{1}/known_hosts\"\n",
                                      media.string(), (dir / "ssh").string()));
    fs::create_directories(dir / "state");
    ::chmod((dir / "state").c_str(), 0777);

    const auto automatic = records_of(health({"--config", config.string(), "--no-cpu", "--json"}).out);
    EXPECT_EQ(find_record(automatic, "security"), nullptr) << "not in the automatic set";

    auto r = health({"--config", config.string(), "security", "--json"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    const auto records = records_of(r.out);
    ASSERT_EQ(records.size(), 1u) << r.out;
    EXPECT_EQ(records[0]["status"], "warning");
    EXPECT_EQ(records[0]["value"], 5) << records[0].dump();
    EXPECT_THAT(records[0]["message"].get<std::string>(), ::testing::StartsWith("5 findings in "));
    const auto fixes = {
        fmt::format("{0} is writable by everyone (mode 0777): run chmod o-w {0}", (media / "cam-01").string()),
        fmt::format("{0} is setgid (mode 2755): run chmod u-s,g-s {0}", (media / "run-me").string()),
        fmt::format("{0} is writable by everyone (mode 0777): run chmod o-w {0}", (dir / "state").string()),
        fmt::format("{0} is readable by others (mode 0640), which ssh refuses for a key: run chmod 600 {0}",
                    (dir / "ssh" / "id_ed25519").string()),
        fmt::format("{0} is owned by nobody, not by root: run chown root {0}", (dir / "ssh" / "known_hosts").string()),
    };
    for (const auto& fix : fixes) EXPECT_THAT(r.err, HasSubstr(fix)) << "logged with its fix";

    auto nagios = health({"--config", config.string(), "security", "--format", "nagios"});
    EXPECT_EQ(nagios.exit_code, 1);
    EXPECT_THAT(nagios.out, ::testing::StartsWith("SECURITY WARNING - 5 findings"));
    EXPECT_THAT(nagios.out, HasSubstr("'security_findings'=5;0"));

    // Each fix as it says.
    ::chmod((media / "cam-01").c_str(), 0755);
    ::chmod((media / "run-me").c_str(), 0755);
    ::chmod((dir / "state").c_str(), 0755);
    ::chmod((dir / "ssh" / "id_ed25519").c_str(), 0600);
    ASSERT_EQ(::chown((dir / "ssh" / "known_hosts").c_str(), 0, 0), 0);
    auto fixed = health({"--config", config.string(), "security", "--json"});
    EXPECT_EQ(fixed.exit_code, 0) << fixed.out << fixed.err;
    EXPECT_EQ(records_of(fixed.out).at(0)["value"], 0);
}

TEST(HealthCli, EveryBadConfigurationIsUnknownWithAClearMessage) {
    nasops::testing::TempDir dir;
    struct Case {
        std::string toml;
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases{
        {"[health]\ntimeot = \"5s\"\n", {}, "unknown key 'health.timeot'"},
        {"[health]\ntimeout = \"soon\"\n", {}, "invalid duration 'soon'"},
        {"[health]\ntimeout = \"0s\"\n", {}, "health.timeout: must be more than 0"},
        {"[health]\nchecks = [\"disk\", \"dsik\"]\n", {}, "unknown check 'dsik'"},
        {"[health.warn]\ndisk_usd = \"85\"\n", {}, "unknown metric 'disk_usd' (did you mean 'disk_used'?)"},
        {"[health.crit]\ndisk_used = \"90:80\"\n", {}, "disk_used: invalid threshold '90:80': start is above end"},
        {"[health.crit]\nlogs_largest_file = \"big\"\n", {}, "invalid threshold 'big'"},
        {"[health]\ntls_targets = [\"nas.example:99999\"]\n", {}, "'nas.example:99999' is neither host:port"},
        {"[health]\nlabels = { check = \"x\" }\n", {}, "'check' cannot be a label name"},
        {"[health]\nlabels = { \"bad-name\" = \"x\" }\n", {}, "'bad-name' cannot be a label name"},
        {"[[health.http]]\nurl = \"ftp://nas/\"\n", {}, "'ftp://nas/' is not an http:// or https:// URL"},
        {"[[health.http]]\nstatus = 200\n", {}, "url"},
        {"[[health.http]]\nurl = \"http://x/\"\nwarn = \"fast\"\n", {}, "invalid threshold 'fast'"},
        {"[health]\nprocesses = [\"\"]\n", {}, "health.processes: an entry is empty"},
        {"[health]\ncpu_sample = \"20s\"\n",
         {"cpu"},
         "the cpu sample (20s) must be shorter than the check timeout (10s)"},
        {"", {"disk", "memory", "-w", "80"}, "-w and -c apply to one check"},
        {"", {"-c", "80"}, "-w and -c apply to one check"},
        {"", {"disk", "-w", "eighty"}, "-w: invalid threshold 'eighty'"},
        {"", {"service", "-c", "1"}, "the service check has no thresholds"},
        {"", {"--timeout", "later"}, "--timeout: invalid duration 'later'"},
        {"", {"--cpu-sample", "0s"}, "--cpu-sample: must be more than 0"},
        {"", {"cpu", "--cpu-sample", "5s", "--timeout", "2s"}, "must be shorter than the check timeout"},
        {"", {"--format", "xml"}, "--format xml"},
        {"", {"no-such-check"}, "no-such-check"},
    };
    for (const auto& c : cases) {
        const auto config = write_config(dir, c.toml);
        std::vector<std::string> args{"--config", config.string()};
        args.insert(args.end(), c.args.begin(), c.args.end());
        auto r = health(args);
        EXPECT_EQ(r.exit_code, 3) << c.toml << " " << ::testing::PrintToString(c.args) << ": " << r.err;
        EXPECT_THAT(r.err, HasSubstr("nasops-health: error: ")) << c.toml;
        EXPECT_THAT(r.err, HasSubstr(c.message)) << c.toml << " " << ::testing::PrintToString(c.args);
        EXPECT_EQ(r.out, "") << c.toml;
    }
    auto missing = health({"--config", (dir / "none.toml").string()});
    EXPECT_EQ(missing.exit_code, 3);
    EXPECT_THAT(missing.err, HasSubstr("cannot open"));
}

TEST(HealthCli, RecordsPipeIntoNasopsAlert) {
    nasops::testing::TempDir dir;
    const auto config = write_config(dir).string();
    auto checks = health({"--config", config, "memory", "-c", "~:0", "--format", "json"});
    ASSERT_EQ(checks.exit_code, 2) << checks.err;
    const std::string alert = std::string(NASOPS_TOOLS_DIR) + "/nasops-alert";
    nasops::testing::SpawnOptions options;
    options.unset_env = {"NASOPS_CONFIG"};
    auto r = run_command({alert, "--config", config}, checks.out, 60s, options);
    // nasops-alert reads every record: it reports no line it could not use, and the critical check fires.
    EXPECT_EQ(r.err.find("line 1"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("malformed"), std::string::npos) << r.err;
    EXPECT_THAT(r.out, HasSubstr("memory")) << r.out << r.err;
}
