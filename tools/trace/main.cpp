// nasops-trace: argument parsing and dispatch only.

#include <array>
#include <csignal>
#include <string>
#include <vector>

#include "commands.hpp"
#include "nasops/core/cli.hpp"
#include "nasops/obs/textfile.hpp"
#include "nasops/util/clock.hpp"

namespace {

constexpr nasops::ToolInfo k_tool{
    .name = "trace",
    .description =
        "Wrap commands in trace spans, propagate context, summarise traces, analyse logs, "
        "export to OpenTelemetry.",
    .examples = R"(  nasops-trace exec --name dbmaint -- nasops-dbmaint daily   # run a command in a span
  nasops-trace exec --timeout 1h --attr job=nightly -- backup.sh  # kill it after an hour
  nasops-trace exec --record-argv -- rsync -a /srv/media nas:/backup  # keep the arguments too
  TRACEPARENT=$(nasops-trace start --carrier /tmp/b.span --name backup)  # in a shell script...
  nasops-trace end --carrier /tmp/b.span --status ok                     # ...and later
  nasops-trace event --name copied --attr files=3   # inside exec: an event of exec's span
  nasops-trace ls --since 24h --errors             # the traces that failed today
  nasops-trace show 4bf92f3577b34da6a3ce929d0e0e4736  # one trace as a waterfall
  nasops-trace summary --format json               # p50/p95/p99 per operation, for nasops-alert
  nasops-trace export --follow --flush-interval 2s  # a long-running shipper to an OTLP collector
)",
};

constexpr std::array k_formats{nasops::OutputFormat::text, nasops::OutputFormat::json};

constexpr std::array k_subcommands{
    nasops::SubcommandInfo{"exec", "Run a command inside a span; exits with the command's status"},
    nasops::SubcommandInfo{"span", "Record a span measured elsewhere (--start, --end)"},
    nasops::SubcommandInfo{"start", "Open a span in a carrier file; prints its TRACEPARENT"},
    nasops::SubcommandInfo{"event", "Add an event to the span open in a carrier file, or to exec's span"},
    nasops::SubcommandInfo{"end", "End the span open in a carrier file and record it"},
    nasops::SubcommandInfo{"ls", "List recent traces: root, start, duration, status, spans"},
    nasops::SubcommandInfo{"show", "Show one trace as an indented waterfall"},
    nasops::SubcommandInfo{"summary", "Per operation: count, error ratio, p50/p95/p99/max, slowest traces"},
    nasops::SubcommandInfo{"logs", "Analyse the tools' logs: errors, warnings, slow operations"},
    nasops::SubcommandInfo{"export", "Send recorded spans to an OpenTelemetry collector (OTLP/HTTP)"},
};

struct Parsed {
    nasops::trace::CliOptions cli;
    nasops::CliOptional<std::string> name, kind, timeout, kill_after, start, end, status, status_message, carrier,
        since, by, trace_id;
};

void add_attr_option(CLI::App& sub, Parsed& p) {
    sub.add_option("--attr", p.cli.attributes, "A span attribute key=value (repeatable)")
        ->type_name("KEY=VALUE")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void add_kind_option(CLI::App& sub, Parsed& p) {
    p.kind.add(sub.add_option("--kind", p.kind.value, "Span kind: internal|client|server (default internal)")
                   ->type_name("KIND")
                   ->check(CLI::IsMember({"internal", "client", "server", "producer", "consumer"})));
}

void add_status_options(CLI::App& sub, Parsed& p) {
    p.status.add(sub.add_option("--status", p.status.value, "The span's status: unset|ok|error")
                     ->type_name("STATUS")
                     ->check(CLI::IsMember({"unset", "ok", "error"})));
    p.status_message.add(
        sub.add_option("--status-message", p.status_message.value, "Why the status is error")->type_name("TEXT"));
}

void add_carrier_option(CLI::App& sub, Parsed& p, bool required = true) {
    p.carrier.add(
        sub.add_option("--carrier", p.carrier.value,
                       required ? "The file holding the open span"
                                : "The file holding the open span (default: the span of TRACEPARENT, held by exec)")
            ->type_name("FILE")
            ->required(required));
}

}  // namespace

int main(int argc, char** argv) {
    Parsed p;
    auto& cli = p.cli;
    auto app = nasops::make_app(k_tool, cli.common, k_formats, k_subcommands);

    auto* exec = app->get_subcommand("exec");
    p.name.add(
        exec->add_option("--name", p.name.value, "Span name (default: the command's file name)")->type_name("NAME"));
    add_attr_option(*exec, p);
    add_kind_option(*exec, p);
    p.timeout.add(exec->add_option("--timeout", p.timeout.value, "Send the command SIGTERM after this long, e.g. 1h")
                      ->type_name("DURATION"));
    p.kill_after.add(exec->add_option("--kill-after", p.kill_after.value,
                                      "After --timeout, SIGKILL a command still running this long later (default 10s)")
                         ->type_name("DURATION"));
    exec->add_flag("--record-argv", cli.record_argv,
                   "Record the command's arguments (process.command_args); off by default, as they may hold secrets");
    exec->add_option("COMMAND", cli.command, "The command to run and its arguments (after --)")->required();
    exec->positionals_at_end();  // everything after COMMAND is its own: "exec ls -la" runs "ls -la"

    auto* span = app->get_subcommand("span");
    p.name.add(span->add_option("--name", p.name.value, "Span name")->type_name("NAME")->required());
    p.start.add(
        span->add_option("--start", p.start.value, "When it started (RFC 3339)")->type_name("TIME")->required());
    p.end.add(span->add_option("--end", p.end.value, "When it ended (RFC 3339)")->type_name("TIME")->required());
    add_attr_option(*span, p);
    add_kind_option(*span, p);
    add_status_options(*span, p);

    auto* start = app->get_subcommand("start");
    p.name.add(start->add_option("--name", p.name.value, "Span name")->type_name("NAME")->required());
    add_carrier_option(*start, p);
    add_attr_option(*start, p);
    add_kind_option(*start, p);

    auto* event = app->get_subcommand("event");
    p.name.add(event->add_option("--name", p.name.value, "Event name")->type_name("NAME")->required());
    add_carrier_option(*event, p, false);
    add_attr_option(*event, p);

    auto* end = app->get_subcommand("end");
    add_carrier_option(*end, p);
    add_attr_option(*end, p);
    add_status_options(*end, p);

    auto* ls = app->get_subcommand("ls");
    p.since.add(ls->add_option("--since", p.since.value, "Traces that ended within this long (default 24h)")
                    ->type_name("DURATION"));
    p.name.add(ls->add_option("--name", p.name.value, "Only traces whose root span has this name")->type_name("NAME"));
    ls->add_flag("--errors", cli.errors_only, "Only traces with a span in error");

    auto* show = app->get_subcommand("show");
    p.trace_id.add(show->add_option("TRACE_ID", p.trace_id.value, "The trace to show")->required());

    auto* summary = app->get_subcommand("summary");
    p.since.add(summary->add_option("--since", p.since.value, "Spans that ended within this long (default 24h)")
                    ->type_name("DURATION"));
    p.by.add(summary->add_option("--by", p.by.value, "Group by span name or tool (default name)")
                 ->type_name("FIELD")
                 ->check(CLI::IsMember({"name", "tool"})));

    auto* export_ = app->get_subcommand("export");
    nasops::CliOptional<std::int64_t> batch_size, max_attempts;
    batch_size.add(
        export_->add_option("--batch-size", batch_size.value, "Spans per request (default 512)")->type_name("N"));
    max_attempts.add(export_
                         ->add_option("--max-attempts", max_attempts.value,
                                      "Tries per batch in this run before leaving it for the next (default 5)")
                         ->type_name("N"));

    nasops::CliOptional<std::string> flush_interval;
    export_->add_flag("--follow", cli.follow,
                      "Keep running: ship spans as the file grows and is rotated, until SIGTERM or SIGINT");
    flush_interval.add(export_
                           ->add_option("--flush-interval", flush_interval.value,
                                        "With --follow, the longest a span waits for its batch to fill (default 5s)")
                           ->type_name("DURATION"));

    nasops::CliOptional<std::string> textfile_dir;
    textfile_dir.add(nasops::add_textfile_dir_option(*export_, textfile_dir.value, "trace"));

    auto* logs = app->get_subcommand("logs");
    nasops::CliOptional<std::string> tool, level;
    nasops::CliOptional<std::int64_t> top;
    p.since.add(logs->add_option("--since", p.since.value, "Lines written within this long (default 24h)")
                    ->type_name("DURATION"));
    tool.add(logs->add_option("--tool", tool.value, "Only this tool's lines, e.g. sync")->type_name("TOOL"));
    level.add(logs->add_option("--level", level.value, "Only lines at this level or worse (default info)")
                  ->type_name("LEVEL")
                  ->check(CLI::IsMember({"error", "warning", "info", "debug"})));
    top.add(logs->add_option("--top", top.value, "How many kinds of message to list (default 10)")->type_name("N"));

    return nasops::run_tool(k_tool, *app, argc, argv, [&]() -> nasops::Result<nasops::ExitCode> {
        cli.name = p.name.get();
        cli.kind = p.kind.get();
        cli.timeout = p.timeout.get();
        cli.kill_after = p.kill_after.get();
        cli.start = p.start.get();
        cli.end = p.end.get();
        cli.status = p.status.get();
        cli.status_message = p.status_message.get();
        cli.carrier = p.carrier.get();
        cli.since = p.since.get();
        cli.by = p.by.get();
        cli.trace_id = p.trace_id.get();
        cli.batch_size = batch_size.get();
        cli.max_attempts = max_attempts.get();
        cli.flush_interval = flush_interval.get();
        cli.tool = tool.get();
        cli.level = level.get();
        cli.top = top.get();
        cli.textfile_dir = textfile_dir.get();
        TRY(cli.common.output_format(k_formats));

        using nasops::trace::Command;
        TRY_ASSIGN(const Command command, nasops::chosen_of<Command>(*app, {{"exec", Command::exec},
                                                                            {"span", Command::span},
                                                                            {"start", Command::start},
                                                                            {"event", Command::event},
                                                                            {"end", Command::end},
                                                                            {"ls", Command::ls},
                                                                            {"show", Command::show},
                                                                            {"summary", Command::summary},
                                                                            {"export", Command::export_},
                                                                            {"logs", Command::logs}}));
        ::signal(SIGPIPE, SIG_IGN);
        const nasops::SystemClock clock;
        return nasops::trace::execute(command, cli, nasops::trace::CommandEnv{.clock = clock});
    });
}
