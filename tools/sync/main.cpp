// nasops-sync: argument parsing and dispatch only.

#include <array>

#include "nasops/cli.hpp"

namespace {

constexpr nasops::ToolInfo k_tool{
    .name = "sync",
    .description = "Scan local media folders, queue files in SQLite, upload them to the NAS over SFTP, verify.",
    .examples = R"(  nasops-sync run --quiet                 # the cron job: scan, upload, verify
  nasops-sync run --dry-run               # what would be queued and uploaded
  nasops-sync status --format json        # queue counts and throughput, for nasops-alert
  nasops-sync ls                          # the files the queue knows
  nasops-sync retry                       # requeue failed files
)",
};
constexpr int k_issue = 3;

constexpr std::array k_formats{nasops::OutputFormat::text, nasops::OutputFormat::json};

constexpr std::array k_subcommands{
    nasops::SubcommandInfo{"run", "Scan the sources and upload pending files"},
    nasops::SubcommandInfo{"status", "Counts by state, bytes pending, throughput, last success"},
    nasops::SubcommandInfo{"ls", "List files known to the queue"},
    nasops::SubcommandInfo{"retry", "Requeue failed files"},
    nasops::SubcommandInfo{"verify", "Re-check completed files on the NAS"},
};

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
    nasops::add_dry_run_option(*app->get_subcommand("run"), opts.dry_run);

    return nasops::run_tool(k_tool, *app, argc, argv, [&]() -> nasops::Result<nasops::ExitCode> {
        auto format = opts.common.output_format(k_formats);
        if (!format) return std::unexpected(format.error());
        return std::unexpected(nasops::not_implemented(k_tool, nasops::chosen_subcommand(*app), k_issue));
    });
}
