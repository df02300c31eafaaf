// Soak: the whole chain under a steady mixed load for minutes, to show that
// latency stays flat and memory does not creep (issue #13, "Also").
//
// Real binaries on loopback: redis-server, halfsky-submission,
// halfsky-aggregation, halfsky-evaluation (tests/support/suite.h), with
// authentication on. The mix, per operation:
//   submit  SubmitBatch of one HEALTH-02 figure (a unit's token): a new
//           revision every time, so aggregation and evaluation keep working;
//   list    ListWarnings (the assessment group's token);
//   report  GetEvaluationReport, annual;
//   series  ListDataValues of the unit's own values;
// plus --watchers WatchWarnings streams open for the whole run.
//
// Phase 1 (peak): --threads closed-loop clients for --peak_seconds; the
// mixed rate they reach is the peak. Phase 2 (soak): open loop at
// --load_fraction (0.5) of that peak for --seconds (300), in windows of
// --window_seconds (30). Each window prints p50/p99 per operation, the RSS
// of every server process, and the generator's own CPU use (to show it is
// not the bottleneck: it must stay well under one core). The summary gives
// the ratio of the worst window's p99 to the first window's, and the RSS
// growth from the end of the first window to the end.
//
// Usage: soak_bench [--seconds=300] [--window_seconds=30] [--threads=8]
//                   [--peak_seconds=20] [--load_fraction=0.5] [--watchers=4]
//                   [--sqlite_cache_mib=N]  (the submission service's page
//                   cache; small, it is full before the soak starts, so
//                   what grows after that is not the cache filling)
// Prints figures; asserts nothing about speed.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth/credentials.h"
#include "common/auth/token_store.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "tests/bench/common/bench_util.h"
#include "tests/evaluation/service_test_util.h"
#include "tests/support/suite.h"

namespace {

namespace et = halfsky::evaluation::testing;
namespace v1 = halfsky::v1;

constexpr char kServiceToken[] = "soak-service-token";
enum Op { kSubmit, kList, kReport, kSeries, kOpCount };
const char* const kOpNames[kOpCount] = {"submit", "list", "report", "series"};

// Latencies (ms) of one window, per operation; errors counted apart.
struct Window {
  std::mutex mu;
  std::vector<double> ms[kOpCount];
  int errors[kOpCount] = {};
  void Add(Op op, double value, bool ok) {
    std::lock_guard<std::mutex> lock(mu);
    if (ok) {
      ms[op].push_back(value);
    } else {
      ++errors[op];
    }
  }
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// VmRSS of `pid` in KiB (0 if unreadable).
long RssKib(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::atol(line.c_str() + 6);
    }
  }
  return 0;
}

double SelfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

class Clients {
 public:
  Clients(const std::string& submission, const std::string& evaluation)
      : submission_(v1::SubmissionService::NewStub(
            grpc::CreateChannel(submission, grpc::InsecureChannelCredentials()))),
        evaluation_(v1::EvaluationService::NewStub(
            grpc::CreateChannel(evaluation, grpc::InsecureChannelCredentials()))) {}

  // Runs `op` once; true when it answered OK.
  bool Run(Op op, std::mt19937* rng) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    switch (op) {
      case kSubmit: {
        halfsky::auth::AddBearerToken(&ctx, et::kUnitToken);
        v1::SubmitBatchRequest request;
        request.set_request_id(absl::StrCat("soak-", (*rng)(), "-", (*rng)()));
        const int year = 2021 + static_cast<int>((*rng)() % 4);
        const double pct = 48.0 + static_cast<double>((*rng)() % 800) / 100.0;
        *request.add_data_values() = et::FractionValue("HEALTH-02", year, pct * 10, 1000);
        v1::SubmitBatchResponse response;
        return submission_->SubmitBatch(&ctx, request, &response).ok();
      }
      case kList: {
        halfsky::auth::AddBearerToken(&ctx, et::kAssessmentToken);
        v1::ListWarningsRequest request;
        v1::ListWarningsResponse response;
        return evaluation_->ListWarnings(&ctx, request, &response).ok();
      }
      case kReport: {
        halfsky::auth::AddBearerToken(&ctx, et::kAssessmentToken);
        v1::GetEvaluationReportRequest request;
        request.set_type(v1::REPORT_TYPE_ANNUAL);
        request.set_year(2024);
        v1::EvaluationReport response;
        return evaluation_->GetEvaluationReport(&ctx, request, &response).ok();
      }
      case kSeries: {
        halfsky::auth::AddBearerToken(&ctx, et::kUnitToken);
        v1::ListDataValuesRequest request;
        request.add_indicator_ids("HEALTH-02");
        v1::ListDataValuesResponse response;
        return submission_->ListDataValues(&ctx, request, &response).ok();
      }
      default:
        return false;
    }
  }

  v1::EvaluationService::Stub* evaluation() { return evaluation_.get(); }

 private:
  std::unique_ptr<v1::SubmissionService::Stub> submission_;
  std::unique_ptr<v1::EvaluationService::Stub> evaluation_;
};

// The mix: 4 submits, 3 lists, 1 report, 2 series in every 10 operations.
Op MixOp(uint64_t n) {
  static const Op kMix[10] = {kSubmit, kList,   kSeries, kSubmit, kList,
                              kReport, kSubmit, kSeries, kList,   kSubmit};
  return kMix[n % 10];
}

}  // namespace

int main(int argc, char** argv) {
  using halfsky::bench::DoubleFlag;
  using halfsky::bench::IntFlag;
  const int seconds = IntFlag(argc, argv, "seconds", 300);
  const int window_seconds = IntFlag(argc, argv, "window_seconds", 30);
  const int threads = IntFlag(argc, argv, "threads", 8);
  const int peak_seconds = IntFlag(argc, argv, "peak_seconds", 20);
  const double load_fraction = DoubleFlag(argc, argv, "load_fraction", 0.5);
  const int watchers = IntFlag(argc, argv, "watchers", 4);
  // The submission service's page cache bound (its --sqlite_cache_mib);
  // 0 = the service's default (64 MiB).
  const int sqlite_cache_mib = IntFlag(argc, argv, "sqlite_cache_mib", 0);

  halfsky::testing::SuiteOptions options;
  options.catalog = et::TestCatalogPath();
  options.tokens = absl::StrCat(et::TokenFileContent(), halfsky::auth::HashToken(kServiceToken),
                                " halfsky-services service\n");
  options.service_token = kServiceToken;
  // One unit token carries the whole generated load (hundreds of calls a
  // second): the per-principal rate limit (--rate_limit_per_second, 50/s by
  // default) would measure admission, not the chain.
  for (auto* flags :
       {&options.submission_flags, &options.aggregation_flags, &options.evaluation_flags}) {
    flags->push_back("--rate_limit_per_second=0");
  }
  if (sqlite_cache_mib > 0) {
    options.submission_flags.push_back(absl::StrCat("--sqlite_cache_mib=", sqlite_cache_mib));
  }
  auto suite_or = halfsky::testing::Suite::Start(options);
  if (!suite_or.ok()) {
    std::fprintf(stderr, "soak_bench: %s\n", suite_or.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<halfsky::testing::Suite> suite = std::move(*suite_or);
  Clients clients(suite->submission().address(), suite->evaluation().address());

  // Long-lived watchers, reading until the end.
  std::atomic<bool> stop{false};
  std::atomic<long> watch_events{0};
  std::vector<std::unique_ptr<grpc::ClientContext>> watch_ctx;
  std::vector<std::thread> watch_threads;
  for (int i = 0; i < watchers; ++i) {
    watch_ctx.push_back(std::make_unique<grpc::ClientContext>());
    halfsky::auth::AddBearerToken(watch_ctx.back().get(), et::kAssessmentToken);
    grpc::ClientContext* ctx = watch_ctx.back().get();
    watch_threads.emplace_back([&clients, ctx, &watch_events] {
      auto reader = clients.evaluation()->WatchWarnings(ctx, v1::WatchWarningsRequest());
      v1::WarningEvent event;
      while (reader->Read(&event)) {
        watch_events.fetch_add(1);
      }
      (void)reader->Finish();
    });
  }

  // Phase 1: the peak, closed loop.
  std::atomic<long> peak_ops{0};
  {
    const absl::Time end = absl::Now() + absl::Seconds(peak_seconds);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        std::mt19937 rng(t + 1);
        for (uint64_t n = t; absl::Now() < end; n += threads) {
          clients.Run(MixOp(n), &rng);
          peak_ops.fetch_add(1);
        }
      });
    }
    for (auto& th : pool) {
      th.join();
    }
  }
  const double peak_rate = static_cast<double>(peak_ops.load()) / peak_seconds;
  const double rate = peak_rate * load_fraction;
  std::printf(
      "soak_bench: peak mixed rate %.0f ops/s (%d closed-loop clients, %d s); soak at "
      "%.0f ops/s (%.0f%%) for %d s, windows of %d s, %d watchers\n",
      peak_rate, threads, peak_seconds, rate, load_fraction * 100, seconds, window_seconds,
      watchers);
  std::printf("%6s %9s %9s %9s %9s %9s %9s %9s %9s %7s %8s %8s %8s %8s %8s %6s\n", "window",
              "submit50", "submit99", "list50", "list99", "report50", "report99", "series50",
              "series99", "errors", "sub_MiB", "agg_MiB", "eval_MiB", "redisMiB", "subDbMiB",
              "genCPU");

  // Phase 2: open loop at `rate`, `threads` senders sharing the schedule.
  const pid_t pids[4] = {suite->submission().pid(), suite->aggregation().pid(),
                         suite->evaluation().pid(), suite->redis().pid()};
  const int windows = std::max(1, seconds / window_seconds);
  const absl::Duration interval = absl::Seconds(1) / std::max(rate, 1.0);
  const absl::Time start = absl::Now();
  std::atomic<uint64_t> next{0};
  std::atomic<long> late{0};
  std::vector<std::unique_ptr<Window>> stats;
  for (int w = 0; w < windows; ++w) {
    stats.push_back(std::make_unique<Window>());
  }
  const absl::Time end = start + absl::Seconds(windows * window_seconds);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::mt19937 rng(1000 + t);
      for (;;) {
        const uint64_t n = next.fetch_add(1);
        const absl::Time due = start + interval * static_cast<double>(n);
        if (due >= end) {
          return;
        }
        if (absl::Now() < due) {
          absl::SleepFor(due - absl::Now());
        } else if (absl::Now() - due > absl::Milliseconds(100)) {
          late.fetch_add(1);  // the generator fell behind its schedule
        }
        const Op op = MixOp(n);
        // Latency from the scheduled start (no coordinated omission).
        const bool ok = clients.Run(op, &rng);
        const double ms = absl::ToDoubleMilliseconds(absl::Now() - due);
        const int w =
            std::min(windows - 1, static_cast<int>((due - start) / absl::Seconds(window_seconds)));
        stats[w]->Add(op, ms, ok);
      }
    });
  }
  std::vector<double> p99_all;  // worst p99 of each window over the operations
  std::vector<long> rss_total;
  double cpu_before = SelfCpuSeconds();
  for (int w = 0; w < windows; ++w) {
    absl::SleepFor(start + absl::Seconds((w + 1) * window_seconds) + absl::Milliseconds(500) -
                   absl::Now());
    const double cpu_after = SelfCpuSeconds();
    Window& s = *stats[w];
    std::lock_guard<std::mutex> lock(s.mu);
    double worst = 0;
    std::string row = absl::StrCat(w + 1);
    std::printf("%6d", w + 1);
    int errors = 0;
    for (int op = 0; op < kOpCount; ++op) {
      const double p50 = Percentile(s.ms[op], 0.50);
      const double p99 = Percentile(s.ms[op], 0.99);
      worst = std::max(worst, p99);
      errors += s.errors[op];
      std::printf(" %9.2f %9.2f", p50, p99);
    }
    long rss_sum = 0;
    std::printf(" %7d", errors);
    for (pid_t pid : pids) {
      const long kib = RssKib(pid);
      rss_sum += kib;
      std::printf(" %8.1f", static_cast<double>(kib) / 1024);
    }
    // The submission database (and its WAL): an append-only file whose
    // pages SQLite's page cache (cache_size, 64 MiB) holds as it grows.
    auto size_of = [](const std::string& path) -> uintmax_t {
      std::error_code ec;
      const uintmax_t n = std::filesystem::file_size(path, ec);
      return ec ? 0 : n;
    };
    const uintmax_t db_bytes =
        size_of(suite->dir() + "/submission.db") + size_of(suite->dir() + "/submission.db-wal");
    std::printf(" %8.1f", static_cast<double>(db_bytes) / (1024 * 1024));
    std::printf(" %5.0f%%\n", (cpu_after - cpu_before) / window_seconds * 100);
    std::fflush(stdout);
    cpu_before = cpu_after;
    p99_all.push_back(worst);
    rss_total.push_back(rss_sum);
  }
  for (auto& th : pool) {
    th.join();
  }
  stop = true;
  for (auto& ctx : watch_ctx) {
    ctx->TryCancel();
  }
  for (auto& th : watch_threads) {
    th.join();
  }
  const double worst = *std::max_element(p99_all.begin(), p99_all.end());
  const double last_ratio = p99_all.back() / std::max(p99_all.front(), 1e-9);
  const double growth = rss_total.size() > 1
                            ? 100.0 * static_cast<double>(rss_total.back() - rss_total.front()) /
                                  static_cast<double>(rss_total.front())
                            : 0;
  std::printf(
      "soak_bench: worst-window p99 / first-window p99 = %.2f, last / first = %.2f; RSS of the "
      "four servers %+.1f%% from the end of window 1 to the end; %ld requests started more "
      "than 100 ms late (generator behind); %ld watch events; load average %.2f\n",
      worst / std::max(p99_all.front(), 1e-9), last_ratio, growth, late.load(), watch_events.load(),
      halfsky::bench::LoadAverage());
  absl::Status stopped = suite->Stop();
  if (!stopped.ok()) {
    std::fprintf(stderr, "soak_bench: stop: %s\n", stopped.ToString().c_str());
    return 1;
  }
  return 0;
}
