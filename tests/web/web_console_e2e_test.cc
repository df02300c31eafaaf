// halfsky-web end to end (issue #19, first slice): the real services
// (tests/support/suite.h) and the real halfsky-web binary, checked over
// HTTP as a browser and a script would use them, and the warnings board in
// a real headless Chromium:
//  - an API call without a session is 401; a forged session id too;
//  - sign-in checks the token upstream and sets an HttpOnly, SameSite=Strict
//    session cookie (a wrong token: 401, no cookie);
//  - a POST without (or with a wrong) X-CSRF-Token is 403 and changes nothing;
//  - a role the upstream refuses is 403 with its google.rpc.Status;
//  - ListWarnings over the JSON API equals the gRPC answer, field for field;
//  - methods outside the allow-list are 404;
//  - return with a reason and the FAILED_PRECONDITION details as JSON;
//  - WatchWarnings as Server-Sent Events;
//  - sign-out ends the session;
//  - Chromium signs in and renders the board: every warning's name, red
//    first, no console errors.
// One suite for every test (SetUpTestSuite) keeps the run short.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/auth/credentials.h"
#include "common/submission_file/table.h"
#include "common/submission_file/xlsx.h"
#include "common/xlsx/reader.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "halfsky/v1/review.grpc.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "services/web/gateway.h"
#include "tests/halfskyctl/chromium.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"
#include "tests/web/console_stack.h"
#include "tests/web/devtools_browser.h"
#include "tests/web/form_xlsx.h"

namespace halfsky {
namespace {

namespace v1 = ::halfsky::v1;
using testing::DevToolsBrowser;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAssessmentToken[] = "web-assessment-token-1";
constexpr char kUnitToken[] = "web-health-unit-token-1";
constexpr char kStatisticsToken[] = "web-statistics-token-1";
constexpr char kServiceToken[] = "web-service-token-1";
constexpr char kDistrict[] = "610303";
constexpr char kUnit[] = "HEALTH_BUREAU";
constexpr char kProgressWarning[] = "HEALTH-02:610303:progress:2025";

struct HttpAnswer {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

std::string RequestText(int port, const std::string& method, const std::string& path,
                        const std::vector<std::string>& headers, const std::string& body) {
  std::string req = absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: 127.0.0.1:", port,
                                 "\r\nConnection: close\r\nContent-Length: ", body.size(), "\r\n");
  for (const std::string& h : headers) {
    absl::StrAppend(&req, h, "\r\n");
  }
  absl::StrAppend(&req, "\r\n", body);
  return req;
}

// One HTTP/1.1 request on its own connection (a plain socket client, so
// nothing outside the test decides what is sent).
HttpAnswer Http(int port, const std::string& method, const std::string& path,
                const std::vector<std::string>& headers = {}, const std::string& body = "") {
  HttpAnswer answer;
  const int fd = Connect(port);
  if (fd < 0) {
    return answer;
  }
  const std::string req = RequestText(port, method, path, headers, body);
  (void)!write(fd, req.data(), req.size());
  std::string raw;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  const size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) {
    return answer;
  }
  std::vector<std::string> lines = absl::StrSplit(raw.substr(0, end), "\r\n");
  std::vector<std::string> status_line = absl::StrSplit(lines[0], ' ');
  if (status_line.size() >= 2) {
    (void)absl::SimpleAtoi(status_line[1], &answer.status);
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon != std::string::npos) {
      answer.headers.emplace(absl::AsciiStrToLower(lines[i].substr(0, colon)),
                             std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1))));
    }
  }
  answer.body = raw.substr(end + 4);
  return answer;
}

// Reads a streamed response until `until` appears (or 10 s pass).
std::string ReadStreamUntil(int port, const std::string& path, const std::string& cookie,
                            const std::string& until) {
  const int fd = Connect(port);
  if (fd < 0) {
    return "";
  }
  const std::string req = RequestText(port, "GET", path, {"Cookie: " + cookie}, "");
  (void)!write(fd, req.data(), req.size());
  std::string raw;
  char buf[65536];
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!absl::StrContains(raw, until) && absl::Now() < deadline) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
      break;
    }
    raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return raw;
}

// "name=value" of the Set-Cookie header for `name` ("" if none).
std::string SetCookie(const HttpAnswer& a, const std::string& name) {
  auto range = a.headers.equal_range("set-cookie");
  for (auto it = range.first; it != range.second; ++it) {
    if (absl::StartsWith(it->second, name + "=")) {
      return it->second;
    }
  }
  return "";
}

std::string CookieValue(const std::string& set_cookie) {
  const size_t eq = set_cookie.find('=');
  const size_t semi = set_cookie.find(';');
  return set_cookie.substr(eq + 1, semi == std::string::npos ? std::string::npos : semi - eq - 1);
}

struct Signed {
  std::string cookie;  // the Cookie header value
  std::string csrf;
};

// A catalog other than the real-data one for a suite's services ("" = the
// real-data catalog); set by a derived suite before it starts.
std::string catalog_override;

class WebConsoleTest : public testing::ConsoleStackTest {
 protected:
  static void SetUpTestSuite() {
    const std::string catalog =
        catalog_override.empty()
            ? std::string(HALFSKY_SOURCE_DIR) + "/tests/testdata/real_data/catalog.textproto"
            : catalog_override;
    ASSERT_NO_FATAL_FAILURE(StartStack(
        {catalog, kAssessmentToken, kUnitToken, kStatisticsToken, kServiceToken, kUnit}));

    // The district's screening proportion 50 % (2020) and 52 % (2024)
    // against ≥ 70 % by 2025: a PROGRESS warning.
    ASSERT_NO_FATAL_FAILURE(
        SubmitValues(kUnitToken, "web-e2e-1",
                     {FractionValue("HEALTH-02", kDistrict, 2020, 500, 1000, "两癌筛查年报"),
                      FractionValue("HEALTH-02", kDistrict, 2024, 520, 1000, "两癌筛查年报")}));
    // Late-data warnings fire at start; wait for the progress warning too.
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (!HasWarning(kProgressWarning) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(100));
    }
    ASSERT_TRUE(HasWarning(kProgressWarning)) << "no progress warning fired";
  }

  static bool HasWarning(const std::string& id) {
    const v1::ListWarningsResponse r = GrpcWarnings();
    for (const v1::Warning& w : r.warnings()) {
      if (w.id() == id) {
        return true;
      }
    }
    return false;
  }

  static v1::ListWarningsResponse GrpcWarnings() {
    v1::ListWarningsResponse response;
    EXPECT_TRUE(ListWarnings(kAssessmentToken, 1000, &response).ok());
    return response;
  }

  static HttpAnswer SignInAnswer(const std::string& token) {
    return Http(port_, "POST", "/api/session", {"Content-Type: application/json"},
                absl::StrCat(R"({"token":")", token, "\"}"));
  }

  // GetFollowUp of `warning_id` until the service has opened its record
  // (when the warning fires), for at most 10 s; the last answer.
  static HttpAnswer AwaitFollowUp(const Signed& s, const std::string& warning_id) {
    const std::string request = absl::StrCat(R"({"warningId":")", warning_id, "\"}");
    HttpAnswer got;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    do {
      got = Api(s, "halfsky.v1.FollowUpService/GetFollowUp", request);
      if (got.status == 200) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(100));
    } while (absl::Now() < deadline);
    return got;
  }

  static Signed SignIn(const std::string& token) {
    const HttpAnswer a = SignInAnswer(token);
    EXPECT_EQ(a.status, 200) << a.body;
    const std::string session = CookieValue(SetCookie(a, "halfsky_session"));
    const std::string csrf = CookieValue(SetCookie(a, "halfsky_csrf"));
    return {absl::StrCat("halfsky_session=", session, "; halfsky_csrf=", csrf), csrf};
  }

  static HttpAnswer Api(const Signed& s, const std::string& method, const std::string& json,
                        bool with_csrf = true) {
    std::vector<std::string> headers = {"Content-Type: application/json", "Cookie: " + s.cookie};
    if (with_csrf) {
      headers.push_back("X-CSRF-Token: " + s.csrf);
    }
    return Http(port_, "POST", "/api/v1/" + method, headers, json);
  }
};

TEST_F(WebConsoleTest, WithoutASessionIs401AndOffTheAllowListIs404) {
  {
    HttpAnswer a = Http(port_, "POST", "/api/v1/halfsky.v1.EvaluationService/ListWarnings",
                        {"Content-Type: application/json"}, "{}");
    EXPECT_EQ(a.status, 401);
    EXPECT_THAT(a.body, HasSubstr(R"("status":"UNAUTHENTICATED")"));
    a = Http(port_, "POST", "/api/v1/halfsky.v1.EvaluationService/ListWarnings",
             {"Content-Type: application/json", "Cookie: halfsky_session=0123abcd"}, "{}");
    EXPECT_EQ(a.status, 401);
    // A page without a session goes to the sign-in page.
    a = Http(port_, "GET", "/warnings");
    EXPECT_EQ(a.status, 303);
    EXPECT_EQ(a.Header("location"), "/signin?next=/warnings");
  }
  {
    const Signed s = SignIn(kStatisticsToken);
    for (const char* method :
         {"halfsky.v1.SubmissionService/SubmitStream", "halfsky.v1.SubmissionService/WatchChanges",
          "halfsky.v1.SubmissionService/LockYear", "halfsky.v1.AggregationService/Rebuild",
          "grpc.health.v1.Health/Check", "halfsky.v1.EvaluationService/NoSuchMethod",
          "halfsky.v1.EvaluationService/WatchWarnings"}) {
      const HttpAnswer a = Api(s, method, "{}");
      EXPECT_EQ(a.status, 404) << method << " " << a.body;
    }
  }
}

// Every path of the JSON API refuses a request without a session: each
// method of the allow-list, the upload and the report (the labels and the
// sign-in itself are the only open ones).
TEST_F(WebConsoleTest, EveryApiPathRefusesARequestWithoutASession) {
  ASSERT_FALSE(web::AllowedMethods().empty());
  for (const std::string& method : web::AllowedMethods()) {
    const HttpAnswer a =
        Http(port_, "POST", "/api/v1/" + method, {"Content-Type: application/json"}, "{}");
    EXPECT_EQ(a.status, 401) << method << " " << a.body;
    EXPECT_THAT(a.body, HasSubstr(R"("status":"UNAUTHENTICATED")")) << method;
  }
  EXPECT_EQ(Http(port_, "POST", "/api/upload?name=a.csv",
                 {"Content-Type: application/octet-stream"}, "indicator_id\n")
                .status,
            401);
  EXPECT_EQ(Http(port_, "GET", "/api/report?kind=annual&year=2024", {}, "").status, 401);
}

TEST_F(WebConsoleTest, SignInSetsAnHttpOnlySameSiteStrictCookie) {
  const HttpAnswer wrong = SignInAnswer("not-a-token");
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  EXPECT_EQ(SetCookie(wrong, "halfsky_session"), "");

  const HttpAnswer a = SignInAnswer(kAssessmentToken);
  ASSERT_EQ(a.status, 200) << a.body;
  const std::string session = SetCookie(a, "halfsky_session");
  EXPECT_THAT(session, HasSubstr("; HttpOnly"));
  EXPECT_THAT(session, HasSubstr("; SameSite=Strict"));
  EXPECT_THAT(session, HasSubstr("; Path=/"));
  EXPECT_THAT(session, HasSubstr("; Max-Age=28800"));
  EXPECT_THAT(session, Not(HasSubstr("Secure")));  // plain HTTP here
  EXPECT_EQ(CookieValue(session).size(), 64u);
  EXPECT_THAT(session, Not(HasSubstr(kAssessmentToken)));
  const std::string csrf = SetCookie(a, "halfsky_csrf");
  EXPECT_THAT(csrf, HasSubstr("; SameSite=Strict"));
  EXPECT_THAT(csrf, Not(HasSubstr("HttpOnly")));  // the pages read it
  EXPECT_THAT(a.body, HasSubstr(CookieValue(csrf)));
  // A form post (not JSON) is refused before anything is checked.
  const HttpAnswer form =
      Http(port_, "POST", "/api/session", {"Content-Type: application/x-www-form-urlencoded"},
           absl::StrCat("token=", kAssessmentToken));
  EXPECT_EQ(form.status, 415);
}

TEST_F(WebConsoleTest, AWriteWithoutTheCsrfTokenIsRefused) {
  const Signed s = SignIn(kAssessmentToken);
  const v1::ListWarningsResponse before = GrpcWarnings();
  const std::string id = before.warnings(0).id();
  const std::string ack = absl::StrCat(R"({"warningId":")", id, R"(","note":"加强筛查宣传"})");
  HttpAnswer a = Api(s, "halfsky.v1.EvaluationService/AcknowledgeWarning", ack,
                     /*with_csrf=*/false);
  EXPECT_EQ(a.status, 403) << a.body;
  EXPECT_THAT(a.body, HasSubstr("CSRF"));
  Signed wrong = s;
  wrong.csrf = std::string(64, 'a');
  a = Api(wrong, "halfsky.v1.EvaluationService/AcknowledgeWarning", ack);
  EXPECT_EQ(a.status, 403) << a.body;
  // Another origin, even with the token.
  a = Http(port_, "POST", "/api/v1/halfsky.v1.EvaluationService/AcknowledgeWarning",
           {"Content-Type: application/json", "Cookie: " + s.cookie, "X-CSRF-Token: " + s.csrf,
            "Origin: http://evil.example"},
           ack);
  EXPECT_EQ(a.status, 403) << a.body;
  const v1::ListWarningsResponse after = GrpcWarnings();
  for (const v1::Warning& w : after.warnings()) {
    EXPECT_FALSE(w.has_acknowledgement()) << w.id();
  }
}

TEST_F(WebConsoleTest, ARoleTheServiceRefusesIsForbiddenWithItsStatus) {
  const Signed unit = SignIn(kUnitToken);
  const HttpAnswer a = Api(unit, "halfsky.v1.ReviewService/ApproveForm",
                           absl::StrCat(R"({"key":{"unitCode":")", kUnit, R"(","areaCode":")",
                                        kDistrict, R"(","year":2024}})"));
  EXPECT_EQ(a.status, 403) << a.body;
  EXPECT_THAT(a.body, HasSubstr(R"("status":"PERMISSION_DENIED","code":7)"));
  const HttpAnswer ack =
      Api(unit, "halfsky.v1.EvaluationService/AcknowledgeWarning",
          absl::StrCat(R"({"warningId":")", GrpcWarnings().warnings(0).id(), R"(","note":"x"})"));
  EXPECT_EQ(ack.status, 403) << ack.body;
}

TEST_F(WebConsoleTest, ListWarningsJsonEqualsTheGrpcAnswer) {
  const Signed s = SignIn(kAssessmentToken);
  // The answer between two equal gRPC answers (a re-evaluation in between
  // would change last_evaluated): retried a few times.
  bool compared = false;
  HttpAnswer a;
  for (int attempt = 0; attempt < 5 && !compared; ++attempt) {
    const v1::ListWarningsResponse before = GrpcWarnings();
    a = Api(s, "halfsky.v1.EvaluationService/ListWarnings", R"({"pageSize":1000})");
    const v1::ListWarningsResponse after = GrpcWarnings();
    if (!google::protobuf::util::MessageDifferencer::Equals(before, after)) {
      continue;
    }
    compared = true;
    ASSERT_EQ(a.status, 200) << a.body.substr(0, 500);
    EXPECT_THAT(a.Header("content-type"), HasSubstr("application/json"));
    v1::ListWarningsResponse from_json;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(a.body, &from_json).ok())
        << a.body.substr(0, 500);
    std::string diff;
    google::protobuf::util::MessageDifferencer differencer;
    differencer.ReportDifferencesToString(&diff);
    EXPECT_TRUE(differencer.Compare(before, from_json)) << diff;
    EXPECT_GT(from_json.warnings_size(), 1);
    EXPECT_EQ(from_json.total_count(), before.total_count());
  }
  ASSERT_TRUE(compared) << "the warnings kept changing";
  // A script with its own token: Authorization passes through, no cookie
  // and no CSRF token needed.
  const HttpAnswer bearer = Http(
      port_, "POST", "/api/v1/halfsky.v1.EvaluationService/ListWarnings",
      {"Content-Type: application/json", absl::StrCat("Authorization: Bearer ", kAssessmentToken)},
      R"({"pageSize":1000})");
  EXPECT_EQ(bearer.status, 200);
  v1::ListWarningsResponse by_bearer;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(bearer.body, &by_bearer).ok());
  EXPECT_EQ(by_bearer.warnings_size(), GrpcWarnings().warnings_size());
  // A body that is not the request's JSON mapping.
  const HttpAnswer bad = Api(s, "halfsky.v1.EvaluationService/ListWarnings", R"({"nope":1})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("INVALID_ARGUMENT"));
}

TEST_F(WebConsoleTest, ReturnWithAReasonAndTheErrorDetailsAsJson) {
  const Signed unit = SignIn(kUnitToken);
  const Signed bureau = SignIn(kStatisticsToken);
  const std::string key =
      absl::StrCat(R"({"unitCode":")", kUnit, R"(","areaCode":")", kDistrict, R"(","year":2020})");
  HttpAnswer a =
      Api(unit, "halfsky.v1.ReviewService/SubmitForm", absl::StrCat(R"({"key":)", key, "}"));
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_THAT(a.body, HasSubstr(R"("state":"FORM_STATE_SUBMITTED")"));
  a = Api(bureau, "halfsky.v1.ReviewService/ReturnForm",
          absl::StrCat(R"({"key":)", key, R"(,"reason":"筛查人数与年报不符"})"));
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_THAT(a.body, HasSubstr(R"("state":"FORM_STATE_RETURNED")"));
  EXPECT_THAT(a.body, HasSubstr("筛查人数与年报不符"));
  // Approving a returned form: FAILED_PRECONDITION with its ErrorInfo.
  a = Api(bureau, "halfsky.v1.ReviewService/ApproveForm", absl::StrCat(R"({"key":)", key, "}"));
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_THAT(a.body, HasSubstr(R"("status":"FAILED_PRECONDITION")"));
  EXPECT_THAT(a.body, HasSubstr(R"("@type":"type.googleapis.com/google.rpc.ErrorInfo")"));
  EXPECT_THAT(a.body, HasSubstr(R"("reason":"FORM_STATE")"));
  // The unit sees the reason on its own forms.
  a = Api(unit, "halfsky.v1.ReviewService/ListForms", R"({"year":2020})");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_THAT(a.body, HasSubstr("筛查人数与年报不符"));
}

TEST_F(WebConsoleTest, WatchWarningsIsServerSentEventsAndSignOutEndsTheSession) {
  {
    const Signed s = SignIn(kAssessmentToken);
    const std::string raw =
        ReadStreamUntil(port_, "/api/v1/halfsky.v1.EvaluationService/WatchWarnings?request=%7B%7D",
                        s.cookie, "WARNING_EVENT_TYPE_SYNCED");
    EXPECT_THAT(raw, HasSubstr("text/event-stream"));
    EXPECT_THAT(raw, HasSubstr(R"(data: {"type":"WARNING_EVENT_TYPE_CURRENT")"));
    EXPECT_THAT(raw, HasSubstr(R"(data: {"type":"WARNING_EVENT_TYPE_SYNCED")"));
    EXPECT_THAT(raw, HasSubstr(GrpcWarnings().warnings(0).id()));
  }
  {
    const Signed s = SignIn(kAssessmentToken);
    HttpAnswer a = Http(port_, "POST", "/api/session/end",
                        {"Content-Type: application/json", "Cookie: " + s.cookie}, "{}");
    EXPECT_EQ(a.status, 403) << "sign-out needs the CSRF token too";
    a = Http(port_, "POST", "/api/session/end",
             {"Content-Type: application/json", "Cookie: " + s.cookie, "X-CSRF-Token: " + s.csrf},
             "{}");
    EXPECT_EQ(a.status, 200) << a.body;
    EXPECT_THAT(SetCookie(a, "halfsky_session"), HasSubstr("Max-Age=0"));
    EXPECT_EQ(Api(s, "halfsky.v1.EvaluationService/ListWarnings", "{}").status, 401);
  }
}

TEST_F(WebConsoleTest, ChromiumRendersTheWarningsBoard) {
  const std::string chromium = testing::FindChromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "no Chromium installed";
  }
  // The sign-in page signs in with a token in the fragment (never sent to
  // the server as part of the URL), then opens the board.
  auto run = testing::RunChromiumOnUrl(
      chromium,
      absl::StrCat("http://127.0.0.1:", port_,
                   "/signin?next=/warnings%3Flive%3D0#token=", kAssessmentToken),
      "--enable-logging=stderr --v=0 --window-size=390,844 --virtual-time-budget=8000 "
      "--timeout=10000 "
      "--dump-dom");
  ASSERT_TRUE(run.ok()) << run.status();
  const v1::ListWarningsResponse warnings = GrpcWarnings();
  EXPECT_THAT(run->stdout_text,
              HasSubstr(absl::StrCat("data-rendered=\"", warnings.warnings_size(), "\"")))
      << run->stdout_text.substr(0, 3000);
  for (const v1::Warning& w : warnings.warnings()) {
    EXPECT_THAT(run->stdout_text, HasSubstr(absl::StrCat("data-id=\"", w.id(), "\"")));
    if (!w.indicator_name_zh().empty()) {
      EXPECT_THAT(run->stdout_text, HasSubstr(w.indicator_name_zh()));
    }
  }
  EXPECT_THAT(run->stdout_text, HasSubstr("预警看板"));
  // Red first: no red card after the first orange one.
  const size_t first_orange = run->stdout_text.find(R"(data-severity="orange")");
  const size_t last_red = run->stdout_text.rfind(R"(data-severity="red")");
  ASSERT_NE(first_orange, std::string::npos);
  ASSERT_NE(last_red, std::string::npos);
  EXPECT_LT(last_red, first_orange);
  for (absl::string_view line : absl::StrSplit(run->stderr_text, '\n')) {
    if (absl::StrContains(line, "CONSOLE")) {
      ADD_FAILURE() << "console: " << line;
    }
  }
}

// Acknowledgement, then a follow-up note (in the history) and a plan the
// service refuses (a past due date: its INVALID_ARGUMENT).
TEST_F(WebConsoleTest, TheAssessmentGroupAcknowledgesAndFollowsUpThroughTheApi) {
  {
    const Signed s = SignIn(kAssessmentToken);
    const HttpAnswer a = Api(
        s, "halfsky.v1.EvaluationService/AcknowledgeWarning",
        absl::StrCat(R"({"warningId":")", kProgressWarning, R"(","note":"加强宫颈癌筛查宣传"})"));
    ASSERT_EQ(a.status, 200) << a.body;
    EXPECT_THAT(a.body, HasSubstr(R"("note":"加强宫颈癌筛查宣传")"));
    EXPECT_THAT(a.body, HasSubstr(R"("by":"alice")"));
    const v1::ListWarningsResponse after = GrpcWarnings();
    bool found = false;
    for (const v1::Warning& w : after.warnings()) {
      if (w.id() == kProgressWarning) {
        found = true;
        EXPECT_EQ(w.acknowledgement().note(), "加强宫颈癌筛查宣传");
      }
    }
    EXPECT_TRUE(found);
  }
  {
    const Signed s = SignIn(kAssessmentToken);
    const std::string id = absl::StrCat(R"({"warningId":")", kProgressWarning, "\"");
    // The record is opened by the service when the warning fires.
    const HttpAnswer got = AwaitFollowUp(s, kProgressWarning);
    ASSERT_EQ(got.status, 200) << got.body;
    const HttpAnswer note = Api(s, "halfsky.v1.FollowUpService/AddFollowUpNote",
                                id + R"(,"note":"已约谈区卫生健康局"})");
    ASSERT_EQ(note.status, 200) << note.body;
    EXPECT_THAT(note.body, HasSubstr("已约谈区卫生健康局"));
    const HttpAnswer history = Api(s, "halfsky.v1.FollowUpService/GetFollowUp", id + "}");
    ASSERT_EQ(history.status, 200) << history.body;
    EXPECT_THAT(history.body, HasSubstr(R"("kind":"FOLLOW_UP_STEP_KIND_NOTE")"));
    EXPECT_THAT(history.body, HasSubstr(R"("text":"已约谈区卫生健康局")"));
    // A plan due in the past is the service's INVALID_ARGUMENT, with its words.
    const HttpAnswer plan = Api(s, "halfsky.v1.FollowUpService/PlanFollowUp",
                                id + R"(,"measures":"x","due":"2020-01-01T23:59:59+08:00"})");
    EXPECT_EQ(plan.status, 400) << plan.body;
    EXPECT_THAT(plan.body, HasSubstr(R"("status":"INVALID_ARGUMENT")"));
  }
}

TEST_F(WebConsoleTest, ChromiumRendersAWarningsPage) {
  if (testing::FindChromium().empty()) {
    GTEST_SKIP() << "no Chromium installed";
  }
  const std::string next = absl::StrCat("%2Fwarning%3Fid%3D", kProgressWarning);
  const std::string dom = RenderSignedIn(kAssessmentToken, next);
  MaybeScreenshot(kAssessmentToken, "%2Fwarnings%3Flive%3D0", "web-warnings.png");
  MaybeScreenshot(kAssessmentToken, next, "web-warning.png");
  EXPECT_THAT(dom, HasSubstr(absl::StrCat("data-warning=\"", kProgressWarning, "\"")))
      << dom.substr(0, 3000);
  EXPECT_THAT(dom, HasSubstr("宫颈癌筛查率"));
  EXPECT_THAT(dom, HasSubstr("橙色预警"));
  EXPECT_THAT(dom, HasSubstr("进度预警"));
  EXPECT_THAT(dom, HasSubstr("目标 target (2025)"));
  // Every figure carries the indicator's unit (宫颈癌筛查率: %).
  EXPECT_THAT(dom, ::testing::ContainsRegex("目标 target \\(2025\\)</th><td>[0-9.]+ %</td>"))
      << dom.substr(0, 3000);
  EXPECT_THAT(dom, HasSubstr("data-followup=\""));  // the record and its steps
  // The chart of the warned series against its targets: both submitted
  // years drawn, the 2025 target as a level.
  EXPECT_THAT(dom, HasSubstr("data-trend=\"2\"")) << dom.substr(0, 3000);
  EXPECT_THAT(dom, HasSubstr("data-target-year=\"2025\""));
  EXPECT_THAT(dom, HasSubstr("趋势与目标"));
  EXPECT_THAT(dom, HasSubstr("2025年目标 "));
  const v1::ListWarningsResponse warnings = GrpcWarnings();
  for (const v1::Warning& w : warnings.warnings()) {
    if (w.id() == kProgressWarning) {
      EXPECT_THAT(dom, HasSubstr(w.explanation_zh()));
    }
  }
}

TEST_F(WebConsoleTest, ChromiumShowsTheReturnedReasonToTheBureauAndTheUnit) {
  if (testing::FindChromium().empty()) {
    GTEST_SKIP() << "no Chromium installed";
  }
  auto review = v1::ReviewService::NewStub(
      grpc::CreateChannel(suite_->submission().address(), grpc::InsecureChannelCredentials()));
  v1::FormKey key;
  key.set_unit_code(kUnit);
  key.set_area_code(kDistrict);
  key.set_year(2024);
  v1::Form form;
  {
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, kUnitToken);
    v1::SubmitFormRequest request;
    *request.mutable_key() = key;
    ASSERT_TRUE(review->SubmitForm(&ctx, request, &form).ok());
  }
  {
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, kStatisticsToken);
    v1::ReturnFormRequest request;
    *request.mutable_key() = key;
    request.set_reason("2024年筛查人数缺少来源");
    ASSERT_TRUE(review->ReturnForm(&ctx, request, &form).ok());
  }
  const std::string bureau = RenderSignedIn(kStatisticsToken, "%2Freview");
  MaybeScreenshot(kStatisticsToken, "%2Freview", "web-review.png");
  EXPECT_THAT(bureau, HasSubstr("2024年筛查人数缺少来源")) << bureau.substr(0, 3000);
  EXPECT_THAT(bureau, HasSubstr("区卫生健康局"));
  EXPECT_THAT(bureau, HasSubstr(R"(data-state="returned")"));
  // The reporting board of 2024: the unit's returned form is overdue.
  EXPECT_THAT(bureau, HasSubstr("2024年报送看板"));
  EXPECT_THAT(bureau, HasSubstr(R"(data-unit="HEALTH_BUREAU" data-overdue="yes")"));
  const std::string unit = RenderSignedIn(kUnitToken, "%2Funit");
  EXPECT_THAT(unit, HasSubstr("2024年筛查人数缺少来源")) << unit.substr(0, 3000);
  EXPECT_THAT(unit, HasSubstr("已退回"));
  EXPECT_THAT(unit, HasSubstr(">报送</button>"));
}

// HTTPS with the service's own --tls_cert / --tls_key (GnuTLS inside
// libmicrohttpd): the session cookie gets Secure. A second halfsky-web.
TEST_F(WebConsoleTest, OverTlsTheSessionCookieIsSecure) {
  const std::string dir = suite_->dir();
  const std::string cert = dir + "/web-tls.crt";
  const std::string key = dir + "/web-tls.key";
  const std::string gen = absl::StrCat(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout ",
      key, " -out ", cert, " >/dev/null 2>&1");
  ASSERT_EQ(std::system(gen.c_str()), 0) << gen;
  const std::string http_file = dir + "/web-tls.http";
  auto child = testing::ChildProcess::Start(
      {testing::ServiceBinary("web"),
       "--catalog=" + std::string(HALFSKY_SOURCE_DIR) +
           "/tests/testdata/real_data/catalog.textproto",
       "--listen=127.0.0.1:0", "--metrics_listen=127.0.0.1:0", "--http_listen=127.0.0.1:0",
       "--http_address_file=" + http_file, "--tls_cert=" + cert, "--tls_key=" + key,
       "--drain_delay=0s", "--submission=" + suite_->submission().address(),
       "--aggregation=" + suite_->aggregation().address(),
       "--evaluation=" + suite_->evaluation().address()},
      dir + "/web-tls.log");
  ASSERT_TRUE(child.ok()) << child.status();
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (testing::ReadFile(http_file).empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  const std::string address = std::string(
      absl::StripAsciiWhitespace(absl::StripPrefix(testing::ReadFile(http_file), "http=")));
  ASSERT_FALSE(address.empty()) << testing::ReadFile(dir + "/web-tls.log");
  const std::string body = absl::StrCat(R"({"token":")", kAssessmentToken, "\"}");
  const std::string request = absl::StrCat(
      "POST /api/session HTTP/1.1\r\nHost: ", address,
      "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: ", body.size(),
      "\r\n\r\n", body);
  auto run = testing::RunCommand(
      {"/bin/sh", "-c",
       absl::StrCat("printf '%s' '", request, "' | openssl s_client -quiet -connect ", address,
                    " 2>/dev/null")},
      {}, absl::Seconds(20));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_THAT(run->out, HasSubstr("HTTP/1.1 200")) << run->out;
  EXPECT_THAT(run->out, HasSubstr("halfsky_session="));
  EXPECT_THAT(run->out, HasSubstr("; Secure; HttpOnly"));
  // Plain HTTP on the TLS port gets no page.
  const int port = std::stoi(address.substr(address.rfind(':') + 1));
  EXPECT_NE(Http(port, "GET", "/signin").status, 200);
  (*child)->Signal(SIGTERM);
  const absl::StatusOr<int> status = (*child)->Wait(absl::Seconds(10));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
}

// A correction of a submitted figure (the reason a revision needs).
v1::DataValue Corrected(v1::DataValue value) {
  value.set_change_reason("更正筛查人数");
  return value;
}

// A change upstream reaches an open WatchWarnings stream through the
// console as it happens (a new figure: the progress warning is UPDATED).
TEST_F(WebConsoleTest, AChangeArrivesLiveOnTheStream) {
  const Signed s = SignIn(kAssessmentToken);
  const int fd = Connect(port_);
  ASSERT_GE(fd, 0);
  const std::string req =
      RequestText(port_, "GET", "/api/v1/halfsky.v1.EvaluationService/WatchWarnings?request=%7B%7D",
                  {"Cookie: " + s.cookie}, "");
  ASSERT_EQ(write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  std::string raw;
  char buf[65536];
  while (!absl::StrContains(raw, "WARNING_EVENT_TYPE_SYNCED")) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    ASSERT_GT(n, 0) << raw;
    raw.append(buf, static_cast<size_t>(n));
  }
  const size_t synced = raw.size();
  ASSERT_NO_FATAL_FAILURE(SubmitValues(
      kUnitToken, "web-e2e-live",
      {Corrected(FractionValue("HEALTH-02", kDistrict, 2024, 540, 1000, "两癌筛查年报（更正）"))}));
  // The update: an event after SYNCED naming the progress warning.
  while (raw.find(kProgressWarning, synced) == std::string::npos) {
    const ssize_t n = read(fd, buf, sizeof(buf));  // SO_RCVTIMEO 10 s
    ASSERT_GT(n, 0) << raw.substr(synced);
    raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  EXPECT_THAT(raw.substr(synced), HasSubstr(R"(data: {"type":"WARNING_EVENT_TYPE_UPDATED")"));
  EXPECT_THAT(raw.substr(synced), HasSubstr(R"("currentValue":54)"));
}

// The board in a real browser with its live stream open: a new figure
// upstream changes the card on the page without a reload.
TEST_F(WebConsoleTest, ChromiumSeesAChangeArriveLiveOnTheBoard) {
  const std::string chromium = testing::FindChromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "no Chromium installed";
  }
  DevToolsBrowser browser;
  ASSERT_TRUE(
      browser.Start(chromium, absl::StrCat("http://127.0.0.1:", port_,
                                           "/signin?next=%2Fwarnings#token=", kAssessmentToken)));
  const std::string count = std::to_string(GrpcWarnings().warnings_size());
  ASSERT_EQ(browser.WaitFor("document.body.getAttribute('data-rendered') || ''", count,
                            absl::Seconds(15)),
            count);
  const std::string card = absl::StrCat("(document.querySelector('li[data-id=\"", kProgressWarning,
                                        "\"]') || {}).textContent || ''");
  absl::SleepFor(absl::Milliseconds(500));  // the stream is open and synced
  ASSERT_NO_FATAL_FAILURE(
      SubmitValues(kUnitToken, "web-e2e-live-browser",
                   {Corrected(FractionValue("HEALTH-02", kDistrict, 2024, 561, 1000,
                                            "两癌筛查年报（再次更正）"))}));
  const std::string has_new = absl::StrCat("(", card, ").indexOf('56.1%') >= 0 ? 'yes' : 'no'");
  EXPECT_EQ(browser.WaitFor(has_new, "yes", absl::Seconds(15)), "yes") << browser.Evaluate(card);
  EXPECT_TRUE(browser.errors().empty()) << browser.errors()[0];
}

// Last: it stops halfsky-web. SIGTERM ends an open watch stream (its final
// event names the status) and the process exits cleanly and promptly.
TEST_F(WebConsoleTest, SigtermEndsOpenStreamsAndExitsCleanly) {
  const Signed s = SignIn(kAssessmentToken);
  const int fd = Connect(port_);
  ASSERT_GE(fd, 0);
  const std::string req =
      RequestText(port_, "GET", "/api/v1/halfsky.v1.EvaluationService/WatchWarnings?request=%7B%7D",
                  {"Cookie: " + s.cookie}, "");
  ASSERT_EQ(write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  std::string raw;
  char buf[65536];
  while (!absl::StrContains(raw, "WARNING_EVENT_TYPE_SYNCED")) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    ASSERT_GT(n, 0) << raw;
    raw.append(buf, static_cast<size_t>(n));
  }
  const absl::Time start = absl::Now();
  web_->Signal(SIGTERM);
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  EXPECT_THAT(raw, HasSubstr("event: error"));
  EXPECT_THAT(raw, HasSubstr(R"("status":"CANCELLED")"));
  const absl::StatusOr<int> status = web_->WaitForExit(absl::Seconds(10));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

// The unit's upload and the assessment group's reports (a suite of its own,
// after the one above has stopped its halfsky-web: the same fixture, fresh
// services).
class WebUploadReportTest : public WebConsoleTest {
 protected:
  // HEALTH-02 of the district in `years`, as stored (gRPC, not the web).
  static std::vector<v1::Revision> StoredValues(const std::vector<int>& years) {
    auto stub = v1::SubmissionService::NewStub(
        grpc::CreateChannel(suite_->submission().address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, kStatisticsToken);
    v1::ListDataValuesRequest request;
    request.add_indicator_ids("HEALTH-02");
    request.add_area_codes(kDistrict);
    for (int y : years) {
      request.add_years(y);
    }
    v1::ListDataValuesResponse response;
    EXPECT_TRUE(stub->ListDataValues(&ctx, request, &response).ok());
    return {response.data_values().begin(), response.data_values().end()};
  }

  // A report form (表式), tests/web/form_xlsx.h.
  static std::string FormXlsx(const std::string& name,
                              const std::vector<std::vector<std::string>>& rows) {
    const std::string bytes = testing::WriteFormXlsx(suite_->dir() + "/" + name, rows);
    EXPECT_FALSE(bytes.empty()) << name;
    return bytes;
  }

  static HttpAnswer Upload(const Signed& s, const std::string& name, const std::string& bytes,
                           bool with_csrf = true,
                           const std::string& type = "application/octet-stream") {
    std::vector<std::string> headers = {"Content-Type: " + type, "Cookie: " + s.cookie};
    if (with_csrf) {
      headers.push_back("X-CSRF-Token: " + s.csrf);
    }
    return Http(port_, "POST", "/api/upload?name=" + name, headers, bytes);
  }

  // Puts `bytes` into the page's file input as `name` and presses 上传.
  static std::string ChooseAndSend(DevToolsBrowser& browser, const std::string& name,
                                   const std::string& bytes) {
    return browser.Evaluate(absl::StrCat(
        "(function(){var b=atob('", absl::Base64Escape(bytes),
        "');var u=new Uint8Array(b.length);for(var i=0;i<b.length;i++){u[i]=b.charCodeAt(i);}"
        "var dt=new DataTransfer();dt.items.add(new File([u],'",
        name,
        "'));var input=document.getElementById('upload-file');input.files=dt.files;"
        "document.getElementById('upload-send').click();return 'sent';})()"));
  }
};

const std::vector<std::vector<std::string>> kGoodRows = {
    {"HEALTH-02", kDistrict, "2022", "505", "1000", "两癌筛查年报"},
    {"HEALTH-02", kDistrict, "2023", "512", "1000", "两癌筛查年报"}};

// Every refusal of the upload writes nothing: no session (401), no or a
// wrong X-CSRF-Token (403), a JSON content type (400), a body over the
// bound (413, in Chinese), a value the server refuses (400, by row).
TEST_F(WebUploadReportTest, TheUploadNeedsTheSessionAndItsCsrfTokenAndIsBounded) {
  const std::string good = FormXlsx("good-refused.xlsx", kGoodRows);
  HttpAnswer a = Http(port_, "POST", "/api/upload?name=f.xlsx",
                      {"Content-Type: application/octet-stream"}, good);
  EXPECT_EQ(a.status, 401) << a.body;
  const Signed s = SignIn(kUnitToken);
  a = Upload(s, "f.xlsx", good, /*with_csrf=*/false);
  EXPECT_EQ(a.status, 403) << a.body;
  EXPECT_THAT(a.body, HasSubstr("CSRF"));
  Signed wrong = s;
  wrong.csrf = "0000";
  a = Upload(wrong, "f.xlsx", good);
  EXPECT_EQ(a.status, 403) << a.body;
  a = Upload(s, "f.xlsx", good, true, "application/json");
  EXPECT_EQ(a.status, 400) << a.body;
  a = Upload(s, "big.csv", std::string(5 << 20, 'x'));
  EXPECT_EQ(a.status, 413) << a.body.substr(0, 300);
  EXPECT_THAT(a.body, HasSubstr("上限 4 MiB"));
  // A CSV the file reading accepts but the service refuses (no such
  // indicator): the violation by the file's line, nothing written.
  a = Upload(s, "bad.csv",
             "指标代码,区域代码,年份,分子,分母,数据来源\nHEALTH-02,610303,2022,505,1000,年报\n"
             "NOPE-99,610303,2022,1,2,年报\n");
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_THAT(a.body, HasSubstr(R"("written":false)"));
  EXPECT_THAT(a.body, HasSubstr("第3行 / line 3")) << a.body;
  // 250 bad cells: every one counted, the first 200 listed.
  std::string many = "指标代码,区域代码,年份,分子,分母,数据来源\n";
  for (int i = 0; i < 250; ++i) {
    absl::StrAppend(&many, "HEALTH-02,610303,2022,x", i, ",1000,年报\n");
  }
  a = Upload(s, "many.csv", many);
  EXPECT_EQ(a.status, 400);
  EXPECT_THAT(a.body, HasSubstr(R"("errorCount":250)"));
  google::protobuf::Struct answer;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(a.body, &answer).ok()) << a.body;
  EXPECT_EQ(answer.fields().at("errors").list_value().values_size(), 200);
  EXPECT_THAT(answer.fields().at("errors").list_value().values(0).string_value(),
              HasSubstr("第2行第4列"));
  EXPECT_TRUE(StoredValues({2022, 2023}).empty());
}

// The unit's home in Chromium: a good form is written (ListDataValues has
// it), uploading it again writes nothing twice, the unit submits the form
// from the page (SubmitForm); a bad form shows every cell error exactly as
// the shared reading reports it and writes nothing.
TEST_F(WebUploadReportTest, ChromiumUploadsTheFormAndShowsEveryCellErrorOfABadOne) {
  const std::string chromium = testing::FindChromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "no Chromium installed";
  }
  DevToolsBrowser browser;
  ASSERT_TRUE(browser.Start(chromium, absl::StrCat("http://127.0.0.1:", port_,
                                                   "/signin?next=%2Funit#token=", kUnitToken)));
  ASSERT_EQ(browser.WaitFor("document.body.getAttribute('data-rendered') !== null && "
                            "document.getElementById('upload-file') ? 'yes' : 'no'",
                            "yes", absl::Seconds(15)),
            "yes");
  const std::string fits = "String(document.documentElement.scrollWidth <= window.innerWidth)";
  EXPECT_EQ(browser.Evaluate(fits), "true");  // 390 px: no horizontal scrolling
  MaybeScreenshot(kUnitToken, "%2Funit", "web-unit.png");
  const std::string state = "document.getElementById('upload').getAttribute('data-upload-state')";
  const std::string status = "document.getElementById('upload-status').textContent";
  const std::string good = FormXlsx("good.xlsx", kGoodRows);
  ASSERT_EQ(ChooseAndSend(browser, "good.xlsx", good), "sent");
  ASSERT_EQ(browser.WaitFor(state, "done", absl::Seconds(20)), "done") << browser.Evaluate(status);
  EXPECT_EQ(browser.Evaluate("String(document.getElementById('upload-progress').value)"), "100");
  EXPECT_THAT(browser.Evaluate(status), HasSubstr("已写入 2 条：新增 2"));
  std::vector<v1::Revision> stored = StoredValues({2022, 2023});
  ASSERT_EQ(stored.size(), 2u);
  std::map<int, double> numerators;
  for (const v1::Revision& r : stored) {
    numerators[r.data_value().key().year()] = r.data_value().fraction().numerator();
    EXPECT_EQ(r.data_value().source(), "两癌筛查年报");
  }
  EXPECT_EQ(numerators[2022], 505);
  EXPECT_EQ(numerators[2023], 512);
  // The same file again: the service's stored replies, nothing written twice.
  const Signed s = SignIn(kUnitToken);
  const HttpAnswer again = Upload(s, "good.xlsx", good);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_THAT(again.body, HasSubstr(R"("replayedChunks":1)"));
  EXPECT_THAT(again.body, HasSubstr(R"("created":0)"));
  EXPECT_EQ(StoredValues({2022, 2023}).size(), 2u);

  // 报送 the 2023 form from the page.
  const std::string button =
      absl::StrCat("document.getElementById('submit-", kUnit, "-", kDistrict, "-2023')");
  ASSERT_EQ(browser.WaitFor(absl::StrCat(button, " ? 'yes' : 'no'"), "yes", absl::Seconds(10)),
            "yes");
  browser.Evaluate(absl::StrCat(button, ".click()"));
  EXPECT_EQ(browser.WaitFor(absl::StrCat(button, ".getAttribute('data-submitted') || ''"), "yes",
                            absl::Seconds(10)),
            "yes")
      << browser.Evaluate(status);
  {
    auto review = v1::ReviewService::NewStub(
        grpc::CreateChannel(suite_->submission().address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, kStatisticsToken);
    v1::ListFormsRequest request;
    request.set_year(2023);
    v1::ListFormsResponse forms;
    ASSERT_TRUE(review->ListForms(&ctx, request, &forms).ok());
    ASSERT_EQ(forms.forms_size(), 1);
    EXPECT_EQ(forms.forms(0).key().unit_code(), kUnit);
    EXPECT_EQ(forms.forms(0).state(), v1::FORM_STATE_SUBMITTED);
  }

  // The bureau approves it on /review: its row's 审核通过 button.
  {
    DevToolsBrowser bureau;
    ASSERT_TRUE(
        bureau.Start(chromium, absl::StrCat("http://127.0.0.1:", port_,
                                            "/signin?next=%2Freview#token=", kStatisticsToken)));
    const std::string approve = absl::StrCat(
        "(function(){var i=document.getElementById('reason-", kUnit, "-", kDistrict,
        "-2023');if(!i){return null;}return Array.prototype.filter.call("
        "i.parentNode.querySelectorAll('button'),function(b){return b.textContent==='审核通过';})"
        "[0]||null;})()");
    ASSERT_EQ(bureau.WaitFor(approve + " ? 'yes' : 'no'", "yes", absl::Seconds(15)), "yes");
    bureau.Evaluate(approve + ".click();'x'");
    auto review = v1::ReviewService::NewStub(
        grpc::CreateChannel(suite_->submission().address(), grpc::InsecureChannelCredentials()));
    v1::FormState state = v1::FORM_STATE_UNSPECIFIED;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    do {
      grpc::ClientContext ctx;
      auth::AddBearerToken(&ctx, kStatisticsToken);
      v1::ListFormsRequest request;
      request.set_year(2023);
      v1::ListFormsResponse forms;
      ASSERT_TRUE(review->ListForms(&ctx, request, &forms).ok());
      ASSERT_EQ(forms.forms_size(), 1);
      state = forms.forms(0).state();
      if (state == v1::FORM_STATE_APPROVED) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(100));
    } while (absl::Now() < deadline);
    EXPECT_EQ(state, v1::FORM_STATE_APPROVED)
        << bureau.Evaluate("document.getElementById('status').textContent");
    EXPECT_TRUE(bureau.errors().empty()) << bureau.errors()[0];
  }

  // A bad form: two bad cells and one good row; every error shown as the
  // shared reading words it, and not even the good row is written.
  const std::string bad =
      FormXlsx("bad.xlsx", {{"HEALTH-02", kDistrict, "2021", "五百", "1000", "两癌筛查年报"},
                            {"HEALTH-02", kDistrict, "20x1", "500", "1000", "两癌筛查年报"},
                            {"HEALTH-02", kDistrict, "2019", "480", "1000", "两癌筛查年报"}});
  const std::vector<std::string> expected = submit::ParseSubmissionXlsx(bad).table.errors;
  ASSERT_GE(expected.size(), 2u);
  ASSERT_EQ(ChooseAndSend(browser, "bad.xlsx", bad), "sent");
  ASSERT_EQ(browser.WaitFor(state, "rejected", absl::Seconds(20)), "rejected")
      << browser.Evaluate(status);
  const std::string shown = browser.Evaluate(
      "Array.prototype.map.call(document.querySelectorAll('#upload-errors li'),"
      "function(l){return l.textContent;}).join('\\n')");
  EXPECT_EQ(shown, absl::StrJoin(expected, "\n"));
  EXPECT_THAT(shown, HasSubstr("表式!D4"));
  EXPECT_THAT(shown, HasSubstr("表式!C5"));
  EXPECT_THAT(browser.Evaluate(status), HasSubstr("未写入任何数据"));
  EXPECT_TRUE(StoredValues({2019, 2021}).empty());
  EXPECT_EQ(browser.Evaluate(fits), "true");  // the error list wraps at 390 px
  EXPECT_TRUE(browser.errors().empty()) << browser.errors()[0];
}

// The assessment group's annual report in Chromium: the page shows the
// compendium's figures with what each covers; the xlsx download (parsed with
// the repo's reader) holds the same figures in the same order; the HTML
// download is the report; both named in Chinese through filename*.
TEST_F(WebUploadReportTest, ChromiumShowsTheReportAndItsDownloadsHoldTheSameFigures) {
  const std::string chromium = testing::FindChromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "no Chromium installed";
  }
  DevToolsBrowser browser;
  ASSERT_TRUE(browser.Start(
      chromium, absl::StrCat("http://127.0.0.1:", port_,
                             "/signin?next=%2Freport%3Fkind%3Dannual%26year%3D2024#token=",
                             kAssessmentToken)));
  std::string sheets;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    sheets = browser.Evaluate(
        "document.body.getAttribute('data-page')==='report' ? "
        "(document.body.getAttribute('data-rendered') || '') : ''");
    if (!sheets.empty()) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_FALSE(sheets.empty());
  ASSERT_NE(sheets, "error") << browser.Evaluate("document.getElementById('status').textContent");
  const std::string title = browser.Evaluate("document.getElementById('report-title').textContent");
  EXPECT_THAT(title, HasSubstr("2024年度监测评估报告"));
  const std::string page_numbers = browser.Evaluate(
      "Array.prototype.map.call(document.querySelectorAll('#report td[data-number]'),"
      "function(t){return t.getAttribute('data-number');}).join(',')");
  const std::string page_text = browser.Evaluate("document.getElementById('report').textContent");
  EXPECT_EQ(
      browser.Evaluate("document.querySelector('#report section').getAttribute('data-sheet')"),
      "总体情况");
  EXPECT_THAT(page_text, HasSubstr("达标情况"));
  // What each figure covers: the 数据说明 column, e.g. unreviewed figures.
  EXPECT_THAT(page_text, HasSubstr("数据说明"));
  EXPECT_THAT(page_text, HasSubstr("含未审核数据"));
  EXPECT_THAT(page_text, HasSubstr("宫颈癌筛查率"));
  EXPECT_EQ(browser.Evaluate("String(document.documentElement.scrollWidth <= window.innerWidth)"),
            "true");  // 390 px: no horizontal scrolling
  MaybeScreenshot(kAssessmentToken, "%2Freport%3Fkind%3Dannual%26year%3D2024", "web-report.png");
  EXPECT_TRUE(browser.errors().empty()) << browser.errors()[0];

  const Signed s = SignIn(kAssessmentToken);
  const HttpAnswer x =
      Http(port_, "GET", "/api/report?kind=annual&year=2024&format=xlsx", {"Cookie: " + s.cookie});
  ASSERT_EQ(x.status, 200) << x.body.substr(0, 500);
  EXPECT_EQ(x.Header("content-type"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  const std::string disposition = x.Header("content-disposition");
  EXPECT_THAT(disposition, HasSubstr("attachment; filename=\"halfsky-annual-2024.xlsx\""));
  // filename*=UTF-8''…2024年度监测评估报告统计资料.xlsx, percent-encoded.
  std::string encoded;
  for (unsigned char c : std::string("2024年度监测评估报告统计资料.xlsx")) {
    encoded += absl::ascii_isalnum(c) || c == '.' ? std::string(1, static_cast<char>(c))
                                                  : absl::StrFormat("%%%02X", c);
  }
  EXPECT_THAT(disposition, HasSubstr("filename*=UTF-8''")) << disposition;
  EXPECT_THAT(disposition, ::testing::EndsWith(encoded)) << disposition;
  absl::StatusOr<xlsx::Workbook> book = xlsx::ReadWorkbook(x.body);
  ASSERT_TRUE(book.ok()) << book.status();
  ASSERT_EQ(std::to_string(book->sheets.size()), sheets);
  std::vector<std::string> numbers;
  bool covers = false;
  for (const xlsx::Sheet& sheet : book->sheets) {
    for (const xlsx::Cell& cell : sheet.cells) {
      if (cell.type == xlsx::CellType::kNumber) {
        numbers.push_back(submit::ShortestDecimal(cell.number));
      } else if (cell.text == "含未审核数据") {
        covers = true;
      }
    }
  }
  EXPECT_TRUE(covers);
  EXPECT_FALSE(numbers.empty());
  EXPECT_EQ(page_numbers, absl::StrJoin(numbers, ","));

  const HttpAnswer h =
      Http(port_, "GET", "/api/report?kind=annual&year=2024&format=html", {"Cookie: " + s.cookie});
  ASSERT_EQ(h.status, 200);
  EXPECT_EQ(h.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_THAT(h.Header("content-disposition"), HasSubstr("attachment; filename="));
  EXPECT_THAT(h.Header("content-disposition"), HasSubstr("filename*=UTF-8''"));
  EXPECT_THAT(h.body, HasSubstr(title));
  EXPECT_THAT(h.body, HasSubstr("宫颈癌筛查率"));
  // The mid-term report opened in the browser (inline), named as a download would be.
  const HttpAnswer m = Http(port_, "GET", "/api/report?kind=midterm&format=html&disposition=inline",
                            {"Cookie: " + s.cookie});
  ASSERT_EQ(m.status, 200) << m.body.substr(0, 300);
  EXPECT_THAT(m.Header("content-disposition"),
              ::testing::StartsWith("inline; filename=\"halfsky-midterm-2025.html\""));
  EXPECT_THAT(m.body, HasSubstr("中期评估"));
  // Without a session: 401; a bad kind: 400.
  EXPECT_EQ(Http(port_, "GET", "/api/report?kind=annual&format=xlsx").status, 401);
  EXPECT_EQ(Http(port_, "GET", "/api/report?kind=weekly", {"Cookie: " + s.cookie}).status, 400);
}

// 督办 between the assessment group and a unit (a suite of its own, fresh
// services, with a second member unit in the catalog so that a warning can
// be handed from one unit to another).
class WebFollowUpTest : public WebConsoleTest {
 protected:
  static void SetUpTestSuite() {
    const std::string real = testing::ReadFile(std::string(HALFSKY_SOURCE_DIR) +
                                               "/tests/testdata/real_data/catalog.textproto");
    const std::string dir = testing::MakeTempDir("web-followup-catalog");
    catalog_override = dir + "/catalog.textproto";
    std::ofstream(catalog_override)
        << real
        << "\nmember_units { code: \"EDU_BUREAU\" name_zh: \"区教育局\" name_en: \"Education "
           "bureau\" }\n";
    WebConsoleTest::SetUpTestSuite();
    catalog_override.clear();
  }

  // The record's whole history as the web's JSON API gives it.
  static std::string History(const Signed& s) {
    return Api(s, "halfsky.v1.FollowUpService/GetFollowUp",
               absl::StrCat(R"({"warningId":")", kProgressWarning, "\"}"))
        .body;
  }
};

// The assessment group hands a warning to the indicator's lead unit in the
// warning's page with what is asked and by when; a silence with a past end
// shows the service's refusal; the unit sees it on /unit with its due date
// and answers with its countermeasure; the group sees the answer in the
// warning's history. No console error in any page.
TEST_F(WebFollowUpTest, ChromiumAssignsAWarningAndTheUnitAnswersIt) {
  const std::string chromium = testing::FindChromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "no Chromium installed";
  }
  const Signed group = SignIn(kAssessmentToken);
  const std::string id = absl::StrCat(R"({"warningId":")", kProgressWarning, "\"");
  // The record opens when the warning fires; then it is first given to the
  // other unit, so that the page hands it (back) to the lead unit.
  const HttpAnswer got = AwaitFollowUp(group, kProgressWarning);
  ASSERT_EQ(got.status, 200) << got.body;
  const HttpAnswer away = Api(group, "halfsky.v1.FollowUpService/AssignFollowUp",
                              id + R"(,"unitCode":"EDU_BUREAU","reason":"先由教育局核实"})");
  ASSERT_EQ(away.status, 200) << away.body;

  const absl::TimeZone beijing = absl::FixedTimeZone(8 * 3600);
  const std::string due = absl::FormatTime("%Y-%m-%d", absl::Now() + absl::Hours(24 * 30), beijing);
  const std::string yesterday =
      absl::FormatTime("%Y-%m-%d", absl::Now() - absl::Hours(24), beijing);
  const std::string fits = "String(document.documentElement.scrollWidth <= window.innerWidth)";
  const std::string page =
      absl::StrCat("/signin?next=%2Fwarning%3Fid%3D", kProgressWarning, "#token=");
  const std::string followup = "document.body.getAttribute('data-followup') || ''";
  {
    DevToolsBrowser browser;
    ASSERT_TRUE(
        browser.Start(chromium, absl::StrCat("http://127.0.0.1:", port_, page, kAssessmentToken)));
    ASSERT_EQ(browser.WaitFor(followup, "open", absl::Seconds(15)), "open");
    // The lead unit is preselected among the catalog's member units.
    EXPECT_EQ(browser.Evaluate("document.getElementById('assign-unit').value"), kUnit);
    EXPECT_EQ(browser.Evaluate("String(document.getElementById('assign-unit').options.length)"),
              "2");
    EXPECT_EQ(browser.Evaluate(fits), "true");
    // The group acknowledges it in the page, with its countermeasure note.
    browser.Evaluate(
        "document.getElementById('ack-note').value='已约谈卫健局，制定筛查进社区计划';"
        "document.querySelector('#ack-form button').click();'x'");
    EXPECT_EQ(browser.WaitFor("document.getElementById('ack').textContent.indexOf('已确认')===0"
                              "?'yes':document.getElementById('ack').textContent",
                              "yes", absl::Seconds(10)),
              "yes");
    {
      v1::ListWarningsResponse warnings;
      ASSERT_TRUE(ListWarnings(kAssessmentToken, 1000, &warnings).ok());
      bool acknowledged = false;
      for (const v1::Warning& w : warnings.warnings()) {
        if (w.id() == kProgressWarning) {
          acknowledged = w.acknowledgement().note() == "已约谈卫健局，制定筛查进社区计划";
        }
      }
      EXPECT_TRUE(acknowledged) << "the page's acknowledgement did not reach the service";
    }
    // A silence that ended yesterday: the service's refusal, in its words.
    browser.Evaluate(
        absl::StrCat("document.getElementById('silence-reason').value='等待年报';"
                     "document.getElementById('silence-until').value='",
                     yesterday, "';document.querySelector('#silence-form button').click();'x'"));
    const std::string silence = "document.getElementById('silence-status')";
    ASSERT_EQ(
        browser.WaitFor(silence + ".getAttribute('data-state') || ''", "error", absl::Seconds(10)),
        "error");
    EXPECT_THAT(browser.Evaluate(silence + ".textContent"), HasSubstr("暂缓截止时间须晚于现在"));
    // Hand it to the lead unit with what is asked and by when.
    browser.Evaluate(absl::StrCat(
        "document.getElementById('assign-reason').value='指标牵头单位';"
        "document.getElementById('assign-measures').value='扩大适龄妇女宫颈癌筛查覆盖面';"
        "document.getElementById('assign-due').value='",
        due, "';document.querySelector('#assign-form button').click();'x'"));
    const std::string assign = "document.getElementById('assign-status')";
    ASSERT_EQ(
        browser.WaitFor(assign + ".getAttribute('data-state') || ''", "done", absl::Seconds(10)),
        "done")
        << browser.Evaluate(assign + ".textContent");
    EXPECT_EQ(browser.WaitFor(followup, "planned", absl::Seconds(10)), "planned");
    EXPECT_TRUE(browser.errors().empty()) << browser.errors()[0];
  }
  const std::string after_assign = History(group);
  EXPECT_THAT(after_assign, HasSubstr(R"("ownerUnitCode":"HEALTH_BUREAU")"));
  EXPECT_THAT(after_assign, HasSubstr("指标牵头单位"));
  EXPECT_THAT(after_assign, HasSubstr("扩大适龄妇女宫颈癌筛查覆盖面"));

  // The unit: what is asked of it, by when, and its answer.
  {
    DevToolsBrowser browser;
    ASSERT_TRUE(browser.Start(chromium, absl::StrCat("http://127.0.0.1:", port_,
                                                     "/signin?next=%2Funit#token=", kUnitToken)));
    const std::string li = absl::StrCat("document.querySelector('#asked-list li[data-warning=\"",
                                        kProgressWarning, "\"]')");
    ASSERT_EQ(browser.WaitFor(li + " ? 'yes' : 'no'", "yes", absl::Seconds(15)), "yes");
    const std::string text = browser.Evaluate(li + ".textContent");
    EXPECT_THAT(text, HasSubstr("要求 / asked：扩大适龄妇女宫颈癌筛查覆盖面"));
    // The due date as the page shows it (zh-CN, Beijing time): 2026/1/2.
    const absl::CivilDay day = absl::ToCivilDay(absl::Now() + absl::Hours(24 * 30), beijing);
    EXPECT_THAT(text, HasSubstr(absl::StrCat("期限 / due：", day.year(), "/", day.month(), "/",
                                             day.day())));
    EXPECT_THAT(text, Not(HasSubstr("逾期")));
    EXPECT_EQ(browser.Evaluate(li + ".getAttribute('data-overdue')"), "no");
    // Its other warnings (late data has no follow-up): the board, filtered to it.
    EXPECT_EQ(browser.Evaluate("document.getElementById('unit-warnings').getAttribute('href')"),
              absl::StrCat("/warnings?unit=", kUnit));
    EXPECT_EQ(browser.Evaluate(fits), "true");
    MaybeScreenshot(kUnitToken, "%2Funit", "web-unit-followups.png");
    // The page's clock past the due date before the answer re-lists the
    // records: the item is then marked 逾期.
    browser.Evaluate(
        "(function(){var later=Date.now()+31*24*3600*1000;"
        "Date.now=function(){return later;};return 'x';})()");
    browser.Evaluate(li + ".querySelector('textarea').value='已在全区开展宫颈癌免费筛查进社区';" +
                     li + ".querySelector('button').click();'x'");
    const std::string answered = "document.getElementById('asked-status')";
    EXPECT_EQ(
        browser.WaitFor(answered + ".getAttribute('data-state') || ''", "done", absl::Seconds(10)),
        "done")
        << browser.Evaluate("document.getElementById('asked-list').textContent");
    EXPECT_THAT(browser.Evaluate(answered + ".textContent"), HasSubstr("已答复"));
    // The answer is the record's latest note on the re-listed item.
    EXPECT_THAT(browser.Evaluate(li + ".textContent"),
                HasSubstr("最近答复 / last answer：已在全区开展宫颈癌免费筛查进社区"));
    EXPECT_EQ(browser.Evaluate(li + ".getAttribute('data-overdue')"), "yes");
    EXPECT_THAT(browser.Evaluate(li + ".textContent"), HasSubstr("逾期 / overdue"));
    EXPECT_TRUE(browser.errors().empty()) << browser.errors()[0];
  }

  // The group sees the answer in the warning's follow-up history.
  {
    DevToolsBrowser browser;
    ASSERT_TRUE(
        browser.Start(chromium, absl::StrCat("http://127.0.0.1:", port_, page, kAssessmentToken)));
    ASSERT_EQ(browser.WaitFor(followup, "planned", absl::Seconds(15)), "planned");
    const std::string steps =
        browser.Evaluate("document.querySelector('#steps tbody').textContent");
    EXPECT_THAT(steps, HasSubstr("已在全区开展宫颈癌免费筛查进社区"));
    EXPECT_THAT(steps, HasSubstr("health-system"));
    EXPECT_THAT(steps, HasSubstr("指标牵头单位"));
    EXPECT_TRUE(browser.errors().empty()) << browser.errors()[0];
  }
}

}  // namespace
}  // namespace halfsky
