#include "regression.hpp"

#include <cmath>
#include <limits>

namespace nasops::capacity {

namespace {

// The continued fraction of the regularized incomplete beta function
// (Numerical Recipes' betacf, modified Lentz's method).
double beta_continued_fraction(double a, double b, double x) {
    constexpr int k_max_iterations = 300;
    constexpr double k_epsilon = 1e-15;
    constexpr double k_tiny = 1e-300;
    const double qab = a + b;
    const double qap = a + 1.0;
    const double qam = a - 1.0;
    double c = 1.0;
    double d = 1.0 - qab * x / qap;
    if (std::fabs(d) < k_tiny) d = k_tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= k_max_iterations; ++m) {
        const double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if (std::fabs(d) < k_tiny) d = k_tiny;
        c = 1.0 + aa / c;
        if (std::fabs(c) < k_tiny) c = k_tiny;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if (std::fabs(d) < k_tiny) d = k_tiny;
        c = 1.0 + aa / c;
        if (std::fabs(c) < k_tiny) c = k_tiny;
        d = 1.0 / d;
        const double del = d * c;
        h *= del;
        if (std::fabs(del - 1.0) < k_epsilon) break;
    }
    return h;
}

// I_x(a, b), the regularized incomplete beta function.
double incomplete_beta(double a, double b, double x) {
    if (x <= 0.0) return 0.0;
    if (x >= 1.0) return 1.0;
    const double front =
        std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
    if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_continued_fraction(a, b, x) / a;
    return 1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b;
}

double student_t_cdf(double t, double df) {
    const double tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
    return t >= 0 ? 1.0 - tail : tail;
}

}  // namespace

double student_t_quantile(double p, double df) {
    if (p == 0.5) return 0.0;
    if (p < 0.5) return -student_t_quantile(1.0 - p, df);
    // The cdf is increasing: bisect on [0, hi], hi doubled until it is past p.
    double lo = 0.0;
    double hi = 1.0;
    while (student_t_cdf(hi, df) < p && hi < 1e12) hi *= 2.0;
    for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; ++i) {
        const double mid = 0.5 * (lo + hi);
        (student_t_cdf(mid, df) < p ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}

std::optional<LinearFit> fit_line(std::span<const Point> points) {
    if (points.size() < 2) return std::nullopt;
    LinearFit fit;
    fit.n = points.size();
    const double n = static_cast<double>(fit.n);
    for (const auto& p : points) {
        fit.x_mean += p.x;
        fit.y_mean += p.y;
    }
    fit.x_mean /= n;
    fit.y_mean /= n;
    double sxy = 0;
    for (const auto& p : points) {
        const double dx = p.x - fit.x_mean;
        const double dy = p.y - fit.y_mean;
        fit.sxx += dx * dx;
        sxy += dx * dy;
        fit.ss_tot += dy * dy;
    }
    if (fit.sxx <= 0) return std::nullopt;
    fit.slope = sxy / fit.sxx;
    fit.intercept = fit.y_mean - fit.slope * fit.x_mean;
    for (const auto& p : points) {
        const double r = p.y - (fit.y_mean + fit.slope * (p.x - fit.x_mean));
        fit.ss_res += r * r;
    }
    if (fit.ss_tot > 0) fit.r2 = std::max(0.0, 1.0 - fit.ss_res / fit.ss_tot);
    if (fit.n >= 3) fit.residual_sd = std::sqrt(fit.ss_res / (n - 2.0));
    return fit;
}

std::optional<double> LinearFit::t_quantile(double confidence) const {
    if (!residual_sd) return std::nullopt;
    return student_t_quantile(0.5 + confidence / 2.0, static_cast<double>(n) - 2.0);
}

double LinearFit::prediction_half_width(double x, double t) const {
    const double dx = x - x_mean;
    return t * residual_sd.value_or(0.0) * std::sqrt(1.0 + 1.0 / static_cast<double>(n) + dx * dx / sxx);
}

std::optional<double> LinearFit::slope_t() const {
    if (!residual_sd) return std::nullopt;
    const double se = *residual_sd / std::sqrt(sxx);
    if (se == 0) {
        if (slope == 0) return 0.0;
        return slope > 0 ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
    }
    return slope / se;
}

}  // namespace nasops::capacity
