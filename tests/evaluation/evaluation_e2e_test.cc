// End to end, as the assessment group lives it: real halfsky-submission,
// halfsky-aggregation and halfsky-evaluation child processes and a real
// redis-server. A unit submits (SubmitBatch); the warning appears for a
// watching client; an acknowledgement survives a restart of the evaluation
// service; a correction resolves the warning.

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/auth/credentials.h"
#include "common/auth/token_store.h"
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

using ::halfsky::v1::WarningEvent;
using testing::FractionValue;

constexpr char kServiceToken[] = "service-token-1";
const char kWarningId[] = "HEALTH-02:610303:progress:2030";

class EvaluationEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    halfsky::testing::SuiteOptions options;
    options.catalog = testing::TestCatalogPath();
    options.tokens = absl::StrCat(testing::TokenFileContent(), auth::HashToken(kServiceToken),
                                  " halfsky-services service\n");
    options.service_token = kServiceToken;
    options.evaluation_flags = {"--reevaluate_interval=1h"};
    auto suite = halfsky::testing::Suite::Start(options);
    ASSERT_TRUE(suite.ok()) << suite.status();
    suite_ = std::move(*suite);
    ConnectEvaluation();
  }

  void TearDown() override {
    if (suite_ != nullptr) {
      EXPECT_TRUE(suite_->Stop().ok());
    }
  }

  void ConnectEvaluation() {
    stub_ = halfsky::v1::EvaluationService::NewStub(
        grpc::CreateChannel(evaluation().address(), grpc::InsecureChannelCredentials()));
  }

  halfsky::testing::ServiceProcess& submission() { return suite_->submission(); }
  halfsky::testing::ServiceProcess& aggregation() { return suite_->aggregation(); }
  halfsky::testing::ServiceProcess& evaluation() { return suite_->evaluation(); }

  void Submit(const std::string& request_id, const std::vector<halfsky::v1::DataValue>& values) {
    auto stub = halfsky::v1::SubmissionService::NewStub(
        grpc::CreateChannel(submission().address(), grpc::InsecureChannelCredentials()));
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

  // Opens a watch on HEALTH-02's progress warnings; consumes the initial
  // set up to SYNCED and returns the CURRENT events seen.
  std::vector<WarningEvent> OpenWatch(grpc::ClientContext* ctx,
                                      std::unique_ptr<grpc::ClientReader<WarningEvent>>* reader) {
    auth::AddBearerToken(ctx, testing::kAssessmentToken);
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    halfsky::v1::WatchWarningsRequest request;
    request.mutable_filter()->set_indicator_id("HEALTH-02");
    request.mutable_filter()->set_kind(halfsky::v1::WARNING_KIND_PROGRESS);
    *reader = stub_->WatchWarnings(ctx, request);
    std::vector<WarningEvent> current;
    WarningEvent event;
    while ((*reader)->Read(&event)) {
      if (event.type() == halfsky::v1::WARNING_EVENT_TYPE_SYNCED) {
        return current;
      }
      current.push_back(event);
    }
    ADD_FAILURE() << "watch ended before SYNCED: " << (*reader)->Finish().error_message()
                  << "\nlog:\n"
                  << evaluation().log();
    return current;
  }

  std::unique_ptr<halfsky::testing::Suite> suite_;
  std::unique_ptr<halfsky::v1::EvaluationService::Stub> stub_;
};

TEST_F(EvaluationEndToEndTest, SubmitWatchAcknowledgeRestartCorrect) {
  grpc::ClientContext watch_ctx;
  std::unique_ptr<grpc::ClientReader<WarningEvent>> reader;
  EXPECT_TRUE(OpenWatch(&watch_ctx, &reader).empty());

  // A unit submits: 50 % in 2020, 50.5 % in 2024 against ≥ 60 % by 2030.
  ASSERT_NO_FATAL_FAILURE(Submit("e2e-1", {FractionValue("HEALTH-02", 2020, 50, 100),
                                           FractionValue("HEALTH-02", 2024, 50.5, 100)}));
  WarningEvent event;
  ASSERT_TRUE(reader->Read(&event)) << reader->Finish().error_message() << "\n"
                                    << evaluation().log();
  EXPECT_EQ(event.type(), halfsky::v1::WARNING_EVENT_TYPE_FIRED);
  EXPECT_EQ(event.warning().id(), kWarningId);
  EXPECT_EQ(event.warning().severity(), halfsky::v1::SEVERITY_ORANGE);
  EXPECT_DOUBLE_EQ(event.warning().figures().current_value(), 50.5);

  // The assessment group acknowledges it with a countermeasure note.
  {
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, testing::kAssessmentToken);
    halfsky::v1::AcknowledgeWarningRequest request;
    request.set_warning_id(kWarningId);
    request.set_note("开展宫颈癌筛查专项行动");
    halfsky::v1::Warning response;
    grpc::Status st = stub_->AcknowledgeWarning(&ctx, request, &response);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.type(), halfsky::v1::WARNING_EVENT_TYPE_ACKNOWLEDGED);

  // Restart the evaluation service: the stream ends, the acknowledgement
  // is still there.
  ASSERT_TRUE(evaluation().Stop().ok());
  while (reader->Read(&event)) {
  }
  (void)reader->Finish();
  absl::Status restarted = evaluation().Restart();
  ASSERT_TRUE(restarted.ok()) << restarted;
  ConnectEvaluation();
  grpc::ClientContext watch2_ctx;
  std::vector<WarningEvent> current = OpenWatch(&watch2_ctx, &reader);
  ASSERT_EQ(current.size(), 1u);
  EXPECT_EQ(current[0].warning().id(), kWarningId);
  EXPECT_EQ(current[0].warning().episode(), 1);
  ASSERT_TRUE(current[0].warning().has_acknowledgement());
  EXPECT_EQ(current[0].warning().acknowledgement().by(), "alice");
  EXPECT_EQ(current[0].warning().acknowledgement().note(), "开展宫颈癌筛查专项行动");

  // A correction resolves it.
  ASSERT_NO_FATAL_FAILURE(Submit("e2e-2", {FractionValue("HEALTH-02", 2024, 55, 100)}));
  ASSERT_TRUE(reader->Read(&event)) << evaluation().log();
  EXPECT_EQ(event.type(), halfsky::v1::WARNING_EVENT_TYPE_RESOLVED);
  EXPECT_EQ(event.warning().id(), kWarningId);
  watch2_ctx.TryCancel();
  while (reader->Read(&event)) {
  }
  (void)reader->Finish();

  // Late data from the real GetReportingStatus: HEALTH-01 was never
  // reported, the health bureau is named. Late data is one warning per unit
  // and data year listing its overdue indicators (issue #12; this test
  // used to expect one warning per indicator for all years): under the
  // real clock every year from the base year to last year is overdue, one
  // warning each.
  grpc::ClientContext list_ctx;
  auth::AddBearerToken(&list_ctx, testing::kUnitToken);
  halfsky::v1::ListWarningsRequest list;
  list.set_kind(halfsky::v1::WARNING_KIND_LATE_DATA);
  list.set_indicator_id("HEALTH-01");
  halfsky::v1::ListWarningsResponse listed;
  ASSERT_TRUE(stub_->ListWarnings(&list_ctx, list, &listed).ok());
  const int last_due_year =
      absl::ToCivilYear(absl::Now(), absl::FixedTimeZone(8 * 3600)).year() - 1;
  ASSERT_EQ(listed.warnings_size(), last_due_year - 2020 + 1) << evaluation().log();
  std::set<int> years;
  for (const auto& w : listed.warnings()) {
    years.insert(w.data_year());
    EXPECT_THAT(w.responsible_unit_codes(), ::testing::ElementsAre("HEALTH_BUREAU"));
    EXPECT_EQ(w.unit_code(), "HEALTH_BUREAU");
    EXPECT_THAT(w.missing_indicator_ids(), ::testing::Contains("HEALTH-01"));
    EXPECT_THAT(w.explanation_zh(), ::testing::HasSubstr("区卫生健康局"));
  }
  EXPECT_EQ(years.size(), static_cast<size_t>(listed.warnings_size()));
}

// A unit that reports an indicator's figure for one town only (610303100,
// none for the district) has reported it for the year: the real
// GetReportingStatus counts it and the late-data warning of that year no
// longer lists the indicator (the district's figure is 数据不完整 instead,
// aggregation's coverage). The other years stay overdue.
TEST_F(EvaluationEndToEndTest, TownOnlyFigureClearsTheLateDataOfItsYear) {
  const int last_due_year =
      absl::ToCivilYear(absl::Now(), absl::FixedTimeZone(8 * 3600)).year() - 1;
  // HEALTH-01's late-data warnings, by data year (waits for the evaluation
  // pass to give `want` of them, or for `until` to hold; 120 s at most).
  auto late_years = [&](const std::function<bool(const std::set<int>&)>& until) {
    std::set<int> years;
    const absl::Time give_up = absl::Now() + absl::Seconds(120);
    while (absl::Now() < give_up) {
      grpc::ClientContext ctx;
      auth::AddBearerToken(&ctx, testing::kUnitToken);
      halfsky::v1::ListWarningsRequest list;
      list.set_kind(halfsky::v1::WARNING_KIND_LATE_DATA);
      list.set_indicator_id("HEALTH-01");
      halfsky::v1::ListWarningsResponse listed;
      years.clear();
      if (stub_->ListWarnings(&ctx, list, &listed).ok()) {
        for (const auto& w : listed.warnings()) {
          years.insert(w.data_year());
        }
        if (until(years)) {
          break;
        }
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    return years;
  };
  const std::set<int> before = late_years([&](const std::set<int>& y) {
    return static_cast<int>(y.size()) == last_due_year - 2020 + 1;
  });
  ASSERT_EQ(static_cast<int>(before.size()), last_due_year - 2020 + 1) << evaluation().log();
  ASSERT_EQ(before.count(2024), 1u);

  ASSERT_NO_FATAL_FAILURE(
      Submit("town-only", {FractionValue("HEALTH-01", 2024, 1, 5000, "610303100")}));
  const std::set<int> after = late_years([](const std::set<int>& y) { return y.count(2024) == 0; });
  EXPECT_EQ(after.count(2024), 0u) << evaluation().log();
  EXPECT_EQ(after.size(), before.size() - 1);

  // The real reporting status says the same.
  auto stub = halfsky::v1::SubmissionService::NewStub(
      grpc::CreateChannel(submission().address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  auth::AddBearerToken(&ctx, testing::kUnitToken);
  halfsky::v1::GetReportingStatusRequest request;
  request.set_year(2024);
  halfsky::v1::GetReportingStatusResponse status;
  grpc::Status st = stub->GetReportingStatus(&ctx, request, &status);
  ASSERT_TRUE(st.ok()) << st.error_message();
  bool found = false;
  for (const auto& e : status.entries()) {
    if (e.unit_code() == "HEALTH_BUREAU" && e.indicator_id() == "HEALTH-01") {
      found = true;
      EXPECT_EQ(e.state(), halfsky::v1::REPORTING_STATE_LATE);  // reported, after 31 December
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(EvaluationEndToEndTest, GrpcSeriesSourceReadsTheRealAggregationService) {
  ASSERT_NO_FATAL_FAILURE(Submit("e2e-series", {FractionValue("HEALTH-02", 2020, 50, 100),
                                                FractionValue("HEALTH-02", 2024, 50.5, 100)}));
  GrpcSeriesSource source(
      grpc::CreateChannel(aggregation().address(), grpc::InsecureChannelCredentials()),
      kServiceToken);
  auto catalog = testing::TestCatalog();
  const halfsky::v1::Indicator* indicator = catalog->FindIndicator("HEALTH-02");
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  absl::StatusOr<IndicatorSnapshot> snapshot;
  while (absl::Now() < deadline) {
    snapshot = source.Read(*indicator, {testing::kRoot}, NeededSeries(*indicator));
    if (snapshot.ok() && snapshot->areas[0].Get(SeriesSpec{}).size() == 2) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  const auto& points = snapshot->areas[0].Get(SeriesSpec{});
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].year(), 2020);
  EXPECT_DOUBLE_EQ(points[1].value(), 50.5);
  EXPECT_GT(snapshot->as_of_sequence, 0);
}

}  // namespace
}  // namespace halfsky::evaluation
