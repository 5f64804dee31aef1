// SMTP through libcurl: the message format (RFC 5322 with MIME) and the sender.

#include <curl/curl.h>
#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <random>

#include "nasops/net/curl_easy.hpp"
#include "nasops/net/http.hpp"
#include "nasops/util/base64.hpp"

namespace nasops {

namespace {

// Header values come from the config and from alerts: a CR or LF in them would
// start a header of the attacker's choosing.
std::string one_line(std::string_view text) {
    std::string out(text);
    std::ranges::replace(out, '\r', ' ');
    std::ranges::replace(out, '\n', ' ');
    return out;
}

bool is_ascii(std::string_view text) {
    return std::ranges::all_of(text, [](unsigned char c) { return c < 0x80; });
}

// RFC 2047 "encoded-word"s of at most 75 characters each, split between UTF-8
// sequences, for a header value that is not ASCII.
std::string encode_header_value(std::string_view text) {
    if (is_ascii(text)) return std::string(text);
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t take = std::min<std::size_t>(45, text.size() - pos);
        while (pos + take < text.size() && (static_cast<unsigned char>(text[pos + take]) & 0xC0) == 0x80) --take;
        if (!out.empty()) out.append("\r\n ");
        out.append("=?UTF-8?B?").append(base64_encode(text.substr(pos, take))).append("?=");
        pos += take;
    }
    return out;
}

std::string rfc5322_date(SystemTimePoint t) {
    static constexpr std::array<const char*, 7> k_days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> k_months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    return fmt::format("{}, {:02d} {} {} {:02d}:{:02d}:{:02d} +0000", k_days[static_cast<std::size_t>(tm.tm_wday)],
                       tm.tm_mday, k_months[static_cast<std::size_t>(tm.tm_mon)], tm.tm_year + 1900, tm.tm_hour,
                       tm.tm_min, tm.tm_sec);
}

struct Upload {
    std::string_view data;
    std::size_t pos = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto* upload = static_cast<Upload*>(user);
    const std::size_t n = std::min(size * count, upload->data.size() - upload->pos);
    std::memcpy(buffer, upload->data.data() + upload->pos, n);
    upload->pos += n;
    return n;
}

std::string angle(std::string_view address) {
    // fmt rather than "<" + ... + ">": g++ 12 at -O3 warns falsely (-Wrestrict) on the latter.
    return fmt::format("<{}>", one_line(address));
}

}  // namespace

std::string format_mail(const MailMessage& message, SystemTimePoint date, std::string_view message_id) {
    std::string to;
    for (const auto& address : message.to) to += (to.empty() ? "" : ", ") + one_line(address);
    std::string out;
    out += "Date: " + rfc5322_date(date) + "\r\n";
    out += "From: " + one_line(message.from) + "\r\n";
    out += "To: " + to + "\r\n";
    out += "Subject: " + encode_header_value(one_line(message.subject)) + "\r\n";
    out += "Message-ID: <" + one_line(message_id) + ">\r\n";
    out += "MIME-Version: 1.0\r\n";
    out += "Content-Type: text/plain; charset=UTF-8\r\n";
    out += "Content-Transfer-Encoding: base64\r\n";
    out += "\r\n";
    const auto encoded = base64_encode(message.body);
    for (std::size_t pos = 0; pos < encoded.size(); pos += 76) out += encoded.substr(pos, 76) + "\r\n";
    return out;
}

std::string make_message_id(SystemTimePoint now, std::string_view host) {
    std::random_device random;
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    return fmt::format("{:08x}{:08x}.{}@{}", random(), random(), millis, host.empty() ? "localhost" : host);
}

Result<void> CurlMailSender::send(const SmtpSettings& settings, const MailMessage& message) {
    const auto shown = redact_url(settings.url);
    if (message.to.empty()) return fail(ExitCode::config, fmt::format("{}: no recipient", shown));
    if (message.from.empty()) return fail(ExitCode::config, fmt::format("{}: no sender address", shown));
    const bool implicit_tls = settings.url.starts_with("smtps://");
    if (!implicit_tls && !settings.url.starts_with("smtp://")) {
        return fail(ExitCode::config, fmt::format("'{}' is not an smtp:// or smtps:// URL", shown));
    }

    const CurlApi& curl = *m_curl;
    auto easy = make_curl_easy(curl, settings.timeout, settings.timeout);
    if (!easy) return fail(ExitCode::software, "cannot create a libcurl handle");
    CURL* h = easy.get();

    std::string host = "localhost";
    std::array<char, 256> name{};
    if (::gethostname(name.data(), name.size() - 1) == 0 && name[0] != '\0') host = name.data();
    const auto now = m_clock->now();
    const auto text =
        format_mail(message, now, message.message_id.empty() ? make_message_id(now, host) : message.message_id);
    Upload upload{text};

    auto recipients = make_curl_slist(curl);
    for (const auto& address : message.to) curl_slist_push(recipients, angle(address));
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
    const auto from = angle(message.from);

    curl.easy_setopt(h, CURLOPT_URL, settings.url.c_str());
    curl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl.easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer.data());
    if (!implicit_tls && settings.tls == SmtpTls::starttls_required) {
        curl.easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    }
    if (!settings.ca_file.empty()) curl.easy_setopt(h, CURLOPT_CAINFO, settings.ca_file.c_str());
    if (!settings.username.empty()) {
        curl.easy_setopt(h, CURLOPT_USERNAME, settings.username.c_str());
        curl.easy_setopt(h, CURLOPT_PASSWORD, settings.password.c_str());
    }
    curl.easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
    curl.easy_setopt(h, CURLOPT_MAIL_RCPT, recipients.get());
    curl.easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
    curl.easy_setopt(h, CURLOPT_READDATA, &upload);
    curl.easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl.easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(text.size()));

    const CURLcode code = curl.easy_perform(h);
    if (code == CURLE_OK) return {};
    long reply = 0;
    curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
    const std::string why = error_buffer[0] != '\0' ? error_buffer.data() : curl.easy_strerror(code);
    ExitCode exit = ExitCode::unavailable;
    if (code == CURLE_LOGIN_DENIED || code == CURLE_USE_SSL_FAILED || reply >= 500) exit = ExitCode::data_error;
    if (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_SSL_CACERT_BADFILE) {
        exit = ExitCode::config;
    }
    if (reply >= 400) return fail(exit, fmt::format("{}: server replied {}: {}", shown, reply, why));
    return fail(exit, fmt::format("{}: {}", shown, why));
}

}  // namespace nasops
