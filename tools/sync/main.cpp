// nasops-sync: argument parsing and dispatch only.

#include <array>

#include "nasops/cli.hpp"

namespace {

constexpr nasops::ToolInfo k_tool{
    .name = "sync",
    .description = "Scan local media folders, queue files in SQLite, upload them to the NAS over SFTP, verify.",
    .examples = R"(  nasops-sync run --quiet                 # the cron job: scan, upload, verify
  nasops-sync status --format json        # queue counts and throughput, for nasops-alert
  nasops-sync ls --state failed           # what did not make it
  nasops-sync retry --all-failed          # requeue every failed file
)",
};

constexpr std::array k_formats{nasops::OutputFormat::text, nasops::OutputFormat::json};

}  // namespace

int main(int argc, char** argv) {
    auto app = nasops::make_app(k_tool);
    nasops::CommonOptions common;
    nasops::add_common_options(*app, common, k_formats);
    app->require_subcommand(1);
    app->fallthrough();

    struct Subcommand {
        const char* name;
        const char* help;
    };
    constexpr std::array k_subcommands{
        Subcommand{"run", "Scan the sources and upload pending files"},
        Subcommand{"status", "Counts by state, bytes pending, throughput, last success"},
        Subcommand{"ls", "List files known to the queue"},
        Subcommand{"retry", "Requeue failed files"},
        Subcommand{"verify", "Re-check completed files on the NAS"},
    };
    for (const auto& sub : k_subcommands) {
        app->add_subcommand(sub.name, sub.help);
    }

    return nasops::run_tool(k_tool, *app, argc, argv, [&]() -> nasops::Result<nasops::ExitCode> {
        auto format = common.output_format(k_formats);
        if (!format) return std::unexpected(format.error());
        const auto* chosen = app->get_subcommands().front();
        return std::unexpected(nasops::not_implemented(k_tool, chosen->get_name(), 3));
    });
}
