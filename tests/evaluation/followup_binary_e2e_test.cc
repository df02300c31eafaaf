// Follow-up (督办, issue #18) through the real processes: halfsky-submission,
// halfsky-aggregation and halfsky-evaluation children and a real
// redis-server. A unit submits; the warning's follow-up record opens, owned
// by the lead unit; the group plans, the unit notes; the record and its
// history survive a restart of halfsky-evaluation; the unit's token sees
// only its own records. (Days passing — escalation, silences — are walked
// in followup_e2e_test with the injectable clock.)
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/credentials.h"
#include "common/auth/token_store.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "tests/evaluation/service_test_util.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"

namespace halfsky::evaluation {
namespace {

using testing::FractionValue;

constexpr char kServiceToken[] = "service-token-1";
constexpr char kEduToken[] = "edu-token-1";
constexpr char kWarningId[] = "HEALTH-02:610303:progress:2030";

class FollowUpBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    halfsky::testing::SuiteOptions options;
    options.catalog = testing::TestCatalogPath();
    options.tokens = absl::StrCat(testing::TokenFileContent(), auth::HashToken(kServiceToken),
                                  " halfsky-services service\n", auth::HashToken(kEduToken),
                                  " edu unit:EDU_BUREAU\n");
    options.service_token = kServiceToken;
    options.evaluation_flags = {"--reevaluate_interval=1h", "--followup_plan_days=orange=10",
                                "--followup_check_interval=200ms"};
    auto suite = halfsky::testing::Suite::Start(options);
    ASSERT_TRUE(suite.ok()) << suite.status();
    suite_ = std::move(*suite);
    Connect();
  }
  void TearDown() override {
    if (suite_ != nullptr) {
      EXPECT_TRUE(suite_->Stop().ok());
    }
  }
  void Connect() {
    stub_ = halfsky::v1::FollowUpService::NewStub(
        grpc::CreateChannel(suite_->evaluation().address(), grpc::InsecureChannelCredentials()));
  }
  // A read replica of the suite's evaluation (--follow, the service token).
  void StartReplica(halfsky::testing::ServiceProcess* replica) {
    const std::string token_file = suite_->dir() + "/replica.token";
    ASSERT_TRUE(halfsky::testing::WriteTextFile(token_file, kServiceToken).ok());
    absl::Status started = replica->Start(
        suite_->dir(), "replica", halfsky::testing::ServiceBinary("evaluation"),
        testing::TestCatalogPath(), suite_->dir() + "/tokens.txt",
        {"--follow=" + suite_->evaluation().address(), "--follow_token_file=" + token_file});
    ASSERT_TRUE(started.ok()) << started;
  }
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    auth::AddBearerToken(ctx.get(), token);
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return ctx;
  }
  // The token's records (`warning_id` only, when given).
  halfsky::v1::ListFollowUpsResponse List(const std::string& token,
                                          const std::string& warning_id = "") {
    halfsky::v1::ListFollowUpsRequest request;
    request.set_warning_id(warning_id);
    halfsky::v1::ListFollowUpsResponse r;
    auto ctx = Ctx(token);
    grpc::Status st = stub_->ListFollowUps(ctx.get(), request, &r);
    EXPECT_TRUE(st.ok()) << st.error_message() << "\n" << suite_->evaluation().log();
    return r;
  }

  // A unit submits HEALTH-02: 50 % in 2020, 50.5 % in 2024 (预计达标困难).
  void Submit() {
    auto stub = halfsky::v1::SubmissionService::NewStub(
        grpc::CreateChannel(suite_->submission().address(), grpc::InsecureChannelCredentials()));
    auto ctx = Ctx(testing::kUnitToken);
    halfsky::v1::SubmitBatchRequest request;
    request.set_request_id("followup-1");
    *request.add_data_values() = FractionValue("HEALTH-02", 2020, 50, 100);
    *request.add_data_values() = FractionValue("HEALTH-02", 2024, 50.5, 100);
    halfsky::v1::SubmitBatchResponse response;
    grpc::Status st = stub->SubmitBatch(ctx.get(), request, &response);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  std::unique_ptr<halfsky::testing::Suite> suite_;
  std::unique_ptr<halfsky::v1::FollowUpService::Stub> stub_;
};

TEST_F(FollowUpBinaryTest, RecordOpensOnSubmissionAndSurvivesARestart) {
  ASSERT_NO_FATAL_FAILURE(Submit());
  // The warning fires once aggregation publishes; its record follows.
  halfsky::v1::ListFollowUpsResponse mine;
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (absl::Now() < give_up) {
    mine = List(testing::kUnitToken, kWarningId);
    if (mine.follow_ups_size() > 0) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(mine.follow_ups_size(), 1) << suite_->evaluation().log();
  EXPECT_EQ(mine.follow_ups(0).warning_id(), kWarningId);
  EXPECT_EQ(mine.follow_ups(0).owner_unit_code(), "HEALTH_BUREAU");
  // --followup_plan_days=orange=10 reached the binary.
  EXPECT_EQ(
      mine.follow_ups(0).plan_required_by().seconds() - mine.follow_ups(0).opened_at().seconds(),
      10 * 86400);
  // Each unit sees its own records only (the late-data warnings of the
  // real reporting status are records too).
  const halfsky::v1::ListFollowUpsResponse edu = List(kEduToken);
  for (const halfsky::v1::FollowUp& f : edu.follow_ups()) {
    EXPECT_EQ(f.owner_unit_code(), "EDU_BUREAU") << f.warning_id();
  }
  const halfsky::v1::ListFollowUpsResponse health = List(testing::kUnitToken);
  EXPECT_GE(health.follow_ups_size(), 1);
  for (const halfsky::v1::FollowUp& f : health.follow_ups()) {
    EXPECT_EQ(f.owner_unit_code(), "HEALTH_BUREAU") << f.warning_id();
  }
  EXPECT_EQ(List(kEduToken, kWarningId).follow_ups_size(), 0);

  {
    halfsky::v1::PlanFollowUpRequest r;
    r.set_warning_id(kWarningId);
    r.set_measures("开展筛查进社区专项行动");
    *r.mutable_due() = google::protobuf::util::TimeUtil::SecondsToTimestamp(
        absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 30)));
    halfsky::v1::FollowUp f;
    auto ctx = Ctx(testing::kUnitToken);
    EXPECT_EQ(stub_->PlanFollowUp(ctx.get(), r, &f).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    auto group = Ctx(testing::kAssessmentToken);
    grpc::Status st = stub_->PlanFollowUp(group.get(), r, &f);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  {
    halfsky::v1::AddFollowUpNoteRequest r;
    r.set_warning_id(kWarningId);
    r.set_note("已在8个社区开展筛查");
    halfsky::v1::FollowUp f;
    auto ctx = Ctx(testing::kUnitToken);
    grpc::Status st = stub_->AddFollowUpNote(ctx.get(), r, &f);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  absl::Status stopped = suite_->evaluation().Stop();  // a clean exit (status 0)
  ASSERT_TRUE(stopped.ok()) << stopped << "\n" << suite_->evaluation().log();
  absl::Status restarted = suite_->evaluation().Restart();
  ASSERT_TRUE(restarted.ok()) << restarted << "\n" << suite_->evaluation().log();
  Connect();
  halfsky::v1::GetFollowUpRequest get;
  get.set_warning_id(kWarningId);
  halfsky::v1::FollowUp f;
  grpc::Status st;
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto ctx = Ctx(testing::kAssessmentToken);
    st = stub_->GetFollowUp(ctx.get(), get, &f);
    if (st.error_code() != grpc::StatusCode::UNAVAILABLE) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(f.state(), halfsky::v1::FOLLOW_UP_STATE_PLANNED);
  EXPECT_EQ(f.plan().measures(), "开展筛查进社区专项行动");
  EXPECT_EQ(f.last_note(), "已在8个社区开展筛查");
  ASSERT_EQ(f.steps_size(), 3) << f.DebugString();
  EXPECT_EQ(f.steps(0).kind(), halfsky::v1::FOLLOW_UP_STEP_KIND_OPENED);
  EXPECT_EQ(f.steps(1).kind(), halfsky::v1::FOLLOW_UP_STEP_KIND_PLANNED);
  EXPECT_EQ(f.steps(1).by(), "alice");
  EXPECT_EQ(f.steps(2).kind(), halfsky::v1::FOLLOW_UP_STEP_KIND_NOTE);
  EXPECT_EQ(f.steps(2).by(), "health-system");
}

// A read replica (halfsky-evaluation --follow) forwards every follow-up
// call to the primary with the caller's token, and relays the watch.
TEST_F(FollowUpBinaryTest, ReplicaForwardsCallsAndRelaysTheWatch) {
  halfsky::testing::ServiceProcess replica;
  ASSERT_NO_FATAL_FAILURE(StartReplica(&replica));
  auto via_replica = halfsky::v1::FollowUpService::NewStub(
      grpc::CreateChannel(replica.address(), grpc::InsecureChannelCredentials()));
  ASSERT_NO_FATAL_FAILURE(Submit());
  halfsky::v1::ListFollowUpsResponse mine;
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  halfsky::v1::ListFollowUpsRequest one;
  one.set_warning_id(kWarningId);
  while (absl::Now() < give_up && mine.follow_ups_size() == 0) {
    auto ctx = Ctx(testing::kUnitToken);
    grpc::Status st = via_replica->ListFollowUps(ctx.get(), one, &mine);
    ASSERT_TRUE(st.ok()) << st.error_message() << "\n" << replica.log();
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(mine.follow_ups_size(), 1);
  EXPECT_EQ(mine.follow_ups(0).owner_unit_code(), "HEALTH_BUREAU");

  // The watch through the replica: initial set, SYNCED, then the note.
  grpc::ClientContext watch_ctx;
  auth::AddBearerToken(&watch_ctx, testing::kAssessmentToken);
  watch_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto reader = via_replica->WatchFollowUps(&watch_ctx, {});
  halfsky::v1::FollowUpEvent event;
  bool synced = false;
  while (!synced && reader->Read(&event)) {
    synced = event.type() == halfsky::v1::FOLLOW_UP_EVENT_TYPE_SYNCED;
  }
  ASSERT_TRUE(synced) << reader->Finish().error_message() << "\n" << replica.log();

  halfsky::v1::AddFollowUpNoteRequest note;
  note.set_warning_id(kWarningId);
  note.set_note("经副本提交的整改进展");
  halfsky::v1::FollowUp f;
  {
    auto ctx = Ctx(kEduToken);
    EXPECT_EQ(via_replica->AddFollowUpNote(ctx.get(), note, &f).error_code(),
              grpc::StatusCode::PERMISSION_DENIED)
        << "the primary authorizes the real caller";
  }
  {
    auto ctx = Ctx(testing::kUnitToken);
    grpc::Status st = via_replica->AddFollowUpNote(ctx.get(), note, &f);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  bool noted = false;  // other records (late data) may change meanwhile
  while (!noted && reader->Read(&event)) {
    noted = event.follow_up().warning_id() == kWarningId &&
            event.step().kind() == halfsky::v1::FOLLOW_UP_STEP_KIND_NOTE;
  }
  ASSERT_TRUE(noted) << reader->Finish().error_message();
  EXPECT_EQ(event.type(), halfsky::v1::FOLLOW_UP_EVENT_TYPE_CHANGED);
  EXPECT_EQ(event.step().kind(), halfsky::v1::FOLLOW_UP_STEP_KIND_NOTE);
  EXPECT_EQ(event.step().by(), "health-system");
  watch_ctx.TryCancel();
  while (reader->Read(&event)) {
  }
  (void)reader->Finish();
  // Durable on the primary.
  halfsky::v1::ListFollowUpsResponse after = List(testing::kUnitToken, kWarningId);
  ASSERT_EQ(after.follow_ups_size(), 1);
  EXPECT_EQ(after.follow_ups(0).last_note(), "经副本提交的整改进展");
  const absl::Status stopped = replica.Stop();  // carries the exit status and the log
  EXPECT_TRUE(stopped.ok()) << stopped;
}

// Relayed watches that their callers cancel at every point of the stream
// (before the first event, mid initial set, after SYNCED), and then ones
// whose primary stops under them, leave a replica that still serves and
// exits cleanly. Each cancel brings the relay's two
// OnDones close together on different threads; deleting the relay twice or
// touching it after the other side deleted it crashed the replica at
// shutdown in about one run in ten.
TEST_F(FollowUpBinaryTest, ReplicaOutlivesWatchesCancelledAtEveryPoint) {
  halfsky::testing::ServiceProcess replica;
  ASSERT_NO_FATAL_FAILURE(StartReplica(&replica));
  auto via_replica = halfsky::v1::FollowUpService::NewStub(
      grpc::CreateChannel(replica.address(), grpc::InsecureChannelCredentials()));
  ASSERT_NO_FATAL_FAILURE(Submit());
  int synced_watches = 0;
  for (int round = 0; round < 60; ++round) {
    grpc::ClientContext watch_ctx;
    auth::AddBearerToken(&watch_ctx, testing::kAssessmentToken);
    watch_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    auto reader = via_replica->WatchFollowUps(&watch_ctx, {});
    halfsky::v1::FollowUpEvent event;
    switch (round % 3) {  // when the caller cancels
      case 0:             // at once
        break;
      case 1:  // after the first event
        (void)reader->Read(&event);
        break;
      default:  // after the initial set
        while (reader->Read(&event) && event.type() != halfsky::v1::FOLLOW_UP_EVENT_TYPE_SYNCED) {
        }
        synced_watches += event.type() == halfsky::v1::FOLLOW_UP_EVENT_TYPE_SYNCED ? 1 : 0;
    }
    watch_ctx.TryCancel();
    while (reader->Read(&event)) {
    }
    (void)reader->Finish();
  }
  EXPECT_EQ(synced_watches, 20) << "every third watch got through its initial set";
  halfsky::v1::ListFollowUpsRequest one;
  one.set_warning_id(kWarningId);
  halfsky::v1::ListFollowUpsResponse mine;
  auto ctx = Ctx(testing::kUnitToken);
  grpc::Status st = via_replica->ListFollowUps(ctx.get(), one, &mine);
  EXPECT_TRUE(st.ok()) << st.error_message() << "\n" << replica.log();

  // The other end: the primary stops while relayed watches are open. Each
  // caller's stream ends with an error (the primary's status, never a clean
  // end that would read as "nothing more to come"), and the replica still
  // exits cleanly.
  struct Open {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReader<halfsky::v1::FollowUpEvent>> reader;
  };
  std::vector<std::unique_ptr<Open>> open;
  for (int i = 0; i < 3; ++i) {
    auto w = std::make_unique<Open>();
    auth::AddBearerToken(&w->ctx, testing::kAssessmentToken);
    w->ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    w->reader = via_replica->WatchFollowUps(&w->ctx, {});
    halfsky::v1::FollowUpEvent event;
    while (w->reader->Read(&event) && event.type() != halfsky::v1::FOLLOW_UP_EVENT_TYPE_SYNCED) {
    }
    ASSERT_EQ(event.type(), halfsky::v1::FOLLOW_UP_EVENT_TYPE_SYNCED) << replica.log();
    open.push_back(std::move(w));
  }
  const absl::Status primary_stopped = suite_->evaluation().Stop();
  ASSERT_TRUE(primary_stopped.ok()) << primary_stopped;
  for (auto& w : open) {
    halfsky::v1::FollowUpEvent event;
    while (w->reader->Read(&event)) {
    }
    const grpc::Status ended = w->reader->Finish();
    EXPECT_FALSE(ended.ok()) << "a relayed watch ended cleanly when its primary stopped";
  }
  const absl::Status stopped = replica.Stop();  // carries the exit status and the log
  EXPECT_TRUE(stopped.ok()) << stopped;
}

// `halfskyctl followup list --watch` (the real binary) prints what happens
// to the records as it happens: the unit's own stream, as JSON lines, shows
// its note; the group's default stream (escalations only) does not.
TEST_F(FollowUpBinaryTest, HalfskyctlWatchPrintsChangesLive) {
  ASSERT_NO_FATAL_FAILURE(Submit());
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (absl::Now() < give_up && List(testing::kUnitToken, kWarningId).follow_ups_size() == 0) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(List(testing::kUnitToken, kWarningId).follow_ups_size(), 1);

  const std::string ctl = halfsky::testing::ServiceBinary("halfskyctl");
  const std::string all_log = suite_->dir() + "/watch_all.log";
  const std::string escalations_log = suite_->dir() + "/watch_escalations.log";
  auto all = halfsky::testing::ChildProcess::Start(
      {ctl, "followup", "list", "--watch", "--all-events", "--format", "json",
       "--server=" + suite_->evaluation().address(), std::string("--token=") + testing::kUnitToken},
      all_log);
  ASSERT_TRUE(all.ok()) << all.status();
  auto escalations =
      halfsky::testing::ChildProcess::Start({ctl, "followup", "list", "--watch", "--no-color",
                                             "--server=" + suite_->evaluation().address(),
                                             std::string("--token=") + testing::kAssessmentToken},
                                            escalations_log);
  ASSERT_TRUE(escalations.ok()) << escalations.status();
  // Both streams are open once the unit's has printed its initial set.
  const absl::Time synced_by = absl::Now() + absl::Seconds(20);
  while (absl::Now() < synced_by && halfsky::testing::ReadFile(all_log).find(
                                        "FOLLOW_UP_EVENT_TYPE_SYNCED") == std::string::npos) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_THAT(halfsky::testing::ReadFile(all_log),
              ::testing::HasSubstr("FOLLOW_UP_EVENT_TYPE_SYNCED"));
  absl::SleepFor(absl::Milliseconds(300));  // the group's stream subscribes too

  halfsky::v1::AddFollowUpNoteRequest r;
  r.set_warning_id(kWarningId);
  r.set_note("命令行订阅看到的整改进展");
  halfsky::v1::FollowUp f;
  auto ctx = Ctx(testing::kUnitToken);
  grpc::Status st = stub_->AddFollowUpNote(ctx.get(), r, &f);
  ASSERT_TRUE(st.ok()) << st.error_message();

  const absl::Time seen_by = absl::Now() + absl::Seconds(20);
  while (absl::Now() < seen_by && halfsky::testing::ReadFile(all_log).find(
                                      "命令行订阅看到的整改进展") == std::string::npos) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  const std::string printed = halfsky::testing::ReadFile(all_log);
  EXPECT_THAT(printed, ::testing::HasSubstr("命令行订阅看到的整改进展"));
  EXPECT_THAT(printed, ::testing::HasSubstr("FOLLOW_UP_STEP_KIND_NOTE"));
  EXPECT_THAT(printed, ::testing::Not(::testing::HasSubstr("EDU_BUREAU")));
  EXPECT_TRUE((*all)->Running()) << printed;
  // Nothing escalated: the group's 督办 stream printed no record.
  EXPECT_THAT(halfsky::testing::ReadFile(escalations_log),
              ::testing::Not(::testing::HasSubstr(kWarningId)));
  EXPECT_TRUE((*escalations)->Running()) << halfsky::testing::ReadFile(escalations_log);
}

}  // namespace
}  // namespace halfsky::evaluation
