#include "services/halfskyctl/review/review_cmd.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/labels/labels.h"
#include "common/status/status.h"
#include "common/views/json.h"
#include "common/views/review_view.h"
#include "common/views/table.h"
#include "halfsky/v1/review.grpc.pb.h"
#include "services/halfskyctl/cli.h"
#include "services/halfskyctl/client.h"

namespace halfsky {
namespace {

constexpr char kValidateUsage[] =
    "用法 usage: halfskyctl validate --year YEAR [--unit CODE [--area CODE]] [--format "
    "table|json]\n"
    "  逻辑审核：按校验规则检查数据，列出全部不满足的规则（规则、数值、字段）\n"
    "  run the validation rules and list every violation (rule, figures, field)\n"
    "  --unit CODE     成员单位（成员单位令牌只能查本单位）；省略：全年全部数据（统计局）\n"
    "  --area CODE     区域代码（默认该单位全部区域）/ one area of the unit's figures\n"
    "  (exit 1 when an ERROR rule 错误 is broken; WARNING rules 提示 alone exit 0)\n";

constexpr char kReviewUsage[] =
    "用法 usage: halfskyctl review SUBCOMMAND [ARGS] [--format table|json]\n"
    "  报送审核：成员单位报送年度报表，统计局审核（退回/通过），审核后数据锁定\n"
    "  the review workflow of a unit's yearly form (FORM = --unit CODE [--area CODE] --year "
    "YEAR;\n"
    "  --area defaults to the district)\n"
    "  submit FORM [--explanation TEXT]  报送（本单位）；违反提示规则时须附情况说明\n"
    "                                   submit (the unit); an explanation is needed for broken\n"
    "                                   WARNING rules\n"
    "  return FORM --reason TEXT        退回（统计局），须说明原因 / return with a reason\n"
    "  approve FORM                     审核通过（统计局），数据锁定 / approve: values locked\n"
    "  unlock FORM --reason TEXT        解锁（统计局），须说明原因 / unlock with a reason\n"
    "  list [--year Y] [--unit CODE] [--state S] [--watch]\n"
    "       默认：待处理的报表——统计局看到待审核（已报送）的，成员单位看到本单位已退回的\n"
    "       及原因 / default: the pending forms — the bureau's review queue (submitted) and\n"
    "       a unit's returned forms with the reasons (a unit token sees only its own);\n"
    "       --state draft|submitted|returned|approved|pending|all;\n"
    "       --watch 保持连接，实时打印每次变化 / stream every change as it happens\n"
    "  history FORM                     全部流转记录（谁、何时、原因）/ every transition\n";

// The RPC error for people, with the ErrorInfo reason (FORM_STATE,
// VALIDATION_FAILED, EXPLANATION_REQUIRED, FORM_APPROVED, ...).
std::string DescribeError(const grpc::Status& st) {
  std::string out = DescribeRpcError(st);
  if (const std::string reason = ErrorReason(FromGrpcStatus(st)); !reason.empty()) {
    absl::StrAppend(&out, "  原因代码 reason: ", reason, "\n");
  }
  return out;
}

bool Colour(const cli::Args& args, const std::ostream& out) {
  return args.Has("no-color") || args.Has("no-colour") ? false
         : args.Has("color") || args.Has("colour")     ? true
                                                       : views::UseColour(out);
}

// --unit, --area, --year into a form key; false with a message when
// --unit or --year is missing or bad.
bool FormKeyFromArgs(const cli::Args& args, v1::FormKey* key, std::string* why) {
  int year = 0;
  if (args.GetOr("unit", "").empty()) {
    *why = "需要 --unit CODE / needs --unit CODE";
    return false;
  }
  if (!absl::SimpleAtoi(args.GetOr("year", ""), &year)) {
    *why = "需要 --year YEAR / needs --year YEAR";
    return false;
  }
  key->set_unit_code(args.GetOr("unit", ""));
  key->set_area_code(args.GetOr("area", ""));
  key->set_year(year);
  return true;
}

int Usage(std::ostream& err, const char* command, const char* usage, const std::string& why) {
  err << "halfskyctl " << command << ": " << why << "\n" << usage;
  return cli::kExitUsage;
}

bool KeepState(v1::FormState state, const std::string& filter) {
  if (filter == "all") return true;
  if (filter == "pending") {
    return state == v1::FORM_STATE_SUBMITTED || state == v1::FORM_STATE_RETURNED;
  }
  return labels::Token(state) == filter || labels::LabelZh(state) == filter;
}

bool ValidStateFilter(const std::string& filter) {
  if (filter == "all" || filter == "pending") return true;
  for (v1::FormState s : {v1::FORM_STATE_DRAFT, v1::FORM_STATE_SUBMITTED, v1::FORM_STATE_RETURNED,
                          v1::FORM_STATE_APPROVED}) {
    if (KeepState(s, filter)) return true;
  }
  return false;
}

int Watch(v1::ReviewService::Stub* stub, const ClientOptions& options,
          const v1::WatchFormsRequest& request, const std::string& state_filter, bool json,
          const views::Names& names, bool colour, std::ostream& out, std::ostream& err) {
  bool connected_once = false;
  int backoff_s = 1;
  for (;;) {
    grpc::ClientContext ctx;
    PrepareContext(options, &ctx);
    ctx.set_deadline(std::chrono::system_clock::time_point::max());
    auto reader = stub->WatchForms(&ctx, request);
    v1::FormWatchEvent event;
    while (reader->Read(&event)) {
      connected_once = true;
      backoff_s = 1;
      if (event.type() == v1::FORM_WATCH_EVENT_TYPE_CURRENT &&
          !KeepState(event.form().state(), state_filter)) {
        continue;  // the initial set follows the list's filter; changes are all shown
      }
      out << (json ? views::ProtoJson(event, false)
                   : views::RenderFormWatchLine(event, names, colour))
          << std::flush;
    }
    grpc::Status st = reader->Finish();
    const int code = cli::ExitCodeFor(st);
    if (code != cli::kExitUnreachable || !connected_once) {
      if (!st.ok()) {
        err << "halfskyctl review list --watch: " << DescribeError(st) << "\n";
      }
      return st.ok() ? cli::kExitOk : code;
    }
    err << "halfskyctl review list --watch: 连接中断，" << backoff_s
        << " 秒后重连 / stream lost, reconnecting in " << backoff_s << "s\n";
    std::this_thread::sleep_for(std::chrono::seconds(backoff_s));
    backoff_s = std::min(backoff_s * 2, 30);
  }
}

}  // namespace

int RunValidateCommand(const std::vector<std::string>& raw, std::ostream& out, std::ostream& err) {
  if (cli::WantsHelp(raw)) {
    out << kValidateUsage << ClientFlagsHelp() << cli::ExitCodesHelp();
    return cli::kExitOk;
  }
  ClientOptions options;
  auto args = ParseWithClientFlags(raw, Target::kSubmission, {"year", "unit", "area", "format"},
                                   {"color", "colour", "no-color", "no-colour"}, &options);
  if (!args.ok()) {
    return Usage(err, "validate", kValidateUsage, std::string(args.status().message()));
  }
  if (!args->positional().empty()) {
    return Usage(err, "validate", kValidateUsage,
                 "多余的参数 / unexpected argument " + args->positional()[0]);
  }
  int year = 0;
  if (!absl::SimpleAtoi(args->GetOr("year", ""), &year)) {
    return Usage(err, "validate", kValidateUsage, "需要 --year YEAR / needs --year YEAR");
  }
  if (args->GetOr("unit", "").empty() && !args->GetOr("area", "").empty()) {
    return Usage(err, "validate", kValidateUsage,
                 "--area 须与 --unit 一起使用 / --area needs --unit");
  }
  const std::string format = args->GetOr("format", "table");
  if (format != "table" && format != "json") {
    return Usage(err, "validate", kValidateUsage, "--format 须为 table|json");
  }
  v1::ValidateDataRequest request;
  request.set_year(year);
  request.set_unit_code(args->GetOr("unit", ""));
  request.set_area_code(args->GetOr("area", ""));
  auto stub = v1::ReviewService::NewStub(Dial(options));
  grpc::ClientContext ctx;
  PrepareContext(options, &ctx);
  v1::ValidateDataResponse response;
  grpc::Status st = stub->ValidateData(&ctx, request, &response);
  if (!st.ok()) {
    err << "halfskyctl validate: " << DescribeError(st) << "\n";
    return cli::ExitCodeFor(st);
  }
  if (format == "json") {
    out << views::ProtoJson(response, true);
  } else {
    out << views::RenderViolationsTable(response, NamesOrNone(options), Colour(*args, out));
  }
  return response.error_count() > 0 ? cli::kExitProblems : cli::kExitOk;
}

int RunReviewCommand(const std::vector<std::string>& raw, std::ostream& out, std::ostream& err) {
  if (raw.empty() || cli::WantsHelp(raw)) {
    (raw.empty() ? err : out) << kReviewUsage << ClientFlagsHelp() << cli::ExitCodesHelp();
    return raw.empty() ? cli::kExitUsage : cli::kExitOk;
  }
  const std::string sub = raw[0];
  std::vector<std::string> rest(raw.begin() + 1, raw.end());
  ClientOptions options;
  auto args =
      ParseWithClientFlags(rest, Target::kSubmission,
                           {"unit", "area", "year", "state", "reason", "explanation", "format"},
                           {"watch", "color", "colour", "no-color", "no-colour"}, &options);
  if (!args.ok()) {
    return Usage(err, "review", kReviewUsage, std::string(args.status().message()));
  }
  if (!args->positional().empty()) {
    return Usage(err, "review", kReviewUsage,
                 "多余的参数 / unexpected argument " + args->positional()[0]);
  }
  const std::string format = args->GetOr("format", "table");
  if (format != "table" && format != "json") {
    return Usage(err, "review", kReviewUsage, "--format 须为 table|json / must be table or json");
  }
  const bool json = format == "json";
  const bool colour = Colour(*args, out);
  auto stub = v1::ReviewService::NewStub(Dial(options));
  const std::string prefix = absl::StrCat("halfskyctl review ", sub, ": ");

  if (sub == "list") {
    int year = 0;
    if (args->Has("year") && !absl::SimpleAtoi(args->GetOr("year", ""), &year)) {
      return Usage(err, "review", kReviewUsage, "--year 须为年份 / --year needs a year");
    }
    const std::string state_filter = args->GetOr("state", "pending");
    if (!ValidStateFilter(state_filter)) {
      return Usage(err, "review", kReviewUsage,
                   "未知状态 / unknown --state " + state_filter +
                       " (draft|submitted|returned|approved|pending|all)");
    }
    views::Names names;
    if (grpc::Status st = FetchNames(options, &names); !st.ok()) {
      err << prefix << DescribeError(st) << "\n";
      return cli::ExitCodeFor(st);
    }
    if (args->Has("watch")) {
      v1::WatchFormsRequest request;
      request.set_year(year);
      request.set_unit_code(args->GetOr("unit", ""));
      return Watch(stub.get(), options, request, state_filter, json, names, colour, out, err);
    }
    v1::ListFormsRequest request;
    request.set_year(year);
    request.set_unit_code(args->GetOr("unit", ""));
    grpc::ClientContext ctx;
    PrepareContext(options, &ctx);
    v1::ListFormsResponse response;
    grpc::Status st = stub->ListForms(&ctx, request, &response);
    if (!st.ok()) {
      err << prefix << DescribeError(st) << "\n";
      return cli::ExitCodeFor(st);
    }
    v1::ListFormsResponse kept;
    for (const v1::Form& f : response.forms()) {
      if (KeepState(f.state(), state_filter)) {
        *kept.add_forms() = f;
      }
    }
    out << (json ? views::ProtoJson(kept, true) : views::RenderFormsTable(kept, names, colour));
    return cli::kExitOk;
  }

  v1::FormKey key;
  std::string why;
  if (!FormKeyFromArgs(*args, &key, &why)) {
    return Usage(err, "review", kReviewUsage, why);
  }
  if (sub == "history") {
    v1::GetFormHistoryRequest request;
    *request.mutable_key() = key;
    grpc::ClientContext ctx;
    PrepareContext(options, &ctx);
    v1::GetFormHistoryResponse response;
    grpc::Status st = stub->GetFormHistory(&ctx, request, &response);
    if (!st.ok()) {
      err << prefix << DescribeError(st) << "\n";
      return cli::ExitCodeFor(st);
    }
    out << (json ? views::ProtoJson(response, true)
                 : views::RenderFormHistory(response, NamesOrNone(options)));
    return cli::kExitOk;
  }

  const std::string reason = args->GetOr("reason", "");
  if ((sub == "return" || sub == "unlock") &&
      reason.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Usage(err, "review", kReviewUsage,
                 absl::StrCat(sub == "return" ? "退回" : "解锁",
                              "须说明原因：需要 --reason TEXT / needs --reason TEXT"));
  }
  grpc::ClientContext ctx;
  PrepareContext(options, &ctx);
  v1::Form form;
  grpc::Status st;
  if (sub == "submit") {
    v1::SubmitFormRequest request;
    *request.mutable_key() = key;
    request.set_explanation(args->GetOr("explanation", ""));
    st = stub->SubmitForm(&ctx, request, &form);
  } else if (sub == "return") {
    v1::ReturnFormRequest request;
    *request.mutable_key() = key;
    request.set_reason(reason);
    st = stub->ReturnForm(&ctx, request, &form);
  } else if (sub == "approve") {
    v1::ApproveFormRequest request;
    *request.mutable_key() = key;
    st = stub->ApproveForm(&ctx, request, &form);
  } else if (sub == "unlock") {
    v1::UnlockFormRequest request;
    *request.mutable_key() = key;
    request.set_reason(reason);
    st = stub->UnlockForm(&ctx, request, &form);
  } else {
    return Usage(err, "review", kReviewUsage, "未知子命令 / unknown subcommand " + sub);
  }
  if (!st.ok()) {
    err << prefix << DescribeError(st) << "\n";
    return cli::ExitCodeFor(st);
  }
  out << (json ? views::ProtoJson(form, true) : views::RenderFormLine(form, NamesOrNone(options)));
  return cli::kExitOk;
}

}  // namespace halfsky
