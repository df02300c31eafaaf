#include "services/halfskyctl/exchange/exchange_cmd.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/labels/labels.h"
#include "common/views/labels.h"
#include "halfsky/v1/exchange.grpc.pb.h"
#include "services/halfskyctl/cli.h"
#include "services/halfskyctl/client.h"

namespace halfsky {
namespace {

namespace v1 = ::halfsky::v1;

constexpr char kUsage[] =
    "用法 usage: halfskyctl exchange status|log|sync [flags]\n"
    "  向上级报送（halfsky-exchange）：本级区域的数据报送到上级实例的情况。\n"
    "  reporting upward: this instance's area figures sent to the upper instance.\n"
    "  status              最近一次对账、被拒绝或未送达的批次 / last run, refused or undelivered\n"
    "                      batches; exit 1 while any is pending\n"
    "  log [--limit N]     报送日志（最新在前）：何时、哪些数据、上级的答复 / the log, newest\n"
    "                      first: when, which figures, what the upper instance answered\n"
    "  sync [--retry_refused]  立即对账一次（statistics/admin）/ run a reconciliation now\n"
    "  默认地址 default server: $HALFSKY_EXCHANGE, else 127.0.0.1:7305\n";

void PrintBatch(const v1::ExchangeBatch& b, std::ostream& out) {
  out << views::FormatTime(b.at()) << " (UTC+8)  " << b.year() << "年  "
      << labels::LabelZh(b.action()) << "  " << labels::LabelZh(b.outcome()) << "  "
      << b.items_size() << "项 figures  第" << b.attempt() << "次 attempt  " << b.request_id()
      << "\n";
  if (b.outcome() == v1::EXCHANGE_OUTCOME_SENT || b.outcome() == v1::EXCHANGE_OUTCOME_REPLAYED) {
    out << "  上级答复 upper: 新增 created " << b.created_count() << "，修订 revised "
        << b.revised_count() << "，未变 unchanged " << b.unchanged_count() << "，撤回 withdrawn "
        << b.withdrawn_count() << "\n";
  } else {
    out << "  原因 reason: " << b.status_code() << ": " << b.reason() << "\n";
    if (b.has_next_attempt_at()) {
      out << "  下次重试 next attempt: " << views::FormatTime(b.next_attempt_at()) << " (UTC+8)\n";
    }
  }
  for (const v1::ExchangeItem& item : b.items()) {
    const v1::DataKey& k = item.key();
    out << "  " << k.indicator_id() << " ← " << item.source_indicator_id() << "  " << k.area_code()
        << "  " << labels::LabelZh(k.sex()) << "/" << labels::LabelZh(k.residence()) << "  "
        << (item.value_text().empty() ? "（撤回 withdrawn）" : item.value_text()) << "\n";
  }
}

}  // namespace

int RunExchangeCommand(const std::vector<std::string>& raw, std::ostream& out, std::ostream& err) {
  if (raw.empty() || cli::WantsHelp(raw)) {
    (raw.empty() ? err : out) << kUsage << ClientFlagsHelp() << cli::ExitCodesHelp();
    return raw.empty() ? cli::kExitUsage : cli::kExitOk;
  }
  const std::string verb = raw.front();
  const std::vector<std::string> rest(raw.begin() + 1, raw.end());
  ClientOptions options;
  auto args = ParseWithClientFlags(rest, Target::kExchange, {"limit"}, {"retry_refused"}, &options);
  if (!args.ok() || !args->positional().empty() ||
      (verb != "status" && verb != "log" && verb != "sync")) {
    err << "halfskyctl exchange: "
        << (args.ok() ? "用 status、log 或 sync / use status, log or sync"
                      : std::string(args.status().message()))
        << "\n"
        << kUsage;
    return cli::kExitUsage;
  }
  auto stub = v1::ExchangeService::NewStub(Dial(options));
  if (verb == "status") {
    v1::ExchangeStatus status;
    grpc::Status st = CallWithRetries(
        options, Idempotency::kIdempotent,
        [&](grpc::ClientContext* ctx) {
          return stub->GetExchangeStatus(ctx, v1::GetExchangeStatusRequest(), &status);
        },
        err);
    if (!st.ok()) {
      err << "halfskyctl exchange: " << DescribeRpcError(st) << "\n";
      return cli::ExitCodeFor(st);
    }
    const v1::ExchangeRun& run = status.last_run();
    out << "本级区域 area: " << status.area_code() << "  上级 upper: " << status.upper_address()
        << "  审核规则 approval: " << status.approval_rule() << "\n";
    out << "最近对账 last run: " << views::FormatTime(run.finished_at()) << " (UTC+8)  "
        << run.status_code() << (run.reason().empty() ? "" : absl::StrCat(": ", run.reason()))
        << "\n";
    out << "  可报送 eligible " << run.eligible_count() << "，已一致 in sync "
        << run.in_sync_count() << "，未审核暂缓 held (unapproved) " << run.held_unapproved_count()
        << "，本次发送批次 batches " << run.batches_size() << "，等待重试 deferred "
        << run.deferred_count() << "\n";
    out << "最近完全一致 last in sync: "
        << (status.has_last_in_sync_at()
                ? absl::StrCat(views::FormatTime(status.last_in_sync_at()), " (UTC+8)")
                : "从未 never")
        << "\n";
    if (status.pending().empty()) {
      out << "没有被拒绝或未送达的批次 / nothing refused or undelivered\n";
      return run.status_code() == "OK" ? cli::kExitOk : cli::kExitProblems;
    }
    out << "被拒绝或未送达 refused or undelivered (" << status.pending_size() << "):\n";
    for (const v1::ExchangeBatch& b : status.pending()) {
      PrintBatch(b, out);
    }
    return cli::kExitProblems;
  }
  if (verb == "log") {
    v1::ListExchangeLogRequest request;
    int limit = 20;
    if (std::optional<std::string> v = args->Get("limit");
        v && (!absl::SimpleAtoi(*v, &limit) || limit < 1 || limit > 1000)) {
      err << "halfskyctl exchange: --limit 须为1到1000 / --limit must be 1 to 1000\n";
      return cli::kExitUsage;
    }
    request.set_page_size(limit);
    v1::ListExchangeLogResponse response;
    grpc::Status st = CallWithRetries(
        options, Idempotency::kIdempotent,
        [&](grpc::ClientContext* ctx) { return stub->ListExchangeLog(ctx, request, &response); },
        err);
    if (!st.ok()) {
      err << "halfskyctl exchange: " << DescribeRpcError(st) << "\n";
      return cli::ExitCodeFor(st);
    }
    if (response.batches().empty()) {
      out << "尚未报送任何批次 / nothing sent yet\n";
    }
    for (const v1::ExchangeBatch& b : response.batches()) {
      PrintBatch(b, out);
    }
    return cli::kExitOk;
  }
  v1::SyncNowRequest request;
  request.set_retry_refused(args->Has("retry_refused"));
  v1::ExchangeRun run;
  grpc::Status st = CallWithRetries(
      options, Idempotency::kIdempotent,
      [&](grpc::ClientContext* ctx) { return stub->SyncNow(ctx, request, &run); }, err);
  if (!st.ok()) {
    err << "halfskyctl exchange: " << DescribeRpcError(st) << "\n";
    return cli::ExitCodeFor(st);
  }
  out << "对账 run: " << run.status_code()
      << (run.reason().empty() ? "" : absl::StrCat(": ", run.reason())) << "\n";
  bool refused = false;
  for (const v1::ExchangeBatch& b : run.batches()) {
    PrintBatch(b, out);
    refused = refused || (b.outcome() != v1::EXCHANGE_OUTCOME_SENT &&
                          b.outcome() != v1::EXCHANGE_OUTCOME_REPLAYED);
  }
  if (run.batches().empty()) {
    out << "无差异，未发送 / no differences, nothing sent\n";
  }
  return run.status_code() == "OK" && !refused ? cli::kExitOk : cli::kExitProblems;
}

}  // namespace halfsky
