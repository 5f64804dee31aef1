#include "stop_signals.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>

namespace nasops::trace {

Result<std::unique_ptr<StopSignals>> StopSignals::block() {
    std::unique_ptr<StopSignals> stop(new StopSignals());
    sigset_t watched;
    sigemptyset(&watched);
    sigaddset(&watched, SIGTERM);
    sigaddset(&watched, SIGINT);
    if (::sigprocmask(SIG_BLOCK, &watched, &stop->m_original) != 0)
        return fail(ExitCode::software, fmt::format("sigprocmask: {}", std::strerror(errno)));
    stop->m_fd = UniqueFd(::signalfd(-1, &watched, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!stop->m_fd) return fail(ExitCode::software, fmt::format("signalfd: {}", std::strerror(errno)));
    return stop;
}

StopSignals::~StopSignals() {
    ::sigprocmask(SIG_SETMASK, &m_original, nullptr);
}

bool StopSignals::wait(Duration timeout) {
    if (m_requested) return true;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{m_fd.get(), POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
        if (ready > 0) {
            signalfd_siginfo info{};
            if (::read(m_fd.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
                m_requested = true;
                return true;
            }
        }
        if (ready < 0 && errno == EINTR) continue;
        if (std::chrono::steady_clock::now() >= deadline) return false;
    }
}

}  // namespace nasops::trace
