// Apart from sha256.cpp, so that a program that hashes only through a
// libcrypto loaded at run time (nasops-trace) does not link libcrypto.

#include <openssl/evp.h>

#include "nasops/util/sha256.hpp"

namespace nasops {

const Sha256Api& linked_sha256() {
    static constexpr Sha256Api api{
        .ctx_new = &EVP_MD_CTX_new,
        .ctx_free = &EVP_MD_CTX_free,
        .sha256 = &EVP_sha256,
        .digest_init = &EVP_DigestInit_ex,
        .digest_update = &EVP_DigestUpdate,
        .digest_final = &EVP_DigestFinal_ex,
    };
    return api;
}

}  // namespace nasops
