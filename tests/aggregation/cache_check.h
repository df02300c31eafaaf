#ifndef HALFSKY_TESTS_AGGREGATION_CACHE_CHECK_H_
#define HALFSKY_TESTS_AGGREGATION_CACHE_CHECK_H_

// Comparing the Redis aggregate cache with a rebuild from scratch: the
// "Redis equals a rebuild" check of the fault-injection tests.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/catalog/catalog.h"
#include "common/redis/redis_client.h"
#include "halfsky/v1/common.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"

namespace halfsky::aggregation::testing {

// Series key → stored value (common/cache/cache_layout.h).
using CacheContents = std::map<std::string, std::string>;

// What the cache must hold for `log` (revisions in feed order): every
// revision Load()ed into a fresh Aggregator, RecomputeAll(), every series
// rendered as the writer stores it.
CacheContents ExpectedCache(std::shared_ptr<const CatalogIndex> catalog,
                            const std::vector<halfsky::v1::Revision>& log);

// Every series key and value in Redis (SCAN + GET; empty on errors).
CacheContents ActualCache(RedisClient& redis);

// The cache cursor, or nullopt if absent, unreadable or Redis is down.
std::optional<int64_t> CacheCursor(RedisClient& redis);

// The submission service's whole change feed: WatchChanges from sequence 0
// up to the first heartbeat (30 s deadline).
std::vector<halfsky::v1::Revision> ReadFeedLog(halfsky::v1::SubmissionService::Stub& stub);

// Polls until the cursor is `head` and the series equal `expected`.
// Returns "" on success, else a description of the last difference seen.
std::string WaitForCache(RedisClient& redis, int64_t head, const CacheContents& expected,
                         absl::Duration timeout);

}  // namespace halfsky::aggregation::testing

#endif  // HALFSKY_TESTS_AGGREGATION_CACHE_CHECK_H_
