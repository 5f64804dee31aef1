#pragma once

// Events for the span a nasops-trace exec holds open, added by the commands
// it runs: `nasops-trace event` without --carrier, under the TRACEPARENT exec
// gave them. An exec's inbox is a file in the run folder named after its
// span, there only while the span is open; each event is one JSON line
// appended with one write (append_line), so that writers never interleave.
// exec takes the events when its command ends and records them in its span.

#include <filesystem>
#include <string_view>
#include <vector>

#include "nasops/core/error.hpp"
#include "nasops/obs/trace.hpp"

namespace nasops::trace {

// The inbox of span `span_id` in `run_dir`.
std::filesystem::path inbox_path(const std::filesystem::path& run_dir, std::string_view span_id);

// An open span's inbox; the file is removed with it.
class SpanInbox {
public:
    // Creates the inbox (mode 0600, never over an existing file); errors
    // (ExitCode::cant_create) name it.
    static Result<SpanInbox> create(std::filesystem::path file);
    SpanInbox(SpanInbox&& other) noexcept : m_file(std::exchange(other.m_file, {})) {}
    SpanInbox& operator=(SpanInbox&&) = delete;
    SpanInbox(const SpanInbox&) = delete;
    SpanInbox& operator=(const SpanInbox&) = delete;
    ~SpanInbox();

    // The events posted so far, in order; a line that is not an event is
    // skipped with a warning naming its line number.
    std::vector<SpanEvent> events() const;

private:
    explicit SpanInbox(std::filesystem::path file) : m_file(std::move(file)) {}
    std::filesystem::path m_file;
};

// Posts `event` to the inbox of span `span_id`. ExitCode::no_input, saying
// so, when no exec on this host holds that span open.
Result<void> post_event(const std::filesystem::path& run_dir, std::string_view span_id, const SpanEvent& event);

}  // namespace nasops::trace
