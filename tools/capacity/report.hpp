#pragma once

// What a person reads on Monday morning: per target a table row (now,
// growth a day, the 80%/90%/full dates, the cleanup needed) with a
// sparkline of the last 30 days; an SVG chart (history, fitted line, forecast
// with its interval band, the 80%/90%/100% lines, the resets), and one
// self-contained HTML page holding both. No plotting library: the SVG is
// written here.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "forecast.hpp"
#include "nasops/core/glyphs.hpp"

namespace nasops::capacity {

struct TargetHistory {
    std::string target;
    std::vector<Sample> samples;  // oldest first
    Forecast forecast;
};

// One character per day of the `days` days up to `to` (Unix seconds): the
// day's last sample on the eight levels of `glyphs` (▁..█) scaled between the
// lowest and highest of them, a blank for a day without one. Flat usage is a
// row of the fourth level (▄).
std::string sparkline(std::span<const Sample> samples, std::int64_t to, const Glyphs& glyphs, int days = 30);

// The table, one row per target, and each target's notes below it.
std::string report_text(std::span<const TargetHistory> targets, const ForecastOptions& options, const Glyphs& glyphs);

// An SVG document, one panel per target.
std::string report_svg(std::span<const TargetHistory> targets, const ForecastOptions& options);

// An HTML page with the table and the SVG inline: no external scripts, styles or fonts.
std::string report_html(std::span<const TargetHistory> targets, const ForecastOptions& options, std::string_view host,
                        std::int64_t now);

// `text` with &, <, >, " and ' escaped for XML and HTML.
std::string xml_escape(std::string_view text);

}  // namespace nasops::capacity
