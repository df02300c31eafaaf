#ifndef HALFSKY_SERVICES_WEB_REPORTS_H_
#define HALFSKY_SERVICES_WEB_REPORTS_H_

// The assessment group's reports in the browser (/report):
//
//   GET /api/report?kind=annual|midterm|final[&year=Y][&area=CODE][&format=F]
//
// EvaluationService.GetEvaluationReport (the caller's token; its error is
// the answer, gateway.h), with the catalog's names (CatalogService.GetCatalog,
// views::FillReportContext) and, for an annual report, the year's
// monitoring figures (AggregationService.GetAnnualReport; left out when it
// fails, as `halfskyctl report` does). Rendered by the same code as
// `halfskyctl report` (common/views/report_render.h, xlsx_tables.h):
//   format=json (default)  the statistical compendium (views::ReportCompendium)
//        as JSON, what the page shows: {"title":…,"kind":"annual","year":2024,
//        "areaCode":…,"fileName":…,"sheets":[{"name":…,"title":…,"notes":[…],
//        "tables":[{"caption":…,"header":[…],"rows":[[{"text":…}|{"number":…}|{}…]]}]}]}
//   format=html   the self-contained HTML report (text/html), as a download
//        (Content-Disposition: attachment) or, with disposition=inline, to
//        open in the browser;
//   format=xlsx   the compendium workbook (the .xlsx media type), a download.
// Downloads are named in Chinese through RFC 5987's filename* (UTF-8,
// percent-encoded) with an ASCII filename= beside it for old clients:
// "<区域><年>年度监测评估报告.html", "<区域>中期评估报告（2025年）统计资料.xlsx".
// A bad kind, year or format: 400.
//
// Thread-safe.

#include <string>

#include "services/web/gateway.h"
#include "services/web/http_server.h"

namespace halfsky::web {

HttpResponse ReportDownload(Gateway* gateway, const HttpRequest& request, const std::string& token);

// `Content-Disposition` for `utf8_name` (RFC 6266 / RFC 5987):
// `attachment; filename="<ascii_fallback>"; filename*=UTF-8''<pct-encoded>`.
std::string ContentDisposition(const std::string& disposition, const std::string& utf8_name,
                               const std::string& ascii_fallback);

}  // namespace halfsky::web

#endif  // HALFSKY_SERVICES_WEB_REPORTS_H_
