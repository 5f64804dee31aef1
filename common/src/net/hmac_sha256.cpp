// Apart from the HTTP client, so that a program that sends HTTP but signs
// nothing (nasops-trace) does not link libcrypto.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

#include "nasops/net/http.hpp"

namespace nasops {

std::string hmac_sha256(std::string_view key, std::string_view message) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
         message.size(), digest.data(), &length);
    return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

}  // namespace nasops
