// Submission benchmarks (print results; no assertions).
//
// (a) requests/s of one-value SubmitBatch calls against the real
//     SubmissionServiceImpl on a real SQLite file (WAL, synchronous=FULL,
//     group commit) versus a bare gRPC echo server (generic callback
//     service returning the request bytes), driven by the SAME load
//     generator: one process, one generic callback stub per target, the same
//     number of outstanding calls, the same duration, the same serialized
//     request size class. Reports the ratio.
// (b) durable values/s through SubmitStream in 1 000-value chunks, with
//     several concurrent streams. The load generator builds its chunks
//     before the clock starts (16 rounds per stream, cycled, each a new
//     value of every key) and only stamps a fresh request id on each, so
//     that the clients' cost of inventing data does not compete with the
//     server for the machine's cores; serializing and sending still does.
//     Reports the process CPU time per value (server and client together).
//
// Usage: submission_bench [--seconds=S] [--concurrency=C] [--streams=K]
//                         [--chunk=N] [--window=W] [--dir=DIR] [--only=a|b]

#include <sys/resource.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/catalog/catalog.h"
#include "common/clock/clock.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "services/submission/service.h"
#include "services/submission/sqlite_store.h"

namespace halfsky::submission {
namespace {

namespace v1 = ::halfsky::v1;

constexpr int kAreas = 400;

// The submission test catalog plus kAreas subdistricts, so that a chunk of
// 1 000 values has 1 000 distinct keys.
std::shared_ptr<const CatalogIndex> BenchCatalog() {
  std::ifstream in(std::string(HALFSKY_SOURCE_DIR) +
                   "/tests/submission/testdata/catalog.textproto");
  std::stringstream text;
  text << in.rdbuf();
  v1::Catalog catalog;
  if (!google::protobuf::TextFormat::ParseFromString(text.str(), &catalog)) {
    std::cerr << "cannot parse the test catalog\n";
    std::exit(1);
  }
  for (int i = 1; i <= kAreas; ++i) {
    v1::Area* a = catalog.add_areas();
    a->set_code(absl::StrFormat("610303%03d", 200 + i));
    a->set_name_zh(absl::StrCat("测试社区", i));
    a->set_name_en(absl::StrCat("Bench area ", i));
    a->set_parent_code("610303");
    a->set_level(v1::AREA_LEVEL_SUBDISTRICT);
    a->set_residence(v1::RESIDENCE_URBAN);
  }
  auto index = CatalogIndex::FromProto(catalog);
  if (!index.ok()) {
    std::cerr << index.status() << "\n";
    std::exit(1);
  }
  return *index;
}

// Key i of 400 areas × 3 residences × 7 years of HEALTH-01.
v1::DataValue BenchValue(int64_t i, int64_t round) {
  v1::DataValue v;
  const int64_t k = i % (kAreas * 3 * 7);
  v.mutable_key()->set_indicator_id("HEALTH-01");
  v.mutable_key()->set_area_code(absl::StrFormat("610303%03d", 200 + 1 + k % kAreas));
  v.mutable_key()->set_residence(static_cast<v1::Residence>(1 + (k / kAreas) % 3));
  v.mutable_key()->set_year(2020 + static_cast<int>(k / (kAreas * 3)));
  v.mutable_fraction()->set_numerator(static_cast<double>(1 + round % 9000));
  v.mutable_fraction()->set_denominator(1000000);
  v.set_source("基准测试");
  return v;
}

absl::StatusOr<v1::Principal> BenchAuthenticate(const grpc::CallbackServerContext& ctx) {
  auto it = ctx.client_metadata().find("authorization");
  if (it == ctx.client_metadata().end() || it->second != "Bearer bench") {
    return absl::UnauthenticatedError("bad token");
  }
  v1::Principal p;
  p.set_name("bench");
  p.add_roles()->set_kind(v1::ROLE_KIND_STATISTICS);
  return p;
}

class EchoService final : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    class Reactor final : public grpc::ServerGenericBidiReactor {
     public:
      Reactor() { StartRead(&buf_); }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::OK);
          return;
        }
        StartWriteAndFinish(&buf_, grpc::WriteOptions(), grpc::Status::OK);
      }
      void OnDone() override { delete this; }

     private:
      grpc::ByteBuffer buf_;
    };
    return new Reactor();
  }
};

grpc::ByteBuffer Serialize(const google::protobuf::Message& m) {
  std::string bytes = m.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// Keeps `concurrency` unary calls outstanding for `duration`; `make(i)` builds
// request i. Returns completed OK calls per second.
double LoadGenerate(std::shared_ptr<grpc::Channel> channel, const std::string& method,
                    int concurrency, absl::Duration duration,
                    const std::function<grpc::ByteBuffer(int64_t)>& make, int64_t* errors) {
  grpc::GenericStub stub(channel);
  std::atomic<int64_t> next{0}, ok{0}, failed{0};
  std::mutex mu;
  std::condition_variable cv;
  int running = concurrency;
  const absl::Time end = absl::Now() + duration;
  struct Call {
    grpc::ClientContext ctx;
    grpc::ByteBuffer request, response;
  };
  std::function<void()> issue = [&] {
    if (absl::Now() >= end) {
      std::lock_guard<std::mutex> lock(mu);
      if (--running == 0) {
        cv.notify_all();
      }
      return;
    }
    auto* call = new Call;
    call->ctx.AddMetadata("authorization", "Bearer bench");
    call->request = make(next++);
    stub.UnaryCall(&call->ctx, method, grpc::StubOptions(), &call->request, &call->response,
                   [&, call](grpc::Status st) {
                     (st.ok() ? ok : failed)++;
                     if (!st.ok() && failed.load() < 5) {
                       std::cerr << method << ": " << st.error_message() << "\n";
                     }
                     delete call;
                     issue();
                   });
  };
  const absl::Time start = absl::Now();
  for (int i = 0; i < concurrency; ++i) {
    issue();
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return running == 0; });
  *errors = failed.load();
  return ok.load() / absl::ToDoubleSeconds(absl::Now() - start);
}

int Main(int argc, char** argv) {
  double seconds = 5;
  int concurrency = 64;
  int streams = 4;
  int chunk = 1000;
  int window = 4;
  std::string dir = "/tmp";
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&](const char* name) -> const char* {
      const std::string p = std::string(name) + "=";
      return a.rfind(p, 0) == 0 ? argv[i] + p.size() : nullptr;
    };
    if (const char* v = val("--seconds")) {
      absl::SimpleAtod(v, &seconds);
    } else if (const char* v = val("--concurrency")) {
      absl::SimpleAtoi(v, &concurrency);
    } else if (const char* v = val("--streams")) {
      absl::SimpleAtoi(v, &streams);
    } else if (const char* v = val("--chunk")) {
      absl::SimpleAtoi(v, &chunk);
    } else if (const char* v = val("--window")) {
      absl::SimpleAtoi(v, &window);
    } else if (const char* v = val("--dir")) {
      dir = v;
    } else if (const char* v = val("--only")) {
      only = v;
    } else {
      std::cerr << "usage: submission_bench [--seconds=S] [--concurrency=C] [--streams=K] "
                   "[--chunk=N] [--window=W] [--dir=DIR] [--only=a|b]\n";
      return 2;
    }
  }
  auto catalog = BenchCatalog();
  const std::string db = absl::StrCat(dir, "/submission-bench-", getpid(), ".db");
  // Removes the database files after everything using them is gone.
  struct RemoveOnExit {
    std::string path;
    ~RemoveOnExit() {
      for (const char* suffix : {"", "-wal", "-shm"}) {
        std::remove((path + suffix).c_str());
      }
    }
  } cleanup{db};
  SqliteSubmissionStore::Options so;
  so.path = db;
  so.clock = SystemClock::Default();
  auto store = SqliteSubmissionStore::Open(so);
  if (!store.ok()) {
    std::cerr << store.status() << "\n";
    return 1;
  }
  SubmissionServiceImpl service(catalog, store->get(), SystemClock::Default(), BenchAuthenticate);
  EchoService echo;
  int submission_port = 0, echo_port = 0;
  grpc::ServerBuilder sb;
  sb.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &submission_port);
  sb.RegisterService(&service);
  auto submission_server = sb.BuildAndStart();
  grpc::ServerBuilder eb;
  eb.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &echo_port);
  eb.RegisterCallbackGenericService(&echo);
  auto echo_server = eb.BuildAndStart();
  auto submission_channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", submission_port),
                                                grpc::InsecureChannelCredentials());
  auto echo_channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", echo_port),
                                          grpc::InsecureChannelCredentials());

  std::cout << "submission benchmarks: " << std::thread::hardware_concurrency() << " CPUs, "
            << "SQLite " << db << " (WAL, synchronous=FULL)\n";

  const absl::Duration d = absl::Seconds(seconds);
  if (only.empty() || only == "a") {
    // (a) One-value SubmitBatch vs echo, same generator.
    auto make_batch = [](int64_t i) {
      v1::SubmitBatchRequest req;
      req.set_request_id(absl::StrCat("bench-a-", i));
      *req.add_data_values() = BenchValue(i, i / 8400 + 1);
      return Serialize(req);
    };
    int64_t echo_errors = 0, submit_errors = 0;
    // Warm-up both.
    LoadGenerate(echo_channel, "/bench.Echo/Echo", concurrency, absl::Milliseconds(500), make_batch,
                 &echo_errors);
    // Alternate 1-second slices of echo and SubmitBatch so that both see the
    // same background load on a shared machine; sum over the slices.
    double echo_total = 0, submit_total = 0;
    const int slices = std::max(1, static_cast<int>(seconds));
    int64_t e = 0;
    for (int slice = 0; slice < slices; ++slice) {
      echo_total += LoadGenerate(echo_channel, "/bench.Echo/Echo", concurrency, absl::Seconds(1),
                                 make_batch, &e);
      echo_errors += e;
      submit_total += LoadGenerate(
          submission_channel, "/halfsky.v1.SubmissionService/SubmitBatch", concurrency,
          absl::Seconds(1),
          [&, slice](int64_t i) { return make_batch(i + (slice + 1) * 100000000LL); }, &e);
      submit_errors += e;
    }
    const double echo_rps = echo_total / slices;
    const double submit_rps = submit_total / slices;
    std::cout << absl::StrFormat(
        "(a) one-value SubmitBatch, %d outstanding calls, %d alternating 1-s slices each:\n"
        "    echo server        %10.0f requests/s  (errors %d)\n"
        "    SubmitBatch        %10.0f requests/s  (errors %d)\n"
        "    ratio              %10.2f x  (goal >= 0.5)\n"
        "    group commits so far: %d\n",
        concurrency, slices, echo_rps, echo_errors, submit_rps, submit_errors,
        submit_rps / echo_rps, (*store)->commit_count());
  }

  // (b) SubmitStream, 1 000-value chunks, `streams` concurrent streams.
  if (only.empty() || only == "b") {
    auto stub = v1::SubmissionService::NewStub(submission_channel);
    // Chunks built before the clock: stream s, round r covers keys
    // s * 2100 + (r % 2) * 1000 + [0, chunk) with numerator 1000 + r, so
    // consecutive rounds on the same keys (r, r + 2) always differ.
    constexpr int kRounds = 16;
    std::vector<std::vector<v1::SubmitStreamRequest>> chunks(streams);
    for (int s = 0; s < streams; ++s) {
      for (int r = 0; r < kRounds; ++r) {
        v1::SubmitStreamRequest req;
        const int64_t base = (s * 2100) + (r % 2) * 1000;
        for (int k = 0; k < chunk; ++k) {
          *req.add_data_values() = BenchValue(base + k, 1000 + r);
        }
        chunks[s].push_back(std::move(req));
      }
    }
    std::atomic<int64_t> values_done{0}, values_unchanged{0}, stream_errors{0};
    const int64_t commits_before = (*store)->commit_count();
    struct rusage usage_before;
    getrusage(RUSAGE_SELF, &usage_before);
    const absl::Time start = absl::Now();
    const absl::Time end = start + d;
    std::vector<std::thread> threads;
    for (int s = 0; s < streams; ++s) {
      threads.emplace_back([&, s] {
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", "Bearer bench");
        auto stream = stub->SubmitStream(&ctx);
        // Keep up to `window` chunks in flight (the server pipelines as many).
        int outstanding = 0;
        v1::SubmitStreamResponse ack;
        auto count = [&] {
          values_done += ack.created_count() + ack.revised_count() + ack.unchanged_count();
          values_unchanged += ack.unchanged_count();
        };
        for (int64_t c = 0; absl::Now() < end; ++c) {
          v1::SubmitStreamRequest& req = chunks[s][c % kRounds];
          req.set_request_id(absl::StrCat("bench-b-", s, "-", c));
          if (!stream->Write(req)) {
            ++stream_errors;
            break;
          }
          if (++outstanding < window) {
            continue;
          }
          if (!stream->Read(&ack)) {
            ++stream_errors;
            break;
          }
          --outstanding;
          count();
        }
        while (outstanding > 0 && stream->Read(&ack)) {
          --outstanding;
          count();
        }
        stream->WritesDone();
        grpc::Status st = stream->Finish();
        if (!st.ok()) {
          std::cerr << "stream: " << st.error_message() << "\n";
          ++stream_errors;
        }
      });
    }
    for (auto& t : threads) {
      t.join();
    }
    const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
    struct rusage usage_after;
    getrusage(RUSAGE_SELF, &usage_after);
    auto cpu_seconds = [](const struct rusage& u) {
      return u.ru_utime.tv_sec + u.ru_stime.tv_sec +
             (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
    };
    const double cpu = cpu_seconds(usage_after) - cpu_seconds(usage_before);
    const int64_t n = values_done.load();
    std::cout << absl::StrFormat(
        "(b) SubmitStream, %d streams, %d-value chunks, %d chunks in flight per stream, %.1f s:\n"
        "    %10.0f durable values/s  (%d values of which %d unchanged, %d group commits, "
        "errors %d; goal >= 300000)\n"
        "    process CPU %.2f s = %.2f us per value (server and load generator)\n",
        streams, chunk, window, elapsed, n / elapsed, n, values_unchanged.load(),
        (*store)->commit_count() - commits_before, stream_errors.load(), cpu,
        n > 0 ? cpu * 1e6 / n : 0.0);
  }

  service.Shutdown();
  submission_server->Shutdown();
  echo_server->Shutdown();
  submission_server.reset();
  echo_server.reset();
  return 0;
}

}  // namespace
}  // namespace halfsky::submission

int main(int argc, char** argv) { return halfsky::submission::Main(argc, argv); }
