// nasops-trace: argument parsing and dispatch only.

#include <array>
#include <string>
#include <vector>

#include "nasops/core/cli.hpp"

namespace {

constexpr nasops::ToolInfo k_tool{
    .name = "trace",
    .description =
        "Wrap commands in trace spans, propagate context, summarise traces, analyse logs, "
        "export to OpenTelemetry.",
    .examples = R"(  nasops-trace exec --name dbmaint -- nasops-dbmaint daily   # run a command in a span
  nasops-trace summary                             # recent traces: durations and failures
  nasops-trace logs --format json                  # errors and warnings found in the logs
  nasops-trace export                              # send recorded spans to the OTLP endpoint
)",
};

constexpr std::array k_formats{nasops::OutputFormat::text, nasops::OutputFormat::json};

constexpr std::array k_subcommands{
    nasops::SubcommandInfo{"exec", "Run a command inside a span; exits with the command's status"},
    nasops::SubcommandInfo{"summary", "Summarise recorded traces: spans, durations, failures"},
    nasops::SubcommandInfo{"logs", "Analyse the tools' logs: errors, warnings, slow operations"},
    nasops::SubcommandInfo{"export", "Send recorded spans to an OpenTelemetry collector (OTLP/HTTP)"},
};

struct Options {
    nasops::CommonOptions common;
    std::string span_name;             // exec --name; empty: the command's file name
    std::vector<std::string> command;  // exec -- COMMAND [ARG...]
};

}  // namespace

int main(int argc, char** argv) {
    auto app = nasops::make_app(k_tool);
    Options opts;
    nasops::add_common_options(*app, opts.common, k_formats);
    app->require_subcommand(1);
    nasops::add_subcommands(*app, k_subcommands);
    auto* exec = app->get_subcommand("exec");
    exec->add_option("--name", opts.span_name, "Span name (default: the command's file name)")->type_name("NAME");
    exec->add_option("COMMAND", opts.command, "The command to run and its arguments (after --)")->required();
    exec->positionals_at_end();  // everything after COMMAND is its own: "exec ls -la" runs "ls -la"

    return nasops::run_tool(k_tool, *app, argc, argv, [&]() -> nasops::Result<nasops::ExitCode> {
        TRY(opts.common.output_format(k_formats));
        return std::unexpected(nasops::not_implemented(k_tool, nasops::chosen_subcommand(*app)));
    });
}
