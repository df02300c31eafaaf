#include "services/web/reports.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/views/labels.h"
#include "common/views/report_render.h"
#include "common/views/xlsx_tables.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "halfsky/v1/aggregation.pb.h"
#include "halfsky/v1/catalog.pb.h"
#include "halfsky/v1/evaluation.pb.h"

namespace halfsky::web {
namespace {

std::string Query(const HttpRequest& request, const std::string& name) {
  auto it = request.query.find(name);
  return it == request.query.end() ? "" : it->second;
}

std::string JsonString(const std::string& s) {
  google::protobuf::Value v;
  v.set_string_value(s);
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(v, &out);
  return out;
}

std::string JsonNumber(double x) {
  google::protobuf::Value v;
  v.set_number_value(x);
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(v, &out);
  return out;
}

template <typename M>
grpc::Status CallInto(Gateway* gateway, const std::string& method,
                      const google::protobuf::Message& request, const std::string& token,
                      M* response) {
  std::string json, answer;
  (void)google::protobuf::util::MessageToJsonString(request, &json);
  grpc::Status st = gateway->Call(method, json, token, &answer);
  if (st.ok()) {
    google::protobuf::util::JsonParseOptions lenient;
    lenient.ignore_unknown_fields = true;
    if (!google::protobuf::util::JsonStringToMessage(answer, response, lenient).ok()) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "无法读取回答 / unreadable answer");
    }
  }
  return st;
}

const char* KindToken(v1::ReportType type) {
  switch (type) {
    case v1::REPORT_TYPE_ANNUAL:
      return "annual";
    case v1::REPORT_TYPE_MIDTERM:
      return "midterm";
    case v1::REPORT_TYPE_FINAL:
      return "final";
    default:
      return "report";
  }
}

std::string CompendiumJson(const std::vector<views::CompendiumSheet>& sheets) {
  std::string out = "[";
  for (size_t s = 0; s < sheets.size(); ++s) {
    const views::CompendiumSheet& sheet = sheets[s];
    absl::StrAppend(&out, s == 0 ? "" : ",", R"({"name":)", JsonString(sheet.name), R"(,"title":)",
                    JsonString(sheet.title), R"(,"notes":[)");
    for (size_t i = 0; i < sheet.notes.size(); ++i) {
      absl::StrAppend(&out, i == 0 ? "" : ",", JsonString(sheet.notes[i]));
    }
    absl::StrAppend(&out, R"(],"tables":[)");
    for (size_t t = 0; t < sheet.tables.size(); ++t) {
      const views::CompendiumTable& table = sheet.tables[t];
      absl::StrAppend(&out, t == 0 ? "" : ",", R"({"caption":)", JsonString(table.caption),
                      R"(,"header":[)");
      for (size_t i = 0; i < table.header.size(); ++i) {
        absl::StrAppend(&out, i == 0 ? "" : ",", JsonString(table.header[i]));
      }
      absl::StrAppend(&out, R"(],"rows":[)");
      for (size_t r = 0; r < table.rows.size(); ++r) {
        absl::StrAppend(&out, r == 0 ? "[" : ",[");
        for (size_t c = 0; c < table.rows[r].size(); ++c) {
          const views::CompendiumCell& cell = table.rows[r][c];
          absl::StrAppend(&out, c == 0 ? "" : ",");
          switch (cell.kind) {
            case views::CompendiumCell::kText:
              absl::StrAppend(&out, R"({"text":)", JsonString(cell.text), "}");
              break;
            case views::CompendiumCell::kNumber:
              absl::StrAppend(&out, R"({"number":)", JsonNumber(cell.number), "}");
              break;
            default:
              absl::StrAppend(&out, "{}");
          }
        }
        absl::StrAppend(&out, "]");
      }
      absl::StrAppend(&out, "]}");
    }
    absl::StrAppend(&out, "]}");
  }
  return out + "]";
}

}  // namespace

std::string ContentDisposition(const std::string& disposition, const std::string& utf8_name,
                               const std::string& ascii_fallback) {
  std::string encoded;
  for (unsigned char c : utf8_name) {
    // RFC 5987 attr-char: ALPHA / DIGIT / "!#$&+-.^_`|~".
    if (absl::ascii_isalnum(c) ||
        std::string("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string::npos) {
      encoded += static_cast<char>(c);
    } else {
      absl::StrAppendFormat(&encoded, "%%%02X", c);
    }
  }
  return absl::StrCat(disposition, "; filename=\"", ascii_fallback, "\"; filename*=UTF-8''",
                      encoded);
}

HttpResponse ReportDownload(Gateway* gateway, const HttpRequest& request,
                            const std::string& token) {
  const std::optional<v1::ReportType> type = views::ParseReportType(Query(request, "kind"));
  if (!type.has_value()) {
    return GatewayError(grpc::INVALID_ARGUMENT,
                        "报告类型须为 annual（年度）、midterm（中期）或 final（终期） / kind must "
                        "be annual, midterm or final");
  }
  int year = 0;
  if (const std::string y = Query(request, "year"); !y.empty() && !absl::SimpleAtoi(y, &year)) {
    return GatewayError(grpc::INVALID_ARGUMENT, "年份须为数字 / year must be a number");
  }
  std::string format = Query(request, "format");
  if (format.empty()) {
    format = "json";
  }
  if (format != "json" && format != "html" && format != "xlsx") {
    return GatewayError(grpc::INVALID_ARGUMENT,
                        "格式须为 json、html 或 xlsx / format must be json, html or xlsx");
  }
  v1::GetEvaluationReportRequest req;
  req.set_type(*type);
  req.set_year(year);
  req.set_area_code(Query(request, "area"));
  v1::EvaluationReport report;
  grpc::Status st =
      CallInto(gateway, "halfsky.v1.EvaluationService/GetEvaluationReport", req, token, &report);
  if (!st.ok()) {
    return HttpResponse::Json(HttpStatusForGrpc(st.error_code()), ErrorJson(st));
  }
  views::ReportContext context;
  v1::GetCatalogResponse catalog;
  if (CallInto(gateway, "halfsky.v1.CatalogService/GetCatalog", v1::GetCatalogRequest(), token,
               &catalog)
          .ok()) {
    views::FillReportContext(catalog.catalog(), report, &context);
  }
  v1::AnnualReport annual;
  if (*type == v1::REPORT_TYPE_ANNUAL) {
    v1::GetAnnualReportRequest areq;
    areq.set_year(report.year());
    areq.set_area_code(report.area_code());
    if (CallInto(gateway, "halfsky.v1.AggregationService/GetAnnualReport", areq, token, &annual)
            .ok()) {
      context.annual = &annual;
    }
  }
  const std::string area = context.area_name_zh.empty() ? report.area_code() : context.area_name_zh;
  const std::string base =
      *type == v1::REPORT_TYPE_ANNUAL
          ? absl::StrCat(area, report.year(), "年度监测评估报告")
          : absl::StrCat(area, views::ReportTitleZh(*type), "（", report.year(), "年）");
  const std::string ascii = absl::StrCat("halfsky-", KindToken(*type), "-", report.year());
  if (format == "html") {
    HttpResponse r;
    r.status = 200;
    r.content_type = "text/html; charset=utf-8";
    r.body = views::RenderReportHtml(report, context);
    const bool inline_ = Query(request, "disposition") == "inline";
    r.headers.push_back(
        {"Content-Disposition",
         ContentDisposition(inline_ ? "inline" : "attachment", base + ".html", ascii + ".html")});
    r.headers.push_back({"Cache-Control", "no-store"});
    return r;
  }
  const std::vector<views::CompendiumSheet> sheets = views::ReportCompendium(report, context);
  if (format == "xlsx") {
    absl::StatusOr<std::string> bytes =
        views::CompendiumXlsxBytes(sheets, sheets.empty() ? base : sheets.front().title);
    if (!bytes.ok()) {
      return GatewayError(grpc::INTERNAL, std::string(bytes.status().message()));
    }
    HttpResponse r;
    r.status = 200;
    r.content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    r.body = *std::move(bytes);
    r.headers.push_back(
        {"Content-Disposition",
         ContentDisposition("attachment", base + "统计资料.xlsx", ascii + ".xlsx")});
    r.headers.push_back({"Cache-Control", "no-store"});
    return r;
  }
  return HttpResponse::Json(
      200, absl::StrCat(R"({"title":)", JsonString(sheets.empty() ? base : sheets.front().title),
                        R"(,"kind":")", KindToken(*type), R"(","year":)", report.year(),
                        R"(,"areaCode":)", JsonString(report.area_code()), R"(,"fileName":)",
                        JsonString(base), R"(,"sheets":)", CompendiumJson(sheets), "}"));
}

}  // namespace halfsky::web
