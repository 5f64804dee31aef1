#include "nasops/ssh/nas_config.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "nasops/util/unique_fd.hpp"

namespace nasops {

namespace {

// The first line of a private file, without its line ending.
Result<std::string> read_passphrase(const std::filesystem::path& path, const ConfigTable& nas) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        return std::unexpected(
            nas.error_at("passphrase_file", fmt::format("cannot open {}: {}", path.string(), std::strerror(errno))));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || (st.st_mode & 077) != 0)
        return std::unexpected(nas.error_at(
            "passphrase_file", fmt::format("{} is readable by others (mode {:o}); chmod 600 it, as ssh wants of keys",
                                           path.string(), st.st_mode & 0777)));
    std::string text;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return std::unexpected(nas.error_at(
                "passphrase_file", fmt::format("cannot read {}: {}", path.string(), std::strerror(errno))));
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    if (const auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
    if (!text.empty() && text.back() == '\r') text.pop_back();
    return text;
}

}  // namespace

Result<SshOptions> nas_ssh_options(const Config& config, const EnvLookup& env) {
    const auto& nas = config.section("nas");
    SshOptions ssh;
    ssh.host = nas.get_string("host");
    ssh.port = static_cast<int>(nas.get_int("port"));
    ssh.user = nas.get_string("user");
    ssh.identity_file = nas.get_path("identity_file");
    ssh.connect_timeout = nas.get_duration("connect_timeout");
    ssh.accept_new_host_key = nas.get_bool("accept_new_host_key");
    ssh.known_hosts = nas.get_path("known_hosts");
    if (ssh.known_hosts.empty()) {
        if (const auto home = non_empty_env(env, "HOME")) ssh.known_hosts = std::filesystem::path(*home) / ".ssh/known_hosts";
    }
    if (const auto file = nas.get_path("passphrase_file"); !file.empty()) {
        TRY_ASSIGN(ssh.passphrase, read_passphrase(file, nas));
    }
    return ssh;
}

Result<void> require_nas_login(const Config& config, const SshOptions& ssh) {
    const auto& nas = config.section("nas");
    if (ssh.host.empty()) return std::unexpected(nas.error_at("host", "no NAS to connect to"));
    if (ssh.user.empty()) return std::unexpected(nas.error_at("user", "no user to log in to the NAS as"));
    if (ssh.known_hosts.empty())
        return std::unexpected(nas.error_at("known_hosts", "no known_hosts file (and $HOME is not set)"));
    return {};
}

}  // namespace nasops
