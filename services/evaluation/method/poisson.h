#ifndef HALFSKY_SERVICES_EVALUATION_METHOD_POISSON_H_
#define HALFSKY_SERVICES_EVALUATION_METHOD_POISSON_H_

// Exact (Garwood) confidence intervals for a Poisson count, and the special
// functions behind them. Pure functions; thread-safe.

#include "absl/status/statusor.h"

namespace halfsky::evaluation {

// Regularized lower incomplete gamma function P(a, x) = γ(a, x) / Γ(a),
// for a > 0 and x >= 0 (returns NaN otherwise). Accurate to ~1e-14
// (series for x < a + 1, Lentz continued fraction for Q otherwise).
double RegularizedGammaP(double a, double x);

// The x >= 0 with P(a, x) = p, for a > 0 and 0 <= p <= 1 (NaN otherwise;
// +inf for p = 1). Found by bracketing and bisection, polished with Newton
// steps; relative accuracy ~1e-12. This is the gamma(a, 1) quantile, i.e.
// half the chi-square quantile with 2a degrees of freedom.
double InverseRegularizedGammaP(double a, double p);

// Exact two-sided interval for the mean of a Poisson count.
struct PoissonInterval {
  double lower = 0;
  double upper = 0;
};

// Garwood's exact interval for an observed count `k` (events; may be
// non-integer when counts were pooled from fractional data, the formula is
// used as is) at confidence `level` in (0, 1):
//   lower = ½·χ²(α/2; 2k)      = P⁻¹(k, α/2)        (0 when k = 0)
//   upper = ½·χ²(1−α/2; 2k+2)  = P⁻¹(k+1, 1−α/2)
// with α = 1 − level. INVALID_ARGUMENT for k < 0, non-finite k, or a level
// outside (0, 1).
absl::StatusOr<PoissonInterval> GarwoodInterval(double k, double level);

}  // namespace halfsky::evaluation

#endif  // HALFSKY_SERVICES_EVALUATION_METHOD_POISSON_H_
