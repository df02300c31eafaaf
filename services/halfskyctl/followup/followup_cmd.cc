#include "services/halfskyctl/followup/followup_cmd.h"

#include <chrono>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/labels/labels.h"
#include "common/views/followup_view.h"
#include "common/views/table.h"
#include "common/views/warnings_view.h"
#include "google/protobuf/util/time_util.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "services/halfskyctl/cli.h"
#include "services/halfskyctl/client.h"

namespace halfsky {
namespace {

constexpr char kUsage[] =
    "用法 usage: halfskyctl followup SUBCOMMAND [ARGS] [--format table|json]\n"
    "  督办：预警的责任单位、整改措施与时限、整改进展、销号 / follow-up of warnings\n"
    "  list [--unit CODE] [--state open|planned|closed|all] [--escalated] [--warning ID]\n"
    "       列出督办记录（成员单位只看到本单位的）/ list records (a unit sees its own);\n"
    "       --escalated: 督办清单，仅升级督办的 / the 督办 list: escalated records only\n"
    "       --watch: 保持连接，实时打印升级督办与级别变化（--all-events 打印全部变化）/\n"
    "                stream escalations and severity changes (--all-events: every step)\n"
    "  show WARNING_ID                  记录及全部历史 / the record with its history\n"
    "  assign WARNING_ID --unit CODE --reason TEXT     调整责任单位（评估组）\n"
    "  plan WARNING_ID --measures TEXT --due YYYY-MM-DD  整改措施与时限（评估组；时限当天\n"
    "                                   24时前 / due by the end of that day, Beijing time）\n"
    "  note WARNING_ID --note TEXT      整改进展（责任单位或评估组）/ progress note\n"
    "  close WARNING_ID --decision resolved|closed|false-alarm [--reason TEXT]\n"
    "                                   销号（评估组）：数据好转 / 说明理由 / "
    "误报（后两者须说明理由）\n"
    "  silence WARNING_ID --until YYYY-MM-DD --reason TEXT\n"
    "                                   暂缓督办至该日0时（评估组；级别变化即失效）/ silence\n"
    "                                   escalation until that date 00:00 (a severity change ends "
    "it)\n";

// YYYY-MM-DD (district time) at `hh:mm:ss`, or an RFC 3339 instant.
bool ParseDay(const std::string& text, bool end_of_day, google::protobuf::Timestamp* out) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%Y-%m-%d", text, absl::FixedTimeZone(8 * 3600), &t, &err)) {
    if (end_of_day) {
      t += absl::Hours(24) - absl::Seconds(1);
    }
  } else if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) {
    return false;
  }
  *out = google::protobuf::util::TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(t));
  return true;
}

int Watch(v1::FollowUpService::Stub* stub, const ClientOptions& options, bool all_events, bool json,
          const views::Names& names, bool colour, std::ostream& out, std::ostream& err) {
  v1::WatchFollowUpsRequest request;
  request.set_escalations_only(!all_events);
  bool connected_once = false;
  int backoff_s = 1;
  for (;;) {
    grpc::ClientContext ctx;
    PrepareContext(options, &ctx);
    ctx.set_deadline(std::chrono::system_clock::time_point::max());
    auto reader = stub->WatchFollowUps(&ctx, request);
    v1::FollowUpEvent event;
    while (reader->Read(&event)) {
      connected_once = true;
      backoff_s = 1;
      if (json) {
        out << views::RenderFollowUpEventJson(event) << std::flush;
      } else if (event.type() != v1::FOLLOW_UP_EVENT_TYPE_CURRENT ||
                 event.follow_up().has_escalation()) {
        // The initial set: only what is escalated now (the 督办 list).
        out << views::RenderFollowUpEventLine(event, names, colour) << std::flush;
      }
    }
    grpc::Status st = reader->Finish();
    const int code = cli::ExitCodeFor(st);
    if (code != cli::kExitUnreachable || !connected_once) {
      if (!st.ok()) {
        err << "halfskyctl followup --watch: " << DescribeRpcError(st) << "\n";
      }
      return st.ok() ? cli::kExitOk : code;
    }
    err << "halfskyctl followup --watch: 连接中断，" << backoff_s
        << " 秒后重连 / stream lost, reconnecting in " << backoff_s << "s\n";
    std::this_thread::sleep_for(std::chrono::seconds(backoff_s));
    backoff_s = std::min(backoff_s * 2, 30);
  }
}

int Usage(std::ostream& err, const std::string& why) {
  err << "halfskyctl followup: " << why << "\n" << kUsage;
  return cli::kExitUsage;
}

}  // namespace

int RunFollowUpCommand(const std::vector<std::string>& raw, std::ostream& out, std::ostream& err) {
  if (raw.empty() || cli::WantsHelp(raw)) {
    (raw.empty() ? err : out) << kUsage << ClientFlagsHelp() << cli::ExitCodesHelp();
    return raw.empty() ? cli::kExitUsage : cli::kExitOk;
  }
  const std::string sub = raw[0];
  std::vector<std::string> rest(raw.begin() + 1, raw.end());
  ClientOptions options;
  auto args = ParseWithClientFlags(
      rest, Target::kEvaluation,
      {"unit", "state", "warning", "format", "reason", "measures", "due", "note", "decision",
       "until"},
      {"escalated", "watch", "all-events", "color", "colour", "no-color", "no-colour"}, &options);
  if (!args.ok()) {
    return Usage(err, std::string(args.status().message()));
  }
  const std::string format = args->GetOr("format", "table");
  if (format != "table" && format != "json") {
    return Usage(err, "--format 须为 table|json / must be table or json");
  }
  const bool json = format == "json";
  const bool colour = args->Has("no-color") || args->Has("no-colour") ? false
                      : args->Has("color") || args->Has("colour")     ? true
                                                                      : views::UseColour(out);
  auto stub = v1::FollowUpService::NewStub(Dial(options));

  if (sub == "list") {
    if (!args->positional().empty()) {
      return Usage(err, "多余的参数 / unexpected argument " + args->positional()[0]);
    }
    views::Names names;
    if (grpc::Status st = FetchNames(options, &names); !st.ok()) {
      err << "halfskyctl followup list: " << DescribeRpcError(st) << "\n";
      return cli::ExitCodeFor(st);
    }
    if (args->Has("watch")) {
      return Watch(stub.get(), options, args->Has("all-events"), json, names, colour, out, err);
    }
    v1::ListFollowUpsRequest request;
    request.set_owner_unit_code(args->GetOr("unit", ""));
    request.set_warning_id(args->GetOr("warning", ""));
    request.set_escalated_only(args->Has("escalated"));
    const std::string state = args->GetOr("state", "");
    if (state == "all" || state == "全部") {
      request.set_include_closed(true);
    } else if (state == "open") {
      request.set_state(v1::FOLLOW_UP_STATE_OPEN);
    } else if (state == "planned") {
      request.set_state(v1::FOLLOW_UP_STATE_PLANNED);
    } else if (state == "closed") {
      request.set_state(v1::FOLLOW_UP_STATE_CLOSED);
    } else if (!state.empty()) {
      return Usage(err, "--state 须为 open|planned|closed|all / unknown state " + state);
    }
    grpc::ClientContext ctx;
    PrepareContext(options, &ctx);
    v1::ListFollowUpsResponse response;
    grpc::Status st = stub->ListFollowUps(&ctx, request, &response);
    if (!st.ok()) {
      err << "halfskyctl followup list: " << DescribeRpcError(st) << "\n";
      return cli::ExitCodeFor(st);
    }
    out << (json ? views::RenderFollowUpsJson(response)
                 : views::RenderFollowUpsTable(response, names, colour));
    return cli::kExitOk;
  }

  if (args->positional().size() != 1) {
    return Usage(err, absl::StrCat(sub, " 需要一个预警编号 / needs one WARNING_ID"));
  }
  const std::string id = args->positional()[0];
  grpc::ClientContext ctx;
  PrepareContext(options, &ctx);
  v1::FollowUp result;
  grpc::Status st;
  std::string done_zh;
  if (sub == "show") {
    v1::GetFollowUpRequest r;
    r.set_warning_id(id);
    st = stub->GetFollowUp(&ctx, r, &result);
  } else if (sub == "assign") {
    if (!args->Get("unit") || !args->Get("reason")) {
      return Usage(err, "assign 需要 --unit 和 --reason / needs --unit and --reason");
    }
    v1::AssignFollowUpRequest r;
    r.set_warning_id(id);
    r.set_unit_code(*args->Get("unit"));
    r.set_reason(*args->Get("reason"));
    st = stub->AssignFollowUp(&ctx, r, &result);
    done_zh = "已调整责任单位 / assigned";
  } else if (sub == "plan") {
    v1::PlanFollowUpRequest r;
    r.set_warning_id(id);
    if (!args->Get("measures") || !args->Get("due") ||
        !ParseDay(*args->Get("due"), /*end_of_day=*/true, r.mutable_due())) {
      return Usage(err, "plan 需要 --measures 和 --due YYYY-MM-DD / needs --measures and --due");
    }
    r.set_measures(*args->Get("measures"));
    st = stub->PlanFollowUp(&ctx, r, &result);
    done_zh = "已制定整改措施 / planned";
  } else if (sub == "note") {
    if (!args->Get("note")) {
      return Usage(err, "note 需要 --note / needs --note");
    }
    v1::AddFollowUpNoteRequest r;
    r.set_warning_id(id);
    r.set_note(*args->Get("note"));
    st = stub->AddFollowUpNote(&ctx, r, &result);
    done_zh = "已记录整改进展 / noted";
  } else if (sub == "close") {
    v1::CloseFollowUpRequest r;
    r.set_warning_id(id);
    const std::string d = args->GetOr("decision", "");
    // A token (resolved, closed, false-alarm) or a Chinese label.
    const std::optional<v1::FollowUpClosing> closing = labels::Parse<v1::FollowUpClosing>(d);
    if (closing.has_value()) {
      r.set_closing(*closing);
    } else {
      return Usage(err, "close 需要 --decision resolved|closed|false-alarm");
    }
    r.set_reason(args->GetOr("reason", ""));
    st = stub->CloseFollowUp(&ctx, r, &result);
    done_zh = "已销号 / closed";
  } else if (sub == "silence") {
    v1::SilenceFollowUpRequest r;
    r.set_warning_id(id);
    if (!args->Get("reason") || !args->Get("until") ||
        !ParseDay(*args->Get("until"), /*end_of_day=*/false, r.mutable_until())) {
      return Usage(err, "silence 需要 --until YYYY-MM-DD 和 --reason / needs --until and --reason");
    }
    r.set_reason(*args->Get("reason"));
    st = stub->SilenceFollowUp(&ctx, r, &result);
    done_zh = "已暂缓督办 / silenced";
  } else {
    return Usage(err, "未知子命令 / unknown subcommand " + sub);
  }
  if (!st.ok()) {
    err << "halfskyctl followup " << sub << ": " << DescribeRpcError(st) << "\n";
    return cli::ExitCodeFor(st);
  }
  if (json) {
    out << views::RenderFollowUpJson(result);
    return cli::kExitOk;
  }
  const views::Names names = NamesOrNone(options);
  if (sub == "show") {
    out << views::RenderFollowUpHistory(result, names);
  } else {
    out << done_zh << " " << result.warning_id() << "：责任单位 "
        << views::UnitNameZh(result.owner_unit_code(), names) << "，状态 "
        << views::FollowUpStateZh(result, result.updated_at().seconds()) << "，要求 "
        << views::AskedZh(result) << "，时限 " << views::DueDateZh(result) << "\n";
  }
  return cli::kExitOk;
}

}  // namespace halfsky
