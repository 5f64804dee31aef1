#include "otlp.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <tuple>

#include "nasops/record/json_fast.hpp"
#include "nasops/version.hpp"

namespace nasops::trace {

namespace {

using nlohmann::json;

std::optional<std::string> first_env(const EnvLookup& env, std::string_view specific, std::string_view general) {
    if (auto v = non_empty_env(env, specific)) return v;
    return non_empty_env(env, general);
}

std::string trim(std::string_view text) {
    const auto begin = text.find_first_not_of(" \t");
    if (begin == std::string_view::npos) return {};
    const auto end = text.find_last_not_of(" \t");
    return std::string(text.substr(begin, end - begin + 1));
}

std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt;
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
        if (ec != std::errc{} || end != text.data() + i + 3) return std::nullopt;
        out += static_cast<char>(value);
        i += 2;
    }
    return out;
}

void append_any_value(std::string& out, const json& value) {
    if (value.is_boolean()) {
        out += value.get<bool>() ? R"({"boolValue":true})" : R"({"boolValue":false})";
    } else if (value.is_number_integer()) {
        out += R"({"intValue":")";
        out += std::to_string(value.get<std::int64_t>());
        out += "\"}";
    } else if (value.is_number_float()) {
        out += R"({"doubleValue":)";
        out += value.dump();
        out += '}';
    } else if (value.is_array()) {
        out += R"({"arrayValue":{"values":[)";
        for (std::size_t i = 0; i < value.size(); ++i) {
            if (i > 0) out += ',';
            append_any_value(out, value[i]);
        }
        out += "]}}";
    } else {
        out += R"({"stringValue":)";
        append_json_string(out, value.is_string() ? value.get_ref<const std::string&>() : value.dump());
        out += '}';
    }
}

void append_key_value(std::string& out, std::string_view key) {
    out += R"({"key":)";
    append_json_string(out, key);
    out += R"(,"value":)";
}

void append_attributes(std::string& out, const json& attributes) {
    out += '[';
    if (attributes.is_object()) {
        bool first = true;
        for (const auto& [key, value] : attributes.items()) {
            if (!first) out += ',';
            first = false;
            append_key_value(out, key);
            append_any_value(out, value);
            out += '}';
        }
    }
    out += ']';
}

void append_string_attribute(std::string& out, std::string_view key, std::string_view value) {
    append_key_value(out, key);
    out += R"({"stringValue":)";
    append_json_string(out, value);
    out += "}}";
}

void append_unix_nanos(std::string& out, SystemTimePoint t) {
    char digits[24];
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    const auto [end, ec] = std::to_chars(std::begin(digits), std::end(digits), ns);
    out += '"';
    out.append(digits, end);
    out += '"';
}

int kind_number(SpanKind kind) {
    switch (kind) {
        case SpanKind::internal: return 1;
        case SpanKind::server: return 2;
        case SpanKind::client: return 3;
        case SpanKind::producer: return 4;
        case SpanKind::consumer: return 5;
    }
    return 0;
}

int status_number(SpanStatus status) {
    switch (status) {
        case SpanStatus::unset: return 0;
        case SpanStatus::ok: return 1;
        case SpanStatus::error: return 2;
    }
    return 0;
}

void append_span(std::string& out, const SpanData& s) {
    out += R"({"traceId":)";
    append_json_string(out, s.trace_id);
    out += R"(,"spanId":)";
    append_json_string(out, s.span_id);
    if (!s.parent_span_id.empty()) {
        out += R"(,"parentSpanId":)";
        append_json_string(out, s.parent_span_id);
    }
    out += R"(,"name":)";
    append_json_string(out, s.name);
    out += R"(,"kind":)";
    out += static_cast<char>('0' + kind_number(s.kind));
    out += R"(,"startTimeUnixNano":)";
    append_unix_nanos(out, s.start);
    out += R"(,"endTimeUnixNano":)";
    append_unix_nanos(out, s.end);
    out += R"(,"attributes":)";
    append_attributes(out, s.attributes);
    if (!s.events.empty()) {
        out += R"(,"events":[)";
        for (std::size_t i = 0; i < s.events.size(); ++i) {
            const auto& e = s.events[i];
            if (i > 0) out += ',';
            out += R"({"timeUnixNano":)";
            append_unix_nanos(out, e.time);
            out += R"(,"name":)";
            append_json_string(out, e.name);
            out += R"(,"attributes":)";
            append_attributes(out, e.attributes);
            out += '}';
        }
        out += ']';
    }
    out += R"(,"status":{"code":)";
    out += static_cast<char>('0' + status_number(s.status));
    if (!s.status_message.empty()) {
        out += R"(,"message":)";
        append_json_string(out, s.status_message);
    }
    out += "}}";
}

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> parse_key_values(std::string_view text,
                                                                          std::string_view variable) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto comma = text.find(',', pos);
        const auto item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        pos = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
        if (trim(item).empty()) continue;
        const auto eq = item.find('=');
        const auto key = trim(item.substr(0, eq));
        if (eq == std::string_view::npos || key.empty())
            return fail(ExitCode::config, fmt::format("{}: '{}' is not key=value", variable, trim(item)));
        auto value = percent_decode(trim(item.substr(eq + 1)));
        if (!value) return fail(ExitCode::config, fmt::format("{}: bad percent-encoding in '{}'", variable, key));
        out.emplace_back(key, std::move(*value));
    }
    return out;
}

Result<OtlpSettings> otlp_settings(const EnvLookup& env, const Config& config) {
    const auto& section = config.section("trace");
    OtlpSettings s;
    if (auto url = non_empty_env(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
        s.url = *url;
    } else {
        auto base = non_empty_env(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
        if (!base && !section.get_string("otlp_endpoint").empty()) base = section.get_string("otlp_endpoint");
        if (!base)
            return std::unexpected(section.error_at(
                "otlp_endpoint",
                "no collector to export to: set OTEL_EXPORTER_OTLP_ENDPOINT or [trace] otlp_endpoint"));
        while (!base->empty() && base->back() == '/') base->pop_back();
        s.url = *base + "/v1/traces";
    }
    if (!s.url.starts_with("http://") && !s.url.starts_with("https://"))
        return fail(ExitCode::config, fmt::format("OTLP endpoint '{}' is not an http:// or https:// URL", s.url));
    if (auto protocol = first_env(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL");
        protocol && *protocol != "http/json")
        return fail(ExitCode::config,
                    fmt::format("OTEL_EXPORTER_OTLP_PROTOCOL: '{}' is not supported; nasops-trace speaks http/json",
                                *protocol));
    if (auto headers = first_env(env, "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS")) {
        TRY_ASSIGN(auto pairs, parse_key_values(*headers, "OTEL_EXPORTER_OTLP_HEADERS"));
        for (auto& [k, v] : pairs) s.headers.push_back(HttpHeader{std::move(k), std::move(v)});
    }
    if (auto timeout = first_env(env, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")) {
        long ms = 0;
        const auto [end, ec] = std::from_chars(timeout->data(), timeout->data() + timeout->size(), ms);
        if (ec != std::errc{} || end != timeout->data() + timeout->size() || ms <= 0)
            return fail(ExitCode::config,
                        fmt::format("OTEL_EXPORTER_OTLP_TIMEOUT: '{}' is not a number of milliseconds", *timeout));
        s.timeout = Duration(ms);
    }
    if (auto compression = first_env(env, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION")) {
        if (*compression != "gzip" && *compression != "none")
            return fail(ExitCode::config,
                        fmt::format("OTEL_EXPORTER_OTLP_COMPRESSION: '{}' is not gzip or none", *compression));
        s.gzip = *compression == "gzip";
    }
    s.service_name = section.get_string("service_name");
    if (auto attributes = non_empty_env(env, "OTEL_RESOURCE_ATTRIBUTES")) {
        TRY_ASSIGN(s.resource_attributes, parse_key_values(*attributes, "OTEL_RESOURCE_ATTRIBUTES"));
        for (const auto& [k, v] : s.resource_attributes)
            if (k == "service.name") s.service_name = v;
    }
    if (auto name = non_empty_env(env, "OTEL_SERVICE_NAME")) s.service_name = *name;
    return s;
}

void OtlpRequest::add(const TracedSpan& span) {
    if (m_last >= m_scopes.size() || m_scopes[m_last].host != span.host || m_scopes[m_last].tool != span.tool) {
        const auto same = std::find_if(m_scopes.begin(), m_scopes.end(),
                                       [&](const Scope& s) { return s.host == span.host && s.tool == span.tool; });
        m_last = static_cast<std::size_t>(same - m_scopes.begin());
        if (same == m_scopes.end()) m_scopes.push_back(Scope{span.host, span.tool, {}});
    }
    auto& out = m_scopes[m_last].spans;
    const auto before = out.size();
    if (!out.empty()) out += ',';
    append_span(out, span.span);
    m_bytes += out.size() - before;
    ++m_spans;
}

std::string OtlpRequest::body() const {
    std::vector<const Scope*> scopes;
    for (const auto& s : m_scopes) scopes.push_back(&s);
    std::sort(scopes.begin(), scopes.end(),
              [](const Scope* a, const Scope* b) { return std::tie(a->host, a->tool) < std::tie(b->host, b->tool); });
    std::string out;
    out.reserve(m_bytes + 512 * (m_scopes.size() + 1));
    out += R"({"resourceSpans":[)";
    for (std::size_t i = 0; i < scopes.size(); ++i) {
        const auto& host = scopes[i]->host;
        const bool new_host = i == 0 || scopes[i - 1]->host != host;
        if (new_host) {
            if (i > 0) out += "]},";
            out += R"({"resource":{"attributes":[)";
            append_string_attribute(out, "service.name", m_settings->service_name);
            bool has_host = false;
            for (const auto& [k, v] : m_settings->resource_attributes) {
                if (k == "service.name") continue;
                if (k == "host.name") has_host = true;
                out += ',';
                append_string_attribute(out, k, v);
            }
            if (!has_host) {
                out += ',';
                append_string_attribute(out, "host.name", host);
            }
            out += R"(]},"scopeSpans":[)";
        } else {
            out += ',';
        }
        out += R"({"scope":{"name":)";
        append_json_string(out, "nasops-" + scopes[i]->tool);
        out += R"(,"version":)";
        append_json_string(out, k_version);
        out += R"(},"spans":[)";
        out += scopes[i]->spans;
        out += "]}";
    }
    if (!scopes.empty()) out += "]}";
    out += "]}";
    return out;
}

void OtlpRequest::clear() {
    m_scopes.clear();
    m_last = 0;
    m_spans = 0;
    m_bytes = 0;
}

std::string otlp_request_json(const std::vector<TracedSpan>& spans, const OtlpSettings& settings) {
    OtlpRequest request(settings);
    for (const auto& s : spans) request.add(s);
    return request.body();
}

Result<std::string> gzip_compress(std::string_view data) {
    z_stream z{};
    if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return fail(ExitCode::software, "gzip: deflateInit2 failed");
    std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&z, Z_FINISH);
    const auto written = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) return fail(ExitCode::software, "gzip: deflate did not finish");
    out.resize(written);
    return out;
}

}  // namespace nasops::trace
