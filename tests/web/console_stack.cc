#include "tests/web/console_stack.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/auth/credentials.h"
#include "common/auth/token_store.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "tests/halfskyctl/chromium.h"

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

ConsoleStack* ConsoleStackTest::stack_ = nullptr;
Suite* ConsoleStackTest::suite_ = nullptr;
ServiceProcess* ConsoleStackTest::web_ = nullptr;
int ConsoleStackTest::port_ = 0;

void ConsoleStackTest::StartStack(const ConsoleStackOptions& options) {
  absl::StatusOr<std::unique_ptr<ConsoleStack>> stack = ConsoleStack::Start(options);
  ASSERT_TRUE(stack.ok()) << stack.status();
  stack_ = stack->release();
  suite_ = &stack_->suite();
  web_ = &stack_->web();
  port_ = stack_->port();
}

void ConsoleStackTest::TearDownTestSuite() {
  if (stack_ == nullptr) {
    return;
  }
  const absl::Status stopped = stack_->Stop();
  EXPECT_TRUE(stopped.ok()) << stopped;
  delete stack_;
  stack_ = nullptr;
  suite_ = nullptr;
  web_ = nullptr;
  port_ = 0;
}

v1::DataValue ConsoleStackTest::FractionValue(const std::string& indicator, const std::string& area,
                                              int year, double numerator, double denominator,
                                              const std::string& source, v1::Sex sex,
                                              v1::Residence residence) {
  v1::DataValue v;
  v.mutable_key()->set_indicator_id(indicator);
  v.mutable_key()->set_area_code(area);
  v.mutable_key()->set_year(year);
  v.mutable_key()->set_sex(sex);
  v.mutable_key()->set_residence(residence);
  v.mutable_fraction()->set_numerator(numerator);
  v.mutable_fraction()->set_denominator(denominator);
  v.set_source(source);
  return v;
}

void ConsoleStackTest::SubmitValues(const std::string& token, const std::string& request_id,
                                    const std::vector<v1::DataValue>& values) {
  auto submission = v1::SubmissionService::NewStub(
      grpc::CreateChannel(suite_->submission().address(), grpc::InsecureChannelCredentials()));
  v1::SubmitBatchRequest request;
  request.set_request_id(request_id);
  for (const v1::DataValue& v : values) {
    *request.add_data_values() = v;
  }
  grpc::ClientContext ctx;
  auth::AddBearerToken(&ctx, token);
  v1::SubmitBatchResponse response;
  const grpc::Status st = submission->SubmitBatch(&ctx, request, &response);
  ASSERT_TRUE(st.ok()) << request_id << ": " << st.error_message();
}

grpc::Status ConsoleStackTest::ListWarnings(const std::string& token, int page_size,
                                            v1::ListWarningsResponse* response) {
  auto stub = v1::EvaluationService::NewStub(
      grpc::CreateChannel(suite_->evaluation().address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  auth::AddBearerToken(&ctx, token);
  v1::ListWarningsRequest request;
  request.set_page_size(page_size);
  return stub->ListWarnings(&ctx, request, response);
}

void ConsoleStackTest::MaybeScreenshot(const std::string& token, const std::string& next,
                                       const std::string& name, const std::string& window_size,
                                       int budget_ms) {
  const char* dir = std::getenv("HALFSKY_DOCS_SCREENSHOT_DIR");
  const std::string chromium = FindChromium();
  if (dir == nullptr || dir[0] == '\0' || chromium.empty()) {
    return;
  }
  const std::string png = absl::StrCat(dir, "/", name);
  auto shot = RunChromiumOnUrl(
      chromium, absl::StrCat("http://127.0.0.1:", port_, "/signin?next=", next, "#token=", token),
      absl::StrCat("--window-size=", window_size, " --virtual-time-budget=", budget_ms,
                   " --timeout=20000 --screenshot=", png));
  ASSERT_TRUE(shot.ok()) << shot.status();
  EXPECT_EQ(ReadFile(png).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << png;
}

std::string ConsoleStackTest::RenderSignedIn(const std::string& token, const std::string& next,
                                             const std::string& window_size, int budget_ms) {
  const std::string chromium = FindChromium();
  if (chromium.empty()) {
    return "";
  }
  auto run = RunChromiumOnUrl(
      chromium, absl::StrCat("http://127.0.0.1:", port_, "/signin?next=", next, "#token=", token),
      absl::StrCat("--enable-logging=stderr --v=0 --window-size=", window_size,
                   " --virtual-time-budget=", budget_ms, " --timeout=20000 --dump-dom"));
  EXPECT_TRUE(run.ok()) << run.status();
  if (!run.ok()) {
    return "";
  }
  for (absl::string_view line : absl::StrSplit(run->stderr_text, '\n')) {
    if (absl::StrContains(line, "CONSOLE")) {
      ADD_FAILURE() << next << ": console: " << line;
    }
  }
  return run->stdout_text;
}

}  // namespace halfsky::testing
