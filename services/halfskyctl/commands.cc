#include "services/halfskyctl/commands.h"

#include <functional>
#include <map>

#include "services/halfskyctl/catalog/catalog_cmd.h"
#include "services/halfskyctl/exchange/exchange_cmd.h"
#include "services/halfskyctl/export/export_cmd.h"
#include "services/halfskyctl/followup/followup_cmd.h"
#include "services/halfskyctl/form/form_cmd.h"
#include "services/halfskyctl/health_cmd.h"
#include "services/halfskyctl/report/report_cmd.h"
#include "services/halfskyctl/review/review_cmd.h"
#include "services/halfskyctl/series/series_cmd.h"
#include "services/halfskyctl/status/status_cmd.h"
#include "services/halfskyctl/submit/submit_cmd.h"
#include "services/halfskyctl/warnings/warnings_cmd.h"
#include "services/halfskyctl/withdraw/withdraw_cmd.h"

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
      {"catalog", {RunCatalogCommand, "指标目录 lint/show/doc / the indicator catalog"}},
      {"form",
       {RunFormCommand,
        "成员单位空白报表 xlsx/CSV（报表表式）/ blank report forms from the catalog"}},
      {"submit", {RunSubmitCommand, "上报数据 CSV / submit a CSV file of indicator data"}},
      {"warnings", {RunWarningsCommand, "预警列表与实时变化 / list or --watch warnings"}},
      {"ack", {RunAckCommand, "确认预警并填写对策建议 / acknowledge a warning with a note"}},
      {"series",
       {RunSeriesCommand, "指标逐年数值与目标 / an indicator's yearly values and target"}},
      {"status", {RunStatusCommand, "各单位报送率与及时率 / reporting completeness per unit"}},
      {"report",
       {RunReportCommand, "监测评估报告 HTML/MD/CSV/xlsx / annual, mid-term, final report"}},
      {"export", {RunExportCommand, "导出汇总数据 CSV/SDMX-CSV/xlsx / export aggregates"}},
      {"withdraw",
       {RunWithdrawCommand,
        "撤回已报送的数据并说明原因 / withdraw a reported figure, with a reason"}},
      {"history",
       {RunHistoryCommand, "数据键的修订历史与撤回 / every revision of one key, withdrawals too"}},
      {"validate",
       {RunValidateCommand, "逻辑审核：列出全部不满足的校验规则 / run the validation rules"}},
      {"review",
       {RunReviewCommand,
        "报送审核：报送、退回、审核通过、解锁、待办与实时变化 / the review workflow"}},
      {"exchange",
       {RunExchangeCommand,
        "向上级报送：状态、日志、立即对账 / reporting upward: status, log, sync"}},
      {"followup",
       {RunFollowUpCommand, "督办：责任单位、整改措施、进展、销号 / follow-up of warnings"}},
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
