// Submit acknowledged → WatchWarnings event latency, end to end, with the
// real binaries.
//
// Each iteration submits (SubmitBatch) a new 2024 figure of one indicator
// that alternately makes its progress warning fire (`--fire`) and resolve
// (`--resolve`); the clock starts when SubmitBatch returns (the data is
// durably committed) and stops when a reader thread on a WatchWarnings
// stream (filter: that indicator, kind PROGRESS) receives the matching
// FIRED / RESOLVED event. Path measured: submission commit → change feed →
// aggregation MULTI/EXEC + PUBLISH → evaluation subscriber → Redis snapshot →
// method → SQLite commit (synchronous=FULL) → watch stream.
//
// Two modes:
//   own stack (default): starts redis-server, halfsky-submission,
//     halfsky-aggregation and halfsky-evaluation as child processes on
//     loopback with the test catalog (HEALTH-02 at 610303; unit token).
//   external (`--submission=HOST:PORT --evaluation=HOST:PORT
//     --token_file=F`): probes services already running (tests/bench/
//     latency.sh: deploy/catalog, HEALTH-06 at 610303 by default); one
//     token submits and watches.
//
// Usage: evaluation_watch_latency_bench [--iterations=200] [--max_seconds=0]
//          [--submission=A --evaluation=A --token_file=F] [--indicator=ID]
//          [--area=CODE] [--denominator=100] [--base=50] [--fire=50.5]
//          [--resolve=55] [--probe_timeout_ms=10000]
// The figures are numerator / denominator (a base in 2020, the probe in
// 2024). --max_seconds > 0 stops probing after that long (fewer samples).
// Output, last line:
//   RESULT n=N missed=M p50=… p90=… p99=… max=…   (milliseconds)
// Exit 0 when n > 0 and missed == 0. Own stack: needs the three service
// binaries built in the same build tree.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/auth/credentials.h"
#include "common/auth/token_store.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "tests/evaluation/service_test_util.h"
#include "tests/support/process.h"

namespace {

using halfsky::testing::ChildProcess;
namespace et = halfsky::evaluation::testing;

std::string Binary(const std::string& name) {
  return absl::StrCat(HALFSKY_BINARY_DIR, "/services/", name,
                      name == "evaluation" ? "/service" : "", "/halfsky-", name);
}

struct Proc {
  std::unique_ptr<ChildProcess> child;
  std::string address;
};

bool StartService(const std::string& dir, const std::string& name,
                  const std::vector<std::string>& extra, Proc* out) {
  const std::string addr_file = dir + "/" + name + ".addr";
  std::vector<std::string> argv = {Binary(name),
                                   "--listen=127.0.0.1:0",
                                   "--metrics_listen=127.0.0.1:0",
                                   "--address_file=" + addr_file,
                                   "--catalog=" + et::TestCatalogPath(),
                                   "--tokens_file=" + dir + "/tokens.txt",
                                   "--drain_delay=0s",
                                   "--grace_period=2s"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto child = ChildProcess::Start(argv, dir + "/" + name + ".log");
  if (!child.ok()) {
    return false;
  }
  out->child = std::move(*child);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    const std::string text = halfsky::testing::ReadFile(addr_file);
    if (absl::StrContains(text, "\n")) {
      for (absl::string_view f : absl::StrSplit(absl::StripTrailingAsciiWhitespace(text), ' ')) {
        if (absl::ConsumePrefix(&f, "grpc=")) {
          out->address = std::string(f);
          return true;
        }
      }
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  std::fprintf(stderr, "%s did not start; see %s/%s.log\n", name.c_str(), dir.c_str(),
               name.c_str());
  return false;
}

const char* RawFlag(int argc, char** argv, const char* name) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      return argv[i] + prefix.size();
    }
  }
  return nullptr;
}

int Flag(int argc, char** argv, const char* name, int def) {
  const char* v = RawFlag(argc, argv, name);
  return v == nullptr ? def : std::atoi(v);
}

double RealFlag(int argc, char** argv, const char* name, double def) {
  const char* v = RawFlag(argc, argv, name);
  return v == nullptr ? def : std::atof(v);
}

std::string StrFlag(int argc, char** argv, const char* name, const std::string& def) {
  const char* v = RawFlag(argc, argv, name);
  return v == nullptr ? def : std::string(v);
}

// Watch events with the time each was received, read by one thread.
class EventLog {
 public:
  void Add(halfsky::v1::WarningEventType type) {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back({type, absl::Now()});
    cv_.notify_all();
  }
  void End() {
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
    cv_.notify_all();
  }
  // Drops every event received so far.
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    events_.clear();
  }
  // Waits for the first event of `type` (dropping the others before it)
  // until `deadline`; returns when it was received, or nullopt.
  std::optional<absl::Time> Wait(halfsky::v1::WarningEventType type, absl::Time deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      while (!events_.empty()) {
        const auto e = events_.front();
        events_.pop_front();
        if (e.first == type) {
          return e.second;
        }
      }
      if (ended_) {
        return std::nullopt;
      }
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        return std::nullopt;
      }
      cv_.wait_for(lock, absl::ToChronoMilliseconds(left) + std::chrono::milliseconds(1));
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<halfsky::v1::WarningEventType, absl::Time>> events_;
  bool ended_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  const int iterations = Flag(argc, argv, "iterations", 200);
  const double max_seconds = RealFlag(argc, argv, "max_seconds", 0);
  const std::string ext_submission = StrFlag(argc, argv, "submission", "");
  const std::string ext_evaluation = StrFlag(argc, argv, "evaluation", "");
  const bool external = !ext_submission.empty() || !ext_evaluation.empty();
  const std::string indicator =
      StrFlag(argc, argv, "indicator", external ? "HEALTH-06" : "HEALTH-02");
  const std::string area = StrFlag(argc, argv, "area", et::kRoot);
  const double denominator = RealFlag(argc, argv, "denominator", 100);
  const double base = RealFlag(argc, argv, "base", 50);
  const double fire_value = RealFlag(argc, argv, "fire", 50.5);
  const double resolve_value = RealFlag(argc, argv, "resolve", 55);
  const absl::Duration probe_timeout =
      absl::Milliseconds(Flag(argc, argv, "probe_timeout_ms", 10000));

  std::string submission_address, evaluation_address, submit_token, watch_token;
  std::unique_ptr<halfsky::testing::RedisServer> redis_holder;
  Proc submission, aggregation, evaluation;
  if (external) {
    const std::string token_file = StrFlag(argc, argv, "token_file", "");
    std::string token = token_file.empty() ? "" : halfsky::testing::ReadFile(token_file);
    token = std::string(absl::StripAsciiWhitespace(token));
    if (ext_submission.empty() || ext_evaluation.empty() || token.empty()) {
      std::fprintf(stderr,
                   "用法 usage: --submission=A --evaluation=A --token_file=F (all three)\n");
      return 2;
    }
    submission_address = ext_submission;
    evaluation_address = ext_evaluation;
    submit_token = watch_token = token;
  } else {
    const std::string dir = halfsky::testing::MakeTempDir("evaluation-watch-bench");
    {
      std::ofstream(dir + "/tokens.txt")
          << et::TokenFileContent() << halfsky::auth::HashToken("svc-token")
          << " halfsky-services statistics\n";
      std::ofstream(dir + "/svc-token") << "svc-token";
    }
    auto redis = halfsky::testing::RedisServer::Start();
    if (!redis.ok()) {
      std::fprintf(stderr, "%s\n", redis.status().ToString().c_str());
      return 1;
    }
    redis_holder = std::move(*redis);
    if (!StartService(dir, "submission", {"--db=" + dir + "/submission.db"}, &submission) ||
        !StartService(dir, "aggregation",
                      {"--submission=" + submission.address, "--redis=" + redis_holder->address(),
                       "--submission_token_file=" + dir + "/svc-token"},
                      &aggregation) ||
        !StartService(
            dir, "evaluation",
            {"--submission=" + submission.address, "--aggregation=" + aggregation.address,
             "--redis=" + redis_holder->address(), "--db=" + dir + "/evaluation.db",
             "--submission_token_file=" + dir + "/svc-token",
             "--aggregation_token_file=" + dir + "/svc-token", "--reevaluate_interval=1h"},
            &evaluation)) {
      return 1;
    }
    submission_address = submission.address;
    evaluation_address = evaluation.address;
    submit_token = et::kUnitToken;
    watch_token = et::kAssessmentToken;
  }
  auto submit_stub = halfsky::v1::SubmissionService::NewStub(
      grpc::CreateChannel(submission_address, grpc::InsecureChannelCredentials()));
  auto eval_stub = halfsky::v1::EvaluationService::NewStub(
      grpc::CreateChannel(evaluation_address, grpc::InsecureChannelCredentials()));

  grpc::ClientContext watch_ctx;
  halfsky::auth::AddBearerToken(&watch_ctx, watch_token);
  halfsky::v1::WatchWarningsRequest watch_request;
  watch_request.mutable_filter()->set_indicator_id(indicator);
  watch_request.mutable_filter()->set_kind(halfsky::v1::WARNING_KIND_PROGRESS);
  auto reader = eval_stub->WatchWarnings(&watch_ctx, watch_request);
  halfsky::v1::WarningEvent event;
  while (reader->Read(&event) && event.type() != halfsky::v1::WARNING_EVENT_TYPE_SYNCED) {
  }
  EventLog log;
  std::thread watcher([&] {
    halfsky::v1::WarningEvent e;
    while (reader->Read(&e)) {
      log.Add(e.type());
    }
    log.End();
  });

  auto submit = [&](const std::string& id, const halfsky::v1::DataValue& value) {
    grpc::ClientContext ctx;
    halfsky::auth::AddBearerToken(&ctx, submit_token);
    halfsky::v1::SubmitBatchRequest request;
    request.set_request_id(id);
    *request.add_data_values() = value;
    halfsky::v1::SubmitBatchResponse response;
    grpc::Status st = submit_stub->SubmitBatch(&ctx, request, &response);
    if (!st.ok()) {
      std::fprintf(stderr, "SubmitBatch: %s\n", st.error_message().c_str());
      std::exit(1);
    }
  };
  const std::string run = absl::StrCat(absl::ToUnixNanos(absl::Now()));
  submit(absl::StrCat("base-", run), et::FractionValue(indicator, 2020, base, denominator, area));
  // Start resolved; let the base year and the first figure settle.
  submit(absl::StrCat("start-", run),
         et::FractionValue(indicator, 2024, resolve_value, denominator, area));
  absl::SleepFor(absl::Milliseconds(1000));
  log.Clear();

  std::vector<double> ms;
  int missed = 0;
  const absl::Time start = absl::Now();
  for (int i = 0; i < iterations; ++i) {
    if (max_seconds > 0 && absl::Now() - start > absl::Seconds(max_seconds)) {
      break;
    }
    const bool fire = i % 2 == 0;
    const auto want =
        fire ? halfsky::v1::WARNING_EVENT_TYPE_FIRED : halfsky::v1::WARNING_EVENT_TYPE_RESOLVED;
    submit(
        absl::StrCat("it-", run, "-", i),
        et::FractionValue(indicator, 2024, fire ? fire_value : resolve_value, denominator, area));
    const absl::Time acked = absl::Now();
    const std::optional<absl::Time> got = log.Wait(want, acked + probe_timeout);
    if (!got.has_value()) {
      std::fprintf(stderr, "iteration %d: no %s event within %s\n", i, fire ? "FIRED" : "RESOLVED",
                   absl::FormatDuration(probe_timeout).c_str());
      ++missed;
      break;  // the alternation is lost: later samples would not mean anything
    }
    // An event read before SubmitBatch returned counts as 0 ms.
    ms.push_back(std::max(0.0, absl::ToDoubleMilliseconds(*got - acked)));
  }
  watch_ctx.TryCancel();
  watcher.join();
  if (ms.empty()) {
    std::printf("RESULT n=0 missed=%d p50=0 p90=0 p99=0 max=0\n", missed);
    return 1;
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(p * ms.size()))];
  };
  std::printf(
      "iterations=%zu  submit acknowledged -> WatchWarnings event (ms): p50=%.1f p90=%.1f "
      "p99=%.1f max=%.1f\n",
      ms.size(), pct(0.50), pct(0.90), pct(0.99), ms.back());
  std::printf("RESULT n=%zu missed=%d p50=%.2f p90=%.2f p99=%.2f max=%.2f\n", ms.size(), missed,
              pct(0.50), pct(0.90), pct(0.99), ms.back());
  if (!external) {
    for (Proc* p : {&evaluation, &aggregation, &submission}) {
      p->child->Signal(SIGTERM);
      (void)p->child->Wait(absl::Seconds(10));
    }
  }
  return missed == 0 ? 0 : 1;
}
