#ifndef HALFSKY_SERVICES_EXCHANGE_EXCHANGER_H_
#define HALFSKY_SERVICES_EXCHANGE_EXCHANGER_H_

// Reporting upward (issue #17): one lower instance (this catalog's root
// area, e.g. a district) sends its area's figures to the upper instance's
// SubmissionService (e.g. its city's) as that area's submission.
//
// Each run reconciles by difference (reconcile.h): it reads the lower
// figures (AggregationService.GetSeries of the root area, every mapped
// indicator and (sex, residence) cell), the upper catalog
// (CatalogService.GetCatalog: the mapping by statistic_code) and what the
// upper instance holds for the area (ListDataValues), then sends only the
// differences, one SubmitBatch / WithdrawValues per year and action, with
// deterministic request ids. Nothing is remembered between runs but the
// retry schedule: a crash of either side, a partition, a restart — the next
// run compares again, and a batch that was committed before the crash is
// either already equal (not sent) or replayed by its request id (nothing
// written twice).
//
// Outcomes: OK → SENT / REPLAYED. UNAVAILABLE, DEADLINE_EXCEEDED,
// RESOURCE_EXHAUSTED, ABORTED, CANCELLED → FAILED (not reached). Any other
// code (a lock: FAILED_PRECONDITION; the upper rules: INVALID_ARGUMENT;
// PERMISSION_DENIED; ALREADY_EXISTS) → REFUSED with the upper instance's
// message. A FAILED or REFUSED batch is tried again no sooner than
// retry_min × 2^(attempt−1), at most retry_max, later (never a hot loop);
// changed data makes another batch (another id), sent at once.
//
// Thread-safe: runs are serialized (the background loop and SyncNow).

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/catalog/catalog.h"
#include "common/clock/clock.h"
#include "common/metrics/metrics.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/exchange.pb.h"
#include "services/exchange/exchange_log.h"
#include "services/exchange/reconcile.h"

namespace halfsky::exchange {

struct ExchangerOptions {
  // Bearer tokens: for the lower AggregationService (a service role) and
  // for the upper SubmissionService (the upper instance's area:<code>).
  std::string lower_token;
  std::string upper_token;
  // Shown in the status.
  std::string upper_address;
  ApprovalRule approval = ApprovalRule::kApproved;
  // Time between runs of the background loop.
  absl::Duration interval = absl::Seconds(60);
  absl::Duration retry_min = absl::Seconds(30);
  absl::Duration retry_max = absl::Hours(1);
  // Deadline of each call to either side.
  absl::Duration call_timeout = absl::Seconds(30);
  // Years sent (inclusive); 0 = the catalog's base / final year.
  int from_year = 0;
  int to_year = 0;
  // Metrics registry (not owned; may be null).
  MetricsRegistry* metrics = nullptr;
  // The evaluation report travels with the figures when both are set: after
  // each run that compared both sides, the lower EvaluationService's ANNUAL
  // report of the root area for the latest year with a figure sent up goes
  // to the upper ExchangeService.SubmitAreaReport (when it changed).
  std::shared_ptr<grpc::Channel> lower_evaluation;
  std::shared_ptr<grpc::Channel> upper_exchange;
};

// INVALID_ARGUMENT, naming the flag, when `options` would make the loop spin
// or never retry: interval, retry_min and call_timeout must be positive,
// retry_max at least retry_min, the years 0 or positive and from_year at
// most to_year when both are set.
absl::Status ValidateExchangerOptions(const ExchangerOptions& options);

class Exchanger {
 public:
  // `catalog`: this (lower) instance's. `log` and `clock` must outlive it.
  Exchanger(std::shared_ptr<const CatalogIndex> catalog,
            std::shared_ptr<grpc::Channel> lower_aggregation,
            std::shared_ptr<grpc::Channel> upper_submission, ExchangeLog* log, const Clock* clock,
            ExchangerOptions options);
  ~Exchanger();

  // Reads the retry schedule of unsent batches from the log (call once
  // before Start). Errors: the log's.
  absl::Status LoadRetrySchedule();

  // One reconciliation (see above); `retry_refused` sends refused batches
  // before their retry time. Never fails: the run says what happened.
  halfsky::v1::ExchangeRun RunOnce(bool retry_refused);

  // Starts / stops the background loop (a run at once, then every
  // interval). Stop waits for a run in progress.
  void Start();
  void Stop();

  halfsky::v1::ExchangeStatus Status() const;
  ExchangeLog* log() const { return log_; }

 private:
  struct Retry {
    int attempt = 0;
    absl::Time next = absl::InfinitePast();
  };
  halfsky::v1::ExchangeRun RunLocked(bool retry_refused) ABSL_EXCLUSIVE_LOCKS_REQUIRED(run_mu_);
  absl::StatusOr<halfsky::v1::Catalog> UpperCatalog();
  halfsky::v1::ExchangeBatch Send(const PlannedBatch& batch, int attempt);
  // Sends the report of `year` when it changed; records the outcome.
  void SendReport(int year) ABSL_EXCLUSIVE_LOCKS_REQUIRED(run_mu_);
  void Loop();

  std::shared_ptr<const CatalogIndex> catalog_;
  std::shared_ptr<grpc::Channel> lower_;
  std::shared_ptr<grpc::Channel> upper_;
  ExchangeLog* log_;
  const Clock* clock_;
  const ExchangerOptions options_;

  absl::Mutex run_mu_;
  // Retry schedule by request id.
  absl::flat_hash_map<std::string, Retry> retries_ ABSL_GUARDED_BY(run_mu_);
  // Latest year with an eligible figure in the last run (0: none).
  int report_year_ ABSL_GUARDED_BY(run_mu_) = 0;
  // Fingerprint of the report the upper instance last acknowledged.
  std::string report_sent_ ABSL_GUARDED_BY(run_mu_);

  mutable absl::Mutex mu_;
  halfsky::v1::ExchangeRun last_run_ ABSL_GUARDED_BY(mu_);
  std::vector<halfsky::v1::ExchangeBatch> pending_ ABSL_GUARDED_BY(mu_);
  absl::Time last_in_sync_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time report_sent_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int report_sent_year_ ABSL_GUARDED_BY(mu_) = 0;
  std::string report_error_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread loop_;

  Counter* figures_written_ = nullptr;
  Counter* figures_withdrawn_ = nullptr;
  Counter* batches_sent_ = nullptr;
  Counter* batches_refused_ = nullptr;
  Counter* batches_failed_ = nullptr;
  Counter* runs_failed_ = nullptr;
  Gauge* pending_gauge_ = nullptr;
  Gauge* last_in_sync_gauge_ = nullptr;
};

}  // namespace halfsky::exchange

#endif  // HALFSKY_SERVICES_EXCHANGE_EXCHANGER_H_
