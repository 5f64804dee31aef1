#pragma once

// What every tool's main.cpp shares: the common options of DESIGN.md, the
// version flag, help with examples, and the single place where an Error
// becomes "nasops-<tool>: error: <what>: <why>" and an exit code.

#include <CLI/CLI.hpp>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "nasops/error.hpp"
#include "nasops/output.hpp"

namespace nasops {

struct ToolInfo {
    std::string_view name;         // "sync": the executable is nasops-sync
    std::string_view description;  // one line for --help
    std::string_view examples;     // the EXAMPLES block printed at the end of --help
    // monitoring-plugins tools (health) report bad usage and config as UNKNOWN.
    ExitCode usage_error = ExitCode::usage;
    ExitCode config_error = ExitCode::config;
};

// The options every tool takes, as parsed; the tool turns them into its own
// immutable options struct before running.
struct CommonOptions {
    std::string config_path;  // --config; empty: $NASOPS_CONFIG, /etc/nasops/nasops.toml, defaults
    std::string format = "text";
    bool json = false;  // --json: short for --format json
    bool quiet = false;
    int verbose = 0;  // -v repeated

    // The effective --format, checked against what the tool offers.
    Result<OutputFormat> output_format(std::span<const OutputFormat> offered) const;
};

// An App named nasops-<tool> with --help (examples in the footer) and --version.
std::unique_ptr<CLI::App> make_app(const ToolInfo& tool);

// Adds --config, --format, --json, --quiet and --verbose to `app`.
void add_common_options(CLI::App& app, CommonOptions& opts, std::span<const OutputFormat> formats);
// Adds --dry-run, for the subcommands that change something.
void add_dry_run_option(CLI::App& app, bool& dry_run);

// Parses argv into `app`, then runs `dispatch`. Usage errors print CLI11's
// message and the usage hint and return tool.usage_error; an Error (returned or
// thrown as Fatal) and any exception are printed once on stderr as
// "nasops-<tool>: error: ...". Returns the process exit code.
int run_tool(const ToolInfo& tool, CLI::App& app, int argc, char** argv,
             const std::function<Result<ExitCode>()>& dispatch);

// The honest answer of a subcommand whose behaviour has not been built yet.
Error not_implemented(const ToolInfo& tool, std::string_view subcommand, int issue);

}  // namespace nasops
