// Everything that names a libcurl function directly lives here, so that a
// program that never calls linked_curl() (nasops-trace) does not link libcurl.

#include "nasops/net/curl_api.hpp"
#include "nasops/net/http.hpp"

namespace nasops {

const CurlApi& linked_curl() {
    static constexpr CurlApi api{
        .easy_init = &curl_easy_init,
        .easy_setopt = &curl_easy_setopt,
        .easy_perform = &curl_easy_perform,
        .easy_getinfo = &curl_easy_getinfo,
        .easy_cleanup = &curl_easy_cleanup,
        .easy_strerror = &curl_easy_strerror,
        .slist_append = &curl_slist_append,
        .slist_free_all = &curl_slist_free_all,
    };
    return api;
}

CurlHttpClient::CurlHttpClient() : CurlHttpClient(linked_curl()) {}

CurlMailSender::CurlMailSender(const Clock& clock) : CurlMailSender(clock, linked_curl()) {}

}  // namespace nasops
