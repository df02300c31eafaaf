#include "services/web/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/metrics/listen_address.h"

namespace halfsky::web {

std::string HttpRequest::Header(const std::string& lowercase_name) const {
  auto it = headers.find(lowercase_name);
  return it == headers.end() ? "" : it->second;
}

std::string HttpRequest::Cookie(const std::string& name) const {
  auto it = cookies.find(name);
  return it == cookies.end() ? "" : it->second;
}

HttpResponse HttpResponse::Text(int status, std::string text) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(text);
  return r;
}

HttpResponse HttpResponse::Json(int status, std::string json) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json; charset=utf-8";
  r.body = std::move(json);
  return r;
}

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
};

namespace {

// Per-request state kept in libmicrohttpd's con_cls between calls.
struct PendingRequest {
  std::string body;
  bool too_large = false;
};

// A streamed body with the bytes `next` returned that did not fit yet.
struct StreamState {
  std::shared_ptr<StreamBody> stream;
  std::string pending;
  size_t offset = 0;
};

MHD_Result CollectValue(void* cls, MHD_ValueKind /*kind*/, const char* key, const char* value) {
  auto* map = static_cast<std::map<std::string, std::string>*>(cls);
  if (key != nullptr) {
    (*map)[key] = value != nullptr ? value : "";
  }
  return MHD_YES;
}

MHD_Result CollectHeader(void* cls, MHD_ValueKind /*kind*/, const char* key, const char* value) {
  auto* map = static_cast<std::map<std::string, std::string>*>(cls);
  if (key != nullptr) {
    (*map)[absl::AsciiStrToLower(key)] = value != nullptr ? value : "";
  }
  return MHD_YES;
}

ssize_t ReadStream(void* cls, uint64_t /*pos*/, char* buf, size_t max) {
  auto* state = static_cast<StreamState*>(cls);
  while (state->offset >= state->pending.size()) {
    std::optional<std::string> next = state->stream->next();
    if (!next.has_value()) {
      return MHD_CONTENT_READER_END_OF_STREAM;
    }
    state->pending = *std::move(next);
    state->offset = 0;
  }
  const size_t n = std::min(max, state->pending.size() - state->offset);
  std::memcpy(buf, state->pending.data() + state->offset, n);
  state->offset += n;
  return static_cast<ssize_t>(n);
}

void FreeStream(void* cls) {
  auto* state = static_cast<StreamState*>(cls);
  if (state->stream->close) {
    state->stream->close();
  }
  delete state;
}

MHD_Result Queue(MHD_Connection* connection, const HttpResponse& r) {
  MHD_Response* response = nullptr;
  if (r.stream != nullptr) {
    auto* state = new StreamState{r.stream, "", 0};
    response =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, &ReadStream, state, &FreeStream);
    if (response == nullptr) {
      FreeStream(state);
      return MHD_NO;
    }
  } else {
    response = MHD_create_response_from_buffer(r.body.size(), const_cast<char*>(r.body.data()),
                                               MHD_RESPMEM_MUST_COPY);
    if (response == nullptr) {
      return MHD_NO;
    }
  }
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type.c_str());
  for (const auto& [name, value] : r.headers) {
    MHD_add_response_header(response, name.c_str(), value.c_str());
  }
  const MHD_Result queued =
      MHD_queue_response(connection, static_cast<unsigned int>(r.status), response);
  MHD_destroy_response(response);
  return queued;
}

MHD_Result HandleRequest(void* cls, MHD_Connection* connection, const char* url, const char* method,
                         const char* /*version*/, const char* upload_data, size_t* upload_data_size,
                         void** con_cls) {
  auto* impl = static_cast<HttpServer::Impl*>(cls);
  if (*con_cls == nullptr) {
    *con_cls = new PendingRequest();
    return MHD_YES;
  }
  auto* pending = static_cast<PendingRequest*>(*con_cls);
  if (*upload_data_size != 0) {
    if (pending->body.size() + *upload_data_size > impl->options.max_body_bytes) {
      pending->too_large = true;
    } else {
      pending->body.append(upload_data, *upload_data_size);
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (pending->too_large) {
    return Queue(connection,
                 HttpResponse::Json(
                     413, absl::StrCat(R"({"status":"RESOURCE_EXHAUSTED","code":8,"message":")",
                                       "请求过大：上限 ", impl->options.max_body_bytes >> 20,
                                       " MiB，未读取 / request too large: at most ",
                                       impl->options.max_body_bytes >> 20,
                                       R"( MiB, nothing was read","written":false})")));
  }
  HttpRequest request;
  request.method = method;
  request.path = url;
  request.body = std::move(pending->body);
  request.tls = !impl->options.tls_cert_pem.empty();
  MHD_get_connection_values(connection, MHD_HEADER_KIND, &CollectHeader, &request.headers);
  MHD_get_connection_values(connection, MHD_COOKIE_KIND, &CollectValue, &request.cookies);
  MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, &CollectValue, &request.query);
  HttpResponse response;
  try {
    response = impl->handler(request);
  } catch (const std::exception& e) {
    response = HttpResponse::Text(500, "internal error\n");
  }
  return Queue(connection, response);
}

void RequestCompleted(void* /*cls*/, MHD_Connection* /*connection*/, void** con_cls,
                      MHD_RequestTerminationCode /*toe*/) {
  delete static_cast<PendingRequest*>(*con_cls);
  *con_cls = nullptr;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                              HttpHandler handler) {
  absl::StatusOr<sockaddr_in> parsed = ParseIpv4ListenAddress(options.listen, "--http_listen");
  if (!parsed.ok()) {
    return parsed.status();
  }
  sockaddr_in addr = *parsed;
  const int port = ntohs(addr.sin_port);
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->impl_ = std::make_unique<Impl>();
  server->impl_->options = options;
  server->impl_->handler = std::move(handler);
  const bool tls = !options.tls_cert_pem.empty() && !options.tls_key_pem.empty();
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
  if (tls) {
    flags |= MHD_USE_TLS;
  }
  MHD_Daemon* daemon = nullptr;
  if (tls) {
    daemon = MHD_start_daemon(
        flags, static_cast<uint16_t>(port), nullptr, nullptr, &HandleRequest, server->impl_.get(),
        MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&addr), MHD_OPTION_CONNECTION_TIMEOUT,
        options.idle_timeout_seconds, MHD_OPTION_CONNECTION_LIMIT, options.max_connections,
        MHD_OPTION_NOTIFY_COMPLETED, &RequestCompleted, nullptr, MHD_OPTION_HTTPS_MEM_KEY,
        options.tls_key_pem.c_str(), MHD_OPTION_HTTPS_MEM_CERT, options.tls_cert_pem.c_str(),
        MHD_OPTION_END);
  } else {
    daemon = MHD_start_daemon(
        flags, static_cast<uint16_t>(port), nullptr, nullptr, &HandleRequest, server->impl_.get(),
        MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&addr), MHD_OPTION_CONNECTION_TIMEOUT,
        options.idle_timeout_seconds, MHD_OPTION_CONNECTION_LIMIT, options.max_connections,
        MHD_OPTION_NOTIFY_COMPLETED, &RequestCompleted, nullptr, MHD_OPTION_END);
  }
  if (daemon == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("HTTP port ", options.listen, " cannot be bound (端口被占用?)"));
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
  server->daemon_ = daemon;
  server->port_ = info != nullptr ? info->port : port;
  server->tls_ = tls;
  return server;
}

HttpServer::~HttpServer() {
  if (daemon_ != nullptr) {
    MHD_stop_daemon(daemon_);
  }
}

}  // namespace halfsky::web
