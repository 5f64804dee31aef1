#pragma once

// SHA-256 through OpenSSL's EVP interface, incremental so that a file can be
// hashed in the same pass that reads it for another purpose (an upload).

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "nasops/core/error.hpp"

namespace nasops {

inline constexpr std::size_t k_sha256_hex_length = 64;

class Sha256 {
public:
    // Throws Fatal (ExitCode::software) when OpenSSL cannot provide SHA-256.
    Sha256();
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
std::string sha256_hex(std::string_view data);

// The SHA-256 of the file at `path`. Errors name the
// file (ExitCode::no_input when it cannot be opened, io_error when a read fails).
Result<std::string> sha256_file(const std::filesystem::path& path);

// True when `text` is 64 hex digits (either case).
bool is_sha256_hex(std::string_view text) noexcept;

}  // namespace nasops
