#pragma once

// The one reader of traces files for every subcommand that reads spans (ls,
// show, summary, logs, export). It takes the fields it needs straight from
// each line's text (scan_json_object) instead of building an nlohmann object
// per record; a line that path does not take as it is (unusual escapes, a
// field of the wrong type, a bad envelope) goes through RecordReader's own
// decoding and parse_span, whose verdict and message are the reference, so
// both paths read every line alike.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "line_file.hpp"
#include "nasops/core/error.hpp"
#include "nasops/obs/trace.hpp"
#include "nasops/record/json_fast.hpp"

namespace nasops::trace {

struct TracedSpan {
    SpanData span;
    std::string tool;
    std::string host;
};

// How much of each span to build.
enum class SpanDetail {
    timing,  // ids, name, times, status: attributes are checked, not built
    full,    // everything
};

// Which spans a reader yields; the others are `filtered`.
struct SpanFilter {
    std::optional<SystemTimePoint> since;  // records stamped (ts, a span's end) at or after it
    std::string trace_id;                  // of this trace only, when not empty
};

// What one non-blank line is.
enum class LineVerdict { span, filtered, other_record, malformed };

class SpanReader {
public:
    static Result<SpanReader> open(const std::filesystem::path& path, std::uint64_t offset, LastLine last,
                                   SpanDetail detail, SpanFilter filter = {});

    // The verdict on the next non-blank line; nullopt at the end of what the
    // file holds now (a later call reads what was appended since).
    Result<std::optional<LineVerdict>> next();

    // After `span`: the span read, reused by the next line (move it out to keep it).
    TracedSpan& span() noexcept { return m_span; }
    // After `malformed`: "line N: why".
    const std::string& problem() const noexcept { return m_problem; }
    // Just after the last line read.
    std::uint64_t offset() const noexcept { return m_lines.offset(); }
    const LineFile& lines() const noexcept { return m_lines; }

private:
    SpanReader(LineFile lines, SpanDetail detail, SpanFilter filter);

    // The fast path; nullopt when it leaves the line to decode_slowly.
    std::optional<LineVerdict> decode_quickly(std::string_view line);
    // RecordReader's decoding and parse_span; nullopt for a blank line.
    std::optional<LineVerdict> decode_slowly(std::string_view line);
    bool wanted(SystemTimePoint ts, std::string_view trace_id) const;

    LineFile m_lines;
    SpanDetail m_detail;
    SpanFilter m_filter;
    TracedSpan m_span;
    std::string m_problem;
    std::vector<JsonMember> m_members;  // reused for every line
    std::vector<std::string> m_unescaped;
    nlohmann::json m_events;
};

}  // namespace nasops::trace
