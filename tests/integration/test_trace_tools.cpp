// Every nasops tool run under one nasops-trace exec records its spans under
// the exec's span: health (the run and each check), alert (the evaluation and
// each delivery) and sync (the run).

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "fixtures/child_process.hpp"
#include "fixtures/http_sink.hpp"
#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/obs/trace.hpp"
#include "nasops/record/record.hpp"

namespace fs = std::filesystem;
using nasops::testing::read_file;
using nasops::testing::write_file;
using namespace std::chrono_literals;

TEST(TraceTools, EveryToolsSpansUnderOneExec) {
    nasops::testing::TempDir dir("nasops-trace-tools");
    nasops::testing::HttpSink sink(dir / "sink");
    fs::create_directories(dir / "src");
    fs::create_directories(dir / "nas");
    write_file(dir / "src" / "clip.mp4", "frames");
    const auto config = dir / "nasops.toml";
    write_file(config, nasops::testing::paths_config(dir.path()) +
                           fmt::format("[sync]\nsources = [\"{}\"]\ntarget = \"{}\"\nmin_age = \"0s\"\n\n"
                                       "[alert]\ndefault_channels = [\"hook\"]\n\n[[alert.channel]]\n"
                                       "name = \"hook\"\ntype = \"webhook\"\nurl = \"{}\"\ntimeout = \"5s\"\n",
                                       (dir / "src").string(), (dir / "nas").string(), sink.url()));
    const auto record =
        nasops::format_record(nasops::RecordKind::check, {{"name", "disk"}, {"status", "critical"}, {"value", 0.97}},
                              "health", "cam-01", std::chrono::system_clock::now())
            .value();
    write_file(dir / "check.jsonl", record);

    const std::string tools = NASOPS_TOOLS_DIR;
    const std::string c = config.string();
    const std::string script = fmt::format(
        "{0}/nasops-health --config {1} disk >/dev/null; "
        "{0}/nasops-alert --config {1} < {2} >/dev/null; "  // exits 2: the alert is critical
        "{0}/nasops-sync --config {1} run --quiet || exit 11",
        tools, c, (dir / "check.jsonl").string());
    nasops::testing::SpawnOptions options;
    options.unset_env = {"NASOPS_CONFIG", "TRACEPARENT"};
    const auto r = nasops::testing::run_command(
        {tools + "/nasops-trace", "--config", c, "exec", "--name", "nightly", "--", "/bin/sh", "-c", script}, {}, 120s,
        options);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(sink.requests().size(), 1u);  // the alert was delivered

    std::map<std::string, std::vector<nasops::SpanData>> by_name;
    std::map<std::string, std::string> tool_of;
    for (const auto& line : nasops::testing::parse_records(read_file(dir / "log" / "traces.jsonl"))) {
        auto span = nasops::parse_span_fields(line).value();
        tool_of[span.name] = line.at("tool");
        by_name[span.name].push_back(std::move(span));
    }
    for (const auto* name : {"nightly", "health", "check disk", "alert evaluate", "deliver hook", "sync run"})
        ASSERT_EQ(by_name[name].size(), 1u) << name;
    const auto& root = by_name["nightly"][0];
    EXPECT_TRUE(root.parent_span_id.empty());
    for (const auto& [name, spans] : by_name) EXPECT_EQ(spans[0].trace_id, root.trace_id) << name;
    EXPECT_EQ(by_name["health"][0].parent_span_id, root.span_id);
    EXPECT_EQ(by_name["alert evaluate"][0].parent_span_id, root.span_id);
    EXPECT_EQ(by_name["sync run"][0].parent_span_id, root.span_id);
    EXPECT_EQ(by_name["check disk"][0].parent_span_id, by_name["health"][0].span_id);
    EXPECT_EQ(by_name["deliver hook"][0].parent_span_id, by_name["alert evaluate"][0].span_id);
    EXPECT_EQ(by_name["deliver hook"][0].kind, nasops::SpanKind::client);
    EXPECT_EQ(by_name["check disk"][0].attributes.at("check.name"), "disk");
    EXPECT_EQ(by_name["alert evaluate"][0].attributes.at("alert.records"), 1);
    EXPECT_EQ(by_name["sync run"][0].status, nasops::SpanStatus::unset);
    EXPECT_EQ(tool_of["health"], "health");
    EXPECT_EQ(tool_of["deliver hook"], "alert");
    EXPECT_EQ(tool_of["sync run"], "sync");
    EXPECT_EQ(tool_of["nightly"], "trace");

    // Without TRACEPARENT the tools write no span at all.
    fs::remove(dir / "log" / "traces.jsonl");
    const auto plain =
        nasops::testing::run_command({tools + "/nasops-health", "--config", c, "disk"}, {}, 60s, options);
    EXPECT_NE(plain.exit_code, -1);
    EXPECT_FALSE(fs::exists(dir / "log" / "traces.jsonl"));
}
