#include "nasops/core/cli.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <exception>

#include "nasops/version.hpp"

namespace nasops {

Result<OutputFormat> CommonOptions::output_format(std::span<const OutputFormat> offered) const {
    if (json) {
        return parse_output_format("json", offered);
    }
    return parse_output_format(format, offered);
}

std::unique_ptr<CLI::App> make_app(const ToolInfo& tool) {
    auto app = std::make_unique<CLI::App>(std::string(tool.description), fmt::format("nasops-{}", tool.name));
    app->set_version_flag("-V,--version", fmt::format("nasops-{} {}", tool.name, k_version),
                          "Print the version and exit");
    app->footer(fmt::format("\nEXAMPLES:\n{}\nSee nasops-{}(1) for details.", tool.examples, tool.name));
    app->option_defaults()->always_capture_default();
    return app;
}

void add_common_options(CLI::App& app, CommonOptions& opts, std::span<const OutputFormat> formats) {
    std::string names;
    for (auto f : formats) {
        names += names.empty() ? "" : "|";
        names += format_name(f);
    }
    app.add_option("--config", opts.config_path, "Config file (default: $NASOPS_CONFIG, then /etc/nasops/nasops.toml)")
        ->type_name("FILE");
    app.add_option("--format", opts.format, fmt::format("Output format: {}", names))->type_name("FORMAT");
    app.add_flag("--json", opts.json, "Short for --format json");
    app.add_flag("-q,--quiet", opts.quiet, "No progress or colour; errors only on stderr");
    app.add_flag("-v,--verbose", opts.verbose, "More detail on stderr (repeat for debug)");
}

void add_dry_run_option(CLI::App& app, bool& dry_run) {
    app.add_flag("-n,--dry-run", dry_run, "Show what would be done, change nothing");
}

namespace {
void print_error(const ToolInfo& tool, std::string_view message) {
    std::fprintf(stderr, "nasops-%.*s: error: %.*s\n", static_cast<int>(tool.name.size()), tool.name.data(),
                 static_cast<int>(message.size()), message.data());
}
}  // namespace

int run_tool(const ToolInfo& tool, CLI::App& app, int argc, char** argv,
             const std::function<Result<ExitCode>()>& dispatch) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        print_error(tool, e.what());
        std::fprintf(stderr, "Run 'nasops-%.*s --help' for usage.\n", static_cast<int>(tool.name.size()),
                     tool.name.data());
        return to_int(tool.usage_error);
    }
    try {
        auto result = dispatch();
        if (result) {
            return to_int(*result);
        }
        print_error(tool, result.error().message);
        auto code = result.error().code;
        if (code == ExitCode::usage) code = tool.usage_error;
        if (code == ExitCode::config) code = tool.config_error;
        return to_int(code);
    } catch (const Fatal& fatal) {
        print_error(tool, fatal.error.message);
        return to_int(fatal.error.code);
    } catch (const std::exception& e) {
        print_error(tool, e.what());
        return to_int(ExitCode::software);
    }
}

void add_subcommands(CLI::App& app, std::span<const SubcommandInfo> subcommands) {
    const CLI::App* root = &app;
    while (root->get_parent() != nullptr) root = root->get_parent();
    for (const auto& info : subcommands) {
        auto* sub = app.add_subcommand(std::string(info.name), std::string(info.help));
        sub->fallthrough();
        sub->footer(fmt::format("\nThe options of '{} --help' may also follow the subcommand.\n{}", root->get_name(),
                                root->get_footer()));
        if (!info.children.empty()) {
            sub->require_subcommand(1);
            add_subcommands(*sub, info.children);
        }
    }
}

std::string chosen_subcommand(const CLI::App& app) {
    std::string path;
    for (const auto* level = &app; !level->get_subcommands().empty();) {
        level = level->get_subcommands().front();
        path += path.empty() ? "" : " ";
        path += level->get_name();
    }
    return path;
}

std::unique_ptr<CLI::App> make_app(const ToolInfo& tool, CommonOptions& opts, std::span<const OutputFormat> formats,
                                   std::span<const SubcommandInfo> subcommands) {
    auto app = make_app(tool);
    add_common_options(*app, opts, formats);
    app->require_subcommand(1);
    add_subcommands(*app, subcommands);
    return app;
}

void hide_placeholder_defaults(CLI::App& app) {
    for (auto* option : app.get_options()) {
        if (option->get_expected_min() > 0) option->default_str("");
    }
    for (auto* sub : app.get_subcommands({})) hide_placeholder_defaults(*sub);
}

}  // namespace nasops
