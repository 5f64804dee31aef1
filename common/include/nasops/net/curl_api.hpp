#pragma once

// The libcurl functions nasops calls, as one table, so that one piece of code
// drives libcurl whether the program links it (every tool but nasops-trace:
// linked_curl) or loads it at run time (nasops-trace export: load_curl), and
// nasops-trace exec starts without libcurl and the ~30 libraries it pulls in.

#include <curl/curl.h>

#include <string>

#include "nasops/core/error.hpp"
#include "nasops/util/shared_library.hpp"

namespace nasops {

struct CurlApi {
    CURL* (*easy_init)();
    CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
    CURLcode (*easy_perform)(CURL*);
    CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
    void (*easy_cleanup)(CURL*);
    const char* (*easy_strerror)(CURLcode);
    curl_slist* (*slist_append)(curl_slist*, const char*);
    void (*slist_free_all)(curl_slist*);
};

// The functions of the libcurl the program is linked with. Calling this links
// libcurl into the program.
const CurlApi& linked_curl();

inline constexpr const char* k_curl_soname = "libcurl.so.4";

// libcurl loaded at run time. ExitCode::unavailable naming the library when
// it cannot be loaded or lacks one of the functions.
Result<LoadedLibrary<CurlApi>> load_curl(const std::string& soname = k_curl_soname);

}  // namespace nasops
