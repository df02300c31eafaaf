#include "services/evaluation/method/poisson.h"

#include <cmath>

#include "gtest/gtest.h"

namespace halfsky::evaluation {
namespace {

TEST(RegularizedGammaPTest, MatchesClosedForms) {
  // P(1, x) = 1 − e^(−x); P(2, x) = 1 − e^(−x)(1 + x).
  for (double x : {0.01, 0.5, 1.0, 2.0, 5.0, 20.0}) {
    EXPECT_NEAR(RegularizedGammaP(1, x), 1 - std::exp(-x), 1e-14) << x;
    EXPECT_NEAR(RegularizedGammaP(2, x), 1 - std::exp(-x) * (1 + x), 1e-14) << x;
  }
  // P(0.5, x) = erf(√x).
  for (double x : {0.1, 1.0, 3.0, 10.0}) {
    EXPECT_NEAR(RegularizedGammaP(0.5, x), std::erf(std::sqrt(x)), 1e-13) << x;
  }
  EXPECT_EQ(RegularizedGammaP(3, 0), 0);
  EXPECT_TRUE(std::isnan(RegularizedGammaP(0, 1)));
  EXPECT_TRUE(std::isnan(RegularizedGammaP(1, -1)));
}

TEST(InverseRegularizedGammaPTest, RoundTrips) {
  for (double a : {0.5, 1.0, 2.0, 4.0, 11.0, 50.5, 400.0}) {
    for (double p : {1e-6, 0.025, 0.3, 0.5, 0.975, 1 - 1e-9}) {
      const double x = InverseRegularizedGammaP(a, p);
      EXPECT_NEAR(RegularizedGammaP(a, x), p, 1e-12) << "a=" << a << " p=" << p;
    }
  }
  EXPECT_EQ(InverseRegularizedGammaP(2, 0), 0);
  EXPECT_TRUE(std::isinf(InverseRegularizedGammaP(2, 1)));
  EXPECT_TRUE(std::isnan(InverseRegularizedGammaP(2, 1.5)));
}

// Exact (Garwood) 95 % limits for a Poisson count, as published in the
// usual tables (e.g. Ulm 1990; the Poisson limits tables of public health
// observatories), to four decimals.
TEST(GarwoodIntervalTest, MatchesPublishedTable) {
  struct Row {
    double k, lower, upper;
  };
  const Row rows[] = {
      {0, 0.0, 3.6889},     {1, 0.0253, 5.5716},  {2, 0.2422, 7.2247},   {3, 0.6187, 8.7673},
      {4, 1.0899, 10.2416}, {5, 1.6235, 11.6683}, {10, 4.7954, 18.3904}, {20, 12.2165, 30.8884},
  };
  for (const Row& row : rows) {
    absl::StatusOr<PoissonInterval> ci = GarwoodInterval(row.k, 0.95);
    ASSERT_TRUE(ci.ok()) << ci.status();
    EXPECT_NEAR(ci->lower, row.lower, 5e-5) << "k=" << row.k;
    EXPECT_NEAR(ci->upper, row.upper, 5e-5) << "k=" << row.k;
  }
}

TEST(GarwoodIntervalTest, ClosedFormEnds) {
  // k = 0: upper = −ln(α/2). k = 1: lower = −ln(1 − α/2).
  EXPECT_NEAR(GarwoodInterval(0, 0.95)->upper, -std::log(0.025), 1e-11);
  EXPECT_EQ(GarwoodInterval(0, 0.95)->lower, 0);
  EXPECT_NEAR(GarwoodInterval(1, 0.95)->lower, -std::log(0.975), 1e-12);
  EXPECT_NEAR(GarwoodInterval(0, 0.90)->upper, -std::log(0.05), 1e-11);
}

TEST(GarwoodIntervalTest, RejectsBadInput) {
  EXPECT_EQ(GarwoodInterval(-1, 0.95).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GarwoodInterval(NAN, 0.95).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GarwoodInterval(3, 1.0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GarwoodInterval(3, 0).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace halfsky::evaluation
