#include "options.hpp"

#include <fmt/format.h>

#include <array>

#include "nasops/core/settings.hpp"
#include "nasops/obs/textfile.hpp"

namespace nasops::dbmaint {

namespace {

constexpr std::array k_formats{OutputFormat::text, OutputFormat::json};

constexpr std::array k_command_names{
    std::pair{Command::check, "check"},           std::pair{Command::stats, "stats"},
    std::pair{Command::vacuum, "vacuum"},         std::pair{Command::analyze, "analyze"},
    std::pair{Command::checkpoint, "checkpoint"}, std::pair{Command::purge, "purge"},
    std::pair{Command::backup, "backup"},         std::pair{Command::verify, "verify"},
    std::pair{Command::restore, "restore"},       std::pair{Command::daily, "daily"},
};

}  // namespace

std::string_view command_name(Command command) noexcept {
    for (const auto& [c, name] : k_command_names)
        if (c == command) return name;
    return "check";
}

Result<Settings> resolve_settings(const CliOptions& cli, const Config& config, const Paths& paths) {
    const auto& section = config.section("dbmaint");
    Settings s;
    TRY_ASSIGN(const auto common, resolve_common(cli.common, k_formats));
    s.format = common.format;
    s.quiet = common.quiet;
    s.verbose = common.verbose;
    s.dry_run = cli.dry_run;
    s.depth = cli.full ? CheckDepth::full : CheckDepth::quick;
    s.force = cli.force ? Force::yes : Force::no;
    if (cli.into) {
        if (cli.into->empty()) return std::unexpected(option_error("--into", "needs a file name"));
        s.into = absolute_from_cwd(*cli.into);
    }
    s.database = database_path(paths);
    s.state_dir = paths.state_dir;
    if (cli.backup_dir) {
        if (cli.backup_dir->empty()) return std::unexpected(option_error("--backup-dir", "needs a folder"));
        s.backup_dir = absolute_from_cwd(*cli.backup_dir);
    } else {
        s.backup_dir = section.get_path("backup_dir");
        if (s.backup_dir.empty()) s.backup_dir = paths.state_dir / "backups";
    }
    TRY_ASSIGN(const auto keep_last, int_setting(cli.keep_last, "--keep-last", section, "keep_last", 1, 10000));
    s.keep_last = static_cast<int>(keep_last);
    TRY_ASSIGN(const auto keep_days, int_setting(cli.keep_days, "--keep-days", section, "keep_days", 0, 36500));
    s.keep_days = static_cast<int>(keep_days);
    s.compression = cli.gzip || section.get_bool("gzip") ? Compression::gzip : Compression::none;
    TRY_ASSIGN(const auto batch, int_setting(cli.batch, "--batch", section, "purge_batch", 1, 1000000));
    s.batch = static_cast<int>(batch);
    TRY_ASSIGN(s.freelist_ratio,
               ratio_setting(cli.freelist_ratio, "--freelist-ratio", section, "vacuum_freelist_ratio"));
    TRY_ASSIGN(s.lock_timeout, duration_setting(cli.lock_timeout, "--lock-timeout", section, "lock_timeout"));
    for (const auto& [table, text] : section.get_string_map("retention")) {
        auto d = parse_duration(text);
        if (!d) return std::unexpected(section.error_at("retention", fmt::format("{}: {}", table, d.error().message)));
        if (d->count() <= 0)
            return std::unexpected(section.error_at("retention", fmt::format("{}: must be more than 0", table)));
        s.retention.emplace(table, *d);
    }
    for (const auto& file : cli.files) s.files.push_back(absolute_from_cwd(file));
    s.textfile_dir = textfile_dir_setting(cli.textfile_dir, config, "dbmaint");
    return s;
}

}  // namespace nasops::dbmaint
