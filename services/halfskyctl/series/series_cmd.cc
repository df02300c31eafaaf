#include "services/halfskyctl/series/series_cmd.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/views/labels.h"
#include "common/views/series_view.h"
#include "common/views/table.h"
#include "google/protobuf/util/json_util.h"
#include "halfsky/v1/aggregation.grpc.pb.h"
#include "services/halfskyctl/cli.h"
#include "services/halfskyctl/client.h"

namespace halfsky {

namespace {

constexpr char kUsage[] =
    "用法 usage: halfskyctl series INDICATOR [--area CODE] [--sex S] [--residence R]\n"
    "                               [--from YEAR] [--to YEAR] [--format table|json|csv]\n"
    "  逐年数值、趋势火花线和目标 / yearly values with a sparkline and the target(s)\n"
    "  --area CODE        区域代码，默认全区 / default: the district\n"
    "  --sex S            total|female|male (合计/女/男)\n"
    "  --residence R      all|urban|rural (全部/城镇/农村)\n"
    "  --from/--to YEAR   年份范围 / year range (default: the plan period)\n"
    "  --format F         table (default) | json | csv\n";

}  // namespace

int RunSeriesCommand(const std::vector<std::string>& raw, std::ostream& out, std::ostream& err) {
  if (cli::WantsHelp(raw)) {
    out << kUsage << ClientFlagsHelp() << cli::ExitCodesHelp();
    return cli::kExitOk;
  }
  ClientOptions options;
  auto args = ParseWithClientFlags(raw, Target::kAggregation,
                                   {"area", "sex", "residence", "from", "to", "format"},
                                   {"color", "no-color"}, &options);
  if (!args.ok() || args->positional().size() != 1) {
    err << "halfskyctl series: "
        << (args.ok() ? "需要一个指标代码 / needs one INDICATOR"
                      : std::string(args.status().message()))
        << "\n"
        << kUsage;
    return cli::kExitUsage;
  }
  v1::GetSeriesRequest request;
  request.set_indicator_id(args->positional()[0]);
  request.set_area_code(args->GetOr("area", ""));
  if (auto s = args->Get("sex")) {
    auto sex = views::ParseSex(*s);
    if (!sex) {
      err << "halfskyctl series: --sex 须为 total|female|male\n";
      return cli::kExitUsage;
    }
    request.set_sex(*sex);
  }
  if (auto r = args->Get("residence")) {
    auto res = views::ParseResidence(*r);
    if (!res) {
      err << "halfskyctl series: --residence 须为 all|urban|rural\n";
      return cli::kExitUsage;
    }
    request.set_residence(*res);
  }
  for (const char* flag : {"from", "to"}) {
    if (auto v = args->Get(flag)) {
      int year = 0;
      if (!absl::SimpleAtoi(*v, &year)) {
        err << "halfskyctl series: --" << flag << " 须为年份 / must be a year\n";
        return cli::kExitUsage;
      }
      std::string(flag) == "from" ? request.set_from_year(year) : request.set_to_year(year);
    }
  }
  const std::string format = args->GetOr("format", "table");
  if (format != "table" && format != "json" && format != "csv") {
    err << "halfskyctl series: --format 须为 table|json|csv\n";
    return cli::kExitUsage;
  }
  auto stub = v1::AggregationService::NewStub(Dial(options));
  v1::GetSeriesResponse response;
  grpc::Status st = CallWithRetries(
      options, Idempotency::kIdempotent,
      [&](grpc::ClientContext* ctx) { return stub->GetSeries(ctx, request, &response); }, err);
  if (!st.ok()) {
    err << "halfskyctl series: " << DescribeRpcError(st) << "\n";
    return cli::ExitCodeFor(st);
  }
  if (format == "json") {
    google::protobuf::util::JsonPrintOptions o;
    o.add_whitespace = true;
    o.preserve_proto_field_names = true;
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(response, &json, o);
    out << json;
    return cli::kExitOk;
  }
  if (format == "csv") {
    out << views::CsvLine({"indicator_id", "area_code", "sex", "residence", "year", "value",
                           "numerator", "denominator", "completeness_percent"});
    for (const auto& p : response.points()) {
      out << views::CsvLine(
          {response.indicator_id(), response.area_code(), views::SexLabelZh(response.sex()),
           views::ResidenceLabelZh(response.residence()), absl::StrCat(p.year()),
           p.has_value() ? views::FormatValue(p.value(), 6) : "",
           views::FormatValue(p.numerator(), 6), views::FormatValue(p.denominator(), 6),
           views::FormatValue(p.completeness_percent(), 2)});
    }
    return cli::kExitOk;
  }
  views::SeriesLabels labels;
  v1::Catalog catalog;
  if (FetchCatalog(options, &catalog).ok()) {
    for (const auto& i : catalog.indicators()) {
      if (i.id() == response.indicator_id()) {
        labels.indicator_name_zh = i.name_zh();
        labels.unit = i.unit();
      }
    }
    for (const auto& a : catalog.areas()) {
      if (a.code() == response.area_code()) {
        labels.area_name_zh = a.name_zh();
      }
    }
  }
  const bool colour = args->Has("no-color") ? false
                      : args->Has("color")  ? true
                                            : views::UseColour(out);
  out << views::RenderSeries(response, labels, colour);
  return cli::kExitOk;
}

}  // namespace halfsky
