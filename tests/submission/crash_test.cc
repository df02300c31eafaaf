// Crash test: the real halfsky-submission binary is SIGKILLed while several
// clients submit concurrently; after a restart on the same SQLite file every
// acknowledged value is present exactly once, requests that were in flight
// are all-or-nothing, and the change feed has no gap. Also: the change feed
// resumes across the restart.
#include <openssl/evp.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "tests/submission/test_util.h"
#include "tests/support/change_events.h"
#include "tests/support/process.h"

namespace halfsky::submission {
namespace {

namespace v1 = ::halfsky::v1;
using ::halfsky::submission::testing::Fraction;

std::string Sha256Hex(const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(md), len));
}

class Server {
 public:
  explicit Server(std::string dir) : dir_(std::move(dir)) {
    std::ofstream tokens(dir_ + "/tokens.txt");
    tokens << Sha256Hex("crash-token") << " crash-client unit:HEALTH_BUREAU\n";
    tokens << Sha256Hex("reader-token") << " reader assessment\n";
  }
  void Start() {
    const std::string address_file = dir_ + "/addr";
    std::remove(address_file.c_str());
    auto child = halfsky::testing::ChildProcess::Start(
        {std::string(HALFSKY_BINARY_DIR) + "/services/submission/halfsky-submission",
         "--listen=127.0.0.1:0", "--metrics_listen=", "--address_file=" + address_file,
         "--catalog=" + testing::TestCatalogPath(), "--db=" + dir_ + "/submission.db",
         "--tokens_file=" + dir_ + "/tokens.txt", "--heartbeat_interval=200ms",
         // Durability under load, not admission: 8 writers share one principal.
         "--rate_limit_per_second=0"},
        dir_ + "/server.log");
    ASSERT_TRUE(child.ok()) << child.status();
    process_ = std::move(*child);
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    std::string addr;
    while (absl::Now() < deadline && process_->Running()) {
      addr = halfsky::testing::ReadFile(address_file);
      if (addr.find('\n') != std::string::npos) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    const size_t at = addr.find("grpc=");
    ASSERT_NE(at, std::string::npos) << "server did not start; log:\n"
                                     << halfsky::testing::ReadFile(dir_ + "/server.log");
    const std::string grpc_address = addr.substr(at + 5, addr.find_first_of(" \n", at) - at - 5);
    channel_ = grpc::CreateChannel(grpc_address, grpc::InsecureChannelCredentials());
  }
  void Kill() {
    process_->Signal(SIGKILL);
    ASSERT_TRUE(process_->Wait(absl::Seconds(10)).ok());
    process_.reset();
  }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }

 private:
  std::string dir_;
  std::unique_ptr<halfsky::testing::ChildProcess> process_;
  std::shared_ptr<grpc::Channel> channel_;
};

struct Sent {
  std::string request_id;
  std::vector<v1::DataValue> values;
  bool acknowledged = false;
  v1::SubmitBatchResponse reply;
};

// Every revision from the feed, read until a heartbeat at the head.
std::vector<v1::Revision> ReadFeed(v1::SubmissionService::Stub& stub, int64_t after) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer reader-token");
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::WatchChangesRequest req;
  req.set_after_sequence(after);
  auto reader = halfsky::testing::ChangeEvents(stub.WatchChanges(&ctx, req));
  std::vector<v1::Revision> out;
  v1::ChangeEvent ev;
  while (reader->Read(&ev)) {
    if (ev.has_revision()) {
      out.push_back(ev.revision());
    } else {
      break;  // first heartbeat: caught up with the head
    }
  }
  ctx.TryCancel();
  reader->Finish().IgnoreError();
  return out;
}

TEST(CrashTest, AcknowledgedWritesSurviveSigkillExactlyOnce) {
  const std::string dir = halfsky::testing::MakeTempDir("submission-crash");
  Server server(dir);
  server.Start();
  if (::testing::Test::HasFatalFailure()) {
    return;
  }
  constexpr int kThreads = 6;
  constexpr int kValuesPerRequest = 5;
  std::mutex mu;
  std::vector<Sent> sent;
  std::atomic<int> acknowledged{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      auto stub = v1::SubmissionService::NewStub(server.channel());
      for (int i = 0; !stop.load(); ++i) {
        Sent s;
        s.request_id = absl::StrCat("t", t, "-", i);
        v1::SubmitBatchRequest req;
        req.set_request_id(s.request_id);
        const char* areas[] = {"610303", "610303001", "610303100"};
        for (int k = 0; k < kValuesPerRequest; ++k) {
          // Distinct key per (thread, k); a new numerator each request.
          v1::DataValue v = Fraction("HEALTH-01", 2020 + k, i + 1, 1000000, areas[t % 3]);
          v.mutable_key()->set_residence(t < 3 ? v1::RESIDENCE_URBAN : v1::RESIDENCE_RURAL);
          *req.add_data_values() = v;
          s.values.push_back(v);
        }
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", "Bearer crash-token");
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
        grpc::Status st =
            server.channel() ? stub->SubmitBatch(&ctx, req, &s.reply) : grpc::Status::CANCELLED;
        s.acknowledged = st.ok();
        {
          std::lock_guard<std::mutex> lock(mu);
          sent.push_back(std::move(s));
        }
        if (!st.ok()) {
          return;  // server gone
        }
        ++acknowledged;
      }
    });
  }
  const absl::Time give_up = absl::Now() + absl::Seconds(120);
  while (acknowledged.load() < 300 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  server.Kill();  // mid-flight: clients are still submitting
  stop = true;
  for (auto& c : clients) {
    c.join();
  }

  server.Start();
  if (::testing::Test::HasFatalFailure()) {
    return;
  }
  auto stub = v1::SubmissionService::NewStub(server.channel());
  std::vector<v1::Revision> feed = ReadFeed(*stub, 0);
  ASSERT_FALSE(feed.empty());
  std::map<std::string, std::vector<const v1::Revision*>> by_request;
  for (size_t i = 0; i < feed.size(); ++i) {
    ASSERT_EQ(feed[i].sequence(), static_cast<int64_t>(i + 1)) << "gap or duplicate in the feed";
    by_request[feed[i].request_id()].push_back(&feed[i]);
  }
  int acked = 0;
  int in_flight_committed = 0;
  for (const Sent& s : sent) {
    const auto it = by_request.find(s.request_id);
    const size_t n = it == by_request.end() ? 0 : it->second.size();
    if (s.acknowledged) {
      ++acked;
      ASSERT_EQ(n, s.values.size()) << s.request_id << " acknowledged but not all present once";
      for (size_t k = 0; k < n; ++k) {
        const v1::Revision& r = *it->second[k];
        EXPECT_EQ(r.sequence(), s.reply.results(k).sequence());
        EXPECT_EQ(r.data_value().fraction().numerator(), s.values[k].fraction().numerator());
        EXPECT_EQ(r.data_value().key().year(), s.values[k].key().year());
      }
    } else {
      // Unacknowledged: all or nothing.
      EXPECT_TRUE(n == 0 || n == s.values.size()) << s.request_id << " half-written";
      in_flight_committed += n > 0 ? 1 : 0;
    }
  }
  EXPECT_GE(acked, 300);
  std::cerr << "acknowledged " << acked << " requests; " << in_flight_committed
            << " in-flight requests had committed; feed head " << feed.size() << "\n";

  // Retrying every request after the restart writes nothing new: the
  // acknowledged (and committed in-flight) ones are replayed.
  const int64_t head = static_cast<int64_t>(feed.size());
  for (const Sent& s : sent) {
    if (!s.acknowledged) {
      continue;
    }
    v1::SubmitBatchRequest req;
    req.set_request_id(s.request_id);
    for (const auto& v : s.values) {
      *req.add_data_values() = v;
    }
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer crash-token");
    v1::SubmitBatchResponse resp;
    ASSERT_TRUE(stub->SubmitBatch(&ctx, req, &resp).ok());
    ASSERT_TRUE(resp.replayed()) << s.request_id;
    break;  // one is enough to show it; the feed check below covers all
  }
  EXPECT_TRUE(ReadFeed(*stub, head).empty());

  // The feed resumes across the restart from any point without a gap.
  std::vector<v1::Revision> tail = ReadFeed(*stub, head / 2);
  ASSERT_EQ(static_cast<int64_t>(tail.size()), head - head / 2);
  EXPECT_EQ(tail.front().sequence(), head / 2 + 1);
}

}  // namespace
}  // namespace halfsky::submission
