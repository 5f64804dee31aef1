#include "nasops/util/sha256.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "nasops/util/unique_fd.hpp"

namespace nasops {

struct Sha256::Context {
    const Sha256Api* crypto = nullptr;
    EVP_MD_CTX* ctx = nullptr;
    ~Context() {
        if (ctx != nullptr) crypto->ctx_free(ctx);
    }
};

Sha256::Sha256(const Sha256Api& crypto) : m_context(std::make_unique<Context>()) {
    m_context->crypto = &crypto;
    m_context->ctx = crypto.ctx_new();
    if (m_context->ctx == nullptr) throw Fatal{Error{"cannot create an OpenSSL digest context", ExitCode::software}};
    reset();
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::reset() {
    if (m_context->crypto->digest_init(m_context->ctx, m_context->crypto->sha256(), nullptr) != 1)
        throw Fatal{Error{"OpenSSL cannot start a SHA-256 digest", ExitCode::software}};
}

void Sha256::update(std::string_view data) {
    if (data.empty()) return;
    if (m_context->crypto->digest_update(m_context->ctx, data.data(), data.size()) != 1)
        throw Fatal{Error{"OpenSSL SHA-256 update failed", ExitCode::software}};
}

std::string Sha256::hex_digest() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (m_context->crypto->digest_final(m_context->ctx, digest.data(), &length) != 1)
        throw Fatal{Error{"OpenSSL SHA-256 final failed", ExitCode::software}};
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(std::size_t{length} * 2);
    for (unsigned int i = 0; i < length; ++i) {
        out.push_back(k_hex[digest[i] >> 4]);
        out.push_back(k_hex[digest[i] & 0x0f]);
    }
    reset();
    return out;
}

std::string sha256_hex(std::string_view data, const Sha256Api& crypto) {
    Sha256 hash(crypto);
    hash.update(data);
    return hash.hex_digest();
}

Result<std::string> sha256_file(const std::filesystem::path& path, const Sha256Api& crypto) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail(ExitCode::no_input, fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
    Sha256 hash(crypto);
    // Not zero-filled: hashing many small files must not pay for clearing a large buffer each time.
    constexpr std::size_t k_buffer = std::size_t{128} << 10;
    const auto buffer = std::make_unique_for_overwrite<char[]>(k_buffer);
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer.get(), k_buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(ExitCode::io_error, fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
        }
        if (n == 0) break;
        hash.update(std::string_view(buffer.get(), static_cast<std::size_t>(n)));
    }
    return hash.hex_digest();
}

bool is_sha256_hex(std::string_view text) noexcept {
    if (text.size() != k_sha256_hex_length) return false;
    for (const char c : text) {
        const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex) return false;
    }
    return true;
}

}  // namespace nasops
