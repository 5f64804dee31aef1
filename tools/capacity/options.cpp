#include "options.hpp"

#include <fmt/format.h>

#include <array>
#include <utility>

#include "nasops/core/settings.hpp"
#include "nasops/obs/textfile.hpp"

namespace nasops::capacity {

Result<Settings> resolve_settings(const CliOptions& cli, const Config& config, Subcommand subcommand) {
    static constexpr std::array k_formats{OutputFormat::text, OutputFormat::json, OutputFormat::prom};
    const auto& section = config.section("capacity");
    Settings s;
    TRY_ASSIGN(const auto common, resolve_common(cli.common, k_formats));
    if (common.format == OutputFormat::prom && subcommand != Subcommand::forecast)
        return std::unexpected(option_error("--format prom", "offered by forecast only"));
    s.format = common.format;
    s.quiet = common.quiet;
    s.verbose = common.verbose;
    s.dry_run = cli.dry_run;
    s.from_stdin = cli.from_stdin;
    s.nas = !cli.no_nas;
    for (const auto& t : list_setting(cli.targets, section, "targets")) s.extra_targets.push_back(absolute_from_cwd(t));

    TRY_ASSIGN(const auto window, duration_setting(cli.window, "--window", section, "window"));
    if (window < std::chrono::hours(1))
        return std::unexpected(cli.window ? option_error("--window", "must be at least 1h")
                                          : section.error_at("window", "must be at least 1h"));
    s.forecast.window = std::chrono::duration_cast<std::chrono::seconds>(window);
    if (subcommand == Subcommand::transfers) {
        TRY_ASSIGN(s.transfer_days, int_setting(cli.days, "--days", section, "horizon_days", 1, 3650));
        if (!cli.days) s.transfer_days = 7;
    } else {
        TRY_ASSIGN(const auto days, int_setting(cli.days, "--days", section, "horizon_days", 1, 3650));
        s.forecast.horizon_days = static_cast<int>(days);
    }
    // 0 would make every drop a cleanup, and "days until 0%" no forecast at all.
    for (const auto& [key, ratio] : {std::pair{"reset_drop_ratio", &s.forecast.reset_drop_ratio},
                                     std::pair{"warning_ratio", &s.forecast.warning_ratio},
                                     std::pair{"critical_ratio", &s.forecast.critical_ratio}}) {
        *ratio = section.get_ratio(key);
        if (*ratio == 0) return std::unexpected(section.error_at(key, "must be more than 0"));
    }
    if (s.forecast.critical_ratio < s.forecast.warning_ratio)
        return std::unexpected(section.error_at("critical_ratio", "is below warning_ratio"));
    s.retention = section.get_duration("retention");
    if (s.retention < std::chrono::hours(24 * 30))
        return std::unexpected(section.error_at("retention", "must be at least 30d (hourly samples are kept 30 days)"));

    if (subcommand == Subcommand::forecast) s.textfile_dir = textfile_dir_setting(cli.textfile_dir, config, "capacity");
    if (cli.svg) s.svg = absolute_from_cwd(*cli.svg);
    if (cli.html) s.html = absolute_from_cwd(*cli.html);
    s.target = cli.target;
    TRY_ASSIGN(s.since, typed_duration(cli.since, "--since"));
    return s;
}

}  // namespace nasops::capacity
