#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <set>
#include <sstream>

#include "fixtures/temp_dir.hpp"
#include "nasops/obs/trace.hpp"
#include "nasops/record/record.hpp"

using namespace nasops;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const SystemTimePoint k_t0 = std::chrono::sys_days{std::chrono::year{2026} / 11 / 22} + 4h + 16min + 40s;
constexpr std::string_view k_valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

std::vector<Record> read_records(const std::filesystem::path& file) {
    std::istringstream in(nasops::testing::read_file(file));
    RecordReader reader(in);
    std::vector<Record> out;
    while (auto item = reader.next()) {
        EXPECT_TRUE(std::holds_alternative<Record>(*item)) << std::get<ReadProblem>(*item).message;
        if (auto* r = std::get_if<Record>(&*item)) out.push_back(std::move(*r));
    }
    return out;
}

}  // namespace

TEST(TraceContextTest, ParsesAValidTraceparent) {
    const auto ctx = parse_traceparent(k_valid);
    ASSERT_TRUE(ctx);
    EXPECT_EQ(ctx->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(ctx->span_id, "00f067aa0ba902b7");
    EXPECT_EQ(ctx->flags, 1);
    EXPECT_EQ(format_traceparent(*ctx), k_valid);
    EXPECT_EQ(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")->flags, 0);
}

TEST(TraceContextTest, RefusesWhatTheSpecificationSaysToIgnore) {
    for (const char* bad : {
             "",
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",       // no flags
             "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // version ff
             "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // all-zero trace id
             "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // all-zero parent id
             "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // upper case
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // version 00 with a tail
             "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // wrong separator
             "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",    // not hex
             "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // version not hex
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z",    // flags not hex
         }) {
        EXPECT_FALSE(parse_traceparent(bad)) << bad;
    }
}

TEST(TraceContextTest, ReadsALaterVersionByItsFirstFields) {
    const auto ctx = parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-next");
    ASSERT_TRUE(ctx);
    EXPECT_EQ(ctx->span_id, "00f067aa0ba902b7");
    EXPECT_FALSE(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"));
}

TEST(TraceContextTest, NewIdsAreValidAndDistinct) {
    std::set<std::string> traces, spans;
    for (int i = 0; i < 1000; ++i) {
        const auto t = new_trace_id();
        const auto s = new_span_id();
        EXPECT_TRUE(valid_trace_id(t)) << t;
        EXPECT_TRUE(valid_span_id(s)) << s;
        traces.insert(t);
        spans.insert(s);
    }
    EXPECT_EQ(traces.size(), 1000u);
    EXPECT_EQ(spans.size(), 1000u);
}

TEST(TraceTimeTest, FormatsNanosecondsAndReadsThemBack) {
    const auto t = k_t0 + 123456789ns;
    EXPECT_EQ(rfc3339_nanos(t), "2026-11-22T04:16:40.123456789Z");
    EXPECT_EQ(parse_rfc3339(rfc3339_nanos(t)).value(), t);
}

TEST(SpanRecordTest, FieldsRoundTrip) {
    SpanData span;
    span.name = "dbmaint";
    span.trace_id = new_trace_id();
    span.span_id = new_span_id();
    span.parent_span_id = new_span_id();
    span.kind = SpanKind::client;
    span.start = k_t0;
    span.end = k_t0 + 1500ms + 7ns;
    span.status = SpanStatus::error;
    span.status_message = "exit status 1";
    span.attributes = {{"process.exit.code", 1}, {"host.role", "edge"}};
    span.events.push_back(SpanEvent{"retry", k_t0 + 1s, {{"attempt", 2}}});

    const auto fields = span_fields(span);
    EXPECT_DOUBLE_EQ(fields.at("duration_ms").get<double>(), 1500.000007);
    EXPECT_EQ(fields.at("span_kind"), "client");
    const auto back = parse_span_fields(fields).value();
    EXPECT_EQ(back.name, span.name);
    EXPECT_EQ(back.trace_id, span.trace_id);
    EXPECT_EQ(back.parent_span_id, span.parent_span_id);
    EXPECT_EQ(back.kind, SpanKind::client);
    EXPECT_EQ(back.start, span.start);
    EXPECT_EQ(back.end, span.end);
    EXPECT_EQ(back.status, SpanStatus::error);
    EXPECT_EQ(back.status_message, "exit status 1");
    EXPECT_EQ(back.attributes, span.attributes);
    ASSERT_EQ(back.events.size(), 1u);
    EXPECT_EQ(back.events[0].time, k_t0 + 1s);
    EXPECT_EQ(back.events[0].attributes.at("attempt"), 2);
}

TEST(SpanRecordTest, ARootSpanHasNoParentField) {
    SpanData span{.name = "run", .trace_id = new_trace_id(), .span_id = new_span_id(), .start = k_t0, .end = k_t0};
    const auto fields = span_fields(span);
    EXPECT_FALSE(fields.contains("parent_span_id"));
    EXPECT_FALSE(fields.contains("events"));
    EXPECT_TRUE(parse_span_fields(fields).value().parent_span_id.empty());
}

TEST(SpanRecordTest, MalformedFieldsAreNamed) {
    SpanData span{.name = "run", .trace_id = new_trace_id(), .span_id = new_span_id(), .start = k_t0, .end = k_t0};
    const auto good = span_fields(span);
    const auto error_of = [](json fields) {
        auto parsed = parse_span_fields(fields);
        EXPECT_FALSE(parsed);
        if (parsed) return std::string();
        EXPECT_EQ(parsed.error().code, ExitCode::data_error);
        return parsed.error().message;
    };
    auto f = good;
    f.erase("trace_id");
    EXPECT_NE(error_of(f).find("'trace_id' is missing"), std::string::npos);
    f = good;
    f["span_id"] = "0000000000000000";
    EXPECT_NE(error_of(f).find("'span_id'"), std::string::npos);
    f = good;
    f["start"] = "yesterday";
    EXPECT_NE(error_of(f).find("'start'"), std::string::npos);
    f = good;
    f["status"] = "bad";
    EXPECT_NE(error_of(f).find("'status'"), std::string::npos);
    f = good;
    f["end"] = rfc3339_nanos(k_t0 - 1s);
    EXPECT_NE(error_of(f).find("before 'start'"), std::string::npos);
    f = good;
    f["attributes"] = json::array();
    EXPECT_NE(error_of(f).find("'attributes'"), std::string::npos);
}

TEST(TracerTest, InactiveWithoutAValidTraceparent) {
    nasops::testing::TempDir dir;
    ManualClock clock(k_t0);
    for (const auto& env :
         {fixed_environment({}), fixed_environment({{"TRACEPARENT", "garbage"}}),
          fixed_environment({{"TRACEPARENT", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}})}) {
        const auto tracer = Tracer::from_environment("sync", dir.path(), env, clock);
        EXPECT_FALSE(tracer.active());
        Span span(tracer, "run");
        Span child(span, "scan");
        EXPECT_FALSE(span.active());
        EXPECT_FALSE(child.active());
        EXPECT_FALSE(span.context());
        span.set_attribute("files", 3);
        span.set_error("nothing");
        EXPECT_TRUE(span.end());
    }
    EXPECT_FALSE(std::filesystem::exists(dir / k_traces_file));
}

TEST(TracerTest, SpansAreChildrenOfTheInheritedContextAndOfEachOther) {
    nasops::testing::TempDir dir;
    ManualClock clock(k_t0);
    const auto tracer =
        Tracer::from_environment("sync", dir.path(), fixed_environment({{"TRACEPARENT", std::string(k_valid)}}), clock);
    ASSERT_TRUE(tracer.active());
    std::string run_id, scan_id;
    {
        Span run(tracer, "run");
        run_id = run.context()->span_id;
        EXPECT_EQ(run.context()->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        {
            Span scan(run, "scan", SpanKind::client);
            scan_id = scan.context()->span_id;
            clock.advance(250ms);
            scan.set_attribute("files", 12);
            scan.add_event("found", {{"path", "/srv/a.mp4"}});
            scan.set_error("one folder unreadable");
        }  // the destructor writes it
        clock.advance(1s);
        ASSERT_TRUE(run.end());
        EXPECT_TRUE(run.end());  // a second end writes nothing more
    }
    const auto records = read_records(dir / k_traces_file);
    ASSERT_EQ(records.size(), 2u);
    const auto scan = parse_span(records[0]).value();
    const auto run = parse_span(records[1]).value();
    EXPECT_EQ(records[0].tool, "sync");
    EXPECT_EQ(records[0].time, k_t0 + 250ms);  // ts is the end
    EXPECT_EQ(scan.name, "scan");
    EXPECT_EQ(scan.span_id, scan_id);
    EXPECT_EQ(scan.parent_span_id, run_id);
    EXPECT_EQ(scan.kind, SpanKind::client);
    EXPECT_EQ(scan.end - scan.start, 250ms);
    EXPECT_EQ(scan.status, SpanStatus::error);
    EXPECT_EQ(scan.attributes.at("files"), 12);
    ASSERT_EQ(scan.events.size(), 1u);
    EXPECT_EQ(scan.events[0].name, "found");
    EXPECT_EQ(run.parent_span_id, "00f067aa0ba902b7");
    EXPECT_EQ(run.span_id, run_id);
    EXPECT_EQ(run.end - run.start, 1250ms);
    EXPECT_EQ(run.status, SpanStatus::unset);
}

TEST(TracerTest, WithoutAParentASpanStartsANewTrace) {
    nasops::testing::TempDir dir;
    ManualClock clock(k_t0);
    const Tracer tracer(SpanSink(dir / "t.jsonl", "trace", "cam-01", clock), std::nullopt);
    Span a(tracer, "a");
    Span b(tracer, "b");
    EXPECT_TRUE(a.data().parent_span_id.empty());
    EXPECT_NE(a.context()->trace_id, b.context()->trace_id);
    Span moved(std::move(a));
    EXPECT_TRUE(moved.active());
    EXPECT_FALSE(a.active());  // NOLINT(bugprone-use-after-move): the moved-from span is inert
    ASSERT_TRUE(moved.end());
    ASSERT_TRUE(b.end());
    EXPECT_EQ(read_records(dir / "t.jsonl").size(), 2u);
}

TEST(AppendLineTest, CreatesTheFileAndAppends) {
    nasops::testing::TempDir dir;
    const auto file = dir / "x.jsonl";
    ASSERT_TRUE(append_line(file, "one\n"));
    ASSERT_TRUE(append_line(file, "two\n"));
    EXPECT_EQ(nasops::testing::read_file(file), "one\ntwo\n");
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0007, 0u);  // not readable by others
}

TEST(AppendLineTest, AFolderThatIsNotThereIsNamed) {
    nasops::testing::TempDir dir;
    const auto result = append_line(dir / "missing" / "x.jsonl", "one\n");
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ExitCode::cant_create);
    EXPECT_NE(result.error().message.find("missing/x.jsonl"), std::string::npos);
}

TEST(TracerTest, RecordsChildrenMeasuredElsewhereAndCreatesTheFolder) {
    nasops::testing::TempDir dir;
    ManualClock clock(k_t0);
    const auto file = dir / "log" / "sub" / "traces.jsonl";
    const Tracer tracer(SpanSink(file, "health", "cam-01", clock), parse_traceparent(k_valid));
    Span run(tracer, "health");
    ASSERT_TRUE(run.record_child(SpanData{.name = "check disk",
                                          .trace_id = "ignored",
                                          .start = k_t0 + 1s,
                                          .end = k_t0 + 3s,
                                          .status = SpanStatus::error,
                                          .attributes = {{"check.status", "critical"}}}));
    ASSERT_TRUE(run.end());
    const auto records = read_records(file);
    ASSERT_EQ(records.size(), 2u);
    const auto check = parse_span(records[0]).value();
    EXPECT_EQ(check.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(check.parent_span_id, run.data().span_id);
    EXPECT_TRUE(valid_span_id(check.span_id));
    EXPECT_EQ(check.end - check.start, 2s);
    EXPECT_EQ(check.attributes.at("check.status"), "critical");

    const Tracer inactive;
    Span none(inactive, "health");
    EXPECT_TRUE(none.record_child(SpanData{.name = "x"}));
}

TEST(TracerTest, ChildSpanIsEmptyWithoutAnActiveParent) {
    const Tracer inactive;
    Span none(inactive, "run");
    EXPECT_FALSE(child_span(nullptr, "batch"));
    EXPECT_FALSE(child_span(&none, "batch"));

    nasops::testing::TempDir dir;
    ManualClock clock(k_t0);
    const Tracer tracer(SpanSink(dir / "t.jsonl", "sync", "cam-01", clock), parse_traceparent(k_valid));
    Span run(tracer, "run");
    auto batch = child_span(&run, "batch", SpanKind::client);
    ASSERT_TRUE(batch);
    EXPECT_EQ(batch->data().parent_span_id, run.data().span_id);
    EXPECT_EQ(batch->data().kind, SpanKind::client);
}

// A command's span starts once its log folder is known and ends with its
// outcome: an Error, or a non-zero exit code, is an error status.
TEST(TracerTest, CommandSpanTakesItsStatusFromTheOutcome) {
    nasops::testing::TempDir dir;
    ManualClock clock(k_t0);
    const auto env = fixed_environment({{"TRACEPARENT", std::string(k_valid)}});
    {
        CommandSpan ok("dbmaint check");
        EXPECT_EQ(ok.span(), nullptr);
        ok.start("dbmaint", dir.path(), env, clock);
        ASSERT_NE(ok.span(), nullptr);
        ok.end(ExitCode::ok);
        CommandSpan warned("dbmaint daily");
        warned.start("dbmaint", dir.path(), env, clock);
        warned.end(ExitCode::warning);
        CommandSpan failed("capacity record");
        failed.start("capacity", dir.path(), env, clock);
        failed.end(fail(ExitCode::unavailable, "cannot connect to nas:22"));
        CommandSpan untraced("capacity show");
        untraced.start("capacity", dir.path(), fixed_environment({}), clock);
        EXPECT_EQ(untraced.span(), nullptr);
        untraced.end(ExitCode::ok);
        CommandSpan never_started("capacity report");
        never_started.end(fail(ExitCode::config, "bad config"));
    }
    const auto records = read_records(dir / k_traces_file);
    ASSERT_EQ(records.size(), 3u);
    const auto ok = parse_span(records[0]).value();
    const auto warned = parse_span(records[1]).value();
    const auto failed = parse_span(records[2]).value();
    EXPECT_EQ(ok.name, "dbmaint check");
    EXPECT_EQ(ok.parent_span_id, "00f067aa0ba902b7");
    EXPECT_EQ(ok.status, SpanStatus::unset);
    EXPECT_EQ(warned.status, SpanStatus::error);
    EXPECT_EQ(warned.status_message, "exit status 1");
    EXPECT_EQ(failed.status, SpanStatus::error);
    EXPECT_EQ(failed.status_message, "cannot connect to nas:22");
    EXPECT_EQ(records[2].tool, "capacity");
}
