// nasops-dbmaint: argument parsing and dispatch only.

#include <array>
#include <string_view>
#include <vector>

#include "nasops/core/cli.hpp"
#include "nasops/obs/textfile.hpp"
#include "nasops/util/clock.hpp"
#include "run.hpp"

namespace {

constexpr nasops::ToolInfo k_tool{
    .name = "dbmaint",
    .description = "Keep the SQLite database healthy: check, vacuum, analyze, purge, backup, verified restore.",
    .examples =
        R"(  nasops-dbmaint daily                             # the nightly cron job: check, purge, analyze, checkpoint, backup
  nasops-dbmaint daily --dry-run                   # what it would purge and where it would back up
  nasops-dbmaint daily --format json | nasops-alert  # alert on a failed night
  nasops-dbmaint check --full --format json        # integrity and foreign-key check
  nasops-dbmaint stats                             # size, free pages, WAL, rows per table
  nasops-dbmaint vacuum --force                    # rebuild the file now
  nasops-dbmaint purge --dry-run                   # rows past their retention, per table
  nasops-dbmaint backup --backup-dir /mnt/usb/nasops
  nasops-dbmaint backup --gzip                     # nasops-<time>.db.gz, which gunzip and zcat read
  nasops-dbmaint backup --textfile-dir /var/lib/prometheus/node-exporter
  nasops-dbmaint verify                            # every backup's checksum and integrity
  nasops-dbmaint restore /var/lib/nasops/backups/nasops-20261122T031500Z.db --lock-timeout 2m
)",
};

constexpr std::array k_formats{nasops::OutputFormat::text, nasops::OutputFormat::json};

using nasops::dbmaint::Command;

constexpr std::array k_subcommands{
    nasops::SubcommandInfo{"check", "Check integrity (quick_check; --full: integrity_check and foreign keys)"},
    nasops::SubcommandInfo{"stats", "Size, pages, free pages, WAL and rows per table"},
    nasops::SubcommandInfo{"vacuum", "Rebuild the database file when its free pages pass the threshold"},
    nasops::SubcommandInfo{"analyze", "Refresh the query planner's statistics"},
    nasops::SubcommandInfo{"checkpoint", "Fold the WAL into the database file and truncate it"},
    nasops::SubcommandInfo{"purge", "Delete rows older than their retention, in batches"},
    nasops::SubcommandInfo{"backup", "Write a consistent copy of the database, its SHA-256, and verify it"},
    nasops::SubcommandInfo{"verify", "Check backups' SHA-256 sidecars and integrity"},
    nasops::SubcommandInfo{"restore", "Replace the database with a verified backup"},
    nasops::SubcommandInfo{"daily", "check, purge, analyze, checkpoint, backup (and vacuum when needed)"},
};

constexpr std::array k_commands{Command::check, Command::stats,  Command::vacuum, Command::analyze, Command::checkpoint,
                                Command::purge, Command::backup, Command::verify, Command::restore, Command::daily};

struct Parsed {
    nasops::dbmaint::CliOptions cli;
    nasops::CliOptional<std::string> into, backup_dir, freelist_ratio, lock_timeout, textfile_dir;
    nasops::CliOptional<std::int64_t> keep_last, keep_days, batch;
};

void add_lock_timeout(CLI::App& sub, Parsed& p, std::string_view what) {
    p.lock_timeout.add(
        sub.add_option("--lock-timeout", p.lock_timeout.value, std::string(what))->type_name("DURATION"));
}

void add_backup_options(CLI::App& sub, Parsed& p) {
    p.backup_dir.add(sub.add_option("--backup-dir", p.backup_dir.value,
                                    "Folder of the backups (default: [dbmaint] backup_dir, else <state>/backups)")
                         ->type_name("DIR"));
    p.keep_last.add(
        sub.add_option("--keep-last", p.keep_last.value, "Keep the newest N backups (default 7)")->type_name("N"));
    p.keep_days.add(sub.add_option("--keep-days", p.keep_days.value, "Keep backups younger than N days (default 30)")
                        ->type_name("N"));
    sub.add_flag("--gzip", p.cli.gzip, "Compress the backup with gzip: nasops-<time>.db.gz (default: [dbmaint] gzip)");
}

void add_freelist_ratio(CLI::App& sub, Parsed& p) {
    p.freelist_ratio.add(sub.add_option("--freelist-ratio", p.freelist_ratio.value,
                                        "Vacuum when free pages pass this share, e.g. 0.2 or 20% (default 0.2)")
                             ->type_name("RATIO"));
}

void add_batch(CLI::App& sub, Parsed& p) {
    p.batch.add(sub.add_option("--batch", p.batch.value, "Rows deleted per transaction, at most (default 5000)")
                    ->type_name("N"));
}

}  // namespace

int main(int argc, char** argv) {
    Parsed p;
    auto& cli = p.cli;
    auto app = nasops::make_app(k_tool, cli.common, k_formats, k_subcommands);
    const auto sub = [&](std::string_view name) { return app->get_subcommand(std::string(name)); };
    constexpr std::string_view k_own_lock = "Wait this long for another dbmaint run's lock (default 0s)";

    sub("check")->add_flag("--full", cli.full, "integrity_check and foreign_key_check instead of quick_check");
    p.textfile_dir.add(nasops::add_textfile_dir_option(*sub("check"), p.textfile_dir.value, "dbmaint"));

    auto* vacuum = sub("vacuum");
    nasops::add_dry_run_option(*vacuum, cli.dry_run);
    vacuum->add_flag("--force", cli.force, "Rebuild even when the free pages are under the threshold");
    p.into.add(vacuum->add_option("--into", p.into.value, "Write a compact copy to FILE (VACUUM INTO) instead")
                   ->type_name("FILE"));
    add_freelist_ratio(*vacuum, p);
    add_lock_timeout(*vacuum, p, k_own_lock);

    for (auto name : {"analyze", "checkpoint"}) {
        nasops::add_dry_run_option(*sub(name), cli.dry_run);
        add_lock_timeout(*sub(name), p, k_own_lock);
    }

    auto* purge = sub("purge");
    nasops::add_dry_run_option(*purge, cli.dry_run);
    add_batch(*purge, p);
    add_lock_timeout(*purge, p, k_own_lock);

    auto* backup = sub("backup");
    nasops::add_dry_run_option(*backup, cli.dry_run);
    add_backup_options(*backup, p);
    add_lock_timeout(*backup, p, k_own_lock);
    p.textfile_dir.add(nasops::add_textfile_dir_option(*backup, p.textfile_dir.value, "dbmaint"));

    auto* verify = sub("verify");
    p.backup_dir.add(
        verify
            ->add_option("--backup-dir", p.backup_dir.value, "Folder whose backups are verified when no FILE is given")
            ->type_name("DIR"));
    verify->add_option("FILE", cli.files, "Backups to verify (default: every backup in the backup folder)")
        ->type_name("FILE");

    auto* restore = sub("restore");
    nasops::add_dry_run_option(*restore, cli.dry_run);
    restore->add_option("FILE", cli.files, "The backup to restore")->type_name("FILE")->required()->expected(1);
    add_lock_timeout(*restore, p, "Wait this long for each tool's lock (default 0s: exit 75 when one is held)");

    auto* daily = sub("daily");
    nasops::add_dry_run_option(*daily, cli.dry_run);
    add_backup_options(*daily, p);
    add_freelist_ratio(*daily, p);
    add_batch(*daily, p);
    add_lock_timeout(*daily, p, k_own_lock);
    p.textfile_dir.add(nasops::add_textfile_dir_option(*daily, p.textfile_dir.value, "dbmaint"));

    return nasops::run_tool(k_tool, *app, argc, argv, [&]() -> nasops::Result<nasops::ExitCode> {
        cli.into = p.into.get();
        cli.backup_dir = p.backup_dir.get();
        cli.freelist_ratio = p.freelist_ratio.get();
        cli.lock_timeout = p.lock_timeout.get();
        cli.keep_last = p.keep_last.get();
        cli.keep_days = p.keep_days.get();
        cli.batch = p.batch.get();
        cli.textfile_dir = p.textfile_dir.get();
        const auto chosen = nasops::chosen_subcommand(*app);
        Command command = Command::check;
        for (auto c : k_commands)
            if (nasops::dbmaint::command_name(c) == chosen) command = c;
        const nasops::SystemClock clock;
        return nasops::dbmaint::run(command, cli, nasops::dbmaint::RunEnv{.clock = clock});
    });
}
