#include "services/halfskyctl/withdraw/withdraw_cmd.h"

#include <openssl/evp.h>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "google/protobuf/util/time_util.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "services/halfskyctl/cli.h"
#include "services/halfskyctl/client.h"

namespace halfsky {

namespace {

constexpr char kKeyFlagsHelp[] =
    "  --indicator ID --area CODE --year YEAR   the key (required)\n"
    "  [--sex total|female|male] [--residence all|urban|rural]   default total / all\n"
    "  [--unit CODE]   whose narrative (qualitative indicators; a unit may omit its own)\n";

constexpr char kWithdrawUsage[] =
    "用法 usage: halfskyctl withdraw --indicator ID --area CODE --year YEAR [--sex S]\n"
    "                [--residence R] [--unit CODE] --reason TEXT [--request_id ID]\n"
    "  撤回一个已报送的数据（如填错区域或年份）：追加一条撤回修订，记录撤回人、时间与原因；\n"
    "  汇总与预警随之更新，历史中仍可查。\n"
    "  withdraw a reported figure (e.g. put on the wrong area or year): appends a withdrawal\n"
    "  revision with who, when and why; aggregates and warnings follow; history keeps it.\n"
    "  --reason TEXT   撤回原因 (required)\n"
    "  --request_id ID 请求编号；默认由键与原因导出，重试同一命令不会重复撤回\n"
    "                  default: derived from the key and reason, so a retry replays\n";

constexpr char kHistoryUsage[] =
    "用法 usage: halfskyctl history --indicator ID --area CODE --year YEAR [--sex S]\n"
    "                [--residence R] [--unit CODE]\n"
    "  一个数据键的全部修订（最早在前），含修改原因与撤回\n"
    "  every revision of one key, oldest first, with reasons for change and withdrawals\n";

// Parses the key flags into `key`; a message on error.
absl::Status ParseKey(const cli::Args& args, v1::DataKey* key) {
  const auto indicator = args.Get("indicator");
  const auto area = args.Get("area");
  int year = 0;
  if (!indicator || !area || !absl::SimpleAtoi(args.GetOr("year", ""), &year)) {
    return absl::InvalidArgumentError(
        "需要 --indicator、--area 和 --year / needs --indicator, "
        "--area and --year");
  }
  key->set_indicator_id(*indicator);
  key->set_area_code(*area);
  key->set_year(year);
  const std::string sex = args.GetOr("sex", "total");
  if (sex == "total") {
    key->set_sex(v1::SEX_TOTAL);
  } else if (sex == "female") {
    key->set_sex(v1::SEX_FEMALE);
  } else if (sex == "male") {
    key->set_sex(v1::SEX_MALE);
  } else {
    return absl::InvalidArgumentError("--sex 须为 total|female|male");
  }
  const std::string residence = args.GetOr("residence", "all");
  if (residence == "all") {
    key->set_residence(v1::RESIDENCE_ALL);
  } else if (residence == "urban") {
    key->set_residence(v1::RESIDENCE_URBAN);
  } else if (residence == "rural") {
    key->set_residence(v1::RESIDENCE_RURAL);
  } else {
    return absl::InvalidArgumentError("--residence 须为 all|urban|rural");
  }
  key->set_unit_code(args.GetOr("unit", ""));
  return absl::OkStatus();
}

// "wd-" + 32 hex digits of SHA-256 over the key and the reason: a retry of
// the same command is the same request (replayed, never withdrawn twice).
std::string DerivedRequestId(const v1::DataKey& key, const std::string& reason) {
  const std::string bytes = absl::StrCat(key.SerializeAsString(), "\n", reason);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  return absl::StrCat(
      "wd-", absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(md), 16)));
}

std::string FormatTime(const google::protobuf::Timestamp& ts) {
  const absl::Time t =
      absl::FromUnixMicros(google::protobuf::util::TimeUtil::TimestampToMicroseconds(ts));
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", t, absl::FixedTimeZone(8 * 3600));
}

std::string FormatPayload(const v1::DataValue& v) {
  switch (v.payload_case()) {
    case v1::DataValue::kValue:
      return absl::StrFormat("%g", v.value());
    case v1::DataValue::kFraction:
      return absl::StrFormat("%g/%g", v.fraction().numerator(), v.fraction().denominator());
    case v1::DataValue::kNarrative:
      return absl::StrCat("叙述 narrative (", v.narrative().text().size(), " bytes)");
    default:
      return "-";
  }
}

}  // namespace

int RunWithdrawCommand(const std::vector<std::string>& raw, std::ostream& out, std::ostream& err) {
  if (cli::WantsHelp(raw)) {
    out << kWithdrawUsage << kKeyFlagsHelp << ClientFlagsHelp() << cli::ExitCodesHelp();
    return cli::kExitOk;
  }
  ClientOptions options;
  auto args = ParseWithClientFlags(
      raw, Target::kSubmission,
      {"indicator", "area", "year", "sex", "residence", "unit", "reason", "request_id"}, {},
      &options);
  v1::WithdrawValuesRequest request;
  absl::Status key_ok =
      args.ok() ? ParseKey(*args, request.add_keys()) : absl::Status(args.status());
  if (key_ok.ok() && !args->positional().empty()) {
    key_ok = absl::InvalidArgumentError("多余的参数 / unexpected arguments");
  }
  if (key_ok.ok() && args->GetOr("reason", "").empty()) {
    key_ok = absl::InvalidArgumentError("需要 --reason（撤回原因） / needs --reason TEXT");
  }
  if (!key_ok.ok()) {
    err << "halfskyctl withdraw: " << key_ok.message() << "\n" << kWithdrawUsage;
    return cli::kExitUsage;
  }
  request.set_reason(args->GetOr("reason", ""));
  request.set_request_id(
      args->GetOr("request_id", DerivedRequestId(request.keys(0), request.reason())));
  auto stub = v1::SubmissionService::NewStub(Dial(options));
  v1::WithdrawValuesResponse response;
  grpc::Status st = CallWithRetries(
      options, Idempotency::kIdempotent,
      [&](grpc::ClientContext* ctx) { return stub->WithdrawValues(ctx, request, &response); }, err);
  if (!st.ok()) {
    err << "halfskyctl withdraw: " << DescribeRpcError(st) << "\n";
    return cli::ExitCodeFor(st);
  }
  const v1::ValueResult& r = response.results(0);
  if (r.outcome() == v1::WRITE_OUTCOME_WITHDRAWN) {
    out << "已撤回 withdrawn: 修订 revision " << r.revision() << ", 序号 sequence " << r.sequence()
        << (response.replayed() ? "（重试，未重复撤回 / replayed）" : "") << "\n";
  } else {
    out << "已是撤回状态，未改变 / already withdrawn, unchanged (revision " << r.revision()
        << ")\n";
  }
  return cli::kExitOk;
}

int RunHistoryCommand(const std::vector<std::string>& raw, std::ostream& out, std::ostream& err) {
  if (cli::WantsHelp(raw)) {
    out << kHistoryUsage << kKeyFlagsHelp << ClientFlagsHelp() << cli::ExitCodesHelp();
    return cli::kExitOk;
  }
  ClientOptions options;
  auto args =
      ParseWithClientFlags(raw, Target::kSubmission,
                           {"indicator", "area", "year", "sex", "residence", "unit"}, {}, &options);
  v1::GetHistoryRequest request;
  absl::Status key_ok =
      args.ok() ? ParseKey(*args, request.mutable_key()) : absl::Status(args.status());
  if (key_ok.ok() && !args->positional().empty()) {
    key_ok = absl::InvalidArgumentError("多余的参数 / unexpected arguments");
  }
  if (!key_ok.ok()) {
    err << "halfskyctl history: " << key_ok.message() << "\n" << kHistoryUsage;
    return cli::kExitUsage;
  }
  auto stub = v1::SubmissionService::NewStub(Dial(options));
  v1::GetHistoryResponse response;
  grpc::Status st = CallWithRetries(
      options, Idempotency::kIdempotent,
      [&](grpc::ClientContext* ctx) { return stub->GetHistory(ctx, request, &response); }, err);
  if (!st.ok()) {
    err << "halfskyctl history: " << DescribeRpcError(st) << "\n";
    return cli::ExitCodeFor(st);
  }
  if (response.revisions().empty()) {
    out << "没有记录 / no revisions\n";
    return cli::kExitOk;
  }
  // One block per revision: plain lines, so that long reasons stay whole.
  for (const v1::Revision& rev : response.revisions()) {
    out << "修订 revision " << rev.revision() << "  序号 sequence " << rev.sequence() << "  "
        << FormatTime(rev.committed_at()) << " (UTC+8)\n";
    out << "  报送人 by: " << rev.submitted_by()
        << (rev.unit_code().empty() ? "" : absl::StrCat(" (", rev.unit_code(), ")")) << "\n";
    if (rev.withdrawn()) {
      out << "  撤回 WITHDRAWN\n";
    } else {
      out << "  数值 value: " << FormatPayload(rev.data_value())
          << "  来源 source: " << rev.data_value().source() << "\n";
      if (!rev.data_value().note().empty()) {
        out << "  备注 note: " << rev.data_value().note() << "\n";
      }
    }
    if (!rev.change_reason().empty()) {
      out << "  " << (rev.withdrawn() ? "撤回原因 reason" : "修改原因 reason for change") << ": "
          << rev.change_reason() << "\n";
    }
    out << "  请求 request: " << rev.request_id() << "\n";
  }
  return cli::kExitOk;
}

}  // namespace halfsky
