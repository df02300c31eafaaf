#include "services/halfskyctl/export/export_cmd.h"

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/views/xlsx_tables.h"
#include "halfsky/v1/aggregation.grpc.pb.h"
#include "services/halfskyctl/cli.h"
#include "services/halfskyctl/client.h"
#include "services/halfskyctl/export/export_xlsx.h"

namespace halfsky {

namespace {

constexpr char kUsage[] =
    "用法 usage: halfskyctl export --format csv|sdmx-csv|xlsx [-o FILE] [--indicator ID[,ID…]]\n"
    "                               [--area CODE[,CODE…]] [--from YEAR] [--to YEAR]\n"
    "  导出汇总数据 / export the aggregates (AggregationService.Export), to FILE or stdout.\n"
    "  A partial file is removed when the stream fails.\n"
    "  xlsx: 统计资料，每个领域一张工作表，数字为数值单元格（须 -o FILE）/ the compendium:\n"
    "        one sheet per domain, numbers typed (needs -o FILE)\n";

}  // namespace

int RunExportCommand(const std::vector<std::string>& raw, std::ostream& out, std::ostream& err) {
  if (cli::WantsHelp(raw)) {
    out << kUsage << ClientFlagsHelp() << cli::ExitCodesHelp();
    return cli::kExitOk;
  }
  ClientOptions options;
  auto args = ParseWithClientFlags(raw, Target::kAggregation,
                                   {"format", "o", "output", "indicator", "area", "from", "to"}, {},
                                   &options);
  if (!args.ok() || !args->positional().empty()) {
    err << "halfskyctl export: "
        << (args.ok() ? "多余的参数 / unexpected argument" : std::string(args.status().message()))
        << "\n"
        << kUsage;
    return cli::kExitUsage;
  }
  v1::ExportRequest request;
  const std::string format = args->GetOr("format", "csv");
  const std::string path = args->GetOr("o", args->GetOr("output", "-"));
  if (format == "xlsx") {
    if (path == "-") {
      err << "halfskyctl export: xlsx 须写入文件 / xlsx needs -o FILE\n";
      return cli::kExitUsage;
    }
    request.set_format(v1::EXPORT_FORMAT_CSV);
  } else if (format == "csv") {
    request.set_format(v1::EXPORT_FORMAT_CSV);
  } else if (format == "sdmx-csv" || format == "sdmx_csv" || format == "sdmx") {
    request.set_format(v1::EXPORT_FORMAT_SDMX_CSV);
  } else {
    err << "halfskyctl export: --format 须为 csv|sdmx-csv|xlsx\n";
    return cli::kExitUsage;
  }
  for (absl::string_view id :
       absl::StrSplit(args->GetOr("indicator", ""), ',', absl::SkipEmpty())) {
    request.add_indicator_ids(std::string(id));
  }
  for (absl::string_view a : absl::StrSplit(args->GetOr("area", ""), ',', absl::SkipEmpty())) {
    request.add_area_codes(std::string(a));
  }
  for (const char* flag : {"from", "to"}) {
    if (auto v = args->Get(flag)) {
      int year = 0;
      if (!absl::SimpleAtoi(*v, &year)) {
        err << "halfskyctl export: --" << flag << " 须为年份 / must be a year\n";
        return cli::kExitUsage;
      }
      std::string(flag) == "from" ? request.set_from_year(year) : request.set_to_year(year);
    }
  }
  std::ofstream file;
  std::ostringstream buffer;
  std::ostream* sink = &out;
  if (format == "xlsx") {
    sink = &buffer;
  } else if (path != "-") {
    file.open(path, std::ios::binary | std::ios::trunc);
    if (!file) {
      err << "halfskyctl export: 无法写入 / cannot write " << path << "\n";
      return cli::kExitProblems;
    }
    sink = &file;
  }
  auto stub = v1::AggregationService::NewStub(Dial(options));
  grpc::ClientContext ctx;
  PrepareContext(options, &ctx);
  auto reader = stub->Export(&ctx, request);
  v1::ExportChunk chunk;
  size_t bytes = 0;
  while (reader->Read(&chunk)) {
    sink->write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()));
    bytes += chunk.data().size();
  }
  grpc::Status st = reader->Finish();
  if (format == "xlsx") {
    if (!st.ok()) {
      err << "halfskyctl export: " << DescribeRpcError(st) << "\n";
      return cli::ExitCodeFor(st);
    }
    v1::Catalog catalog;
    grpc::Status cst = FetchCatalog(options, &catalog);
    if (!cst.ok()) {
      err << "halfskyctl export: 无法取得指标目录 / cannot fetch the catalog: "
          << DescribeRpcError(cst) << "\n";
      return cli::ExitCodeFor(cst);
    }
    auto sheets = ExportCompendium(catalog, buffer.str());
    if (!sheets.ok()) {
      err << "halfskyctl export: " << sheets.status().message() << "\n";
      return cli::kExitProblems;
    }
    absl::Status ws = views::WriteCompendiumXlsx(*sheets, sheets->front().title, path);
    if (!ws.ok()) {
      err << "halfskyctl export: 无法写入 / cannot write " << path << ": " << ws.message() << "\n";
      return cli::kExitProblems;
    }
    err << "已导出 / exported " << sheets->size() << " sheets to " << path << "\n";
    return cli::kExitOk;
  }
  if (path != "-") {
    file.close();
    if (!st.ok() || !file) {
      std::remove(path.c_str());
    }
  }
  if (!st.ok()) {
    err << "halfskyctl export: " << DescribeRpcError(st) << "\n";
    return cli::ExitCodeFor(st);
  }
  if (path != "-") {
    err << "已导出 / exported " << bytes << " bytes to " << path << "\n";
  }
  return cli::kExitOk;
}

}  // namespace halfsky
