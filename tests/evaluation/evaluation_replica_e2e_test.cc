// Read replicas (halfsky-evaluation --follow), end to end: the real suite
// (redis-server, halfsky-submission, halfsky-aggregation and the primary
// halfsky-evaluation as child processes) plus a real replica process that
// follows the primary through a TCP proxy in this test (so a network
// partition can be made while both processes keep running). Checked: the
// replica lists what the primary lists; its watchers see the primary's
// changes; acknowledgements sent to it are stored on the primary with the
// caller's identity, refused with the primary's status otherwise, and
// survive a primary restart; a partition or a killed primary makes it
// NOT_SERVING and ends its watchers with UNAVAILABLE; back in touch it
// resyncs from a fresh snapshot.

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/auth/credentials.h"
#include "common/auth/token_store.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "tests/evaluation/service_test_util.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"

namespace halfsky::evaluation {
namespace {

using ::halfsky::v1::EvaluationService;
using ::halfsky::v1::ListWarningsRequest;
using ::halfsky::v1::ListWarningsResponse;
using ::halfsky::v1::WarningEvent;
using testing::FractionValue;

constexpr char kServiceToken[] = "service-token-1";
constexpr char kWarningId[] = "HEALTH-02:610303:progress:2030";

// A loopback TCP proxy: forwards every accepted connection to
// 127.0.0.1:target. Cut() severs every connection and refuses new ones
// (accepts and closes them) until Restore(). Thread-safe.
class TcpProxy {
 public:
  static absl::StatusOr<std::unique_ptr<TcpProxy>> Start(int target_port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      close(fd);
      return absl::InternalError("proxy: cannot listen");
    }
    std::unique_ptr<TcpProxy> proxy(new TcpProxy(fd, ntohs(addr.sin_port), target_port));
    proxy->acceptor_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
    return proxy;
  }

  ~TcpProxy() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    acceptor_.join();
    Sever();
    close(listen_fd_);
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  void SetTarget(int port) {
    absl::MutexLock lock(&mu_);
    target_ = port;
  }
  void Cut() {
    {
      absl::MutexLock lock(&mu_);
      cut_ = true;
    }
    Sever();
  }
  void Restore() {
    absl::MutexLock lock(&mu_);
    cut_ = false;
  }

 private:
  struct Connection {
    int client;
    int upstream;
    std::thread up;
    std::thread down;
  };

  TcpProxy(int fd, int port, int target) : listen_fd_(fd), port_(port), target_(target) {}

  static void Pump(int from, int to) {
    char buf[16384];
    while (true) {
      const ssize_t n = read(from, buf, sizeof(buf));
      if (n <= 0) {
        break;
      }
      ssize_t off = 0;
      while (off < n) {
        // MSG_NOSIGNAL: a peer gone must not SIGPIPE the test.
        const ssize_t w = send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
        if (w <= 0) {
          off = -1;
          break;
        }
        off += w;
      }
      if (off < 0) {
        break;
      }
    }
    shutdown(from, SHUT_RDWR);
    shutdown(to, SHUT_RDWR);
  }

  void AcceptLoop() {
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) {
          return;
        }
      }
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) {
        continue;
      }
      const int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) {
        continue;
      }
      int target = 0;
      bool cut = false;
      {
        absl::MutexLock lock(&mu_);
        target = target_;
        cut = cut_;
      }
      int upstream = -1;
      if (!cut) {
        upstream = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<uint16_t>(target));
        if (connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
          close(upstream);
          upstream = -1;
        }
      }
      if (upstream < 0) {
        close(client);
        continue;
      }
      auto c = std::make_unique<Connection>();
      c->client = client;
      c->upstream = upstream;
      c->up = std::thread([client, upstream] { Pump(client, upstream); });
      c->down = std::thread([client, upstream] { Pump(upstream, client); });
      absl::MutexLock lock(&mu_);
      connections_.push_back(std::move(c));
    }
  }

  // Ends every connection and waits for its pumps.
  void Sever() {
    std::vector<std::unique_ptr<Connection>> connections;
    {
      absl::MutexLock lock(&mu_);
      connections.swap(connections_);
    }
    for (auto& c : connections) {
      shutdown(c->client, SHUT_RDWR);
      shutdown(c->upstream, SHUT_RDWR);
      c->up.join();
      c->down.join();
      close(c->client);
      close(c->upstream);
    }
  }

  const int listen_fd_;
  const int port_;
  std::thread acceptor_;
  absl::Mutex mu_;
  int target_ ABSL_GUARDED_BY(mu_);
  bool cut_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::unique_ptr<Connection>> connections_ ABSL_GUARDED_BY(mu_);
};

int PortOf(const std::string& address) {
  int port = 0;
  EXPECT_TRUE(absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &port)) << address;
  return port;
}

// The grpc.health.v1 status of the server at `address` ("" if it does not
// answer).
std::string Health(const std::string& address) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  grpc::health::v1::HealthCheckResponse response;
  if (!stub->Check(&ctx, grpc::health::v1::HealthCheckRequest(), &response).ok()) {
    return "";
  }
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

// Polls `condition` every 20 ms for up to `timeout`.
bool Eventually(const std::function<bool()>& condition,
                absl::Duration timeout = absl::Seconds(20)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return condition();
}

class EvaluationReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    halfsky::testing::SuiteOptions options;
    options.catalog = testing::TestCatalogPath();
    options.tokens = absl::StrCat(testing::TokenFileContent(), auth::HashToken(kServiceToken),
                                  " halfsky-services service\n");
    options.service_token = kServiceToken;
    options.evaluation_flags = {"--reevaluate_interval=1h"};
    auto suite = halfsky::testing::Suite::Start(options);
    ASSERT_TRUE(suite.ok()) << suite.status();
    suite_ = std::move(*suite);
    auto proxy = TcpProxy::Start(PortOf(primary().address()));
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
    const std::string token_file = suite_->dir() + "/replica.token";
    ASSERT_TRUE(halfsky::testing::WriteTextFile(token_file, kServiceToken).ok());
    absl::Status started =
        replica_.Start(suite_->dir(), "replica", halfsky::testing::ServiceBinary("evaluation"),
                       testing::TestCatalogPath(), suite_->dir() + "/tokens.txt",
                       {"--follow=" + proxy_->address(), "--follow_token_file=" + token_file});
    ASSERT_TRUE(started.ok()) << started;
    Connect();
  }

  void TearDown() override {
    if (replica_.running()) {
      const absl::Status stopped = replica_.Stop();  // carries the exit status and the log
      EXPECT_TRUE(stopped.ok()) << stopped;
    }
    if (suite_ != nullptr) {
      EXPECT_TRUE(suite_->Stop().ok());
    }
  }

  void Connect() {
    primary_stub_ = EvaluationService::NewStub(
        grpc::CreateChannel(primary().address(), grpc::InsecureChannelCredentials()));
    replica_stub_ = EvaluationService::NewStub(
        grpc::CreateChannel(replica_.address(), grpc::InsecureChannelCredentials()));
  }

  halfsky::testing::ServiceProcess& primary() { return suite_->evaluation(); }

  // Restarts the primary (a new port) and points the proxy at it.
  void RestartPrimary() {
    absl::Status restarted = primary().Restart();
    ASSERT_TRUE(restarted.ok()) << restarted;
    proxy_->SetTarget(PortOf(primary().address()));
    Connect();
  }

  void Submit(const std::string& request_id, const std::vector<halfsky::v1::DataValue>& values) {
    auto stub = halfsky::v1::SubmissionService::NewStub(
        grpc::CreateChannel(suite_->submission().address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, testing::kUnitToken);
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    halfsky::v1::SubmitBatchRequest request;
    request.set_request_id(request_id);
    for (const auto& v : values) {
      *request.add_data_values() = v;
    }
    halfsky::v1::SubmitBatchResponse response;
    grpc::Status st = stub->SubmitBatch(&ctx, request, &response);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  // 50 % in 2020, 50.5 % in 2024 against ≥ 60 % by 2030: kWarningId fires.
  void SubmitLagging(const std::string& request_id = "lagging") {
    Submit(request_id, {FractionValue("HEALTH-02", 2020, 50, 100),
                        FractionValue("HEALTH-02", 2024, 50.5, 100)});
  }
  // 55 % in 2024: kWarningId resolves.
  void SubmitCorrection() { Submit("correction", {FractionValue("HEALTH-02", 2024, 55, 100)}); }

  static grpc::Status List(EvaluationService::Stub* stub, const ListWarningsRequest& request,
                           ListWarningsResponse* response) {
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, testing::kUnitToken);
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    return stub->ListWarnings(&ctx, request, response);
  }

  // The serialized answer, or "error: CODE".
  static std::string ListBytes(EvaluationService::Stub* stub, const ListWarningsRequest& request) {
    ListWarningsResponse response;
    grpc::Status st = List(stub, request, &response);
    if (!st.ok()) {
      return absl::StrCat("error: ", st.error_code(), " ", st.error_message());
    }
    return response.SerializeAsString();
  }

  // The warning `id` as the server at `stub` lists it in `state`; nullopt
  // when it does not.
  static std::optional<halfsky::v1::Warning> Find(EvaluationService::Stub* stub,
                                                  halfsky::v1::WarningState state,
                                                  const std::string& id = kWarningId) {
    ListWarningsRequest request;
    request.set_state(state);
    request.set_page_size(1000);
    ListWarningsResponse response;
    if (!List(stub, request, &response).ok()) {
      return std::nullopt;
    }
    for (const auto& w : response.warnings()) {
      if (w.id() == id) {
        return w;
      }
    }
    return std::nullopt;
  }

  // The requests whose answers must be equal on the primary and the
  // replica: default (firing), resolved, a filter, and two pages.
  std::vector<ListWarningsRequest> Requests() {
    std::vector<ListWarningsRequest> out(5);
    out[1].set_state(halfsky::v1::WARNING_STATE_RESOLVED);
    out[2].set_kind(halfsky::v1::WARNING_KIND_LATE_DATA);
    out[2].set_min_severity(halfsky::v1::SEVERITY_YELLOW);
    out[3].set_page_size(1);
    ListWarningsResponse first;
    if (List(primary_stub_.get(), out[3], &first).ok()) {
      out[4].set_page_size(1);
      out[4].set_page_token(first.next_page_token());
    }
    return out;
  }

  // Waits until the replica answers every Requests() exactly as the primary.
  void ExpectSameLists() {
    std::string diff;
    const bool same = Eventually([&] {
      for (const ListWarningsRequest& r : Requests()) {
        const std::string p = ListBytes(primary_stub_.get(), r);
        const std::string q = ListBytes(replica_stub_.get(), r);
        if (p != q || absl::StartsWith(p, "error")) {
          diff = absl::StrCat("request {", r.ShortDebugString(), "}: primary ", p.size(),
                              " bytes, replica ", absl::StartsWith(q, "error") ? q : "", q.size(),
                              " bytes");
          return false;
        }
      }
      return true;
    });
    EXPECT_TRUE(same) << diff << "\nreplica log:\n" << replica_.log();
  }

  // Opens a watch on the replica for HEALTH-02's progress warnings and
  // returns the CURRENT events before SYNCED.
  std::vector<WarningEvent> OpenWatch(grpc::ClientContext* ctx,
                                      std::unique_ptr<grpc::ClientReader<WarningEvent>>* reader) {
    auth::AddBearerToken(ctx, testing::kAssessmentToken);
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(45)));
    halfsky::v1::WatchWarningsRequest request;
    request.mutable_filter()->set_indicator_id("HEALTH-02");
    request.mutable_filter()->set_kind(halfsky::v1::WARNING_KIND_PROGRESS);
    *reader = replica_stub_->WatchWarnings(ctx, request);
    std::vector<WarningEvent> current;
    WarningEvent event;
    while ((*reader)->Read(&event)) {
      if (event.type() == halfsky::v1::WARNING_EVENT_TYPE_SYNCED) {
        return current;
      }
      current.push_back(event);
    }
    ADD_FAILURE() << "watch ended before SYNCED: " << (*reader)->Finish().error_message();
    return current;
  }

  // Reads the watch to its end and returns its status.
  static grpc::Status DrainWatch(grpc::ClientReader<WarningEvent>* reader) {
    WarningEvent event;
    while (reader->Read(&event)) {
    }
    return reader->Finish();
  }

  grpc::Status Acknowledge(EvaluationService::Stub* stub, const std::string& token,
                           const std::string& note, halfsky::v1::Warning* response) {
    grpc::ClientContext ctx;
    if (!token.empty()) {
      auth::AddBearerToken(&ctx, token);
    }
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    halfsky::v1::AcknowledgeWarningRequest request;
    request.set_warning_id(kWarningId);
    request.set_note(note);
    return stub->AcknowledgeWarning(&ctx, request, response);
  }

  // The value of an unlabelled metric on the replica's /metrics (-1 if
  // absent). The metrics port is read from the replica's log.
  double ReplicaMetric(const std::string& name) {
    std::smatch m;
    const std::string log = replica_.log();
    std::string last;
    const std::regex port_re("metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics");
    for (auto it = std::sregex_iterator(log.begin(), log.end(), port_re);
         it != std::sregex_iterator(); ++it) {
      last = (*it)[1];
    }
    int port = 0;
    if (!absl::SimpleAtoi(last, &port)) {
      return -1;
    }
    absl::StatusOr<std::string> page = halfsky::testing::HttpGet(port, "/metrics");
    if (!page.ok()) {
      return -1;
    }
    const std::regex value_re("\n" + name + " ([-0-9.e+]+)");
    if (!std::regex_search(*page, m, value_re)) {
      return -1;
    }
    double v = -1;
    return absl::SimpleAtod(m[1].str(), &v) ? v : -1;
  }

  std::unique_ptr<halfsky::testing::Suite> suite_;
  std::unique_ptr<TcpProxy> proxy_;
  halfsky::testing::ServiceProcess replica_;
  std::unique_ptr<EvaluationService::Stub> primary_stub_;
  std::unique_ptr<EvaluationService::Stub> replica_stub_;
};

TEST_F(EvaluationReplicaTest, ListsAndWatchesWhatThePrimaryHas) {
  EXPECT_EQ(Health(replica_.address()), "SERVING");
  grpc::ClientContext watch_ctx;
  std::unique_ptr<grpc::ClientReader<WarningEvent>> reader;
  EXPECT_TRUE(OpenWatch(&watch_ctx, &reader).empty());

  ASSERT_NO_FATAL_FAILURE(SubmitLagging());
  WarningEvent event;
  ASSERT_TRUE(reader->Read(&event)) << reader->Finish().error_message() << "\n" << replica_.log();
  EXPECT_EQ(event.type(), halfsky::v1::WARNING_EVENT_TYPE_FIRED);
  EXPECT_EQ(event.warning().id(), kWarningId);
  EXPECT_DOUBLE_EQ(event.warning().figures().current_value(), 50.5);
  ASSERT_TRUE(Find(primary_stub_.get(), halfsky::v1::WARNING_STATE_FIRING).has_value());
  // Several firing warnings (the late-data ones too), so paging means something.
  ListWarningsResponse all;
  ASSERT_TRUE(List(primary_stub_.get(), ListWarningsRequest(), &all).ok());
  EXPECT_GE(all.total_count(), 2);
  ExpectSameLists();

  ASSERT_NO_FATAL_FAILURE(SubmitCorrection());
  ASSERT_TRUE(reader->Read(&event)) << reader->Finish().error_message();
  EXPECT_EQ(event.type(), halfsky::v1::WARNING_EVENT_TYPE_RESOLVED);
  EXPECT_EQ(event.warning().id(), kWarningId);
  ASSERT_TRUE(Eventually(
      [&] { return Find(primary_stub_.get(), halfsky::v1::WARNING_STATE_RESOLVED).has_value(); }));
  ExpectSameLists();
  EXPECT_TRUE(Find(replica_stub_.get(), halfsky::v1::WARNING_STATE_RESOLVED).has_value());

  EXPECT_EQ(ReplicaMetric("halfsky_evaluation_follow_connected"), 1);
  EXPECT_GE(ReplicaMetric("halfsky_evaluation_follow_events_applied_total"), 2);
  EXPECT_GT(ReplicaMetric("halfsky_evaluation_follow_last_sync_timestamp_seconds"), 0);
  EXPECT_EQ(ReplicaMetric("halfsky_evaluation_follow_reconnects_total"), 0);
  watch_ctx.TryCancel();
  (void)DrainWatch(reader.get());
}

TEST_F(EvaluationReplicaTest, AcknowledgementsGoToThePrimaryAndSurviveItsRestart) {
  ASSERT_NO_FATAL_FAILURE(SubmitLagging());
  ASSERT_TRUE(Eventually([&] {
    return Find(replica_stub_.get(), halfsky::v1::WARNING_STATE_FIRING).has_value();
  })) << replica_.log();
  grpc::ClientContext watch_ctx;
  std::unique_ptr<grpc::ClientReader<WarningEvent>> reader;
  ASSERT_EQ(OpenWatch(&watch_ctx, &reader).size(), 1u);

  // Refusals are the primary's own: same code and message as asking it.
  halfsky::v1::Warning acked;
  for (const std::string& token : {std::string(), std::string(testing::kUnitToken)}) {
    const grpc::Status via_replica = Acknowledge(replica_stub_.get(), token, "措施", &acked);
    const grpc::Status direct = Acknowledge(primary_stub_.get(), token, "措施", &acked);
    EXPECT_EQ(via_replica.error_code(), token.empty() ? grpc::StatusCode::UNAUTHENTICATED
                                                      : grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(via_replica.error_code(), direct.error_code());
    EXPECT_EQ(via_replica.error_message(), direct.error_message());
  }
  const grpc::Status no_note =
      Acknowledge(replica_stub_.get(), testing::kAssessmentToken, "", &acked);
  EXPECT_EQ(no_note.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(no_note.error_details().empty()) << "the BadRequest detail is lost on the way";
  std::optional<halfsky::v1::Warning> before =
      Find(primary_stub_.get(), halfsky::v1::WARNING_STATE_FIRING);
  ASSERT_TRUE(before.has_value());
  EXPECT_FALSE(before->has_acknowledgement());

  // The assessment group acknowledges through the replica: stored on the
  // primary under the caller's name.
  grpc::Status st =
      Acknowledge(replica_stub_.get(), testing::kAssessmentToken, "开展宫颈癌筛查专项行动", &acked);
  ASSERT_TRUE(st.ok()) << st.error_message() << "\n" << replica_.log();
  EXPECT_EQ(acked.acknowledgement().by(), "alice");
  std::optional<halfsky::v1::Warning> on_primary =
      Find(primary_stub_.get(), halfsky::v1::WARNING_STATE_FIRING);
  ASSERT_TRUE(on_primary.has_value());
  EXPECT_EQ(on_primary->acknowledgement().by(), "alice");
  EXPECT_EQ(on_primary->acknowledgement().note(), "开展宫颈癌筛查专项行动");
  WarningEvent event;
  ASSERT_TRUE(reader->Read(&event)) << reader->Finish().error_message();
  EXPECT_EQ(event.type(), halfsky::v1::WARNING_EVENT_TYPE_ACKNOWLEDGED);
  EXPECT_EQ(event.warning().acknowledgement().by(), "alice");
  ExpectSameLists();

  // Evaluate is answered by the primary.
  {
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, testing::kUnitToken);
    halfsky::v1::EvaluateRequest request;
    request.set_indicator_id("HEALTH-02");
    halfsky::v1::EvaluateResponse response;
    st = replica_stub_->Evaluate(&ctx, request, &response);
    ASSERT_TRUE(st.ok()) << st.error_message();
    grpc::ClientContext direct_ctx;
    auth::AddBearerToken(&direct_ctx, testing::kUnitToken);
    halfsky::v1::EvaluateResponse direct;
    ASSERT_TRUE(primary_stub_->Evaluate(&direct_ctx, request, &direct).ok());
    EXPECT_EQ(response.SerializeAsString(), direct.SerializeAsString());
    EXPECT_GT(response.series_size(), 0);
    bool acked_in_evaluate = false;
    for (const auto& w : response.warnings()) {
      acked_in_evaluate |= w.id() == kWarningId && w.acknowledgement().by() == "alice";
    }
    EXPECT_TRUE(acked_in_evaluate) << response.ShortDebugString();
    grpc::ClientContext anonymous;
    EXPECT_EQ(replica_stub_->Evaluate(&anonymous, request, &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }

  // The primary restarts: the replica's watchers end UNAVAILABLE, it is not
  // serving while the primary is away, then back with the acknowledgement.
  ASSERT_TRUE(primary().Stop().ok());
  EXPECT_EQ(DrainWatch(reader.get()).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(Eventually([&] { return Health(replica_.address()) == "NOT_SERVING"; }));
  ListWarningsResponse stale;
  EXPECT_EQ(List(replica_stub_.get(), ListWarningsRequest(), &stale).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  ASSERT_NO_FATAL_FAILURE(RestartPrimary());
  ASSERT_TRUE(Eventually([&] { return Health(replica_.address()) == "SERVING"; }))
      << replica_.log();
  std::optional<halfsky::v1::Warning> on_replica =
      Find(replica_stub_.get(), halfsky::v1::WARNING_STATE_FIRING);
  ASSERT_TRUE(on_replica.has_value());
  EXPECT_EQ(on_replica->acknowledgement().by(), "alice");
  EXPECT_EQ(on_replica->acknowledgement().note(), "开展宫颈癌筛查专项行动");
  ExpectSameLists();
  EXPECT_GE(ReplicaMetric("halfsky_evaluation_follow_reconnects_total"), 1);
}

TEST_F(EvaluationReplicaTest, ResyncsAfterAPartitionAndAfterThePrimaryIsKilled) {
  ASSERT_NO_FATAL_FAILURE(SubmitLagging());
  ASSERT_TRUE(Eventually([&] {
    return Find(replica_stub_.get(), halfsky::v1::WARNING_STATE_FIRING).has_value();
  })) << replica_.log();
  grpc::ClientContext watch_ctx;
  std::unique_ptr<grpc::ClientReader<WarningEvent>> reader;
  ASSERT_EQ(OpenWatch(&watch_ctx, &reader).size(), 1u);

  // Partition: both processes run, the replica cannot reach the primary.
  proxy_->Cut();
  EXPECT_EQ(DrainWatch(reader.get()).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(Eventually([&] { return Health(replica_.address()) == "NOT_SERVING"; }));
  EXPECT_EQ(ReplicaMetric("halfsky_evaluation_follow_connected"), 0);
  ListWarningsResponse stale;
  EXPECT_EQ(List(replica_stub_.get(), ListWarningsRequest(), &stale).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReader<WarningEvent>> refused;
    auth::AddBearerToken(&ctx, testing::kAssessmentToken);
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    refused = replica_stub_->WatchWarnings(&ctx, halfsky::v1::WatchWarningsRequest());
    EXPECT_EQ(DrainWatch(refused.get()).error_code(), grpc::StatusCode::UNAVAILABLE);
  }

  // Resolved while the replica is away.
  ASSERT_NO_FATAL_FAILURE(SubmitCorrection());
  ASSERT_TRUE(Eventually(
      [&] { return Find(primary_stub_.get(), halfsky::v1::WARNING_STATE_RESOLVED).has_value(); }));
  absl::SleepFor(absl::Milliseconds(300));  // the replica keeps retrying meanwhile
  proxy_->Restore();
  ASSERT_TRUE(Eventually([&] { return Health(replica_.address()) == "SERVING"; }))
      << replica_.log();
  EXPECT_FALSE(Find(replica_stub_.get(), halfsky::v1::WARNING_STATE_FIRING).has_value())
      << "a warning resolved during the partition still fires on the replica";
  EXPECT_TRUE(Find(replica_stub_.get(), halfsky::v1::WARNING_STATE_RESOLVED).has_value());
  ExpectSameLists();

  // The primary crashes: same, and back once it is restarted.
  grpc::ClientContext watch2_ctx;
  ASSERT_TRUE(OpenWatch(&watch2_ctx, &reader).empty());
  primary().Kill();
  EXPECT_EQ(DrainWatch(reader.get()).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(Eventually([&] { return Health(replica_.address()) == "NOT_SERVING"; }));
  ASSERT_NO_FATAL_FAILURE(SubmitLagging("lagging-again"));  // fires again once the primary is back
  ASSERT_NO_FATAL_FAILURE(RestartPrimary());
  ASSERT_TRUE(Eventually([&] { return Health(replica_.address()) == "SERVING"; }))
      << replica_.log();
  ASSERT_TRUE(Eventually([&] {
    return Find(replica_stub_.get(), halfsky::v1::WARNING_STATE_FIRING).has_value();
  })) << replica_.log();
  ExpectSameLists();
}

TEST_F(EvaluationReplicaTest, ANewReplicaServesOnlyOnceInSync) {
  ASSERT_NO_FATAL_FAILURE(SubmitLagging());
  ASSERT_TRUE(Eventually(
      [&] { return Find(primary_stub_.get(), halfsky::v1::WARNING_STATE_FIRING).has_value(); }));
  // A replica started while the primary cannot be reached.
  proxy_->Cut();
  const std::string address_file = suite_->dir() + "/late-replica.address";
  auto child = halfsky::testing::ChildProcess::Start(
      {halfsky::testing::ServiceBinary("evaluation"), "--listen=127.0.0.1:0",
       "--metrics_listen=127.0.0.1:0", "--address_file=" + address_file,
       "--catalog=" + testing::TestCatalogPath(), "--tokens_file=" + suite_->dir() + "/tokens.txt",
       "--drain_delay=0s", "--grace_period=3s", "--follow=" + proxy_->address(),
       "--follow_token_file=" + suite_->dir() + "/replica.token"},
      suite_->dir() + "/late-replica.log");
  ASSERT_TRUE(child.ok()) << child.status();
  std::string address;
  ASSERT_TRUE(Eventually([&] {
    const std::string text = halfsky::testing::ReadFile(address_file);
    const size_t at = text.find("grpc=");
    if (at == std::string::npos || text.find('\n') == std::string::npos) {
      return false;
    }
    address = text.substr(at + 5, text.find(' ', at) - at - 5);
    return true;
  }));
  EXPECT_EQ(Health(address), "NOT_SERVING");
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(Health(address), "NOT_SERVING");
  auto late =
      EvaluationService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  ListWarningsResponse response;
  EXPECT_EQ(List(late.get(), ListWarningsRequest(), &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);

  proxy_->Restore();
  EXPECT_TRUE(Eventually([&] { return Health(address) == "SERVING"; }))
      << halfsky::testing::ReadFile(suite_->dir() + "/late-replica.log");
  EXPECT_TRUE(Find(late.get(), halfsky::v1::WARNING_STATE_FIRING).has_value());
  (*child)->Signal(SIGTERM);
  absl::StatusOr<int> exited = (*child)->Wait(absl::Seconds(15));
  ASSERT_TRUE(exited.ok());
  EXPECT_TRUE(WIFEXITED(*exited) && WEXITSTATUS(*exited) == 0) << *exited;
}

}  // namespace
}  // namespace halfsky::evaluation
