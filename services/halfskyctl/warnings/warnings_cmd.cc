#include "services/halfskyctl/warnings/warnings_cmd.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/views/labels.h"
#include "common/views/table.h"
#include "common/views/warnings_view.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "services/halfskyctl/cli.h"
#include "services/halfskyctl/client.h"

namespace halfsky {

namespace {

constexpr char kWarningsUsage[] =
    "用法 usage: halfskyctl warnings [filters] [--watch] [--format table|json|csv]\n"
    "  列出预警（按级别排序：红、橙、黄）/ list warnings, red first\n"
    "  --domain ID           领域 e.g. HEALTH\n"
    "  --indicator ID        指标 e.g. HEALTH-04\n"
    "  --area CODE           区域代码，含其下各级区域 e.g. 610303 / the area and every area\n"
    "                        below it (a city: its districts and their towns)\n"
    "  --area-only           只列 --area 本级 / only the area itself, not its subtree\n"
    "  --unit CODE           责任单位 e.g. HEALTH\n"
    "  --kind K              progress|fluctuation|late_data|missed|out_of_band|rule_broken|\n"
    "                        slipped|data_quality (或中文：进度预警、波动较大…)\n"
    "  --min-severity S      yellow|orange|red (黄/橙/红)\n"
    "  --state S             firing (default) | resolved | all\n"
    "  --format F            table (default) | json | csv\n"
    "  --watch               保持连接，实时打印每次变化 / keep the stream open and print each\n"
    "                        change as it arrives (reconnects if the server restarts)\n"
    "  --color / --no-color  着色（默认仅在终端且未设 NO_COLOR）/ colour (default: terminal "
    "only)\n";

constexpr char kAckUsage[] =
    "用法 usage: halfskyctl ack WARNING_ID --note TEXT\n"
    "  确认预警并记录对策建议（评估组）/ acknowledge a warning with a countermeasure note\n"
    "  (assessment role). WARNING_ID as printed by `halfskyctl warnings`.\n";

struct Filter {
  v1::ListWarningsRequest request;
  bool all_states = false;
};

// Fills the filter from flags; a message on `err` and false on a bad value.
bool BuildFilter(const cli::Args& args, Filter* f, std::ostream& err) {
  auto& r = f->request;
  r.set_domain_id(args.GetOr("domain", ""));
  r.set_indicator_id(args.GetOr("indicator", ""));
  r.set_area_code(args.GetOr("area", ""));
  if (args.Has("area-only") && r.area_code().empty()) {
    err << "halfskyctl warnings: --area-only 须与 --area 同用 / needs --area\n";
    return false;
  }
  r.set_include_subareas(!r.area_code().empty() && !args.Has("area-only"));
  r.set_responsible_unit_code(args.GetOr("unit", ""));
  if (auto k = args.Get("kind")) {
    auto kind = views::ParseKind(*k);
    if (!kind) {
      err << "halfskyctl warnings: 未知类型 / unknown --kind " << *k << "\n";
      return false;
    }
    r.set_kind(*kind);
  }
  if (auto s = args.Get("min-severity")) {
    auto sev = views::ParseSeverity(*s);
    if (!sev) {
      err << "halfskyctl warnings: 未知级别 / unknown --min-severity " << *s << "\n";
      return false;
    }
    r.set_min_severity(*sev);
  }
  if (auto s = args.Get("state")) {
    if (*s == "all" || *s == "全部") {
      f->all_states = true;
    } else {
      auto st = views::ParseState(*s);
      if (!st) {
        err << "halfskyctl warnings: 未知状态 / unknown --state " << *s << "\n";
        return false;
      }
      r.set_state(*st);
    }
  }
  return true;
}

grpc::Status ListAll(v1::EvaluationService::Stub* stub, const ClientOptions& options,
                     v1::ListWarningsRequest request, std::vector<v1::Warning>* out) {
  request.set_page_size(1000);
  for (;;) {
    v1::ListWarningsResponse response;
    grpc::Status st = CallWithRetries(
        options, Idempotency::kIdempotent,
        [&](grpc::ClientContext* ctx) { return stub->ListWarnings(ctx, request, &response); },
        std::cerr);
    if (!st.ok()) {
      return st;
    }
    out->insert(out->end(), response.warnings().begin(), response.warnings().end());
    if (response.next_page_token().empty()) {
      return grpc::Status::OK;
    }
    request.set_page_token(response.next_page_token());
  }
}

int Watch(v1::EvaluationService::Stub* stub, const ClientOptions& options, const Filter& filter,
          const std::string& format, const views::Names& names, bool colour, std::ostream& out,
          std::ostream& err) {
  v1::WatchWarningsRequest request;
  *request.mutable_filter() = filter.request;
  if (filter.all_states) {
    request.mutable_filter()->set_state(v1::WARNING_STATE_UNSPECIFIED);
  }
  bool connected_once = false;
  int backoff_s = 1;
  if (format == "csv") {
    out << views::WarningsCsvHeader(true) << std::flush;
  }
  for (;;) {
    grpc::ClientContext ctx;
    PrepareContext(options, &ctx);
    ctx.set_deadline(std::chrono::system_clock::time_point::max());
    std::unique_ptr<grpc::ClientReader<v1::WarningEvent>> reader =
        stub->WatchWarnings(&ctx, request);
    std::vector<v1::Warning> initial;
    bool synced = false;
    v1::WarningEvent event;
    while (reader->Read(&event)) {
      connected_once = true;
      backoff_s = 1;
      if (format == "json") {
        out << views::RenderEventJson(event) << std::flush;
      } else if (format == "csv") {
        out << views::RenderEventCsv(event, names) << std::flush;
      } else if (!synced && event.type() == v1::WARNING_EVENT_TYPE_CURRENT) {
        initial.push_back(event.warning());
      } else if (!synced && event.type() == v1::WARNING_EVENT_TYPE_SYNCED) {
        synced = true;
        views::SortWarnings(&initial);
        out << views::RenderWarningsTable(initial, names, colour)
            << views::RenderEventLine(event, names, colour) << std::flush;
      } else {
        out << views::RenderEventLine(event, names, colour) << std::flush;
      }
    }
    grpc::Status st = reader->Finish();
    const int code = cli::ExitCodeFor(st);
    if (code != cli::kExitUnreachable || !connected_once) {
      if (!st.ok()) {
        err << "halfskyctl warnings --watch: " << DescribeRpcError(st) << "\n";
      }
      return st.ok() ? cli::kExitOk : code;
    }
    err << "halfskyctl warnings --watch: 连接中断，" << backoff_s
        << " 秒后重连 / stream lost, reconnecting in " << backoff_s << "s (" << st.error_message()
        << ")\n";
    std::this_thread::sleep_for(std::chrono::seconds(backoff_s));
    backoff_s = std::min(backoff_s * 2, 30);
  }
}

}  // namespace

int RunWarningsCommand(const std::vector<std::string>& raw, std::ostream& out, std::ostream& err) {
  if (cli::WantsHelp(raw)) {
    out << kWarningsUsage << ClientFlagsHelp() << cli::ExitCodesHelp()
        << "  (warnings: 0 = 没有符合条件的预警 no warning matches, 1 = 有 some match)\n";
    return cli::kExitOk;
  }
  ClientOptions options;
  auto args = ParseWithClientFlags(
      raw, Target::kEvaluation,
      {"domain", "indicator", "area", "unit", "kind", "min-severity", "state", "format"},
      {"watch", "area-only", "color", "colour", "no-color", "no-colour"}, &options);
  if (!args.ok() || !args->positional().empty()) {
    err << "halfskyctl warnings: "
        << (args.ok() ? "多余的参数 / unexpected argument " + args->positional()[0]
                      : std::string(args.status().message()))
        << "\n"
        << kWarningsUsage;
    return cli::kExitUsage;
  }
  const std::string format = args->GetOr("format", "table");
  if (format != "table" && format != "json" && format != "csv") {
    err << "halfskyctl warnings: --format 须为 table|json|csv / must be table, json or csv\n";
    return cli::kExitUsage;
  }
  Filter filter;
  if (!BuildFilter(*args, &filter, err)) {
    return cli::kExitUsage;
  }
  const bool colour = args->Has("no-color") || args->Has("no-colour") ? false
                      : args->Has("color") || args->Has("colour")     ? true
                                                                      : views::UseColour(out);
  views::Names names;
  if (grpc::Status st = FetchNames(options, &names); !st.ok()) {
    err << "halfskyctl warnings: " << DescribeRpcError(st) << "\n";
    return cli::ExitCodeFor(st);
  }
  auto stub = v1::EvaluationService::NewStub(Dial(options));
  if (args->Has("watch")) {
    return Watch(stub.get(), options, filter, format, names, colour, out, err);
  }
  std::vector<v1::Warning> warnings;
  grpc::Status st;
  if (filter.all_states) {
    for (v1::WarningState s : {v1::WARNING_STATE_FIRING, v1::WARNING_STATE_RESOLVED}) {
      v1::ListWarningsRequest r = filter.request;
      r.set_state(s);
      st = ListAll(stub.get(), options, r, &warnings);
      if (!st.ok()) {
        break;
      }
    }
  } else {
    st = ListAll(stub.get(), options, filter.request, &warnings);
  }
  if (!st.ok()) {
    err << "halfskyctl warnings: " << DescribeRpcError(st) << "\n";
    return cli::ExitCodeFor(st);
  }
  views::SortWarnings(&warnings);
  if (format == "json") {
    out << views::RenderWarningsJson(warnings);
  } else if (format == "csv") {
    out << views::RenderWarningsCsv(warnings, names);
  } else {
    out << views::RenderWarningsTable(warnings, names, colour);
  }
  return warnings.empty() ? cli::kExitOk : cli::kExitProblems;
}

int RunAckCommand(const std::vector<std::string>& raw, std::ostream& out, std::ostream& err) {
  if (cli::WantsHelp(raw)) {
    out << kAckUsage << ClientFlagsHelp() << cli::ExitCodesHelp();
    return cli::kExitOk;
  }
  ClientOptions options;
  auto args = ParseWithClientFlags(raw, Target::kEvaluation, {"note"}, {}, &options);
  if (!args.ok() || args->positional().size() != 1 || args->GetOr("note", "").empty()) {
    err << "halfskyctl ack: "
        << (args.ok() ? "需要一个预警编号和 --note / needs one WARNING_ID and --note"
                      : std::string(args.status().message()))
        << "\n"
        << kAckUsage;
    return cli::kExitUsage;
  }
  auto stub = v1::EvaluationService::NewStub(Dial(options));
  v1::AcknowledgeWarningRequest request;
  request.set_warning_id(args->positional()[0]);
  request.set_note(*args->Get("note"));
  v1::Warning warning;
  // No request id: retried only when the rate limit refused it unread.
  grpc::Status st = CallWithRetries(
      options, Idempotency::kNotIdempotent,
      [&](grpc::ClientContext* ctx) { return stub->AcknowledgeWarning(ctx, request, &warning); },
      err);
  if (!st.ok()) {
    err << "halfskyctl ack: " << DescribeRpcError(st) << "\n";
    return cli::ExitCodeFor(st);
  }
  // A unit's late-data warning has no indicator: name the unit and what it
  // has not reported (names from the catalog when it can be read).
  std::string subject = warning.indicator_name_zh();
  if (views::IsUnitWarning(warning)) {
    const views::Names names = NamesOrNone(options);
    subject = views::WarningSubjectZh(warning, names.units, names.indicators);
  }
  out << "已确认 / acknowledged " << warning.id() << "（" << subject << "，"
      << views::SeverityLabelZh(warning.severity()) << "）by " << warning.acknowledgement().by()
      << "：" << warning.acknowledgement().note() << "\n";
  return cli::kExitOk;
}

}  // namespace halfsky
