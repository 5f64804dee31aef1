// util/command_runner: real commands (/bin/sh, sleep), no shell in between:
// input, environment, exit codes, output, and the time limit.

#include <gtest/gtest.h>

#include "nasops/util/command_runner.hpp"

using namespace nasops;
using namespace std::chrono_literals;

namespace {

CommandOutcome run_sh(const std::string& script, const EnvVars& env = {}, std::string_view input = {},
                      StderrTo stderr_to = StderrTo::output, Duration timeout = 10s) {
    SpawnCommandRunner runner(stderr_to);
    auto outcome = runner.run({"/bin/sh", "-c", script}, env, input, timeout);
    EXPECT_TRUE(outcome) << script << ": " << outcome.error().message;
    return outcome.value_or(CommandOutcome{});
}

}  // namespace

TEST(CommandRunner, ExitCodesAreReportedAsAShellDoes) {
    struct Case {
        std::string script;
        int exit_code;
    };
    const Case cases[] = {
        {"exit 0", 0},
        {"exit 3", 3},
        {"exit 75", 75},
        {"kill -TERM $$", 128 + 15},
    };
    for (const auto& c : cases) {
        const auto outcome = run_sh(c.script);
        EXPECT_EQ(outcome.exit_code, c.exit_code) << c.script;
        EXPECT_FALSE(outcome.timed_out) << c.script;
    }
}

TEST(CommandRunner, TheInputGoesToStdinAndTheOutputIsCaptured) {
    const auto outcome = run_sh("tr a-z A-Z", {}, "disk critical\n");
    EXPECT_EQ(outcome.exit_code, 0);
    EXPECT_EQ(outcome.output, "DISK CRITICAL\n");
}

TEST(CommandRunner, ExtraVariablesAreInTheEnvironment) {
    const auto outcome = run_sh("printf '%s|%s' \"$NASOPS_ALERT_NAME\" \"$NASOPS_CHANNEL\"",
                                {{"NASOPS_ALERT_NAME", "disk full; rm -rf /"}, {"NASOPS_CHANNEL", "restart"}});
    EXPECT_EQ(outcome.output, "disk full; rm -rf /|restart");
}

TEST(CommandRunner, StderrIsCapturedOrDiscarded) {
    EXPECT_EQ(run_sh("echo out; echo err >&2").output, "out\nerr\n");
    EXPECT_EQ(run_sh("echo out; echo err >&2", {}, {}, StderrTo::discard).output, "out\n");
}

TEST(CommandRunner, OutputIsCutAtItsLimit) {
    const auto outcome = run_sh("head -c 200000 /dev/zero | tr '\\0' x");
    EXPECT_EQ(outcome.exit_code, 0);
    EXPECT_EQ(outcome.output.size(), k_max_command_output);
}

TEST(CommandRunner, ACommandOverItsTimeIsKilledWithItsChildren) {
    // The child sleeps in the background of the shell: both belong to the group that is killed.
    const auto outcome = run_sh("sleep 30 & sleep 30; echo never", {}, {}, StderrTo::output, 300ms);
    EXPECT_TRUE(outcome.timed_out);
    EXPECT_EQ(outcome.exit_code, -1);
    EXPECT_EQ(outcome.output.find("never"), std::string::npos);
}

TEST(CommandRunner, ACommandThatCannotStartIsUnavailableNamingIt) {
    SpawnCommandRunner runner;
    const auto outcome = runner.run({"/nonexistent/nasops-hook"}, {}, {}, 10s);
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().code, ExitCode::unavailable);
    EXPECT_NE(outcome.error().message.find("/nonexistent/nasops-hook"), std::string::npos) << outcome.error().message;
}
