#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sstream>

#include "fixtures/temp_dir.hpp"
#include "nasops/obs/trace.hpp"
#include "trace/report.hpp"

using namespace nasops;
using namespace nasops::trace;
using namespace std::chrono_literals;
using std::chrono::nanoseconds;

namespace {

const SystemTimePoint k_t0 = std::chrono::sys_days{std::chrono::year{2026} / 11 / 22} + 3h + 15min;

TracedSpan make(std::string name, std::string trace, std::string id, std::string parent, nanoseconds offset,
                nanoseconds length, SpanStatus status = SpanStatus::unset, std::string tool = "trace") {
    TracedSpan s;
    s.span.name = std::move(name);
    s.span.trace_id = std::move(trace);
    s.span.span_id = std::move(id);
    s.span.parent_span_id = std::move(parent);
    s.span.start = k_t0 + offset;
    s.span.end = k_t0 + offset + length;
    s.span.status = status;
    s.tool = std::move(tool);
    s.host = "cam-01";
    return s;
}

const std::string k_trace_a(32, 'a');
const std::string k_trace_b(32, 'b');

std::vector<TracedSpan> sample() {
    return {
        make("vacuum", k_trace_a, "2222222222222222", "1111111111111111", 100ms, 300ms, SpanStatus::unset, "dbmaint"),
        make("backup", k_trace_a, "3333333333333333", "1111111111111111", 500ms, 400ms, SpanStatus::error, "dbmaint"),
        make("dbmaint", k_trace_a, "1111111111111111", "", 0ms, 1s),
        make("sync", k_trace_b, "4444444444444444", "", 2s, 2s),
    };
}

}  // namespace

TEST(TraceReportTest, PercentilesAreNearestRank) {
    std::vector<nanoseconds> v;
    for (int i = 1; i <= 100; ++i) v.push_back(nanoseconds(i));
    EXPECT_EQ(percentile(v, 0.50), nanoseconds(50));
    EXPECT_EQ(percentile(v, 0.95), nanoseconds(95));
    EXPECT_EQ(percentile(v, 0.99), nanoseconds(99));
    EXPECT_EQ(percentile(v, 1.0), nanoseconds(100));
    EXPECT_EQ(percentile({nanoseconds(7)}, 0.5), nanoseconds(7));
    EXPECT_EQ(percentile({nanoseconds(1), nanoseconds(2), nanoseconds(3)}, 0.5), nanoseconds(2));
    EXPECT_EQ(percentile({}, 0.5), nanoseconds(0));
}

TEST(TraceReportTest, ListsTracesByTheirRoot) {
    const auto rows = list_traces(sample(), {});
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].trace_id, k_trace_a);
    EXPECT_EQ(rows[0].root_name, "dbmaint");
    EXPECT_EQ(rows[0].spans, 3u);
    EXPECT_EQ(rows[0].errors, 1u);
    EXPECT_EQ(rows[0].duration, 1s);
    EXPECT_EQ(rows[1].root_name, "sync");
    EXPECT_EQ(rows[1].errors, 0u);

    EXPECT_EQ(list_traces(sample(), {.errors_only = true}).size(), 1u);
    const auto named = list_traces(sample(), {.name = "sync"});
    ASSERT_EQ(named.size(), 1u);
    EXPECT_EQ(named[0].trace_id, k_trace_b);

    const auto text = traces_text(rows);
    EXPECT_NE(text.find("dbmaint"), std::string::npos);
    EXPECT_NE(text.find("ERROR"), std::string::npos);
    std::istringstream json_lines(trace_records(rows, "cam", rows[0].start).value());
    std::string line;
    int n = 0;
    while (std::getline(json_lines, line)) {
        const auto j = nlohmann::json::parse(line);
        EXPECT_EQ(j["kind"], "event");
        EXPECT_EQ(j["name"], "trace");
        EXPECT_TRUE(j["details"].contains("duration_ms"));
        EXPECT_EQ(j["details"]["trace_id"], rows[static_cast<std::size_t>(n)].trace_id);
        ++n;
    }
    EXPECT_EQ(n, 2);
}

TEST(TraceReportTest, WaterfallIndentsChildrenAndScalesBars) {
    auto spans = sample();
    spans.pop_back();  // trace a only
    spans[1].span.status_message = "exit status 1";
    spans[1].span.attributes["process.exit.code"] = 1;
    const auto text = waterfall(spans, 100);
    std::istringstream in(text);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    ASSERT_GE(lines.size(), 6u);
    EXPECT_NE(lines[0].find(k_trace_a), std::string::npos);
    EXPECT_EQ(lines[1].rfind("dbmaint ", 0), 0u);   // the root, not indented
    EXPECT_EQ(lines[2].rfind("  vacuum ", 0), 0u);  // children in start order, indented
    EXPECT_EQ(lines[3].rfind("  backup ", 0), 0u);
    EXPECT_NE(lines[3].find("ERROR"), std::string::npos);
    EXPECT_NE(lines[4].find("status: exit status 1"), std::string::npos);
    EXPECT_NE(lines[5].find("process.exit.code = 1"), std::string::npos);
    // Bars: the root fills its bar; vacuum covers 30% starting at 10%.
    const auto bar = [](const std::string& l) { return l.substr(l.find('|') + 1, l.rfind('|') - l.find('|') - 1); };
    const auto root = bar(lines[1]);
    EXPECT_EQ(root.find_first_not_of('#'), std::string::npos);
    const auto vacuum = bar(lines[2]);
    ASSERT_EQ(vacuum.size(), root.size());
    const auto first = vacuum.find('#');
    const auto count = vacuum.find_last_of('#') - first + 1;
    EXPECT_NEAR(static_cast<double>(first) / static_cast<double>(root.size()), 0.1, 0.03);
    EXPECT_NEAR(static_cast<double>(count) / static_cast<double>(root.size()), 0.3, 0.03);
    // A wider terminal gives longer bars.
    EXPECT_GT(waterfall(spans, 160).size(), text.size());
}

TEST(TraceReportTest, SummaryIsExactPerOperation) {
    std::vector<TracedSpan> spans;
    for (int i = 1; i <= 200; ++i) {
        const auto trace = fmt::format("{:032x}", i);
        spans.push_back(make("nightly", trace, fmt::format("{:016x}", i), "", 0ms, std::chrono::milliseconds(i),
                             i % 10 == 0 ? SpanStatus::error : SpanStatus::unset));
    }
    spans.push_back(make("other", k_trace_a, "1111111111111111", "", 0ms, 5ms));
    const auto stats = summarise(spans, GroupBy::name);
    ASSERT_EQ(stats.size(), 2u);
    const auto& n = stats[0];
    EXPECT_EQ(n.key, "nightly");
    EXPECT_EQ(n.count, 200u);
    EXPECT_EQ(n.errors, 20u);
    EXPECT_EQ(n.p50, 100ms);
    EXPECT_EQ(n.p95, 190ms);
    EXPECT_EQ(n.p99, 198ms);
    EXPECT_EQ(n.max, 200ms);
    ASSERT_EQ(n.slowest.size(), 3u);
    EXPECT_EQ(n.slowest[0].first, fmt::format("{:032x}", 200));
    EXPECT_EQ(n.slowest[2].first, fmt::format("{:032x}", 198));

    const auto records = summary_records(stats, GroupBy::name, "cam-01", k_t0).value();
    std::istringstream in(records);
    std::map<std::string, double> p95;
    for (std::string line; std::getline(in, line);) {
        const auto j = nlohmann::json::parse(line);
        EXPECT_EQ(j.at("kind"), "metric");
        if (j.at("name") == "trace_span_duration_p95_seconds") p95[j.at("labels").at("span")] = j.at("value");
        if (j.at("name") == "trace_span_error_ratio" && j.at("labels").at("span") == "nightly") {
            EXPECT_DOUBLE_EQ(j.at("value").get<double>(), 0.1);
        }
    }
    EXPECT_DOUBLE_EQ(p95.at("nightly"), 0.19);
    EXPECT_DOUBLE_EQ(p95.at("other"), 0.005);

    const auto by_tool = summarise(sample(), GroupBy::tool);
    ASSERT_EQ(by_tool.size(), 2u);
    EXPECT_EQ(by_tool[0].key, "dbmaint");
    EXPECT_EQ(by_tool[0].count, 2u);
}

TEST(TraceReportTest, ReadsRotationsOldestFirstAndSkipsBadLines) {
    nasops::testing::TempDir dir;
    const auto file = dir / "traces.jsonl";
    ManualClock clock(k_t0);
    const auto write = [&](const std::filesystem::path& f, const TracedSpan& s) {
        ASSERT_TRUE(SpanSink(f, s.tool, s.host, clock).write(s.span));
    };
    auto spans = sample();
    auto rotated = file;
    rotated += ".1";
    write(rotated, spans[2]);
    write(file, spans[3]);
    nasops::testing::write_file(dir / "x", "");
    {
        std::FILE* f = std::fopen(file.c_str(), "a");
        std::fputs("not json\n", f);
        std::fclose(f);
    }
    const auto all = read_spans(file, std::nullopt).value();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].span.name, "dbmaint");
    EXPECT_EQ(all[1].span.name, "sync");
    EXPECT_EQ(all[0].tool, "trace");
    // --since keeps the spans that ended after it; a trace id keeps its own.
    EXPECT_EQ(read_spans(file, k_t0 + 3s).value().size(), 1u);
    EXPECT_EQ(read_spans(file, std::nullopt, k_trace_a).value().size(), 1u);
    EXPECT_TRUE(read_spans(dir / "missing.jsonl", std::nullopt).value().empty());
}
