#pragma once

// Ordinary least squares of y on x, and the Student t quantile its
// intervals need. Pure arithmetic: no I/O, no clock.

#include <cstddef>
#include <optional>
#include <span>

namespace nasops::capacity {

struct Point {
    double x = 0;
    double y = 0;
};

// y = intercept + slope * x, fitted to n points, with what the intervals of
// prediction_half_width need. Sums are taken about the means, so x may be Unix
// seconds and y bytes without losing precision.
struct LinearFit {
    double slope = 0;
    double intercept = 0;
    std::size_t n = 0;
    double x_mean = 0;
    double y_mean = 0;
    double sxx = 0;     // sum of (x - x_mean)^2
    double ss_res = 0;  // sum of squared residuals
    double ss_tot = 0;  // sum of (y - y_mean)^2
    // 1 - ss_res / ss_tot; nullopt when every y is the same (nothing to explain).
    std::optional<double> r2;
    // The residual standard deviation, sqrt(ss_res / (n - 2)); nullopt below 3 points.
    std::optional<double> residual_sd;

    double at(double x) const { return y_mean + slope * (x - x_mean); }
    // The Student t quantile of a two-sided interval at `confidence` (0.9: 90%)
    // for this fit's n - 2 degrees of freedom; nullopt below 3 points.
    std::optional<double> t_quantile(double confidence) const;
    // Half the width of the prediction interval of one new observation at x,
    // given t_quantile(confidence) (computed once: it is the costly part).
    double prediction_half_width(double x, double t) const;
    // The t statistic of the slope (slope / its standard error); nullopt below 3
    // points, +-infinity when the points lie exactly on the line.
    std::optional<double> slope_t() const;
};

// The least-squares line through `points`; nullopt for fewer than 2 points or
// when every x is the same.
std::optional<LinearFit> fit_line(std::span<const Point> points);

// The p quantile (0 < p < 1) of Student's t distribution with `df` degrees of
// freedom (df >= 1).
double student_t_quantile(double p, double df);

}  // namespace nasops::capacity
