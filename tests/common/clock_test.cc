#include "common/clock/clock.h"

#include "gtest/gtest.h"

namespace halfsky {
namespace {

TEST(ClockTest, FakeClockIsSetAndAdvanced) {
  const absl::Time t0 =
      absl::FromCivil(absl::CivilSecond(2025, 12, 31, 23, 0, 0), DistrictTimeZone());
  FakeClock clock(t0);
  EXPECT_EQ(clock.Now(), t0);
  clock.Advance(absl::Hours(2));
  EXPECT_EQ(clock.Now(), t0 + absl::Hours(2));
}

TEST(ClockTest, LocalYearUsesTheDistrictTimeZone) {
  // 2025-12-31 17:00 UTC is already 2026-01-01 01:00 in Jintai (UTC+8).
  const absl::Time t =
      absl::FromCivil(absl::CivilSecond(2025, 12, 31, 17, 0, 0), absl::UTCTimeZone());
  EXPECT_EQ(LocalYear(t), 2026);
  EXPECT_EQ(LocalYear(t - absl::Hours(2)), 2025);
}

}  // namespace
}  // namespace halfsky
