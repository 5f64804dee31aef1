#include <openssl/evp.h>

#include "nasops/util/sha256.hpp"

namespace nasops {

Result<LoadedLibrary<Sha256Api>> load_sha256(const std::string& soname) {
    TRY_ASSIGN(auto library, SharedLibrary::open(soname));
    Sha256Api api{};
    TRY_ASSIGN(api.ctx_new, library.function<EVP_MD_CTX*()>("EVP_MD_CTX_new"));
    TRY_ASSIGN(api.ctx_free, library.function<void(EVP_MD_CTX*)>("EVP_MD_CTX_free"));
    TRY_ASSIGN(api.sha256, library.function<const EVP_MD*()>("EVP_sha256"));
    TRY_ASSIGN(api.digest_init, library.function<int(EVP_MD_CTX*, const EVP_MD*, ENGINE*)>("EVP_DigestInit_ex"));
    TRY_ASSIGN(api.digest_update, library.function<int(EVP_MD_CTX*, const void*, std::size_t)>("EVP_DigestUpdate"));
    TRY_ASSIGN(api.digest_final,
               library.function<int(EVP_MD_CTX*, unsigned char*, unsigned int*)>("EVP_DigestFinal_ex"));
    return LoadedLibrary<Sha256Api>{std::move(library), api};
}

}  // namespace nasops
