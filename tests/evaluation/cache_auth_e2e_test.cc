// The aggregate cache is not forgeable (issue #13 item 3), on real
// processes: redis-server with deploy/redis/users.acl.in (default user off),
// halfsky-aggregation as the writer user, halfsky-evaluation as the
// read-only reader user, both holding the cache MAC key.
//   - no password: NOAUTH; the reader cannot SET/DEL/FLUSHALL (NOPERM); the
//     writer cannot FLUSHALL nor touch keys outside halfsky:agg:*;
//   - a series value forged straight into Redis with the WRITER's rights
//     but without the MAC key is refused: evaluation's figure and warning
//     sentence stay the true ones, and the rejection is counted.

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/credentials.h"
#include "common/auth/token_store.h"
#include "common/cache/cache_layout.h"
#include "common/metrics/metrics.h"
#include "common/redis/hiredis_client.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "services/evaluation/service/series_source.h"
#include "tests/evaluation/service_test_util.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"

namespace halfsky::evaluation {
namespace {

using ::halfsky::v1::Warning;
using testing::FractionValue;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kServiceToken[] = "service-token-1";
constexpr char kMacKey[] = "e2e-cache-mac-key-3f9a";
const char kWarningId[] = "HEALTH-02:610303:progress:2030";

class CacheAuthEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    halfsky::testing::SuiteOptions options;
    options.catalog = testing::TestCatalogPath();
    options.tokens = absl::StrCat(testing::TokenFileContent(), auth::HashToken(kServiceToken),
                                  " halfsky-services service\n");
    options.service_token = kServiceToken;
    options.evaluation_flags = {"--reevaluate_interval=1h"};
    options.redis_acl = true;
    options.cache_mac_key = kMacKey;
    auto suite = halfsky::testing::Suite::Start(options);
    ASSERT_TRUE(suite.ok()) << suite.status();
    suite_ = std::move(*suite);
    stub_ = halfsky::v1::EvaluationService::NewStub(
        grpc::CreateChannel(suite_->evaluation().address(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (suite_ != nullptr) {
      EXPECT_TRUE(suite_->Stop().ok());
    }
  }

  HiredisOptions RedisAs(const std::string& user, const std::string& password) {
    auto options = ParseRedisAddress(suite_->redis().address());
    EXPECT_TRUE(options.ok());
    options->username = user;
    options->password = password;
    return *options;
  }

  void Submit(const std::string& request_id, const std::vector<halfsky::v1::DataValue>& values) {
    auto stub = halfsky::v1::SubmissionService::NewStub(
        grpc::CreateChannel(suite_->submission().address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, testing::kUnitToken);
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    halfsky::v1::SubmitBatchRequest request;
    request.set_request_id(request_id);
    for (const auto& v : values) {
      *request.add_data_values() = v;
    }
    halfsky::v1::SubmitBatchResponse response;
    grpc::Status st = stub->SubmitBatch(&ctx, request, &response);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  absl::StatusOr<Warning> GetWarning() {
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, testing::kAssessmentToken);
    halfsky::v1::ListWarningsRequest request;
    request.set_indicator_id("HEALTH-02");
    request.set_kind(halfsky::v1::WARNING_KIND_PROGRESS);
    halfsky::v1::ListWarningsResponse response;
    grpc::Status st = stub_->ListWarnings(&ctx, request, &response);
    if (!st.ok()) {
      return absl::UnavailableError(st.error_message());
    }
    for (const Warning& w : response.warnings()) {
      if (w.id() == kWarningId) {
        return w;
      }
    }
    return absl::NotFoundError("no warning yet");
  }

  // The value of an unlabelled metric on evaluation's /metrics (-1 if
  // absent). The metrics port is read from the service's log.
  double EvaluationMetric(const std::string& name) {
    const std::string log = suite_->evaluation().log();
    std::string last;
    const std::regex port_re("metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics");
    for (auto it = std::sregex_iterator(log.begin(), log.end(), port_re);
         it != std::sregex_iterator(); ++it) {
      last = (*it)[1];
    }
    int port = 0;
    if (!absl::SimpleAtoi(last, &port)) {
      return -1;
    }
    absl::StatusOr<std::string> page = halfsky::testing::HttpGet(port, "/metrics");
    if (!page.ok()) {
      return -1;
    }
    std::smatch m;
    const std::regex value_re("\n" + name + " ([-0-9.e+]+)");
    if (!std::regex_search(*page, m, value_re)) {
      return -1;
    }
    double v = -1;
    return absl::SimpleAtod(m[1].str(), &v) ? v : -1;
  }

  // Evaluate HEALTH-02 at the root: reads the series now (Redis first).
  absl::StatusOr<halfsky::v1::EvaluateResponse> Evaluate() {
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, testing::kAssessmentToken);
    halfsky::v1::EvaluateRequest request;
    request.set_indicator_id("HEALTH-02");
    halfsky::v1::EvaluateResponse response;
    grpc::Status st = stub_->Evaluate(&ctx, request, &response);
    if (!st.ok()) {
      return absl::UnavailableError(st.error_message());
    }
    if (response.assessments_size() == 0) {
      return absl::NotFoundError("no assessment");
    }
    return response;
  }

  std::unique_ptr<halfsky::testing::Suite> suite_;
  std::unique_ptr<halfsky::v1::EvaluationService::Stub> stub_;
};

TEST_F(CacheAuthEndToEndTest, AclRefusesStrangersAndReadersCannotWrite) {
  HiredisClient anonymous(RedisAs("", ""));
  auto get = anonymous.Command({"GET", cache::kCursorKey});
  ASSERT_FALSE(get.ok());
  EXPECT_THAT(get.status().message(), HasSubstr("NOAUTH"));

  HiredisClient wrong(RedisAs("halfsky-reader", "not-the-password"));
  EXPECT_FALSE(wrong.Connect().ok());

  HiredisClient reader(RedisAs("halfsky-reader", halfsky::testing::kRedisReaderPassword));
  ASSERT_TRUE(reader.Connect().ok());
  EXPECT_TRUE(reader.Command({"GET", cache::kCursorKey}).ok());
  for (const std::vector<std::string>& argv :
       std::vector<std::vector<std::string>>{{"SET", cache::kCursorKey, "999999"},
                                             {"DEL", cache::kCursorKey},
                                             {"FLUSHALL"},
                                             {"PUBLISH", cache::kUpdatesChannel, "x"},
                                             {"GET", "other:key"}}) {
    auto reply = reader.Command(argv);
    ASSERT_FALSE(reply.ok()) << argv[0];
    EXPECT_THAT(reply.status().message(), HasSubstr("NOPERM")) << argv[0];
  }

  HiredisClient writer(RedisAs("halfsky-writer", halfsky::testing::kRedisWriterPassword));
  for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
           {"FLUSHALL"}, {"SET", "other:key", "1"}, {"CONFIG", "GET", "*"}}) {
    auto reply = writer.Command(argv);
    ASSERT_FALSE(reply.ok()) << argv[0];
    EXPECT_THAT(reply.status().message(), HasSubstr("NOPERM")) << argv[0];
  }
  EXPECT_TRUE(writer.Command({"SET", "halfsky:agg:probe", "1"}).ok());

  // After a Redis restart the clients reconnect and AUTH again.
  ASSERT_TRUE(suite_->redis().Restart().ok());
  auto again = reader.Command({"GET", cache::kCursorKey});
  if (!again.ok()) {  // the first command may hit the dead connection
    again = reader.Command({"GET", cache::kCursorKey});
  }
  EXPECT_TRUE(again.ok()) << again.status();
  EXPECT_THAT(reader.Command({"DEL", cache::kCursorKey}).status().message(), HasSubstr("NOPERM"));
}

TEST_F(CacheAuthEndToEndTest, ForgedValueWithWriterRightsIsRefused) {
  // 50 % in 2020, 50.5 % in 2024 against >= 60 % by 2030: a warning.
  ASSERT_NO_FATAL_FAILURE(Submit("auth-1", {FractionValue("HEALTH-02", 2020, 50, 100),
                                            FractionValue("HEALTH-02", 2024, 50.5, 100)}));
  absl::StatusOr<Warning> warning;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(30); absl::Now() < deadline;) {
    warning = GetWarning();
    if (warning.ok()) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(warning.ok()) << warning.status() << suite_->evaluation().log();
  ASSERT_DOUBLE_EQ(warning->figures().current_value(), 50.5);
  const std::string true_sentence = warning->explanation_zh();
  auto before = Evaluate();
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_DOUBLE_EQ(before->assessments(0).figures().current_value(), 50.5);
  ASSERT_EQ(before->assessments(0).severity(), warning->severity());
  ASSERT_THAT(suite_->evaluation().log(), Not(HasSubstr("refused cached value")));
  ASSERT_EQ(EvaluationMetric("halfsky_evaluation_cache_rejected_total"), 0);

  // The attacker holds the writer's password, not the MAC key: takes the
  // real value, makes 2024 read 90 %, tags it with a key of its own.
  HiredisClient writer(RedisAs("halfsky-writer", halfsky::testing::kRedisWriterPassword));
  const std::string key = cache::SeriesRedisKey("HEALTH-02", testing::kRoot, halfsky::v1::SEX_TOTAL,
                                                halfsky::v1::RESIDENCE_ALL);
  auto stored = writer.Get(key);
  ASSERT_TRUE(stored.ok() && stored->has_value()) << stored.status();
  auto payload = cache::OpenSeriesValue(kMacKey, key, **stored);
  ASSERT_TRUE(payload.ok()) << payload.status();  // aggregation tags with the shared key
  auto series = cache::ParseStoredSeries("HEALTH-02", testing::kRoot, halfsky::v1::SEX_TOTAL,
                                         halfsky::v1::RESIDENCE_ALL, *payload);
  ASSERT_TRUE(series.ok() && series->size() == 2);
  std::string forged_payload;
  for (halfsky::v1::Aggregate a : *series) {
    if (a.key().year() == 2024) {
      a.set_value(90);
      a.set_numerator(90);
    }
    cache::AppendStoredAggregate(a, &forged_payload);
  }
  // Untagged first, then tagged with the wrong key (left in Redis for the
  // service to read below).
  for (const std::string& forged :
       {forged_payload, cache::SealSeriesValue("attacker-key", key, forged_payload)}) {
    ASSERT_TRUE(writer.Command({"SET", key, forged}).ok());
    auto cursor = writer.Get(cache::kCursorKey);
    ASSERT_TRUE(cursor.ok() && cursor->has_value());
    ASSERT_TRUE(writer
                    .Publish(cache::kUpdatesChannel,
                             absl::StrCat("cursor=", **cursor,
                                          " version=1000000 rebuild=0 indicators=HEALTH-02"))
                    .ok());

    // A reader with the real key refuses it and counts it.
    MetricsRegistry registry;
    Counter* rejected = registry.GetCounter("halfsky_evaluation_cache_rejected_total", "help");
    HiredisClient reader_redis(RedisAs("halfsky-reader", halfsky::testing::kRedisReaderPassword));
    RedisSeriesSource source(&reader_redis, kMacKey, rejected);
    auto catalog = testing::TestCatalog();
    const halfsky::v1::Indicator* indicator = catalog->FindIndicator("HEALTH-02");
    auto snapshot = source.Read(*indicator, {testing::kRoot}, NeededSeries(*indicator));
    EXPECT_FALSE(snapshot.ok());
    EXPECT_EQ(snapshot.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(rejected->Value(), 1);
  }

  // The service refuses it too: Evaluate reads the cache now, refuses the
  // value (logged once per key) and answers from the aggregation service.
  auto after = Evaluate();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_DOUBLE_EQ(after->assessments(0).figures().current_value(), 50.5);
  EXPECT_EQ(after->assessments(0).explanation_zh(), before->assessments(0).explanation_zh());
  EXPECT_EQ(after->assessments(0).severity(), before->assessments(0).severity());
  EXPECT_THAT(after->assessments(0).explanation_zh(), Not(HasSubstr("90")));
  EXPECT_GE(EvaluationMetric("halfsky_evaluation_cache_rejected_total"), 1);
  ASSERT_FALSE(after->series().empty());
  EXPECT_DOUBLE_EQ(after->series(after->series_size() - 1).value(), 50.5);
  // The re-evaluation the forged PUBLISH asked for kept the warning too.
  for (const absl::Time deadline = absl::Now() + absl::Seconds(30);
       absl::Now() < deadline &&
       !absl::StrContains(suite_->evaluation().log(), "refused cached value");) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_THAT(suite_->evaluation().log(), HasSubstr("refused cached value"));
  // ... re-evaluated from the aggregation service, and still says the truth.
  warning = GetWarning();
  ASSERT_TRUE(warning.ok()) << warning.status();
  EXPECT_FALSE(warning->has_resolved_at());
  EXPECT_DOUBLE_EQ(warning->figures().current_value(), 50.5);
  EXPECT_EQ(warning->explanation_zh(), true_sentence);
  EXPECT_THAT(warning->explanation_zh(), Not(HasSubstr("90")));
}

}  // namespace
}  // namespace halfsky::evaluation
