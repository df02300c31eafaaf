// ListWarnings requests/s against bare echo servers under the SAME load
// generator, in the same run.
//
// One load generator for every target: N client threads, each with its own
// channel, sending the same serialized ListWarningsRequest (with a bearer
// token) through grpc::GenericStub to a method name, for a fixed duration.
// Targets:
//   common  one RunningServer (common/server: metrics interceptor, health,
//           reflection, CatalogService) hosting BOTH
//             /halfsky.v1.EvaluationService/ListWarnings  the real service,
//                 engine preloaded with W firing warnings, authenticating
//                 every call;
//             /bench.Echo/Canned  a raw callback method answering with a
//                 canned buffer of exactly the ListWarnings response size;
//             /bench.Echo/Echo    the same, echoing the small request.
//   plain   a bare CallbackGenericService on a plain grpc::ServerBuilder
//           (no interceptor) with the same Canned and Echo methods.
// "ListWarnings / common canned" is the fair ratio (same bootstrap, same
// bytes on the wire: what the service itself costs); "ListWarnings / plain
// canned" also charges the service for the common bootstrap.
// Targets are interleaved round by round so machine noise hits all alike;
// the per-round ratios and their medians are printed.
//
// Usage: evaluation_list_warnings_bench [--threads=8] [--seconds=3]
//        [--rounds=5] [--warnings=40] [--page_size=20]
//        [--list_cache=256] [--auth_cache=1]
// --list_cache=0 / --auth_cache=0 switch the service's response cache and
// the authenticator's cache off (the load generator repeats one request, so
// with the cache on every call after the first is a hit).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "common/clock/clock.h"
#include "common/server/server.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "services/evaluation/service/evaluation_service.h"
#include "services/evaluation/service/evaluator.h"
#include "services/evaluation/service/warning_engine.h"
#include "services/evaluation/service/warning_store.h"
#include "tests/bench/common/bench_util.h"
#include "tests/evaluation/service_test_util.h"
#include "tests/support/process.h"

namespace {

using halfsky::bench::BareEchoService;
using halfsky::bench::EchoService;
using halfsky::bench::Median;
using halfsky::bench::ToBuffer;
using halfsky::evaluation::WarningEngine;
using halfsky::evaluation::WarningStore;

double Run(const std::string& address, const std::string& method, const std::string& payload,
           int threads, int seconds) {
  std::atomic<int64_t> done{0};
  std::atomic<bool> stop{false};
  std::atomic<int64_t> failed{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      grpc::ChannelArguments args;
      args.SetInt("grpc.channel_id", t);  // one connection per thread
      auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
      grpc::GenericStub stub(channel);
      const grpc::ByteBuffer request = ToBuffer(payload);
      while (!stop.load(std::memory_order_relaxed)) {
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization",
                        std::string("Bearer ") + halfsky::evaluation::testing::kUnitToken);
        grpc::ByteBuffer response;
        std::mutex mu;
        std::condition_variable cv;
        bool finished = false;
        grpc::Status status;
        stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
          std::lock_guard<std::mutex> lock(mu);
          status = std::move(s);
          finished = true;
          cv.notify_one();
        });
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return finished; });
        if (status.ok()) {
          done.fetch_add(1, std::memory_order_relaxed);
        } else {
          failed.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  // Warm-up of 0.5 s is included in the first second; measure the window.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int64_t start_count = done.load();
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const int64_t end_count = done.load();
  const auto end = std::chrono::steady_clock::now();
  stop = true;
  for (auto& w : workers) {
    w.join();
  }
  if (failed.load() > 0) {
    std::fprintf(stderr, "%s: %lld failed calls\n", method.c_str(),
                 static_cast<long long>(failed.load()));
  }
  return (end_count - start_count) / std::chrono::duration<double>(end - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = halfsky::bench::IntFlag(argc, argv, "threads", 8);
  const int seconds = halfsky::bench::IntFlag(argc, argv, "seconds", 3);
  const int rounds = halfsky::bench::IntFlag(argc, argv, "rounds", 5);
  const int n_warnings = halfsky::bench::IntFlag(argc, argv, "warnings", 40);
  const int page_size = halfsky::bench::IntFlag(argc, argv, "page_size", 20);

  auto catalog = halfsky::evaluation::testing::TestCatalog();
  halfsky::FakeClock clock(absl::Now());
  auto store =
      WarningStore::Open(halfsky::testing::MakeTempDir("evaluation-bench") + "/evaluation.db");
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  auto engine = WarningEngine::Create(store->get(), &clock);
  // W firing warnings with realistic text and figures.
  std::vector<halfsky::v1::Warning> candidates;
  const char* indicators[] = {"HEALTH-01", "HEALTH-02", "EDU-01"};
  for (int i = 0; i < n_warnings; ++i) {
    halfsky::v1::Warning w;
    w.set_indicator_id(indicators[i % 3]);
    w.set_area_code("610303");
    w.set_kind(halfsky::v1::WARNING_KIND_PROGRESS);
    w.set_target_year(1000 + i);  // distinct identities
    w.set_severity(static_cast<halfsky::v1::Severity>(1 + i % 3));
    w.set_status(halfsky::v1::PROGRESS_STATUS_AT_RISK);
    w.set_domain_id(i % 3 == 2 ? "EDU" : "HEALTH");
    w.set_indicator_name_zh("孕产妇死亡率");
    w.add_responsible_unit_codes("HEALTH_BUREAU");
    w.set_explanation_zh(
        "孕产妇死亡率2024年为14.3/10万，按2020—2024年年均下降4.1%的速度，2030年预计为11.1/"
        "10万，达不到≤10.15/10万的目标，今后每年需下降5.6%。");
    auto* f = w.mutable_figures();
    f->set_base_year(2020);
    f->set_base_value(16.9);
    f->set_current_year(2024);
    f->set_current_value(14.3);
    f->set_target_year(2030);
    f->set_target_value(10.15);
    f->set_projected_value(11.1);
    f->set_required_annual_rate(-0.056);
    f->set_actual_annual_rate(-0.041);
    f->set_progress(0.58);
    candidates.push_back(std::move(w));
  }
  if (!(*engine)->Reconcile([](const halfsky::v1::Warning&) { return true; }, candidates).ok()) {
    return 1;
  }
  halfsky::evaluation::Evaluator evaluator(catalog, nullptr, nullptr, engine->get(), &clock, {});
  halfsky::auth::AuthenticatorOptions auth_options;
  if (halfsky::bench::IntFlag(argc, argv, "auth_cache", 1) == 0) {
    auth_options.cache_entries = 0;
  }
  auto authenticator = halfsky::evaluation::testing::TestAuthenticator(auth_options);
  halfsky::EvaluationServiceOptions service_options;
  service_options.list_cache_entries =
      static_cast<size_t>(halfsky::bench::IntFlag(argc, argv, "list_cache", 256));
  halfsky::EvaluationServiceImpl service(catalog, engine->get(), &evaluator,
                                         authenticator->AsFunction(), service_options);
  halfsky::v1::ListWarningsRequest request;
  request.set_page_size(page_size);
  auto listed = (*engine)->List(request);
  const std::string canned = listed->SerializeAsString();
  const std::string payload = request.SerializeAsString();

  halfsky::ServerOptions options;
  options.name = "bench";
  options.drain_delay = absl::ZeroDuration();
  EchoService echo(canned);
  auto common_server = halfsky::RunningServer::Start(options, catalog, {&service, &echo});
  if (!common_server.ok()) {
    std::fprintf(stderr, "%s\n", common_server.status().ToString().c_str());
    return 1;
  }
  const std::string common_address = (*common_server)->address();
  // The plain server: a generic handler on a plain ServerBuilder.
  BareEchoService bare(canned);
  grpc::ServerBuilder builder;
  int bare_port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &bare_port);
  builder.RegisterCallbackGenericService(&bare);
  std::unique_ptr<grpc::Server> bare_server = builder.BuildAndStart();
  const std::string bare_address = "127.0.0.1:" + std::to_string(bare_port);

  std::printf(
      "threads=%d seconds=%d rounds=%d warnings=%d page_size=%d response_bytes=%zu "
      "list_cache=%zu auth_cache=%zu\n",
      threads, seconds, rounds, n_warnings, page_size, canned.size(),
      service_options.list_cache_entries, auth_options.cache_entries);
  struct Target {
    const char* label;
    std::string address;
    std::string method;
    std::vector<double> rps;
  };
  std::vector<Target> targets = {
      {"ListWarnings", common_address, "/halfsky.v1.EvaluationService/ListWarnings", {}},
      {"common canned", common_address, "/bench.Echo/Canned", {}},
      {"common echo", common_address, "/bench.Echo/Echo", {}},
      {"plain canned", bare_address, "/bench.Echo/Canned", {}},
      {"plain echo", bare_address, "/bench.Echo/Echo", {}},
  };
  std::vector<double> fair, strict, fair_echo, strict_echo;
  std::printf("%-6s %12s %12s %12s %12s %12s | %8s %8s\n", "round", "ListWarnings", "common-canned",
              "common-echo", "plain-canned", "plain-echo", "/common", "/plain");
  for (int round = 0; round < rounds; ++round) {
    for (Target& t : targets) {
      t.rps.push_back(Run(t.address, t.method, payload, threads, seconds));
    }
    const double list = targets[0].rps.back();
    fair.push_back(list / targets[1].rps.back());
    fair_echo.push_back(list / targets[2].rps.back());
    strict.push_back(list / targets[3].rps.back());
    strict_echo.push_back(list / targets[4].rps.back());
    std::printf("%-6d %12.0f %12.0f %12.0f %12.0f %12.0f | %8.2f %8.2f\n", round + 1, list,
                targets[1].rps.back(), targets[2].rps.back(), targets[3].rps.back(),
                targets[4].rps.back(), fair.back(), strict.back());
    std::fflush(stdout);
  }
  std::printf("median %12.0f %12.0f %12.0f %12.0f %12.0f\n", Median(targets[0].rps),
              Median(targets[1].rps), Median(targets[2].rps), Median(targets[3].rps),
              Median(targets[4].rps));
  std::printf(
      "median ratio ListWarnings / common canned  %.2f  (fair: same bootstrap, same bytes; goal >= "
      "0.70)\n",
      Median(fair));
  std::printf("median ratio ListWarnings / common echo    %.2f\n", Median(fair_echo));
  std::printf(
      "median ratio ListWarnings / plain canned   %.2f  (also charges the common bootstrap)\n",
      Median(strict));
  std::printf("median ratio ListWarnings / plain echo     %.2f\n", Median(strict_echo));
  bare_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  (*common_server)->Shutdown();
  return 0;
}
