#include "measure.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "nasops/ssh/nas_config.hpp"
#include "nasops/ssh/remote_df.hpp"

namespace nasops::capacity {

Sample sample_of(const FsStat& fs, std::int64_t ts) {
    const std::uint64_t used = fs.total_bytes - std::min(fs.free_bytes, fs.total_bytes);
    return Sample{.ts = ts, .used = used, .total = used + fs.available_bytes};
}

Result<Sample> measure_local(const std::filesystem::path& path, std::int64_t ts) {
    TRY_ASSIGN(const auto fs, local_fs_stat(path));
    return sample_of(fs, ts);
}

Result<std::uint64_t> device_of(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        const int err = errno;
        return fail(err == ENOENT ? ExitCode::no_input : ExitCode::io_error,
                    fmt::format("stat {}: {}", path.string(), std::strerror(err)));
    }
    return static_cast<std::uint64_t>(st.st_dev);
}

std::string NasShare::target() const {
    return fmt::format("{}:{}", ssh.host, path);
}

Result<std::optional<NasShare>> nas_share(const Config& config, const EnvLookup& env) {
    NasShare share;
    TRY_ASSIGN(share.ssh, nas_ssh_options(config, env));
    if (share.ssh.host.empty()) return std::optional<NasShare>{};
    TRY(require_nas_login(config, share.ssh));
    share.path = config.section("nas").get_path("remote_root").string();
    if (share.path.empty()) share.path = ".";
    return std::optional<NasShare>(std::move(share));
}

Result<NasSample> measure_nas(const NasShare& share, std::int64_t ts) {
    TRY_ASSIGN(auto session, SshSession::connect(share.ssh));
    std::string sftp_problem;
    {
        auto sftp = session.sftp();
        if (sftp) {
            auto st = sftp->statvfs(share.path);
            if (st) return NasSample{sample_of(*st, ts), "SFTP statvfs"};
            sftp_problem = st.error().message;
        } else {
            sftp_problem = sftp.error().message;
        }
    }
    // Some NAS lack the statvfs@openssh.com extension: ask df instead.
    auto df = remote_df(session, share.path);
    if (!df)
        return fail(df.error().code, fmt::format("NAS {}: {}; {}", share.target(), sftp_problem, df.error().message));
    return NasSample{sample_of(*df, ts), "df -P"};
}

}  // namespace nasops::capacity
