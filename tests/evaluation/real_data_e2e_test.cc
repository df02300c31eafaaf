// Evaluation that holds up on real data (issue #12), end to end on real
// processes: halfsky-submission, halfsky-aggregation, halfsky-evaluation
// and redis-server (tests/support/suite.h), the real halfskyctl for the
// reports, and a catalog shaped like the plan's
// (tests/testdata/real_data/catalog.textproto: the district's 11
// subdistricts and towns, the maternal mortality ratio with its rare-event
// threshold).
//
//  - One town's maternal deaths (1 in 731 births in 2023, 2 in 688 in 2025)
//    are a part of the district: 数据不完整 with the coverage, no 逆向变化.
//  - Every town and subdistrict reporting small real counts: pooled 3-year
//    rates with the exact Poisson interval, and the warning as before.
//  - A published rate (13.2/10万, no counts) is evaluated as 13.2, never
//    pooled as events, with the right reasons.
//  - The annual and mid-term reports on a partial corpus print no figure
//    outside its indicator's possible range, and every partial figure with
//    its coverage.

#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/auth/credentials.h"
#include "common/auth/token_store.h"
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

namespace v1 = ::halfsky::v1;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kServiceToken[] = "service-token-1";
constexpr char kDistrict[] = "610303";
constexpr char kChencang[] = "610303100";  // 陈仓镇
const std::vector<std::string>& Children() {
  static const auto* const kChildren = new std::vector<std::string>{
      "610303001", "610303002", "610303003", "610303004", "610303005", "610303006",
      "610303007", "610303100", "610303101", "610303102", "610303103"};
  return *kChildren;
}

std::string CatalogPath() {
  return std::string(HALFSKY_SOURCE_DIR) + "/tests/testdata/real_data/catalog.textproto";
}

v1::DataValue Counts(const std::string& area, int year, double deaths, double births) {
  v1::DataValue v;
  v.mutable_key()->set_indicator_id("HEALTH-01");
  v.mutable_key()->set_area_code(area);
  v.mutable_key()->set_year(year);
  v.mutable_fraction()->set_numerator(deaths);
  v.mutable_fraction()->set_denominator(births);
  v.set_source("妇幼卫生年报");
  return v;
}

v1::DataValue PublishedRate(const std::string& area, int year, double value) {
  v1::DataValue v;
  v.mutable_key()->set_indicator_id("HEALTH-01");
  v.mutable_key()->set_area_code(area);
  v.mutable_key()->set_year(year);
  v.mutable_published()->set_value(value);
  v.set_source("宝鸡统计年鉴");
  return v;
}

// The district's screening proportion, reported directly: 50 % (2020) and
// 52 % (2024) against ≥ 70 % by 2025 fires an orange PROGRESS warning. Sent
// in the same batch as the figures under test, its warning tells that the
// evaluator has evaluated that batch (HEALTH-01 is evaluated first).
std::vector<v1::DataValue> Barrier() {
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

class RealDataEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    halfsky::testing::SuiteOptions options;
    options.catalog = CatalogPath();
    options.tokens = absl::StrCat(testing::TokenFileContent(), auth::HashToken(kServiceToken),
                                  " halfsky-services statistics\n");
    options.service_token = kServiceToken;
    options.evaluation_flags = {"--reevaluate_interval=1h"};
    auto suite = halfsky::testing::Suite::Start(options);
    ASSERT_TRUE(suite.ok()) << suite.status();
    suite_ = std::move(*suite);
    stub_ = v1::EvaluationService::NewStub(
        grpc::CreateChannel(suite_->evaluation().address(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (suite_ != nullptr) {
      EXPECT_TRUE(suite_->Stop().ok());
    }
  }

  grpc::Status SubmitStatus(const std::string& request_id, const std::vector<v1::DataValue>& values,
                            v1::SubmitBatchResponse* response) {
    auto stub = v1::SubmissionService::NewStub(
        grpc::CreateChannel(suite_->submission().address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, testing::kUnitToken);
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    v1::SubmitBatchRequest request;
    request.set_request_id(request_id);
    for (const auto& v : values) {
      *request.add_data_values() = v;
    }
    return stub->SubmitBatch(&ctx, request, response);
  }

  // Submits `values` plus the barrier, and returns once the barrier's
  // warning fired (so every value of the batch has been evaluated).
  void SubmitAndWait(const std::string& request_id, std::vector<v1::DataValue> values) {
    grpc::ClientContext watch;
    auth::AddBearerToken(&watch, testing::kAssessmentToken);
    watch.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(90)));
    v1::WatchWarningsRequest request;
    request.mutable_filter()->set_indicator_id("HEALTH-02");
    request.mutable_filter()->set_kind(v1::WARNING_KIND_PROGRESS);
    auto reader = stub_->WatchWarnings(&watch, request);
    v1::WarningEvent event;
    bool synced = false;
    while (reader->Read(&event)) {
      if (event.type() == v1::WARNING_EVENT_TYPE_SYNCED) {
        synced = true;
        break;
      }
    }
    ASSERT_TRUE(synced) << reader->Finish().error_message();
    for (auto& v : Barrier()) {
      values.push_back(std::move(v));
    }
    v1::SubmitBatchResponse response;
    grpc::Status st = SubmitStatus(request_id, values, &response);
    ASSERT_TRUE(st.ok()) << st.error_message();
    bool fired = false;
    while (reader->Read(&event)) {
      if (event.type() == v1::WARNING_EVENT_TYPE_FIRED) {
        fired = true;
        break;
      }
    }
    ASSERT_TRUE(fired) << reader->Finish().error_message() << "\n" << suite_->evaluation().log();
    watch.TryCancel();
    reader->Finish();
  }

  v1::EvaluateResponse Evaluate(const std::string& indicator) {
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, testing::kAssessmentToken);
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    v1::EvaluateRequest request;
    request.set_indicator_id(indicator);
    v1::EvaluateResponse response;
    grpc::Status st = stub_->Evaluate(&ctx, request, &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return response;
  }

  std::vector<v1::Warning> Firing(const std::string& indicator) {
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, testing::kAssessmentToken);
    v1::ListWarningsRequest request;
    request.set_indicator_id(indicator);
    v1::ListWarningsResponse response;
    grpc::Status st = stub_->ListWarnings(&ctx, request, &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return {response.warnings().begin(), response.warnings().end()};
  }

  halfsky::testing::CommandResult Ctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {halfsky::testing::ServiceBinary("halfskyctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(),
                {"--server", suite_->evaluation().address(), "--token", testing::kAssessmentToken,
                 "--aggregation", suite_->aggregation().address()});
    auto r = halfsky::testing::RunCommand(argv,
                                          {{"HALFSKY_SERVER", ""},
                                           {"HALFSKY_TOKEN", ""},
                                           {"HALFSKY_AGGREGATION", ""},
                                           {"HALFSKY_EVALUATION", ""},
                                           {"NO_COLOR", "1"}},
                                          absl::Seconds(60));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : halfsky::testing::CommandResult{};
  }

  std::unique_ptr<halfsky::testing::Suite> suite_;
  std::unique_ptr<v1::EvaluationService::Stub> stub_;
};

bool HasKind(const std::vector<v1::Warning>& ws, v1::WarningKind kind) {
  for (const auto& w : ws) {
    if (w.kind() == kind) {
      return true;
    }
  }
  return false;
}

// Item 1: the issue's corpus. Before, the district showed 136.8 and 290.7
// per 100 000 and a red 逆向变化 "2030年预计为5000.3/10万".
TEST_F(RealDataEndToEndTest, OneTownReportingIsDataIncompleteWithoutProgressWarning) {
  ASSERT_NO_FATAL_FAILURE(SubmitAndWait(
      "partial-1", {Counts(kChencang, 2023, 1, 731), Counts(kChencang, 2025, 2, 688)}));

  const std::vector<v1::Warning> firing = Firing("HEALTH-01");
  EXPECT_FALSE(HasKind(firing, v1::WARNING_KIND_PROGRESS));
  EXPECT_FALSE(HasKind(firing, v1::WARNING_KIND_FLUCTUATION));
  for (const auto& w : firing) {
    EXPECT_THAT(w.explanation_zh(), Not(HasSubstr("5000"))) << w.ShortDebugString();
  }

  const v1::EvaluateResponse e = Evaluate("HEALTH-01");
  ASSERT_EQ(e.assessments_size(), 2);
  const v1::TargetAssessment& a = e.assessments(0);
  EXPECT_EQ(a.status(), v1::PROGRESS_STATUS_DATA_INCOMPLETE);
  EXPECT_EQ(a.severity(), v1::SEVERITY_UNSPECIFIED);
  EXPECT_EQ(a.explanation_zh(),
            "孕产妇死亡率2023、2025年仅有部分镇街报送（2023年仅1/11个镇街报送，2025年仅1/11个"
            "镇街报送），不能作为全区数值：数据不完整，暂无法评估进展。");
  EXPECT_FALSE(a.figures().has_current_value());
  EXPECT_FALSE(a.figures().has_projected_value());
  // The series says what each point covers.
  ASSERT_EQ(e.series_size(), 2);
  for (const auto& p : e.series()) {
    EXPECT_TRUE(p.incomplete());
    EXPECT_EQ(p.contributing_area_count(), 1);
    EXPECT_EQ(p.expected_area_count(), 11);
    EXPECT_NEAR(p.completeness_percent(), 100.0 / 11, 1e-9);
  }
  EXPECT_NEAR(e.series(0).value(), 1.0 / 731 * 1e5, 1e-9);  // 136.8: a part

  // The Redis cache and the aggregation service's GetSeries (the fallback)
  // carry the same coverage.
  HiredisOptions redis_options;
  redis_options.port = suite_->redis().port();
  HiredisClient redis(redis_options);
  RedisSeriesSource from_redis(&redis);
  GrpcSeriesSource from_grpc(
      grpc::CreateChannel(suite_->aggregation().address(), grpc::InsecureChannelCredentials()),
      testing::kStatisticsToken);
  v1::Indicator indicator;
  indicator.set_id("HEALTH-01");
  const std::vector<SeriesSpec> specs = {SeriesSpec{}};
  auto r = from_redis.Read(indicator, {kDistrict}, specs);
  auto g = from_grpc.Read(indicator, {kDistrict}, specs);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(g.ok()) << g.status();
  const auto& rp = r->areas.at(0).Get(SeriesSpec{});
  const auto& gp = g->areas.at(0).Get(SeriesSpec{});
  ASSERT_EQ(rp.size(), 2u);
  ASSERT_EQ(gp.size(), 2u);
  for (size_t i = 0; i < rp.size(); ++i) {
    EXPECT_TRUE(rp[i].incomplete());
    EXPECT_EQ(rp[i].SerializeAsString(), gp[i].SerializeAsString())
        << rp[i].ShortDebugString() << "\nvs\n"
        << gp[i].ShortDebugString();
  }
}

// Item 1, the other side, and item 2's last sentence: every child reports
// (a district: ≈ 3 000 births, 0–2 deaths a year): the district's figure is
// complete, pooled over 3 years with the exact Poisson interval, and the
// rise warns as before.
TEST_F(RealDataEndToEndTest, AllChildrenReportingSmallCountsPooledAndWarned) {
  const double deaths[] = {0, 1, 0, 1, 2, 2};  // 2020..2025, the district's
  std::vector<v1::DataValue> values;
  for (int y = 0; y < 6; ++y) {
    for (size_t c = 0; c < Children().size(); ++c) {
      const double d = (c == static_cast<size_t>(y) % Children().size()) ? deaths[y] : 0;
      values.push_back(Counts(Children()[c], 2020 + y, d, 280));
    }
  }
  ASSERT_NO_FATAL_FAILURE(SubmitAndWait("complete-1", values));

  const v1::EvaluateResponse e = Evaluate("HEALTH-01");
  ASSERT_EQ(e.assessments_size(), 2);
  const v1::TargetAssessment& a = e.assessments(0);
  EXPECT_EQ(a.status(), v1::PROGRESS_STATUS_MOVING_AWAY);
  EXPECT_TRUE(a.figures().few_events());
  ASSERT_TRUE(a.figures().has_interval());
  EXPECT_DOUBLE_EQ(a.figures().event_count(), 5);  // 2023–2025
  EXPECT_NEAR(a.figures().current_value(), 5.0 / 9240 * 1e5, 1e-9);
  EXPECT_NEAR(a.figures().base_value(), 1.0 / 9240 * 1e5, 1e-9);
  EXPECT_THAT(a.explanation_zh(), HasSubstr("孕产妇死亡率2023—2025年为54.1/10万"));
  EXPECT_THAT(a.explanation_zh(), HasSubstr("事件数少：按3年合并计算，2023—2025年共5例"));
  EXPECT_THAT(a.explanation_zh(), Not(HasSubstr("数据不完整")));
  for (const auto& p : e.series()) {
    EXPECT_FALSE(p.incomplete()) << p.ShortDebugString();
    EXPECT_EQ(p.contributing_area_count(), 11);
  }
  const std::vector<v1::Warning> firing = Firing("HEALTH-01");
  ASSERT_TRUE(HasKind(firing, v1::WARNING_KIND_PROGRESS));
  for (const auto& w : firing) {
    if (w.kind() == v1::WARNING_KIND_PROGRESS) {
      EXPECT_EQ(w.status(), v1::PROGRESS_STATUS_MOVING_AWAY);
      EXPECT_EQ(w.severity(), v1::SEVERITY_RED);
      EXPECT_EQ(w.explanation_zh(), a.explanation_zh());
    }
  }
}

// Item 2: a yearbook's rate without counts. Submitted as published values,
// it is evaluated as it stands (13.2, not 13.2 events pooled), and no
// target says "缺少城镇或农村的数据" where both series are simply absent.
TEST_F(RealDataEndToEndTest, PublishedRateIsEvaluatedAsPublished) {
  ASSERT_NO_FATAL_FAILURE(SubmitAndWait(
      "published-1", {PublishedRate(kDistrict, 2020, 16.9), PublishedRate(kDistrict, 2024, 13.2)}));

  const v1::EvaluateResponse e = Evaluate("HEALTH-01");
  ASSERT_EQ(e.assessments_size(), 2);
  const v1::TargetAssessment& a = e.assessments(0);
  EXPECT_EQ(a.status(), v1::PROGRESS_STATUS_ON_TRACK);
  EXPECT_DOUBLE_EQ(a.figures().current_value(), 13.2);
  EXPECT_DOUBLE_EQ(a.figures().base_value(), 16.9);
  EXPECT_FALSE(a.figures().few_events());
  EXPECT_FALSE(a.figures().has_interval());
  EXPECT_THAT(a.explanation_zh(), HasSubstr("孕产妇死亡率2024年为13.2/10万"));
  EXPECT_THAT(a.explanation_zh(), HasSubstr("为公布数，按公布值评估，不按事件数合并"));
  EXPECT_THAT(a.explanation_zh(), Not(HasSubstr("事件数少")));
  const v1::TargetAssessment& gap = e.assessments(1);
  EXPECT_EQ(gap.status(), v1::PROGRESS_STATUS_NOT_ASSESSABLE);
  EXPECT_THAT(gap.explanation_zh(), Not(HasSubstr("缺少城镇或农村的数据")));
  ASSERT_EQ(e.series_size(), 2);
  EXPECT_TRUE(e.series(1).published());
  EXPECT_DOUBLE_EQ(e.series(1).numerator(), 0);
  EXPECT_FALSE(HasKind(Firing("HEALTH-01"), v1::WARNING_KIND_PROGRESS));

  // A published value outside the indicator's range, or for an indicator
  // that is not a rate or proportion, is refused and writes nothing.
  v1::SubmitBatchResponse response;
  grpc::Status st =
      SubmitStatus("published-bad", {PublishedRate(kDistrict, 2023, 1500)}, &response);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message() + st.error_details(), HasSubstr("1500"));
  EXPECT_EQ(Evaluate("HEALTH-01").series_size(), 2);
}

// Numbers in a markdown cell: "136.8（仅1/11个镇街）" → {136.8} (the
// coverage's counts are not figures); "-" → {}.
std::vector<double> CellFigures(const std::string& cell) {
  std::string head = cell;
  const size_t paren = head.find("（");
  if (paren != std::string::npos) {
    head = head.substr(0, paren);
  }
  std::vector<double> out;
  double v = 0;
  std::string trimmed(absl::StripAsciiWhitespace(head));
  if (absl::SimpleAtod(trimmed, &v)) {
    out.push_back(v);
  }
  return out;
}

// Item 3: the annual (2024) and mid-term (2025) reports on a realistic
// partial corpus. Maternal mortality: every child in 2020–2021; 2022 ten
// children with counts and one with only a published rate; 2023 and 2025
// one town only. Screening: the district's own figures.
TEST_F(RealDataEndToEndTest, ReportsPrintNoAbsurdFigureAndPartsWithTheirCoverage) {
  std::vector<v1::DataValue> values;
  for (int year : {2020, 2021, 2022}) {
    for (size_t c = 0; c < Children().size(); ++c) {
      if (year == 2022 && c == 0) {
        values.push_back(PublishedRate(Children()[c], year, 13.2));
      } else {
        values.push_back(Counts(Children()[c], year, c == 3 ? 1 : 0, 280));
      }
    }
  }
  values.push_back(Counts(kChencang, 2023, 1, 731));
  values.push_back(Counts(kChencang, 2025, 2, 688));
  ASSERT_NO_FATAL_FAILURE(SubmitAndWait("report-1", values));

  const std::map<std::string, std::pair<double, double>> ranges = {{"HEALTH-01", {0, 1000}},
                                                                   {"HEALTH-02", {0, 100}}};
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"report", "annual", "--year", "2024", "--format", "md"},
           {"report", "midterm", "--format", "md"}}) {
    SCOPED_TRACE(absl::StrJoin(args, " "));
    const halfsky::testing::CommandResult r = Ctl(args);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    const std::string& md = r.out;
    EXPECT_THAT(md, Not(HasSubstr("5000")));
    // No progress verdict and no progress warning for maternal mortality.
    EXPECT_THAT(md, HasSubstr("### HEALTH-01 孕产妇死亡率（/10万） — 数据不完整\n")) << md;
    EXPECT_THAT(md, Not(HasSubstr("| 进度预警 | 孕产妇死亡率"))) << md;
    EXPECT_THAT(md, Not(HasSubstr("HEALTH-01 孕产妇死亡率 | 进度预警"))) << md;
    // 136.8 is Chencang's figure, never the district's: wherever it is
    // printed, its coverage follows.
    size_t at = 0;
    int partial_2023 = 0;
    while ((at = md.find("136.8", at)) != std::string::npos) {
      EXPECT_EQ(
          md.compare(at, std::string("136.8（仅1/11个镇街）").size(), "136.8（仅1/11个镇街）"), 0)
          << md.substr(at, 80);
      ++partial_2023;
      at += 5;
    }
    EXPECT_GE(partial_2023, 1) << md;
    // Every figure in a table cell of an indicator's rows is within its
    // indicator's possible range; every figure followed by the unit in a
    // sentence too.
    std::string current;
    int checked = 0;
    for (absl::string_view line : absl::StrSplit(md, '\n')) {
      if (absl::StartsWith(line, "### HEALTH-")) {
        current = std::string(line.substr(4, 9));
      }
      if (absl::StartsWith(line, "| HEALTH-")) {
        current = std::string(line.substr(2, 9));
      }
      static const std::regex kFigure(R"((-?[0-9]+(\.[0-9]+)?)(/10万))");
      const std::string text(line);
      for (auto it = std::sregex_iterator(text.begin(), text.end(), kFigure);
           it != std::sregex_iterator(); ++it) {
        const double v = std::stod((*it)[1].str());
        EXPECT_GE(v, 0) << line;
        EXPECT_LE(v, 1000) << line;
        ++checked;
      }
      auto range = ranges.find(current);
      if (range == ranges.end()) {
        continue;
      }
      const auto [lo, hi] = range->second;
      if (absl::StartsWith(line, "| 数值 |") || absl::StartsWith(line, "| HEALTH-")) {
        std::vector<std::string> cells = absl::StrSplit(line, '|');
        // Monitoring rows: value and previous value (cells 2, 3); the
        // series row: every year.
        const bool monitoring = absl::StartsWith(line, "| HEALTH-");
        for (size_t i = 2; i < cells.size(); ++i) {
          if (monitoring && i > 3) {
            break;
          }
          for (double v : CellFigures(cells[i])) {
            EXPECT_GE(v, lo) << line;
            EXPECT_LE(v, hi) << line;
            ++checked;
          }
        }
      }
    }
    EXPECT_GT(checked, 3) << md;
    // The published child of 2022 is named where the district's 2022
    // figure is printed.
    EXPECT_THAT(md, HasSubstr("（仅10/11个镇街，1个公布数未计入）")) << md;
  }
}

}  // namespace
}  // namespace halfsky::evaluation
