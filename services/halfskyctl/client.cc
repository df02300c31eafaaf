#include "services/halfskyctl/client.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status/status.h"

namespace halfsky {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

const char* CodeText(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "数据有误 / invalid argument";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "未认证（令牌缺失或无效）/ unauthenticated";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "无权限 / permission denied";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "前置条件不满足 / failed precondition";
    case grpc::StatusCode::NOT_FOUND:
      return "未找到 / not found";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "已存在 / already exists";
    case grpc::StatusCode::UNAVAILABLE:
      return "服务暂不可用，可重试 / unavailable, retry later";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "超时 / deadline exceeded";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "尚未实现 / not implemented";
    default:
      return "错误 / error";
  }
}

}  // namespace

absl::StatusOr<ClientOptions> ExtractClientOptions(std::vector<std::string>* args, Target target) {
  ClientOptions o;
  const char* specific = target == Target::kSubmission    ? "HALFSKY_SUBMISSION"
                         : target == Target::kAggregation ? "HALFSKY_AGGREGATION"
                                                          : "HALFSKY_EVALUATION";
  const char* fallback = target == Target::kSubmission    ? "127.0.0.1:7301"
                         : target == Target::kAggregation ? "127.0.0.1:7302"
                                                          : "127.0.0.1:7303";
  o.server = !Env(specific).empty()           ? Env(specific)
             : !Env("HALFSKY_SERVER").empty() ? Env("HALFSKY_SERVER")
                                              : fallback;
  o.token = Env("HALFSKY_TOKEN");
  o.tls_ca = Env("HALFSKY_TLS_CA");
  std::vector<std::string> rest;
  for (size_t i = 0; i < args->size(); ++i) {
    std::string a = (*args)[i];
    std::string value;
    bool matched = false;
    for (const char* flag : {"--server", "--token", "--tls_ca", "--timeout"}) {
      if (a == flag) {
        if (i + 1 >= args->size()) {
          return absl::InvalidArgumentError(absl::StrCat(flag, " needs a value"));
        }
        value = (*args)[++i];
      } else if (absl::StartsWith(a, absl::StrCat(flag, "="))) {
        value = a.substr(std::string(flag).size() + 1);
      } else {
        continue;
      }
      matched = true;
      if (absl::string_view(flag) == "--server") {
        o.server = value;
      } else if (absl::string_view(flag) == "--token") {
        o.token = value;
      } else if (absl::string_view(flag) == "--tls_ca") {
        o.tls_ca = value;
      } else if (!absl::ParseDuration(value, &o.timeout)) {
        return absl::InvalidArgumentError(absl::StrCat("--timeout: bad duration '", value, "'"));
      }
      break;
    }
    if (!matched) {
      rest.push_back(a);
    }
  }
  *args = std::move(rest);
  return o;
}

const char* ClientFlagsHelp() {
  return "  --server HOST:PORT   服务地址 (env HALFSKY_SERVER or HALFSKY_SUBMISSION/AGGREGATION/"
         "EVALUATION)\n"
         "  --token TOKEN        访问令牌 bearer token (env HALFSKY_TOKEN)\n"
         "  --tls_ca FILE        TLS CA bundle; plaintext when empty (env HALFSKY_TLS_CA)\n"
         "  --timeout 30s        每次调用超时 per-call deadline\n";
}

std::shared_ptr<grpc::Channel> Dial(const ClientOptions& options) {
  if (options.tls_ca.empty()) {
    return grpc::CreateChannel(options.server, grpc::InsecureChannelCredentials());
  }
  std::ifstream in(options.tls_ca);
  std::stringstream ss;
  ss << in.rdbuf();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ss.str();
  return grpc::CreateChannel(options.server, grpc::SslCredentials(ssl));
}

void PrepareContext(const ClientOptions& options, grpc::ClientContext* ctx) {
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + options.timeout));
  if (!options.token.empty()) {
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", options.token));
  }
}

std::string DescribeRpcError(const grpc::Status& status) {
  std::string out = absl::StrCat(CodeText(status.error_code()), ": ", status.error_message(), "\n");
  for (const FieldViolation& v : BadRequestViolations(FromGrpcStatus(status))) {
    absl::StrAppend(&out, "  - ", v.field, ": ", v.description, "\n");
  }
  return out;
}

}  // namespace halfsky
