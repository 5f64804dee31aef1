#pragma once

// SHA-256 through OpenSSL's EVP interface, incremental so that a file can be
// hashed in the same pass that reads it for another purpose (an upload).
// The EVP functions come from a table: the linked libcrypto's by default, or
// libcrypto loaded at run time (load_sha256) by nasops-trace export, so that
// nasops-trace exec starts without libcrypto.

#include <openssl/types.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "nasops/core/error.hpp"
#include "nasops/util/shared_library.hpp"

namespace nasops {

inline constexpr std::size_t k_sha256_hex_length = 64;

struct Sha256Api {
    EVP_MD_CTX* (*ctx_new)();
    void (*ctx_free)(EVP_MD_CTX*);
    const EVP_MD* (*sha256)();
    int (*digest_init)(EVP_MD_CTX*, const EVP_MD*, ENGINE*);
    int (*digest_update)(EVP_MD_CTX*, const void*, std::size_t);
    int (*digest_final)(EVP_MD_CTX*, unsigned char*, unsigned int*);
};

// The functions of the libcrypto the program is linked with. Calling this
// links libcrypto into the program.
const Sha256Api& linked_sha256();

inline constexpr const char* k_crypto_soname = "libcrypto.so.3";

// libcrypto loaded at run time. ExitCode::unavailable naming the library when
// it cannot be loaded or lacks one of the functions.
Result<LoadedLibrary<Sha256Api>> load_sha256(const std::string& soname = k_crypto_soname);

class Sha256 {
public:
    // Throws Fatal (ExitCode::software) when OpenSSL cannot provide SHA-256.
    // `crypto` must outlive the object.
    explicit Sha256(const Sha256Api& crypto = linked_sha256());
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(std::string_view data);
    // The digest of everything updated so far, as 64 lower-case hex digits.
    // The object starts over afterwards, ready for another message.
    std::string hex_digest();
    // Forgets what was updated so far.
    void reset();

private:
    struct Context;
    std::unique_ptr<Context> m_context;
};

// The SHA-256 of `data`, as 64 lower-case hex digits.
std::string sha256_hex(std::string_view data, const Sha256Api& crypto = linked_sha256());

// The SHA-256 of the file at `path`. Errors name the
// file (ExitCode::no_input when it cannot be opened, io_error when a read fails).
Result<std::string> sha256_file(const std::filesystem::path& path, const Sha256Api& crypto = linked_sha256());

// True when `text` is 64 hex digits (either case).
bool is_sha256_hex(std::string_view text) noexcept;

}  // namespace nasops
