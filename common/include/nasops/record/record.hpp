#pragma once

// NDJSON records, the one format every tool speaks on stdout and reads on
// stdin (documented for users in nasops-records(7)). Each line is one JSON
// object whose envelope is
//   {"v":1,"ts":"2026-11-22T04:16:40.123Z","tool":"health","host":"cam-01","kind":"check", ...}
// followed by the fields of its kind.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/util/clock.hpp"

namespace nasops {

// The schema version this code writes and the only one it reads.
inline constexpr int k_record_schema_version = 1;
// The longest line a reader accepts, in bytes, not counting "\n" or "\r\n".
inline constexpr std::size_t k_max_record_line = std::size_t{1} << 20;

enum class RecordKind { check, metric, transfer, alert, forecast, maint, span, event };

// "check", "metric", ...: the value of the "kind" field.
std::string_view record_kind_name(RecordKind kind) noexcept;
// The kind a "kind" value names; nullopt for a name this version does not know.
std::optional<RecordKind> parse_record_kind(std::string_view name) noexcept;

// The machine's host name (gethostname), or "localhost" when it has none.
std::string local_hostname();

// One record as read. The envelope is checked and copied into typed members;
// `object` keeps the whole record as it was read, envelope included, so that
// fields this version does not know pass through untouched (unless the reader
// was told to keep only some fields: RecordReader::keep_fields).
struct Record {
    int v = k_record_schema_version;
    std::string ts;        // as written, e.g. "2026-11-22T04:16:40.123Z"
    SystemTimePoint time;  // ts, parsed
    std::string tool;
    std::string host;
    RecordKind kind = RecordKind::event;
    nlohmann::json object;
};

enum class ReadProblemKind {
    malformed_json,       // not JSON, or not UTF-8
    not_object,           // JSON, but not an object
    unsupported_version,  // "v" missing or not 1
    bad_envelope,         // ts, tool, host or kind missing or of the wrong type; ts not RFC 3339
    unknown_kind,         // "kind" is a string this version does not know
    too_long,             // longer than k_max_record_line; skipped without being buffered
    read_error,           // the input failed; always the last item a reader yields
};

// A line that could not be used. Reading goes on with the next line, except
// after a read_error.
struct ReadProblem {
    ReadProblemKind kind;
    std::uint64_t line = 0;  // 1-based; blank lines count
    std::string message;     // "line 12: malformed JSON: ...", ready to print after a source name
};

using ReadItem = std::variant<Record, ReadProblem>;

// Reads NDJSON records one line at a time with large buffered reads, for
// streams of hundreds of thousands of records per second. Lines end with "\n"
// or "\r\n"; a last line without a newline is read too; blank lines (empty or
// only spaces and tabs) are skipped. Memory stays bounded: a line longer than
// k_max_record_line is reported and discarded while it is read, never held whole.
//
// Reads return whatever the input has (read(2) semantics), so a record written
// into a pipe is yielded as soon as its newline arrives, not when a buffer fills.
class RecordReader {
public:
    // Reads the descriptor with read(2); the reader does not own or close it.
    explicit RecordReader(int fd);
    // Reads the FILE's descriptor directly with read(2), bypassing its stdio
    // buffer: nothing may have been read through `in` before.
    explicit RecordReader(std::FILE* in);
    // Reads through the stream's buffer, taking what it has available each time.
    explicit RecordReader(std::istream& in);

    RecordReader(RecordReader&&) noexcept;
    RecordReader& operator=(RecordReader&&) noexcept;
    RecordReader(const RecordReader&) = delete;
    RecordReader& operator=(const RecordReader&) = delete;
    ~RecordReader();

    // The next record or problem; nullopt at the end of the input.
    std::optional<ReadItem> next();

    // From now on, Record::object holds only the envelope and the top-level
    // fields named here; the others are still checked (a malformed value is
    // still a malformed line) but not built, which saves most of the cost of
    // reading for a consumer that needs a few fields. Empty: every field.
    void keep_fields(std::vector<std::string> names);

    // The number of the last line read (0 before the first).
    std::uint64_t line_number() const noexcept { return m_line; }
    // The size of the read buffer, for tests of the memory bound: it never
    // exceeds k_max_record_line plus 128 KiB.
    std::size_t buffer_capacity() const noexcept { return m_buf.size(); }

    class Source;  // where the bytes come from: a descriptor or a stream

private:
    explicit RecordReader(std::unique_ptr<Source> source);

    // Turns one line (terminator removed) into an item; nullopt for a blank line.
    std::optional<ReadItem> decode(const char* begin, const char* end);
    // Moves pending bytes to the front and grows the buffer so that a read has room.
    void make_room();
    // One read into the free tail; false at end of input or on error.
    bool fill();

    std::unique_ptr<Source> m_source;
    std::vector<char> m_buf;
    std::size_t m_pos = 0;      // start of the unconsumed bytes
    std::size_t m_len = 0;      // end of the valid bytes
    std::size_t m_scanned = 0;  // bytes after m_pos already searched for '\n'
    std::uint64_t m_line = 0;
    bool m_skipping = false;  // discarding the rest of an over-long line
    bool m_eof = false;
    std::optional<std::string> m_read_error;
    std::vector<std::string> m_keep;  // sorted; empty: keep every field
};

// A member given as JSON text already, merged into a record's fields by key.
struct RawMember {
    std::string_view key;
    std::string_view json_text;
};

// Formats the records of one tool on one host; the envelope's tool and host
// are serialised once.
class RecordFormatter {
public:
    RecordFormatter(std::string_view tool, std::string_view host);

    // Appends the line RecordWriter::write writes for a record stamped `ts`,
    // with its trailing "\n", to `out`; on an error nothing is appended.
    // `extra` (sorted by key) joins the members of `fields` in key order and
    // wins over a field of the same key: the line is the one the merged object
    // would give, made without copying `fields` (the audit log's event and pid).
    Result<void> append(std::string& out, RecordKind kind, const nlohmann::json& fields, SystemTimePoint ts,
                        std::span<const RawMember> extra = {}) const;

private:
    std::string m_tool_host;  // ,"tool":"...","host":"..."
};

// Writes one record per line and flushes each one with a single write(2), so
// that a reader at the other end of a pipe sees it at once.
class RecordWriter {
public:
    // `out` is written through its descriptor after flushing anything stdio
    // still holds (or with fwrite+fflush when it has none, as with fmemopen).
    // `sink_name` names the output in error messages. Throws Fatal
    // (ExitCode::software) when `tool` or `host` is empty.
    RecordWriter(std::FILE* out, std::string_view tool, std::string_view host, const Clock& clock,
                 std::string sink_name = "stdout");
    RecordWriter(std::ostream& out, std::string_view tool, std::string_view host, const Clock& clock,
                 std::string sink_name = "stdout");

    // Writes {"v":1,"ts":...,"tool":...,"host":...,"kind":...} followed by the
    // members of `fields` (an object, or null for none), compact, on one line.
    // Strings that are not valid UTF-8 have the bad bytes replaced by U+FFFD.
    // A field named v, ts, tool, host or kind is refused (ExitCode::software:
    // the envelope is the writer's) and nothing is written. A failed write is
    // ExitCode::io_error naming the sink.
    Result<void> write(RecordKind kind, const nlohmann::json& fields);

private:
    RecordWriter(std::FILE* file, std::ostream* stream, std::string_view tool, std::string_view host,
                 const Clock& clock, std::string sink_name);

    std::FILE* m_file = nullptr;
    std::ostream* m_stream = nullptr;
    RecordFormatter m_formatter;
    const Clock* m_clock;
    std::string m_sink_name;
    std::string m_line;  // reused for every record
};

// The line RecordWriter::write would write for a record stamped `ts`, with its
// trailing "\n", for callers that append records to a file of their own
// (traces.jsonl, audit.log). Same checks and errors as RecordWriter::write.
Result<std::string> format_record(RecordKind kind, const nlohmann::json& fields, std::string_view tool,
                                  std::string_view host, SystemTimePoint ts);

}  // namespace nasops
