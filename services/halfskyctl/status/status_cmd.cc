#include "services/halfskyctl/status/status_cmd.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/views/review_view.h"
#include "common/views/status_view.h"
#include "common/views/table.h"
#include "halfsky/v1/review.grpc.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "services/halfskyctl/cli.h"
#include "services/halfskyctl/client.h"

namespace halfsky {

namespace {

constexpr char kUsage[] =
    "用法 usage: halfskyctl status --year YEAR [--unit CODE[,CODE…]] [--board]\n"
    "                         [--format table|csv]\n"
    "  报送审核看板（每个单位：应报、已报、报表状态 填报中/已报送/已退回/已审核、截止日期、\n"
    "  逾期），然后各成员单位数据报送率与按时报送率，及未报/迟报明细\n"
    "  the reporting board (per unit: items owed, reported, the form's review state, the\n"
    "  deadline, overdue), then completeness and timeliness per member unit and every\n"
    "  missing or late figure. --board: the board only (csv: the details only)\n"
    "  (exit 1 when something is missing or late, or a unit is overdue)\n";

}  // namespace

int RunStatusCommand(const std::vector<std::string>& raw, std::ostream& out, std::ostream& err) {
  if (cli::WantsHelp(raw)) {
    out << kUsage << ClientFlagsHelp() << cli::ExitCodesHelp();
    return cli::kExitOk;
  }
  ClientOptions options;
  auto args = ParseWithClientFlags(raw, Target::kSubmission, {"year", "unit", "format"},
                                   {"color", "no-color", "board"}, &options);
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
  const bool colour = args->Has("no-color") ? false
                      : args->Has("color")  ? true
                                            : views::UseColour(out);
  if (args->Has("board") && format == "table") {
    // The board alone (ReviewService.GetReviewBoard).
    auto review = v1::ReviewService::NewStub(Dial(options));
    grpc::ClientContext ctx;
    PrepareContext(options, &ctx);
    v1::GetReviewBoardRequest board_request;
    board_request.set_year(year);
    *board_request.mutable_unit_codes() = request.unit_codes();
    v1::GetReviewBoardResponse board;
    grpc::Status st = review->GetReviewBoard(&ctx, board_request, &board);
    if (!st.ok()) {
      err << "halfskyctl status: " << DescribeRpcError(st) << "\n";
      return cli::ExitCodeFor(st);
    }
    out << views::RenderReviewBoard(board, NamesOrNone(options), colour);
    for (const auto& row : board.rows()) {
      if (row.overdue()) {
        return cli::kExitProblems;
      }
    }
    return cli::kExitOk;
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
    return views::HasReportingProblems(response) ? cli::kExitProblems : cli::kExitOk;
  }
  // The board first, when the server has the review workflow.
  bool overdue = false;
  {
    auto review = v1::ReviewService::NewStub(Dial(options));
    grpc::ClientContext board_ctx;
    PrepareContext(options, &board_ctx);
    v1::GetReviewBoardRequest board_request;
    board_request.set_year(year);
    *board_request.mutable_unit_codes() = request.unit_codes();
    v1::GetReviewBoardResponse board;
    grpc::Status board_st = review->GetReviewBoard(&board_ctx, board_request, &board);
    if (board_st.ok()) {
      views::Names board_names = views::NamesFromCatalog(catalog);
      out << views::RenderReviewBoard(board, board_names, colour) << "\n";
      for (const auto& row : board.rows()) {
        overdue = overdue || row.overdue();
      }
    } else if (board_st.error_code() != grpc::StatusCode::UNIMPLEMENTED) {
      err << "halfskyctl status: 看板 / board: " << DescribeRpcError(board_st) << "\n";
    }
  }
  out << views::RenderReportingStatus(response, year, names, colour);
  return views::HasReportingProblems(response) || overdue ? cli::kExitProblems : cli::kExitOk;
}

}  // namespace halfsky
