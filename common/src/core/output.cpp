#include "nasops/core/output.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "nasops/util/units.hpp"

namespace nasops {

namespace {
constexpr std::array k_all_formats{OutputFormat::text, OutputFormat::json, OutputFormat::nagios, OutputFormat::prom};
}

std::string_view format_name(OutputFormat format) noexcept {
    switch (format) {
        case OutputFormat::text: return "text";
        case OutputFormat::json: return "json";
        case OutputFormat::nagios: return "nagios";
        case OutputFormat::prom: return "prom";
    }
    return "text";
}

Result<OutputFormat> parse_output_format(std::string_view text, std::span<const OutputFormat> offered) {
    std::string names;
    for (auto f : offered) {
        if (format_name(f) == text) return f;
        names += names.empty() ? "" : ", ";
        names += format_name(f);
    }
    const bool known = std::ranges::any_of(k_all_formats, [&](auto f) { return format_name(f) == text; });
    return fail(ExitCode::usage, fmt::format("--format {}: {} (choose one of: {})", text,
                                             known ? "not offered by this tool" : "unknown format", names));
}

bool colour_enabled(std::FILE* stream, Quiet quiet) {
    if (quiet == Quiet::yes || std::getenv("NO_COLOR") != nullptr) return false;
    const char* term = std::getenv("TERM");
    if (term != nullptr && std::strcmp(term, "dumb") == 0) return false;
    return ::isatty(::fileno(stream)) == 1;
}

bool progress_enabled(std::FILE* stream, Quiet quiet) {
    return quiet == Quiet::no && ::isatty(::fileno(stream)) == 1;
}

ProgressLine::ProgressLine(std::FILE* stream, bool enabled)
    : m_stream(stream), m_enabled(enabled), m_start(std::chrono::steady_clock::now()) {}

ProgressLine::~ProgressLine() {
    clear();
}

std::string ProgressLine::render(std::uint64_t files_done, std::uint64_t files_total, std::uint64_t bytes_done,
                                 std::uint64_t bytes_total, double seconds_elapsed) {
    const double rate = seconds_elapsed > 0 ? static_cast<double>(bytes_done) / seconds_elapsed : 0.0;
    std::string eta = "--";
    if (rate > 0 && bytes_total >= bytes_done) {
        const auto remaining_ms = static_cast<long long>(static_cast<double>(bytes_total - bytes_done) / rate * 1000.0);
        eta = format_duration(Duration(remaining_ms / 1000 * 1000));
    }
    return fmt::format("files {}/{}  {}/{}  {}/s  ETA {}", files_done, files_total, format_size(bytes_done),
                       format_size(bytes_total), format_size(static_cast<std::uint64_t>(rate)), eta);
}

void ProgressLine::update(std::uint64_t files_done, std::uint64_t files_total, std::uint64_t bytes_done,
                          std::uint64_t bytes_total) {
    if (!m_enabled) return;
    const auto now = std::chrono::steady_clock::now();
    if (m_drawn && now - m_last_draw < std::chrono::milliseconds(100)) return;
    m_last_draw = now;
    const double elapsed = std::chrono::duration<double>(now - m_start).count();
    const auto line = render(files_done, files_total, bytes_done, bytes_total, elapsed);
    std::fprintf(m_stream, "\r\033[K%s", line.c_str());
    std::fflush(m_stream);
    m_drawn = true;
}

void ProgressLine::clear() {
    if (!m_enabled || !m_drawn) return;
    std::fputs("\r\033[K", m_stream);
    std::fflush(m_stream);
    m_drawn = false;
}

}  // namespace nasops
