// known_hosts files and public key lines: the user's file, which nasops reads
// before every connection and appends to (accept-new). Loading never fails
// on content; a key nasops can parse, written as nasops writes it and loaded
// back, is known for its host.

#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "fuzz_check.hpp"
#include "nasops/ssh/known_hosts.hpp"
#include "nasops/util/unique_fd.hpp"

namespace {

// A file of `text` that lives in memory only, and its path.
class MemoryFile {
public:
    explicit MemoryFile(std::string_view text) : m_fd(::memfd_create("known_hosts", MFD_CLOEXEC)) {
        FUZZ_CHECK(m_fd.valid());
        for (std::string_view rest = text; !rest.empty();) {
            const auto n = ::write(m_fd.get(), rest.data(), rest.size());
            FUZZ_CHECK(n > 0);
            rest.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    std::string path() const { return "/proc/self/fd/" + std::to_string(m_fd.get()); }

private:
    nasops::UniqueFd m_fd;
};

nasops::KnownHosts load(std::string_view text) {
    const MemoryFile file(text);
    auto hosts = nasops::KnownHosts::load(file.path());
    FUZZ_CHECK(hosts.has_value());
    return std::move(*hosts);
}

}  // namespace

// Debian 12's libssh2 1.10 leaks OpenSSL memory (32 bytes and what hangs off
// them) each time libssh2_knownhost_checkp compares a host with a hashed
// entry. LeakSanitizer's quick unwinding stops inside libcrypto, which has no
// frame pointers, so the leak is known by that library; in this target only
// libssh2 calls it.
extern "C" const char* __lsan_default_suppressions() {
    return "leak:libcrypto.so\n";
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = nasops::fuzz::as_text(data, size);
    const auto hosts = load(text);
    static_cast<void>(hosts.key_types("nas.example", 22));
    static_cast<void>(hosts.key_types("nas.example", 2222));

    for (std::string_view rest = text; !rest.empty();) {
        const auto nl = rest.find('\n');
        const auto line = rest.substr(0, nl);
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        const auto key = nasops::parse_public_key_line(line);
        if (!key) {
            FUZZ_CHECK(!key.error().message.empty());
            continue;
        }
        FUZZ_CHECK(nasops::ssh_key_type(key->blob) == key->type);
        static_cast<void>(hosts.check("nas.example", 22, key->blob));
        const auto entry = nasops::known_hosts_line("Nas.Example", 2222, key->blob);
        FUZZ_CHECK(entry.has_value());
        const auto written = load(*entry);
        const auto types = written.key_types("nas.example", 2222);
        // libssh2 1.10 reads only the key types it knows; nasops writes any.
        if (types.empty()) continue;
        FUZZ_CHECK(types.size() == 1 && types.front() == key->type);
        FUZZ_CHECK(written.check("nas.example", 2222, key->blob) == nasops::HostKeyStatus::known);
        FUZZ_CHECK(written.check("nas.example", 22, key->blob) == nasops::HostKeyStatus::unknown);
    }
    return 0;
}
