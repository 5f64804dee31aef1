// tls: days until a certificate expires, from a PEM file or a server's handshake.

#include <fmt/format.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>

#include "health/checks.hpp"
#include "nasops/net/curl_easy.hpp"

namespace nasops::health {

namespace {

struct X509Deleter {
    void operator()(X509* x) const noexcept { X509_free(x); }
};
struct BioDeleter {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct Asn1TimeDeleter {
    void operator()(ASN1_TIME* t) const noexcept { ASN1_TIME_free(t); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

std::string openssl_error() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "no certificate found";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

struct Expiry {
    double seconds_left = 0;
    std::string not_after;  // "2027-01-01T00:00:00Z"
    std::string subject;
};

std::optional<Expiry> expiry_of(X509* cert, SystemTimePoint now) {
    const ASN1_TIME* not_after = X509_get0_notAfter(cert);
    if (not_after == nullptr) return std::nullopt;
    std::unique_ptr<ASN1_TIME, Asn1TimeDeleter> now_asn1(
        ASN1_TIME_set(nullptr, static_cast<time_t>(std::chrono::system_clock::to_time_t(now))));
    int days = 0;
    int seconds = 0;
    if (!now_asn1 || ASN1_TIME_diff(&days, &seconds, now_asn1.get(), not_after) != 1) return std::nullopt;
    Expiry e;
    e.seconds_left = static_cast<double>(days) * 86400.0 + seconds;
    std::tm tm{};
    if (ASN1_TIME_to_tm(not_after, &tm) == 1) {
        e.not_after = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                                  tm.tm_hour, tm.tm_min, tm.tm_sec);
    }
    char subject[256] = {};
    X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
    e.subject = subject;
    return e;
}

// "host:port", "[v6]:port" or "host" (port 443).
std::pair<std::string, int> split_host_port(const std::string& target) {
    if (target.starts_with('[')) {
        const auto close = target.find(']');
        if (close != std::string::npos) {
            const auto host = target.substr(0, close + 1);
            if (close + 1 < target.size() && target[close + 1] == ':') {
                return {host, std::atoi(target.c_str() + close + 2)};
            }
            return {host, 443};
        }
    }
    const auto colon = target.rfind(':');
    if (colon == std::string::npos) return {target, 443};
    return {target.substr(0, colon), std::atoi(target.c_str() + colon + 1)};
}

class TlsCheck final : public Check {
public:
    TlsCheck(std::string target, ThresholdsPtr thresholds)
        : Check("tls", target), m_target(std::move(target)), m_thresholds(std::move(thresholds)) {}

    CheckResult run(const CheckContext& context) override {
        const auto now = context.clock->now();
        if (m_target.starts_with('/')) return from_file(now);
        return from_server(now, context);
    }

private:
    CheckResult from_file(SystemTimePoint now) {
        std::unique_ptr<BIO, BioDeleter> bio(BIO_new_file(m_target.c_str(), "r"));
        if (!bio) return unknown(fmt::format("cannot open {}: {}", m_target, openssl_error()));
        X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (!cert) return unknown(fmt::format("cannot read a PEM certificate from {}: {}", m_target, openssl_error()));
        return judge(cert.get(), now);
    }

    CheckResult from_server(SystemTimePoint now, const CheckContext& context) {
        const auto timeout = context.timeout;
        const auto [host, port] = split_host_port(m_target);
        if (host.empty() || port <= 0 || port > 65535) {
            return unknown(fmt::format("'{}' is not host:port or an absolute path to a PEM file", m_target));
        }
        const CurlApi& api = linked_curl();
        auto curl = make_curl_easy(api, timeout, timeout);
        if (!curl) return unknown("libcurl cannot make a handle");
        const auto url = fmt::format("https://{}:{}/", host, port);
        char error[CURL_ERROR_SIZE] = {};
        api.easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
        api.easy_setopt(curl.get(), CURLOPT_CONNECT_ONLY, 1L);
        // The expiry matters even for a certificate this host does not trust.
        api.easy_setopt(curl.get(), CURLOPT_SSL_VERIFYPEER, 0L);
        api.easy_setopt(curl.get(), CURLOPT_SSL_VERIFYHOST, 0L);
        api.easy_setopt(curl.get(), CURLOPT_CERTINFO, 1L);
        api.easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
        const CURLcode rc = api.easy_perform(curl.get());
        if (rc != CURLE_OK) {
            auto result = blank();
            result.status = rc == CURLE_OPERATION_TIMEDOUT ? context.timeout_status : Status::critical;
            result.message = fmt::format("cannot complete a TLS handshake with {}:{}: {}", host, port,
                                         error[0] != 0 ? error : api.easy_strerror(rc));
            return result;
        }
        // The leaf certificate as PEM, from the handshake libcurl made.
        curl_certinfo* info = nullptr;
        if (api.easy_getinfo(curl.get(), CURLINFO_CERTINFO, &info) != CURLE_OK || info == nullptr ||
            info->num_of_certs < 1) {
            return unknown(fmt::format("{}:{} sent no certificate", host, port));
        }
        std::string pem;
        for (const curl_slist* item = info->certinfo[0]; item != nullptr; item = item->next) {
            const std::string_view data(item->data);
            if (data.starts_with("Cert:")) pem = data.substr(5);
        }
        std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
        X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
        if (!cert) return unknown(fmt::format("cannot read the certificate of {}:{}: {}", host, port, openssl_error()));
        return judge(cert.get(), now);
    }

    CheckResult judge(X509* cert, SystemTimePoint now) {
        const auto expiry = expiry_of(cert, now);
        if (!expiry) return unknown(fmt::format("cannot read the expiry date of the certificate of {}", m_target));
        auto result = blank();
        result.metrics.push_back(m_thresholds->metric("tls_cert_expiry", expiry->seconds_left));
        const auto left = format_quantity(std::abs(expiry->seconds_left), Quantity::days);
        result.message = expiry->seconds_left >= 0
                             ? fmt::format("expires {}, in {} ({})", expiry->not_after, left, expiry->subject)
                             : fmt::format("expired {}, {} ago ({})", expiry->not_after, left, expiry->subject);
        return result;
    }

    std::string m_target;
    ThresholdsPtr m_thresholds;
};

}  // namespace

std::shared_ptr<Check> make_tls_check(std::string target, ThresholdsPtr thresholds) {
    return std::make_shared<TlsCheck>(std::move(target), std::move(thresholds));
}

}  // namespace nasops::health
