#pragma once

// The settings of one nasops-sync invocation: the command line, which wins,
// over the [sync] and [nas] sections of nasops.toml, which win over the
// built-in defaults. main.cpp fills CliOptions; everything else is here.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/core/cli.hpp"
#include "nasops/core/config.hpp"
#include "nasops/core/error.hpp"
#include "nasops/core/output.hpp"
#include "nasops/ssh/ssh_session.hpp"
#include "nasops/util/rate_timetable.hpp"
#include "nasops/util/units.hpp"
#include "queue.hpp"

namespace nasops::sync {

enum class Verify { automatic, sha256, size, none };
std::string_view verify_name(Verify verify) noexcept;  // "auto", "sha256", "size", "none"
std::optional<Verify> parse_verify(std::string_view text) noexcept;

enum class RemoveSource : bool { no, yes };
enum class DeleteEmptySrcDirs : bool { no, yes };

// What the command line says. Empty lists and nullopt mean "not given": the
// configuration's value applies. Durations, sizes and rates are kept as the
// text typed, parsed by resolve_settings so that errors name the option.
struct CliOptions {
    CommonOptions common;
    bool dry_run = false;
    std::vector<std::string> sources;
    std::optional<std::string> target;
    std::vector<std::string> include;
    std::vector<std::string> exclude;
    std::optional<std::string> min_age;
    std::optional<std::int64_t> jobs;
    std::optional<std::string> verify;
    bool remove_source = false;  // the flag can only turn it on
    bool delete_empty_src_dirs = false;
    std::optional<int> max_retries;
    std::optional<std::string> bwlimit;
    std::optional<std::string> max_duration;
    std::optional<std::string> max_bytes;
    std::optional<std::string> lock_timeout;
    bool accept_new_host_key = false;
    std::optional<std::string> state;         // ls --state
    std::vector<std::string> paths;           // retry PATH..., why PATH...
    bool all_failed = false;                  // retry --all-failed
    bool accept_host_key = false;             // hostkey --accept
    std::optional<std::string> textfile_dir;  // run --textfile-dir
};

// Where files go. A local folder, or an SFTP server.
struct TargetSpec {
    enum class Kind { local, sftp };
    Kind kind = Kind::local;
    std::filesystem::path local_root;  // Kind::local
    SshOptions ssh;                    // Kind::sftp
    std::string remote_root;           // Kind::sftp: absolute path on the server
    // Kind::sftp: make remote_root when it is missing. Off by default: a
    // missing root is most often a NAS volume that is not mounted, and
    // uploads would fill the folder underneath its mount point.
    bool create_remote_root = false;
    // As the operator reads it: "/srv/nas" or "sftp://nas@10.0.0.5:22/volume1/media".
    std::string display() const;
};

struct Settings {
    OutputFormat format = OutputFormat::text;
    bool quiet = false;
    int verbose = 0;
    bool dry_run = false;
    std::vector<std::filesystem::path> sources;
    std::vector<std::string> include;
    std::vector<std::string> exclude;
    Duration min_age{std::chrono::seconds(30)};
    int jobs = 4;
    Verify verify = Verify::automatic;
    RemoveSource remove_source = RemoveSource::no;
    // Only with remove_source, as rclone allows it with move only: a copy
    // leaves the source tree as it found it.
    DeleteEmptySrcDirs delete_empty_src_dirs = DeleteEmptySrcDirs::no;
    int max_retries = 5;
    std::optional<RateTimetable> bwlimit;  // all workers together; unset when it never limits
    std::optional<Duration> max_duration;
    std::optional<std::uint64_t> max_bytes;
    Duration lock_timeout{0};
    std::optional<FileState> state;
    std::vector<std::string> paths;
    bool all_failed = false;
    std::optional<std::filesystem::path> textfile_dir;  // run: where nasops_sync.prom goes
};

// Merges the command line over `config`. Bad option values are usage errors
// (ExitCode::usage) naming the option; values that conflict with the
// configuration are config errors naming file:line:column and the key.
Result<Settings> resolve_settings(const CliOptions& cli, const Config& config);

// The target to upload to: --target, else [sync] target, else the [nas]
// section. A value starting with "sftp://" is
//   sftp://[user@]host[:port]/absolute/path
// (user, port and the key settings default to [nas]); any other value is a
// local folder (made absolute from the current folder). The passphrase is
// read from [nas] passphrase_file, which must not be readable by others.
// Errors are ExitCode::config (or usage for a malformed --target).
Result<TargetSpec> resolve_target(const CliOptions& cli, const Config& config);

// Parses "sftp://[user@]host[:port]/path"; user and port stay as given in
// `defaults` when the URL lacks them. IPv6 hosts are written in brackets.
Result<TargetSpec> parse_sftp_url(std::string_view url, const TargetSpec& defaults);

}  // namespace nasops::sync
