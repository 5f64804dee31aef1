#pragma once

// OTLP/HTTP JSON: where to send spans (the OTEL_EXPORTER_OTLP_* variables of
// the OpenTelemetry specification over [trace] in nasops.toml) and the
// ExportTraceServiceRequest body (hex ids, 64-bit integers as strings, enums
// as numbers, as the OTLP JSON encoding says).

#include <string>
#include <utility>
#include <vector>

#include "nasops/core/config.hpp"
#include "nasops/core/environment.hpp"
#include "nasops/core/error.hpp"
#include "nasops/net/http.hpp"
#include "span_reader.hpp"

namespace nasops::trace {

struct OtlpSettings {
    std::string url;  // the full /v1/traces URL
    std::vector<HttpHeader> headers;
    Duration timeout{10'000};
    bool gzip = true;
    std::string service_name = "nasops";
    std::vector<std::pair<std::string, std::string>> resource_attributes;  // from OTEL_RESOURCE_ATTRIBUTES
};

// Reads OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is), else
// OTEL_EXPORTER_OTLP_ENDPOINT or [trace] otlp_endpoint (+ "/v1/traces");
// the HEADERS, TIMEOUT (milliseconds), COMPRESSION (gzip, the default, or
// none) and PROTOCOL (http/json only) variables, their TRACES_ variants
// first; OTEL_SERVICE_NAME over [trace] service_name; OTEL_RESOURCE_ATTRIBUTES.
// Errors name the variable or key (ExitCode::config).
Result<OtlpSettings> otlp_settings(const EnvLookup& env, const Config& config);

// "k=v,k2=v2" with percent-encoded values (W3C Baggage octets), as
// OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES are written.
Result<std::vector<std::pair<std::string, std::string>>> parse_key_values(std::string_view text,
                                                                          std::string_view variable);

// An ExportTraceServiceRequest built one span at a time, written straight
// as JSON text (no DOM): one resource per host (service.name, host.name and
// the resource attributes), one scope per tool ("nasops-<tool>").
class OtlpRequest {
public:
    explicit OtlpRequest(const OtlpSettings& settings) : m_settings(&settings) {}
    void add(const TracedSpan& span);
    std::size_t spans() const noexcept { return m_spans; }
    // The size of the spans' JSON so far.
    std::size_t bytes() const noexcept { return m_bytes; }
    // The request body, resources by host, scopes by tool, spans as added.
    std::string body() const;
    void clear();

private:
    struct Scope {
        std::string host;
        std::string tool;
        std::string spans;  // span objects separated by commas
    };
    const OtlpSettings* m_settings;
    std::vector<Scope> m_scopes;
    std::size_t m_last = 0;  // the scope of the last span: consecutive spans share one
    std::size_t m_spans = 0;
    std::size_t m_bytes = 0;
};

// The request holding `spans`, as OtlpRequest writes it.
std::string otlp_request_json(const std::vector<TracedSpan>& spans, const OtlpSettings& settings);

// `data` compressed as gzip (RFC 1952), at zlib's fastest level: span JSON
// compresses well at any level, and a cron export must not be CPU-bound.
Result<std::string> gzip_compress(std::string_view data);

}  // namespace nasops::trace
