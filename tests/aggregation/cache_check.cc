#include "tests/aggregation/cache_check.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/cache/cache_layout.h"
#include "grpcpp/grpcpp.h"
#include "services/aggregation/aggregator.h"
#include "tests/support/change_events.h"

namespace halfsky::aggregation::testing {

using cache::AppendStoredAggregate;
using cache::kCursorKey;
using cache::kSeriesKeyPrefix;
using cache::SealSeriesValue;
using cache::SeriesRedisKey;

CacheContents ExpectedCache(std::shared_ptr<const CatalogIndex> catalog,
                            const std::vector<halfsky::v1::Revision>& log) {
  Aggregator agg(std::move(catalog));
  for (const auto& r : log) {
    agg.Load(r);
  }
  agg.RecomputeAll();
  CacheContents out;
  // ForEach visits each series' years in ascending order.
  agg.ForEach([&](const halfsky::v1::Aggregate& a) {
    const auto& k = a.key();
    AppendStoredAggregate(
        a, &out[SeriesRedisKey(k.indicator_id(), k.area_code(), k.sex(), k.residence())]);
  });
  // As the writer stores them: tagged with its (here empty) MAC key.
  for (auto& [key, value] : out) {
    value = SealSeriesValue("", key, value);
  }
  return out;
}

CacheContents ActualCache(RedisClient& redis) {
  CacheContents out;
  auto keys = redis.ScanKeys(absl::StrCat(kSeriesKeyPrefix, "*"));
  if (!keys.ok()) {
    return out;
  }
  for (const auto& key : *keys) {
    auto value = redis.Get(key);
    if (value.ok() && value->has_value()) {
      out[key] = **value;
    }
  }
  return out;
}

std::optional<int64_t> CacheCursor(RedisClient& redis) {
  auto v = redis.Get(kCursorKey);
  if (!v.ok() || !v->has_value()) {
    return std::nullopt;
  }
  int64_t c = 0;
  if (!absl::SimpleAtoi(**v, &c)) {
    return std::nullopt;
  }
  return c;
}

std::string WaitForCache(RedisClient& redis, int64_t head, const CacheContents& expected,
                         absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string why = "nothing checked";
  do {
    const std::optional<int64_t> cursor = CacheCursor(redis);
    if (cursor != head) {
      why =
          absl::StrCat("cursor ", cursor ? absl::StrCat(*cursor) : "absent", " (want ", head, ")");
    } else {
      const CacheContents actual = ActualCache(redis);
      if (actual == expected) {
        return "";
      }
      size_t differing = 0;
      std::string first;
      for (const auto& [key, value] : expected) {
        auto it = actual.find(key);
        if (it == actual.end() || it->second != value) {
          if (differing++ == 0) {
            first = key;
          }
        }
      }
      why = absl::StrCat(actual.size(), " series (want ", expected.size(), "), ", differing,
                         " missing or different", differing > 0 ? ", first " : "", first);
    }
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < deadline);
  return why;
}

std::vector<halfsky::v1::Revision> ReadFeedLog(halfsky::v1::SubmissionService::Stub& stub) {
  std::vector<halfsky::v1::Revision> log;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  halfsky::v1::WatchChangesRequest request;
  auto reader = halfsky::testing::ChangeEvents(stub.WatchChanges(&ctx, request));
  halfsky::v1::ChangeEvent event;
  while (reader->Read(&event)) {
    if (event.has_heartbeat()) {
      break;
    }
    log.push_back(event.revision());
  }
  ctx.TryCancel();
  while (reader->Read(&event)) {
  }
  (void)reader->Finish();
  return log;
}

}  // namespace halfsky::aggregation::testing
