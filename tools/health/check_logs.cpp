// logs: sizes of the log files, and the ERROR lines of the last minutes.

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "health/checks.hpp"
#include "nasops/util/unique_fd.hpp"

namespace nasops::health {

namespace {

constexpr std::size_t k_block = std::size_t{64} * 1024;
constexpr std::size_t k_quoted_line = 120;

bool is_word_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// nasops writes "<ts> nasops-sync[12] error: ..."; other programs often "ERROR".
bool is_error_line(std::string_view line) {
    if (line.find(" error: ") != std::string_view::npos) return true;
    for (auto pos = line.find("ERROR"); pos != std::string_view::npos; pos = line.find("ERROR", pos + 1)) {
        const bool left = pos == 0 || !is_word_char(line[pos - 1]);
        const bool right = pos + 5 >= line.size() || !is_word_char(line[pos + 5]);
        if (left && right) return true;
    }
    return false;
}

// The time a line starts with (RFC 3339, as nasops logs), or nullopt.
std::optional<SystemTimePoint> line_time(std::string_view line) {
    const auto space = line.find(' ');
    auto stamp = parse_rfc3339(line.substr(0, space));
    if (!stamp) return std::nullopt;
    return *stamp;
}

struct Scan {
    std::uint64_t errors = 0;
    std::string latest;  // the newest error line
    SystemTimePoint latest_time{};
};

// Reads `fd` backwards from its end in blocks and counts the error lines
// stamped at or after `since`, stopping at the first stamped line before it:
// log files are in time order, so a large file costs only its recent tail.
Result<Scan> scan_tail(int fd, std::uint64_t size, SystemTimePoint since, const std::string& name) {
    Scan scan;
    std::string carry;  // the start of a line whose beginning is in an earlier block
    std::uint64_t end = size;
    std::string block;
    bool done = false;
    auto take_line = [&](std::string_view line) {
        if (line.empty()) return;
        const auto t = line_time(line);
        if (!t) return;  // a continuation line, or a program that stamps otherwise
        if (*t < since) {
            done = true;
            return;
        }
        if (is_error_line(line)) {
            if (scan.errors == 0) {
                scan.latest = std::string(line.substr(0, k_quoted_line));
                scan.latest_time = *t;
            }
            ++scan.errors;
        }
    };
    while (end > 0 && !done) {
        const auto length = static_cast<std::size_t>(std::min<std::uint64_t>(k_block, end));
        const auto offset = end - length;
        block.resize(length);
        std::size_t got = 0;
        while (got < length) {
            const auto n = ::pread(fd, block.data() + got, length - got, static_cast<off_t>(offset + got));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return fail(ExitCode::io_error, fmt::format("cannot read {}: {}", name, std::strerror(errno)));
            if (n == 0) break;
            got += static_cast<std::size_t>(n);
        }
        block.resize(got);
        end = offset;
        block += carry;
        // Every line that is complete in `block`, newest first; the first piece may be partial.
        std::size_t stop = block.size();
        while (!done) {
            const auto nl = stop == 0 ? std::string::npos : block.rfind('\n', stop - 1);
            if (nl == std::string::npos) break;
            take_line(std::string_view(block).substr(nl + 1, stop - nl - 1));
            stop = nl;
        }
        carry = block.substr(0, stop);
    }
    if (!done && end == 0) take_line(carry);
    return scan;
}

class LogsCheck final : public Check {
public:
    LogsCheck(std::filesystem::path dir, Duration window, ThresholdsPtr thresholds)
        : Check("logs", dir.string()), m_dir(std::move(dir)), m_window(window), m_thresholds(std::move(thresholds)) {}

    CheckResult run(const CheckContext& context) override {
        std::error_code ec;
        if (!std::filesystem::is_directory(m_dir, ec)) return unknown(fmt::format("no log folder {}", m_dir.string()));
        const auto since = context.clock->now() - m_window;
        std::uint64_t total = 0;
        std::uint64_t largest = 0;
        std::string largest_name;
        std::size_t files = 0;
        Scan errors;
        std::vector<std::string> problems;
        std::filesystem::directory_iterator it(m_dir, ec);
        if (ec) return unknown(fmt::format("cannot list {}: {}", m_dir.string(), ec.message()));
        for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
            if (ec) break;
            const auto path = it->path();
            if (path.extension() != ".log") continue;
            // Open only regular files: a FIFO named *.log would block the open.
            struct stat st {};
            if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
            UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
            if (!fd) {
                problems.push_back(fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
                continue;
            }
            if (::fstat(fd.get(), &st) != 0) continue;
            const auto size = static_cast<std::uint64_t>(st.st_size);
            ++files;
            total += size;
            if (size > largest || largest_name.empty()) {
                largest = size;
                largest_name = path.filename().string();
            }
            auto scan = scan_tail(fd.get(), size, since, path.string());
            if (!scan) {
                problems.push_back(scan.error().message);
                continue;
            }
            if (scan->errors > 0 && (errors.latest.empty() || scan->latest_time > errors.latest_time)) {
                errors.latest = path.filename().string() + ": " + scan->latest;
                errors.latest_time = scan->latest_time;
            }
            errors.errors += scan->errors;
        }
        if (ec) return unknown(fmt::format("cannot list {}: {}", m_dir.string(), ec.message()));
        if (files == 0 && !problems.empty()) return unknown(problems.front());

        auto result = blank();
        result.metrics.push_back(m_thresholds->metric("logs_largest_file", static_cast<double>(largest)));
        result.metrics.push_back(m_thresholds->metric("logs_size", static_cast<double>(total)));
        result.metrics.push_back(m_thresholds->metric("logs_error_lines", static_cast<double>(errors.errors)));
        if (files == 0) {
            result.message = "no log files";
        } else {
            result.message = fmt::format("{} log file{}, {} in all, largest {} ({})", files, files == 1 ? "" : "s",
                                         format_size(total), largest_name, format_size(largest));
        }
        result.message += fmt::format("; {} error line{} in the last {}", errors.errors, errors.errors == 1 ? "" : "s",
                                      format_duration(m_window));
        if (!errors.latest.empty()) result.message += fmt::format(", latest: {}", errors.latest);
        if (!problems.empty()) {
            result.status = Status::unknown;
            result.message += fmt::format("; {}", problems.front());
        }
        return result;
    }

private:
    std::filesystem::path m_dir;
    Duration m_window;
    ThresholdsPtr m_thresholds;
};

}  // namespace

std::shared_ptr<Check> make_logs_check(std::filesystem::path log_dir, Duration window, ThresholdsPtr thresholds) {
    return std::make_shared<LogsCheck>(std::move(log_dir), window, std::move(thresholds));
}

}  // namespace nasops::health
