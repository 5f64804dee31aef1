#include "nasops/net/http.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>

#include "nasops/net/curl_easy.hpp"
#include "nasops/util/text.hpp"

namespace nasops {

namespace {

struct Capture {
    std::string body;
    std::vector<HttpHeader> headers;
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* capture = static_cast<Capture*>(user);
    const std::size_t n = size * count;
    const std::size_t room = k_max_http_body - std::min(k_max_http_body, capture->body.size());
    capture->body.append(data, std::min(n, room));
    return n;
}

std::size_t write_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* capture = static_cast<Capture*>(user);
    const std::size_t n = size * count;
    const std::string_view line(data, n);
    if (line.rfind("HTTP/", 0) == 0) {
        capture->headers.clear();  // a new response (after 100 Continue)
    } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
        capture->headers.push_back(
            {std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
    }
    return n;
}

bool transient_curl_error(CURLcode code) {
    switch (code) {
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_BAD_FUNCTION_ARGUMENT:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_NOT_BUILT_IN:
        case CURLE_OUT_OF_MEMORY: return false;
        default: return true;
    }
}

std::string curl_message(const CurlApi& curl, CURLcode code, const char* buffer) {
    if (buffer != nullptr && buffer[0] != '\0') return buffer;
    return curl.easy_strerror(code);
}

bool sensitive_name(std::string_view name) {
    const std::string folded = lower(name);
    constexpr std::array k_words{"token", "key",  "secret", "sign",       "signature", "password", "passwd",
                                 "pass",  "auth", "sig",    "credential", "apikey",    "code"};
    for (std::string_view word : k_words) {
        if (folded.find(word) != std::string::npos) return true;
    }
    return false;
}

bool looks_like_token(std::string_view segment) {
    if (segment.size() < 20) return false;
    return std::ranges::all_of(segment, [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

}  // namespace

bool retryable_status(long status) noexcept {
    return status >= 500 || status == 408 || status == 429;
}

Result<HttpResponse> CurlHttpClient::send(const HttpRequest& request) {
    const CurlApi& curl = *m_curl;
    auto easy = make_curl_easy(curl, request.timeout, request.connect_timeout);
    if (!easy) return fail(ExitCode::software, "cannot create a libcurl handle");
    CURL* h = easy.get();
    const auto shown = fmt::format("{} {}", request.method, redact_url(request.url));

    Capture capture;
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
    auto headers = make_curl_slist(curl);
    for (const auto& header : request.headers) curl_slist_push(headers, header.name + ": " + header.value);
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
        curl_slist_push(headers, "Expect:");  // no 100-continue round trip
    }

    curl.easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl.easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer.data());
    curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
    curl.easy_setopt(h, CURLOPT_WRITEDATA, &capture);
    curl.easy_setopt(h, CURLOPT_HEADERFUNCTION, write_header);
    curl.easy_setopt(h, CURLOPT_HEADERDATA, &capture);
    curl.easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    if (!request.ca_file.empty()) curl.easy_setopt(h, CURLOPT_CAINFO, request.ca_file.c_str());
    if (!request.username.empty()) {
        curl.easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl.easy_setopt(h, CURLOPT_USERNAME, request.username.c_str());
        curl.easy_setopt(h, CURLOPT_PASSWORD, request.password.c_str());
    }
    if (request.method == "GET") {
        curl.easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        curl.easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        curl.easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
        curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }

    const CURLcode code = curl.easy_perform(h);
    if (code != CURLE_OK) {
        const auto exit = transient_curl_error(code) ? ExitCode::unavailable : ExitCode::config;
        return fail(exit, fmt::format("{}: {}", shown, curl_message(curl, code, error_buffer.data())));
    }
    HttpResponse response;
    curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
    response.body = std::move(capture.body);
    response.headers = std::move(capture.headers);
    return response;
}

Result<HttpResponse> send_with_retry(HttpClient& client, const HttpRequest& request, const RetryPolicy& policy,
                                     const std::function<void(Duration)>& sleep) {
    Duration backoff = policy.initial_backoff;
    for (int attempt = 1;; ++attempt) {
        auto outcome = client.send(request);
        const bool retry = outcome ? retryable_status(outcome->status) : outcome.error().code == ExitCode::unavailable;
        if (!retry || attempt >= policy.max_attempts) return outcome;
        sleep(backoff);
        backoff = std::min(backoff * 2, policy.max_backoff);
    }
}

std::string redact_url(std::string_view url) {
    std::string out;
    std::string_view rest = url;
    const auto scheme_end = rest.find("://");
    if (scheme_end != std::string_view::npos) {
        out.append(rest.substr(0, scheme_end + 3));
        rest.remove_prefix(scheme_end + 3);
    }
    auto authority_end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, authority_end);
    rest.remove_prefix(authority.size());
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        const auto userinfo = authority.substr(0, at);
        const auto colon = userinfo.find(':');
        out.append(userinfo.substr(0, colon));
        if (colon != std::string_view::npos) out.append(":***");
        out.push_back('@');
        authority.remove_prefix(at + 1);
    }
    out.append(authority);
    const bool slack = authority.find("hooks.slack.com") != std::string_view::npos;

    const auto query_start = rest.find_first_of("?#");
    std::string_view path = rest.substr(0, query_start);
    rest.remove_prefix(path.size());
    if (slack && path.size() > 1) {
        const auto second = path.find('/', 1);
        out.append(path.substr(0, second == std::string_view::npos ? path.size() : second));
        if (second != std::string_view::npos) out.append("/***");
    } else {
        while (!path.empty()) {
            const auto next = path.find('/', 1);
            const auto segment = path.substr(0, next == std::string_view::npos ? path.size() : next);
            const auto body = segment.substr(segment.starts_with('/') ? 1 : 0);
            if (looks_like_token(body)) {
                out.append(segment.starts_with('/') ? "/***" : "***");
            } else {
                out.append(segment);
            }
            path.remove_prefix(segment.size());
        }
    }
    if (rest.starts_with('?')) {
        rest.remove_prefix(1);
        const auto fragment = rest.find('#');
        std::string_view query = rest.substr(0, fragment);
        rest.remove_prefix(query.size());
        out.push_back('?');
        bool first = true;
        while (!query.empty()) {
            const auto amp = query.find('&');
            const auto pair = query.substr(0, amp);
            query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
            if (!first) out.push_back('&');
            first = false;
            const auto eq = pair.find('=');
            if (eq != std::string_view::npos && sensitive_name(pair.substr(0, eq))) {
                out.append(pair.substr(0, eq + 1)).append("***");
            } else {
                out.append(pair);
            }
        }
    }
    if (!rest.empty()) out.append("#***");
    return out;
}

std::string url_encode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.append(fmt::format("%{:02X}", c));
        }
    }
    return out;
}

}  // namespace nasops
