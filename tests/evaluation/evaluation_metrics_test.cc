// The real halfsky-evaluation binary's /metrics (scraped over HTTP with
// tests/support/process.h HttpGet): firing warnings by severity and kind,
// pass durations, the last full pass, series source fallbacks and misses,
// watchers. Real parts: the binary, redis-server (empty, so the cache
// misses and every read falls back), SQLite. In-process stand-ins serve the
// two upstream RPCs the binary calls: AggregationService.GetSeries (the
// at-risk HEALTH-02 screening series) and SubmissionService.GetReportingStatus
// (nothing missing).
#include <signal.h>

#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth/credentials.h"
#include "common/server/server.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/aggregation.grpc.pb.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "tests/evaluation/service_test_util.h"
#include "tests/support/process.h"

namespace halfsky::evaluation {
namespace {

class StubAggregation final : public halfsky::v1::AggregationService::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetSeries(grpc::CallbackServerContext* ctx,
                                      const halfsky::v1::GetSeriesRequest* request,
                                      halfsky::v1::GetSeriesResponse* response) override {
    response->set_indicator_id(request->indicator_id());
    response->set_area_code(request->area_code());
    response->set_as_of_sequence(3);
    if (request->indicator_id() == "HEALTH-02" && request->sex() == halfsky::v1::SEX_TOTAL &&
        request->residence() == halfsky::v1::RESIDENCE_ALL) {
      // 50 % in 2020, 50.5 % in 2024, target ≥ 60 %: 预计达标困难 (orange).
      for (auto [year, value] : {std::pair{2020, 50.0}, std::pair{2024, 50.5}}) {
        halfsky::v1::SeriesPoint* p = response->add_points();
        p->set_year(year);
        p->set_value(value);
        p->set_numerator(value);
        p->set_denominator(100);
      }
    }
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

class StubSubmission final : public halfsky::v1::SubmissionService::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetReportingStatus(grpc::CallbackServerContext* ctx,
                                               const halfsky::v1::GetReportingStatusRequest*,
                                               halfsky::v1::GetReportingStatusResponse*) override {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

// "name{labels} value" lines of a Prometheus text body → value.
std::map<std::string, double> ParseMetrics(const std::string& http_response) {
  std::map<std::string, double> out;
  const size_t body = http_response.find("\r\n\r\n");
  for (absl::string_view line : absl::StrSplit(
           body == std::string::npos ? http_response : http_response.substr(body + 4), '\n')) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    const size_t space = line.rfind(' ');
    double value = 0;
    if (space != absl::string_view::npos && absl::SimpleAtod(line.substr(space + 1), &value)) {
      out[std::string(line.substr(0, space))] = value;
    }
  }
  return out;
}

class EvaluationMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string binary =
        absl::StrCat(HALFSKY_BINARY_DIR, "/services/evaluation/service/halfsky-evaluation");
    ASSERT_TRUE(std::ifstream(binary).good()) << binary << " is not built";
    dir_ = halfsky::testing::MakeTempDir("evaluation-metrics");
    auto redis = halfsky::testing::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = std::move(*redis);
    catalog_ = testing::TestCatalog();
    ServerOptions options;
    options.name = "stub-upstreams";
    options.drain_delay = absl::ZeroDuration();
    auto upstreams = RunningServer::Start(options, catalog_, {&aggregation_, &submission_});
    ASSERT_TRUE(upstreams.ok()) << upstreams.status();
    upstreams_ = std::move(*upstreams);
    {
      std::ofstream tokens(dir_ + "/tokens.txt");
      tokens << testing::TokenFileContent();
    }
    const std::string address_file = dir_ + "/evaluation.addr";
    log_ = dir_ + "/evaluation.log";
    auto child = halfsky::testing::ChildProcess::Start(
        {binary, "--listen=127.0.0.1:0", "--metrics_listen=127.0.0.1:0",
         "--address_file=" + address_file, "--catalog=" + testing::TestCatalogPath(),
         "--tokens_file=" + dir_ + "/tokens.txt", "--drain_delay=0s", "--grace_period=3s",
         "--db=" + dir_ + "/evaluation.db", "--redis=" + redis_->address(),
         "--aggregation=" + upstreams_->address(), "--submission=" + upstreams_->address(),
         "--reevaluate_interval=1h"},
        log_);
    ASSERT_TRUE(child.ok()) << child.status();
    process_ = std::move(*child);
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    std::string text;
    while (absl::Now() < deadline && process_->Running()) {
      text = halfsky::testing::ReadFile(address_file);
      if (absl::StrContains(text, "\n")) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    for (absl::string_view field : absl::StrSplit(absl::StripTrailingAsciiWhitespace(text), ' ')) {
      if (absl::ConsumePrefix(&field, "grpc=")) {
        grpc_address_ = std::string(field);
      } else if (absl::ConsumePrefix(&field, "metrics=")) {
        const size_t colon = field.rfind(':');
        ASSERT_TRUE(absl::SimpleAtoi(field.substr(colon + 1), &metrics_port_)) << text;
      }
    }
    ASSERT_FALSE(grpc_address_.empty()) << "did not start; log:\n"
                                        << halfsky::testing::ReadFile(log_);
    ASSERT_NE(metrics_port_, 0) << text;
  }

  void TearDown() override {
    if (process_ != nullptr) {
      process_->Signal(SIGTERM);
      auto status = process_->Wait(absl::Seconds(15));
      EXPECT_TRUE(status.ok()) << "did not exit after SIGTERM";
    }
  }

  std::map<std::string, double> Scrape() {
    auto response = halfsky::testing::HttpGet(metrics_port_, "/metrics");
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? ParseMetrics(*response) : std::map<std::string, double>{};
  }

  // Scrapes until `name` is present and satisfies `pred` (20 s at most).
  std::map<std::string, double> ScrapeUntil(const std::string& name,
                                            const std::function<bool(double)>& pred) {
    std::map<std::string, double> m;
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      m = Scrape();
      auto it = m.find(name);
      if (it != m.end() && pred(it->second)) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    return m;
  }

  // Scrapes until three scrapes 100 ms apart agree on every metric in
  // `names` (20 s at most): the passes that start-up triggers (the first
  // one, and another when the Redis subscription comes up) have finished,
  // so the counters can be compared with each other.
  std::map<std::string, double> ScrapeQuiescent(const std::vector<std::string>& names) {
    std::map<std::string, double> previous = Scrape();
    int stable = 0;
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline && stable < 2) {
      absl::SleepFor(absl::Milliseconds(100));
      std::map<std::string, double> m = Scrape();
      bool same = true;
      for (const std::string& name : names) {
        same = same && m.count(name) > 0 && previous.count(name) > 0 && m[name] == previous[name];
      }
      stable = same ? stable + 1 : 0;
      previous = std::move(m);
    }
    return previous;
  }

  std::string dir_;
  std::string log_;
  std::unique_ptr<halfsky::testing::RedisServer> redis_;
  std::shared_ptr<const CatalogIndex> catalog_;
  StubAggregation aggregation_;
  StubSubmission submission_;
  std::unique_ptr<RunningServer> upstreams_;
  std::unique_ptr<halfsky::testing::ChildProcess> process_;
  std::string grpc_address_;
  int metrics_port_ = 0;
};

TEST_F(EvaluationMetricsTest, MetricsEndpointShowsWarningsPassesSourcesAndWatchers) {
  // The start-up full pass: every read misses Redis (empty) and falls back.
  const double start = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  std::map<std::string, double> m = ScrapeUntil(
      "halfsky_evaluation_last_full_pass_timestamp_seconds", [](double v) { return v > 0; });
  ASSERT_GT(m["halfsky_evaluation_last_full_pass_timestamp_seconds"], 0)
      << "no successful full pass; log:\n"
      << halfsky::testing::ReadFile(log_);
  EXPECT_GE(m["halfsky_evaluation_last_full_pass_timestamp_seconds"], start - 60);
  m = ScrapeQuiescent(
      {"halfsky_evaluation_series_reads_total{result=\"unavailable\",source=\"redis\"}",
       "halfsky_evaluation_series_fallbacks_total",
       "halfsky_evaluation_series_reads_total{result=\"ok\",source=\"aggregation\"}",
       "halfsky_evaluation_passes_total{pass=\"full\",result=\"ok\"}"});

  EXPECT_EQ(m["halfsky_evaluation_firing_warnings{kind=\"progress\",severity=\"orange\"}"], 1);
  EXPECT_EQ(m["halfsky_evaluation_firing_warnings{kind=\"progress\",severity=\"red\"}"], 0);
  EXPECT_TRUE(m.count("halfsky_evaluation_firing_warnings{kind=\"late_data\",severity=\"yellow\"}"))
      << "every (severity, kind) is exported, zeros included";
  EXPECT_GE(m["halfsky_evaluation_passes_total{pass=\"full\",result=\"ok\"}"], 1);
  EXPECT_GE(m["halfsky_evaluation_pass_seconds_count{pass=\"full\"}"], 1);
  EXPECT_GT(m["halfsky_evaluation_pass_seconds_sum{pass=\"full\"}"], 0);
  EXPECT_TRUE(m.count("halfsky_evaluation_pass_seconds_bucket{pass=\"full\",le=\"+Inf\"}"));
  const double misses =
      m["halfsky_evaluation_series_reads_total{result=\"unavailable\",source=\"redis\"}"];
  EXPECT_GE(misses, 1) << "the empty cache misses";
  EXPECT_EQ(m["halfsky_evaluation_series_reads_total{result=\"ok\",source=\"redis\"}"], 0);
  EXPECT_EQ(m["halfsky_evaluation_series_fallbacks_total"], misses)
      << "every miss went to the aggregation service";
  EXPECT_EQ(m["halfsky_evaluation_series_reads_total{result=\"ok\",source=\"aggregation\"}"],
            misses);
  EXPECT_EQ(m["halfsky_evaluation_watchers"], 0);

  // A watcher shows up, and goes away.
  auto stub = halfsky::v1::EvaluationService::NewStub(
      grpc::CreateChannel(grpc_address_, grpc::InsecureChannelCredentials()));
  {
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, testing::kAssessmentToken);
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    auto reader = stub->WatchWarnings(&ctx, halfsky::v1::WatchWarningsRequest());
    halfsky::v1::WarningEvent event;
    ASSERT_TRUE(reader->Read(&event));
    EXPECT_EQ(event.warning().id(), "HEALTH-02:610303:progress:2030");
    m = ScrapeUntil("halfsky_evaluation_watchers", [](double v) { return v == 1; });
    EXPECT_EQ(m["halfsky_evaluation_watchers"], 1);
    ctx.TryCancel();
    reader->Finish();
  }
  m = ScrapeUntil("halfsky_evaluation_watchers", [](double v) { return v == 0; });
  EXPECT_EQ(m["halfsky_evaluation_watchers"], 0);

  // The bootstrap's per-RPC metrics are on the same endpoint.
  grpc::ClientContext ctx;
  auth::AddBearerToken(&ctx, testing::kUnitToken);
  halfsky::v1::ListWarningsResponse listed;
  ASSERT_TRUE(stub->ListWarnings(&ctx, halfsky::v1::ListWarningsRequest(), &listed).ok());
  EXPECT_EQ(listed.total_count(), 1);
  m = Scrape();
  EXPECT_GE(m["halfsky_grpc_server_handled_total{code=\"0\",method=\"/halfsky.v1."
              "EvaluationService/ListWarnings\"}"],
            1);
}

}  // namespace
}  // namespace halfsky::evaluation
