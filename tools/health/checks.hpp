#pragma once

// The checks of nasops-health, one factory each. Every check measures one
// target; a check configured for several targets (disk paths, processes,
// URLs) is one Check per target, so that a hung target only costs its own
// result. Each check owns copies of what it is given (see Check).

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "health/check.hpp"
#include "health/thresholds.hpp"
#include "nasops/ssh/ssh_session.hpp"
#include "nasops/util/fs_stat.hpp"

namespace nasops::health {

using ThresholdsPtr = std::shared_ptr<const Thresholds>;

// A check that could not be set up (nothing configured for it, say): it
// reports `status` (UNKNOWN, or WARNING for a tool not configured yet) with
// `message` when run.
std::shared_ptr<Check> make_unconfigured_check(std::string name, std::string target, std::string message,
                                               Status status);

// disk: statvfs(path): used fraction of the space (as df counts it, against
// what unprivileged users can reach), used fraction of the inodes, bytes free.
// Adds <prefix>_used, <prefix>_inodes_used (when the file system counts
// inodes) and <prefix>_free to `result`, judged by `thresholds`, and returns
// the message that sums them up. Shared by disk and nas_disk.
std::string judge_filesystem(CheckResult& result, const Thresholds& thresholds, std::string_view prefix,
                             const FsStat& fs);

std::shared_ptr<Check> make_disk_check(std::filesystem::path path, ThresholdsPtr thresholds);

// memory: used fraction from MemTotal and MemAvailable; swap used fraction when
// there is swap (no swap is OK).
std::shared_ptr<Check> make_memory_check(std::filesystem::path proc_root, ThresholdsPtr thresholds);

// load: the 1, 5 and 15-minute load averages divided by the online CPUs.
std::shared_ptr<Check> make_load_check(std::filesystem::path proc_root, ThresholdsPtr thresholds);

// cpu: the busy fraction of all CPUs between two reads of /proc/stat `sample` apart.
std::shared_ptr<Check> make_cpu_check(std::filesystem::path proc_root, Duration sample, ThresholdsPtr thresholds);

// fds: the system's file handles in use against fs.file-max.
std::shared_ptr<Check> make_fds_check(std::filesystem::path proc_root, ThresholdsPtr thresholds);

// Which processes a process spec names: an absolute path is a pidfile, anything
// else a process name (matched against comm; a name longer than comm's 15
// characters is confirmed by argv[0]'s base name).
struct ProcessLookup {
    std::vector<pid_t> pids;  // living processes, zombies excluded
    std::string why_none;     // when pids is empty: "no process named x", "pidfile ... does not exist"
};
ProcessLookup find_processes(const std::string& spec, const std::filesystem::path& proc_root);

// fds of one monitored process (the one with the most open files when the
// spec matches several) against its soft RLIMIT_NOFILE.
std::shared_ptr<Check> make_process_fds_check(std::string spec, std::filesystem::path proc_root,
                                              ThresholdsPtr thresholds);

// process: running (CRITICAL when not), uptime of the oldest match (critical
// under 60 s by default: a restart loop), resident memory, instances.
std::shared_ptr<Check> make_process_check(std::string spec, std::filesystem::path proc_root, ThresholdsPtr thresholds);

// service: `<systemctl> is-active UNIT` where systemd runs (`systemd_dir`,
// normally /run/systemd/system, exists); UNKNOWN "systemd is not running"
// elsewhere. active is OK, a unit changing state WARNING, anything else CRITICAL.
std::shared_ptr<Check> make_service_check(std::string unit, std::filesystem::path systemd_dir, std::string systemctl,
                                          ThresholdsPtr thresholds);

// db: PRAGMA quick_check and the size of the database with its WAL.
std::shared_ptr<Check> make_db_check(std::filesystem::path db_path, ThresholdsPtr thresholds);

// logs: the sizes of the *.log files in `log_dir`, and the lines at level
// error (or holding the word ERROR) stamped within `window` of now.
std::shared_ptr<Check> make_logs_check(std::filesystem::path log_dir, Duration window, ThresholdsPtr thresholds);

// transfer: the sync database: success ratio, MB/s and average time of the
// transfer attempts finished within `window` (from sync_attempts, else from
// the final states in media_files), queue length, and the age of the oldest
// pending file (media_files). UNKNOWN "no sync database yet" until
// nasops-sync has created media_files.
std::shared_ptr<Check> make_transfer_check(std::filesystem::path db_path, Duration window, ThresholdsPtr thresholds);

struct HttpTarget {
    std::string url;
    long expect_status = 200;
    std::string body_match;              // a substring the body must hold; empty: not checked
    std::optional<ThresholdRange> warn;  // latency, seconds; unset: the [health] thresholds
    std::optional<ThresholdRange> crit;
};
// http: status code, latency, optional body match (libcurl, TLS verified).
std::shared_ptr<Check> make_http_check(HttpTarget target, ThresholdsPtr thresholds);

// tls: time until the certificate expires, of a PEM file (an absolute path) or
// of the server at host:port (handshake through libcurl, chain not verified:
// an expiring certificate must be reported even when it is self-signed).
std::shared_ptr<Check> make_tls_check(std::string target, ThresholdsPtr thresholds);

// nas_disk: SFTP statvfs of `remote_path` (the login folder when empty) on the
// NAS, else `df -P -k` over exec. UNKNOWN when the NAS cannot be reached.
std::shared_ptr<Check> make_nas_disk_check(SshOptions ssh, const std::string& remote_path, ThresholdsPtr thresholds);

// ssh: connect, authenticate and one SFTP round trip (a stat of `remote_path`,
// the login folder when empty); the latency of the whole, and the success
// ratio of the probes recorded within `window` in the database at `db_path`
// (this probe included; no history when db_path is empty). A failure is CRITICAL.
std::shared_ptr<Check> make_ssh_check(SshOptions ssh, const std::string& remote_path, std::filesystem::path db_path,
                                      Duration window, ThresholdsPtr thresholds);

struct SecurityTargets {
    std::vector<std::filesystem::path> media;          // [sync] sources: also no setuid or setgid file
    std::vector<std::filesystem::path> folders;        // state and log folders
    std::filesystem::path config_folder;               // its files only: the config may be in a home folder
    std::vector<std::filesystem::path> private_files;  // identity_file, passphrase_file, password_files
    std::vector<std::filesystem::path> owned_files;    // known_hosts
    std::filesystem::path sync_db;                     // the NAS host keys nasops-sync saw (db/host_keys)
};
// security: files and folders anyone may write to under `media` and
// `folders`, setuid and setgid files among the media, private files open to
// others or owned by a stranger, owned files owned by a stranger, a NAS host
// key that changed since the run before and was not acknowledged; each
// finding logged with the command that fixes it (the first 100), all counted
// in security_findings, the first three quoted in the message.
std::shared_ptr<Check> make_security_check(SecurityTargets targets, ThresholdsPtr thresholds);

}  // namespace nasops::health
