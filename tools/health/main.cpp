// nasops-health: argument parsing and dispatch only.

#include <array>
#include <string>
#include <vector>

#include "nasops/cli.hpp"

namespace {

constexpr nasops::ToolInfo k_tool{
    .name = "health",
    .description = "Run health checks and report each one as OK, WARNING, CRITICAL or UNKNOWN; exit with the worst.",
    .examples = R"(  nasops-health                           # every check the config enables
  nasops-health disk nas-disk             # only these checks
  nasops-health --format json | nasops-alert
  nasops-health tls --format nagios       # one line, monitoring-plugins style
  nasops-health --format prom             # Prometheus text, for the textfile collector
)",
    // monitoring-plugins convention: what could not be checked is UNKNOWN.
    .usage_error = nasops::ExitCode::unknown,
    .config_error = nasops::ExitCode::unknown,
};
constexpr int k_issue = 4;

constexpr std::array k_formats{nasops::OutputFormat::text, nasops::OutputFormat::json, nasops::OutputFormat::nagios,
                               nasops::OutputFormat::prom};

struct Options {
    nasops::CommonOptions common;
    std::vector<std::string> checks;  // empty: every check the config enables
};

}  // namespace

int main(int argc, char** argv) {
    auto app = nasops::make_app(k_tool);
    Options opts;
    nasops::add_common_options(*app, opts.common, k_formats);
    app->add_option("CHECK", opts.checks, "Checks to run (default: every check the config enables)")
        ->check(CLI::IsMember({"disk", "nas-disk", "memory", "cpu", "load", "fds", "process", "service", "db", "logs",
                               "ssh", "http", "tls", "transfer"}))
        ->type_name("NAME")
        ->default_str("");

    return nasops::run_tool(k_tool, *app, argc, argv, [&]() -> nasops::Result<nasops::ExitCode> {
        auto format = opts.common.output_format(k_formats);
        if (!format) return std::unexpected(format.error());
        return std::unexpected(nasops::not_implemented(k_tool, "", k_issue));
    });
}
