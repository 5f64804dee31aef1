#include "measure.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

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
    const auto& nas = config.section("nas");
    NasShare share;
    share.ssh.host = nas.get_string("host");
    if (share.ssh.host.empty()) return std::optional<NasShare>{};
    share.ssh.user = nas.get_string("user");
    if (share.ssh.user.empty()) return std::unexpected(nas.error_at("user", "no user to log in to the NAS as"));
    share.ssh.port = static_cast<int>(nas.get_int("port"));
    share.ssh.identity_file = nas.get_path("identity_file");
    share.ssh.known_hosts = nas.get_path("known_hosts");
    if (share.ssh.known_hosts.empty()) {
        const auto home = non_empty_env(env, "HOME");
        if (!home) return std::unexpected(nas.error_at("known_hosts", "no known_hosts file (and $HOME is not set)"));
        share.ssh.known_hosts = std::filesystem::path(*home) / ".ssh/known_hosts";
    }
    if (const auto file = nas.get_path("passphrase_file"); !file.empty()) {
        struct stat st {};
        if (::stat(file.c_str(), &st) != 0)
            return std::unexpected(nas.error_at(
                "passphrase_file", fmt::format("cannot open {}: {}", file.string(), std::strerror(errno))));
        if ((st.st_mode & 077) != 0)
            return std::unexpected(nas.error_at(
                "passphrase_file",
                fmt::format("{} is readable by others (mode {:o}); chmod 600 it", file.string(), st.st_mode & 0777)));
        std::ifstream in(file);
        std::string line;
        std::getline(in, line);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        share.ssh.passphrase = std::move(line);
    }
    share.ssh.accept_new_host_key = nas.get_bool("accept_new_host_key");
    share.ssh.connect_timeout = nas.get_duration("connect_timeout");
    share.path = nas.get_path("remote_root").string();
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
