#include "services/exchange/exchanger.h"

#include <algorithm>
#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/credentials.h"
#include "common/auth/token_store.h"
#include "common/status/status.h"
#include "google/protobuf/util/time_util.h"
#include "halfsky/v1/aggregation.grpc.pb.h"
#include "halfsky/v1/catalog.grpc.pb.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "halfsky/v1/exchange.grpc.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"

namespace halfsky::exchange {

absl::Status ValidateExchangerOptions(const ExchangerOptions& options) {
  for (const auto& [flag, d] :
       {std::pair{"--interval", options.interval}, std::pair{"--retry_min", options.retry_min},
        std::pair{"--call_timeout", options.call_timeout}}) {
    if (d <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, " 须为正数 / must be positive, not ", absl::FormatDuration(d)));
    }
  }
  if (options.retry_max < options.retry_min) {
    return absl::InvalidArgumentError(
        absl::StrCat("--retry_max 不得小于 --retry_min / must be at least --retry_min (",
                     absl::FormatDuration(options.retry_max), " < ",
                     absl::FormatDuration(options.retry_min), ")"));
  }
  if (options.from_year < 0 || options.to_year < 0) {
    return absl::InvalidArgumentError(
        "--from_year / --to_year 须为年份或0 / must be a year or 0 (the catalog's)");
  }
  if (options.from_year != 0 && options.to_year != 0 && options.from_year > options.to_year) {
    return absl::InvalidArgumentError(
        absl::StrCat("--from_year 不得晚于 --to_year / must not be after --to_year (",
                     options.from_year, " > ", options.to_year, ")"));
  }
  return absl::OkStatus();
}
namespace {

namespace v1 = ::halfsky::v1;
using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp ToProto(absl::Time t) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(t));
}

void Prepare(grpc::ClientContext* ctx, const std::string& token, absl::Duration timeout) {
  auth::AddBearerToken(ctx, token);
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

// Not reached, as opposed to refused by the upper instance's rules.
bool Transient(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded ||
         code == absl::StatusCode::kResourceExhausted || code == absl::StatusCode::kAborted ||
         code == absl::StatusCode::kCancelled || code == absl::StatusCode::kUnknown;
}

void SetFailure(v1::ExchangeRun* run, const absl::Status& status, absl::string_view what) {
  run->set_status_code(absl::StatusCodeToString(status.code()));
  run->set_reason(absl::StrCat(what, ": ", status.message()));
}

constexpr v1::Sex kSexes[] = {v1::SEX_TOTAL, v1::SEX_FEMALE, v1::SEX_MALE};
constexpr v1::Residence kResidences[] = {v1::RESIDENCE_ALL, v1::RESIDENCE_URBAN,
                                         v1::RESIDENCE_RURAL};

}  // namespace

Exchanger::Exchanger(std::shared_ptr<const CatalogIndex> catalog,
                     std::shared_ptr<grpc::Channel> lower_aggregation,
                     std::shared_ptr<grpc::Channel> upper_submission, ExchangeLog* log,
                     const Clock* clock, ExchangerOptions options)
    : catalog_(std::move(catalog)),
      lower_(std::move(lower_aggregation)),
      upper_(std::move(upper_submission)),
      log_(log),
      clock_(clock),
      options_(std::move(options)) {
  if (options_.metrics != nullptr) {
    MetricsRegistry& m = *options_.metrics;
    const char* kFigures = "halfsky_exchange_figures_total";
    const char* kFiguresHelp =
        "Figures the upper instance committed from this exchange, by action.";
    figures_written_ = m.GetCounter(kFigures, kFiguresHelp, {{"action", "write"}});
    figures_withdrawn_ = m.GetCounter(kFigures, kFiguresHelp, {{"action", "withdraw"}});
    const char* kBatches = "halfsky_exchange_batches_total";
    const char* kBatchesHelp = "Batches sent upward, by outcome.";
    batches_sent_ = m.GetCounter(kBatches, kBatchesHelp, {{"outcome", "sent"}});
    batches_refused_ = m.GetCounter(kBatches, kBatchesHelp, {{"outcome", "refused"}});
    batches_failed_ = m.GetCounter(kBatches, kBatchesHelp, {{"outcome", "failed"}});
    runs_failed_ = m.GetCounter("halfsky_exchange_runs_failed_total",
                                "Runs that could not compare the two sides (a side unreachable).");
    pending_gauge_ = m.GetGauge("halfsky_exchange_pending_batches",
                                "Batches refused or not delivered, waiting for a retry.");
    last_in_sync_gauge_ =
        m.GetGauge("halfsky_exchange_last_in_sync_timestamp_seconds",
                   "When a run last found the upper instance holding every eligible figure.");
  }
}

Exchanger::~Exchanger() { Stop(); }

absl::Status Exchanger::LoadRetrySchedule() {
  absl::StatusOr<std::vector<v1::ExchangeBatch>> unsent = log_->LatestUnsent();
  if (!unsent.ok()) {
    return unsent.status();
  }
  absl::MutexLock lock(&run_mu_);
  for (const v1::ExchangeBatch& b : *unsent) {
    retries_[b.request_id()] = Retry{b.attempt(), FromProto(b.next_attempt_at())};
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Catalog> Exchanger::UpperCatalog() {
  auto stub = v1::CatalogService::NewStub(upper_);
  grpc::ClientContext ctx;
  Prepare(&ctx, options_.upper_token, options_.call_timeout);
  v1::GetCatalogResponse response;
  grpc::Status st = stub->GetCatalog(&ctx, v1::GetCatalogRequest(), &response);
  if (!st.ok()) {
    return FromGrpcStatus(st);
  }
  return std::move(*response.mutable_catalog());
}

v1::ExchangeRun Exchanger::RunOnce(bool retry_refused) {
  absl::MutexLock run_lock(&run_mu_);
  v1::ExchangeRun run = RunLocked(retry_refused);
  if (run.status_code() == "OK" && report_year_ != 0 && options_.lower_evaluation != nullptr &&
      options_.upper_exchange != nullptr) {
    SendReport(report_year_);
  }
  std::vector<v1::ExchangeBatch> pending;
  {
    // The latest entry of each request id still scheduled, as logged.
    absl::StatusOr<std::vector<v1::ExchangeBatch>> unsent = log_->LatestUnsent();
    if (unsent.ok()) {
      for (v1::ExchangeBatch& b : *unsent) {
        if (retries_.contains(b.request_id())) {
          pending.push_back(std::move(b));
        }
      }
    }
  }
  if (runs_failed_ != nullptr && !run.status_code().empty() && run.status_code() != "OK") {
    runs_failed_->Increment();
  }
  if (pending_gauge_ != nullptr) {
    pending_gauge_->Set(static_cast<double>(pending.size()));
  }
  absl::MutexLock lock(&mu_);
  last_run_ = run;
  pending_ = std::move(pending);
  if (run.status_code() == "OK" && pending_.empty() && run.deferred_count() == 0) {
    bool all_sent = true;
    for (const v1::ExchangeBatch& b : run.batches()) {
      all_sent = all_sent && (b.outcome() == v1::EXCHANGE_OUTCOME_SENT ||
                              b.outcome() == v1::EXCHANGE_OUTCOME_REPLAYED);
    }
    if (all_sent) {
      last_in_sync_ = FromProto(run.finished_at());
      if (last_in_sync_gauge_ != nullptr) {
        last_in_sync_gauge_->Set(absl::ToDoubleSeconds(last_in_sync_ - absl::UnixEpoch()));
      }
    }
  }
  return run;
}

v1::ExchangeRun Exchanger::RunLocked(bool retry_refused) {
  v1::ExchangeRun run;
  *run.mutable_started_at() = ToProto(clock_->Now());
  auto finish = [&]() -> v1::ExchangeRun {
    *run.mutable_finished_at() = ToProto(clock_->Now());
    if (run.status_code().empty()) {
      run.set_status_code("OK");
    }
    return run;
  };
  const std::string area_code = catalog_->RootArea().code();
  absl::StatusOr<v1::Catalog> upper_catalog = UpperCatalog();
  if (!upper_catalog.ok()) {
    SetFailure(&run, upper_catalog.status(), "读取上级目录 / reading the upper catalog");
    return finish();
  }
  bool area_known = false;
  for (const v1::Area& area : upper_catalog->areas()) {
    area_known = area_known || area.code() == area_code;
  }
  if (!area_known) {
    SetFailure(
        &run,
        absl::FailedPreconditionError(absl::StrCat("上级目录没有本级区域 ", area_code,
                                                   " / the upper catalog has no area ", area_code)),
        "对照目录 / matching the catalogs");
    return finish();
  }
  const Mappings mappings = MapIndicators(catalog_->catalog(), *upper_catalog);
  const v1::Catalog& own = catalog_->catalog();
  const int from_year = options_.from_year != 0 ? options_.from_year : own.base_year();
  const int to_year = options_.to_year != 0 ? options_.to_year : own.final_year();
  const std::string& area_name = catalog_->RootArea().name_zh();
  const std::string source = absl::StrCat(area_name, "汇总数据（经 halfsky-exchange 上报）");
  const std::string note = options_.approval == ApprovalRule::kApproved
                               ? absl::StrCat(area_name, "已审核数据")
                               : absl::StrCat(area_name, "未启用审核：完整数据按原样上报");

  // The lower figures.
  LowerFigures lower;
  auto agg = v1::AggregationService::NewStub(lower_);
  for (const IndicatorMapping& mapping : mappings.indicators) {
    for (v1::Sex sex : kSexes) {
      for (v1::Residence residence : kResidences) {
        if (!Takes(mapping, sex, residence)) {
          continue;
        }
        v1::GetSeriesRequest request;
        request.set_indicator_id(mapping.lower_id);
        request.set_area_code(area_code);
        request.set_sex(sex);
        request.set_residence(residence);
        request.set_from_year(from_year);
        request.set_to_year(to_year);
        grpc::ClientContext ctx;
        Prepare(&ctx, options_.lower_token, options_.call_timeout);
        v1::GetSeriesResponse series;
        grpc::Status st = agg->GetSeries(&ctx, request, &series);
        // NOT_FOUND (an indicator or area the lower aggregation does not
        // know: the exchange's --catalog is not the instance's) fails the
        // run like any error: reading it as "no figures" would withdraw
        // every upper value of the indicator.
        if (!st.ok()) {
          SetFailure(&run, FromGrpcStatus(st), "读取本级汇总 / reading the lower aggregates");
          return finish();
        }
        AddSeries(mapping, area_code, series, options_.approval, source, note, &lower);
      }
    }
  }
  run.set_eligible_count(static_cast<int>(lower.eligible.size()));
  report_year_ = 0;
  for (const auto& [cell, figure] : lower.eligible) {
    report_year_ = std::max(report_year_, std::get<1>(cell));
  }
  run.set_held_unapproved_count(static_cast<int>(lower.held.size()));

  // What the upper instance holds for the area.
  std::vector<v1::Revision> upper_current;
  if (!mappings.indicators.empty()) {
    auto sub = v1::SubmissionService::NewStub(upper_);
    v1::ListDataValuesRequest request;
    request.add_area_codes(area_code);
    for (const IndicatorMapping& m : mappings.indicators) {
      request.add_indicator_ids(m.upper_id);
    }
    request.set_page_size(10000);
    while (true) {
      grpc::ClientContext ctx;
      Prepare(&ctx, options_.upper_token, options_.call_timeout);
      v1::ListDataValuesResponse page;
      grpc::Status st = sub->ListDataValues(&ctx, request, &page);
      if (!st.ok()) {
        SetFailure(&run, FromGrpcStatus(st), "读取上级已有数据 / reading the upper values");
        return finish();
      }
      for (v1::Revision& rev : *page.mutable_data_values()) {
        // Only the years this exchange sends are its to reconcile: a city
        // value of another year (before --from_year, after --to_year) has
        // no lower figure read, and must not be withdrawn for that.
        const int year = rev.data_value().key().year();
        if (year < from_year || year > to_year) {
          continue;
        }
        upper_current.push_back(std::move(rev));
      }
      if (page.next_page_token().empty()) {
        break;
      }
      request.set_page_token(page.next_page_token());
    }
  }

  const Plan plan = PlanBatches(area_code, lower, upper_current, mappings.indicators);
  run.set_in_sync_count(plan.in_sync_count);
  absl::flat_hash_map<std::string, Retry> still;
  for (PlannedBatch batch : plan.batches) {
    // The planned id is a function of the content and of the upper
    // revisions it replaces. A key the upper instance withdrew is not
    // listed (revision 0 in the id), so restoring a figure it once held
    // would plan the id of the first batch again, and the upper instance
    // would only replay that batch's stored reply. A batch planned again
    // after its id was committed means the upper side changed since:
    // salt the id with the number of such commits (deterministic given the
    // log, so a batch lost in a crash is still resent with its own id).
    absl::StatusOr<int64_t> committed = log_->CountCommitted(batch.request_id);
    if (!committed.ok()) {
      SetFailure(&run, committed.status(), "读取报送日志 / reading the exchange log");
      return finish();
    }
    if (*committed > 0) {
      absl::StrAppend(&batch.request_id, "-", *committed);
    }
    auto it = retries_.find(batch.request_id);
    const Retry retry = it == retries_.end() ? Retry{} : it->second;
    if (!retry_refused && clock_->Now() < retry.next) {
      run.set_deferred_count(run.deferred_count() + 1);
      still[batch.request_id] = retry;
      continue;
    }
    v1::ExchangeBatch sent = Send(batch, retry.attempt + 1);
    if (sent.outcome() == v1::EXCHANGE_OUTCOME_REFUSED ||
        sent.outcome() == v1::EXCHANGE_OUTCOME_FAILED) {
      const int64_t factor = int64_t{1} << std::min(retry.attempt, 20);
      const absl::Duration delay = std::min(options_.retry_min * factor, options_.retry_max);
      const absl::Time next = clock_->Now() + delay;
      *sent.mutable_next_attempt_at() = ToProto(next);
      still[batch.request_id] = Retry{retry.attempt + 1, next};
    }
    if (absl::StatusOr<int64_t> id = log_->Append(sent); id.ok()) {
      sent.set_id(*id);
    } else {
      std::cerr << "halfsky-exchange: cannot log a batch: " << id.status() << "\n";
    }
    *run.add_batches() = std::move(sent);
  }
  // A batch not planned any more (data changed, or now equal) is dropped
  // from the schedule: its successor has another id.
  retries_ = std::move(still);
  if (!mappings.skipped.empty() && run.reason().empty()) {
    run.set_reason(
        absl::StrCat("未上报的指标 / not sent: ", absl::StrJoin(mappings.skipped, "；")));
  }
  return finish();
}

v1::ExchangeBatch Exchanger::Send(const PlannedBatch& batch, int attempt) {
  v1::ExchangeBatch out;
  *out.mutable_at() = ToProto(clock_->Now());
  out.set_year(batch.year);
  out.set_action(batch.withdraw ? v1::EXCHANGE_ACTION_WITHDRAW : v1::EXCHANGE_ACTION_WRITE);
  out.set_request_id(batch.request_id);
  out.set_attempt(attempt);
  for (const Figure& f : batch.figures) {
    v1::ExchangeItem* item = out.add_items();
    *item->mutable_key() = f.value.key();
    item->set_source_indicator_id(f.source_indicator_id);
    if (!batch.withdraw) {
      item->set_value_text(ValueText(f.value));
    }
  }
  auto stub = v1::SubmissionService::NewStub(upper_);
  grpc::ClientContext ctx;
  Prepare(&ctx, options_.upper_token, options_.call_timeout);
  grpc::Status st;
  if (batch.withdraw) {
    v1::WithdrawValuesRequest request;
    request.set_request_id(batch.request_id);
    request.set_reason(absl::StrCat(catalog_->RootArea().name_zh(),
                                    "已撤回该数值或不再有完整数值（halfsky-exchange）"));
    for (const Figure& f : batch.figures) {
      *request.add_keys() = f.value.key();
    }
    v1::WithdrawValuesResponse response;
    st = stub->WithdrawValues(&ctx, request, &response);
    if (st.ok()) {
      out.set_withdrawn_count(response.withdrawn_count());
      out.set_unchanged_count(response.unchanged_count());
      out.set_outcome(response.replayed() ? v1::EXCHANGE_OUTCOME_REPLAYED
                                          : v1::EXCHANGE_OUTCOME_SENT);
      if (figures_withdrawn_ != nullptr && !response.replayed()) {
        figures_withdrawn_->Increment(response.withdrawn_count());
      }
    }
  } else {
    v1::SubmitBatchRequest request;
    request.set_request_id(batch.request_id);
    for (const Figure& f : batch.figures) {
      *request.add_data_values() = f.value;
    }
    v1::SubmitBatchResponse response;
    st = stub->SubmitBatch(&ctx, request, &response);
    if (st.ok()) {
      out.set_created_count(response.created_count());
      out.set_revised_count(response.revised_count());
      out.set_unchanged_count(response.unchanged_count());
      out.set_outcome(response.replayed() ? v1::EXCHANGE_OUTCOME_REPLAYED
                                          : v1::EXCHANGE_OUTCOME_SENT);
      if (figures_written_ != nullptr && !response.replayed()) {
        figures_written_->Increment(response.created_count() + response.revised_count());
      }
    }
  }
  if (st.ok()) {
    if (batches_sent_ != nullptr) {
      batches_sent_->Increment();
    }
    return out;
  }
  const absl::Status status = FromGrpcStatus(st);
  out.set_status_code(absl::StatusCodeToString(status.code()));
  std::string reason(status.message());
  for (const FieldViolation& v : BadRequestViolations(status)) {
    // The field names the batch's row (data_values[i] / keys[i]).
    absl::StrAppend(&reason, "；", v.field, "：", v.description);
  }
  out.set_reason(std::move(reason));
  if (Transient(status.code())) {
    out.set_outcome(v1::EXCHANGE_OUTCOME_FAILED);
    if (batches_failed_ != nullptr) {
      batches_failed_->Increment();
    }
  } else {
    out.set_outcome(v1::EXCHANGE_OUTCOME_REFUSED);
    if (batches_refused_ != nullptr) {
      batches_refused_->Increment();
    }
  }
  std::cerr << "halfsky-exchange: batch " << batch.request_id << " "
            << (out.outcome() == v1::EXCHANGE_OUTCOME_REFUSED ? "refused" : "not delivered") << ": "
            << out.status_code() << ": " << out.reason() << "\n";
  return out;
}

void Exchanger::SendReport(int year) {
  auto eval = v1::EvaluationService::NewStub(options_.lower_evaluation);
  v1::GetEvaluationReportRequest request;
  request.set_type(v1::REPORT_TYPE_ANNUAL);
  request.set_year(year);
  request.set_area_code(catalog_->RootArea().code());
  v1::SubmitAreaReportRequest submit;
  grpc::Status st;
  {
    grpc::ClientContext ctx;
    Prepare(&ctx, options_.lower_token, options_.call_timeout);
    st = eval->GetEvaluationReport(&ctx, request, submit.mutable_report());
  }
  std::string fingerprint;
  if (st.ok()) {
    v1::EvaluationReport stable = submit.report();
    stable.clear_generated_at();
    fingerprint = auth::HashToken(stable.SerializeAsString());
    if (fingerprint == report_sent_) {
      return;
    }
    auto upper = v1::ExchangeService::NewStub(options_.upper_exchange);
    grpc::ClientContext ctx;
    Prepare(&ctx, options_.upper_token, options_.call_timeout);
    v1::AreaReportReceipt receipt;
    st = upper->SubmitAreaReport(&ctx, submit, &receipt);
  }
  absl::MutexLock lock(&mu_);
  if (st.ok()) {
    report_sent_ = fingerprint;
    report_sent_at_ = clock_->Now();
    report_sent_year_ = year;
    report_error_.clear();
  } else {
    report_error_ =
        absl::StrCat(absl::StatusCodeToString(FromGrpcStatus(st).code()), ": ", st.error_message());
    std::cerr << "halfsky-exchange: report " << year << " not sent: " << report_error_ << "\n";
  }
}

void Exchanger::Start() {
  absl::MutexLock lock(&mu_);
  if (loop_.joinable()) {
    return;
  }
  stop_ = false;
  loop_ = std::thread([this] { Loop(); });
}

void Exchanger::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (loop_.joinable()) {
    loop_.join();
  }
}

void Exchanger::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) {
        return;
      }
    }
    const v1::ExchangeRun run = RunOnce(false);
    if (run.status_code() != "OK") {
      std::cerr << "halfsky-exchange: run: " << run.status_code() << ": " << run.reason() << "\n";
    }
    absl::MutexLock lock(&mu_);
    auto stopped = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_; };
    mu_.AwaitWithTimeout(absl::Condition(&stopped), options_.interval);
  }
}

v1::ExchangeStatus Exchanger::Status() const {
  v1::ExchangeStatus status;
  status.set_area_code(catalog_->RootArea().code());
  status.set_upper_address(options_.upper_address);
  status.set_approval_rule(ApprovalRuleName(options_.approval));
  absl::MutexLock lock(&mu_);
  *status.mutable_last_run() = last_run_;
  for (const v1::ExchangeBatch& b : pending_) {
    *status.add_pending() = b;
  }
  if (last_in_sync_ != absl::InfinitePast()) {
    *status.mutable_last_in_sync_at() = ToProto(last_in_sync_);
  }
  if (report_sent_at_ != absl::InfinitePast()) {
    *status.mutable_report_sent_at() = ToProto(report_sent_at_);
    status.set_report_year(report_sent_year_);
  }
  status.set_report_error(report_error_);
  return status;
}

}  // namespace halfsky::exchange
