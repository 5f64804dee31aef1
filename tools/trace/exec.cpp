#include "exec.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "nasops/util/unique_fd.hpp"

extern char** environ;

namespace nasops::trace {

namespace {

constexpr int k_forwarded[] = {SIGTERM, SIGINT, SIGHUP};

// The environment of this process with TRACEPARENT replaced.
std::vector<std::string> child_environment(const std::string& traceparent) {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        if (std::strncmp(*e, "TRACEPARENT=", 12) == 0) continue;
        env.emplace_back(*e);
    }
    env.push_back("TRACEPARENT=" + traceparent);
    return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (auto& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

// posix_spawnattr_t with its destroy at scope exit.
// Puts the signal mask back at scope exit, unless told to keep it.
struct MaskRestore {
    sigset_t original{};
    bool restore = true;
    ~MaskRestore() {
        if (restore) ::sigprocmask(SIG_SETMASK, &original, nullptr);
    }
};

struct SpawnAttr {
    posix_spawnattr_t attr{};
    SpawnAttr() { posix_spawnattr_init(&attr); }
    ~SpawnAttr() { posix_spawnattr_destroy(&attr); }
    SpawnAttr(const SpawnAttr&) = delete;
    SpawnAttr& operator=(const SpawnAttr&) = delete;
};

}  // namespace

Result<ChildOutcome> run_child(const ChildRequest& request) {
    if (request.argv.empty()) return fail(ExitCode::usage, "exec: no command to run (give it after --)");

    // Block the forwarded signals and SIGCHLD, and take them from a signalfd,
    // so that waiting, forwarding and the timeout are one poll loop with no
    // handler and no global state.
    sigset_t watched;
    sigemptyset(&watched);
    for (int sig : k_forwarded) sigaddset(&watched, sig);
    sigaddset(&watched, SIGCHLD);
    MaskRestore mask;
    if (::sigprocmask(SIG_BLOCK, &watched, &mask.original) != 0)
        return fail(ExitCode::software, fmt::format("exec: sigprocmask: {}", std::strerror(errno)));
    mask.restore = request.keep_blocked == KeepSignalsBlocked::no;
    const sigset_t& original = mask.original;
    UniqueFd sigfd(::signalfd(-1, &watched, SFD_CLOEXEC));
    if (!sigfd) return fail(ExitCode::software, fmt::format("exec: signalfd: {}", std::strerror(errno)));

    // The child starts with the signal mask this process had, and the
    // default action for the signals it is sent.
    SpawnAttr attr;
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig : k_forwarded) sigaddset(&defaults, sig);
    sigaddset(&defaults, SIGCHLD);
    sigaddset(&defaults, SIGPIPE);  // nasops-trace ignores it; the command must not
    posix_spawnattr_setsigmask(&attr.attr, &original);
    posix_spawnattr_setsigdefault(&attr.attr, &defaults);
    posix_spawnattr_setflags(&attr.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    auto argv_strings = request.argv;
    auto argv = pointers(argv_strings);
    auto env_strings = child_environment(request.traceparent);
    auto envp = pointers(env_strings);

    ChildOutcome outcome;
    const auto started = request.clock_started.value_or(std::chrono::steady_clock::now());
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, argv[0], nullptr, &attr.attr, argv.data(), envp.data());
    if (rc != 0) {
        outcome.spawn_errno = rc;
        outcome.exit_code = rc == ENOENT ? 127 : 126;
        outcome.elapsed = std::chrono::steady_clock::now() - started;
        return outcome;
    }
    outcome.pid = pid;

    using Clock = std::chrono::steady_clock;
    std::optional<Clock::time_point> term_at;
    if (request.timeout) term_at = started + *request.timeout;
    std::optional<Clock::time_point> kill_at;

    for (;;) {
        int status = 0;
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
            if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
            break;
        }
        if (done < 0 && errno != EINTR)
            return fail(ExitCode::software, fmt::format("exec: waitpid: {}", std::strerror(errno)));

        int wait_ms = -1;
        const auto now = Clock::now();
        const auto deadline = kill_at ? kill_at : term_at;
        if (deadline) {
            if (now >= *deadline) {
                if (!kill_at) {
                    outcome.timed_out = true;
                    ::kill(pid, SIGTERM);
                    kill_at = now + request.kill_after;
                } else {
                    ::kill(pid, SIGKILL);
                    kill_at = now + std::chrono::hours(24);  // the kill is sent; wait for the exit
                }
                continue;
            }
            wait_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(*deadline - now).count());
        }
        pollfd p{sigfd.get(), POLLIN, 0};
        const int ready = ::poll(&p, 1, wait_ms);
        if (ready < 0 && errno != EINTR)
            return fail(ExitCode::software, fmt::format("exec: poll: {}", std::strerror(errno)));
        if (ready > 0) {
            signalfd_siginfo info{};
            while (::read(sigfd.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
                const int sig = static_cast<int>(info.ssi_signo);
                if (sig != SIGCHLD) ::kill(pid, sig);
                // Non-blocking drain: stop when nothing more is pending.
                pollfd again{sigfd.get(), POLLIN, 0};
                if (::poll(&again, 1, 0) <= 0) break;
            }
        }
    }
    outcome.elapsed = Clock::now() - started;
    return outcome;
}

int exit_status_of(const ChildOutcome& outcome) noexcept {
    if (outcome.timed_out) return 124;
    if (outcome.signal) return 128 + *outcome.signal;
    return outcome.exit_code.value_or(127);
}

void describe_outcome(SpanData& span, const ChildOutcome& outcome) {
    if (outcome.pid != 0) span.attributes["process.pid"] = outcome.pid;
    if (outcome.spawn_errno != 0) {
        span.status = SpanStatus::error;
        span.status_message = fmt::format("cannot run '{}': {}", span.attributes.value("process.executable.name", ""),
                                          std::strerror(outcome.spawn_errno));
        span.attributes["process.exit.code"] = *outcome.exit_code;
        return;
    }
    if (outcome.signal) {
        const char* name = ::sigabbrev_np(*outcome.signal);
        span.attributes["process.signal"] = name ? fmt::format("SIG{}", name) : std::to_string(*outcome.signal);
        span.status = SpanStatus::error;
        span.status_message =
            fmt::format("killed by signal {}", name ? fmt::format("SIG{}", name) : std::to_string(*outcome.signal));
    } else if (outcome.exit_code) {
        span.attributes["process.exit.code"] = *outcome.exit_code;
        if (*outcome.exit_code != 0) {
            span.status = SpanStatus::error;
            span.status_message = fmt::format("exit status {}", *outcome.exit_code);
        }
    }
    if (outcome.timed_out) {
        span.attributes["nasops.timed_out"] = true;
        span.status = SpanStatus::error;
        span.status_message = "timed out, " + span.status_message;
    }
}

void reraise_signal(int signal) noexcept {
    // No core file of our own: the child's crash is not ours.
    rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    ::sigaction(signal, &dfl, nullptr);
    ::raise(signal);  // pending while blocked...
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, signal);
    ::sigprocmask(SIG_UNBLOCK, &one, nullptr);  // ...delivered here
}

}  // namespace nasops::trace
