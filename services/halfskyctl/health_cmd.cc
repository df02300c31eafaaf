#include "services/halfskyctl/health_cmd.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "services/halfskyctl/cli.h"

namespace halfsky {
namespace {

const char* StatusName(grpc::health::v1::HealthCheckResponse::ServingStatus s) {
  switch (s) {
    case grpc::health::v1::HealthCheckResponse::SERVING:
      return "SERVING";
    case grpc::health::v1::HealthCheckResponse::NOT_SERVING:
      return "NOT_SERVING";
    case grpc::health::v1::HealthCheckResponse::SERVICE_UNKNOWN:
      return "SERVICE_UNKNOWN";
    default:
      return "UNKNOWN";
  }
}

}  // namespace

int RunHealthCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (cli::WantsHelp(args)) {
    out << "用法 usage: halfskyctl health [--wait 30s] [--service NAME] ADDRESS...\n"
           "  查询各服务的 grpc.health.v1 状态 / asks each address for its health.\n"
           "  exit 0: all SERVING; 1: some not serving or unreachable; 2: usage.\n";
    return 0;
  }
  absl::StatusOr<cli::Args> parsed = cli::Args::Parse(args, {"wait", "service"}, {});
  if (!parsed.ok()) {
    err << parsed.status().message() << " (see halfskyctl health --help)\n";
    return 2;
  }
  absl::Duration wait = absl::ZeroDuration();
  if (std::optional<std::string> v = parsed->Get("wait"); v && !absl::ParseDuration(*v, &wait)) {
    err << "--wait: bad duration '" << *v << "' (e.g. 30s)\n";
    return 2;
  }
  const std::string service = parsed->GetOr("service", "");
  const std::vector<std::string>& addresses = parsed->positional();
  if (addresses.empty()) {
    err << "halfskyctl health: give at least one ADDRESS (HOST:PORT)\n";
    return 2;
  }
  bool all_serving = true;
  for (const std::string& address : addresses) {
    auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    auto stub = grpc::health::v1::Health::NewStub(channel);
    const absl::Time deadline = absl::Now() + wait;
    std::string state;
    while (true) {
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
      grpc::health::v1::HealthCheckRequest req;
      req.set_service(service);
      grpc::health::v1::HealthCheckResponse resp;
      const grpc::Status s = stub->Check(&ctx, req, &resp);
      if (s.ok()) {
        state = StatusName(resp.status());
      } else {
        state = absl::StrCat("UNREACHABLE (", s.error_message(), ")");
      }
      if (state == "SERVING" || absl::Now() >= deadline) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
    out << address << "\t" << state << "\n";
    all_serving = all_serving && state == "SERVING";
  }
  return all_serving ? 0 : 1;
}

}  // namespace halfsky
