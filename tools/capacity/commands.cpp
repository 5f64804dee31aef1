#include "commands.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <set>
#include <tuple>

#include "forecast_output.hpp"
#include "health_import.hpp"
#include "measure.hpp"
#include "nasops/core/log.hpp"
#include "nasops/core/paths.hpp"
#include "nasops/core/settings.hpp"
#include "nasops/db/store.hpp"
#include "nasops/obs/metrics.hpp"
#include "nasops/obs/textfile.hpp"
#include "nasops/record/record.hpp"
#include "nasops/util/atomic_file.hpp"
#include "nasops/util/units.hpp"
#include "report.hpp"
#include "samples.hpp"
#include "transfers.hpp"

namespace nasops::capacity {

namespace fs = std::filesystem;

namespace {

struct Context {
    Config config;
    Settings settings;
    Paths paths;
};

Result<Context> prepare(Subcommand subcommand, const CliOptions& cli, const CommandEnv& env, LogFiles files) {
    TRY_ASSIGN(auto tool, start_tool(ToolStart{.tool = "capacity", .cli = cli.common, .files = files, .env = env.env}));
    if (env.trace != nullptr) env.trace->start("capacity", tool.paths.log_dir, env.env, env.clock);
    TRY_ASSIGN(auto settings, resolve_settings(cli, tool.config, subcommand));
    return Context{std::move(tool.config), std::move(settings), std::move(tool.paths)};
}

std::int64_t unix_seconds(const Clock& clock) {
    return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
}

Result<void> write_out(std::FILE* out, std::string_view text) {
    if (text.empty()) return {};
    if (std::fwrite(text.data(), 1, text.size(), out) != text.size() || std::fflush(out) != 0)
        return fail(ExitCode::io_error, "cannot write to stdout");
    return {};
}

Result<Store> open_writable(const Paths& paths) {
    TRY(ensure_dir(paths.state_dir));
    TRY_ASSIGN(auto store, Store::open(database_path(paths), migrations()));
    // The last connection to close checkpoints the WAL and deletes it, and the
    // next run creates it again: four fsyncs for a few kilobytes of samples.
    // The hourly record leaves its pages in the WAL instead; SQLite's own
    // auto-checkpoint (1000 pages) or the next tool to close folds them in.
    sqlite3_db_config(store.db().getHandle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    return store;
}

// The database for reading: nullopt when there is none yet, or no samples table.
Result<std::optional<Store>> open_readable(const Paths& paths) {
    const auto db = database_path(paths);
    std::error_code ec;
    if (!fs::exists(db, ec)) return std::optional<Store>{};
    TRY_ASSIGN(auto store, Store::open(db, migrations(), OpenMode::read_only));
    TRY_ASSIGN(const int version, store.schema_version("capacity"));
    if (version == 0) return std::optional<Store>{};
    // forecast reads a year of samples per target: mapping the file saves a
    // pread(2) and a copy per page (a tenth of its time).
    TRY(db_guard(store.db(), "mapping the database for reading", [&]() -> Result<void> {
        store.db().exec("PRAGMA mmap_size = 268435456");
        return {};
    }));
    return std::optional<Store>(std::move(store));
}

// ---- record ----------------------------------------------------------------

// The local folders to sample: [sync] sources, --target or [capacity] targets,
// the state folder; each file system once (the first folder names it).
std::vector<fs::path> local_targets(const Context& ctx) {
    std::vector<fs::path> paths;
    for (const auto& s : ctx.config.section("sync").get_string_list("sources")) paths.emplace_back(s);
    for (const auto& t : ctx.settings.extra_targets) paths.push_back(t);
    std::error_code ec;
    if (fs::is_directory(ctx.paths.state_dir, ec)) paths.push_back(ctx.paths.state_dir);
    std::vector<fs::path> out;
    std::set<std::uint64_t> devices;
    std::set<fs::path> seen;
    for (auto& p : paths) {
        if (!seen.insert(p).second) continue;
        if (auto dev = device_of(p); dev && !devices.insert(*dev).second) continue;
        out.push_back(p);
    }
    return out;
}

struct Collected {
    std::vector<TargetSample> samples;
    ExitCode worst = ExitCode::ok;  // the first failure's code: the others are logged too
    void failed(const Error& e) {
        logger().error("{}", e.message);
        if (worst == ExitCode::ok) worst = e.code;
    }
};

// Under a trace, each target's measurement is a span `measure <target>`.
class MeasureSpan {
public:
    MeasureSpan(const CommandEnv& env, const std::string& target, SpanKind kind)
        : m_span(child_span(env.trace != nullptr ? env.trace->span() : nullptr, "measure " + target, kind)) {
        if (m_span) m_span->set_attribute("capacity.target", target);
    }
    void measured(const Sample& sample) {
        if (!m_span) return;
        m_span->set_attribute("capacity.used_bytes", sample.used);
        m_span->set_attribute("capacity.total_bytes", sample.total);
    }
    void failed(const Error& error) {
        if (m_span) m_span->set_error(error.message);
    }

private:
    std::optional<Span> m_span;
};

Collected measure_all(const Context& ctx, const CommandEnv& env, std::int64_t now) {
    Collected c;
    for (const auto& path : local_targets(ctx)) {
        MeasureSpan span(env, path.string(), SpanKind::internal);
        auto s = measure_local(path, now);
        if (!s) {
            span.failed(s.error());
            c.failed(s.error());
            continue;
        }
        span.measured(*s);
        c.samples.push_back(TargetSample{path.string(), *s});
    }
    if (!ctx.settings.nas) return c;
    auto share = nas_share(ctx.config, env.env);
    if (!share) {
        c.failed(share.error());
    } else if (*share) {
        MeasureSpan span(env, (*share)->target(), SpanKind::client);
        auto s = measure_nas(**share, now);
        if (!s) {
            span.failed(s.error());
            c.failed(s.error());
        } else {
            span.measured(s->sample);
            logger().debug("NAS {} measured by {}", (*share)->target(), s->how);
            c.samples.push_back(TargetSample{(*share)->target(), s->sample});
        }
    }
    return c;
}

Collected read_health_records(const CommandEnv& env) {
    Collected c;
    RecordReader reader(env.in_fd);
    while (auto item = reader.next()) {
        if (auto* problem = std::get_if<ReadProblem>(&*item)) {
            const auto code = problem->kind == ReadProblemKind::read_error ? ExitCode::io_error : ExitCode::data_error;
            c.failed(Error{fmt::format("stdin: {}", problem->message), code});
            continue;
        }
        auto sample = sample_from_check(std::get<Record>(*item));
        if (!sample) {
            c.failed(Error{fmt::format("stdin: line {}: {}", reader.line_number(), sample.error().message),
                           sample.error().code});
            continue;
        }
        if (*sample) c.samples.push_back(std::move(**sample));
    }
    return c;
}

Result<ExitCode> record(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(Subcommand::record, cli, env, cli.dry_run ? LogFiles::no : LogFiles::yes));
    const auto now = unix_seconds(env.clock);
    if (!ctx.settings.dry_run) TRY(ensure_dir(ctx.paths.state_dir));
    auto collected = ctx.settings.from_stdin ? read_health_records(env) : measure_all(ctx, env, now);
    std::optional<MediaCounts> media;
    if (!ctx.settings.dry_run) {
        TRY_ASSIGN(auto store, open_writable(ctx.paths));
        if (!ctx.settings.from_stdin) {
            TRY_ASSIGN(media, read_media_counts(store.db(), now));
        }
        SampleStore samples(store.db());
        TRY_ASSIGN(const auto pruned,
                   samples.add_and_downsample(collected.samples, media, now, ctx.settings.retention));
        logger().debug("downsampled: {} to hourly, {} to daily, {} expired", pruned.to_hourly, pruned.to_daily,
                       pruned.expired);
    }
    if (ctx.settings.format == OutputFormat::json) {
        RecordWriter writer(env.out, "capacity", local_hostname(), env.clock);
        for (const auto& s : collected.samples) {
            const double ratio =
                s.sample.total > 0 ? static_cast<double>(s.sample.used) / static_cast<double>(s.sample.total) : 0.0;
            TRY(writer.write(RecordKind::metric, {{"name", "capacity_used_ratio"},
                                                  {"value", ratio},
                                                  {"unit", "ratio"},
                                                  {"labels", {{"target", s.target}}},
                                                  {"used_bytes", s.sample.used},
                                                  {"total_bytes", s.sample.total}}));
        }
        if (media) {
            for (const auto& [state, files, bytes] :
                 {std::tuple{"pending", media->pending_files, media->pending_bytes},
                  std::tuple{"completed", media->completed_files, media->completed_bytes}}) {
                TRY(writer.write(RecordKind::metric, {{"name", "capacity_sync_files"},
                                                      {"value", files},
                                                      {"unit", "count"},
                                                      {"labels", {{"state", state}}},
                                                      {"bytes", bytes}}));
            }
        }
    } else if (!ctx.settings.quiet) {
        std::string text;
        for (const auto& s : collected.samples) {
            const double ratio =
                s.sample.total > 0 ? static_cast<double>(s.sample.used) / static_cast<double>(s.sample.total) : 0.0;
            text += fmt::format("{}: {:.1f}% used ({} of {}){}\n", s.target, ratio * 100, format_size(s.sample.used),
                                format_size(s.sample.total), ctx.settings.dry_run ? " (not stored: --dry-run)" : "");
        }
        if (media)
            text += fmt::format("sync queue: {} files ({}) to upload, {} uploaded ({})\n", media->pending_files,
                                format_size(media->pending_bytes), media->completed_files,
                                format_size(media->completed_bytes));
        TRY(write_out(env.out, text));
    }
    if (collected.samples.empty() && collected.worst == ExitCode::ok && ctx.settings.from_stdin)
        logger().warning("stdin held no disk or nas_disk check record: nothing recorded");
    return collected.worst;
}

// ---- forecast, show --------------------------------------------------------

Result<std::vector<std::string>> chosen_targets(SampleStore& samples, const Settings& settings) {
    TRY_ASSIGN(auto all, samples.targets());
    if (!settings.target) return all;
    if (std::ranges::find(all, *settings.target) == all.end())
        return fail(ExitCode::no_input,
                    fmt::format("--target: no samples of '{}' (see nasops-capacity show)", *settings.target));
    return std::vector<std::string>{*settings.target};
}

Result<std::vector<TargetForecast>> forecast_all(SampleStore& samples, const Settings& settings, std::int64_t now) {
    TRY_ASSIGN(const auto targets, chosen_targets(samples, settings));
    std::vector<TargetForecast> out;
    for (const auto& target : targets) {
        TRY_ASSIGN(const auto history, samples.samples(target, now - settings.forecast.window.count()));
        out.push_back(TargetForecast{target, forecast(history, settings.forecast, now)});
    }
    return out;
}

Result<ExitCode> forecast_command(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(Subcommand::forecast, cli, env, LogFiles::no));
    const auto now = unix_seconds(env.clock);
    std::vector<TargetForecast> forecasts;
    TRY_ASSIGN(auto store, open_readable(ctx.paths));
    if (store) {
        SampleStore samples(store->db());
        TRY_ASSIGN(auto all, forecast_all(samples, ctx.settings, now));
        forecasts = std::move(all);
    } else if (ctx.settings.target) {
        return fail(ExitCode::no_input,
                    fmt::format("--target: no samples of '{}': nothing recorded yet", *ctx.settings.target));
    }
    const auto& s = ctx.settings;
    const auto exposition = forecast_exposition(forecasts);
    publish_textfile(s.textfile_dir, "capacity", exposition);
    if (s.format == OutputFormat::prom) {
        if (!exposition) return std::unexpected(exposition.error());
        TRY(write_out(env.out, *exposition));
        return ExitCode::ok;
    }
    if (s.textfile_dir && s.quiet) return ExitCode::ok;
    if (s.format == OutputFormat::json) {
        RecordWriter writer(env.out, "capacity", local_hostname(), env.clock);
        for (const auto& f : forecasts) TRY(writer.write(RecordKind::forecast, forecast_fields(f, s.forecast)));
        return ExitCode::ok;
    }
    if (s.quiet) return ExitCode::ok;
    std::string text;
    if (forecasts.empty()) text = "no samples yet: run nasops-capacity record (hourly, from cron)\n";
    for (const auto& f : forecasts) text += forecast_text(f, s.forecast, glyphs_for(env.env));
    TRY(write_out(env.out, text));
    return ExitCode::ok;
}

Result<ExitCode> show(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(Subcommand::show, cli, env, LogFiles::no));
    const auto now = unix_seconds(env.clock);
    const std::int64_t since =
        ctx.settings.since ? now - std::chrono::duration_cast<std::chrono::seconds>(*ctx.settings.since).count() : 0;
    TRY_ASSIGN(auto store, open_readable(ctx.paths));
    if (!store) {
        if (ctx.settings.target)
            return fail(ExitCode::no_input,
                        fmt::format("--target: no samples of '{}': nothing recorded yet", *ctx.settings.target));
        if (ctx.settings.format == OutputFormat::text && !ctx.settings.quiet)
            TRY(write_out(env.out, "no samples yet: run nasops-capacity record\n"));
        return ExitCode::ok;
    }
    SampleStore samples(store->db());
    TRY_ASSIGN(const auto targets, chosen_targets(samples, ctx.settings));
    std::optional<RecordWriter> writer;
    if (ctx.settings.format == OutputFormat::json) writer.emplace(env.out, "capacity", local_hostname(), env.clock);
    for (const auto& target : targets) {
        TRY_ASSIGN(const auto history, samples.samples(target, since));
        if (writer) {
            for (const auto& s : history) {
                TRY(writer->write(RecordKind::metric,
                                  {{"name", "capacity_used_bytes"},
                                   {"value", s.used},
                                   {"unit", "bytes"},
                                   {"labels", {{"target", target}}},
                                   {"sample_ts", rfc3339_millis(SystemTimePoint{std::chrono::seconds{s.ts}})},
                                   {"total_bytes", s.total}}));
            }
            continue;
        }
        if (ctx.settings.quiet) continue;
        std::string text = fmt::format("{} ({} samples)\n", target, history.size());
        for (const auto& s : history) {
            const double ratio = s.total > 0 ? static_cast<double>(s.used) / static_cast<double>(s.total) * 100.0 : 0.0;
            text += fmt::format("  {:%Y-%m-%d %H:%M:%S}  {:>10}  {:>10}  {:5.1f}%\n",
                                std::chrono::sys_seconds{std::chrono::seconds{s.ts}}, format_size(s.used),
                                format_size(s.total), ratio);
        }
        TRY(write_out(env.out, text));
    }
    if (ctx.settings.target) return ExitCode::ok;
    TRY_ASSIGN(const auto media, samples.media(since));
    if (media.empty()) return ExitCode::ok;
    if (writer) {
        for (const auto& m : media) {
            for (const auto& [state, files, bytes] : {std::tuple{"pending", m.pending_files, m.pending_bytes},
                                                      std::tuple{"completed", m.completed_files, m.completed_bytes}}) {
                TRY(writer->write(RecordKind::metric,
                                  {{"name", "capacity_sync_files"},
                                   {"value", files},
                                   {"unit", "count"},
                                   {"labels", {{"state", state}}},
                                   {"bytes", bytes},
                                   {"sample_ts", rfc3339_millis(SystemTimePoint{std::chrono::seconds{m.ts}})}}));
            }
        }
        return ExitCode::ok;
    }
    if (ctx.settings.quiet) return ExitCode::ok;
    std::string text = fmt::format("sync queue ({} samples): to upload, uploaded\n", media.size());
    for (const auto& m : media) {
        text += fmt::format("  {:%Y-%m-%d %H:%M:%S}  {:>8} files {:>10}  {:>8} files {:>10}\n",
                            std::chrono::sys_seconds{std::chrono::seconds{m.ts}}, m.pending_files,
                            format_size(m.pending_bytes), m.completed_files, format_size(m.completed_bytes));
    }
    TRY(write_out(env.out, text));
    return ExitCode::ok;
}

// ---- report, transfers -----------------------------------------------------

Result<ExitCode> report(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(Subcommand::report, cli, env, LogFiles::no));
    const auto now = unix_seconds(env.clock);
    const auto& s = ctx.settings;
    std::vector<TargetHistory> histories;
    TRY_ASSIGN(auto store, open_readable(ctx.paths));
    if (store) {
        SampleStore samples(store->db());
        TRY_ASSIGN(const auto targets, chosen_targets(samples, s));
        const auto since = now - std::max<std::int64_t>(s.forecast.window.count(), 30 * k_seconds_per_day);
        for (const auto& target : targets) {
            TRY_ASSIGN(auto history, samples.samples(target, since));
            auto f = forecast(history, s.forecast, now);
            histories.push_back(TargetHistory{target, std::move(history), std::move(f)});
        }
    } else if (s.target) {
        return fail(ExitCode::no_input, fmt::format("--target: no samples of '{}': nothing recorded yet", *s.target));
    }
    if (s.svg) TRY(write_file_atomically(*s.svg, report_svg(histories, s.forecast)));
    if (s.html) TRY(write_file_atomically(*s.html, report_html(histories, s.forecast, local_hostname(), now)));
    if (s.format == OutputFormat::json) {
        RecordWriter writer(env.out, "capacity", local_hostname(), env.clock);
        for (const auto& h : histories)
            TRY(writer.write(RecordKind::forecast, forecast_fields(TargetForecast{h.target, h.forecast}, s.forecast)));
        return ExitCode::ok;
    }
    if (s.quiet) return ExitCode::ok;
    TRY(write_out(env.out, histories.empty() ? std::string("no samples yet: run nasops-capacity record\n")
                                             : report_text(histories, s.forecast, glyphs_for(env.env))));
    return ExitCode::ok;
}

Result<ExitCode> transfers(const CliOptions& cli, const CommandEnv& env) {
    TRY_ASSIGN(auto ctx, prepare(Subcommand::transfers, cli, env, LogFiles::no));
    const auto now = unix_seconds(env.clock);
    const auto& s = ctx.settings;
    TransferHistory history;
    const auto db = database_path(ctx.paths);
    std::error_code ec;
    if (fs::exists(db, ec)) {
        TRY_ASSIGN(auto store, Store::open(db, migrations(), OpenMode::read_only));
        TRY_ASSIGN(history, read_transfer_history(store.db(), now - s.forecast.window.count(), now));
    }
    const auto f = forecast_transfers(history, static_cast<int>(s.transfer_days));
    if (s.format == OutputFormat::json) {
        RecordWriter writer(env.out, "capacity", local_hostname(), env.clock);
        nlohmann::json j = {{"target", "transfers"},
                            {"state", f.enough ? "ok" : "insufficient_data"},
                            {"status", f.enough ? "ok" : "unknown"},
                            {"history_days", f.days},
                            {"horizon_days", f.horizon_days}};
        if (f.enough) {
            j["daily_files"] = f.daily_files;
            j["daily_bytes"] = f.daily_bytes;
            j["files_growth_per_day"] = f.files_growth_per_day;
            j["bytes_growth_per_day"] = f.bytes_growth_per_day;
            j["predicted_daily_files"] = f.predicted_daily_files;
            j["predicted_daily_bytes"] = f.predicted_daily_bytes;
            j["peak_multiplier"] = f.peak_multiplier;
            if (f.job_bytes_per_second) j["job_bytes_per_second"] = *f.job_bytes_per_second;
            j["recommended_jobs"] = f.recommended_jobs;
        } else {
            j["message"] = f.note;
        }
        TRY(writer.write(RecordKind::forecast, j));
        return ExitCode::ok;
    }
    if (s.quiet) return ExitCode::ok;
    std::string text;
    if (!f.enough) {
        text = fmt::format("transfers: UNKNOWN {}\n", f.note);
    } else {
        text += fmt::format("transfers over the last {} days:\n", f.days);
        text += fmt::format("  daily         {:.1f} files, {}\n", f.daily_files,
                            format_size(static_cast<std::uint64_t>(f.daily_bytes)));
        text += fmt::format("  growth        {:+.2f} files/day, {}{}/day per day\n", f.files_growth_per_day,
                            f.bytes_growth_per_day < 0 ? "-" : "+",
                            format_size(static_cast<std::uint64_t>(std::fabs(f.bytes_growth_per_day))));
        text += fmt::format("  in {} days     {:.1f} files, {} a day\n", f.horizon_days, f.predicted_daily_files,
                            format_size(static_cast<std::uint64_t>(f.predicted_daily_bytes)));
        text += fmt::format("  peak hour     {:.1f}x the average hour (measured)\n", f.peak_multiplier);
        if (f.job_bytes_per_second)
            text += fmt::format("  per job       {}/s (measured)\n",
                                format_size(static_cast<std::uint64_t>(*f.job_bytes_per_second)));
        text += fmt::format("  recommended   nasops-sync run --jobs {}\n", f.recommended_jobs);
    }
    TRY(write_out(env.out, text));
    return ExitCode::ok;
}

Result<ExitCode> dispatch(Subcommand subcommand, const CliOptions& cli, const CommandEnv& env) {
    switch (subcommand) {
        case Subcommand::record: return record(cli, env);
        case Subcommand::forecast: return forecast_command(cli, env);
        case Subcommand::show: return show(cli, env);
        case Subcommand::report: return report(cli, env);
        case Subcommand::transfers: return transfers(cli, env);
    }
    return fail(ExitCode::software, "unknown subcommand");
}

std::string_view subcommand_name(Subcommand subcommand) {
    switch (subcommand) {
        case Subcommand::record: return "record";
        case Subcommand::forecast: return "forecast";
        case Subcommand::show: return "show";
        case Subcommand::report: return "report";
        case Subcommand::transfers: return "transfers";
    }
    return "?";
}

}  // namespace

// Under a trace, the subcommand is a span `capacity <subcommand>`; prepare
// starts it, as the log folder is known only then.
Result<ExitCode> execute(Subcommand subcommand, const CliOptions& cli, const CommandEnv& env) {
    CommandSpan trace(fmt::format("capacity {}", subcommand_name(subcommand)));
    CommandEnv traced = env;
    traced.trace = &trace;
    auto outcome = dispatch(subcommand, cli, traced);
    trace.end(outcome);
    return outcome;
}

}  // namespace nasops::capacity
