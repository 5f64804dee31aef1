// nasops-health: argument parsing and dispatch only.

#include <array>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "health/health.hpp"
#include "health/thresholds.hpp"
#include "nasops/core/cli.hpp"
#include "nasops/core/log.hpp"
#include "nasops/core/settings.hpp"
#include "nasops/obs/textfile.hpp"

namespace {

constexpr nasops::ToolInfo k_tool{
    .name = "health",
    .description = "Run health checks and report each one as OK, WARNING, CRITICAL or UNKNOWN; exit with the worst.",
    .examples = R"(  nasops-health                           # every check the config enables
  nasops-health disk nas_disk             # only these checks
  nasops-health --format json | nasops-alert
  nasops-health tls --format nagios       # one line, monitoring-plugins style
  nasops-health disk -w 85 -c 95          # thresholds of one check, in its unit (% used)
  nasops-health disk -w 20% -c 10%        # check_disk's form: warn below 20% free
  nasops-health nas_disk -w 50G -c 10G    # warn below 50 GiB free on the NAS
  nasops-health http -t 5:critical        # a check still waiting after 5 s is CRITICAL
  nasops-health --format prom             # Prometheus text, for the textfile collector
  nasops-health --no-cpu --textfile-dir /var/lib/prometheus/node-exporter
)",
    // monitoring-plugins convention: what could not be checked is UNKNOWN.
    .usage_error = nasops::ExitCode::unknown,
    .config_error = nasops::ExitCode::unknown,
};

constexpr std::array k_formats{nasops::OutputFormat::text, nasops::OutputFormat::json, nasops::OutputFormat::nagios,
                               nasops::OutputFormat::prom};

struct Parsed {
    nasops::CommonOptions common;
    std::vector<std::string> checks;
    std::string warn;
    std::string crit;
    std::optional<std::string> timeout;
    std::optional<std::string> cpu_sample;
    bool used = false;
    bool no_cpu = false;
    std::string textfile_dir;
};

}  // namespace

int main(int argc, char** argv) {
    auto app = nasops::make_app(k_tool);
    Parsed parsed;
    nasops::add_common_options(*app, parsed.common, k_formats);
    std::vector<std::string> names(nasops::health::check_names().begin(), nasops::health::check_names().end());
    app->add_option("CHECK", parsed.checks, "Checks to run (default: every check the config enables)")
        ->transform([](const std::string& name) { return nasops::health::canonical_check_name(name); }, "", "")
        ->check(CLI::IsMember(names))
        ->type_name("NAME")
        ->default_str("");
    app->add_option("-w,--warning", parsed.warn,
                    "Warning range of the one check named, monitoring-plugins syntax (10, 10:, ~:10, 10:20, @10:20)")
        ->type_name("RANGE");
    app->add_option("-c,--critical", parsed.crit, "Critical range of the one check named")->type_name("RANGE");
    app->add_flag("--used", parsed.used,
                  "For disk and nas_disk, N% in -w/-c is used space (default: free space, as check_disk)");
    app->add_option("-t,--timeout", parsed.timeout,
                    "Time allowed to the whole run (default: [health] timeout, 10s); with :STATE, the state of a "
                    "check that runs out of it (ok, warning, critical, unknown or 0-3; default unknown)")
        ->type_name("DURATION[:STATE]");
    app->add_option("--cpu-sample", parsed.cpu_sample, "How long the cpu check samples (default 1s)")
        ->type_name("DURATION");
    app->add_flag("--no-cpu", parsed.no_cpu, "Skip the cpu check and its sample");
    auto* textfile_dir = nasops::add_textfile_dir_option(*app, parsed.textfile_dir, "health");

    bool exit_now = false;
    const int code = nasops::run_tool(k_tool, *app, argc, argv, [&]() -> nasops::Result<nasops::ExitCode> {
        TRY_ASSIGN(auto format, parsed.common.output_format(k_formats));
        TRY_ASSIGN(const auto timeout, nasops::health::parse_timeout_option(parsed.timeout));
        TRY_ASSIGN(auto cpu_sample, nasops::typed_duration(parsed.cpu_sample, "--cpu-sample"));

        nasops::LogOptions log{
            .tool = "health",
            .stderr_level = nasops::LogOptions::stderr_level_for(parsed.common.quiet, parsed.common.verbose),
            .colour = nasops::colour_enabled(stderr, nasops::Quiet{parsed.common.quiet})};
        (void)nasops::logger().configure(log);

        const nasops::health::Options options{
            .checks = parsed.checks,
            .format = format,
            .config_path = parsed.common.config_path,
            .quiet = parsed.common.quiet,
            .warn = app->count("--warning") > 0 ? std::optional(parsed.warn) : std::nullopt,
            .crit = app->count("--critical") > 0 ? std::optional(parsed.crit) : std::nullopt,
            .percent_of = parsed.used ? nasops::health::PercentOf::used : nasops::health::PercentOf::free,
            .timeout = timeout.limit,
            .timeout_status = timeout.state,
            .cpu_sample = cpu_sample,
            .no_cpu = parsed.no_cpu,
            .textfile_dir = textfile_dir->count() > 0 ? std::optional(parsed.textfile_dir) : std::nullopt,
        };
        nasops::health::Deps deps;
        deps.out_is_tty_colour = nasops::colour_enabled(stdout, nasops::Quiet{parsed.common.quiet});
        TRY_ASSIGN(auto outcome, nasops::health::run(options, deps));
        exit_now = outcome.abandoned > 0;
        return outcome.code;
    });
    if (exit_now) {
        // A check is still blocked in a syscall (a dead NFS mount, a silent NAS):
        // leave without running destructors under its feet.
        (void)std::fflush(nullptr);
        std::_Exit(code);
    }
    return code;
}
