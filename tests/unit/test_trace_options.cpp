#include <gtest/gtest.h>

#include "fixtures/temp_dir.hpp"
#include "nasops/core/config.hpp"
#include "trace/carrier.hpp"
#include "trace/exec.hpp"
#include "trace/options.hpp"

using namespace nasops;
using namespace nasops::trace;
using namespace std::chrono_literals;

namespace {

Config no_config() {
    return load_config(ConfigSearch{.env = fixed_environment({}), .system_path = "/nonexistent/nasops.toml"}).value();
}

}  // namespace

TEST(TraceOptionsTest, ResolvesTypedValues) {
    CliOptions cli;
    cli.name = "nightly";
    cli.attributes = {"job=db", "attempt=3", "dry=false"};
    cli.kind = "client";
    cli.timeout = "90s";
    cli.kill_after = "2s";
    cli.since = "2h";
    cli.by = "tool";
    const auto s = resolve_settings(cli, no_config()).value();
    EXPECT_EQ(s.name, "nightly");
    EXPECT_EQ(s.attributes.at("job"), "db");
    EXPECT_EQ(s.attributes.at("attempt"), 3);
    EXPECT_EQ(s.attributes.at("dry"), false);
    EXPECT_EQ(s.kind, SpanKind::client);
    EXPECT_EQ(*s.timeout, 90s);
    EXPECT_EQ(s.kill_after, 2s);
    EXPECT_EQ(s.since, 2h);
    EXPECT_EQ(s.by, GroupBy::tool);
}

TEST(TraceOptionsTest, DefaultsWhenNothingIsGiven) {
    const auto s = resolve_settings(CliOptions{}, no_config()).value();
    EXPECT_FALSE(s.timeout);
    EXPECT_EQ(s.kill_after, 10s);
    EXPECT_EQ(s.since, 24h);
    EXPECT_EQ(s.kind, SpanKind::internal);
    EXPECT_TRUE(s.attributes.empty());
}

TEST(TraceOptionsTest, BadValuesNameTheirOption) {
    const auto error_of = [](CliOptions cli) {
        auto s = resolve_settings(cli, no_config());
        EXPECT_FALSE(s);
        if (s) return std::string();
        EXPECT_EQ(s.error().code, ExitCode::usage);
        return s.error().message;
    };
    CliOptions cli;
    cli.attributes = {"novalue"};
    EXPECT_EQ(error_of(cli).rfind("--attr", 0), 0u);
    cli = {};
    cli.timeout = "soon";
    EXPECT_EQ(error_of(cli).rfind("--timeout", 0), 0u);
    cli = {};
    cli.timeout = "0s";
    EXPECT_EQ(error_of(cli).rfind("--timeout", 0), 0u);
    cli = {};
    cli.kind = "sideways";
    EXPECT_EQ(error_of(cli).rfind("--kind", 0), 0u);
    cli = {};
    cli.start = "2026-11-22T04:00:00Z";
    cli.end = "2026-11-22T03:00:00Z";
    EXPECT_EQ(error_of(cli).rfind("--end", 0), 0u);
    cli = {};
    cli.start = "yesterday";
    EXPECT_EQ(error_of(cli).rfind("--start", 0), 0u);
    cli = {};
    cli.trace_id = "4BF92F3577B34DA6A3CE929D0E0E4736";
    EXPECT_EQ(error_of(cli).rfind("TRACE_ID", 0), 0u);
    cli = {};
    cli.since = "forever";
    EXPECT_EQ(error_of(cli).rfind("--since", 0), 0u);
    cli = {};
    cli.flush_interval = "2s";  // without --follow
    EXPECT_EQ(error_of(cli).rfind("--flush-interval", 0), 0u);
    cli.follow = true;
    cli.flush_interval = "0s";
    EXPECT_EQ(error_of(cli).rfind("--flush-interval", 0), 0u);
}

TEST(TraceOptionsTest, FollowTakesAFlushInterval) {
    CliOptions cli;
    cli.follow = true;
    EXPECT_EQ(resolve_settings(cli, no_config()).value().flush_interval, 5s);
    cli.flush_interval = "250ms";
    const auto s = resolve_settings(cli, no_config()).value();
    EXPECT_TRUE(s.follow);
    EXPECT_EQ(s.flush_interval, 250ms);
}

TEST(TraceCarrierTest, OpensAddsEventsAndReadsBack) {
    nasops::testing::TempDir dir;
    const auto carrier = dir / "span.json";
    const auto parent = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
    auto span = new_span("backup", SpanKind::internal, parent);
    EXPECT_EQ(span.trace_id, parent->trace_id);
    EXPECT_EQ(span.parent_span_id, parent->span_id);
    span.start = SystemTimePoint{} + 1000h;
    span.attributes["job"] = "nightly";
    ASSERT_TRUE(open_carrier(carrier, span, context_of(span, parent).flags));
    const auto again = open_carrier(carrier, span, 1);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ExitCode::cant_create);

    auto open = read_carrier(carrier).value();
    EXPECT_EQ(open.flags, 0);  // the parent's flags pass on
    EXPECT_EQ(open.span.span_id, span.span_id);
    EXPECT_EQ(open.span.start, span.start);
    EXPECT_EQ(open.span.attributes.at("job"), "nightly");
    open.span.events.push_back(SpanEvent{"copied", span.start + 1s, {{"files", 3}}});
    ASSERT_TRUE(update_carrier(carrier, open));
    EXPECT_EQ(read_carrier(carrier).value().span.events.size(), 1u);
    ASSERT_TRUE(close_carrier(carrier));
    const auto gone = read_carrier(carrier);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, ExitCode::no_input);

    nasops::testing::write_file(carrier, "[1,2]");
    EXPECT_EQ(read_carrier(carrier).error().code, ExitCode::data_error);
}

TEST(TraceCarrierTest, WithoutAParentANewTraceStarts) {
    const auto span = new_span("x", SpanKind::internal, std::nullopt);
    EXPECT_TRUE(valid_trace_id(span.trace_id));
    EXPECT_TRUE(span.parent_span_id.empty());
    EXPECT_EQ(context_of(span, std::nullopt).flags, 1);
}

TEST(TraceExecOutcomeTest, StatusAndAttributesFollowTheOutcome) {
    SpanData ok;
    describe_outcome(ok, ChildOutcome{.exit_code = 0, .pid = 42});
    EXPECT_EQ(ok.status, SpanStatus::unset);
    EXPECT_EQ(ok.attributes.at("process.exit.code"), 0);
    EXPECT_EQ(ok.attributes.at("process.pid"), 42);

    SpanData failed;
    describe_outcome(failed, ChildOutcome{.exit_code = 3, .pid = 42});
    EXPECT_EQ(failed.status, SpanStatus::error);
    EXPECT_EQ(failed.status_message, "exit status 3");
    EXPECT_EQ(exit_status_of(ChildOutcome{.exit_code = 3}), 3);

    SpanData killed;
    describe_outcome(killed, ChildOutcome{.signal = 9, .pid = 42});
    EXPECT_EQ(killed.status, SpanStatus::error);
    EXPECT_EQ(killed.attributes.at("process.signal"), "SIGKILL");
    EXPECT_EQ(exit_status_of(ChildOutcome{.signal = 9}), 137);

    SpanData timed_out;
    describe_outcome(timed_out, ChildOutcome{.signal = 15, .timed_out = true, .pid = 42});
    EXPECT_EQ(timed_out.attributes.at("nasops.timed_out"), true);
    EXPECT_NE(timed_out.status_message.find("timed out"), std::string::npos);
    EXPECT_EQ(exit_status_of(ChildOutcome{.signal = 15, .timed_out = true}), 124);

    SpanData missing;
    missing.attributes["process.executable.name"] = "nosuch";
    describe_outcome(missing, ChildOutcome{.exit_code = 127, .spawn_errno = ENOENT});
    EXPECT_EQ(missing.status, SpanStatus::error);
    EXPECT_NE(missing.status_message.find("cannot run 'nosuch'"), std::string::npos);
    EXPECT_EQ(missing.attributes.at("process.exit.code"), 127);
}

TEST(TraceExecTest, RunsAChildWithTheTraceparentAndReportsItsStatus) {
    nasops::testing::TempDir dir;
    const auto out = dir / "env.txt";
    const std::string tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const auto outcome = run_child(ChildRequest{
        .argv = {"/bin/sh", "-c", "printf %s \"$TRACEPARENT\" > \"$0\"; exit 5", out.string()}, .traceparent = tp});
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_EQ(outcome->exit_code, 5);
    EXPECT_FALSE(outcome->signal);
    EXPECT_GT(outcome->pid, 0);
    EXPECT_EQ(nasops::testing::read_file(out), tp);

    const auto missing = run_child(ChildRequest{.argv = {"nasops-no-such-command"}, .traceparent = tp});
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->exit_code, 127);
    EXPECT_EQ(missing->spawn_errno, ENOENT);

    const auto timed = run_child(ChildRequest{.argv = {"/bin/sleep", "30"},
                                              .traceparent = tp,
                                              .timeout = std::chrono::milliseconds(100),
                                              .kill_after = std::chrono::milliseconds(100)});
    ASSERT_TRUE(timed);
    EXPECT_TRUE(timed->timed_out);
    EXPECT_EQ(timed->signal, SIGTERM);
}
