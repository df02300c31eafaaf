// Redis over TLS through a tunnel (issue #13 item 3, "TLS where the
// deployment asks"), on real processes. hiredis 0.14 has no TLS, so the
// services speak plaintext RESP to the loopback end of a stunnel client
// (Debian's stunnel4) that carries it over TLS to Redis, verifying the
// server's certificate (CA file, verifyChain, checkHost) and presenting a
// client certificate: the sidecar of deploy/k8s/components/redis-tls, run
// here with that component's own stunnel.conf (placeholders substituted).
//   - redis-server listens with TLS only (plaintext port 0, a test CA and
//     certificates made with openssl at run time, client certificates
//     required) and deploy/redis/users.acl.in;
//   - one tunnel per service on a run-time port: aggregation (the writer
//     user) aggregates a submitted value into Redis, evaluation (the reader
//     user) reads it back — also with aggregation stopped, so only Redis,
//     through evaluation's tunnel, can have answered;
//   - refusals: a tunnel with the wrong CA, one checking the wrong name, one
//     without the client certificate get no Redis (the services log Redis
//     UNAVAILABLE naming the tunnel, the tunnel logs why); a plaintext
//     client on the TLS port gets no reply; --redis_tls_tunnel refuses a
//     sentinel:// address and a non-loopback host.
// Needs stunnel4 and openssl: skipped without them unless
// HALFSKY_REQUIRE_DEPLOY_TOOLS=1 (CI), which makes their absence a failure.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/auth/credentials.h"
#include "common/auth/token_store.h"
#include "common/cache/cache_layout.h"
#include "common/redis/hiredis_client.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "tests/evaluation/service_test_util.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"

namespace halfsky::evaluation {
namespace {

using halfsky::testing::ChildProcess;
using halfsky::testing::RunCommand;
using testing::FractionValue;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kServiceToken[] = "service-token-1";
constexpr char kMacKey[] = "tls-e2e-cache-mac-key-71c2";
// The name in the server certificate (and what the tunnels check).
constexpr char kServerName[] = "redis.halfsky.test";
constexpr char kStunnelConf[] = "deploy/k8s/components/redis-tls/stunnel.conf";

// `name` found on PATH (or an absolute path), "" if absent.
std::string FindProgram(const std::string& name) {
  if (name.empty()) {
    return "";
  }
  if (name[0] == '/') {
    return access(name.c_str(), X_OK) == 0 ? name : "";
  }
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path != nullptr ? path : "/usr/bin:/bin", ':')) {
    const std::string candidate = absl::StrCat(dir, "/", name);
    if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

// $HALFSKY_STUNNEL, else stunnel4 (Debian's name), else stunnel.
std::string FindStunnel() {
  if (const char* env = std::getenv("HALFSKY_STUNNEL"); env != nullptr && *env != '\0') {
    return FindProgram(env);
  }
  std::string found = FindProgram("stunnel4");
  return found.empty() ? FindProgram("stunnel") : found;
}

// How a tunnel verifies the server and whom it presents.
struct TunnelConfig {
  std::string ca_file;                   // CAfile
  std::string check_host = kServerName;  // checkHost (and sni)
  bool client_cert = true;               // cert/key lines uncommented
};

TunnelConfig Trusting(const std::string& ca_file, bool client_cert = true,
                      const std::string& check_host = kServerName) {
  TunnelConfig config;
  config.ca_file = ca_file;
  config.client_cert = client_cert;
  config.check_host = check_host;
  return config;
}

// One stunnel client: 127.0.0.1:port() -> TLS to the Redis TLS port.
class Tunnel {
 public:
  // Writes DIR/NAME.conf from the component's stunnel.conf and starts it
  // (retrying on another port if the one picked was taken).
  static absl::StatusOr<std::unique_ptr<Tunnel>> Start(const std::string& stunnel,
                                                       const std::string& dir,
                                                       const std::string& name, int redis_port,
                                                       const TunnelConfig& config) {
    absl::StatusOr<std::string> shipped = halfsky::testing::ReadSourceFile(kStunnelConf);
    if (!shipped.ok()) {
      return shipped.status();
    }
    for (const char* placeholder :
         {"accept = 127.0.0.1:6380", "connect = managed-redis.invalid:6380",
          "checkHost = managed-redis.invalid", "sni = managed-redis.invalid", "verifyChain = yes",
          "CAfile = /etc/halfsky/redis-tls/ca.crt", ";cert = /etc/halfsky/redis-tls/tls.crt",
          ";key = /etc/halfsky/redis-tls/tls.key"}) {
      if (!absl::StrContains(*shipped, placeholder)) {
        return absl::FailedPreconditionError(
            absl::StrCat(kStunnelConf, " no longer has the line \"", placeholder, "\""));
      }
    }
    auto tunnel = std::unique_ptr<Tunnel>(new Tunnel());
    tunnel->log_path_ = absl::StrCat(dir, "/", name, ".stunnel.log");
    for (int attempt = 0; attempt < 5; ++attempt) {
      tunnel->port_ = halfsky::testing::FreePort();
      std::string conf = absl::StrReplaceAll(
          *shipped,
          {{"accept = 127.0.0.1:6380", absl::StrCat("accept = 127.0.0.1:", tunnel->port_)},
           {"connect = managed-redis.invalid:6380",
            absl::StrCat("connect = 127.0.0.1:", redis_port)},
           {"checkHost = managed-redis.invalid", "checkHost = " + config.check_host},
           {"sni = managed-redis.invalid", "sni = " + config.check_host},
           {"CAfile = /etc/halfsky/redis-tls/ca.crt", "CAfile = " + config.ca_file},
           {"/etc/halfsky/redis-tls/", dir + "/"}});
      if (config.client_cert) {
        conf = absl::StrReplaceAll(conf, {{";cert = ", "cert = "}, {";key = ", "key = "}});
      }
      const std::string conf_path = absl::StrCat(dir, "/", name, ".stunnel.conf");
      if (absl::Status st = halfsky::testing::WriteTextFile(conf_path, conf); !st.ok()) {
        return st;
      }
      auto child = ChildProcess::Start({stunnel, conf_path}, tunnel->log_path_);
      if (!child.ok()) {
        return child.status();
      }
      tunnel->process_ = std::move(*child);
      if (halfsky::testing::WaitForPort(tunnel->port_, absl::Seconds(10))) {
        return tunnel;
      }
      tunnel->process_.reset();
    }
    return absl::UnavailableError(absl::StrCat(
        "stunnel ", name, " did not listen: ", halfsky::testing::ReadFile(tunnel->log_path_)));
  }

  int port() const { return port_; }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  std::string log() const { return halfsky::testing::ReadFile(log_path_); }

 private:
  Tunnel() = default;
  int port_ = 0;
  std::string log_path_;
  std::unique_ptr<ChildProcess> process_;
};

class RedisTlsTunnelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stunnel_ = FindStunnel();
    openssl_ = FindProgram("openssl");
    if (stunnel_.empty() || openssl_.empty()) {
      const char* require = std::getenv("HALFSKY_REQUIRE_DEPLOY_TOOLS");
      const std::string what =
          absl::StrCat(stunnel_.empty() ? "stunnel4 " : "", openssl_.empty() ? "openssl " : "",
                       "not found (Debian: apt-get install stunnel4 openssl)");
      if (require != nullptr && std::string(require) == "1") {
        FAIL() << what << " and HALFSKY_REQUIRE_DEPLOY_TOOLS=1";
      }
      GTEST_SKIP() << what;
    }
    dir_ = halfsky::testing::MakeTempDir("halfsky-redis-tls");
    ASSERT_FALSE(dir_.empty());
    ASSERT_NO_FATAL_FAILURE(MakePki());
  }

  void TearDown() override {
    if (suite_ != nullptr) {
      EXPECT_TRUE(suite_->Stop().ok());
    }
  }

  void OpenSsl(std::vector<std::string> args) {
    args.insert(args.begin(), openssl_);
    auto run = RunCommand(args);
    ASSERT_TRUE(run.ok()) << run.status();
    ASSERT_EQ(run->exit_code, 0) << absl::StrJoin(args, " ") << "\n" << run->err;
  }

  // A CA, the server's certificate (for kServerName and 127.0.0.1), a client
  // certificate, and a second CA that signed none of them.
  void MakePki() {
    const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt",
                                         "ec_paramgen_curve:prime256v1", "-nodes"};
    auto req = [&](std::vector<std::string> args) {
      std::vector<std::string> all = {"req"};
      all.insert(all.end(), ec.begin(), ec.end());
      all.insert(all.end(), args.begin(), args.end());
      return all;
    };
    for (const char* ca : {"ca", "other-ca"}) {
      ASSERT_NO_FATAL_FAILURE(OpenSsl(
          req({"-x509", "-days", "2", "-subj", absl::StrCat("/CN=halfsky test ", ca), "-keyout",
               Path(absl::StrCat(ca, ".key")), "-out", Path(absl::StrCat(ca, ".crt"))})));
    }
    ASSERT_TRUE(halfsky::testing::WriteTextFile(Path("server.ext"),
                                                absl::StrCat("subjectAltName=DNS:", kServerName,
                                                             ",IP:127.0.0.1\n"
                                                             "extendedKeyUsage=serverAuth\n"))
                    .ok());
    ASSERT_TRUE(
        halfsky::testing::WriteTextFile(Path("client.ext"), "extendedKeyUsage=clientAuth\n").ok());
    for (const char* who : {"server", "client"}) {
      const std::string name = who;
      ASSERT_NO_FATAL_FAILURE(
          OpenSsl(req({"-subj",
                       name == "server" ? absl::StrCat("/CN=", kServerName)
                                        : std::string("/CN=halfsky-services"),
                       "-keyout", Path(name + ".key"), "-out", Path(name + ".csr")})));
      ASSERT_NO_FATAL_FAILURE(
          OpenSsl({"x509", "-req", "-in", Path(name + ".csr"), "-CA", Path("ca.crt"), "-CAkey",
                   Path("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", Path(name + ".ext"),
                   "-out", Path(name + ".crt")}));
    }
    // The tunnels' client certificate, under the names the component's
    // stunnel.conf gives them (tls.crt, tls.key).
    ASSERT_EQ(std::rename(Path("client.crt").c_str(), Path("tls.crt").c_str()), 0);
    ASSERT_EQ(std::rename(Path("client.key").c_str(), Path("tls.key").c_str()), 0);
    for (const char* key : {"tls.key", "server.key", "ca.key", "other-ca.key"}) {
      ASSERT_EQ(chmod(Path(key).c_str(), 0600), 0);
    }
  }

  std::string Path(const std::string& name) const { return absl::StrCat(dir_, "/", name); }

  halfsky::testing::RedisTlsFiles ServerTls(bool require_client_cert) const {
    return {Path("server.crt"), Path("server.key"), Path("ca.crt"), require_client_cert};
  }

  // The suite on a TLS-only Redis, each service behind its own tunnel
  // (`config`), both with --redis_tls_tunnel.
  void StartSuite(const TunnelConfig& config, bool require_client_cert) {
    halfsky::testing::SuiteOptions options;
    options.dir = dir_;
    options.catalog = testing::TestCatalogPath();
    options.tokens = absl::StrCat(testing::TokenFileContent(), auth::HashToken(kServiceToken),
                                  " halfsky-services service\n");
    options.service_token = kServiceToken;
    options.redis_acl = true;
    options.cache_mac_key = kMacKey;
    options.redis_tls = ServerTls(require_client_cert);
    options.aggregation_flags = {"--redis_tls_tunnel"};
    options.evaluation_flags = {"--redis_tls_tunnel", "--reevaluate_interval=1h"};
    options.redis_address_for =
        [&](const std::string& service,
            halfsky::testing::RedisServer& redis) -> absl::StatusOr<std::string> {
      auto tunnel = Tunnel::Start(stunnel_, dir_, service, redis.port(), config);
      if (!tunnel.ok()) {
        return tunnel.status();
      }
      const std::string address = (*tunnel)->address();
      tunnels_[service] = std::move(*tunnel);
      return address;
    };
    auto suite = halfsky::testing::Suite::Start(options);
    ASSERT_TRUE(suite.ok()) << suite.status();
    suite_ = std::move(*suite);
    stub_ = halfsky::v1::EvaluationService::NewStub(
        grpc::CreateChannel(suite_->evaluation().address(), grpc::InsecureChannelCredentials()));
  }

  // The reader user through `tunnel` (a client of the test's own).
  HiredisOptions ReaderVia(const Tunnel& tunnel) {
    auto options = ParseRedisAddress(tunnel.address());
    EXPECT_TRUE(options.ok());
    options->username = "halfsky-reader";
    options->password = halfsky::testing::kRedisReaderPassword;
    options->via_tls_tunnel = true;
    return *options;
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

  // Evaluate HEALTH-02 at the root (reads the series now, Redis first).
  absl::StatusOr<halfsky::v1::EvaluateResponse> Evaluate() {
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, testing::kAssessmentToken);
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    halfsky::v1::EvaluateRequest request;
    request.set_indicator_id("HEALTH-02");
    halfsky::v1::EvaluateResponse response;
    grpc::Status st = stub_->Evaluate(&ctx, request, &response);
    if (!st.ok()) {
      return absl::UnavailableError(st.error_message());
    }
    if (response.assessments_size() == 0) {
      return absl::NotFoundError("no assessment");
    }
    return response;
  }

  // Waits up to 30 s for `text` in what `log` returns.
  template <typename Log>
  bool WaitForLog(const Log& log, absl::string_view text) {
    for (const absl::Time deadline = absl::Now() + absl::Seconds(30); absl::Now() < deadline;) {
      if (absl::StrContains(log(), text)) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }

  std::string stunnel_;
  std::string openssl_;
  std::string dir_;
  std::map<std::string, std::unique_ptr<Tunnel>> tunnels_;
  std::unique_ptr<halfsky::testing::Suite> suite_;
  std::unique_ptr<halfsky::v1::EvaluationService::Stub> stub_;
};

TEST_F(RedisTlsTunnelTest, ServicesWorkThroughTheTunnel) {
  ASSERT_NO_FATAL_FAILURE(StartSuite(Trusting(Path("ca.crt")), /*require_client_cert=*/true));
  // 50 % in 2020, 50.5 % in 2024.
  ASSERT_NO_FATAL_FAILURE(Submit("tls-1", {FractionValue("HEALTH-02", 2020, 50, 100),
                                           FractionValue("HEALTH-02", 2024, 50.5, 100)}));

  // Aggregation wrote the series into Redis through its tunnel: read it
  // back as the reader, through a tunnel of the test's own.
  auto inspector =
      Tunnel::Start(stunnel_, dir_, "inspector", suite_->redis().port(), Trusting(Path("ca.crt")));
  ASSERT_TRUE(inspector.ok()) << inspector.status();
  HiredisClient reader(ReaderVia(**inspector));
  const std::string key = cache::SeriesRedisKey("HEALTH-02", testing::kRoot, halfsky::v1::SEX_TOTAL,
                                                halfsky::v1::RESIDENCE_ALL);
  absl::StatusOr<std::optional<std::string>> stored;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(30); absl::Now() < deadline;) {
    stored = reader.Get(key);
    if (stored.ok() && stored->has_value()) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(stored.ok() && stored->has_value())
      << stored.status() << "\n"
      << suite_->aggregation().log() << tunnels_["aggregation"]->log();
  auto payload = cache::OpenSeriesValue(kMacKey, key, **stored);
  ASSERT_TRUE(payload.ok()) << payload.status();
  auto series = cache::ParseStoredSeries("HEALTH-02", testing::kRoot, halfsky::v1::SEX_TOTAL,
                                         halfsky::v1::RESIDENCE_ALL, *payload);
  ASSERT_TRUE(series.ok()) << series.status();
  ASSERT_EQ(series->size(), 2u);
  EXPECT_DOUBLE_EQ(series->back().value(), 50.5);

  // Evaluation reads it back ...
  auto first = Evaluate();
  ASSERT_TRUE(first.ok()) << first.status() << suite_->evaluation().log();
  EXPECT_DOUBLE_EQ(first->assessments(0).figures().current_value(), 50.5);
  // ... and still with aggregation (its fallback) gone: only Redis, through
  // evaluation's tunnel, can answer now.
  ASSERT_TRUE(suite_->aggregation().Stop().ok());
  auto from_redis = Evaluate();
  ASSERT_TRUE(from_redis.ok()) << from_redis.status() << suite_->evaluation().log()
                               << tunnels_["evaluation"]->log();
  EXPECT_DOUBLE_EQ(from_redis->assessments(0).figures().current_value(), 50.5);
  EXPECT_EQ(from_redis->assessments(0).explanation_zh(), first->assessments(0).explanation_zh());

  // Both tunnels verified the server (stunnel's notice on every
  // connection) and refused nothing.
  for (const char* service : {"aggregation", "evaluation"}) {
    const std::string log = tunnels_[service]->log();
    EXPECT_THAT(log, HasSubstr(absl::StrCat("Certificate accepted at depth=0: CN=", kServerName)))
        << service;
    EXPECT_THAT(log, Not(HasSubstr("verify failed"))) << service;
  }

  // Plaintext RESP on the TLS port gets no reply: hiredis (AUTH) fails ...
  auto plain = ParseRedisAddress(suite_->redis().address());
  ASSERT_TRUE(plain.ok());
  plain->username = "halfsky-reader";
  plain->password = halfsky::testing::kRedisReaderPassword;
  HiredisClient plaintext(*plain);
  absl::Status connected = plaintext.Connect();
  EXPECT_EQ(connected.code(), absl::StatusCode::kUnavailable) << connected;
  // ... and a raw PING reads nothing a Redis client could take for a reply.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(suite_->redis().port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  timeval timeout{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ASSERT_EQ(write(fd, "PING\r\n", 6), 6);
  char buf[256];
  const ssize_t n = read(fd, buf, sizeof(buf));
  close(fd);
  const std::string got = n > 0 ? std::string(buf, n) : "";
  EXPECT_THAT(got, Not(HasSubstr("PONG")));
  EXPECT_FALSE(!got.empty() && (got[0] == '+' || got[0] == '-')) << got;

  // Redis restarted behind the tunnel: the same client reconnects through it
  // (stunnel opens a new TLS session per connection).
  ASSERT_TRUE(suite_->redis().Restart().ok());
  auto again = reader.Command({"PING"});
  if (!again.ok()) {  // the first command may hit the connection that broke
    again = reader.Command({"PING"});
  }
  EXPECT_TRUE(again.ok()) << again.status() << (*inspector)->log();

  // A tunnel without the client certificate: the server refuses it.
  auto anonymous = Tunnel::Start(stunnel_, dir_, "no-client-cert", suite_->redis().port(),
                                 Trusting(Path("ca.crt"), /*client_cert=*/false));
  ASSERT_TRUE(anonymous.ok()) << anonymous.status();
  HiredisClient no_cert(ReaderVia(**anonymous));
  EXPECT_EQ(no_cert.Connect().code(), absl::StatusCode::kUnavailable);
}

TEST_F(RedisTlsTunnelTest, TunnelRefusesAServerItCannotVerify) {
  // Both services' tunnels trust another CA: no Redis for either.
  ASSERT_NO_FATAL_FAILURE(
      StartSuite(Trusting(Path("other-ca.crt")), /*require_client_cert=*/false));
  ASSERT_NO_FATAL_FAILURE(Submit("tls-2", {FractionValue("HEALTH-02", 2020, 50, 100)}));
  // The service says Redis is unavailable and that a tunnel is in between;
  // the tunnel says why.
  EXPECT_TRUE(WaitForLog([&] { return suite_->aggregation().log(); }, "Redis sync failed"))
      << suite_->aggregation().log();
  const std::string agg_log = suite_->aggregation().log();
  EXPECT_THAT(agg_log, HasSubstr("UNAVAILABLE"));
  EXPECT_THAT(agg_log, HasSubstr("TLS tunnel: see its log"));
  for (const char* service : {"aggregation", "evaluation"}) {
    EXPECT_TRUE(WaitForLog([&] { return tunnels_[service]->log(); }, "certificate verify failed"))
        << service << ": " << tunnels_[service]->log();
    EXPECT_THAT(tunnels_[service]->log(), HasSubstr("Rejected by CERT")) << service;
  }

  // Nothing reached Redis: a tunnel that trusts the right CA sees no cursor.
  auto good = Tunnel::Start(stunnel_, dir_, "inspector", suite_->redis().port(),
                            Trusting(Path("ca.crt"), /*client_cert=*/false));
  ASSERT_TRUE(good.ok()) << good.status();
  HiredisClient reader(ReaderVia(**good));
  auto cursor = reader.Get(cache::kCursorKey);
  ASSERT_TRUE(cursor.ok()) << cursor.status() << (*good)->log();
  EXPECT_FALSE(cursor->has_value());

  // The right CA but the wrong name: refused too (checkHost).
  auto wrong_name =
      Tunnel::Start(stunnel_, dir_, "wrong-name", suite_->redis().port(),
                    Trusting(Path("ca.crt"), /*client_cert=*/true, "other.halfsky.test"));
  ASSERT_TRUE(wrong_name.ok()) << wrong_name.status();
  HiredisClient misnamed(ReaderVia(**wrong_name));
  absl::Status st = misnamed.Connect();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("TLS tunnel"));
  EXPECT_TRUE(WaitForLog([&] { return (*wrong_name)->log(); }, "Subject checks failed"))
      << (*wrong_name)->log();
}

// --redis_tls_tunnel composes with one Redis address, not with Sentinel
// (the sentinels name the servers' own addresses, which bypass the tunnel),
// and only with a loopback one (the tunnel is beside the service).
TEST(RedisTlsTunnelFlagsTest, RefusesSentinelAndRemoteAddresses) {
  const std::string dir = halfsky::testing::MakeTempDir("halfsky-redis-tls-flags");
  for (const auto& [address, expected] : std::vector<std::pair<std::string, std::string>>{
           {"sentinel://127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381/halfsky", "sentinel"},
           {"redis.example.com:6380", "回环"}}) {
    for (const char* service : {"aggregation", "evaluation"}) {
      std::vector<std::string> argv = {halfsky::testing::ServiceBinary(service),
                                       "--listen=127.0.0.1:0",
                                       "--metrics_listen=127.0.0.1:0",
                                       "--catalog=" + testing::TestCatalogPath(),
                                       "--redis=" + address,
                                       "--redis_tls_tunnel"};
      if (std::string(service) == "evaluation") {
        argv.push_back("--db=" + dir + "/evaluation.db");
      }
      auto run = RunCommand(argv, {}, absl::Seconds(20));
      ASSERT_TRUE(run.ok()) << run.status();
      EXPECT_EQ(run->exit_code, 2) << service << " " << address << "\n" << run->err;
      EXPECT_THAT(run->err, HasSubstr("--redis_tls_tunnel")) << service;
      EXPECT_THAT(run->err, HasSubstr(expected)) << service;
    }
  }
}

}  // namespace
}  // namespace halfsky::evaluation
