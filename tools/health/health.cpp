#include "health/health.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <set>
#include <system_error>

#include "health/procfs.hpp"
#include "health/report.hpp"
#include "health/runner.hpp"
#include "health/thresholds.hpp"
#include "nasops/core/log.hpp"
#include "nasops/core/settings.hpp"
#include "nasops/core/unconfigured.hpp"
#include "nasops/obs/metrics.hpp"
#include "nasops/obs/textfile.hpp"
#include "nasops/obs/trace.hpp"
#include "nasops/record/record.hpp"
#include "nasops/ssh/nas_config.hpp"
#include "nasops/util/text.hpp"

namespace nasops::health {

namespace {

bool known_check(std::string_view name) {
    return std::ranges::find(check_names(), canonical_check_name(name)) != check_names().end();
}

std::vector<std::string> canonical_check_names(const std::vector<std::string>& names) {
    std::vector<std::string> out;
    out.reserve(names.size());
    for (const auto& name : names) out.push_back(canonical_check_name(name));
    return out;
}

std::unexpected<Error> join_problems(const std::vector<std::string>& problems) {
    std::string message;
    for (const auto& p : problems) message += (message.empty() ? "" : "\n") + p;
    return fail(ExitCode::config, std::move(message));
}

// Checks the [health] values the schema cannot express, reporting every problem at once.
Result<void> validate(const ConfigTable& health) {
    std::vector<std::string> problems;
    for (const auto& name : health.get_string_list("checks")) {
        if (!known_check(name)) {
            problems.push_back(health.error_at("checks", fmt::format("unknown check '{}'", name)).message);
        }
    }
    for (const auto key : {"processes", "services", "tls_targets"}) {
        for (const auto& item : health.get_string_list(key)) {
            if (item.empty()) problems.push_back(health.error_at(key, "an entry is empty").message);
        }
    }
    for (const auto& target : health.get_string_list("tls_targets")) {
        if (target.empty() || target.starts_with('/')) continue;
        const auto colon = target.rfind(':');
        const auto bracket = target.rfind(']');
        if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket)) continue;
        int port = 0;
        const auto text = std::string_view(target).substr(colon + 1);
        const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
        if (ec != std::errc{} || ptr != text.data() + text.size() || port < 1 || port > 65535 || colon == 0) {
            problems.push_back(health
                                   .error_at("tls_targets", fmt::format("'{}' is neither host:port (port 1 to 65535) "
                                                                        "nor the absolute path of a PEM file",
                                                                        target))
                                   .message);
        }
    }
    for (const auto& [name, value] : health.get_string_map("labels")) {
        if (auto ok = check_label_name(name); !ok || name == "check" || name == "target") {
            problems.push_back(
                health
                    .error_at("labels", fmt::format("'{}' cannot be a label name{}", name,
                                                    ok ? " (nasops-health sets it)" : ": " + ok.error().message))
                    .message);
        }
    }
    for (const auto& entry : health.get_entries("http")) {
        const auto& url = entry.get_string("url");
        if (!url.starts_with("http://") && !url.starts_with("https://")) {
            problems.push_back(
                entry.error_at("url", fmt::format("'{}' is not an http:// or https:// URL", url)).message);
        }
        for (const auto key : {"warn", "crit"}) {
            const auto& text = entry.get_string(key);
            if (text.empty()) continue;
            if (auto range = parse_threshold(text, Quantity::seconds); !range) {
                problems.push_back(entry.error_at(key, range.error().message).message);
            }
        }
    }
    for (const auto key : {"timeout", "cpu_sample", "log_window", "transfer_window", "ssh_window"}) {
        if (health.get_duration(key).count() <= 0) {
            problems.push_back(health.error_at(key, "must be more than 0").message);
        }
    }
    if (auto t = health.get_optional_duration("check_timeout"); t && t->count() <= 0) {
        problems.push_back(health.error_at("check_timeout", "must be more than 0").message);
    }
    if (!problems.empty()) return join_problems(problems);
    return {};
}

std::vector<std::string> unique(const std::vector<std::string>& items) {
    std::vector<std::string> out;
    std::set<std::string, std::less<>> seen;
    for (const auto& item : items) {
        if (seen.insert(item).second) out.push_back(item);
    }
    return out;
}

std::filesystem::path db_path_of(const ConfigTable& health, const Paths& paths) {
    auto configured = health.get_path("db_path");
    return configured.empty() ? database_path(paths) : configured;
}

std::vector<std::string> automatic_checks(const Config& config, const Paths& paths) {
    const auto& health = config.section("health");
    std::vector<std::string> names{"disk", "memory", "cpu", "load", "fds"};
    std::error_code ec;
    if (!health.get_string_list("processes").empty()) names.emplace_back("process");
    if (!health.get_string_list("services").empty()) names.emplace_back("service");
    if (std::filesystem::exists(db_path_of(health, paths), ec)) names.emplace_back("db");
    if (std::filesystem::is_directory(paths.log_dir, ec)) names.emplace_back("logs");
    if (!config.get_string("nas", "host").empty()) {
        names.emplace_back("nas_disk");
        names.emplace_back("ssh");
    }
    if (!health.get_entries("http").empty()) names.emplace_back("http");
    if (!health.get_string_list("tls_targets").empty()) names.emplace_back("tls");
    names.emplace_back("transfer");  // a WARNING while nasops-sync is not configured
    return names;
}

// What the security check looks at: the media sources, the state, log and
// config folders, the secret files the config names and known_hosts.
SecurityTargets security_targets(const Config& config, const Paths& paths, const Deps& deps) {
    SecurityTargets targets;
    for (const auto& source : unique(config.get_string_list("sync", "sources"))) targets.media.emplace_back(source);
    targets.folders = {paths.state_dir, paths.log_dir};
    if (!config.source().empty()) targets.config_folder = config.source().parent_path();
    for (const auto key : {"identity_file", "passphrase_file"}) {
        if (auto file = config.get_path("nas", key); !file.empty()) targets.private_files.push_back(std::move(file));
    }
    for (const auto& channel : config.section("alert").get_entries("channel")) {
        if (auto file = channel.get_path("password_file"); !file.empty())
            targets.private_files.push_back(std::move(file));
    }
    // Without the options (a passphrase file open to others) there is no known_hosts to judge: that file is a finding.
    if (auto ssh = nas_ssh_options(config, deps.env); ssh && !ssh->known_hosts.empty()) {
        targets.owned_files.push_back(ssh->known_hosts);
    }
    targets.sync_db = database_path(paths);
    return targets;
}

// The SSH options of [nas], or why the NAS checks cannot run.
Result<SshOptions> nas_options(const Config& config, const Deps& deps) {
    TRY_ASSIGN(auto ssh, nas_ssh_options(config, deps.env));
    if (ssh.host.empty()) return fail(ExitCode::config, "no NAS configured ([nas] host is empty)");
    TRY(require_nas_login(config, ssh));
    return ssh;
}

}  // namespace

Result<std::vector<std::shared_ptr<Check>>> build_checks(const Options& options, const Config& config,
                                                         const Paths& paths, const Deps& deps) {
    const auto& health = config.section("health");
    TRY(validate(health));

    std::vector<std::string> names = canonical_check_names(options.checks);
    for (const auto& name : names) {
        if (!known_check(name)) return fail(ExitCode::usage, fmt::format("unknown check '{}'", name));
    }
    if (names.empty()) names = canonical_check_names(health.get_string_list("checks"));
    if (names.empty()) names = automatic_checks(config, paths);
    names = unique(names);
    if (options.no_cpu) std::erase(names, "cpu");

    if ((options.warn || options.crit) && names.size() != 1) {
        return fail(ExitCode::usage,
                    "-w and -c apply to one check: name exactly one (e.g. nasops-health disk -w 85 -c 95)");
    }
    if (options.percent_of == PercentOf::used && !options.warn && !options.crit) {
        return fail(ExitCode::usage,
                    "--used changes what N% means in -w and -c: give one of them too "
                    "(e.g. nasops-health disk --used -w 80% -c 90%)");
    }
    auto resolved = Thresholds::resolve(health, names.size() == 1 ? names.front() : std::string(), options.warn,
                                        options.crit, options.percent_of);
    if (!resolved) return std::unexpected(resolved.error());
    const auto thresholds = std::make_shared<const Thresholds>(std::move(*resolved));

    const auto overall = options.timeout.value_or(health.get_duration("timeout"));
    const auto check_timeout = std::min(health.get_optional_duration("check_timeout").value_or(overall), overall);
    const auto cpu_sample = options.cpu_sample.value_or(health.get_duration("cpu_sample"));
    if (cpu_sample.count() <= 0) return fail(ExitCode::usage, "--cpu-sample must be more than 0");
    if (cpu_sample >= check_timeout && std::ranges::find(names, "cpu") != names.end()) {
        const auto message = fmt::format("the cpu sample ({}) must be shorter than the check timeout ({})",
                                         format_duration(cpu_sample), format_duration(check_timeout));
        if (options.cpu_sample || options.timeout) return fail(ExitCode::usage, message);
        return std::unexpected(health.error_at("cpu_sample", message));
    }

    const auto processes = unique(health.get_string_list("processes"));
    const auto db = db_path_of(health, paths);
    std::vector<std::shared_ptr<Check>> checks;
    auto unconfigured = [&](std::string_view name, std::string message) {
        checks.push_back(make_unconfigured_check(std::string(name), "", std::move(message), Status::unknown));
    };
    for (const auto& name : names) {
        if (name == "disk") {
            const auto disk_paths = unique(health.get_string_list("disk_paths"));
            if (disk_paths.empty()) unconfigured(name, "no disk paths configured ([health] disk_paths is empty)");
            for (const auto& p : disk_paths) checks.push_back(make_disk_check(p, thresholds));
        } else if (name == "memory" || name == "load") {
            const auto factory = name == "memory" ? make_memory_check : make_load_check;
            checks.push_back(factory(deps.proc_root, thresholds));
        } else if (name == "cpu") {
            checks.push_back(make_cpu_check(deps.proc_root, cpu_sample, thresholds));
        } else if (name == "fds") {
            checks.push_back(make_fds_check(deps.proc_root, thresholds));
            for (const auto& p : processes) checks.push_back(make_process_fds_check(p, deps.proc_root, thresholds));
        } else if (name == "process") {
            if (processes.empty()) unconfigured(name, "no processes configured ([health] processes is empty)");
            for (const auto& p : processes) checks.push_back(make_process_check(p, deps.proc_root, thresholds));
        } else if (name == "service") {
            const auto services = unique(health.get_string_list("services"));
            if (services.empty()) unconfigured(name, "no services configured ([health] services is empty)");
            for (const auto& s : services) {
                checks.push_back(make_service_check(s, deps.systemd_dir, deps.systemctl, thresholds));
            }
        } else if (name == "db") {
            checks.push_back(make_db_check(db, thresholds));
        } else if (name == "logs") {
            checks.push_back(make_logs_check(paths.log_dir, health.get_duration("log_window"), thresholds));
        } else if (name == "transfer") {
            if (auto why = sync_not_configured(config)) {
                checks.push_back(make_unconfigured_check(std::string(name), "", std::move(*why), Status::warning));
                continue;
            }
            checks.push_back(
                make_transfer_check(database_path(paths), health.get_duration("transfer_window"), thresholds));
        } else if (name == "nas_disk" || name == "ssh") {
            auto ssh = nas_options(config, deps);
            if (!ssh) {
                unconfigured(name, ssh.error().message);
                continue;
            }
            const auto root = config.get_path("nas", "remote_root").string();
            if (name == "nas_disk") {
                checks.push_back(make_nas_disk_check(std::move(*ssh), root, thresholds));
            } else {
                // The probe history lives in the state database; without a state folder there is none.
                auto state = ensure_dir(paths.state_dir);
                checks.push_back(make_ssh_check(std::move(*ssh), root,
                                                state ? database_path(paths) : std::filesystem::path(),
                                                health.get_duration("ssh_window"), thresholds));
            }
        } else if (name == "http") {
            const auto entries = health.get_entries("http");
            if (entries.empty()) unconfigured(name, "no URLs configured (no [[health.http]] entry)");
            for (const auto& entry : entries) {
                HttpTarget target{.url = entry.get_string("url"),
                                  .expect_status = entry.get_int("status"),
                                  .body_match = entry.get_string("match")};
                if (const auto& w = entry.get_string("warn"); !w.empty())
                    target.warn = *parse_threshold(w, Quantity::seconds);
                if (const auto& c = entry.get_string("crit"); !c.empty())
                    target.crit = *parse_threshold(c, Quantity::seconds);
                checks.push_back(make_http_check(std::move(target), thresholds));
            }
        } else if (name == "security") {
            checks.push_back(make_security_check(security_targets(config, paths, deps), thresholds));
        } else if (name == "tls") {
            const auto targets = unique(health.get_string_list("tls_targets"));
            if (targets.empty()) unconfigured(name, "no certificates configured ([health] tls_targets is empty)");
            for (const auto& t : targets) checks.push_back(make_tls_check(t, thresholds));
        }
    }
    return checks;
}

Result<TimeoutOption> parse_timeout_option(const std::optional<std::string>& typed) {
    TimeoutOption parsed;
    if (!typed) return parsed;
    const auto colon = typed->find(':');
    TRY_ASSIGN(parsed.limit, typed_duration(typed->substr(0, colon), "--timeout"));
    if (colon == std::string::npos) return parsed;
    const auto state = lower(typed->substr(colon + 1));
    constexpr std::array k_states{Status::ok, Status::warning, Status::critical, Status::unknown};
    for (std::size_t i = 0; i < k_states.size(); ++i) {
        if (state == status_word(k_states[i]) || state == std::to_string(i)) {
            parsed.state = k_states[i];
            return parsed;
        }
    }
    return std::unexpected(option_error(
        "--timeout",
        fmt::format("'{}' is not a state: ok, warning, critical, unknown or 0-3", typed->substr(colon + 1))));
}

Result<Outcome> run(const Options& options, const Deps& deps) {
    TRY_ASSIGN(auto config,
               load_config(ConfigSearch{
                   .explicit_path = options.config_path, .env = deps.env, .system_path = deps.system_config}));
    TRY_ASSIGN(auto paths, resolve_paths(config, ::geteuid(), deps.env));
    const auto& health = config.section("health");

    TRY_ASSIGN(auto checks, build_checks(options, config, paths, deps));

    const auto overall = options.timeout.value_or(health.get_duration("timeout"));
    const RunLimits limits{.check_timeout = health.get_optional_duration("check_timeout").value_or(overall),
                           .overall_timeout = overall,
                           .timeout_status = options.timeout_status};
    // Under a trace context (nasops-trace exec), the run is a span and each
    // check a child span; the checks all start together, each is timed.
    const auto tracer = Tracer::from_environment("health", paths.log_dir, deps.env, *deps.clock);
    Span run_span(tracer, "health");
    const auto checks_started = deps.clock->now();
    auto report = run_checks(checks, limits, deps.clock);
    if (run_span.active()) {
        for (const auto& r : report.results) {
            SpanData check{.name = "check " + r.name,
                           .start = checks_started,
                           .end = checks_started + r.duration,
                           .status = r.status == Status::ok ? SpanStatus::unset : SpanStatus::error,
                           .attributes = {{"check.name", r.name}, {"check.status", status_name(r.status)}}};
            if (!r.target.empty()) check.attributes["check.target"] = r.target;
            if (r.status != Status::ok) check.status_message = r.message;
            if (auto written = run_span.record_child(std::move(check)); !written)
                logger().warning("trace span not recorded: {}", written.error().message);
        }
        run_span.set_attribute("health.checks", report.results.size());
        run_span.set_attribute("health.abandoned", report.abandoned);
    }
    const auto& labels = health.get_string_map("labels");
    for (auto& r : report.results) {
        for (const auto& [k, v] : labels) r.labels.emplace(k, v);
    }

    Outcome outcome{.code = to_exit_code(overall_status(report.results)), .abandoned = report.abandoned};
    if (outcome.code != ExitCode::ok) run_span.set_error(fmt::format("{}", exit_code_name(outcome.code)));
    const auto host = deps.host.empty() ? local_hostname() : deps.host;
    auto print = [&](const std::string& text) -> Result<void> {
        if (std::fwrite(text.data(), 1, text.size(), deps.out) != text.size() || std::fflush(deps.out) != 0) {
            return fail(ExitCode::io_error, "cannot write to stdout");
        }
        return {};
    };
    Result<void> printed;
    switch (options.format) {
        case OutputFormat::text:
            printed =
                print(render_text(report.results, deps.out_is_tty_colour && !options.quiet, glyphs_for(deps.env)));
            break;
        case OutputFormat::json: {
            RecordWriter writer(deps.out, "health", host, *deps.clock);
            printed = write_records(writer, report.results);
            break;
        }
        case OutputFormat::nagios: printed = print(render_nagios(report.results)); break;
        case OutputFormat::prom: {
            auto text = render_prom(report.results);
            printed = text ? print(*text) : Result<void>(std::unexpected(text.error()));
            break;
        }
    }
    if (!printed) {
        if (report.abandoned == 0) return std::unexpected(printed.error());
        // A check is still running on its thread: main must leave with _Exit,
        // which only an Outcome tells it, so the failure is said here.
        logger().error("{}", printed.error().message);
        return Outcome{.code = printed.error().code, .abandoned = report.abandoned};
    }

    publish_textfile(textfile_dir_setting(options.textfile_dir, config, "health"), "health",
                     render_prom(report.results));
    return outcome;
}

}  // namespace nasops::health
