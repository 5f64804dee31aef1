#pragma once

// Runs a command without a shell: the input on its stdin, extra variables in
// its environment, and a time limit after which it and every process in its
// process group are killed. Used by alert's exec channel and health's service
// check.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/util/units.hpp"

namespace nasops {

struct CommandOutcome {
    int exit_code = -1;  // as a shell reports it: 128 + signal when killed; -1 when timed out
    bool timed_out = false;
    std::string output;  // stdout (and stderr unless discarded), at most k_max_command_output bytes
};

inline constexpr std::size_t k_max_command_output = 64 * 1024;

using EnvVars = std::vector<std::pair<std::string, std::string>>;

class CommandRunner {
public:
    virtual ~CommandRunner() = default;
    // Errors only when the command cannot be started (ExitCode::unavailable,
    // naming it); a command that runs and fails is an outcome.
    virtual Result<CommandOutcome> run(const std::vector<std::string>& argv, const EnvVars& env, std::string_view input,
                                       Duration timeout) = 0;
};

// Where a command's stderr goes: into the captured output, or to /dev/null
// for a command whose stdout is parsed.
enum class StderrTo { output, discard };

// posix_spawnp in a process group of its own.
class SpawnCommandRunner final : public CommandRunner {
public:
    explicit SpawnCommandRunner(StderrTo stderr_to = StderrTo::output) : m_stderr_to(stderr_to) {}
    Result<CommandOutcome> run(const std::vector<std::string>& argv, const EnvVars& env, std::string_view input,
                               Duration timeout) override;

private:
    StderrTo m_stderr_to;
};

}  // namespace nasops
