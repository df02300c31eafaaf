// halfsky-web end to end: the indicator page (/indicator) and the bureau's
// reporting board (/reporting) in headless Chromium against the real
// submission, aggregation and evaluation processes and the real
// halfsky-web, on a catalog of their own
// (tests/testdata/web/indicator_catalog.textproto):
//  - the indicator page shows 指标解释 (definition, formula, source,
//    responsible unit), the 2025 and 2030 targets in the plan's words, the
//    series by area and urban/rural (or by sex) as a table whose every row
//    names its area, sex, residence and year, with 数据不完整 and its
//    coverage on a part, an SVG chart with the targets and the points
//    (hollow when incomplete), and each value's revisions with who, when
//    and the change reason;
//  - the reporting board shows per unit 应报 / 已报 / 按时 / 逾期未报 and the
//    form's 审核 state for the chosen year, every unit × indicator entry,
//    and the year's rule violations (逻辑审核);
//  - a unit principal sees what the services let it see: its own rows of
//    the board, and the services' PERMISSION_DENIED in Chinese where it asks
//    for more (another unit's history, every unit's violations);
//  - the warnings board and a warning's page link to the indicator page.
// Pages are loaded with --dump-dom; no console message is allowed.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/auth/credentials.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/aggregation.grpc.pb.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "halfsky/v1/review.grpc.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "tests/halfskyctl/chromium.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"
#include "tests/web/console_stack.h"

namespace halfsky {
namespace {

namespace v1 = ::halfsky::v1;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAssessmentToken[] = "webind-assessment-token-1";
constexpr char kHealthToken[] = "webind-health-unit-token-1";
constexpr char kStatisticsToken[] = "webind-statistics-token-1";
constexpr char kServiceToken[] = "webind-service-token-1";
constexpr char kDistrict[] = "610303";
constexpr char kTown[] = "610303100";

// The year now in the district (UTC+8): its figures are not yet due.
int ThisYear() { return absl::ToCivilYear(absl::Now(), absl::FixedTimeZone(8 * 3600)).year(); }

int HttpStatus(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return 0;
  }
  const std::string req = absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: 127.0.0.1:", port,
                                       "\r\nConnection: close\r\n\r\n");
  (void)!write(fd, req.data(), req.size());
  char buf[4096];
  const ssize_t n = read(fd, buf, sizeof(buf));
  close(fd);
  int status = 0;
  if (n > 12) {
    (void)absl::SimpleAtoi(std::string(buf + 9, 3), &status);
  }
  return status;
}

v1::DataValue Fraction(const std::string& indicator, const std::string& area, int year,
                       double numerator, double denominator, v1::Sex sex = v1::SEX_TOTAL,
                       v1::Residence residence = v1::RESIDENCE_ALL) {
  return testing::ConsoleStackTest::FractionValue(indicator, area, year, numerator, denominator,
                                                  "妇幼卫生年报", sex, residence);
}

class WebConsoleIndicatorTest : public testing::ConsoleStackTest {
 protected:
  static void SetUpTestSuite() {
    ASSERT_NO_FATAL_FAILURE(StartStack(
        {std::string(HALFSKY_SOURCE_DIR) + "/tests/testdata/web/indicator_catalog.textproto",
         kAssessmentToken, kHealthToken, kStatisticsToken, kServiceToken}));

    // HEALTH-06: the district 50 % (2020), 54 % then corrected to 56 %
    // (2024), urban 60 % and rural 40 % of 2024 (their counts, 300 + 200,
    // are not the district's 560: a residence_sum violation), the town
    // alone in 2023 (the district's 2023 figure is a part: 1 of 2
    // children), and this year's figure, reported before it is due.
    ASSERT_NO_FATAL_FAILURE(SubmitValues(
        kHealthToken, "webind-1",
        {Fraction("HEALTH-06", kDistrict, 2020, 500, 1000),
         Fraction("HEALTH-06", kDistrict, 2024, 540, 1000),
         Fraction("HEALTH-06", kDistrict, 2024, 300, 500, v1::SEX_TOTAL, v1::RESIDENCE_URBAN),
         Fraction("HEALTH-06", kDistrict, 2024, 200, 500, v1::SEX_TOTAL, v1::RESIDENCE_RURAL),
         Fraction("HEALTH-06", kTown, 2023, 260, 500),
         Fraction("HEALTH-06", kDistrict, ThisYear(), 580, 1000)}));
    v1::DataValue corrected = Fraction("HEALTH-06", kDistrict, 2024, 560, 1000);
    corrected.set_change_reason("更正筛查人数（补录陈仓镇）");
    ASSERT_NO_FATAL_FAILURE(SubmitValues(kHealthToken, "webind-2", {corrected}));
    // EDUCATION-03 (the education bureau's) by sex, 2023 only: 2024 is
    // overdue.
    ASSERT_NO_FATAL_FAILURE(
        SubmitValues(kStatisticsToken, "webind-3",
                     {Fraction("EDUCATION-03", kDistrict, 2023, 900, 1000),
                      Fraction("EDUCATION-03", kDistrict, 2023, 440, 490, v1::SEX_FEMALE),
                      Fraction("EDUCATION-03", kDistrict, 2023, 460, 510, v1::SEX_MALE)}));
    // The health unit submits this year's form.
    auto review = v1::ReviewService::NewStub(
        grpc::CreateChannel(suite_->submission().address(), grpc::InsecureChannelCredentials()));
    {
      grpc::ClientContext ctx;
      auth::AddBearerToken(&ctx, kHealthToken);
      v1::SubmitFormRequest request;
      request.mutable_key()->set_unit_code("HEALTH_BUREAU");
      request.mutable_key()->set_year(ThisYear());
      v1::Form form;
      const grpc::Status st = review->SubmitForm(&ctx, request, &form);
      ASSERT_TRUE(st.ok()) << st.error_message();
    }
    // Wait until aggregation has the corrected figure, and evaluation a
    // warning naming an indicator.
    auto aggregation = v1::AggregationService::NewStub(
        grpc::CreateChannel(suite_->aggregation().address(), grpc::InsecureChannelCredentials()));
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    bool ready = false;
    while (!ready && absl::Now() < deadline) {
      grpc::ClientContext ctx;
      auth::AddBearerToken(&ctx, kStatisticsToken);
      v1::GetSeriesRequest request;
      request.set_indicator_id("HEALTH-06");
      request.set_area_code(kDistrict);
      v1::GetSeriesResponse response;
      if (aggregation->GetSeries(&ctx, request, &response).ok()) {
        for (const v1::SeriesPoint& p : response.points()) {
          if (p.year() == 2024 && p.has_value() && p.value() > 55.9 && p.value() < 56.1) {
            ready = true;
          }
        }
      }
      if (!ready) {
        absl::SleepFor(absl::Milliseconds(100));
      }
    }
    ASSERT_TRUE(ready) << "aggregation never showed 56 % for 2024";
    while (IndicatorWarnings().empty() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(100));
    }
    ASSERT_FALSE(IndicatorWarnings().empty()) << "no warning names an indicator";
  }

  // The firing warnings that name an indicator.
  static std::vector<v1::Warning> IndicatorWarnings() {
    v1::ListWarningsResponse response;
    std::vector<v1::Warning> out;
    if (ListWarnings(kAssessmentToken, 1000, &response).ok()) {
      for (const v1::Warning& w : response.warnings()) {
        if (!w.indicator_id().empty()) {
          out.push_back(w);
        }
      }
    }
    return out;
  }

  // The DOM of `next` (URL-encoded) after signing in with `token`, at
  // `width` px; a console message fails the test.
  static std::string Render(const std::string& token, const std::string& next, int width = 390) {
    return RenderSignedIn(token, next, absl::StrCat(width, ",900"), 10000);
  }
};

#define SKIP_WITHOUT_CHROMIUM()              \
  if (testing::FindChromium().empty()) {     \
    GTEST_SKIP() << "no Chromium installed"; \
  }

TEST_F(WebConsoleIndicatorTest, ThePagesNeedASession) {
  EXPECT_EQ(HttpStatus(port_, "/indicator?id=HEALTH-06"), 303);
  EXPECT_EQ(HttpStatus(port_, "/reporting"), 303);
}

TEST_F(WebConsoleIndicatorTest, TheIndicatorPageExplainsTheIndicatorAndItsTargets) {
  SKIP_WITHOUT_CHROMIUM();
  const std::string dom = Render(kAssessmentToken, "%2Findicator%3Fid%3DHEALTH-06");
  MaybeScreenshot(kAssessmentToken, "%2Findicator%3Fid%3DHEALTH-06", "web-indicator.png",
                  "1280,1600", 10000);
  EXPECT_THAT(dom, HasSubstr(R"(data-indicator="HEALTH-06")")) << dom.substr(0, 3000);
  EXPECT_THAT(dom, HasSubstr("适龄妇女宫颈癌人群筛查率"));
  // 指标解释 as the catalog has it.
  EXPECT_THAT(dom,
              HasSubstr("指35—64岁妇女中近5年内接受过宫颈癌筛查的人数占35—64岁妇女人数的比例。"));
  EXPECT_THAT(dom,
              HasSubstr("适龄妇女宫颈癌人群筛查率 = 35—64岁妇女中近5年内接受过宫颈癌筛查的人数 ÷ "
                        "35—64岁妇女人数 × 100%"));
  EXPECT_THAT(dom, HasSubstr("妇女“两癌”筛查项目统计、妇幼卫生年报（区卫生健康局）"));
  EXPECT_THAT(dom, HasSubstr("<dt>责任单位 responsible</dt><dd>区卫生健康局</dd>"));
  EXPECT_THAT(dom, HasSubstr("<dt>计量单位 unit</dt><dd>%</dd>"));
  // Both targets, in the plan's words, with their values.
  EXPECT_THAT(dom, HasSubstr(R"(<tr data-target-year="2025">)"));
  EXPECT_THAT(dom, HasSubstr("适龄妇女宫颈癌人群筛查率达到60％以上"));
  EXPECT_THAT(dom, HasSubstr("<td data-label=\"目标值\">60 %</td>"));
  EXPECT_THAT(dom, HasSubstr(R"(<tr data-target-year="2030">)"));
  EXPECT_THAT(dom, HasSubstr("适龄妇女宫颈癌人群筛查率达到70％以上"));
}

TEST_F(WebConsoleIndicatorTest, TheSeriesSaysWhatEachFigureCoversAndAPartIsNeverTheWhole) {
  SKIP_WITHOUT_CHROMIUM();
  const std::string dom = Render(kAssessmentToken, "%2Findicator%3Fid%3DHEALTH-06");
  // The district's years with a figure: 2020, 2023 (a part), 2024, this year.
  EXPECT_THAT(dom, HasSubstr(R"(data-series="4")")) << dom.substr(0, 3000);
  // Each row names area, sex, residence and year.
  EXPECT_THAT(dom, HasSubstr(R"(<tr data-area="610303" data-sex="total" data-residence="all" )"
                             R"(data-year="2024" data-incomplete="no" class="selected">)"
                             R"(<td data-label="地区">金台区</td><td data-label="性别">合计</td>)"
                             R"(<td data-label="城乡">全部</td><td data-label="年份">2024</td>)"
                             R"(<td data-label="数值">56 %</td>)"));
  // 2023: the town alone, 1 of the district's 2 children: a part.
  EXPECT_THAT(dom, HasSubstr(R"(data-area="610303" data-sex="total" data-residence="all" )"
                             R"(data-year="2023" data-incomplete="yes")"));
  EXPECT_THAT(dom, HasSubstr("<td data-label=\"数值\">52 %（部分）</td>"));
  EXPECT_THAT(dom, HasSubstr("数据不完整：1/2 个下级地区"));
  // By urban/rural and by area (the indicator's disaggregations).
  EXPECT_THAT(dom, HasSubstr(R"(data-area="610303" data-sex="total" data-residence="urban" )"
                             R"(data-year="2024")"));
  EXPECT_THAT(dom, HasSubstr(R"(<td data-label="城乡">城镇</td><td data-label="年份">2024</td>)"
                             R"(<td data-label="数值">60 %</td>)"));
  EXPECT_THAT(dom, HasSubstr(R"(<td data-label="城乡">农村</td><td data-label="年份">2024</td>)"
                             R"(<td data-label="数值">40 %</td>)"));
  EXPECT_THAT(dom, HasSubstr(R"(data-area="610303100" data-sex="total" data-residence="all" )"
                             R"(data-year="2023")"));
  EXPECT_THAT(dom, HasSubstr("陈仓镇"));
  // Unapproved data are said to be.
  EXPECT_THAT(dom, HasSubstr("含未审核数据"));
  // The chart: an SVG with both targets and every point of every line,
  // the 2023 district point hollow.
  EXPECT_THAT(dom, HasSubstr(R"(<svg viewBox="0 0 640 300" role="img")"));
  EXPECT_THAT(dom, HasSubstr(R"(<g class="target" data-target-year="2025">)"));
  EXPECT_THAT(dom, HasSubstr(R"(<g class="target" data-target-year="2030">)"));
  EXPECT_THAT(dom, HasSubstr("2025年目标 60 %"));
  // 4 district + urban + rural + town 2023 (the subdistrict has none).
  EXPECT_THAT(dom, HasSubstr(R"(data-points="7")"));
  EXPECT_THAT(dom,
              HasSubstr(R"(fill="#fff" class="point" data-year="2023" data-incomplete="yes")"));
  EXPECT_THAT(dom, HasSubstr("金台区 · 合计 · 全部 2023年：52 %（数据不完整，部分）"));
}

TEST_F(WebConsoleIndicatorTest, EachValueShowsItsRevisionsWithTheChangeReason) {
  SKIP_WITHOUT_CHROMIUM();
  const std::string dom = Render(kAssessmentToken, "%2Findicator%3Fid%3DHEALTH-06");
  // 2020 (1), 2024 (2), this year (1).
  EXPECT_THAT(dom, HasSubstr(R"(data-history="4")")) << dom.substr(0, 3000);
  EXPECT_THAT(dom, HasSubstr(R"(<tr data-year="2024" data-revision="2" data-withdrawn="no">)"));
  EXPECT_THAT(dom, HasSubstr("分子 560 / 分母 1000"));
  EXPECT_THAT(dom, HasSubstr("分子 540 / 分母 1000"));
  EXPECT_THAT(dom, HasSubstr("更正筛查人数（补录陈仓镇）"));
  EXPECT_THAT(dom, HasSubstr("health-system（区卫生健康局）"));
  // The newest revision first.
  EXPECT_LT(dom.find("分子 560 / 分母 1000"), dom.find("分子 540 / 分母 1000"));
  // Each other group's directly reported value links to its own history.
  const std::string town_link =
      "/indicator?id=HEALTH-06&amp;area=610303100&amp;sex=SEX_TOTAL&amp;residence=RESIDENCE_ALL";
  EXPECT_THAT(dom, HasSubstr(absl::StrCat(R"(<a class="history" href=")", town_link)));
  const std::string town = Render(kAssessmentToken,
                                  "%2Findicator%3Fid%3DHEALTH-06%26area%3D610303100%26sex%3DSEX_"
                                  "TOTAL%26residence%3DRESIDENCE_ALL");
  EXPECT_THAT(town, HasSubstr(R"(data-history="1")")) << town.substr(0, 3000);
  EXPECT_THAT(town, HasSubstr("修订记录（陈仓镇 · 合计 · 全部）"));
  EXPECT_THAT(town, HasSubstr("分子 260 / 分母 500"));
}

TEST_F(WebConsoleIndicatorTest, AnIndicatorBySexAndTheIndex) {
  SKIP_WITHOUT_CHROMIUM();
  const std::string dom = Render(kStatisticsToken, "%2Findicator%3Fid%3DEDUCATION-03");
  EXPECT_THAT(dom, HasSubstr(R"(data-sex="female" data-residence="all" data-year="2023")"))
      << dom.substr(0, 3000);
  EXPECT_THAT(dom, HasSubstr(R"(data-sex="male" data-residence="all" data-year="2023")"));
  EXPECT_THAT(dom, HasSubstr("<td data-label=\"性别\">女</td>"));
  EXPECT_THAT(dom, HasSubstr("<dt>责任单位 responsible</dt><dd>区教育局</dd>"));
  // No 指标解释 in the catalog: said so, not invented.
  EXPECT_THAT(dom, HasSubstr("目录中尚无指标解释"));
  EXPECT_THAT(dom, HasSubstr(R"(data-history="1")"));
  const std::string index = Render(kStatisticsToken, "%2Findicator");
  EXPECT_THAT(
      index,
      HasSubstr(R"(<a href="/indicator?id=HEALTH-06">HEALTH-06 适龄妇女宫颈癌人群筛查率</a>)"))
      << index.substr(0, 3000);
  EXPECT_THAT(index, HasSubstr(R"(<a href="/indicator?id=EDUCATION-03">)"));
}

TEST_F(WebConsoleIndicatorTest, AUnitSeesTheServicesRefusalInChinese) {
  SKIP_WITHOUT_CHROMIUM();
  // Its own indicator: the history too.
  const std::string own = Render(kHealthToken, "%2Findicator%3Fid%3DHEALTH-06");
  EXPECT_THAT(own, HasSubstr(R"(data-history="4")")) << own.substr(0, 3000);
  // Another unit's: the series (every principal may read aggregates), but
  // the history is the submission service's PERMISSION_DENIED.
  const std::string other = Render(kHealthToken, "%2Findicator%3Fid%3DEDUCATION-03");
  EXPECT_THAT(other, HasSubstr(R"(data-series="1")")) << other.substr(0, 3000);
  EXPECT_THAT(other, HasSubstr(R"(data-history="error")"));
  EXPECT_THAT(other, HasSubstr(R"(id="history-status" class="status error" role="status" )"
                               R"(aria-live="polite" data-denied="yes">无权查看（服务拒绝）)"));
  EXPECT_THAT(other, HasSubstr("权限不足"));
  // The board: the services scope the unit to itself: only its own rows
  // and its own violations.
  const std::string board = Render(kHealthToken, "%2Freporting%3Fyear%3D2024");
  EXPECT_THAT(board, HasSubstr(R"(data-rendered="2024")")) << board.substr(0, 3000);
  EXPECT_THAT(board, HasSubstr(R"(<tr data-unit="HEALTH_BUREAU" data-expected="1")"));
  EXPECT_THAT(board, Not(HasSubstr(R"(data-unit="EDU_BUREAU")")));
  EXPECT_THAT(board, HasSubstr(R"(data-rule="builtin.residence_sum.)"));
  // Naming another unit: every section is refused by its service, and
  // says so.
  const std::string edu = Render(kHealthToken, "%2Freporting%3Fyear%3D2024%26unit%3DEDU_BUREAU");
  EXPECT_THAT(edu, HasSubstr(R"(data-summary="error")")) << edu.substr(0, 3000);
  EXPECT_THAT(edu, HasSubstr(R"(data-violations="error")"));
  for (const char* section : {"summary-status", "forms-status", "violations-status"}) {
    EXPECT_THAT(edu, HasSubstr(absl::StrCat(
                         R"(id=")", section,
                         R"(" class="status error" role="status" )"
                         R"(aria-live="polite" data-denied="yes">无权查看（服务拒绝）)")))
        << section;
  }
  EXPECT_THAT(edu, Not(HasSubstr(R"(data-unit="EDU_BUREAU")")));
}

TEST_F(WebConsoleIndicatorTest, TheReportingBoardShowsDueReportedOnTimeOverdueAndReview) {
  SKIP_WITHOUT_CHROMIUM();
  // 2024: the health unit reported (late: after 31 December 2024), the
  // education bureau did not (overdue).
  const std::string past = Render(kStatisticsToken, "%2Freporting%3Fyear%3D2024", 1280);
  MaybeScreenshot(kStatisticsToken, "%2Freporting%3Fyear%3D2024", "web-reporting.png", "1280,1600",
                  10000);
  EXPECT_THAT(past, HasSubstr("2024年报送看板")) << past.substr(0, 3000);
  EXPECT_THAT(past,
              HasSubstr(R"(<tr data-unit="HEALTH_BUREAU" data-expected="1" data-reported="1" )"
                        R"(data-on-time="0" data-overdue="no" data-form="draft">)"));
  EXPECT_THAT(past, HasSubstr(R"(<tr data-unit="EDU_BUREAU" data-expected="1" data-reported="0" )"
                              R"(data-on-time="0" data-overdue="yes" data-form="draft">)"));
  EXPECT_THAT(past, HasSubstr(R"(<td data-label="应报">1</td><td data-label="已报">1</td>)"
                              R"(<td data-label="按时">0</td><td data-label="迟报">1</td>)"
                              R"(<td data-label="逾期未报">0</td>)"));
  EXPECT_THAT(past, HasSubstr(R"(<td data-label="逾期未报" class="error">1</td>)"));
  // Unit × indicator.
  EXPECT_THAT(past, HasSubstr(R"(data-unit="HEALTH_BUREAU" data-indicator="HEALTH-06" )"
                              R"(data-state="REPORTING_STATE_LATE")"));
  EXPECT_THAT(past, HasSubstr(R"(data-unit="EDU_BUREAU" data-indicator="EDUCATION-03" )"
                              R"(data-state="REPORTING_STATE_MISSING")"));
  EXPECT_THAT(past, HasSubstr("迟报"));
  EXPECT_THAT(past, HasSubstr("未报"));
  EXPECT_THAT(past, HasSubstr(R"(<a href="/indicator?id=HEALTH-06">)"));
  // 逻辑审核: urban + rural ≠ the district.
  EXPECT_THAT(past, HasSubstr(R"(data-rule="builtin.residence_sum.)"));
  EXPECT_THAT(past, HasSubstr(R"(data-importance="error")"));
  EXPECT_THAT(past, Not(HasSubstr(R"(data-violations="0")")));
  // This year: reported on time, form submitted; the education bureau's
  // figure is not yet due.
  const std::string now =
      Render(kStatisticsToken, absl::StrCat("%2Freporting%3Fyear%3D", ThisYear()));
  EXPECT_THAT(now, HasSubstr(R"(<tr data-unit="HEALTH_BUREAU" data-expected="1" data-reported="1" )"
                             R"(data-on-time="1" data-overdue="no" data-form="submitted">)"))
      << now.substr(0, 3000);
  EXPECT_THAT(now, HasSubstr(R"(<td data-label="按时">1</td>)"));
  EXPECT_THAT(now, HasSubstr(R"(<td data-label="按时率">100%</td>)"));
  EXPECT_THAT(now, HasSubstr(R"(data-state="REPORTING_STATE_NOT_DUE")"));
  EXPECT_THAT(now, HasSubstr(R"(<td data-label="审核状态" class="state-submitted">已报送</td>)"));
  EXPECT_THAT(now, HasSubstr(R"(<tr data-unit="HEALTH_BUREAU" data-state="submitted">)"));
  EXPECT_THAT(now, HasSubstr(R"(data-violations="0")"));
}

// The review page's board has 按时 too (GetReportingStatus' on-time count).
TEST_F(WebConsoleIndicatorTest, TheReviewBoardShowsOnTime) {
  SKIP_WITHOUT_CHROMIUM();
  const std::string dom = Render(kStatisticsToken, "%2Freview");
  EXPECT_THAT(dom, HasSubstr(absl::StrCat(ThisYear(), "年报送看板"))) << dom.substr(0, 3000);
  EXPECT_THAT(dom, HasSubstr(absl::StrCat(
                       R"(<tr data-unit="HEALTH_BUREAU" data-overdue="no"><td data-label="单位">)"
                       R"(区卫生健康局</td><td data-label="年度">)",
                       ThisYear(),
                       R"(</td><td data-label="应报">1</td><td data-label="已报">1</td>)"
                       R"(<td data-label="按时">1</td>)")));
}

TEST_F(WebConsoleIndicatorTest, TheWarningsLinkToTheIndicatorPage) {
  SKIP_WITHOUT_CHROMIUM();
  const std::vector<v1::Warning> warnings = IndicatorWarnings();
  ASSERT_FALSE(warnings.empty());
  const std::string board = Render(kAssessmentToken, "%2Fwarnings%3Flive%3D0");
  for (const v1::Warning& w : warnings) {
    EXPECT_THAT(board, HasSubstr(absl::StrCat(R"(<a class="indicator" href="/indicator?id=)",
                                              w.indicator_id())))
        << board.substr(0, 3000);
  }
  const v1::Warning& w = warnings[0];
  const std::string page = Render(kAssessmentToken, absl::StrCat("%2Fwarning%3Fid%3D", w.id()));
  EXPECT_THAT(page, HasSubstr(absl::StrCat(R"(<a class="indicator" href="/indicator?id=)",
                                           w.indicator_id(), "&amp;area=", w.area_code())))
      << page.substr(0, 3000);
}

}  // namespace
}  // namespace halfsky
