#include "options.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>

#include "nasops/core/environment.hpp"
#include "nasops/core/settings.hpp"
#include "nasops/obs/textfile.hpp"
#include "nasops/ssh/nas_config.hpp"

namespace nasops::sync {

namespace {

constexpr std::array k_formats{OutputFormat::text, OutputFormat::json};

// A trailing '/' on a folder changes nothing but the row key: drop it.
std::filesystem::path clean_folder(const std::filesystem::path& p) {
    auto text = p.lexically_normal().string();
    while (text.size() > 1 && text.back() == '/') text.pop_back();
    return text;
}

}  // namespace

std::string_view verify_name(Verify verify) noexcept {
    switch (verify) {
        case Verify::automatic: return "auto";
        case Verify::sha256: return "sha256";
        case Verify::size: return "size";
        case Verify::none: return "none";
    }
    return "auto";
}

std::optional<Verify> parse_verify(std::string_view text) noexcept {
    for (auto v : {Verify::automatic, Verify::sha256, Verify::size, Verify::none})
        if (verify_name(v) == text) return v;
    return std::nullopt;
}

std::string TargetSpec::display() const {
    if (kind == Kind::local) return local_root.string();
    const bool v6 = ssh.host.find(':') != std::string::npos;
    return fmt::format("sftp://{}@{}{}{}:{}{}", ssh.user, v6 ? "[" : "", ssh.host, v6 ? "]" : "", ssh.port,
                       remote_root);
}

Result<Settings> resolve_settings(const CliOptions& cli, const Config& config) {
    const auto& sync = config.section("sync");
    Settings s;
    TRY_ASSIGN(const auto common, resolve_common(cli.common, k_formats));
    s.format = common.format;
    s.quiet = common.quiet;
    s.verbose = common.verbose;
    s.dry_run = cli.dry_run;

    if (!cli.sources.empty()) {
        for (const auto& src : cli.sources) s.sources.push_back(clean_folder(absolute_from_cwd(src)));
    } else {
        for (const auto& src : sync.get_string_list("sources")) s.sources.push_back(clean_folder(src));
    }
    s.include = list_setting(cli.include, sync, "include");
    s.exclude = list_setting(cli.exclude, sync, "exclude");

    TRY_ASSIGN(s.min_age, duration_setting(cli.min_age, "--min-age", sync, "min_age"));
    TRY_ASSIGN(const auto jobs, int_setting(cli.jobs, "--jobs", sync, "jobs", 1, 64));
    s.jobs = static_cast<int>(jobs);
    if (cli.verify) {
        auto v = parse_verify(*cli.verify);
        if (!v)
            return std::unexpected(
                option_error("--verify", fmt::format("'{}' is not one of auto, sha256, size, none", *cli.verify)));
        s.verify = *v;
    } else {
        s.verify = parse_verify(sync.get_string("verify")).value_or(Verify::automatic);
    }
    s.remove_source = (cli.remove_source || sync.get_bool("remove_source")) ? RemoveSource::yes : RemoveSource::no;
    if (s.remove_source == RemoveSource::yes && s.verify == Verify::none) {
        if (cli.remove_source || cli.verify)
            return std::unexpected(
                option_error("--remove-source", "needs a verified copy: it cannot be used with --verify none"));
        return std::unexpected(
            sync.error_at("remove_source", "needs a verified copy: it cannot be used with verify = \"none\""));
    }
    const bool delete_dirs = cli.delete_empty_src_dirs || sync.get_bool("delete_empty_src_dirs");
    if (delete_dirs && s.remove_source == RemoveSource::no) {
        if (cli.delete_empty_src_dirs)
            return std::unexpected(
                option_error("--delete-empty-src-dirs", "only removes folders emptied by --remove-source: give both"));
        return std::unexpected(sync.error_at(
            "delete_empty_src_dirs", "only removes folders emptied by remove_source: set remove_source = true"));
    }
    s.delete_empty_src_dirs = delete_dirs ? DeleteEmptySrcDirs::yes : DeleteEmptySrcDirs::no;
    if (cli.max_retries) {
        if (*cli.max_retries < 0) return std::unexpected(option_error("--max-retries", "must be 0 or more"));
        s.max_retries = *cli.max_retries;
    } else {
        s.max_retries = static_cast<int>(std::min<std::int64_t>(sync.get_int("max_retries"), 1000));
    }
    TRY_ASSIGN(s.bwlimit, optional_rate_timetable_setting(cli.bwlimit, "--bwlimit", sync, "bwlimit"));
    if (s.bwlimit && s.bwlimit->unlimited()) s.bwlimit.reset();  // 0 or off: no limit, as rsync
    TRY_ASSIGN(s.max_duration, optional_duration_setting(cli.max_duration, "--max-duration", sync, "max_duration"));
    TRY_ASSIGN(s.max_bytes, optional_size_setting(cli.max_bytes, "--max-bytes", sync, "max_bytes"));
    TRY_ASSIGN(s.lock_timeout, duration_setting(cli.lock_timeout, "--lock-timeout", sync, "lock_timeout"));
    if (cli.state) {
        auto st = parse_state(*cli.state);
        if (!st)
            return std::unexpected(option_error(
                "--state", fmt::format("'{}' is not one of pending, transferring, completed, failed", *cli.state)));
        s.state = *st;
    }
    s.paths = cli.paths;
    s.all_failed = cli.all_failed;
    s.textfile_dir = textfile_dir_setting(cli.textfile_dir, config, "sync");
    return s;
}

Result<TargetSpec> parse_sftp_url(std::string_view url, const TargetSpec& defaults) {
    const auto bad = [&](std::string_view why) {
        return fail(ExitCode::config,
                    fmt::format("target '{}': {} (expected sftp://[user@]host[:port]/absolute/path)", url, why));
    };
    constexpr std::string_view k_scheme = "sftp://";
    if (!url.starts_with(k_scheme)) return bad("not an sftp:// URL");
    std::string_view rest = url.substr(k_scheme.size());
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) return bad("no path");
    std::string_view authority = rest.substr(0, slash);
    TargetSpec spec = defaults;
    spec.kind = TargetSpec::Kind::sftp;
    spec.remote_root = std::string(rest.substr(slash));
    while (spec.remote_root.size() > 1 && spec.remote_root.back() == '/') spec.remote_root.pop_back();
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        spec.ssh.user = std::string(authority.substr(0, at));
        if (spec.ssh.user.empty()) return bad("empty user name");
        authority.remove_prefix(at + 1);
    }
    std::string_view port_text;
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return bad("unclosed '[' in the host");
        spec.ssh.host = std::string(authority.substr(1, close - 1));
        const auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return bad("junk after ']'");
            port_text = after.substr(1);
        }
    } else {
        const auto colon = authority.rfind(':');
        spec.ssh.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (spec.ssh.host.empty()) return bad("no host");
    if (!port_text.empty() || authority.ends_with(':')) {
        int port = 0;
        const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc{} || end != port_text.data() + port_text.size() || port < 1 || port > 65535)
            return bad(fmt::format("bad port '{}'", port_text));
        spec.ssh.port = port;
    }
    if (spec.ssh.user.empty()) return bad("no user (give user@host, or set user in [nas])");
    return spec;
}

Result<TargetSpec> resolve_target(const CliOptions& cli, const Config& config) {
    const auto& sync = config.section("sync");
    const auto& nas = config.section("nas");
    const std::string text = cli.target ? *cli.target : sync.get_string("target");

    if (!text.empty() && !text.starts_with("sftp://")) {
        TargetSpec spec;
        spec.kind = TargetSpec::Kind::local;
        if (!cli.target && text.front() != '/')
            return std::unexpected(
                sync.error_at("target", fmt::format("local target '{}' is not an absolute path", text)));
        spec.local_root = clean_folder(absolute_from_cwd(text));
        return spec;
    }

    TargetSpec defaults;
    defaults.kind = TargetSpec::Kind::sftp;
    TRY_ASSIGN(defaults.ssh, nas_ssh_options(config, process_environment()));
    defaults.ssh.accept_new_host_key = defaults.ssh.accept_new_host_key || cli.accept_new_host_key;
    defaults.remote_root = nas.get_path("remote_root").string();
    defaults.create_remote_root = nas.get_bool("create_remote_root");

    TargetSpec spec;
    if (!text.empty()) {
        auto parsed = parse_sftp_url(text, defaults);
        if (!parsed) {
            if (cli.target) return std::unexpected(Error{"--target: " + parsed.error().message, ExitCode::usage});
            return std::unexpected(sync.error_at("target", parsed.error().message));
        }
        spec = std::move(*parsed);
    } else {
        spec = defaults;
        if (spec.ssh.host.empty())
            return std::unexpected(nas.error_at(
                "host", "no target: set [sync] target to a folder or an sftp:// URL, or [nas] host, or pass --target"));
        if (spec.remote_root.empty())
            return std::unexpected(nas.error_at("remote_root", "no folder on the NAS to upload to"));
    }
    TRY(require_nas_login(config, spec.ssh));
    return spec;
}

}  // namespace nasops::sync
