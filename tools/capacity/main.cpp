// nasops-capacity: argument parsing and dispatch only.

#include <array>
#include <csignal>

#include "commands.hpp"
#include "nasops/core/cli.hpp"
#include "nasops/obs/textfile.hpp"
#include "nasops/util/clock.hpp"

namespace {

constexpr nasops::ToolInfo k_tool{
    .name = "capacity",
    .description = "Record storage usage samples, forecast growth and days until full, predict transfer load.",
    .examples = R"(  nasops-capacity record                           # the hourly cron job: one sample per volume
  nasops-health --format json | nasops-capacity record --from-stdin   # samples from health's disk checks
  nasops-capacity forecast                         # growth, days until 80%/90%/full, cleanup needed
  nasops-capacity forecast --format json | nasops-alert
  nasops-capacity forecast --textfile-dir /var/lib/prometheus/node-exporter --quiet
  nasops-capacity show --target /srv/media --since 2d   # the samples behind a forecast
  nasops-capacity report --svg capacity.svg --html capacity.html   # the Monday-morning report
  nasops-capacity transfers --days 7               # upload load next week and the --jobs it needs
)",
};

constexpr std::array k_formats{nasops::OutputFormat::text, nasops::OutputFormat::json, nasops::OutputFormat::prom};

constexpr std::array k_subcommands{
    nasops::SubcommandInfo{"record", "Sample the usage of the local and NAS volumes and store it"},
    nasops::SubcommandInfo{"forecast", "Forecast growth, days until 80%, 90% and full, and the cleanup needed"},
    nasops::SubcommandInfo{"show", "Show recorded samples"},
    nasops::SubcommandInfo{"report", "A table with sparklines per target; --svg and --html charts"},
    nasops::SubcommandInfo{"transfers", "Forecast the daily upload load and the --jobs nasops-sync needs"},
};

struct Parsed {
    nasops::capacity::CliOptions cli;
    nasops::CliOptional<std::string> window, textfile_dir, target, since, svg, html;
    nasops::CliOptional<std::int64_t> days;
};

void add_target_option(CLI::App& sub, Parsed& p) {
    p.target.add(sub.add_option("--target", p.target.value, "Only this target (as show lists it)")->type_name("NAME"));
}

void add_forecast_options(CLI::App& sub, Parsed& p) {
    p.window.add(
        sub.add_option("--window", p.window.value, "Fit the samples of this long before the last (default 30d)")
            ->type_name("DURATION"));
    p.days.add(
        sub.add_option("--days", p.days.value, "Predict the usage this many days ahead (default 30)")->type_name("N"));
    add_target_option(sub, p);
}

}  // namespace

int main(int argc, char** argv) {
    Parsed p;
    auto& cli = p.cli;
    auto app = nasops::make_app(k_tool, cli.common, k_formats, k_subcommands);

    auto* record = app->get_subcommand("record");
    nasops::add_dry_run_option(*record, cli.dry_run);
    record->add_flag("--from-stdin", cli.from_stdin,
                     "Take the samples from nasops-health's disk and nas_disk check records on stdin");
    record
        ->add_option("--target", cli.targets,
                     "Also sample the file system of PATH (repeatable; default: [capacity] targets)")
        ->type_name("PATH")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    record->add_flag("--no-nas", cli.no_nas, "Do not sample the NAS share of [nas]");

    auto* forecast = app->get_subcommand("forecast");
    add_forecast_options(*forecast, p);
    p.textfile_dir.add(nasops::add_textfile_dir_option(*forecast, p.textfile_dir.value, "capacity"));

    auto* show = app->get_subcommand("show");
    add_target_option(*show, p);
    p.since.add(show->add_option("--since", p.since.value, "Only samples this recent, e.g. 2d")->type_name("DURATION"));

    auto* report = app->get_subcommand("report");
    add_forecast_options(*report, p);
    p.svg.add(
        report->add_option("--svg", p.svg.value, "Write the chart, one panel per target, to FILE")->type_name("FILE"));
    p.html.add(report->add_option("--html", p.html.value, "Write the table and the charts as one HTML page to FILE")
                   ->type_name("FILE"));

    auto* transfers = app->get_subcommand("transfers");
    p.window.add(transfers->add_option("--window", p.window.value, "Read this much of the upload history (default 30d)")
                     ->type_name("DURATION"));
    p.days.add(transfers->add_option("--days", p.days.value, "Predict the daily load this many days ahead (default 7)")
                   ->type_name("N"));

    nasops::hide_placeholder_defaults(*app);

    return nasops::run_tool(k_tool, *app, argc, argv, [&]() -> nasops::Result<nasops::ExitCode> {
        cli.window = p.window.get();
        cli.days = p.days.get();
        cli.textfile_dir = p.textfile_dir.get();
        cli.target = p.target.get();
        cli.since = p.since.get();
        cli.svg = p.svg.get();
        cli.html = p.html.get();
        TRY(cli.common.output_format(k_formats));
        using nasops::capacity::Subcommand;
        TRY_ASSIGN(const Subcommand subcommand,
                   nasops::chosen_of<Subcommand>(*app, {{"record", Subcommand::record},
                                                        {"forecast", Subcommand::forecast},
                                                        {"report", Subcommand::report},
                                                        {"transfers", Subcommand::transfers},
                                                        {"show", Subcommand::show}}));
        ::signal(SIGPIPE, SIG_IGN);
        const nasops::SystemClock clock;
        return nasops::capacity::execute(subcommand, cli, nasops::capacity::CommandEnv{.clock = clock});
    });
}
