#include "services/halfskyctl/form/form_cmd.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/catalog/catalog.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "services/halfskyctl/cli.h"
#include "services/halfskyctl/client.h"
#include "services/halfskyctl/form/form_model.h"
#include "services/halfskyctl/form/form_xlsx.h"

namespace halfsky {

namespace {

constexpr char kUsage[] =
    "用法 usage: halfskyctl form --unit CODE --year YEAR -o FILE.xlsx|FILE.csv\n"
    "            halfskyctl form --all --year YEAR -o DIR [--format xlsx|csv]\n"
    "  成员单位的空白报表（报表表式）/ a member unit's blank report form for YEAR,\n"
    "  from the catalog the submission service serves:\n"
    "  表头（表号、制表机关、填报单位、报告期、报送截止日期），每项指标×区域×分组一行，\n"
    "  计量单位与填报内容，上年数据供参考；第二张表为指标解释。\n"
    "  xlsx: 除填报单元格外工作表受保护，数字单元格有数据验证 / protected except the\n"
    "        cells to fill, number cells validated.\n"
    "  csv:  同样的表头行与各行（无表头区），UTF-8 带BOM / the same header row and rows,\n"
    "        no header block, UTF-8 with a BOM.\n"
    "  Filled in, either is uploaded with `halfskyctl submit FILE`.\n"
    "  --unit CODE        成员单位代码 / member unit code (see `halfskyctl catalog show`)\n"
    "  --all              每个成员单位一份，写入目录 DIR / one file per unit into DIR\n"
    "                     (报表-UNIT-YEAR.xlsx|csv; DIR is created)\n"
    "  --year YEAR        报告期 / the data year\n"
    "  --format F         xlsx|csv，默认按 -o 的扩展名，否则 xlsx / default from -o's\n"
    "                     extension, else xlsx\n"
    "  --authority TEXT   制表机关，默认「<区名>妇女儿童工作委员会办公室」\n"
    "  --no-previous      不预填上年数据 / leave the 上年… columns empty\n";

// Last year's current values of every indicator, all pages. The RPC status
// on failure.
grpc::Status FetchPrevious(const ClientOptions& options, int year,
                           std::vector<v1::DataValue>* out) {
  auto stub = v1::SubmissionService::NewStub(Dial(options));
  v1::ListDataValuesRequest request;
  request.add_years(year);
  request.set_page_size(10000);
  while (true) {
    grpc::ClientContext ctx;
    PrepareContext(options, &ctx);
    v1::ListDataValuesResponse response;
    grpc::Status st = stub->ListDataValues(&ctx, request, &response);
    if (!st.ok()) {
      return st;
    }
    for (const v1::Revision& r : response.data_values()) {
      if (!r.withdrawn()) {
        out->push_back(r.data_value());
      }
    }
    if (response.next_page_token().empty()) {
      return grpc::Status::OK;
    }
    request.set_page_token(response.next_page_token());
  }
}

bool MakeDirectory(const std::string& dir, std::ostream& err) {
  if (mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) {
    struct stat st {};
    if (stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return true;
    }
  }
  err << "halfskyctl form: 无法创建目录 / cannot create directory " << dir << ": "
      << std::strerror(errno) << "\n";
  return false;
}

}  // namespace

int RunFormCommand(const std::vector<std::string>& raw, std::ostream& out, std::ostream& err) {
  if (cli::WantsHelp(raw)) {
    out << kUsage << ClientFlagsHelp() << cli::ExitCodesHelp();
    return cli::kExitOk;
  }
  ClientOptions options;
  auto args = ParseWithClientFlags(raw, Target::kSubmission,
                                   {"unit", "year", "o", "output", "format", "authority"},
                                   {"all", "no-previous"}, &options);
  if (!args.ok() || !args->positional().empty()) {
    err << "halfskyctl form: "
        << (args.ok() ? "多余的参数 / unexpected argument" : std::string(args.status().message()))
        << "\n"
        << kUsage;
    return cli::kExitUsage;
  }
  const bool all = args->Has("all");
  const std::string unit = args->GetOr("unit", "");
  int year = 0;
  const std::string path = args->GetOr("o", args->GetOr("output", ""));
  std::string problem;
  if (all == !unit.empty()) {
    problem = "须给出 --unit CODE 或 --all 之一 / give either --unit CODE or --all";
  } else if (!absl::SimpleAtoi(args->GetOr("year", ""), &year) || year < 1900 || year > 2200) {
    problem = "--year 须为年份 / --year must be a year";
  } else if (path.empty()) {
    problem = all ? "须给出 -o DIR / -o DIR is required" : "须给出 -o FILE / -o FILE is required";
  }
  std::string format = args->GetOr("format", "");
  if (format.empty()) {
    format = !all && absl::EndsWith(path, ".csv") ? "csv" : "xlsx";
  }
  if (problem.empty() && format != "xlsx" && format != "csv") {
    problem = "--format 须为 xlsx|csv";
  }
  if (problem.empty() && format == "xlsx" && path == "-") {
    problem = "xlsx 须写入文件 / xlsx needs -o FILE";
  }
  if (!problem.empty()) {
    err << "halfskyctl form: " << problem << "\n" << kUsage;
    return cli::kExitUsage;
  }

  v1::Catalog catalog;
  grpc::Status st = FetchCatalog(options, &catalog);
  if (!st.ok()) {
    err << "halfskyctl form: 无法取得指标目录 / cannot fetch the catalog: " << DescribeRpcError(st)
        << "\n";
    return cli::ExitCodeFor(st);
  }
  auto index = CatalogIndex::FromProto(catalog);
  if (!index.ok()) {
    err << "halfskyctl form: 服务返回的目录无效 / the served catalog is invalid: "
        << index.status().message() << "\n";
    return cli::kExitProblems;
  }
  std::vector<std::string> units;
  if (all) {
    for (const v1::MemberUnit& u : catalog.member_units()) {
      if (!(*index)->IndicatorsOfUnit(u.code()).empty()) {
        units.push_back(u.code());
      } else {
        err << "halfskyctl form: " << u.code() << " 不负责任何指标，未生成 / responsible for no "
            << "indicator, no form\n";
      }
    }
  } else {
    units.push_back(unit);
  }

  std::vector<v1::DataValue> previous;
  if (!args->Has("no-previous")) {
    grpc::Status pst = FetchPrevious(options, year - 1, &previous);
    if (!pst.ok()) {
      previous.clear();
      err << "halfskyctl form: 未预填上年数据 / last year's values left out (" << options.server
          << ": " << pst.error_message() << ")\n";
    }
  }
  if (all && !MakeDirectory(path, err)) {
    return cli::kExitProblems;
  }
  const std::string authority = args->GetOr("authority", "");
  int written = 0;
  for (const std::string& code : units) {
    auto form = form::BuildForm(**index, code, year, previous, authority);
    if (!form.ok()) {
      err << "halfskyctl form: " << form.status().message() << "\n";
      return form.status().code() == absl::StatusCode::kNotFound ? cli::kExitUsage
                                                                 : cli::kExitProblems;
    }
    const std::string file =
        all ? absl::StrCat(path, "/", form::FormFileStem(*form), ".", format) : path;
    if (format == "xlsx") {
      absl::Status ws = form::WriteFormXlsx(**index, *form, file);
      if (!ws.ok()) {
        err << "halfskyctl form: 无法写入 / cannot write " << file << ": " << ws.message() << "\n";
        return cli::kExitProblems;
      }
    } else if (!cli::WriteOutput(file, form::FormCsv(*form), out, err)) {
      return cli::kExitProblems;
    }
    ++written;
    if (file != "-") {
      err << "已生成 / wrote " << file << "（" << form->unit_name_zh << "，"
          << form->indicators.size() << " 项指标，" << form->rows.size() << " 行）\n";
    }
  }
  if (all) {
    err << "共 " << written << " 份报表 / " << written << " forms in " << path << "\n";
  }
  return cli::kExitOk;
}

}  // namespace halfsky
