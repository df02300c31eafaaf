// Submission benchmarks (print results; no assertions).
//
// One process, one RunningServer (common/server: the production bootstrap —
// metrics interceptor, health, reflection, CatalogService — and the real
// bearer-token Authenticator) hosting BOTH the real SubmissionServiceImpl on
// a fresh SQLite file (WAL, synchronous=FULL, group commit) and a bare echo
// method (tests/bench/common: returns the request bytes). Every number is
// measured in rounds; medians are printed.
//
// (a) requests/s of one-value SubmitBatch calls versus the echo method,
//     driven by the SAME load generator (one generic callback stub keeping
//     `concurrency` unary calls outstanding, the same serialized request
//     bytes class), alternating 1-second slices so that both see the same
//     background load. Every submission is a new revision of a key
//     (unique request id, new numerator): validated, authorized and durably
//     committed before the reply. Reports per-round ratios and the median.
// (b) durable values/s through SubmitStream in `chunk`-value chunks with
//     `streams` concurrent streams and `window` chunks in flight per stream.
//     Each stream owns `keys / streams` keys (RATE indicators × 400
//     subdistricts × 3 residences × 7 years) and walks them in order,
//     chunk after chunk; each pass over them gives every key a new
//     numerator, so every value is a new revision (CREATED on the first
//     pass, REVISED after). `--keys` sets how deep each key's history
//     grows during the run: the default (1 008 000) is a district's upload
//     season — most values new, a few revised; `--keys=8400` revises the same
//     keys ~170 times each (deep histories). Chunks are built before the
//     clock starts and only get a fresh request id (and on a new pass new
//     numerators) as they are sent, so the clients' cost of inventing data
//     does not compete with the server; serializing and sending still do.
//     Reports the process CPU time per value (server and clients together).
//
// Usage: submission_bench [--rounds=R] [--seconds=S] [--concurrency=C]
//                         [--streams=K] [--chunk=N] [--window=W] [--keys=N]
//                         [--dir=DIR] [--only=a|b] [--inline_completion=N]
//                         [--postgres=URI [--replicas=N]]
// --postgres runs the same load on PostgresSubmissionStore on that (empty)
// database; --replicas=N puts N stores (each its own service and server) on
// it, as N submission replicas would be, and spreads (b)'s streams over them.
// --inline_completion sets SqliteSubmissionStore::Options::
// inline_completion_values (0: every group is answered by the completion
// thread).

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/auth/authenticator.h"
#include "common/catalog/catalog.h"
#include "common/clock/clock.h"
#include "common/server/server.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "services/submission/postgres_store.h"
#include "services/submission/service.h"
#include "services/submission/sqlite_store.h"
#include "tests/bench/common/bench_util.h"

namespace halfsky::submission {
namespace {

namespace v1 = ::halfsky::v1;

constexpr int kAreas = 400;
constexpr int kYears = 7;  // 2020..2026: never in the future of the clock
constexpr int kKeysPerIndicator = kAreas * 3 * kYears;
constexpr char kToken[] = "bench-statistics-token";

// The submission test catalog plus kAreas subdistricts and `indicators`
// copies of its HEALTH-01 (a RATE by residence), HEALTH-B001, HEALTH-B002, ...
std::shared_ptr<const CatalogIndex> BenchCatalog(int indicators) {
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
  v1::Indicator model;
  for (const v1::Indicator& ind : catalog.indicators()) {
    if (ind.id() == "HEALTH-01") {
      model = ind;
    }
  }
  for (int i = 1; i <= indicators; ++i) {
    v1::Indicator* ind = catalog.add_indicators();
    *ind = model;
    ind->set_id(absl::StrFormat("HEALTH-B%03d", i));
    ind->set_name_zh(absl::StrCat("基准指标", i));
    ind->set_name_en(absl::StrCat("Bench indicator ", i));
    ind->clear_targets();
  }
  auto index = CatalogIndex::FromProto(catalog);
  if (!index.ok()) {
    std::cerr << index.status() << "\n";
    std::exit(1);
  }
  return *index;
}

// Key `i` of the bench key space, with a numerator that differs for
// different `version`s (and stays inside HEALTH-01's value range).
v1::DataValue BenchValue(int64_t i, int64_t version) {
  v1::DataValue v;
  v1::DataKey* key = v.mutable_key();
  key->set_indicator_id(absl::StrFormat("HEALTH-B%03d", 1 + i / kKeysPerIndicator));
  const int64_t k = i % kKeysPerIndicator;
  key->set_area_code(absl::StrFormat("610303%03d", 200 + 1 + k % kAreas));
  key->set_residence(static_cast<v1::Residence>(1 + (k / kAreas) % 3));
  key->set_year(2020 + static_cast<int>(k / (kAreas * 3)));
  v.mutable_fraction()->set_numerator(static_cast<double>(1 + version % 9000));
  v.mutable_fraction()->set_denominator(1000000);
  v.set_source("基准测试");
  return v;
}

grpc::ByteBuffer Serialize(const google::protobuf::Message& m) {
  return bench::ToBuffer(m.SerializeAsString());
}

// Keeps `concurrency` unary calls outstanding for `duration`; `make(i)` builds
// request i. Returns completed OK calls per second.
double LoadGenerate(grpc::GenericStub& stub, const std::string& method, int concurrency,
                    absl::Duration duration, const std::function<grpc::ByteBuffer(int64_t)>& make,
                    int64_t* errors) {
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
    call->ctx.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
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

double CpuSeconds() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct StreamRound {
  double values_per_second = 0;
  double cpu_us_per_value = 0;
  int64_t values = 0;
  int64_t unchanged = 0;
  int64_t commits = 0;
  int64_t errors = 0;
};

// (b): the streams' chunks and their position, kept across rounds.
class StreamLoad {
 public:
  StreamLoad(int streams, int chunk, int keys) : chunk_(chunk) {
    const int per_stream = std::max(1, keys / streams / chunk);
    chunks_.resize(streams);
    for (int s = 0; s < streams; ++s) {
      for (int c = 0; c < per_stream; ++c) {
        v1::SubmitStreamRequest req;
        const int64_t base = (static_cast<int64_t>(s) * per_stream + c) * chunk;
        for (int k = 0; k < chunk; ++k) {
          *req.add_data_values() = BenchValue(base + k, 0);
        }
        chunks_[s].push_back(std::move(req));
      }
    }
    sent_.assign(streams, 0);
  }

  int64_t keys() const { return static_cast<int64_t>(chunks_.size()) * chunks_[0].size() * chunk_; }

  // Stream s goes to stubs[s % stubs.size()] (one per replica).
  StreamRound Run(const std::vector<v1::SubmissionService::Stub*>& stubs,
                  const std::function<int64_t()>& commit_count, int window,
                  absl::Duration duration) {
    std::atomic<int64_t> values{0}, unchanged{0}, errors{0};
    const int64_t commits_before = commit_count();
    const double cpu_before = CpuSeconds();
    const absl::Time start = absl::Now();
    const absl::Time end = start + duration;
    std::vector<std::thread> threads;
    for (size_t s = 0; s < chunks_.size(); ++s) {
      threads.emplace_back([&, s] {
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
        auto stream = stubs[s % stubs.size()]->SubmitStream(&ctx);
        int outstanding = 0;
        v1::SubmitStreamResponse ack;
        auto count = [&] {
          values += ack.created_count() + ack.revised_count() + ack.unchanged_count();
          unchanged += ack.unchanged_count();
        };
        std::vector<v1::SubmitStreamRequest>& mine = chunks_[s];
        while (absl::Now() < end) {
          const int64_t c = sent_[s]++;
          v1::SubmitStreamRequest& req = mine[c % mine.size()];
          const int64_t pass = c / static_cast<int64_t>(mine.size());
          if (pass > 0) {
            // A later pass over this stream's keys: new numerators, so every
            // value is a new revision.
            for (v1::DataValue& v : *req.mutable_data_values()) {
              v.mutable_fraction()->set_numerator(static_cast<double>(1 + pass % 9000));
            }
          }
          req.set_request_id(absl::StrCat("bench-b-", s, "-", c));
          if (!stream->Write(req)) {
            ++errors;
            break;
          }
          if (++outstanding < window) {
            continue;
          }
          if (!stream->Read(&ack)) {
            ++errors;
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
          ++errors;
        }
      });
    }
    for (auto& t : threads) {
      t.join();
    }
    StreamRound r;
    const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
    r.values = values.load();
    r.unchanged = unchanged.load();
    r.errors = errors.load();
    r.commits = commit_count() - commits_before;
    r.values_per_second = r.values / elapsed;
    r.cpu_us_per_value = r.values > 0 ? (CpuSeconds() - cpu_before) * 1e6 / r.values : 0;
    return r;
  }

 private:
  const int chunk_;
  std::vector<std::vector<v1::SubmitStreamRequest>> chunks_;
  std::vector<int64_t> sent_;  // chunks sent per stream, over all rounds
};

int Main(int argc, char** argv) {
  const int rounds = bench::IntFlag(argc, argv, "rounds", 5);
  const double seconds = bench::DoubleFlag(argc, argv, "seconds", 3);
  const int concurrency = bench::IntFlag(argc, argv, "concurrency", 64);
  const int streams = bench::IntFlag(argc, argv, "streams", 4);
  const int chunk = bench::IntFlag(argc, argv, "chunk", 1000);
  const int window = bench::IntFlag(argc, argv, "window", 4);
  const int keys = bench::IntFlag(argc, argv, "keys", 1008000);
  const std::string dir = bench::StringFlag(argc, argv, "dir", "/tmp");
  const std::string only = bench::StringFlag(argc, argv, "only", "");

  // Key space of (b) plus the (a) keys (one indicator's worth after it).
  const int indicators =
      (std::max(keys, kKeysPerIndicator) + kKeysPerIndicator - 1) / kKeysPerIndicator + 1;
  auto catalog = BenchCatalog(indicators);
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
  // --postgres=URI: PostgresSubmissionStore on that (empty) database, with
  // --replicas=N stores, each behind its own service and server, sharing it
  // (the streams of (b) spread over them; (a) uses the first).
  const std::string postgres = bench::StringFlag(argc, argv, "postgres", "");
  const int replicas =
      postgres.empty() ? 1 : std::max(1, bench::IntFlag(argc, argv, "replicas", 1));
  std::vector<std::unique_ptr<SubmissionStore>> stores;
  std::function<int64_t()> commit_count;
  if (postgres.empty()) {
    SqliteSubmissionStore::Options so;
    so.path = db;
    so.clock = SystemClock::Default();
    so.inline_completion_values =
        bench::IntFlag(argc, argv, "inline_completion", so.inline_completion_values);
    auto store = SqliteSubmissionStore::Open(so);
    if (!store.ok()) {
      std::cerr << store.status() << "\n";
      return 1;
    }
    SqliteSubmissionStore* raw = store->get();
    commit_count = [raw] { return raw->commit_count(); };
    stores.push_back(std::move(*store));
  } else {
    std::vector<PostgresSubmissionStore*> raws;
    for (int r = 0; r < replicas; ++r) {
      PostgresSubmissionStore::Options po;
      po.conninfo = postgres;
      po.clock = SystemClock::Default();
      auto store = PostgresSubmissionStore::Open(po);
      if (!store.ok()) {
        std::cerr << store.status() << "\n";
        return 1;
      }
      raws.push_back(store->get());
      stores.push_back(std::move(*store));
    }
    commit_count = [raws] {
      int64_t n = 0;
      for (auto* s : raws) n += s->commit_count();
      return n;
    };
  }
  auto tokens = auth::TokenStore::FromString(
      absl::StrCat(auth::HashToken(kToken), " bench statistics\n"), "bench-tokens");
  if (!tokens.ok()) {
    std::cerr << tokens.status() << "\n";
    return 1;
  }
  std::unique_ptr<auth::Authenticator> authenticator =
      auth::Authenticator::WithTokens(std::move(*tokens));
  std::vector<std::unique_ptr<SubmissionServiceImpl>> services;
  std::vector<std::unique_ptr<RunningServer>> servers;
  std::vector<std::unique_ptr<v1::SubmissionService::Stub>> replica_stubs;
  bench::EchoService echo;
  for (auto& store : stores) {
    services.push_back(std::make_unique<SubmissionServiceImpl>(
        catalog, store.get(), SystemClock::Default(), authenticator->AsFunction()));
    ServerOptions options;
    options.name = "submission-bench";
    options.drain_delay = absl::ZeroDuration();
    std::vector<grpc::Service*> hosted = {services.back().get()};
    if (servers.empty()) hosted.push_back(&echo);
    auto server = RunningServer::Start(options, catalog, hosted);
    if (!server.ok()) {
      std::cerr << server.status() << "\n";
      return 1;
    }
    replica_stubs.push_back(v1::SubmissionService::NewStub(
        grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials())));
    servers.push_back(std::move(*server));
  }
  auto& server = servers.front();
  auto channel = grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials());

  std::cout << absl::StrFormat(
      "submission benchmarks: %d CPUs, load average %.2f, %s, "
      "%d RunningServer(s) with the real service (the first with an echo method)\n",
      std::thread::hardware_concurrency(), bench::LoadAverage(),
      postgres.empty() ? absl::StrCat("SQLite ", db, " (WAL, synchronous=FULL)")
                       : absl::StrCat("PostgreSQL ", postgres, " (synchronous_commit=on), ",
                                      replicas, " replica(s)"),
      replicas);

  if (only.empty() || only == "a") {
    // (a) One-value SubmitBatch vs echo, same generator; keys of the last
    // bench indicator, new numerator each pass over them.
    const int64_t first_key = static_cast<int64_t>(indicators - 1) * kKeysPerIndicator;
    auto make_batch = [first_key](int64_t i) {
      v1::SubmitBatchRequest req;
      req.set_request_id(absl::StrCat("bench-a-", i));
      *req.add_data_values() =
          BenchValue(first_key + i % kKeysPerIndicator, 1 + i / kKeysPerIndicator);
      return Serialize(req);
    };
    grpc::GenericStub stub(channel);
    int64_t errors = 0, e = 0;
    LoadGenerate(stub, bench::kEchoMethod, concurrency, absl::Milliseconds(500), make_batch, &e);
    std::vector<double> ratios;
    std::atomic<int64_t> sent{0};  // SubmitBatch requests made, over all rounds
    std::cout << absl::StrFormat(
        "(a) one-value SubmitBatch vs echo, %d outstanding calls, 1-s slices alternating\n"
        "    round   echo req/s   SubmitBatch req/s   ratio   load\n",
        concurrency);
    for (int round = 1; round <= rounds; ++round) {
      const double echo_rps =
          LoadGenerate(stub, bench::kEchoMethod, concurrency, absl::Seconds(1), make_batch, &e);
      errors += e;
      const double submit_rps = LoadGenerate(
          stub, "/halfsky.v1.SubmissionService/SubmitBatch", concurrency, absl::Seconds(1),
          [&](int64_t) { return make_batch(sent++); }, &e);
      errors += e;
      ratios.push_back(submit_rps / echo_rps);
      std::cout << absl::StrFormat("    %5d   %10.0f   %17.0f   %5.3f   %4.2f\n", round, echo_rps,
                                   submit_rps, submit_rps / echo_rps, bench::LoadAverage());
    }
    std::cout << absl::StrFormat("    median ratio %.3f (goal >= 0.5), errors %d\n",
                                 bench::Median(ratios), errors);
  }

  if (only.empty() || only == "b") {
    std::vector<v1::SubmissionService::Stub*> stubs;
    for (auto& st : replica_stubs) stubs.push_back(st.get());
    const absl::Time build_start = absl::Now();
    StreamLoad load(streams, chunk, keys);
    std::cout << absl::StrFormat(
        "(b) SubmitStream, %d streams, %d-value chunks, %d in flight per stream, %d keys "
        "(chunks built in %.1f s, before the clock)\n"
        "    round   durable values/s   CPU us/value   values   unchanged   commits   errors   "
        "load\n",
        streams, chunk, window, load.keys(), absl::ToDoubleSeconds(absl::Now() - build_start));
    std::vector<double> rates, cpu;
    for (int round = 1; round <= rounds; ++round) {
      StreamRound r = load.Run(stubs, commit_count, window, absl::Seconds(seconds));
      rates.push_back(r.values_per_second);
      cpu.push_back(r.cpu_us_per_value);
      std::cout << absl::StrFormat("    %5d   %16.0f   %12.2f   %6d   %9d   %7d   %6d   %4.2f\n",
                                   round, r.values_per_second, r.cpu_us_per_value, r.values,
                                   r.unchanged, r.commits, r.errors, bench::LoadAverage());
    }
    std::cout << absl::StrFormat(
        "    median %.0f durable values/s (goal >= 300000), %.2f us CPU per value\n",
        bench::Median(rates), bench::Median(cpu));
  }

  for (auto& s : services) s->Shutdown();
  for (auto& s : servers) {
    s->Shutdown();
    s.reset();
  }
  return 0;
}

}  // namespace
}  // namespace halfsky::submission

int main(int argc, char** argv) { return halfsky::submission::Main(argc, argv); }
