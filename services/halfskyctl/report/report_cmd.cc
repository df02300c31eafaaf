#include "services/halfskyctl/report/report_cmd.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "common/views/labels.h"
#include "common/views/report_render.h"
#include "common/views/xlsx_tables.h"
#include "halfsky/v1/aggregation.grpc.pb.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "services/halfskyctl/cli.h"
#include "services/halfskyctl/client.h"

namespace halfsky {

namespace {

constexpr char kUsage[] =
    "用法 usage: halfskyctl report annual|midterm|final [--year YEAR] [--area CODE]\n"
    "                               [--format html|md|csv|xlsx] [-o FILE]\n"
    "  年度监测评估 / 中期评估 / 终期评估报告 / the annual, mid-term or final report.\n"
    "  html: 单个自包含文件（内嵌样式与SVG图表，可A4打印）/ one self-contained file, A4-printable\n"
    "  md, csv: 同样内容 / the same content\n"
    "  xlsx: 统计资料，每个领域一张工作表，数字为数值单元格（须 -o FILE）/ the statistical\n"
    "        compendium: one sheet per domain, numbers typed, the HTML report's figures\n"
    "  --year YEAR        annual: 数据年份（默认上一年）; midterm/final: 2025/2030\n"
    "  --area CODE        区域，默认根区域 / default: the root of the area tree\n"
    "  --format F         默认按 -o 的扩展名，否则 html / default from -o's extension, else html\n"
    "  -o FILE            输出文件，默认标准输出 / output file (default: stdout)\n"
    "  --aggregation H:P  年度监测数据来源 / where the annual monitoring figures come from\n"
    "                     (default $HALFSKY_AGGREGATION, else 127.0.0.1:7302; annual only;\n"
    "                     left out with a notice when unreachable)\n"
    "  --banner TEXT      标题下的提示，如「示例数据」/ a banner under the title\n";

}  // namespace

int RunReportCommand(const std::vector<std::string>& raw, std::ostream& out, std::ostream& err) {
  if (cli::WantsHelp(raw)) {
    out << kUsage << ClientFlagsHelp() << cli::ExitCodesHelp();
    return cli::kExitOk;
  }
  ClientOptions options;
  auto args = ParseWithClientFlags(
      raw, Target::kEvaluation, {"year", "area", "format", "o", "output", "aggregation", "banner"},
      {"no-annual"}, &options);
  std::optional<v1::ReportType> type;
  if (args.ok() && args->positional().size() == 1) {
    type = views::ParseReportType(args->positional()[0]);
  }
  if (!args.ok() || !type) {
    err << "halfskyctl report: "
        << (args.ok() ? "需要报告类型 annual|midterm|final / needs annual, midterm or final"
                      : std::string(args.status().message()))
        << "\n"
        << kUsage;
    return cli::kExitUsage;
  }
  int year = 0;
  if (auto y = args->Get("year"); y && !absl::SimpleAtoi(*y, &year)) {
    err << "halfskyctl report: --year 须为年份 / must be a year\n";
    return cli::kExitUsage;
  }
  const std::string path = args->GetOr("o", args->GetOr("output", "-"));
  std::string format = args->GetOr("format", "");
  if (format.empty()) {
    format = absl::EndsWith(path, ".md")     ? "md"
             : absl::EndsWith(path, ".csv")  ? "csv"
             : absl::EndsWith(path, ".xlsx") ? "xlsx"
                                             : "html";
  }
  if (format == "markdown") {
    format = "md";
  }
  if (format != "html" && format != "md" && format != "csv" && format != "xlsx") {
    err << "halfskyctl report: --format 须为 html|md|csv|xlsx\n";
    return cli::kExitUsage;
  }
  if (format == "xlsx" && (path == "-" || path.empty())) {
    err << "halfskyctl report: xlsx 须写入文件 / xlsx needs -o FILE\n";
    return cli::kExitUsage;
  }

  auto stub = v1::EvaluationService::NewStub(Dial(options));
  grpc::ClientContext ctx;
  PrepareContext(options, &ctx);
  v1::GetEvaluationReportRequest request;
  request.set_type(*type);
  request.set_year(year);
  request.set_area_code(args->GetOr("area", ""));
  v1::EvaluationReport report;
  grpc::Status st = stub->GetEvaluationReport(&ctx, request, &report);
  if (!st.ok()) {
    err << "halfskyctl report: " << DescribeRpcError(st) << "\n";
    return cli::ExitCodeFor(st);
  }

  views::ReportContext context;
  context.banner_zh = args->GetOr("banner", "");
  v1::Catalog catalog;
  if (FetchCatalog(options, &catalog).ok()) {
    views::FillReportContext(catalog, report, &context);
  }
  v1::AnnualReport annual;
  if (*type == v1::REPORT_TYPE_ANNUAL && !args->Has("no-annual")) {
    ClientOptions agg = DefaultClientOptions(Target::kAggregation);
    agg.token = options.token;
    agg.tls_ca = options.tls_ca;
    agg.timeout = options.timeout;
    if (auto a = args->Get("aggregation")) {
      agg.server = *a;
    }
    auto agg_stub = v1::AggregationService::NewStub(Dial(agg));
    grpc::ClientContext actx;
    PrepareContext(agg, &actx);
    v1::GetAnnualReportRequest areq;
    areq.set_year(report.year());
    areq.set_area_code(report.area_code());
    grpc::Status ast = agg_stub->GetAnnualReport(&actx, areq, &annual);
    if (ast.ok()) {
      context.annual = &annual;
    } else {
      err << "halfskyctl report: 未包含年度监测数据 / annual monitoring figures left out ("
          << agg.server << ": " << ast.error_message() << ")\n";
    }
  }
  if (format == "xlsx") {
    const std::vector<views::CompendiumSheet> sheets = views::ReportCompendium(report, context);
    absl::Status ws = views::WriteCompendiumXlsx(
        sheets, sheets.empty() ? std::string() : sheets.front().title, path);
    if (!ws.ok()) {
      err << "halfskyctl report: 无法写入 / cannot write " << path << ": " << ws.message() << "\n";
      return cli::kExitProblems;
    }
    err << "已生成 / wrote " << path << "（" << sheets.size() << " 张工作表，"
        << report.indicators_size() << " 项指标）\n";
    return cli::kExitOk;
  }
  const std::string content = format == "html" ? views::RenderReportHtml(report, context)
                              : format == "md" ? views::RenderReportMarkdown(report, context)
                                               : views::RenderReportCsv(report, context);
  if (!cli::WriteOutput(path, content, out, err)) {
    return cli::kExitProblems;
  }
  if (path != "-") {
    err << "已生成 / wrote " << path << "（" << report.indicators_size() << " 项指标，"
        << report.warnings_size() << " 条预警）\n";
  }
  return cli::kExitOk;
}

}  // namespace halfsky
