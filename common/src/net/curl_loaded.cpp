#include "nasops/net/curl_api.hpp"

namespace nasops {

Result<LoadedLibrary<CurlApi>> load_curl(const std::string& soname) {
    TRY_ASSIGN(auto library, SharedLibrary::open(soname));
    CurlApi api{};
    TRY(library.bind(api.easy_init, "curl_easy_init"));
    TRY(library.bind(api.easy_setopt, "curl_easy_setopt"));
    TRY(library.bind(api.easy_perform, "curl_easy_perform"));
    TRY(library.bind(api.easy_getinfo, "curl_easy_getinfo"));
    TRY(library.bind(api.easy_cleanup, "curl_easy_cleanup"));
    TRY(library.bind(api.easy_strerror, "curl_easy_strerror"));
    TRY(library.bind(api.slist_append, "curl_slist_append"));
    TRY(library.bind(api.slist_free_all, "curl_slist_free_all"));
    return LoadedLibrary<CurlApi>{std::move(library), api};
}

}  // namespace nasops
