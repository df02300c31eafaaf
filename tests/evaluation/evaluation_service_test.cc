// The evaluation service against real parts: a real redis-server holding
// aggregates written in the aggregation service's layout (by its own
// Aggregator and RedisWriter), the real EvaluationService on a loopback gRPC
// server, a real SQLite file. A small fake AggregationService stands in for
// the cache-miss fallback (the real halfsky-aggregation is exercised in
// evaluation_e2e_test).
#include "services/evaluation/service/evaluation_service.h"

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/auth/credentials.h"
#include "common/cache/cache_layout.h"
#include "common/clock/clock.h"
#include "common/redis/hiredis_client.h"
#include "common/server/server.h"
#include "common/status/status.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/aggregation.grpc.pb.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "services/evaluation/service/evaluator.h"
#include "services/evaluation/service/series_source.h"
#include "services/evaluation/service/warning_engine.h"
#include "services/evaluation/service/warning_store.h"
#include "tests/evaluation/service_test_util.h"
#include "tests/support/process.h"

namespace halfsky::evaluation {
namespace {

using ::halfsky::v1::Warning;
using ::halfsky::v1::WarningEvent;
using testing::FractionValue;
using ::testing::HasSubstr;
using testing::kRoot;
using testing::PlainValue;

// GetSeries from a fixed table; counts calls.
class FakeAggregation final : public halfsky::v1::AggregationService::CallbackService {
 public:
  void Put(const std::string& indicator, std::vector<halfsky::v1::SeriesPoint> points) {
    absl::MutexLock lock(&mu_);
    series_[indicator] = std::move(points);
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  grpc::ServerUnaryReactor* GetSeries(grpc::CallbackServerContext* ctx,
                                      const halfsky::v1::GetSeriesRequest* request,
                                      halfsky::v1::GetSeriesResponse* response) override {
    absl::MutexLock lock(&mu_);
    ++calls_;
    response->set_indicator_id(request->indicator_id());
    response->set_area_code(request->area_code());
    response->set_as_of_sequence(7);
    if (request->sex() == halfsky::v1::SEX_TOTAL &&
        request->residence() == halfsky::v1::RESIDENCE_ALL && request->area_code() == kRoot) {
      for (const auto& p : series_[request->indicator_id()]) {
        *response->add_points() = p;
      }
    }
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::vector<halfsky::v1::SeriesPoint>> series_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

halfsky::v1::SeriesPoint Point(int year, double value) {
  halfsky::v1::SeriesPoint p;
  p.set_year(year);
  p.set_value(value);
  p.set_numerator(value);
  p.set_denominator(100);
  return p;
}

// The evaluation service with everything it depends on, restartable on the
// same SQLite file.
class EvaluationServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = testing::TestCatalog();
    auto redis_server = halfsky::testing::RedisServer::Start();
    ASSERT_TRUE(redis_server.ok()) << redis_server.status();
    redis_server_ = std::move(*redis_server);
    HiredisOptions options = *ParseRedisAddress(redis_server_->address());
    options.connect_timeout = absl::Milliseconds(300);
    options.command_timeout = absl::Milliseconds(500);
    redis_ = std::make_unique<HiredisClient>(options);
    writer_ = std::make_unique<testing::AggregateWriter>(catalog_, redis_.get());
    db_path_ = halfsky::testing::MakeTempDir("evaluation-service") + "/evaluation.db";
    authenticator_ = testing::TestAuthenticator();

    ServerOptions agg_options;
    agg_options.name = "fake-aggregation";
    auto agg = RunningServer::Start(agg_options, catalog_, {&fake_aggregation_});
    ASSERT_TRUE(agg.ok()) << agg.status();
    aggregation_server_ = std::move(*agg);
    StartService();
  }

  void TearDown() override { StopService(); }

  void StartService() {
    auto store = WarningStore::Open(db_path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto engine = WarningEngine::Create(store_.get(), &clock_);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
    cache_ = std::make_unique<RedisSeriesSource>(redis_.get());
    grpc_source_ = std::make_unique<GrpcSeriesSource>(
        grpc::CreateChannel(aggregation_server_->address(), grpc::InsecureChannelCredentials()),
        "");
    series_ = std::make_unique<FallbackSeriesSource>(cache_.get(), grpc_source_.get());
    EvaluatorOptions eo;
    eo.area_depth = area_depth_;
    eo.full_pass_interval = absl::Hours(1);
    eo.retry_interval = absl::Milliseconds(200);
    evaluator_ =
        std::make_unique<Evaluator>(catalog_, series_.get(), nullptr, engine_.get(), &clock_, eo);
    EvaluationServiceOptions so;
    so.max_watch_queue = 64;
    service_ = std::make_unique<EvaluationServiceImpl>(catalog_, engine_.get(), evaluator_.get(),
                                                       authenticator_->AsFunction(), so);
    ServerOptions options;
    options.name = "halfsky-evaluation-test";
    options.drain_delay = absl::ZeroDuration();
    options.grace_period = absl::Seconds(2);
    auto server = RunningServer::Start(options, catalog_, {service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    stub_ = halfsky::v1::EvaluationService::NewStub(channel_);
  }

  void StopService() {
    if (server_ != nullptr) {
      server_->Shutdown([this] { service_->Shutdown(); });
    }
    if (evaluator_ != nullptr) {
      evaluator_->Stop();
    }
    server_.reset();
    service_.reset();
    evaluator_.reset();
    engine_.reset();
    store_.reset();
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token = testing::kUnitToken) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    auth::AddBearerToken(ctx.get(), token);
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return ctx;
  }

  std::vector<Warning> Firing(const std::string& indicator) {
    halfsky::v1::ListWarningsRequest request;
    request.set_indicator_id(indicator);
    halfsky::v1::ListWarningsResponse response;
    auto ctx = Ctx();
    grpc::Status st = stub_->ListWarnings(ctx.get(), request, &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return {response.warnings().begin(), response.warnings().end()};
  }

  // HEALTH-02: 50 % in 2020, 50.5 % in 2024, target ≥ 60 % by 2030:
  // P = CAGR(50.5/50) / CAGR(60/50) ≈ 0.135 → 预计达标困难 (orange).
  void WriteAtRiskScreening() {
    ASSERT_TRUE(writer_
                    ->Write({FractionValue("HEALTH-02", 2020, 50, 100),
                             FractionValue("HEALTH-02", 2024, 50.5, 100)})
                    .ok());
  }
  // HEALTH-02 (WriteAtRiskScreening) and HEALTH-01 (2024: 98 %) in the
  // cache, for the ReadMany tests.
  void WriteTwoIndicators(const halfsky::v1::Indicator** screening,
                          const halfsky::v1::Indicator** other) {
    WriteAtRiskScreening();
    ASSERT_TRUE(writer_->Write({FractionValue("HEALTH-01", 2024, 98, 100)}).ok());
    *screening = catalog_->FindIndicator("HEALTH-02");
    *other = catalog_->FindIndicator("HEALTH-01");
    ASSERT_NE(*screening, nullptr);
    ASSERT_NE(*other, nullptr);
  }
  // Redis' count of EXEC calls so far (INFO commandstats).
  int64_t ExecCalls() {
    auto info = redis_->Command({"INFO", "commandstats"});
    EXPECT_TRUE(info.ok()) << info.status();
    auto text = info.ok() ? info->AsOptionalString() : absl::StatusOr<std::optional<std::string>>();
    if (!text.ok() || !text->has_value()) {
      return -1;
    }
    const size_t at = (*text)->find("cmdstat_exec:calls=");
    int64_t calls = 0;
    if (at != std::string::npos) {
      const std::string rest = (*text)->substr(at + 19);
      (void)absl::SimpleAtoi(rest.substr(0, rest.find(',')), &calls);
    }
    return calls;
  }
  // A correction of 2024 to 55 %: P ≈ 1.31 → on track, nothing warns.
  void WriteCorrection() {
    ASSERT_TRUE(writer_->Write({FractionValue("HEALTH-02", 2024, 55, 100)}).ok());
  }

  int area_depth_ = 0;
  FakeClock clock_{absl::FromUnixSeconds(1767225600)};  // 2026-01-01
  std::shared_ptr<const CatalogIndex> catalog_;
  std::unique_ptr<halfsky::testing::RedisServer> redis_server_;
  std::unique_ptr<HiredisClient> redis_;
  std::unique_ptr<testing::AggregateWriter> writer_;
  std::string db_path_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  FakeAggregation fake_aggregation_;
  std::unique_ptr<RunningServer> aggregation_server_;

  std::unique_ptr<WarningStore> store_;
  std::unique_ptr<WarningEngine> engine_;
  std::unique_ptr<RedisSeriesSource> cache_;
  std::unique_ptr<GrpcSeriesSource> grpc_source_;
  std::unique_ptr<FallbackSeriesSource> series_;
  std::unique_ptr<Evaluator> evaluator_;
  std::unique_ptr<EvaluationServiceImpl> service_;
  std::unique_ptr<RunningServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<halfsky::v1::EvaluationService::Stub> stub_;
};

TEST_F(EvaluationServiceTest, WarningComputedFromAggregatesInRedis) {
  WriteAtRiskScreening();
  ASSERT_TRUE(evaluator_->EvaluateIndicator("HEALTH-02").ok());
  std::vector<Warning> warnings = Firing("HEALTH-02");
  ASSERT_EQ(warnings.size(), 1u);
  const Warning& w = warnings[0];
  EXPECT_EQ(w.id(), "HEALTH-02:610303:progress:2030");
  EXPECT_EQ(w.kind(), halfsky::v1::WARNING_KIND_PROGRESS);
  EXPECT_EQ(w.severity(), halfsky::v1::SEVERITY_ORANGE);
  EXPECT_EQ(w.status(), halfsky::v1::PROGRESS_STATUS_AT_RISK);
  EXPECT_DOUBLE_EQ(w.figures().base_value(), 50);
  EXPECT_DOUBLE_EQ(w.figures().current_value(), 50.5);
  EXPECT_DOUBLE_EQ(w.figures().target_value(), 60);
  EXPECT_NEAR(w.figures().progress(), 0.1354, 0.001);
  EXPECT_EQ(w.data_year(), 2024);
  EXPECT_THAT(w.responsible_unit_codes(), ::testing::ElementsAre("HEALTH_BUREAU"));
  EXPECT_EQ(w.domain_id(), "HEALTH");
  EXPECT_THAT(w.explanation_zh(), HasSubstr("宫颈癌筛查率"));
  EXPECT_THAT(w.explanation_zh(), HasSubstr("60%"));
  EXPECT_EQ(fake_aggregation_.calls(), 0) << "read from Redis, not the fallback";
}

// ReadMany puts several indicators' series in ONE MULTI/EXEC (the
// evaluator's pass over the indicators an update named: one round trip, one
// snapshot), and each snapshot equals the one Read gives alone.
TEST_F(EvaluationServiceTest, ReadManyIsOneTransactionWithEachReadsFigures) {
  const halfsky::v1::Indicator* screening = nullptr;
  const halfsky::v1::Indicator* other = nullptr;
  ASSERT_NO_FATAL_FAILURE(WriteTwoIndicators(&screening, &other));
  const std::vector<std::string> areas = {"610303"};
  const int64_t before = ExecCalls();
  auto many = cache_->ReadMany({SeriesRequest{screening, areas, NeededSeries(*screening)},
                                SeriesRequest{other, areas, NeededSeries(*other)}});
  ASSERT_TRUE(many.ok()) << many.status();
  EXPECT_EQ(ExecCalls() - before, 1) << "one MULTI/EXEC for both indicators";
  ASSERT_EQ(many->size(), 2u);
  int with_points = 0;
  for (size_t i = 0; i < 2; ++i) {
    const halfsky::v1::Indicator& ind = i == 0 ? *screening : *other;
    auto one = cache_->Read(ind, areas, NeededSeries(ind));
    ASSERT_TRUE(one.ok()) << one.status();
    const IndicatorSnapshot& batched = (*many)[i];
    EXPECT_EQ(batched.indicator_id, ind.id());
    EXPECT_EQ(batched.as_of_sequence, one->as_of_sequence);
    ASSERT_EQ(batched.areas.size(), one->areas.size());
    for (size_t a = 0; a < batched.areas.size(); ++a) {
      EXPECT_EQ(batched.areas[a].area_code, one->areas[a].area_code);
      ASSERT_EQ(batched.areas[a].series.size(), one->areas[a].series.size());
      for (const auto& [spec, points] : one->areas[a].series) {
        const std::vector<halfsky::v1::SeriesPoint>& got = batched.areas[a].Get(spec);
        ASSERT_EQ(got.size(), points.size()) << ind.id();
        for (size_t k = 0; k < points.size(); ++k) {
          EXPECT_EQ(got[k].SerializeAsString(), points[k].SerializeAsString()) << ind.id();
        }
        with_points += points.empty() ? 0 : 1;
      }
    }
  }
  EXPECT_GE(with_points, 2) << "both indicators' total series have figures";
}

// Past its key cap, ReadMany splits into several transactions (one
// MULTI/EXEC blocks Redis' other clients while it runs), each request whole
// in one of them, and the figures are the same.
TEST_F(EvaluationServiceTest, ReadManySplitsItsTransactionsAtTheKeyCap) {
  const halfsky::v1::Indicator* screening = nullptr;
  const halfsky::v1::Indicator* other = nullptr;
  ASSERT_NO_FATAL_FAILURE(WriteTwoIndicators(&screening, &other));
  const std::vector<std::string> areas = {"610303"};
  RedisSeriesSource capped(redis_.get(), "", nullptr, /*max_keys_per_transaction=*/1);
  const int64_t before = ExecCalls();
  auto many = capped.ReadMany({SeriesRequest{screening, areas, NeededSeries(*screening)},
                               SeriesRequest{other, areas, NeededSeries(*other)}});
  ASSERT_TRUE(many.ok()) << many.status();
  EXPECT_EQ(ExecCalls() - before, 2) << "one transaction per request at a cap of 1 key";
  ASSERT_EQ(many->size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const halfsky::v1::Indicator& ind = i == 0 ? *screening : *other;
    auto one = cache_->Read(ind, areas, NeededSeries(ind));
    ASSERT_TRUE(one.ok()) << one.status();
    EXPECT_EQ((*many)[i].indicator_id, ind.id());
    const std::vector<halfsky::v1::SeriesPoint>& got = (*many)[i].areas.at(0).Get(SeriesSpec{});
    const std::vector<halfsky::v1::SeriesPoint>& want = one->areas.at(0).Get(SeriesSpec{});
    ASSERT_EQ(got.size(), want.size()) << ind.id();
    ASSERT_FALSE(got.empty()) << ind.id();
    for (size_t k = 0; k < got.size(); ++k) {
      EXPECT_EQ(got[k].SerializeAsString(), want[k].SerializeAsString()) << ind.id();
    }
  }
}

// A batch the cache cannot serve whole (one value it refuses) is not sent
// to the aggregation service: the fallback source returns the cache's
// error, and each indicator read on its own goes there only if the cache
// refuses it (the evaluator's pending pass reads each then:
// PendingPassTest.AFailedBatchReadsEachIndicatorItself).
TEST_F(EvaluationServiceTest, ABatchTheCacheRefusesIsNotSentWholeToTheAggregation) {
  const halfsky::v1::Indicator* screening = nullptr;
  const halfsky::v1::Indicator* other = nullptr;
  ASSERT_NO_FATAL_FAILURE(WriteTwoIndicators(&screening, &other));
  const std::vector<std::string> areas = {"610303"};
  ASSERT_TRUE(redis_
                  ->Command({"SET",
                             cache::SeriesRedisKey("HEALTH-02", "610303", halfsky::v1::SEX_TOTAL,
                                                   halfsky::v1::RESIDENCE_ALL),
                             "not a stored series"})
                  .ok());
  const int calls = fake_aggregation_.calls();
  auto many = series_->ReadMany({SeriesRequest{screening, areas, NeededSeries(*screening)},
                                 SeriesRequest{other, areas, NeededSeries(*other)}});
  EXPECT_FALSE(many.ok());
  EXPECT_EQ(fake_aggregation_.calls(), calls) << "the batch went to the aggregation service";
  auto alone = series_->Read(*other, areas, NeededSeries(*other));
  ASSERT_TRUE(alone.ok()) << alone.status();
  EXPECT_EQ(alone->origin, IndicatorSnapshot::Origin::kRedis);
  EXPECT_EQ(fake_aggregation_.calls(), calls) << "HEALTH-01 is served by the cache";
  auto refused = series_->Read(*screening, areas, NeededSeries(*screening));
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_GT(fake_aggregation_.calls(), calls) << "HEALTH-02 alone falls back";
}

// The progress bands are the deployment's: the same figures through the real
// service, with a catalog whose progress_bands move the bounds, land in
// another band (P ≈ 0.135: 预计达标困难 by default, 需加快进度 with
// needs_acceleration 0.1) and the warning's severity follows.
TEST_F(EvaluationServiceTest, CatalogProgressBandsChangeTheBand) {
  WriteAtRiskScreening();
  ASSERT_TRUE(evaluator_->EvaluateIndicator("HEALTH-02").ok());
  std::vector<Warning> warnings = Firing("HEALTH-02");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].status(), halfsky::v1::PROGRESS_STATUS_AT_RISK);
  EXPECT_EQ(warnings[0].severity(), halfsky::v1::SEVERITY_ORANGE);

  StopService();
  const std::string bands = halfsky::testing::MakeTempDir("evaluation-bands") + "/bands.textproto";
  {
    std::ofstream out(bands);
    out << "progress_bands { on_track: 0.5 needs_acceleration: 0.1 }\n";
  }
  auto catalog = CatalogIndex::Load({testing::TestCatalogPath(), bands});
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  catalog_ = *catalog;
  StartService();
  ASSERT_TRUE(evaluator_->EvaluateIndicator("HEALTH-02").ok());
  warnings = Firing("HEALTH-02");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].id(), "HEALTH-02:610303:progress:2030");
  EXPECT_EQ(warnings[0].status(), halfsky::v1::PROGRESS_STATUS_NEEDS_ACCELERATION);
  EXPECT_EQ(warnings[0].severity(), halfsky::v1::SEVERITY_YELLOW);
  EXPECT_NEAR(warnings[0].figures().progress(), 0.1354, 0.001);
}

TEST_F(EvaluationServiceTest, CacheMissFallsBackToGetSeries) {
  // Nothing written: no cursor in Redis, the cache is not valid.
  fake_aggregation_.Put("HEALTH-02", {Point(2020, 50), Point(2024, 50.5)});
  ASSERT_TRUE(evaluator_->EvaluateIndicator("HEALTH-02").ok());
  EXPECT_GT(fake_aggregation_.calls(), 0);
  ASSERT_EQ(Firing("HEALTH-02").size(), 1u);

  // With Redis down as well as with a cache that went invalid.
  WriteCorrection();  // creates the cursor; the cache now says "on track"
  redis_server_->Kill();
  fake_aggregation_.Put("HEALTH-02", {Point(2020, 50), Point(2024, 50.6)});
  ASSERT_TRUE(evaluator_->EvaluateIndicator("HEALTH-02").ok());
  auto warnings = Firing("HEALTH-02");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_DOUBLE_EQ(warnings[0].figures().current_value(), 50.6) << "figures from GetSeries";
}

TEST_F(EvaluationServiceTest, NothingResolvesWhenNoSourceAnswers) {
  WriteAtRiskScreening();
  ASSERT_TRUE(evaluator_->EvaluateIndicator("HEALTH-02").ok());
  redis_server_->Kill();
  aggregation_server_->Shutdown();
  absl::Status st = evaluator_->EvaluateIndicator("HEALTH-02");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(Firing("HEALTH-02").size(), 1u) << "a failed read must not resolve anything";
}

TEST_F(EvaluationServiceTest, WatchSeesFiredThenResolvedDrivenByPublish) {
  ASSERT_TRUE(evaluator_->Start(redis_.get()).ok());
  auto ctx = Ctx();
  halfsky::v1::WatchWarningsRequest request;
  request.mutable_filter()->set_indicator_id("HEALTH-02");
  auto reader = stub_->WatchWarnings(ctx.get(), request);
  WarningEvent event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.type(), halfsky::v1::WARNING_EVENT_TYPE_SYNCED);

  // Wait until the evaluator's subscription is live (its first full pass
  // runs after subscribing), so the PUBLISH below is not lost.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (evaluator_->completed_passes() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  WriteAtRiskScreening();
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.type(), halfsky::v1::WARNING_EVENT_TYPE_FIRED);
  EXPECT_EQ(event.warning().id(), "HEALTH-02:610303:progress:2030");
  EXPECT_EQ(event.warning().episode(), 1);

  WriteCorrection();
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.type(), halfsky::v1::WARNING_EVENT_TYPE_RESOLVED);
  EXPECT_EQ(event.warning().state(), halfsky::v1::WARNING_STATE_RESOLVED);

  // Fires again: a new episode.
  ASSERT_TRUE(writer_->Write({FractionValue("HEALTH-02", 2024, 50.5, 100)}).ok());
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.type(), halfsky::v1::WARNING_EVENT_TYPE_FIRED);
  EXPECT_EQ(event.warning().episode(), 2);

  // Shutdown ends the stream promptly with UNAVAILABLE.
  service_->Shutdown();
  while (reader->Read(&event)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

// Counts GetReportingStatus calls (one per due year of each late-data check).
class CountingReporting final : public ReportingSource {
 public:
  absl::StatusOr<halfsky::v1::GetReportingStatusResponse> Get(int, absl::Time) override {
    calls.fetch_add(1);
    return halfsky::v1::GetReportingStatusResponse();
  }
  std::atomic<int> calls{0};
};

// Under a write load every commit publishes an update; each asks for a
// late-data check, which asks submission for every due year. They are
// coalesced to one per late_data_min_interval, and the last is deferred,
// not dropped.
TEST_F(EvaluationServiceTest, UpdateMessagesCheckLateDataAtMostOncePerInterval) {
  CountingReporting reporting;
  EvaluatorOptions eo;
  eo.full_pass_interval = absl::Hours(1);
  eo.late_data_interval = absl::Hours(1);
  eo.late_data_min_interval = absl::Milliseconds(500);
  Evaluator evaluator(catalog_, series_.get(), &reporting, engine_.get(), &clock_, eo);
  ASSERT_TRUE(evaluator.Start(redis_.get()).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (evaluator.completed_passes() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  absl::SleepFor(absl::Milliseconds(600));       // past the full pass's own check
  const int per_check = reporting.calls.load();  // the full pass: one check
  ASSERT_GT(per_check, 0);
  const absl::Time start = absl::Now();
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(writer_->Write({FractionValue("HEALTH-02", 2024, 50 + i % 2, 100)}).ok());
    absl::SleepFor(absl::Milliseconds(25));  // each update its own pass
  }
  const absl::Duration writing = absl::Now() - start;
  absl::SleepFor(absl::Milliseconds(900));  // the deferred check's turn
  const int checks = (reporting.calls.load() - per_check) / per_check;
  evaluator.Stop();
  EXPECT_GE(checks, 1);
  // One right away, then at most one per 500 ms while writing, and the
  // deferred last one.
  EXPECT_LE(checks, 2 + static_cast<int>(writing / absl::Milliseconds(500))) << writing;
}

TEST_F(EvaluationServiceTest, NoChangeReevaluationSendsNoEvent) {
  WriteAtRiskScreening();
  ASSERT_TRUE(evaluator_->EvaluateIndicator("HEALTH-02").ok());
  auto ctx = Ctx();
  halfsky::v1::WatchWarningsRequest request;
  auto reader = stub_->WatchWarnings(ctx.get(), request);
  WarningEvent event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.type(), halfsky::v1::WARNING_EVENT_TYPE_CURRENT);
  const std::string before = event.warning().SerializeAsString();
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.type(), halfsky::v1::WARNING_EVENT_TYPE_SYNCED);

  clock_.Advance(absl::Hours(3));
  const int64_t version = engine_->version();
  ASSERT_TRUE(evaluator_->FullPass().ok());
  ASSERT_TRUE(evaluator_->EvaluateIndicator("HEALTH-02").ok());
  EXPECT_EQ(engine_->version(), version) << "no event";
  std::vector<Warning> warnings = Firing("HEALTH-02");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].SerializeAsString(), before) << "no timestamp touched";

  // The next event the watcher sees is the acknowledgement, not a no-op.
  halfsky::v1::AcknowledgeWarningRequest ack;
  ack.set_warning_id(warnings[0].id());
  ack.set_note("加大筛查力度");
  Warning acked;
  auto ack_ctx = Ctx(testing::kAssessmentToken);
  ASSERT_TRUE(stub_->AcknowledgeWarning(ack_ctx.get(), ack, &acked).ok());
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.type(), halfsky::v1::WARNING_EVENT_TYPE_ACKNOWLEDGED);
  ctx->TryCancel();
  while (reader->Read(&event)) {
  }
  (void)reader->Finish();
}

TEST_F(EvaluationServiceTest, AcknowledgementRulesAndDurabilityAcrossRestart) {
  WriteAtRiskScreening();
  ASSERT_TRUE(evaluator_->EvaluateIndicator("HEALTH-02").ok());
  const std::string id = "HEALTH-02:610303:progress:2030";
  halfsky::v1::AcknowledgeWarningRequest request;
  request.set_warning_id(id);
  request.set_note("开展筛查专项行动");
  Warning response;
  {
    auto ctx = Ctx(testing::kUnitToken);
    EXPECT_EQ(stub_->AcknowledgeWarning(ctx.get(), request, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(stub_->AcknowledgeWarning(&ctx, request, &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    halfsky::v1::AcknowledgeWarningRequest no_note = request;
    no_note.clear_note();
    auto ctx = Ctx(testing::kAssessmentToken);
    grpc::Status st = stub_->AcknowledgeWarning(ctx.get(), no_note, &response);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    auto violations = BadRequestViolations(FromGrpcStatus(st));
    ASSERT_EQ(violations.size(), 1u);
    EXPECT_EQ(violations[0].field, "note");
  }
  {
    halfsky::v1::AcknowledgeWarningRequest unknown = request;
    unknown.set_warning_id("HEALTH-02:610303:progress:2025");
    auto ctx = Ctx(testing::kAssessmentToken);
    EXPECT_EQ(stub_->AcknowledgeWarning(ctx.get(), unknown, &response).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  {
    auto ctx = Ctx(testing::kAssessmentToken);
    grpc::Status st = stub_->AcknowledgeWarning(ctx.get(), request, &response);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(response.acknowledgement().by(), "alice");
  }

  StopService();
  StartService();
  std::vector<Warning> warnings = Firing("HEALTH-02");
  ASSERT_EQ(warnings.size(), 1u);
  ASSERT_TRUE(warnings[0].has_acknowledgement());
  EXPECT_EQ(warnings[0].acknowledgement().by(), "alice");
  EXPECT_EQ(warnings[0].acknowledgement().note(), "开展筛查专项行动");
}

// Towns (issue #12 item 10): a town warns only on data as complete as the
// district's, and on a target only where it is worse than the district.
TEST_F(EvaluationServiceTest, TownsWarnOnlyWhereCompleteAndWorseThanTheDistrict) {
  StopService();
  area_depth_ = 1;
  StartService();
  constexpr char kSubdistrict[] = "610303001";
  constexpr char kTown[] = "610303100";
  // HEALTH-02 (≥ 60 % by 2030): the district 50 → 50.5 (at risk, orange);
  // the subdistrict the same (orange: the district's warning says it); the
  // town 50 → 45 (moving away, red: worse than the district).
  ASSERT_TRUE(writer_
                  ->Write({FractionValue("HEALTH-02", 2020, 50, 100),
                           FractionValue("HEALTH-02", 2024, 50.5, 100),
                           FractionValue("HEALTH-02", 2020, 50, 100, kSubdistrict),
                           FractionValue("HEALTH-02", 2024, 50.5, 100, kSubdistrict),
                           FractionValue("HEALTH-02", 2020, 50, 100, kTown),
                           FractionValue("HEALTH-02", 2024, 45, 100, kTown)})
                  .ok());
  // EDU-01 (逐步提高): the district 10 → 11 by 2024 (on track); the town
  // falls 10 → 9 but has reported up to 2023 only: no town warning.
  ASSERT_TRUE(
      writer_
          ->Write({PlainValue("EDU-01", 2020, 10), PlainValue("EDU-01", 2024, 11),
                   PlainValue("EDU-01", 2020, 10, kTown), PlainValue("EDU-01", 2023, 9, kTown)})
          .ok());
  ASSERT_TRUE(evaluator_->EvaluateIndicator("HEALTH-02").ok());
  ASSERT_TRUE(evaluator_->EvaluateIndicator("EDU-01").ok());
  std::map<std::string, Warning> progress;
  for (const Warning& w : Firing("HEALTH-02")) {
    if (w.kind() == halfsky::v1::WARNING_KIND_PROGRESS) {
      progress[w.area_code()] = w;
    }
  }
  ASSERT_EQ(progress.count(kRoot), 1u);
  EXPECT_EQ(progress[kRoot].severity(), halfsky::v1::SEVERITY_ORANGE);
  ASSERT_EQ(progress.count(kTown), 1u);
  EXPECT_EQ(progress[kTown].id(), "HEALTH-02:610303100:progress:2030");
  EXPECT_EQ(progress[kTown].severity(), halfsky::v1::SEVERITY_RED);
  EXPECT_EQ(progress[kTown].status(), halfsky::v1::PROGRESS_STATUS_MOVING_AWAY);
  EXPECT_EQ(progress.count(kSubdistrict), 0u) << progress[kSubdistrict].explanation_zh();
  for (const Warning& w : Firing("EDU-01")) {
    EXPECT_NE(w.area_code(), kTown) << w.id() << ": " << w.explanation_zh();
  }
}

TEST_F(EvaluationServiceTest, ListWarningsRejectsUnknownFilterValues) {
  halfsky::v1::ListWarningsRequest request;
  request.set_indicator_id("NOPE-99");
  request.set_area_code("999");
  halfsky::v1::ListWarningsResponse response;
  auto ctx = Ctx();
  grpc::Status st = stub_->ListWarnings(ctx.get(), request, &response);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestViolations(FromGrpcStatus(st)).size(), 2u);
}

TEST_F(EvaluationServiceTest, EvaluateGivesEveryFigureAlsoWithoutWarning) {
  ASSERT_TRUE(writer_
                  ->Write({PlainValue("EDU-01", 2020, 10.0), PlainValue("EDU-01", 2021, 10.2),
                           PlainValue("EDU-01", 2022, 10.4), PlainValue("EDU-01", 2023, 10.6)})
                  .ok());
  halfsky::v1::EvaluateRequest request;
  request.set_indicator_id("EDU-01");
  halfsky::v1::EvaluateResponse response;
  auto ctx = Ctx();
  grpc::Status st = stub_->Evaluate(ctx.get(), request, &response);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(response.area_code(), kRoot);
  ASSERT_EQ(response.assessments_size(), 1);
  EXPECT_EQ(response.assessments(0).status(), halfsky::v1::PROGRESS_STATUS_ON_TRACK);
  EXPECT_EQ(response.assessments(0).figures().current_year(), 2023);
  EXPECT_TRUE(response.assessments(0).figures().has_actual_annual_rate());
  EXPECT_EQ(response.series_size(), 4);
  EXPECT_EQ(response.warnings_size(), 0);

  halfsky::v1::EvaluateRequest unknown;
  unknown.set_indicator_id("NOPE-1");
  auto ctx2 = Ctx();
  EXPECT_EQ(stub_->Evaluate(ctx2.get(), unknown, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// Issue "Evaluate leaves TargetAssessment.severity, warning_kind and
// explanation_en empty": through the real service, every assessed target
// carries its English sentence, and one that warns carries the severity and
// kind of the warning it raised (UNSPECIFIED only where nothing warns).
TEST_F(EvaluationServiceTest, EvaluateFillsSeverityKindAndEnglishOfEveryTarget) {
  WriteAtRiskScreening();
  ASSERT_TRUE(
      writer_->Write({PlainValue("EDU-01", 2020, 10.0), PlainValue("EDU-01", 2023, 10.6)}).ok());
  ASSERT_TRUE(evaluator_->EvaluateIndicator("HEALTH-02").ok());
  ASSERT_TRUE(evaluator_->EvaluateIndicator("EDU-01").ok());

  halfsky::v1::EvaluateRequest request;
  request.set_indicator_id("HEALTH-02");
  halfsky::v1::EvaluateResponse response;
  auto ctx = Ctx();
  grpc::Status st = stub_->Evaluate(ctx.get(), request, &response);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_GE(response.assessments_size(), 1);
  ASSERT_EQ(response.warnings_size(), 1);
  const Warning& w = response.warnings(0);
  int warned = 0;
  for (const auto& a : response.assessments()) {
    EXPECT_FALSE(a.explanation_zh().empty());
    EXPECT_FALSE(a.explanation_en().empty()) << a.explanation_zh();
    if (a.status() == halfsky::v1::PROGRESS_STATUS_AT_RISK) {
      ++warned;
      EXPECT_EQ(a.severity(), halfsky::v1::SEVERITY_ORANGE);
      EXPECT_EQ(a.warning_kind(), halfsky::v1::WARNING_KIND_PROGRESS);
      EXPECT_EQ(a.severity(), w.severity());
      EXPECT_EQ(a.warning_kind(), w.kind());
      EXPECT_EQ(a.explanation_en(), w.explanation_en());
    }
  }
  EXPECT_EQ(warned, 1);

  halfsky::v1::EvaluateRequest on_track;
  on_track.set_indicator_id("EDU-01");
  auto ctx2 = Ctx();
  st = stub_->Evaluate(ctx2.get(), on_track, &response);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(response.assessments_size(), 1);
  EXPECT_EQ(response.assessments(0).status(), halfsky::v1::PROGRESS_STATUS_ON_TRACK);
  EXPECT_FALSE(response.assessments(0).explanation_en().empty());
  EXPECT_EQ(response.assessments(0).severity(), halfsky::v1::SEVERITY_UNSPECIFIED);
  EXPECT_EQ(response.warnings_size(), 0);
}

TEST_F(EvaluationServiceTest, MidtermReportCountsStatusesPerDomain) {
  WriteAtRiskScreening();
  ASSERT_TRUE(
      writer_->Write({PlainValue("EDU-01", 2020, 10.0), PlainValue("EDU-01", 2023, 10.6)}).ok());
  ASSERT_TRUE(evaluator_->FullPass().ok());
  halfsky::v1::GetEvaluationReportRequest request;
  request.set_type(halfsky::v1::REPORT_TYPE_MIDTERM);
  halfsky::v1::EvaluationReport report;
  auto ctx = Ctx();
  grpc::Status st = stub_->GetEvaluationReport(ctx.get(), request, &report);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(report.year(), 2025);
  ASSERT_EQ(report.domains_size(), 2);
  // HEALTH: HEALTH-01 no data (数据不足), HEALTH-02 at risk → 0 of 1 assessed.
  const auto& health = report.domains(0);
  EXPECT_EQ(health.domain_id(), "HEALTH");
  EXPECT_EQ(health.assessed_count(), 1);
  EXPECT_EQ(health.achieved_count(), 0);
  // EDU: EDU-01 rising → on track, counted as 达标 at mid-term.
  const auto& edu = report.domains(1);
  EXPECT_EQ(edu.assessed_count(), 1);
  EXPECT_EQ(edu.achieved_count(), 1);
  EXPECT_DOUBLE_EQ(edu.achievement_rate_percent(), 100);
  EXPECT_EQ(report.overall().assessed_count(), 2);
  EXPECT_DOUBLE_EQ(report.overall().achievement_rate_percent(), 50);
  ASSERT_EQ(report.warnings_size(), 1);
  EXPECT_EQ(report.warnings(0).indicator_id(), "HEALTH-02");

  halfsky::v1::GetEvaluationReportRequest bad;
  auto ctx2 = Ctx();
  EXPECT_EQ(stub_->GetEvaluationReport(ctx2.get(), bad, &report).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace halfsky::evaluation
