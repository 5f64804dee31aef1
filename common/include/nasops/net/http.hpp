#pragma once

// HTTP and SMTP through libcurl, behind small interfaces (HttpClient,
// MailSender) so that code that notifies can be tested without a network while
// the real implementations are tested against real local servers.
//
// TLS certificates and host names are always verified. Secrets are never
// logged: every message built here shows URLs through redact_url() and never
// shows a header value or a password.

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/util/clock.hpp"
#include "nasops/util/units.hpp"

namespace nasops {

struct HttpHeader {
    std::string name;
    std::string value;
};

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    std::vector<HttpHeader> headers;
    std::string body;
    Duration timeout{10'000};         // the whole exchange, connection included
    Duration connect_timeout{5'000};  // capped at `timeout`
    std::string username;             // HTTP basic authentication when not empty
    std::string password;
    std::filesystem::path ca_file;  // a CA bundle to trust instead of the system's; empty: the system's
};

struct HttpResponse {
    long status = 0;
    std::string body;  // at most k_max_http_body bytes; the rest is dropped
    std::vector<HttpHeader> headers;
};

inline constexpr std::size_t k_max_http_body = std::size_t{1} << 20;

// Sends HTTP requests. A response of any status is a value; an Error means no
// response came: ExitCode::unavailable when the server could not be reached or
// did not answer in time, or the TLS handshake failed (worth retrying later);
// ExitCode::config when the request itself is wrong (malformed URL, unsupported
// scheme, unreadable ca_file) and retrying cannot help.
class HttpClient {
public:
    virtual ~HttpClient() = default;
    virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

struct CurlApi;

// The real client: one libcurl easy handle per request, http and https only,
// no redirects followed, no proxy taken from the environment.
class CurlHttpClient final : public HttpClient {
public:
    CurlHttpClient();  // through the linked libcurl (linked_curl)
    explicit CurlHttpClient(const CurlApi& curl) : m_curl(&curl) {}
    Result<HttpResponse> send(const HttpRequest& request) override;

private:
    const CurlApi* m_curl;
};

// Whether a response status is worth retrying later: 5xx, 408 and 429.
bool retryable_status(long status) noexcept;

// Retries with exponential backoff, only where the caller asks for it.
struct RetryPolicy {
    int max_attempts = 1;  // 1: no retry
    Duration initial_backoff{500};
    Duration max_backoff{10'000};
};

// Sends `request` up to policy.max_attempts times, waiting through `sleep`
// (initial_backoff, doubled each time, capped at max_backoff) between attempts.
// Retries transport failures of ExitCode::unavailable and retryable statuses;
// returns the last outcome.
Result<HttpResponse> send_with_retry(HttpClient& client, const HttpRequest& request, const RetryPolicy& policy,
                                     const std::function<void(Duration)>& sleep);

// `url` fit for a log line: the password of user:password@ becomes "***", so
// do the values of query parameters that carry credentials (token,
// access_token, key, secret, sign, signature, password, api_key, ...) and path
// segments that look like tokens (20 or more letters, digits, '-' and '_', as
// in Slack's /services/T000/B000/XXXX), and the path of hooks.slack.com.
std::string redact_url(std::string_view url);

// "%XX"-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view text);

// HMAC-SHA256 of `message` keyed by `key`, raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view message);

// ---- mail -------------------------------------------------------------------

enum class SmtpTls {
    starttls_required,  // smtp://: STARTTLS is required, plain text is refused (CURLUSESSL_ALL)
    none,               // smtp:// in clear, for a local relay only
};

struct SmtpSettings {
    std::string url;  // smtp://host:587 or smtps://host:465 (implicit TLS)
    std::string username;
    std::string password;
    SmtpTls tls = SmtpTls::starttls_required;
    std::filesystem::path ca_file;
    Duration timeout{30'000};
};

struct MailMessage {
    std::string from;             // an address: nasops@example.com
    std::vector<std::string> to;  // one or more addresses
    std::string subject;          // UTF-8
    std::string body;             // UTF-8 text
    std::string message_id;       // between the angle brackets; empty: a new one (make_message_id)
};

// The message as sent: Date, Message-ID, From, To, Subject (RFC 2047 encoded
// when not ASCII), MIME-Version, Content-Type text/plain UTF-8 and a base64
// body, lines ending CRLF. `date` goes into the Date header; `message_id` is the
// whole id between the angle brackets.
std::string format_mail(const MailMessage& message, SystemTimePoint date, std::string_view message_id);

// A Message-ID that no other message has: <random>.<time>@<host>.
std::string make_message_id(SystemTimePoint now, std::string_view host);

// Sends mail. Errors: ExitCode::unavailable when the server cannot be reached,
// the TLS handshake fails or it answers 4xx (try later); ExitCode::data_error
// when it refuses the message, a recipient or the login for good (5xx);
// ExitCode::config for a bad URL or settings.
class MailSender {
public:
    virtual ~MailSender() = default;
    virtual Result<void> send(const SmtpSettings& settings, const MailMessage& message) = 0;
};

class CurlMailSender final : public MailSender {
public:
    explicit CurlMailSender(const Clock& clock);  // through the linked libcurl (linked_curl)
    CurlMailSender(const Clock& clock, const CurlApi& curl) : m_clock(&clock), m_curl(&curl) {}
    Result<void> send(const SmtpSettings& settings, const MailMessage& message) override;

private:
    const Clock* m_clock;
    const CurlApi* m_curl;
};

}  // namespace nasops
