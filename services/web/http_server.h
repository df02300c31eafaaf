#ifndef HALFSKY_SERVICES_WEB_HTTP_SERVER_H_
#define HALFSKY_SERVICES_WEB_HTTP_SERVER_H_

// A small HTTP/1.1 front over Debian's libmicrohttpd for halfsky-web: one
// thread per connection (handlers may block on gRPC calls; a streamed body
// may block between events), bounded connections, request bodies bounded,
// optional TLS (GnuTLS inside libmicrohttpd). No routing of its own: every
// request goes to one `HttpHandler`.
//
// Thread-safety: the handler is called from many connection threads at once.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

struct MHD_Daemon;  // libmicrohttpd

namespace halfsky::web {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query
  // Query arguments, decoded; a repeated key keeps the last.
  std::map<std::string, std::string> query;
  // Header names lowercased.
  std::map<std::string, std::string> headers;
  std::map<std::string, std::string> cookies;
  std::string body;
  bool tls = false;  // served over HTTPS

  // The header's value, or "".
  std::string Header(const std::string& lowercase_name) const;
  std::string Cookie(const std::string& name) const;
};

// A body produced piece by piece (Server-Sent Events). `next` is called
// again and again from the connection's thread; it may block (keep it under
// ~15 s so that a closed connection is noticed), returns the next bytes
// ("" is not allowed: send an SSE comment instead), or nullopt at the end.
// `close` is called once when the connection ends, whoever ended it.
struct StreamBody {
  std::function<std::optional<std::string>()> next;
  std::function<void()> close;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Set-Cookie
  std::string body;
  // When set, the body is streamed from it (and `body` is ignored).
  std::shared_ptr<StreamBody> stream;

  static HttpResponse Text(int status, std::string text);
  static HttpResponse Json(int status, std::string json);
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  // "HOST:PORT", IPv4 (":0" = a port chosen at run time).
  std::string listen = "127.0.0.1:0";
  // PEM contents; both set = HTTPS.
  std::string tls_cert_pem;
  std::string tls_key_pem;
  size_t max_body_bytes = 4 << 20;  // larger: 413
  unsigned int max_connections = 128;
  unsigned int idle_timeout_seconds = 60;
};

class HttpServer {
 public:
  // Binds and starts serving. INVALID_ARGUMENT for a bad address,
  // UNAVAILABLE if it cannot bind.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                           HttpHandler handler);
  // Stops accepting, waits for the connection threads (streams must have
  // been ended first, see `before_shutdown` in main.cc).
  ~HttpServer();
  int port() const { return port_; }
  bool tls() const { return tls_; }

  // Internal (libmicrohttpd callbacks).
  struct Impl;

 private:
  HttpServer() = default;
  std::unique_ptr<Impl> impl_;
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
  bool tls_ = false;
};

}  // namespace halfsky::web

#endif  // HALFSKY_SERVICES_WEB_HTTP_SERVER_H_
