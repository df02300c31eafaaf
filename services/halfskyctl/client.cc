#include "services/halfskyctl/client.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/credentials.h"
#include "common/status/status.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "halfsky/v1/catalog.grpc.pb.h"

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

ClientOptions DefaultClientOptions(Target target) {
  ClientOptions o;
  const char* specific = target == Target::kSubmission    ? "HALFSKY_SUBMISSION"
                         : target == Target::kAggregation ? "HALFSKY_AGGREGATION"
                         : target == Target::kExchange    ? "HALFSKY_EXCHANGE"
                                                          : "HALFSKY_EVALUATION";
  const char* fallback = target == Target::kSubmission    ? "127.0.0.1:7301"
                         : target == Target::kAggregation ? "127.0.0.1:7302"
                         : target == Target::kExchange    ? "127.0.0.1:7305"
                                                          : "127.0.0.1:7303";
  o.server = !Env(specific).empty()           ? Env(specific)
             : !Env("HALFSKY_SERVER").empty() ? Env("HALFSKY_SERVER")
                                              : fallback;
  o.token = Env("HALFSKY_TOKEN");
  o.tls_ca = Env("HALFSKY_TLS_CA");
  return o;
}

absl::StatusOr<cli::Args> ParseWithClientFlags(const std::vector<std::string>& args, Target target,
                                               const std::set<std::string>& value_flags,
                                               const std::set<std::string>& bool_flags,
                                               ClientOptions* options) {
  std::set<std::string> all_value_flags = value_flags;
  all_value_flags.insert({"server", "token", "tls-ca", "timeout", "max-attempts"});
  absl::StatusOr<cli::Args> parsed = cli::Args::Parse(args, all_value_flags, bool_flags);
  if (!parsed.ok()) {
    return parsed.status();
  }
  ClientOptions o = DefaultClientOptions(target);
  o.server = parsed->GetOr("server", o.server);
  o.token = parsed->GetOr("token", o.token);
  o.tls_ca = parsed->GetOr("tls-ca", o.tls_ca);
  if (std::optional<std::string> timeout = parsed->Get("timeout");
      timeout && !absl::ParseDuration(*timeout, &o.timeout)) {
    return absl::InvalidArgumentError(absl::StrCat("--timeout: bad duration '", *timeout, "'"));
  }
  if (std::optional<std::string> attempts = parsed->Get("max-attempts");
      attempts && (!absl::SimpleAtoi(*attempts, &o.max_attempts) || o.max_attempts < 1 ||
                   o.max_attempts > 100)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max_attempts: 须为1到100的整数 / must be an integer 1..100, not '", *attempts, "'"));
  }
  *options = std::move(o);
  return parsed;
}

const char* ClientFlagsHelp() {
  return "  --server HOST:PORT   服务地址 (env HALFSKY_SERVER or HALFSKY_SUBMISSION/AGGREGATION/"
         "EVALUATION)\n"
         "  --token TOKEN        访问令牌 bearer token (env HALFSKY_TOKEN)\n"
         "  --tls_ca FILE        TLS CA bundle; plaintext when empty (env HALFSKY_TLS_CA)\n"
         "  --timeout 30s        每次调用超时 per-call deadline\n"
         "  --max_attempts 5     服务繁忙时每次调用最多尝试次数 attempts per call when the\n"
         "                       server is busy (RESOURCE_EXHAUSTED with RetryInfo; UNAVAILABLE\n"
         "                       for reads and writes with a request id); 1 = never retry\n";
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
  auth::AddBearerToken(ctx, options.token);
}

std::optional<absl::Duration> RetryInfoDelay(const grpc::Status& status) {
  if (status.error_details().empty()) {
    return std::nullopt;
  }
  google::rpc::Status rpc_status;
  if (!rpc_status.ParseFromString(status.error_details())) {
    return std::nullopt;
  }
  for (const auto& any : rpc_status.details()) {
    google::rpc::RetryInfo info;
    if (any.type_url() == "type.googleapis.com/google.rpc.RetryInfo" &&
        info.ParseFromString(any.value()) && info.has_retry_delay()) {
      const absl::Duration d = absl::Seconds(info.retry_delay().seconds()) +
                               absl::Nanoseconds(info.retry_delay().nanos());
      return d < absl::ZeroDuration() ? absl::ZeroDuration() : d;
    }
  }
  return std::nullopt;
}

std::optional<absl::Duration> RetryWait(const ClientOptions& options, Idempotency idempotency,
                                        const grpc::Status& status, int next_attempt,
                                        std::ostream& err) {
  if (next_attempt > options.max_attempts) {
    return std::nullopt;
  }
  absl::Duration wait;
  const char* why_zh;
  const char* why_en;
  if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
    std::optional<absl::Duration> delay = RetryInfoDelay(status);
    if (!delay.has_value() || *delay > options.max_retry_delay) {
      return std::nullopt;  // not the rate limit's "retry after", or too long to wait
    }
    wait = *delay;
    why_zh = "服务繁忙";
    why_en = "server busy (RESOURCE_EXHAUSTED)";
  } else if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
             idempotency == Idempotency::kIdempotent) {
    wait = absl::Seconds(1 << std::min(next_attempt - 2, 4));
    why_zh = "服务暂不可用";
    why_en = "server unavailable";
  } else {
    return std::nullopt;
  }
  const int64_t seconds =
      std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1))));
  err << why_zh << "，" << seconds << " 秒后重试（第 " << next_attempt << "/"
      << options.max_attempts << " 次） / " << why_en << ", retrying in " << seconds
      << " s (attempt " << next_attempt << " of " << options.max_attempts << ")\n";
  return wait;
}

grpc::Status CallWithRetries(const ClientOptions& options, Idempotency idempotency,
                             const std::function<grpc::Status(grpc::ClientContext*)>& call,
                             std::ostream& err) {
  for (int attempt = 1;; ++attempt) {
    grpc::ClientContext ctx;
    PrepareContext(options, &ctx);
    grpc::Status st = call(&ctx);
    if (st.ok()) {
      return st;
    }
    std::optional<absl::Duration> wait = RetryWait(options, idempotency, st, attempt + 1, err);
    if (!wait.has_value()) {
      return st;
    }
    absl::SleepFor(*wait);
  }
}

grpc::Status FetchCatalog(const ClientOptions& options, halfsky::v1::Catalog* catalog) {
  auto stub = halfsky::v1::CatalogService::NewStub(Dial(options));
  halfsky::v1::GetCatalogRequest request;
  halfsky::v1::GetCatalogResponse response;
  grpc::Status st = CallWithRetries(
      options, Idempotency::kIdempotent,
      [&](grpc::ClientContext* ctx) { return stub->GetCatalog(ctx, request, &response); });
  if (st.ok()) {
    *catalog = std::move(*response.mutable_catalog());
  }
  return st;
}

grpc::Status FetchNames(const ClientOptions& options, views::Names* names) {
  halfsky::v1::Catalog catalog;
  grpc::Status st = FetchCatalog(options, &catalog);
  if (st.ok()) {
    *names = views::NamesFromCatalog(catalog);
    return st;
  }
  *names = {};
  if (st.error_code() == grpc::StatusCode::UNAVAILABLE ||
      st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return st;
  }
  return grpc::Status::OK;
}

views::Names NamesOrNone(const ClientOptions& options) {
  views::Names names;
  (void)FetchNames(options, &names);
  return names;
}

std::string DescribeRpcError(const grpc::Status& status) {
  std::string out = absl::StrCat(CodeText(status.error_code()), ": ", status.error_message(), "\n");
  for (const FieldViolation& v : BadRequestViolations(FromGrpcStatus(status))) {
    absl::StrAppend(&out, "  - ", v.field, ": ", v.description, "\n");
  }
  return out;
}

}  // namespace halfsky
