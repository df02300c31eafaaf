#ifndef HALFSKY_SERVICES_EVALUATION_METHOD_METHOD_H_
#define HALFSKY_SERVICES_EVALUATION_METHOD_METHOD_H_

// The evaluation method of DESIGN §5, as pure functions: plain inputs in,
// figures and sentences out. No I/O, no clock, no Redis, no gRPC.
// Every function is thread-safe (no shared state).
//
// Method in brief (the details and every decision are in the comments of
// each function below and in services/evaluation/method/README.md):
//
//  - Progress measure (Open SDG / Statistics Canada):
//      CAGR(a, b, t1, t0) = (a / b)^(1 / (t1 − t0)) − 1
//      P = d · CAGR(y_t, y_0, t, t0) / |CAGR(y_T, y_0, T, t0)|
//    bands (MethodOptions.bands) P ≥ on_track ON_TRACK, ≥ needs_acceleration
//    NEEDS_ACCELERATION, ≥ at_risk AT_RISK, below MOVING_AWAY. Ties go to
//    the higher band: P is compared with bound − 1e-9, so a P equal to a
//    bound in exact arithmetic is in the higher band despite rounding.
//  - Base year t0: options.base_year (2020). When that year has no data,
//    the earliest later year with data is the base (as Open SDG does);
//    Assessment::base_year_substituted says so and Figures.base_year shows
//    the year used. Data before the base year is ignored by the progress
//    measure (not by the fluctuation test).
//  - Current year t: the latest year with data, not after options.as_of_year.
//  - Zero base, zero target and (for the rate still needed) zero current
//    are replaced by options.zero_replacement (0.001), as Open SDG does.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/catalog/progress_bands.h"
#include "halfsky/v1/aggregation.pb.h"
#include "halfsky/v1/catalog.pb.h"
#include "halfsky/v1/common.pb.h"
#include "halfsky/v1/evaluation.pb.h"

namespace halfsky::evaluation {

// One year's figure of one (indicator, area, sex, residence).
struct YearPoint {
  int year = 0;
  // Display value (× multiplier for rates, × 100 for proportions). When
  // absent it is computed from numerator/denominator if both are present
  // and denominator > 0; a point with neither is ignored.
  std::optional<double> value;
  // RATE/PROPORTION: the parts (events, population). Needed for the
  // rare-event method; ignored for other kinds.
  std::optional<double> numerator;
  std::optional<double> denominator;
  // Coverage (SeriesPoint): a combined figure below the indicator's coverage
  // threshold is a part of the area, not its figure. EvaluateIndicator
  // leaves such points out of every test and says so (see there);
  // AssessTarget and AssessFluctuation take the points they are given.
  bool incomplete = false;
  int contributing_areas = 0;
  int expected_areas = 0;
  // Children whose published value (no counts) was left out of the sum.
  int published_areas = 0;
  // A published figure without counts (公布数): `value` only; never pooled
  // as rare events (a series holding one is assessed on single-year values).
  bool published = false;
  // Approval (SeriesPoint.contains_unapproved_data): the figure rests on
  // `parts` reported figures of which `approved_parts` are approved (已审核).
  // EvaluateIndicator says 含未审核数据 where such a point is used, or, with
  // MethodOptions.approved_only, leaves it out like an incomplete point
  // (then `unapproved_left_out` is set on the copy it notes).
  bool unapproved = false;
  int parts = 0;
  int approved_parts = 0;
  bool unapproved_left_out = false;
};

// A yearly series, in any order. Two points of the same year are an error.
using Series = std::vector<YearPoint>;

// Converts aggregation's points: `value` as is; numerator/denominator taken
// when denominator > 0.
Series SeriesFromProto(const google::protobuf::RepeatedPtrField<halfsky::v1::SeriesPoint>& points);

// Tunables; the defaults are DESIGN §5's.
struct MethodOptions {
  int base_year = 2020;
  // Points after this year are ignored (an evaluation "as of" a year, e.g.
  // an annual report for 2024). 0 means no limit.
  int as_of_year = 0;
  // The progress bands: for P (targets with a number) and for the
  // direction-adjusted CAGR of targets without a number (INCREASE,
  // DECREASE, DECREASE_EACH_YEAR, NARROW_GAP). Every bound must be set (a
  // catalog's bands through ResolveProgressBands); the defaults are
  // common/catalog/progress_bands.h's. The evaluation service takes the
  // catalog's (Catalog.progress_bands).
  halfsky::v1::ProgressBands bands = DefaultProgressBands();
  // ABOUT targets whose tolerance is 0.
  double default_about_tolerance = 2.0;
  // Fluctuation: modified z-score threshold (strictly above warns), the
  // fewest year-over-year changes for the z-score, and the relative change
  // (strictly above warns) used when the indicator sets none.
  double fluctuation_z_threshold = 3.5;
  int min_changes_for_z_score = 4;
  double default_relative_threshold = 0.20;
  // RATE indicators whose mean yearly numerator is below this (when the
  // indicator sets none) are rare-event indicators.
  int default_rare_event_threshold = 20;
  int pool_years = 3;
  double confidence_level = 0.95;
  double zero_replacement = 0.001;
  // Words for coverage sentences: what the child areas are (e.g. 镇街) and
  // what the evaluated area is called as a whole (e.g. 全区).
  std::string child_areas_zh = "下级区域";
  std::string area_whole_zh = "本区域";
  // Evaluate approved data only (the evaluation service's --approved_only):
  // points containing unapproved data are left out of every test like
  // incomplete ones, and the coverage sentences say so
  // (「2024年含未审核数据（已审核0/1项）」); a target they leave without data
  // is DATA_INCOMPLETE 数据不完整. Off: they are used, and every sentence that
  // uses one says 含未审核数据 with its years.
  bool approved_only = false;
  // Late data (LateDataSeverity): yellow from the due date, orange from
  // this many whole days past it, red from late_red_after_days. Must be
  // 0 < orange < red.
  int late_orange_after_days = 90;
  int late_red_after_days = 180;
};

// The half-width of an ABOUT target's band: target.tolerance, or
// options.default_about_tolerance when it is 0 (the band is value ± this,
// bounds inside).
double EffectiveAboutTolerance(const halfsky::v1::Target& target, const MethodOptions& options);

// Why an assessment is NOT_ASSESSABLE.
enum class NotAssessableReason {
  kNone = 0,
  kNoData,              // no point at or after the base year
  kTooFewYears,         // one year only (and it does not meet the target)
  kSignChange,          // base and current (or target) of different sign
  kQualitative,         // QUALITATIVE indicator: no numbers by design
  kTooFewPooledYears,   // rare events: fewer than two full pooled windows
  kNoComparisonSeries,  // NARROW_GAP: one of the two groups has no data
  kDataIncomplete,      // only partial figures (below the coverage threshold)
};

// Which test decided a fluctuation result.
enum class FluctuationMethod {
  kNone = 0,        // fewer than two points: nothing to compare
  kModifiedZScore,  // >= min_changes_for_z_score changes and MAD > 0
  kRelativeChange,  // fewer changes, or MAD = 0
};

// The assessment of one target.
struct Assessment {
  halfsky::v1::Target target;
  halfsky::v1::ProgressStatus status = halfsky::v1::PROGRESS_STATUS_UNSPECIFIED;
  // WARNING_KIND_UNSPECIFIED and SEVERITY_UNSPECIFIED when nothing warns.
  // Kinds used here: PROGRESS, MISSED, OUT_OF_BAND, RULE_BROKEN, SLIPPED.
  halfsky::v1::WarningKind warning_kind = halfsky::v1::WARNING_KIND_UNSPECIFIED;
  halfsky::v1::Severity severity = halfsky::v1::SEVERITY_UNSPECIFIED;
  halfsky::v1::Figures figures;
  NotAssessableReason reason = NotAssessableReason::kNone;
  // Figures.base_year differs from options.base_year (no data that year).
  bool base_year_substituted = false;
  // RULE_BROKEN: the years that broke the rule, ascending, with their
  // value (and, for DECREASE_EACH_YEAR, the previous point's value).
  struct BrokenYear {
    int year = 0;
    double value = 0;
    std::optional<double> previous_value;
  };
  std::vector<BrokenYear> broken_years;
  // SLIPPED: the latest year the target was met before slipping back.
  int slipped_from_year = 0;
  // Figures are pooled rolling rates (rare events); each figure's year is
  // the last year of its window.
  bool pooled = false;
  // One sentence each, with the figures.
  std::string explanation_zh;
  std::string explanation_en;
  // Years of points the assessment used that contain unapproved data
  // (ascending; empty with MethodOptions.approved_only).
  std::vector<int> unapproved_years;

  bool warns() const { return warning_kind != halfsky::v1::WARNING_KIND_UNSPECIFIED; }
  // Every field of the proto: target, status, figures, severity,
  // warning_kind, explanation_zh, explanation_en, contains_unapproved_data
  // and unapproved_years.
  halfsky::v1::TargetAssessment ToProto() const;
};

// The fluctuation test of the latest year-over-year change.
struct FluctuationResult {
  FluctuationMethod method = FluctuationMethod::kNone;
  // True when the change is 波动较大 (and, for rare events, the Poisson
  // interval does not explain it). Severity is then SEVERITY_YELLOW.
  bool warns = false;
  // The score or the relative change crossed its threshold (before the
  // rare-event interval test).
  bool exceeds_threshold = false;
  // Rare events: the previous pooled rate lies inside the exact interval
  // of the latest year's rate, so chance explains the change.
  bool explained_by_interval = false;
  // base_* = previous year, current_* = latest year, latest_change =
  // current − previous (per year when the two are years apart),
  // modified_z_score (z-score method only); rare events: few_events,
  // interval (latest year's rate) and event_count (latest year).
  halfsky::v1::Figures figures;
  // The relative change per year: (current / previous)^(1 / gap) − 1 for
  // two positive values `gap` years apart, else (current − previous) /
  // |previous| / gap; absent when previous is 0. Equal to (current −
  // previous) / |previous| for consecutive years.
  std::optional<double> relative_change;
  // Years between the two points (1 for consecutive years).
  int gap_years = 0;
  // The threshold that applied (z or relative).
  double threshold = 0;
  // Rare events: the pooled rate of the years before the latest one.
  std::optional<double> previous_pooled_value;
  std::string explanation_zh;
  std::string explanation_en;

  halfsky::v1::Severity severity() const {
    return warns ? halfsky::v1::SEVERITY_YELLOW : halfsky::v1::SEVERITY_UNSPECIFIED;
  }
};

// The series an indicator's targets need, keyed by disaggregation.
// SEX_UNSPECIFIED is read as SEX_TOTAL, RESIDENCE_UNSPECIFIED as
// RESIDENCE_ALL.
class SeriesSet {
 public:
  void Put(halfsky::v1::Sex sex, halfsky::v1::Residence residence, Series series);
  // nullptr when not put.
  const Series* Find(halfsky::v1::Sex sex, halfsky::v1::Residence residence) const;
  // Every ((sex, residence), series) put, in order.
  const std::vector<std::pair<std::pair<int, int>, Series>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::pair<int, int>, Series>> entries_;
};

// Everything the method says about one indicator in one area.
struct IndicatorEvaluation {
  // One per catalog target, in catalog order.
  std::vector<Assessment> assessments;
  // On the (SEX_TOTAL, RESIDENCE_ALL) series.
  FluctuationResult fluctuation;
};

// Assesses one target on `series` (the series of the target's own
// disaggregation). For NARROW_GAP, `series` is group A (female / urban)
// and `other` group B (male / rural); other targets ignore `other`.
//
// Outcomes by comparator (t = current year, T = target.year):
//  - AT_LEAST (≥), AT_MOST (≤), BELOW (<), INCREASE/DECREASE with a value
//    (as AT_LEAST/AT_MOST): current meets → ACHIEVED; t ≥ T → judged on
//    the value of year T (or the first year after T): met → ACHIEVED, not
//    → MISSED (kind MISSED, red); otherwise P and its band. One point that
//    does not meet → NOT_ASSESSABLE. A target met in an earlier year and
//    not now → kind SLIPPED (severity at least orange).
//    every_year (or year 0) → checked as a rule in every year (below).
//  - MAINTAIN_AT_LEAST / MAINTAIN_AT_MOST: every_year → every year from
//    the base year must meet it; with a year T ("达到并保持") → every year
//    from the first year it was met. A year that breaks it → status
//    MISSED, kind RULE_BROKEN (red), broken_years named. Never met yet
//    (year T) → progress toward the value as AT_LEAST / AT_MOST.
//  - ABOUT: inside [value − tol, value + tol] (tol = target.tolerance or
//    options.default_about_tolerance) → ACHIEVED. Outside: t ≥ T → MISSED
//    (kind MISSED, red); every_year → status MISSED, kind OUT_OF_BAND
//    (orange) naming, in broken_years, every year from the base year that
//    was outside the band (「保持在60％左右」 holds in every year, not only
//    the latest); before T → status from P toward the value, kind
//    OUT_OF_BAND, severity = that of the band but at least yellow.
//  - INCREASE / DECREASE without a value: d·CAGR(base → current) against
//    the no-target bands of options.bands (Figures.progress holds d·CAGR). t ≥ T → ACHIEVED if
//    d·CAGR(base → T) > 0, else MISSED.
//  - DECREASE_EACH_YEAR: any rise over the previous point → RULE_BROKEN
//    (red) naming the years; a flat year is no break. Otherwise as
//    DECREASE (or AT_MOST when it has a value).
//  - NARROW_GAP: gap_y = |a_y − b_y| for years where both exist, then as
//    DECREASE on the gap (AT_MOST with a value); a gap of exactly 0 now →
//    ACHIEVED.
// Severity: MOVING_AWAY, MISSED, RULE_BROKEN → red; AT_RISK → orange;
// NEEDS_ACCELERATION → yellow; ACHIEVED, ON_TRACK, NOT_ASSESSABLE → none.
//
// Rare events: a RATE indicator whose mean yearly numerator (over points
// with numerator and denominator) is below the threshold is assessed on
// pooled rolling rates Σnum/Σden × multiplier over full windows of
// options.pool_years consecutive years, labelled by the window's last
// year; pooled = true, few_events = true, Figures.interval is the Garwood
// interval of the current window as a rate, event_count its Σnum.
//
// Errors: INVALID_ARGUMENT for two points of one year, a non-finite value,
// a comparator that is UNSPECIFIED, a target without a value where the
// comparator needs one (AT_LEAST, AT_MOST, BELOW, ABOUT, MAINTAIN_*), a
// target without a year that is not every_year where one is needed, or
// options out of range. QUALITATIVE indicators are NOT_ASSESSABLE (no
// error).
absl::StatusOr<Assessment> AssessTarget(const halfsky::v1::Indicator& indicator,
                                        const halfsky::v1::Target& target, const Series& series,
                                        const MethodOptions& options,
                                        const Series* other = nullptr);

// The fluctuation test on `series` (the indicator's total series):
// changes d_i = (v_i − v_{i−1}) / (year_i − year_{i−1}) between consecutive
// points up to options.as_of_year. With at least min_changes_for_z_score
// changes and MAD > 0: modified z-score of the latest change
// 0.6745·|d − median(d)| / MAD over all changes (the latest included, as
// Iglewicz–Hoaglin and DHIS2 compute it), warning when > 3.5. Otherwise the
// relative change per year (relative_change: annualised when the two
// latest points are years apart, so a survey measured in 2020 and 2024 is
// judged on its yearly pace) against the indicator's
// fluctuation_threshold (default 0.20), warning when strictly above; a
// previous value of 0 gives no relative change and no warning.
// Rare events (as in AssessTarget): the latest year's exact interval is
// computed from its own count; when it contains the pooled rate of the
// pool_years years before it (those of them with numerator and
// denominator), chance explains the change and nothing warns.
// Errors: as AssessTarget's for the series and options.
absl::StatusOr<FluctuationResult> AssessFluctuation(const halfsky::v1::Indicator& indicator,
                                                    const Series& series,
                                                    const MethodOptions& options);

// Every target of `indicator` plus the fluctuation test, on COMPLETE points
// only: points with `incomplete` set (a part of the area, below the
// coverage threshold) are left out of every test. Where a target's series
// had such points (up to as_of_year): if the complete points leave it
// NOT_ASSESSABLE (no data, one year, too few pooled years, a group missing),
// its status is DATA_INCOMPLETE (数据不完整, reason kDataIncomplete, no
// warning) and the sentence gives each year's coverage (「2023年仅1/11个镇街
// 报送」); otherwise it stands on the complete points and the sentence adds
// that those years were left out. The fluctuation test likewise runs on
// complete points and notes the years left out. A series with published
// points (公布数) adds that they were assessed as published.
// Each target takes
// the series of (target.sex, target.residence); NARROW_GAP takes
// (FEMALE, r)/(MALE, r) for GAP_DIMENSION_SEX and (s, URBAN)/(s, RURAL)
// for GAP_DIMENSION_RESIDENCE. A missing series means no data
// (NOT_ASSESSABLE), not an error. Errors: as AssessTarget's.
absl::StatusOr<IndicatorEvaluation> EvaluateIndicator(const halfsky::v1::Indicator& indicator,
                                                      const SeriesSet& series,
                                                      const MethodOptions& options);

// The severity this method gives a (kind, status) pair; exposed so the
// service and reports agree with it. LATE_DATA: the severity on the due
// date (yellow); its escalation is LateDataSeverity.
halfsky::v1::Severity SeverityFor(halfsky::v1::WarningKind kind,
                                  halfsky::v1::ProgressStatus status);

// The one rule for late data (数据迟报): yellow from the due date, orange
// from options.late_orange_after_days whole days past it, red from
// options.late_red_after_days. `days_overdue` < 0 (not yet due) gives
// SEVERITY_UNSPECIFIED.
halfsky::v1::Severity LateDataSeverity(int days_overdue, const MethodOptions& options);

}  // namespace halfsky::evaluation

#endif  // HALFSKY_SERVICES_EVALUATION_METHOD_METHOD_H_
