// http: a URL's status, latency and, optionally, a string its body must hold.

#include <fmt/format.h>

#include <chrono>

#include "health/checks.hpp"
#include "nasops/net/http.hpp"

namespace nasops::health {

namespace {

class HttpCheck final : public Check {
public:
    HttpCheck(HttpTarget target, ThresholdsPtr thresholds)
        : Check("http", target.url), m_target(std::move(target)), m_thresholds(std::move(thresholds)) {}

    CheckResult run(const CheckContext& context) override {
        HttpRequest request;
        request.url = m_target.url;
        request.timeout = context.timeout;
        request.connect_timeout = context.timeout;
        CurlHttpClient client;
        const auto started = std::chrono::steady_clock::now();
        auto response = client.send(request);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        auto result = blank();
        if (!response) {
            result.status =
                failure_status(context, std::chrono::steady_clock::now() - started, context.timeout, Status::critical);
            result.message = response.error().message;
            return result;
        }
        const long status = response->status;
        const std::string& body = response->body;
        const bool truncated = body.size() >= k_max_http_body;

        auto latency = m_thresholds->metric("http_latency", seconds);
        if (m_target.warn) latency.warn = m_target.warn;
        if (m_target.crit) latency.crit = m_target.crit;
        latency.min = 0;
        result.metrics.push_back(latency);
        result.metrics.push_back(m_thresholds->metric("http_status_code", static_cast<double>(status)));
        result.message = fmt::format("HTTP {} in {}, {}", status, format_quantity(seconds, Quantity::seconds),
                                     format_size(body.size()));
        if (status != m_target.expect_status) {
            result.status = Status::critical;
            result.message += fmt::format(" (expected {})", m_target.expect_status);
        } else if (!m_target.body_match.empty() && body.find(m_target.body_match) == std::string::npos) {
            result.status = Status::critical;
            result.message += fmt::format(", body does not contain '{}'{}", m_target.body_match,
                                          truncated ? " in its first MiB" : "");
        } else if (!m_target.body_match.empty()) {
            result.message += fmt::format(", body contains '{}'", m_target.body_match);
        }
        return result;
    }

private:
    HttpTarget m_target;
    ThresholdsPtr m_thresholds;
};

}  // namespace

std::shared_ptr<Check> make_http_check(HttpTarget target, ThresholdsPtr thresholds) {
    return std::make_shared<HttpCheck>(std::move(target), std::move(thresholds));
}

}  // namespace nasops::health
