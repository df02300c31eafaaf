// The real halfsky-submission binary on a real PostgreSQL
// (--store=postgres:URI, the password from --store_password_file):
// - one replica: submit, read back, SIGKILL and restart, read back;
// - a password in the URI is refused at start;
// - three replicas on one database with concurrent writers on each: every
//   acknowledged revision reaches a live follower of each replica exactly
//   once, in commit order, without a gap, and idempotency holds across
//   replicas (a request retried on another replica is replayed; its id
//   reused with another payload is refused).
#include <openssl/evp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "tests/submission/test_util.h"
#include "tests/support/change_events.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"

namespace halfsky::submission {
namespace {

namespace v1 = ::halfsky::v1;
using ::halfsky::submission::testing::Fraction;

constexpr char kPassword[] = "pg-test-password-42";

std::string Sha256Hex(const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(md), len));
}

std::string Binary() {
  return std::string(HALFSKY_BINARY_DIR) + "/services/submission/halfsky-submission";
}

// One halfsky-submission process.
class Replica {
 public:
  Replica(std::string dir, std::string name, std::vector<std::string> store_flags)
      : dir_(std::move(dir)), name_(std::move(name)), store_flags_(std::move(store_flags)) {}
  void Start() {
    const std::string address_file = dir_ + "/" + name_ + ".addr";
    std::remove(address_file.c_str());
    std::vector<std::string> argv = {Binary(),
                                     "--listen=127.0.0.1:0",
                                     "--metrics_listen=",
                                     "--address_file=" + address_file,
                                     "--catalog=" + testing::TestCatalogPath(),
                                     "--tokens_file=" + dir_ + "/tokens.txt",
                                     "--heartbeat_interval=200ms",
                                     "--rate_limit_per_second=0"};
    argv.insert(argv.end(), store_flags_.begin(), store_flags_.end());
    auto child = halfsky::testing::ChildProcess::Start(argv, log());
    ASSERT_TRUE(child.ok()) << child.status();
    process_ = std::move(*child);
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    std::string addr;
    while (absl::Now() < deadline && process_->Running()) {
      addr = halfsky::testing::ReadFile(address_file);
      if (addr.find('\n') != std::string::npos) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
    const size_t at = addr.find("grpc=");
    ASSERT_NE(at, std::string::npos) << name_ << " did not start; log:\n"
                                     << halfsky::testing::ReadFile(log());
    channel_ = grpc::CreateChannel(addr.substr(at + 5, addr.find_first_of(" \n", at) - at - 5),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::SubmissionService::NewStub(channel_);
  }
  void Kill() {
    process_->Signal(SIGKILL);
    ASSERT_TRUE(process_->Wait(absl::Seconds(10)).ok());
    process_.reset();
  }
  std::string log() const { return dir_ + "/" + name_ + ".log"; }
  v1::SubmissionService::Stub& stub() { return *stub_; }

 private:
  std::string dir_, name_;
  std::vector<std::string> store_flags_;
  std::unique_ptr<halfsky::testing::ChildProcess> process_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::SubmissionService::Stub> stub_;
};

class PostgresReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = halfsky::testing::MakeTempDir("submission-pg");
    std::ofstream tokens(dir_ + "/tokens.txt");
    tokens << Sha256Hex("unit-token") << " unit-client unit:HEALTH_BUREAU\n";
    tokens << Sha256Hex("reader-token") << " reader assessment\n";
    tokens.close();
    halfsky::testing::PostgresServer::StartOptions o;
    o.password = kPassword;  // scram over TCP: the replicas must present it
    auto server = halfsky::testing::PostgresServer::Start(o);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto uri = server_->CreateDatabase("halfsky");
    ASSERT_TRUE(uri.ok()) << uri.status();
    uri_ = *uri;
    password_file_ = dir_ + "/pg-password";
    std::ofstream(password_file_) << kPassword << "\n";
    chmod(password_file_.c_str(), 0600);
  }
  std::vector<std::string> StoreFlags() const {
    return {"--store=postgres:" + uri_, "--store_password_file=" + password_file_};
  }

  std::string dir_, uri_, password_file_;
  std::unique_ptr<halfsky::testing::PostgresServer> server_;
};

grpc::Status Submit(v1::SubmissionService::Stub& stub, const v1::SubmitBatchRequest& req,
                    v1::SubmitBatchResponse* resp) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer unit-token");
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return stub.SubmitBatch(&ctx, req, resp);
}

// Every revision from the feed after `after`, until a heartbeat at the head.
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
    if (!ev.has_revision()) break;
    out.push_back(ev.revision());
  }
  ctx.TryCancel();
  reader->Finish().IgnoreError();
  return out;
}

TEST_F(PostgresReplicasTest, OneReplicaSubmitReadBackRestartReadBack) {
  Replica replica(dir_, "r0", StoreFlags());
  replica.Start();
  if (HasFatalFailure()) return;
  v1::SubmitBatchRequest req;
  req.set_request_id("first");
  for (int year : {2024, 2023}) {
    v1::DataValue v = Fraction("HEALTH-01", year, year - 2012, 1000000);
    v.mutable_key()->set_residence(v1::RESIDENCE_URBAN);
    *req.add_data_values() = v;
  }
  v1::SubmitBatchResponse resp;
  grpc::Status st = Submit(replica.stub(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message() << "\n" << halfsky::testing::ReadFile(replica.log());
  EXPECT_EQ(resp.created_count(), 2);
  EXPECT_EQ(resp.sequences().first(), 1);
  EXPECT_EQ(resp.sequences().last(), 2);

  auto read_back = [&] {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer reader-token");
    v1::ListDataValuesRequest list;
    list.add_indicator_ids("HEALTH-01");
    v1::ListDataValuesResponse values;
    grpc::Status s = replica.stub().ListDataValues(&ctx, list, &values);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::map<int, double> by_year;
    for (const auto& r : values.data_values()) {
      by_year[r.data_value().key().year()] = r.data_value().fraction().numerator();
    }
    return by_year;
  };
  const std::map<int, double> expected = {{2023, 11}, {2024, 12}};
  EXPECT_EQ(read_back(), expected);

  replica.Kill();  // acknowledged = committed: nothing may be lost
  replica.Start();
  if (HasFatalFailure()) return;
  EXPECT_EQ(read_back(), expected);
  std::vector<v1::Revision> feed = ReadFeed(replica.stub(), 0);
  ASSERT_EQ(feed.size(), 2u);
  EXPECT_EQ(feed[0].request_id(), "first");
  v1::SubmitBatchResponse again;
  ASSERT_TRUE(Submit(replica.stub(), req, &again).ok());
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(again.sequences().last(), 2);
}

TEST_F(PostgresReplicasTest, PasswordInTheUriIsRefusedAtStart) {
  std::string with_password = uri_;
  with_password.replace(with_password.find("halfsky@"), 8,
                        absl::StrCat("halfsky:", kPassword, "@"));
  auto child = halfsky::testing::ChildProcess::Start(
      {Binary(), "--listen=127.0.0.1:0",
       "--metrics_listen=", "--catalog=" + testing::TestCatalogPath(),
       "--tokens_file=" + dir_ + "/tokens.txt", "--store=postgres:" + with_password},
      dir_ + "/refused.log");
  ASSERT_TRUE(child.ok());
  auto status = (*child)->Wait(absl::Seconds(30));
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0);
  const std::string log = halfsky::testing::ReadFile(dir_ + "/refused.log");
  EXPECT_NE(log.find("must not carry a password"), std::string::npos) << log;
  EXPECT_EQ(log.find(kPassword), std::string::npos) << "the password was printed:\n" << log;

  // And without any password (no file, no PGPASSWORD) the server refuses.
  auto no_password = halfsky::testing::ChildProcess::Start(
      {Binary(), "--listen=127.0.0.1:0",
       "--metrics_listen=", "--catalog=" + testing::TestCatalogPath(),
       "--tokens_file=" + dir_ + "/tokens.txt", "--store=postgres:" + uri_},
      dir_ + "/nopw.log");
  ASSERT_TRUE(no_password.ok());
  auto st2 = (*no_password)->Wait(absl::Seconds(30));
  ASSERT_TRUE(st2.ok());
  EXPECT_TRUE(WIFEXITED(*st2) && WEXITSTATUS(*st2) != 0);
}

TEST_F(PostgresReplicasTest, ThreeReplicasFeedIsGaplessInCommitOrderForEveryFollower) {
  constexpr int kReplicas = 3;
  std::vector<std::unique_ptr<Replica>> replicas;
  for (int i = 0; i < kReplicas; ++i) {
    replicas.push_back(std::make_unique<Replica>(dir_, absl::StrCat("r", i), StoreFlags()));
    replicas.back()->Start();
    if (HasFatalFailure()) return;
  }

  // A live follower on every replica, from the beginning.
  struct Follower {
    std::mutex mu;
    std::vector<v1::Revision> seen;
    grpc::ClientContext ctx;
  };
  std::vector<std::unique_ptr<Follower>> followers;
  std::vector<std::thread> follower_threads;
  for (int i = 0; i < kReplicas; ++i) {
    followers.push_back(std::make_unique<Follower>());
    Follower* f = followers.back().get();
    v1::SubmissionService::Stub* stub = &replicas[i]->stub();
    follower_threads.emplace_back([f, stub] {
      f->ctx.AddMetadata("authorization", "Bearer reader-token");
      v1::WatchChangesRequest req;
      auto reader = halfsky::testing::ChangeEvents(stub->WatchChanges(&f->ctx, req));
      v1::ChangeEvent ev;
      while (reader->Read(&ev)) {
        if (ev.has_revision()) {
          std::lock_guard<std::mutex> lock(f->mu);
          f->seen.push_back(ev.revision());
        }
      }
      reader->Finish().IgnoreError();
    });
  }

  // Writers: two per replica, on keys they share with the other replicas'
  // writers, so revisions of one key interleave across replicas.
  constexpr int kWritersPerReplica = 2;
  constexpr int kRequestsPerWriter = 40;
  struct Acked {
    std::string request_id;
    int replica;
    v1::SubmitBatchRequest req;
    v1::SubmitBatchResponse resp;
  };
  std::mutex mu;
  std::vector<Acked> acked;
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int r = 0; r < kReplicas; ++r) {
    for (int w = 0; w < kWritersPerReplica; ++w) {
      writers.emplace_back([&, r, w] {
        const char* areas[] = {"610303", "610303001", "610303100"};
        for (int i = 0; i < kRequestsPerWriter; ++i) {
          Acked a;
          a.replica = r;
          a.request_id = absl::StrCat("r", r, "w", w, "-", i);
          a.req.set_request_id(a.request_id);
          for (int k = 0; k < 3; ++k) {
            // Shared keys: (year, area) by k and i; a value unique to the writer.
            v1::DataValue v = Fraction("HEALTH-01", 2020 + (i + k) % 5, r * 3000 + w * 1000 + i + 1,
                                       1000000, areas[(i + k) % 3]);
            v.mutable_key()->set_residence(v1::RESIDENCE_URBAN);
            *a.req.add_data_values() = v;
          }
          grpc::Status st = Submit(replicas[r]->stub(), a.req, &a.resp);
          if (!st.ok()) {
            ++failures;
            std::cerr << a.request_id << ": " << st.error_message() << "\n";
            continue;
          }
          std::lock_guard<std::mutex> lock(mu);
          acked.push_back(std::move(a));
        }
      });
    }
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);

  // Every acknowledged new revision, by sequence.
  std::map<int64_t, std::string> expected;
  for (const Acked& a : acked) {
    for (const auto& res : a.resp.results()) {
      if (res.sequence() != 0) {
        EXPECT_TRUE(expected.emplace(res.sequence(), a.request_id).second)
            << "sequence " << res.sequence() << " acknowledged twice";
      }
    }
  }
  ASSERT_FALSE(expected.empty());
  const int64_t head = expected.rbegin()->first;
  EXPECT_EQ(static_cast<size_t>(head), expected.size()) << "acknowledged sequences have gaps";

  // Each follower catches up to the head (live, across replicas: the
  // others' commits reach it by NOTIFY) and saw each revision once, in order.
  for (int i = 0; i < kReplicas; ++i) {
    Follower& f = *followers[i];
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      {
        std::lock_guard<std::mutex> lock(f.mu);
        if (!f.seen.empty() && f.seen.back().sequence() >= head) break;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    f.ctx.TryCancel();
    follower_threads[i].join();
    ASSERT_EQ(f.seen.size(), static_cast<size_t>(head)) << "follower of replica " << i;
    for (size_t k = 0; k < f.seen.size(); ++k) {
      ASSERT_EQ(f.seen[k].sequence(), static_cast<int64_t>(k + 1))
          << "follower of replica " << i << ": gap, duplicate or disorder";
      EXPECT_EQ(f.seen[k].request_id(), expected[f.seen[k].sequence()]);
    }
  }
  // A key's revisions are numbered in commit order across replicas.
  std::map<std::string, int64_t> last_revision;
  for (const v1::Revision& rev : followers[0]->seen) {
    const std::string key = rev.data_value().key().SerializeAsString();
    EXPECT_EQ(rev.revision(), last_revision[key] + 1);
    last_revision[key] = rev.revision();
  }

  // Idempotency across replicas.
  int replays = 0;
  for (const Acked& a : acked) {
    if (replays == 10) break;
    Replica& other = *replicas[(a.replica + 1) % kReplicas];
    v1::SubmitBatchResponse again;
    ASSERT_TRUE(Submit(other.stub(), a.req, &again).ok());
    EXPECT_TRUE(again.replayed()) << a.request_id;
    EXPECT_EQ(again.sequences().first(), a.resp.sequences().first());
    EXPECT_EQ(again.sequences().last(), a.resp.sequences().last());
    v1::SubmitBatchRequest reused = a.req;
    reused.mutable_data_values(0)->mutable_fraction()->set_numerator(7);
    v1::SubmitBatchResponse refused;
    EXPECT_EQ(Submit(other.stub(), reused, &refused).error_code(),
              grpc::StatusCode::ALREADY_EXISTS);
    ++replays;
  }
  EXPECT_EQ(ReadFeed(replicas[2]->stub(), head).size(), 0u) << "a replay wrote something";
}

}  // namespace
}  // namespace halfsky::submission
