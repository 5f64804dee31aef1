#include "nasops/net/curl_api.hpp"

namespace nasops {

Result<LoadedLibrary<CurlApi>> load_curl(const std::string& soname) {
    TRY_ASSIGN(auto library, SharedLibrary::open(soname));
    CurlApi api{};
    TRY_ASSIGN(api.easy_init, library.function<CURL*()>("curl_easy_init"));
    TRY_ASSIGN(api.easy_setopt, library.function<CURLcode(CURL*, CURLoption, ...)>("curl_easy_setopt"));
    TRY_ASSIGN(api.easy_perform, library.function<CURLcode(CURL*)>("curl_easy_perform"));
    TRY_ASSIGN(api.easy_getinfo, library.function<CURLcode(CURL*, CURLINFO, ...)>("curl_easy_getinfo"));
    TRY_ASSIGN(api.easy_cleanup, library.function<void(CURL*)>("curl_easy_cleanup"));
    TRY_ASSIGN(api.easy_strerror, library.function<const char*(CURLcode)>("curl_easy_strerror"));
    TRY_ASSIGN(api.slist_append, library.function<curl_slist*(curl_slist*, const char*)>("curl_slist_append"));
    TRY_ASSIGN(api.slist_free_all, library.function<void(curl_slist*)>("curl_slist_free_all"));
    return LoadedLibrary<CurlApi>{std::move(library), api};
}

}  // namespace nasops
