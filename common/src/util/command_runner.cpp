#include "nasops/util/command_runner.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <map>

#include "nasops/util/unique_fd.hpp"

extern char** environ;

namespace nasops {

namespace {

struct Pipe {
    UniqueFd read;
    UniqueFd write;
};

Result<Pipe> make_pipe() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
        return fail(ExitCode::software, fmt::format("cannot create a pipe: {}", std::strerror(errno)));
    }
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

class SpawnActions {
public:
    SpawnActions() { posix_spawn_file_actions_init(&m_actions); }
    ~SpawnActions() { posix_spawn_file_actions_destroy(&m_actions); }
    SpawnActions(const SpawnActions&) = delete;
    SpawnActions& operator=(const SpawnActions&) = delete;
    posix_spawn_file_actions_t* get() { return &m_actions; }

private:
    posix_spawn_file_actions_t m_actions{};
};

class SpawnAttr {
public:
    SpawnAttr() { posix_spawnattr_init(&m_attr); }
    ~SpawnAttr() { posix_spawnattr_destroy(&m_attr); }
    SpawnAttr(const SpawnAttr&) = delete;
    SpawnAttr& operator=(const SpawnAttr&) = delete;
    posix_spawnattr_t* get() { return &m_attr; }

private:
    posix_spawnattr_t m_attr{};
};

int shell_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace

Result<CommandOutcome> SpawnCommandRunner::run(const std::vector<std::string>& argv, const EnvVars& env,
                                               std::string_view input, Duration timeout) {
    if (argv.empty()) return fail(ExitCode::config, "empty command");
    TRY_ASSIGN(auto in, make_pipe());
    TRY_ASSIGN(auto out, make_pipe());

    SpawnActions actions;
    posix_spawn_file_actions_adddup2(actions.get(), in.read.get(), 0);
    posix_spawn_file_actions_adddup2(actions.get(), out.write.get(), 1);
    if (m_stderr_to == StderrTo::output) {
        posix_spawn_file_actions_adddup2(actions.get(), out.write.get(), 2);
    } else {
        posix_spawn_file_actions_addopen(actions.get(), 2, "/dev/null", O_WRONLY, 0);
    }
    SpawnAttr attr;
    posix_spawnattr_setflags(attr.get(), POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(attr.get(), 0);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(attr.get(), &none);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    posix_spawnattr_setsigdefault(attr.get(), &defaults);

    std::map<std::string, std::string> vars;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string_view entry(*e);
        const auto eq = entry.find('=');
        if (eq != std::string_view::npos) vars[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
    }
    for (const auto& [k, v] : env) vars[k] = v;
    std::vector<std::string> env_strings;
    env_strings.reserve(vars.size());
    for (const auto& [k, v] : vars) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> argp;
    for (auto& a : args) argp.push_back(a.data());
    argp.push_back(nullptr);

    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, argp[0], actions.get(), attr.get(), argp.data(), envp.data());
    if (rc != 0) {
        return fail(ExitCode::unavailable, fmt::format("cannot run {}: {}", argv.front(), std::strerror(rc)));
    }
    in.read.reset();
    out.write.reset();
    ::fcntl(in.write.get(), F_SETFL, O_NONBLOCK);

    CommandOutcome outcome;
    std::size_t written = 0;
    if (input.empty()) in.write.reset();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::array<char, 8192> buffer{};
    bool out_open = true;
    while (out_open) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            outcome.timed_out = true;
            break;
        }
        std::array<pollfd, 2> fds{};
        nfds_t n = 0;
        fds[n++] = pollfd{out.read.get(), POLLIN, 0};
        if (in.write.valid()) fds[n++] = pollfd{in.write.get(), POLLOUT, 0};
        const int ready = ::poll(fds.data(), n, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (ready < 0 && errno != EINTR) break;
        if (ready <= 0) continue;
        if (n > 1 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
            const auto w = ::write(in.write.get(), input.data() + written, input.size() - written);
            if (w > 0) written += static_cast<std::size_t>(w);
            if (w < 0 && errno != EAGAIN && errno != EINTR) in.write.reset();
            if (written >= input.size()) in.write.reset();
        }
        if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            const auto r = ::read(out.read.get(), buffer.data(), buffer.size());
            if (r > 0) {
                const auto room = k_max_command_output - std::min(k_max_command_output, outcome.output.size());
                outcome.output.append(buffer.data(), std::min(static_cast<std::size_t>(r), room));
            } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                out_open = false;
            }
        }
    }
    in.write.reset();
    int status = 0;
    if (outcome.timed_out) {
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        outcome.exit_code = -1;
        return outcome;
    }
    // Output closed: the command has exited, or closed its output and goes on.
    const auto wait_until = deadline;
    while (true) {
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) break;
        if (done < 0 && errno != EINTR) break;
        if (std::chrono::steady_clock::now() >= wait_until) {
            outcome.timed_out = true;
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            outcome.exit_code = -1;
            return outcome;
        }
        ::usleep(10'000);
    }
    outcome.exit_code = shell_status(status);
    return outcome;
}

}  // namespace nasops
