#include "health/runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

namespace nasops::health {

namespace {

using SteadyClock = std::chrono::steady_clock;

// What the runner and the check threads share. Each thread holds it by
// shared_ptr, so it outlives the run when a thread is abandoned.
struct Board {
    std::mutex mutex;
    std::condition_variable done;
    std::vector<std::optional<CheckResult>> results;
};

std::chrono::microseconds elapsed_since(SteadyClock::time_point start) {
    return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start);
}

void run_one(const std::shared_ptr<Board>& board, std::size_t index, const std::shared_ptr<Check>& check,
             const CheckContext& context) {
    const auto start = SteadyClock::now();
    CheckResult result;
    try {
        result = check->run(context);
        result.name = check->name();
        result.target = check->target();
        evaluate(result);
    } catch (const std::exception& e) {
        result = CheckResult{.name = check->name(),
                             .target = check->target(),
                             .status = Status::unknown,
                             .message = fmt::format("internal error: {}", e.what())};
    } catch (...) {
        result = CheckResult{
            .name = check->name(), .target = check->target(), .status = Status::unknown, .message = "internal error"};
    }
    result.duration = elapsed_since(start);
    std::lock_guard lock(board->mutex);
    board->results[index] = std::move(result);
    board->done.notify_all();
}

}  // namespace

RunReport run_checks(std::span<const std::shared_ptr<Check>> checks, const RunLimits& limits,
                     std::shared_ptr<const Clock> clock) {
    auto board = std::make_shared<Board>();
    board->results.resize(checks.size());
    const auto start = SteadyClock::now();
    const auto check_limit = std::min(limits.check_timeout, limits.overall_timeout);
    const auto deadline = start + check_limit;
    const CheckContext context{
        .clock = std::move(clock), .timeout = check_limit, .timeout_status = limits.timeout_status};

    for (std::size_t i = 0; i < checks.size(); ++i) {
        try {
            std::thread(run_one, board, i, checks[i], context).detach();
        } catch (const std::system_error& e) {
            std::lock_guard lock(board->mutex);
            board->results[i] = CheckResult{.name = checks[i]->name(),
                                            .target = checks[i]->target(),
                                            .status = Status::unknown,
                                            .message = fmt::format("cannot start a thread: {}", e.what())};
        }
    }

    RunReport report;
    std::unique_lock lock(board->mutex);
    board->done.wait_until(lock, deadline, [&] {
        return std::ranges::all_of(board->results, [](const auto& r) { return r.has_value(); });
    });
    const bool overall_first = limits.overall_timeout <= limits.check_timeout;
    for (std::size_t i = 0; i < checks.size(); ++i) {
        if (board->results[i]) {
            report.results.push_back(std::move(*board->results[i]));
            continue;
        }
        ++report.abandoned;
        const auto limit = format_duration(check_limit);
        report.results.push_back(CheckResult{
            .name = checks[i]->name(),
            .target = checks[i]->target(),
            .status = limits.timeout_status,
            .message = overall_first ? fmt::format("did not finish within the overall timeout of {}", limit)
                                     : fmt::format("timed out after {}", limit),
            .duration = elapsed_since(start),
        });
    }
    return report;
}

}  // namespace nasops::health
