#include "otlp.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <charconv>
#include <map>

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

json any_value(const json& value) {
    if (value.is_boolean()) return {{"boolValue", value.get<bool>()}};
    if (value.is_number_integer()) return {{"intValue", std::to_string(value.get<std::int64_t>())}};
    if (value.is_number_unsigned()) return {{"intValue", std::to_string(value.get<std::uint64_t>())}};
    if (value.is_number_float()) return {{"doubleValue", value.get<double>()}};
    if (value.is_string()) return {{"stringValue", value.get<std::string>()}};
    return {{"stringValue", value.dump()}};
}

json key_values(const json& attributes) {
    json out = json::array();
    if (!attributes.is_object()) return out;
    for (const auto& [key, value] : attributes.items()) out.push_back({{"key", key}, {"value", any_value(value)}});
    return out;
}

json string_attribute(std::string_view key, std::string_view value) {
    return {{"key", key}, {"value", {{"stringValue", value}}}};
}

std::string unix_nanos(SystemTimePoint t) {
    return std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
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

json otlp_span(const SpanData& s) {
    json span = {{"traceId", s.trace_id},
                 {"spanId", s.span_id},
                 {"name", s.name},
                 {"kind", kind_number(s.kind)},
                 {"startTimeUnixNano", unix_nanos(s.start)},
                 {"endTimeUnixNano", unix_nanos(s.end)},
                 {"attributes", key_values(s.attributes)},
                 {"status", {{"code", status_number(s.status)}}}};
    if (!s.parent_span_id.empty()) span["parentSpanId"] = s.parent_span_id;
    if (!s.status_message.empty()) span["status"]["message"] = s.status_message;
    if (!s.events.empty()) {
        json events = json::array();
        for (const auto& e : s.events)
            events.push_back(
                {{"timeUnixNano", unix_nanos(e.time)}, {"name", e.name}, {"attributes", key_values(e.attributes)}});
        span["events"] = std::move(events);
    }
    return span;
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

std::string otlp_request_json(const std::vector<TracedSpan>& spans, const OtlpSettings& settings) {
    // host -> tool -> spans, in order of appearance within each.
    std::map<std::string, std::map<std::string, json>> grouped;
    for (const auto& s : spans) {
        auto& list = grouped[s.host][s.tool];
        if (list.is_null()) list = json::array();
        list.push_back(otlp_span(s.span));
    }
    json resource_spans = json::array();
    for (auto& [host, tools] : grouped) {
        json attributes = json::array({string_attribute("service.name", settings.service_name)});
        bool has_host = false;
        for (const auto& [k, v] : settings.resource_attributes) {
            if (k == "service.name") continue;
            if (k == "host.name") has_host = true;
            attributes.push_back(string_attribute(k, v));
        }
        if (!has_host) attributes.push_back(string_attribute("host.name", host));
        json scopes = json::array();
        for (auto& [tool, list] : tools)
            scopes.push_back(
                {{"scope", {{"name", "nasops-" + tool}, {"version", k_version}}}, {"spans", std::move(list)}});
        resource_spans.push_back(
            {{"resource", {{"attributes", std::move(attributes)}}}, {"scopeSpans", std::move(scopes)}});
    }
    return json{{"resourceSpans", std::move(resource_spans)}}.dump();
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
