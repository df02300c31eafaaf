// The EvaluationService's fast and defensive paths on a real loopback gRPC
// server (common/server's RunningServer) over a real SQLite-backed engine:
//   - the ListWarnings response cache follows every change of the warning
//     set, never serves one filter's bytes for another, never caches errors;
//   - the authentication cache caches successes only;
//   - a watcher that does not read is dropped (ABORTED, as the service
//     documents) while the engine keeps going, its queue freed at once.
// No Redis: the evaluator is not used by these RPCs.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth/credentials.h"
#include "common/clock/clock.h"
#include "common/metrics/metrics.h"
#include "common/server/server.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "services/evaluation/service/evaluation_service.h"
#include "services/evaluation/service/evaluator.h"
#include "services/evaluation/service/service_metrics.h"
#include "services/evaluation/service/warning_engine.h"
#include "services/evaluation/service/warning_store.h"
#include "tests/evaluation/service_test_util.h"
#include "tests/support/process.h"

namespace halfsky::evaluation {
namespace {

using ::halfsky::v1::ListWarningsRequest;
using ::halfsky::v1::ListWarningsResponse;
using ::halfsky::v1::Warning;
using ::halfsky::v1::WarningEvent;
using ::testing::HasSubstr;

Warning Candidate(const std::string& indicator, halfsky::v1::Severity severity, int target_year,
                  const std::string& text = "预计达标困难") {
  Warning w;
  w.set_indicator_id(indicator);
  w.set_area_code(testing::kRoot);
  w.set_kind(halfsky::v1::WARNING_KIND_PROGRESS);
  w.set_target_year(target_year);
  w.set_severity(severity);
  w.set_status(halfsky::v1::PROGRESS_STATUS_AT_RISK);
  w.set_domain_id(indicator.substr(0, indicator.find('-')));
  w.add_responsible_unit_codes("HEALTH_BUREAU");
  w.set_explanation_zh(text);
  return w;
}

bool All(const Warning&) { return true; }

class EvaluationServicePathsTest : public ::testing::Test {
 protected:
  void Start(EvaluationServiceOptions options) {
    catalog_ = testing::TestCatalog();
    auto store =
        WarningStore::Open(halfsky::testing::MakeTempDir("evaluation-paths") + "/evaluation.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto engine = WarningEngine::Create(store_.get(), &clock_);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
    evaluator_ = std::make_unique<Evaluator>(catalog_, nullptr, nullptr, engine_.get(), &clock_,
                                             EvaluatorOptions());
    authenticator_ = testing::TestAuthenticator();
    metrics_ = std::make_unique<EvaluationMetrics>(&registry_);
    options.metrics = metrics_.get();
    service_ = std::make_unique<EvaluationServiceImpl>(catalog_, engine_.get(), evaluator_.get(),
                                                       authenticator_->AsFunction(), options);
    ServerOptions server_options;
    server_options.name = "halfsky-evaluation-paths-test";
    server_options.drain_delay = absl::ZeroDuration();
    server_options.grace_period = absl::Seconds(2);
    auto server = RunningServer::Start(server_options, catalog_, {service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = halfsky::v1::EvaluationService::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_ != nullptr) {
      server_->Shutdown([this] { service_->Shutdown(); });
    }
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token = testing::kUnitToken) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) {
      auth::AddBearerToken(ctx.get(), token);
    }
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    return ctx;
  }

  grpc::Status List(const ListWarningsRequest& request, ListWarningsResponse* response,
                    const std::string& token = testing::kUnitToken) {
    auto ctx = Ctx(token);
    return stub_->ListWarnings(ctx.get(), request, response);
  }

  std::vector<std::string> Ids(const ListWarningsResponse& response) {
    std::vector<std::string> ids;
    for (const Warning& w : response.warnings()) {
      ids.push_back(w.id());
    }
    return ids;
  }

  double Counter(const std::string& line_prefix) {
    const std::string text = "\n" + registry_.Render();
    const size_t at = text.find("\n" + line_prefix + " ");
    if (at == std::string::npos) {
      return -1;
    }
    return std::stod(text.substr(at + line_prefix.size() + 2));
  }

  FakeClock clock_{absl::FromUnixSeconds(1767225600)};
  std::shared_ptr<const CatalogIndex> catalog_;
  std::unique_ptr<WarningStore> store_;
  std::unique_ptr<WarningEngine> engine_;
  std::unique_ptr<Evaluator> evaluator_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  MetricsRegistry registry_;
  std::unique_ptr<EvaluationMetrics> metrics_;
  std::unique_ptr<EvaluationServiceImpl> service_;
  std::unique_ptr<RunningServer> server_;
  std::unique_ptr<halfsky::v1::EvaluationService::Stub> stub_;
};

TEST_F(EvaluationServicePathsTest, ListCacheFollowsEveryChangeAndKeepsFiltersApart) {
  ASSERT_NO_FATAL_FAILURE(Start({}));
  ASSERT_TRUE(engine_
                  ->Reconcile(All, {Candidate("HEALTH-02", halfsky::v1::SEVERITY_ORANGE, 2030),
                                    Candidate("HEALTH-01", halfsky::v1::SEVERITY_YELLOW, 2030)})
                  .ok());
  ListWarningsRequest all;
  ListWarningsRequest orange;
  orange.set_min_severity(halfsky::v1::SEVERITY_ORANGE);
  ListWarningsResponse r1, r2, r3;
  ASSERT_TRUE(List(all, &r1).ok());
  ASSERT_TRUE(List(all, &r2).ok());  // served from the cache
  EXPECT_EQ(r1.SerializeAsString(), r2.SerializeAsString());
  EXPECT_THAT(Ids(r1), ::testing::ElementsAre("HEALTH-02:610303:progress:2030",
                                              "HEALTH-01:610303:progress:2030"));
  ASSERT_TRUE(List(orange, &r3).ok());
  EXPECT_THAT(Ids(r3), ::testing::ElementsAre("HEALTH-02:610303:progress:2030"))
      << "another filter, other bytes";

  // An update (severity), an acknowledgement and a resolution: each is
  // visible on the very next call.
  ASSERT_TRUE(engine_
                  ->Reconcile(All, {Candidate("HEALTH-02", halfsky::v1::SEVERITY_ORANGE, 2030),
                                    Candidate("HEALTH-01", halfsky::v1::SEVERITY_RED, 2030)})
                  .ok());
  ListWarningsResponse u;
  ASSERT_TRUE(List(all, &u).ok());
  EXPECT_THAT(Ids(u), ::testing::ElementsAre("HEALTH-01:610303:progress:2030",
                                             "HEALTH-02:610303:progress:2030"));
  ASSERT_TRUE(engine_->Acknowledge("HEALTH-02:610303:progress:2030", "alice", "已约谈").ok());
  ListWarningsResponse a;
  ASSERT_TRUE(List(orange, &a).ok());
  ASSERT_EQ(a.warnings_size(), 2);
  EXPECT_EQ(a.warnings(1).acknowledgement().note(), "已约谈");
  ASSERT_TRUE(
      engine_->Reconcile(All, {Candidate("HEALTH-01", halfsky::v1::SEVERITY_RED, 2030)}).ok());
  ListWarningsResponse z;
  ASSERT_TRUE(List(orange, &z).ok());
  EXPECT_THAT(Ids(z), ::testing::ElementsAre("HEALTH-01:610303:progress:2030"));
  EXPECT_EQ(z.total_count(), 1);
}

TEST_F(EvaluationServicePathsTest, ManyDistinctRequestsStayCorrectPastTheCacheBound) {
  EvaluationServiceOptions options;
  options.list_cache_entries = 3;
  ASSERT_NO_FATAL_FAILURE(Start(options));
  std::vector<Warning> candidates;
  for (int i = 0; i < 12; ++i) {
    candidates.push_back(Candidate("HEALTH-02", halfsky::v1::SEVERITY_YELLOW, 2020 + i));
  }
  ASSERT_TRUE(engine_->Reconcile(All, candidates).ok());
  for (int round = 0; round < 2; ++round) {
    for (int page_size = 1; page_size <= 8; ++page_size) {
      ListWarningsRequest request;
      request.set_page_size(page_size);
      ListWarningsResponse response;
      ASSERT_TRUE(List(request, &response).ok());
      EXPECT_EQ(response.warnings_size(), page_size);
      EXPECT_EQ(response.total_count(), 12);
    }
  }
}

TEST_F(EvaluationServicePathsTest, ErrorsAreNotCached) {
  ASSERT_NO_FATAL_FAILURE(Start({}));
  ListWarningsRequest typo;
  typo.set_indicator_id("HEALTH-99");
  for (int i = 0; i < 2; ++i) {
    ListWarningsResponse response;
    grpc::Status st = List(typo, &response);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << i;
  }
  ListWarningsRequest bad_token;
  bad_token.set_page_token("garbage");
  for (int i = 0; i < 2; ++i) {
    ListWarningsResponse response;
    EXPECT_EQ(List(bad_token, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT) << i;
  }
  // Bytes that are not a ListWarningsRequest (field 1 declared 100 bytes
  // long, 1 present).
  grpc::GenericStub generic(
      grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  for (int i = 0; i < 2; ++i) {
    auto ctx = Ctx();
    grpc::Slice slice(std::string("\x0a\x64x", 3));
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    absl::Notification done;
    grpc::Status status;
    generic.UnaryCall(ctx.get(), "/halfsky.v1.EvaluationService/ListWarnings", grpc::StubOptions(),
                      &request, &response, [&](grpc::Status s) {
                        status = std::move(s);
                        done.Notify();
                      });
    done.WaitForNotification();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << i;
  }
}

TEST_F(EvaluationServicePathsTest, AuthenticationCacheKeepsOnlySuccesses) {
  ASSERT_NO_FATAL_FAILURE(Start({}));
  ListWarningsRequest request;
  ListWarningsResponse response;
  EXPECT_EQ(List(request, &response, "not-a-token").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(List(request, &response, "not-a-token").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(List(request, &response, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(List(request, &response).ok());
  EXPECT_TRUE(List(request, &response).ok());
  EXPECT_EQ(List(request, &response, "not-a-token").error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << "a cached success must not leak to another token";

  // Roles come from the cached principal too: the unit token may list but
  // not acknowledge; the assessment token may.
  ASSERT_TRUE(
      engine_->Reconcile(All, {Candidate("HEALTH-02", halfsky::v1::SEVERITY_ORANGE, 2030)}).ok());
  halfsky::v1::AcknowledgeWarningRequest ack;
  ack.set_warning_id("HEALTH-02:610303:progress:2030");
  ack.set_note("已督办");
  Warning acked;
  auto unit = Ctx(testing::kUnitToken);
  EXPECT_EQ(stub_->AcknowledgeWarning(unit.get(), ack, &acked).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  for (int i = 0; i < 2; ++i) {
    auto assessment = Ctx(testing::kAssessmentToken);
    grpc::Status st = stub_->AcknowledgeWarning(assessment.get(), ack, &acked);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(acked.acknowledgement().by(), "alice");
  }
}

// A WatchWarnings client that never reads while the engine emits far more
// than its queue (and gRPC's flow-control window) holds.
TEST_F(EvaluationServicePathsTest, AWatcherThatDoesNotReadIsDroppedAndTheEngineNeverBlocks) {
  EvaluationServiceOptions options;
  options.max_watch_queue = 8;
  ASSERT_NO_FATAL_FAILURE(Start(options));
  constexpr int kWarnings = 40;
  // ~4 KB per event: a few dozen events fill the stream's HTTP/2 window.
  const std::string big(4000, 'x');
  auto Candidates = [&](int round) {
    std::vector<Warning> out;
    for (int i = 0; i < kWarnings; ++i) {
      out.push_back(Candidate("HEALTH-02", halfsky::v1::SEVERITY_ORANGE, 2000 + i,
                              absl::StrCat("第", round, "轮 ", big)));
    }
    return out;
  };
  ASSERT_TRUE(engine_->Reconcile(All, Candidates(0)).ok());

  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);  // keep the window at its initial size
  auto channel =
      grpc::CreateCustomChannel(server_->address(), grpc::InsecureChannelCredentials(), args);
  auto stub = halfsky::v1::EvaluationService::NewStub(channel);
  grpc::ClientContext ctx;
  auth::AddBearerToken(&ctx, testing::kUnitToken);
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  halfsky::v1::WatchWarningsRequest watch;
  std::unique_ptr<grpc::ClientReader<WarningEvent>> reader = stub->WatchWarnings(&ctx, watch);
  // Read only the first event: the stream is established and subscribed.
  WarningEvent event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.type(), halfsky::v1::WARNING_EVENT_TYPE_CURRENT);
  EXPECT_EQ(service_->active_watchers(), 1);
  EXPECT_EQ(engine_->watcher_count(), 1);

  // 30 rounds × 40 UPDATED events × 4 KB ≈ 5 MB, nobody reading. Every
  // Reconcile returns: the engine never waits for the watcher.
  constexpr int kRounds = 30;
  for (int round = 1; round <= kRounds; ++round) {
    auto result = engine_->Reconcile(All, Candidates(round));
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->updated, kWarnings);
  }
  // Dropped while still not reading: the queue was freed at once.
  EXPECT_EQ(Counter("halfsky_evaluation_watchers_dropped_total{reason=\"fell_behind\"}"), 1);

  // Now read: what was already in flight, then ABORTED.
  int received = 1;
  while (reader->Read(&event)) {
    ++received;
  }
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("重新订阅"));
  // Far fewer events arrived than were emitted (memory stayed bounded).
  EXPECT_LT(received, kWarnings + 1 + 200);
  // The service forgot the stream.
  for (int i = 0; i < 200 && engine_->watcher_count() != 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(engine_->watcher_count(), 0);
  EXPECT_EQ(service_->active_watchers(), 0);
  EXPECT_EQ(Counter("halfsky_evaluation_watchers"), 0);

  // Watching again gets the whole current set, then SYNCED.
  grpc::ClientContext again;
  auth::AddBearerToken(&again, testing::kUnitToken);
  again.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  auto reader2 = stub->WatchWarnings(&again, watch);
  int current = 0;
  while (reader2->Read(&event) && event.type() == halfsky::v1::WARNING_EVENT_TYPE_CURRENT) {
    EXPECT_THAT(event.warning().explanation_zh(), HasSubstr(absl::StrCat("第", kRounds, "轮")));
    ++current;
  }
  EXPECT_EQ(current, kWarnings);
  EXPECT_EQ(event.type(), halfsky::v1::WARNING_EVENT_TYPE_SYNCED);
  again.TryCancel();
  reader2->Finish();
}

}  // namespace
}  // namespace halfsky::evaluation
