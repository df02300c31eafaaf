#ifndef HALFSKY_SERVICES_EVALUATION_SERVICE_SERVICE_METRICS_H_
#define HALFSKY_SERVICES_EVALUATION_SERVICE_SERVICE_METRICS_H_

// The evaluation service's own Prometheus metrics, recorded into a
// MetricsRegistry (in the binary: common/server's ServiceMetrics(), served
// on /metrics next to the per-RPC metrics of the bootstrap).
//
//   halfsky_evaluation_firing_warnings{severity,kind}      gauge
//       firing warnings now; every (severity, kind) pair is exported, 0
//       included, so a dashboard sees a drop to zero.
//   halfsky_evaluation_warnings_version                    gauge
//       WarningEngine::version() of the published set.
//   halfsky_evaluation_pass_seconds{pass}                  histogram
//       duration of evaluation passes; pass = "full" | "indicator".
//   halfsky_evaluation_passes_total{pass,result}           counter
//       result = "ok" | "error".
//   halfsky_evaluation_last_full_pass_timestamp_seconds    gauge
//       Unix time when the last SUCCESSFUL full pass ended
//       (Evaluator::last_full_pass()); 0 until one has. Alert on
//       time() - this > a few re-evaluation intervals.
//   halfsky_evaluation_series_reads_total{source,result}   counter
//       reads of aggregate snapshots; source = "redis" | "aggregation";
//       result = "ok" | "unavailable" | "not_found" | "error".
//       A Redis read that is not "ok" is a cache miss or Redis down.
//   halfsky_evaluation_series_fallbacks_total              counter
//       reads that went to the aggregation service because Redis could
//       not answer (whatever the aggregation service then said).
//   halfsky_evaluation_watchers                            gauge
//       open WatchWarnings streams.
//   halfsky_evaluation_watchers_dropped_total{reason}      counter
//       streams the service ended; reason = "fell_behind".
//
// A read replica (--follow) exports the metrics above from its mirrored
// set (firing warnings, version, watchers); it runs no passes, so its pass
// metrics stay at 0: scope pass alerts to the primary. It also exports,
// through FollowMetrics:
//   halfsky_evaluation_follow_connected                    gauge
//       1 while the replica is in sync with its primary (the stream is
//       open and its SYNCED has arrived), else 0.
//   halfsky_evaluation_follow_last_sync_timestamp_seconds  gauge
//       Unix time of the last SYNCED (0 until the first).
//   halfsky_evaluation_follow_events_applied_total         counter
//       change events of the primary applied to the replica's set.
//   halfsky_evaluation_follow_reconnects_total             counter
//       times the stream to the primary ended and was opened again.
//
// Thread-safety: thread-safe. Metric objects are created in the
// constructor; updates are lock-free or take the histogram's own lock.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/metrics/metrics.h"
#include "services/evaluation/service/series_source.h"
#include "services/evaluation/service/warning_engine.h"

namespace halfsky::evaluation {

class EvaluationMetrics {
 public:
  // `registry` is not owned and must outlive this object.
  explicit EvaluationMetrics(MetricsRegistry* registry);

  // Firing gauges and version from a published set (use as the engine's
  // observer: engine->SetObserver([&m](const WarningSet& s) { m.UpdateWarnings(s); })).
  void UpdateWarnings(const WarningSet& set);
  // One finished pass. `full` false: a single-indicator pass.
  void ObservePass(bool full, absl::Duration duration, bool ok);
  // The end of the last successful full pass.
  void SetLastFullPass(absl::Time at);
  void WatcherOpened();
  void WatcherClosed();
  void WatcherFellBehind();

  MetricsRegistry* registry() const { return registry_; }

 private:
  MetricsRegistry* const registry_;
  std::map<std::pair<int, int>, Gauge*> firing_;  // (severity, kind) → gauge
  Gauge* version_;
  Histogram* full_seconds_;
  Histogram* indicator_seconds_;
  Counter* full_ok_;
  Counter* full_error_;
  Counter* indicator_ok_;
  Counter* indicator_error_;
  Gauge* last_full_pass_;
  Gauge* watchers_;
  Counter* fell_behind_;
};

// The follow-state metrics of a read replica (see above); created only in
// replica mode so a primary does not export them.
class FollowMetrics {
 public:
  // `registry` is not owned and must outlive this object.
  explicit FollowMetrics(MetricsRegistry* registry);
  void SetConnected(bool connected);
  void Synced(absl::Time at);
  void EventApplied();
  void Reconnecting();

 private:
  Gauge* connected_;
  Gauge* last_sync_;
  Counter* events_applied_;
  Counter* reconnects_;
};

// A SeriesSource that counts its inner source's reads into
// halfsky_evaluation_series_reads_total{source=`source`} and, with
// `fallback`, every read into halfsky_evaluation_series_fallbacks_total (wrap
// the secondary of a FallbackSeriesSource with it: the secondary is only
// asked when the primary failed). Forwards everything unchanged. Nothing is
// owned; thread-safe if `inner` is.
class InstrumentedSeriesSource final : public SeriesSource {
 public:
  InstrumentedSeriesSource(SeriesSource* inner, MetricsRegistry* registry,
                           const std::string& source, bool fallback);
  absl::StatusOr<IndicatorSnapshot> Read(const halfsky::v1::Indicator& indicator,
                                         const std::vector<std::string>& area_codes,
                                         const std::vector<SeriesSpec>& specs) override;
  // The inner source's ReadMany (so a batch stays one), counted as one read
  // per request when it succeeds, one failed read when it fails.
  absl::StatusOr<std::vector<IndicatorSnapshot>> ReadMany(
      const std::vector<SeriesRequest>& requests) override;

 private:
  void Count(const absl::Status& status, size_t reads);

  SeriesSource* const inner_;
  Counter* ok_;
  Counter* unavailable_;
  Counter* not_found_;
  Counter* error_;
  Counter* fallbacks_;  // null without `fallback`
};

}  // namespace halfsky::evaluation

#endif  // HALFSKY_SERVICES_EVALUATION_SERVICE_SERVICE_METRICS_H_
