// The span reader reads every line as RecordReader's decoding and parse_span
// read it (the reference, computed here line by line), whether its fast path
// takes the line or leaves it to the reference; and it reads a growing file
// from an offset, leaving a last line without its newline for later.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include "fixtures/temp_dir.hpp"
#include "nasops/obs/trace.hpp"
#include "nasops/record/record_line.hpp"
#include "trace/report.hpp"
#include "trace/span_reader.hpp"

using namespace nasops;
using namespace nasops::trace;
using nlohmann::json;

namespace {

const std::string k_trace(32, 'a');
const std::string k_head = R"({"v":1,"ts":"2026-11-22T03:15:01.000Z","tool":"dbmaint","host":"cam-01","kind":"span",)";
const std::string k_ids = R"("trace_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","span_id":"00000000000000b1",)";
const std::string k_times = R"("start":"2026-11-22T03:15:00.000000000Z","end":"2026-11-22T03:15:00.250000000Z")";

std::string span_line(std::string_view extra) {
    return k_head + k_ids + k_times + std::string(extra) + "}";
}

// What the reference makes of a line: nullopt for blank, else the verdict with the span or the problem.
struct Expected {
    LineVerdict verdict;
    std::optional<TracedSpan> span;
    std::string problem;
};

std::optional<Expected> reference(std::string_view line, std::uint64_t number, const SpanFilter& filter) {
    auto item = decode_record_line(line, number);
    if (!item) return std::nullopt;
    if (auto* p = std::get_if<ReadProblem>(&*item)) return Expected{LineVerdict::malformed, {}, p->message};
    auto& record = std::get<Record>(*item);
    if (record.kind != RecordKind::span) return Expected{LineVerdict::other_record, {}, {}};
    const auto id = record.object.find("trace_id");
    const std::string trace_id = id != record.object.end() && id->is_string() ? id->get<std::string>() : "";
    if ((filter.since && record.time < *filter.since) || (!filter.trace_id.empty() && trace_id != filter.trace_id))
        return Expected{LineVerdict::filtered, {}, {}};
    auto span = parse_span(record);
    if (!span) return Expected{LineVerdict::malformed, {}, fmt::format("line {}: {}", number, span.error().message)};
    return Expected{LineVerdict::span, TracedSpan{std::move(*span), record.tool, record.host}, {}};
}

void expect_same_span(const TracedSpan& got, const TracedSpan& want, const std::string& line) {
    EXPECT_EQ(got.tool, want.tool) << line;
    EXPECT_EQ(got.host, want.host) << line;
    EXPECT_EQ(span_fields(got.span), span_fields(want.span)) << line;
}

}  // namespace

TEST(TraceSpanReader, ReadsEveryLineAsTheReferenceDoes) {
    const std::vector<std::string> lines = {
        span_line(R"(,"name":"vacuum","status":"ok","attributes":{"seq":1,"ratio":0.5,"ok":true,"n":null})"),
        span_line(R"(,"name":"quote \" tab \t \u00e9","status_message":"line\nbreak","status":"error")"),
        span_line(R"(,"name":"first","name":"second","span_kind":"client","parent_span_id":"00000000000000a1")"),
        span_line(
            R"(,"name":"with events","events":[{"name":"e","time":"2026-11-22T03:15:00.1Z","attributes":{"k":"v"}}])"),
        span_line(R"(,"name":"bad event","events":[{"time":"2026-11-22T03:15:00.1Z"}])"),
        span_line(R"(,"name":"bad events","events":{"name":"e"})"),
        span_line(R"(,"name":7)"),
        span_line(R"(,"name":"bad kind","span_kind":"sideways")"),
        span_line(R"(,"name":"bad status","status":"meh")"),
        span_line(R"(,"name":"attrs","attributes":[1])"),
        span_line(R"(,"name":"unknown fields pass","extra":{"deep":[1,{"x":2}]})"),
        k_head + R"("name":"no ids",)" + k_times + "}",
        k_head + R"("name":"bad id","trace_id":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","span_id":"00000000000000b1",)" +
            k_times + "}",
        k_head + k_ids + R"("name":"backwards","start":"2026-11-22T03:15:01Z","end":"2026-11-22T03:15:00Z"})",
        k_head + k_ids + R"("name":"bad time","start":"yesterday","end":"2026-11-22T03:15:00Z"})",
        R"({"v":1,"ts":"2026-11-22T03:15:01.000Z","tool":"health","host":"cam-01","kind":"check","name":"disk"})",
        R"({"v":1.0,"ts":"2026-11-22T03:15:01.000Z","tool":"t","host":"h","kind":"span"})",
        R"({"v":2,"ts":"2026-11-22T03:15:01.000Z","tool":"t","host":"h","kind":"span"})",
        R"({"v":1,"ts":"2026-11-22T03:15:01.000Z","tool":"","host":"h","kind":"span"})",
        R"({"v":1,"ts":"not a time","tool":"t","host":"h","kind":"span"})",
        R"({"v":1,"ts":"2026-11-22T03:15:01.000Z","tool":"t","host":"h","kind":"nope"})",
        R"({"v":1,"ts":"2026-11-22T03:15:01.000Z","tool":"t","host":"h","k\u0069nd":"span"})",
        "not json",
        "[1,2]",
        "   ",
        "",
        span_line(R"(,"name":"crlf")") + "\r",
        "{\"v\":1,\"bad\":\"\xff\"}",
    };
    nasops::testing::TempDir dir;
    const auto file = dir / "traces.jsonl";
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    nasops::testing::write_file(file, text);

    const auto t = parse_rfc3339("2026-11-22T03:15:01Z").value();
    for (const auto& filter : {SpanFilter{}, SpanFilter{.since = t + std::chrono::seconds(1)},
                               SpanFilter{.trace_id = k_trace}, SpanFilter{.trace_id = std::string(32, 'b')}}) {
        auto reader = SpanReader::open(file, 0, LastLine::read, SpanDetail::full, filter).value();
        std::size_t spans = 0;
        for (std::size_t i = 0; i < lines.size(); ++i) {
            const auto want = reference(lines[i], i + 1, filter);
            if (!want) continue;  // blank: the reader passes over it
            const auto got = reader.next().value();
            ASSERT_TRUE(got.has_value()) << lines[i];
            ASSERT_EQ(*got, want->verdict) << lines[i];
            if (want->verdict == LineVerdict::span) {
                expect_same_span(reader.span(), *want->span, lines[i]);
                ++spans;
            }
            if (want->verdict == LineVerdict::malformed) {
                EXPECT_EQ(reader.problem(), want->problem) << lines[i];
            }
        }
        EXPECT_FALSE(reader.next().value().has_value());
        if (filter.trace_id.empty() && !filter.since) {
            EXPECT_EQ(spans, 6u);
        }
    }
}

TEST(TraceSpanReader, TimingDetailLeavesAttributesOut) {
    nasops::testing::TempDir dir;
    const auto file = dir / "traces.jsonl";
    nasops::testing::write_file(file, span_line(R"(,"name":"a","attributes":{"k":1})") + "\n");
    auto reader = SpanReader::open(file, 0, LastLine::read, SpanDetail::timing).value();
    ASSERT_EQ(reader.next().value(), LineVerdict::span);
    EXPECT_EQ(reader.span().span.name, "a");
    EXPECT_EQ(reader.span().span.attributes, json::object());
    EXPECT_EQ(reader.span().span.end - reader.span().span.start, std::chrono::milliseconds(250));
}

TEST(TraceSpanReader, ReadsFromAnOffsetAndWaitsForAnUnfinishedLine) {
    nasops::testing::TempDir dir;
    const auto file = dir / "traces.jsonl";
    const auto first = span_line(R"(,"name":"one")") + "\n";
    const auto second = span_line(R"(,"name":"two")");
    nasops::testing::write_file(file, first + second.substr(0, 40));
    auto reader = SpanReader::open(file, 0, LastLine::wait, SpanDetail::full).value();
    ASSERT_EQ(reader.next().value(), LineVerdict::span);
    EXPECT_EQ(reader.offset(), first.size());
    EXPECT_FALSE(reader.next().value().has_value());  // half a line: not yet
    nasops::testing::write_file(file, first + second + "\n");
    ASSERT_EQ(reader.next().value(), LineVerdict::span);  // the rest arrived
    EXPECT_EQ(reader.span().span.name, "two");
    EXPECT_EQ(reader.offset(), first.size() + second.size() + 1);

    auto from_offset = SpanReader::open(file, first.size(), LastLine::wait, SpanDetail::full).value();
    ASSERT_EQ(from_offset.next().value(), LineVerdict::span);
    EXPECT_EQ(from_offset.span().span.name, "two");
}

TEST(TraceSpanReader, ReadsCompressedRotationsDecompressedFromAnOffset) {
    nasops::testing::TempDir dir;
    const auto file = dir / "traces.jsonl";
    const auto one = span_line(R"(,"name":"one")") + "\n";
    const auto two = span_line(R"(,"name":"two")") + "\n";
    {
        gzFile gz = gzopen((dir / "traces.jsonl.2.gz").c_str(), "wb");
        ASSERT_NE(gz, nullptr);
        const auto text = one + two;
        ASSERT_EQ(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
        gzclose(gz);
    }
    nasops::testing::write_file(dir / "traces.jsonl.1", span_line(R"(,"name":"three")") + "\n");
    nasops::testing::write_file(file, span_line(R"(,"name":"four")") + "\n");
    EXPECT_EQ(rotations_of(file),
              (std::vector<std::filesystem::path>{dir / "traces.jsonl.1", dir / "traces.jsonl.2.gz"}));

    auto reader = SpanReader::open(dir / "traces.jsonl.2.gz", one.size(), LastLine::wait, SpanDetail::full).value();
    ASSERT_EQ(reader.next().value(), LineVerdict::span);
    EXPECT_EQ(reader.span().span.name, "two");
    EXPECT_EQ(reader.offset(), one.size() + two.size());  // in decompressed bytes
    EXPECT_FALSE(reader.next().value().has_value());

    std::vector<std::string> names;
    const auto spans = read_spans(file, std::nullopt).value();
    for (const auto& s : spans) names.push_back(s.span.name);
    EXPECT_EQ(names, (std::vector<std::string>{"one", "two", "three", "four"}));
}
