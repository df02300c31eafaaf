// Reporting upward (issue #17 item 3) on real processes: a city instance
// (宝鸡市, deploy/examples/city/catalog) and two district instances with
// different plans and catalogs (金台区 deploy/catalog, which uses review;
// 渭滨区 deploy/examples/city/weibin/catalog, which does not), each a real
// halfsky-submission, -aggregation, -evaluation and redis-server, and a real
// halfsky-exchange per district writing to the city's submission with its
// area:<code> token.
//
// One test walks the whole story (starting twelve processes once keeps the
// runtime modest):
//  - unapproved figures are held back; approved ones reach the city once,
//    each (sex, residence) cell on its own key; the district without review
//    sends its complete figures (--approval=complete);
//  - a district's principal writes and reads only its own area;
//  - a correction (unlock, revise, approve again) and a withdrawal follow;
//  - SIGKILL of the exchange, and of the city's submission, while the
//    exchange's calls are in flight: every figure arrives once;
//  - a city year lock refuses a batch: visible in the status, the log and
//    the metrics, retried with a growing delay (no hot loop), sent after
//    the unlock;
//  - the city evaluates each district against its own plan and itself
//    against the city plan.
// A second test checks that each district's own evaluation report travels
// with its figures to the city's halfsky-exchange.

#include <signal.h>

#include <functional>
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
#include "halfsky/v1/exchange.grpc.pb.h"
#include "halfsky/v1/review.grpc.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"

namespace halfsky::exchange {
namespace {

namespace v1 = ::halfsky::v1;
using ::halfsky::testing::ServiceBinary;
using ::halfsky::testing::ServiceProcess;
using ::halfsky::testing::Suite;
using ::halfsky::testing::SuiteOptions;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kCity[] = "610300";
constexpr char kJintai[] = "610303";
constexpr char kWeibin[] = "610302";

constexpr char kStats[] = "stats-token";         // statistics, every instance
constexpr char kService[] = "service-token";     // the suites' own services
constexpr char kAssess[] = "assess-token";       // assessment, every instance
constexpr char kHealth[] = "health-token";       // unit:HEALTH, the districts
constexpr char kJintaiUp[] = "jintai-up-token";  // area:610303 at the city
constexpr char kWeibinUp[] = "weibin-up-token";  // area:610302 at the city

std::string Source(const std::string& relative) {
  return absl::StrCat(HALFSKY_SOURCE_DIR, "/", relative);
}

std::string Tokens(bool city) {
  std::string t =
      absl::StrCat(auth::HashToken(kStats), " stats statistics\n", auth::HashToken(kService),
                   " services statistics\n", auth::HashToken(kAssess), " alice assessment\n");
  if (city) {
    absl::StrAppend(&t, auth::HashToken(kJintaiUp), " jintai-exchange area:", kJintai, "\n",
                    auth::HashToken(kWeibinUp), " weibin-exchange area:", kWeibin, "\n");
  } else {
    absl::StrAppend(&t, auth::HashToken(kHealth), " health-system unit:HEALTH\n");
  }
  return t;
}

void Prepare(grpc::ClientContext* ctx, const char* token) {
  auth::AddBearerToken(ctx, token);
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
}

v1::DataValue Fraction(const std::string& indicator, const std::string& area, int year, double num,
                       double den, v1::Residence residence = v1::RESIDENCE_ALL) {
  v1::DataValue v;
  v.mutable_key()->set_indicator_id(indicator);
  v.mutable_key()->set_area_code(area);
  v.mutable_key()->set_year(year);
  v.mutable_key()->set_residence(residence);
  v.mutable_fraction()->set_numerator(num);
  v.mutable_fraction()->set_denominator(den);
  v.set_source("妇幼卫生年报");
  return v;
}

bool WaitFor(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(40)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (done()) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  return done();
}

class ExchangeEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    city_port_ = halfsky::testing::FreePort();
    SuiteOptions city;
    city.catalog = Source("deploy/examples/city/catalog");
    city.tokens = Tokens(true);
    city.service_token = kService;
    // A fixed port, so that the city's submission comes back where the
    // exchanges and the city's own followers look for it.
    city.submission_flags = {absl::StrCat("--listen=127.0.0.1:", city_port_)};
    city.evaluation_flags = {"--reevaluate_interval=1h"};
    auto c = Suite::Start(city);
    ASSERT_TRUE(c.ok()) << c.status();
    city_ = *std::move(c);

    for (bool jintai : {true, false}) {
      SuiteOptions d;
      d.catalog = Source(jintai ? "deploy/catalog" : "deploy/examples/city/weibin/catalog");
      d.tokens = Tokens(false);
      d.service_token = kService;
      d.evaluation_flags = {"--reevaluate_interval=1h"};
      auto s = Suite::Start(d);
      ASSERT_TRUE(s.ok()) << s.status();
      (jintai ? jintai_ : weibin_) = *std::move(s);
    }
    // The city's own halfsky-exchange reports nowhere; it keeps the
    // districts' evaluation reports.
    const absl::Status st = city_exchange_.Start(
        city_->dir(), "exchange", ServiceBinary("exchange"), Source("deploy/examples/city/catalog"),
        city_->dir() + "/tokens.txt", {"--database=" + city_->dir() + "/exchange.db"});
    ASSERT_TRUE(st.ok()) << st;
    ASSERT_NO_FATAL_FAILURE(StartExchange(true));
    ASSERT_NO_FATAL_FAILURE(StartExchange(false));
  }

  void TearDown() override {
    jintai_exchange_.Stop().IgnoreError();
    weibin_exchange_.Stop().IgnoreError();
    city_exchange_.Stop().IgnoreError();
    for (Suite* s : {jintai_.get(), weibin_.get(), city_.get()}) {
      if (s != nullptr) {
        s->Stop().IgnoreError();
      }
    }
  }

  Suite& District(bool jintai) { return jintai ? *jintai_ : *weibin_; }
  ServiceProcess& Exchange(bool jintai) { return jintai ? jintai_exchange_ : weibin_exchange_; }

  void StartExchange(bool jintai, const std::vector<std::string>& extra_flags = {}) {
    Suite& d = District(jintai);
    const std::string dir = d.dir();
    ASSERT_TRUE(
        halfsky::testing::WriteTextFile(dir + "/upper-token", jintai ? kJintaiUp : kWeibinUp).ok());
    std::vector<std::string> flags = {"--aggregation=" + d.aggregation().address(),
                                      "--evaluation=" + d.evaluation().address(),
                                      "--upper_exchange=" + city_exchange_.address(),
                                      "--aggregation_token_file=" + dir + "/service-token",
                                      absl::StrCat("--upper_submission=127.0.0.1:", city_port_),
                                      "--upper_token_file=" + dir + "/upper-token",
                                      "--database=" + dir + "/exchange.db",
                                      jintai ? "--approval=approved" : "--approval=complete",
                                      "--interval=500ms",
                                      "--retry_min=2s",
                                      "--retry_max=8s",
                                      "--call_timeout=3s"};
    flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
    const absl::Status st = Exchange(jintai).Start(
        dir, "exchange", ServiceBinary("exchange"),
        Source(jintai ? "deploy/catalog" : "deploy/examples/city/weibin/catalog"),
        dir + "/tokens.txt", flags);
    ASSERT_TRUE(st.ok()) << st;
  }

  std::unique_ptr<v1::SubmissionService::Stub> CitySubmission() {
    return v1::SubmissionService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", city_port_), grpc::InsecureChannelCredentials()));
  }

  // The city's current values of `area` (as the city's statistics).
  std::vector<v1::Revision> CityValues(const std::string& area) {
    grpc::ClientContext ctx;
    Prepare(&ctx, kStats);
    v1::ListDataValuesRequest request;
    request.add_area_codes(area);
    v1::ListDataValuesResponse response;
    const grpc::Status st = CitySubmission()->ListDataValues(&ctx, request, &response);
    if (!st.ok()) {
      return {};
    }
    return {response.data_values().begin(), response.data_values().end()};
  }

  // The city's current value of one key (TOTAL/ALL), if any.
  std::optional<v1::Revision> CityValue(const std::string& indicator, const std::string& area,
                                        int year, v1::Residence residence = v1::RESIDENCE_ALL) {
    for (const v1::Revision& r : CityValues(area)) {
      const v1::DataKey& k = r.data_value().key();
      if (k.indicator_id() == indicator && k.year() == year && k.residence() == residence &&
          k.sex() == v1::SEX_TOTAL) {
        return r;
      }
    }
    return std::nullopt;
  }

  std::vector<v1::Revision> CityHistory(const std::string& indicator, const std::string& area,
                                        int year) {
    grpc::ClientContext ctx;
    Prepare(&ctx, kStats);
    v1::GetHistoryRequest request;
    request.mutable_key()->set_indicator_id(indicator);
    request.mutable_key()->set_area_code(area);
    request.mutable_key()->set_year(year);
    v1::GetHistoryResponse response;
    const grpc::Status st = CitySubmission()->GetHistory(&ctx, request, &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return {response.revisions().begin(), response.revisions().end()};
  }

  void DistrictSubmit(bool jintai, const std::string& request_id,
                      const std::vector<v1::DataValue>& values) {
    auto stub = v1::SubmissionService::NewStub(grpc::CreateChannel(
        District(jintai).submission().address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    Prepare(&ctx, kHealth);
    v1::SubmitBatchRequest request;
    request.set_request_id(request_id);
    for (const auto& v : values) {
      *request.add_data_values() = v;
    }
    v1::SubmitBatchResponse response;
    const grpc::Status st = stub->SubmitBatch(&ctx, request, &response);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  std::unique_ptr<v1::ReviewService::Stub> JintaiReview() {
    return v1::ReviewService::NewStub(
        grpc::CreateChannel(jintai_->submission().address(), grpc::InsecureChannelCredentials()));
  }

  static v1::FormKey Form(int year) {
    v1::FormKey key;
    key.set_unit_code("HEALTH");
    key.set_year(year);
    return key;
  }

  // 报送 by the unit, 审核通过 by the district's statistics.
  void JintaiApprove(int year) {
    auto review = JintaiReview();
    v1::Form form;
    {
      grpc::ClientContext ctx;
      Prepare(&ctx, kHealth);
      v1::SubmitFormRequest request;
      *request.mutable_key() = Form(year);
      const grpc::Status st = review->SubmitForm(&ctx, request, &form);
      ASSERT_TRUE(st.ok()) << st.error_message();
    }
    grpc::ClientContext ctx;
    Prepare(&ctx, kStats);
    v1::ApproveFormRequest request;
    *request.mutable_key() = Form(year);
    const grpc::Status st = review->ApproveForm(&ctx, request, &form);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_EQ(form.state(), v1::FORM_STATE_APPROVED);
  }

  void JintaiUnlock(int year) {
    grpc::ClientContext ctx;
    Prepare(&ctx, kStats);
    v1::UnlockFormRequest request;
    *request.mutable_key() = Form(year);
    request.set_reason("更正孕产妇死亡人数");
    v1::Form form;
    const grpc::Status st = JintaiReview()->UnlockForm(&ctx, request, &form);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  std::unique_ptr<v1::ExchangeService::Stub> ExchangeStub(bool jintai) {
    return v1::ExchangeService::NewStub(
        grpc::CreateChannel(Exchange(jintai).address(), grpc::InsecureChannelCredentials()));
  }

  v1::ExchangeStatus Status(bool jintai) {
    grpc::ClientContext ctx;
    Prepare(&ctx, kStats);
    v1::ExchangeStatus status;
    const grpc::Status st =
        ExchangeStub(jintai)->GetExchangeStatus(&ctx, v1::GetExchangeStatusRequest(), &status);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return status;
  }

  std::vector<v1::ExchangeBatch> Log(bool jintai) {
    grpc::ClientContext ctx;
    Prepare(&ctx, kStats);
    v1::ListExchangeLogRequest request;
    request.set_page_size(1000);
    v1::ListExchangeLogResponse response;
    const grpc::Status st = ExchangeStub(jintai)->ListExchangeLog(&ctx, request, &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return {response.batches().begin(), response.batches().end()};
  }

  v1::EvaluationReport CityReport(const std::string& area) {
    auto stub = v1::EvaluationService::NewStub(
        grpc::CreateChannel(city_->evaluation().address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    Prepare(&ctx, kAssess);
    v1::GetEvaluationReportRequest request;
    request.set_type(v1::REPORT_TYPE_ANNUAL);
    request.set_year(2024);
    request.set_area_code(area);
    v1::EvaluationReport report;
    const grpc::Status st = stub->GetEvaluationReport(&ctx, request, &report);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return report;
  }

  // The city's HEALTH-01 (孕产妇死亡率) in `report`, once its series holds
  // the 2024 figure that came up.
  static const v1::IndicatorAssessment* Mmr(const v1::EvaluationReport& report) {
    for (const v1::IndicatorAssessment& ind : report.indicators()) {
      if (ind.indicator_id() != "HEALTH-01" || ind.assessments().empty()) {
        continue;
      }
      for (const v1::SeriesPoint& p : ind.series()) {
        if (p.year() == 2024 && !p.incomplete() && p.denominator() > 0) {
          return &ind;
        }
      }
    }
    return nullptr;
  }

  int city_port_ = 0;
  std::unique_ptr<Suite> city_;
  std::unique_ptr<Suite> jintai_;
  std::unique_ptr<Suite> weibin_;
  ServiceProcess jintai_exchange_;
  ServiceProcess weibin_exchange_;
  ServiceProcess city_exchange_;
};

TEST_F(ExchangeEndToEndTest, DistrictsReportToTheCity) {
  // --- Jintai (review in use): submitted, not approved → held back.
  ASSERT_NO_FATAL_FAILURE(
      DistrictSubmit(true, "jintai-1",
                     {Fraction("HEALTH-04", kJintai, 2020, 3, 25000),
                      Fraction("HEALTH-04", kJintai, 2024, 2, 25000),
                      Fraction("HEALTH-04", kJintai, 2024, 1, 15000, v1::RESIDENCE_URBAN),
                      Fraction("HEALTH-04", kJintai, 2024, 1, 10000, v1::RESIDENCE_RURAL),
                      Fraction("HEALTH-06", kJintai, 2024, 700, 1000)}));
  // --- Weibin (no review): two towns, so the district's figure is their sum.
  ASSERT_NO_FATAL_FAILURE(DistrictSubmit(false, "weibin-1",
                                         {Fraction("HEALTH-W01", "610302001", 2020, 1, 10000),
                                          Fraction("HEALTH-W01", "610302100", 2020, 2, 15000),
                                          Fraction("HEALTH-W01", "610302001", 2023, 1, 12500),
                                          Fraction("HEALTH-W01", "610302100", 2023, 1, 12500),
                                          Fraction("HEALTH-W01", "610302001", 2024, 1, 12000),
                                          Fraction("HEALTH-W01", "610302100", 2024, 0, 13000)}));

  ASSERT_TRUE(WaitFor([&] { return Status(true).last_run().held_unapproved_count() >= 3; }))
      << Status(true).DebugString();
  EXPECT_TRUE(CityValues(kJintai).empty()) << "unapproved figures must not go up";

  ASSERT_TRUE(WaitFor([&] { return CityValue("HEALTH-01", kWeibin, 2024).has_value(); }))
      << Exchange(false).log();
  {
    const std::optional<v1::Revision> w2020 = CityValue("HEALTH-01", kWeibin, 2020);
    ASSERT_TRUE(w2020.has_value());
    EXPECT_EQ(w2020->data_value().fraction().numerator(), 3);
    EXPECT_EQ(w2020->data_value().fraction().denominator(), 25000);
    EXPECT_EQ(w2020->submitted_by(), "weibin-exchange");
    EXPECT_THAT(w2020->data_value().note(), HasSubstr("未启用审核"));
  }

  // --- Approved: Jintai's figures reach the city, once.
  ASSERT_NO_FATAL_FAILURE(JintaiApprove(2020));
  ASSERT_NO_FATAL_FAILURE(JintaiApprove(2024));
  ASSERT_TRUE(WaitFor([&] {
    return CityValue("HEALTH-01", kJintai, 2020).has_value() &&
           CityValue("HEALTH-01", kJintai, 2024).has_value() &&
           CityValue("HEALTH-02", kJintai, 2024).has_value();
  })) << Exchange(true).log();
  EXPECT_EQ(CityValue("HEALTH-02", kJintai, 2024)->data_value().fraction().numerator(), 700);
  {
    const std::optional<v1::Revision> all = CityValue("HEALTH-01", kJintai, 2024);
    EXPECT_EQ(all->data_value().fraction().numerator(), 2);
    EXPECT_EQ(all->data_value().fraction().denominator(), 25000);
    EXPECT_EQ(all->submitted_by(), "jintai-exchange");
    EXPECT_THAT(all->data_value().note(), HasSubstr("已审核"));
    // The city's HEALTH-01 is not disaggregated by residence: the district's
    // urban/rural cells stay at the district (each cell the city takes goes
    // on its own key; the city's validation would refuse these).
    EXPECT_FALSE(CityValue("HEALTH-01", kJintai, 2024, v1::RESIDENCE_RURAL).has_value());
  }
  // Several more runs change nothing: every figure was sent once.
  absl::SleepFor(absl::Seconds(2));
  EXPECT_THAT(CityHistory("HEALTH-01", kJintai, 2024), SizeIs(1));
  EXPECT_THAT(CityHistory("HEALTH-01", kWeibin, 2020), SizeIs(1));
  {
    const v1::ExchangeStatus status = Status(true);
    EXPECT_EQ(status.area_code(), kJintai);
    EXPECT_EQ(status.approval_rule(), "approved");
    EXPECT_TRUE(status.has_last_in_sync_at()) << status.DebugString();
    EXPECT_GE(status.last_run().in_sync_count(), 3);
    bool logged = false;
    for (const v1::ExchangeBatch& b : Log(true)) {
      if (b.year() == 2024 && b.outcome() == v1::EXCHANGE_OUTCOME_SENT) {
        logged = true;
        EXPECT_EQ(b.action(), v1::EXCHANGE_ACTION_WRITE);
        EXPECT_GE(b.created_count(), 2);
        EXPECT_THAT(b.items(), ::testing::Not(::testing::IsEmpty()));
      }
    }
    EXPECT_TRUE(logged);
  }

  // --- A district's principal writes and reads only its own area.
  {
    auto city = CitySubmission();
    grpc::ClientContext ctx;
    Prepare(&ctx, kJintaiUp);
    v1::SubmitBatchRequest request;
    request.set_request_id("forged-1");
    *request.add_data_values() = Fraction("HEALTH-01", kWeibin, 2021, 9, 1000);
    v1::SubmitBatchResponse response;
    const grpc::Status st = city->SubmitBatch(&ctx, request, &response);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
    EXPECT_THAT(st.error_message(), HasSubstr("610303"));

    grpc::ClientContext ctx2;
    Prepare(&ctx2, kJintaiUp);
    v1::ListDataValuesRequest list;
    list.add_area_codes(kWeibin);
    v1::ListDataValuesResponse values;
    EXPECT_EQ(city->ListDataValues(&ctx2, list, &values).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);

    grpc::ClientContext ctx3;
    Prepare(&ctx3, kJintaiUp);
    v1::LockYearRequest lock;
    lock.set_year(2024);
    lock.set_reason("x");
    v1::YearLock result;
    EXPECT_EQ(city->LockYear(&ctx3, lock, &result).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_FALSE(CityValue("HEALTH-01", kWeibin, 2021).has_value()) << "nothing written";
  }

  // --- A correction follows: unlock, revise, approve again. While the form
  // is open the city keeps the last approved figure.
  ASSERT_NO_FATAL_FAILURE(JintaiUnlock(2024));
  ASSERT_NO_FATAL_FAILURE(
      DistrictSubmit(true, "jintai-2",
                     {Fraction("HEALTH-04", kJintai, 2024, 1, 25000),
                      Fraction("HEALTH-04", kJintai, 2024, 0, 10000, v1::RESIDENCE_RURAL)}));
  absl::SleepFor(absl::Seconds(2));
  EXPECT_EQ(CityValue("HEALTH-01", kJintai, 2024)->data_value().fraction().numerator(), 2);
  ASSERT_NO_FATAL_FAILURE(JintaiApprove(2024));
  ASSERT_TRUE(WaitFor([&] {
    auto v = CityValue("HEALTH-01", kJintai, 2024);
    return v.has_value() && v->data_value().fraction().numerator() == 1;
  }));
  EXPECT_THAT(CityHistory("HEALTH-01", kJintai, 2024), SizeIs(2));

  // --- A withdrawal follows: one Weibin town's 2023 figure withdrawn leaves
  // the district's 2023 incomplete, so the city's is withdrawn.
  {
    auto stub = v1::SubmissionService::NewStub(
        grpc::CreateChannel(weibin_->submission().address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    Prepare(&ctx, kHealth);
    v1::WithdrawValuesRequest request;
    request.set_request_id("weibin-w-1");
    request.set_reason("误报，应为2023年数据");
    v1::DataKey* key = request.add_keys();
    key->set_indicator_id("HEALTH-W01");
    key->set_area_code("610302100");
    key->set_year(2023);
    v1::WithdrawValuesResponse response;
    const grpc::Status st = stub->WithdrawValues(&ctx, request, &response);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  ASSERT_TRUE(WaitFor([&] { return !CityValue("HEALTH-01", kWeibin, 2023).has_value(); }));
  EXPECT_TRUE(CityValue("HEALTH-01", kWeibin, 2024).has_value());
  {
    const std::vector<v1::Revision> history = CityHistory("HEALTH-01", kWeibin, 2023);
    ASSERT_THAT(history, SizeIs(2));
    EXPECT_TRUE(history[1].withdrawn());
    EXPECT_EQ(history[1].submitted_by(), "weibin-exchange");
  }
  // --- The same figure entered again at the town makes the district's 2023
  // whole again, equal to what the city held before the withdrawal: it must
  // reach the city again (not be answered with the first batch's stored
  // reply: the city lists no withdrawn key, so the planned request id is
  // that first batch's).
  ASSERT_NO_FATAL_FAILURE(DistrictSubmit(false, "weibin-restore",
                                         {Fraction("HEALTH-W01", "610302100", 2023, 1, 12500)}));
  ASSERT_TRUE(WaitFor([&] { return CityValue("HEALTH-01", kWeibin, 2023).has_value(); }))
      << weibin_exchange_.log();
  {
    const std::vector<v1::Revision> history = CityHistory("HEALTH-01", kWeibin, 2023);
    ASSERT_THAT(history, SizeIs(3));
    EXPECT_FALSE(history[2].withdrawn());
    EXPECT_EQ(history[2].data_value().fraction().denominator(), 25000);
  }

  // --- SIGKILL of the exchange while its calls to the (frozen) city are in
  // flight; then SIGKILL of the city's submission likewise. Every figure
  // arrives once.
  city_->submission().Signal(SIGSTOP);
  ASSERT_NO_FATAL_FAILURE(
      DistrictSubmit(true, "jintai-3", {Fraction("HEALTH-04", kJintai, 2021, 4, 26000)}));
  ASSERT_NO_FATAL_FAILURE(JintaiApprove(2021));
  absl::SleepFor(absl::Seconds(1));  // a run is waiting on the city
  jintai_exchange_.Kill();
  city_->submission().Signal(SIGCONT);
  ASSERT_NO_FATAL_FAILURE(StartExchange(true));
  ASSERT_TRUE(WaitFor([&] { return CityValue("HEALTH-01", kJintai, 2021).has_value(); }))
      << jintai_exchange_.log();
  EXPECT_THAT(CityHistory("HEALTH-01", kJintai, 2021), SizeIs(1));

  city_->submission().Signal(SIGSTOP);
  ASSERT_NO_FATAL_FAILURE(DistrictSubmit(false, "weibin-2",
                                         {Fraction("HEALTH-W01", "610302001", 2022, 1, 11000),
                                          Fraction("HEALTH-W01", "610302100", 2022, 1, 14000)}));
  absl::SleepFor(absl::Seconds(1));
  city_->submission().Kill();
  absl::SleepFor(absl::Seconds(1));
  ASSERT_TRUE(city_->submission().Restart().ok()) << city_->submission().log();
  ASSERT_TRUE(WaitFor([&] { return CityValue("HEALTH-01", kWeibin, 2022).has_value(); }))
      << weibin_exchange_.log();
  EXPECT_THAT(CityHistory("HEALTH-01", kWeibin, 2022), SizeIs(1));
  EXPECT_EQ(CityValue("HEALTH-01", kWeibin, 2022)->data_value().fraction().denominator(), 25000);

  // --- A city lock refuses; the refusal is visible and retried slowly.
  {
    auto city = CitySubmission();
    grpc::ClientContext ctx;
    Prepare(&ctx, kStats);
    v1::LockYearRequest lock;
    lock.set_year(2025);
    lock.set_reason("2025年数据已审定");
    v1::YearLock result;
    ASSERT_TRUE(city->LockYear(&ctx, lock, &result).ok());
  }
  ASSERT_NO_FATAL_FAILURE(
      DistrictSubmit(true, "jintai-4", {Fraction("HEALTH-04", kJintai, 2025, 2, 26000)}));
  ASSERT_NO_FATAL_FAILURE(JintaiApprove(2025));
  ASSERT_TRUE(WaitFor([&] { return !Status(true).pending().empty(); })) << jintai_exchange_.log();
  {
    const v1::ExchangeStatus status = Status(true);
    ASSERT_THAT(status.pending(), SizeIs(1));
    const v1::ExchangeBatch& refused = status.pending(0);
    EXPECT_EQ(refused.year(), 2025);
    EXPECT_EQ(refused.outcome(), v1::EXCHANGE_OUTCOME_REFUSED);
    EXPECT_EQ(refused.status_code(), "FAILED_PRECONDITION");
    EXPECT_FALSE(refused.reason().empty());
    EXPECT_TRUE(refused.has_next_attempt_at());
  }
  {
    // halfskyctl shows it: exit 1 while refused, with the city's reason.
    absl::StatusOr<halfsky::testing::CommandResult> ctl =
        halfsky::testing::RunCommand({ServiceBinary("halfskyctl"), "exchange", "status", "--server",
                                      jintai_exchange_.address(), "--token", kStats});
    ASSERT_TRUE(ctl.ok()) << ctl.status();
    EXPECT_EQ(ctl->exit_code, 1) << ctl->out << ctl->err;
    EXPECT_THAT(ctl->out, HasSubstr("被拒绝"));
    EXPECT_THAT(ctl->out, HasSubstr("FAILED_PRECONDITION"));
    EXPECT_THAT(ctl->out, HasSubstr("HEALTH-01 ← HEALTH-04"));
  }
  absl::SleepFor(absl::Seconds(5));
  int attempts = 0;
  for (const v1::ExchangeBatch& b : Log(true)) {
    attempts += b.year() == 2025 && b.outcome() == v1::EXCHANGE_OUTCOME_REFUSED;
  }
  // 2 s then 4 s apart (runs every 500 ms): never a hot loop.
  EXPECT_GE(attempts, 1);
  EXPECT_LE(attempts, 3);
  {
    absl::StatusOr<std::string> metrics = jintai_exchange_.Metrics();
    ASSERT_TRUE(metrics.ok());
    EXPECT_THAT(*metrics, HasSubstr("halfsky_exchange_batches_total{outcome=\"refused\"}"));
  }
  EXPECT_FALSE(CityValue("HEALTH-01", kJintai, 2025).has_value());
  {
    auto city = CitySubmission();
    grpc::ClientContext ctx;
    Prepare(&ctx, kStats);
    v1::UnlockYearRequest unlock;
    unlock.set_year(2025);
    unlock.set_reason("补报金台区数据");
    v1::YearLock result;
    ASSERT_TRUE(city->UnlockYear(&ctx, unlock, &result).ok());
  }
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, kStats);
    v1::SyncNowRequest request;
    request.set_retry_refused(true);
    v1::ExchangeRun run;
    const grpc::Status st = ExchangeStub(true)->SyncNow(&ctx, request, &run);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(run.status_code(), "OK") << run.DebugString();
  }
  EXPECT_TRUE(CityValue("HEALTH-01", kJintai, 2025).has_value());
  EXPECT_TRUE(WaitFor([&] { return Status(true).pending().empty(); }));
  {
    absl::StatusOr<halfsky::testing::CommandResult> ctl = halfsky::testing::RunCommand(
        {ServiceBinary("halfskyctl"), "exchange", "log", "--limit", "5", "--server",
         jintai_exchange_.address(), "--token", kStats});
    ASSERT_TRUE(ctl.ok()) << ctl.status();
    EXPECT_EQ(ctl->exit_code, 0) << ctl->err;
    EXPECT_THAT(ctl->out, HasSubstr("2025年  报送  已报送"));
  }

  // --- The city evaluates each district against its own plan, itself
  // against the city's.
  // Jintai 2024: 1/25000 (corrected); Weibin 2024: 1/12000 + 0/13000; the
  // city: their sums.
  for (const auto& [area, plan, target, num, den] :
       std::vector<std::tuple<std::string, std::string, double, double, double>>{
           {kJintai, "JINTAI", 10.15, 1, 25000},
           {kWeibin, "WEIBIN", 11, 1, 25000},
           {kCity, "BAOJI", 12, 2, 50000}}) {
    v1::EvaluationReport report;
    ASSERT_TRUE(WaitFor([&] {
      report = CityReport(area);
      return Mmr(report) != nullptr;
    })) << area
        << ": " << report.DebugString();
    EXPECT_EQ(report.plan_code(), plan);
    const v1::IndicatorAssessment* mmr = Mmr(report);
    ASSERT_THAT(mmr->assessments(), SizeIs(1)) << area;
    EXPECT_EQ(mmr->assessments(0).target().value(), target) << area;
    EXPECT_EQ(mmr->assessments(0).target().plan_code(), area == kCity ? "" : plan) << area;
    for (const v1::SeriesPoint& p : mmr->series()) {
      if (p.year() == 2024) {
        EXPECT_EQ(p.numerator(), num) << area;
        EXPECT_EQ(p.denominator(), den) << area;
      }
    }
  }

  // --- An exchange restarted to send only 2024 on leaves the city's
  // earlier years of its area alone (it read no lower figure for them).
  weibin_exchange_.Kill();
  ASSERT_NO_FATAL_FAILURE(StartExchange(false, {"--from_year=2024"}));
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, kStats);
    v1::ExchangeRun run;
    const grpc::Status st = ExchangeStub(false)->SyncNow(&ctx, v1::SyncNowRequest(), &run);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(run.status_code(), "OK") << run.DebugString();
  }
  EXPECT_TRUE(CityValue("HEALTH-01", kWeibin, 2022).has_value()) << weibin_exchange_.log();
  EXPECT_TRUE(CityValue("HEALTH-01", kWeibin, 2023).has_value()) << weibin_exchange_.log();
  EXPECT_THAT(CityHistory("HEALTH-01", kWeibin, 2022), SizeIs(1));
}

// Each district's own evaluation report (against its own plan) travels with
// its figures and is kept at the city; a district sends only its own.
TEST_F(ExchangeEndToEndTest, DistrictReportsTravelToTheCity) {
  ASSERT_NO_FATAL_FAILURE(DistrictSubmit(false, "weibin-1",
                                         {Fraction("HEALTH-W01", "610302001", 2024, 1, 12000),
                                          Fraction("HEALTH-W01", "610302100", 2024, 1, 13000)}));
  ASSERT_NO_FATAL_FAILURE(
      DistrictSubmit(true, "jintai-1", {Fraction("HEALTH-04", kJintai, 2024, 2, 25000)}));
  ASSERT_NO_FATAL_FAILURE(JintaiApprove(2024));
  auto city = v1::ExchangeService::NewStub(
      grpc::CreateChannel(city_exchange_.address(), grpc::InsecureChannelCredentials()));
  v1::ListAreaReportsResponse reports;
  ASSERT_TRUE(WaitFor([&] {
    grpc::ClientContext ctx;
    Prepare(&ctx, kAssess);
    reports.Clear();
    return city->ListAreaReports(&ctx, v1::ListAreaReportsRequest(), &reports).ok() &&
           reports.reports_size() == 2;
  })) << reports.DebugString()
      << jintai_exchange_.log();
  for (const v1::AreaReport& r : reports.reports()) {
    const bool jintai = r.area_code() == kJintai;
    EXPECT_EQ(r.year(), 2024);
    EXPECT_EQ(r.report().area_code(), r.area_code());
    EXPECT_EQ(r.submitted_by(), jintai ? "jintai-exchange" : "weibin-exchange");
    // The district's own plan: its catalog's header.
    EXPECT_THAT(r.report().plan_title_zh(), HasSubstr(jintai ? "金台区" : "渭滨区"));
    bool mmr = false;
    for (const v1::IndicatorAssessment& ind : r.report().indicators()) {
      mmr = mmr || ind.indicator_id() == (jintai ? "HEALTH-04" : "HEALTH-W01");
    }
    EXPECT_TRUE(mmr) << r.area_code();
  }
  EXPECT_EQ(Status(true).report_year(), 2024);
  EXPECT_TRUE(Status(true).report_error().empty());

  grpc::ClientContext ctx;
  Prepare(&ctx, kJintaiUp);
  v1::SubmitAreaReportRequest forged;
  forged.mutable_report()->set_area_code(kWeibin);
  forged.mutable_report()->set_year(2024);
  v1::AreaReportReceipt receipt;
  EXPECT_EQ(city->SubmitAreaReport(&ctx, forged, &receipt).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext ctx2;
  Prepare(&ctx2, kJintaiUp);
  v1::SubmitAreaReportRequest empty;
  const grpc::Status no_area = city->SubmitAreaReport(&ctx2, empty, &receipt);
  EXPECT_EQ(no_area.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(no_area.error_message(), HasSubstr("area"));
  grpc::ClientContext ctx3;
  Prepare(&ctx3, kAssess);
  v1::ListAreaReportsResponse after;
  ASSERT_TRUE(city->ListAreaReports(&ctx3, v1::ListAreaReportsRequest(), &after).ok());
  EXPECT_EQ(after.reports_size(), 2) << "nothing stored by a refused report";

  grpc::ClientContext ctx4;
  Prepare(&ctx4, kStats);
  v1::ListExchangeLogRequest big;
  big.set_page_size(5000);
  v1::ListExchangeLogResponse log;
  EXPECT_EQ(ExchangeStub(true)->ListExchangeLog(&ctx4, big, &log).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace halfsky::exchange
