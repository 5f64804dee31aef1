#include "export_metrics.hpp"

#include "export.hpp"
#include "nasops/obs/metrics.hpp"

namespace nasops::trace {

Result<std::string> export_metrics(SQLite::Database& db, const std::filesystem::path& file) {
    TRY_ASSIGN(const auto backlog, export_backlog(db, file));
    Exposition e;
    TRY(e.declare_one("nasops_trace_export_pending_spans", MetricType::gauge,
                      "Spans written to traces.jsonl that the OTLP collector has not accepted yet.",
                      static_cast<double>(backlog.spans)));
    TRY(e.declare_one("nasops_trace_export_pending_bytes", MetricType::gauge,
                      "Bytes of traces.jsonl past the export position.", static_cast<double>(backlog.bytes)));
    return e.text();
}

}  // namespace nasops::trace
