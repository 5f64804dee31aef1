#include <gtest/gtest.h>

#include <deque>

#include "nasops/net/http.hpp"
#include "nasops/util/base64.hpp"

using namespace nasops;

TEST(Http, RedactUrlMasksCredentials) {
    EXPECT_EQ(redact_url("https://user:hunter2@example.net/hook"), "https://user:***@example.net/hook");
    EXPECT_EQ(redact_url("https://oapi.dingtalk.com/robot/send?access_token=abcdef&timestamp=1&sign=xyz"),
              "https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=1&sign=***");
    EXPECT_EQ(redact_url("https://hooks.slack.com/services/T000/B000/XXXXXXXX"),
              "https://hooks.slack.com/services/***");
    EXPECT_EQ(redact_url("http://127.0.0.1:9093/api/v2/alerts"), "http://127.0.0.1:9093/api/v2/alerts");
    EXPECT_EQ(redact_url("https://example.net/hooks/0123456789abcdefghijKLMN/x"), "https://example.net/hooks/***/x");
    EXPECT_EQ(redact_url("smtp://mail.example.net:587"), "smtp://mail.example.net:587");
    EXPECT_EQ(redact_url("https://example.net/a?api_key=1&page=2#frag"),
              "https://example.net/a?api_key=***&page=2#***");
}

TEST(Http, Encodings) {
    EXPECT_EQ(url_encode("a+b/c=d e~"), "a%2Bb%2Fc%3Dd%20e~");
    // RFC 4231 test case 2.
    const auto mac = hmac_sha256("Jefe", "what do ya want for nothing?");
    std::string hex;
    for (unsigned char c : mac) hex += "0123456789abcdef"[c >> 4], hex += "0123456789abcdef"[c & 15];
    EXPECT_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

namespace {

class ScriptedHttp final : public HttpClient {
public:
    Result<HttpResponse> send(const HttpRequest&) override {
        ++calls;
        auto next = script.front();
        if (script.size() > 1) script.pop_front();
        return next;
    }
    std::deque<Result<HttpResponse>> script;
    int calls = 0;
};

}  // namespace

TEST(Http, RetriesOnlyWhatMayPass) {
    std::vector<Duration> waits;
    auto sleep = [&](Duration d) { waits.push_back(d); };
    ScriptedHttp http;
    http.script = {fail(ExitCode::unavailable, "refused"), HttpResponse{503, "", {}}, HttpResponse{200, "ok", {}}};
    auto ok = send_with_retry(http, {}, RetryPolicy{.max_attempts = 5, .initial_backoff = Duration(100)}, sleep);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
    EXPECT_EQ(http.calls, 3);
    EXPECT_EQ(waits, (std::vector<Duration>{Duration(100), Duration(200)}));

    ScriptedHttp client_error;
    client_error.script = {HttpResponse{404, "", {}}};
    auto not_found = send_with_retry(client_error, {}, RetryPolicy{.max_attempts = 5}, sleep);
    EXPECT_EQ(not_found->status, 404);
    EXPECT_EQ(client_error.calls, 1) << "a 4xx is not retried";

    ScriptedHttp bad_url;
    bad_url.script = {fail(ExitCode::config, "malformed")};
    EXPECT_FALSE(send_with_retry(bad_url, {}, RetryPolicy{.max_attempts = 5}, sleep));
    EXPECT_EQ(bad_url.calls, 1);

    ScriptedHttp down;
    down.script = {fail(ExitCode::unavailable, "refused")};
    waits.clear();
    EXPECT_FALSE(send_with_retry(
        down, {}, RetryPolicy{.max_attempts = 3, .initial_backoff = Duration(100), .max_backoff = Duration(150)},
        sleep));
    EXPECT_EQ(down.calls, 3);
    EXPECT_EQ(waits, (std::vector<Duration>{Duration(100), Duration(150)}));
    EXPECT_TRUE(retryable_status(429));
    EXPECT_FALSE(retryable_status(400));
}

TEST(Mail, FormatHasTheHeadersAndABase64Utf8Body) {
    MailMessage message{.from = "nasops@example.com",
                        .to = {"a@example.com", "b@example.com"},
                        .subject = "Disque plein — critique",
                        .body = "Stockage à 93 %\n"};
    const auto text = format_mail(message, *parse_rfc3339("2026-11-22T04:16:40Z"), "abc.1@edge");
    EXPECT_NE(text.find("Date: Sun, 22 Nov 2026 04:16:40 +0000\r\n"), std::string::npos) << text;
    EXPECT_NE(text.find("From: nasops@example.com\r\n"), std::string::npos);
    EXPECT_NE(text.find("To: a@example.com, b@example.com\r\n"), std::string::npos);
    EXPECT_NE(text.find("Subject: =?UTF-8?B?" + base64_encode("Disque plein — critique") + "?=\r\n"), std::string::npos)
        << text;
    EXPECT_NE(text.find("Message-ID: <abc.1@edge>\r\n"), std::string::npos);
    EXPECT_NE(text.find("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"), std::string::npos);
    EXPECT_NE(text.find("\r\n\r\n" + base64_encode("Stockage à 93 %\n") + "\r\n"), std::string::npos) << text;
}

TEST(Mail, HeaderInjectionIsDefused) {
    MailMessage message{.from = "a@example.com", .to = {"b@example.com"}, .subject = "x\r\nBcc: evil@example.com"};
    const auto text = format_mail(message, {}, "id@h");
    EXPECT_EQ(text.find("\r\nBcc:"), std::string::npos);
    EXPECT_NE(make_message_id({}, "edge"), make_message_id({}, "edge"));
}
