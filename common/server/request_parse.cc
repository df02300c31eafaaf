#include "common/server/request_parse.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/status/parse_error.h"
#include "common/status/status.h"
#include "google/protobuf/descriptor.h"

namespace halfsky {
namespace {

namespace pb = ::google::protobuf;

// "/halfsky.v1.SubmissionService/SubmitBatch" → its request type.
const pb::Descriptor* RequestType(const char* method) {
  if (method == nullptr || method[0] != '/') {
    return nullptr;
  }
  const std::string name = absl::StrReplaceAll(absl::string_view(method + 1), {{"/", "."}});
  const pb::MethodDescriptor* m = pb::DescriptorPool::generated_pool()->FindMethodByName(name);
  return m == nullptr ? nullptr : m->input_type();
}

class RequestParseInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit RequestParseInterceptor(grpc::experimental::ServerRpcInfo* info)
      : method_(info->method()),
        single_request_(info->type() == grpc::experimental::ServerRpcInfo::Type::UNARY ||
                        info->type() == grpc::experimental::ServerRpcInfo::Type::SERVER_STREAMING) {
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      std::optional<std::string> field = TakeRefusedUtf8Field();
      absl::MutexLock lock(&mu_);
      if (methods->GetRecvMessage() == nullptr && !failure_.has_value()) {
        // A recorded field is this request's only if the request type
        // reaches it (else it is left over from another parse on this
        // thread); on a client stream a missing message without one is the
        // client's end of stream.
        const pb::Descriptor* request = RequestType(method_);
        bool named = false;
        if (field.has_value() && request != nullptr) {
          const size_t dot = field->rfind('.');
          named = dot != std::string::npos &&
                  !FieldPathFrom(request, absl::string_view(*field).substr(0, dot),
                                 absl::string_view(*field).substr(dot + 1))
                       .empty();
        }
        if (named || single_request_) {
          failure_ = UnparseableRequestError(request, named ? field : std::nullopt);
        }
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      absl::MutexLock lock(&mu_);
      if (failure_.has_value()) {
        methods->ModifySendStatus(ToGrpcStatus(*failure_));
      }
    }
    methods->Proceed();
  }

 private:
  const char* const method_;
  const bool single_request_;
  // A stream's reads and its status may be intercepted on different threads.
  absl::Mutex mu_;
  std::optional<absl::Status> failure_ ABSL_GUARDED_BY(mu_);
};

class RequestParseInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RequestParseInterceptor(info);
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeRequestParseInterceptorFactory() {
  InstallUtf8FieldRecorder();
  return std::make_unique<RequestParseInterceptorFactory>();
}

}  // namespace halfsky
