#pragma once

// Output conventions shared by every tool: stdout carries data only; logs,
// progress and diagnostics go to stderr; colour and progress only on a TTY,
// never with NO_COLOR or --quiet.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

#include "nasops/core/error.hpp"

namespace nasops {

enum class OutputFormat { text, json, nagios, prom };

// Parses a --format value, accepting only the formats this tool offers.
Result<OutputFormat> parse_output_format(std::string_view text, std::span<const OutputFormat> offered);
std::string_view format_name(OutputFormat format) noexcept;

enum class Quiet { no, yes };

// Whether `stream` may carry ANSI colour: a TTY, NO_COLOR unset (any value,
// even empty, disables it, as no-color.org says), TERM not "dumb", not quiet.
bool colour_enabled(std::FILE* stream, Quiet quiet);
// Whether a live progress line may be drawn on `stream` (a TTY and not quiet).
bool progress_enabled(std::FILE* stream, Quiet quiet);

// A single-line progress display on stderr, redrawn at most every 100 ms and
// cleared when it goes out of scope. Does nothing when progress is not enabled.
class ProgressLine {
public:
    ProgressLine(std::FILE* stream, bool enabled);
    ~ProgressLine();
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;

    // Counts done of total files and bytes; draws "files 3/10  1.2 GiB/4.0 GiB  55.0 MiB/s  ETA 1m05s".
    void update(std::uint64_t files_done, std::uint64_t files_total, std::uint64_t bytes_done,
                std::uint64_t bytes_total);
    void clear();

    // The text update() draws, for tests and for callers that log it instead.
    static std::string render(std::uint64_t files_done, std::uint64_t files_total, std::uint64_t bytes_done,
                              std::uint64_t bytes_total, double seconds_elapsed);

private:
    std::FILE* m_stream;
    bool m_enabled;
    bool m_drawn = false;
    std::chrono::steady_clock::time_point m_start;
    std::chrono::steady_clock::time_point m_last_draw;
};

}  // namespace nasops
