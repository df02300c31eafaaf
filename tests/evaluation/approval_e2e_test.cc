// Approval reaches aggregation and evaluation (issue #15 item 4), end to end
// on real processes: halfsky-submission (SubmissionService + ReviewService),
// halfsky-aggregation, halfsky-evaluation, redis-server, and the real
// halfskyctl for the reports.
//
//  - A value submitted but not approved: the series point, the assessment,
//    the warning and the annual report say 含未审核数据.
//  - The form approved: the marker disappears once the change feed's form
//    change reached the cache; unlocked: it comes back (no new value).
//  - With --approved_only the unapproved figures are left out: the target is
//    数据不完整 and the sentence says the figures contain unapproved data;
//    approving brings the assessment back.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/credentials.h"
#include "common/auth/token_store.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/aggregation.grpc.pb.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "halfsky/v1/review.grpc.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "tests/evaluation/service_test_util.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"

namespace halfsky::evaluation {
namespace {

namespace v1 = ::halfsky::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kServiceToken[] = "service-token-1";
constexpr char kDistrict[] = "610303";
constexpr char kUnit[] = "HEALTH_BUREAU";

std::string CatalogPath() {
  return std::string(HALFSKY_SOURCE_DIR) + "/tests/testdata/real_data/catalog.textproto";
}

// The district's screening proportion, reported directly: 50 % (2020) and
// 52 % (2024) against ≥ 70 % by 2025 — an orange PROGRESS warning.
std::vector<v1::DataValue> Screening() {
  std::vector<v1::DataValue> out;
  for (const auto& [year, num] : std::vector<std::pair<int, double>>{{2020, 500}, {2024, 520}}) {
    v1::DataValue v;
    v.mutable_key()->set_indicator_id("HEALTH-02");
    v.mutable_key()->set_area_code(kDistrict);
    v.mutable_key()->set_year(year);
    v.mutable_fraction()->set_numerator(num);
    v.mutable_fraction()->set_denominator(1000);
    v.set_source("两癌筛查年报");
    out.push_back(v);
  }
  return out;
}

class ApprovalEndToEndTest : public ::testing::TestWithParam<bool> {
 protected:
  bool approved_only() const { return GetParam(); }

  void SetUp() override {
    halfsky::testing::SuiteOptions options;
    options.catalog = CatalogPath();
    options.tokens = absl::StrCat(testing::TokenFileContent(), auth::HashToken(kServiceToken),
                                  " halfsky-services statistics\n");
    options.service_token = kServiceToken;
    options.evaluation_flags = {"--reevaluate_interval=1h"};
    if (approved_only()) {
      options.evaluation_flags.push_back("--approved_only");
    }
    auto suite = halfsky::testing::Suite::Start(options);
    ASSERT_TRUE(suite.ok()) << suite.status();
    suite_ = std::move(*suite);
    auto submission =
        grpc::CreateChannel(suite_->submission().address(), grpc::InsecureChannelCredentials());
    evaluation_ = v1::EvaluationService::NewStub(
        grpc::CreateChannel(suite_->evaluation().address(), grpc::InsecureChannelCredentials()));
    aggregation_ = v1::AggregationService::NewStub(
        grpc::CreateChannel(suite_->aggregation().address(), grpc::InsecureChannelCredentials()));
    submission_ = v1::SubmissionService::NewStub(submission);
    review_ = v1::ReviewService::NewStub(submission);
  }

  void TearDown() override {
    if (suite_ != nullptr) {
      EXPECT_TRUE(suite_->Stop().ok());
    }
  }

  static void Prepare(grpc::ClientContext* ctx, const char* token) {
    auth::AddBearerToken(ctx, token);
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  }

  void Submit(const std::string& request_id, const std::vector<v1::DataValue>& values) {
    grpc::ClientContext ctx;
    Prepare(&ctx, testing::kUnitToken);
    v1::SubmitBatchRequest request;
    request.set_request_id(request_id);
    for (const auto& v : values) {
      *request.add_data_values() = v;
    }
    v1::SubmitBatchResponse response;
    const grpc::Status st = submission_->SubmitBatch(&ctx, request, &response);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  static v1::FormKey FormOf(int year) {
    v1::FormKey key;
    key.set_unit_code(kUnit);
    key.set_area_code(kDistrict);
    key.set_year(year);
    return key;
  }

  // 报送 by the unit, then 审核通过 by the bureau.
  void Approve(int year) {
    v1::Form form;
    {
      grpc::ClientContext ctx;
      Prepare(&ctx, testing::kUnitToken);
      v1::SubmitFormRequest request;
      *request.mutable_key() = FormOf(year);
      const grpc::Status st = review_->SubmitForm(&ctx, request, &form);
      ASSERT_TRUE(st.ok()) << st.error_message();
    }
    grpc::ClientContext ctx;
    Prepare(&ctx, testing::kStatisticsToken);
    v1::ApproveFormRequest request;
    *request.mutable_key() = FormOf(year);
    const grpc::Status st = review_->ApproveForm(&ctx, request, &form);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_EQ(form.state(), v1::FORM_STATE_APPROVED);
  }

  void Unlock(int year) {
    grpc::ClientContext ctx;
    Prepare(&ctx, testing::kStatisticsToken);
    v1::UnlockFormRequest request;
    *request.mutable_key() = FormOf(year);
    request.set_reason("更正筛查人数");
    v1::Form form;
    const grpc::Status st = review_->UnlockForm(&ctx, request, &form);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  v1::EvaluateResponse Evaluate() {
    grpc::ClientContext ctx;
    Prepare(&ctx, testing::kAssessmentToken);
    v1::EvaluateRequest request;
    request.set_indicator_id("HEALTH-02");
    v1::EvaluateResponse response;
    const grpc::Status st = evaluation_->Evaluate(&ctx, request, &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return response;
  }

  v1::GetSeriesResponse Series() {
    grpc::ClientContext ctx;
    Prepare(&ctx, testing::kAssessmentToken);
    v1::GetSeriesRequest request;
    request.set_indicator_id("HEALTH-02");
    v1::GetSeriesResponse response;
    const grpc::Status st = aggregation_->GetSeries(&ctx, request, &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return response;
  }

  // Evaluates until `done` holds for the response (the feed and the cache
  // catch up asynchronously); the last response either way.
  template <typename Pred>
  v1::EvaluateResponse EvaluateUntil(Pred done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    v1::EvaluateResponse e = Evaluate();
    while (!done(e) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(100));
      e = Evaluate();
    }
    return e;
  }

  std::string Report(const std::string& format) {
    std::vector<std::string> argv = {halfsky::testing::ServiceBinary("halfskyctl"),
                                     "report",
                                     "annual",
                                     "--year",
                                     "2024",
                                     "--format",
                                     format,
                                     "--server",
                                     suite_->evaluation().address(),
                                     "--token",
                                     testing::kAssessmentToken,
                                     "--aggregation",
                                     suite_->aggregation().address()};
    auto r = halfsky::testing::RunCommand(argv,
                                          {{"HALFSKY_SERVER", ""},
                                           {"HALFSKY_TOKEN", ""},
                                           {"HALFSKY_AGGREGATION", ""},
                                           {"HALFSKY_EVALUATION", ""},
                                           {"NO_COLOR", "1"}},
                                          absl::Seconds(60));
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) {
      return "";
    }
    EXPECT_EQ(r->exit_code, 0) << r->err;
    return r->out;
  }

  std::unique_ptr<halfsky::testing::Suite> suite_;
  std::unique_ptr<v1::EvaluationService::Stub> evaluation_;
  std::unique_ptr<v1::AggregationService::Stub> aggregation_;
  std::unique_ptr<v1::SubmissionService::Stub> submission_;
  std::unique_ptr<v1::ReviewService::Stub> review_;
};

// The PROGRESS warnings among `e`'s (late-data warnings of the unit fire
// too: the catalog's other indicators were never reported).
std::vector<v1::Warning> Progress(const v1::EvaluateResponse& e) {
  std::vector<v1::Warning> out;
  for (const auto& w : e.warnings()) {
    if (w.kind() == v1::WARNING_KIND_PROGRESS) {
      out.push_back(w);
    }
  }
  return out;
}

bool HasTwoPoints(const v1::EvaluateResponse& e) { return e.series_size() == 2; }

TEST_P(ApprovalEndToEndTest, UnapprovedIsMarkedApprovalClearsItUnlockBringsItBack) {
  ASSERT_NO_FATAL_FAILURE(Submit("screening-1", Screening()));

  // 1. Submitted, not approved.
  // (Default mode: until its PROGRESS warning fired, which follows the
  // evaluation pass the update message started.)
  v1::EvaluateResponse e = EvaluateUntil([this](const v1::EvaluateResponse& r) {
    return HasTwoPoints(r) && (approved_only() || Progress(r).size() == 1);
  });
  ASSERT_EQ(e.series_size(), 2) << e.ShortDebugString();
  for (const auto& p : e.series()) {
    EXPECT_TRUE(p.contains_unapproved_data()) << p.ShortDebugString();
    EXPECT_EQ(p.part_count(), 1);
    EXPECT_EQ(p.approved_part_count(), 0);
  }
  ASSERT_EQ(e.assessments_size(), 1);
  if (!approved_only()) {
    const v1::TargetAssessment& a = e.assessments(0);
    EXPECT_EQ(a.status(), v1::PROGRESS_STATUS_AT_RISK) << a.ShortDebugString();
    EXPECT_TRUE(a.contains_unapproved_data());
    EXPECT_THAT(a.unapproved_years(), ElementsAre(2020, 2024));
    EXPECT_THAT(a.explanation_zh(), HasSubstr("（含未审核数据：2020、2024年。）"));
    EXPECT_THAT(a.explanation_en(), HasSubstr("contains unapproved data: 2020, 2024"));
    // The warning's wording carries it too.
    const std::vector<v1::Warning> progress = Progress(e);
    ASSERT_EQ(progress.size(), 1u);
    EXPECT_EQ(progress[0].explanation_zh(), a.explanation_zh());
    const std::string md = Report("md");
    EXPECT_THAT(md, HasSubstr("含未审核数据")) << md;
    EXPECT_THAT(md, HasSubstr("52（含未审核数据）")) << md;
    const std::string html = Report("html");
    EXPECT_THAT(html, HasSubstr("<span class=\"unapproved\">含未审核数据</span>"));
  } else {
    // Left out: never assessed on unapproved figures, and the sentence says
    // what is missing.
    const v1::TargetAssessment& a = e.assessments(0);
    EXPECT_EQ(a.status(), v1::PROGRESS_STATUS_DATA_INCOMPLETE) << a.ShortDebugString();
    EXPECT_FALSE(a.contains_unapproved_data());
    EXPECT_FALSE(a.figures().has_current_value());
    EXPECT_EQ(a.explanation_zh(),
              "宫颈癌筛查率2020、2024年的数值含未审核数据（2020年含未审核数据（已审核0/"
              "1项），按设置只评估已审核数据，2024年含未审核数据（已审核0/1项），按设置只评估已审"
              "核数据），未审核数据不纳入评估：数据不完整，暂无法评估进展。")
        << a.explanation_zh();
    EXPECT_TRUE(Progress(e).empty());
    const std::string md = Report("md");
    EXPECT_THAT(md, HasSubstr("未审核数据不纳入评估")) << md;
  }

  // 2. Approved: the marker goes once the form changes reached the cache.
  ASSERT_NO_FATAL_FAILURE(Approve(2020));
  ASSERT_NO_FATAL_FAILURE(Approve(2024));
  e = EvaluateUntil([](const v1::EvaluateResponse& r) {
    const std::vector<v1::Warning> progress = Progress(r);
    return r.series_size() == 2 && !r.series(0).contains_unapproved_data() &&
           !r.series(1).contains_unapproved_data() && progress.size() == 1 &&
           !absl::StrContains(progress[0].explanation_zh(), "未审核");
  });
  for (const auto& p : e.series()) {
    EXPECT_FALSE(p.contains_unapproved_data()) << p.ShortDebugString();
    EXPECT_EQ(p.approved_part_count(), 1);
  }
  ASSERT_EQ(e.assessments_size(), 1);
  EXPECT_EQ(e.assessments(0).status(), v1::PROGRESS_STATUS_AT_RISK)
      << e.assessments(0).ShortDebugString();
  EXPECT_FALSE(e.assessments(0).contains_unapproved_data());
  EXPECT_THAT(e.assessments(0).explanation_zh(), Not(HasSubstr("未审核")));
  // The warning fires (--approved_only: now that the figures are approved)
  // and its wording no longer says 含未审核数据.
  {
    const std::vector<v1::Warning> progress = Progress(e);
    ASSERT_EQ(progress.size(), 1u);
    EXPECT_EQ(progress[0].explanation_zh(), e.assessments(0).explanation_zh());
  }
  // The gRPC path (GetSeries) says the same as the cache.
  const v1::GetSeriesResponse series = Series();
  ASSERT_EQ(series.points_size(), 2);
  EXPECT_FALSE(series.points(1).contains_unapproved_data());
  EXPECT_THAT(Report("md"), Not(HasSubstr("未审核")));

  // 3. Unlocked (2024): back, without any new value.
  ASSERT_NO_FATAL_FAILURE(Unlock(2024));
  e = EvaluateUntil([](const v1::EvaluateResponse& r) {
    return r.series_size() == 2 && r.series(1).contains_unapproved_data();
  });
  ASSERT_EQ(e.series_size(), 2);
  EXPECT_FALSE(e.series(0).contains_unapproved_data());
  EXPECT_TRUE(e.series(1).contains_unapproved_data());
  ASSERT_EQ(e.assessments_size(), 1);
  if (!approved_only()) {
    EXPECT_THAT(e.assessments(0).unapproved_years(), ElementsAre(2024));
    EXPECT_THAT(e.assessments(0).explanation_zh(), HasSubstr("（含未审核数据：2024年。）"));
    EXPECT_THAT(Report("md"), HasSubstr("52（含未审核数据）"));
  } else {
    // Only 2020 is approved: one year is not a trend, and 2024 is named.
    EXPECT_EQ(e.assessments(0).status(), v1::PROGRESS_STATUS_DATA_INCOMPLETE)
        << e.assessments(0).ShortDebugString();
    EXPECT_THAT(e.assessments(0).explanation_zh(), HasSubstr("2024年含未审核数据（已审核0/1项）"));
    EXPECT_THAT(e.assessments(0).explanation_zh(), Not(HasSubstr("2020年含未审核数据")));
  }

  // 4. Rebuild from the feed equals the incremental cache.
  const v1::GetSeriesResponse before = Series();
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, testing::kStatisticsToken);
    v1::RebuildResponse response;
    const grpc::Status st = aggregation_->Rebuild(&ctx, v1::RebuildRequest(), &response);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  const v1::GetSeriesResponse after = Series();
  ASSERT_EQ(before.points_size(), after.points_size());
  for (int i = 0; i < before.points_size(); ++i) {
    EXPECT_EQ(before.points(i).SerializeAsString(), after.points(i).SerializeAsString())
        << before.points(i).ShortDebugString() << "\nvs\n"
        << after.points(i).ShortDebugString();
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, ApprovalEndToEndTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "ApprovedOnly" : "Default";
                         });

}  // namespace
}  // namespace halfsky::evaluation
