// nasops-dbmaint: argument parsing and dispatch only.

#include <array>
#include <string_view>

#include "nasops/core/cli.hpp"

namespace {

constexpr nasops::ToolInfo k_tool{
    .name = "dbmaint",
    .description = "Keep the SQLite database healthy: check, vacuum, analyze, purge, backup, verified restore.",
    .examples =
        R"(  nasops-dbmaint daily                             # the nightly cron job: check, analyze, purge, backup
  nasops-dbmaint daily --dry-run                   # what it would purge and where it would back up
  nasops-dbmaint check --format json               # integrity and foreign-key check
  nasops-dbmaint vacuum                            # reclaim free pages
)",
};

constexpr std::array k_formats{nasops::OutputFormat::text, nasops::OutputFormat::json};

constexpr std::array k_subcommands{
    nasops::SubcommandInfo{"check", "Check integrity and foreign keys"},
    nasops::SubcommandInfo{"vacuum", "Rebuild the database file to reclaim free pages"},
    nasops::SubcommandInfo{"analyze", "Refresh the query planner's statistics"},
    nasops::SubcommandInfo{"purge", "Delete rows older than their retention"},
    nasops::SubcommandInfo{"backup", "Write a consistent copy of the database and verify it"},
    nasops::SubcommandInfo{"restore", "Replace the database with a verified backup"},
    nasops::SubcommandInfo{"daily", "check, analyze, purge and backup, in that order"},
};
// Every subcommand that changes the database or writes a file.
constexpr std::array<std::string_view, 6> k_changing{"vacuum", "analyze", "purge", "backup", "restore", "daily"};

struct Options {
    nasops::CommonOptions common;
    bool dry_run = false;
};

}  // namespace

int main(int argc, char** argv) {
    auto app = nasops::make_app(k_tool);
    Options opts;
    nasops::add_common_options(*app, opts.common, k_formats);
    app->require_subcommand(1);
    nasops::add_subcommands(*app, k_subcommands);
    for (auto name : k_changing) {
        nasops::add_dry_run_option(*app->get_subcommand(std::string(name)), opts.dry_run);
    }

    return nasops::run_tool(k_tool, *app, argc, argv, [&]() -> nasops::Result<nasops::ExitCode> {
        TRY(opts.common.output_format(k_formats));
        return std::unexpected(nasops::not_implemented(k_tool, nasops::chosen_subcommand(*app)));
    });
}
