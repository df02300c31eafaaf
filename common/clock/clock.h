#ifndef HALFSKY_COMMON_CLOCK_CLOCK_H_
#define HALFSKY_COMMON_CLOCK_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace halfsky {

// Source of "now" for everything that depends on the date (due dates, years
// in the future, warning timestamps). Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The real wall clock.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  // A process-wide instance; never destroyed.
  static Clock* Default();
};

// A clock that tests set. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time now) : now_(now) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Set(absl::Time now) {
    absl::MutexLock lock(&mu_);
    now_ = now;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

// The clock a service uses: the system clock, unless --fake_now (RFC 3339,
// e.g. "2026-03-01T00:00:00+08:00") is set for demos and end-to-end tests.
// Returns nullptr-free, process-lifetime pointer.
Clock* ClockFromFlags();

// Year of `t` in the district's time zone (Asia/Shanghai, UTC+8).
int LocalYear(absl::Time t);
// The district's time zone (fixed UTC+8; China has no DST).
absl::TimeZone DistrictTimeZone();

}  // namespace halfsky

#endif  // HALFSKY_COMMON_CLOCK_CLOCK_H_
