#include "services/evaluation/service/service_metrics.h"

#include "absl/status/status.h"
#include "common/labels/labels.h"

namespace halfsky::evaluation {
namespace {

constexpr char kFiringHelp[] = "Firing warnings now, by severity and kind.";
constexpr char kPassHelp[] = "Duration of evaluation passes (full or one indicator), seconds.";
constexpr char kPassesHelp[] = "Evaluation passes finished, by pass and result.";
constexpr char kReadsHelp[] = "Aggregate snapshot reads, by source and result.";

std::vector<double> PassBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

}  // namespace

EvaluationMetrics::EvaluationMetrics(MetricsRegistry* registry) : registry_(registry) {
  for (int s = halfsky::v1::Severity_MIN + 1; s <= halfsky::v1::Severity_MAX; ++s) {
    for (int k = halfsky::v1::WarningKind_MIN + 1; k <= halfsky::v1::WarningKind_MAX; ++k) {
      if (!halfsky::v1::Severity_IsValid(s) || !halfsky::v1::WarningKind_IsValid(k)) {
        continue;
      }
      firing_[{s, k}] = registry_->GetGauge(
          "halfsky_evaluation_firing_warnings", kFiringHelp,
          {{"severity", labels::Token(static_cast<halfsky::v1::Severity>(s))},
           {"kind", WarningKindName(static_cast<halfsky::v1::WarningKind>(k))}});
    }
  }
  version_ = registry_->GetGauge("halfsky_evaluation_warnings_version",
                                 "Version (change count) of the published warning set.");
  full_seconds_ = registry_->GetHistogram("halfsky_evaluation_pass_seconds", kPassHelp,
                                          {{"pass", "full"}}, PassBuckets());
  indicator_seconds_ = registry_->GetHistogram("halfsky_evaluation_pass_seconds", kPassHelp,
                                               {{"pass", "indicator"}}, PassBuckets());
  full_ok_ = registry_->GetCounter("halfsky_evaluation_passes_total", kPassesHelp,
                                   {{"pass", "full"}, {"result", "ok"}});
  full_error_ = registry_->GetCounter("halfsky_evaluation_passes_total", kPassesHelp,
                                      {{"pass", "full"}, {"result", "error"}});
  indicator_ok_ = registry_->GetCounter("halfsky_evaluation_passes_total", kPassesHelp,
                                        {{"pass", "indicator"}, {"result", "ok"}});
  indicator_error_ = registry_->GetCounter("halfsky_evaluation_passes_total", kPassesHelp,
                                           {{"pass", "indicator"}, {"result", "error"}});
  last_full_pass_ = registry_->GetGauge(
      "halfsky_evaluation_last_full_pass_timestamp_seconds",
      "Unix time when the last successful full evaluation pass ended (0: none yet).");
  watchers_ = registry_->GetGauge("halfsky_evaluation_watchers", "Open WatchWarnings streams.");
  fell_behind_ = registry_->GetCounter("halfsky_evaluation_watchers_dropped_total",
                                       "WatchWarnings streams ended by the service, by reason.",
                                       {{"reason", "fell_behind"}});
}

void EvaluationMetrics::UpdateWarnings(const WarningSet& set) {
  std::map<std::pair<int, int>, int> counts;
  for (const WarningSet::Ptr& w : set.in_state(halfsky::v1::WARNING_STATE_FIRING)) {
    ++counts[{w->severity(), w->kind()}];
  }
  for (auto& [key, gauge] : firing_) {
    auto it = counts.find(key);
    gauge->Set(it == counts.end() ? 0 : it->second);
  }
  version_->Set(static_cast<double>(set.version()));
}

void EvaluationMetrics::ObservePass(bool full, absl::Duration duration, bool ok) {
  (full ? full_seconds_ : indicator_seconds_)->Observe(absl::ToDoubleSeconds(duration));
  if (full) {
    (ok ? full_ok_ : full_error_)->Increment();
  } else {
    (ok ? indicator_ok_ : indicator_error_)->Increment();
  }
}

void EvaluationMetrics::SetLastFullPass(absl::Time at) {
  last_full_pass_->Set(at == absl::InfinitePast() ? 0
                                                  : absl::ToDoubleSeconds(at - absl::UnixEpoch()));
}

void EvaluationMetrics::WatcherOpened() { watchers_->Add(1); }
void EvaluationMetrics::WatcherClosed() { watchers_->Add(-1); }
void EvaluationMetrics::WatcherFellBehind() { fell_behind_->Increment(); }

InstrumentedSeriesSource::InstrumentedSeriesSource(SeriesSource* inner, MetricsRegistry* registry,
                                                   const std::string& source, bool fallback)
    : inner_(inner) {
  auto counter = [&](const char* result) {
    return registry->GetCounter("halfsky_evaluation_series_reads_total", kReadsHelp,
                                {{"source", source}, {"result", result}});
  };
  ok_ = counter("ok");
  unavailable_ = counter("unavailable");
  not_found_ = counter("not_found");
  error_ = counter("error");
  fallbacks_ = fallback ? registry->GetCounter(
                              "halfsky_evaluation_series_fallbacks_total",
                              "Aggregate reads sent to the aggregation service because Redis "
                              "could not answer (cache miss or Redis down).")
                        : nullptr;
}

void InstrumentedSeriesSource::Count(const absl::Status& status, size_t reads) {
  const auto n = static_cast<double>(reads);
  if (fallbacks_ != nullptr) {
    fallbacks_->Increment(n);
  }
  if (status.ok()) {
    ok_->Increment(n);
  } else if (absl::IsUnavailable(status)) {
    unavailable_->Increment(n);
  } else if (absl::IsNotFound(status)) {
    not_found_->Increment(n);
  } else {
    error_->Increment(n);
  }
}

absl::StatusOr<IndicatorSnapshot> InstrumentedSeriesSource::Read(
    const halfsky::v1::Indicator& indicator, const std::vector<std::string>& area_codes,
    const std::vector<SeriesSpec>& specs) {
  absl::StatusOr<IndicatorSnapshot> snapshot = inner_->Read(indicator, area_codes, specs);
  Count(snapshot.status(), 1);
  return snapshot;
}

absl::StatusOr<std::vector<IndicatorSnapshot>> InstrumentedSeriesSource::ReadMany(
    const std::vector<SeriesRequest>& requests) {
  absl::StatusOr<std::vector<IndicatorSnapshot>> snapshots = inner_->ReadMany(requests);
  // A failed batch is one failed read (the transaction, or the first read
  // that failed; the rest were not attempted).
  Count(snapshots.status(), snapshots.ok() ? requests.size() : 1);
  return snapshots;
}

FollowMetrics::FollowMetrics(MetricsRegistry* registry)
    : connected_(registry->GetGauge("halfsky_evaluation_follow_connected",
                                    "1 while this replica is in sync with its primary.")),
      last_sync_(registry->GetGauge("halfsky_evaluation_follow_last_sync_timestamp_seconds",
                                    "Unix time of the last SYNCED from the primary; 0 before.")),
      events_applied_(registry->GetCounter("halfsky_evaluation_follow_events_applied_total",
                                           "Change events of the primary applied here.")),
      reconnects_(registry->GetCounter("halfsky_evaluation_follow_reconnects_total",
                                       "Times the stream to the primary was opened again.")) {}

void FollowMetrics::SetConnected(bool connected) { connected_->Set(connected ? 1 : 0); }

void FollowMetrics::Synced(absl::Time at) {
  last_sync_->Set(absl::ToDoubleSeconds(at - absl::UnixEpoch()));
}

void FollowMetrics::EventApplied() { events_applied_->Increment(); }

void FollowMetrics::Reconnecting() { reconnects_->Increment(); }

}  // namespace halfsky::evaluation
