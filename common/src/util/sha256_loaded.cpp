#include <openssl/evp.h>

#include "nasops/util/sha256.hpp"

namespace nasops {

Result<LoadedLibrary<Sha256Api>> load_sha256(const std::string& soname) {
    TRY_ASSIGN(auto library, SharedLibrary::open(soname));
    Sha256Api api{};
    TRY(library.bind(api.ctx_new, "EVP_MD_CTX_new"));
    TRY(library.bind(api.ctx_free, "EVP_MD_CTX_free"));
    TRY(library.bind(api.sha256, "EVP_sha256"));
    TRY(library.bind(api.digest_init, "EVP_DigestInit_ex"));
    TRY(library.bind(api.digest_update, "EVP_DigestUpdate"));
    TRY(library.bind(api.digest_final, "EVP_DigestFinal_ex"));
    return LoadedLibrary<Sha256Api>{std::move(library), api};
}

}  // namespace nasops
