// Every nasops tool run under one nasops-trace exec records its spans under
// the exec's span: health (the run and each check), alert (the evaluation and
// each delivery), sync (the run, and under it the scan, each connection, each
// batch and large file, each verify), dbmaint (the command, and under it each
// step) and capacity (the subcommand, and under it each target measured).

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "fixtures/child_process.hpp"
#include "fixtures/http_sink.hpp"
#include "fixtures/sample_db.hpp"
#include "fixtures/sshd_fixture.hpp"
#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/obs/trace.hpp"
#include "nasops/record/record.hpp"
#include "sync/schema.hpp"

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

// nasops-sync against the fixture sshd, then nasops-dbmaint daily and
// nasops-capacity record, under one exec: every span's parent is in the
// trace, and each tool's spans nest as nasops-trace(1) documents. One folder
// cannot be made on the NAS (a file has its name): that file's batch is a
// failed span, and so is the run, which exits 74.
TEST(TraceTools, SyncDbmaintAndCapacityNestUnderOneExec) {
    nasops::testing::SshdFixture nas;
    nasops::testing::TempDir dir("nasops-trace-tools");
    const auto src = dir / "src";
    for (int i = 0; i < 3; ++i) write_file(src / fmt::format("clip-{}.mp4", i), fmt::format("frames {}", i));
    write_file(src / "big.mov", std::string(600 * 1024, 'x'));  // above 256 KiB: streamed alone
    write_file(src / "blocked" / "clip.mp4", "frames");
    write_file(nas.remote_root() / "blocked", "a file where a folder must be made");
    const auto config = dir / "nasops.toml";
    write_file(config,
               nasops::testing::paths_config(dir.path()) +
                   fmt::format("\n[nas]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\nidentity_file = \"{}\"\n"
                               "known_hosts = \"{}\"\nremote_root = \"{}\"\nconnect_timeout = \"5s\"\n\n"
                               "[sync]\nsources = [\"{}\"]\nmin_age = \"0s\"\n",
                               nas.port(), nas.user(), nas.identity_file().string(), nas.known_hosts_file().string(),
                               nas.remote_root().string(), src.string()));
    fs::permissions(config, fs::perms::owner_read | fs::perms::owner_write);

    const std::string tools = NASOPS_TOOLS_DIR;
    const std::string c = config.string();
    const std::string script = fmt::format(
        "{0}/nasops-sync --config {1} run --quiet; test $? -eq 74 || exit 11; "  // 74: one failed attempt
        "{0}/nasops-dbmaint --config {1} daily --quiet || exit 12; "
        "{0}/nasops-capacity --config {1} record --quiet || exit 13",
        tools, c);
    nasops::testing::SpawnOptions options;
    options.unset_env = {"NASOPS_CONFIG", "TRACEPARENT"};
    const auto r = nasops::testing::run_command(
        {tools + "/nasops-trace", "--config", c, "exec", "--name", "night", "--", "/bin/sh", "-c", script}, {}, 240s,
        options);
    ASSERT_EQ(r.exit_code, 0) << r.err << nas.log();

    std::vector<nasops::SpanData> spans;
    std::map<std::string, std::vector<const nasops::SpanData*>> by_name;
    std::map<std::string, const nasops::SpanData*> by_id;
    for (const auto& line : nasops::testing::parse_records(read_file(dir / "log" / "traces.jsonl")))
        spans.push_back(nasops::parse_span_fields(line).value());
    for (const auto& span : spans) {
        by_name[span.name].push_back(&span);
        by_id[span.span_id] = &span;
    }
    ASSERT_EQ(by_name["night"].size(), 1u);
    const auto& root = *by_name["night"][0];
    EXPECT_TRUE(root.parent_span_id.empty());
    EXPECT_EQ(root.status, nasops::SpanStatus::unset);
    for (const auto& span : spans) {
        EXPECT_EQ(span.trace_id, root.trace_id) << span.name;
        if (&span != &root) {
            EXPECT_TRUE(by_id.contains(span.parent_span_id)) << span.name << ": no parent";
        }
    }
    const auto parent_name = [&](const nasops::SpanData& span) { return by_id.at(span.parent_span_id)->name; };
    const auto expect_children = [&](const std::string& name, const std::string& parent, std::size_t at_least) {
        EXPECT_GE(by_name[name].size(), at_least) << name;
        for (const auto* span : by_name[name]) EXPECT_EQ(parent_name(*span), parent) << name;
    };

    // sync: the run under the exec, its steps under the run.
    ASSERT_EQ(by_name["sync run"].size(), 1u);
    const auto& run = *by_name["sync run"][0];
    EXPECT_EQ(parent_name(run), "night");
    EXPECT_EQ(run.status, nasops::SpanStatus::error);
    EXPECT_EQ(run.status_message, "exit status 74");
    EXPECT_EQ(run.attributes.at("sync.uploaded"), 4);
    EXPECT_EQ(run.attributes.at("sync.failed_attempts"), 1);
    expect_children("sync scan", "sync run", 1);
    EXPECT_EQ(by_name["sync scan"][0]->attributes.at("sync.added"), 5);
    expect_children("sync connect", "sync run", 1);
    for (const auto* connect : by_name["sync connect"]) {
        EXPECT_EQ(connect->kind, nasops::SpanKind::client);
        EXPECT_EQ(connect->status, nasops::SpanStatus::unset);
    }
    expect_children("sync batch", "sync run", 1);
    expect_children("sync verify batch", "sync run", 1);
    expect_children("sync file", "sync run", 1);
    ASSERT_EQ(by_name["sync file"].size(), 1u);
    EXPECT_EQ(by_name["sync file"][0]->attributes.at("file.path"), (src / "big.mov").string());
    EXPECT_EQ(by_name["sync file"][0]->attributes.at("sync.bytes_sent"), 600 * 1024);
    EXPECT_EQ(by_name["sync file"][0]->status, nasops::SpanStatus::unset);
    std::uint64_t batched = 0, completed = 0;
    std::vector<const nasops::SpanData*> failed_batches;
    for (const auto* b : by_name["sync batch"]) {
        batched += b->attributes.at("sync.files").get<std::uint64_t>();
        if (b->status == nasops::SpanStatus::error) failed_batches.push_back(b);
    }
    for (const auto* v : by_name["sync verify batch"]) {
        completed += v->attributes.at("sync.completed").get<std::uint64_t>();
        EXPECT_EQ(v->status, nasops::SpanStatus::unset);
    }
    EXPECT_EQ(batched, 4u);    // the three clips and the blocked one
    EXPECT_EQ(completed, 4u);  // the three clips and big.mov
    ASSERT_EQ(failed_batches.size(), 1u);
    EXPECT_NE(failed_batches[0]->status_message.find("blocked"), std::string::npos)
        << failed_batches[0]->status_message;
    EXPECT_EQ(failed_batches[0]->attributes.at("sync.failed"), 1);

    // dbmaint: the command under the exec, each step of the round under it.
    ASSERT_EQ(by_name["dbmaint daily"].size(), 1u);
    EXPECT_EQ(parent_name(*by_name["dbmaint daily"][0]), "night");
    EXPECT_EQ(by_name["dbmaint daily"][0]->status, nasops::SpanStatus::unset);
    for (const auto* step : {"step check", "step purge", "step vacuum", "step analyze", "step checkpoint",
                             "step backup", "step retention"}) {
        ASSERT_EQ(by_name[step].size(), 1u) << step;
        expect_children(step, "dbmaint daily", 1);
        EXPECT_EQ(by_name[step][0]->status, nasops::SpanStatus::unset) << step;
    }
    EXPECT_TRUE(by_name["step purge"][0]->attributes.contains("dbmaint.rows"));
    EXPECT_TRUE(by_name["step backup"][0]->attributes.at("dbmaint.bytes_after").get<std::uint64_t>() > 0);

    // capacity: the subcommand under the exec, each target measured under it; the NAS over SSH.
    ASSERT_EQ(by_name["capacity record"].size(), 1u);
    EXPECT_EQ(parent_name(*by_name["capacity record"][0]), "night");
    const auto nas_target = "measure 127.0.0.1:" + nas.remote_root().string();
    expect_children(nas_target, "capacity record", 1);
    EXPECT_EQ(by_name[nas_target][0]->kind, nasops::SpanKind::client);
    EXPECT_GT(by_name[nas_target][0]->attributes.at("capacity.total_bytes").get<std::uint64_t>(), 0u);
    expect_children("measure " + src.string(), "capacity record", 1);

    // Nothing else: every span is one of those named above.
    std::set<std::string> known{"night",
                                "sync run",
                                "sync scan",
                                "sync connect",
                                "sync batch",
                                "sync file",
                                "sync verify batch",
                                "dbmaint daily",
                                "capacity record",
                                nas_target,
                                "measure " + src.string(),
                                "measure " + (dir / "state").string()};
    for (const auto& span : spans)
        EXPECT_TRUE(known.contains(span.name) || span.name.starts_with("step ")) << span.name;
}

// A round that stops at a corrupt database: its check step is an ERROR span
// saying what is wrong, no later step has a span, and the command's span
// says the exit status exec passes on.
TEST(TraceTools, ADbmaintRoundStoppedByACorruptDatabaseIsAFailedStepAndCommand) {
    nasops::testing::TempDir dir("nasops-trace-tools");
    const auto config = dir / "nasops.toml";
    write_file(config, nasops::testing::paths_config(dir.path()));
    const auto db = dir / "state" / "nasops.db";
    fs::create_directories(db.parent_path());
    nasops::testing::make_database(db, nasops::sync::migrations(), {.completed_old = 300},
                                   std::chrono::system_clock::now());
    nasops::testing::corrupt_pages(db);

    const std::string tools = NASOPS_TOOLS_DIR;
    nasops::testing::SpawnOptions options;
    options.unset_env = {"NASOPS_CONFIG", "TRACEPARENT"};
    const auto r =
        nasops::testing::run_command({tools + "/nasops-trace", "--config", config.string(), "exec", "--",
                                      tools + "/nasops-dbmaint", "--config", config.string(), "daily", "--quiet"},
                                     {}, 120s, options);
    EXPECT_EQ(r.exit_code, 2) << r.err;  // CRITICAL, passed on by exec

    std::map<std::string, nasops::SpanData> by_name;
    for (const auto& line : nasops::testing::parse_records(read_file(dir / "log" / "traces.jsonl"))) {
        auto span = nasops::parse_span_fields(line).value();
        by_name[span.name] = std::move(span);
    }
    ASSERT_EQ(by_name.size(), 3u);  // the exec's, the command's and the check's
    ASSERT_TRUE(by_name.contains("dbmaint daily"));
    ASSERT_TRUE(by_name.contains("step check"));
    const auto& daily = by_name["dbmaint daily"];
    const auto& check = by_name["step check"];
    EXPECT_EQ(check.parent_span_id, daily.span_id);
    EXPECT_EQ(check.status, nasops::SpanStatus::error);
    EXPECT_NE(check.status_message.find(db.string()), std::string::npos) << check.status_message;
    EXPECT_EQ(check.attributes.at("dbmaint.status"), "critical");
    EXPECT_EQ(daily.status, nasops::SpanStatus::error);
    EXPECT_EQ(daily.status_message, "exit status 2");
    EXPECT_EQ(by_name["nasops-dbmaint"].status, nasops::SpanStatus::error);
}
