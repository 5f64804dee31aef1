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

// The threads of one run. A thread whose check has posted its result is
// joined before the run returns: it is only tearing down by then, but its
// teardown frees the thread's state in libraries (OpenSSL's per-thread
// random generators, which libssh2 used), and a process that exits meanwhile
// frees the same state in its exit handlers (OPENSSL_cleanup): heap
// corruption, one run in thousands. A thread still in its check is detached
// and counted abandoned; the caller must then leave with _Exit, running no
// exit handler under its feet (see nasops-health's main).
class CheckThreads {
public:
    explicit CheckThreads(std::size_t count) : m_threads(count), m_finished(count, false) {}
    CheckThreads(const CheckThreads&) = delete;
    CheckThreads& operator=(const CheckThreads&) = delete;
    // Never waits for a check: what is not joined by join_finished() is detached.
    ~CheckThreads() {
        for (auto& thread : m_threads) {
            if (thread.joinable()) thread.detach();
        }
    }

    void keep(std::size_t index, std::thread thread) { m_threads.at(index) = std::move(thread); }
    // The check of `index` has posted its result.
    void finished(std::size_t index) { m_finished[index] = true; }
    void join_finished() {
        for (std::size_t i = 0; i < m_threads.size(); ++i) {
            if (m_finished[i] && m_threads[i].joinable()) m_threads[i].join();
        }
    }

private:
    std::vector<std::thread> m_threads;
    std::vector<bool> m_finished;
};

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

    CheckThreads threads(checks.size());
    for (std::size_t i = 0; i < checks.size(); ++i) {
        try {
            threads.keep(i, std::thread(run_one, board, i, checks[i], context));
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
            threads.finished(i);
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
    lock.unlock();
    threads.join_finished();
    return report;
}

}  // namespace nasops::health
