// Submission semantics over real gRPC (in-process server on a real SQLite
// file): withdrawal and reasons for change, "what the client is told is
// what happened" (deadlines, streams after an error), status codes, and a
// full disk (a real, small tmpfs mounted in a private user and mount
// namespace).
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/metrics/metrics.h"
#include "common/server/server.h"
#include "common/status/status.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/submission/service.h"
#include "services/submission/sqlite_store.h"
#include "tests/submission/test_util.h"
#include "tests/support/change_events.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"

namespace halfsky::submission {
namespace {

namespace v1 = ::halfsky::v1;
using ::halfsky::submission::testing::Number;
using ::halfsky::submission::testing::Story;
using ::halfsky::submission::testing::TestAuthenticate;
using ::halfsky::submission::testing::TestCatalog;
using ::testing::HasSubstr;

absl::Time Local(int y, int m, int d) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, 12, 0, 0), absl::FixedTimeZone(8 * 3600));
}

bool HasViolation(const absl::Status& status, const std::string& field) {
  for (const FieldViolation& v : BadRequestViolations(status)) {
    if (v.field == field) {
      return true;
    }
  }
  return false;
}

class SemanticsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = halfsky::testing::MakeTempDir("submission-semantics");
    catalog_ = TestCatalog();
    ASSERT_NE(catalog_, nullptr);
  }
  void TearDown() override { Stop(); }

  void Start(const std::string& db_dir) {
    db_path_ = db_dir + "/submission.db";
    SqliteSubmissionStore::Options o;
    o.path = db_path_;
    o.clock = &clock_;
    auto store = SqliteSubmissionStore::Open(o);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    SubmissionServiceOptions so;
    so.heartbeat_interval = absl::Milliseconds(200);
    so.metrics = &metrics_;
    service_ = std::make_unique<SubmissionServiceImpl>(catalog_, store_.get(), &clock_,
                                                       TestAuthenticate, so);
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.name = "submission-semantics-test";
    options.drain_delay = absl::ZeroDuration();
    options.grace_period = absl::Seconds(2);
    auto server = RunningServer::Start(options, catalog_, {service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    // As main.cc wires it.
    server_->server()->GetHealthCheckService()->SetServingStatus(
        v1::SubmissionService::service_full_name(), true);
    service_->SetWritableListener([this](bool writable) {
      server_->server()->GetHealthCheckService()->SetServingStatus(
          v1::SubmissionService::service_full_name(), writable);
    });
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    stub_ = v1::SubmissionService::NewStub(channel_);
  }
  void Start() { Start(dir_); }
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

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token,
                                           absl::Duration timeout = absl::Seconds(20)) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) {
      ctx->AddMetadata("authorization", "Bearer " + token);
    }
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    return ctx;
  }

  absl::StatusOr<v1::SubmitBatchResponse> Submit(const std::string& token, const std::string& id,
                                                 std::vector<v1::DataValue> values,
                                                 absl::Duration timeout = absl::Seconds(20)) {
    v1::SubmitBatchRequest req;
    req.set_request_id(id);
    for (auto& v : values) {
      *req.add_data_values() = std::move(v);
    }
    v1::SubmitBatchResponse resp;
    auto ctx = Ctx(token, timeout);
    grpc::Status st = stub_->SubmitBatch(ctx.get(), req, &resp);
    if (!st.ok()) {
      return FromGrpcStatus(st);
    }
    return resp;
  }

  absl::StatusOr<v1::WithdrawValuesResponse> Withdraw(const std::string& token,
                                                      const std::string& id,
                                                      std::vector<v1::DataKey> keys,
                                                      const std::string& reason) {
    v1::WithdrawValuesRequest req;
    req.set_request_id(id);
    req.set_reason(reason);
    for (auto& k : keys) {
      *req.add_keys() = std::move(k);
    }
    v1::WithdrawValuesResponse resp;
    auto ctx = Ctx(token);
    grpc::Status st = stub_->WithdrawValues(ctx.get(), req, &resp);
    if (!st.ok()) {
      return FromGrpcStatus(st);
    }
    return resp;
  }

  absl::StatusOr<std::vector<v1::Revision>> History(const std::string& token, v1::DataKey key) {
    v1::GetHistoryRequest req;
    *req.mutable_key() = std::move(key);
    v1::GetHistoryResponse resp;
    auto ctx = Ctx(token);
    grpc::Status st = stub_->GetHistory(ctx.get(), req, &resp);
    if (!st.ok()) {
      return FromGrpcStatus(st);
    }
    return std::vector<v1::Revision>(resp.revisions().begin(), resp.revisions().end());
  }

  std::vector<v1::Revision> ListAll() {
    v1::ListDataValuesResponse resp;
    auto ctx = Ctx("assess-token");
    grpc::Status st = stub_->ListDataValues(ctx.get(), {}, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return std::vector<v1::Revision>(resp.data_values().begin(), resp.data_values().end());
  }

  std::set<int> CurrentYears() {
    std::set<int> years;
    for (const auto& rev : ListAll()) {
      years.insert(rev.data_value().key().year());
    }
    return years;
  }

  // Revisions of the feed from 0 up to the first heartbeat.
  std::vector<v1::Revision> Feed() {
    auto ctx = Ctx("assess-token");
    auto reader = halfsky::testing::ChangeEvents(stub_->WatchChanges(ctx.get(), {}));
    std::vector<v1::Revision> out;
    v1::ChangeEvent ev;
    while (reader->Read(&ev)) {
      if (ev.has_heartbeat()) {
        break;
      }
      out.push_back(ev.revision());
    }
    ctx->TryCancel();
    while (reader->Read(&ev)) {
    }
    reader->Finish().IgnoreError();
    return out;
  }

  grpc::health::v1::HealthCheckResponse::ServingStatus Health(const std::string& service) {
    auto stub = grpc::health::v1::Health::NewStub(channel_);
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    EXPECT_TRUE(stub->Check(&ctx, req, &resp).ok());
    return resp.status();
  }

  // Holds SQLite's write lock from another connection until Release(), so
  // that the committer waits in BEGIN IMMEDIATE (its busy timeout is 10 s).
  void HoldWriteLock() {
    ASSERT_EQ(sqlite3_open(db_path_.c_str(), &blocker_), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(blocker_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(blocker_);
  }
  void ReleaseWriteLock() {
    ASSERT_EQ(sqlite3_exec(blocker_, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(blocker_);
    blocker_ = nullptr;
  }

  FakeClock clock_{Local(2026, 3, 1)};
  std::string dir_;
  std::string db_path_;
  std::shared_ptr<const CatalogIndex> catalog_;
  MetricsRegistry metrics_;
  std::unique_ptr<SqliteSubmissionStore> store_;
  std::unique_ptr<SubmissionServiceImpl> service_;
  std::unique_ptr<RunningServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::SubmissionService::Stub> stub_;
  sqlite3* blocker_ = nullptr;
};

v1::DataKey Key(const std::string& indicator, int year, const std::string& area = "610303") {
  v1::DataKey k;
  k.set_indicator_id(indicator);
  k.set_area_code(area);
  k.set_year(year);
  return k;
}

// ------------------------------------------------------------- withdrawal

TEST_F(SemanticsTest, WithdrawnValueLeavesCurrentValuesAndHistoryShowsWhoWhenWhy) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(Submit("health-token", "r1", {Number("HEALTH-03", 2024, 3)}).ok());
  v1::DataValue corrected = Number("HEALTH-03", 2024, 5);
  corrected.set_change_reason("补录两例 / two cases added");
  auto r2 = Submit("health-token", "r2", {corrected});
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->revised_count(), 1);

  // A reason is required; keys are validated like written keys.
  auto no_reason = Withdraw("health-token", "w0", {Key("HEALTH-03", 2024)}, "");
  EXPECT_EQ(no_reason.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasViolation(no_reason.status(), "reason")) << no_reason.status();
  v1::DataKey bad = Key("HEALTH-03", 2019);
  bad.set_sex(static_cast<v1::Sex>(9));
  auto bad_key = Withdraw("health-token", "w0", {Key("HEALTH-03", 2024), bad}, "错填");
  EXPECT_EQ(bad_key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasViolation(bad_key.status(), "keys[1].sex")) << bad_key.status();
  EXPECT_TRUE(HasViolation(bad_key.status(), "keys[1].year")) << bad_key.status();
  // Only a responsible unit (or statistics/admin) may withdraw.
  auto other_unit = Withdraw("edu-token", "w0", {Key("HEALTH-03", 2024)}, "错填");
  EXPECT_EQ(other_unit.status().code(), absl::StatusCode::kPermissionDenied);
  // A key without a value.
  auto missing = Withdraw("health-token", "w0", {Key("HEALTH-03", 2022)}, "错填");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrorReason(missing.status()), "NO_SUCH_VALUE");
  ASSERT_EQ(ListAll().size(), 1u);

  clock_.Advance(absl::Hours(2));
  const std::string why = "误填为2024年，实为2023年数据 / entered under the wrong year";
  auto w = Withdraw("health-token", "w1", {Key("HEALTH-03", 2024)}, why);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->results_size(), 1);
  EXPECT_EQ(w->results(0).outcome(), v1::WRITE_OUTCOME_WITHDRAWN);
  EXPECT_EQ(w->results(0).revision(), 3);
  EXPECT_EQ(w->results(0).key().sex(), v1::SEX_TOTAL);
  EXPECT_EQ(w->withdrawn_count(), 1);
  EXPECT_EQ(w->sequences().first(), 3);
  EXPECT_FALSE(w->replayed());
  EXPECT_TRUE(ListAll().empty());

  auto history = History("assess-token", Key("HEALTH-03", 2024));
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[1].change_reason(), "补录两例 / two cases added");
  EXPECT_EQ((*history)[1].data_value().value(), 5);
  const v1::Revision& gone = (*history)[2];
  EXPECT_TRUE(gone.withdrawn());
  EXPECT_EQ(gone.submitted_by(), "health-system");
  EXPECT_EQ(gone.unit_code(), "HEALTH_BUREAU");
  EXPECT_EQ(gone.change_reason(), why);
  EXPECT_EQ(gone.committed_at().seconds(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(gone.request_id(), "w1");

  // The feed carries it.
  auto feed = Feed();
  ASSERT_EQ(feed.size(), 3u);
  EXPECT_TRUE(feed[2].withdrawn());
  EXPECT_EQ(feed[2].change_reason(), why);

  // Retry: replayed; a new request: unchanged.
  auto retry = Withdraw("health-token", "w1", {Key("HEALTH-03", 2024)}, why);
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->replayed());
  EXPECT_EQ(retry->results(0).outcome(), v1::WRITE_OUTCOME_WITHDRAWN);
  auto reused = Withdraw("health-token", "w1", {Key("HEALTH-03", 2024)}, "另一个原因");
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kAlreadyExists);
  auto again = Withdraw("stats-token", "w2", {Key("HEALTH-03", 2024)}, why);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);
  EXPECT_EQ(again->unchanged_count(), 1);

  // Resubmitted: a new revision, current again.
  auto back = Submit("health-token", "r3", {Number("HEALTH-03", 2024, 5)});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->results(0).outcome(), v1::WRITE_OUTCOME_REVISED);
  EXPECT_EQ(back->results(0).revision(), 4);
  ASSERT_EQ(ListAll().size(), 1u);
}

TEST_F(SemanticsTest, WithdrawalFollowsYearLocksAndNarrativeOwnership) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(Submit("health-token", "h", {Story("HEALTH-05", 2024, "卫健局的进展")}).ok());
  ASSERT_TRUE(Submit("edu-token", "e", {Story("HEALTH-05", 2024, "教育局的进展")}).ok());
  // A unit's own narrative by default; another unit's is not its to withdraw.
  v1::DataKey edu_story = Key("HEALTH-05", 2024);
  edu_story.set_unit_code("EDU_BUREAU");
  EXPECT_EQ(Withdraw("health-token", "w", {edu_story}, "错填").status().code(),
            absl::StatusCode::kPermissionDenied);
  auto own = Withdraw("health-token", "w", {Key("HEALTH-05", 2024)}, "重复报送");
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(own->results(0).key().unit_code(), "HEALTH_BUREAU");
  auto left = ListAll();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].data_value().key().unit_code(), "EDU_BUREAU");

  v1::LockYearRequest lock;
  lock.set_year(2024);
  lock.set_reason("审核完毕");
  v1::YearLock out;
  auto ctx = Ctx("stats-token");
  ASSERT_TRUE(stub_->LockYear(ctx.get(), lock, &out).ok());
  auto locked = Withdraw("edu-token", "w2", {Key("HEALTH-05", 2024)}, "错填");
  EXPECT_EQ(locked.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(locked.status()), "YEAR_LOCKED");
  EXPECT_EQ(ListAll().size(), 1u);
}

TEST_F(SemanticsTest, ReportingStatusTreatsAWithdrawnValueAsNotReported) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto state = [&]() {
    v1::GetReportingStatusRequest req;
    req.set_year(2024);
    req.add_unit_codes("HEALTH_BUREAU");
    v1::GetReportingStatusResponse resp;
    auto ctx = Ctx("assess-token");
    EXPECT_TRUE(stub_->GetReportingStatus(ctx.get(), req, &resp).ok());
    for (const auto& e : resp.entries()) {
      if (e.indicator_id() == "HEALTH-03") {
        return e.state();
      }
    }
    return v1::REPORTING_STATE_UNSPECIFIED;
  };
  ASSERT_TRUE(Submit("health-token", "r", {Number("HEALTH-03", 2024, 3)}).ok());
  const v1::ReportingState reported = state();
  EXPECT_TRUE(reported == v1::REPORTING_STATE_ON_TIME || reported == v1::REPORTING_STATE_LATE)
      << v1::ReportingState_Name(reported);
  ASSERT_TRUE(Withdraw("health-token", "w", {Key("HEALTH-03", 2024)}, "错填").ok());
  EXPECT_EQ(state(), v1::REPORTING_STATE_MISSING);
  ASSERT_TRUE(Submit("health-token", "r2", {Number("HEALTH-03", 2024, 3)}).ok());
  EXPECT_EQ(state(), v1::REPORTING_STATE_LATE);  // 2026-03-01 is after 2024's due date
}

// ------------------------------------------- told no = not committed

TEST_F(SemanticsTest, BatchWhoseDeadlinePassedBeforeCommitIsNotCommitted) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_NO_FATAL_FAILURE(HoldWriteLock());
  auto late =
      Submit("health-token", "late", {Number("HEALTH-03", 2024, 3)}, absl::Milliseconds(300));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kDeadlineExceeded) << late.status();
  // The server's deadline is the client's plus the request's transit time
  // (microseconds on loopback): let it pass too before the committer runs.
  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_NO_FATAL_FAILURE(ReleaseWriteLock());
  // Queued after the late one, so answered after the committer decided it.
  ASSERT_TRUE(Submit("health-token", "next", {Number("HEALTH-03", 2023, 2)}).ok());
  EXPECT_EQ(CurrentYears(), (std::set<int>{2023}));
  // Nothing was recorded under the late request's id either.
  auto retry = Submit("health-token", "late", {Number("HEALTH-03", 2024, 3)});
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_FALSE(retry->replayed());
  EXPECT_EQ(retry->created_count(), 1);
}

TEST_F(SemanticsTest, NothingOfAStreamAfterItsErrorIsCommitted) {
  ASSERT_NO_FATAL_FAILURE(Start());
  {
    v1::LockYearRequest lock;
    lock.set_year(2023);
    lock.set_reason("审核完毕");
    v1::YearLock out;
    auto ctx = Ctx("stats-token");
    ASSERT_TRUE(stub_->LockYear(ctx.get(), lock, &out).ok());
  }
  // The committer waits while the three chunks are sent back to back, so
  // that they reach the store together (one group, as in the report).
  ASSERT_NO_FATAL_FAILURE(HoldWriteLock());
  auto ctx = Ctx("health-token");
  auto stream = stub_->SubmitStream(ctx.get());
  const int years[] = {2024, 2023, 2022};  // good, locked, good
  for (int c = 0; c < 3; ++c) {
    v1::SubmitStreamRequest req;
    req.set_request_id("chunk-" + std::to_string(c));
    *req.add_data_values() = Number("HEALTH-03", years[c], c + 1);
    ASSERT_TRUE(stream->Write(req));
  }
  stream->WritesDone();
  absl::SleepFor(absl::Milliseconds(300));  // the chunks are read and queued meanwhile
  ASSERT_NO_FATAL_FAILURE(ReleaseWriteLock());
  std::vector<int64_t> acked;
  v1::SubmitStreamResponse ack;
  while (stream->Read(&ack)) {
    acked.push_back(ack.chunk_index());
  }
  grpc::Status st = stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
  EXPECT_EQ(acked, (std::vector<int64_t>{0}));
  // Exactly what was acknowledged is committed.
  EXPECT_EQ(CurrentYears(), (std::set<int>{2024}));
  // The third chunk, resent, commits (it was never recorded).
  auto resent = Submit("health-token", "chunk-2", {Number("HEALTH-03", 2022, 3)});
  ASSERT_TRUE(resent.ok()) << resent.status();
  EXPECT_FALSE(resent->replayed());
}

// ---------------------------------------------------------- status codes

TEST_F(SemanticsTest, OutOfRangeArgumentsAreRefused) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(Submit("health-token", "r", {Number("HEALTH-03", 2024, 3)}).ok());
  {
    auto ctx = Ctx("assess-token");
    v1::WatchChangesRequest req;
    req.set_after_sequence(1000000000000000);
    auto reader = halfsky::testing::ChangeEvents(stub_->WatchChanges(ctx.get(), req));
    v1::ChangeEvent ev;
    EXPECT_FALSE(reader->Read(&ev)) << ev.DebugString();
    grpc::Status st = reader->Finish();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::OUT_OF_RANGE) << st.error_message();
    EXPECT_TRUE(HasViolation(FromGrpcStatus(st), "after_sequence"));
  }
  {
    // At the head exactly: fine, the heartbeat says 1.
    auto ctx = Ctx("assess-token");
    v1::WatchChangesRequest req;
    req.set_after_sequence(1);
    auto reader = halfsky::testing::ChangeEvents(stub_->WatchChanges(ctx.get(), req));
    v1::ChangeEvent ev;
    ASSERT_TRUE(reader->Read(&ev));
    ASSERT_TRUE(ev.has_heartbeat());
    EXPECT_EQ(ev.heartbeat().head_sequence(), 1);
    ctx->TryCancel();
    while (reader->Read(&ev)) {
    }
    reader->Finish().IgnoreError();
  }
  {
    v1::GetReportingStatusRequest req;
    req.set_year(2024);
    req.mutable_as_of()->set_seconds(int64_t{1} << 50);
    v1::GetReportingStatusResponse resp;
    auto ctx = Ctx("assess-token");
    grpc::Status st = stub_->GetReportingStatus(ctx.get(), req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_TRUE(HasViolation(FromGrpcStatus(st), "as_of"));
    req.mutable_as_of()->set_seconds(1700000000);
    req.mutable_as_of()->set_nanos(-5);
    auto ctx2 = Ctx("assess-token");
    EXPECT_EQ(stub_->GetReportingStatus(ctx2.get(), req, &resp).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    v1::DataKey key = Key("HEALTH-03", 2024);
    key.set_sex(static_cast<v1::Sex>(9));
    auto h = History("assess-token", key);
    EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(HasViolation(h.status(), "key.sex")) << h.status();
    key = Key("HEALTH-03", 2024);
    key.set_residence(static_cast<v1::Residence>(7));
    h = History("assess-token", key);
    EXPECT_TRUE(HasViolation(h.status(), "key.residence")) << h.status();
    h = History("assess-token", Key("HEALTH-03", 1999));
    EXPECT_TRUE(HasViolation(h.status(), "key.year")) << h.status();
  }
}

// ------------------------------------------------------------- full disk

// The full-disk test runs in a child of this binary inside its own user and
// mount namespace (`unshare -rm`), where a 2 MiB tmpfs is mounted over a
// temporary directory: a real filesystem that really runs out of space
// (ENOSPC → SQLITE_FULL), and that the test can free again. No root needed.
constexpr char kTmpfsEnv[] = "HALFSKY_TEST_TMPFS";

// Fills the filesystem of `dir` with `dir`/filler until it is full.
void Fill(const std::string& dir) {
  FILE* f = std::fopen((dir + "/filler").c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::setvbuf(f, nullptr, _IONBF, 0);
  std::string block(4096, 'x');
  while (std::fwrite(block.data(), 1, block.size(), f) == block.size()) {
  }
  while (std::fwrite("x", 1, 1, f) == 1) {
  }
  std::fclose(f);
}

TEST_F(SemanticsTest, FullDiskIsResourceExhaustedWritesHealthAndMetric) {
  const char* tmpfs = std::getenv(kTmpfsEnv);
  if (tmpfs == nullptr) {
    // Parent: run this very test again in a private namespace over a tmpfs.
    const std::string mount = halfsky::testing::MakeTempDir("submission-tmpfs");
    auto probe = halfsky::testing::RunCommand({"/usr/bin/unshare", "-rm", "true"});
    if (!probe.ok() || probe->exit_code != 0) {
      GTEST_SKIP() << "unprivileged user namespaces unavailable: cannot mount a small tmpfs";
    }
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    ASSERT_GT(n, 0);
    self[n] = '\0';
    auto run = halfsky::testing::RunCommand(
        {"/usr/bin/unshare", "-rm", "/bin/sh", "-c",
         "mount -t tmpfs -o size=2m tmpfs \"$1\" && exec \"$2\" "
         "--gtest_filter=SemanticsTest.FullDiskIsResourceExhaustedWritesHealthAndMetric",
         "sh", mount, self},
        {{kTmpfsEnv, mount}}, absl::Seconds(120));
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_EQ(run->exit_code, 0) << run->out << run->err;
    EXPECT_THAT(run->out, HasSubstr("[  PASSED  ] 1 test")) << run->out << run->err;
    return;
  }
  const std::string dir = tmpfs;
  ASSERT_NO_FATAL_FAILURE(Start(dir));
  const std::string kService = v1::SubmissionService::service_full_name();
  ASSERT_TRUE(Submit("health-token", "before", {Number("HEALTH-03", 2024, 3)}).ok());
  EXPECT_EQ(Health(kService), grpc::health::v1::HealthCheckResponse::SERVING);

  ASSERT_NO_FATAL_FAILURE(Fill(dir));
  auto full = Submit("health-token", "full", {Number("HEALTH-03", 2023, 7)});
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted) << full.status();
  EXPECT_EQ(ErrorReason(full.status()), "STORAGE_FULL") << full.status();
  // Withdrawals go the same way.
  auto wd = Withdraw("health-token", "wfull", {Key("HEALTH-03", 2024)}, "错填");
  EXPECT_EQ(wd.status().code(), absl::StatusCode::kResourceExhausted) << wd.status();
  EXPECT_EQ(Health(kService), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Health(""), grpc::health::v1::HealthCheckResponse::SERVING);  // reads still work
  EXPECT_TRUE(service_->storage_full());
  EXPECT_THAT(metrics_.Render(), HasSubstr("halfsky_submission_storage_full 1"));
  EXPECT_THAT(metrics_.Render(), HasSubstr("halfsky_submission_storage_full_failures_total 2"));
  // Nothing of the refused writes is there.
  EXPECT_EQ(CurrentYears(), (std::set<int>{2024}));

  // Space freed: the next write commits and health comes back.
  ASSERT_EQ(std::remove((dir + "/filler").c_str()), 0);
  auto after = Submit("health-token", "full", {Number("HEALTH-03", 2023, 7)});
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_FALSE(after->replayed());
  EXPECT_EQ(Health(kService), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_FALSE(service_->storage_full());
  EXPECT_THAT(metrics_.Render(), HasSubstr("halfsky_submission_storage_full 0"));
  EXPECT_EQ(CurrentYears(), (std::set<int>{2023, 2024}));
}

}  // namespace
}  // namespace halfsky::submission
