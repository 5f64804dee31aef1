#pragma once

// Measuring a sample: a local file system by statvfs(3), the NAS share by the
// SFTP statvfs@openssh.com extension, else `df -P` over exec (remote_df).

#include <cstdint>
#include <filesystem>
#include <string>

#include "forecast.hpp"
#include "nasops/core/config.hpp"
#include "nasops/core/environment.hpp"
#include "nasops/core/error.hpp"
#include "nasops/ssh/sftp.hpp"
#include "nasops/ssh/ssh_session.hpp"

namespace nasops::capacity {

// used = total - free, total = used + available: the figures df's Use% is
// computed from (the blocks reserved for root are not room a user has).
Sample sample_of(const FsStat& fs, std::int64_t ts);

// local_fs_stat of `path`, as a sample.
Result<Sample> measure_local(const std::filesystem::path& path, std::int64_t ts);

// The device of `path`'s file system, to sample each file system once.
Result<std::uint64_t> device_of(const std::filesystem::path& path);

// The NAS share of [nas]: how to reach it and the folder to measure.
struct NasShare {
    SshOptions ssh;
    std::string path;  // [nas] remote_root, "." (the login folder) when empty
    // "host:/path", the target name nasops-health's nas_disk check gives it.
    std::string target() const;
};
// nullopt when [nas] host is empty; a config error when it is set but unusable.
Result<std::optional<NasShare>> nas_share(const Config& config, const EnvLookup& env);

struct NasSample {
    Sample sample;
    std::string how;  // "SFTP statvfs" or "df -P"
};
// One connection: statvfs@openssh.com, else df -P. ExitCode::unavailable when
// the NAS cannot be reached.
Result<NasSample> measure_nas(const NasShare& share, std::int64_t ts);

}  // namespace nasops::capacity
