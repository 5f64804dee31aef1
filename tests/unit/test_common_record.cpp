#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <thread>

#include "nasops/record/record.hpp"

using namespace nasops;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const SystemTimePoint k_t0 = std::chrono::sys_days{std::chrono::year{2026} / 11 / 22} + 4h + 16min + 40s + 123ms;

// A valid record line (without "\n") whose "name" field is `name`.
std::string valid_line(std::string_view name, RecordKind kind = RecordKind::event) {
    auto line = format_record(kind, json{{"name", name}}, "health", "cam-01", k_t0).value();
    line.pop_back();
    return line;
}

// A valid record line of exactly `size` bytes, padded through a "pad" field.
std::string line_of_size(std::size_t size) {
    const auto bare = format_record(RecordKind::event, json{{"pad", ""}}, "health", "cam-01", k_t0).value();
    const std::size_t overhead = bare.size() - 1;
    return format_record(RecordKind::event, json{{"pad", std::string(size - overhead, 'x')}}, "health", "cam-01", k_t0)
        .value()
        .substr(0, size);
}

std::vector<ReadItem> read_all(RecordReader& reader) {
    std::vector<ReadItem> items;
    while (auto item = reader.next()) items.push_back(std::move(*item));
    return items;
}

std::vector<ReadItem> read_all(const std::string& input) {
    std::istringstream in(input);
    RecordReader reader(in);
    return read_all(reader);
}

const Record& as_record(const ReadItem& item) {
    if (const auto* problem = std::get_if<ReadProblem>(&item)) {
        ADD_FAILURE() << "expected a record, got: " << problem->message;
        static const Record k_empty;
        return k_empty;
    }
    return std::get<Record>(item);
}

const ReadProblem& as_problem(const ReadItem& item) {
    if (std::holds_alternative<Record>(item)) {
        ADD_FAILURE() << "expected a problem, got a record: " << std::get<Record>(item).object.dump();
        static const ReadProblem k_empty{ReadProblemKind::read_error, 0, ""};
        return k_empty;
    }
    return std::get<ReadProblem>(item);
}

// A pipe whose ends close at scope exit unless closed before.
struct Pipe {
    int read_fd = -1;
    int write_fd = -1;
    Pipe() {
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
        read_fd = fds[0];
        write_fd = fds[1];
    }
    ~Pipe() {
        close_read();
        close_write();
    }
    void close_read() {
        if (read_fd >= 0) ::close(std::exchange(read_fd, -1));
    }
    void close_write() {
        if (write_fd >= 0) ::close(std::exchange(write_fd, -1));
    }
};

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const auto n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace

TEST(RecordKind, NamesRoundTrip) {
    for (const auto kind : {RecordKind::check, RecordKind::metric, RecordKind::transfer, RecordKind::alert,
                            RecordKind::forecast, RecordKind::maint, RecordKind::span, RecordKind::event}) {
        EXPECT_EQ(parse_record_kind(record_kind_name(kind)), kind);
    }
    EXPECT_EQ(record_kind_name(RecordKind::forecast), "forecast");
    EXPECT_EQ(parse_record_kind("Check"), std::nullopt);
    EXPECT_EQ(parse_record_kind("telemetry"), std::nullopt);
    EXPECT_EQ(parse_record_kind(""), std::nullopt);
}

TEST(LocalHostname, IsNeverEmpty) {
    EXPECT_FALSE(local_hostname().empty());
}

TEST(RecordWriter, WritesEnvelopeFirstThenFieldsOnOneLine) {
    ManualClock clock(k_t0);
    std::ostringstream out;
    RecordWriter writer(out, "health", "cam-01", clock);
    ASSERT_TRUE(writer.write(RecordKind::check, json{{"name", "disk"}, {"status", "ok"}, {"value", 0.5}}));
    EXPECT_EQ(out.str(),
              "{\"v\":1,\"ts\":\"2026-11-22T04:16:40.123Z\",\"tool\":\"health\",\"host\":\"cam-01\",\"kind\":\"check\","
              "\"name\":\"disk\",\"status\":\"ok\",\"value\":0.5}\n");
}

// The audit log's event and pid join a caller's fields without a copy of
// them: the line is the one the merged object gives, a field of the same key losing.
TEST(RecordFormatter, ExtraMembersMergeInKeyOrderAndWin) {
    const json fields{{"a", 1}, {"pid", "not mine"}, {"path", "x"}, {"z", json::array({1, 2})}};
    const RawMember extra[] = {{"event", "\"E\""}, {"pid", "42"}};
    std::string line = "kept:";
    ASSERT_TRUE(RecordFormatter("sync", "cam-01").append(line, RecordKind::event, fields, k_t0, extra));
    json merged = fields;
    merged["event"] = "E";
    merged["pid"] = 42;
    EXPECT_EQ(line, "kept:" + format_record(RecordKind::event, merged, "sync", "cam-01", k_t0).value());
    EXPECT_NE(line.find(",\"a\":1,\"event\":\"E\",\"path\":\"x\",\"pid\":42,\"z\":[1,2]}\n"), std::string::npos)
        << line;

    std::string only_extra;
    ASSERT_TRUE(RecordFormatter("sync", "cam-01").append(only_extra, RecordKind::event, json::object(), k_t0, extra));
    EXPECT_TRUE(only_extra.ends_with("\"kind\":\"event\",\"event\":\"E\",\"pid\":42}\n")) << only_extra;

    std::string refused = "kept";
    EXPECT_FALSE(RecordFormatter("sync", "cam-01").append(refused, RecordKind::event, json{{"ts", 1}}, k_t0, extra));
    EXPECT_EQ(refused, "kept") << "nothing is appended on an error";
}

// Scalars are written without nlohmann's serializer: byte for byte what dump() writes.
TEST(RecordFormatter, EveryKindOfValueIsWrittenAsDumpWritesIt) {
    const json fields{{"neg", std::int64_t{-9223372036854775807} - 1},
                      {"big", std::uint64_t{18446744073709551615u}},
                      {"zero", 0},
                      {"yes", true},
                      {"no", false},
                      {"nothing", nullptr},
                      {"real", 0.1},
                      {"text", "tab\t \"quoted\" \x01 caf\xc3\xa9 bad\xff end"},
                      {"nested", {{"a", json::array({1, "x", nullptr})}}}};
    std::string line;
    ASSERT_TRUE(RecordFormatter("sync", "cam-01").append(line, RecordKind::event, fields, k_t0));
    const auto body = fields.dump(-1, ' ', false, json::error_handler_t::replace);
    EXPECT_TRUE(line.ends_with(",\"kind\":\"event\"," + body.substr(1) + "\n")) << line << "\n" << body;
}

TEST(RecordWriter, NullOrEmptyFieldsGiveTheEnvelopeAlone) {
    ManualClock clock(k_t0);
    std::ostringstream out;
    RecordWriter writer(out, "trace", "cam-01", clock);
    ASSERT_TRUE(writer.write(RecordKind::event, nullptr));
    ASSERT_TRUE(writer.write(RecordKind::event, json::object()));
    const std::string envelope =
        "{\"v\":1,\"ts\":\"2026-11-22T04:16:40.123Z\",\"tool\":\"trace\",\"host\":\"cam-01\",\"kind\":\"event\"}\n";
    EXPECT_EQ(out.str(), envelope + envelope);
}

TEST(RecordWriter, TimestampsComeFromTheClock) {
    ManualClock clock(k_t0);
    std::ostringstream out;
    RecordWriter writer(out, "sync", "cam-01", clock);
    ASSERT_TRUE(writer.write(RecordKind::event, json{{"name", "a"}}));
    clock.advance(1500ms);
    ASSERT_TRUE(writer.write(RecordKind::event, json{{"name", "b"}}));
    clock.advance(24h);
    ASSERT_TRUE(writer.write(RecordKind::event, json{{"name", "c"}}));

    const auto items = read_all(out.str());
    ASSERT_EQ(items.size(), 3u);
    EXPECT_EQ(as_record(items[0]).ts, "2026-11-22T04:16:40.123Z");
    EXPECT_EQ(as_record(items[1]).ts, "2026-11-22T04:16:41.623Z");
    EXPECT_EQ(as_record(items[2]).ts, "2026-11-23T04:16:41.623Z");
    EXPECT_EQ(as_record(items[2]).time, k_t0 + 24h + 1500ms);
}

TEST(RecordWriter, RefusesFieldsThatWouldOverrideTheEnvelope) {
    ManualClock clock(k_t0);
    std::ostringstream out;
    RecordWriter writer(out, "sync", "cam-01", clock);
    for (const char* key : {"v", "ts", "tool", "host", "kind"}) {
        auto r = writer.write(RecordKind::event, json{{"name", "x"}, {key, "forged"}});
        ASSERT_FALSE(r) << key;
        EXPECT_EQ(r.error().code, ExitCode::software);
        EXPECT_NE(r.error().message.find(std::string("'") + key + "'"), std::string::npos) << r.error().message;
    }
    auto not_object = writer.write(RecordKind::event, json::array({1, 2}));
    ASSERT_FALSE(not_object);
    EXPECT_EQ(not_object.error().code, ExitCode::software);
    EXPECT_EQ(out.str(), "") << "nothing may be written for a refused record";
}

TEST(RecordWriter, EscapesNewlinesAndReplacesInvalidUtf8) {
    ManualClock clock(k_t0);
    std::ostringstream out;
    RecordWriter writer(out, "sync", "cam-01", clock);
    ASSERT_TRUE(writer.write(RecordKind::transfer, json{{"path", "/media/bad\xff name.mp4"}, {"error", "two\nlines"}}));
    const auto text = out.str();
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
    EXPECT_EQ(text.back(), '\n');

    const auto items = read_all(text);
    ASSERT_EQ(items.size(), 1u);
    const auto& record = as_record(items[0]);
    EXPECT_EQ(record.object["path"], "/media/bad\xef\xbf\xbd name.mp4");
    EXPECT_EQ(record.object["error"], "two\nlines");
}

TEST(RecordWriter, RequiresToolAndHost) {
    ManualClock clock(k_t0);
    std::ostringstream out;
    EXPECT_THROW(RecordWriter(out, "", "cam-01", clock), Fatal);
    EXPECT_THROW(RecordWriter(out, "sync", "", clock), Fatal);
    EXPECT_FALSE(format_record(RecordKind::event, nullptr, "", "cam-01", k_t0));
}

TEST(RecordWriter, FlushesEachRecordThroughAFullyBufferedFile) {
    Pipe pipe;
    ASSERT_EQ(::fcntl(pipe.read_fd, F_SETFL, O_NONBLOCK), 0);
    std::FILE* out = ::fdopen(pipe.write_fd, "w");
    ASSERT_NE(out, nullptr);
    pipe.write_fd = -1;  // owned by `out` now
    ASSERT_EQ(std::setvbuf(out, nullptr, _IOFBF, 1 << 16), 0);
    std::fputs("earlier output\n", out);  // must come out before the record, not after

    ManualClock clock(k_t0);
    RecordWriter writer(out, "health", "cam-01", clock);
    ASSERT_TRUE(writer.write(RecordKind::check, json{{"name", "load"}}));

    std::string got(4096, '\0');
    const auto n = ::read(pipe.read_fd, got.data(), got.size());
    ASSERT_GT(n, 0) << "the record is still buffered";
    got.resize(static_cast<std::size_t>(n));
    EXPECT_EQ(got, "earlier output\n" + valid_line("load", RecordKind::check) + "\n");
    std::fclose(out);
}

TEST(RecordWriter, WritesToAFileWithoutDescriptor) {
    char* buf = nullptr;
    std::size_t size = 0;
    std::FILE* out = ::open_memstream(&buf, &size);
    ASSERT_NE(out, nullptr);
    ManualClock clock(k_t0);
    {
        RecordWriter writer(out, "health", "cam-01", clock);
        ASSERT_TRUE(writer.write(RecordKind::event, json{{"name", "x"}}));
    }
    std::fclose(out);
    const std::string text(buf, size);
    std::free(buf);
    EXPECT_EQ(text, valid_line("x") + "\n");
}

TEST(RecordWriter, AFailedWriteIsAnIoErrorNamingTheSink) {
    std::FILE* out = std::fopen("/dev/null", "r");  // its descriptor refuses writes
    ASSERT_NE(out, nullptr);
    ManualClock clock(k_t0);
    RecordWriter writer(out, "health", "cam-01", clock, "the pipe to nasops-alert");
    auto r = writer.write(RecordKind::event, json{{"name", "x"}});
    std::fclose(out);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ExitCode::io_error);
    EXPECT_NE(r.error().message.find("the pipe to nasops-alert"), std::string::npos) << r.error().message;

    std::ostringstream bad;
    bad.setstate(std::ios::badbit);
    RecordWriter stream_writer(bad, "health", "cam-01", clock);
    auto r2 = stream_writer.write(RecordKind::event, json{{"name", "x"}});
    ASSERT_FALSE(r2);
    EXPECT_EQ(r2.error().code, ExitCode::io_error);
}

TEST(RecordReader, RoundTripKeepsEnvelopeAndUnknownFields) {
    ManualClock clock(k_t0);
    std::ostringstream out;
    RecordWriter writer(out, "sync", "cam-01", clock);
    const json transfer{{"path", "/media/a.mp4"},       {"state", "completed"},
                        {"bytes", 123456789012},        {"bytes_per_second", 95.5e6},
                        {"labels", {{"job", "drone"}}}, {"future_field", {1, "two", nullptr}}};
    ASSERT_TRUE(writer.write(RecordKind::transfer, transfer));
    ASSERT_TRUE(writer.write(RecordKind::alert, json{{"alertname", "DiskFull"}, {"state", "firing"}}));
    ASSERT_TRUE(writer.write(RecordKind::span, json{{"name", "\xe6\x97\xa5\xe6\x9c\xac"}}));

    const auto items = read_all(out.str());
    ASSERT_EQ(items.size(), 3u);
    const auto& first = as_record(items[0]);
    EXPECT_EQ(first.v, 1);
    EXPECT_EQ(first.ts, "2026-11-22T04:16:40.123Z");
    EXPECT_EQ(first.time, k_t0);
    EXPECT_EQ(first.tool, "sync");
    EXPECT_EQ(first.host, "cam-01");
    EXPECT_EQ(first.kind, RecordKind::transfer);
    for (const auto& [key, value] : transfer.items()) EXPECT_EQ(first.object[key], value) << key;
    EXPECT_EQ(first.object["kind"], "transfer");
    EXPECT_EQ(as_record(items[1]).kind, RecordKind::alert);
    EXPECT_EQ(as_record(items[1]).object["alertname"], "DiskFull");
    EXPECT_EQ(as_record(items[2]).object["name"], "\xe6\x97\xa5\xe6\x9c\xac");
}

TEST(RecordReader, ReportsEachBadLineWithItsNumberAndGoesOn) {
    const std::string envelope_rest = "\"ts\":\"2026-11-22T04:16:40.123Z\",\"tool\":\"health\",\"host\":\"cam-01\"";
    const std::vector<std::string> lines{
        valid_line("first"),                                                                           // 1
        "{not json",                                                                                   // 2
        "[1,2]",                                                                                       // 3
        "{" + envelope_rest + ",\"kind\":\"event\"}",                                                  // 4 no v
        "{\"v\":2," + envelope_rest + ",\"kind\":\"event\"}",                                          // 5
        "{\"v\":\"1\"," + envelope_rest + ",\"kind\":\"event\"}",                                      // 6
        "{\"v\":1.0," + envelope_rest + ",\"kind\":\"event\"}",                                        // 7
        "{\"v\":1," + envelope_rest + ",\"kind\":\"telemetry\"}",                                      // 8
        "{\"v\":1,\"tool\":\"health\",\"host\":\"cam-01\",\"kind\":\"event\"}",                        // 9 no ts
        "{\"v\":1,\"ts\":\"yesterday\",\"tool\":\"h\",\"host\":\"c\",\"kind\":\"event\"}",             // 10
        "{\"v\":1,\"ts\":\"2026-11-22T04:16:40.123Z\",\"host\":\"c\",\"kind\":\"event\"}",             // 11 no tool
        "{\"v\":1,\"ts\":\"2026-11-22T04:16:40.123Z\",\"tool\":\"h\",\"host\":7,\"kind\":\"event\"}",  // 12
        "{\"v\":1," + envelope_rest + ",\"kind\":3}",                                                  // 13
        "",                                                                                            // 14 blank
        " \t ",                                                                                        // 15 blank
        "{\"v\":1," + envelope_rest + ",\"kind\":\"event\",\"name\":\"\xff\xfe\"}",  // 16 invalid UTF-8
        "{\"v\":1," + envelope_rest + ",\"kind\":\"event\"} trailing",               // 17
        "42",                                                                        // 18
        valid_line("last"),                                                          // 19
    };
    std::string input;
    for (const auto& line : lines) input += line + "\n";
    const auto items = read_all(input);

    struct Expected {
        std::uint64_t line;
        ReadProblemKind kind;
        std::string_view text;
    };
    const std::vector<Expected> expected{
        {2, ReadProblemKind::malformed_json, "line 2: malformed JSON: "},
        {3, ReadProblemKind::not_object, "line 3: not a JSON object but array"},
        {4, ReadProblemKind::unsupported_version, "line 4: unsupported schema version: no \"v\" field"},
        {5, ReadProblemKind::unsupported_version, "line 5: unsupported schema version: v is 2"},
        {6, ReadProblemKind::unsupported_version, "line 6: unsupported schema version: v is \"1\""},
        {7, ReadProblemKind::unsupported_version, "line 7: unsupported schema version: v is 1.0"},
        {8, ReadProblemKind::unknown_kind, "line 8: unknown kind \"telemetry\""},
        {9, ReadProblemKind::bad_envelope, "line 9: invalid envelope: no \"ts\" field"},
        {10, ReadProblemKind::bad_envelope, "line 10: invalid envelope: \"ts\": invalid timestamp 'yesterday'"},
        {11, ReadProblemKind::bad_envelope, "line 11: invalid envelope: no \"tool\" field"},
        {12, ReadProblemKind::bad_envelope, "line 12: invalid envelope: \"host\" is number, not a string"},
        {13, ReadProblemKind::bad_envelope, "line 13: invalid envelope: \"kind\" is number, not a string"},
        {16, ReadProblemKind::malformed_json, "line 16: malformed JSON: "},
        {17, ReadProblemKind::malformed_json, "line 17: malformed JSON: "},
        {18, ReadProblemKind::not_object, "line 18: not a JSON object but number"},
    };
    ASSERT_EQ(items.size(), expected.size() + 2);
    EXPECT_EQ(as_record(items.front()).object["name"], "first");
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const auto& problem = as_problem(items[i + 1]);
        EXPECT_EQ(problem.line, expected[i].line);
        EXPECT_EQ(problem.kind, expected[i].kind) << problem.message;
        EXPECT_TRUE(problem.message.starts_with(expected[i].text)) << problem.message;
    }
    EXPECT_EQ(as_record(items.back()).object["name"], "last");
}

TEST(RecordReader, MalformedJsonCarriesNlohmannsReasonWithoutRawBytes) {
    const auto items = read_all("{\"v\":1,\"name\":\"\xff\"}\n{\"a\":tru}\n");
    ASSERT_EQ(items.size(), 2u);
    const auto& utf8 = as_problem(items[0]);
    EXPECT_NE(utf8.message.find("UTF-8"), std::string::npos) << utf8.message;
    EXPECT_EQ(utf8.message.find('\xff'), std::string::npos) << "raw bytes must not reach a terminal";
    EXPECT_NE(utf8.message.find("\\xff"), std::string::npos) << utf8.message;
    const auto& literal = as_problem(items[1]);
    EXPECT_TRUE(literal.message.starts_with("line 2: malformed JSON: column ")) << literal.message;
    EXPECT_NE(literal.message.find("invalid literal"), std::string::npos) << literal.message;
}

TEST(RecordReader, TakesCrLfAndALastLineWithoutNewline) {
    const auto items = read_all(valid_line("a") + "\r\n\r\n" + valid_line("b") + "\r\n" + valid_line("c"));
    ASSERT_EQ(items.size(), 3u);
    EXPECT_EQ(as_record(items[0]).object["name"], "a");
    EXPECT_EQ(as_record(items[1]).object["name"], "b");
    EXPECT_EQ(as_record(items[2]).object["name"], "c");

    const auto cr_last = read_all(valid_line("d") + "\r");
    ASSERT_EQ(cr_last.size(), 1u);
    EXPECT_EQ(as_record(cr_last[0]).object["name"], "d");

    std::istringstream in("\n\n" + valid_line("e") + "\r\n{bad");
    RecordReader reader(in);
    const auto items2 = read_all(reader);
    ASSERT_EQ(items2.size(), 2u);
    EXPECT_EQ(as_record(items2[0]).object["name"], "e");
    EXPECT_EQ(as_problem(items2[1]).line, 4u);
    EXPECT_EQ(reader.line_number(), 4u);
}

TEST(RecordReader, EmptyAndBlankInputsYieldNothing) {
    EXPECT_TRUE(read_all("").empty());
    EXPECT_TRUE(read_all("\n\n  \n\r\n").empty());
}

TEST(RecordReader, AcceptsALineOfExactly1MiB) {
    const auto line = line_of_size(k_max_record_line);
    ASSERT_EQ(line.size(), std::size_t{1} << 20);
    for (const std::string ending : {"\n", "\r\n", ""}) {
        const auto items = read_all(line + ending + (ending.empty() ? "" : valid_line("next") + "\n"));
        ASSERT_EQ(items.size(), ending.empty() ? 1u : 2u);
        EXPECT_EQ(as_record(items[0]).object["pad"], json::parse(line)["pad"]) << "ending " << ending.size();
        if (!ending.empty()) {
            EXPECT_EQ(as_record(items[1]).object["name"], "next");
        }
    }
}

TEST(RecordReader, SkipsALineOf1MiBPlusOneAndReadsTheNext) {
    const auto too_long = line_of_size(k_max_record_line + 1);
    for (const std::string ending : {"\n", "\r\n"}) {
        const auto items = read_all(valid_line("before") + "\n" + too_long + ending + valid_line("after") + "\n");
        ASSERT_EQ(items.size(), 3u);
        EXPECT_EQ(as_record(items[0]).object["name"], "before");
        const auto& problem = as_problem(items[1]);
        EXPECT_EQ(problem.kind, ReadProblemKind::too_long);
        EXPECT_EQ(problem.line, 2u);
        EXPECT_EQ(problem.message, "line 2: longer than 1 MiB, skipped");
        EXPECT_EQ(as_record(items[2]).object["name"], "after");
    }
    // At the very end, without a newline.
    const auto last = read_all(valid_line("before") + "\n" + too_long);
    ASSERT_EQ(last.size(), 2u);
    EXPECT_EQ(as_problem(last[1]).kind, ReadProblemKind::too_long);
    EXPECT_EQ(as_problem(last[1]).line, 2u);
}

TEST(RecordReader, SkipsA5MiBLineFromAPipeWithBoundedMemory) {
    Pipe pipe;
    const std::string huge(5u << 20, 'x');
    std::thread writer([&] {
        write_all(pipe.write_fd, valid_line("before") + "\n");
        write_all(pipe.write_fd, "{\"v\":1,\"junk\":\"");
        write_all(pipe.write_fd, huge);
        write_all(pipe.write_fd, "\"}\n" + valid_line("after") + "\n" + valid_line("end"));
        pipe.close_write();
    });
    RecordReader reader(pipe.read_fd);
    const auto items = read_all(reader);
    writer.join();

    ASSERT_EQ(items.size(), 4u);
    EXPECT_EQ(as_record(items[0]).object["name"], "before");
    EXPECT_EQ(as_problem(items[1]).message, "line 2: longer than 1 MiB, skipped");
    EXPECT_EQ(as_record(items[2]).object["name"], "after");
    EXPECT_EQ(as_record(items[3]).object["name"], "end");
    EXPECT_EQ(reader.line_number(), 4u);
    EXPECT_LE(reader.buffer_capacity(), k_max_record_line + (128u << 10));
}

TEST(RecordReader, ManyLinesAcrossBufferBoundariesArriveIntact) {
    // Lines from a few bytes to 300 KiB make the reader compact and grow its buffer.
    std::string input;
    std::vector<std::size_t> sizes;
    std::size_t expected_records = 0;
    for (std::size_t i = 0; i < 20'000; ++i) {
        const std::size_t pad = i % 997 == 0 ? (i * 7919) % (300u << 10) : i % 300;
        sizes.push_back(pad);
        input += format_record(RecordKind::metric, json{{"i", i}, {"pad", std::string(pad, 'p')}}, "capacity", "cam-01",
                               k_t0)
                     .value();
        ++expected_records;
    }
    std::istringstream in(input);
    RecordReader reader(in);
    std::size_t count = 0;
    while (auto item = reader.next()) {
        const auto& record = as_record(*item);
        ASSERT_EQ(record.object["i"].get<std::size_t>(), count);
        ASSERT_EQ(record.object["pad"].get_ref<const std::string&>().size(), sizes[count]);
        ++count;
    }
    EXPECT_EQ(count, expected_records);
    EXPECT_EQ(reader.line_number(), expected_records);
}

TEST(RecordReader, YieldsARecordFromAPipeBeforeTheWriterCloses) {
    Pipe pipe;
    std::mutex mutex;
    std::condition_variable cv;
    bool first_seen = false;
    bool writer_gave_up = false;
    std::thread writer([&] {
        write_all(pipe.write_fd, valid_line("first") + "\n");
        {
            std::unique_lock lock(mutex);
            // Deadlock guard only: a reader that waits for a full buffer is
            // caught by writer_gave_up, not by this duration.
            if (!cv.wait_for(lock, 30s, [&] { return first_seen; })) writer_gave_up = true;
        }
        write_all(pipe.write_fd, valid_line("second") + "\n");
        pipe.close_write();
    });
    RecordReader reader(pipe.read_fd);
    auto first = reader.next();
    {
        std::lock_guard lock(mutex);
        first_seen = true;
    }
    cv.notify_all();
    auto second = reader.next();
    auto end = reader.next();
    writer.join();

    EXPECT_FALSE(writer_gave_up) << "the reader waited for more input before yielding a complete line";
    ASSERT_TRUE(first && second);
    EXPECT_EQ(as_record(*first).object["name"], "first");
    EXPECT_EQ(as_record(*second).object["name"], "second");
    EXPECT_FALSE(end);
}

TEST(RecordReader, ReadsAFile) {
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    const auto text = valid_line("a") + "\n" + valid_line("b") + "\n";
    ASSERT_TRUE(write_all(::fileno(f), text));
    ASSERT_EQ(::lseek(::fileno(f), 0, SEEK_SET), 0);
    RecordReader reader(f);
    const auto items = read_all(reader);
    std::fclose(f);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(as_record(items[1]).object["name"], "b");
}

TEST(RecordReader, AReadErrorIsTheLastItem) {
    const int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);  // reading it fails with EBADF
    ASSERT_GE(fd, 0);
    RecordReader reader(fd);
    auto item = reader.next();
    ASSERT_TRUE(item);
    const auto& problem = as_problem(*item);
    EXPECT_EQ(problem.kind, ReadProblemKind::read_error);
    EXPECT_NE(problem.message.find("read failed"), std::string::npos) << problem.message;
    EXPECT_FALSE(reader.next());
    ::close(fd);
}
