#include "run.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <optional>

#include "analyze.hpp"
#include "backup.hpp"
#include "check.hpp"
#include "daily.hpp"
#include "database.hpp"
#include "maint_metrics.hpp"
#include "nasops/core/lock.hpp"
#include "nasops/core/log.hpp"
#include "nasops/core/paths.hpp"
#include "nasops/core/settings.hpp"
#include "nasops/obs/textfile.hpp"
#include "nasops/obs/trace.hpp"
#include "purge.hpp"
#include "restore.hpp"
#include "retention.hpp"
#include "sidecar.hpp"
#include "stats.hpp"
#include "step.hpp"
#include "vacuum.hpp"

namespace nasops::dbmaint {

namespace {

bool changes_something(Command command) {
    switch (command) {
        case Command::check:
        case Command::stats:
        case Command::verify: return false;
        default: return true;
    }
}

// dbmaint's own lock, so that two maintenance runs never overlap.
Result<LockFile> own_lock(const Settings& s) {
    TRY(ensure_dir(s.state_dir));
    TRY_ASSIGN(auto lock, LockFile::acquire(s.state_dir / "dbmaint.lock", s.lock_timeout));
    return lock;
}

// Each backup named, or every one in the backup folder: OK, or CRITICAL with
// what is wrong; UNKNOWN when the folder is there but holds none (they were
// made, then lost).
Result<ExitCode> verify_backups(Reporter& reporter, const Settings& s) {
    std::vector<std::filesystem::path> files = s.files;
    if (files.empty())
        for (const auto& b : list_backups(s.backup_dir)) files.push_back(b.path);
    std::error_code ec;
    if (files.empty() && !std::filesystem::exists(s.backup_dir, ec)) {
        // A fresh host: the first backup makes the folder. Nothing is wrong
        // yet, and the weekly cron line must not mail it; the backup metrics
        // (none, last at 0) are what monitoring watches.
        TRY(reporter.report(StepReport{
            .step = "verify",
            .message = fmt::format("no backup yet: {} does not exist (nasops-dbmaint daily or backup makes the first)",
                                   s.backup_dir.string()),
            .path = s.backup_dir.string()}));
        return ExitCode::ok;
    }
    if (files.empty()) {
        TRY(reporter.report(StepReport{.step = "verify",
                                       .status = ExitCode::unknown,
                                       .message = fmt::format("no backups in {}", s.backup_dir.string()),
                                       .path = s.backup_dir.string()}));
        return ExitCode::unknown;
    }
    ExitCode worst = ExitCode::ok;
    for (const auto& file : files) {
        StepTimer timer;
        StepReport report{.step = "verify", .path = file.string()};
        report.bytes_before = report.bytes_after = file_bytes(file);
        if (auto checked = verify_backup_file(file, CheckDepth::full); checked) {
            report.message = fmt::format("{}: SHA-256 and integrity_check ok", file.string());
            report.details = {{"sha256", *checked}};
        } else {
            report.status = ExitCode::critical;
            report.message = checked.error().message;
        }
        report.duration_ms = timer.elapsed_ms();
        TRY(reporter.report(report));
        worst = worst_state(worst, report.status);
    }
    return worst;
}

// What `dir`/nasops_dbmaint.prom holds now; empty when there is none.
std::string current_textfile(const std::filesystem::path& dir) {
    std::ifstream in(dir / textfile_name("dbmaint"));
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// nasops_dbmaint.prom, when a textfile folder is set and the run checked the
// database or took a backup (a dry run changed nothing worth saying). A run
// that took a backup without a check keeps the last check the file reported.
void publish_metrics(const Reporter& reporter, const Settings& s, SystemTimePoint now) {
    const auto checked = reporter.status_of("check");
    if (!s.textfile_dir || s.dry_run || (!checked && !reporter.status_of("backup"))) return;
    const auto check = checked ? std::optional<CheckOutcome>(CheckOutcome{*checked, now})
                               : published_check(current_textfile(*s.textfile_dir));
    publish_textfile(*s.textfile_dir, "dbmaint", maint_metrics(s, check));
}

// The command; under a trace it starts `trace`, and each step is its child.
Result<ExitCode> run_command(Command command, const CliOptions& cli, const RunEnv& env, CommandSpan& trace) {
    const bool writes = changes_something(command) && !cli.dry_run;
    TRY_ASSIGN(auto tool, start_tool(ToolStart{
                              .tool = "dbmaint", .cli = cli.common, .files = writes ? LogFiles::yes : LogFiles::no}));
    trace.start("dbmaint", tool.paths.log_dir, process_environment(), env.clock);
    TRY_ASSIGN(const auto s, resolve_settings(cli, tool.config, tool.paths));
    Reporter reporter(env.out, s.format, s.quiet, env.clock);
    reporter.trace_under(trace.span());
    std::optional<LockFile> lock;
    if (writes) {
        TRY_ASSIGN(auto held, own_lock(s));
        lock.emplace(std::move(held));
    }
    StepTimer timer;
    switch (command) {
        case Command::check: {
            auto report = check_database(s.database, s.depth);
            TRY(reporter.report(report));
            publish_metrics(reporter, s, env.clock.now());
            return report.status;
        }
        case Command::stats: {
            TRY_ASSIGN(auto report, database_stats(s.database));
            if (reporter.json()) {
                TRY(reporter.report(report));
            } else {
                TRY(reporter.note(report));
                reporter.print_text(stats_table(report));
            }
            return report.status;
        }
        case Command::vacuum:
            return reporter.emit("vacuum",
                                 vacuum_database(s.database, VacuumRequest{.threshold = s.freelist_ratio,
                                                                           .force = s.force,
                                                                           .into = s.into,
                                                                           .dry_run = s.dry_run}),
                                 timer);
        case Command::analyze: return reporter.emit("analyze", analyze_database(s.database, s.dry_run), timer);
        case Command::checkpoint: return reporter.emit("checkpoint", checkpoint_database(s.database, s.dry_run), timer);
        case Command::backup: {
            auto outcome = backup_and_prune(reporter, s, env.clock.now());
            publish_metrics(reporter, s, env.clock.now());
            return outcome;
        }
        case Command::verify: return verify_backups(reporter, s);
        case Command::purge:
            return reporter.emit(
                "purge",
                purge_database(s.database, s.retention,
                               PurgeOptions{.batch = s.batch, .now = env.clock.now(), .dry_run = s.dry_run}),
                timer);
        case Command::daily: {
            auto outcome = run_daily(reporter, s, env.clock.now());
            publish_metrics(reporter, s, env.clock.now());
            return outcome;
        }
        case Command::restore: {
            if (s.files.size() != 1) return fail(ExitCode::usage, "restore: name one backup FILE");
            auto restored = restore_database(RestoreRequest{.backup = s.files.at(0),
                                                            .database = s.database,
                                                            .state_dir = s.state_dir,
                                                            .lock_timeout = s.lock_timeout,
                                                            .now = env.clock.now(),
                                                            .dry_run = s.dry_run});
            if (!restored || reporter.json()) return reporter.emit("restore", std::move(restored), timer);
            TRY(reporter.note(*restored));
            reporter.print_text(restore_table(*restored));
            return restored->status;
        }
    }
    return fail(ExitCode::software, fmt::format("unknown subcommand '{}'", command_name(command)));
}

}  // namespace

Result<ExitCode> run(Command command, const CliOptions& cli, const RunEnv& env) {
    CommandSpan trace(fmt::format("dbmaint {}", command_name(command)));
    auto outcome = run_command(command, cli, env, trace);
    trace.end(outcome);
    return outcome;
}

}  // namespace nasops::dbmaint
