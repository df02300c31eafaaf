// Every service binary, started as a child process on ports chosen at run
// time: SERVING over grpc.health.v1, its services over reflection, /metrics,
// the catalog over CatalogService, and a graceful SIGTERM (NOT_SERVING,
// then exit 0 within the grace period).
#include <signal.h>
#include <sys/wait.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/aggregation.pb.h"
#include "halfsky/v1/catalog.grpc.pb.h"
#include "halfsky/v1/evaluation.pb.h"
#include "halfsky/v1/submission.pb.h"
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

// Sends `bytes` as the one request message of `method` (any method type:
// one message written, then half-close, responses drained) and returns the
// final status.
grpc::Status RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                     const std::string& bytes) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call = stub.PrepareCall(&ctx, method, &cq);
  void* tag = nullptr;
  bool ok = false;
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  cq.Next(&tag, &ok);
  call->WritesDone(reinterpret_cast<void*>(3));
  cq.Next(&tag, &ok);
  grpc::ByteBuffer response;
  do {
    call->Read(&response, reinterpret_cast<void*>(4));
    cq.Next(&tag, &ok);
  } while (ok);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

namespace pb = ::google::protobuf;

// Sets the first string field of `msg` found breadth-first (the order in
// which the server's request-parse interceptor searches) to invalid UTF-8;
// returns its path ("data_values[].key.indicator_id"), "" if none.
std::string CorruptFirstString(pb::Message* msg) {
  struct Item {
    pb::Message* message;
    std::string path;
  };
  std::vector<Item> queue{{msg, ""}};
  std::set<const pb::Descriptor*> seen{msg->GetDescriptor()};
  for (size_t q = 0; q < queue.size(); ++q) {
    Item item = queue[q];
    const pb::Descriptor* d = item.message->GetDescriptor();
    const pb::Reflection* r = item.message->GetReflection();
    for (int i = 0; i < d->field_count(); ++i) {
      const pb::FieldDescriptor* f = d->field(i);
      if (f->type() != pb::FieldDescriptor::TYPE_STRING) {
        continue;
      }
      const std::string bad = "ok\xff\xfe";
      if (f->is_repeated()) {
        r->AddString(item.message, f, bad);
      } else {
        r->SetString(item.message, f, bad);
      }
      return absl::StrCat(item.path, item.path.empty() ? "" : ".", f->name());
    }
    for (int i = 0; i < d->field_count(); ++i) {
      const pb::FieldDescriptor* f = d->field(i);
      if (f->message_type() == nullptr || !seen.insert(f->message_type()).second) {
        continue;
      }
      pb::Message* child =
          f->is_repeated() ? r->AddMessage(item.message, f) : r->MutableMessage(item.message, f);
      queue.push_back({child, absl::StrCat(item.path, item.path.empty() ? "" : ".", f->name(),
                                           f->is_repeated() ? "[]" : "")});
    }
  }
  return "";
}

// Invalid UTF-8 in a string field of any request, and bytes that are no
// message at all, answer INVALID_ARGUMENT naming the field (not
// UNIMPLEMENTED with an empty message, as gRPC's own parse failure does):
// every unary and server-streaming method of the binary's own service and
// of CatalogService, found through the descriptors, so a new RPC is
// covered without touching this test. (SubmitStream, the one client
// stream, needs a token before its first read: submission_service_test.)
TEST_P(ServiceBinaryTest, UnparseableRequestsAnswerInvalidArgumentNamingTheField) {
  // Reference each file, so that its descriptors are linked in.
  const std::vector<const pb::FileDescriptor*> files = {
      halfsky::v1::SubmitBatchRequest::descriptor()->file(),
      halfsky::v1::GetSeriesRequest::descriptor()->file(),
      halfsky::v1::ListWarningsRequest::descriptor()->file(),
      halfsky::v1::GetCatalogRequest::descriptor()->file()};
  int checked = 0;
  for (const std::string& service :
       {kOwnService.at(GetParam()), std::string("halfsky.v1.CatalogService")}) {
    const pb::ServiceDescriptor* sd =
        pb::DescriptorPool::generated_pool()->FindServiceByName(service);
    ASSERT_NE(sd, nullptr) << service;
    for (int m = 0; m < sd->method_count(); ++m) {
      const pb::MethodDescriptor* md = sd->method(m);
      if (md->client_streaming()) {
        continue;
      }
      const std::string method = absl::StrCat("/", service, "/", md->name());
      std::unique_ptr<pb::Message> request(
          pb::MessageFactory::generated_factory()->GetPrototype(md->input_type())->New());
      const std::string path = CorruptFirstString(request.get());
      if (!path.empty()) {
        const grpc::Status status = RawCall(channel_, method, request->SerializeAsString());
        EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
            << method << ": " << status.error_code() << " " << status.error_message();
        EXPECT_THAT(status.error_message(), ::testing::HasSubstr("UTF-8")) << method;
        google::rpc::Status details;
        ASSERT_TRUE(details.ParseFromString(status.error_details())) << method;
        ASSERT_EQ(details.details_size(), 1) << method;
        google::rpc::BadRequest bad_request;
        ASSERT_TRUE(details.details(0).UnpackTo(&bad_request)) << method;
        ASSERT_EQ(bad_request.field_violations_size(), 1) << method;
        EXPECT_EQ(bad_request.field_violations(0).field(), path) << method;
        ++checked;
      }
      // Not a message at all: a field tag of wire type 7 (there is none).
      const grpc::Status garbage = RawCall(channel_, method, std::string("\x0f\xff\xff", 3));
      EXPECT_EQ(garbage.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << method << ": " << garbage.error_code() << " " << garbage.error_message();
      EXPECT_THAT(garbage.error_message(), ::testing::HasSubstr(md->input_type()->full_name()));
    }
  }
  EXPECT_GT(checked, 1);
  EXPECT_EQ(files.size(), 4u);
  // The server is still fine.
  auto stub = halfsky::v1::CatalogService::NewStub(channel_);
  grpc::ClientContext ctx;
  halfsky::v1::GetCatalogResponse resp;
  EXPECT_TRUE(stub->GetCatalog(&ctx, halfsky::v1::GetCatalogRequest(), &resp).ok());
}

INSTANTIATE_TEST_SUITE_P(AllServices, ServiceBinaryTest,
                         ::testing::Values("submission", "aggregation", "evaluation"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace halfsky
