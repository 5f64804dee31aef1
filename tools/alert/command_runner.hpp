#pragma once

// Runs the command of an exec channel: no shell, the input on its stdin, extra
// variables in its environment, and a time limit after which it and every
// process in its process group are killed.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nasops/error.hpp"
#include "nasops/units.hpp"

namespace nasops::alert {

struct CommandOutcome {
    int exit_code = -1;  // as a shell reports it: 128 + signal when killed; -1 when timed out
    bool timed_out = false;
    std::string output;  // stdout and stderr together, at most k_max_command_output bytes
};

inline constexpr std::size_t k_max_command_output = 64 * 1024;

using EnvVars = std::vector<std::pair<std::string, std::string>>;

class CommandRunner {
public:
    virtual ~CommandRunner() = default;
    // Errors only when the command cannot be started (ExitCode::unavailable,
    // naming it); a command that runs and fails is an outcome.
    virtual Result<CommandOutcome> run(const std::vector<std::string>& argv, const EnvVars& env,
                                       std::string_view input, Duration timeout) = 0;
};

// posix_spawnp in a process group of its own.
class SpawnCommandRunner final : public CommandRunner {
public:
    Result<CommandOutcome> run(const std::vector<std::string>& argv, const EnvVars& env, std::string_view input,
                               Duration timeout) override;
};

}  // namespace nasops::alert
