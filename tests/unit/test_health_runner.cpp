#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <stdexcept>
#include <thread>

#include "health/health.hpp"
#include "health/runner.hpp"

using namespace nasops;
using namespace nasops::health;
using namespace std::chrono_literals;

namespace {

// Measures a fixed value after an optional pause.
class FixedCheck final : public Check {
public:
    FixedCheck(std::string name, double value, Duration pause = 0ms)
        : Check(std::move(name), "t"), m_value(value), m_pause(pause) {}
    CheckResult run(const CheckContext& context) override {
        m_seen_timeout = context.timeout;
        std::this_thread::sleep_for(m_pause);
        auto r = blank();
        r.message = "measured";
        r.metrics.push_back(Metric{.name = "v", .value = m_value, .warn = parse_range("10").value()});
        return r;
    }
    std::atomic<Duration> m_seen_timeout{0ms};

private:
    double m_value;
    Duration m_pause;
};

// Blocks in read(2) on a pipe until the test closes its write end, as a
// statvfs on a dead NFS mount blocks in the kernel.
class BlockedCheck final : public Check {
public:
    explicit BlockedCheck(int fd) : Check("blocked", "/mnt/dead"), m_fd(fd) {}
    CheckResult run(const CheckContext&) override {
        char c;
        (void)::read(m_fd, &c, 1);
        return blank();
    }

private:
    int m_fd;
};

class ThrowingCheck final : public Check {
public:
    ThrowingCheck() : Check("throws", "") {}
    CheckResult run(const CheckContext&) override { throw std::runtime_error("boom"); }
};

// Keeps a thread_local object on the thread it runs on, whose destructor
// (at that thread's exit, as OpenSSL frees its per-thread state) takes a
// while and then says it ran.
class ThreadStateCheck final : public Check {
public:
    ThreadStateCheck() : Check("thread_state", "") {}
    CheckResult run(const CheckContext&) override {
        thread_local ThreadState state;
        state.ended = &m_thread_ended;
        return blank();
    }
    std::atomic<bool> m_thread_ended{false};

private:
    struct ThreadState {
        std::atomic<bool>* ended = nullptr;
        ~ThreadState() {
            // Not a timing assertion: the pause only leaves a runner that does
            // not wait for the thread's end every chance to return first.
            std::this_thread::sleep_for(200ms);
            if (ended != nullptr) ended->store(true);
        }
    };
};

struct Pipe {
    int fds[2] = {-1, -1};
    Pipe() { EXPECT_EQ(::pipe(fds), 0); }
    ~Pipe() {
        close_writer();
        ::close(fds[0]);
    }
    void close_writer() {
        if (fds[1] >= 0) ::close(fds[1]);
        fds[1] = -1;
    }
};

}  // namespace

TEST(HealthRunner, ResultsKeepTheOrderOfTheChecksAndAreEvaluated) {
    std::vector<std::shared_ptr<Check>> checks{std::make_shared<FixedCheck>("a", 5, 50ms),
                                               std::make_shared<FixedCheck>("b", 50),
                                               std::make_shared<FixedCheck>("c", 1, 10ms)};
    auto report = run_checks(checks, RunLimits{5s, 5s}, std::make_shared<SystemClock>());
    ASSERT_EQ(report.results.size(), 3u);
    EXPECT_EQ(report.abandoned, 0u);
    EXPECT_EQ(report.results[0].name, "a");
    EXPECT_EQ(report.results[0].target, "t");
    EXPECT_EQ(report.results[0].status, Status::ok);
    EXPECT_EQ(report.results[1].status, Status::warning);
    EXPECT_EQ(report.results[1].message, "measured (warning: v 50 above 10)");
    EXPECT_EQ(report.results[2].name, "c");
    EXPECT_GE(report.results[0].duration, 50ms);
    EXPECT_EQ(static_cast<FixedCheck&>(*checks[0]).m_seen_timeout.load(), 5s);
}

// nasops-health exits once the run returns: a check thread still tearing
// down then (freeing OpenSSL's per-thread state) races OPENSSL_cleanup in
// the exit handlers, and the heap breaks ("malloc_consolidate(): invalid
// chunk size" at 07:45 of the day test).
TEST(HealthRunner, TheThreadOfAFinishedCheckHasEndedWhenTheRunReturns) {
    auto check = std::make_shared<ThreadStateCheck>();
    std::vector<std::shared_ptr<Check>> checks{check, std::make_shared<FixedCheck>("disk", 1)};
    auto report = run_checks(checks, RunLimits{5s, 5s}, std::make_shared<SystemClock>());
    EXPECT_EQ(report.abandoned, 0u);
    EXPECT_TRUE(check->m_thread_ended.load()) << "run_checks returned while a check's thread was still ending";
    // Without the join, the thread would write into the check after the test; wait for it here.
    while (!check->m_thread_ended.load()) std::this_thread::sleep_for(10ms);
}

TEST(HealthRunner, AHungCheckIsUnknownWhileTheOthersReport) {
    Pipe pipe;
    std::vector<std::shared_ptr<Check>> checks{std::make_shared<FixedCheck>("disk", 1),
                                               std::make_shared<BlockedCheck>(pipe.fds[0]),
                                               std::make_shared<FixedCheck>("memory", 2, 20ms)};
    const auto start = std::chrono::steady_clock::now();
    auto report = run_checks(checks, RunLimits{300ms, 10s}, std::make_shared<SystemClock>());
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_EQ(report.results.size(), 3u);
    EXPECT_EQ(report.abandoned, 1u);
    EXPECT_EQ(report.results[0].status, Status::ok);
    EXPECT_EQ(report.results[2].status, Status::ok);
    EXPECT_EQ(report.results[2].message, "measured");
    const auto& hung = report.results[1];
    EXPECT_EQ(hung.name, "blocked");
    EXPECT_EQ(hung.target, "/mnt/dead");
    EXPECT_EQ(hung.status, Status::unknown);
    EXPECT_EQ(hung.message, "timed out after 300ms");
    // Generous: the run returned long before the overall limit although the check never did.
    EXPECT_LT(took, 5s);
    // Release the abandoned thread; it writes into its own slot, which it co-owns.
    pipe.close_writer();
    std::this_thread::sleep_for(50ms);
}

TEST(HealthRunner, AHungCheckTakesTheTimeoutStateAskedFor) {
    Pipe pipe;
    std::vector<std::shared_ptr<Check>> checks{std::make_shared<BlockedCheck>(pipe.fds[0])};
    auto report = run_checks(checks, RunLimits{200ms, 10s, Status::critical}, std::make_shared<SystemClock>());
    ASSERT_EQ(report.results.size(), 1u);
    EXPECT_EQ(report.results[0].status, Status::critical);
    EXPECT_EQ(report.results[0].message, "timed out after 200ms");
    pipe.close_writer();
    std::this_thread::sleep_for(50ms);

    // A check that notices its own timeout first says the same.
    const CheckContext context{.timeout = 1s, .timeout_status = Status::warning};
    EXPECT_EQ(failure_status(context, 1s, 1s, Status::critical), Status::warning);
    EXPECT_EQ(failure_status(context, 999ms, 1s, Status::critical), Status::critical);
}

// -t as monitoring-plugins write it, check_http's N:STATE included.
TEST(HealthRunner, TimeoutOptionTakesAStateAfterTheDuration) {
    struct Case {
        std::string typed;
        std::optional<Duration> limit;
        Status state;
    };
    for (const auto& c : std::vector<Case>{{"10", 10s, Status::unknown},
                                           {"5s:critical", 5s, Status::critical},
                                           {"10:CRITICAL", 10s, Status::critical},
                                           {"10:2", 10s, Status::critical},
                                           {"1m:ok", 60s, Status::ok},
                                           {"30:Warning", 30s, Status::warning},
                                           {"30:3", 30s, Status::unknown}}) {
        auto parsed = parse_timeout_option(c.typed);
        ASSERT_TRUE(parsed) << c.typed << ": " << parsed.error().message;
        EXPECT_EQ(parsed->limit, c.limit) << c.typed;
        EXPECT_EQ(parsed->state, c.state) << c.typed;
    }
    EXPECT_FALSE(parse_timeout_option(std::nullopt)->limit);
    for (const auto* bad : {"10:fatal", "10:4", "0", "ten", "10:"}) {
        auto parsed = parse_timeout_option(std::string(bad));
        ASSERT_FALSE(parsed) << bad;
        EXPECT_EQ(parsed.error().message.rfind("--timeout: ", 0), 0u) << parsed.error().message;
    }
}

TEST(HealthRunner, TheOverallTimeoutBoundsEveryCheck) {
    Pipe pipe;
    std::vector<std::shared_ptr<Check>> checks{std::make_shared<BlockedCheck>(pipe.fds[0]),
                                               std::make_shared<FixedCheck>("quick", 1)};
    auto report = run_checks(checks, RunLimits{10s, 200ms}, std::make_shared<SystemClock>());
    EXPECT_EQ(report.results[0].status, Status::unknown);
    EXPECT_EQ(report.results[0].message, "did not finish within the overall timeout of 200ms");
    EXPECT_EQ(report.results[1].status, Status::ok);
    pipe.close_writer();
    std::this_thread::sleep_for(50ms);
}

TEST(HealthRunner, AnExceptionIsUnknownWithItsText) {
    std::vector<std::shared_ptr<Check>> checks{std::make_shared<ThrowingCheck>()};
    auto report = run_checks(checks, RunLimits{}, std::make_shared<SystemClock>());
    ASSERT_EQ(report.results.size(), 1u);
    EXPECT_EQ(report.results[0].status, Status::unknown);
    EXPECT_EQ(report.results[0].message, "internal error: boom");
    EXPECT_EQ(report.results[0].name, "throws");
}

TEST(HealthRunner, NoChecksIsAnEmptyReport) {
    auto report = run_checks({}, RunLimits{}, std::make_shared<SystemClock>());
    EXPECT_TRUE(report.results.empty());
    EXPECT_EQ(report.abandoned, 0u);
}
