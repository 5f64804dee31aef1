#pragma once

// What nasops-trace export writes for node_exporter's textfile collector when
// it ends, and with --follow after each pass (nasops_trace.prom; every family
// is in nasops-metrics(7)): the spans still waiting for the collector.

#include <SQLiteCpp/Database.h>

#include <filesystem>
#include <string>

#include "nasops/core/error.hpp"

namespace nasops::trace {

// The exposition of what `file` holds past the export position kept in `db`.
Result<std::string> export_metrics(SQLite::Database& db, const std::filesystem::path& file);

}  // namespace nasops::trace
