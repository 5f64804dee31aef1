#pragma once

// The rule ssh applies to a private key, for every file that holds a secret:
// a config that sets a password, a token or a URL with a credential in it, a
// password_file, a passphrase_file. Such a file is open to nobody but its
// owner (mode 0600 or 0400) and owned by the user running nasops or by root.

#include <sys/stat.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "nasops/core/error.hpp"

namespace nasops {

// What is wrong with the file `path` of mode and owner `st`, to follow its
// name, with the command that fixes it ("is readable by others (mode 0644),
// which ssh refuses for a key: run chmod 600 /x"); nothing when it is private.
std::optional<std::string> private_file_problem(const std::filesystem::path& path, const struct stat& st);

// The owner half of that rule, for a file others may read but only its owner
// may change (known_hosts): owned by the user running nasops or by root.
std::optional<std::string> owner_problem(const std::filesystem::path& path, const struct stat& st);

// The first line of the private file `path`, without its line ending.
// ExitCode::config naming the file when it cannot be read or is not private.
Result<std::string> read_private_line(const std::filesystem::path& path);

// True when `value` is a URL that carries a credential: a password in
// user:password@, a query parameter that names one (access_token, token, key,
// api_key, apikey, secret, password, sig, signature), or a Slack incoming
// webhook (hooks.slack.com), whose path is the credential.
bool url_holds_secret(std::string_view value);

}  // namespace nasops
