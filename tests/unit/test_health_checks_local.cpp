// The local checks against real data: real /proc, real files, real processes.
// Where a branch needs data this machine does not have (swap, a full disk, a
// running systemd), a folder laid out like /proc or a stand-in program gives it.

#include <SQLiteCpp/Database.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <utility>

#include "fixtures/child_process.hpp"
#include "fixtures/temp_dir.hpp"
#include "health/checks.hpp"
#include "health/procfs.hpp"
#include "nasops/db/store.hpp"
#include "sync/schema.hpp"

using namespace nasops;
using namespace nasops::health;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

const SystemTimePoint k_now = SystemTimePoint{std::chrono::seconds(1'800'000'000)};

CheckResult run_check(Check& check, Duration timeout = 10s, SystemTimePoint now = k_now) {
    const CheckContext context{.clock = std::make_shared<ManualClock>(now), .timeout = timeout};
    auto result = check.run(context);
    evaluate(result);
    return result;
}

ThresholdsPtr defaults() {
    return std::make_shared<const Thresholds>(Thresholds::defaults());
}

ThresholdsPtr with(const std::string& toml) {
    auto config = parse_config(toml, "test.toml");
    EXPECT_TRUE(config) << config.error().message;
    auto t = Thresholds::resolve(config->section("health"), "", std::nullopt, std::nullopt);
    EXPECT_TRUE(t) << t.error().message;
    return std::make_shared<const Thresholds>(*t);
}

const Metric* metric(const CheckResult& r, std::string_view name) {
    for (const auto& m : r.metrics) {
        if (m.name == name) return &m;
    }
    return nullptr;
}

void write_proc(const nasops::testing::TempDir& dir, const std::string& name, const std::string& text) {
    nasops::testing::write_file(dir / name, text);
}

}  // namespace

TEST(HealthDisk, MeasuresARealFileSystemAsStatvfsSeesIt) {
    nasops::testing::TempDir dir;
    auto check = make_disk_check(dir.path(), defaults());
    EXPECT_EQ(check->name(), "disk");
    EXPECT_EQ(check->target(), dir.path().string());
    const auto r = run_check(*check);
    struct statvfs fs {};
    ASSERT_EQ(::statvfs(dir.path().c_str(), &fs), 0);
    const double used = static_cast<double>(fs.f_blocks - fs.f_bfree);
    const double ratio = used / (used + static_cast<double>(fs.f_bavail));
    ASSERT_NE(metric(r, "disk_used"), nullptr) << r.message;
    EXPECT_NEAR(metric(r, "disk_used")->value, ratio, 0.01);
    EXPECT_NEAR(metric(r, "disk_free")->value, static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize),
                64.0 * 1024 * 1024);
    EXPECT_EQ(metric(r, "disk_free")->max, static_cast<double>(fs.f_blocks) * static_cast<double>(fs.f_frsize));
    EXPECT_EQ(r.metrics.front().name, "disk_used");
    EXPECT_THAT(r.message, HasSubstr("% used, "));
    EXPECT_EQ(r.status, ratio > 0.9 ? Status::critical : ratio > 0.8 ? Status::warning : Status::ok);

    // Thresholds that this disk cannot pass: any use at all warns, any free byte is critical.
    auto strict =
        make_disk_check(dir.path(), with("[health.warn]\ndisk_used = \"0\"\n[health.crit]\ndisk_free = \"~:0\"\n"));
    const auto s = run_check(*strict);
    EXPECT_EQ(s.status, Status::critical);
    EXPECT_THAT(s.message, HasSubstr("critical: disk_free"));
    EXPECT_THAT(s.message, HasSubstr("warning: disk_used"));
}

TEST(HealthDisk, AMissingPathIsUnknown) {
    auto check = make_disk_check("/no/such/mount", defaults());
    const auto r = run_check(*check);
    EXPECT_EQ(r.status, Status::unknown);
    EXPECT_EQ(r.message, "cannot statvfs /no/such/mount: No such file or directory");
}

TEST(HealthMemory, RealProcAndBothSwapCases) {
    auto real = run_check(*make_memory_check("/proc", defaults()));
    ASSERT_NE(real.status, Status::unknown) << real.message;
    const auto info = parse_meminfo(read_small_file("/proc/meminfo").value()).value();
    EXPECT_NEAR(metric(real, "memory_used")->value,
                1.0 - static_cast<double>(info.available) / static_cast<double>(info.total), 0.05);
    EXPECT_EQ(metric(real, "swap_used") == nullptr, info.swap_total == 0);

    nasops::testing::TempDir proc;
    write_proc(proc, "meminfo", "MemTotal: 1000 kB\nMemAvailable: 100 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n");
    auto no_swap = run_check(*make_memory_check(proc.path(), defaults()));
    EXPECT_EQ(no_swap.status, Status::warning);  // 90% used: above 80, not above 95
    EXPECT_DOUBLE_EQ(metric(no_swap, "memory_used")->value, 0.9);
    EXPECT_EQ(metric(no_swap, "swap_used"), nullptr);
    EXPECT_THAT(no_swap.message, HasSubstr("no swap"));

    write_proc(proc, "meminfo", "MemTotal: 1000 kB\nMemAvailable: 900 kB\nSwapTotal: 2000 kB\nSwapFree: 20 kB\n");
    auto swapping = run_check(*make_memory_check(proc.path(), defaults()));
    EXPECT_EQ(swapping.status, Status::critical);
    EXPECT_DOUBLE_EQ(metric(swapping, "swap_used")->value, 0.99);
    EXPECT_THAT(swapping.message, HasSubstr("critical: swap_used 99.0% above 95.0%"));

    write_proc(proc, "meminfo", "MemTotal: 1000 kB\n");
    auto broken = run_check(*make_memory_check(proc.path(), defaults()));
    EXPECT_EQ(broken.status, Status::unknown);
    EXPECT_THAT(broken.message, HasSubstr("no MemAvailable"));
}

TEST(HealthLoad, PerCoreFromRealAndGivenLoad) {
    auto real = run_check(*make_load_check("/proc", defaults()));
    ASSERT_EQ(real.metrics.size(), 3u) << real.message;
    const auto load = parse_loadavg(read_small_file("/proc/loadavg").value()).value();
    EXPECT_NEAR(metric(real, "load15_per_core")->value, load.fifteen / online_cpus(), 0.5);

    nasops::testing::TempDir proc;
    const double cpus = online_cpus();
    write_proc(proc, "loadavg", fmt::format("{} {} {} 1/100 42\n", 2.5 * cpus, 1.75 * cpus, 0.5 * cpus));
    auto given = run_check(*make_load_check(proc.path(), defaults()));
    EXPECT_EQ(given.status, Status::critical);
    EXPECT_DOUBLE_EQ(metric(given, "load1_per_core")->value, 2.5);
    EXPECT_EQ(metric(given, "load1_per_core")->status, Status::critical);
    EXPECT_EQ(metric(given, "load5_per_core")->status, Status::warning);
    EXPECT_EQ(metric(given, "load15_per_core")->status, Status::ok);
}

TEST(HealthCpu, SamplesRealProcStat) {
    auto r = run_check(*make_cpu_check("/proc", 200ms, defaults()));
    ASSERT_NE(r.status, Status::unknown) << r.message;
    const double busy = metric(r, "cpu_used")->value;
    EXPECT_GE(busy, 0.0);
    EXPECT_LE(busy, 1.0);
    EXPECT_THAT(r.message, HasSubstr("busy over 200ms"));

    nasops::testing::TempDir proc;
    auto missing = run_check(*make_cpu_check(proc.path(), 1ms, defaults()));
    EXPECT_EQ(missing.status, Status::unknown);
    EXPECT_THAT(missing.message, HasSubstr("cannot open"));
}

TEST(HealthFds, SystemHandlesFromRealAndGivenFileNr) {
    auto real = run_check(*make_fds_check("/proc", defaults()));
    ASSERT_NE(real.status, Status::unknown) << real.message;
    EXPECT_GT(metric(real, "fds_used")->value, 0.0);

    nasops::testing::TempDir proc;
    fs::create_directories(proc / "sys/fs");
    write_proc(proc, "sys/fs/file-nr", "900\t100\t1000\n");
    auto edge = run_check(*make_fds_check(proc.path(), defaults()));
    EXPECT_EQ(edge.status, Status::ok);  // 80% exactly is inside "80"
    write_proc(proc, "sys/fs/file-nr", "951\t0\t1000\n");
    auto full = run_check(*make_fds_check(proc.path(), defaults()));
    EXPECT_EQ(full.status, Status::critical);
    EXPECT_EQ(full.message, "951 of 1000 file handles in use (95.1%) (critical: fds_used 95.1% above 95.0%)");
}

TEST(HealthProcess, APidfileOfARunningProcess) {
    nasops::testing::TempDir dir;
    nasops::testing::ChildProcess child({"sleep", "30"});
    const auto pidfile = dir / "sleep.pid";
    nasops::testing::write_file(pidfile, fmt::format("{}\n", child.pid()));
    // Started a moment ago: under 60 s of uptime is a restart loop by default.
    auto young = run_check(*make_process_check(pidfile.string(), "/proc", defaults()));
    EXPECT_EQ(young.status, Status::critical) << young.message;
    EXPECT_THAT(young.message, HasSubstr(fmt::format("running as pid {}, up ", child.pid())));
    EXPECT_THAT(young.message, HasSubstr("critical: process_uptime"));
    EXPECT_THAT(young.message, HasSubstr("below 60.0s"));
    ASSERT_NE(metric(young, "process_uptime"), nullptr);
    EXPECT_LT(metric(young, "process_uptime")->value, 60.0);
    EXPECT_GT(metric(young, "process_resident_memory")->value, 0.0);
    EXPECT_DOUBLE_EQ(metric(young, "process_instances")->value, 1.0);

    auto relaxed =
        run_check(*make_process_check(pidfile.string(), "/proc", with("[health.crit]\nprocess_uptime = \"\"\n")));
    EXPECT_EQ(relaxed.status, Status::ok) << relaxed.message;

    auto fds = run_check(*make_process_fds_check(pidfile.string(), "/proc", defaults()));
    EXPECT_EQ(fds.status, Status::ok) << fds.message;
    EXPECT_EQ(fds.name, "fds");
    EXPECT_THAT(fds.message, HasSubstr(fmt::format("pid {}: ", child.pid())));
    EXPECT_GT(metric(fds, "process_fds_used")->value, 0.0);

    child.stop();
    auto gone = run_check(*make_process_check(pidfile.string(), "/proc", defaults()));
    EXPECT_EQ(gone.status, Status::critical);
    EXPECT_EQ(gone.message,
              fmt::format("not running: pidfile {} names pid {}, which is not running", pidfile.string(), child.pid()));
    auto gone_fds = run_check(*make_process_fds_check(pidfile.string(), "/proc", defaults()));
    EXPECT_EQ(gone_fds.status, Status::unknown);
}

TEST(HealthProcess, MissingAndMalformedPidfiles) {
    nasops::testing::TempDir dir;
    auto missing = run_check(*make_process_check((dir / "none.pid").string(), "/proc", defaults()));
    EXPECT_EQ(missing.status, Status::critical);
    EXPECT_EQ(missing.message, fmt::format("not running: pidfile {} does not exist", (dir / "none.pid").string()));
    nasops::testing::write_file(dir / "bad.pid", "twelve\n");
    auto bad = run_check(*make_process_check((dir / "bad.pid").string(), "/proc", defaults()));
    EXPECT_EQ(bad.status, Status::critical);
    EXPECT_THAT(bad.message, HasSubstr("does not hold a pid"));
}

TEST(HealthProcess, ByNameShortAndLong) {
    nasops::testing::TempDir dir;
    const auto short_name = dir / "nasopsprobe";
    const auto long_name = dir / "nasops-health-probe-sleeper";
    fs::copy_file("/bin/sleep", short_name);
    fs::copy_file("/bin/sleep", long_name);
    nasops::testing::ChildProcess a({short_name.string(), "30"});
    nasops::testing::ChildProcess b({short_name.string(), "30"});
    nasops::testing::ChildProcess c({long_name.string(), "30"});
    // posix_spawn returns once the child's exec has its new memory, a moment
    // before the kernel gives it its name and its argv: wait for both.
    for (const auto& [child, comm] :
         {std::pair{&a, "nasopsprobe"}, std::pair{&b, "nasopsprobe"}, std::pair{&c, "nasops-health-p"}}) {
        const auto proc = fs::path("/proc") / std::to_string(child->pid());
        auto execed = [&] {
            return nasops::testing::read_file(proc / "comm") == std::string(comm) + "\n" &&
                   !nasops::testing::read_file(proc / "cmdline").empty();
        };
        for (int i = 0; i < 500 && !execed(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        ASSERT_TRUE(execed()) << proc;
    }
    const auto found = find_processes("nasopsprobe", "/proc");
    EXPECT_EQ(found.pids, (std::vector<pid_t>{std::min(a.pid(), b.pid()), std::max(a.pid(), b.pid())}));
    auto two = run_check(*make_process_check("nasopsprobe", "/proc", with("[health.crit]\nprocess_uptime = \"\"\n")));
    EXPECT_EQ(two.status, Status::ok);
    EXPECT_DOUBLE_EQ(metric(two, "process_instances")->value, 2.0);
    EXPECT_THAT(two.message, HasSubstr("2 processes running"));
    // comm holds only "nasops-health-p": argv[0] confirms the long name.
    EXPECT_EQ(find_processes("nasops-health-probe-sleeper", "/proc").pids, std::vector<pid_t>{c.pid()});
    EXPECT_TRUE(find_processes("nasops-health-probe-other", "/proc").pids.empty());
    auto none = run_check(*make_process_check("no-such-daemon", "/proc", defaults()));
    EXPECT_EQ(none.status, Status::critical);
    EXPECT_EQ(none.message, "not running: no process named no-such-daemon");
}

TEST(HealthService, UnknownWhereSystemdDoesNotRun) {
    // This machine's PID 1 is not systemd: the documented answer is UNKNOWN.
    auto r = run_check(*make_service_check("cron.service", "/run/systemd/system", "systemctl", defaults()));
    if (fs::is_directory("/run/systemd/system")) {
        EXPECT_NE(r.message.find("cron.service is "), std::string::npos) << r.message;
    } else {
        EXPECT_EQ(r.status, Status::unknown);
        EXPECT_EQ(r.message, "systemd is not running (no /run/systemd/system)");
    }
}

TEST(HealthService, StatesOfSystemctlIsActive) {
    nasops::testing::TempDir dir;
    fs::create_directories(dir / "systemd");
    const auto systemctl = dir / "systemctl";
    nasops::testing::write_file(systemctl, R"(#!/bin/sh
[ "$1" = is-active ] && [ "$2" = -- ] || exit 64
case "$3" in
  ok.service) echo active ;;
  starting.service) echo activating; exit 3 ;;
  hang.service) sleep 30 ;;
  *) echo failed; exit 3 ;;
esac
)");
    fs::permissions(systemctl, fs::perms::owner_all);
    auto state = [&](const std::string& unit, Duration timeout = 10s) {
        return run_check(*make_service_check(unit, dir / "systemd", systemctl.string(), defaults()), timeout);
    };
    auto ok = state("ok.service");
    EXPECT_EQ(ok.status, Status::ok);
    EXPECT_EQ(ok.message, "ok.service is active");
    EXPECT_DOUBLE_EQ(metric(ok, "service_active")->value, 1.0);
    EXPECT_EQ(state("starting.service").status, Status::warning);
    auto failed = state("broken.service");
    EXPECT_EQ(failed.status, Status::critical);
    EXPECT_EQ(failed.message, "broken.service is failed");
    auto hung = state("hang.service", 300ms);
    EXPECT_EQ(hung.status, Status::unknown);
    EXPECT_THAT(hung.message, HasSubstr("did not finish within 300ms"));
}

TEST(HealthDb, QuickCheckAndSizeOfARealDatabase) {
    nasops::testing::TempDir dir;
    const auto path = dir / "nasops.db";
    {
        SQLite::Database db(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("CREATE TABLE t(x TEXT); INSERT INTO t VALUES ('a'), ('b');");
    }
    auto r = run_check(*make_db_check(path, defaults()));
    EXPECT_EQ(r.status, Status::ok) << r.message;
    EXPECT_THAT(r.message, HasSubstr("quick_check ok"));
    EXPECT_DOUBLE_EQ(metric(r, "db_size")->value, static_cast<double>(fs::file_size(path)));

    auto big = run_check(*make_db_check(path, with("[health.crit]\ndb_size = \"1KiB\"\n")));
    EXPECT_EQ(big.status, Status::critical);
    EXPECT_THAT(big.message, HasSubstr("critical: db_size"));

    nasops::testing::write_file(dir / "garbage.db", std::string(8192, 'x'));
    auto garbage = run_check(*make_db_check(dir / "garbage.db", defaults()));
    EXPECT_EQ(garbage.status, Status::critical);
    EXPECT_THAT(garbage.message, HasSubstr("cannot check"));

    auto missing = run_check(*make_db_check(dir / "none.db", defaults()));
    EXPECT_EQ(missing.status, Status::unknown);
    EXPECT_EQ(missing.message, fmt::format("no database at {}", (dir / "none.db").string()));
}

TEST(HealthLogs, SizesAndRecentErrorLines) {
    nasops::testing::TempDir dir;
    auto stamp = [](Duration ago) { return rfc3339_millis(k_now - ago); };
    const std::string sync_log = fmt::format(
        "{} nasops-sync[10] error: an old failure\n"
        "{} nasops-sync[10] info: uploaded a.mp4\n"
        "{} nasops-sync[10] error: upload of b.mp4 failed: NAS unreachable\n"
        "  a continuation line with ERROR in it\n"
        "{} nasops-sync[10] warning: slow\n",
        stamp(2h), stamp(10min), stamp(5min), stamp(1min));
    nasops::testing::write_file(dir / "nasops-sync.log", sync_log);
    nasops::testing::write_file(dir / "other.log", fmt::format("{} app ERROR disk full\n{} app ERRORS are not errors\n",
                                                               stamp(30s), stamp(20s)));
    nasops::testing::write_file(dir / "nasops-sync.log.1",
                                fmt::format("{} nasops-sync[9] error: rotated\n", stamp(1min)));
    fs::create_directories(dir / "folder.log");
    ASSERT_EQ(::mkfifo((dir / "pipe.log").c_str(), 0600), 0);  // opening it would block

    auto r = run_check(*make_logs_check(dir.path(), 15min, defaults()));
    EXPECT_EQ(r.status, Status::warning) << r.message;  // any error line warns by default
    EXPECT_DOUBLE_EQ(metric(r, "logs_error_lines")->value, 2.0);
    EXPECT_DOUBLE_EQ(metric(r, "logs_largest_file")->value, static_cast<double>(sync_log.size()));
    EXPECT_DOUBLE_EQ(metric(r, "logs_size")->value,
                     static_cast<double>(sync_log.size() + fs::file_size(dir / "other.log")));
    EXPECT_THAT(r.message, HasSubstr("2 log files"));
    EXPECT_THAT(r.message, HasSubstr("2 error lines in the last 15m, latest: other.log: "));
    EXPECT_THAT(r.message, HasSubstr("app ERROR disk full"));

    auto wide = run_check(*make_logs_check(dir.path(), 3h, defaults()));
    EXPECT_DOUBLE_EQ(metric(wide, "logs_error_lines")->value, 3.0);

    auto none = run_check(*make_logs_check(dir / "missing", 15min, defaults()));
    EXPECT_EQ(none.status, Status::unknown);
}

TEST(HealthLogs, ReadsOnlyTheRecentTailOfALargeLogAcrossBlocks) {
    nasops::testing::TempDir dir;
    {
        std::ofstream out(dir / "big.log");
        const auto old = rfc3339_millis(k_now - 5h);
        for (int i = 0; i < 40000; ++i) out << old << " nasops-sync[1] error: old line number " << i << "\n";
        for (int i = 0; i < 3000; ++i) {
            out << rfc3339_millis(k_now - 10min + std::chrono::milliseconds(i)) << " nasops-sync[1] "
                << (i % 3 == 0 ? "error" : "info") << ": recent line "
                << std::string(static_cast<std::size_t>(i % 97), 'z') << "\n";
        }
    }
    auto r = run_check(*make_logs_check(dir.path(), 15min, defaults()));
    EXPECT_DOUBLE_EQ(metric(r, "logs_error_lines")->value, 1000.0) << r.message;
    EXPECT_GT(metric(r, "logs_largest_file")->value, 2e6);
}

namespace {

// The media_files table as nasops-sync plans it (issue 3).
constexpr const char* k_media_files = R"(CREATE TABLE media_files (
    id INTEGER PRIMARY KEY, rel_path TEXT NOT NULL, size INTEGER, mtime_ns INTEGER, inode INTEGER,
    state TEXT NOT NULL CHECK (state IN ('pending', 'transferring', 'completed', 'failed')),
    attempts INTEGER DEFAULT 0, last_error TEXT, sha256 TEXT, discovered_at TEXT, started_at TEXT,
    completed_at TEXT, bytes_sent INTEGER DEFAULT 0, seconds REAL, next_attempt_at TEXT))";

void add_file(SQLite::Database& db, const std::string& state, Duration discovered_ago, std::optional<Duration> done_ago,
              std::int64_t bytes, double seconds) {
    SQLite::Statement q(db,
                        "INSERT INTO media_files(rel_path, state, discovered_at, started_at, completed_at, bytes_sent,"
                        " seconds) VALUES(?, ?, ?, ?, ?, ?, ?)");
    static int n = 0;
    q.bind(1, fmt::format("f{}.mp4", ++n));
    q.bind(2, state);
    q.bind(3, rfc3339_millis(k_now - discovered_ago));
    if (done_ago) {
        q.bind(4, rfc3339_millis(k_now - *done_ago - std::chrono::seconds(static_cast<int>(seconds))));
        q.bind(5, rfc3339_millis(k_now - *done_ago));
    } else {
        q.bind(4);
        q.bind(5);
    }
    q.bind(6, bytes);
    q.bind(7, seconds);
    q.exec();
}

}  // namespace

TEST(HealthTransfer, FromTheSyncDatabase) {
    nasops::testing::TempDir dir;
    const auto path = dir / "nasops.db";
    {
        SQLite::Database db(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec(k_media_files);
        for (int i = 0; i < 4; ++i) add_file(db, "completed", 50min, 40min, 50'000'000, 10.0);
        add_file(db, "failed", 45min, 30min, 0, 0);
        add_file(db, "completed", 3h, 2h, 1'000'000'000, 1.0);  // outside the window
        add_file(db, "pending", 30min, std::nullopt, 0, 0);
        add_file(db, "pending", 5min, std::nullopt, 0, 0);
        add_file(db, "pending", 1min, std::nullopt, 0, 0);
        add_file(db, "transferring", 2min, std::nullopt, 0, 0);
    }
    auto r = run_check(*make_transfer_check(path, 1h, defaults()));
    EXPECT_EQ(r.status, Status::critical) << r.message;
    EXPECT_EQ(r.metrics.front().name, "transfer_success");
    EXPECT_DOUBLE_EQ(metric(r, "transfer_success")->value, 0.8);
    EXPECT_EQ(metric(r, "transfer_success")->status, Status::critical);
    EXPECT_DOUBLE_EQ(metric(r, "transfer_rate")->value, 5e6);
    EXPECT_EQ(metric(r, "transfer_rate")->status, Status::warning);  // 5 MB/s: below 10, not below 5
    EXPECT_DOUBLE_EQ(metric(r, "transfer_average_duration")->value, 10.0);
    EXPECT_DOUBLE_EQ(metric(r, "transfer_queue_files")->value, 4.0);
    EXPECT_NEAR(metric(r, "transfer_oldest_pending_age")->value, 1800.0, 0.01);
    EXPECT_THAT(r.message, HasSubstr("4 of 5 transfers succeeded in the last 1h (80.0%)"));
    EXPECT_THAT(r.message, HasSubstr("4 queued"));

    auto quiet = run_check(*make_transfer_check(path, 10min, defaults()));
    EXPECT_EQ(metric(quiet, "transfer_success"), nullptr);
    EXPECT_EQ(metric(quiet, "transfer_rate"), nullptr);
    EXPECT_THAT(quiet.message, HasSubstr("no transfers finished in the last 10m"));
    EXPECT_EQ(quiet.status, Status::ok);
}

// A fresh host that uploaded one small file is not CRITICAL for "0.00 MB/s".
TEST(HealthTransfer, ThroughputOfAFewSmallFilesIsReportedButNotJudged) {
    nasops::testing::TempDir dir;
    const auto path = dir / "nasops.db";
    {
        SQLite::Database db(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec(k_media_files);
        for (int i = 0; i < 3; ++i) add_file(db, "completed", 20min, 10min, 4096, 1.0);
    }
    auto r = run_check(*make_transfer_check(path, 1h, defaults()));
    ASSERT_NE(metric(r, "transfer_rate"), nullptr) << r.message;
    EXPECT_DOUBLE_EQ(metric(r, "transfer_rate")->value, 4096.0);
    EXPECT_EQ(metric(r, "transfer_rate")->status, Status::ok);
    EXPECT_FALSE(metric(r, "transfer_rate")->warn);
    EXPECT_THAT(r.message, HasSubstr("(not judged under 64.0 MiB)"));
    EXPECT_EQ(r.status, Status::ok) << r.message;
}

TEST(HealthTransfer, NoSyncDatabaseYet) {
    nasops::testing::TempDir dir;
    auto missing = run_check(*make_transfer_check(dir / "nasops.db", 1h, defaults()));
    EXPECT_EQ(missing.status, Status::unknown);
    EXPECT_THAT(missing.message, HasSubstr("no sync database yet"));
    {
        SQLite::Database db((dir / "nasops.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("CREATE TABLE schema_version(component TEXT PRIMARY KEY, version INTEGER)");
    }
    auto empty = run_check(*make_transfer_check(dir / "nasops.db", 1h, defaults()));
    EXPECT_EQ(empty.status, Status::unknown);
    EXPECT_EQ(empty.message,
              fmt::format("no sync database yet (no media_files table in {})", (dir / "nasops.db").string()));
    {
        SQLite::Database db((dir / "nasops.db").string(), SQLite::OPEN_READWRITE);
        db.exec("CREATE TABLE media_files(id INTEGER PRIMARY KEY, state TEXT, discovered_at TEXT)");
    }
    auto old_schema = run_check(*make_transfer_check(dir / "nasops.db", 1h, defaults()));
    EXPECT_EQ(old_schema.status, Status::unknown);
    EXPECT_THAT(old_schema.message, HasSubstr("lacks column(s) started_at, completed_at, bytes_sent, seconds"));
}

TEST(HealthTransfer, FromTheRealSyncSchemaWithItsAttempts) {
    // The tables exactly as nasops-sync creates them.
    nasops::testing::TempDir dir;
    const auto path = dir / "nasops.db";
    {
        auto store = Store::open(path, nasops::sync::migrations());
        ASSERT_TRUE(store) << store.error().message;
        auto& db = store->db();
        auto file = [&](const std::string& name, const std::string& state, Duration discovered_ago) {
            SQLite::Statement q(
                db, "INSERT INTO media_files(source, rel_path, state, discovered_at) VALUES('/srv', ?, ?, ?)");
            q.bind(1, name);
            q.bind(2, state);
            q.bind(3, rfc3339_millis(k_now - discovered_ago));
            q.exec();
            return db.getLastInsertRowid();
        };
        auto attempt = [&](std::int64_t id, const std::string& outcome, Duration ago, std::int64_t bytes,
                           double seconds) {
            SQLite::Statement q(db,
                                "INSERT INTO sync_attempts(file_id, finished_at, outcome, bytes, seconds)"
                                " VALUES(?, ?, ?, ?, ?)");
            q.bind(1, id);
            q.bind(2, rfc3339_millis(k_now - ago));
            q.bind(3, outcome);
            q.bind(4, bytes);
            q.bind(5, seconds);
            q.exec();
        };
        for (int i = 0; i < 3; ++i)
            attempt(file(fmt::format("done{}.mp4", i), "completed", 50min), "completed", 40min, 30'000'000, 3.0);
        // Failed once, queued again for a retry: media_files alone would not show the failure.
        attempt(file("retry.mp4", "pending", 20min), "failed", 10min, 1000, 1.0);
        attempt(file("old.mp4", "completed", 5h), "completed", 4h, 1, 100.0);
        file("new.mp4", "pending", 1min);
    }
    auto r = run_check(*make_transfer_check(path, 1h, defaults()));
    EXPECT_EQ(r.status, Status::critical) << r.message;
    EXPECT_DOUBLE_EQ(metric(r, "transfer_success")->value, 0.75);
    EXPECT_DOUBLE_EQ(metric(r, "transfer_rate")->value, 10e6);
    EXPECT_EQ(metric(r, "transfer_rate")->status, Status::ok);  // 10 MB/s is not below "10:"
    EXPECT_DOUBLE_EQ(metric(r, "transfer_average_duration")->value, 3.0);
    EXPECT_DOUBLE_EQ(metric(r, "transfer_queue_files")->value, 2.0);
    EXPECT_NEAR(metric(r, "transfer_oldest_pending_age")->value, 1200.0, 0.01);
    EXPECT_THAT(r.message, HasSubstr("3 of 4 transfer attempts succeeded in the last 1h (75.0%)"));
}

// A NAS that runs no sha256sum has its copies verified by size only: counted,
// silent by default, a WARNING once the operator asks for one.
TEST(HealthTransfer, CopiesVerifiedBySizeOnlyAreCountedAndWarnWhenAsked) {
    nasops::testing::TempDir dir;
    const auto path = dir / "nasops.db";
    {
        SQLite::Database db(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec(k_media_files);
        db.exec("ALTER TABLE media_files ADD COLUMN verified_by TEXT");
        for (int i = 0; i < 3; ++i) add_file(db, "completed", 50min, 40min, 1000, 1.0);
        db.exec("UPDATE media_files SET verified_by = 'sha256'");
        for (int i = 0; i < 2; ++i) add_file(db, "completed", 50min, 40min, 1000, 1.0);
        db.exec("UPDATE media_files SET verified_by = 'size' WHERE verified_by IS NULL");
    }
    auto r = run_check(*make_transfer_check(path, 1h, defaults()));
    ASSERT_NE(metric(r, "transfer_size_verified"), nullptr);
    EXPECT_DOUBLE_EQ(metric(r, "transfer_size_verified")->value, 2.0);
    EXPECT_EQ(metric(r, "transfer_size_verified")->status, Status::ok);
    EXPECT_THAT(r.message, HasSubstr("2 verified by size only"));

    auto asked = run_check(*make_transfer_check(path, 1h, with("[health.warn]\ntransfer_size_verified = \"0\"\n")));
    EXPECT_EQ(metric(asked, "transfer_size_verified")->status, Status::warning);
    EXPECT_EQ(asked.status, Status::warning) << asked.message;
}
