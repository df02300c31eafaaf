#include "services/evaluation/method/poisson.h"

#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace halfsky::evaluation {
namespace {

constexpr double kEps = 1e-16;
constexpr int kMaxIterations = 10000;
constexpr double kTiny = 1e-300;

// P(a, x) by its power series; converges quickly for x < a + 1.
double GammaPSeries(double a, double x) {
  double term = 1.0 / a;
  double sum = term;
  double denom = a;
  for (int i = 0; i < kMaxIterations; ++i) {
    denom += 1.0;
    term *= x / denom;
    sum += term;
    if (std::fabs(term) < std::fabs(sum) * kEps) {
      break;
    }
  }
  return sum * std::exp(-x + a * std::log(x) - std::lgamma(a));
}

// Q(a, x) = 1 − P(a, x) by its continued fraction (modified Lentz);
// converges quickly for x >= a + 1.
double GammaQContinuedFraction(double a, double x) {
  double b = x + 1.0 - a;
  double c = 1.0 / kTiny;
  double d = 1.0 / b;
  double h = d;
  for (int i = 1; i < kMaxIterations; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::fabs(d) < kTiny) {
      d = kTiny;
    }
    c = b + an / c;
    if (std::fabs(c) < kTiny) {
      c = kTiny;
    }
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < kEps) {
      break;
    }
  }
  return std::exp(-x + a * std::log(x) - std::lgamma(a)) * h;
}

}  // namespace

double RegularizedGammaP(double a, double x) {
  if (!(a > 0) || !(x >= 0) || std::isnan(x)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (x == 0) {
    return 0;
  }
  if (std::isinf(x)) {
    return 1;
  }
  if (x < a + 1.0) {
    return GammaPSeries(a, x);
  }
  return 1.0 - GammaQContinuedFraction(a, x);
}

double InverseRegularizedGammaP(double a, double p) {
  if (!(a > 0) || !(p >= 0 && p <= 1)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (p == 0) {
    return 0;
  }
  if (p == 1) {
    return std::numeric_limits<double>::infinity();
  }
  // Bracket: P is increasing in x from 0 to 1.
  double lo = 0;
  double hi = std::max(1.0, a);
  while (RegularizedGammaP(a, hi) < p) {
    lo = hi;
    hi *= 2;
    if (std::isinf(hi)) {
      return hi;
    }
  }
  // Bisection to a tight bracket.
  for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (RegularizedGammaP(a, mid) < p) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  double x = 0.5 * (lo + hi);
  // Newton polish with the density dP/dx = x^(a−1) e^(−x) / Γ(a), staying
  // inside the bracket.
  for (int i = 0; i < 3; ++i) {
    const double density = std::exp((a - 1) * std::log(x) - x - std::lgamma(a));
    if (!(density > 0) || !std::isfinite(density)) {
      break;
    }
    const double next = x - (RegularizedGammaP(a, x) - p) / density;
    if (!(next >= lo && next <= hi)) {
      break;
    }
    x = next;
  }
  return x;
}

absl::StatusOr<PoissonInterval> GarwoodInterval(double k, double level) {
  if (!std::isfinite(k) || k < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("事件数须为非负有限数 / event count must be finite and >= 0, got %g", k));
  }
  if (!(level > 0 && level < 1)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "置信水平须在0与1之间 / confidence level must be in (0, 1), got %g", level));
  }
  const double alpha = 1 - level;
  PoissonInterval interval;
  interval.lower = k == 0 ? 0.0 : InverseRegularizedGammaP(k, alpha / 2);
  interval.upper = InverseRegularizedGammaP(k + 1, 1 - alpha / 2);
  return interval;
}

}  // namespace halfsky::evaluation
