#include "step.hpp"

#include <fmt/format.h>

#include "nasops/core/log.hpp"
#include "nasops/obs/trace.hpp"
#include "nasops/record/record.hpp"

namespace nasops::dbmaint {

std::string_view status_name(ExitCode status) noexcept {
    switch (status) {
        case ExitCode::ok: return "ok";
        case ExitCode::warning: return "warning";
        case ExitCode::unknown: return "unknown";
        default: return "critical";
    }
}

nlohmann::json record_fields(const StepReport& r) {
    nlohmann::json fields = {{"step", r.step}, {"status", status_name(r.status)}, {"duration_ms", r.duration_ms}};
    if (r.bytes_before) fields["bytes_before"] = *r.bytes_before;
    if (r.bytes_after) fields["bytes_after"] = *r.bytes_after;
    if (r.rows) fields["rows"] = *r.rows;
    fields["message"] = r.message;
    if (!r.path.empty()) fields["path"] = r.path;
    if (!r.details.empty()) fields["details"] = r.details;
    return fields;
}

StepReport failed_step(std::string_view step, const Error& error, std::int64_t duration_ms) {
    return StepReport{.step = std::string(step),
                      .status = ExitCode::critical,
                      .duration_ms = duration_ms,
                      .message = error.message,
                      .details = {{"exit_code", to_int(error.code)}}};
}

std::int64_t StepTimer::elapsed_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - m_start).count();
}

Reporter::Reporter(std::FILE* out, OutputFormat format, bool quiet, const Clock& clock)
    : m_out(out), m_format(format), m_quiet(quiet), m_clock(clock) {}

// The step's span ends now and began its duration earlier (steps time
// themselves: StepTimer); a failed write of it is a warning, not the step's failure.
void Reporter::trace_step(const StepReport& r) const {
    if (m_trace == nullptr || !m_trace->active()) return;
    const auto end = m_clock.now();
    SpanData span{.name = "step " + r.step, .start = end - std::chrono::milliseconds(r.duration_ms), .end = end};
    span.attributes["dbmaint.step"] = r.step;
    span.attributes["dbmaint.status"] = status_name(r.status);
    if (r.rows) span.attributes["dbmaint.rows"] = *r.rows;
    if (r.bytes_before) span.attributes["dbmaint.bytes_before"] = *r.bytes_before;
    if (r.bytes_after) span.attributes["dbmaint.bytes_after"] = *r.bytes_after;
    if (!r.path.empty()) span.attributes["file.path"] = r.path;
    if (r.status != ExitCode::ok) {
        span.status = SpanStatus::error;
        span.status_message = r.message;
    }
    if (auto written = m_trace->record_child(std::move(span)); !written)
        logger().warning("trace span 'step {}': {}", r.step, written.error().message);
}

std::optional<ExitCode> Reporter::status_of(std::string_view step) const {
    const auto it = m_statuses.find(step);
    return it == m_statuses.end() ? std::nullopt : std::optional(it->second);
}

Result<void> Reporter::note(const StepReport& r) {
    m_statuses.insert_or_assign(r.step, r.status);
    if (m_format == OutputFormat::json) return report(r);
    trace_step(r);
    return {};
}

Result<void> Reporter::report(const StepReport& r) {
    m_statuses.insert_or_assign(r.step, r.status);
    trace_step(r);
    if (m_format == OutputFormat::json) {
        RecordWriter writer(m_out, "dbmaint", local_hostname(), m_clock);
        return writer.write(RecordKind::maint, record_fields(r));
    }
    if (m_quiet && r.status == ExitCode::ok) return {};
    print_text(fmt::format("{}: {}{}\n", r.step,
                           r.status == ExitCode::ok ? "" : fmt::format("{}: ", exit_code_name(r.status)), r.message));
    return {};
}

Result<ExitCode> Reporter::emit(std::string_view step, Result<StepReport> result, const StepTimer& timer) {
    if (!result) {
        TRY(note(failed_step(step, result.error(), timer.elapsed_ms())));
        return std::unexpected(result.error());
    }
    TRY(report(*result));
    return result->status;
}

void Reporter::print_text(std::string_view text) {
    if (m_format == OutputFormat::json) return;
    static_cast<void>(std::fwrite(text.data(), 1, text.size(), m_out));
    static_cast<void>(std::fflush(m_out));
}

}  // namespace nasops::dbmaint
