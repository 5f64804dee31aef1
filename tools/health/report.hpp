#pragma once

// The four output formats of nasops-health. Each takes the evaluated results
// in the order the checks were given.

#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "health/check.hpp"
#include "nasops/core/error.hpp"
#include "nasops/core/glyphs.hpp"
#include "nasops/record/record.hpp"

namespace nasops::health {

// The worst status of `results` (OK when there are none).
Status overall_status(std::span<const CheckResult> results);

// One aligned line per check: symbol, status, name, target, message; the
// symbol and status in ANSI colour when `colour`. The symbols are ✓ ⚠ ✗ ? in
// unicode_glyphs(), + ! x ? in ascii_glyphs().
std::string render_text(std::span<const CheckResult> results, bool colour, const Glyphs& glyphs);

// The fields of a check record (nasops-records(7)): name, target, status,
// value, unit, warn, crit, message, duration_ms, labels, and "metrics" with
// every metric of the check. Values, warn and crit are in base units; fields
// that do not apply are left out.
nlohmann::json check_record_fields(const CheckResult& result);

// Writes one check record per result.
Result<void> write_records(RecordWriter& writer, std::span<const CheckResult> results);

// The monitoring-plugins output: a status line shorter than 80 characters,
// " | ", the perfdata of every metric ('label'=value[UOM];warn;crit;min;max, C
// locale, no exponent), then one line per check. Ends with a newline.
std::string render_nagios(std::span<const CheckResult> results);

// The status line alone (before " | "), for tests of its length.
std::string nagios_status_line(std::span<const CheckResult> results);

// Prometheus text: nasops_health_check_status and
// nasops_health_check_duration_seconds for every check, and one family per
// metric (see metric_specs()), all labelled with target and the result's labels.
Result<std::string> render_prom(std::span<const CheckResult> results);

}  // namespace nasops::health
