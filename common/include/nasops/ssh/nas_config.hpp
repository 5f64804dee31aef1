#pragma once

// The [nas] section of nasops.toml as SSH options: the one reading of those
// keys for every tool that connects to the NAS.

#include "nasops/core/config.hpp"
#include "nasops/core/environment.hpp"
#include "nasops/ssh/ssh_session.hpp"

namespace nasops {

// port, user, host, identity_file, connect_timeout and accept_new_host_key as
// written; known_hosts defaulting to ~/.ssh/known_hosts (empty without
// $HOME); the passphrase read from passphrase_file, which must be private
// (mode 0600), as ssh wants of keys. An empty host, user or known_hosts is
// left for the caller to judge: some tools have no NAS then, others refuse
// (require_nas_login). Errors are ExitCode::config and name the file, line
// and key.
Result<SshOptions> nas_ssh_options(const Config& config, const EnvLookup& env);

// host, user and known_hosts are set, or the error naming the key that is not.
Result<void> require_nas_login(const Config& config, const SshOptions& ssh);

}  // namespace nasops
