#include "common/auth/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/rpc/error_details.pb.h"

namespace halfsky::auth {

RateLimiter::RateLimiter(RateLimitOptions options, const Clock* clock)
    : options_([&] {
        options.burst = std::max(options.burst, 1.0);
        return options;
      }()),
      clock_(clock != nullptr ? clock : SystemClock::Default()) {}

absl::Status RateLimiter::Admit(absl::string_view principal) {
  if (!enabled()) {
    return absl::OkStatus();
  }
  const absl::Time now = clock_->Now();
  double missing = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = buckets_.find(principal);
    if (it == buckets_.end()) {
      if (buckets_.size() >= options_.max_principals) {
        // Drop the buckets that have refilled (forgetting them changes
        // nothing); if none has, drop all.
        for (auto b = buckets_.begin(); b != buckets_.end();) {
          const double refilled =
              b->second.tokens +
              absl::ToDoubleSeconds(now - b->second.updated) * options_.per_second;
          if (refilled >= options_.burst) {
            buckets_.erase(b++);
          } else {
            ++b;
          }
        }
        if (buckets_.size() >= options_.max_principals) {
          buckets_.clear();
        }
      }
      it = buckets_.emplace(std::string(principal), Bucket{options_.burst, now}).first;
    }
    Bucket& bucket = it->second;
    if (now > bucket.updated) {
      bucket.tokens =
          std::min(options_.burst, bucket.tokens + absl::ToDoubleSeconds(now - bucket.updated) *
                                                       options_.per_second);
      bucket.updated = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return absl::OkStatus();
    }
    missing = 1 - bucket.tokens;
  }
  // Round up to whole milliseconds so that retrying after the delay finds
  // the token there.
  const absl::Duration delay =
      absl::Milliseconds(std::ceil(missing / options_.per_second * 1000.0));
  return RateLimitedError(
      absl::StrFormat(
          "调用过于频繁：%s 每秒最多 %g 次（突发 %g 次），请 %s 后重试 / too many calls: "
          "%s may make %g calls a second (bursts of %g); retry after %s",
          principal, options_.per_second, options_.burst, absl::FormatDuration(delay), principal,
          options_.per_second, options_.burst, absl::FormatDuration(delay)),
      delay);
}

size_t RateLimiter::tracked_principals() const {
  absl::MutexLock lock(&mu_);
  return buckets_.size();
}

absl::Status RateLimitedError(absl::string_view message, absl::Duration retry_delay) {
  absl::Status status = absl::ResourceExhaustedError(message);
  google::rpc::RetryInfo info;
  const int64_t ms = absl::ToInt64Milliseconds(retry_delay);
  info.mutable_retry_delay()->set_seconds(ms / 1000);
  info.mutable_retry_delay()->set_nanos(static_cast<int32_t>(ms % 1000) * 1000000);
  status.SetPayload(kRetryInfoTypeUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

absl::Duration RetryDelay(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryInfoTypeUrl);
  google::rpc::RetryInfo info;
  if (!payload.has_value() || !info.ParseFromString(std::string(*payload)) ||
      !info.has_retry_delay()) {
    return absl::Seconds(-1);
  }
  return absl::Seconds(info.retry_delay().seconds()) +
         absl::Nanoseconds(info.retry_delay().nanos());
}

}  // namespace halfsky::auth
