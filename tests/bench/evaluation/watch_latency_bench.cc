// Submit acknowledged → WatchWarnings event latency, end to end, with the
// real binaries: redis-server, halfsky-submission, halfsky-aggregation,
// halfsky-evaluation as child processes on loopback.
//
// Each iteration submits (SubmitBatch, a unit's token) a new 2024 figure of
// HEALTH-02 that alternately makes the progress warning fire (50.5 %) and
// resolve (55 %); the clock starts when SubmitBatch returns (the data is
// durably committed) and stops when the watching client reads the matching
// FIRED / RESOLVED event. Path measured: submission commit → change feed →
// aggregation MULTI/EXEC + PUBLISH → evaluation subscriber → Redis snapshot →
// method → SQLite commit (synchronous=FULL) → watch stream.
//
// Usage: evaluation_watch_latency_bench [--iterations=200]
// Needs the three service binaries built in the same build tree.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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

int Flag(int argc, char** argv, const char* name, int def) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      return std::atoi(argv[i] + prefix.size());
    }
  }
  return def;
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = Flag(argc, argv, "iterations", 200);
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
  Proc submission, aggregation, evaluation;
  if (!StartService(dir, "submission", {"--db=" + dir + "/submission.db"}, &submission) ||
      !StartService(dir, "aggregation",
                    {"--submission=" + submission.address, "--redis=" + (*redis)->address(),
                     "--submission_token_file=" + dir + "/svc-token"},
                    &aggregation) ||
      !StartService(dir, "evaluation",
                    {"--submission=" + submission.address, "--aggregation=" + aggregation.address,
                     "--redis=" + (*redis)->address(), "--db=" + dir + "/evaluation.db",
                     "--submission_token_file=" + dir + "/svc-token",
                     "--aggregation_token_file=" + dir + "/svc-token", "--reevaluate_interval=1h"},
                    &evaluation)) {
    return 1;
  }
  auto submit_stub = halfsky::v1::SubmissionService::NewStub(
      grpc::CreateChannel(submission.address, grpc::InsecureChannelCredentials()));
  auto eval_stub = halfsky::v1::EvaluationService::NewStub(
      grpc::CreateChannel(evaluation.address, grpc::InsecureChannelCredentials()));

  grpc::ClientContext watch_ctx;
  halfsky::auth::AddBearerToken(&watch_ctx, et::kAssessmentToken);
  halfsky::v1::WatchWarningsRequest watch_request;
  watch_request.mutable_filter()->set_indicator_id("HEALTH-02");
  watch_request.mutable_filter()->set_kind(halfsky::v1::WARNING_KIND_PROGRESS);
  auto reader = eval_stub->WatchWarnings(&watch_ctx, watch_request);
  halfsky::v1::WarningEvent event;
  while (reader->Read(&event) && event.type() != halfsky::v1::WARNING_EVENT_TYPE_SYNCED) {
  }

  auto submit = [&](const std::string& id, const std::vector<halfsky::v1::DataValue>& values) {
    grpc::ClientContext ctx;
    halfsky::auth::AddBearerToken(&ctx, et::kUnitToken);
    halfsky::v1::SubmitBatchRequest request;
    request.set_request_id(id);
    for (const auto& v : values) {
      *request.add_data_values() = v;
    }
    halfsky::v1::SubmitBatchResponse response;
    grpc::Status st = submit_stub->SubmitBatch(&ctx, request, &response);
    if (!st.ok()) {
      std::fprintf(stderr, "SubmitBatch: %s\n", st.error_message().c_str());
      std::exit(1);
    }
  };
  submit("base", {et::FractionValue("HEALTH-02", 2020, 50, 100)});
  // Let the base year settle (no warning from one point).
  absl::SleepFor(absl::Milliseconds(500));

  std::vector<double> ms;
  for (int i = 0; i < iterations; ++i) {
    const bool fire = i % 2 == 0;
    const auto want =
        fire ? halfsky::v1::WARNING_EVENT_TYPE_FIRED : halfsky::v1::WARNING_EVENT_TYPE_RESOLVED;
    submit(absl::StrCat("it-", i), {et::FractionValue("HEALTH-02", 2024, fire ? 50.5 : 55, 100)});
    const absl::Time acked = absl::Now();
    bool got = false;
    while (reader->Read(&event)) {
      if (event.type() == want) {
        got = true;
        break;
      }
    }
    if (!got) {
      std::fprintf(stderr, "watch ended at iteration %d\n", i);
      return 1;
    }
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - acked));
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(p * ms.size()))];
  };
  std::printf(
      "iterations=%d  submit acknowledged -> WatchWarnings event (ms): p50=%.1f p90=%.1f "
      "p99=%.1f max=%.1f  (goal p99 <= 100 ms)\n",
      iterations, pct(0.50), pct(0.90), pct(0.99), ms.back());
  watch_ctx.TryCancel();
  for (Proc* p : {&evaluation, &aggregation, &submission}) {
    p->child->Signal(SIGTERM);
    (void)p->child->Wait(absl::Seconds(10));
  }
  return 0;
}
