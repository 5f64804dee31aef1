#include "nasops/ssh/known_hosts.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <system_error>

#include "nasops/util/base64.hpp"
#include "nasops/util/text.hpp"
#include "nasops/util/unique_fd.hpp"

namespace nasops {

namespace {

// OpenSSH's default order of host key algorithms, restricted to what libssh2
// 1.10 can verify, with the LIBSSH2_KNOWNHOST_KEY_* bits of each.
struct KeyType {
    std::string_view name;
    int bits;
};
constexpr std::array<KeyType, 6> k_key_types{{
    {"ssh-ed25519", LIBSSH2_KNOWNHOST_KEY_ED25519},
    {"ecdsa-sha2-nistp256", LIBSSH2_KNOWNHOST_KEY_ECDSA_256},
    {"ecdsa-sha2-nistp384", LIBSSH2_KNOWNHOST_KEY_ECDSA_384},
    {"ecdsa-sha2-nistp521", LIBSSH2_KNOWNHOST_KEY_ECDSA_521},
    {"ssh-rsa", LIBSSH2_KNOWNHOST_KEY_SSHRSA},
    {"ssh-dss", LIBSSH2_KNOWNHOST_KEY_SSHDSS},
}};

int key_bits(std::string_view type) noexcept {
    for (const KeyType& k : k_key_types)
        if (k.name == type) return k.bits;
    return 0;
}

std::vector<std::string_view> split_fields(std::string_view s) {
    std::vector<std::string_view> fields;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        const std::size_t start = i;
        while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
        if (i > start) fields.push_back(s.substr(start, i - start));
    }
    return fields;
}

}  // namespace

std::optional<std::string> ssh_key_type(std::string_view blob) {
    if (blob.size() < 4) return std::nullopt;
    const std::uint32_t length = (std::uint32_t{static_cast<unsigned char>(blob[0])} << 24) |
                                 (std::uint32_t{static_cast<unsigned char>(blob[1])} << 16) |
                                 (std::uint32_t{static_cast<unsigned char>(blob[2])} << 8) |
                                 std::uint32_t{static_cast<unsigned char>(blob[3])};
    if (length == 0 || length > 64 || length > blob.size() - 4) return std::nullopt;
    std::string type(blob.substr(4, length));
    const bool printable = std::ranges::all_of(type, [](char c) { return c > ' ' && c < 127; });
    if (!printable) return std::nullopt;
    return type;
}

Result<PublicKey> parse_public_key_line(std::string_view line) {
    const auto fields = split_fields(trim(line));
    const std::string quoted(trim(line).substr(0, 40));
    if (fields.size() < 2) return fail(ExitCode::data_error, fmt::format("not a public key line: '{}'", quoted));
    auto blob = base64_decode(fields[1]);
    if (!blob) return fail(ExitCode::data_error, fmt::format("public key is not valid base64: '{}'", quoted));
    auto type = ssh_key_type(*blob);
    if (!type || *type != fields[0])
        return fail(ExitCode::data_error,
                    fmt::format("public key blob does not match its type '{}': '{}'", fields[0], quoted));
    return PublicKey{std::move(*type), std::move(*blob)};
}

std::string sha256_fingerprint(std::string_view digest) {
    return "SHA256:" + base64_encode(digest, Base64Padding::no);
}

std::string known_hosts_name(std::string_view host, int port) {
    if (port == 22) return lower(host);
    return fmt::format("[{}]:{}", lower(host), port);
}

Result<std::string> known_hosts_line(std::string_view host, int port, std::string_view key_blob) {
    auto type = ssh_key_type(key_blob);
    if (!type) return fail(ExitCode::data_error, "malformed SSH public key blob");
    return fmt::format("{} {} {}\n", known_hosts_name(host, port), *type, base64_encode(key_blob));
}

Result<KnownHosts> KnownHosts::load(const std::filesystem::path& path) {
    KnownHosts hosts;
    hosts.m_path = path;
    hosts.m_session.reset(libssh2_session_init());
    if (!hosts.m_session) return fail(ExitCode::software, "cannot create a libssh2 session (out of memory?)");
    hosts.m_hosts.reset(libssh2_knownhost_init(hosts.m_session.get()));
    if (!hosts.m_hosts) return fail(ExitCode::software, "cannot create a libssh2 known_hosts collection");

    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        if (ec)
            return fail(ExitCode::config,
                        fmt::format("cannot read known_hosts file {}: {}", path.string(), ec.message()));
        return hosts;
    }
    std::ifstream in(path);
    if (!in)
        return fail(ExitCode::config,
                    fmt::format("cannot read known_hosts file {}: {}", path.string(), std::strerror(errno)));
    std::string raw;
    while (std::getline(in, raw)) {
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') continue;
        if (line.front() == '@') {
            const auto fields = split_fields(line);
            if (fields.size() >= 4 && fields[0] == "@revoked")
                hosts.m_revoked.emplace_back(fields[3]);
            else
                ++hosts.m_skipped_lines;
            continue;
        }
        // libssh2 1.10 skips the blanks after a key type without looking at
        // the length (hostline()), so on a line that ends with its key type
        // it read the trimmed blanks and beyond: it gets the line NUL-ended.
        const std::string entry(line);
        if (libssh2_knownhost_readline(hosts.m_hosts.get(), entry.c_str(), entry.size(),
                                       LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0)
            ++hosts.m_skipped_lines;
    }
    if (in.bad())
        return fail(ExitCode::config,
                    fmt::format("cannot read known_hosts file {}: {}", path.string(), std::strerror(errno)));
    return hosts;
}

HostKeyStatus KnownHosts::check(std::string_view host, int port, std::string_view key_blob) const {
    if (std::ranges::find(m_revoked, base64_encode(key_blob)) != m_revoked.end()) return HostKeyStatus::revoked;
    const auto type = ssh_key_type(key_blob);
    const int bits = type ? key_bits(*type) : 0;
    if (bits == 0) return HostKeyStatus::unknown;
    const std::string name = known_hosts_name(host, port);
    // Port -1: libssh2 then matches `name` only, where a port would make it
    // also accept entries for the bare host, which OpenSSH does not.
    const int rc =
        libssh2_knownhost_checkp(m_hosts.get(), name.c_str(), -1, key_blob.data(), key_blob.size(),
                                 LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | bits, nullptr);
    switch (rc) {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH: return HostKeyStatus::known;
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH: return HostKeyStatus::changed;
        default: return HostKeyStatus::unknown;
    }
}

std::vector<std::string> KnownHosts::key_types(std::string_view host, int port) const {
    const std::string name = known_hosts_name(host, port);
    // A key that matches no entry: libssh2 reports a mismatch exactly when the
    // file holds a key of the probed type for this name, hashed or not.
    constexpr std::string_view probe = "\x00";
    std::vector<std::string> types;
    for (const KeyType& k : k_key_types) {
        const int rc =
            libssh2_knownhost_checkp(m_hosts.get(), name.c_str(), -1, probe.data(), 1,
                                     LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | k.bits, nullptr);
        if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) types.emplace_back(k.name);
    }
    return types;
}

Result<void> append_known_host(const std::filesystem::path& path, std::string_view host, int port,
                               std::string_view key_blob) {
    TRY_ASSIGN(auto line, known_hosts_line(host, port, key_blob));
    const auto cannot = [&](std::string_view why) {
        return fail(ExitCode::cant_create, fmt::format("cannot add the host key of {} to {}: {}",
                                                       known_hosts_name(host, port), path.string(), why));
    };
    const std::filesystem::path folder = path.parent_path();
    if (!folder.empty()) {
        std::error_code ec;
        if (!std::filesystem::exists(folder, ec)) {
            std::filesystem::create_directories(folder, ec);
            if (ec) return cannot(ec.message());
            std::filesystem::permissions(folder, std::filesystem::perms::owner_all, ec);
        }
    }
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) return cannot(std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return cannot(std::strerror(errno));
    std::string text = std::move(line);
    if (st.st_size > 0) {
        char last = '\n';
        if (::pread(fd.get(), &last, 1, st.st_size - 1) != 1) return cannot(std::strerror(errno));
        if (last != '\n') text.insert(text.begin(), '\n');
    }
    std::string_view rest = text;
    while (!rest.empty()) {
        const ssize_t n = ::write(fd.get(), rest.data(), rest.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return cannot(std::strerror(errno));
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::fsync(fd.get()) != 0) return cannot(std::strerror(errno));
    if (fd.close() != 0) return cannot(std::strerror(errno));
    return {};
}

}  // namespace nasops
