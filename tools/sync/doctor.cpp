#include "doctor.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <span>

#include "nasops/core/lock.hpp"
#include "nasops/db/store.hpp"
#include "nasops/db/transfer_stats.hpp"
#include "nasops/util/sha256.hpp"
#include "nasops/util/units.hpp"
#include "schema.hpp"

namespace nasops::sync {

namespace {

namespace fs = std::filesystem;

// How far back the log is read for errors, and how much of its end.
constexpr auto k_log_window = std::chrono::hours(24);
constexpr std::uintmax_t k_log_tail_bytes = 256 * 1024;

class Checks {
public:
    // Runs `check`, timing it, and keeps what it found.
    Finding& run(const std::string& name, const std::function<Finding()>& check) {
        const auto start = std::chrono::steady_clock::now();
        Finding f = check();
        f.name = name;
        f.took = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start);
        m_findings.push_back(std::move(f));
        return m_findings.back();
    }
    // A check that cannot run because `because` failed.
    void skip(const std::string& name, const std::string& because) {
        m_findings.push_back(Finding{
            .name = name, .status = ExitCode::unknown, .message = "not checked: " + because, .fix = {}, .took = {}});
    }
    std::vector<Finding> take() { return std::move(m_findings); }

private:
    std::vector<Finding> m_findings;
};

Finding ok(std::string message) {
    return Finding{.name = {}, .status = ExitCode::ok, .message = std::move(message), .fix = {}, .took = {}};
}
Finding problem(ExitCode status, std::string message, std::string fix) {
    return Finding{.name = {}, .status = status, .message = std::move(message), .fix = std::move(fix), .took = {}};
}

Finding resolve(const SshOptions& ssh) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(ssh.host.c_str(), nullptr, &hints, &found); rc != 0)
        return problem(ExitCode::critical, fmt::format("cannot resolve '{}': {}", ssh.host, ::gai_strerror(rc)),
                       "check [nas] host, and this host's DNS: getent hosts " + ssh.host);
    const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);
    std::vector<std::string> names;
    for (const addrinfo* ai = addresses.get(); ai != nullptr; ai = ai->ai_next) {
        std::array<char, NI_MAXHOST> text{};
        if (::getnameinfo(ai->ai_addr, ai->ai_addrlen, text.data(), text.size(), nullptr, 0, NI_NUMERICHOST) == 0 &&
            std::ranges::find(names, text.data()) == names.end())
            names.emplace_back(text.data());
    }
    return ok(fmt::format("{} resolves to {}", ssh.host, fmt::join(names, ", ")));
}

// The step of connecting that `error` stopped at, with what to try there.
struct ConnectStep {
    std::string name;
    std::string fix;
};

ConnectStep failed_step(const TargetSpec& spec, const Error& error) {
    const auto& ssh = spec.ssh;
    const auto& m = error.message;
    if (spec.kind == TargetSpec::Kind::local)
        return {"target", "mount the NAS share at " + spec.local_root.string() + ", or fix [sync] target"};
    if (error.code == ExitCode::untrusted) {
        if (m.find("HAS CHANGED") != std::string::npos)
            return {"host_key",
                    fmt::format("ask whoever runs the NAS whether its key was replaced; only if it was: ssh-keygen -R "
                                "'[{}]:{}' -f {}, then nasops-sync run --accept-new-host-key",
                                ssh.host, ssh.port, ssh.known_hosts.string())};
        return {"host_key", fmt::format("compare the fingerprint with the NAS's own (ssh-keygen -lf on its host key); "
                                        "if it matches: nasops-sync run --accept-new-host-key")};
    }
    if (m.find("authenticat") != std::string::npos || m.find("identity") != std::string::npos)
        return {"auth", fmt::format("put the public key of {} in ~{}/.ssh/authorized_keys on the NAS: ssh-copy-id -i "
                                    "{}.pub -p {} {}@{}",
                                    ssh.identity_file.string(), ssh.user, ssh.identity_file.string(), ssh.port,
                                    ssh.user, ssh.host)};
    if (m.find("handshake") != std::string::npos)
        return {"ssh", fmt::format("something answers on {}:{} but does not speak SSH as libssh2 does; is it the "
                                   "NAS's SSH port ([nas] port)?",
                                   ssh.host, ssh.port)};
    if (m.find("cannot connect") != std::string::npos)
        return {"tcp", fmt::format("is the SSH service of the NAS on, and port {} open to this host? try: nc -vz {} {}",
                                   ssh.port, ssh.host, ssh.port)};
    if (m.find("remote root") != std::string::npos)
        return {"remote_root", fmt::format("mount the NAS volume that holds {}, or set [nas] create_remote_root = "
                                           "true to have nasops-sync create it",
                                           spec.remote_root)};
    if (m.find("SFTP") != std::string::npos || m.find("sftp") != std::string::npos)
        return {"sftp", "turn on the NAS's SFTP service (OpenSSH: Subsystem sftp in sshd_config)"};
    return {"connect", "run again with -vv and read the log for the step that failed"};
}

// The steps a connection goes through, in order; a failure at one leaves the
// ones after it unchecked.
constexpr std::array k_sftp_steps{"tcp", "ssh", "host_key", "auth", "sftp", "remote_root"};

// Connects as a run does, reporting each step; the target, or null when a step failed.
std::unique_ptr<Target> check_target(Checks& checks, const TargetSpec& spec, const TargetFactory& factory) {
    const bool sftp = spec.kind == TargetSpec::Kind::sftp;
    if (sftp && checks.run("dns", [&] { return resolve(spec.ssh); }).status != ExitCode::ok) {
        for (const auto* step : k_sftp_steps) checks.skip(step, "the NAS's name does not resolve");
        return nullptr;
    }
    const auto start = std::chrono::steady_clock::now();
    auto made = factory();
    const auto took = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start);
    const std::optional<Error> failure = made ? std::nullopt : std::optional<Error>(made.error());
    std::unique_ptr<Target> target = made ? std::move(*made) : nullptr;
    if (!sftp) {
        checks.run("target", [&] {
            return failure ? problem(ExitCode::critical, failure->message, failed_step(spec, *failure).fix)
                           : ok(spec.local_root.string() + " is a folder");
        });
        return target;
    }
    const auto failed = failure ? std::optional<ConnectStep>(failed_step(spec, *failure)) : std::nullopt;
    if (failed && std::ranges::find(k_sftp_steps, failed->name) == k_sftp_steps.end()) {
        // A failure the steps do not tell apart: said once, as it came.
        for (const auto* step : k_sftp_steps) checks.skip(step, "the connection failed (see 'connect')");
        checks.run(failed->name, [&] { return problem(ExitCode::critical, failure->message, failed->fix); });
        return target;
    }
    bool reached = true;
    for (const auto* step : k_sftp_steps) {
        if (!reached) {
            checks.skip(step, "an earlier step failed");
            continue;
        }
        if (failed && failed->name == step) {
            checks.run(step, [&] { return problem(ExitCode::critical, failure->message, failed->fix); }).took = took;
            reached = false;
            continue;
        }
        checks.run(step, [&] {
            const std::string_view s = step;
            if (s == "tcp") return ok(fmt::format("{}:{} accepts connections", spec.ssh.host, spec.ssh.port));
            if (s == "ssh") return ok("the server speaks SSH");
            if (s == "host_key") return ok("its host key matches " + spec.ssh.known_hosts.string());
            if (s == "auth") return ok(fmt::format("logged in as {}", spec.ssh.user));
            if (s == "sftp") return ok("the SFTP subsystem answers");
            return ok(spec.remote_root + " is a folder");
        });
    }
    return target;
}

// Writes a test file, renames it as a run does, asks its SHA-256 of the
// target, and removes it.
void check_writing(Checks& checks, Target& target, const TargetSpec& spec) {
    const std::string part = fmt::format(".nasops-doctor-{}.part", ::getpid());
    const std::string name = fmt::format(".nasops-doctor-{}", ::getpid());
    const std::string content = fmt::format("nasops-sync doctor {}\n", ::getpid());
    const std::string who = spec.kind == TargetSpec::Kind::sftp ? spec.ssh.user : "this user";
    std::optional<PendingDigests> digests;
    const auto& written = checks.run("remote_write", [&] {
        const WholeFile file{.rel_path = part, .data = content, .mtime_ns = 0};
        auto wrote = target.write_files(std::span(&file, 1));
        if (!wrote.front())
            return problem(ExitCode::critical, wrote.front().error().message,
                           fmt::format("give {} write permission on {}", who, target.describe()));
        const RenamePair pair{part, name};
        auto renamed = target.rename(std::span(&pair, 1));
        if (!renamed.front()) {
            static_cast<void>(target.remove(part));
            return problem(ExitCode::critical, renamed.front().error().message,
                           "the NAS refuses renames there: uploads land under temporary names and are renamed");
        }
        const std::string names[] = {name};
        if (auto asked = target.sha256(names)) digests.emplace(std::move(*asked));
        return ok(fmt::format("wrote, renamed and removed a test file in {}", target.describe()));
    });
    if (written.status != ExitCode::ok) {
        checks.skip("verify", "nothing could be written");
        return;
    }
    checks.run("verify", [&] {
        std::optional<Digests> got;
        if (digests) {
            if (auto collected = digests->collect()) got = std::move(*collected);
        }
        if (!got)
            return problem(ExitCode::warning,
                           "the NAS runs no sha256sum (an SFTP-only account, or a server without commands): copies "
                           "are verified by size only",
                           "let the account run commands (sha256sum), or accept size checks: [sync] verify = "
                           "\"size\" silences nothing but says so");
        if (got->empty() || got->front() != sha256_hex(content))
            return problem(ExitCode::critical, "the NAS's sha256sum gave another hash than this host for the test file",
                           "check the NAS's sha256sum (coreutils); meanwhile use --verify size");
        return ok("sha256sum runs on the NAS: copies are verified by SHA-256");
    });
    if (auto removed = target.remove(name); !removed)
        checks.run("remote_cleanup", [&] {
            return problem(ExitCode::warning, removed.error().message, "remove it by hand: it is only a test file");
        });
}

Finding check_space(Target& target, const Paths& paths, const Clock& clock) {
    auto free_bytes = target.available_space("");
    if (!free_bytes)
        return problem(ExitCode::warning, "free space unknown: " + free_bytes.error().message,
                       "runs then upload without checking room first; a full NAS is found by the failed write");
    std::uint64_t queued = 0;
    const auto db = database_path(paths);
    std::error_code ec;
    if (fs::exists(db, ec)) {
        if (auto store = Store::open(db, migrations(), OpenMode::read_only)) {
            if (auto queue = read_transfer_queue(store->db(), clock.now())) queued = queue->bytes_queued;
        }
    }
    const auto said =
        fmt::format("{} free on the NAS, {} waiting to be sent", format_size(*free_bytes), format_size(queued));
    if (*free_bytes == 0) return problem(ExitCode::critical, said, "free space on the NAS volume");
    if (*free_bytes < queued) return problem(ExitCode::warning, said, "free space on the NAS: the queue does not fit");
    return ok(said);
}

Finding check_database(const Paths& paths) {
    const auto db = database_path(paths);
    std::error_code ec;
    if (!fs::exists(db, ec)) return ok(db.string() + " does not exist yet: the first run creates it");
    auto store = Store::open(db, migrations(), OpenMode::read_only);
    const std::string fix =
        "nasops-dbmaint restore (the last backup), or move it aside: the next run starts a new "
        "one and adopts what the NAS holds";
    if (!store) return problem(ExitCode::critical, store.error().message, fix);
    try {
        const auto result = store->db().execAndGet("PRAGMA quick_check").getString();
        if (result != "ok") return problem(ExitCode::critical, db.string() + ": quick_check: " + result, fix);
    } catch (const std::exception& e) {
        return problem(ExitCode::critical, db_error(store->db(), "quick_check", e).message, fix);
    }
    return ok(db.string() + " passes quick_check");
}

Finding check_lock(const Paths& paths) {
    const auto lock_path = paths.state_dir / "sync.lock";
    std::error_code ec;
    if (!fs::exists(lock_path, ec)) return ok("no run holds the lock");
    auto lock = LockFile::acquire(lock_path, Duration{0});
    if (lock) return ok("no run holds the lock");
    return problem(ExitCode::warning, lock.error().message,
                   "a run is in progress; if it makes no progress (nasops-sync status), see what it does with "
                   "ps and the log, and stop it with kill (it resumes next time)");
}

Finding check_log(const Paths& paths, const Clock& clock) {
    const auto log = paths.log_dir / "sync.log";
    std::ifstream in(log, std::ios::binary);
    if (!in) return ok("no log yet at " + log.string());
    const auto size = fs::file_size(log);
    if (size > k_log_tail_bytes) in.seekg(static_cast<std::streamoff>(size - k_log_tail_bytes));
    const auto since = clock.now() - k_log_window;
    std::size_t errors = 0;
    std::string last;
    for (std::string line; std::getline(in, line);) {
        if (line.find(" error: ") == std::string::npos) continue;
        const auto stamp = parse_rfc3339(line.substr(0, line.find(' ')));
        if (!stamp || *stamp < since) continue;
        ++errors;
        last = line;
    }
    if (errors == 0) return ok("no error logged in the last 24 h in " + log.string());
    return problem(ExitCode::warning, fmt::format("{} errors logged in the last 24 h; the last: {}", errors, last),
                   "read the errors around it: grep ' error: ' " + log.string());
}

}  // namespace

std::vector<Finding> run_doctor(const TargetSpec& spec, const TargetFactory& factory, const Paths& paths,
                                const Clock& clock) {
    Checks checks;
    auto target = check_target(checks, spec, factory);
    if (target) {
        check_writing(checks, *target, spec);
        checks.run("space", [&] { return check_space(*target, paths, clock); });
    } else {
        for (const auto* name : {"remote_write", "verify", "space"}) checks.skip(name, "the NAS could not be reached");
    }
    target.reset();  // the connection, before the local checks
    checks.run("state_db", [&] { return check_database(paths); });
    checks.run("lock", [&] { return check_lock(paths); });
    checks.run("log", [&] { return check_log(paths, clock); });
    return checks.take();
}

ExitCode doctor_exit_code(const std::vector<Finding>& findings) {
    ExitCode worst = ExitCode::ok;
    for (const auto& f : findings) worst = worst_state(worst, f.status);
    return worst;
}

}  // namespace nasops::sync
