#include "services/web/console.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/web/reports.h"
#include "services/web/static_files.h"
#include "services/web/upload.h"

namespace halfsky::web {
namespace {

constexpr char kApiPrefix[] = "/api/v1/";
// What every HTML page is served with: only this server's own scripts,
// styles and API; never framed.
constexpr char kPageCsp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

void AddSecurityHeaders(HttpResponse* r) {
  r->headers.push_back({"X-Content-Type-Options", "nosniff"});
  r->headers.push_back({"Referrer-Policy", "no-referrer"});
  r->headers.push_back({"X-Frame-Options", "DENY"});
}

HttpResponse Redirect(const std::string& location) {
  HttpResponse r = HttpResponse::Text(303, "");
  r.headers.push_back({"Location", location});
  return r;
}

HttpResponse File(const StaticFile& file) {
  HttpResponse r;
  r.status = 200;
  r.content_type = file.content_type;
  r.body.assign(file.data, file.size);
  r.headers.push_back({"Cache-Control", "no-cache"});
  return r;
}

// The part of a "Bearer <token>" header after the scheme, or "".
std::string BearerOf(const std::string& authorization) {
  absl::string_view v = authorization;
  if (absl::ConsumePrefix(&v, "Bearer ") || absl::ConsumePrefix(&v, "bearer ")) {
    return std::string(absl::StripAsciiWhitespace(v));
  }
  return "";
}

}  // namespace

Console::Console(Gateway* gateway, ConsoleOptions options)
    : gateway_(gateway),
      options_(options),
      sessions_(options.session_lifetime, options.max_sessions) {}

std::optional<Session> Console::SessionOf(const HttpRequest& request) {
  const std::string id = request.Cookie(kSessionCookie);
  if (id.empty()) {
    return std::nullopt;
  }
  return sessions_.Find(id, absl::Now());
}

std::string Console::CookieAttributes(const HttpRequest& request, absl::Duration max_age) const {
  return absl::StrCat("; Path=/; SameSite=Strict; Max-Age=", absl::ToInt64Seconds(max_age),
                      request.tls ? "; Secure" : "");
}

std::optional<HttpResponse> Console::CheckPost(const HttpRequest& request, const Session* session,
                                               const char* content_type) {
  if (!absl::StartsWith(request.Header("content-type"), content_type)) {
    return GatewayError(grpc::INVALID_ARGUMENT,
                        absl::StrCat("请求的 Content-Type 须为 ", content_type,
                                     " / Content-Type must be ", content_type));
  }
  const std::string origin = request.Header("origin");
  if (!origin.empty() &&
      origin != absl::StrCat(request.tls ? "https://" : "http://", request.Header("host"))) {
    return GatewayError(grpc::PERMISSION_DENIED, "来源不符 / cross-origin request refused");
  }
  if (session != nullptr && !ConstantTimeEquals(request.Header(kCsrfHeader), session->csrf_token)) {
    return GatewayError(grpc::PERMISSION_DENIED,
                        "缺少或错误的 CSRF 令牌，请刷新页面 / missing or wrong X-CSRF-Token");
  }
  return std::nullopt;
}

HttpResponse Console::SignIn(const HttpRequest& request) {
  if (auto refused = CheckPost(request, nullptr); refused.has_value()) {
    if (refused->status == 400) {
      refused->status = 415;
    }
    return *refused;
  }
  google::protobuf::Struct body;
  std::string token;
  if (google::protobuf::util::JsonStringToMessage(request.body, &body).ok()) {
    auto it = body.fields().find("token");
    if (it != body.fields().end()) {
      token = std::string(absl::StripAsciiWhitespace(it->second.string_value()));
    }
  }
  if (token.empty()) {
    return GatewayError(grpc::INVALID_ARGUMENT, "请粘贴令牌 / paste a token");
  }
  // One authenticated call that every principal may make.
  std::string ignored;
  const grpc::Status checked = gateway_->Call("halfsky.v1.EvaluationService/ListWarnings",
                                              R"({"pageSize":1})", token, &ignored);
  if (!checked.ok()) {
    return HttpResponse::Json(HttpStatusForGrpc(checked.error_code()), ErrorJson(checked));
  }
  const Session s = sessions_.Create(token, absl::Now());
  const std::string attrs = CookieAttributes(request, options_.session_lifetime);
  HttpResponse r = HttpResponse::Json(
      200,
      absl::StrCat(R"({"csrfToken":")", s.csrf_token, R"(","expiresAt":")",
                   absl::FormatTime(absl::RFC3339_sec, s.expires, absl::UTCTimeZone()), "\"}"));
  r.headers.push_back({"Set-Cookie", absl::StrCat(kSessionCookie, "=", s.id, attrs, "; HttpOnly")});
  r.headers.push_back({"Set-Cookie", absl::StrCat(kCsrfCookie, "=", s.csrf_token, attrs)});
  r.headers.push_back({"Cache-Control", "no-store"});
  return r;
}

HttpResponse Console::SignOut(const HttpRequest& request) {
  std::optional<Session> session = SessionOf(request);
  if (session.has_value()) {
    if (auto refused = CheckPost(request, &*session); refused.has_value()) {
      return *refused;
    }
    sessions_.Remove(session->id);
  }
  const std::string attrs = CookieAttributes(request, absl::ZeroDuration());
  HttpResponse r = HttpResponse::Json(200, "{}");
  r.headers.push_back({"Set-Cookie", absl::StrCat(kSessionCookie, "=", attrs, "; HttpOnly")});
  r.headers.push_back({"Set-Cookie", absl::StrCat(kCsrfCookie, "=", attrs)});
  return r;
}

HttpResponse Console::Api(const HttpRequest& request, const std::string& method) {
  std::string token = BearerOf(request.Header("authorization"));
  std::optional<Session> session;
  if (token.empty()) {
    session = SessionOf(request);
    if (!session.has_value()) {
      return GatewayError(grpc::UNAUTHENTICATED, "请先登录 / sign in first");
    }
    token = session->bearer_token;
  }
  if (request.method == "POST") {
    if (auto refused = CheckPost(request, session.has_value() ? &*session : nullptr);
        refused.has_value()) {
      return *refused;
    }
    return gateway_->Unary(method, request.body, token);
  }
  if (request.method == "GET") {
    auto it = request.query.find("request");
    return gateway_->Stream(method, it == request.query.end() ? "" : it->second, token);
  }
  HttpResponse r = GatewayError(grpc::NOT_FOUND, "没有这个接口 / no such API method");
  return r;
}

std::optional<std::string> Console::TokenOf(const HttpRequest& request,
                                            std::optional<Session>* session) {
  std::string token = BearerOf(request.Header("authorization"));
  if (!token.empty()) {
    return token;
  }
  *session = SessionOf(request);
  if (!session->has_value()) {
    return std::nullopt;
  }
  return (*session)->bearer_token;
}

HttpResponse Console::Upload(const HttpRequest& request) {
  std::optional<Session> session;
  std::optional<std::string> token = TokenOf(request, &session);
  if (!token.has_value()) {
    return GatewayError(grpc::UNAUTHENTICATED, "请先登录 / sign in first");
  }
  if (auto refused =
          CheckPost(request, session.has_value() ? &*session : nullptr, "application/octet-stream");
      refused.has_value()) {
    return *refused;
  }
  return UploadSubmission(gateway_, request, *token);
}

HttpResponse Console::Report(const HttpRequest& request) {
  std::optional<Session> session;
  std::optional<std::string> token = TokenOf(request, &session);
  if (!token.has_value()) {
    return GatewayError(grpc::UNAUTHENTICATED, "请先登录 / sign in first");
  }
  return ReportDownload(gateway_, request, *token);
}

HttpResponse Console::Page(const HttpRequest& request, const std::string& file) {
  if (file != "signin.html" && !SessionOf(request).has_value()) {
    return Redirect(absl::StrCat("/signin?next=", request.path));
  }
  const StaticFile* f = FindStaticFile(file);
  if (f == nullptr) {
    return HttpResponse::Text(404, "未找到 / not found\n");
  }
  HttpResponse r = File(*f);
  r.headers.push_back({"Content-Security-Policy", kPageCsp});
  return r;
}

HttpResponse Console::Handle(const HttpRequest& request) {
  HttpResponse r;
  const std::string& path = request.path;
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (absl::StartsWith(path, kApiPrefix)) {
    r = Api(request, path.substr(sizeof(kApiPrefix) - 1));
  } else if (path == "/api/session" && request.method == "POST") {
    r = SignIn(request);
  } else if (path == "/api/session/end" && request.method == "POST") {
    r = SignOut(request);
  } else if (path == "/api/session" && get) {
    std::optional<Session> s = SessionOf(request);
    r = s.has_value()
            ? HttpResponse::Json(200, absl::StrCat(R"({"signedIn":true,"expiresAt":")",
                                                   absl::FormatTime(absl::RFC3339_sec, s->expires,
                                                                    absl::UTCTimeZone()),
                                                   "\"}"))
            : GatewayError(grpc::UNAUTHENTICATED, "未登录 / not signed in");
  } else if (path == "/api/upload" && request.method == "POST") {
    r = Upload(request);
  } else if (path == "/api/report" && get) {
    r = Report(request);
  } else if (path == "/report" && get) {
    r = Page(request, "report.html");
  } else if (path == "/api/labels" && get) {
    static const std::string* const kLabels = new std::string(EnumLabelsJson());
    r = HttpResponse::Json(200, *kLabels);
  } else if (path == "/" && get) {
    r = Redirect("/warnings");
  } else if (path == "/signin" && get) {
    r = Page(request, "signin.html");
  } else if ((path == "/warnings" || path == "/warning" || path == "/review" || path == "/unit" ||
              path == "/indicator" || path == "/reporting") &&
             get) {
    r = Page(request, absl::StrCat(path.substr(1), ".html"));
  } else if (absl::StartsWith(path, "/static/") && get) {
    const std::string name = path.substr(8);
    const StaticFile* f = name.find('/') == std::string::npos ? FindStaticFile(name) : nullptr;
    r = f != nullptr && !absl::EndsWith(name, ".html")
            ? File(*f)
            : HttpResponse::Text(404, "未找到 / not found\n");
  } else {
    r = HttpResponse::Text(404, "未找到 / not found\n");
  }
  AddSecurityHeaders(&r);
  return r;
}

}  // namespace halfsky::web
