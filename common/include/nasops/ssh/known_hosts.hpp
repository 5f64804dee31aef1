#pragma once

// OpenSSH known_hosts verification for the ssh module: lookups of a host's key
// (plain and hashed entries, "[host]:port" names), accept-new appends, and the
// key and fingerprint text that messages show, in OpenSSH's own forms.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/ssh/ssh_library.hpp"

namespace nasops {

// The algorithm name that opens an SSH public key blob ("ssh-ed25519",
// "ecdsa-sha2-nistp256"), or nullopt when the blob is malformed.
std::optional<std::string> ssh_key_type(std::string_view blob);

// A public key as OpenSSH writes it in id_*.pub and known_hosts lines.
struct PublicKey {
    std::string type;  // "ssh-ed25519"
    std::string blob;  // the decoded key blob, as the server sends it
};

// Parses "ssh-ed25519 AAAA... comment" (an id_*.pub line). Errors say why
// (ExitCode::data_error) and quote the start of the line.
Result<PublicKey> parse_public_key_line(std::string_view line);

// "SHA256:" and the unpadded base64 of a 32-byte SHA-256 digest: the form
// ssh-keygen -l and ssh's prompts print.
std::string sha256_fingerprint(std::string_view digest);

// The name OpenSSH files a host under: "host" on port 22, "[host]:port" on any
// other port, the host lower-cased as OpenSSH does before matching or hashing.
std::string known_hosts_name(std::string_view host, int port);

// One known_hosts line "<name> <type> <base64 blob>\n" for `key_blob` at host:port.
// Errors when the blob is malformed (ExitCode::data_error).
Result<std::string> known_hosts_line(std::string_view host, int port, std::string_view key_blob);

enum class HostKeyStatus {
    known,    // an entry for host:port holds this key
    unknown,  // no entry for host:port with this key's type
    changed,  // host:port has an entry of this key's type with another key
    revoked,  // the key is listed under @revoked
};

// An OpenSSH known_hosts file, loaded for lookups through libssh2_knownhost_*.
// Understood: plain names and comma lists, hashed names (|1|salt|hash, as
// `ssh-keygen -H` writes them), "[host]:port" names, comments, and @revoked
// lines (a revoked key is refused for every host). Not understood, and so never
// a match: wildcard and negated patterns, @cert-authority lines, and key types
// libssh2 1.10 does not know (those lines are skipped and counted).
class KnownHosts {
public:
    // A missing file is an empty collection; an unreadable one is an Error
    // naming the file (ExitCode::config).
    static Result<KnownHosts> load(const std::filesystem::path& path);

    // What the file says about `key_blob` offered by host:port, matching names
    // exactly as OpenSSH does (no "[host]:port" falls back to "host").
    HostKeyStatus check(std::string_view host, int port, std::string_view key_blob) const;

    // The key types the file holds for host:port, in OpenSSH's order of
    // preference, so that the handshake can ask the server for a key it can check.
    std::vector<std::string> key_types(std::string_view host, int port) const;

    const std::filesystem::path& path() const { return m_path; }
    // Lines that were neither entries libssh2 could read, comments, nor markers.
    std::size_t skipped_lines() const { return m_skipped_lines; }

private:
    KnownHosts() = default;

    Libssh2Library m_library;
    Libssh2Ptr<LIBSSH2_SESSION> m_session;  // libssh2_knownhost_init needs one; it never connects
    Libssh2Ptr<LIBSSH2_KNOWNHOSTS> m_hosts;
    std::vector<std::string> m_revoked;  // base64 blobs of @revoked keys
    std::filesystem::path m_path;
    std::size_t m_skipped_lines = 0;
};

// Appends the line for host:port and `key_blob` to the known_hosts file at
// `path` (OpenSSH's accept-new), creating the file (mode 0600) and its folder
// (mode 0700) when missing. Errors name the file (ExitCode::cant_create).
Result<void> append_known_host(const std::filesystem::path& path, std::string_view host, int port,
                               std::string_view key_blob);

}  // namespace nasops
