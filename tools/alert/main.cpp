// nasops-alert: argument parsing and dispatch only.

#include <array>

#include "nasops/cli.hpp"

namespace {

constexpr nasops::ToolInfo k_tool{
    .name = "alert",
    .description =
        "Read check and metric records on stdin, evaluate alert rules with durations, notify. "
        "Without a subcommand, reads records from stdin.",
    .examples = R"(  nasops-health --format json | nasops-alert       # the cron job: evaluate and notify
  nasops-capacity forecast --format json | nasops-alert
  nasops-alert ls                                  # alerts firing or pending now
  nasops-alert history --format json               # past transitions
  nasops-alert test                                # send a test notification to every notifier
  nasops-alert silence ls                          # active silences
)",
};
constexpr int k_issue = 5;

constexpr std::array k_formats{nasops::OutputFormat::text, nasops::OutputFormat::json};

constexpr std::array k_silence{
    nasops::SubcommandInfo{"add", "Mute matching alerts for a while"},
    nasops::SubcommandInfo{"ls", "List active silences"},
    nasops::SubcommandInfo{"rm", "Remove a silence before it expires"},
};

constexpr std::array k_subcommands{
    nasops::SubcommandInfo{"ls", "List alerts that are firing or pending"},
    nasops::SubcommandInfo{"history", "Show past alert transitions (fired, resolved)"},
    nasops::SubcommandInfo{"flush", "Send the notifications waiting in the queue now"},
    nasops::SubcommandInfo{"test", "Send a test notification through every configured notifier"},
    nasops::SubcommandInfo{"silence", "Manage silences that mute matching alerts", k_silence},
};

struct Options {
    nasops::CommonOptions common;
};

}  // namespace

int main(int argc, char** argv) {
    auto app = nasops::make_app(k_tool);
    Options opts;
    nasops::add_common_options(*app, opts.common, k_formats);
    app->require_subcommand(-1);  // at most one; none reads records on stdin
    nasops::add_subcommands(*app, k_subcommands);

    return nasops::run_tool(k_tool, *app, argc, argv, [&]() -> nasops::Result<nasops::ExitCode> {
        auto format = opts.common.output_format(k_formats);
        if (!format) return std::unexpected(format.error());
        return std::unexpected(nasops::not_implemented(k_tool, nasops::chosen_subcommand(*app), k_issue));
    });
}
