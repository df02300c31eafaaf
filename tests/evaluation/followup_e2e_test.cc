// Follow-up records (督办, issue #18) on the real evaluation service: a real
// redis-server holding aggregates in the aggregation service's layout, the
// real EvaluationService and FollowUpService on one loopback gRPC server, a
// real SQLite file (restarted on the same file), the injectable clock so
// that days pass without sleeping; and the real halfskyctl command code.
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/auth/credentials.h"
#include "common/auth/token_store.h"
#include "common/clock/clock.h"
#include "common/redis/hiredis_client.h"
#include "common/server/server.h"
#include "common/status/status.h"
#include "common/views/report_render.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "services/evaluation/service/evaluation_service.h"
#include "services/evaluation/service/evaluator.h"
#include "services/evaluation/service/followup_service.h"
#include "services/evaluation/service/followup_store.h"
#include "services/evaluation/service/followup_tracker.h"
#include "services/evaluation/service/series_source.h"
#include "services/evaluation/service/warning_engine.h"
#include "services/evaluation/service/warning_store.h"
#include "services/halfskyctl/commands.h"
#include "tests/evaluation/service_test_util.h"
#include "tests/support/process.h"

namespace halfsky::evaluation {
namespace {

using ::halfsky::v1::FollowUp;
using ::halfsky::v1::FollowUpEvent;
using ::halfsky::v1::Warning;
using testing::FractionValue;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kWarningId[] = "HEALTH-02:610303:progress:2030";
constexpr char kGroupToken[] = "group-token-1";
constexpr char kHealthToken[] = "health-token-1";
constexpr char kEduToken[] = "edu-token-1";

google::protobuf::Timestamp Ts(absl::Time t) {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

// The fields named by the google.rpc.BadRequest of `st`.
std::vector<std::string> ErrorFields(const grpc::Status& st) {
  std::vector<std::string> out;
  for (const FieldViolation& v : BadRequestViolations(FromGrpcStatus(st))) {
    out.push_back(v.field);
  }
  return out;
}

// Collects the events of one WatchFollowUps stream on its own thread.
class EventCollector {
 public:
  EventCollector(halfsky::v1::FollowUpService::Stub* stub, const std::string& token,
                 bool escalations_only) {
    auth::AddBearerToken(&ctx_, token);
    halfsky::v1::WatchFollowUpsRequest request;
    request.set_escalations_only(escalations_only);
    reader_ = stub->WatchFollowUps(&ctx_, request);
    thread_ = std::thread([this] {
      FollowUpEvent e;
      while (reader_->Read(&e)) {
        absl::MutexLock lock(&mu_);
        events_.push_back(e);
      }
      absl::MutexLock lock(&mu_);
      done_ = true;
    });
  }
  ~EventCollector() {
    ctx_.TryCancel();
    thread_.join();
    (void)reader_->Finish();
  }
  // Waits (bounded) until an event of `type` for `id` arrived; returns it.
  std::optional<FollowUpEvent> WaitFor(halfsky::v1::FollowUpEventType type,
                                       const std::string& id = kWarningId) {
    absl::MutexLock lock(&mu_);
    std::optional<FollowUpEvent> found;
    auto has = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const FollowUpEvent& e : events_) {
        if (e.type() == type && e.follow_up().warning_id() == id) {
          found = e;
          return true;
        }
      }
      return done_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&has), absl::Seconds(10));
    return found;
  }
  std::vector<FollowUpEvent> Events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<FollowUpEvent>> reader_;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<FollowUpEvent> events_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

class FollowUpE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = testing::TestCatalog();
    auto redis_server = halfsky::testing::RedisServer::Start();
    ASSERT_TRUE(redis_server.ok()) << redis_server.status();
    redis_server_ = std::move(*redis_server);
    HiredisOptions options = *ParseRedisAddress(redis_server_->address());
    redis_ = std::make_unique<HiredisClient>(options);
    writer_ = std::make_unique<testing::AggregateWriter>(catalog_, redis_.get());
    db_path_ = halfsky::testing::MakeTempDir("followup-e2e") + "/evaluation.db";
    auto tokens = auth::TokenStore::FromString(absl::StrCat(
        auth::HashToken(kGroupToken), " wang assessment\n", auth::HashToken(kHealthToken),
        " health unit:HEALTH_BUREAU\n", auth::HashToken(kEduToken), " edu unit:EDU_BUREAU\n"));
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    authenticator_ = auth::Authenticator::WithTokens(std::move(*tokens));
    settings_.plan_days_orange = 14;
    settings_.plan_days_red = 7;
    StartService();
  }
  void TearDown() override { StopService(); }

  void StartService() {
    auto store = WarningStore::Open(db_path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto fstore = FollowUpStore::Open(db_path_);
    ASSERT_TRUE(fstore.ok()) << fstore.status();
    followup_store_ = std::move(*fstore);
    auto engine = WarningEngine::Create(store_.get(), &clock_);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
    auto tracker =
        FollowUpTracker::Create(catalog_, engine_.get(), followup_store_.get(), &clock_, settings_);
    ASSERT_TRUE(tracker.ok()) << tracker.status();
    tracker_ = std::move(*tracker);
    series_ = std::make_unique<RedisSeriesSource>(redis_.get());
    EvaluatorOptions eo;
    eo.area_depth = 0;
    eo.full_pass_interval = absl::Hours(1);
    evaluator_ =
        std::make_unique<Evaluator>(catalog_, series_.get(), nullptr, engine_.get(), &clock_, eo);
    EvaluationServiceOptions so;
    so.followups = tracker_.get();
    service_ = std::make_unique<EvaluationServiceImpl>(catalog_, engine_.get(), evaluator_.get(),
                                                       authenticator_->AsFunction(), so);
    followup_service_ =
        std::make_unique<FollowUpServiceImpl>(tracker_.get(), authenticator_->AsFunction());
    ServerOptions options;
    options.name = "halfsky-evaluation-followup-test";
    options.drain_delay = absl::ZeroDuration();
    options.grace_period = absl::Seconds(2);
    auto server =
        RunningServer::Start(options, catalog_, {service_.get(), followup_service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto channel = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    stub_ = halfsky::v1::FollowUpService::NewStub(channel);
    eval_stub_ = halfsky::v1::EvaluationService::NewStub(channel);
  }

  void StopService() {
    if (server_ != nullptr) {
      server_->Shutdown([this] {
        followup_service_->Shutdown();
        service_->Shutdown();
      });
    }
    server_.reset();
    followup_service_.reset();
    service_.reset();
    evaluator_.reset();
    tracker_.reset();
    engine_.reset();
    followup_store_.reset();
    store_.reset();
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    auth::AddBearerToken(ctx.get(), token);
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return ctx;
  }

  // HEALTH-02 (lead unit HEALTH_BUREAU): 50 % in 2020 and `v2024` in 2024
  // against ≥ 60 % by 2030: 50.5 → 预计达标困难 (orange), 49 → 逆向变化
  // (red), 55 → on track (nothing warns). Then the evaluator runs.
  void Write2024(double v2024) {
    ASSERT_TRUE(writer_
                    ->Write({FractionValue("HEALTH-02", 2020, 50, 100),
                             FractionValue("HEALTH-02", 2024, v2024, 100)})
                    .ok());
    ASSERT_TRUE(evaluator_->EvaluateIndicator("HEALTH-02").ok());
  }

  halfsky::v1::ListFollowUpsResponse List(const std::string& token,
                                          halfsky::v1::ListFollowUpsRequest request = {},
                                          grpc::StatusCode want = grpc::StatusCode::OK) {
    halfsky::v1::ListFollowUpsResponse response;
    auto ctx = Ctx(token);
    grpc::Status st = stub_->ListFollowUps(ctx.get(), request, &response);
    EXPECT_EQ(st.error_code(), want) << st.error_message();
    return response;
  }
  FollowUp Get(const std::string& token = kGroupToken) {
    halfsky::v1::GetFollowUpRequest request;
    request.set_warning_id(kWarningId);
    FollowUp f;
    auto ctx = Ctx(token);
    grpc::Status st = stub_->GetFollowUp(ctx.get(), request, &f);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return f;
  }
  grpc::Status Assign(const std::string& token, const std::string& unit, FollowUp* out = nullptr) {
    halfsky::v1::AssignFollowUpRequest r;
    r.set_warning_id(kWarningId);
    r.set_unit_code(unit);
    r.set_reason("按职责分工调整");
    FollowUp f;
    auto ctx = Ctx(token);
    grpc::Status st = stub_->AssignFollowUp(ctx.get(), r, out != nullptr ? out : &f);
    return st;
  }
  grpc::Status Plan(const std::string& token, absl::Time due, FollowUp* out = nullptr) {
    halfsky::v1::PlanFollowUpRequest r;
    r.set_warning_id(kWarningId);
    r.set_measures("开展宫颈癌免费筛查进社区专项行动，年底前筛查率提高到55%");
    *r.mutable_due() = Ts(due);
    FollowUp f;
    auto ctx = Ctx(token);
    return stub_->PlanFollowUp(ctx.get(), r, out != nullptr ? out : &f);
  }
  grpc::Status Note(const std::string& token, const std::string& note) {
    halfsky::v1::AddFollowUpNoteRequest r;
    r.set_warning_id(kWarningId);
    r.set_note(note);
    FollowUp f;
    auto ctx = Ctx(token);
    return stub_->AddFollowUpNote(ctx.get(), r, &f);
  }
  grpc::Status Close(const std::string& token, halfsky::v1::FollowUpClosing closing,
                     const std::string& reason, FollowUp* out = nullptr) {
    halfsky::v1::CloseFollowUpRequest r;
    r.set_warning_id(kWarningId);
    r.set_closing(closing);
    r.set_reason(reason);
    FollowUp f;
    auto ctx = Ctx(token);
    return stub_->CloseFollowUp(ctx.get(), r, out != nullptr ? out : &f);
  }
  grpc::Status Silence(const std::string& token, absl::Time until, FollowUp* out = nullptr) {
    halfsky::v1::SilenceFollowUpRequest r;
    r.set_warning_id(kWarningId);
    r.set_reason("卫健系统机构改革，筛查数据口径调整中");
    *r.mutable_until() = Ts(until);
    FollowUp f;
    auto ctx = Ctx(token);
    return stub_->SilenceFollowUp(ctx.get(), r, out != nullptr ? out : &f);
  }

  std::vector<halfsky::v1::FollowUpStepKind> Kinds(const FollowUp& f) {
    std::vector<halfsky::v1::FollowUpStepKind> out;
    for (const auto& s : f.steps()) {
      out.push_back(s.kind());
    }
    return out;
  }

  int Ctl(const std::vector<std::string>& args, const std::string& token, std::string* out) {
    std::vector<std::string> full = {"followup"};
    full.insert(full.end(), args.begin(), args.end());
    full.push_back("--server=" + server_->address());
    full.push_back("--token=" + token);
    std::ostringstream o, e;
    const int code = RunHalfskyctl(full, o, e);
    *out = o.str() + e.str();
    return code;
  }

  FakeClock clock_{absl::FromUnixSeconds(1767225600)};  // 2026-01-01 08:00 +08:00
  EscalationSettings settings_;
  std::shared_ptr<const CatalogIndex> catalog_;
  std::unique_ptr<halfsky::testing::RedisServer> redis_server_;
  std::unique_ptr<HiredisClient> redis_;
  std::unique_ptr<testing::AggregateWriter> writer_;
  std::string db_path_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<WarningStore> store_;
  std::unique_ptr<FollowUpStore> followup_store_;
  std::unique_ptr<WarningEngine> engine_;
  std::unique_ptr<FollowUpTracker> tracker_;
  std::unique_ptr<RedisSeriesSource> series_;
  std::unique_ptr<Evaluator> evaluator_;
  std::unique_ptr<EvaluationServiceImpl> service_;
  std::unique_ptr<FollowUpServiceImpl> followup_service_;
  std::unique_ptr<RunningServer> server_;
  std::unique_ptr<halfsky::v1::FollowUpService::Stub> stub_;
  std::unique_ptr<halfsky::v1::EvaluationService::Stub> eval_stub_;
};

// The whole walk of issue #18: firing → assigned → plan with due date →
// the unit's note → overdue → escalated → resolved by new data → closed →
// fired again → reopened; durable across a restart.
TEST_F(FollowUpE2eTest, WarningWalksFromFiringToReopened) {
  Write2024(50.5);
  halfsky::v1::ListFollowUpsResponse all = List(kGroupToken);
  ASSERT_EQ(all.follow_ups_size(), 1);
  FollowUp f = all.follow_ups(0);
  EXPECT_EQ(f.warning_id(), kWarningId);
  EXPECT_EQ(f.state(), halfsky::v1::FOLLOW_UP_STATE_OPEN);
  EXPECT_EQ(f.owner_unit_code(), "HEALTH_BUREAU") << "the indicator's lead unit by default";
  EXPECT_TRUE(f.owner_is_default());
  EXPECT_EQ(f.warning().severity(), halfsky::v1::SEVERITY_ORANGE);
  EXPECT_EQ(google::protobuf::util::TimeUtil::TimestampToSeconds(f.plan_required_by()),
            absl::ToUnixSeconds(clock_.Now() + absl::Hours(24 * 14)));

  // Assigned: to the education bureau, then back — by the group only.
  EXPECT_EQ(Assign(kHealthToken, "EDU_BUREAU").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Assign(kGroupToken, "EDU_BUREAU").ok());
  EXPECT_EQ(List(kHealthToken).follow_ups_size(), 0) << "no longer the health bureau's";
  EXPECT_EQ(List(kEduToken).follow_ups_size(), 1);
  FollowUp assigned;
  ASSERT_TRUE(Assign(kGroupToken, "HEALTH_BUREAU", &assigned).ok());
  EXPECT_EQ(assigned.owner_unit_code(), "HEALTH_BUREAU");
  EXPECT_FALSE(assigned.owner_is_default());

  // The plan with its due date, 30 days ahead.
  const absl::Time due = clock_.Now() + absl::Hours(24 * 30);
  EXPECT_EQ(Plan(kHealthToken, due).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Plan(kGroupToken, clock_.Now() - absl::Hours(1)).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  FollowUp planned;
  ASSERT_TRUE(Plan(kGroupToken, due, &planned).ok());
  EXPECT_EQ(planned.state(), halfsky::v1::FOLLOW_UP_STATE_PLANNED);
  EXPECT_EQ(planned.plan().by(), "wang");

  // The unit's view: what is asked and by when; it adds a note.
  halfsky::v1::ListFollowUpsResponse mine = List(kHealthToken);
  ASSERT_EQ(mine.follow_ups_size(), 1);
  EXPECT_THAT(mine.follow_ups(0).plan().measures(), HasSubstr("宫颈癌免费筛查"));
  EXPECT_EQ(mine.follow_ups(0).plan().due().seconds(), absl::ToUnixSeconds(due));
  EXPECT_THAT(mine.summary().covers_zh(), HasSubstr("本单位"));
  clock_.Advance(absl::Hours(24 * 10));
  ASSERT_TRUE(Note(kHealthToken, "已在8个社区开展筛查，完成3200人").ok());
  EXPECT_EQ(Note(kEduToken, "不是我们的").error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // Overdue → escalated, pushed to a watcher, on the 督办 list.
  auto watcher = std::make_unique<EventCollector>(stub_.get(), kGroupToken,
                                                  /*escalations_only=*/true);
  ASSERT_TRUE(watcher->WaitFor(halfsky::v1::FOLLOW_UP_EVENT_TYPE_SYNCED, "").has_value());
  auto edu_watcher = std::make_unique<EventCollector>(stub_.get(), kEduToken, false);
  ASSERT_TRUE(edu_watcher->WaitFor(halfsky::v1::FOLLOW_UP_EVENT_TYPE_SYNCED, "").has_value());
  clock_.Advance(absl::Hours(24 * 21));  // one day past due
  halfsky::v1::ListFollowUpsRequest duban;
  duban.set_escalated_only(true);
  halfsky::v1::ListFollowUpsResponse escalated = List(kGroupToken, duban);
  ASSERT_EQ(escalated.follow_ups_size(), 1);
  EXPECT_EQ(escalated.follow_ups(0).escalation().reason(), halfsky::v1::ESCALATION_REASON_PAST_DUE);
  EXPECT_EQ(escalated.summary().overdue(), 1);
  EXPECT_EQ(escalated.summary().escalated(), 1);
  EXPECT_THAT(escalated.summary().covers_zh(), HasSubstr("升级督办"));
  std::optional<FollowUpEvent> pushed =
      watcher->WaitFor(halfsky::v1::FOLLOW_UP_EVENT_TYPE_ESCALATED);
  ASSERT_TRUE(pushed.has_value());
  EXPECT_EQ(pushed->step().escalation(), halfsky::v1::ESCALATION_REASON_PAST_DUE);
  EXPECT_THAT(pushed->step().text(), HasSubstr("超过整改时限"));

  // Nobody may close with "resolved by data" while it fires; the unit not at all.
  EXPECT_EQ(Close(kGroupToken, halfsky::v1::FOLLOW_UP_CLOSING_RESOLVED_BY_DATA, "").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // Resolved by new data → the group closes it.
  Write2024(55);
  FollowUp resolved = Get();
  EXPECT_EQ(resolved.warning().state(), halfsky::v1::WARNING_STATE_RESOLVED);
  EXPECT_FALSE(resolved.has_escalation());
  EXPECT_EQ(Close(kHealthToken, halfsky::v1::FOLLOW_UP_CLOSING_RESOLVED_BY_DATA, "").error_code(),
            grpc::StatusCode::PERMISSION_DENIED)
      << "a unit cannot close its own record";
  FollowUp closed;
  ASSERT_TRUE(
      Close(kGroupToken, halfsky::v1::FOLLOW_UP_CLOSING_RESOLVED_BY_DATA, "", &closed).ok());
  EXPECT_EQ(closed.state(), halfsky::v1::FOLLOW_UP_STATE_CLOSED);
  EXPECT_EQ(closed.closed_by(), "wang");
  EXPECT_EQ(Note(kHealthToken, "补充").error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  // The other unit's watch saw nothing of the health bureau's record.
  for (const FollowUpEvent& e : edu_watcher->Events()) {
    EXPECT_NE(e.follow_up().warning_id(), kWarningId) << e.ShortDebugString();
  }
  edu_watcher.reset();
  watcher.reset();

  // Durable: a restart on the same file keeps everything.
  StopService();
  StartService();

  // Fired again → the record reopens and says so.
  clock_.Advance(absl::Hours(24 * 40));
  Write2024(50.5);
  FollowUp reopened = Get();
  EXPECT_EQ(reopened.state(), halfsky::v1::FOLLOW_UP_STATE_OPEN);
  EXPECT_EQ(reopened.episode(), 2);
  EXPECT_EQ(reopened.reopen_count(), 1);
  EXPECT_FALSE(reopened.has_plan()) << "a new plan is asked for";
  EXPECT_EQ(reopened.owner_unit_code(), "HEALTH_BUREAU");
  EXPECT_THAT(
      Kinds(reopened),
      ::testing::ElementsAre(
          halfsky::v1::FOLLOW_UP_STEP_KIND_OPENED, halfsky::v1::FOLLOW_UP_STEP_KIND_ASSIGNED,
          halfsky::v1::FOLLOW_UP_STEP_KIND_ASSIGNED, halfsky::v1::FOLLOW_UP_STEP_KIND_PLANNED,
          halfsky::v1::FOLLOW_UP_STEP_KIND_NOTE, halfsky::v1::FOLLOW_UP_STEP_KIND_ESCALATED,
          halfsky::v1::FOLLOW_UP_STEP_KIND_WARNING_RESOLVED,
          halfsky::v1::FOLLOW_UP_STEP_KIND_ESCALATION_ENDED,
          halfsky::v1::FOLLOW_UP_STEP_KIND_CLOSED, halfsky::v1::FOLLOW_UP_STEP_KIND_REOPENED));
  ASSERT_EQ(reopened.steps_size(), 10);
  EXPECT_THAT(reopened.steps(reopened.steps_size() - 1).text(), HasSubstr("销号后再次预警"));
  EXPECT_EQ(reopened.steps(4).by(), "health");
  EXPECT_EQ(reopened.steps(4).text(), "已在8个社区开展筛查，完成3200人");
  EXPECT_EQ(reopened.steps(8).by(), "wang");
}

// A member unit sees and changes only its own records, and closes none.
TEST_F(FollowUpE2eTest, UnitSeesOnlyItsOwnRecordsAndClosesNone) {
  Write2024(50.5);  // owned by HEALTH_BUREAU
  EXPECT_EQ(List(kEduToken).follow_ups_size(), 0);
  halfsky::v1::ListFollowUpsRequest other;
  other.set_owner_unit_code("HEALTH_BUREAU");
  List(kEduToken, other, grpc::StatusCode::PERMISSION_DENIED);
  {
    halfsky::v1::GetFollowUpRequest r;
    r.set_warning_id(kWarningId);
    FollowUp f;
    auto ctx = Ctx(kEduToken);
    EXPECT_EQ(stub_->GetFollowUp(ctx.get(), r, &f).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  EXPECT_EQ(Note(kEduToken, "越权").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Assign(kEduToken, "EDU_BUREAU").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Silence(kEduToken, clock_.Now() + absl::Hours(48)).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // The owner: reads it, notes it, but may not close, assign, plan or silence it.
  EXPECT_EQ(List(kHealthToken).follow_ups_size(), 1);
  EXPECT_EQ(List(kHealthToken, other).follow_ups_size(), 1);
  EXPECT_TRUE(Note(kHealthToken, "已部署专项行动").ok());
  EXPECT_EQ(
      Close(kHealthToken, halfsky::v1::FOLLOW_UP_CLOSING_FALSE_ALARM, "口径问题").error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Plan(kHealthToken, clock_.Now() + absl::Hours(240)).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Silence(kHealthToken, clock_.Now() + absl::Hours(48)).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Refusals changed nothing: only OPENED and the owner's note.
  FollowUp f = Get();
  EXPECT_THAT(Kinds(f), ::testing::ElementsAre(halfsky::v1::FOLLOW_UP_STEP_KIND_OPENED,
                                               halfsky::v1::FOLLOW_UP_STEP_KIND_NOTE));
  EXPECT_EQ(f.state(), halfsky::v1::FOLLOW_UP_STATE_OPEN);
  // Bad input: clear errors with the field named.
  grpc::Status bad = Close(kGroupToken, halfsky::v1::FOLLOW_UP_CLOSING_FALSE_ALARM, "");
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ErrorFields(bad), ::testing::Contains("reason"));
  grpc::Status unknown_unit = Assign(kGroupToken, "NO_SUCH_UNIT");
  EXPECT_EQ(unknown_unit.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ErrorFields(unknown_unit), ::testing::Contains("unit_code"));
  // A false alarm closes with its reason; the unit's view no longer lists it.
  ASSERT_TRUE(
      Close(kGroupToken, halfsky::v1::FOLLOW_UP_CLOSING_FALSE_ALARM, "2024年数据录入错误").ok());
  EXPECT_EQ(List(kHealthToken).follow_ups_size(), 0);
  halfsky::v1::ListFollowUpsRequest all;
  all.set_include_closed(true);
  ASSERT_EQ(List(kHealthToken, all).follow_ups_size(), 1);
  EXPECT_EQ(List(kHealthToken, all).follow_ups(0).closing_reason(), "2024年数据录入错误");
}

// A silence holds the escalation until its date and then expires by itself.
TEST_F(FollowUpE2eTest, SilenceExpiresOnItsDate) {
  Write2024(50.5);  // orange: a plan is due within 14 days
  const absl::Time until = clock_.Now() + absl::Hours(24 * 20);
  EXPECT_EQ(Silence(kGroupToken, clock_.Now() - absl::Hours(1)).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  FollowUp silenced;
  ASSERT_TRUE(Silence(kGroupToken, until, &silenced).ok());
  EXPECT_EQ(silenced.silence().severity(), halfsky::v1::SEVERITY_ORANGE);
  halfsky::v1::ListFollowUpsRequest duban;
  duban.set_escalated_only(true);

  clock_.Advance(absl::Hours(24 * 15));  // past the 14 days, inside the silence
  EXPECT_EQ(List(kGroupToken, duban).follow_ups_size(), 0);
  EXPECT_EQ(List(kGroupToken).summary().silenced(), 1);

  clock_.Set(until);  // the silence's date has come
  halfsky::v1::ListFollowUpsResponse escalated = List(kGroupToken, duban);
  ASSERT_EQ(escalated.follow_ups_size(), 1);
  EXPECT_FALSE(escalated.follow_ups(0).has_silence());
  EXPECT_EQ(escalated.follow_ups(0).escalation().reason(), halfsky::v1::ESCALATION_REASON_NO_PLAN);
  FollowUp f = Get();
  EXPECT_THAT(Kinds(f), ::testing::ElementsAre(halfsky::v1::FOLLOW_UP_STEP_KIND_OPENED,
                                               halfsky::v1::FOLLOW_UP_STEP_KIND_SILENCED,
                                               halfsky::v1::FOLLOW_UP_STEP_KIND_SILENCE_ENDED,
                                               halfsky::v1::FOLLOW_UP_STEP_KIND_ESCALATED));
  ASSERT_EQ(f.steps_size(), 4);
  EXPECT_THAT(f.steps(2).text(), HasSubstr("到期"));
}

// A silence that expires while nothing else changes (no escalation due yet)
// still ends on its date: the tracker's sync must not skip the record.
TEST_F(FollowUpE2eTest, SilenceExpiresBeforeAnyEscalationIsDue) {
  Write2024(50.5);  // orange: a plan is due within 14 days
  const absl::Time until = clock_.Now() + absl::Hours(24 * 5);
  ASSERT_TRUE(Silence(kGroupToken, until).ok());
  clock_.Set(until);  // 5 days: the silence's date, the plan not yet due
  halfsky::v1::ListFollowUpsResponse r = List(kGroupToken);
  ASSERT_EQ(r.follow_ups_size(), 1);
  EXPECT_FALSE(r.follow_ups(0).has_silence());
  EXPECT_FALSE(r.follow_ups(0).has_escalation());
  EXPECT_EQ(r.summary().silenced(), 0);
  EXPECT_THAT(Kinds(Get()), ::testing::ElementsAre(halfsky::v1::FOLLOW_UP_STEP_KIND_OPENED,
                                                   halfsky::v1::FOLLOW_UP_STEP_KIND_SILENCED,
                                                   halfsky::v1::FOLLOW_UP_STEP_KIND_SILENCE_ENDED));
}

// A silence never hides a change of severity: the change is pushed and ends it.
TEST_F(FollowUpE2eTest, SilenceNeverHidesASeverityChange) {
  Write2024(50.5);  // orange
  ASSERT_TRUE(Silence(kGroupToken, clock_.Now() + absl::Hours(24 * 60)).ok());
  EventCollector watcher(stub_.get(), kHealthToken, /*escalations_only=*/true);
  ASSERT_TRUE(watcher.WaitFor(halfsky::v1::FOLLOW_UP_EVENT_TYPE_SYNCED, "").has_value());
  clock_.Advance(absl::Hours(24 * 8));
  Write2024(49);  // moving away: red
  halfsky::v1::ListFollowUpsResponse r = List(kGroupToken);
  ASSERT_EQ(r.follow_ups_size(), 1);
  EXPECT_EQ(r.follow_ups(0).warning().severity(), halfsky::v1::SEVERITY_RED);
  EXPECT_FALSE(r.follow_ups(0).has_silence()) << "the severity changed: the silence ended";
  // Red: a plan within 7 days — 8 have passed.
  EXPECT_EQ(r.follow_ups(0).escalation().reason(), halfsky::v1::ESCALATION_REASON_NO_PLAN);
  std::optional<FollowUpEvent> changed =
      watcher.WaitFor(halfsky::v1::FOLLOW_UP_EVENT_TYPE_SEVERITY_CHANGED);
  ASSERT_TRUE(changed.has_value());
  EXPECT_EQ(changed->step().severity(), halfsky::v1::SEVERITY_RED);
  EXPECT_TRUE(watcher.WaitFor(halfsky::v1::FOLLOW_UP_EVENT_TYPE_ESCALATED).has_value());
  FollowUp f = Get();
  EXPECT_THAT(Kinds(f), ::testing::ElementsAre(halfsky::v1::FOLLOW_UP_STEP_KIND_OPENED,
                                               halfsky::v1::FOLLOW_UP_STEP_KIND_SILENCED,
                                               halfsky::v1::FOLLOW_UP_STEP_KIND_SEVERITY_CHANGED,
                                               halfsky::v1::FOLLOW_UP_STEP_KIND_SILENCE_ENDED,
                                               halfsky::v1::FOLLOW_UP_STEP_KIND_ESCALATED));
  ASSERT_EQ(f.steps_size(), 5);
  EXPECT_THAT(f.steps(3).text(), HasSubstr("级别由橙色变为红色"));
}

// The annual and mid-term reports list, per warning, owner, plan, due date
// and state, with a 督办 summary saying what it covers; through the real
// halfskyctl command code too.
TEST_F(FollowUpE2eTest, ReportsCarryTheFollowUpColumns) {
  Write2024(50.5);
  ASSERT_TRUE(Plan(kGroupToken, clock_.Now() + absl::Hours(24 * 30)).ok());
  for (halfsky::v1::ReportType type :
       {halfsky::v1::REPORT_TYPE_ANNUAL, halfsky::v1::REPORT_TYPE_MIDTERM}) {
    halfsky::v1::GetEvaluationReportRequest request;
    request.set_type(type);
    request.set_year(type == halfsky::v1::REPORT_TYPE_ANNUAL ? 2024 : 0);
    halfsky::v1::EvaluationReport report;
    auto ctx = Ctx(kGroupToken);
    grpc::Status st = eval_stub_->GetEvaluationReport(ctx.get(), request, &report);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_EQ(report.follow_ups_size(), 1) << halfsky::v1::ReportType_Name(type);
    EXPECT_EQ(report.follow_ups(0).owner_unit_code(), "HEALTH_BUREAU");
    EXPECT_EQ(report.follow_ups(0).steps_size(), 0);
    EXPECT_EQ(report.follow_up_summary().on_time(), 1);
    EXPECT_THAT(report.follow_up_summary().covers_zh(),
                HasSubstr(absl::StrCat("本报告所列", report.warnings_size(), "条预警")));
    views::ReportContext context;
    context.unit_names_zh["HEALTH_BUREAU"] = "区卫生健康局";
    const std::string md = views::RenderReportMarkdown(report, context);
    EXPECT_THAT(md, HasSubstr("| 级别 | 指标 | 责任单位 | 整改措施 | 整改时限 | 状态 |"));
    EXPECT_THAT(md, HasSubstr("| 区卫生健康局 | 开展宫颈癌免费筛查进社区专项行动"));
    EXPECT_THAT(md, HasSubstr("| 2026-01-31 | 整改中 |"));
    EXPECT_THAT(md, HasSubstr("整改措施按期1项、超期0项，升级督办0项"));
    const std::string html = views::RenderReportHtml(report, context);
    EXPECT_THAT(html, HasSubstr("<th>责任单位</th><th>整改措施</th><th>整改时限</th>"));
    EXPECT_THAT(html, HasSubstr(absl::StrCat("data-followup=\"", kWarningId, "\"")));
    const std::string csv = views::RenderReportCsv(report, context);
    EXPECT_THAT(csv, HasSubstr(",HEALTH_BUREAU,区卫生健康局,,,2026-01-31,planned,,,,\n"));
  }
  // halfskyctl report, as people run it.
  std::string out;
  std::vector<std::string> args = {"report",
                                   "annual",
                                   "--year=2024",
                                   "--format=md",
                                   "--no-annual",
                                   "--server=" + server_->address(),
                                   std::string("--token=") + kGroupToken};
  std::ostringstream o, e;
  ASSERT_EQ(RunHalfskyctl(args, o, e), 0) << e.str();
  EXPECT_THAT(o.str(), HasSubstr("## 督办情况"));
  EXPECT_THAT(o.str(), HasSubstr("区卫生健康局"));
}

// halfskyctl followup: the whole command set against the real service.
TEST_F(FollowUpE2eTest, HalfskyctlFollowUpCommands) {
  Write2024(50.5);
  std::string out;
  ASSERT_EQ(Ctl({"list", "--no-color"}, kGroupToken, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr(kWarningId));
  EXPECT_THAT(out, HasSubstr("区卫生健康局"));
  EXPECT_THAT(out, HasSubstr("请于2026-01-15前制定整改措施"));
  EXPECT_THAT(out, HasSubstr("全部成员单位未销号的督办记录共1条"));

  ASSERT_EQ(Ctl({"assign", kWarningId, "--unit", "EDU_BUREAU", "--reason", "职责调整"}, kGroupToken,
                &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("区教育局"));
  EXPECT_EQ(Ctl({"note", kWarningId, "--note", "越权"}, kHealthToken, &out), 1);
  EXPECT_THAT(out, HasSubstr("permission denied"));
  ASSERT_EQ(Ctl({"assign", kWarningId, "--unit", "HEALTH_BUREAU", "--reason", "改回牵头单位"},
                kGroupToken, &out),
            0);
  ASSERT_EQ(Ctl({"plan", kWarningId, "--measures", "筛查进社区", "--due", "2026-01-20"},
                kGroupToken, &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("时限 2026-01-20"));
  ASSERT_EQ(Ctl({"note", kWarningId, "--note", "已筛查3200人"}, kHealthToken, &out), 0) << out;
  EXPECT_EQ(
      Ctl({"close", kWarningId, "--decision", "false-alarm", "--reason", "x"}, kHealthToken, &out),
      1);
  // The unit's own list, as JSON.
  ASSERT_EQ(Ctl({"list", "--format", "json"}, kHealthToken, &out), 0);
  EXPECT_THAT(out, HasSubstr("\"last_note\": \"已筛查3200人\""));
  EXPECT_THAT(out, HasSubstr("\"owner_unit_code\": \"HEALTH_BUREAU\""));
  ASSERT_EQ(Ctl({"list", "--format", "json"}, kEduToken, &out), 0);
  EXPECT_THAT(out, Not(HasSubstr(kWarningId)));

  // Past the due date: on the 督办 list.
  clock_.Advance(absl::Hours(24 * 25));
  ASSERT_EQ(Ctl({"list", "--escalated", "--no-color"}, kGroupToken, &out), 0);
  EXPECT_THAT(out, HasSubstr("升级督办（超过整改时限）"));
  EXPECT_THAT(out, HasSubstr("升级督办1项"));
  ASSERT_EQ(Ctl({"silence", kWarningId, "--until", "2026-03-01", "--reason", "数据口径调整"},
                kGroupToken, &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("暂缓督办至2026-03-01"));
  ASSERT_EQ(Ctl({"list", "--escalated"}, kGroupToken, &out), 0);
  EXPECT_THAT(out, HasSubstr("没有符合条件的督办记录"));
  EXPECT_EQ(Ctl({"close", kWarningId, "--decision", "resolved"}, kGroupToken, &out), 1);
  EXPECT_THAT(out, HasSubstr("failed precondition"));
  ASSERT_EQ(Ctl({"close", kWarningId, "--decision", "closed", "--reason", "已纳入年度考核"},
                kGroupToken, &out),
            0);
  ASSERT_EQ(Ctl({"show", kWarningId}, kGroupToken, &out), 0);
  for (const char* step :
       {"建立记录", "调整责任单位", "整改措施", "整改进展", "升级督办", "暂缓督办", "销号"}) {
    EXPECT_THAT(out, HasSubstr(step));
  }
  EXPECT_THAT(out, HasSubstr("已纳入年度考核"));
  EXPECT_EQ(Ctl({"plan", kWarningId}, kGroupToken, &out), 2) << "usage";
}

}  // namespace
}  // namespace halfsky::evaluation
