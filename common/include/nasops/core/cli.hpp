#pragma once

// What every tool's main.cpp shares: the common options of DESIGN.md, the
// version flag, help with examples, and the single place where an Error
// becomes "nasops-<tool>: error: <what>: <why>" and an exit code.

#include <CLI/CLI.hpp>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/core/output.hpp"

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

// One subcommand, declared once in a table: its name, the one line --help shows
// for it, and the subcommands nested under it (one of which is then required,
// as in "nasops-alert silence add").
struct SubcommandInfo {
    std::string_view name;
    std::string_view help;
    std::span<const SubcommandInfo> children = {};
};

// Adds --config, --format, --json, --quiet and --verbose to `app`.
void add_common_options(CLI::App& app, CommonOptions& opts, std::span<const OutputFormat> formats);
// The app of a tool that requires one subcommand: make_app, the common
// options and the subcommand table.
std::unique_ptr<CLI::App> make_app(const ToolInfo& tool, CommonOptions& opts, std::span<const OutputFormat> formats,
                                   std::span<const SubcommandInfo> subcommands);

// Adds --dry-run, for the subcommands that change something.
void add_dry_run_option(CLI::App& app, bool& dry_run);

// Adds `subcommands` to `app`, recursively. Each one falls through to its
// parent, so "nasops-sync run --quiet" takes the common options after the name,
// and its --help says so above the tool's examples.
void add_subcommands(CLI::App& app, std::span<const SubcommandInfo> subcommands);

// The subcommands chosen on the command line under `app`, joined by spaces
// ("silence add"); empty when none was (the tool's default action).
std::string chosen_subcommand(const CLI::App& app);

// Clears the default CLI11 would print for every option taking a value, in
// `app` and its subcommands: for options whose real default comes from the
// configuration, the placeholder value must not read as the default.
void hide_placeholder_defaults(CLI::App& app);

// One subcommand's name, as chosen_subcommand returns it, and the value the
// tool dispatches on.
template <class E>
struct Choice {
    std::string_view name;
    E value;
};

// The value of the chosen subcommand in `choices` (a name "" stands for no
// subcommand); ExitCode::software when the table misses it.
template <class E>
Result<E> chosen_of(const CLI::App& app, std::initializer_list<Choice<E>> choices) {
    const std::string chosen = chosen_subcommand(app);
    for (const auto& choice : choices)
        if (choice.name == chosen) return choice.value;
    return std::unexpected(Error{"no action for subcommand '" + chosen + "'", ExitCode::software});
}

// A value that CLI11 fills, read back as std::optional: nullopt unless one of
// its options was given on the command line. Several subcommands may each add
// their own option for the same value (`add` each), as CliOptions fields want.
template <class T>
struct CliOptional {
    T value{};
    std::vector<CLI::Option*> options;
    void add(CLI::Option* option) { options.push_back(option); }
    std::optional<T> get() const {
        for (const auto* option : options)
            if (option->count() > 0) return value;
        return std::nullopt;
    }
};

// Parses argv into `app`, then runs `dispatch`. Usage errors print CLI11's
// message and the usage hint and return tool.usage_error; an Error (returned or
// thrown as Fatal) and any exception are printed once on stderr as
// "nasops-<tool>: error: ...". Returns the process exit code.
int run_tool(const ToolInfo& tool, CLI::App& app, int argc, char** argv,
             const std::function<Result<ExitCode>()>& dispatch);

}  // namespace nasops
