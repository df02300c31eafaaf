#include "tests/web/console_stack.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/auth/token_store.h"

namespace halfsky::testing {

absl::StatusOr<std::unique_ptr<ConsoleStack>> ConsoleStack::Start(
    const ConsoleStackOptions& options) {
  SuiteOptions suite_options;
  suite_options.catalog = options.catalog;
  suite_options.tokens =
      absl::StrCat(auth::HashToken(options.assessment_token), " alice assessment\n",
                   auth::HashToken(options.unit_token), " health-system unit:", options.unit, "\n",
                   auth::HashToken(options.statistics_token), " stats statistics\n",
                   auth::HashToken(options.service_token), " halfsky-services statistics\n");
  suite_options.service_token = options.service_token;
  suite_options.evaluation_flags = options.evaluation_flags;
  absl::StatusOr<std::unique_ptr<Suite>> suite = Suite::Start(std::move(suite_options));
  if (!suite.ok()) {
    return suite.status();
  }
  std::unique_ptr<ConsoleStack> stack(new ConsoleStack());
  stack->suite_ = std::move(*suite);
  Suite& s = *stack->suite_;
  const std::string http_file = s.dir() + "/web.http";
  absl::Status started = stack->web_.Start(
      s.dir(), "web", ServiceBinary("web"), options.catalog, /*tokens_file=*/"",
      {"--http_listen=127.0.0.1:0", "--http_address_file=" + http_file,
       "--submission=" + s.submission().address(), "--aggregation=" + s.aggregation().address(),
       "--evaluation=" + s.evaluation().address()});
  if (!started.ok()) {
    return started;
  }
  const std::string address =
      std::string(absl::StripAsciiWhitespace(absl::StripPrefix(ReadFile(http_file), "http=")));
  if (!absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &stack->port_)) {
    return absl::InternalError(
        absl::StrCat("halfsky-web 的地址无法读取 (unreadable address): ", address));
  }
  return stack;
}

absl::Status ConsoleStack::Stop() {
  absl::Status status = web_.Stop();
  if (!status.ok()) {
    status = absl::Status(status.code(), absl::StrCat(status.message(), "\n", web_.log()));
  }
  const absl::Status services = suite_->Stop();
  return status.ok() ? services : status;
}

}  // namespace halfsky::testing
