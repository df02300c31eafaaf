#ifndef HALFSKY_SERVICES_WEB_CONSOLE_H_
#define HALFSKY_SERVICES_WEB_CONSOLE_H_

// halfsky-web's HTTP routes: the pages (embedded at build time,
// services/web/static/), sign-in / sign-out, and the JSON API (gateway.h).
//
//   GET  /                      → 303 /warnings
//   GET  /signin                the sign-in page (paste a token)
//   GET  /warnings /warning /review /unit  the pages; without a session 303 /signin?next=…
//   GET  /indicator?id=…        an indicator's page (indicator.js); without id, the list
//   GET  /reporting?year=…      the bureau's reporting board (reporting.js)
//   GET  /static/<file>         the pages' JavaScript and CSS
//   GET  /api/labels            every enum value's words (gateway.h EnumLabelsJson)
//   GET  /api/session           200 {"signedIn":true,"expiresAt":…} or 401
//   POST /api/session           {"token":"…"}: checks the token with one
//                               authenticated call (EvaluationService.ListWarnings,
//                               page_size 1; its error is the answer, e.g. 401),
//                               then sets the cookies and answers {"csrfToken":…}
//   POST /api/session/end       sign-out (CSRF checked): the session is removed
//                               and both cookies cleared
//   POST /api/v1/<Service>/<Method>, GET … (streams): gateway.h
//   GET  /report                the assessment group's reports (report.html)
//   POST /api/upload?name=…     a unit's filled form or CSV, raw bytes
//                               (Content-Type application/octet-stream,
//                               CSRF as below): upload.h
//   GET  /api/report?kind=…     a report as the page's JSON, HTML or xlsx: reports.h
//
// Session and CSRF. The session cookie `halfsky_session` is a random id
// (256 bits) mapping in memory to the token (sessions.h): HttpOnly,
// SameSite=Strict, Path=/, Max-Age = the session's lifetime, Secure when
// served over TLS. `halfsky_csrf` (same attributes but readable by the
// pages' JavaScript) holds the session's CSRF token; every POST that
// authenticates by the session cookie must send it back in the
// `X-CSRF-Token` header, compared (constant time) with the token stored in
// the session — not with the cookie — so a value planted in a cookie by a
// sibling site is useless (403 otherwise). Every POST must also be
// `Content-Type: application/json` (a cross-site form cannot send that
// without a CORS preflight, which is never granted; 415 otherwise) and,
// when the browser sends `Origin`, come from this server's own origin
// (403). A caller may instead send `Authorization: Bearer <token>` itself
// (scripts): then no cookie is read and no CSRF token is needed, as a
// browser never adds that header on its own. No session and no
// Authorization on an API path: 401.
//
// Thread-safe.

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "services/web/gateway.h"
#include "services/web/http_server.h"
#include "services/web/sessions.h"

namespace halfsky::web {

inline constexpr char kSessionCookie[] = "halfsky_session";
inline constexpr char kCsrfCookie[] = "halfsky_csrf";
inline constexpr char kCsrfHeader[] = "x-csrf-token";

struct ConsoleOptions {
  absl::Duration session_lifetime = absl::Hours(8);
  size_t max_sessions = 10000;
};

class Console {
 public:
  Console(Gateway* gateway, ConsoleOptions options);
  // The HttpHandler of the server.
  HttpResponse Handle(const HttpRequest& request);
  SessionStore& sessions() { return sessions_; }

 private:
  HttpResponse SignIn(const HttpRequest& request);
  HttpResponse SignOut(const HttpRequest& request);
  HttpResponse Api(const HttpRequest& request, const std::string& method);
  HttpResponse Page(const HttpRequest& request, const std::string& file);
  // The session of the request's cookie, if live.
  std::optional<Session> SessionOf(const HttpRequest& request);
  // An error response when a POST fails the content-type, origin or (for a
  // cookie session) CSRF checks; nullopt when it passes.
  // `content_type`: what the POST must declare (JSON for every API call;
  // application/octet-stream for the upload, which no cross-site form can
  // send either).
  std::optional<HttpResponse> CheckPost(const HttpRequest& request, const Session* session,
                                        const char* content_type = "application/json");
  // The caller's token (Authorization: Bearer, else the session's), or the
  // 401 answer. `session` is set when it came from the session cookie.
  std::optional<std::string> TokenOf(const HttpRequest& request, std::optional<Session>* session);
  HttpResponse Upload(const HttpRequest& request);
  HttpResponse Report(const HttpRequest& request);
  std::string CookieAttributes(const HttpRequest& request, absl::Duration max_age) const;

  Gateway* gateway_;
  ConsoleOptions options_;
  SessionStore sessions_;
};

}  // namespace halfsky::web

#endif  // HALFSKY_SERVICES_WEB_CONSOLE_H_
