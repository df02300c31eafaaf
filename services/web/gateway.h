#ifndef HALFSKY_SERVICES_WEB_GATEWAY_H_
#define HALFSKY_SERVICES_WEB_GATEWAY_H_

// The JSON API of halfsky-web: a faithful mapping of halfsky.v1, with no
// business logic of its own.
//
//   POST /api/v1/<package.Service>/<Method>   body: the request message in
//        protobuf's JSON mapping (empty body = {}); answer: the response
//        message in the same mapping (lowerCamelCase names, int64 as
//        strings, enums by name, unset fields left out), HTTP 200.
//   GET  /api/v1/<package.Service>/<Method>?request=<JSON>   for a
//        server-streaming method: Server-Sent Events, one `data:` line per
//        message (JSON), `: keepalive` comments every 15 s, and a final
//        `event: error` whose data is the error below when the stream ends
//        with a status other than OK.
//
// Requests and responses are converted over the generated descriptor pool
// (google::protobuf::util::JsonStringToMessage / MessageToJsonString) and
// sent with grpc::GenericStub as bytes, so every allowed method works the
// same way. The caller's bearer token goes upstream as
// `authorization: Bearer …`. A gRPC error becomes the HTTP status of
// google.rpc.Code's mapping (UNAUTHENTICATED 401, PERMISSION_DENIED 403,
// NOT_FOUND 404, INVALID_ARGUMENT / FAILED_PRECONDITION / OUT_OF_RANGE 400,
// ALREADY_EXISTS / ABORTED 409, RESOURCE_EXHAUSTED 429, UNAVAILABLE 503,
// DEADLINE_EXCEEDED 504, UNIMPLEMENTED 501, CANCELLED 499, others 500) and
// the body is the google.rpc.Status the service sent, in JSON, with the
// code's name added:
//   {"status":"PERMISSION_DENIED","code":7,"message":"…","details":[{"@type":…}]}
//
// Only the methods of the allow-list (AllowedMethods) are mapped; any other
// path, or the wrong HTTP verb for the method's kind, is 404.
//
// Thread-safe.

#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "services/web/http_server.h"

namespace halfsky::web {

// "halfsky.v1.EvaluationService/ListWarnings", ... (unary and
// server-streaming methods the console may call).
const std::set<std::string>& AllowedMethods();

// google.rpc.Code → HTTP status (the table above).
int HttpStatusForGrpc(grpc::StatusCode code);

// The error body above for `status` (details from its error_details(), the
// serialized google.rpc.Status, when present).
std::string ErrorJson(const grpc::Status& status);

// An error body made here (not by a service), with Chinese then English.
HttpResponse GatewayError(grpc::StatusCode code, const std::string& message);

class Gateway {
 public:
  // `channels`: service full name ("halfsky.v1.ReviewService") → the
  // channel its calls go to. A service without a channel answers 404.
  Gateway(std::map<std::string, std::shared_ptr<grpc::Channel>> channels, absl::Duration deadline);
  ~Gateway();

  // POST of a unary method (`path_method` = "halfsky.v1.X/Method").
  HttpResponse Unary(const std::string& path_method, const std::string& json_body,
                     const std::string& bearer_token);
  // GET of a server-streaming method: an SSE response.
  HttpResponse Stream(const std::string& path_method, const std::string& json_request,
                      const std::string& bearer_token);

  // Calls a unary method with a request in JSON and returns the gRPC status
  // and, when OK, the response in JSON (what Unary answers, for sign-in).
  grpc::Status Call(const std::string& path_method, const std::string& json_body,
                    const std::string& bearer_token, std::string* json_response);

  // Cancels every open stream (shutdown: their SSE responses end with the
  // CANCELLED error event), and every stream opened after it.
  void CancelStreams();
  // Waits up to `timeout` until no stream is open (each has sent its last
  // event and been released). True if none is.
  bool WaitForStreamsToEnd(absl::Duration timeout);

  // The open streams (for tests and metrics).
  size_t open_streams() const;

  // Internal: a stream registers its context while open.
  void Register(grpc::ClientContext* ctx);
  void Unregister(grpc::ClientContext* ctx);

 private:
  struct Method;
  // nullptr when not allowed, unknown, or of the other kind.
  const Method* Find(const std::string& path_method, bool streaming) const;

  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  std::map<std::string, std::unique_ptr<Method>> methods_;
  absl::Duration deadline_;
  mutable absl::Mutex mu_;
  std::set<grpc::ClientContext*> streams_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

// The labels of every halfsky.v1 enum value, from the descriptors' options
// (common/labels), as JSON: {"halfsky.v1.Severity":{"SEVERITY_RED":
// {"zh":"红色预警","en":"","short_zh":"红","token":"red","number":3},…},…}.
// The pages show these words; none is written in the JavaScript.
std::string EnumLabelsJson();

}  // namespace halfsky::web

#endif  // HALFSKY_SERVICES_WEB_GATEWAY_H_
