// nasops-trace as cron and shell scripts run it: the built binary wrapping
// real commands (exit codes, signals, a timeout, nested exec), and reading
// back what it recorded.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>

#include "fixtures/child_process.hpp"
#include "fixtures/temp_dir.hpp"
#include "fixtures/test_data.hpp"
#include "nasops/obs/trace.hpp"

namespace fs = std::filesystem;
using nasops::testing::CommandResult;
using nasops::testing::read_file;
using nasops::testing::write_file;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

namespace {

const std::string k_trace_bin = std::string(NASOPS_TOOLS_DIR) + "/nasops-trace";

class TraceCli : public ::testing::Test {
protected:
    void SetUp() override { write_file(m_config, nasops::testing::paths_config(m_dir.path())); }

    nasops::testing::SpawnOptions options(const std::map<std::string, std::string>& env = {}) const {
        nasops::testing::SpawnOptions o;
        o.unset_env = {"NASOPS_CONFIG", "TRACEPARENT"};
        o.env = env;
        return o;
    }

    // nasops-trace --config <ours> ARGS...
    std::vector<std::string> argv(const std::vector<std::string>& args) const {
        std::vector<std::string> out{k_trace_bin, "--config", m_config.string()};
        out.insert(out.end(), args.begin(), args.end());
        return out;
    }

    CommandResult trace(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                        const std::string& input = {}) const {
        auto r = nasops::testing::run_command(argv(args), input, 60s, options(env));
        EXPECT_FALSE(r.timed_out);
        return r;
    }

    // The spans recorded so far, in file order.
    std::vector<nasops::SpanData> spans() const {
        std::vector<nasops::SpanData> out;
        const auto file = m_dir / "log" / "traces.jsonl";
        if (!fs::exists(file)) return out;
        for (const auto& record : nasops::testing::parse_records(read_file(file))) {
            EXPECT_EQ(record.at("kind"), "span");
            auto span = nasops::parse_span_fields(record);
            EXPECT_TRUE(span) << record.dump();
            if (span) out.push_back(std::move(*span));
        }
        return out;
    }

    nasops::testing::TempDir m_dir{"nasops-trace-cli"};
    fs::path m_config = m_dir / "nasops.toml";
};

}  // namespace

TEST_F(TraceCli, ExecRecordsASuccessfulCommandAsARootSpan) {
    const auto r =
        trace({"exec", "--name", "nightly", "--attr", "job=db", "--", "/bin/sh", "-c", "echo out; echo err >&2"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "out\n");  // the command's stdout and stderr are its own
    EXPECT_EQ(r.err, "err\n");
    const auto s = spans();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].name, "nightly");
    EXPECT_TRUE(s[0].parent_span_id.empty());
    EXPECT_EQ(s[0].status, nasops::SpanStatus::unset);
    EXPECT_EQ(s[0].attributes.at("process.exit.code"), 0);
    EXPECT_EQ(s[0].attributes.at("job"), "db");
    EXPECT_EQ(s[0].attributes.at("process.executable.name"), "sh");
    EXPECT_FALSE(s[0].attributes.contains("process.command_args"));  // argv is not recorded
    EXPECT_GE(s[0].end, s[0].start);
}

// exec's start-up is the dynamic loader's work: the libraries only export
// needs (libcurl and the ~30 it pulls in, libcrypto) are loaded by export at
// run time, and the C++ ones (libstdc++, fmt, toml++) are in the binary, so
// that the loader maps none of them for exec.
TEST_F(TraceCli, ExecStartsWithoutTheLibrariesOnlyExportNeeds) {
    const auto r = trace({"--version"}, {{"LD_TRACE_LOADED_OBJECTS", "1"}});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("libc.so.6"));  // the loader did list what it maps
    for (const char* library :
         {"libcurl", "libcrypto", "libssl", "libssh2", "libstdc++", "libgcc_s", "libfmt", "libtomlplusplus"}) {
        EXPECT_THAT(r.out, ::testing::Not(HasSubstr(library))) << r.out;
    }
}

// --record-argv is the one way to have the command's words recorded, as
// OpenTelemetry's process.command_args.
TEST_F(TraceCli, ExecRecordsTheArgumentsOnlyWhenAsked) {
    const auto r = trace({"exec", "--record-argv", "--", "/bin/sh", "-c", "exit 0", "word with spaces"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto s = spans();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].attributes.at("process.command_args"),
              nlohmann::json::array({"/bin/sh", "-c", "exit 0", "word with spaces"}));
    EXPECT_EQ(s[0].attributes.at("process.executable.name"), "sh");
}

TEST_F(TraceCli, ExecPassesStdinThrough) {
    const auto r = trace({"exec", "--", "cat"}, {}, "hello\n");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "hello\n");
}

TEST_F(TraceCli, ExecExitsWithTheCommandsCodeAndMarksTheError) {
    const auto r = trace({"exec", "--", "/bin/sh", "-c", "exit 1"});
    EXPECT_EQ(r.exit_code, 1);
    const auto s = spans();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].name, "sh");  // the command's file name by default
    EXPECT_EQ(s[0].status, nasops::SpanStatus::error);
    EXPECT_EQ(s[0].status_message, "exit status 1");
    EXPECT_EQ(s[0].attributes.at("process.exit.code"), 1);
}

// A broken nasops.toml must not stop the cron job that exec wraps.
TEST_F(TraceCli, ExecRunsTheCommandWithoutASpanWhenTheConfigIsBroken) {
    write_file(m_config, nasops::testing::paths_config(m_dir.path()) + "[trace\n");
    const auto r = trace({"exec", "--", "/bin/sh", "-c", "echo ran; exit 3"});
    EXPECT_EQ(r.exit_code, 3) << r.err;  // the command's code, not 78
    EXPECT_EQ(r.out, "ran\n");
    EXPECT_THAT(r.err, HasSubstr(m_config.string()));  // the config error, with its file
    EXPECT_THAT(r.err, HasSubstr("running the command without a span"));
    EXPECT_TRUE(spans().empty());
    // The other subcommands still refuse a broken config.
    EXPECT_EQ(trace({"ls"}).exit_code, 78);
}

TEST_F(TraceCli, ExecOfACommandThatDoesNotExistIs127) {
    const auto r = trace({"exec", "--", "nasops-no-such-command"});
    EXPECT_EQ(r.exit_code, 127);
    EXPECT_THAT(r.err, HasSubstr("cannot run 'nasops-no-such-command'"));
    const auto s = spans();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].status, nasops::SpanStatus::error);
    EXPECT_EQ(s[0].attributes.at("process.exit.code"), 127);
}

TEST_F(TraceCli, ExecDiesOfTheSignalThatKilledTheCommand) {
    const auto r = trace({"exec", "--", "/bin/sh", "-c", "kill -USR1 $$"});
    EXPECT_EQ(r.exit_code, 128 + SIGUSR1);  // nasops-trace itself was ended by SIGUSR1
    const auto s = spans();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].status, nasops::SpanStatus::error);
    EXPECT_EQ(s[0].attributes.at("process.signal"), "SIGUSR1");
    EXPECT_FALSE(s[0].attributes.contains("process.exit.code"));
}

TEST_F(TraceCli, ExecTimeoutKillsACommandThatIgnoresSigterm) {
    const auto r = trace(
        {"exec", "--timeout", "300ms", "--kill-after", "300ms", "--", "/bin/sh", "-c", "trap '' TERM; exec sleep 30"});
    EXPECT_EQ(r.exit_code, 124);
    EXPECT_THAT(r.err, HasSubstr("timed out after 300ms"));
    const auto s = spans();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].status, nasops::SpanStatus::error);
    EXPECT_EQ(s[0].attributes.at("nasops.timed_out"), true);
    EXPECT_EQ(s[0].attributes.at("process.signal"), "SIGKILL");  // SIGTERM was ignored
    EXPECT_GE(s[0].end - s[0].start, 600ms);
    EXPECT_LT(s[0].end - s[0].start, 20s);
}

TEST_F(TraceCli, ExecForwardsSigtermToTheCommand) {
    nasops::testing::ChildProcess tracer(argv({"exec", "--", "sleep", "30"}), options());
    ASSERT_TRUE(nasops::testing::wait_until([&] { return !nasops::testing::descendants_of(tracer.pid()).empty(); }));
    tracer.signal(SIGTERM);
    const auto status = tracer.wait_for(20s);
    ASSERT_TRUE(status);
    EXPECT_EQ(*status, 128 + SIGTERM);
    const auto s = spans();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].attributes.at("process.signal"), "SIGTERM");
    EXPECT_LT(s[0].end - s[0].start, 20s);
}

TEST_F(TraceCli, NestedExecBuildsAThreeLevelTree) {
    const auto inner = argv({"exec", "--name", "c", "--", "/bin/sh", "-c", "printf %s \"$TRACEPARENT\""});
    auto middle = argv({"exec", "--name", "b", "--"});
    middle.insert(middle.end(), inner.begin(), inner.end());
    std::vector<std::string> outer{"exec", "--name", "a", "--"};
    outer.insert(outer.end(), middle.begin(), middle.end());
    const std::string inherited = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const auto r = trace(outer, {{"TRACEPARENT", inherited}});
    ASSERT_EQ(r.exit_code, 0) << r.err;

    const auto s = spans();
    ASSERT_EQ(s.size(), 3u);  // written as each ends: c, b, a
    const auto &c = s[0], &b = s[1], &a = s[2];
    EXPECT_EQ(a.name, "a");
    EXPECT_EQ(b.name, "b");
    EXPECT_EQ(c.name, "c");
    for (const auto& span : s) EXPECT_EQ(span.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(a.parent_span_id, "00f067aa0ba902b7");
    EXPECT_EQ(b.parent_span_id, a.span_id);
    EXPECT_EQ(c.parent_span_id, b.span_id);
    EXPECT_EQ(r.out, fmt::format("00-4bf92f3577b34da6a3ce929d0e0e4736-{}-01", c.span_id));
    EXPECT_LE(a.start, b.start);
    EXPECT_LE(b.start, c.start);
    EXPECT_GE(a.end, b.end);
    EXPECT_GE(b.end, c.end);

    // The tree as show draws it, and the trace as ls lists it.
    const auto shown = trace({"show", "4bf92f3577b34da6a3ce929d0e0e4736"});
    ASSERT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_THAT(shown.out, HasSubstr("\na "));
    EXPECT_THAT(shown.out, HasSubstr("\n  b "));
    EXPECT_THAT(shown.out, HasSubstr("\n    c "));
    const auto listed = trace({"ls", "--format", "json"});
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    const auto event = nlohmann::json::parse(listed.out);
    EXPECT_EQ(event.at("kind"), "event");
    EXPECT_EQ(event.at("name"), "trace");
    const auto& row = event.at("details");
    EXPECT_EQ(row.at("trace_id"), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(row.at("spans"), 3);
    EXPECT_EQ(row.at("name"), "a");  // its parent is not in the file: a is the root here

    // show --format json gives the trace's span records, as the tools wrote them.
    const auto records = trace({"show", "4bf92f3577b34da6a3ce929d0e0e4736", "--format", "json"});
    ASSERT_EQ(records.exit_code, 0) << records.err;
    const auto shown_spans = nasops::testing::parse_records(records.out);
    ASSERT_EQ(shown_spans.size(), 3u) << records.out;
    for (const auto& span : shown_spans) {
        EXPECT_EQ(span.at("kind"), "span");
        EXPECT_EQ(span.at("trace_id"), "4bf92f3577b34da6a3ce929d0e0e4736");
    }
}

TEST_F(TraceCli, AnInvalidTraceparentStartsANewTrace) {
    const auto r =
        trace({"exec", "--", "true"}, {{"TRACEPARENT", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
    EXPECT_EQ(r.exit_code, 0);
    const auto s = spans();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_NE(s[0].trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_TRUE(s[0].parent_span_id.empty());
}

TEST_F(TraceCli, StartEventEndWithACarrier) {
    const auto carrier = (m_dir / "backup.span").string();
    const auto started = trace({"start", "--carrier", carrier, "--name", "backup", "--attr", "job=nightly"});
    ASSERT_EQ(started.exit_code, 0) << started.err;
    const auto context = nasops::parse_traceparent(started.out.substr(0, started.out.size() - 1));
    ASSERT_TRUE(context) << started.out;
    // A command run with the printed TRACEPARENT is a child of the open span.
    ASSERT_EQ(
        trace({"exec", "--name", "copy", "--", "true"}, {{"TRACEPARENT", format_traceparent(*context)}}).exit_code, 0);
    ASSERT_EQ(trace({"event", "--carrier", carrier, "--name", "copied", "--attr", "files=3"}).exit_code, 0);
    const auto again = trace({"start", "--carrier", carrier, "--name", "backup"});
    EXPECT_EQ(again.exit_code, 73);
    EXPECT_THAT(again.err, HasSubstr("a span is open there already"));
    const auto ended = trace({"end", "--carrier", carrier, "--status", "error", "--status-message", "disk full"});
    ASSERT_EQ(ended.exit_code, 0) << ended.err;
    EXPECT_FALSE(fs::exists(carrier));
    const auto late = trace({"end", "--carrier", carrier});
    EXPECT_EQ(late.exit_code, 66);

    const auto s = spans();
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].name, "copy");
    EXPECT_EQ(s[0].parent_span_id, context->span_id);
    EXPECT_EQ(s[1].name, "backup");
    EXPECT_EQ(s[1].span_id, context->span_id);
    EXPECT_EQ(s[1].status, nasops::SpanStatus::error);
    EXPECT_EQ(s[1].status_message, "disk full");
    EXPECT_EQ(s[1].attributes.at("job"), "nightly");
    ASSERT_EQ(s[1].events.size(), 1u);
    EXPECT_EQ(s[1].events[0].name, "copied");
    EXPECT_EQ(s[1].events[0].attributes.at("files"), 3);
}

// Inside exec, `event` without --carrier adds to the span of its
// TRACEPARENT, exec's, which records it when its command ends: the events of
// a nested exec go to that exec's span. With no exec holding the span, or no
// TRACEPARENT at all, there is nothing to add to, and `event` says so.
TEST_F(TraceCli, EventWithoutACarrierGoesToTheSpanOfExec) {
    const std::string event = fmt::format("{} --config {} event", k_trace_bin, m_config.string());
    const auto script = fmt::format(
        "{0} --name copied --attr files=3 && "
        "{1} --config {2} exec --name inner -- {0} --name inner-step && "
        "{0} --name verified",
        event, k_trace_bin, m_config.string());
    const auto r = trace({"exec", "--name", "outer", "--", "/bin/sh", "-c", script});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto s = spans();
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].name, "inner");
    ASSERT_EQ(s[0].events.size(), 1u);
    EXPECT_EQ(s[0].events[0].name, "inner-step");
    EXPECT_EQ(s[1].name, "outer");
    ASSERT_EQ(s[1].events.size(), 2u);
    EXPECT_EQ(s[1].events[0].name, "copied");
    EXPECT_EQ(s[1].events[0].attributes.at("files"), 3);
    EXPECT_EQ(s[1].events[1].name, "verified");
    EXPECT_LE(s[1].start, s[1].events[0].time);
    EXPECT_LE(s[1].events[1].time, s[1].end);
    for (const auto& e : fs::directory_iterator(m_dir / "run"))
        EXPECT_FALSE(e.path().filename().string().starts_with("trace-")) << e.path() << ": an inbox left behind";

    const auto nobody =
        trace({"event", "--name", "x"}, {{"TRACEPARENT", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
    EXPECT_EQ(nobody.exit_code, 66);
    EXPECT_THAT(nobody.err, HasSubstr("no nasops-trace exec on this host holds open"));
    const auto untraced = trace({"event", "--name", "x"});
    EXPECT_EQ(untraced.exit_code, 64);
    EXPECT_THAT(untraced.err, HasSubstr("give --carrier"));
}

TEST_F(TraceCli, SpanAndSummary) {
    for (int i = 1; i <= 20; ++i) {
        const auto r = trace({"span", "--name", "upload", "--start", "2026-11-22T04:00:00Z", "--end",
                              fmt::format("2026-11-22T04:00:{:02}Z", i), "--status", i == 20 ? "error" : "ok"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    const auto summary = trace({"summary", "--since", "100000d", "--format", "json"});
    ASSERT_EQ(summary.exit_code, 0) << summary.err;
    std::map<std::string, double> values;
    for (const auto& record : nasops::testing::parse_records(summary.out)) {
        EXPECT_EQ(record.at("labels").at("span"), "upload");
        values[record.at("name")] = record.at("value");
    }
    EXPECT_EQ(values.at("trace_span_count"), 20);
    EXPECT_DOUBLE_EQ(values.at("trace_span_error_ratio"), 0.05);
    EXPECT_DOUBLE_EQ(values.at("trace_span_duration_p50_seconds"), 10);
    EXPECT_DOUBLE_EQ(values.at("trace_span_duration_p95_seconds"), 19);
    EXPECT_DOUBLE_EQ(values.at("trace_span_duration_max_seconds"), 20);
    // The default window (24h) leaves out spans of long ago.
    const auto recent = trace({"summary"});
    EXPECT_EQ(recent.exit_code, 0);
    EXPECT_EQ(recent.out, "no spans\n");
}

TEST_F(TraceCli, BadUsageIsNamed) {
    auto r = trace({"exec", "--timeout", "soon", "--", "true"});
    EXPECT_EQ(r.exit_code, 64);
    EXPECT_THAT(r.err, HasSubstr("--timeout"));
    r = trace({"show", "nothex"});
    EXPECT_EQ(r.exit_code, 64);
    r = trace({"show", "4bf92f3577b34da6a3ce929d0e0e4736"});
    EXPECT_EQ(r.exit_code, 66);
    EXPECT_THAT(r.err, HasSubstr("no spans of trace"));
    r = trace({"span", "--name", "x", "--start", "2026-11-22T04:00:00Z", "--end", "2026-11-22T03:00:00Z"});
    EXPECT_EQ(r.exit_code, 64);
    EXPECT_THAT(r.err, HasSubstr("--end"));
}
