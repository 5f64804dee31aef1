// nasops-trace export against a real HTTP receiver that is down, then up,
// then slower than the client's timeout, then answers 503 with Retry-After,
// then 400, with traces.jsonl rotated by
// the real logrotate (copytruncate, then create) between runs: every span is
// accepted exactly once, except those of the batch refused as malformed.
// What was sent is decoded with the OpenTelemetry project's OTLP definitions.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "fixtures/child_process.hpp"
#include "fixtures/fault_row.hpp"
#include "fixtures/http_sink.hpp"
#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/obs/trace.hpp"

namespace fs = std::filesystem;
using nasops::testing::CommandResult;
using nasops::testing::read_file;
using nasops::testing::write_file;
using nlohmann::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

namespace {

class TraceExport : public ::testing::Test {
protected:
    void SetUp() override {
        write_file(m_config, nasops::testing::paths_config(m_dir.path()));
        fs::create_directories(m_dir / "log");
    }

    // Appends `n` spans (each a child of the one before) and returns their ids.
    std::vector<std::string> write_spans(int n) {
        nasops::SystemClock clock;
        const nasops::Tracer tracer(nasops::SpanSink(m_traces, "dbmaint", "cam-01", clock),
                                    nasops::TraceContext{"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 1});
        std::vector<std::string> ids;
        for (int i = 0; i < n; ++i) {
            nasops::Span span(tracer, fmt::format("step {}", m_written.size()));
            span.set_attribute("seq", static_cast<int>(m_written.size()));
            span.set_attribute("ratio", 0.5);
            span.set_attribute("ok", true);
            span.add_event("half-way");
            if (i % 7 == 3) span.set_error("exit status 1");
            ids.push_back(span.context()->span_id);
            m_written.push_back(ids.back());
            EXPECT_TRUE(span.end());
        }
        return ids;
    }

    std::vector<std::string> export_argv(const std::vector<std::string>& extra) const {
        std::vector<std::string> argv{std::string(NASOPS_TOOLS_DIR) + "/nasops-trace",
                                      "--config",
                                      m_config.string(),
                                      "export",
                                      "--batch-size",
                                      "10"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return argv;
    }

    static nasops::testing::SpawnOptions export_options(int port,
                                                        const std::vector<std::pair<std::string, std::string>>& env) {
        nasops::testing::SpawnOptions options;
        options.unset_env = {"NASOPS_CONFIG", "TRACEPARENT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                             "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"};
        options.env = {{"OTEL_EXPORTER_OTLP_ENDPOINT", fmt::format("http://127.0.0.1:{}/", port)},
                       {"OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20s3cret,x-tenant=edge"},
                       {"OTEL_SERVICE_NAME", "media-edge"},
                       {"OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test,site=hangar%202"}};
        for (const auto& [name, value] : env) options.env[name] = value;
        return options;
    }

    CommandResult run_export(int port, const std::vector<std::string>& extra = {},
                             const std::vector<std::pair<std::string, std::string>>& env = {}) {
        auto r = nasops::testing::run_command(export_argv(extra), {}, 120s, export_options(port, env));
        EXPECT_FALSE(r.timed_out);
        return r;
    }

    // `mode` is logrotate's create or copytruncate line; `compression` what
    // the shipped rule says (compress, delaycompress) or nocompress.
    void rotate(std::string_view mode, std::string_view compression = "nocompress") {
        const auto conf = m_dir / "logrotate.conf";
        write_file(conf, fmt::format("{} {{\n    rotate 5\n    {}\n    missingok\n    {}\n}}\n", m_traces.string(),
                                     compression, mode));
        const auto r = nasops::testing::run_command(
            {"/usr/sbin/logrotate", "--force", "--state", (m_dir / "logrotate.state").string(), conf.string()});
        ASSERT_EQ(r.exit_code, 0) << "logrotate failed: " << r.err;
    }

    nasops::testing::TempDir m_dir{"nasops-trace-export"};
    fs::path m_config = m_dir / "nasops.toml";
    fs::path m_traces = m_dir / "log" / "traces.jsonl";
    std::vector<std::string> m_written;
};

// A request the receiver answered too late for the client, which gave up
// waiting and sent it again: the client never saw it accepted.
bool abandoned(const json& request) {
    return request.contains("delayed");
}

// The span ids of each request the client saw accepted, in order.
std::vector<std::string> accepted_span_ids(const std::vector<json>& requests) {
    std::vector<std::string> ids;
    for (const auto& r : requests) {
        if (r.at("status").get<int>() / 100 != 2 || abandoned(r)) continue;
        const auto body = json::parse(r.at("body").get<std::string>());
        for (const auto& rs : body.at("resourceSpans"))
            for (const auto& ss : rs.at("scopeSpans"))
                for (const auto& s : ss.at("spans")) ids.push_back(s.at("spanId"));
    }
    return ids;
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto nl = text.find('\n', pos);
        const auto line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        if (!line.empty()) lines.push_back(line);
        if (nl == std::string::npos) break;
        pos = nl + 1;
    }
    return lines;
}

std::vector<json> statuses(const std::vector<json>& requests, std::size_t from) {
    std::vector<json> out;
    for (std::size_t i = from; i < requests.size(); ++i) out.push_back(requests[i].at("status"));
    return out;
}

}  // namespace

TEST_F(TraceExport, NothingLostNothingSentTwice) {
    const int port = nasops::testing::free_port();
    nasops::testing::HttpSink sink(m_dir / "sink", port);
    const auto status_file = m_dir / "sink" / "status";

    // Down: the spans stay for the next run.
    sink.stop();
    write_spans(25);
    auto r = run_export(port, {"--max-attempts", "2"});
    EXPECT_EQ(r.exit_code, 69) << r.err;
    EXPECT_THAT(r.err, HasSubstr("the spans stay for the next run"));

    // Up: everything goes, in batches of 10.
    sink.start();
    r = run_export(port);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("exported 25 spans in 3 batches"));
    auto requests = sink.requests();
    ASSERT_EQ(requests.size(), 3u);
    const auto& first = requests.front();
    EXPECT_EQ(first.at("method"), "POST");
    EXPECT_EQ(first.at("path"), "/v1/traces");
    EXPECT_EQ(first.at("headers").at("Content-Encoding"), "gzip");
    EXPECT_EQ(first.at("headers").at("Content-Type"), "application/json");
    EXPECT_EQ(first.at("headers").at("authorization"), "Bearer s3cret");
    EXPECT_EQ(first.at("headers").at("x-tenant"), "edge");
    {
        const auto body = json::parse(first.at("body").get<std::string>());
        const auto& resource = body.at("resourceSpans").at(0);
        std::map<std::string, std::string> attributes;
        for (const auto& a : resource.at("resource").at("attributes"))
            attributes[a.at("key")] = a.at("value").at("stringValue");
        EXPECT_EQ(attributes.at("service.name"), "media-edge");
        EXPECT_EQ(attributes.at("host.name"), "cam-01");
        EXPECT_EQ(attributes.at("site"), "hangar 2");
        EXPECT_EQ(attributes.at("deployment.environment"), "test");
        const auto& scope = resource.at("scopeSpans").at(0);
        EXPECT_EQ(scope.at("scope").at("name"), "nasops-dbmaint");
        const auto& span = scope.at("spans").at(0);
        EXPECT_EQ(span.at("traceId"), "4bf92f3577b34da6a3ce929d0e0e4736");
        EXPECT_EQ(span.at("parentSpanId"), "00f067aa0ba902b7");
        EXPECT_EQ(span.at("name"), "step 0");
        EXPECT_EQ(span.at("kind"), 1);
        EXPECT_TRUE(span.at("startTimeUnixNano").is_string());
        EXPECT_GE(std::stoull(span.at("endTimeUnixNano").get<std::string>()),
                  std::stoull(span.at("startTimeUnixNano").get<std::string>()));
        std::map<std::string, json> values;
        for (const auto& a : span.at("attributes")) values[a.at("key")] = a.at("value");
        EXPECT_EQ(values.at("seq"), json({{"intValue", "0"}}));
        EXPECT_EQ(values.at("ratio"), json({{"doubleValue", 0.5}}));
        EXPECT_EQ(values.at("ok"), json({{"boolValue", true}}));
        EXPECT_EQ(span.at("events").at(0).at("name"), "half-way");
        const auto& failed = scope.at("spans").at(3);
        EXPECT_EQ(failed.at("status").at("code"), 2);
        EXPECT_EQ(failed.at("status").at("message"), "exit status 1");
    }

    // Nothing new: nothing sent.
    r = run_export(port);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(sink.requests().size(), 3u);

    // Slow: the answer comes after OTEL_EXPORTER_OTLP_TIMEOUT; the client
    // gives up on it, sends the same batch again and commits it once.
    write_spans(5);
    write_file(status_file, "200 sleep=4\n200\n");
    r = run_export(port, {}, {{"OTEL_EXPORTER_OTLP_TIMEOUT", "1000"}});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("exported 5 spans in 1 batches"));
    requests = sink.requests();
    ASSERT_EQ(requests.size(), 5u);
    EXPECT_TRUE(abandoned(requests[3]));
    EXPECT_FALSE(abandoned(requests[4]));
    EXPECT_EQ(requests[3].at("body"), requests[4].at("body"));
    r = run_export(port, {"--format", "json"});  // and not again; its summary as a record
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(sink.requests().size(), 5u);
    const auto summary = nasops::testing::parse_records(r.out);
    ASSERT_EQ(summary.size(), 1u) << r.out;
    EXPECT_EQ(summary[0].at("name"), "trace_export");
    EXPECT_EQ(summary[0].at("details").at("spans_sent"), 0);
    EXPECT_EQ(summary[0].at("details").at("complete"), true);

    // 503 with Retry-After: waits, then the same batch is accepted.
    write_spans(5);
    write_file(status_file, "503 1\n200\n");
    r = run_export(port);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    requests = sink.requests();
    ASSERT_EQ(requests.size(), 7u);
    EXPECT_EQ(statuses(requests, 5), (std::vector<json>{503, 200}));
    EXPECT_EQ(requests[5].at("body"), requests[6].at("body"));

    // 400: the malformed batch is reported and passed over, the next one goes.
    const auto refused = write_spans(10);
    write_spans(5);
    write_file(status_file, "400\n200\n");
    r = run_export(port);
    EXPECT_EQ(r.exit_code, 65) << r.err;
    EXPECT_THAT(r.err, HasSubstr("refused a batch of 10 spans as malformed"));
    EXPECT_THAT(r.out, HasSubstr("10 spans in 1 batches refused"));
    requests = sink.requests();
    ASSERT_EQ(requests.size(), 9u);
    EXPECT_EQ(statuses(requests, 7), (std::vector<json>{400, 200}));
    r = run_export(port);  // the refused batch is not sent again
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(sink.requests().size(), 9u);

    // Rotated with copytruncate between runs, spans before and after it.
    write_spans(7);
    rotate("copytruncate");
    write_spans(4);
    r = run_export(port);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("exported 11 spans"));

    // Rotated with create (renamed to .1, the older .1 to .2).
    write_spans(6);
    rotate("create 0640");
    write_spans(3);
    r = run_export(port);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("exported 9 spans"));

    // Every request as the OpenTelemetry project's own OTLP definitions read
    // it (tests/fixtures/otlp_decode: npm @opentelemetry/otlp-transformer,
    // installed by make -f Makefile.ops test): no field it does not know.
    const auto decoded_out =
        nasops::testing::run_command({"node", std::string(NASOPS_FIXTURES_DIR) + "/otlp_decode/decode.js",
                                      (m_dir / "sink" / "requests.jsonl").string()});
    ASSERT_EQ(decoded_out.exit_code, 0) << decoded_out.err << " (run: make -f Makefile.ops otlp-decode)";
    std::vector<json> decoded;
    for (const auto& line : split_lines(decoded_out.out)) decoded.push_back(json::parse(line));
    const auto all_requests = sink.requests();
    ASSERT_EQ(decoded.size(), all_requests.size());
    std::vector<std::string> decoded_ids;
    for (std::size_t i = 0; i < decoded.size(); ++i) {
        const auto& d = decoded[i];
        EXPECT_TRUE(d.at("problems").empty()) << d.at("problems").dump();
        ASSERT_FALSE(d.at("spans").empty());
        if (d.at("status").get<int>() / 100 != 2 || abandoned(all_requests[i])) continue;
        for (const auto& span : d.at("spans")) {
            EXPECT_EQ(span.at("traceId"), "4bf92f3577b34da6a3ce929d0e0e4736");
            EXPECT_EQ(span.at("parentSpanId"), "00f067aa0ba902b7");
            EXPECT_EQ(span.at("scope"), "nasops-dbmaint");
            decoded_ids.push_back(span.at("spanId"));
        }
    }
    EXPECT_EQ(decoded.front().at("spans").at(3).at("status").at("code"), 2);

    // Span by span: each written span accepted once, the refused ones never.
    const auto accepted = accepted_span_ids(sink.requests());
    EXPECT_EQ(accepted, decoded_ids);
    std::multiset<std::string> counted(accepted.begin(), accepted.end());
    std::set<std::string> refused_set(refused.begin(), refused.end());
    for (const auto& id : m_written) {
        EXPECT_EQ(counted.count(id), refused_set.contains(id) ? 0u : 1u) << "span " << id;
    }
    EXPECT_EQ(accepted.size(), m_written.size() - refused.size());
}

FAULT_TEST_F(TraceExport, ACollectorDownAcrossTwoRotationsLosesNothing) {
    nasops::testing::FaultReport fault("OTLP collector down across two log rotations, and failing mid-batch",
                                       "exit 69 while down; afterwards every span exported exactly once");
    const int port = nasops::testing::free_port();
    nasops::testing::HttpSink sink(m_dir / "sink", port);
    write_spans(8);
    auto r = run_export(port);
    ASSERT_EQ(r.exit_code, 0) << r.err;

    // Down for two days of the shipped rule (compress, delaycompress): the
    // file the position is in is renamed to .1, then compressed to .2.gz.
    sink.stop();
    write_spans(6);
    r = run_export(port, {"--max-attempts", "1"});
    EXPECT_EQ(r.exit_code, 69) << r.err;
    rotate("create 0640", "compress\n    delaycompress");
    write_spans(5);
    rotate("create 0640", "compress\n    delaycompress");
    ASSERT_TRUE(fs::exists(m_dir / "log" / "traces.jsonl.2.gz"));
    ASSERT_TRUE(fs::exists(m_dir / "log" / "traces.jsonl.1"));
    write_spans(4);

    sink.start();
    r = run_export(port);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("exported 15 spans"));
    EXPECT_EQ(accepted_span_ids(sink.requests()), m_written);

    // Stopped in the middle of a file that is compressed before the next
    // run: that run goes on from the middle of the compressed one.
    write_spans(13);  // a batch of 10 goes, the next does not
    write_file(m_dir / "sink" / "status", "200\n503\n");
    r = run_export(port, {"--max-attempts", "1"});
    EXPECT_EQ(r.exit_code, 69) << r.err;
    rotate("create 0640", "compress\n    delaycompress");
    write_spans(2);
    rotate("create 0640", "compress\n    delaycompress");
    ASSERT_TRUE(fs::exists(m_dir / "log" / "traces.jsonl.2.gz"));
    write_file(m_dir / "sink" / "status", "200\n");
    r = run_export(port);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto accepted = accepted_span_ids(sink.requests());
    EXPECT_EQ(accepted, m_written);
    const std::set<std::string> distinct(accepted.begin(), accepted.end());
    const auto lost =
        std::count_if(m_written.begin(), m_written.end(), [&](const auto& id) { return !distinct.contains(id); });
    fault.observed(fmt::format("{} spans written, {} accepted by the collector: {} lost, {} twice", m_written.size(),
                               accepted.size(), lost, accepted.size() - distinct.size()));
}

// Polls `done` until it holds; false after a minute.
template <typename F>
bool eventually(F done) {
    for (int i = 0; i < 600; ++i) {
        if (done()) return true;
        std::this_thread::sleep_for(100ms);
    }
    return done();
}

TEST_F(TraceExport, FollowShipsAsTheFileGrowsAndAcrossRotationsUntilSigterm) {
    const int port = nasops::testing::free_port();
    nasops::testing::HttpSink sink(m_dir / "sink", port);
    write_spans(12);
    auto options = export_options(port, {});
    options.stdout_file = m_dir / "follow.out";
    options.stderr_file = m_dir / "follow.err";
    nasops::testing::ChildProcess shipper(export_argv({"--follow", "--flush-interval", "1s"}), options);
    const auto accepted = [&] { return accepted_span_ids(sink.requests()).size(); };

    ASSERT_TRUE(eventually([&] { return accepted() == 12; })) << accepted();  // a batch of 10, then the rest
    write_spans(7);  // less than a batch: goes at the flush interval
    ASSERT_TRUE(eventually([&] { return accepted() == 19; })) << accepted();
    write_spans(5);
    rotate("create 0640");
    write_spans(4);
    ASSERT_TRUE(eventually([&] { return accepted() == 28; })) << accepted();
    write_spans(3);
    rotate("copytruncate");
    write_spans(6);
    ASSERT_TRUE(eventually([&] { return accepted() == 37; })) << accepted();
    write_spans(3);  // sent before it stops, or on its way out
    shipper.signal(SIGTERM);
    const auto status = shipper.wait_for(60s);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(*status, 0) << read_file(m_dir / "follow.err");
    EXPECT_THAT(read_file(m_dir / "follow.out"), HasSubstr("exported 40 spans"));

    // Span by span: each written span accepted once, in the order written.
    EXPECT_EQ(accepted_span_ids(sink.requests()), m_written);
    const auto before = sink.requests().size();
    const auto r = run_export(port);  // a cron run after it: nothing left to send
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(sink.requests().size(), before);
}

// A shipper that follows for weeks tells the fleet what it has not sent
// after each round, not only when it stops: the textfile is there, and true,
// while it runs.
TEST_F(TraceExport, FollowWritesItsTextfileAfterEachRoundNotOnlyWhenItStops) {
    const int port = nasops::testing::free_port();
    nasops::testing::HttpSink sink(m_dir / "sink", port);
    const auto textfiles = m_dir / "textfiles";
    fs::create_directories(textfiles);
    const auto pending = [&]() -> std::string {
        const auto file = textfiles / "nasops_trace.prom";
        if (!fs::exists(file)) return "no textfile";
        const auto text = read_file(file);
        const std::string family = "\nnasops_trace_export_pending_spans ";
        const auto at = text.find(family);
        if (at == std::string::npos) return "no pending_spans";
        return text.substr(at + family.size(), text.find('\n', at + 1) - at - family.size());
    };
    write_spans(6);
    auto options = export_options(port, {});
    options.stdout_file = m_dir / "follow.out";
    options.stderr_file = m_dir / "follow.err";
    nasops::testing::ChildProcess shipper(
        export_argv({"--follow", "--flush-interval", "1s", "--textfile-dir", textfiles.string()}), options);

    ASSERT_TRUE(eventually([&] { return pending() == "0"; })) << pending() << read_file(m_dir / "follow.err");
    EXPECT_TRUE(shipper.running());
    // The collector goes away for an hour (503, Retry-After: 3600): the next round stops with the spans unsent.
    sink.set_statuses({"503 3600"});
    write_spans(4);
    ASSERT_TRUE(eventually([&] { return pending() == "4"; })) << pending() << read_file(m_dir / "follow.err");
    EXPECT_TRUE(shipper.running());

    shipper.signal(SIGTERM);
    const auto status = shipper.wait_for(60s);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(*status, 69) << "spans left for later: " << read_file(m_dir / "follow.err");
    EXPECT_EQ(pending(), "4");
}

TEST_F(TraceExport, ConfigurationErrorsAreNamed) {
    std::vector<std::string> argv{std::string(NASOPS_TOOLS_DIR) + "/nasops-trace", "--config", m_config.string(),
                                  "export"};
    nasops::testing::SpawnOptions options;
    options.unset_env = {"NASOPS_CONFIG", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"};
    auto r = nasops::testing::run_command(argv, {}, 60s, options);
    EXPECT_EQ(r.exit_code, 78);
    EXPECT_THAT(r.err, HasSubstr("no collector to export to"));

    options.env = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1"},
                   {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"}};
    r = nasops::testing::run_command(argv, {}, 60s, options);
    EXPECT_EQ(r.exit_code, 78);
    EXPECT_THAT(r.err, HasSubstr("http/json"));

    options.env = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1"}, {"OTEL_EXPORTER_OTLP_HEADERS", "novalue"}};
    r = nasops::testing::run_command(argv, {}, 60s, options);
    EXPECT_EQ(r.exit_code, 78);
    EXPECT_THAT(r.err, HasSubstr("OTEL_EXPORTER_OTLP_HEADERS"));
}
