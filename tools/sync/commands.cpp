#include "commands.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <optional>

#include "doctor.hpp"
#include "engine.hpp"
#include "local_target.hpp"
#include "nasops/core/config.hpp"
#include "nasops/core/lock.hpp"
#include "nasops/core/log.hpp"
#include "nasops/core/output.hpp"
#include "nasops/core/paths.hpp"
#include "nasops/core/settings.hpp"
#include "nasops/core/unconfigured.hpp"
#include "nasops/db/store.hpp"
#include "nasops/db/transfer_stats.hpp"
#include "nasops/obs/textfile.hpp"
#include "nasops/obs/trace.hpp"
#include "nasops/record/record.hpp"
#include "nasops/util/units.hpp"
#include "plan.hpp"
#include "run_metrics.hpp"
#include "schema.hpp"
#include "sftp_target.hpp"
#include "verify_command.hpp"
#include "why.hpp"

namespace nasops::sync {

namespace {

namespace fs = std::filesystem;

// Length of the UTF-8 sequence starting at text[i], or 0 when it is not valid UTF-8.
std::size_t utf8_length(std::string_view text, std::size_t i) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (i + n > text.size()) return 0;
    for (std::size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 0;
    return n;
}

// A failed write to stdout (a closed pipe) has no one left to be reported to.
void print(std::FILE* out, std::string_view text) {
    static_cast<void>(std::fwrite(text.data(), 1, text.size(), out));
}

struct Context {
    Config config;
    Settings settings;
    Paths paths;
};

Result<Context> prepare(const CliOptions& cli, bool writes_logs) {
    TRY_ASSIGN(auto tool, start_tool(ToolStart{
                              .tool = "sync", .cli = cli.common, .files = writes_logs ? LogFiles::yes : LogFiles::no}));
    TRY_ASSIGN(auto settings, resolve_settings(cli, tool.config));
    return Context{std::move(tool.config), std::move(settings), std::move(tool.paths)};
}

QueuePolicy policy_of(const Settings& s) {
    return QueuePolicy{.min_age = s.min_age, .max_retries = s.max_retries};
}

RunOptions run_options_of(const Settings& s) {
    return RunOptions{.sources = s.sources,
                      .filter = Filter(s.include, s.exclude),
                      .verify = s.verify,
                      .remove_source = s.remove_source,
                      .delete_empty_src_dirs = s.delete_empty_src_dirs,
                      .min_age = s.min_age,
                      .jobs = s.jobs,
                      .bwlimit = s.bwlimit,
                      .max_duration = s.max_duration,
                      .max_bytes = s.max_bytes};
}

// The database for reading: nullopt when it does not exist yet or has no sync tables.
Result<std::optional<Store>> open_for_reading(const Paths& paths) {
    const auto db = database_path(paths);
    std::error_code ec;
    if (!fs::exists(db, ec)) return std::optional<Store>{};
    TRY_ASSIGN(auto store, Store::open(db, migrations(), OpenMode::read_only));
    TRY_ASSIGN(const int version, store.schema_version("sync"));
    if (version == 0) return std::optional<Store>{};
    return std::optional<Store>(std::move(store));
}

struct Writable {
    LockFile lock;
    Store store;
    // The database had no sync tables before this open: it is missing,
    // empty (truncated), or was made by another tool since sync's was lost.
    bool new_database = false;
};

fs::path lock_path(const Paths& paths) {
    return paths.state_dir / "sync.lock";
}

// The database, once `lock` is held: every change to the queue happens under the lock.
Result<Writable> open_locked(const Paths& paths, LockFile lock) {
    if (lock.waited() > Duration{0}) logger().info("waited {} for the lock", format_duration(lock.waited()));
    bool new_database = false;
    {
        TRY_ASSIGN(const auto existing, open_for_reading(paths));
        new_database = !existing;
    }
    TRY_ASSIGN(auto store, Store::open(database_path(paths), migrations()));
    return Writable{std::move(lock), std::move(store), new_database};
}

// The lock, then the database.
Result<Writable> open_for_writing(const Paths& paths, Duration lock_timeout) {
    TRY(ensure_dir(paths.state_dir));
    TRY_ASSIGN(auto lock, LockFile::acquire(lock_path(paths), lock_timeout));
    return open_locked(paths, std::move(lock));
}

// Says, loudly, that the run starts from an empty database: on stderr even
// with --quiet (cron mails it, once: only the run that finds the database
// new says it), in the log, and in the audit log.
void announce_new_database(const Context& ctx, const fs::path& database, const TargetSpec& target) {
    const auto message = fmt::format(
        "the state database {} is new (a first run, or the old one was deleted or lost): every file found is "
        "looked for on {} first, and one already there with the same size{} is adopted as completed, not sent "
        "again",
        database.string(), target.display(),
        ctx.settings.verify == Verify::automatic || ctx.settings.verify == Verify::sha256 ? " and SHA-256" : "");
    logger().warning("{}", message);
    if (ctx.settings.quiet) print(stderr, fmt::format("nasops-sync: warning: {}\n", message));
    logger().audit(AuditEvent::system_error,
                   {{"error", "new state database"}, {"database", database.string()}, {"message", message}});
}

// Records the host key each connection verified. A key other than the one
// seen last is said at once; nasops-health's security check reports it until
// `nasops-sync hostkey --accept` acknowledges it.
HostKeySeen host_key_recorder(Queue& queue) {
    return [&queue](const HostKey& key) -> Result<void> {
        TRY_ASSIGN(const bool changed, queue.record_host_key(key));
        if (changed)
            logger().warning(
                "the host key of {} changed since the last run: it is now the {} key {} (known_hosts "
                "accepts it); nasops-sync hostkey shows the keys seen, and --accept acknowledges it",
                key.endpoint, key.type, key.fingerprint);
        return {};
    };
}

std::string percent(std::optional<double> ratio) {
    return ratio ? fmt::format("{:.1f}%", *ratio * 100.0) : std::string("-");
}

std::string rate_text(std::optional<double> bytes_per_second) {
    return bytes_per_second ? fmt::format("{:.1f} MB/s", *bytes_per_second / 1e6) : std::string("-");
}

// ---- run -------------------------------------------------------------------

Result<ExitCode> dry_run(const Context& ctx, const CommandEnv& env) {
    TRY_ASSIGN(auto store, open_for_reading(ctx.paths));
    const auto policy = policy_of(ctx.settings);
    std::optional<Queue> queue;
    if (store) queue.emplace((store)->db(), env.clock, policy);
    const bool json = ctx.settings.format == OutputFormat::json;
    RecordWriter records(env.out, "sync", local_hostname(), env.clock);
    auto summary = plan_sync(
        run_options_of(ctx.settings), queue ? &*queue : nullptr, policy, env.clock, [&](const PlannedFile& file) {
            const auto path = (fs::path(file.source) / file.rel_path).string();
            const bool removal = file.action == PlannedFile::Action::remove;
            const char* action = file.action == PlannedFile::Action::upload ? "upload"
                                 : file.action == PlannedFile::Action::wait ? "wait"
                                 : removal                                  ? "remove"
                                                                            : "queue";
            if (json) {
                nlohmann::json fields{
                    {"path", path},       {"rel_path", file.rel_path}, {"state", removal ? "completed" : "pending"},
                    {"bytes", file.size}, {"dry_run", true},           {"action", action}};
                if (removal) fields["verified_by"] = file.verified_by;
                (void)records.write(RecordKind::transfer, fields);
            } else if (removal) {
                print(env.out, fmt::format("would remove {} ({}; its copy on the NAS is verified by {})\n",
                                           printable(path), format_size(file.size), file.verified_by));
            } else {
                print(env.out, fmt::format("would {} {} ({})\n", action, printable(path), format_size(file.size)));
            }
        });
    if (!summary) return std::unexpected(summary.error());
    if (!json && !ctx.settings.quiet)
        print(env.out,
              fmt::format("dry run: {} new or changed, {} to upload ({}), {} waiting{}; nothing was changed\n",
                          summary->would_queue, summary->would_upload, format_size(summary->upload_bytes),
                          summary->would_wait,
                          ctx.settings.remove_source == RemoveSource::yes
                              ? fmt::format(", {} local copies of earlier uploads to remove", summary->would_remove)
                              : ""));
    return summary->source_errors > 0 ? ExitCode::no_input : ExitCode::ok;
}

Result<ExitCode> run(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(cli, !cli.dry_run));
    // No source (none in [sync], no --source): a fresh install, not an error.
    if (ctx.settings.sources.empty()) {
        logger().info("{}; nothing to do", sync_not_configured(ctx.config).value_or("no source folder"));
        return ExitCode::ok;
    }
    if (ctx.settings.dry_run) return dry_run(ctx, env);

    TRY_ASSIGN(auto spec, resolve_target(cli, ctx.config));
    TRY(ensure_dir(ctx.paths.state_dir));
    // The run of the minute before still uploading: with --quiet, cron's
    // usual case, this run ends (75) with a line in the log and none on stderr.
    TRY_ASSIGN(auto lock, LockFile::acquire_or_overlap(lock_path(ctx.paths), ctx.settings.lock_timeout,
                                                       ctx.settings.quiet ? Quiet::yes : Quiet::no));
    if (!lock) return ExitCode::temp_failure;
    TRY_ASSIGN(auto writable, open_locked(ctx.paths, std::move(*lock)));
    reopen_logs_on_sighup();
    std::optional<PidFile> pidfile;
    if (auto run_dir = ensure_dir(ctx.paths.run_dir); run_dir) {
        if (auto created = PidFile::create(ctx.paths.run_dir / "nasops-sync.pid"); created)
            pidfile.emplace(std::move(*created));
    }

    if (writable.new_database) announce_new_database(ctx, writable.store.path(), spec);
    Queue queue(writable.store.db(), env.clock, policy_of(ctx.settings));
    const bool json = ctx.settings.format == OutputFormat::json;
    std::optional<RecordWriter> records;
    if (json) records.emplace(env.out, "sync", local_hostname(), env.clock);
    // Under a trace context (nasops-trace exec), the run is a span; a run that
    // ends early on an error keeps the error status set here.
    const auto tracer = Tracer::from_environment("sync", ctx.paths.log_dir, process_environment(), env.clock);
    Span run_span(tracer, "sync run");
    run_span.set_error("the run ended on an error");
    if (run_span.active()) run_span.set_attribute("sync.target", spec.display());
    const RunOutputs outputs{.records = records ? &*records : nullptr,
                             .progress = progress_enabled(stderr, ctx.settings.quiet ? Quiet::yes : Quiet::no),
                             .interrupted = env.interrupted,
                             .trace = &run_span};
    logger().info("run: {} source(s) to {}", ctx.settings.sources.size(), spec.display());
    auto options = run_options_of(ctx.settings);
    options.adopt = writable.new_database ? Adopt::yes : Adopt::no;
    TRY_ASSIGN(auto summary,
               run_sync(options, queue, env.clock, target_factory(spec, host_key_recorder(queue)), outputs));
    if (run_span.active()) {
        run_span.set_attribute("sync.uploaded", summary.uploaded);
        run_span.set_attribute("sync.adopted", summary.adopted);
        run_span.set_attribute("sync.bytes_uploaded", summary.bytes_uploaded);
        run_span.set_attribute("sync.failed_attempts", summary.failed_attempts);
        run_span.set_attribute("sync.left_pending", summary.left_pending);
        set_outcome(run_span, summary.exit_code());
    }

    if (ctx.settings.textfile_dir)
        publish_textfile(*ctx.settings.textfile_dir, "sync",
                         run_metrics(writable.store.db(), summary, env.clock.now()));

    const auto& s = summary;
    if (!json && !ctx.settings.quiet) {
        std::string line =
            fmt::format("uploaded {} files ({}) in {:.1f}s", s.uploaded, format_size(s.bytes_uploaded), s.seconds);
        if (s.adopted > 0) line += fmt::format(", {} adopted (already on the NAS, not sent)", s.adopted);
        if (s.failed_attempts > 0) line += fmt::format(", {} failed attempts", s.failed_attempts);
        if (s.held_no_space > 0) line += fmt::format(", {} held for lack of room", s.held_no_space);
        if (s.waiting > 0) line += fmt::format(", {} waiting (min-age or retry backoff)", s.waiting);
        if (s.left_pending > 0) line += fmt::format(", {} left for the next run", s.left_pending);
        if (s.removed > 0) line += fmt::format(", {} local files removed", s.removed);
        if (s.folders_removed > 0) line += fmt::format(", {} empty folders removed", s.folders_removed);
        if (s.stopped_by) line += fmt::format(" (stopped: {})", *s.stopped_by);
        print(env.out, line + "\n");
    }
    return s.exit_code();
}

// ---- status ----------------------------------------------------------------

// "  (598 verified by SHA-256, 2 verified by size)": how the completed files were verified.
std::string verify_breakdown(const std::map<std::string, std::uint64_t>& by_method) {
    std::string parts;
    for (const auto& [method, n] : by_method)
        parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", n, verify_phrase(method));
    return parts.empty() ? "" : "  (" + parts + ")";
}

Result<ExitCode> status(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(cli, false));
    TRY_ASSIGN(auto store, open_for_reading(ctx.paths));
    TransferQueue st;
    TransferWindow last_hour;
    TransferWindow last_day;
    if (store) {
        const auto now = env.clock.now();
        TRY_ASSIGN(st, read_transfer_queue(store->db(), now));
        TRY_ASSIGN(last_hour, read_transfer_window(store->db(), now - std::chrono::hours(1)));
        TRY_ASSIGN(last_day, read_transfer_window(store->db(), now - std::chrono::hours(24)));
    }
    if (ctx.settings.format == OutputFormat::json) {
        RecordWriter records(env.out, "sync", local_hostname(), env.clock);
        const auto metric = [&](std::string_view name, double value, std::string_view unit,
                                nlohmann::json labels = nlohmann::json::object()) -> Result<void> {
            return records.write(RecordKind::metric,
                                 {{"name", name}, {"value", value}, {"unit", unit}, {"labels", std::move(labels)}});
        };
        std::vector<Result<void>> written;
        written.push_back(metric("sync_files", static_cast<double>(st.pending), "count", {{"state", "pending"}}));
        written.push_back(
            metric("sync_files", static_cast<double>(st.transferring), "count", {{"state", "transferring"}}));
        written.push_back(metric("sync_files", static_cast<double>(st.completed), "count", {{"state", "completed"}}));
        written.push_back(metric("sync_files", static_cast<double>(st.failed), "count", {{"state", "failed"}}));
        for (const auto& [method, n] : st.completed_by_verify)
            written.push_back(
                metric("sync_completed_files_by_verify", static_cast<double>(n), "count", {{"verified_by", method}}));
        written.push_back(metric("sync_pending_bytes", static_cast<double>(st.bytes_queued), "bytes"));
        if (st.oldest_pending_age)
            written.push_back(metric("sync_oldest_pending_age_seconds",
                                     std::chrono::duration<double>(*st.oldest_pending_age).count(), "seconds"));
        for (const auto& [window, w] : {std::pair{"1h", last_hour}, std::pair{"24h", last_day}}) {
            written.push_back(metric("sync_transfers", static_cast<double>(w.completed), "count",
                                     {{"window", window}, {"outcome", "completed"}}));
            written.push_back(metric("sync_transfers", static_cast<double>(w.failed), "count",
                                     {{"window", window}, {"outcome", "failed"}}));
            if (auto r = w.success_ratio())
                written.push_back(metric("sync_success_ratio", *r, "ratio", {{"window", window}}));
            if (auto r = w.bytes_per_second())
                written.push_back(
                    metric("sync_throughput_bytes_per_second", *r, "bytes_per_second", {{"window", window}}));
        }
        if (st.last_success) {
            if (auto t = parse_rfc3339(*st.last_success)) {
                written.push_back(metric("sync_last_success_timestamp_seconds",
                                         std::chrono::duration<double>(t->time_since_epoch()).count(), "seconds"));
            }
        }
        for (auto& w : written)
            if (!w) return std::unexpected(w.error());
        return ExitCode::ok;
    }
    std::string text;
    text += fmt::format("pending       {:>8}\n", st.pending);
    text += fmt::format("transferring  {:>8}\n", st.transferring);
    text += fmt::format("completed     {:>8}{}\n", st.completed, verify_breakdown(st.completed_by_verify));
    text += fmt::format("failed        {:>8}\n", st.failed);
    text += fmt::format("bytes pending {:>8}\n", format_size(st.bytes_queued));
    text += fmt::format("oldest pending  {}\n",
                        st.oldest_pending_age
                            ? format_duration(std::chrono::floor<std::chrono::seconds>(*st.oldest_pending_age))
                            : std::string("-"));
    for (const auto& [label, w] : {std::pair{"last hour", last_hour}, std::pair{"last day", last_day}}) {
        text += fmt::format("{:<9}       {} completed, {} failed, success {}, {}\n", label, w.completed, w.failed,
                            percent(w.success_ratio()), rate_text(w.bytes_per_second()));
    }
    text += fmt::format("last success    {}\n", st.last_success.value_or("never"));
    print(env.out, text);
    return ExitCode::ok;
}

// ---- ls --------------------------------------------------------------------

// A queue row as the fields of a transfer record (ls), or of why's details.
nlohmann::json row_fields(const FileRow& row) {
    nlohmann::json fields{{"path", local_path(row)},        {"rel_path", row.rel_path},  {"source", row.source},
                          {"state", state_name(row.state)}, {"bytes", row.version.size}, {"attempt", row.attempts}};
    if (row.last_error) fields["error"] = *row.last_error;
    if (row.sha256) fields["sha256"] = *row.sha256;
    if (row.completed_at) fields["completed_at"] = *row.completed_at;
    if (row.next_attempt_at) fields["next_attempt_at"] = *row.next_attempt_at;
    if (row.seconds) fields["seconds"] = *row.seconds;
    if (row.verified_by) fields["verified_by"] = *row.verified_by;
    if (row.verify_reason) fields["verify_reason"] = *row.verify_reason;
    return fields;
}

Result<ExitCode> ls(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(cli, false));
    TRY_ASSIGN(auto store, open_for_reading(ctx.paths));
    if (!store) return ExitCode::ok;
    Queue queue((store)->db(), env.clock, policy_of(ctx.settings));
    const bool json = ctx.settings.format == OutputFormat::json;
    RecordWriter records(env.out, "sync", local_hostname(), env.clock);
    std::optional<Error> write_error;
    TRY(queue.for_each(ctx.settings.state, [&](const FileRow& row) {
        const auto path = local_path(row);
        if (json) {
            if (auto w = records.write(RecordKind::transfer, row_fields(row)); !w && !write_error)
                write_error = w.error();
        } else {
            std::string line =
                fmt::format("{:<12} {:>10}  {}", state_name(row.state), format_size(row.version.size), printable(path));
            if (row.last_error && row.state != FileState::completed) line += "  (" + printable(*row.last_error) + ")";
            if (row.state == FileState::completed && row.verified_by)
                line += fmt::format("  ({})", printable(row_verify_phrase(row)));
            print(env.out, line + "\n");
        }
    }));
    if (write_error) return std::unexpected(*write_error);
    return ExitCode::ok;
}

// ---- retry -----------------------------------------------------------------

Result<ExitCode> retry(const CliOptions& cli, const CommandEnv& env) {
    if (cli.paths.empty() && !cli.all_failed)
        return fail(ExitCode::usage, "retry: name the files to requeue (PATH...) or pass --all-failed");
    if (!cli.paths.empty() && cli.all_failed)
        return fail(ExitCode::usage, "retry: give PATH... or --all-failed, not both");
    TRY_ASSIGN(auto ctx, prepare(cli, !cli.dry_run));
    const auto dry = ctx.settings.dry_run ? DryRun::yes : DryRun::no;
    std::optional<Store> store;
    if (dry == DryRun::yes) {
        TRY_ASSIGN(auto opened, open_for_reading(ctx.paths));
        store = std::move(opened);
    } else {
        // Only failed rows change, which a concurrent run never touches: no lock needed.
        TRY(ensure_dir(ctx.paths.state_dir));
        TRY_ASSIGN(auto opened, Store::open(database_path(ctx.paths), migrations()));
        store.emplace(std::move(opened));
    }
    std::uint64_t count = 0;
    if (store) {
        Queue queue(store->db(), env.clock, policy_of(ctx.settings));
        std::vector<std::string> names;
        for (const auto& p : ctx.settings.paths) {
            names.push_back(p);
            std::error_code ec;
            const auto absolute = fs::absolute(p, ec).lexically_normal().string();
            if (!ec && absolute != p) names.push_back(absolute);
        }
        TRY_ASSIGN(auto n, ctx.settings.all_failed ? queue.retry_all_failed(dry) : queue.retry_paths(names, dry));
        count = n;
    }
    if (dry == DryRun::no && count > 0) logger().info("requeued {} failed files", count);
    if (ctx.settings.format == OutputFormat::json) {
        RecordWriter records(env.out, "sync", local_hostname(), env.clock);
        TRY(records.write(RecordKind::event,
                          {{"name", "retry"}, {"details", {{"requeued", count}, {"dry_run", dry == DryRun::yes}}}}));
    } else {
        print(env.out, fmt::format("{} {} failed files\n", dry == DryRun::yes ? "would requeue" : "requeued", count));
    }
    if (!ctx.settings.all_failed && count == 0)
        return fail(ExitCode::no_input, "retry: none of the named files is in the failed state");
    return ExitCode::ok;
}

// ---- verify ----------------------------------------------------------------

Result<ExitCode> verify(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(cli, !cli.dry_run));
    TRY_ASSIGN(auto spec, resolve_target(cli, ctx.config));
    const auto dry = ctx.settings.dry_run ? DryRun::yes : DryRun::no;
    std::optional<Writable> writable;
    std::optional<Store> reading;
    SQLite::Database* db = nullptr;
    if (dry == DryRun::yes) {
        TRY_ASSIGN(auto opened, open_for_reading(ctx.paths));
        reading = std::move(opened);
        if (reading) db = &reading->db();
    } else {
        TRY_ASSIGN(auto opened, open_for_writing(ctx.paths, ctx.settings.lock_timeout));
        writable.emplace(std::move(opened));
        db = &writable->store.db();
    }
    // Under a trace context, the verify is a span; one that ends early on an
    // error keeps the error status set here.
    const auto tracer = Tracer::from_environment("sync", ctx.paths.log_dir, process_environment(), env.clock);
    Span span(tracer, "sync verify");
    span.set_error("the verify ended on an error");
    if (span.active()) span.set_attribute("sync.target", spec.display());
    VerifySummary summary;
    if (db != nullptr) {
        Queue queue(*db, env.clock, policy_of(ctx.settings));
        const auto make_target = target_factory(spec, dry == DryRun::yes ? HostKeySeen{} : host_key_recorder(queue));
        TRY_ASSIGN(auto target, traced_connect(make_target, &span)());
        TRY_ASSIGN(auto checked, verify_completed(queue, *target, ctx.settings.verify, dry));
        summary = std::move(checked);
    }
    if (span.active()) {
        span.set_attribute("sync.checked", summary.checked);
        span.set_attribute("sync.hashed", summary.hashed);
        span.set_attribute("sync.bad", summary.problems.size());
        if (summary.problems.empty())
            span.set_status(SpanStatus::unset);
        else
            span.set_error(fmt::format("{} copies on the target are bad", summary.problems.size()));
    }
    if (ctx.settings.format == OutputFormat::json) {
        RecordWriter records(env.out, "sync", local_hostname(), env.clock);
        for (const auto& p : summary.problems) {
            auto w = records.write(RecordKind::event, {{"name", "verify_failed"},
                                                       {"details",
                                                        {{"path", local_path(p.row)},
                                                         {"rel_path", p.row.rel_path},
                                                         {"problem", p.what},
                                                         {"message", p.detail},
                                                         {"requeued", p.requeued}}}});
            if (!w) return std::unexpected(w.error());
        }
        TRY(records.write(RecordKind::event, {{"name", "verify"},
                                              {"details",
                                               {{"checked", summary.checked},
                                                {"ok", summary.ok},
                                                {"hashed", summary.hashed},
                                                {"bad", summary.problems.size()}}}}));
    } else {
        for (const auto& p : summary.problems)
            print(env.out, fmt::format("BAD {:<7} {}{}\n", p.what, printable(p.detail),
                                       p.requeued ? " (queued for upload again)" : ""));
        if (!ctx.settings.quiet || !summary.problems.empty())
            print(env.out,
                  fmt::format("verified {} completed files on {}: {} good, {} bad ({} by SHA-256)\n", summary.checked,
                              spec.display(), summary.ok, summary.problems.size(), summary.hashed));
    }
    return summary.problems.empty() ? ExitCode::ok : ExitCode::data_error;
}

// ---- hostkey ---------------------------------------------------------------

Result<ExitCode> hostkey(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(cli, cli.accept_host_key));
    std::optional<Writable> writable;
    std::optional<Store> reading;
    SQLite::Database* db = nullptr;
    if (cli.accept_host_key) {
        TRY_ASSIGN(auto opened, open_for_writing(ctx.paths, ctx.settings.lock_timeout));
        writable.emplace(std::move(opened));
        db = &writable->store.db();
    } else {
        TRY_ASSIGN(reading, open_for_reading(ctx.paths));
        if (reading) db = &reading->db();
    }
    std::vector<SeenHostKey> keys;
    if (db != nullptr) {
        if (cli.accept_host_key) {
            TRY_ASSIGN(const auto changes, acknowledge_host_key_changes(*db, env.clock.now()));
            for (const auto& c : changes)
                logger().warning("acknowledged the new host key of {}: {} (it replaced {})", c.key.endpoint,
                                 c.key.key_text(), c.replaced->key_text());
            if (!ctx.settings.quiet && ctx.settings.format != OutputFormat::json)
                print(env.out, fmt::format("acknowledged {} host key change{}\n", changes.size(),
                                           changes.size() == 1 ? "" : "s"));
        }
        TRY_ASSIGN(keys, read_host_keys(*db));
    }
    if (ctx.settings.format == OutputFormat::json) {
        RecordWriter records(env.out, "sync", local_hostname(), env.clock);
        for (const auto& k : keys) {
            nlohmann::json details{
                {"endpoint", k.key.endpoint},          {"key_type", k.key.type},   {"fingerprint", k.key.fingerprint},
                {"first_seen", k.first_seen},          {"last_seen", k.last_seen}, {"latest", k.latest},
                {"changed", k.unacknowledged_change()}};
            if (k.replaced) details["replaced"] = k.replaced->key_text();
            if (k.acknowledged_at) details["acknowledged_at"] = *k.acknowledged_at;
            TRY(records.write(RecordKind::event, {{"name", "host_key"}, {"details", std::move(details)}}));
        }
        return ExitCode::ok;
    }
    for (const auto& k : keys) {
        std::string line = fmt::format("{}  {}  {}  first seen {}, last seen {}", k.key.endpoint, k.key.key_text(),
                                       k.latest ? "(current)" : "(earlier)", k.first_seen, k.last_seen);
        if (k.unacknowledged_change())
            line += fmt::format("  CHANGED from {}, not acknowledged", k.replaced->key_text());
        else if (k.replaced && k.acknowledged_at)
            line += fmt::format("  replaced {}, acknowledged {}", k.replaced->key_text(), *k.acknowledged_at);
        print(env.out, line + "\n");
    }
    return ExitCode::ok;
}

// ---- why -------------------------------------------------------------------

// One path's facts: where it is, what the disk has, what the filters and the queue say.
Result<WhyFacts> facts_of(std::string_view given, const Settings& settings, const Filter& filter, Queue* queue) {
    WhyFacts facts;
    TRY_ASSIGN(facts.where, locate(given, settings.sources, queue));
    if (!facts.where) {
        std::error_code ec;
        const auto path = absolute_from_cwd(std::string(given));
        facts.path = path.string();
        if (fs::symlink_status(path, ec).type() != fs::file_type::not_found && !ec)
            facts.local.kind = LocalFile::Kind::regular;
        return facts;
    }
    const auto& [source, rel_path] = *facts.where;
    facts.path = (source / rel_path).string();
    facts.local = look_at(source, rel_path);
    facts.excluded_by = filter.excluded_by(rel_path);
    facts.not_included = !filter.included(rel_path);
    facts.include = filter.include_patterns();
    if (queue != nullptr) {
        TRY_ASSIGN(facts.row, queue->find(source.string(), rel_path));
        if (!facts.row) {
            TRY_ASSIGN(facts.taken_by, queue->other_source_of(rel_path, source.string()));
        }
    }
    return facts;
}

// Reads only: no lock is taken and the database is opened read-only.
Result<ExitCode> why(const CliOptions& cli, const CommandEnv& env) {
    if (cli.paths.empty()) return fail(ExitCode::usage, "why: name the files to explain (PATH...)");
    TRY_ASSIGN(auto ctx, prepare(cli, false));
    TRY_ASSIGN(auto store, open_for_reading(ctx.paths));
    const auto policy = policy_of(ctx.settings);
    std::optional<Queue> queue;
    if (store) queue.emplace(store->db(), env.clock, policy);
    const Filter filter(ctx.settings.include, ctx.settings.exclude);
    const bool json = ctx.settings.format == OutputFormat::json;
    RecordWriter records(env.out, "sync", local_hostname(), env.clock);
    bool unknown = false;
    for (const auto& given : ctx.settings.paths) {
        TRY_ASSIGN(const auto facts, facts_of(given, ctx.settings, filter, queue ? &*queue : nullptr));
        const auto story = explain(facts, policy, env.clock.now());
        if (story.unknown) {
            unknown = true;
            logger().error("why: {} does not exist and the queue has no row for it", facts.path);
        }
        if (!json) {
            print(env.out, fmt::format("{}: {}\n", printable(given), printable(story.text)));
            continue;
        }
        nlohmann::json details = facts.row ? row_fields(*facts.row) : nlohmann::json{{"path", facts.path}};
        if (!facts.row && facts.where) {
            details["source"] = facts.where->source.string();
            details["rel_path"] = facts.where->rel_path;
        }
        if (facts.row && facts.row->removed_at) details["removed_at"] = *facts.row->removed_at;
        if (facts.row && facts.row->stable_since) details["stable_since"] = *facts.row->stable_since;
        if (facts.excluded_by) details["excluded_by"] = *facts.excluded_by;
        details["finding"] = story.finding;
        details["explanation"] = story.text;
        TRY(records.write(RecordKind::event, {{"name", "why"}, {"details", std::move(details)}}));
    }
    return unknown ? ExitCode::no_input : ExitCode::ok;
}

}  // namespace

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\x{:02x}", c);
        } else if (c < 0x80) {
            out.push_back(static_cast<char>(c));
        } else if (const auto n = utf8_length(text, i); n > 0) {
            out.append(text.substr(i, n));
            i += n;
            continue;
        } else {
            out += fmt::format("\\x{:02x}", c);
        }
        ++i;
    }
    return out;
}

// ---- doctor ----------------------------------------------------------------

Result<ExitCode> doctor(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(cli, false));
    TRY_ASSIGN(auto spec, resolve_target(cli, ctx.config));
    const auto findings = run_doctor(spec, target_factory(spec), ctx.paths, env.clock);
    if (ctx.settings.format == OutputFormat::json) {
        RecordWriter records(env.out, "sync", local_hostname(), env.clock);
        for (const auto& f : findings) {
            nlohmann::json fields{{"name", f.name},
                                  {"target", spec.display()},
                                  {"status", check_status_word(f.status)},
                                  {"message", f.message},
                                  {"duration_ms", f.took.count()}};
            if (!f.fix.empty()) fields["fix"] = f.fix;
            TRY(records.write(RecordKind::check, fields));
        }
    } else {
        std::string text = fmt::format("nasops-sync doctor: {}\n", printable(spec.display()));
        for (const auto& f : findings) {
            text += fmt::format("{:<9} {:<13} {}\n", exit_code_name(f.status), f.name, printable(f.message));
            if (!f.fix.empty()) text += fmt::format("{:<23} fix: {}\n", "", printable(f.fix));
        }
        print(env.out, text);
    }
    return doctor_exit_code(findings);
}

TargetFactory target_factory(const TargetSpec& spec, HostKeySeen host_key_seen) {
    if (spec.kind == TargetSpec::Kind::local) {
        return [root = spec.local_root]() -> Result<std::unique_ptr<Target>> {
            struct stat st {};
            if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
                return fail(
                    ExitCode::unavailable,
                    fmt::format("target folder {} does not exist or is not a folder (is the NAS share mounted?)",
                                root.string()));
            return std::make_unique<LocalTarget>(root);
        };
    }
    return [spec, host_key_seen = std::move(host_key_seen)]() -> Result<std::unique_ptr<Target>> {
        TRY_ASSIGN(auto target, SftpTarget::connect(spec));
        if (host_key_seen) TRY(host_key_seen(target->host_key()));
        return std::unique_ptr<Target>(std::move(target));
    };
}

Result<ExitCode> execute(Command command, const CliOptions& cli, const CommandEnv& env) {
    switch (command) {
        case Command::run: return run(cli, env);
        case Command::status: return status(cli, env);
        case Command::ls: return ls(cli, env);
        case Command::retry: return retry(cli, env);
        case Command::verify: return verify(cli, env);
        case Command::hostkey: return hostkey(cli, env);
        case Command::doctor: return doctor(cli, env);
        case Command::why: return why(cli, env);
    }
    return fail(ExitCode::software, "unknown command");
}

}  // namespace nasops::sync
