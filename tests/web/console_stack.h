#ifndef HALFSKY_TESTS_WEB_CONSOLE_STACK_H_
#define HALFSKY_TESTS_WEB_CONSOLE_STACK_H_

// The stack the browser tests of tests/web run against: the real
// submission, aggregation and evaluation processes (tests/support/suite.h)
// and the real halfsky-web in front of them, on one catalog, with four
// roles' tokens. Each test chooses its catalog, its tokens and its data;
// this starts and stops the processes, nothing else.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

}  // namespace halfsky::testing

#endif  // HALFSKY_TESTS_WEB_CONSOLE_STACK_H_
