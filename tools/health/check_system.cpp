// The local checks that read the kernel's own figures: disk, memory, load, cpu, fds.

#include <fmt/format.h>

#include <thread>

#include "health/checks.hpp"
#include "health/procfs.hpp"
#include "nasops/util/fs_stat.hpp"

namespace nasops::health {

namespace {

class UnconfiguredCheck final : public Check {
public:
    UnconfiguredCheck(std::string name, std::string target, std::string message, Status status)
        : Check(std::move(name), std::move(target)), m_message(std::move(message)), m_status(status) {}
    CheckResult run(const CheckContext&) override {
        auto result = unknown(m_message);
        result.status = m_status;
        return result;
    }

private:
    std::string m_message;
    Status m_status;
};

class DiskCheck final : public Check {
public:
    DiskCheck(std::filesystem::path path, ThresholdsPtr thresholds)
        : Check("disk", path.string()), m_path(std::move(path)), m_thresholds(std::move(thresholds)) {}

    CheckResult run(const CheckContext&) override {
        const auto fs = local_fs_stat(m_path);
        if (!fs) return unknown(fs.error().message);
        auto result = blank();
        result.message = judge_filesystem(result, *m_thresholds, "disk", *fs);
        return result;
    }

private:
    std::filesystem::path m_path;
    ThresholdsPtr m_thresholds;
};

class MemoryCheck final : public Check {
public:
    MemoryCheck(std::filesystem::path proc_root, ThresholdsPtr thresholds)
        : Check("memory", ""), m_proc(std::move(proc_root)), m_thresholds(std::move(thresholds)) {}

    CheckResult run(const CheckContext&) override {
        const auto path = m_proc / "meminfo";
        auto text = read_small_file(path);
        if (!text) return unknown(text.error().message);
        auto info = parse_meminfo(*text, path.string());
        if (!info) return unknown(info.error().message);
        auto result = blank();
        const auto available = std::min(info->available, info->total);
        const double ratio = 1.0 - static_cast<double>(available) / static_cast<double>(info->total);
        auto m = m_thresholds->metric("memory_used", ratio);
        m.min = 0;
        m.max = 1;
        result.metrics.push_back(m);
        std::string swap = "no swap";
        if (info->swap_total > 0) {
            const auto free = std::min(info->swap_free, info->swap_total);
            const double swap_ratio = 1.0 - static_cast<double>(free) / static_cast<double>(info->swap_total);
            auto s = m_thresholds->metric("swap_used", swap_ratio);
            s.min = 0;
            s.max = 1;
            result.metrics.push_back(s);
            swap = fmt::format("swap {} used of {}", format_quantity(swap_ratio, Quantity::percent),
                               format_size(info->swap_total));
        }
        result.message = fmt::format("{} used, {} available of {}, {}", format_quantity(ratio, Quantity::percent),
                                     format_size(available), format_size(info->total), swap);
        return result;
    }

private:
    std::filesystem::path m_proc;
    ThresholdsPtr m_thresholds;
};

class LoadCheck final : public Check {
public:
    LoadCheck(std::filesystem::path proc_root, ThresholdsPtr thresholds)
        : Check("load", ""), m_proc(std::move(proc_root)), m_thresholds(std::move(thresholds)) {}

    CheckResult run(const CheckContext&) override {
        const auto path = m_proc / "loadavg";
        auto text = read_small_file(path);
        if (!text) return unknown(text.error().message);
        auto load = parse_loadavg(*text, path.string());
        if (!load) return unknown(load.error().message);
        const double cpus = online_cpus();
        auto result = blank();
        for (const auto& [name, value] :
             {std::pair{"load1_per_core", load->one}, std::pair{"load5_per_core", load->five},
              std::pair{"load15_per_core", load->fifteen}}) {
            auto m = m_thresholds->metric(name, value / cpus);
            m.min = 0;
            result.metrics.push_back(m);
        }
        result.message = fmt::format("load {:.2f} {:.2f} {:.2f} on {} CPU{} ({:.2f} {:.2f} {:.2f} per CPU)", load->one,
                                     load->five, load->fifteen, cpus, cpus == 1 ? "" : "s", load->one / cpus,
                                     load->five / cpus, load->fifteen / cpus);
        return result;
    }

private:
    std::filesystem::path m_proc;
    ThresholdsPtr m_thresholds;
};

class CpuCheck final : public Check {
public:
    CpuCheck(std::filesystem::path proc_root, Duration sample, ThresholdsPtr thresholds)
        : Check("cpu", ""), m_proc(std::move(proc_root)), m_sample(sample), m_thresholds(std::move(thresholds)) {}

    CheckResult run(const CheckContext&) override {
        const auto path = m_proc / "stat";
        auto sample = [&]() -> Result<CpuTimes> {
            TRY_ASSIGN(auto text, read_small_file(path));
            return parse_cpu_times(text, path.string());
        };
        auto before = sample();
        if (!before) return unknown(before.error().message);
        std::this_thread::sleep_for(m_sample);
        auto after = sample();
        if (!after) return unknown(after.error().message);
        const double ratio = cpu_busy_ratio(*before, *after);
        auto result = blank();
        auto m = m_thresholds->metric("cpu_used", ratio);
        m.min = 0;
        m.max = 1;
        result.metrics.push_back(m);
        result.message =
            fmt::format("{} busy over {}", format_quantity(ratio, Quantity::percent), format_duration(m_sample));
        return result;
    }

private:
    std::filesystem::path m_proc;
    Duration m_sample;
    ThresholdsPtr m_thresholds;
};

class FdsCheck final : public Check {
public:
    FdsCheck(std::filesystem::path proc_root, ThresholdsPtr thresholds)
        : Check("fds", ""), m_proc(std::move(proc_root)), m_thresholds(std::move(thresholds)) {}

    CheckResult run(const CheckContext&) override {
        const auto path = m_proc / "sys/fs/file-nr";
        auto text = read_small_file(path);
        if (!text) return unknown(text.error().message);
        auto nr = parse_file_nr(*text, path.string());
        if (!nr) return unknown(nr.error().message);
        const auto used = nr->allocated >= nr->unused ? nr->allocated - nr->unused : 0;
        const double ratio = static_cast<double>(used) / static_cast<double>(nr->max);
        auto result = blank();
        auto m = m_thresholds->metric("fds_used", ratio);
        m.min = 0;
        m.max = 1;
        result.metrics.push_back(m);
        result.message =
            fmt::format("{} of {} file handles in use ({})", used, nr->max, format_quantity(ratio, Quantity::percent));
        return result;
    }

private:
    std::filesystem::path m_proc;
    ThresholdsPtr m_thresholds;
};

}  // namespace

std::shared_ptr<Check> make_unconfigured_check(std::string name, std::string target, std::string message,
                                               Status status) {
    return std::make_shared<UnconfiguredCheck>(std::move(name), std::move(target), std::move(message), status);
}

std::shared_ptr<Check> make_disk_check(std::filesystem::path path, ThresholdsPtr thresholds) {
    return std::make_shared<DiskCheck>(std::move(path), std::move(thresholds));
}

std::shared_ptr<Check> make_memory_check(std::filesystem::path proc_root, ThresholdsPtr thresholds) {
    return std::make_shared<MemoryCheck>(std::move(proc_root), std::move(thresholds));
}

std::shared_ptr<Check> make_load_check(std::filesystem::path proc_root, ThresholdsPtr thresholds) {
    return std::make_shared<LoadCheck>(std::move(proc_root), std::move(thresholds));
}

std::shared_ptr<Check> make_cpu_check(std::filesystem::path proc_root, Duration sample, ThresholdsPtr thresholds) {
    return std::make_shared<CpuCheck>(std::move(proc_root), sample, std::move(thresholds));
}

std::shared_ptr<Check> make_fds_check(std::filesystem::path proc_root, ThresholdsPtr thresholds) {
    return std::make_shared<FdsCheck>(std::move(proc_root), std::move(thresholds));
}

std::string judge_filesystem(CheckResult& result, const Thresholds& thresholds, std::string_view prefix,
                             const FsStat& fs) {
    const double total = static_cast<double>(fs.total_bytes);
    const double used = static_cast<double>(fs.total_bytes - std::min(fs.free_bytes, fs.total_bytes));
    const double available = static_cast<double>(fs.available_bytes);
    // As df computes Use%: against what unprivileged users can reach, not the reserved blocks.
    const double ratio = used + available > 0 ? used / (used + available) : 0;
    auto used_metric = thresholds.metric(fmt::format("{}_used", prefix), ratio);
    used_metric.min = 0;
    used_metric.max = 1;
    result.metrics.push_back(used_metric);
    std::string inodes;
    if (fs.total_inodes > 0) {
        const double inode_ratio = static_cast<double>(fs.total_inodes - std::min(fs.free_inodes, fs.total_inodes)) /
                                   static_cast<double>(fs.total_inodes);
        auto inode_metric = thresholds.metric(fmt::format("{}_inodes_used", prefix), inode_ratio);
        inode_metric.min = 0;
        inode_metric.max = 1;
        result.metrics.push_back(inode_metric);
        inodes = fmt::format(", inodes {} used", format_quantity(inode_ratio, Quantity::percent));
    }
    auto free_metric = thresholds.metric(fmt::format("{}_free", prefix), available);
    free_metric.min = 0;
    free_metric.max = total;
    result.metrics.push_back(free_metric);
    return fmt::format("{} used, {} free of {}{}", format_quantity(ratio, Quantity::percent),
                       format_quantity(available, Quantity::bytes), format_quantity(total, Quantity::bytes), inodes);
}

}  // namespace nasops::health
