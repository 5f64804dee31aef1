#pragma once

// The NAS over SFTP (libssh2, through nasops/ssh/ssh_session.hpp), with the
// remote shell used only where SFTP has no answer: `sha256sum` for batch
// verification and `df -P` for free space when the server lacks
// statvfs@openssh.com. Both are optional on the NAS (Synology and
// restricted accounts lack them): without sha256sum the target reports that
// it cannot hash, and the caller verifies by size.

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "nasops/db/host_keys.hpp"
#include "nasops/ssh/ssh_session.hpp"
#include "options.hpp"
#include "sha256sum_output.hpp"
#include "target.hpp"

namespace nasops::sync {

class SftpTarget final : public Target {
public:
    // Connects and authenticates (host key checked against known_hosts) and
    // opens SFTP. Errors as SshSession::connect.
    static Result<std::unique_ptr<SftpTarget>> connect(const TargetSpec& spec);

    // The NAS host key this connection verified against known_hosts.
    HostKey host_key() const;

    std::string describe() const override;
    std::string location(std::string_view rel_path) const override;
    // The many-item calls go through an SftpPipeline: many requests in flight at once.
    std::vector<Result<TargetEntry>> stat(std::span<const std::string> rel_paths) override;
    Result<void> make_dirs(std::string_view rel_path) override;
    Result<std::unique_ptr<TargetFile>> open_write(std::string_view rel_path, std::uint64_t offset) override;
    std::vector<Result<bool>> write_files(std::span<const WholeFile> files) override;
    // posix-rename@openssh.com where the server has it (OpenSSH): each `to` is
    // replaced atomically; elsewhere as Sftp::rename, one at a time.
    std::vector<Result<void>> rename(std::span<const RenamePair> renames) override;
    Result<void> remove(std::string_view rel_path) override;
    Result<void> commit() override;
    Result<std::uint64_t> available_space(std::string_view rel_folder) override;
    // The hash commands go to the remote shell now; their output is read at the collect.
    Result<PendingDigests> sha256(std::span<const std::string> rel_paths) override;
    std::string no_hash_reason() const override;

private:
    class File;  // a TargetFile: an SftpUpload

    // The SHA-256 of a file computed on the NAS as the file is written
    // (TargetFile::hash_while_written): a command that follows the file as it
    // grows, until it is told the upload has finished.
    using Follower = RemoteCommand;
    // Starts the Follower of `rel_path`, just opened for writing; nullopt
    // where the NAS cannot run one (the file is then read again to verify it).
    std::optional<Follower> follow(std::string_view rel_path);
    // The digest `follower` computed, once the upload of `rel_path` has
    // finished; nullopt when it gave none that can be trusted. Errors: the
    // connection is lost.
    Result<std::optional<std::string>> followed_digest(std::string_view rel_path, Follower follower);

    SftpTarget(SshSession session, Sftp sftp, SftpPipeline pipeline, TargetSpec spec);

    std::string remote(std::string_view rel_path) const;
    // Sets the modification time: false when the server refuses to.
    Result<bool> set_mtime(std::string_view rel_path, std::int64_t mtime_ns);
    Result<bool> probe_sha256sum();
    // Runs argv on the NAS in this target's remote shell, started on first
    // use; where no shell can be started, or it ended, by one exec each.
    Result<ExecResult> run_remote(std::span<const std::string> argv, Duration timeout);
    // Whether the remote shell runs, starting it on first use.
    bool shell();
    // The shell failed (`error`) or cannot start: commands go by exec from now on.
    void shell_lost(const Error& error);

    // One sha256sum command line of a batch, and the remote names it hashes.
    struct HashCommand {
        std::vector<std::string> argv;
        std::vector<std::string> names;
    };
    // The sha256sum commands for `rel_paths`, each short enough for libssh2 to send.
    Result<std::vector<HashCommand>> sha256_commands(std::span<const std::string> rel_paths);
    // The digests that the outputs of `commands` give, each output from `run`.
    static Result<Digests> digests_from(std::span<const HashCommand> commands,
                                        const std::function<Result<ExecResult>(const HashCommand&)>& run);
    // Whether `argv` followed by /dev/null prints the SHA-256 of nothing on
    // the NAS; asked once, the answer kept in `known`.
    // Whether `argv` /dev/null prints the SHA-256 of nothing on the NAS; when
    // it does not, `why` says what happened instead.
    Result<bool> hashes_right(std::vector<std::string> argv, std::optional<bool>& known, std::string& why);
    // sha256 in its two halves: the request sends the hash commands of
    // `rel_paths` to the remote shell; the collect reads the output of the
    // oldest request not collected yet.
    Result<void> request_hashes(std::span<const std::string> rel_paths);
    Result<std::optional<Digests>> collect_hashes();
    // The hashes of `rel_paths` at once: in the shell where it is idle, else by exec.
    Result<std::optional<Digests>> hash_now(std::span<const std::string> rel_paths);
    struct HashRequest {
        std::vector<std::string> rel_paths;
        bool can_hash = true;  // false: the NAS has no sha256sum
        // Those of rel_paths hashed while they were written, by index.
        std::vector<std::pair<std::size_t, Follower>> followed;
        // The others, by index, and their hash commands: sent to the shell;
        // none: hashed by exec at the collect.
        std::vector<std::size_t> read_again;
        std::vector<HashCommand> commands;

        std::vector<std::string> paths_read_again() const;
    };
    // The digests of the files of `request` read again (read_again).
    Result<std::optional<Digests>> collect_read_again(const HashRequest& request);
    Result<std::uint64_t> df_available(const std::string& folder);

    SshSession m_session;
    Sftp m_sftp;              // declared after m_session: destroyed before it
    SftpPipeline m_pipeline;  // the same
    TargetSpec m_spec;
    std::optional<RemoteShell> m_shell;  // the same
    bool m_shell_refused = false;
    std::deque<HashRequest> m_hash_requests;
    std::optional<bool> m_has_sha256sum;
    std::optional<bool> m_has_openssl;
    std::string m_no_sha256sum;  // why sha256sum cannot be used, once asked and refused
    // Uploads finished whose Follower is still hashing, by path; destroyed before m_session.
    std::map<std::string, Follower, std::less<>> m_followed;
    bool m_follow_refused = false;  // a Follower failed: files are read again from now on
    bool m_statvfs_refused = false;
};

}  // namespace nasops::sync
