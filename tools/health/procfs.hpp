#pragma once

// Readers of the Linux /proc files the local checks use. The parsers take the
// file's text, so that tests can give them any content; `source` names the
// file in error messages (ExitCode::data_error).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/core/error.hpp"

namespace nasops::health {

// The whole of a small file (/proc files report a size of 0, so it is read to
// the end). ExitCode::no_input when it cannot be opened, io_error when a read fails.
Result<std::string> read_small_file(const std::filesystem::path& path);

struct MemInfo {
    std::uint64_t total = 0;  // bytes
    std::uint64_t available = 0;
    std::uint64_t swap_total = 0;
    std::uint64_t swap_free = 0;
};
// /proc/meminfo; MemAvailable is required (kernel 3.14 and later).
Result<MemInfo> parse_meminfo(std::string_view text, std::string_view source = "/proc/meminfo");

struct LoadAverage {
    double one = 0;
    double five = 0;
    double fifteen = 0;
};
Result<LoadAverage> parse_loadavg(std::string_view text, std::string_view source = "/proc/loadavg");

// The jiffies of the aggregate "cpu" line of /proc/stat.
struct CpuTimes {
    std::uint64_t idle = 0;   // idle + iowait
    std::uint64_t total = 0;  // every field but guest time, which user time already counts
};
Result<CpuTimes> parse_cpu_times(std::string_view text, std::string_view source = "/proc/stat");
// The busy fraction between two samples, 0-1; 0 when no time passed.
double cpu_busy_ratio(const CpuTimes& before, const CpuTimes& after) noexcept;

// /proc/sys/fs/file-nr: allocated handles, allocated but unused, and the maximum.
struct FileNr {
    std::uint64_t allocated = 0;
    std::uint64_t unused = 0;
    std::uint64_t max = 0;
};
Result<FileNr> parse_file_nr(std::string_view text, std::string_view source = "/proc/sys/fs/file-nr");

// The soft "Max open files" limit of /proc/PID/limits; nullopt when unlimited.
Result<std::optional<std::uint64_t>> parse_open_files_limit(std::string_view text, std::string_view source);

// The fields of /proc/PID/stat the process check needs. comm may hold spaces
// and parentheses: it runs from the first '(' to the last ')'.
struct ProcStat {
    std::string comm;
    char state = '?';
    std::uint64_t start_ticks = 0;  // start time after boot, in clock ticks
};
Result<ProcStat> parse_proc_stat(std::string_view text, std::string_view source);

// VmRSS of /proc/PID/status, in bytes; 0 for a kernel thread or zombie, which have none.
Result<std::uint64_t> parse_vm_rss(std::string_view text, std::string_view source);

// Seconds since boot, the first number of /proc/uptime.
Result<double> parse_uptime(std::string_view text, std::string_view source = "/proc/uptime");

// Online CPUs (sysconf), at least 1.
unsigned online_cpus() noexcept;

// The pids under `proc_root` (its numeric entries).
std::vector<pid_t> list_pids(const std::filesystem::path& proc_root);

}  // namespace nasops::health
