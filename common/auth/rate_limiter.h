#ifndef HALFSKY_COMMON_AUTH_RATE_LIMITER_H_
#define HALFSKY_COMMON_AUTH_RATE_LIMITER_H_

// A per-principal call budget: one token bucket per principal name, filled
// at `per_second` tokens a second up to `burst`; each admitted call takes
// one token. A principal with an empty bucket is refused with
// RESOURCE_EXHAUSTED carrying a google.rpc.RetryInfo payload (key
// kRetryInfoTypeUrl) whose retry_delay is when its next token is due, so
// the refusal reaches the client as a status detail (ToGrpcStatus keeps
// payloads) that it can honour. Other principals are unaffected.
//
// Memory: at most `max_principals` buckets; when full, the buckets that
// are full again (their principals idle long enough to have refilled) are
// dropped, and if none are, all are: a flood of distinct principals (only
// authenticated names reach the limiter, so this needs that many tokens)
// can at worst reset budgets, never grow memory.
//
// Thread-safety: thread-safe.

#include <cstddef>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"

namespace halfsky::auth {

inline constexpr char kRetryInfoTypeUrl[] = "type.googleapis.com/google.rpc.RetryInfo";

struct RateLimitOptions {
  // Sustained calls a second per principal; <= 0 turns the limiter off.
  double per_second = 0;
  // Calls a principal may make back to back after being idle; values below
  // 1 are treated as 1.
  double burst = 1;
  size_t max_principals = 10000;
};

class RateLimiter {
 public:
  // `clock` must outlive the limiter; nullptr means SystemClock::Default().
  explicit RateLimiter(RateLimitOptions options, const Clock* clock = nullptr);

  bool enabled() const { return options_.per_second > 0; }

  // OK and one token taken if `principal` has one; otherwise
  // RESOURCE_EXHAUSTED ("调用过于频繁… / too many calls…", naming the
  // principal and the limit) with RetryInfo, and nothing taken. Always OK
  // when disabled.
  absl::Status Admit(absl::string_view principal);

  // Buckets currently kept (tests).
  size_t tracked_principals() const;

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };

  const RateLimitOptions options_;
  const Clock* const clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

// A RESOURCE_EXHAUSTED status with a RetryInfo(retry_delay) payload.
absl::Status RateLimitedError(absl::string_view message, absl::Duration retry_delay);

// The RetryInfo retry_delay carried by `status`, or -1s (negative) if none.
absl::Duration RetryDelay(const absl::Status& status);

}  // namespace halfsky::auth

#endif  // HALFSKY_COMMON_AUTH_RATE_LIMITER_H_
