#pragma once

// One step of a maintenance run and how it is shown: a `maint` record
// (nasops-records(7)) per step with --format json, one line of text otherwise.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "nasops/core/error.hpp"
#include "nasops/core/output.hpp"
#include "nasops/util/clock.hpp"

namespace nasops {
class Span;
}

namespace nasops::dbmaint {

struct StepReport {
    std::string step;                // "check", "backup", ...
    ExitCode status = ExitCode::ok;  // ok, warning, critical or unknown
    std::int64_t duration_ms = 0;
    std::optional<std::uint64_t> bytes_before;
    std::optional<std::uint64_t> bytes_after;
    std::optional<std::int64_t> rows;
    std::string message;
    std::string path;  // the file written or read, when there is one
    nlohmann::json details = nlohmann::json::object();
};

// "ok", "warning", "critical", "unknown": a record's status for an outcome.
// Any sysexits code (a failed step) is "critical".
std::string_view status_name(ExitCode status) noexcept;

// The fields of the maint record for `report` (without the envelope).
nlohmann::json record_fields(const StepReport& report);

// The report of a step that failed with `error`: critical, its message.
StepReport failed_step(std::string_view step, const Error& error, std::int64_t duration_ms);

// Measures a step's duration from construction.
class StepTimer {
public:
    StepTimer() : m_start(std::chrono::steady_clock::now()) {}
    std::int64_t elapsed_ms() const;

private:
    std::chrono::steady_clock::time_point m_start;
};

// Where reports go: one maint record per report on `out` (json), or the
// text line `text` gives (text; nothing when quiet).
class Reporter {
public:
    Reporter(std::FILE* out, OutputFormat format, bool quiet, const Clock& clock);

    Result<void> report(const StepReport& report);
    // A step of a round (daily): its span, and its record in json; in text
    // the round says itself in one summary line.
    Result<void> note(const StepReport& report);
    // Under a trace, each step reported is a span `step <name>`, a child of
    // `parent` (the command's span), with its rows, bytes and status.
    void trace_under(const Span* parent) { m_trace = parent; }
    // The report of a step that returned one, and its status; for a step
    // that failed, its critical record (json only: in text, run_tool says it
    // on stderr) and then the Error.
    Result<ExitCode> emit(std::string_view step, Result<StepReport> result, const StepTimer& timer);
    // Text mode only: writes `text` as it is (a table, a summary line).
    void print_text(std::string_view text);
    bool json() const { return m_format == OutputFormat::json; }
    // The status of the step `step` as last reported in this run (a failed
    // step is critical); nullopt when it was not reported.
    std::optional<ExitCode> status_of(std::string_view step) const;
    bool quiet() const { return m_quiet; }

private:
    void trace_step(const StepReport& report) const;

    std::FILE* m_out;
    OutputFormat m_format;
    bool m_quiet;
    const Clock& m_clock;
    const Span* m_trace = nullptr;
    std::map<std::string, ExitCode, std::less<>> m_statuses;
};

}  // namespace nasops::dbmaint
