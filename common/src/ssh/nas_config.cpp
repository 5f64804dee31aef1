#include "nasops/ssh/nas_config.hpp"

#include "nasops/core/private_file.hpp"

namespace nasops {

Result<SshOptions> nas_ssh_options(const Config& config, const EnvLookup& env) {
    const auto& nas = config.section("nas");
    SshOptions ssh;
    ssh.host = nas.get_string("host");
    ssh.port = static_cast<int>(nas.get_int("port"));
    ssh.user = nas.get_string("user");
    ssh.identity_file = nas.get_path("identity_file");
    ssh.connect_timeout = nas.get_duration("connect_timeout");
    ssh.timeout = nas.get_duration("timeout");
    ssh.accept_new_host_key = nas.get_bool("accept_new_host_key");
    ssh.known_hosts = nas.get_path("known_hosts");
    if (ssh.known_hosts.empty()) {
        if (const auto home = non_empty_env(env, "HOME"))
            ssh.known_hosts = std::filesystem::path(*home) / ".ssh/known_hosts";
    }
    if (const auto file = nas.get_path("passphrase_file"); !file.empty()) {
        auto passphrase = read_private_line(file);
        if (!passphrase) return std::unexpected(nas.error_at("passphrase_file", passphrase.error().message));
        ssh.passphrase = std::move(*passphrase);
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
