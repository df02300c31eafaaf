// Every service binary, started as a child process on ports chosen at run
// time: SERVING over grpc.health.v1, its services over reflection, /metrics,
// the catalog over CatalogService, and a graceful SIGTERM (NOT_SERVING,
// then exit 0 within the grace period).
#include <signal.h>
#include <sys/wait.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/catalog.grpc.pb.h"
#include "tests/support/process.h"

namespace halfsky {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::Contains;

std::map<std::string, std::string> ServiceBinaries() {
  std::map<std::string, std::string> out;
  for (absl::string_view item : absl::StrSplit(HALFSKY_SERVICE_BINARIES, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    out[kv.first] = kv.second;
  }
  return out;
}

const std::map<std::string, std::string> kOwnService = {
    {"submission", "halfsky.v1.SubmissionService"},
    {"aggregation", "halfsky.v1.AggregationService"},
    {"evaluation", "halfsky.v1.EvaluationService"},
};

class ServiceBinaryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const auto binaries = ServiceBinaries();
    auto it = binaries.find(GetParam());
    ASSERT_NE(it, binaries.end()) << "binary for " << GetParam() << " was not built";
    dir_ = testing::MakeTempDir("halfsky-" + GetParam());
    const std::string address_file = dir_ + "/addr";
    std::vector<std::string> argv = {
        it->second,
        "--listen=127.0.0.1:0",
        "--metrics_listen=127.0.0.1:0",
        "--address_file=" + address_file,
        absl::StrCat("--catalog=", HALFSKY_SOURCE_DIR, "/deploy/catalog"),
        "--drain_delay=300ms",
        "--grace_period=3s",
    };
    // Dependencies point at a port nothing listens on: a service must start
    // and serve even while its dependencies are down.
    const std::string nowhere = absl::StrCat("127.0.0.1:", testing::FreePort());
    if (GetParam() == "submission") {
      argv.push_back("--db=" + dir_ + "/submission.db");
    } else if (GetParam() == "aggregation") {
      argv.push_back("--submission=" + nowhere);
      argv.push_back("--redis=" + nowhere);
    } else if (GetParam() == "evaluation") {
      argv.push_back("--submission=" + nowhere);
      argv.push_back("--aggregation=" + nowhere);
      argv.push_back("--redis=" + nowhere);
      argv.push_back("--db=" + dir_ + "/evaluation.db");
    }
    auto child = testing::ChildProcess::Start(argv, dir_ + "/service.log");
    ASSERT_TRUE(child.ok()) << child.status();
    process_ = std::move(*child);
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    std::string addr;
    while (absl::Now() < deadline) {
      addr = testing::ReadFile(address_file);
      if (!addr.empty() || !process_->Running()) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    ASSERT_FALSE(addr.empty()) << "service did not write its address; log:\n"
                               << testing::ReadFile(dir_ + "/service.log");
    for (absl::string_view field : absl::StrSplit(absl::StripTrailingAsciiWhitespace(addr), ' ')) {
      if (absl::ConsumePrefix(&field, "grpc=")) {
        grpc_address_ = std::string(field);
      } else if (absl::ConsumePrefix(&field, "metrics=")) {
        const size_t colon = field.rfind(':');
        metrics_port_ = std::stoi(std::string(field.substr(colon + 1)));
      }
    }
    channel_ = grpc::CreateChannel(grpc_address_, grpc::InsecureChannelCredentials());
  }

  std::string dir_;
  std::unique_ptr<testing::ChildProcess> process_;
  std::string grpc_address_;
  int metrics_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_P(ServiceBinaryTest, ReportsServingOverHealth) {
  auto stub = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  HealthCheckRequest req;
  HealthCheckResponse resp;
  ASSERT_TRUE(stub->Check(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.status(), HealthCheckResponse::SERVING);
}

TEST_P(ServiceBinaryTest, ListsItsServicesOverReflection) {
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  auto stream = stub->ServerReflectionInfo(&ctx);
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("*");
  ASSERT_TRUE(stream->Write(req));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  std::vector<std::string> names;
  for (const auto& s : resp.list_services_response().service()) {
    names.push_back(s.name());
  }
  EXPECT_THAT(names, Contains(kOwnService.at(GetParam())));
  EXPECT_THAT(names, Contains("halfsky.v1.CatalogService"));
  EXPECT_THAT(names, Contains("grpc.health.v1.Health"));
  EXPECT_THAT(names, Contains("grpc.reflection.v1alpha.ServerReflection"));
  while (stream->Read(&resp)) {
  }
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_P(ServiceBinaryTest, ServesMetricsOnItsOwnPort) {
  // One RPC first, so that per-method metrics exist.
  auto catalog = halfsky::v1::CatalogService::NewStub(channel_);
  grpc::ClientContext ctx;
  halfsky::v1::GetCatalogResponse catalog_resp;
  ASSERT_TRUE(catalog->GetCatalog(&ctx, halfsky::v1::GetCatalogRequest(), &catalog_resp).ok());
  ASSERT_NE(metrics_port_, 0);
  auto resp = testing::HttpGet(metrics_port_, "/metrics");
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_TRUE(absl::StartsWith(*resp, "HTTP/1.1 200")) << *resp;
  EXPECT_THAT(*resp, ::testing::HasSubstr("halfsky_build_info{"));
  EXPECT_THAT(*resp, ::testing::HasSubstr(absl::StrCat("service=\"halfsky-", GetParam(), "\"")));
  EXPECT_THAT(*resp, ::testing::HasSubstr(
                         "halfsky_grpc_server_handled_total{code=\"0\",method=\"/halfsky.v1."
                         "CatalogService/GetCatalog\"}"));
}

TEST_P(ServiceBinaryTest, ServesTheCatalog) {
  auto stub = halfsky::v1::CatalogService::NewStub(channel_);
  grpc::ClientContext ctx;
  halfsky::v1::GetCatalogResponse resp;
  ASSERT_TRUE(stub->GetCatalog(&ctx, halfsky::v1::GetCatalogRequest(), &resp).ok());
  EXPECT_EQ(resp.catalog().domains_size(), 8);
  EXPECT_EQ(resp.fingerprint().size(), 64u);
}

TEST_P(ServiceBinaryTest, SigtermTurnsNotServingThenExitsCleanly) {
  auto stub = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext watch_ctx;
  watch_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto watch = stub->Watch(&watch_ctx, HealthCheckRequest());
  HealthCheckResponse resp;
  ASSERT_TRUE(watch->Read(&resp));
  ASSERT_EQ(resp.status(), HealthCheckResponse::SERVING);

  const absl::Time sent = absl::Now();
  process_->Signal(SIGTERM);
  bool saw_not_serving = false;
  while (watch->Read(&resp)) {
    if (resp.status() == HealthCheckResponse::NOT_SERVING) {
      saw_not_serving = true;
      break;
    }
  }
  EXPECT_TRUE(saw_not_serving);
  watch_ctx.TryCancel();
  (void)watch->Finish();

  // drain 300 ms + grace 3 s, with room for a loaded CI machine.
  auto status = process_->Wait(absl::Seconds(15));
  ASSERT_TRUE(status.ok()) << "did not exit after SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status)) << "raw wait status " << *status;
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  EXPECT_LT(absl::Now() - sent, absl::Seconds(15));
}

INSTANTIATE_TEST_SUITE_P(AllServices, ServiceBinaryTest,
                         ::testing::Values("submission", "aggregation", "evaluation"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace halfsky
