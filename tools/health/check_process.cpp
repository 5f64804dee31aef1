// process and the per-process part of fds: processes found by pidfile or name in /proc.

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <system_error>

#include "health/checks.hpp"
#include "health/procfs.hpp"
#include "nasops/util/text.hpp"

namespace nasops::health {

namespace {

// The process's comm and state, or nullopt when it is gone.
std::optional<ProcStat> stat_of(const std::filesystem::path& proc_root, pid_t pid) {
    const auto path = proc_root / std::to_string(pid) / "stat";
    auto text = read_small_file(path);
    if (!text) return std::nullopt;
    auto stat = parse_proc_stat(*text, path.string());
    if (!stat) return std::nullopt;
    return *stat;
}

bool alive(const ProcStat& stat) {
    return stat.state != 'Z' && stat.state != 'X' && stat.state != 'x';
}

std::string argv0_base(const std::filesystem::path& proc_root, pid_t pid) {
    auto text = read_small_file(proc_root / std::to_string(pid) / "cmdline");
    if (!text || text->empty()) return {};
    std::string_view argv0(text->c_str());
    const auto slash = argv0.rfind('/');
    return std::string(slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1));
}

constexpr std::size_t k_comm_length = 15;  // TASK_COMM_LEN - 1

}  // namespace

ProcessLookup find_processes(const std::string& spec, const std::filesystem::path& proc_root) {
    ProcessLookup lookup;
    if (spec.starts_with('/')) {
        std::error_code exists_error;
        if (!std::filesystem::exists(spec, exists_error)) {
            lookup.why_none = fmt::format("pidfile {} does not exist", spec);
            return lookup;
        }
        auto text = read_small_file(spec);
        if (!text) {
            lookup.why_none = text.error().message;
            return lookup;
        }
        const auto word = trim(*text);
        pid_t pid = 0;
        const auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), pid);
        if (ec != std::errc{} || ptr != word.data() + word.size() || pid <= 0) {
            lookup.why_none = fmt::format("pidfile {} does not hold a pid", spec);
            return lookup;
        }
        const auto stat = stat_of(proc_root, pid);
        if (!stat || !alive(*stat)) {
            lookup.why_none = fmt::format("pidfile {} names pid {}, which is not running", spec, pid);
            return lookup;
        }
        lookup.pids.push_back(pid);
        return lookup;
    }
    const pid_t self = ::getpid();
    for (const pid_t pid : list_pids(proc_root)) {
        if (pid == self) continue;
        const auto stat = stat_of(proc_root, pid);
        if (!stat || !alive(*stat)) continue;
        // The kernel keeps 15 characters of the name; a longer name is confirmed by argv[0].
        const bool match =
            stat->comm == spec || (spec.size() > k_comm_length && stat->comm == spec.substr(0, k_comm_length) &&
                                   argv0_base(proc_root, pid) == spec);
        if (match) lookup.pids.push_back(pid);
    }
    std::ranges::sort(lookup.pids);
    if (lookup.pids.empty()) lookup.why_none = fmt::format("no process named {}", spec);
    return lookup;
}

namespace {

class ProcessCheck final : public Check {
public:
    ProcessCheck(std::string spec, std::filesystem::path proc_root, ThresholdsPtr thresholds)
        : Check("process", spec),
          m_spec(std::move(spec)),
          m_proc(std::move(proc_root)),
          m_thresholds(std::move(thresholds)) {}

    CheckResult run(const CheckContext&) override {
        const auto lookup = find_processes(m_spec, m_proc);
        auto result = blank();
        if (lookup.pids.empty()) {
            result.status = Status::critical;
            result.message = fmt::format("not running: {}", lookup.why_none);
            result.metrics.push_back(m_thresholds->metric("process_instances", 0));
            return result;
        }
        const auto uptime_path = m_proc / "uptime";
        auto uptime_text = read_small_file(uptime_path);
        if (!uptime_text) return unknown(uptime_text.error().message);
        auto since_boot = parse_uptime(*uptime_text, uptime_path.string());
        if (!since_boot) return unknown(since_boot.error().message);
        const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));

        std::optional<double> oldest;
        pid_t oldest_pid = 0;
        double rss = 0;
        std::size_t instances = 0;
        for (const pid_t pid : lookup.pids) {
            const auto stat_path = m_proc / std::to_string(pid) / "stat";
            auto text = read_small_file(stat_path);
            if (!text) continue;  // it exited meanwhile
            auto stat = parse_proc_stat(*text, stat_path.string());
            if (!stat) return unknown(stat.error().message);
            ++instances;
            const double uptime = std::max(0.0, *since_boot - static_cast<double>(stat->start_ticks) / ticks);
            if (!oldest || uptime > *oldest) {
                oldest = uptime;
                oldest_pid = pid;
            }
            const auto status_path = m_proc / std::to_string(pid) / "status";
            if (auto status = read_small_file(status_path)) {
                if (auto bytes = parse_vm_rss(*status, status_path.string())) rss += static_cast<double>(*bytes);
            }
        }
        if (!oldest) {
            result.status = Status::critical;
            result.message = fmt::format("not running: {} exited while being checked", m_spec);
            result.metrics.push_back(m_thresholds->metric("process_instances", 0));
            return result;
        }
        auto up = m_thresholds->metric("process_uptime", *oldest);
        up.min = 0;
        result.metrics.push_back(up);
        auto mem = m_thresholds->metric("process_resident_memory", rss);
        mem.min = 0;
        result.metrics.push_back(mem);
        result.metrics.push_back(m_thresholds->metric("process_instances", static_cast<double>(instances)));
        result.message =
            instances == 1
                ? fmt::format("running as pid {}, up {}, {} resident", oldest_pid,
                              format_quantity(*oldest, Quantity::seconds), format_size(static_cast<std::uint64_t>(rss)))
                : fmt::format("{} processes running, oldest pid {} up {}, {} resident in all", instances, oldest_pid,
                              format_quantity(*oldest, Quantity::seconds),
                              format_size(static_cast<std::uint64_t>(rss)));
        return result;
    }

private:
    std::string m_spec;
    std::filesystem::path m_proc;
    ThresholdsPtr m_thresholds;
};

class ProcessFdsCheck final : public Check {
public:
    ProcessFdsCheck(std::string spec, std::filesystem::path proc_root, ThresholdsPtr thresholds)
        : Check("fds", spec),
          m_spec(std::move(spec)),
          m_proc(std::move(proc_root)),
          m_thresholds(std::move(thresholds)) {}

    CheckResult run(const CheckContext&) override {
        const auto lookup = find_processes(m_spec, m_proc);
        if (lookup.pids.empty()) return unknown(lookup.why_none);
        struct Usage {
            pid_t pid;
            std::uint64_t open;
            std::optional<std::uint64_t> limit;
            double ratio;
        };
        std::optional<Usage> worst;
        std::string problem;
        for (const pid_t pid : lookup.pids) {
            const auto dir = m_proc / std::to_string(pid);
            const auto limits_path = dir / "limits";
            auto limits_text = read_small_file(limits_path);
            if (!limits_text) {
                problem = limits_text.error().message;
                continue;
            }
            auto limit = parse_open_files_limit(*limits_text, limits_path.string());
            if (!limit) {
                problem = limit.error().message;
                continue;
            }
            std::error_code ec;
            std::uint64_t open = 0;
            for (std::filesystem::directory_iterator it(dir / "fd", ec), end; !ec && it != end; it.increment(ec)) {
                ++open;
            }
            if (ec) {
                problem = fmt::format("cannot list {}: {}", (dir / "fd").string(), ec.message());
                continue;
            }
            const double ratio = *limit && **limit > 0 ? static_cast<double>(open) / static_cast<double>(**limit) : 0.0;
            if (!worst || ratio > worst->ratio) worst = Usage{pid, open, *limit, ratio};
        }
        if (!worst) return unknown(problem);
        auto result = blank();
        auto m = m_thresholds->metric("process_fds_used", worst->ratio);
        m.min = 0;
        m.max = 1;
        result.metrics.push_back(m);
        result.message = worst->limit ? fmt::format("pid {}: {} of {} open files ({})", worst->pid, worst->open,
                                                    *worst->limit, format_quantity(worst->ratio, Quantity::percent))
                                      : fmt::format("pid {}: {} open files, no limit", worst->pid, worst->open);
        return result;
    }

private:
    std::string m_spec;
    std::filesystem::path m_proc;
    ThresholdsPtr m_thresholds;
};

}  // namespace

std::shared_ptr<Check> make_process_check(std::string spec, std::filesystem::path proc_root, ThresholdsPtr thresholds) {
    return std::make_shared<ProcessCheck>(std::move(spec), std::move(proc_root), std::move(thresholds));
}

std::shared_ptr<Check> make_process_fds_check(std::string spec, std::filesystem::path proc_root,
                                              ThresholdsPtr thresholds) {
    return std::make_shared<ProcessFdsCheck>(std::move(spec), std::move(proc_root), std::move(thresholds));
}

}  // namespace nasops::health
