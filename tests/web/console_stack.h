#ifndef HALFSKY_TESTS_WEB_CONSOLE_STACK_H_
#define HALFSKY_TESTS_WEB_CONSOLE_STACK_H_

// The stack the browser tests of tests/web run against: the real
// submission, aggregation and evaluation processes (tests/support/suite.h)
// and the real halfsky-web in front of them, on one catalog, with four
// roles' tokens. Each test chooses its catalog, its tokens and its data;
// this starts and stops the processes, nothing else. ConsoleStackTest is
// the GoogleTest fixture of a suite that runs on one stack.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/common.pb.h"
#include "halfsky/v1/evaluation.pb.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"

namespace halfsky::testing {

struct ConsoleStackOptions {
  // The catalog (.textproto) of every service and of halfsky-web.
  std::string catalog;
  // Plain tokens of the four roles: assessment ("alice"), a unit principal
  // ("health-system", unit:`unit`), statistics ("stats") and the services'
  // own ("halfsky-services", statistics). Only their hashes are written.
  std::string assessment_token;
  std::string unit_token;
  std::string statistics_token;
  std::string service_token;
  std::string unit = "HEALTH_BUREAU";
  // Extra flags of halfsky-evaluation.
  std::vector<std::string> evaluation_flags = {"--reevaluate_interval=1h"};
};

class ConsoleStack {
 public:
  // Starts the services, then halfsky-web (HTTP on a free loopback port,
  // gRPC to the three services); the first failure is returned.
  static absl::StatusOr<std::unique_ptr<ConsoleStack>> Start(const ConsoleStackOptions& options);

  ConsoleStack(const ConsoleStack&) = delete;
  ConsoleStack& operator=(const ConsoleStack&) = delete;
  // Stops whatever still runs (see Stop).
  ~ConsoleStack() = default;

  // Stops halfsky-web (it may have exited already), then the services; the
  // first error (with halfsky-web's log when it is its own).
  absl::Status Stop();

  Suite& suite() { return *suite_; }
  ServiceProcess& web() { return web_; }
  // halfsky-web's HTTP port on 127.0.0.1.
  int port() const { return port_; }

 private:
  ConsoleStack() = default;

  std::unique_ptr<Suite> suite_;
  ServiceProcess web_;
  int port_ = 0;
};

// A fixture whose whole suite runs on one ConsoleStack: the derived
// fixture's SetUpTestSuite calls StartStack (then adds its data); the
// inherited TearDownTestSuite stops it. One suite at a time per binary
// (the members are static).
class ConsoleStackTest : public ::testing::Test {
 protected:
  // Starts the stack and sets stack_, suite_, web_ and port_; a fatal
  // failure when it does not start (wrap in ASSERT_NO_FATAL_FAILURE).
  static void StartStack(const ConsoleStackOptions& options);
  // Stops the stack (a non-fatal failure when it does not stop cleanly).
  static void TearDownTestSuite();

 public:
  // A fraction figure of `indicator` in `area` and `year` from `source`.
  static v1::DataValue FractionValue(const std::string& indicator, const std::string& area,
                                     int year, double numerator, double denominator,
                                     const std::string& source, v1::Sex sex = v1::SEX_TOTAL,
                                     v1::Residence residence = v1::RESIDENCE_ALL);

 protected:
  // SubmitBatch of `values` as `token` with `request_id`, over gRPC to the
  // stack's submission service (not through the web); a fatal failure when
  // it is refused (wrap in ASSERT_NO_FATAL_FAILURE).
  static void SubmitValues(const std::string& token, const std::string& request_id,
                           const std::vector<v1::DataValue>& values);
  // ListWarnings (one page of at most `page_size`) as `token`, over gRPC to
  // the stack's evaluation service, into `response`; its status.
  static grpc::Status ListWarnings(const std::string& token, int page_size,
                                   v1::ListWarningsResponse* response);

  // HALFSKY_DOCS_SCREENSHOT_DIR=docs: saves a screenshot of `next` (URL-
  // encoded, after signing in with `token`; a `window_size` window, e.g.
  // "1280,900", `budget_ms` of virtual time) there as `name` (the pictures
  // in docs/; not taken otherwise). A failure when it is not a PNG.
  static void MaybeScreenshot(const std::string& token, const std::string& next,
                              const std::string& name, const std::string& window_size = "1280,900",
                              int budget_ms = 8000);

  // The DOM of `next` (URL-encoded) after signing in with `token`, in
  // headless Chromium (--dump-dom; a `window_size` window, `budget_ms` of
  // virtual time); "" without Chromium. A console message fails the test.
  static std::string RenderSignedIn(const std::string& token, const std::string& next,
                                    const std::string& window_size = "390,844",
                                    int budget_ms = 8000);

  static ConsoleStack* stack_;
  static Suite* suite_;         // &stack_->suite()
  static ServiceProcess* web_;  // &stack_->web()
  static int port_;             // stack_->port()
};

}  // namespace halfsky::testing

#endif  // HALFSKY_TESTS_WEB_CONSOLE_STACK_H_
