// nasops-sync: argument parsing and dispatch only.

#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>

#include "commands.hpp"
#include "nasops/core/cli.hpp"
#include "nasops/obs/textfile.hpp"
#include "nasops/util/clock.hpp"

namespace {

constexpr nasops::ToolInfo k_tool{
    .name = "sync",
    .description = "Scan local media folders, queue files in SQLite, upload them to the NAS over SFTP, verify.",
    .examples = R"(  nasops-sync run --quiet                 # the cron job: scan, upload, verify
  nasops-sync run --dry-run               # what would be queued and uploaded
  nasops-sync run --source /srv/media --target sftp://nas@10.0.0.5/volume1/media --min-age 1m
  nasops-sync status --format json        # queue counts and throughput, for nasops-alert
  nasops-sync ls --state failed           # the files that gave up, with their last error
  nasops-sync retry --all-failed          # requeue failed files
  nasops-sync verify                      # re-check the completed files on the NAS
  nasops-sync hostkey --accept            # the NAS's new host key is expected: acknowledge the change
  nasops-sync run --remove-source --delete-empty-src-dirs   # move, as rclone move: the NAS keeps the only copy
  nasops-sync run --bwlimit "08:00,2M 19:00,off"   # 2 MiB/s from 08:00, no limit from 19:00 (local time)
  nasops-sync doctor                      # files are not arriving: every check from DNS to the log, with fixes
  nasops-sync doctor --format json > ticket.ndjson   # the same, for a support ticket
  nasops-sync why /srv/media/cam1/clip.mp4   # where is this file? seen, waiting, held, failed or completed
  nasops-sync why --json cam1/clip.mp4 cam2/clip.mp4   # paths relative to a source; one record each
)",
};

constexpr std::array k_formats{nasops::OutputFormat::text, nasops::OutputFormat::json};

constexpr std::array k_subcommands{
    nasops::SubcommandInfo{"run", "Scan the sources and upload pending files"},
    nasops::SubcommandInfo{"status", "Counts by state, bytes pending, throughput, last success"},
    nasops::SubcommandInfo{"ls", "List files known to the queue"},
    nasops::SubcommandInfo{"retry", "Requeue failed files"},
    nasops::SubcommandInfo{"verify", "Re-check completed files on the NAS"},
    nasops::SubcommandInfo{"hostkey", "List the NAS host keys runs have seen; acknowledge a changed one"},
    nasops::SubcommandInfo{"doctor", "Check everything a run needs, in order, each finding with its fix"},
    nasops::SubcommandInfo{"why", "The story of each file named: seen or not and why, its state, what comes next"},
};

// The only state the signal handler touches: SIGINT (a terminal's ^C) and
// SIGTERM (systemd, timeout(1), kill) both stop the run cleanly, uploads in
// progress left to resume, and the process then dies of the same signal.
std::atomic<int> g_stop_signal{0};

void on_stop_signal(int signal) {
    g_stop_signal.store(signal);
}

struct Parsed {
    nasops::sync::CliOptions cli;
    nasops::CliOptional<std::string> target, min_age, verify, bwlimit, max_duration, max_bytes, lock_timeout, state,
        textfile_dir;
    nasops::CliOptional<int> jobs, max_retries;
};

void add_target_options(CLI::App& sub, Parsed& p) {
    p.target.add(sub.add_option("--target", p.target.value,
                                "Local folder or sftp://[user@]host[:port]/path (default: [sync] target, then [nas])")
                     ->type_name("TARGET"));
    sub.add_flag("--accept-new-host-key", p.cli.accept_new_host_key,
                 "Add an unknown NAS host key to known_hosts (never a changed one)");
    p.lock_timeout.add(
        sub.add_option("--lock-timeout", p.lock_timeout.value, "Wait this long for another run's lock (default 0s)")
            ->type_name("DURATION"));
    p.verify.add(sub.add_option("--verify", p.verify.value, "Check each copy: auto|sha256|size|none (default auto)")
                     ->type_name("MODE")
                     ->check(CLI::IsMember({"auto", "sha256", "size", "none"})));
}

// What decides which files a run sees and when: run takes them, and why
// takes them too, to tell the story of a file as that run would see it.
void add_scan_options(CLI::App& sub, Parsed& p) {
    sub.add_option("--source", p.cli.sources, "A folder to scan (repeat for more; default: [sync] sources)")
        ->type_name("DIR")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    sub.add_option("--include", p.cli.include, "Upload only files matching GLOB (repeatable)")
        ->type_name("GLOB")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    sub.add_option("--exclude", p.cli.exclude, "Skip files and folders matching GLOB (repeatable; wins over --include)")
        ->type_name("GLOB")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    p.min_age.add(
        sub.add_option("--min-age", p.min_age.value, "Upload a file only once unchanged this long (default 30s)")
            ->type_name("DURATION"));
}

}  // namespace

int main(int argc, char** argv) {
    Parsed p;
    auto& cli = p.cli;
    auto app = nasops::make_app(k_tool, cli.common, k_formats, k_subcommands);

    auto* run = app->get_subcommand("run");
    nasops::add_dry_run_option(*run, cli.dry_run);
    add_scan_options(*run, p);
    add_target_options(*run, p);
    p.jobs.add(run->add_option("-j,--jobs", p.jobs.value, "Parallel uploads, one connection each (default 4)")
                   ->type_name("N"));
    run->add_flag("--remove-source", cli.remove_source,
                  "Delete each local file whose NAS copy is verified, in this run or an earlier one, if unchanged");
    run->add_flag("--delete-empty-src-dirs", cli.delete_empty_src_dirs,
                  "With --remove-source: then remove the source folders left empty (never a source itself)");
    p.max_retries.add(
        run->add_option("--max-retries", p.max_retries.value, "Retries before a file is marked failed (default 5)")
            ->type_name("N"));
    p.bwlimit.add(run->add_option("--bwlimit", p.bwlimit.value,
                                  "Limit upload bandwidth, e.g. 10M (bytes/s), or by time of day as rclone: "
                                  "\"08:00,2M 19:00,off\", \"Mon-08:00,512k Sat-10:00,off\"")
                      ->type_name("RATE"));
    p.max_duration.add(run->add_option("--max-duration", p.max_duration.value,
                                       "Stop starting and abandon uploads after this long, e.g. 50s")
                           ->type_name("DURATION"));
    p.max_bytes.add(
        run->add_option("--max-bytes", p.max_bytes.value, "Start no new file once this much has been sent, e.g. 10G")
            ->type_name("SIZE"));

    p.textfile_dir.add(nasops::add_textfile_dir_option(*run, p.textfile_dir.value, "sync"));

    auto* ls = app->get_subcommand("ls");
    p.state.add(ls->add_option("--state", p.state.value, "Only files in this state")
                    ->type_name("STATE")
                    ->check(CLI::IsMember({"pending", "transferring", "completed", "failed"})));

    auto* retry = app->get_subcommand("retry");
    nasops::add_dry_run_option(*retry, cli.dry_run);
    retry->add_option("PATH", cli.paths, "Local or relative paths of failed files to requeue")->type_name("PATH");
    retry->add_flag("--all-failed", cli.all_failed, "Requeue every failed file");

    auto* verify = app->get_subcommand("verify");
    nasops::add_dry_run_option(*verify, cli.dry_run);
    add_target_options(*verify, p);

    auto* hostkey = app->get_subcommand("hostkey");
    hostkey->add_flag("--accept", cli.accept_host_key,
                      "Acknowledge each NAS host key that changed since the run before (nasops-health security)");
    auto* doctor = app->get_subcommand("doctor");
    p.target.add(doctor
                     ->add_option("--target", p.target.value,
                                  "Check this target instead: a local folder or sftp://[user@]host[:port]/path")
                     ->type_name("TARGET"));

    auto* why = app->get_subcommand("why");
    why->add_option("PATH", cli.paths, "Local paths, or paths relative to a source, of the files to explain")
        ->type_name("PATH")
        ->required();
    add_scan_options(*why, p);

    // Their defaults are the configuration's: --help must not show the
    // placeholders as if they were the defaults.
    nasops::hide_placeholder_defaults(*app);

    const int code = nasops::run_tool(k_tool, *app, argc, argv, [&]() -> nasops::Result<nasops::ExitCode> {
        cli.target = p.target.get();
        cli.min_age = p.min_age.get();
        cli.verify = p.verify.get();
        cli.bwlimit = p.bwlimit.get();
        cli.max_duration = p.max_duration.get();
        cli.max_bytes = p.max_bytes.get();
        cli.lock_timeout = p.lock_timeout.get();
        cli.state = p.state.get();
        cli.textfile_dir = p.textfile_dir.get();
        cli.jobs = p.jobs.get();
        cli.max_retries = p.max_retries.get();
        TRY(cli.common.output_format(k_formats));

        using nasops::sync::Command;
        TRY_ASSIGN(const Command command, nasops::chosen_of<Command>(*app, {{"run", Command::run},
                                                                            {"status", Command::status},
                                                                            {"ls", Command::ls},
                                                                            {"retry", Command::retry},
                                                                            {"verify", Command::verify},
                                                                            {"hostkey", Command::hostkey},
                                                                            {"doctor", Command::doctor},
                                                                            {"why", Command::why}}));
        struct sigaction action {};
        action.sa_handler = on_stop_signal;
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGINT, &action, nullptr);
        ::sigaction(SIGTERM, &action, nullptr);
        ::signal(SIGPIPE, SIG_IGN);
        const nasops::SystemClock clock;
        const nasops::sync::CommandEnv env{.clock = clock, .out = stdout, .interrupted = &g_stop_signal};
        return nasops::sync::execute(command, cli, env);
    });
    if (const int signal = g_stop_signal.load();
        signal != 0 && code == static_cast<int>(nasops::ExitCode::interrupted)) {
        // Die of it, as the shell or systemd that sent it expects: $? is 130
        // for SIGINT and 143 for SIGTERM, and a shell loop stops on ^C.
        std::fflush(nullptr);
        ::signal(signal, SIG_DFL);
        ::raise(signal);
    }
    return code;
}
