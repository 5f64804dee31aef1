#include "nasops/net/curl_easy.hpp"

#include <algorithm>
#include <new>
#include <string>

#include "nasops/version.hpp"

namespace nasops {

void curl_slist_push(CurlSlist& list, const std::string& item) {
    auto* grown = list.get_deleter().curl->slist_append(list.get(), item.c_str());
    if (grown == nullptr) throw std::bad_alloc();
    static_cast<void>(list.release());
    list.reset(grown);
}

CurlEasy make_curl_easy(const CurlApi& curl, Duration timeout, Duration connect_timeout) {
    CurlEasy easy(curl.easy_init(), CurlEasyDeleter{&curl});
    if (!easy) return easy;
    static const std::string agent = std::string("nasops/") + std::string(k_version);
    const auto millis = [](Duration d) { return static_cast<long>(std::max<Duration::rep>(d.count(), 1)); };
    CURL* h = easy.get();
    curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl.easy_setopt(h, CURLOPT_PROXY, "");
    curl.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl.easy_setopt(h, CURLOPT_TIMEOUT_MS, millis(timeout));
    curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, millis(std::min(connect_timeout, timeout)));
    curl.easy_setopt(h, CURLOPT_USERAGENT, agent.c_str());
    return easy;
}

}  // namespace nasops
