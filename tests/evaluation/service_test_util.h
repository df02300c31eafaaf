#ifndef HALFSKY_TESTS_EVALUATION_SERVICE_TEST_UTIL_H_
#define HALFSKY_TESTS_EVALUATION_SERVICE_TEST_UTIL_H_

// Helpers for the evaluation service tests: the test catalog, revisions,
// an aggregate writer that uses the aggregation service's own Aggregator and
// RedisWriter (so the Redis layout is exactly the real one), tokens.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/auth/authenticator.h"
#include "common/catalog/catalog.h"
#include "common/redis/redis_client.h"
#include "halfsky/v1/common.pb.h"
#include "services/aggregation/aggregator.h"
#include "services/aggregation/redis_writer.h"

namespace halfsky::evaluation::testing {

inline constexpr char kRoot[] = "610303";
inline constexpr char kAssessmentToken[] = "assessment-token-1";
inline constexpr char kUnitToken[] = "health-unit-token-1";
inline constexpr char kStatisticsToken[] = "statistics-token-1";

std::string TestCatalogPath();
std::shared_ptr<const CatalogIndex> TestCatalog();

// Token file content: kAssessmentToken → "alice" (assessment),
// kUnitToken → "health-system" (unit:HEALTH_BUREAU), kStatisticsToken →
// "stats" (statistics).
std::string TokenFileContent();
std::unique_ptr<auth::Authenticator> TestAuthenticator(auth::AuthenticatorOptions options = {});

halfsky::v1::DataValue FractionValue(const std::string& indicator, int year, double numerator,
                                     double denominator, const std::string& area = kRoot);
halfsky::v1::DataValue PlainValue(const std::string& indicator, int year, double value,
                                  const std::string& area = kRoot);

// Applies revisions to an in-memory Aggregator and commits the changed
// aggregates to Redis with the aggregation service's RedisWriter, then
// PUBLISHes the update message — what halfsky-aggregation does.
class AggregateWriter {
 public:
  AggregateWriter(std::shared_ptr<const CatalogIndex> catalog, RedisClient* redis);
  absl::Status Write(const std::vector<halfsky::v1::DataValue>& values);

 private:
  aggregation::Aggregator agg_;
  aggregation::RedisWriter writer_;
  int64_t sequence_ = 0;
  bool created_ = false;
};

}  // namespace halfsky::evaluation::testing

#endif  // HALFSKY_TESTS_EVALUATION_SERVICE_TEST_UTIL_H_
