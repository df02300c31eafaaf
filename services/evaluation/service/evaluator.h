#ifndef HALFSKY_SERVICES_EVALUATION_SERVICE_EVALUATOR_H_
#define HALFSKY_SERVICES_EVALUATION_SERVICE_EVALUATOR_H_

// The evaluator: turns aggregates (SeriesSource) and reporting status
// (ReportingSource) into warnings with the method library
// (services/evaluation/method), and hands them to the WarningEngine.
//
// Passes:
//   EvaluateIndicator(id)  every configured area (EvaluatedAreas: the root
//                          and area_depth levels below it) of one indicator,
//                          from ONE consistent snapshot; scope = that
//                          indicator, every area, every kind but LATE_DATA.
//   CheckLateData()        SubmissionService.GetReportingStatus for every
//                          year from first_reporting_year (0: the catalog's
//                          base year) to the current year (service clock).
//                          ONE LATE_DATA warning per member unit and data
//                          year (Warning.unit_code, data_year; indicator_id
//                          empty) at the root area, listing the unit's
//                          overdue indicators (missing_indicator_ids): a
//                          figure nobody of its responsible units reported
//                          is its lead unit's (CatalogIndex::LeadUnit); a
//                          missing narrative is the unit's own. Severity =
//                          LateDataSeverity(days past the earliest due date
//                          among them) — yellow, then orange, then red by
//                          options.method's thresholds. Scope = every
//                          LATE_DATA warning. Any responsible unit reporting
//                          (even late) removes the indicator; the last one
//                          resolves the warning.
//   FullPass()             every indicator, then late data.
// Areas: the root, and the areas up to area_depth levels below it (1: its
// children, e.g. a district's towns or a province's cities; 2: also their
// children, ...). Each area below the root is judged against its PARENT
// (EvaluatedAreas is level-ordered, so the parent is judged first): it
// raises warnings for an indicator only when its data is as complete as
// its parent's (its total series has the parent's latest data year);
// never FLUCTUATION warnings (small populations swing); and, when it is
// governed by its parent's plan, a target warning only when it is more
// severe than the parent's own candidate for that target year (whether or
// not the parent's was itself suppressed; none counts as less). So a
// problem of a whole county is the county's warning, not one per town,
// at every depth. An area under a plan of its own (a district under a
// city's catalog) is judged against its own targets, none suppressed.

// A pass whose inputs cannot be read (Redis and aggregation down, submission
// down) changes NOTHING: warnings are never resolved for lack of data.
//
// Background (Start/Stop): one worker thread. Each Redis message on
// halfsky:aggregates:updated enqueues the indicators it names, and the
// worker re-checks late data after evaluating them (at most once per
// `late_data_min_interval`), also for a message that names none (a new submission clears its
// late-data warning at once, not at the next full pass) (a rebuild message, an unparsable one, or a
// (re)subscription enqueues a full pass, since pub/sub loses messages while
// disconnected). Writes that change no aggregate publish nothing (a
// narrative, a figure resubmitted unchanged), so late data is also
// re-checked every `late_data_interval`. A full pass also runs every
// `full_pass_interval` (it catches lost messages and due dates that pass)
// and, after a failed pass, again after `retry_interval`.
//
// Thread-safety: thread-safe.

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/catalog/catalog.h"
#include "common/clock/clock.h"
#include "common/redis/redis_client.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/evaluation.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "services/evaluation/method/method.h"
#include "services/evaluation/service/series_source.h"
#include "services/evaluation/service/warning_engine.h"

namespace halfsky::evaluation {

class EvaluationMetrics;  // service_metrics.h

// Reporting status of member units (SubmissionService.GetReportingStatus).
class ReportingSource {
 public:
  virtual ~ReportingSource() = default;
  // Every unit's entries for `year`, lateness judged as of `as_of`.
  // UNAVAILABLE when the submission service cannot answer.
  virtual absl::StatusOr<halfsky::v1::GetReportingStatusResponse> Get(int year,
                                                                      absl::Time as_of) = 0;
};

class GrpcReportingSource final : public ReportingSource {
 public:
  GrpcReportingSource(std::shared_ptr<grpc::Channel> channel, std::string bearer_token,
                      absl::Duration deadline = absl::Seconds(5));
  absl::StatusOr<halfsky::v1::GetReportingStatusResponse> Get(int year, absl::Time as_of) override;

 private:
  std::unique_ptr<halfsky::v1::SubmissionService::Stub> stub_;
  const std::string token_;
  const absl::Duration deadline_;
};

struct EvaluatorOptions {
  // base_year is replaced by the catalog's, and each bound of bands the
  // catalog sets (Catalog.progress_bands) by the catalog's.
  MethodOptions method;
  // 0: the root area only; 1: also its direct children (a district's
  // towns/subdistricts, a province's cities); N: every area up to N levels
  // below the root (a province's counties at 2, their towns at 3).
  int area_depth = 0;
  // First data year whose late data warns (the year monitoring started in
  // this deployment); 0 means the catalog's base year.
  int first_reporting_year = 0;
  absl::Duration full_pass_interval = absl::Minutes(5);
  // Late data only (one GetReportingStatus per due year), between full
  // passes: bounds how long a late-data warning outlives the data that
  // answers it when no update message names it.
  absl::Duration late_data_interval = absl::Seconds(15);
  // Update messages ask for a late-data check; it runs at most this often
  // (the check asks submission for every due year, and a write load
  // publishes an update per commit: checked after each, it took 42 % of
  // evaluation's CPU under the latency bench's load).
  absl::Duration late_data_min_interval = absl::Seconds(1);
  absl::Duration retry_interval = absl::Seconds(2);
  // Not owned; may be null. Records pass durations and results, and the
  // time of the last successful full pass.
  EvaluationMetrics* metrics = nullptr;
};

class Evaluator {
 public:
  // Nothing is owned; everything must outlive the evaluator. `reporting`
  // may be null (no LATE_DATA warnings).
  Evaluator(std::shared_ptr<const CatalogIndex> catalog, SeriesSource* series,
            ReportingSource* reporting, WarningEngine* engine, Clock* clock,
            EvaluatorOptions options);
  ~Evaluator();
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  // ---- Synchronous passes (see above). NOT_FOUND for an unknown indicator;
  // the sources' and the store's errors otherwise.
  absl::Status EvaluateIndicator(const std::string& indicator_id);
  absl::Status CheckLateData();
  // Runs everything; returns the first error (after trying everything).
  absl::Status FullPass();

  // The warnings one indicator's evaluation raises in `area_code` (no
  // lifecycle change). For tests and the RPCs.
  absl::StatusOr<std::vector<halfsky::v1::Warning>> CandidateWarnings(
      const halfsky::v1::Indicator& indicator, const std::string& area_code,
      const AreaSeries& series, const MethodOptions& options) const;

  // ---- For the RPCs: fresh reads, no lifecycle change.
  // INVALID_ARGUMENT without indicator_id; NOT_FOUND for an unknown
  // indicator or area; the sources' errors.
  absl::StatusOr<halfsky::v1::EvaluateResponse> Evaluate(
      const halfsky::v1::EvaluateRequest& request);
  // INVALID_ARGUMENT for an unspecified type or a year outside the plan;
  // NOT_FOUND for an unknown area; the sources' errors.
  absl::StatusOr<halfsky::v1::EvaluationReport> Report(
      const halfsky::v1::GetEvaluationReportRequest& request);

  // ---- Background.
  // Starts the worker thread and, when `redis` is not null, subscribes to
  // the aggregation service's update channel on it. Enqueues a full pass.
  absl::Status Start(RedisClient* redis);
  // Unsubscribes and joins the worker. Idempotent.
  void Stop();
  void Enqueue(const std::vector<std::string>& indicator_ids);
  void EnqueueFullPass();
  // A message of the update channel (common/cache/cache_layout.h format).
  void OnUpdateMessage(const std::string& message);

  // Passes finished since Start (full and single-indicator), for tests.
  int64_t completed_passes() const;
  // When the last successful full pass ended (InfinitePast if none), by the
  // service clock. Also exported as the metric
  // halfsky_evaluation_last_full_pass_timestamp_seconds (service_metrics.h).
  absl::Time last_full_pass() const;

  // The areas a pass evaluates: the root first, then level by level down to
  // area_depth levels below it (each level in catalog order).
  std::vector<std::string> EvaluatedAreas() const;

 private:
  // Several plans: fills report->child_areas (see EvaluationReport) when a
  // child of `area` is governed by another plan than `area`. `method` is
  // the report area's (its base year is the report plan's).
  absl::Status CompareChildAreas(const std::string& area, int year, bool final_report,
                                 const MethodOptions& method,
                                 halfsky::v1::EvaluationReport* report);
  void Run();
  // EvaluateIndicator with pass_mu_ held, on `snapshot` when not null (read
  // from the sources otherwise).
  absl::Status EvaluateIndicatorLocked(const halfsky::v1::Indicator& indicator,
                                       const IndicatorSnapshot* snapshot)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(pass_mu_);
  // The worker's pass over the indicators that update messages named: their
  // series in one ReadMany (one Redis round trip for all), then each
  // evaluated; if that read fails, each indicator reads for itself, so one
  // indicator's error stays its own. Records one pass per indicator. Holds
  // pass_mu_ for the whole pass (an RPC's EvaluateIndicator waits for it,
  // where it could run between two indicators' passes before).
  absl::Status EvaluatePending(const std::set<std::string>& ids) ABSL_LOCKS_EXCLUDED(pass_mu_);

  const std::shared_ptr<const CatalogIndex> catalog_;
  SeriesSource* const series_;
  ReportingSource* const reporting_;
  WarningEngine* const engine_;
  Clock* const clock_;
  EvaluatorOptions options_;

  // Serializes passes (so two reconciles of one scope never interleave
  // their reads and writes out of order).
  absl::Mutex pass_mu_;

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::set<std::string> pending_ ABSL_GUARDED_BY(mu_);
  bool full_pending_ ABSL_GUARDED_BY(mu_) = false;
  // An update message arrived: re-check late data (even if it named no
  // indicator).
  bool late_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time next_full_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  absl::Time next_late_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  // No message-driven late-data check before this (late_data_min_interval).
  absl::Time late_allowed_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t completed_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_full_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::thread worker_;
  std::unique_ptr<RedisSubscription> subscription_;
};

}  // namespace halfsky::evaluation

#endif  // HALFSKY_SERVICES_EVALUATION_SERVICE_EVALUATOR_H_
