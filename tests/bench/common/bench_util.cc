#include "tests/bench/common/bench_util.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <utility>

#include "grpcpp/impl/rpc_service_method.h"
#include "grpcpp/impl/service_type.h"

namespace halfsky::bench {

EchoService::EchoService(std::string canned) : canned_(std::move(canned)) {
  using Handler = grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>;
  AddMethod(new grpc::internal::RpcServiceMethod(kEchoMethod, grpc::internal::RpcMethod::NORMAL_RPC,
                                                 nullptr));
  AddMethod(new grpc::internal::RpcServiceMethod(kCannedMethod,
                                                 grpc::internal::RpcMethod::NORMAL_RPC, nullptr));
  MarkMethodRawCallback(
      0, new Handler([](grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request,
                        grpc::ByteBuffer* response) {
        *response = *request;
        grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
        reactor->Finish(grpc::Status::OK);
        return reactor;
      }));
  MarkMethodRawCallback(1, new Handler([this](grpc::CallbackServerContext* ctx,
                                              const grpc::ByteBuffer*, grpc::ByteBuffer* response) {
                          *response = ToBuffer(canned_);
                          grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
                          reactor->Finish(grpc::Status::OK);
                          return reactor;
                        }));
}

BareEchoService::BareEchoService(std::string canned) : canned_(std::move(canned)) {}

grpc::ServerGenericBidiReactor* BareEchoService::CreateReactor(
    grpc::GenericCallbackServerContext* ctx) {
  class Reactor final : public grpc::ServerGenericBidiReactor {
   public:
    explicit Reactor(const std::string* canned) : canned_(canned) { StartRead(&request_); }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status::OK);
        return;
      }
      response_ = canned_ != nullptr ? ToBuffer(*canned_) : request_;
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    }
    void OnDone() override { delete this; }

   private:
    const std::string* canned_;
    grpc::ByteBuffer request_;
    grpc::ByteBuffer response_;
  };
  return new Reactor(ctx->method() == kCannedMethod ? &canned_ : nullptr);
}

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

double Median(std::vector<double> values) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

namespace {
const char* FlagValue(int argc, char** argv, const char* name) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      return argv[i] + prefix.size();
    }
  }
  return nullptr;
}
}  // namespace

int IntFlag(int argc, char** argv, const char* name, int def) {
  const char* v = FlagValue(argc, argv, name);
  return v != nullptr ? std::atoi(v) : def;
}

double DoubleFlag(int argc, char** argv, const char* name, double def) {
  const char* v = FlagValue(argc, argv, name);
  return v != nullptr ? std::atof(v) : def;
}

std::string StringFlag(int argc, char** argv, const char* name, const std::string& def) {
  const char* v = FlagValue(argc, argv, name);
  return v != nullptr ? std::string(v) : def;
}

double LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  in >> load;
  return load;
}

}  // namespace halfsky::bench
