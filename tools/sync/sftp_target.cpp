#include "sftp_target.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <charconv>
#include <functional>
#include <limits>

#include "nasops/core/log.hpp"
#include "nasops/ssh/remote_df.hpp"
#include "nasops/ssh/shell_quote.hpp"
#include "nasops/util/sha256.hpp"
#include "nasops/util/text.hpp"

namespace nasops::sync {

namespace {

// The longest remote command line a batch verify builds; longer batches are
// split. libssh2 sends no packet over 35,000 bytes, and an exec request
// (where no remote shell can be used) carries the command whole.
constexpr std::size_t k_max_command = 32 * 1024;
// The hash command of `openssl` that prints like sha256sum -b: "<hex> *<name>".
constexpr std::array<std::string_view, 5> k_openssl_sha256{"openssl", "dgst", "-sha256", "-r", "--"};
// sha256sum prints once per file: a large file may keep it silent for long.
constexpr auto k_hash_timeout = std::chrono::minutes(30);

// The Follower (sh -c SCRIPT NAME FILE HASHER...): GNU tail follows the file
// from its first byte as sftp-server writes it, into the hasher (openssl or
// sha256sum). It reads what a hash run after the upload would read: the
// NAS's page cache of the same file, after sftp-server wrote each byte.
// `cat` watches the command's stdin. Once the upload has finished the client
// closes it (RemoteCommand::wait): tail --pid sees cat gone within its 50 ms
// interval, reads the file to its end and stops, so the digest covers the
// whole file as it is then. An upload abandoned, or a connection lost, ends
// it the same way, so that no follower outlives its upload. A tail that
// fails (no --pid: BusyBox) says so on stderr, which the client takes as no
// digest; so does tail's own "file truncated".
constexpr std::string_view k_follow_script = R"(exec 3<&0
cat <&3 >/dev/null & watcher=$!
{ tail -c +1 -f -s 0.05 --pid="$watcher" -- "$1"; s=$?; [ $s -eq 0 ] || echo "tail exited $s" >&2; } |
  { shift; "$@"; })";

// The digest at the start of a hasher's output ("<hex> *stdin", "<hex>  -"), in lower case.
std::optional<std::string> leading_digest(std::string_view out) {
    if (out.size() < 64) return std::nullopt;
    std::string hex(out.substr(0, 64));
    for (char& c : hex) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (out.size() > 64 && out[64] != ' ') return std::nullopt;
    return hex;
}

}  // namespace

class SftpTarget::File final : public TargetFile {
public:
    File(SftpTarget& target, SftpUpload upload, std::string rel_path)
        : m_target(target), m_upload(std::move(upload)), m_rel_path(std::move(rel_path)) {}
    Result<void> write(std::string_view data) override { return m_upload.write(data); }
    // SFTP has no portable fsync: the close is acknowledged once the server
    // has the bytes. The time is set after it, by path.
    Result<bool> finish(std::int64_t mtime_ns) override {
        TRY(m_upload.close());
        auto time_set = m_target.set_mtime(m_rel_path, mtime_ns);
        if (time_set && m_follower) m_target.m_followed.insert_or_assign(m_rel_path, std::move(*m_follower));
        return time_set;
    }
    void hash_while_written() override { m_follower = m_target.follow(m_rel_path); }

private:
    SftpTarget& m_target;
    SftpUpload m_upload;
    std::string m_rel_path;
    std::optional<Follower> m_follower;  // an upload not finished ends it
};

SftpTarget::SftpTarget(SshSession session, Sftp sftp, SftpPipeline pipeline, TargetSpec spec)
    : m_session(std::move(session)),
      m_sftp(std::move(sftp)),
      m_pipeline(std::move(pipeline)),
      m_spec(std::move(spec)) {}

Result<std::unique_ptr<SftpTarget>> SftpTarget::connect(const TargetSpec& spec) {
    TRY_ASSIGN(auto session, SshSession::connect(spec.ssh));
    if (session.host_key_added())
        logger().warning("added the {} host key {} of {} to {} (accept-new)", session.host_key_type(),
                         session.host_key_fingerprint(), session.endpoint(), spec.ssh.known_hosts.string());
    TRY_ASSIGN(auto sftp, session.sftp());
    TRY_ASSIGN(const auto root, sftp.stat(spec.remote_root));
    const auto where = fmt::format("{}:{}", session.endpoint(), spec.remote_root);
    if (root.exists && !root.is_directory)
        return fail(ExitCode::unavailable, fmt::format("remote root {} is not a folder", where));
    if (!root.exists) {
        if (!spec.create_remote_root)
            return fail(ExitCode::unavailable,
                        fmt::format("remote root {} does not exist (is the NAS volume mounted? set [nas] "
                                    "create_remote_root = true to have it created)",
                                    where));
        TRY(sftp.mkdir_p(spec.remote_root));
        logger().info("created the remote root {} ([nas] create_remote_root)", where);
    }
    TRY_ASSIGN(auto pipeline, session.sftp_pipeline());
    return std::unique_ptr<SftpTarget>(new SftpTarget(std::move(session), std::move(sftp), std::move(pipeline), spec));
}

HostKey SftpTarget::host_key() const {
    return {m_session.endpoint(), m_session.host_key_type(), m_session.host_key_fingerprint()};
}

std::string SftpTarget::describe() const {
    return m_spec.display();
}

std::string SftpTarget::remote(std::string_view rel_path) const {
    if (rel_path.empty()) return m_spec.remote_root;
    if (m_spec.remote_root == "/") return fmt::format("/{}", rel_path);
    return fmt::format("{}/{}", m_spec.remote_root, rel_path);
}

std::string SftpTarget::location(std::string_view rel_path) const {
    return fmt::format("{}:{}", m_session.endpoint(), remote(rel_path));
}

Result<void> SftpTarget::make_dirs(std::string_view rel_path) {
    return m_sftp.mkdir_p(remote(rel_path));
}

Result<std::unique_ptr<TargetFile>> SftpTarget::open_write(std::string_view rel_path, std::uint64_t offset) {
    TRY_ASSIGN(auto upload, m_pipeline.open_upload(remote(rel_path), offset));
    return std::make_unique<File>(*this, std::move(upload), std::string(rel_path));
}

std::vector<Result<bool>> SftpTarget::write_files(std::span<const WholeFile> files) {
    std::vector<SftpPut> puts;
    puts.reserve(files.size());
    for (const auto& f : files) {
        // SFTP v3 carries times as unsigned 32-bit seconds; outside that, the time is not set.
        const std::int64_t seconds = f.mtime_ns / 1'000'000'000;
        std::optional<std::uint32_t> mtime;
        if (seconds >= 0 && seconds <= std::int64_t{std::numeric_limits<std::uint32_t>::max()})
            mtime = static_cast<std::uint32_t>(seconds);
        puts.push_back(SftpPut{.path = remote(f.rel_path), .data = f.data, .mtime = mtime});
    }
    return m_pipeline.put(puts);
}

std::vector<Result<void>> SftpTarget::rename(std::span<const RenamePair> renames) {
    if (!m_pipeline.has_posix_rename()) {
        return one_at_a_time<void>(renames,
                                   [&](const RenamePair& r) { return m_sftp.rename(remote(r.from), remote(r.to)); });
    }
    std::vector<SftpRename> pairs;
    pairs.reserve(renames.size());
    for (const auto& r : renames) pairs.push_back(SftpRename{remote(r.from), remote(r.to)});
    return m_pipeline.posix_rename(pairs);
}

std::vector<Result<TargetEntry>> SftpTarget::stat(std::span<const std::string> rel_paths) {
    std::vector<std::string> paths;
    paths.reserve(rel_paths.size());
    for (const auto& p : rel_paths) paths.push_back(remote(p));
    auto stats = m_pipeline.stat(paths);
    std::vector<Result<TargetEntry>> out;
    out.reserve(stats.size());
    for (auto& st : stats) {
        if (!st)
            out.emplace_back(std::unexpected(st.error()));
        else
            out.emplace_back(TargetEntry{.exists = st->exists, .is_regular = st->is_regular, .size = st->size});
    }
    return out;
}

Result<void> SftpTarget::remove(std::string_view rel_path) {
    return m_sftp.remove(remote(rel_path));
}

Result<bool> SftpTarget::set_mtime(std::string_view rel_path, std::int64_t mtime_ns) {
    const std::chrono::sys_seconds when{std::chrono::seconds(mtime_ns / 1'000'000'000)};
    auto set = m_sftp.set_mtime(remote(rel_path), when);
    if (set) return true;
    if (set.error().code == ExitCode::unavailable) return std::unexpected(set.error());
    logger().debug("{}", set.error().message);
    return false;
}

Result<void> SftpTarget::commit() {
    return {};
}

Result<std::uint64_t> SftpTarget::df_available(const std::string& folder) {
    auto df = remote_df(m_session, folder);
    if (!df) {
        return fail(df.error().code, fmt::format("cannot read the free space of {}: the server has no "
                                                 "statvfs@openssh.com and {}",
                                                 describe(), df.error().message));
    }
    return df->available_bytes;
}

Result<std::uint64_t> SftpTarget::available_space(std::string_view rel_folder) {
    const auto folder = remote(rel_folder);
    if (!m_statvfs_refused) {
        auto st = m_sftp.statvfs(folder);
        if (st) return st->available_bytes;
        // A missing folder is an answer; only a server without the extension needs df.
        if (st.error().code == ExitCode::unavailable || st.error().code == ExitCode::no_input)
            return std::unexpected(st.error());
        logger().debug("{}; trying df -P", st.error().message);
        m_statvfs_refused = true;
    }
    return df_available(folder);
}

bool SftpTarget::shell() {
    if (!m_shell && !m_shell_refused) {
        auto shell = m_session.shell();
        if (shell)
            m_shell.emplace(std::move(*shell));
        else
            shell_lost(shell.error());
    }
    return m_shell.has_value();
}

void SftpTarget::shell_lost(const Error& error) {
    logger().debug("{}; running each command on its own", error.message);
    m_shell.reset();
    m_shell_refused = true;
}

Result<ExecResult> SftpTarget::run_remote(std::span<const std::string> argv, Duration timeout) {
    // A shell busy with requested hashes is left to them.
    if (shell() && m_shell->waiting() == 0) {
        auto run = m_shell->run(argv, timeout);
        if (run || run.error().code == ExitCode::unavailable) return run;
        shell_lost(run.error());
    }
    m_session.set_timeout(timeout);
    auto run = m_session.exec(argv);
    m_session.set_timeout(m_spec.ssh.timeout);
    return run;
}

Result<bool> SftpTarget::hashes_right(std::vector<std::string> argv, std::optional<bool>& known, std::string& why) {
    if (known) return *known;
    const std::string command = argv.front();
    argv.emplace_back("/dev/null");
    auto run = run_remote(argv, m_spec.ssh.timeout);
    if (!run && run.error().code == ExitCode::unavailable) return std::unexpected(run.error());
    known = run && run->exit_status == 0 && run->out.starts_with(sha256_hex(""));
    if (!run) {
        why = fmt::format("{} cannot run {}: {}", describe(), command, run.error().message);
    } else if (run->exit_status != 0) {
        const auto said = trim(std::string_view(run->err).substr(0, run->err.find('\n')));
        why = fmt::format("{} on {} exited {}{}{}", command, describe(), run->exit_status, said.empty() ? "" : ": ",
                          said);
    } else if (!*known) {
        why = fmt::format("{} on {} did not print the SHA-256 of an empty file", command, describe());
    }
    return *known;
}

std::string SftpTarget::no_hash_reason() const {
    return m_no_sha256sum.empty() ? Target::no_hash_reason() : m_no_sha256sum;
}

Result<bool> SftpTarget::probe_sha256sum() {
    const bool first = !m_has_sha256sum;
    auto can = hashes_right({"sha256sum", "--"}, m_has_sha256sum, m_no_sha256sum);
    if (first && can && !*can) logger().info("{}: uploads there are verified by size", m_no_sha256sum);
    return can;
}

Result<std::vector<SftpTarget::HashCommand>> SftpTarget::sha256_commands(std::span<const std::string> rel_paths) {
    std::vector<HashCommand> commands;
    // One file, most often a large one: openssl, where the NAS has it, hashes
    // with the CPU's SHA instructions, which sha256sum does not use. Its
    // output is sha256sum's but for names it would escape.
    if (rel_paths.size() == 1) {
        auto name = remote(rel_paths.front());
        if (name.find_first_of("\\\n\r") == std::string::npos) {
            std::vector<std::string> argv(k_openssl_sha256.begin(), k_openssl_sha256.end());
            std::string no_openssl;  // not needed: sha256sum is asked instead
            TRY_ASSIGN(auto fast, hashes_right(argv, m_has_openssl, no_openssl));
            if (fast) {
                argv.push_back(name);
                commands.push_back(HashCommand{std::move(argv), {std::move(name)}});
                return commands;
            }
        }
    }
    std::size_t start = 0;
    while (start < rel_paths.size()) {
        HashCommand command{{"sha256sum", "--"}, {}};
        std::size_t length = shell_join(command.argv).size();
        std::size_t end = start;
        while (end < rel_paths.size()) {
            auto name = remote(rel_paths[end]);
            const std::size_t quoted = shell_quote(name).size() + 1;
            if (!command.names.empty() && length + quoted > k_max_command) break;
            length += quoted;
            command.names.push_back(name);
            command.argv.push_back(std::move(name));
            ++end;
        }
        commands.push_back(std::move(command));
        start = end;
    }
    return commands;
}

Result<Digests> SftpTarget::digests_from(std::span<const HashCommand> commands,
                                         const std::function<Result<ExecResult>(const HashCommand&)>& run) {
    Digests out;
    for (const auto& command : commands) {
        TRY_ASSIGN(auto ran, run(command));
        // Exit 1 with messages on stderr for files that are missing: they come back as nullopt.
        for (auto& d : parse_sha256sum_output(ran.out, command.names)) out.push_back(std::move(d));
    }
    return out;
}

Result<PendingDigests> SftpTarget::sha256(std::span<const std::string> rel_paths) {
    TRY(request_hashes(rel_paths));
    return PendingDigests([this] { return collect_hashes(); });
}

Result<std::optional<Digests>> SftpTarget::hash_now(std::span<const std::string> rel_paths) {
    TRY_ASSIGN(auto can, probe_sha256sum());
    if (!can) return std::optional<Digests>{};
    TRY_ASSIGN(auto commands, sha256_commands(rel_paths));
    auto digests =
        digests_from(commands, [&](const HashCommand& command) { return run_remote(command.argv, k_hash_timeout); });
    if (!digests) return std::unexpected(digests.error());
    return std::optional<Digests>(std::move(*digests));
}

std::vector<std::string> SftpTarget::HashRequest::paths_read_again() const {
    std::vector<std::string> paths;
    paths.reserve(read_again.size());
    for (auto i : read_again) paths.push_back(rel_paths[i]);
    return paths;
}

Result<void> SftpTarget::request_hashes(std::span<const std::string> rel_paths) {
    TRY_ASSIGN(auto can, probe_sha256sum());
    HashRequest request{.rel_paths = {rel_paths.begin(), rel_paths.end()}, .can_hash = can};
    for (std::size_t i = 0; i < rel_paths.size(); ++i) {
        if (auto found = m_followed.find(rel_paths[i]); found != m_followed.end()) {
            request.followed.emplace_back(i, std::move(found->second));
            m_followed.erase(found);
        } else {
            request.read_again.push_back(i);
        }
    }
    if (can && !request.read_again.empty() && shell()) {
        TRY_ASSIGN(auto commands, sha256_commands(request.paths_read_again()));
        request.commands = std::move(commands);
        for (const auto& command : request.commands) {
            auto sent = m_shell->send(command.argv, m_spec.ssh.timeout);
            if (sent) continue;
            if (sent.error().code == ExitCode::unavailable) return std::unexpected(sent.error());
            shell_lost(sent.error());
            request.commands.clear();  // computed at the collect, by exec
            break;
        }
    }
    m_hash_requests.push_back(std::move(request));
    return {};
}

Result<std::optional<Digests>> SftpTarget::collect_read_again(const HashRequest& request) {
    if (request.commands.empty()) return hash_now(request.paths_read_again());
    auto digests = digests_from(request.commands, [&](const HashCommand&) -> Result<ExecResult> {
        if (!m_shell) return fail(ExitCode::io_error, fmt::format("the remote shell on {} has ended", describe()));
        return m_shell->receive(k_hash_timeout);
    });
    if (digests) return std::optional<Digests>(std::move(*digests));
    if (digests.error().code == ExitCode::unavailable) return std::unexpected(digests.error());
    shell_lost(digests.error());
    return hash_now(request.paths_read_again());
}

Result<std::optional<Digests>> SftpTarget::collect_hashes() {
    if (m_hash_requests.empty()) return fail(ExitCode::software, "SHA-256s collected that were not asked for");
    HashRequest request = std::move(m_hash_requests.front());
    m_hash_requests.pop_front();
    if (!request.can_hash) return std::optional<Digests>{};
    Digests out(request.rel_paths.size());
    if (!request.read_again.empty()) {
        TRY_ASSIGN(auto digests, collect_read_again(request));
        if (!digests) return std::optional<Digests>{};
        for (std::size_t k = 0; k < request.read_again.size(); ++k)
            out[request.read_again[k]] = std::move((*digests)[k]);
    }
    // A follower that gave no digest to trust: its file is read again.
    HashRequest again{.rel_paths = request.rel_paths};
    for (auto& [i, follower] : request.followed) {
        TRY_ASSIGN(auto digest, followed_digest(request.rel_paths[i], std::move(follower)));
        if (digest)
            out[i] = std::move(*digest);
        else
            again.read_again.push_back(i);
    }
    if (!again.read_again.empty()) {
        TRY_ASSIGN(auto digests, collect_read_again(again));
        if (!digests) return std::optional<Digests>{};
        for (std::size_t k = 0; k < again.read_again.size(); ++k) out[again.read_again[k]] = std::move((*digests)[k]);
    }
    return std::optional<Digests>(std::move(out));
}

std::optional<SftpTarget::Follower> SftpTarget::follow(std::string_view rel_path) {
    if (m_follow_refused) return std::nullopt;
    auto can = probe_sha256sum();
    if (!can || !*can) return std::nullopt;
    std::vector<std::string> openssl(k_openssl_sha256.begin(), k_openssl_sha256.end());
    std::string no_openssl;  // not needed: sha256sum hashes instead
    auto fast = hashes_right(openssl, m_has_openssl, no_openssl);
    if (!fast) return std::nullopt;
    std::vector<std::string> argv{"sh", "-c", std::string(k_follow_script), "nasops-hash-while-written",
                                  remote(rel_path)};
    if (*fast)
        argv.insert(argv.end(), openssl.begin(), openssl.end() - 1);  // all but the "--": it reads stdin
    else
        argv.emplace_back("sha256sum");
    auto started = m_session.start(argv);
    if (!started) {
        logger().debug("{}; {} is read again to verify it", started.error().message, location(rel_path));
        m_follow_refused = true;
        return std::nullopt;
    }
    return std::move(*started);
}

Result<std::optional<std::string>> SftpTarget::followed_digest(std::string_view rel_path, Follower follower) {
    auto ran = follower.wait({}, k_hash_timeout);
    if (!ran && ran.error().code == ExitCode::unavailable) return std::unexpected(ran.error());
    std::optional<std::string> digest;
    std::string why;
    if (!ran) {
        why = ran.error().message;
    } else if (ran->exit_status != 0 || !ran->err.empty()) {
        const auto said = trim(std::string_view(ran->err).substr(0, ran->err.find('\n')));
        why = fmt::format("it exited {}{}{}", ran->exit_status, said.empty() ? "" : ": ", said);
    } else if (digest = leading_digest(ran->out); !digest) {
        why = "it printed no SHA-256";
    }
    if (!why.empty()) {
        if (!m_follow_refused)
            logger().info("{} could not hash {} while it was written ({}): files are read again to verify them",
                          describe(), remote(rel_path), why);
        m_follow_refused = true;
        return std::optional<std::string>{};
    }
    return digest;
}

}  // namespace nasops::sync
