#pragma once

// An owned libcurl easy handle with the settings every nasops transfer shares,
// for the HTTP client, the mail sender and health's tls check.

#include <curl/curl.h>

#include <memory>
#include <string>

#include "nasops/net/curl_api.hpp"
#include "nasops/util/units.hpp"

namespace nasops {

struct CurlEasyDeleter {
    const CurlApi* curl = nullptr;
    void operator()(CURL* handle) const noexcept { curl->easy_cleanup(handle); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlSlistDeleter {
    const CurlApi* curl = nullptr;
    void operator()(curl_slist* list) const noexcept { curl->slist_free_all(list); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// An empty list that `curl` will free.
inline CurlSlist make_curl_slist(const CurlApi& curl) {
    return CurlSlist(nullptr, CurlSlistDeleter{&curl});
}

// Appends to an owning list; throws std::bad_alloc as the rest of the code would.
void curl_slist_push(CurlSlist& list, const std::string& item);

// A new handle: no signals (callers may run on threads), no proxy from the
// environment, certificates and host names verified, the whole exchange
// limited to `timeout` and the connection to `connect_timeout` (capped at
// `timeout`), the nasops User-Agent. nullptr when libcurl cannot make one.
CurlEasy make_curl_easy(const CurlApi& curl, Duration timeout, Duration connect_timeout);

}  // namespace nasops
