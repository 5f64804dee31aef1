#include "health/procfs.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>

#include "nasops/util/text.hpp"
#include "nasops/util/unique_fd.hpp"

namespace nasops::health {

namespace {

template <class T>
std::optional<T> number(std::string_view s) {
    s = trim(s);
    T value{};
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
    return value;
}

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while (pos < line.size()) {
        while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
        const auto end = line.find_first_of(" \t", pos);
        if (pos < line.size()) out.push_back(line.substr(pos, end == std::string_view::npos ? end : end - pos));
        pos = end == std::string_view::npos ? line.size() : end;
    }
    return out;
}

template <class F>
void for_each_line(std::string_view text, F&& f) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto end = text.find('\n', pos);
        if (!f(text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos))) return;
        if (end == std::string_view::npos) break;
        pos = end + 1;
    }
}

std::unexpected<Error> malformed(std::string_view source, std::string_view why) {
    return fail(ExitCode::data_error, fmt::format("{}: {}", source, why));
}

}  // namespace

Result<std::string> read_small_file(const std::filesystem::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail(ExitCode::no_input, fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
    std::string text;
    char buffer[8192];
    while (true) {
        const auto n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(ExitCode::io_error, fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
        }
        if (n == 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
    }
    return text;
}

Result<MemInfo> parse_meminfo(std::string_view text, std::string_view source) {
    MemInfo info;
    bool total = false;
    bool available = false;
    for_each_line(text, [&](std::string_view line) {
        const auto w = words(line);
        if (w.size() < 2) return true;
        const auto value = number<std::uint64_t>(w[1]);
        if (!value) return true;
        const std::uint64_t bytes = *value * (w.size() > 2 && w[2] == "kB" ? 1024 : 1);
        if (w[0] == "MemTotal:") {
            info.total = bytes;
            total = true;
        } else if (w[0] == "MemAvailable:") {
            info.available = bytes;
            available = true;
        } else if (w[0] == "SwapTotal:") {
            info.swap_total = bytes;
        } else if (w[0] == "SwapFree:") {
            info.swap_free = bytes;
        }
        return true;
    });
    if (!total || info.total == 0) return malformed(source, "no MemTotal");
    if (!available) return malformed(source, "no MemAvailable (Linux 3.14 or later has it)");
    return info;
}

Result<LoadAverage> parse_loadavg(std::string_view text, std::string_view source) {
    const auto w = words(text.substr(0, text.find('\n')));
    if (w.size() < 3) return malformed(source, "expected three load averages");
    const auto one = number<double>(w[0]);
    const auto five = number<double>(w[1]);
    const auto fifteen = number<double>(w[2]);
    if (!one || !five || !fifteen) return malformed(source, "a load average is not a number");
    return LoadAverage{*one, *five, *fifteen};
}

Result<CpuTimes> parse_cpu_times(std::string_view text, std::string_view source) {
    std::optional<CpuTimes> times;
    for_each_line(text, [&](std::string_view line) {
        const auto w = words(line);
        if (w.empty() || w[0] != "cpu") return true;
        // user nice system idle iowait irq softirq steal guest guest_nice
        CpuTimes t;
        for (std::size_t i = 1; i < w.size() && i <= 8; ++i) {
            const auto v = number<std::uint64_t>(w[i]);
            if (!v) return false;
            t.total += *v;
            if (i == 4 || i == 5) t.idle += *v;
        }
        if (w.size() >= 5) times = t;
        return false;
    });
    if (!times) return malformed(source, "no aggregate 'cpu' line");
    return *times;
}

double cpu_busy_ratio(const CpuTimes& before, const CpuTimes& after) noexcept {
    if (after.total <= before.total) return 0;
    const auto total = static_cast<double>(after.total - before.total);
    const auto idle = after.idle >= before.idle ? static_cast<double>(after.idle - before.idle) : 0.0;
    const double busy = 1.0 - idle / total;
    return busy < 0 ? 0 : (busy > 1 ? 1 : busy);
}

Result<FileNr> parse_file_nr(std::string_view text, std::string_view source) {
    const auto w = words(trim(text));
    if (w.size() < 3) return malformed(source, "expected three numbers");
    const auto allocated = number<std::uint64_t>(w[0]);
    const auto unused = number<std::uint64_t>(w[1]);
    const auto max = number<std::uint64_t>(w[2]);
    if (!allocated || !unused || !max) return malformed(source, "not a number");
    if (*max == 0) return malformed(source, "the maximum is 0");
    return FileNr{*allocated, *unused, *max};
}

Result<std::optional<std::uint64_t>> parse_open_files_limit(std::string_view text, std::string_view source) {
    std::optional<Result<std::optional<std::uint64_t>>> found;
    for_each_line(text, [&](std::string_view line) {
        if (!line.starts_with("Max open files")) return true;
        const auto w = words(line.substr(std::string_view("Max open files").size()));
        if (w.empty()) {
            found = malformed(source, "no soft limit on the 'Max open files' line");
        } else if (w[0] == "unlimited") {
            found = std::optional<std::uint64_t>{};
        } else if (auto v = number<std::uint64_t>(w[0])) {
            found = std::optional<std::uint64_t>{*v};
        } else {
            found = malformed(source, "the 'Max open files' soft limit is not a number");
        }
        return false;
    });
    if (!found) return malformed(source, "no 'Max open files' line");
    return *found;
}

Result<ProcStat> parse_proc_stat(std::string_view text, std::string_view source) {
    const auto open = text.find('(');
    const auto close = text.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
        return malformed(source, "no (comm) field");
    }
    ProcStat stat;
    stat.comm = std::string(text.substr(open + 1, close - open - 1));
    // After comm: state(3) ppid(4) ... starttime(22), so starttime is the 20th word after ')'.
    const auto w = words(trim(text.substr(close + 1)));
    if (w.size() < 20) return malformed(source, "too few fields");
    stat.state = w[0].empty() ? '?' : w[0][0];
    const auto start = number<std::uint64_t>(w[19]);
    if (!start) return malformed(source, "starttime is not a number");
    stat.start_ticks = *start;
    return stat;
}

Result<std::uint64_t> parse_vm_rss(std::string_view text, std::string_view source) {
    std::optional<std::uint64_t> rss;
    bool bad = false;
    for_each_line(text, [&](std::string_view line) {
        if (!line.starts_with("VmRSS:")) return true;
        const auto w = words(line.substr(6));
        const auto v = w.empty() ? std::nullopt : number<std::uint64_t>(w[0]);
        if (!v) {
            bad = true;
        } else {
            rss = *v * (w.size() > 1 && w[1] == "kB" ? 1024 : 1);
        }
        return false;
    });
    if (bad) return malformed(source, "VmRSS is not a number");
    return rss.value_or(0);
}

Result<double> parse_uptime(std::string_view text, std::string_view source) {
    const auto w = words(trim(text));
    const auto v = w.empty() ? std::nullopt : number<double>(w[0]);
    if (!v) return malformed(source, "not a number of seconds");
    return *v;
}

unsigned online_cpus() noexcept {
    const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<unsigned>(n) : 1U;
}

std::vector<pid_t> list_pids(const std::filesystem::path& proc_root) {
    std::vector<pid_t> pids;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(proc_root, ec)) {
        if (auto pid = number<pid_t>(entry.path().filename().string()); pid && *pid > 0) pids.push_back(*pid);
    }
    return pids;
}

}  // namespace nasops::health
