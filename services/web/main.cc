// halfsky-web: the web console (issue #19). Serves the pages and a JSON API
// that maps halfsky.v1 one to one (gateway.h) on --http_listen, calling the
// submission, aggregation and evaluation services with the signed-in
// person's own token; the common bootstrap gives it gRPC health,
// CatalogService, /metrics and the SIGTERM drain.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/server/server.h"
#include "grpcpp/grpcpp.h"
#include "services/web/console.h"
#include "services/web/gateway.h"
#include "services/web/http_server.h"

ABSL_FLAG(std::string, http_listen, "127.0.0.1:8080",
          "HTTP address of the console, HOST:PORT (IPv4; port 0 = chosen at run time). "
          "HTTPS with the same --tls_cert / --tls_key as the gRPC port when those are set.");
ABSL_FLAG(std::string, http_address_file, "",
          "When set, \"http=HOST:PORT\\n\" is written here once the console listens.");
ABSL_FLAG(std::string, submission, "127.0.0.1:7301",
          "Submission service HOST:PORT (SubmissionService, ReviewService, CatalogService).");
ABSL_FLAG(std::string, aggregation, "127.0.0.1:7302", "Aggregation service HOST:PORT.");
ABSL_FLAG(std::string, evaluation, "127.0.0.1:7303",
          "Evaluation service HOST:PORT (EvaluationService, FollowUpService).");
ABSL_FLAG(absl::Duration, session_lifetime, absl::Hours(8),
          "How long a sign-in lasts (the session cookie's Max-Age).");
ABSL_FLAG(absl::Duration, upstream_deadline, absl::Seconds(30),
          "Deadline of each unary call the console makes upstream.");

namespace {

bool ReadPem(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  halfsky::InitService(argc, argv, "halfsky-web");
  const halfsky::ServerOptions options = halfsky::ServerOptionsFromFlags("halfsky-web");
  auto catalog = halfsky::LoadCatalogFromFlags();
  const auto credentials = halfsky::UpstreamCredentialsFromFlags();
  auto submission = grpc::CreateChannel(absl::GetFlag(FLAGS_submission), credentials);
  auto aggregation = grpc::CreateChannel(absl::GetFlag(FLAGS_aggregation), credentials);
  auto evaluation = grpc::CreateChannel(absl::GetFlag(FLAGS_evaluation), credentials);
  halfsky::web::Gateway gateway(
      {
          {"halfsky.v1.SubmissionService", submission},
          {"halfsky.v1.ReviewService", submission},
          {"halfsky.v1.CatalogService", submission},
          {"halfsky.v1.AggregationService", aggregation},
          {"halfsky.v1.EvaluationService", evaluation},
          {"halfsky.v1.FollowUpService", evaluation},
      },
      absl::GetFlag(FLAGS_upstream_deadline));
  halfsky::web::ConsoleOptions console_options;
  console_options.session_lifetime = absl::GetFlag(FLAGS_session_lifetime);
  halfsky::web::Console console(&gateway, console_options);

  halfsky::web::HttpServerOptions http_options;
  http_options.listen = absl::GetFlag(FLAGS_http_listen);
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    if (!ReadPem(options.tls_cert_file, &http_options.tls_cert_pem) ||
        !ReadPem(options.tls_key_file, &http_options.tls_key_pem)) {
      std::cerr << "halfsky-web: --tls_cert / --tls_key 无法读取 / cannot be read\n";
      return 2;
    }
  }
  // Requests by status class ("2xx" … "5xx").
  halfsky::Counter* by_class[6] = {};
  for (int c = 1; c <= 5; ++c) {
    by_class[c] = halfsky::ServiceMetrics().GetCounter(
        "halfsky_web_http_requests_total", "HTTP requests of the console, by status class.",
        {{"class", absl::StrCat(c, "xx")}});
  }
  auto http = halfsky::web::HttpServer::Start(
      http_options, [&console, &by_class](const halfsky::web::HttpRequest& request) {
        halfsky::web::HttpResponse response = console.Handle(request);
        const int c = response.status / 100;
        if (c >= 1 && c <= 5) {
          by_class[c]->Increment();
        }
        return response;
      });
  if (!http.ok()) {
    std::cerr << "halfsky-web: " << http.status() << "\n";
    return 1;
  }
  const std::string http_address = absl::StrCat(
      http_options.listen.substr(0, http_options.listen.rfind(':')), ":", (*http)->port());
  std::cerr << "halfsky-web: console on " << ((*http)->tls() ? "https://" : "http://")
            << http_address << "/\n";
  if (const std::string file = absl::GetFlag(FLAGS_http_address_file); !file.empty()) {
    const std::string tmp = file + ".tmp";
    std::ofstream(tmp) << "http=" << http_address << "\n";
    std::rename(tmp.c_str(), file.c_str());
  }
  std::unique_ptr<halfsky::web::HttpServer> server = *std::move(http);
  halfsky::RunHooks hooks;
  hooks.before_shutdown = [&gateway, &server] {
    gateway.CancelStreams();  // open SSE responses end with their error event
    if (!gateway.WaitForStreamsToEnd(absl::Seconds(2))) {
      std::cerr << "halfsky-web: streams still open after 2 s, closing them\n";
    }
    server.reset();  // stop accepting, join the connection threads
  };
  return halfsky::RunServer(options, catalog, {}, hooks);
}
