#include "report.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "forecast_output.hpp"
#include "nasops/util/units.hpp"

namespace nasops::capacity {

namespace {

std::string size_text(double bytes) {
    return format_size(static_cast<std::uint64_t>(std::llround(std::max(0.0, bytes))));
}

std::string day_text(const std::optional<double>& days, std::int64_t from) {
    if (!days) return "-";
    if (*days == 0) return "now";
    return date_after(from, *days);
}

struct Row {
    std::string target, now, growth, warn, crit, full, cleanup, spark;
};

Row row_of(const TargetHistory& t, const ForecastOptions& options, const Glyphs& glyphs) {
    const auto& f = t.forecast;
    Row r;
    r.target = t.target;
    r.spark = sparkline(t.samples, f.as_of, glyphs);
    if (f.as_of == 0) {
        r.now = "-";
    } else {
        r.now = fmt::format("{:.1f}% of {}", f.used_ratio * 100, size_text(static_cast<double>(f.total)));
    }
    if (f.state == ForecastState::insufficient_data) {
        r.growth = "insufficient data";
        r.warn = r.crit = r.full = r.cleanup = "-";
        return r;
    }
    r.growth = fmt::format("{}{}/day", f.growth_per_second < 0 ? "-" : "+", size_text(std::fabs(f.growth_per_day())));
    r.warn = day_text(f.days_until_warning, f.as_of);
    r.crit = day_text(f.days_until_critical, f.as_of);
    r.full = day_text(f.days_until_full, f.as_of);
    if (f.days_until_full_low && f.days_until_full_high && *f.days_until_full > 0)
        r.full += fmt::format(" ({}{}{})", date_after(f.as_of, *f.days_until_full_low), glyphs.range_dash,
                              date_after(f.as_of, *f.days_until_full_high));
    r.cleanup = f.cleanup_needed > 0 ? size_text(f.cleanup_needed) : "none";
    (void)options;
    return r;
}

// The display width of UTF-8 text: one column per code point.
std::size_t columns(std::string_view text) {
    return static_cast<std::size_t>(std::ranges::count_if(text, [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string pad(std::string_view text, std::size_t width) {
    std::string out(text);
    const auto w = columns(text);
    if (w < width) out.append(width - w, ' ');
    return out;
}

struct Scale {
    double x0, x1, px0, px1;
    double operator()(double x) const { return px0 + (x - x0) / (x1 - x0) * (px1 - px0); }
};

std::string number(double v) {
    return fmt::format("{:.1f}", v);
}

std::string date_of(double ts) {
    return fmt::format("{:%Y-%m-%d}", std::chrono::sys_seconds{std::chrono::seconds{static_cast<std::int64_t>(ts)}});
}

// One panel of the chart, `top` pixels down the document.
std::string svg_panel(const TargetHistory& t, const ForecastOptions& options, double top) {
    constexpr double k_width = 860, k_height = 300, k_left = 90, k_right = 20, k_top = 36, k_bottom = 40;
    const auto& f = t.forecast;
    std::string out;
    out += fmt::format("<g transform=\"translate(0,{})\">\n", number(top));
    std::string title = t.target;
    if (f.days_until_full)
        title += fmt::format(" \u2014 full in {:.1f} days", *f.days_until_full);
    else if (f.state == ForecastState::not_filling)
        title += " \u2014 not filling";
    else
        title += " \u2014 insufficient data";
    out += fmt::format("<text x=\"{}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{}</text>\n", number(k_left),
                       xml_escape(title));
    if (t.samples.empty() || f.total == 0) {
        out += "<text x=\"90\" y=\"80\" font-size=\"13\">no samples</text>\n</g>\n";
        return out;
    }
    const double as_of = static_cast<double>(f.as_of);
    const double start =
        std::max(static_cast<double>(t.samples.front().ts), as_of - static_cast<double>(options.window.count()));
    const double end = as_of + static_cast<double>(options.horizon_days) * k_seconds_per_day;
    const double total = static_cast<double>(f.total);
    double ymax = total * 1.05;
    for (const auto& s : t.samples) ymax = std::max(ymax, static_cast<double>(s.used) * 1.05);
    const Scale x{start, end > start ? end : start + 1, k_left, k_width - k_right};
    const Scale y{0, ymax, k_top + (k_height - k_top - k_bottom), k_top};

    // Axes, grid and labels.
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fafafa\" stroke=\"#888\"/>\n",
                       number(k_left), number(k_top), number(k_width - k_right - k_left),
                       number(k_height - k_top - k_bottom));
    for (int i = 0; i <= 4; ++i) {
        const double v = ymax * i / 4.0;
        out += fmt::format(
            "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#e4e4e4\"/>"
            "<text x=\"{3}\" y=\"{4}\" font-size=\"11\" text-anchor=\"end\">{5}</text>\n",
            number(k_left), number(k_width - k_right), number(y(v)), number(k_left - 6), number(y(v) + 4),
            xml_escape(size_text(v)));
    }
    for (int i = 0; i <= 4; ++i) {
        const double ts = start + (end - start) * i / 4.0;
        out += fmt::format(
            "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#e4e4e4\"/>"
            "<text x=\"{0}\" y=\"{3}\" font-size=\"11\" text-anchor=\"{5}\">{4}</text>\n",
            number(x(ts)), number(k_top), number(k_height - k_bottom), number(k_height - k_bottom + 16), date_of(ts),
            i == 0   ? "start"
            : i == 4 ? "end"
                     : "middle");
    }
    // The 80%, 90% and 100% lines.
    const std::array<std::pair<double, std::string_view>, 3> levels{std::pair{options.warning_ratio, "#e0a000"},
                                                                    std::pair{options.critical_ratio, "#e05000"},
                                                                    std::pair{1.0, "#c00000"}};
    for (const auto& [ratio, colour] : levels) {
        out += fmt::format(
            "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"{3}\" stroke-dasharray=\"6 4\"/>"
            "<text x=\"{4}\" y=\"{5}\" font-size=\"11\" fill=\"{3}\" text-anchor=\"end\">{6:.0f}%</text>\n",
            number(k_left), number(k_width - k_right), number(y(ratio * total)), colour, number(k_width - k_right - 4),
            number(y(ratio * total) - 3), ratio * 100);
    }
    // The interval band and the forecast.
    if (f.fit) {
        const auto& fit = *f.fit;
        if (f.state == ForecastState::filling && fit.residual_sd) {
            std::string upper, lower;
            const double t_band = *fit.t_quantile(options.confidence);
            for (int i = 0; i <= 40; ++i) {
                const double ts = as_of + (end - as_of) * i / 40.0;
                const double hw = fit.prediction_half_width(ts, t_band);
                upper += fmt::format("{},{} ", number(x(ts)), number(y(std::min(ymax, fit.at(ts) + hw))));
                lower = fmt::format("{},{} ", number(x(ts)), number(y(std::clamp(fit.at(ts) - hw, 0.0, ymax)))) + lower;
            }
            out += fmt::format("<polygon points=\"{}{}\" fill=\"#3070c0\" fill-opacity=\"0.15\" stroke=\"none\"/>\n",
                               upper, lower);
        }
        const double fit_from = static_cast<double>(f.fit_start);
        out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#3070c0\" stroke-width=\"2\"/>\n",
                           number(x(fit_from)), number(y(std::clamp(fit.at(fit_from), 0.0, ymax))), number(x(as_of)),
                           number(y(std::clamp(fit.at(as_of), 0.0, ymax))));
        if (f.state == ForecastState::filling) {
            out += fmt::format(
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#3070c0\" stroke-width=\"2\" "
                "stroke-dasharray=\"8 5\"/>\n",
                number(x(as_of)), number(y(std::clamp(fit.at(as_of), 0.0, ymax))), number(x(end)),
                number(y(std::clamp(fit.at(end), 0.0, ymax))));
        }
    }
    // The history.
    std::string points;
    for (const auto& s : t.samples) {
        if (static_cast<double>(s.ts) < start) continue;
        points += fmt::format("{},{} ", number(x(static_cast<double>(s.ts))), number(y(static_cast<double>(s.used))));
    }
    out += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"#202020\" stroke-width=\"1.5\"/>\n", points);
    for (const auto& r : f.resets) {
        out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"#c00000\"><title>reset {}</title></circle>\n",
                           number(x(static_cast<double>(r.ts))), number(y(static_cast<double>(r.after))),
                           date_of(static_cast<double>(r.ts)));
    }
    out += "</g>\n";
    return out;
}

}  // namespace

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default:
                // Control characters are not allowed in XML 1.0.
                if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
                    out += ' ';
                } else {
                    out += c;
                }
        }
    }
    return out;
}

std::string sparkline(std::span<const Sample> samples, std::int64_t to, const Glyphs& glyphs, int days) {
    const std::int64_t last_day = to / k_seconds_per_day;
    const std::int64_t first_day = last_day - days + 1;
    std::map<std::int64_t, std::uint64_t> per_day;
    for (const auto& s : samples) {
        const auto day = s.ts / k_seconds_per_day;
        if (day < first_day || day > last_day) continue;
        per_day[day] = s.used;  // samples are oldest first: the last of the day stays
    }
    std::string out;
    if (per_day.empty()) {
        for (int day = 0; day < days; ++day) out += glyphs.blank;
        return out;
    }
    const auto [lo_it, hi_it] = std::ranges::minmax_element(per_day, {}, [](const auto& kv) { return kv.second; });
    const double lo = static_cast<double>(lo_it->second);
    const double hi = static_cast<double>(hi_it->second);
    for (auto day = first_day; day <= last_day; ++day) {
        const auto it = per_day.find(day);
        if (it == per_day.end()) {
            out += glyphs.blank;
            continue;
        }
        std::size_t level = 3;
        if (hi > lo)
            level = static_cast<std::size_t>(std::lround((static_cast<double>(it->second) - lo) / (hi - lo) * 7.0));
        out += glyphs.level(level);
    }
    return out;
}

std::string report_text(std::span<const TargetHistory> targets, const ForecastOptions& options, const Glyphs& glyphs) {
    std::vector<Row> rows;
    rows.push_back(Row{"target", "now", "growth", fmt::format("{:.0f}%", options.warning_ratio * 100),
                       fmt::format("{:.0f}%", options.critical_ratio * 100), "full",
                       fmt::format("cleanup ({}d)", options.horizon_days), "last 30 days"});
    for (const auto& t : targets) rows.push_back(row_of(t, options, glyphs));
    std::array<std::size_t, 7> width{};
    for (const auto& r : rows) {
        const std::array cells{&r.target, &r.now, &r.growth, &r.warn, &r.crit, &r.full, &r.cleanup};
        for (std::size_t i = 0; i < cells.size(); ++i) width[i] = std::max(width[i], columns(*cells[i]));
    }
    std::string out;
    for (const auto& r : rows) {
        const std::array cells{&r.target, &r.now, &r.growth, &r.warn, &r.crit, &r.full, &r.cleanup};
        for (std::size_t i = 0; i < cells.size(); ++i) out += pad(*cells[i], width[i]) + "  ";
        out += r.spark + "\n";
    }
    for (const auto& t : targets)
        for (const auto& note : t.forecast.notes) out += fmt::format("{}: {}\n", t.target, note);
    return out;
}

std::string report_svg(std::span<const TargetHistory> targets, const ForecastOptions& options) {
    constexpr double k_panel = 310;
    const double height = std::max<double>(1, static_cast<double>(targets.size())) * k_panel;
    std::string out = fmt::format(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"860\" height=\"{0}\" viewBox=\"0 0 860 {0}\" "
        "font-family=\"sans-serif\">\n<rect width=\"860\" height=\"{0}\" fill=\"#ffffff\"/>\n",
        number(height));
    for (std::size_t i = 0; i < targets.size(); ++i)
        out += svg_panel(targets[i], options, static_cast<double>(i) * k_panel);
    out += "</svg>\n";
    return out;
}

std::string report_html(std::span<const TargetHistory> targets, const ForecastOptions& options, std::string_view host,
                        std::int64_t now) {
    std::string svg = report_svg(targets, options);
    svg.erase(0, svg.find("<svg"));  // the XML declaration does not belong inside HTML
    std::string out = fmt::format(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        "<title>Capacity of {0}</title>\n"
        "<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}"
        "td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}</style>\n"
        "</head>\n<body>\n<h1>Capacity of {0}</h1>\n<p>As of {1:%Y-%m-%d %H:%M} UTC; forecast {2} days ahead.</p>\n"
        "<table>\n<tr><th>target</th><th>now</th><th>growth</th><th>{3:.0f}%</th><th>{4:.0f}%</th><th>full</th>"
        "<th>cleanup</th><th>last 30 days</th></tr>\n",
        xml_escape(host), std::chrono::sys_seconds{std::chrono::seconds{now}}, options.horizon_days,
        options.warning_ratio * 100, options.critical_ratio * 100);
    for (const auto& t : targets) {
        const auto r = row_of(t, options, unicode_glyphs());  // the page is UTF-8
        out += "<tr>";
        for (const auto* cell : {&r.target, &r.now, &r.growth, &r.warn, &r.crit, &r.full, &r.cleanup, &r.spark})
            out += "<td>" + xml_escape(*cell) + "</td>";
        out += "</tr>\n";
    }
    out += "</table>\n<ul>\n";
    for (const auto& t : targets)
        for (const auto& note : t.forecast.notes) out += "<li>" + xml_escape(t.target + ": " + note) + "</li>\n";
    out += "</ul>\n" + svg + "</body>\n</html>\n";
    return out;
}

}  // namespace nasops::capacity
