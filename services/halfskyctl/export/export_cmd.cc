#include "services/halfskyctl/export/export_cmd.h"

#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "halfsky/v1/aggregation.grpc.pb.h"
#include "services/halfskyctl/cli.h"
#include "services/halfskyctl/client.h"

namespace halfsky {

namespace {

constexpr char kUsage[] =
    "用法 usage: halfskyctl export --format csv|sdmx-csv [-o FILE] [--indicator ID[,ID…]]\n"
    "                               [--area CODE[,CODE…]] [--from YEAR] [--to YEAR]\n"
    "  导出汇总数据 / export the aggregates (AggregationService.Export), to FILE or stdout.\n"
    "  A partial file is removed when the stream fails.\n";

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
  if (format == "csv") {
    request.set_format(v1::EXPORT_FORMAT_CSV);
  } else if (format == "sdmx-csv" || format == "sdmx_csv" || format == "sdmx") {
    request.set_format(v1::EXPORT_FORMAT_SDMX_CSV);
  } else {
    err << "halfskyctl export: --format 须为 csv|sdmx-csv\n";
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
  const std::string path = args->GetOr("o", args->GetOr("output", "-"));
  std::ofstream file;
  std::ostream* sink = &out;
  if (path != "-") {
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
