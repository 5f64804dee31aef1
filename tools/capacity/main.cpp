// nasops-capacity: argument parsing and dispatch only.

#include <array>

#include "nasops/core/cli.hpp"

namespace {

constexpr nasops::ToolInfo k_tool{
    .name = "capacity",
    .description = "Record storage usage samples, forecast growth and days until full, predict transfer load.",
    .examples = R"(  nasops-capacity record                           # the hourly cron job: one sample per volume
  nasops-capacity forecast --format json | nasops-alert
  nasops-capacity show                             # recent samples and growth per volume
)",
};

constexpr std::array k_formats{nasops::OutputFormat::text, nasops::OutputFormat::json};

constexpr std::array k_subcommands{
    nasops::SubcommandInfo{"record", "Sample the usage of the local and NAS volumes and store it"},
    nasops::SubcommandInfo{"forecast", "Forecast growth, days until full and transfer load"},
    nasops::SubcommandInfo{"show", "Show recorded samples"},
};

struct Options {
    nasops::CommonOptions common;
};

}  // namespace

int main(int argc, char** argv) {
    auto app = nasops::make_app(k_tool);
    Options opts;
    nasops::add_common_options(*app, opts.common, k_formats);
    app->require_subcommand(1);
    nasops::add_subcommands(*app, k_subcommands);

    return nasops::run_tool(k_tool, *app, argc, argv, [&]() -> nasops::Result<nasops::ExitCode> {
        TRY(opts.common.output_format(k_formats));
        return std::unexpected(nasops::not_implemented(k_tool, nasops::chosen_subcommand(*app)));
    });
}
