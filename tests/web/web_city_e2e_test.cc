// What the upper level reads (issue #17 item 4), on one city instance whose
// catalog holds the city's plan and its districts' plans
// (deploy/examples/city/catalog): the real submission, aggregation and
// evaluation processes and halfsky-web (tests/web/console_stack.h), the real
// halfskyctl, headless Chromium.
//   - The city's report compares its districts: each against its own plan
//     and the city's, ranked, with the gap to the city's figure, and a
//     partial figure neither compared nor ranked (GetEvaluationReport,
//     halfskyctl report, the web /report).
//   - Warnings filtered by a district take its whole subtree
//     (ListWarnings/WatchWarnings include_subareas, halfskyctl warnings
//     --area, the web board); an unknown area is INVALID_ARGUMENT naming
//     the field.
//   - The web console names the plan an area's figures are evaluated
//     against (warning and indicator pages), and the indicator page prints
//     the words of the catalog's enums (kind, direction, disaggregation,
//     comparator, data source).
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/auth/credentials.h"
#include "common/status/status.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "tests/halfskyctl/chromium.h"
#include "tests/support/suite.h"
#include "tests/web/console_stack.h"

namespace halfsky {
namespace {

namespace v1 = ::halfsky::v1;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAssessmentToken[] = "webcity-assessment-token-1";
constexpr char kHealthToken[] = "webcity-health-unit-token-1";
constexpr char kStatisticsToken[] = "webcity-statistics-token-1";
constexpr char kServiceToken[] = "webcity-service-token-1";
constexpr char kCity[] = "610300";
constexpr char kWeibin[] = "610302";
constexpr char kJintai[] = "610303";
constexpr char kJintaiTown[] = "610303001";
constexpr char kWeibinWarning[] = "HEALTH-01:610302:progress:2030";

class WebCityTest : public testing::ConsoleStackTest {
 protected:
  static void SetUpTestSuite() {
    testing::ConsoleStackOptions options{
        std::string(HALFSKY_SOURCE_DIR) + "/deploy/examples/city/catalog", kAssessmentToken,
        kHealthToken, kStatisticsToken, kServiceToken};
    options.unit = "HEALTH";
    ASSERT_NO_FATAL_FAILURE(StartStack(options));
    // 孕产妇死亡率 (per 10万 live births): 金台区 16 → 11.6 (2020 → 2024),
    // 渭滨区 12 → 16 (moving away: a progress warning of 渭滨区), so the city
    // 14 → 13.8. 宫颈癌筛查率: 渭滨区 60 % → 68 %; 金台区 only from one of its
    // two subdistricts/towns in 2024 (a part of the district).
    ASSERT_NO_FATAL_FAILURE(SubmitValues(
        kHealthToken, "webcity-1",
        {Value("HEALTH-01", kJintai, 2020, 40, 250000),
         Value("HEALTH-01", kJintai, 2024, 29, 250000),
         Value("HEALTH-01", kWeibin, 2020, 30, 250000),
         Value("HEALTH-01", kWeibin, 2024, 40, 250000),
         Value("HEALTH-02", kWeibin, 2020, 600, 1000), Value("HEALTH-02", kWeibin, 2024, 680, 1000),
         Value("HEALTH-02", kJintaiTown, 2024, 800, 1000)}));
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline && !HasWarning(kWeibinWarning)) {
      absl::SleepFor(absl::Milliseconds(100));
    }
    ASSERT_TRUE(HasWarning(kWeibinWarning)) << suite_->evaluation().log();
  }

  static v1::DataValue Value(const std::string& indicator, const std::string& area, int year,
                             double numerator, double denominator) {
    return FractionValue(indicator, area, year, numerator, denominator, "妇幼卫生年报");
  }

  static std::unique_ptr<v1::EvaluationService::Stub> Evaluation() {
    return v1::EvaluationService::NewStub(
        grpc::CreateChannel(suite_->evaluation().address(), grpc::InsecureChannelCredentials()));
  }

  static grpc::Status List(const v1::ListWarningsRequest& request,
                           v1::ListWarningsResponse* response) {
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, kAssessmentToken);
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return Evaluation()->ListWarnings(&ctx, request, response);
  }

  static bool HasWarning(const std::string& id) {
    v1::ListWarningsResponse response;
    if (!ListWarnings(kAssessmentToken, 1000, &response).ok()) {
      return false;
    }
    for (const v1::Warning& w : response.warnings()) {
      if (w.id() == id) {
        return true;
      }
    }
    return false;
  }

  // The areas of the firing warnings ListWarnings gives for `area`.
  static std::set<std::string> AreasOf(const std::string& area, bool include_subareas) {
    v1::ListWarningsRequest request;
    request.set_area_code(area);
    request.set_include_subareas(include_subareas);
    request.set_page_size(1000);
    v1::ListWarningsResponse response;
    const grpc::Status st = List(request, &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    std::set<std::string> out;
    for (const v1::Warning& w : response.warnings()) {
      out.insert(w.area_code());
    }
    return out;
  }

  static v1::EvaluationReport CityReport() {
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, kAssessmentToken);
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    v1::GetEvaluationReportRequest request;
    request.set_type(v1::REPORT_TYPE_ANNUAL);
    request.set_year(2024);
    request.set_area_code(kCity);
    v1::EvaluationReport report;
    const grpc::Status st = Evaluation()->GetEvaluationReport(&ctx, request, &report);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return report;
  }

  static testing::CommandResult Ctl(std::vector<std::string> args, const std::string& server) {
    std::vector<std::string> argv = {testing::ServiceBinary("halfskyctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--server", server, "--token", kAssessmentToken});
    absl::StatusOr<testing::CommandResult> r =
        testing::RunCommand(argv, {{"HALFSKY_TOKEN", ""},
                                   {"HALFSKY_SERVER", ""},
                                   {"HALFSKY_AGGREGATION", suite_->aggregation().address()},
                                   {"NO_COLOR", "1"}});
    if (!r.ok()) {
      ADD_FAILURE() << absl::StrJoin(argv, " ") << ": " << r.status();
      return {};
    }
    return *r;
  }

  static std::string Render(const std::string& next) {
    return RenderSignedIn(kAssessmentToken, next, "1280,900", 10000);
  }
};

#define SKIP_WITHOUT_CHROMIUM()              \
  if (testing::FindChromium().empty()) {     \
    GTEST_SKIP() << "no Chromium installed"; \
  }

TEST_F(WebCityTest, TheCityReportComparesItsDistrictsAgainstBothPlans) {
  const v1::EvaluationReport report = CityReport();
  EXPECT_EQ(report.plan_code(), "BAOJI");
  ASSERT_EQ(report.child_areas_size(), 2) << report.ShortDebugString();
  std::map<std::string, const v1::ChildAreaComparison*> by_area;
  for (const v1::ChildAreaComparison& c : report.child_areas()) {
    by_area[c.area_code()] = &c;
  }
  const v1::ChildAreaComparison& jintai = *by_area.at(kJintai);
  const v1::ChildAreaComparison& weibin = *by_area.at(kWeibin);
  EXPECT_EQ(jintai.plan_code(), "JINTAI");
  EXPECT_EQ(weibin.plan_code(), "WEIBIN");
  auto row = [](const v1::ChildAreaComparison& c, const std::string& id) {
    for (const v1::ChildIndicatorComparison& r : c.indicators()) {
      if (r.indicator_id() == id) {
        return r;
      }
    }
    ADD_FAILURE() << "no " << id << " in " << c.ShortDebugString();
    return v1::ChildIndicatorComparison();
  };
  // 孕产妇死亡率 2024: 金台区 11.6, 渭滨区 16, the city (69 / 500 000) 13.8.
  const v1::ChildIndicatorComparison j1 = row(jintai, "HEALTH-01");
  const v1::ChildIndicatorComparison w1 = row(weibin, "HEALTH-01");
  EXPECT_EQ(j1.year(), 2024);
  EXPECT_NEAR(j1.figure().value(), 11.6, 1e-9);
  EXPECT_NEAR(j1.report_area_figure().value(), 13.8, 1e-9);
  EXPECT_NEAR(j1.gap_to_report_area(), -2.2, 1e-9);
  EXPECT_NEAR(w1.gap_to_report_area(), 2.2, 1e-9);
  EXPECT_EQ(j1.rank(), 1);
  EXPECT_EQ(w1.rank(), 2);
  // Against each plan's own target: 金台区 ≤ 10.15 and the city's ≤ 12.
  ASSERT_EQ(j1.own_plan_assessments_size(), 1);
  EXPECT_DOUBLE_EQ(j1.own_plan_assessments(0).target().value(), 10.15);
  ASSERT_EQ(j1.report_plan_assessments_size(), 1);
  EXPECT_DOUBLE_EQ(j1.report_plan_assessments(0).target().value(), 12);
  EXPECT_EQ(j1.report_plan_status(), v1::PROGRESS_STATUS_ACHIEVED);
  EXPECT_EQ(w1.report_plan_status(), v1::PROGRESS_STATUS_MOVING_AWAY);
  // 金台区's 宫颈癌筛查率 is a part (1 of its 2 subdistricts/towns): shown
  // with its coverage, neither compared with the city nor ranked.
  const v1::ChildIndicatorComparison j2 = row(jintai, "HEALTH-02");
  EXPECT_TRUE(j2.figure().incomplete());
  EXPECT_FALSE(j2.has_gap_to_report_area());
  EXPECT_EQ(j2.rank(), 0);
  EXPECT_THAT(j2.covers_zh(), HasSubstr("2024年仅1/2个镇街报送，为部分数"));
  EXPECT_EQ(j2.own_plan_status(), v1::PROGRESS_STATUS_DATA_INCOMPLETE);
  EXPECT_EQ(row(weibin, "HEALTH-02").rank(), 1);
  // 达标率 against the city's plan: 金台区 1 of 1 assessable, 渭滨区 1 of 2.
  EXPECT_EQ(jintai.report_plan().assessed_count(), 1);
  EXPECT_DOUBLE_EQ(jintai.report_plan().achievement_rate_percent(), 100);
  EXPECT_EQ(weibin.report_plan().assessed_count(), 2);
  EXPECT_DOUBLE_EQ(weibin.report_plan().achievement_rate_percent(), 50);
  EXPECT_EQ(jintai.rank(), 1);
  EXPECT_EQ(weibin.rank(), 2);
}

TEST_F(WebCityTest, WarningsFilterByAnAreaAndItsWholeSubtree) {
  // The city alone has no warning of 渭滨区; the city with its subtree does.
  EXPECT_EQ(AreasOf(kCity, false).count(kWeibin), 0u);
  EXPECT_EQ(AreasOf(kCity, true).count(kWeibin), 1u);
  const std::set<std::string> weibin = AreasOf(kWeibin, true);
  EXPECT_EQ(weibin.count(kWeibin), 1u);
  for (const std::string& area : weibin) {
    EXPECT_TRUE(absl::StartsWith(area, kWeibin)) << area << " is not in 渭滨区";
  }
  // Unknown area, a subtree without its root: INVALID_ARGUMENT naming the field.
  for (const auto& [area, field] : std::vector<std::pair<std::string, std::string>>{
           {"999999", "area_code"}, {"", "include_subareas"}}) {
    v1::ListWarningsRequest request;
    request.set_area_code(area);
    request.set_include_subareas(true);
    v1::ListWarningsResponse response;
    const grpc::Status st = List(request, &response);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << area;
    const std::vector<FieldViolation> violations = BadRequestViolations(FromGrpcStatus(st));
    ASSERT_EQ(violations.size(), 1u) << st.error_message();
    EXPECT_EQ(violations[0].field, field);
  }
  // WatchWarnings with the same filter: the initial set is 渭滨区's subtree.
  grpc::ClientContext ctx;
  auth::AddBearerToken(&ctx, kAssessmentToken);
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  v1::WatchWarningsRequest request;
  request.mutable_filter()->set_area_code(kWeibin);
  request.mutable_filter()->set_include_subareas(true);
  auto stub = Evaluation();
  auto reader = stub->WatchWarnings(&ctx, request);
  v1::WarningEvent event;
  std::set<std::string> watched;
  while (reader->Read(&event) && event.type() != v1::WARNING_EVENT_TYPE_SYNCED) {
    watched.insert(event.warning().area_code());
  }
  EXPECT_EQ(watched, weibin);
  ctx.TryCancel();
}

TEST_F(WebCityTest, HalfskyctlFiltersWarningsByDistrictAndPrintsTheComparison) {
  const testing::CommandResult all =
      Ctl({"warnings", "--area", kWeibin, "--format", "json"}, suite_->evaluation().address());
  EXPECT_EQ(all.exit_code, 1) << all.err;  // some warning matches
  v1::ListWarningsResponse response;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(all.out, &response).ok()) << all.out;
  ASSERT_GT(response.warnings_size(), 0);
  for (const v1::Warning& w : response.warnings()) {
    EXPECT_TRUE(absl::StartsWith(w.area_code(), kWeibin)) << w.id();
  }
  // --area is the area with its subtree: the city's takes 渭滨区's warning.
  const testing::CommandResult subtree =
      Ctl({"warnings", "--area", kCity, "--format", "json"}, suite_->evaluation().address());
  EXPECT_THAT(subtree.out, HasSubstr(kWeibinWarning)) << subtree.err;
  const testing::CommandResult city =
      Ctl({"warnings", "--area", kCity, "--area-only", "--format", "json"},
          suite_->evaluation().address());
  EXPECT_THAT(city.out, Not(HasSubstr(kWeibinWarning))) << city.err;

  const testing::CommandResult md =
      Ctl({"report", "annual", "--year", "2024", "--area", kCity, "--format", "md"},
          suite_->evaluation().address());
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_THAT(md.out, HasSubstr("## 下级区域比较"));
  EXPECT_THAT(md.out, HasSubstr("| 金台区 | 金台区妇女发展规划（2021—2030年） |"));
  EXPECT_THAT(md.out, HasSubstr("为部分数，不与宝鸡市比较、不排名"));
  EXPECT_THAT(md.out, HasSubstr("2024年；差距 = 渭滨区 − 宝鸡市"));
  const testing::CommandResult csv =
      Ctl({"report", "annual", "--year", "2024", "--area", kCity, "--format", "csv"},
          suite_->evaluation().address());
  EXPECT_THAT(csv.out, HasSubstr("child_area,")) << csv.err;
  EXPECT_THAT(csv.out, HasSubstr("child_indicator,")) << csv.err;
  const testing::CommandResult html =
      Ctl({"report", "annual", "--year", "2024", "--area", kCity, "--format", "html"},
          suite_->evaluation().address());
  EXPECT_THAT(
      html.out,
      HasSubstr(R"(<table class="children" data-table="下级区域达标率与排名（2024年报告）">)"))
      << html.err;
  EXPECT_THAT(html.out, HasSubstr("<td>80（部分数）</td>"));
  // The city's 宫颈癌筛查率 rests on 金台区's part: not compared either.
  EXPECT_THAT(md.out, HasSubstr("宝鸡市同年为部分数（各县区数据不完整），不计差距"));
}

TEST_F(WebCityTest, TheBoardFiltersByDistrictAndThePagesNameTheGoverningPlan) {
  SKIP_WITHOUT_CHROMIUM();
  const std::string board = Render("%2Fwarnings%3Farea%3D610302%26live%3D0");
  EXPECT_THAT(board, HasSubstr(absl::StrCat(R"(data-id=")", kWeibinWarning, R"(")")))
      << board.substr(0, 3000);
  EXPECT_THAT(board, Not(HasSubstr(R"(data-id="HEALTH-01:610303:)")));
  EXPECT_THAT(board, Not(HasSubstr(":610300:")));
  EXPECT_THAT(board, HasSubstr("渭滨区及其下级区域的预警"));

  const std::string warning = Render(absl::StrCat("%2Fwarning%3Fid%3D", kWeibinWarning));
  EXPECT_THAT(warning,
              HasSubstr(R"(<p id="plan" class="meta" data-plan="WEIBIN">评估依据 plan：)"
                        "渭滨区妇女发展规划（2021—2030年）（示例，目标为演示虚构）（渭滨区）</p>"))
      << warning.substr(0, 3000);

  const std::string indicator = Render("%2Findicator%3Fid%3DHEALTH-01%26area%3D610303");
  EXPECT_THAT(indicator, HasSubstr(R"(<p id="plan" class="meta" data-plan="JINTAI">评估依据 plan：)"
                                   "金台区妇女发展规划（2021—2030年）（金台区）</p>"))
      << indicator.substr(0, 3000);
  // The catalog's enums in words (their label_zh / label_en).
  EXPECT_THAT(indicator, HasSubstr("<dt>类型 kind</dt><dd>率 rate</dd>"));
  EXPECT_THAT(indicator, HasSubstr("<dt>方向 direction</dt><dd>越低越好 lower is better</dd>"));
  EXPECT_THAT(indicator, HasSubstr("部门统计 departmental statistics"));
  EXPECT_THAT(indicator,
              HasSubstr("<dt>分组 disaggregations</dt><dd>分镇街 by town/subdistrict</dd>"));
  EXPECT_THAT(indicator, HasSubstr(R"(<td data-label="比较">≤ 以下</td>)"));
  EXPECT_THAT(indicator, HasSubstr(R"(<td data-label="规划" data-plan="WEIBIN">)"));

  const std::string report = Render("%2Freport%3Fkind%3Dannual%26year%3D2024%26area%3D610300");
  EXPECT_THAT(report, HasSubstr("下级区域达标率与排名（2024年报告）")) << report.substr(0, 3000);
  EXPECT_THAT(report, HasSubstr("宝鸡市妇女发展规划（2021—2030年）（示例） 2024年度监测评估报告"));
}

}  // namespace
}  // namespace halfsky
