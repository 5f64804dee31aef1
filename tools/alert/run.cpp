#include "alert/run.hpp"

#include <fcntl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "alert/alert_metrics.hpp"
#include "alert/channels.hpp"
#include "alert/engine.hpp"
#include "alert/outbox.hpp"
#include "alert/record_fields.hpp"
#include "alert/rules.hpp"
#include "alert/state_store.hpp"
#include "nasops/core/config.hpp"
#include "nasops/core/lock.hpp"
#include "nasops/core/log.hpp"
#include "nasops/core/paths.hpp"
#include "nasops/core/settings.hpp"
#include "nasops/obs/textfile.hpp"
#include "nasops/obs/trace.hpp"
#include "nasops/record/record.hpp"
#include "nasops/util/unique_fd.hpp"

namespace nasops::alert {

namespace {

// What every action needs: the checked config, and the database (opened on demand).
struct Context {
    const Options& options;
    Deps& deps;
    Config config;
    AlertSettings settings;
    Paths paths;
    std::string host;
    std::optional<AlertStore> store;

    Result<AlertStore*> open_store() {
        if (store) return &*store;
        TRY(ensure_dir(paths.state_dir));
        TRY_ASSIGN(auto opened, AlertStore::open(database_path(paths)));
        store.emplace(std::move(opened));
        return &*store;
    }

    Result<LockFile> lock() {
        TRY(ensure_dir(paths.state_dir));
        return LockFile::acquire(paths.state_dir / "alert.lock", settings.lock_timeout);
    }

    NotifierDeps notifier_deps() { return NotifierDeps{deps.http, deps.mail, deps.commands, deps.clock, host}; }

    void print(std::string_view text) { std::fwrite(text.data(), 1, text.size(), deps.out); }

    // nasops_alert.prom after an evaluation or a flush, when a textfile folder
    // is set: of `alerts` when the run has them at hand, else of the store's.
    void publish_metrics(const AlertMap* alerts) {
        const auto dir = textfile_dir_setting(options.textfile_dir, config, "alert");
        if (!dir || !store) return;
        if (alerts != nullptr) {
            publish_textfile(*dir, "alert", alert_metrics(*alerts, *store));
            return;
        }
        auto loaded = store->load_alerts();
        publish_textfile(
            *dir, "alert",
            loaded ? alert_metrics(*loaded, *store) : Result<std::string>(std::unexpected(loaded.error())));
    }

    // Out of the box alerts are recorded and go nowhere: say so once per run,
    // on stderr, rather than let an operator believe someone was told.
    void warn_if_no_channel() const {
        if (settings.channels.empty() && !options.quiet)
            std::fprintf(deps.err,
                         "nasops-alert: no [[alert.channel]] is configured: alerts are recorded but sent nowhere "
                         "(see nasops.toml(5), [alert])\n");
    }
};

Result<Context> make_context(const Options& options, Deps& deps) {
    const CommonOptions common{
        .config_path = options.config_path.string(), .quiet = options.quiet, .verbose = options.verbose};
    // Logging to files is a convenience: a notification matters more than its log line.
    TRY_ASSIGN(auto tool,
               start_tool(ToolStart{.tool = "alert", .cli = common, .log_failure = LogFailure::warn, .env = deps.env}));
    TRY_ASSIGN(auto settings, load_settings(tool.config));
    auto config = std::move(tool.config);
    auto paths = std::move(tool.paths);
    auto host = deps.host.empty() ? local_hostname() : deps.host;
    return Context{options, deps, std::move(config), std::move(settings), std::move(paths), std::move(host), {}};
}

ExitCode severity_exit(std::string_view severity) {
    if (severity == "critical") return ExitCode::critical;
    if (severity == "warning") return ExitCode::warning;
    return ExitCode::ok;
}

// The alert record of nasops-records(7): the fields every shape of an alert
// has, and its name, phase and severity.
nlohmann::json alert_record(const AlertState& a, std::string_view state) {
    auto j = alert_fields(a);
    j["alertname"] = a.alertname();
    j["state"] = state;
    j["severity"] = a.severity();
    return j;
}

// ---- evaluate ---------------------------------------------------------------

struct InputProblem {
    bool fatal = false;
    Error error;
};

Result<ExitCode> evaluate(Context& ctx) {
    const auto now = ctx.deps.clock.now();
    std::optional<LockFile> lock;
    if (!ctx.options.dry_run) {
        TRY_ASSIGN(auto locked, ctx.lock());
        lock.emplace(std::move(locked));
    }
    TRY_ASSIGN(auto store, ctx.open_store());
    ctx.warn_if_no_channel();
    TRY_ASSIGN(auto alerts, (store)->load_alerts());

    // Under a trace context (nasops-trace exec), the evaluation is a span and
    // each delivery a child span.
    const auto tracer = Tracer::from_environment("alert", ctx.paths.log_dir, ctx.deps.env, ctx.deps.clock);
    Span span(tracer, "alert evaluate");
    Evaluator evaluator(ctx.settings, now, std::move(alerts));
    std::uint64_t malformed = 0;
    const auto needed_fields = record_fields(ctx.settings);
    auto read_all = [&](RecordReader& reader, const std::string& source) -> Result<void> {
        reader.keep_fields(needed_fields);
        while (auto item = reader.next()) {
            if (auto* record = std::get_if<Record>(&*item)) {
                if (record->kind == RecordKind::alert) continue;  // our own output fed back
                evaluator.process(record->object);
                continue;
            }
            const auto& problem = std::get<ReadProblem>(*item);
            if (problem.kind == ReadProblemKind::read_error) {
                return fail(ExitCode::io_error, fmt::format("{}: {}", source, problem.message));
            }
            ++malformed;
            if (ctx.options.strict) {
                return fail(ExitCode::data_error,
                            fmt::format("{}: {} (--strict: nothing was evaluated)", source, problem.message));
            }
            std::fprintf(ctx.deps.err, "nasops-alert: warning: %s: %s, skipped\n", source.c_str(),
                         problem.message.c_str());
        }
        return {};
    };
    if (ctx.options.inputs.empty()) {
        RecordReader reader(ctx.deps.stdin_fd);
        TRY(read_all(reader, "stdin"));
    } else {
        for (const auto& path : ctx.options.inputs) {
            UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
            if (!fd) {
                return fail(ExitCode::no_input, fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
            }
            RecordReader reader(fd.get());
            TRY(read_all(reader, path.string()));
        }
    }

    const auto transitions = evaluator.finish();
    const auto& current = evaluator.alerts();

    std::vector<HistoryEntry> history;
    for (const auto& t : transitions) {
        const auto& a = current.at(t.fingerprint);
        history.push_back(HistoryEntry{.at = now,
                                       .event = t.to == AlertPhase::firing ? "fired" : "resolved",
                                       .alertname = a.alertname(),
                                       .fingerprint = a.fingerprint,
                                       .value = a.value,
                                       .detail = t.reason,
                                       .labels = labels_json(a.labels)});
    }

    TRY_ASSIGN(auto notify_states, (store)->load_notify_states());
    TRY_ASSIGN(auto silences, (store)->load_silences(now));
    const auto muting = compute_muting(ctx.settings, current, silences, now);
    auto planned = plan_notifications(ctx.settings, current, muting, notify_states, now);

    if (!ctx.options.dry_run) {
        std::set<std::string> alertmanager_channels;
        for (const auto& c : ctx.settings.channels) {
            if (c.type == ChannelType::alertmanager) alertmanager_channels.insert(c.name);
        }
        const auto planned_count = planned.size();
        RunChanges changes{.alerts = &current,
                           .forgotten = &evaluator.forgotten(),
                           .notify_states = &notify_states,
                           .notifications = std::move(planned),
                           .history = std::move(history),
                           .now = now};
        TRY((store)->save_run(changes, alertmanager_channels));
        for (const auto& t : transitions) {
            const auto& a = current.at(t.fingerprint);
            nlohmann::json fields{{"alertname", a.alertname()},
                                  {"severity", a.severity()},
                                  {"labels", labels_json(a.labels)},
                                  {"fingerprint", a.fingerprint}};
            if (a.value) fields["value"] = *a.value;
            if (!t.reason.empty()) fields["reason"] = t.reason;
            logger().audit(t.to == AlertPhase::firing ? AuditEvent::alert_fired : AuditEvent::alert_resolved, fields);
        }
        logger().info("{} records, {} transitions, {} notifications queued", evaluator.records(), transitions.size(),
                      planned_count);
        auto deps = ctx.notifier_deps();
        TRY(deliver_due(*store, ctx.settings, deps, now, false, &span));
        ctx.publish_metrics(&current);
    }
    span.set_attribute("alert.records", evaluator.records());
    span.set_attribute("alert.transitions", transitions.size());

    // The transitions of this run, on stdout.
    if (ctx.options.format == OutputFormat::json) {
        RecordWriter writer(ctx.deps.out, "alert", ctx.host, ctx.deps.clock);
        for (const auto& t : transitions) {
            const auto& a = current.at(t.fingerprint);
            TRY(writer.write(RecordKind::alert, alert_record(a, phase_name(t.to))));
        }
    } else {
        for (const auto& t : transitions) {
            const auto& a = current.at(t.fingerprint);
            const auto summary = a.annotations.contains("summary") ? a.annotations.at("summary") : std::string();
            ctx.print(fmt::format("{:<8} {} [{}] {}{}{}\n", t.to == AlertPhase::firing ? "FIRING" : "RESOLVED",
                                  a.alertname(), a.severity(), labels_inline(a.labels),
                                  a.value ? " value=" + format_value(a.value) : std::string(),
                                  summary.empty() ? std::string() : "  " + summary));
        }
    }

    ExitCode worst = ExitCode::ok;
    for (const auto& [fp, a] : current) {
        if (a.phase == AlertPhase::firing) worst = worst_state(worst, severity_exit(a.severity()));
    }
    return worst;
}

// ---- ls -----------------------------------------------------------------------

Result<ExitCode> list_undelivered(Context& ctx, AlertStore& store) {
    TRY_ASSIGN(auto rows, store.undelivered());
    if (ctx.options.format == OutputFormat::json) {
        RecordWriter writer(ctx.deps.out, "alert", ctx.host, ctx.deps.clock);
        for (const auto& d : rows) {
            nlohmann::json fields{{"name", "undelivered_notification"},
                                  {"details",
                                   {{"delivery_id", d.id},
                                    {"notification_id", d.notification_id},
                                    {"channel", d.channel},
                                    {"state", delivery_state_name(d.state)},
                                    {"attempts", d.attempts},
                                    {"created_at", rfc3339_millis(d.created_at)},
                                    {"last_error", d.last_error},
                                    {"title", notification_title(d.payload)}}}};
            if (d.next_attempt_at) fields["details"]["next_attempt_at"] = rfc3339_millis(*d.next_attempt_at);
            TRY(writer.write(RecordKind::event, fields));
        }
        return ExitCode::ok;
    }
    if (rows.empty()) {
        if (!ctx.options.quiet) std::fprintf(ctx.deps.err, "nasops-alert: every notification was delivered\n");
        return ExitCode::ok;
    }
    ctx.print(fmt::format("{:<6} {:<16} {:<8} {:>8}  {:<24} {}\n", "ID", "CHANNEL", "STATE", "ATTEMPTS", "CREATED",
                          "NOTIFICATION / LAST ERROR"));
    for (const auto& d : rows) {
        ctx.print(fmt::format("{:<6} {:<16} {:<8} {:>8}  {:<24} {}\n", d.notification_id, d.channel,
                              delivery_state_name(d.state), d.attempts, rfc3339_millis(d.created_at),
                              notification_title(d.payload)));
        if (!d.last_error.empty()) ctx.print(fmt::format("{:>68}{}\n", "", d.last_error));
    }
    return ExitCode::ok;
}

Result<ExitCode> list_alerts(Context& ctx) {
    const auto now = ctx.deps.clock.now();
    TRY_ASSIGN(auto store, ctx.open_store());
    if (ctx.options.undelivered) return list_undelivered(ctx, *store);
    TRY_ASSIGN(auto alerts, (store)->load_alerts());
    TRY_ASSIGN(auto silences, (store)->load_silences(now));
    const auto muting = compute_muting(ctx.settings, alerts, silences, now);
    std::vector<const AlertState*> active;
    for (const auto& [fp, a] : alerts) {
        if (a.phase != AlertPhase::resolved) active.push_back(&a);
    }
    std::ranges::sort(active, [](const AlertState* a, const AlertState* b) {
        // cppcheck-suppress mismatchingContainers ; two tuples of references, not iterators
        return std::tie(a->alertname(), a->fingerprint) < std::tie(b->alertname(), b->fingerprint);
    });
    auto muted_word = [&](const AlertState& a) -> std::string {
        if (muting.silenced.contains(a.fingerprint)) return "silenced";
        if (muting.inhibited.contains(a.fingerprint)) return "inhibited";
        return {};
    };
    ExitCode worst = ExitCode::ok;
    for (const auto* a : active) {
        if (a->phase == AlertPhase::firing) worst = worst_state(worst, severity_exit(a->severity()));
    }
    if (ctx.options.format == OutputFormat::json) {
        RecordWriter writer(ctx.deps.out, "alert", ctx.host, ctx.deps.clock);
        for (const auto* a : active) {
            auto fields = alert_record(*a, phase_name(a->phase));
            fields["since"] = rfc3339_millis(a->phase == AlertPhase::firing ? a->fired_at.value_or(a->active_since)
                                                                            : a->active_since);
            if (auto word = muted_word(*a); !word.empty()) fields["muted"] = word;
            TRY(writer.write(RecordKind::alert, fields));
        }
        return worst;
    }
    ctx.warn_if_no_channel();
    if (active.empty()) {
        if (!ctx.options.quiet) std::fprintf(ctx.deps.err, "nasops-alert: no alert is firing or pending\n");
        return worst;
    }
    ctx.print(fmt::format("{:<10} {:<28} {:<9} {:<24} {:>10}  {}\n", "STATE", "ALERT", "SEVERITY", "SINCE", "VALUE",
                          "LABELS"));
    for (const auto* a : active) {
        auto state = std::string(phase_name(a->phase));
        if (auto word = muted_word(*a); !word.empty()) state = word;
        const auto since = a->phase == AlertPhase::firing ? a->fired_at.value_or(a->active_since) : a->active_since;
        ctx.print(fmt::format("{:<10} {:<28} {:<9} {:<24} {:>10}  {}\n", state, a->alertname(), a->severity(),
                              rfc3339_millis(since), format_value(a->value), labels_inline(a->labels)));
    }
    return worst;
}

// ---- history --------------------------------------------------------------------

Result<ExitCode> show_history(Context& ctx) {
    TRY_ASSIGN(auto store, ctx.open_store());
    TRY_ASSIGN(auto entries, (store)->history(ctx.options.limit));
    if (ctx.options.format == OutputFormat::json) {
        for (const auto& h : entries) {
            nlohmann::json details{{"at", rfc3339_millis(h.at)}, {"event", h.event}};
            if (!h.alertname.empty()) details["alertname"] = h.alertname;
            if (!h.fingerprint.empty()) details["fingerprint"] = h.fingerprint;
            if (!h.channel.empty()) details["channel"] = h.channel;
            if (h.notification_id) details["notification_id"] = *h.notification_id;
            if (h.value) details["value"] = *h.value;
            if (!h.detail.empty()) details["detail"] = h.detail;
            if (h.labels.is_object() && !h.labels.empty()) details["labels"] = h.labels;
            TRY_ASSIGN(auto line, format_record(RecordKind::event, {{"name", "alert_" + h.event}, {"details", details}},
                                                "alert", ctx.host, h.at));
            ctx.print(line);
        }
        return ExitCode::ok;
    }
    for (const auto& h : entries) {
        std::string what = h.alertname;
        if (!h.channel.empty()) what += (what.empty() ? "" : " ") + std::string("-> ") + h.channel;
        if (h.notification_id) what += fmt::format(" #{}", *h.notification_id);
        if (h.value) what += " value=" + format_value(h.value);
        if (const auto labels = labels_inline(labels_from_json(h.labels)); !labels.empty()) what += " " + labels;
        if (!h.detail.empty()) what += "  " + h.detail;
        ctx.print(fmt::format("{}  {:<16} {}\n", rfc3339_millis(h.at), h.event, what));
    }
    return ExitCode::ok;
}

// ---- flush, test --------------------------------------------------------------------

Result<ExitCode> flush(Context& ctx) {
    const auto now = ctx.deps.clock.now();
    TRY(ctx.lock());
    TRY_ASSIGN(auto store, ctx.open_store());
    if (ctx.options.dry_run) {
        TRY_ASSIGN(auto due, (store)->due_deliveries(now, true));
        for (const auto& d : due) {
            ctx.print(fmt::format("would send notification {} to {}: {}\n", d.notification_id, d.channel,
                                  notification_title(d.payload)));
        }
        return ExitCode::ok;
    }
    auto deps = ctx.notifier_deps();
    TRY_ASSIGN(auto summary, deliver_due(*store, ctx.settings, deps, now, true));
    ctx.publish_metrics(nullptr);
    if (ctx.options.format == OutputFormat::json) {
        RecordWriter writer(ctx.deps.out, "alert", ctx.host, ctx.deps.clock);
        TRY(writer.write(RecordKind::event, {{"name", "flush"},
                                             {"details",
                                              {{"delivered", summary.delivered},
                                               {"queued", summary.retrying},
                                               {"failed", summary.failed},
                                               {"dead_lettered", summary.dead}}}}));
    } else {
        ctx.print(fmt::format("delivered {}, still queued {}, failed {}, dead-lettered {}\n", summary.delivered,
                              summary.retrying, summary.failed, summary.dead));
    }
    if (summary.retrying > 0 || summary.dead > 0) {
        return fail(ExitCode::unavailable,
                    fmt::format("{} notification(s) could not be delivered; see 'nasops-alert ls --undelivered'",
                                summary.retrying + summary.dead));
    }
    if (summary.failed > 0) {
        return fail(ExitCode::data_error,
                    fmt::format("{} notification(s) were refused; see 'nasops-alert history'", summary.failed));
    }
    return ExitCode::ok;
}

Result<ExitCode> test_channels(Context& ctx) {
    const auto now = ctx.deps.clock.now();
    std::vector<const ChannelConfig*> chosen;
    if (!ctx.options.channel.empty()) {
        const auto* channel = ctx.settings.channel(ctx.options.channel);
        if (channel == nullptr) {
            std::string names;
            for (const auto& c : ctx.settings.channels) names += (names.empty() ? "" : ", ") + c.name;
            return fail(ExitCode::usage, fmt::format("no channel is named '{}' (configured: {})", ctx.options.channel,
                                                     names.empty() ? "none" : names));
        }
        chosen.push_back(channel);
    } else {
        for (const auto& c : ctx.settings.channels) chosen.push_back(&c);
    }
    if (chosen.empty()) return fail(ExitCode::config, "no [[alert.channel]] is configured: nothing to test");
    auto store = ctx.open_store();
    auto deps = ctx.notifier_deps();
    ExitCode outcome = ExitCode::ok;
    RecordWriter writer(ctx.deps.out, "alert", ctx.host, ctx.deps.clock);
    for (const auto* channel : chosen) {
        const auto payload = test_payload(now, ctx.host, channel->name, ctx.settings.external_url);
        if (ctx.options.dry_run) {
            ctx.print(fmt::format("would send a test notification to {} ({})\n", channel->name,
                                  channel_type_name(channel->type)));
            continue;
        }
        auto notifier = make_notifier(*channel, ctx.settings, deps);
        // A test notification is not in the outbox and never retried: id 0 and its time make its key.
        const auto result = notifier->deliver(payload, delivery_key(ctx.host, 0, now, channel->name));
        const bool ok = result.status == DeliveryStatus::delivered;
        if (!ok) {
            outcome = result.status == DeliveryStatus::retry || outcome == ExitCode::unavailable ? ExitCode::unavailable
                                                                                                 : ExitCode::config;
        }
        if (store) {
            static_cast<void>((*store)->add_history(HistoryEntry{.at = now,
                                                                 .event = ok ? "test_delivered" : "test_failed",
                                                                 .alertname = "nasops_test",
                                                                 .channel = channel->name,
                                                                 .detail = result.detail}));
        }
        const auto word = ok ? "delivered" : (result.status == DeliveryStatus::retry ? "unreachable" : "refused");
        if (ctx.options.format == OutputFormat::json) {
            TRY(writer.write(RecordKind::event, {{"name", "channel_test"},
                                                 {"details",
                                                  {{"channel", channel->name},
                                                   {"type", channel_type_name(channel->type)},
                                                   {"result", word},
                                                   {"detail", result.detail}}}}));
        } else {
            ctx.print(fmt::format("{}: {} ({})\n", channel->name, word, result.detail));
        }
    }
    if (outcome == ExitCode::unavailable) return fail(outcome, "a channel could not be reached");
    if (outcome != ExitCode::ok) return fail(outcome, "a channel refused the test notification; check its settings");
    return ExitCode::ok;
}

// ---- silences ---------------------------------------------------------------------------

nlohmann::json silence_json(const Silence& s) {
    nlohmann::json matchers = nlohmann::json::array();
    for (const auto& m : s.matchers) matchers.push_back(m.to_string());
    return {{"id", s.id},
            {"matchers", matchers},
            {"starts_at", rfc3339_millis(s.starts_at)},
            {"ends_at", rfc3339_millis(s.ends_at)},
            {"comment", s.comment},
            {"created_by", s.created_by}};
}

Result<ExitCode> silence_add(Context& ctx) {
    const auto now = ctx.deps.clock.now();
    if (ctx.options.matchers.empty()) return fail(ExitCode::usage, "silence add needs at least one --match");
    Silence silence;
    for (const auto& text : ctx.options.matchers) {
        TRY_ASSIGN(auto m, Matcher::parse(text));
        silence.matchers.push_back(std::move(m));
    }
    auto length = parse_duration(ctx.options.silence_for);
    if (!length) return fail(ExitCode::usage, "--for: " + length.error().message);
    if (length->count() <= 0) return fail(ExitCode::usage, "--for must be longer than 0s");
    silence.starts_at = now;
    silence.ends_at = now + *length;
    silence.comment = ctx.options.comment;
    silence.created_by = ctx.options.author;
    if (silence.created_by.empty()) silence.created_by = ctx.deps.env("USER").value_or("unknown");
    if (ctx.options.dry_run) {
        ctx.print(fmt::format("would add a silence for {} until {}\n", format_duration(*length),
                              rfc3339_millis(silence.ends_at)));
        return ExitCode::ok;
    }
    TRY_ASSIGN(auto store, ctx.open_store());
    TRY_ASSIGN(auto id, (store)->add_silence(silence, now));
    silence.id = id;
    std::string what;
    for (const auto& m : silence.matchers) what += (what.empty() ? "" : ", ") + m.to_string();
    static_cast<void>((store)->add_history(HistoryEntry{
        .at = now,
        .event = "silence_added",
        .detail = fmt::format("{} {} until {}: {}", id, what, rfc3339_millis(silence.ends_at), silence.comment)}));
    if (ctx.options.format == OutputFormat::json) {
        RecordWriter writer(ctx.deps.out, "alert", ctx.host, ctx.deps.clock);
        TRY(writer.write(RecordKind::event, {{"name", "silence_added"}, {"details", silence_json(silence)}}));
    } else {
        ctx.print(id + "\n");
    }
    return ExitCode::ok;
}

Result<ExitCode> silence_ls(Context& ctx) {
    const auto now = ctx.deps.clock.now();
    TRY_ASSIGN(auto store, ctx.open_store());
    TRY_ASSIGN(auto silences, (store)->load_silences(now));
    if (ctx.options.format == OutputFormat::json) {
        RecordWriter writer(ctx.deps.out, "alert", ctx.host, ctx.deps.clock);
        for (const auto& s : silences) {
            TRY(writer.write(RecordKind::event, {{"name", "silence"}, {"details", silence_json(s)}}));
        }
        return ExitCode::ok;
    }
    if (silences.empty()) {
        if (!ctx.options.quiet) std::fprintf(ctx.deps.err, "nasops-alert: no active silence\n");
        return ExitCode::ok;
    }
    ctx.print(fmt::format("{:<36}  {:<24} {:<12} {:<30} {}\n", "ID", "ENDS", "CREATED BY", "MATCHERS", "COMMENT"));
    for (const auto& s : silences) {
        std::string what;
        for (const auto& m : s.matchers) what += (what.empty() ? "" : ",") + m.to_string();
        const auto ends = s.starts_at > now ? "starts " + rfc3339_millis(s.starts_at) : rfc3339_millis(s.ends_at);
        ctx.print(fmt::format("{:<36}  {:<24} {:<12} {:<30} {}\n", s.id, ends, s.created_by, what, s.comment));
    }
    return ExitCode::ok;
}

Result<ExitCode> silence_rm(Context& ctx) {
    const auto now = ctx.deps.clock.now();
    if (ctx.options.silence_id.empty()) return fail(ExitCode::usage, "silence rm needs the ID of a silence");
    TRY_ASSIGN(auto store, ctx.open_store());
    if (ctx.options.dry_run) {
        ctx.print(fmt::format("would expire silence {}\n", ctx.options.silence_id));
        return ExitCode::ok;
    }
    TRY_ASSIGN(auto removed, (store)->remove_silence(ctx.options.silence_id, now));
    if (!removed) {
        return fail(ExitCode::usage, fmt::format("no active silence has the id '{}' (see 'nasops-alert silence ls')",
                                                 ctx.options.silence_id));
    }
    static_cast<void>(
        (store)->add_history(HistoryEntry{.at = now, .event = "silence_removed", .detail = ctx.options.silence_id}));
    if (!ctx.options.quiet)
        std::fprintf(ctx.deps.err, "nasops-alert: silence %s expired\n", ctx.options.silence_id.c_str());
    return ExitCode::ok;
}

}  // namespace

Result<ExitCode> run(const Options& options, Deps& deps) {
    TRY_ASSIGN(auto ctx, make_context(options, deps));
    switch (options.action) {
        case Action::evaluate: return evaluate(ctx);
        case Action::ls: return list_alerts(ctx);
        case Action::history: return show_history(ctx);
        case Action::flush: return flush(ctx);
        case Action::test: return test_channels(ctx);
        case Action::silence_add: return silence_add(ctx);
        case Action::silence_ls: return silence_ls(ctx);
        case Action::silence_rm: return silence_rm(ctx);
    }
    return fail(ExitCode::software, "unknown action");
}

}  // namespace nasops::alert
