// The submission service over real gRPC (loopback, in-process server via
// common/server RunningServer) on a real SQLite file.
#include "services/submission/service.h"

#include <functional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/server/server.h"
#include "common/status/status.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "services/submission/sqlite_store.h"
#include "tests/submission/test_util.h"
#include "tests/support/change_events.h"
#include "tests/support/process.h"

namespace halfsky::submission {
namespace {

namespace v1 = ::halfsky::v1;
using ::halfsky::submission::testing::Fraction;
using ::halfsky::submission::testing::Number;
using ::halfsky::submission::testing::Story;
using ::halfsky::submission::testing::TestAuthenticate;
using ::halfsky::submission::testing::TestCatalog;
using ::testing::Contains;
using ::testing::HasSubstr;

absl::Time Local(int y, int m, int d) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, 12, 0, 0), absl::FixedTimeZone(8 * 3600));
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = halfsky::testing::MakeTempDir("submission-service");
    catalog_ = TestCatalog();
    ASSERT_NE(catalog_, nullptr);
    Start();
  }
  void TearDown() override { Stop(); }

  void Start() {
    SqliteSubmissionStore::Options o;
    o.path = dir_ + "/submission.db";
    o.clock = &clock_;
    auto store = SqliteSubmissionStore::Open(o);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    SubmissionServiceOptions so;
    so.heartbeat_interval = absl::Milliseconds(200);
    so.watch_page_bytes = watch_page_bytes_;
    service_ = std::make_unique<SubmissionServiceImpl>(catalog_, store_.get(), &clock_,
                                                       TestAuthenticate, so);
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.metrics_listen = "";
    options.name = "submission-test";
    options.drain_delay = absl::ZeroDuration();
    options.grace_period = absl::Seconds(2);
    auto server = RunningServer::Start(options, catalog_, {service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::SubmissionService::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }
  void Stop() {
    if (service_) {
      service_->Shutdown();
    }
    if (server_) {
      server_->Shutdown();
    }
    server_.reset();
    service_.reset();
    store_.reset();
  }
  void Restart() {
    Stop();
    Start();
  }

  // The feed's page budget (Start; a test may lower it, then Restart).
  size_t watch_page_bytes_ = SubmissionServiceOptions().watch_page_bytes;

  // Walks the backlog (BacklogMessages): `each` for every revision, checked
  // to follow the last one without a gap; `per_message` for each message
  // holding revisions, with their count. Returns the last sequence.
  int64_t WalkBacklog(
      const std::function<void(const v1::Revision&)>& each,
      const std::function<void(const v1::WatchChangesResponse&, int)>& per_message) {
    int64_t last = 0;
    for (const v1::WatchChangesResponse& message : BacklogMessages()) {
      int revisions = 0;
      for (const v1::ChangeEvent& ev : message.events()) {
        if (ev.has_revision()) {
          EXPECT_EQ(ev.revision().sequence(), last + 1);
          last = ev.revision().sequence();
          each(ev.revision());
          ++revisions;
        }
      }
      if (revisions > 0) {
        per_message(message, revisions);
      }
    }
    return last;
  }

  // The feed's messages from sequence 0 up to and including the first one
  // that holds a heartbeat (the backlog drained).
  std::vector<v1::WatchChangesResponse> BacklogMessages() {
    auto ctx = Ctx("assess-token");
    auto reader = stub_->WatchChanges(ctx.get(), v1::WatchChangesRequest());
    std::vector<v1::WatchChangesResponse> out;
    v1::WatchChangesResponse message;
    while (reader->Read(&message)) {
      out.push_back(message);
      bool heartbeat = false;
      for (const v1::ChangeEvent& ev : message.events()) {
        heartbeat = heartbeat || ev.has_heartbeat();
      }
      if (heartbeat) {
        break;
      }
    }
    ctx->TryCancel();
    reader->Finish().IgnoreError();
    return out;
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) {
      ctx->AddMetadata("authorization", "Bearer " + token);
    }
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return ctx;
  }

  absl::StatusOr<v1::SubmitBatchResponse> Submit(const std::string& token, const std::string& id,
                                                 std::vector<v1::DataValue> values,
                                                 bool dry_run = false) {
    v1::SubmitBatchRequest req;
    req.set_request_id(id);
    req.set_dry_run(dry_run);
    for (auto& v : values) {
      *req.add_data_values() = std::move(v);
    }
    v1::SubmitBatchResponse resp;
    auto ctx = Ctx(token);
    grpc::Status st = stub_->SubmitBatch(ctx.get(), req, &resp);
    if (!st.ok()) {
      return FromGrpcStatus(st);
    }
    return resp;
  }

  std::vector<v1::Revision> ListAll(v1::ListDataValuesRequest req = {}) {
    std::vector<v1::Revision> out;
    while (true) {
      v1::ListDataValuesResponse resp;
      auto ctx = Ctx("assess-token");
      grpc::Status st = stub_->ListDataValues(ctx.get(), req, &resp);
      EXPECT_TRUE(st.ok()) << st.error_message();
      if (!st.ok()) {
        return out;
      }
      out.insert(out.end(), resp.data_values().begin(), resp.data_values().end());
      if (resp.next_page_token().empty()) {
        return out;
      }
      req.set_page_token(resp.next_page_token());
    }
  }

  // Reads the change feed from `after` until a heartbeat reports the head
  // reached `until` (or the feed is caught up when until < 0). Returns the
  // revisions' sequences.
  std::vector<int64_t> Watch(int64_t after, int64_t until = -1,
                             std::vector<v1::Revision>* revisions = nullptr) {
    auto ctx = Ctx("assess-token");
    v1::WatchChangesRequest req;
    req.set_after_sequence(after);
    auto reader = halfsky::testing::ChangeEvents(stub_->WatchChanges(ctx.get(), req));
    std::vector<int64_t> seqs;
    v1::ChangeEvent ev;
    while (reader->Read(&ev)) {
      if (ev.has_revision()) {
        seqs.push_back(ev.revision().sequence());
        if (revisions != nullptr) {
          revisions->push_back(ev.revision());
        }
      } else if (ev.has_heartbeat()) {
        if (until < 0 || ev.heartbeat().head_sequence() >= until) {
          break;
        }
      }
    }
    ctx->TryCancel();
    reader->Finish().IgnoreError();
    return seqs;
  }

  FakeClock clock_{Local(2026, 3, 1)};
  std::string dir_;
  std::shared_ptr<const CatalogIndex> catalog_;
  std::unique_ptr<SqliteSubmissionStore> store_;
  std::unique_ptr<SubmissionServiceImpl> service_;
  std::unique_ptr<RunningServer> server_;
  std::unique_ptr<v1::SubmissionService::Stub> stub_;
};

TEST_F(ServiceTest, SubmitBatchCommitsAndListsEveryKind) {
  auto r = Submit("health-token", "r1",
                  {Fraction("HEALTH-01", 2024, 2, 20000), Fraction("HEALTH-02", 2024, 95, 100),
                   Number("HEALTH-03", 2024, 3), Number("HEALTH-04", 2024, 80.1),
                   Story("HEALTH-05", 2024, "建成妇幼保健院新院区")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->created_count(), 5);
  EXPECT_EQ(r->sequences().first(), 1);
  EXPECT_EQ(r->sequences().last(), 5);
  EXPECT_FALSE(r->replayed());
  auto all = ListAll();
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].submitted_by(), "health-system");
  EXPECT_EQ(all[0].unit_code(), "HEALTH_BUREAU");
  EXPECT_EQ(all[0].data_value().key().sex(), v1::SEX_TOTAL);  // normalized
  EXPECT_EQ(all[4].data_value().narrative().self_assessment(), v1::SELF_ASSESSMENT_MET);
}

TEST_F(ServiceTest, EachValidationRuleOverGrpc) {
  struct Case {
    const char* name;
    v1::DataValue value;
    const char* field;
  };
  auto with = [](v1::DataValue v, auto f) {
    f(v);
    return v;
  };
  std::vector<Case> cases = {
      {"unknown indicator", Number("NOPE-1", 2024, 1), "data_values[0].key.indicator_id"},
      {"qualitative given number", Number("HEALTH-05", 2024, 1), "data_values[0].value"},
      {"numeric given narrative", Story("HEALTH-03", 2024, "x"), "data_values[0].narrative"},
      {"unknown area", Number("HEALTH-03", 2024, 1, "123456"), "data_values[0].key.area_code"},
      {"year before 2020", Number("HEALTH-03", 2019, 1), "data_values[0].key.year"},
      {"year in the future", Number("HEALTH-03", 2027, 1), "data_values[0].key.year"},
      {"sex not taken",
       with(Number("HEALTH-03", 2024, 1),
            [](auto& v) { v.mutable_key()->set_sex(v1::SEX_FEMALE); }),
       "data_values[0].key.sex"},
      {"residence not taken",
       with(Number("HEALTH-03", 2024, 1),
            [](auto& v) { v.mutable_key()->set_residence(v1::RESIDENCE_URBAN); }),
       "data_values[0].key.residence"},
      {"value for a rate", Number("HEALTH-01", 2024, 10), "data_values[0].value"},
      {"fraction for a count", Fraction("HEALTH-03", 2024, 1, 2), "data_values[0].fraction"},
      {"infinity", Number("HEALTH-04", 2024, std::numeric_limits<double>::infinity()),
       "data_values[0].value"},
      {"NaN numerator", Fraction("HEALTH-01", 2024, std::nan(""), 10),
       "data_values[0].fraction.numerator"},
      {"denominator zero", Fraction("HEALTH-01", 2024, 1, 0),
       "data_values[0].fraction.denominator"},
      {"proportion numerator above denominator", Fraction("HEALTH-02", 2024, 120, 100),
       "data_values[0].fraction.numerator"},
      {"negative count", Number("HEALTH-03", 2024, -2), "data_values[0].value"},
      {"fractional count", Number("HEALTH-03", 2024, 2.5), "data_values[0].value"},
      {"outside value range", Number("HEALTH-04", 2024, 150), "data_values[0].value"},
      {"missing source", with(Number("HEALTH-03", 2024, 1), [](auto& v) { v.clear_source(); }),
       "data_values[0].source"},
      {"oversized note",
       with(Number("HEALTH-03", 2024, 1), [](auto& v) { v.set_note(std::string(3000, 'n')); }),
       "data_values[0].note"},
      {"narrative without self assessment",
       with(Story("HEALTH-05", 2024, "x"),
            [](auto& v) { v.mutable_narrative()->clear_self_assessment(); }),
       "data_values[0].narrative.self_assessment"},
      {"figure with a unit",
       with(Number("HEALTH-03", 2024, 1),
            [](auto& v) { v.mutable_key()->set_unit_code("HEALTH_BUREAU"); }),
       "data_values[0].key.unit_code"},
      {"statistics narrative without a unit", Story("HEALTH-05", 2024, "x"),
       "data_values[0].key.unit_code"},
      {"narrative of a unit not responsible", Story("HEALTH-05", 2024, "x", "WOMENS_FEDERATION"),
       "data_values[0].key.unit_code"},
  };
  for (const Case& c : cases) {
    auto r = Submit("stats-token", std::string("rule-") + c.name, {c.value});
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    std::vector<std::string> fields;
    for (const auto& v : BadRequestViolations(r.status())) {
      fields.push_back(v.field);
      EXPECT_THAT(v.description, HasSubstr(" / ")) << "Chinese / English: " << c.name;
    }
    EXPECT_THAT(fields, Contains(c.field)) << c.name;
  }
  // Same key twice in one batch.
  auto dup =
      Submit("stats-token", "dup", {Number("HEALTH-03", 2024, 1), Number("HEALTH-03", 2024, 2)});
  ASSERT_EQ(dup.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BadRequestViolations(dup.status())[0].field, "data_values[1].key");
  EXPECT_TRUE(ListAll().empty());
}

// Each responsible unit of a qualitative objective reports, revises and is
// tracked on its own narrative for a year: both are current, each has its
// own history, and reporting status credits each unit.
TEST_F(ServiceTest, TwoUnitsEachReportTheirOwnNarrative) {
  clock_.Set(Local(2024, 12, 1));
  auto h = Submit("health-token", "h1", {Story("HEALTH-05", 2024, "卫健局：建成新院区")});
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->results(0).outcome(), v1::WRITE_OUTCOME_CREATED);
  EXPECT_EQ(h->results(0).key().unit_code(), "HEALTH_BUREAU");  // filled in
  auto e =
      Submit("edu-token", "e1", {Story("HEALTH-05", 2024, "教育局：开设健康课", "EDU_BUREAU")});
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->results(0).outcome(), v1::WRITE_OUTCOME_CREATED);  // not a revision of HEALTH's
  auto h2 = Submit("health-token", "h2", {Story("HEALTH-05", 2024, "卫健局：更正")});
  ASSERT_TRUE(h2.ok()) << h2.status();
  EXPECT_EQ(h2->results(0).outcome(), v1::WRITE_OUTCOME_REVISED);
  EXPECT_EQ(h2->results(0).revision(), 2);
  // EDU's unchanged resubmission stays unchanged.
  auto e2 = Submit("edu-token", "e2", {Story("HEALTH-05", 2024, "教育局：开设健康课")});
  ASSERT_TRUE(e2.ok()) << e2.status();
  EXPECT_EQ(e2->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);

  auto all = ListAll();
  ASSERT_EQ(all.size(), 2u);
  std::map<std::string, v1::Revision> by_unit;
  for (const auto& r : all) {
    by_unit[r.data_value().key().unit_code()] = r;
  }
  EXPECT_EQ(by_unit["HEALTH_BUREAU"].data_value().narrative().text(), "卫健局：更正");
  EXPECT_EQ(by_unit["HEALTH_BUREAU"].revision(), 2);
  EXPECT_EQ(by_unit["EDU_BUREAU"].data_value().narrative().text(), "教育局：开设健康课");
  EXPECT_EQ(by_unit["EDU_BUREAU"].revision(), 1);
  for (const char* unit : {"HEALTH_BUREAU", "EDU_BUREAU"}) {
    v1::ListDataValuesRequest mine;
    mine.set_unit_code(unit);
    auto own = ListAll(mine);
    ASSERT_EQ(own.size(), 1u) << unit;
    EXPECT_EQ(own[0].data_value().key().unit_code(), unit);
  }

  auto history = [&](const std::string& token, const std::string& unit) {
    v1::GetHistoryRequest req;
    *req.mutable_key() = Story("HEALTH-05", 2024, "", unit).key();
    v1::GetHistoryResponse resp;
    auto ctx = Ctx(token);
    EXPECT_TRUE(stub_->GetHistory(ctx.get(), req, &resp).ok());
    std::vector<std::string> texts;
    for (const auto& r : resp.revisions()) {
      texts.push_back(r.data_value().narrative().text());
      EXPECT_EQ(r.data_value().key().unit_code(), r.unit_code());
    }
    return texts;
  };
  EXPECT_THAT(history("assess-token", "HEALTH_BUREAU"),
              ::testing::ElementsAre("卫健局：建成新院区", "卫健局：更正"));
  EXPECT_THAT(history("assess-token", "EDU_BUREAU"), ::testing::ElementsAre("教育局：开设健康课"));
  // A unit asking without a unit gets its own.
  EXPECT_THAT(history("edu-token", ""), ::testing::ElementsAre("教育局：开设健康课"));
  EXPECT_THAT(history("assess-token", ""), ::testing::IsEmpty());

  // The change feed carries each narrative's unit.
  std::vector<v1::Revision> feed;
  Watch(0, 3, &feed);
  ASSERT_EQ(feed.size(), 3u);
  EXPECT_EQ(feed[0].data_value().key().unit_code(), "HEALTH_BUREAU");
  EXPECT_EQ(feed[1].data_value().key().unit_code(), "EDU_BUREAU");

  v1::GetReportingStatusRequest req;
  req.set_year(2024);
  *req.mutable_as_of() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(Local(2025, 2, 1)));
  v1::GetReportingStatusResponse status;
  auto ctx = Ctx("stats-token");
  ASSERT_TRUE(stub_->GetReportingStatus(ctx.get(), req, &status).ok());
  std::map<std::string, v1::ReportingState> state;
  for (const auto& entry : status.entries()) {
    if (entry.indicator_id() == "HEALTH-05") {
      state[entry.unit_code()] = entry.state();
    }
  }
  EXPECT_EQ(state["HEALTH_BUREAU"], v1::REPORTING_STATE_ON_TIME);
  EXPECT_EQ(state["EDU_BUREAU"], v1::REPORTING_STATE_ON_TIME);
}

TEST_F(ServiceTest, UnitCannotWriteAnotherUnitsNarrative) {
  auto r = Submit("health-token", "other",
                  {Number("HEALTH-03", 2024, 1), Story("HEALTH-05", 2024, "代写", "EDU_BUREAU")});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorReason(r.status()), "NOT_RESPONSIBLE_UNIT");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("HEALTH-05（EDU_BUREAU）"));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("HEALTH-05 (EDU_BUREAU)"));
  EXPECT_TRUE(ListAll().empty());
  // Naming its own unit is fine.
  EXPECT_TRUE(
      Submit("health-token", "own", {Story("HEALTH-05", 2024, "本单位", "HEALTH_BUREAU")}).ok());
}

// statistics/admin write any unit's narrative but must name a responsible
// unit; the write credits no unit, and the narrative stays that unit's.
TEST_F(ServiceTest, StatisticsMustNameAResponsibleUnit) {
  auto missing = Submit("stats-token", "s1", {Story("HEALTH-05", 2024, "x")});
  ASSERT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(BadRequestViolations(missing.status()).size(), 1u);
  EXPECT_EQ(BadRequestViolations(missing.status())[0].field, "data_values[0].key.unit_code");
  auto stranger = Submit("stats-token", "s2", {Story("HEALTH-05", 2024, "x", "WOMENS_FEDERATION")});
  ASSERT_EQ(stranger.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BadRequestViolations(stranger.status())[0].field, "data_values[0].key.unit_code");
  EXPECT_TRUE(ListAll().empty());

  // Both units' narratives in one batch are two keys.
  auto both = Submit("stats-token", "s3",
                     {Story("HEALTH-05", 2024, "卫健局（代录）", "HEALTH_BUREAU"),
                      Story("HEALTH-05", 2024, "教育局（代录）", "EDU_BUREAU")});
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->created_count(), 2);
  v1::ListDataValuesRequest edu;
  edu.set_unit_code("EDU_BUREAU");
  auto own = ListAll(edu);
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0].data_value().narrative().text(), "教育局（代录）");
  EXPECT_EQ(own[0].unit_code(), "");  // written by statistics, credited to no unit
}

// Every violation at once, with its field path: a figure naming a unit, the
// same narrative key twice (an omitted unit_code is the caller's, so rows 1
// and 2 are one key), alongside a bad year. Nothing is written.
TEST_F(ServiceTest, UnitCodeViolationsReportedTogether) {
  v1::DataValue figure = Number("HEALTH-03", 2024, 1);
  figure.mutable_key()->set_unit_code("HEALTH_BUREAU");
  auto r = Submit("health-token", "bad",
                  {Number("HEALTH-03", 2019, 1), Story("HEALTH-05", 2024, "a"),
                   Story("HEALTH-05", 2024, "b", "HEALTH_BUREAU"), figure});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const auto& v : BadRequestViolations(r.status())) {
    fields.push_back(v.field);
    EXPECT_THAT(v.description, HasSubstr(" / "));
  }
  EXPECT_THAT(fields, ::testing::ElementsAre("data_values[0].key.year", "data_values[2].key",
                                             "data_values[3].key.unit_code"));
  EXPECT_TRUE(ListAll().empty());
}

TEST_F(ServiceTest, RejectedBatchWritesNothing) {
  auto r = Submit(
      "health-token", "bad",
      {Number("HEALTH-03", 2024, 3), Number("HEALTH-03", 2023, 2), Number("HEALTH-04", 2024, 500)});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  auto violations = BadRequestViolations(r.status());
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "data_values[2].value");
  EXPECT_TRUE(ListAll().empty());
  // The change feed is empty: the first event is a heartbeat at head 0.
  EXPECT_TRUE(Watch(0).empty());
  // Now a good batch takes sequence 1: nothing was consumed by the bad one.
  auto ok = Submit("health-token", "good", {Number("HEALTH-03", 2024, 3)});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->sequences().first(), 1);
}

TEST_F(ServiceTest, IdempotentRetryReturnsFirstReplyAndWritesNothing) {
  auto first = Submit("health-token", "retry-1",
                      {Number("HEALTH-03", 2024, 3), Number("HEALTH-03", 2023, 4)});
  ASSERT_TRUE(first.ok());
  auto again = Submit("health-token", "retry-1",
                      {Number("HEALTH-03", 2024, 3), Number("HEALTH-03", 2023, 4)});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->created_count(), 2);
  EXPECT_EQ(again->sequences().last(), first->sequences().last());
  EXPECT_EQ(again->results(1).key().year(), 2023);
  EXPECT_EQ(Watch(0).size(), 2u);
  v1::GetHistoryRequest h;
  *h.mutable_key() = Number("HEALTH-03", 2024, 0).key();
  v1::GetHistoryResponse hist;
  auto ctx = Ctx("health-token");
  ASSERT_TRUE(stub_->GetHistory(ctx.get(), h, &hist).ok());
  EXPECT_EQ(hist.revisions_size(), 1);
}

TEST_F(ServiceTest, SameRequestIdDifferentPayloadIsAlreadyExists) {
  ASSERT_TRUE(Submit("health-token", "id-x", {Number("HEALTH-03", 2024, 3)}).ok());
  auto r = Submit("health-token", "id-x", {Number("HEALTH-03", 2024, 4)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ErrorReason(r.status()), "REQUEST_ID_REUSED");
  auto all = ListAll();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].data_value().value(), 3);
}

TEST_F(ServiceTest, RevisionsAndUnchanged) {
  ASSERT_TRUE(Submit("health-token", "a", {Number("HEALTH-03", 2024, 3)}).ok());
  auto unchanged = Submit("health-token", "b", {Number("HEALTH-03", 2024, 3)});
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->unchanged_count(), 1);
  EXPECT_EQ(unchanged->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);
  EXPECT_EQ(unchanged->sequences().first(), 0);
  auto revised = Submit("stats-token", "c", {Number("HEALTH-03", 2024, 5)});
  ASSERT_TRUE(revised.ok());
  EXPECT_EQ(revised->results(0).outcome(), v1::WRITE_OUTCOME_REVISED);
  EXPECT_EQ(revised->results(0).revision(), 2);
  v1::DataValue src_change = Number("HEALTH-03", 2024, 5);
  src_change.set_source("另一来源");
  auto revised2 = Submit("health-token", "d", {src_change});
  ASSERT_TRUE(revised2.ok());
  EXPECT_EQ(revised2->results(0).revision(), 3);

  v1::GetHistoryRequest h;
  *h.mutable_key() = Number("HEALTH-03", 2024, 0).key();
  v1::GetHistoryResponse hist;
  // The responsible unit reads its indicator's history (EDU_BUREAU, not
  // responsible for HEALTH-03, may not: MemberUnitReadsOnlyItsOwn).
  auto ctx = Ctx("health-token");
  ASSERT_TRUE(stub_->GetHistory(ctx.get(), h, &hist).ok());
  ASSERT_EQ(hist.revisions_size(), 3);
  EXPECT_EQ(hist.revisions(0).data_value().value(), 3);
  EXPECT_EQ(hist.revisions(1).submitted_by(), "stats-bureau");
  EXPECT_EQ(hist.revisions(1).unit_code(), "");
  EXPECT_EQ(hist.revisions(1).request_id(), "c");
  EXPECT_EQ(hist.revisions(2).data_value().source(), "另一来源");
  EXPECT_TRUE(hist.revisions(2).has_committed_at());
}

TEST_F(ServiceTest, YearLocks) {
  v1::LockYearRequest lock;
  lock.set_year(2024);
  lock.set_reason("2024年数据审核完毕");
  v1::YearLock out;
  {
    auto ctx = Ctx("health-token");
    EXPECT_EQ(stub_->LockYear(ctx.get(), lock, &out).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    auto ctx = Ctx("stats-token");
    ASSERT_TRUE(stub_->LockYear(ctx.get(), lock, &out).ok());
    EXPECT_TRUE(out.locked());
    EXPECT_EQ(out.changed_by(), "stats-bureau");
  }
  auto r = Submit("health-token", "locked",
                  {Number("HEALTH-03", 2023, 1), Number("HEALTH-03", 2024, 1)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(r.status()), "YEAR_LOCKED");
  EXPECT_TRUE(
      r.status().GetPayload("type.googleapis.com/google.rpc.PreconditionFailure").has_value());
  EXPECT_TRUE(ListAll().empty());
  // dry run sees the lock too
  EXPECT_EQ(
      Submit("health-token", "locked-dry", {Number("HEALTH-03", 2024, 1)}, true).status().code(),
      absl::StatusCode::kFailedPrecondition);

  v1::UnlockYearRequest unlock;
  unlock.set_year(2024);
  {
    auto ctx = Ctx("stats-token");
    grpc::Status st = stub_->UnlockYear(ctx.get(), unlock, &out);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  unlock.set_reason("卫健局更正2024年数据");
  {
    auto ctx = Ctx("stats-token");
    ASSERT_TRUE(stub_->UnlockYear(ctx.get(), unlock, &out).ok());
    EXPECT_FALSE(out.locked());
  }
  EXPECT_TRUE(Submit("health-token", "unlocked", {Number("HEALTH-03", 2024, 1)}).ok());
  v1::ListYearLocksResponse locks;
  auto ctx = Ctx("edu-token");
  ASSERT_TRUE(stub_->ListYearLocks(ctx.get(), {}, &locks).ok());
  ASSERT_EQ(locks.history_size(), 2);
  EXPECT_EQ(locks.history(1).reason(), "卫健局更正2024年数据");
  ASSERT_EQ(locks.locks_size(), 1);
  EXPECT_FALSE(locks.locks(0).locked());
}

TEST_F(ServiceTest, PermissionDeniedNamesTheIndicator) {
  auto r =
      Submit("health-token", "p", {Number("HEALTH-03", 2024, 1), Number("HEALTH-06", 2024, 1)});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("HEALTH-06"));
  EXPECT_EQ(Submit("assess-token", "p", {Number("HEALTH-03", 2024, 1)}).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(ListAll().empty());
  // Both units may write the shared indicator.
  EXPECT_TRUE(Submit("edu-token", "shared", {Fraction("HEALTH-02", 2024, 90, 100)}).ok());
}

TEST_F(ServiceTest, Unauthenticated) {
  EXPECT_EQ(Submit("", "u", {Number("HEALTH-03", 2024, 1)}).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Submit("wrong-token", "u", {Number("HEALTH-03", 2024, 1)}).status().code(),
            absl::StatusCode::kUnauthenticated);
  v1::ListDataValuesResponse resp;
  auto ctx = Ctx("");
  EXPECT_EQ(stub_->ListDataValues(ctx.get(), {}, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  auto wctx = Ctx("nope");
  auto reader = halfsky::testing::ChangeEvents(stub_->WatchChanges(wctx.get(), {}));
  v1::ChangeEvent ev;
  EXPECT_FALSE(reader->Read(&ev));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(ListAll().empty());
}

TEST_F(ServiceTest, DryRunValidatesAndWritesNothing) {
  auto r = Submit("health-token", "dry", {Number("HEALTH-03", 2024, 1)}, true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->results_size(), 1);
  EXPECT_TRUE(ListAll().empty());
  EXPECT_EQ(Submit("health-token", "dry2", {Number("HEALTH-03", 2019, 1)}, true).status().code(),
            absl::StatusCode::kInvalidArgument);
  // The id was not consumed.
  EXPECT_TRUE(Submit("health-token", "dry", {Number("HEALTH-03", 2024, 2)}).ok());
}

TEST_F(ServiceTest, ReportingStatusOnTimeLateMissing) {
  clock_.Set(Local(2025, 12, 1));
  ASSERT_TRUE(Submit("health-token", "on-time", {Number("HEALTH-03", 2025, 1)}).ok());
  clock_.Set(Local(2026, 1, 10));
  ASSERT_TRUE(Submit("health-token", "late", {Fraction("HEALTH-01", 2025, 1, 10000)}).ok());
  ASSERT_TRUE(
      Submit("stats-token", "stats", {Number("HEALTH-04", 2025, 80)}).ok());  // no unit credit
  v1::GetReportingStatusRequest req;
  req.set_year(2025);
  req.add_unit_codes("HEALTH_BUREAU");
  *req.mutable_as_of() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(Local(2026, 2, 1)));
  v1::GetReportingStatusResponse resp;
  auto ctx = Ctx("stats-token");
  ASSERT_TRUE(stub_->GetReportingStatus(ctx.get(), req, &resp).ok());
  std::map<std::string, v1::ReportingState> state;
  for (const auto& e : resp.entries()) {
    state[e.indicator_id()] = e.state();
  }
  EXPECT_EQ(state["HEALTH-03"], v1::REPORTING_STATE_ON_TIME);
  EXPECT_EQ(state["HEALTH-01"], v1::REPORTING_STATE_LATE);
  EXPECT_EQ(state["HEALTH-04"], v1::REPORTING_STATE_MISSING);
  EXPECT_EQ(state["HEALTH-05"], v1::REPORTING_STATE_MISSING);
  EXPECT_EQ(resp.overall().expected_count(), 5);
  EXPECT_EQ(resp.overall().reported_count(), 2);
  EXPECT_DOUBLE_EQ(resp.overall().timeliness_percent(), 20.0);
  // Before the due date, by the service clock: not due.
  clock_.Set(Local(2025, 6, 1));
  req.set_year(2025);
  req.clear_as_of();
  v1::GetReportingStatusResponse early;
  auto ctx2 = Ctx("stats-token");
  ASSERT_TRUE(stub_->GetReportingStatus(ctx2.get(), req, &early).ok());
  for (const auto& e : early.entries()) {
    EXPECT_EQ(e.state(), v1::REPORTING_STATE_NOT_DUE) << e.indicator_id();
  }
}

TEST_F(ServiceTest, ListDataValuesFiltersAndPages) {
  std::vector<v1::DataValue> values;
  for (int y = 2020; y <= 2025; ++y) {
    values.push_back(Number("HEALTH-03", y, y - 2000));
    values.push_back(Number("HEALTH-04", y, 70 + y - 2020));
  }
  ASSERT_TRUE(Submit("health-token", "many", values).ok());
  ASSERT_TRUE(Submit("edu-token", "edu", {Number("HEALTH-06", 2024, 7)}).ok());
  v1::ListDataValuesRequest req;
  req.set_page_size(5);
  EXPECT_EQ(ListAll(req).size(), 13u);
  req.add_indicator_ids("HEALTH-04");
  req.add_years(2021);
  req.add_years(2022);
  auto some = ListAll(req);
  ASSERT_EQ(some.size(), 2u);
  EXPECT_EQ(some[0].data_value().value(), 71);
  v1::ListDataValuesRequest by_unit;
  by_unit.set_unit_code("EDU_BUREAU");
  EXPECT_EQ(ListAll(by_unit).size(), 1u);

  v1::ListDataValuesRequest bad;
  bad.set_page_token("not-a-token");
  v1::ListDataValuesResponse resp;
  auto ctx = Ctx("stats-token");
  EXPECT_EQ(stub_->ListDataValues(ctx.get(), bad, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// A backlog travels as a few large messages (one per store page of
// watch_page_size), not one message per revision: at one message per
// revision a replay of 10^6 values took ~70 s (docs/BENCHMARKS.md,
// "Profile: Rebuild").
TEST_F(ServiceTest, ChangeFeedSendsTheBacklogInPages) {
  const int page = SubmissionServiceOptions().watch_page_size;
  const int total = 2 * page + page / 4;
  for (int round = 0; round < total / 5; ++round) {  // 5 years a round
    std::vector<v1::DataValue> values;
    for (int y = 2020; y <= 2024; ++y) {
      values.push_back(Number("HEALTH-03", y, round + 1));
    }
    ASSERT_TRUE(Submit("health-token", "r" + std::to_string(round), values).ok());
  }
  int messages_with_revisions = 0;
  int64_t last = 0;
  for (const v1::WatchChangesResponse& message : BacklogMessages()) {
    ASSERT_GT(message.events_size(), 0);
    int revisions = 0;
    for (const v1::ChangeEvent& ev : message.events()) {
      if (ev.has_revision()) {
        EXPECT_EQ(ev.revision().sequence(), last + 1);  // in order, no gap
        last = ev.revision().sequence();
        ++revisions;
      }
    }
    EXPECT_LE(revisions, page);
    messages_with_revisions += revisions > 0 ? 1 : 0;
  }
  EXPECT_EQ(last, total);
  EXPECT_EQ(messages_with_revisions, 3);  // page + page + a quarter page
}

TEST_F(ServiceTest, ChangeFeedLiveAndResumeWithoutGapOrDuplicate) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        Submit("health-token", "w" + std::to_string(i), {Number("HEALTH-03", 2020 + i, i)}).ok());
  }
  std::vector<int64_t> first = Watch(0, 5);
  EXPECT_EQ(first, (std::vector<int64_t>{1, 2, 3, 4, 5}));

  // Live: a watcher that is caught up receives new commits.
  std::vector<int64_t> live;
  std::thread watcher([&] { live = Watch(5, 8); });
  // Wait until the watcher is registered before writing.
  for (int i = 0; i < 200 && service_->active_watchers() == 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        Submit("health-token", "x" + std::to_string(i), {Number("HEALTH-04", 2020 + i, 75)}).ok());
  }
  watcher.join();
  EXPECT_EQ(live, (std::vector<int64_t>{6, 7, 8}));
  // Resume in the middle.
  EXPECT_EQ(Watch(3, 8), (std::vector<int64_t>{4, 5, 6, 7, 8}));
}

// 54 keys of HEALTH-01: 6 years × 3 areas × 3 residences.
std::vector<v1::DataValue> FiftyFourKeys() {
  std::vector<v1::DataValue> values;
  for (int y = 2020; y <= 2025; ++y) {
    for (const char* area : {"610303", "610303001", "610303100"}) {
      for (auto r : {v1::RESIDENCE_ALL, v1::RESIDENCE_URBAN, v1::RESIDENCE_RURAL}) {
        v1::DataValue v = Fraction("HEALTH-01", y, 1, 100000, area);
        v.mutable_key()->set_residence(r);
        values.push_back(v);
      }
    }
  }
  return values;
}

TEST_F(ServiceTest, ChangeFeedBacklogLargerThanAPage) {
  std::vector<v1::DataValue> values = FiftyFourKeys();
  // 6 years × 3 areas × 3 residences = 54 keys, written round after round
  // until the backlog passes two pages (three pages to cross).
  const int page = SubmissionServiceOptions().watch_page_size;
  int64_t expected = 0;
  for (int round = 0; round * 54 <= 2 * page; ++round) {
    for (auto& v : values) {
      v.set_note("round " + std::to_string(round));
    }
    ASSERT_TRUE(Submit("health-token", "round" + std::to_string(round), values).ok());
    expected += values.size();
  }
  std::vector<int64_t> seqs = Watch(0, expected);
  ASSERT_EQ(static_cast<int64_t>(seqs.size()), expected);
  for (int64_t i = 0; i < expected; ++i) {
    ASSERT_EQ(seqs[i], i + 1);
  }
}

// A page too large for one message (540 revisions of ~3 KB: a 2 KB note
// and a 1 KB change reason; about 1.6 MiB against the 1 MiB a message is
// closed at) travels as two; every revision arrives whole and in order
// across the split (the page's revisions, events and messages share one
// arena, reset only between pages).
TEST_F(ServiceTest, ChangeFeedSplitsAPageLargerThanAMessage) {
  ASSERT_GE(SubmissionServiceOptions().watch_page_size, 540);
  ASSERT_GE(SubmissionServiceOptions().watch_page_bytes, size_t{540 * 3100});
  std::vector<v1::DataValue> values = FiftyFourKeys();
  // 54 keys × 10 rounds = 540 revisions; a round's note names it.
  auto note = [](int round) { return absl::StrCat("round ", round, " ", std::string(1990, 'x')); };
  auto reason = [](int round) {
    return absl::StrCat("reason ", round, " ", std::string(990, 'y'));
  };
  for (int round = 0; round < 10; ++round) {
    for (auto& v : values) {
      v.set_note(note(round));
      v.set_change_reason(reason(round));
    }
    ASSERT_TRUE(Submit("health-token", "big" + std::to_string(round), values).ok());
  }
  int messages_with_revisions = 0;
  const int64_t last = WalkBacklog(
      [&](const v1::Revision& rev) {
        const int round = static_cast<int>((rev.sequence() - 1) / 54);
        EXPECT_EQ(rev.data_value().note(), note(round)) << "sequence " << rev.sequence();
        EXPECT_EQ(rev.change_reason(), reason(round)) << "sequence " << rev.sequence();
        EXPECT_EQ(rev.data_value().key().indicator_id(), "HEALTH-01");
        EXPECT_EQ(rev.revision(), round + 1);
      },
      [&](const v1::WatchChangesResponse& message, int) {
        // Closed at ~1 MiB of events (their framing aside): well under the
        // client's 4 MiB receive limit.
        EXPECT_LT(message.ByteSizeLong(), size_t{1} << 21);
        ++messages_with_revisions;
      });
  EXPECT_EQ(last, 540);
  EXPECT_EQ(messages_with_revisions, 2);  // one page, split in two
}

// Pages cut by their byte budget rather than their count (5 000 bytes:
// three revisions of ~2 KB a page) still deliver every revision once, in
// order and whole; without the budget the 162 revisions would be one page.
TEST_F(ServiceTest, ChangeFeedPagesCutByBytesDeliverEveryRevision) {
  watch_page_bytes_ = 5000;
  Restart();
  std::vector<v1::DataValue> values = FiftyFourKeys();
  auto note = [](int round) { return absl::StrCat("round ", round, " ", std::string(1990, 'x')); };
  for (int round = 0; round < 3; ++round) {
    for (auto& v : values) {
      v.set_note(note(round));
    }
    ASSERT_TRUE(Submit("health-token", "paged" + std::to_string(round), values).ok());
  }
  int messages_with_revisions = 0;
  const int64_t last = WalkBacklog(
      [&](const v1::Revision& rev) {
        EXPECT_EQ(rev.data_value().note(), note(static_cast<int>((rev.sequence() - 1) / 54)));
      },
      [&](const v1::WatchChangesResponse&, int revisions) {
        EXPECT_LE(revisions, 3);
        ++messages_with_revisions;
      });
  EXPECT_EQ(last, 162);
  EXPECT_EQ(messages_with_revisions, 54);
}

TEST_F(ServiceTest, ChangeFeedResumesAcrossServerRestart) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(
        Submit("health-token", "pre" + std::to_string(i), {Number("HEALTH-03", 2020 + i, i)}).ok());
  }
  std::vector<int64_t> before = Watch(0, 4);
  ASSERT_EQ(before.back(), 4);
  Restart();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        Submit("health-token", "post" + std::to_string(i), {Number("HEALTH-04", 2020 + i, 80)})
            .ok());
  }
  // Retry of an acknowledged request after the restart is replayed.
  auto replay = Submit("health-token", "pre0", {Number("HEALTH-03", 2020, 0)});
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed());
  EXPECT_EQ(Watch(before.back(), 7), (std::vector<int64_t>{5, 6, 7}));
}

TEST_F(ServiceTest, WatchersEndOnShutdown) {
  auto ctx = Ctx("assess-token");
  auto reader = halfsky::testing::ChangeEvents(stub_->WatchChanges(ctx.get(), {}));
  v1::ChangeEvent ev;
  ASSERT_TRUE(reader->Read(&ev));  // heartbeat
  EXPECT_TRUE(ev.has_heartbeat());
  service_->Shutdown();
  while (reader->Read(&ev)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(ServiceTest, SubmitStreamAcknowledgesChunksInOrder) {
  auto ctx = Ctx("health-token");
  auto stream = stub_->SubmitStream(ctx.get());
  for (int c = 0; c < 3; ++c) {
    v1::SubmitStreamRequest req;
    req.set_request_id("chunk-" + std::to_string(c));
    for (int y = 2020; y <= 2023; ++y) {
      *req.add_data_values() = Number("HEALTH-03", y, c * 10 + y - 2020);
    }
    ASSERT_TRUE(stream->Write(req));
    v1::SubmitStreamResponse ack;
    ASSERT_TRUE(stream->Read(&ack));
    EXPECT_EQ(ack.chunk_index(), c);
    EXPECT_EQ(ack.request_id(), req.request_id());
    EXPECT_EQ(ack.sequences().first(), c * 4 + 1);
    EXPECT_EQ(ack.sequences().last(), c * 4 + 4);
    EXPECT_EQ(ack.created_count() + ack.revised_count(), 4);
  }
  // A retried chunk is replayed; a bad chunk ends the stream.
  v1::SubmitStreamRequest retry;
  retry.set_request_id("chunk-0");
  for (int y = 2020; y <= 2023; ++y) {
    *retry.add_data_values() = Number("HEALTH-03", y, y - 2020);
  }
  ASSERT_TRUE(stream->Write(retry));
  v1::SubmitStreamResponse ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_TRUE(ack.replayed());
  EXPECT_EQ(ack.chunk_index(), 3);
  v1::SubmitStreamRequest bad;
  bad.set_request_id("bad");
  *bad.add_data_values() = Number("HEALTH-03", 2019, 1);
  stream->Write(bad);
  EXPECT_FALSE(stream->Read(&ack));
  grpc::Status st = stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Watch(0, 12).size(), 12u);
}

TEST_F(ServiceTest, SubmitStreamPipelinedChunksAreAcknowledgedInOrder) {
  auto ctx = Ctx("health-token");
  auto stream = stub_->SubmitStream(ctx.get());
  constexpr int kChunks = 12;
  for (int c = 0; c < kChunks; ++c) {
    v1::SubmitStreamRequest req;
    req.set_request_id("p-" + std::to_string(c));
    for (int y = 2020; y <= 2025; ++y) {
      *req.add_data_values() = Number("HEALTH-03", y, c * 10 + y - 2020);
    }
    ASSERT_TRUE(stream->Write(req));  // no ack read yet: the server reads ahead
  }
  // A bad chunk after the good ones: they are still acknowledged, in order.
  v1::SubmitStreamRequest bad;
  bad.set_request_id("p-bad");
  *bad.add_data_values() = Number("HEALTH-03", 2024, -1);
  stream->Write(bad);
  int64_t next_sequence = 1;
  for (int c = 0; c < kChunks; ++c) {
    v1::SubmitStreamResponse ack;
    ASSERT_TRUE(stream->Read(&ack)) << c;
    EXPECT_EQ(ack.chunk_index(), c);
    EXPECT_EQ(ack.request_id(), "p-" + std::to_string(c));
    EXPECT_EQ(ack.sequences().first(), next_sequence);
    EXPECT_EQ(ack.sequences().last(), next_sequence + 5);
    next_sequence += 6;
  }
  v1::SubmitStreamResponse extra;
  EXPECT_FALSE(stream->Read(&extra));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Watch(0, kChunks * 6).size(), static_cast<size_t>(kChunks * 6));
}

TEST_F(ServiceTest, SubmitStreamUnauthenticated) {
  auto ctx = Ctx("");
  auto stream = stub_->SubmitStream(ctx.get());
  v1::SubmitStreamRequest req;
  req.set_request_id("u");
  *req.add_data_values() = Number("HEALTH-03", 2024, 1);
  stream->Write(req);
  v1::SubmitStreamResponse ack;
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(ListAll().empty());
}

TEST_F(ServiceTest, SubmitStreamCleanEnd) {
  auto ctx = Ctx("health-token");
  auto stream = stub_->SubmitStream(ctx.get());
  v1::SubmitStreamRequest req;
  req.set_request_id("only");
  *req.add_data_values() = Number("HEALTH-03", 2024, 1);
  ASSERT_TRUE(stream->Write(req));
  v1::SubmitStreamResponse ack;
  ASSERT_TRUE(stream->Read(&ack));
  stream->WritesDone();
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_TRUE(stream->Finish().ok());
}

// Least privilege (issue 13): the read-only service role reads the feed,
// values, history and reporting status but writes, locks and withdraws
// nothing; a member unit reads only its own and may not follow the feed.
TEST_F(ServiceTest, ServiceRoleReadsButNeverWrites) {
  ASSERT_TRUE(Submit("health-token", "h1", {Number("HEALTH-03", 2024, 3)}).ok());

  auto write = Submit("service-token", "s1", {Number("HEALTH-03", 2024, 4)});
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.status().code(), absl::StatusCode::kPermissionDenied) << write.status();
  {
    v1::LockYearRequest req;
    req.set_year(2024);
    req.set_reason("审核通过");
    v1::YearLock lock;
    auto ctx = Ctx("service-token");
    EXPECT_EQ(stub_->LockYear(ctx.get(), req, &lock).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    v1::WithdrawValuesRequest req;
    req.set_request_id("w1");
    *req.add_keys() = Number("HEALTH-03", 2024, 3).key();
    req.set_reason("测试");
    v1::WithdrawValuesResponse resp;
    auto ctx = Ctx("service-token");
    EXPECT_EQ(stub_->WithdrawValues(ctx.get(), req, &resp).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  // Reads: the feed, current values, history, reporting status.
  {
    auto ctx = Ctx("service-token");
    v1::WatchChangesRequest req;
    auto reader = halfsky::testing::ChangeEvents(stub_->WatchChanges(ctx.get(), req));
    v1::ChangeEvent ev;
    ASSERT_TRUE(reader->Read(&ev));
    EXPECT_TRUE(ev.has_revision());
    ctx->TryCancel();
    reader->Finish().IgnoreError();
  }
  {
    v1::ListDataValuesRequest req;
    v1::ListDataValuesResponse resp;
    auto ctx = Ctx("service-token");
    ASSERT_TRUE(stub_->ListDataValues(ctx.get(), req, &resp).ok());
    EXPECT_EQ(resp.data_values_size(), 1);
  }
  {
    v1::GetReportingStatusRequest req;
    req.set_year(2024);
    v1::GetReportingStatusResponse resp;
    auto ctx = Ctx("service-token");
    EXPECT_TRUE(stub_->GetReportingStatus(ctx.get(), req, &resp).ok());
  }
  // Nothing the service principal tried was written.
  auto all = ListAll();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].data_value().value(), 3);
}

TEST_F(ServiceTest, MemberUnitReadsOnlyItsOwn) {
  ASSERT_TRUE(Submit("health-token", "h1", {Number("HEALTH-03", 2024, 3)}).ok());
  ASSERT_TRUE(Submit("edu-token", "e1", {Number("HEALTH-06", 2024, 12)}).ok());

  // The change feed carries every unit's values: not for a unit.
  {
    auto ctx = Ctx("edu-token");
    v1::WatchChangesRequest req;
    auto reader = halfsky::testing::ChangeEvents(stub_->WatchChanges(ctx.get(), req));
    v1::ChangeEvent ev;
    EXPECT_FALSE(reader->Read(&ev));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  // ListDataValues: its own unit by default, another unit's is refused.
  {
    v1::ListDataValuesRequest req;
    v1::ListDataValuesResponse resp;
    auto ctx = Ctx("edu-token");
    ASSERT_TRUE(stub_->ListDataValues(ctx.get(), req, &resp).ok());
    ASSERT_EQ(resp.data_values_size(), 1);
    EXPECT_EQ(resp.data_values(0).data_value().key().indicator_id(), "HEALTH-06");
  }
  {
    v1::ListDataValuesRequest req;
    req.set_unit_code("HEALTH_BUREAU");
    v1::ListDataValuesResponse resp;
    auto ctx = Ctx("edu-token");
    grpc::Status st = stub_->ListDataValues(ctx.get(), req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(resp.data_values_size(), 0);
  }
  // History: only of indicators it is responsible for.
  {
    v1::GetHistoryRequest req;
    *req.mutable_key() = Number("HEALTH-03", 2024, 0).key();
    v1::GetHistoryResponse resp;
    auto ctx = Ctx("edu-token");
    EXPECT_EQ(stub_->GetHistory(ctx.get(), req, &resp).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    auto own = Ctx("health-token");
    ASSERT_TRUE(stub_->GetHistory(own.get(), req, &resp).ok());
    EXPECT_EQ(resp.revisions_size(), 1);
  }
  // Reporting status: its own rows only.
  {
    v1::GetReportingStatusRequest req;
    req.set_year(2024);
    v1::GetReportingStatusResponse resp;
    auto ctx = Ctx("edu-token");
    ASSERT_TRUE(stub_->GetReportingStatus(ctx.get(), req, &resp).ok());
    ASSERT_GT(resp.entries_size(), 0);
    for (const auto& e : resp.entries()) {
      EXPECT_EQ(e.unit_code(), "EDU_BUREAU");
    }
    req.add_unit_codes("HEALTH_BUREAU");
    auto other = Ctx("edu-token");
    EXPECT_EQ(stub_->GetReportingStatus(other.get(), req, &resp).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
}

}  // namespace
}  // namespace halfsky::submission
