#ifndef HALFSKY_SERVICES_EVALUATION_SERVICE_SERIES_SOURCE_H_
#define HALFSKY_SERVICES_EVALUATION_SERVICE_SERIES_SOURCE_H_

// Where the evaluation service reads aggregates from.
//
//   SeriesSource            the interface: every series one indicator needs,
//                           for a list of areas, as ONE consistent snapshot.
//   RedisSeriesSource       the aggregation service's Redis cache
//                           (common/cache/cache_layout.h), read in
//                           one MULTI/EXEC, so a snapshot never mixes data
//                           from before and after an aggregation commit.
//   GrpcSeriesSource        AggregationService.GetSeries over gRPC; the
//                           responses of one snapshot must all carry the
//                           same as_of_sequence (retried otherwise).
//   FallbackSeriesSource    Redis first; on a cache miss (no cursor: cache
//                           empty, flushed or being rebuilt), a refused
//                           value (MAC mismatch) or with Redis down, gRPC.
//
// Thread-safety: every implementation is thread-safe.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/metrics/metrics.h"
#include "common/redis/redis_client.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/aggregation.grpc.pb.h"
#include "halfsky/v1/catalog.pb.h"
#include "halfsky/v1/common.pb.h"

namespace halfsky::evaluation {

// One disaggregation of an indicator. Always normalized: never
// SEX_UNSPECIFIED / RESIDENCE_UNSPECIFIED.
struct SeriesSpec {
  halfsky::v1::Sex sex = halfsky::v1::SEX_TOTAL;
  halfsky::v1::Residence residence = halfsky::v1::RESIDENCE_ALL;
  friend bool operator<(const SeriesSpec& a, const SeriesSpec& b) {
    return std::make_pair(a.sex, a.residence) < std::make_pair(b.sex, b.residence);
  }
  friend bool operator==(const SeriesSpec& a, const SeriesSpec& b) {
    return a.sex == b.sex && a.residence == b.residence;
  }
};

// The disaggregations the method needs for `indicator`: (TOTAL, ALL) first,
// then each target's own, and both groups of every NARROW_GAP target;
// without duplicates.
std::vector<SeriesSpec> NeededSeries(const halfsky::v1::Indicator& indicator);

// The series of one indicator in one area, by disaggregation. A series
// without data is present and empty. Points are sorted by year, with
// change_from_previous filled in.
struct AreaSeries {
  std::string area_code;
  std::map<SeriesSpec, std::vector<halfsky::v1::SeriesPoint>> series;
  // Empty when `spec` was not read.
  const std::vector<halfsky::v1::SeriesPoint>& Get(SeriesSpec spec) const;
};

struct IndicatorSnapshot {
  enum class Origin { kRedis, kAggregationService };
  std::string indicator_id;
  // One per requested area, in request order.
  std::vector<AreaSeries> areas;
  // Change-feed sequence the snapshot reflects.
  int64_t as_of_sequence = 0;
  Origin origin = Origin::kRedis;
};

// One indicator's read: what SeriesSource::Read takes, for ReadMany.
struct SeriesRequest {
  const halfsky::v1::Indicator* indicator = nullptr;  // not owned; not null
  std::vector<std::string> area_codes;
  std::vector<SeriesSpec> specs;
};

class SeriesSource {
 public:
  virtual ~SeriesSource() = default;
  // Read for each request, in request order; all or nothing (the first
  // error). This default reads them one by one, each its own snapshot; a
  // source that can do better (RedisSeriesSource: one MULTI/EXEC for all,
  // one round trip, one snapshot) overrides it.
  virtual absl::StatusOr<std::vector<IndicatorSnapshot>> ReadMany(
      const std::vector<SeriesRequest>& requests);
  // Every `specs` series of `indicator` for each of `area_codes`, as one
  // consistent snapshot. Errors: UNAVAILABLE when the source cannot answer
  // now (Redis down, cache not valid, aggregation down or still building);
  // NOT_FOUND when the aggregation service does not know the indicator or
  // an area; FAILED_PRECONDITION for malformed cache contents.
  virtual absl::StatusOr<IndicatorSnapshot> Read(const halfsky::v1::Indicator& indicator,
                                                 const std::vector<std::string>& area_codes,
                                                 const std::vector<SeriesSpec>& specs) = 0;
};

// Reads the cache: ONE MULTI/EXEC of GET cursor, then GET of every series
// key (values decoded with cache::ParseStoredSeries); ReadMany puts every
// request's keys in that one transaction. A missing cursor
// (cache not valid) is UNAVAILABLE; a malformed value FAILED_PRECONDITION.
//
// Authenticity: every series value must carry the tag of `mac_key` for its
// key (cache::OpenSeriesValue). A value that fails it (forged in
// Redis, moved from another key, written with another key) makes the whole
// read FAILED_PRECONDITION — never a figure from it — so that
// FallbackSeriesSource asks the aggregation service instead; each such
// value increments `rejected` (halfsky_evaluation_cache_rejected_total) and
// is logged to stderr once per key for the life of the process.
class RedisSeriesSource final : public SeriesSource {
 public:
  // `redis` and `rejected` (may be null) are not owned and must outlive this
  // object.
  // ReadMany's transactions hold at most this many keys each (a request
  // larger than that alone keeps one of its own): one MULTI/EXEC runs
  // atomically in Redis and blocks its other clients meanwhile.
  static constexpr size_t kMaxKeysPerTransaction = 16384;

  explicit RedisSeriesSource(RedisClient* redis, std::string mac_key = "",
                             Counter* rejected = nullptr,
                             size_t max_keys_per_transaction = kMaxKeysPerTransaction)
      : redis_(redis),
        mac_key_(std::move(mac_key)),
        rejected_(rejected),
        max_keys_(max_keys_per_transaction) {}
  absl::StatusOr<IndicatorSnapshot> Read(const halfsky::v1::Indicator& indicator,
                                         const std::vector<std::string>& area_codes,
                                         const std::vector<SeriesSpec>& specs) override;
  // The requests' keys behind one cursor GET in one MULTI/EXEC, or in as
  // few as max_keys_per_transaction allows (each request's snapshot is
  // consistent on its own; requests in different transactions may be at
  // different cursors).
  absl::StatusOr<std::vector<IndicatorSnapshot>> ReadMany(
      const std::vector<SeriesRequest>& requests) override;

 private:
  void Reject(const std::string& key, const absl::Status& why);
  // `requests` in one MULTI/EXEC, their snapshots appended to *out.
  absl::Status ReadTransaction(absl::Span<const SeriesRequest> requests,
                               std::vector<IndicatorSnapshot>* out);

  RedisClient* const redis_;
  const std::string mac_key_;
  Counter* const rejected_;
  const size_t max_keys_;
  absl::Mutex mu_;
  std::set<std::string> logged_ ABSL_GUARDED_BY(mu_);
};

// Adds "authorization: Bearer <token>" to outgoing calls when the token is
// not empty, and a deadline.
void PrepareClientContext(grpc::ClientContext* ctx, const std::string& bearer_token,
                          absl::Duration deadline);

class GrpcSeriesSource final : public SeriesSource {
 public:
  GrpcSeriesSource(std::shared_ptr<grpc::Channel> channel, std::string bearer_token,
                   absl::Duration deadline = absl::Seconds(5));
  absl::StatusOr<IndicatorSnapshot> Read(const halfsky::v1::Indicator& indicator,
                                         const std::vector<std::string>& area_codes,
                                         const std::vector<SeriesSpec>& specs) override;

 private:
  std::unique_ptr<halfsky::v1::AggregationService::Stub> stub_;
  const std::string token_;
  const absl::Duration deadline_;
};

// `primary` first; any error from it → `secondary`. ReadMany asks the
// primary only and returns its error as it is: the caller reads each
// indicator again on its own (Evaluator::EvaluatePending), so only the
// indicators the primary cannot serve go to the secondary, as with Read.
// Not owned.
class FallbackSeriesSource final : public SeriesSource {
 public:
  FallbackSeriesSource(SeriesSource* primary, SeriesSource* secondary)
      : primary_(primary), secondary_(secondary) {}
  absl::StatusOr<IndicatorSnapshot> Read(const halfsky::v1::Indicator& indicator,
                                         const std::vector<std::string>& area_codes,
                                         const std::vector<SeriesSpec>& specs) override;
  absl::StatusOr<std::vector<IndicatorSnapshot>> ReadMany(
      const std::vector<SeriesRequest>& requests) override;

 private:
  SeriesSource* const primary_;
  SeriesSource* const secondary_;
};

}  // namespace halfsky::evaluation

#endif  // HALFSKY_SERVICES_EVALUATION_SERVICE_SERIES_SOURCE_H_
