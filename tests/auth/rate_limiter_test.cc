// RateLimiter on a FakeClock: a token bucket per principal, RetryInfo with
// the delay until the next token, principals independent, bounded memory.
#include "common/auth/rate_limiter.h"

#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace halfsky::auth {
namespace {

using ::testing::HasSubstr;

RateLimitOptions Options(double per_second, double burst, size_t max_principals = 10000) {
  RateLimitOptions o;
  o.per_second = per_second;
  o.burst = burst;
  o.max_principals = max_principals;
  return o;
}

class RateLimiterTest : public ::testing::Test {
 protected:
  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
};

TEST_F(RateLimiterTest, BurstThenRefusedWithRetryInfoThenRefilled) {
  RateLimiter limiter(Options(2, 3), &clock_);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.Admit("unit-a").ok()) << i;
  }
  absl::Status refused = limiter.Admit("unit-a");
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.message(), HasSubstr("调用过于频繁"));
  EXPECT_THAT(refused.message(), HasSubstr("too many calls"));
  EXPECT_THAT(refused.message(), HasSubstr("unit-a"));
  EXPECT_EQ(RetryDelay(refused), absl::Milliseconds(500));  // one token at 2/s
  // A refusal takes nothing: after the delay exactly one call passes.
  clock_.Advance(absl::Milliseconds(499));
  EXPECT_FALSE(limiter.Admit("unit-a").ok());
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(limiter.Admit("unit-a").ok());
  EXPECT_FALSE(limiter.Admit("unit-a").ok());
  // Idle long: the bucket refills to the burst, not beyond.
  clock_.Advance(absl::Hours(1));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.Admit("unit-a").ok()) << i;
  }
  EXPECT_FALSE(limiter.Admit("unit-a").ok());
}

TEST_F(RateLimiterTest, PrincipalsHaveTheirOwnBudget) {
  RateLimiter limiter(Options(1, 1), &clock_);
  EXPECT_TRUE(limiter.Admit("unit-a").ok());
  EXPECT_FALSE(limiter.Admit("unit-a").ok());
  EXPECT_TRUE(limiter.Admit("unit-b").ok());
  EXPECT_FALSE(limiter.Admit("unit-b").ok());
}

TEST_F(RateLimiterTest, DisabledAdmitsEverything) {
  RateLimiter limiter(Options(0, 1), &clock_);
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(limiter.Admit("unit-a").ok());
  }
  EXPECT_EQ(limiter.tracked_principals(), 0u);
}

TEST_F(RateLimiterTest, MemoryBoundedByMaxPrincipals) {
  RateLimiter limiter(Options(1, 2, 10), &clock_);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(limiter.Admit("p" + std::to_string(i)).ok());
    ASSERT_LE(limiter.tracked_principals(), 10u);
  }
  // Refilled buckets are dropped first: a busy principal keeps its state.
  EXPECT_TRUE(limiter.Admit("busy").ok());
  EXPECT_TRUE(limiter.Admit("busy").ok());
  EXPECT_FALSE(limiter.Admit("busy").ok());
  clock_.Advance(absl::Seconds(10));  // everyone else has refilled
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(limiter.Admit("q" + std::to_string(i)).ok());
  }
  EXPECT_LE(limiter.tracked_principals(), 10u);
}

TEST(RetryDelayTest, NoneWithoutPayload) {
  EXPECT_LT(RetryDelay(absl::ResourceExhaustedError("x")), absl::ZeroDuration());
  EXPECT_EQ(RetryDelay(RateLimitedError("x", absl::Milliseconds(1500))), absl::Milliseconds(1500));
}

}  // namespace
}  // namespace halfsky::auth
