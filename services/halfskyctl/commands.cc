#include "services/halfskyctl/commands.h"

#include <functional>
#include <map>

#include "services/halfskyctl/health_cmd.h"
#ifdef HALFSKYCTL_HAS_CATALOG
#include "services/halfskyctl/catalog/catalog_cmd.h"
#endif
#ifdef HALFSKYCTL_HAS_SUBMIT
#include "services/halfskyctl/submit/submit_cmd.h"
#endif
#ifdef HALFSKYCTL_HAS_WARNINGS
#include "services/halfskyctl/warnings/warnings_cmd.h"
#endif
#ifdef HALFSKYCTL_HAS_SERIES
#include "services/halfskyctl/series/series_cmd.h"
#endif
#ifdef HALFSKYCTL_HAS_STATUS
#include "services/halfskyctl/status/status_cmd.h"
#endif
#ifdef HALFSKYCTL_HAS_REPORT
#include "services/halfskyctl/report/report_cmd.h"
#endif
#ifdef HALFSKYCTL_HAS_EXPORT
#include "services/halfskyctl/export/export_cmd.h"
#endif
#ifdef HALFSKYCTL_HAS_WITHDRAW
#include "services/halfskyctl/withdraw/withdraw_cmd.h"
#endif

namespace halfsky {
namespace {

using Command = std::function<int(const std::vector<std::string>&, std::ostream&, std::ostream&)>;

struct Entry {
  Command run;
  const char* summary;
};

const std::map<std::string, Entry>& Commands() {
  static const auto* commands = new std::map<std::string, Entry>{
      {"health", {RunHealthCommand, "服务健康状态 / ask services for their grpc.health.v1 status"}},
#ifdef HALFSKYCTL_HAS_CATALOG
      {"catalog", {RunCatalogCommand, "指标目录 lint/show/doc / the indicator catalog"}},
#endif
#ifdef HALFSKYCTL_HAS_SUBMIT
      {"submit", {RunSubmitCommand, "上报数据 CSV / submit a CSV file of indicator data"}},
#endif
#ifdef HALFSKYCTL_HAS_WARNINGS
      {"warnings", {RunWarningsCommand, "预警列表与实时变化 / list or --watch warnings"}},
      {"ack", {RunAckCommand, "确认预警并填写对策建议 / acknowledge a warning with a note"}},
#endif
#ifdef HALFSKYCTL_HAS_SERIES
      {"series",
       {RunSeriesCommand, "指标逐年数值与目标 / an indicator's yearly values and target"}},
#endif
#ifdef HALFSKYCTL_HAS_STATUS
      {"status", {RunStatusCommand, "各单位报送率与及时率 / reporting completeness per unit"}},
#endif
#ifdef HALFSKYCTL_HAS_REPORT
      {"report", {RunReportCommand, "监测评估报告 HTML/MD/CSV / annual, mid-term, final report"}},
#endif
#ifdef HALFSKYCTL_HAS_EXPORT
      {"export", {RunExportCommand, "导出汇总数据 CSV/SDMX-CSV / export aggregates"}},
#endif
#ifdef HALFSKYCTL_HAS_WITHDRAW
      {"withdraw",
       {RunWithdrawCommand,
        "撤回已报送的数据并说明原因 / withdraw a reported figure, with a reason"}},
      {"history",
       {RunHistoryCommand, "数据键的修订历史与撤回 / every revision of one key, withdrawals too"}},
#endif
  };
  return *commands;
}

void Usage(std::ostream& out) {
  out << "halfskyctl — 金台区妇女发展规划监测评估 命令行客户端 / halfsky command-line client\n\n"
         "用法 usage: halfskyctl COMMAND [ARGS...]   (halfskyctl COMMAND --help for details)\n\n"
         "commands:\n";
  for (const auto& [name, entry] : Commands()) {
    out << "  " << name << std::string(name.size() < 10 ? 10 - name.size() : 1, ' ')
        << entry.summary << "\n";
  }
  out << "\nenvironment: HALFSKY_SERVER, HALFSKY_TOKEN, HALFSKY_CATALOG\n";
}

}  // namespace

int RunHalfskyctl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    Usage(args.empty() ? err : out);
    return args.empty() ? 2 : 0;
  }
  auto it = Commands().find(args[0]);
  if (it == Commands().end()) {
    err << "halfskyctl: unknown command '" << args[0] << "'\n\n";
    Usage(err);
    return 2;
  }
  return it->second.run(std::vector<std::string>(args.begin() + 1, args.end()), out, err);
}

}  // namespace halfsky
