#include "services/web/gateway.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "common/auth/credentials.h"
#include "common/labels/labels.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "halfsky/v1/aggregation.pb.h"
#include "halfsky/v1/catalog.pb.h"
#include "halfsky/v1/evaluation.pb.h"
#include "halfsky/v1/review.pb.h"
#include "halfsky/v1/submission.pb.h"

namespace halfsky::web {
namespace {

namespace pb = ::google::protobuf;

// Makes sure every proto file's generated code (and so its descriptors in
// the generated pool) is linked into the binary.
void EnsureProtosLinked() {
  static const bool linked = [] {
    (void)halfsky::v1::GetCatalogRequest::descriptor();
    (void)halfsky::v1::ListDataValuesRequest::descriptor();
    (void)halfsky::v1::GetSeriesRequest::descriptor();
    (void)halfsky::v1::ListWarningsRequest::descriptor();
    (void)halfsky::v1::ListFormsRequest::descriptor();
    (void)google::rpc::Status::descriptor();
    (void)google::rpc::BadRequest::descriptor();
    (void)google::rpc::ErrorInfo::descriptor();
    return true;
  }();
  (void)linked;
}

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::OK:
      return "OK";
    case grpc::CANCELLED:
      return "CANCELLED";
    case grpc::UNKNOWN:
      return "UNKNOWN";
    case grpc::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::ABORTED:
      return "ABORTED";
    case grpc::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::INTERNAL:
      return "INTERNAL";
    case grpc::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

grpc::ByteBuffer ToByteBuffer(const pb::Message& message) {
  std::string bytes;
  message.SerializeToString(&bytes);
  grpc::Slice slice(std::move(bytes));
  return grpc::ByteBuffer(&slice, 1);
}

bool FromByteBuffer(const grpc::ByteBuffer& buffer, pb::Message* message) {
  grpc::Slice slice;
  if (!buffer.DumpToSingleSlice(&slice).ok()) {
    return false;
  }
  return message->ParseFromArray(slice.begin(), static_cast<int>(slice.size()));
}

std::string ToJson(const pb::Message& message) {
  std::string json;
  pb::util::JsonPrintOptions options;
  if (!pb::util::MessageToJsonString(message, &json, options).ok()) {
    return "{}";
  }
  return json;
}

}  // namespace

struct Gateway::Method {
  std::string path;  // "/halfsky.v1.X/Method"
  const pb::MethodDescriptor* descriptor = nullptr;
  std::shared_ptr<grpc::Channel> channel;
};

const std::set<std::string>& AllowedMethods() {
  static const auto* const kAllowed = new std::set<std::string>{
      "halfsky.v1.CatalogService/GetCatalog",
      "halfsky.v1.SubmissionService/SubmitBatch",
      "halfsky.v1.SubmissionService/WithdrawValues",
      "halfsky.v1.SubmissionService/ListDataValues",
      "halfsky.v1.SubmissionService/GetHistory",
      "halfsky.v1.SubmissionService/GetReportingStatus",
      "halfsky.v1.SubmissionService/ListYearLocks",
      "halfsky.v1.ReviewService/ValidateData",
      "halfsky.v1.ReviewService/SubmitForm",
      "halfsky.v1.ReviewService/ReturnForm",
      "halfsky.v1.ReviewService/ApproveForm",
      "halfsky.v1.ReviewService/UnlockForm",
      "halfsky.v1.ReviewService/ListForms",
      "halfsky.v1.ReviewService/GetFormHistory",
      "halfsky.v1.ReviewService/WatchForms",
      "halfsky.v1.ReviewService/GetReviewBoard",
      "halfsky.v1.AggregationService/GetSeries",
      "halfsky.v1.AggregationService/GetAnnualReport",
      "halfsky.v1.EvaluationService/ListWarnings",
      "halfsky.v1.EvaluationService/WatchWarnings",
      "halfsky.v1.EvaluationService/AcknowledgeWarning",
      "halfsky.v1.EvaluationService/Evaluate",
      "halfsky.v1.EvaluationService/GetEvaluationReport",
      "halfsky.v1.FollowUpService/ListFollowUps",
      "halfsky.v1.FollowUpService/GetFollowUp",
      "halfsky.v1.FollowUpService/AssignFollowUp",
      "halfsky.v1.FollowUpService/PlanFollowUp",
      "halfsky.v1.FollowUpService/AddFollowUpNote",
      "halfsky.v1.FollowUpService/CloseFollowUp",
      "halfsky.v1.FollowUpService/SilenceFollowUp",
      "halfsky.v1.FollowUpService/WatchFollowUps",
  };
  return *kAllowed;
}

int HttpStatusForGrpc(grpc::StatusCode code) {
  switch (code) {
    case grpc::OK:
      return 200;
    case grpc::CANCELLED:
      return 499;
    case grpc::INVALID_ARGUMENT:
    case grpc::FAILED_PRECONDITION:
    case grpc::OUT_OF_RANGE:
      return 400;
    case grpc::DEADLINE_EXCEEDED:
      return 504;
    case grpc::NOT_FOUND:
      return 404;
    case grpc::ALREADY_EXISTS:
    case grpc::ABORTED:
      return 409;
    case grpc::PERMISSION_DENIED:
      return 403;
    case grpc::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::UNIMPLEMENTED:
      return 501;
    case grpc::UNAVAILABLE:
      return 503;
    case grpc::UNAUTHENTICATED:
      return 401;
    default:
      return 500;
  }
}

std::string ErrorJson(const grpc::Status& status) {
  EnsureProtosLinked();
  google::rpc::Status rpc;
  if (status.error_details().empty() || !rpc.ParseFromString(status.error_details())) {
    rpc.Clear();
  }
  rpc.set_code(static_cast<int>(status.error_code()));
  rpc.set_message(status.error_message());
  std::string json;
  if (!pb::util::MessageToJsonString(rpc, &json).ok()) {
    rpc.clear_details();  // a detail of a type this binary does not know
    json = ToJson(rpc);
  }
  // {"code":…} → {"status":"NAME","code":…}
  return absl::StrCat("{\"status\":\"", CodeName(status.error_code()), "\"",
                      json.size() > 2 ? "," : "", json.substr(1));
}

HttpResponse GatewayError(grpc::StatusCode code, const std::string& message) {
  return HttpResponse::Json(HttpStatusForGrpc(code), ErrorJson(grpc::Status(code, message)));
}

Gateway::Gateway(std::map<std::string, std::shared_ptr<grpc::Channel>> channels,
                 absl::Duration deadline)
    : channels_(std::move(channels)), deadline_(deadline) {
  EnsureProtosLinked();
  const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
  for (const std::string& name : AllowedMethods()) {
    const size_t slash = name.find('/');
    const pb::ServiceDescriptor* service = pool->FindServiceByName(name.substr(0, slash));
    if (service == nullptr) {
      continue;
    }
    const pb::MethodDescriptor* method = service->FindMethodByName(name.substr(slash + 1));
    auto channel = channels_.find(service->full_name());
    if (method == nullptr || method->client_streaming() || channel == channels_.end()) {
      continue;
    }
    auto m = std::make_unique<Method>();
    m->path = absl::StrCat("/", name);
    m->descriptor = method;
    m->channel = channel->second;
    methods_[name] = std::move(m);
  }
}

Gateway::~Gateway() = default;

const Gateway::Method* Gateway::Find(const std::string& path_method, bool streaming) const {
  auto it = methods_.find(path_method);
  if (it == methods_.end() || it->second->descriptor->server_streaming() != streaming) {
    return nullptr;
  }
  return it->second.get();
}

namespace {

// The request message of `method` parsed from `json` ("" = {}).
grpc::Status ParseRequest(const pb::MethodDescriptor* method, const std::string& json,
                          std::unique_ptr<pb::Message>* out) {
  const pb::Message* prototype =
      pb::MessageFactory::generated_factory()->GetPrototype(method->input_type());
  std::unique_ptr<pb::Message> request(prototype->New());
  if (!json.empty()) {
    pb::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const auto parsed = pb::util::JsonStringToMessage(json, request.get(), options);
    if (!parsed.ok()) {
      return grpc::Status(
          grpc::INVALID_ARGUMENT,
          absl::StrCat("请求不是 ", method->input_type()->full_name(),
                       " 的 JSON / the body is not a ", method->input_type()->full_name(),
                       " in protobuf's JSON mapping: ", std::string(parsed.message())));
    }
  }
  *out = std::move(request);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status Gateway::Call(const std::string& path_method, const std::string& json_body,
                           const std::string& bearer_token, std::string* json_response) {
  const Method* method = Find(path_method, /*streaming=*/false);
  if (method == nullptr) {
    return grpc::Status(grpc::NOT_FOUND, "没有这个接口 / no such API method");
  }
  std::unique_ptr<pb::Message> request;
  if (grpc::Status parsed = ParseRequest(method->descriptor, json_body, &request); !parsed.ok()) {
    return parsed;
  }
  grpc::GenericStub stub(method->channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
  auth::AddBearerToken(&ctx, bearer_token);
  const grpc::ByteBuffer request_bytes = ToByteBuffer(*request);
  grpc::ByteBuffer response_bytes;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&ctx, method->path, grpc::StubOptions(), &request_bytes, &response_bytes,
                 [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!status.ok()) {
    return status;
  }
  std::unique_ptr<pb::Message> response(pb::MessageFactory::generated_factory()
                                            ->GetPrototype(method->descriptor->output_type())
                                            ->New());
  if (!FromByteBuffer(response_bytes, response.get())) {
    return grpc::Status(grpc::INTERNAL, "上游回答无法解析 / unparseable upstream response");
  }
  *json_response = ToJson(*response);
  return grpc::Status::OK;
}

HttpResponse Gateway::Unary(const std::string& path_method, const std::string& json_body,
                            const std::string& bearer_token) {
  std::string json;
  const grpc::Status status = Call(path_method, json_body, bearer_token, &json);
  if (!status.ok()) {
    return HttpResponse::Json(HttpStatusForGrpc(status.error_code()), ErrorJson(status));
  }
  HttpResponse r = HttpResponse::Json(200, std::move(json));
  r.headers.push_back({"Cache-Control", "no-store"});
  return r;
}

namespace {

// One server-streaming call driven on its own completion queue by the SSE
// body's `next` (the connection's thread).
class StreamCall {
 public:
  StreamCall(Gateway* gateway, const pb::MethodDescriptor* method)
      : gateway_(gateway), method_(method) {}
  ~StreamCall() { Close(); }

  // Starts the call, sends `request` and half-closes.
  grpc::Status Start(std::shared_ptr<grpc::Channel> channel, const std::string& path,
                     const pb::Message& request, const std::string& bearer_token) {
    auth::AddBearerToken(&ctx_, bearer_token);
    gateway_->Register(&ctx_);
    registered_ = true;
    grpc::GenericStub stub(std::move(channel));
    call_ = stub.PrepareCall(&ctx_, path, &cq_);
    call_->StartCall(Tag(kStart));
    if (!Await(kStart)) {
      return Finish();
    }
    call_->Write(ToByteBuffer(request), Tag(kWrite));
    if (!Await(kWrite)) {
      return Finish();
    }
    call_->WritesDone(Tag(kWritesDone));
    if (!Await(kWritesDone)) {
      return Finish();
    }
    return grpc::Status::OK;
  }

  // The next SSE chunk, or nullopt at the end.
  std::optional<std::string> Next() {
    if (ended_) {
      return std::nullopt;
    }
    if (final_sent_) {
      ended_ = true;
      return std::nullopt;
    }
    if (!read_pending_) {
      call_->Read(&buffer_, Tag(kRead));
      read_pending_ = true;
    }
    void* tag = nullptr;
    bool ok = false;
    const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(15);
    switch (cq_.AsyncNext(&tag, &ok, deadline)) {
      case grpc::CompletionQueue::TIMEOUT:
        return std::string(": keepalive\n\n");
      case grpc::CompletionQueue::SHUTDOWN:
        ended_ = true;
        return std::nullopt;
      case grpc::CompletionQueue::GOT_EVENT:
        break;
    }
    read_pending_ = false;
    if (!ok) {
      const grpc::Status status = Finish();
      final_sent_ = true;
      return absl::StrCat("event: error\ndata: ", ErrorJson(status), "\n\n");
    }
    std::unique_ptr<pb::Message> message(
        pb::MessageFactory::generated_factory()->GetPrototype(method_->output_type())->New());
    if (!FromByteBuffer(buffer_, message.get())) {
      ctx_.TryCancel();
      return std::string(": unparseable message skipped\n\n");
    }
    return absl::StrCat("data: ", ToJson(*message), "\n\n");
  }

  // Cancels (if still running), waits for what is outstanding, releases.
  void Close() {
    if (closed_) {
      return;
    }
    closed_ = true;
    if (call_ != nullptr) {
      if (!finished_) {
        ctx_.TryCancel();
        if (read_pending_) {
          Await(kRead);
          read_pending_ = false;
        }
        Finish();
      }
    }
    if (registered_) {
      gateway_->Unregister(&ctx_);
    }
    cq_.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (cq_.Next(&tag, &ok)) {
    }
  }

 private:
  enum Step { kStart = 1, kWrite, kWritesDone, kRead, kFinish };
  static void* Tag(Step s) { return reinterpret_cast<void*>(static_cast<intptr_t>(s)); }

  // Waits for the event of `step`; its ok.
  bool Await(Step step) {
    void* tag = nullptr;
    bool ok = false;
    while (cq_.Next(&tag, &ok)) {
      if (tag == Tag(step)) {
        return ok;
      }
    }
    return false;
  }

  grpc::Status Finish() {
    if (!finished_) {
      finished_ = true;
      call_->Finish(&status_, Tag(kFinish));
      Await(kFinish);
    }
    return status_;
  }

  Gateway* gateway_;
  const pb::MethodDescriptor* method_;
  grpc::ClientContext ctx_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
  grpc::ByteBuffer buffer_;
  grpc::Status status_;
  bool registered_ = false;
  bool read_pending_ = false;
  bool finished_ = false;
  bool final_sent_ = false;
  bool ended_ = false;
  bool closed_ = false;
};

}  // namespace

HttpResponse Gateway::Stream(const std::string& path_method, const std::string& json_request,
                             const std::string& bearer_token) {
  const Method* method = Find(path_method, /*streaming=*/true);
  if (method == nullptr) {
    return GatewayError(grpc::NOT_FOUND, "没有这个接口 / no such API method");
  }
  std::unique_ptr<pb::Message> request;
  if (grpc::Status parsed = ParseRequest(method->descriptor, json_request, &request);
      !parsed.ok()) {
    return HttpResponse::Json(400, ErrorJson(parsed));
  }
  auto call = std::make_shared<StreamCall>(this, method->descriptor);
  if (grpc::Status started = call->Start(method->channel, method->path, *request, bearer_token);
      !started.ok()) {
    return HttpResponse::Json(HttpStatusForGrpc(started.error_code()), ErrorJson(started));
  }
  HttpResponse r;
  r.status = 200;
  r.content_type = "text/event-stream; charset=utf-8";
  r.headers.push_back({"Cache-Control", "no-store"});
  r.headers.push_back({"X-Accel-Buffering", "no"});
  r.stream = std::make_shared<StreamBody>();
  r.stream->next = [call] { return call->Next(); };
  r.stream->close = [call] { call->Close(); };
  return r;
}

void Gateway::Register(grpc::ClientContext* ctx) {
  absl::MutexLock lock(&mu_);
  streams_.insert(ctx);
  if (cancelled_) {
    ctx->TryCancel();
  }
}

void Gateway::Unregister(grpc::ClientContext* ctx) {
  absl::MutexLock lock(&mu_);
  streams_.erase(ctx);
}

void Gateway::CancelStreams() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  for (grpc::ClientContext* ctx : streams_) {
    ctx->TryCancel();
  }
}

bool Gateway::WaitForStreamsToEnd(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto none = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return streams_.empty(); };
  return mu_.AwaitWithTimeout(absl::Condition(&none), timeout);
}

size_t Gateway::open_streams() const {
  absl::MutexLock lock(&mu_);
  return streams_.size();
}

std::string EnumLabelsJson() {
  EnsureProtosLinked();
  const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
  pb::Struct all;
  for (const char* file_name :
       {"halfsky/v1/common.proto", "halfsky/v1/catalog.proto", "halfsky/v1/submission.proto",
        "halfsky/v1/review.proto", "halfsky/v1/aggregation.proto", "halfsky/v1/evaluation.proto"}) {
    const pb::FileDescriptor* file = pool->FindFileByName(file_name);
    if (file == nullptr) {
      continue;
    }
    for (int i = 0; i < file->enum_type_count(); ++i) {
      const pb::EnumDescriptor* type = file->enum_type(i);
      pb::Struct* values = (*all.mutable_fields())[type->full_name()].mutable_struct_value();
      for (int j = 0; j < type->value_count(); ++j) {
        const int number = type->value(j)->number();
        pb::Struct* v = (*values->mutable_fields())[type->value(j)->name()].mutable_struct_value();
        auto& f = *v->mutable_fields();
        f["zh"].set_string_value(labels::LabelZh(type, number));
        f["en"].set_string_value(labels::LabelEn(type, number));
        f["short_zh"].set_string_value(labels::ShortLabelZh(type, number));
        f["token"].set_string_value(labels::Token(type, number));
        f["number"].set_number_value(number);
      }
    }
  }
  return ToJson(all);
}

}  // namespace halfsky::web
