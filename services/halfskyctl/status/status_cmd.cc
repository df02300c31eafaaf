#include "services/halfskyctl/status/status_cmd.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "services/halfskyctl/cli.h"
#include "services/halfskyctl/client.h"
#include "services/halfskyctl/views/status_view.h"
#include "services/halfskyctl/views/table.h"

namespace halfsky {

namespace {

constexpr char kUsage[] =
    "用法 usage: halfskyctl status --year YEAR [--unit CODE[,CODE…]] [--format table|csv]\n"
    "  各成员单位数据报送率与按时报送率，及未报/迟报明细\n"
    "  completeness and timeliness per member unit, then every missing or late figure\n"
    "  (exit 1 when something is missing or late)\n";

}  // namespace

int RunStatusCommand(const std::vector<std::string>& raw, std::ostream& out, std::ostream& err) {
  if (cli::WantsHelp(raw)) {
    out << kUsage << ClientFlagsHelp() << cli::ExitCodesHelp();
    return cli::kExitOk;
  }
  ClientOptions options;
  auto args = ParseWithClientFlags(raw, Target::kSubmission, {"year", "unit", "format"},
                                   {"color", "no-color"}, &options);
  int year = 0;
  if (!args.ok() || !args->positional().empty() ||
      !absl::SimpleAtoi(args->GetOr("year", ""), &year)) {
    err << "halfskyctl status: "
        << (args.ok() ? "需要 --year / needs --year YEAR" : std::string(args.status().message()))
        << "\n"
        << kUsage;
    return cli::kExitUsage;
  }
  const std::string format = args->GetOr("format", "table");
  if (format != "table" && format != "csv") {
    err << "halfskyctl status: --format 须为 table|csv\n";
    return cli::kExitUsage;
  }
  v1::GetReportingStatusRequest request;
  request.set_year(year);
  if (auto units = args->Get("unit")) {
    for (absl::string_view u : absl::StrSplit(*units, ',', absl::SkipEmpty())) {
      request.add_unit_codes(std::string(u));
    }
  }
  auto stub = v1::SubmissionService::NewStub(Dial(options));
  v1::GetReportingStatusResponse response;
  grpc::Status st = CallWithRetries(
      options, Idempotency::kIdempotent,
      [&](grpc::ClientContext* ctx) { return stub->GetReportingStatus(ctx, request, &response); },
      err);
  if (!st.ok()) {
    err << "halfskyctl status: " << DescribeRpcError(st) << "\n";
    return cli::ExitCodeFor(st);
  }
  views::StatusNames names;
  v1::Catalog catalog;
  if (FetchCatalog(options, &catalog).ok()) {
    for (const auto& u : catalog.member_units()) {
      names.units[u.code()] = u.name_zh();
    }
    for (const auto& i : catalog.indicators()) {
      names.indicators[i.id()] = i.name_zh();
    }
  }
  if (format == "csv") {
    out << views::RenderReportingStatusCsv(response, names);
  } else {
    const bool colour = args->Has("no-color") ? false
                        : args->Has("color")  ? true
                                              : views::UseColour(out);
    out << views::RenderReportingStatus(response, year, names, colour);
  }
  return views::HasReportingProblems(response) ? cli::kExitProblems : cli::kExitOk;
}

}  // namespace halfsky
