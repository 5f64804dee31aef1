#include <gtest/gtest.h>
#include <zlib.h>

#include <map>

#include "fixtures/temp_dir.hpp"
#include "nasops/core/config.hpp"
#include "trace/export.hpp"
#include "trace/otlp.hpp"

using namespace nasops;
using namespace nasops::trace;
using namespace std::chrono_literals;

namespace {

Config config_with(const nasops::testing::TempDir& dir, const std::string& toml) {
    const auto path = dir / "nasops.toml";
    nasops::testing::write_file(path, toml);
    return load_config(ConfigSearch{.explicit_path = path.string(), .env = fixed_environment({})}).value();
}

}  // namespace

TEST(TraceOtlpTest, EndpointPrecedence) {
    nasops::testing::TempDir dir;
    const auto config = config_with(dir, "[trace]\notlp_endpoint = \"http://collector:4318/\"\n");
    EXPECT_EQ(otlp_settings(fixed_environment({}), config).value().url, "http://collector:4318/v1/traces");
    EXPECT_EQ(otlp_settings(fixed_environment({{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://otel.example.com"}}), config)
                  .value()
                  .url,
              "https://otel.example.com/v1/traces");
    EXPECT_EQ(otlp_settings(fixed_environment({{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://otel.example.com"},
                                               {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://x:1/custom"}}),
                            config)
                  .value()
                  .url,
              "http://x:1/custom");
    const auto none = otlp_settings(fixed_environment({}), config_with(dir, ""));
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, ExitCode::config);
}

TEST(TraceOtlpTest, HeadersTimeoutCompressionServiceAndResource) {
    nasops::testing::TempDir dir;
    const auto config = config_with(dir, "[trace]\notlp_endpoint = \"http://c:4318\"\nservice_name = \"edge\"\n");
    auto s = otlp_settings(fixed_environment({{"OTEL_EXPORTER_OTLP_HEADERS", "a=1, b = x%20y "},
                                              {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "c=3"},
                                              {"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"},
                                              {"OTEL_EXPORTER_OTLP_COMPRESSION", "none"},
                                              {"OTEL_RESOURCE_ATTRIBUTES", "site=h%202,service.name=from-resource"}}),
                           config)
                 .value();
    ASSERT_EQ(s.headers.size(), 1u);  // the TRACES_ variant wins over the general one
    EXPECT_EQ(s.headers[0].name, "c");
    EXPECT_EQ(s.timeout, 2500ms);
    EXPECT_FALSE(s.gzip);
    EXPECT_EQ(s.service_name, "from-resource");
    ASSERT_EQ(s.resource_attributes.size(), 2u);
    EXPECT_EQ(s.resource_attributes[0].second, "h 2");
    s = otlp_settings(fixed_environment({{"OTEL_SERVICE_NAME", "svc"}, {"OTEL_RESOURCE_ATTRIBUTES", "service.name=r"}}),
                      config)
            .value();
    EXPECT_EQ(s.service_name, "svc");  // OTEL_SERVICE_NAME wins
    EXPECT_TRUE(s.gzip);
    EXPECT_EQ(otlp_settings(fixed_environment({}), config).value().service_name, "edge");

    const auto kv = parse_key_values("a=1, b = x%20y ", "X").value();
    ASSERT_EQ(kv.size(), 2u);
    EXPECT_EQ(kv[1], (std::pair<std::string, std::string>{"b", "x y"}));
    for (const auto& [name, value] :
         std::vector<std::pair<std::string, std::string>>{{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"},
                                                          {"OTEL_EXPORTER_OTLP_TIMEOUT", "soon"},
                                                          {"OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"},
                                                          {"OTEL_EXPORTER_OTLP_HEADERS", "novalue"},
                                                          {"OTEL_EXPORTER_OTLP_HEADERS", "a=%zz"}}) {
        const auto bad = otlp_settings(fixed_environment({{name, value}}), config);
        ASSERT_FALSE(bad) << name << "=" << value;
        EXPECT_EQ(bad.error().code, ExitCode::config);
        EXPECT_NE(bad.error().message.find(name.substr(0, 26)), std::string::npos) << bad.error().message;
    }
}

TEST(TraceOtlpTest, RequestJsonGroupsByHostAndTool) {
    TracedSpan a{.span = {.name = "run",
                          .trace_id = std::string(32, 'a'),
                          .span_id = std::string(16, '1'),
                          .kind = SpanKind::client,
                          .start = SystemTimePoint{} + 1s,
                          .end = SystemTimePoint{} + 2s,
                          .status = SpanStatus::error,
                          .status_message = "boom",
                          .attributes = {{"n", 3}, {"ok", false}}},
                 .tool = "sync",
                 .host = "cam-01"};
    TracedSpan b = a;
    b.tool = "health";
    b.span.parent_span_id = std::string(16, '2');
    TracedSpan c = a;
    c.host = "cam-02";
    const auto body = nlohmann::json::parse(otlp_request_json({a, b, c}, OtlpSettings{.service_name = "edge"}));
    const auto& rs = body.at("resourceSpans");
    ASSERT_EQ(rs.size(), 2u);                                     // two hosts
    ASSERT_EQ(rs[0].at("scopeSpans").size(), 2u);                 // two tools on cam-01
    const auto& span = rs[0].at("scopeSpans")[1].at("spans")[0];  // nasops-sync sorts after nasops-health
    EXPECT_EQ(rs[0].at("scopeSpans")[1].at("scope").at("name"), "nasops-sync");
    EXPECT_EQ(span.at("kind"), 3);
    EXPECT_EQ(span.at("startTimeUnixNano"), "1000000000");
    EXPECT_EQ(span.at("status"), (nlohmann::json{{"code", 2}, {"message", "boom"}}));
    EXPECT_FALSE(span.contains("parentSpanId"));
    EXPECT_EQ(span.at("attributes")[0], (nlohmann::json{{"key", "n"}, {"value", {{"intValue", "3"}}}}));
}

TEST(TraceOtlpTest, GzipRoundTrips) {
    const std::string text(100'000, 'x');
    const auto packed = gzip_compress(text).value();
    EXPECT_LT(packed.size(), 1000u);
    ASSERT_GE(packed.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(packed[0]), 0x1f);  // gzip magic
    EXPECT_EQ(static_cast<unsigned char>(packed[1]), 0x8b);
    z_stream z{};
    ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
    std::string out(text.size(), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
    z.avail_in = static_cast<uInt>(packed.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
    inflateEnd(&z);
    EXPECT_EQ(out, text);
}

TEST(TraceOtlpTest, RetryAfterInSecondsOrAsADate) {
    const auto now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 22} + 4h;
    EXPECT_EQ(retry_after(HttpResponse{.status = 503, .headers = {{"Retry-After", "7"}}}, now), 7s);
    EXPECT_EQ(
        retry_after(HttpResponse{.status = 503, .headers = {{"retry-after", "Sun, 22 Nov 2026 04:00:30 GMT"}}}, now),
        30s);
    EXPECT_FALSE(retry_after(HttpResponse{.status = 503, .headers = {{"Retry-After", "later"}}}, now));
    EXPECT_FALSE(retry_after(HttpResponse{.status = 503}, now));
}

TEST(TraceExportPositionTest, StoredAndReplaced) {
    nasops::testing::TempDir dir;
    auto store = Store::open(dir / "nasops.db", migrations()).value();
    const auto file = dir / "traces.jsonl";
    EXPECT_FALSE(load_position(store.db(), file).value());
    ASSERT_TRUE(save_position(store.db(), file, ExportPosition{1, 2, 300, "abc"}));
    ASSERT_TRUE(save_position(store.db(), file, ExportPosition{1, 2, 450, "abc"}));
    const auto back = load_position(store.db(), file).value();
    ASSERT_TRUE(back);
    EXPECT_EQ(back->offset, 450u);
    EXPECT_EQ(back->inode, 2u);
    EXPECT_EQ(back->head, "abc");
}

TEST(TraceOtlpTest, RequestJsonEscapesTextAndKeepsValueTypes) {
    TracedSpan a{.span = {.name = "say \"hi\"\n\xc3\xa9",
                          .trace_id = std::string(32, 'a'),
                          .span_id = std::string(16, '1'),
                          .parent_span_id = std::string(16, '2'),
                          .start = SystemTimePoint{} + 1s,
                          .end = SystemTimePoint{} + 3s,
                          .attributes = {{"ratio", 0.25}, {"big", -7}, {"list", {1, 2}}, {"s", "t\\u"}},
                          .events = {SpanEvent{"half", SystemTimePoint{} + 2s, {{"k", true}}}}},
                 .tool = "trace",
                 .host = "h\"1"};
    const auto body = nlohmann::json::parse(otlp_request_json({a}, OtlpSettings{.service_name = "edge"}));
    const auto& resource = body.at("resourceSpans").at(0).at("resource").at("attributes");
    EXPECT_EQ(resource.at(1), (nlohmann::json{{"key", "host.name"}, {"value", {{"stringValue", "h\"1"}}}}));
    const auto& span = body.at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").at(0);
    EXPECT_EQ(span.at("name"), a.span.name);
    EXPECT_EQ(span.at("parentSpanId"), std::string(16, '2'));
    EXPECT_EQ(span.at("endTimeUnixNano"), "3000000000");
    std::map<std::string, nlohmann::json> values;
    for (const auto& kv : span.at("attributes")) values[kv.at("key")] = kv.at("value");
    EXPECT_EQ(values.at("ratio"), (nlohmann::json{{"doubleValue", 0.25}}));
    EXPECT_EQ(values.at("big"), (nlohmann::json{{"intValue", "-7"}}));
    EXPECT_EQ(values.at("list"),
              (nlohmann::json{{"arrayValue", {{"values", {{{"intValue", "1"}}, {{"intValue", "2"}}}}}}}));
    EXPECT_EQ(values.at("s"), (nlohmann::json{{"stringValue", "t\\u"}}));
    const auto& event = span.at("events").at(0);
    EXPECT_EQ(event.at("name"), "half");
    EXPECT_EQ(event.at("timeUnixNano"), "2000000000");
    EXPECT_EQ(event.at("attributes").at(0), (nlohmann::json{{"key", "k"}, {"value", {{"boolValue", true}}}}));
    EXPECT_EQ(span.at("status"), (nlohmann::json{{"code", 0}}));
    EXPECT_EQ(nlohmann::json::parse(otlp_request_json({}, OtlpSettings{})),
              (nlohmann::json{{"resourceSpans", nlohmann::json::array()}}));
}
