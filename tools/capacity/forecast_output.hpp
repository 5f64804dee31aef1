#pragma once

// A forecast as a person reads it (text), as nasops-alert reads it (forecast
// records, nasops-records(7)) and as Prometheus reads it (base units).

#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "forecast.hpp"
#include "nasops/core/error.hpp"
#include "nasops/core/glyphs.hpp"

namespace nasops::capacity {

struct TargetForecast {
    std::string target;
    Forecast forecast;
};

// "2026-11-22" for a time `days` after the Unix time `from`.
std::string date_after(std::int64_t from, double days);

// The fields of one forecast record (after the envelope).
nlohmann::json forecast_fields(const TargetForecast& t, const ForecastOptions& options);

// The text block of one target, several lines, each ending in "\n".
std::string forecast_text(const TargetForecast& t, const ForecastOptions& options, const Glyphs& glyphs);

// nasops_capacity_seconds_until_full (+Inf when not filling; no series without
// enough data), nasops_capacity_growth_bytes_per_second,
// nasops_capacity_used_ratio, nasops_capacity_used_bytes and
// nasops_capacity_size_bytes, one series per target.
Result<std::string> forecast_exposition(std::span<const TargetForecast> forecasts);

}  // namespace nasops::capacity
