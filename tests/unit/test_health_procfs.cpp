#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "health/procfs.hpp"

using namespace nasops;
using namespace nasops::health;

TEST(HealthProcfs, MeminfoInBytes) {
    auto m = parse_meminfo(
        "MemTotal:       1000 kB\nMemFree: 10 kB\nMemAvailable:    250 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n");
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->total, 1024000u);
    EXPECT_EQ(m->available, 256000u);
    EXPECT_EQ(m->swap_total, 0u);
    auto old_kernel = parse_meminfo("MemTotal: 1000 kB\nMemFree: 10 kB\n", "/x/meminfo");
    ASSERT_FALSE(old_kernel);
    EXPECT_EQ(old_kernel.error().code, ExitCode::data_error);
    EXPECT_EQ(old_kernel.error().message, "/x/meminfo: no MemAvailable (Linux 3.14 or later has it)");
}

TEST(HealthProcfs, LoadCpuAndFileNr) {
    auto load = parse_loadavg("4.16 4.00 0.01 4/109 27119\n");
    ASSERT_TRUE(load);
    EXPECT_DOUBLE_EQ(load->one, 4.16);
    EXPECT_DOUBLE_EQ(load->fifteen, 0.01);
    EXPECT_FALSE(parse_loadavg("4.16 x\n"));

    auto before = parse_cpu_times("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4\n");
    auto after = parse_cpu_times("cpu  200 0 200 1400 200 0 0 0 50 0\n");
    ASSERT_TRUE(before && after);
    EXPECT_EQ(before->total, 1000u);
    EXPECT_EQ(before->idle, 800u);
    // 1000 jiffies passed, 800 of them idle or iowait; guest time is inside user time and not counted twice.
    EXPECT_DOUBLE_EQ(cpu_busy_ratio(*before, *after), 0.2);
    EXPECT_DOUBLE_EQ(cpu_busy_ratio(*after, *after), 0.0);
    EXPECT_FALSE(parse_cpu_times("intr 1 2 3\n"));

    auto nr = parse_file_nr("708\t0\t2466167\n");
    ASSERT_TRUE(nr);
    EXPECT_EQ(nr->allocated, 708u);
    EXPECT_EQ(nr->max, 2466167u);
    EXPECT_FALSE(parse_file_nr("1 2\n"));
    EXPECT_FALSE(parse_file_nr("1 0 0\n"));
}

TEST(HealthProcfs, ProcessFiles) {
    auto stat = parse_proc_stat(
        "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 98765 "
        "1000 200 18446744073709551615\n",
        "/proc/1234/stat");
    ASSERT_TRUE(stat) << stat.error().message;
    EXPECT_EQ(stat->comm, "my (odd) name");
    EXPECT_EQ(stat->state, 'S');
    EXPECT_EQ(stat->start_ticks, 98765u);
    EXPECT_FALSE(parse_proc_stat("1234 no comm", "x"));

    auto rss = parse_vm_rss("Name:\tx\nVmRSS:\t   1200 kB\n", "s");
    ASSERT_TRUE(rss);
    EXPECT_EQ(*rss, 1200u * 1024);
    EXPECT_EQ(parse_vm_rss("Name:\tkthreadd\n", "s").value(), 0u);

    const std::string limits =
        "Limit                     Soft Limit           Hard Limit           Units\n"
        "Max open files            1024                 524288               files\n";
    EXPECT_EQ(parse_open_files_limit(limits, "l").value(), std::optional<std::uint64_t>(1024));
    EXPECT_EQ(parse_open_files_limit("Max open files            unlimited            unlimited            files\n", "l")
                  .value(),
              std::nullopt);
    EXPECT_FALSE(parse_open_files_limit("Max cpu time unlimited\n", "l"));
    EXPECT_DOUBLE_EQ(parse_uptime("3215.52 6209.63\n").value(), 3215.52);
}

TEST(HealthProcfs, RealProcOfThisMachine) {
    auto meminfo = read_small_file("/proc/meminfo");
    ASSERT_TRUE(meminfo);
    auto m = parse_meminfo(*meminfo);
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_GT(m->total, 0u);
    EXPECT_LE(m->available, m->total);
    auto stat = parse_cpu_times(read_small_file("/proc/stat").value());
    ASSERT_TRUE(stat);
    EXPECT_GT(stat->total, stat->idle);
    auto self = parse_proc_stat(read_small_file("/proc/self/stat").value(), "/proc/self/stat");
    ASSERT_TRUE(self);
    EXPECT_EQ(self->state, 'R');
    auto uptime = parse_uptime(read_small_file("/proc/uptime").value());
    ASSERT_TRUE(uptime);
    EXPECT_LE(static_cast<double>(self->start_ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK)), *uptime + 1);
    auto pids = list_pids("/proc");
    EXPECT_NE(std::ranges::find(pids, ::getpid()), pids.end());
    EXPECT_GE(online_cpus(), 1u);
    auto missing = read_small_file("/proc/no/such/file");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ExitCode::no_input);
}
