#include "commands.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <thread>

#include "carrier.hpp"
#include "exec.hpp"
#include "export.hpp"
#include "export_metrics.hpp"
#include "logs.hpp"
#include "nasops/core/lock.hpp"
#include "nasops/core/log.hpp"
#include "nasops/core/settings.hpp"
#include "nasops/net/curl_api.hpp"
#include "nasops/obs/textfile.hpp"
#include "nasops/obs/trace.hpp"
#include "nasops/record/record.hpp"
#include "report.hpp"
#include "span_inbox.hpp"

namespace nasops::trace {

namespace {

namespace fs = std::filesystem;

// A failed write to stdout (a closed pipe) has no one left to be reported to.
void print(std::FILE* out, std::string_view text) {
    static_cast<void>(std::fwrite(text.data(), 1, text.size(), out));
    std::fflush(out);
}

struct Context {
    Config config;
    Settings settings;
    Paths paths;
    bool spans = true;  // false: exec runs its command without a span (the config is broken)
};

// The start of every subcommand. Writing spans never needs the tool's own log
// file: a command wrapped by exec must not pay for one.
Result<Context> prepare(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto tool, start_tool(ToolStart{.tool = "trace",
                                               .cli = cli.common,
                                               .files = LogFiles::no,
                                               .log_failure = LogFailure::warn,
                                               .env = env.env}));
    TRY_ASSIGN(auto settings, resolve_settings(cli, tool.config));
    return Context{.config = std::move(tool.config), .settings = std::move(settings), .paths = std::move(tool.paths)};
}

std::optional<TraceContext> inherited(const CommandEnv& env) {
    const auto value = env.env("TRACEPARENT");
    return value ? parse_traceparent(*value) : std::nullopt;
}

fs::path traces_file(const Paths& paths) {
    return paths.log_dir / k_traces_file;
}

Result<void> write_span(const Context& ctx, const CommandEnv& env, const SpanData& span) {
    TRY(ensure_dir(ctx.paths.log_dir));
    return SpanSink(traces_file(ctx.paths), "trace", local_hostname(), env.clock).write(span);
}

void merge_attributes(SpanData& span, const nlohmann::json& attributes) {
    for (const auto& [key, value] : attributes.items()) span.attributes[key] = value;
}

// ---- exec ------------------------------------------------------------------

// A broken nasops.toml must not stop the cron job exec wraps: the command
// runs with the default settings and no span, and the error is on stderr.
Result<Context> prepare_exec(const CliOptions& cli, const CommandEnv& env) {
    auto ctx = prepare(cli, env);
    if (ctx || ctx.error().code != ExitCode::config) return ctx;
    logger().error("{}", ctx.error().message);
    logger().warning("running the command without a span");
    auto config = Config::defaults();
    TRY_ASSIGN(auto settings, resolve_settings(cli, config));
    return Context{.config = std::move(config), .settings = std::move(settings), .paths = {}, .spans = false};
}

Result<ExitCode> exec(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare_exec(cli, env));
    const auto& s = ctx.settings;
    if (s.command.empty()) return fail(ExitCode::usage, "exec: no command to run (give it after --)");
    const auto parent = inherited(env);
    const auto program = fs::path(s.command.front()).filename().string();
    auto span = new_span(s.name.empty() ? program : s.name, s.kind, parent);
    span.attributes = s.attributes;
    span.attributes["process.executable.name"] = program;
    if (s.record_argv) span.attributes["process.command_args"] = s.command;

    // Its inbox, for the events its command adds (event without --carrier);
    // exec goes on without one rather than fail.
    std::optional<SpanInbox> inbox;
    if (ctx.spans) {
        auto run_dir = ensure_dir(ctx.paths.run_dir);
        auto made = run_dir ? SpanInbox::create(inbox_path(*run_dir, span.span_id)) : std::unexpected(run_dir.error());
        if (made)
            inbox.emplace(std::move(*made));
        else
            logger().debug("no inbox for events: {}", made.error().message);
    }

    const auto clock_started = std::chrono::steady_clock::now();
    span.start = env.clock.now();
    TRY_ASSIGN(const auto outcome, run_child(ChildRequest{.argv = s.command,
                                                          .traceparent = format_traceparent(context_of(span, parent)),
                                                          .timeout = s.timeout,
                                                          .kill_after = s.kill_after,
                                                          .keep_blocked = KeepSignalsBlocked::yes,
                                                          .clock_started = clock_started}));
    span.end = span.start + std::chrono::duration_cast<SystemTimePoint::duration>(outcome.elapsed);
    describe_outcome(span, outcome);
    if (inbox) {
        for (auto& event : inbox->events()) span.events.push_back(std::move(event));
        inbox.reset();  // before a re-raised signal ends this process
    }
    if (outcome.spawn_errno != 0) logger().error("{}", span.status_message);
    if (outcome.timed_out) logger().warning("'{}' timed out after {}", program, format_duration(*s.timeout));
    // The command's outcome matters more than its span: a span that cannot
    // be written is said on stderr, and exec still ends as the command did.
    if (auto written = ctx.spans ? write_span(ctx, env, span) : Result<void>(); !written)
        logger().warning("span not recorded: {}", written.error().message);
    if (outcome.signal && !outcome.timed_out) reraise_signal(*outcome.signal);
    return static_cast<ExitCode>(exit_status_of(outcome));
}

// ---- span, start, event, end -----------------------------------------------

Result<ExitCode> span(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(cli, env));
    const auto& s = ctx.settings;
    if (s.name.empty()) return fail(ExitCode::usage, "span: --name is required");
    if (!s.start || !s.end) return fail(ExitCode::usage, "span: --start and --end are required");
    const auto parent = inherited(env);
    auto data = new_span(s.name, s.kind, parent);
    data.start = *s.start;
    data.end = *s.end;
    data.attributes = s.attributes;
    data.status = s.status.value_or(SpanStatus::unset);
    data.status_message = s.status_message;
    TRY(write_span(ctx, env, data));
    print(env.out, format_traceparent(context_of(data, parent)) + "\n");
    return ExitCode::ok;
}

Result<ExitCode> start(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(cli, env));
    const auto& s = ctx.settings;
    if (s.name.empty()) return fail(ExitCode::usage, "start: --name is required");
    if (s.carrier.empty()) return fail(ExitCode::usage, "start: --carrier is required");
    const auto parent = inherited(env);
    auto data = new_span(s.name, s.kind, parent);
    data.start = s.start.value_or(env.clock.now());
    data.attributes = s.attributes;
    const auto context = context_of(data, parent);
    TRY(open_carrier(s.carrier, data, context.flags));
    print(env.out, format_traceparent(context) + "\n");
    return ExitCode::ok;
}

Result<ExitCode> event(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(cli, env));
    const auto& s = ctx.settings;
    if (s.name.empty()) return fail(ExitCode::usage, "event: --name is required");
    if (s.carrier.empty()) {
        // The span TRACEPARENT names, which the exec that set it holds open.
        const auto context = inherited(env);
        if (!context)
            return fail(ExitCode::usage,
                        "event: no span to add it to: give --carrier, or run it under a valid TRACEPARENT "
                        "(inside nasops-trace exec)");
        TRY(post_event(ctx.paths.run_dir, context->span_id, SpanEvent{s.name, env.clock.now(), s.attributes}));
        return ExitCode::ok;
    }
    TRY_ASSIGN(auto open, read_carrier(s.carrier));
    open.span.events.push_back(SpanEvent{s.name, env.clock.now(), s.attributes});
    TRY(update_carrier(s.carrier, open));
    return ExitCode::ok;
}

Result<ExitCode> end(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(cli, env));
    const auto& s = ctx.settings;
    if (s.carrier.empty()) return fail(ExitCode::usage, "end: --carrier is required");
    TRY_ASSIGN(auto open, read_carrier(s.carrier));
    auto& data = open.span;
    data.end = std::max(s.end.value_or(env.clock.now()), data.start);
    merge_attributes(data, s.attributes);
    if (s.status) data.status = *s.status;
    if (!s.status_message.empty()) data.status_message = s.status_message;
    TRY(write_span(ctx, env, data));
    TRY(close_carrier(s.carrier));
    return ExitCode::ok;
}

// ---- ls, show, summary -----------------------------------------------------

Result<ExitCode> ls(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(cli, env));
    const auto& s = ctx.settings;
    TRY_ASSIGN(auto spans, read_spans(traces_file(ctx.paths), env.clock.now() - s.since, {}, SpanDetail::timing));
    auto traces = list_traces(spans, TraceFilter{.name = s.name, .errors_only = s.errors_only});
    if (s.format != OutputFormat::json) {
        print(env.out, traces_text(traces));
        return ExitCode::ok;
    }
    TRY_ASSIGN(auto records, trace_records(traces, local_hostname(), env.clock.now()));
    print(env.out, records);
    return ExitCode::ok;
}

Result<ExitCode> show(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(cli, env));
    const auto& s = ctx.settings;
    TRY_ASSIGN(auto spans, read_spans(traces_file(ctx.paths), std::nullopt, s.trace_id));
    if (spans.empty())
        return fail(ExitCode::no_input,
                    fmt::format("no spans of trace {} in {}", s.trace_id, traces_file(ctx.paths).string()));
    if (s.format == OutputFormat::json) {
        print(env.out, spans_json(spans));
    } else {
        print(env.out, waterfall(spans, terminal_columns(env.out)));
    }
    return ExitCode::ok;
}

Result<ExitCode> summary(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(cli, env));
    const auto& s = ctx.settings;
    OperationSummary operations(s.by);
    TRY(for_each_span(traces_file(ctx.paths), SpanFilter{.since = env.clock.now() - s.since}, SpanDetail::timing,
                      [&](const TracedSpan& span) { operations.add(span); }));
    const auto stats = std::move(operations).finish();
    if (s.format == OutputFormat::json) {
        TRY_ASSIGN(auto text, summary_records(stats, s.by, local_hostname(), env.clock.now()));
        print(env.out, text);
    } else {
        print(env.out, summary_text(stats, s.by));
    }
    return ExitCode::ok;
}

// ---- export ------------------------------------------------------------------

Result<ExitCode> export_(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(cli, env));
    const auto& s = ctx.settings;
    TRY_ASSIGN(const auto otlp, otlp_settings(env.env, ctx.config));
    TRY(ensure_dir(ctx.paths.state_dir));
    // One export at a time: two would send the same spans.
    TRY_ASSIGN(auto lock, LockFile::acquire(ctx.paths.state_dir / "trace-export.lock", Duration{0}));
    TRY_ASSIGN(auto store, Store::open(database_path(ctx.paths), migrations()));
    // Loaded now rather than linked, so that exec starts without them.
    TRY_ASSIGN(const auto curl, load_curl());
    TRY_ASSIGN(const auto crypto, load_sha256());
    CurlHttpClient client(curl.api);
    const ExportLimits limits{.batch_spans = s.batch_size, .max_attempts = s.max_attempts};
    // What the collector has not taken yet, after each pass: a shipper that
    // follows for weeks must not leave the fleet blind until it stops.
    const auto publish_metrics = [&] {
        if (s.textfile_dir)
            publish_textfile(*s.textfile_dir, "trace", export_metrics(store.db(), traces_file(ctx.paths)));
    };
    ExportReport report;
    if (s.follow) {
        TRY_ASSIGN(auto stop, StopSignals::block());
        TRY_ASSIGN(report,
                   follow_spans(traces_file(ctx.paths), store, client, crypto.api, otlp, limits,
                                FollowSettings{.flush_interval = s.flush_interval, .after_pass = publish_metrics},
                                *stop, env.clock));
    } else {
        const RetryWait sleep = [](Duration d) {
            std::this_thread::sleep_for(d);
            return true;
        };
        TRY_ASSIGN(report,
                   export_spans(traces_file(ctx.paths), store, client, crypto.api, otlp, limits, sleep, env.clock));
        publish_metrics();
    }
    if (s.format == OutputFormat::json) {
        TRY_ASSIGN(auto line, format_record(RecordKind::event,
                                            {{"name", "trace_export"},
                                             {"details",
                                              {{"spans_sent", report.spans_sent},
                                               {"batches_sent", report.batches_sent},
                                               {"spans_rejected", report.spans_rejected},
                                               {"batches_rejected", report.batches_rejected},
                                               {"lines_skipped", report.lines_skipped},
                                               {"retries", report.retries},
                                               {"complete", !report.stopped}}}},
                                            "trace", local_hostname(), env.clock.now()));
        print(env.out, line);
    } else if (!s.quiet) {
        std::string text = fmt::format("exported {} spans in {} batches to {}", report.spans_sent, report.batches_sent,
                                       redact_url(otlp.url));
        if (report.batches_rejected > 0)
            text += fmt::format("; {} spans in {} batches refused as malformed", report.spans_rejected,
                                report.batches_rejected);
        if (report.lines_skipped > 0)
            text += fmt::format("; {} lines that are not spans skipped", report.lines_skipped);
        print(env.out, text + "\n");
    }
    if (report.stopped) return std::unexpected(*report.stopped);
    return report.batches_rejected > 0 ? ExitCode::data_error : ExitCode::ok;
}

// ---- logs --------------------------------------------------------------------

Result<ExitCode> logs(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(cli, env));
    const auto& s = ctx.settings;
    const auto now = env.clock.now();
    TRY_ASSIGN(const auto analysis,
               analyse_logs(ctx.paths.log_dir,
                            LogFilter{.since = now - s.since, .now = now, .tool = s.tool, .max_level = s.level}));
    if (s.format == OutputFormat::json) {
        TRY_ASSIGN(auto text, logs_records(analysis, s.top, local_hostname(), now));
        print(env.out, text);
    } else {
        print(env.out, logs_text(analysis, s.top, glyphs_for(env.env)));
    }
    return ExitCode::ok;
}

}  // namespace

Result<ExitCode> execute(Command command, const CliOptions& cli, const CommandEnv& env) {
    switch (command) {
        case Command::exec: return exec(cli, env);
        case Command::span: return span(cli, env);
        case Command::start: return start(cli, env);
        case Command::event: return event(cli, env);
        case Command::end: return end(cli, env);
        case Command::ls: return ls(cli, env);
        case Command::show: return show(cli, env);
        case Command::summary: return summary(cli, env);
        case Command::export_: return export_(cli, env);
        case Command::logs: return logs(cli, env);
    }
    return fail(ExitCode::software, "unknown subcommand");
}

}  // namespace nasops::trace
