#include "services/evaluation/method/method.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "services/evaluation/method/coverage.h"
#include "services/evaluation/method/explain.h"
#include "services/evaluation/method/poisson.h"

namespace halfsky::evaluation {

using ::halfsky::v1::Comparator;
using ::halfsky::v1::Indicator;
using ::halfsky::v1::ProgressStatus;
using ::halfsky::v1::Severity;
using ::halfsky::v1::Target;
using ::halfsky::v1::WarningKind;

namespace {

// A ≥ bound test that puts values equal to the bound in exact arithmetic
// into the higher band despite floating-point rounding.
constexpr double kBandTolerance = 1e-9;

bool AtLeastBound(double value, double bound) { return value >= bound - kBandTolerance; }

// One usable point, sorted by year.
struct Pt {
  int year = 0;
  double value = 0;
  bool has_fraction = false;
  double numerator = 0;
  double denominator = 0;
  bool published = false;
};
using Pts = std::vector<Pt>;

double Multiplier(const Indicator& indicator) {
  switch (indicator.kind()) {
    case v1::INDICATOR_KIND_RATE:
      return indicator.multiplier() > 0 ? indicator.multiplier() : 1.0;
    case v1::INDICATOR_KIND_PROPORTION:
      return 100.0;
    default:
      return 1.0;
  }
}

absl::Status ValidateOptions(const MethodOptions& o) {
  if (o.base_year <= 0 || o.pool_years < 2 || o.min_changes_for_z_score < 1 ||
      !(o.confidence_level > 0 && o.confidence_level < 1) || !(o.zero_replacement > 0) ||
      !(o.fluctuation_z_threshold > 0) || !(o.default_relative_threshold > 0) ||
      !(o.default_about_tolerance >= 0) || o.default_rare_event_threshold < 0 ||
      !(o.late_orange_after_days > 0 && o.late_red_after_days > o.late_orange_after_days) ||
      !ProgressBandsProblem(o.bands).empty()) {
    return absl::InvalidArgumentError("评估参数无效 / invalid method options");
  }
  return absl::OkStatus();
}

// Validates, computes values, applies as_of_year and sorts.
absl::StatusOr<Pts> Normalize(const Indicator& indicator, const Series& series,
                              const MethodOptions& options) {
  const double multiplier = Multiplier(indicator);
  const bool fractional = indicator.kind() == v1::INDICATOR_KIND_RATE ||
                          indicator.kind() == v1::INDICATOR_KIND_PROPORTION;
  Pts pts;
  for (const YearPoint& p : series) {
    Pt pt;
    pt.year = p.year;
    pt.published = p.published;
    if (!p.published && p.numerator.has_value() && p.denominator.has_value()) {
      if (!std::isfinite(*p.numerator) || !std::isfinite(*p.denominator)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s %d年分子或分母不是有限数 / non-finite numerator or denominator in %d",
            indicator.id(), p.year, p.year));
      }
      if (fractional && *p.denominator > 0) {
        pt.has_fraction = true;
        pt.numerator = *p.numerator;
        pt.denominator = *p.denominator;
      }
    }
    if (p.value.has_value()) {
      if (!std::isfinite(*p.value)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s %d年数值不是有限数 / non-finite value in %d", indicator.id(), p.year, p.year));
      }
      pt.value = *p.value;
    } else if (pt.has_fraction) {
      pt.value = pt.numerator / pt.denominator * multiplier;
    } else {
      continue;
    }
    if (options.as_of_year > 0 && pt.year > options.as_of_year) {
      continue;
    }
    pts.push_back(pt);
  }
  std::sort(pts.begin(), pts.end(), [](const Pt& a, const Pt& b) { return a.year < b.year; });
  for (size_t i = 1; i < pts.size(); ++i) {
    if (pts[i].year == pts[i - 1].year) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s %d年有两个数值 / two points for year %d", indicator.id(), pts[i].year, pts[i].year));
    }
  }
  return pts;
}

int RareThreshold(const Indicator& indicator, const MethodOptions& options) {
  return indicator.rare_event_threshold() > 0 ? indicator.rare_event_threshold()
                                              : options.default_rare_event_threshold;
}

// RATE indicators whose mean yearly numerator is below the threshold.
bool IsRare(const Indicator& indicator, const Pts& pts, const MethodOptions& options) {
  if (indicator.kind() != v1::INDICATOR_KIND_RATE) {
    return false;
  }
  double sum = 0;
  int n = 0;
  for (const Pt& p : pts) {
    if (p.published) {
      // A published figure has no count: the series is assessed on its
      // single-year values, never pooled.
      return false;
    }
    if (p.has_fraction) {
      sum += p.numerator;
      ++n;
    }
  }
  return n > 0 && sum / n < RareThreshold(indicator, options);
}

// Pooled rates over full windows of `n` consecutive years with fractions,
// labelled by the window's last year.
Pts Pool(const Pts& pts, int n, double multiplier) {
  Pts pooled;
  for (size_t i = 0; i < pts.size(); ++i) {
    if (i + 1 < static_cast<size_t>(n)) {
      continue;
    }
    Pt sum;
    sum.year = pts[i].year;
    sum.has_fraction = true;
    bool full = true;
    for (int k = 0; k < n; ++k) {
      const Pt& p = pts[i - k];
      if (!p.has_fraction || p.year != pts[i].year - k) {
        full = false;
        break;
      }
      sum.numerator += p.numerator;
      sum.denominator += p.denominator;
    }
    if (!full) {
      continue;
    }
    sum.value = sum.numerator / sum.denominator * multiplier;
    pooled.push_back(sum);
  }
  return pooled;
}

Pts From(const Pts& pts, int first_year) {
  Pts out;
  for (const Pt& p : pts) {
    if (p.year >= first_year) {
      out.push_back(p);
    }
  }
  return out;
}

double NonZero(double v, const MethodOptions& o) { return v == 0 ? o.zero_replacement : v; }

double Cagr(double a, double b, int t1, int t0) {
  return std::pow(a / b, 1.0 / static_cast<double>(t1 - t0)) - 1.0;
}

ProgressStatus BandP(double p, const MethodOptions& o) {
  if (AtLeastBound(p, o.bands.on_track())) {
    return v1::PROGRESS_STATUS_ON_TRACK;
  }
  if (AtLeastBound(p, o.bands.needs_acceleration())) {
    return v1::PROGRESS_STATUS_NEEDS_ACCELERATION;
  }
  if (AtLeastBound(p, o.bands.at_risk())) {
    return v1::PROGRESS_STATUS_AT_RISK;
  }
  return v1::PROGRESS_STATUS_MOVING_AWAY;
}

ProgressStatus BandNoTarget(double g, const MethodOptions& o) {
  if (AtLeastBound(g, o.bands.no_target_on_track())) {
    return v1::PROGRESS_STATUS_ON_TRACK;
  }
  if (AtLeastBound(g, o.bands.no_target_needs_acceleration())) {
    return v1::PROGRESS_STATUS_NEEDS_ACCELERATION;
  }
  if (AtLeastBound(g, o.bands.no_target_at_risk())) {
    return v1::PROGRESS_STATUS_AT_RISK;
  }
  return v1::PROGRESS_STATUS_MOVING_AWAY;
}

bool IsWarningStatus(ProgressStatus s) {
  return s == v1::PROGRESS_STATUS_NEEDS_ACCELERATION || s == v1::PROGRESS_STATUS_AT_RISK ||
         s == v1::PROGRESS_STATUS_MOVING_AWAY;
}

Severity Max(Severity a, Severity b) { return a > b ? a : b; }

Severity StatusSeverity(ProgressStatus s) {
  switch (s) {
    case v1::PROGRESS_STATUS_NEEDS_ACCELERATION:
      return v1::SEVERITY_YELLOW;
    case v1::PROGRESS_STATUS_AT_RISK:
      return v1::SEVERITY_ORANGE;
    case v1::PROGRESS_STATUS_MOVING_AWAY:
    case v1::PROGRESS_STATUS_MISSED:
      return v1::SEVERITY_RED;
    default:
      return v1::SEVERITY_UNSPECIFIED;
  }
}

void SetKind(Assessment* a, WarningKind kind) {
  a->warning_kind = kind;
  a->severity = SeverityFor(kind, a->status);
}

void NotAssessable(Assessment* a, NotAssessableReason reason) {
  a->status = v1::PROGRESS_STATUS_NOT_ASSESSABLE;
  a->reason = reason;
  a->warning_kind = v1::WARNING_KIND_UNSPECIFIED;
  a->severity = v1::SEVERITY_UNSPECIFIED;
}

void SetBaseAndCurrent(const Pt& base, const Pt& current, const MethodOptions& o, int pool_years,
                       bool pooled, Assessment* a) {
  a->figures.set_base_year(base.year);
  a->figures.set_base_value(base.value);
  a->figures.set_current_year(current.year);
  a->figures.set_current_value(current.value);
  const int expected_base = pooled ? o.base_year + pool_years - 1 : o.base_year;
  a->base_year_substituted = base.year != expected_base;
}

// The evaluation context of one target.
struct Ctx {
  const Indicator& indicator;
  const MethodOptions& options;
  bool pooled = false;
};

// CAGR base → current with the zero and sign rules; nullopt on a sign
// change.
std::optional<double> ActualCagr(const Pt& base, const Pt& current, const MethodOptions& o) {
  const double y0 = NonZero(base.value, o);
  const double yt = current.value;
  if (y0 * yt < 0) {
    return std::nullopt;
  }
  return Cagr(yt, y0, current.year, base.year);
}

void RuleCheck(const Ctx& c, const std::function<bool(double)>& meets, double target_value,
               int target_year, int from_year, const Pts& pts, Assessment* a);

// Progress toward a target with a number. `meets` says whether a value
// meets the target; d is +1 (higher is better) or −1.
void NumberedProgress(const Ctx& c, const std::function<bool(double)>& meets, int d,
                      double target_value, int target_year, const Pts& pts, Assessment* a) {
  const MethodOptions& o = c.options;
  if (target_year <= 0) {
    // A number that holds every year is a rule, not a path to a year.
    RuleCheck(c, meets, target_value, 0, o.base_year, pts, a);
    return;
  }
  a->figures.set_target_year(target_year);
  a->figures.set_target_value(target_value);
  if (pts.empty()) {
    NotAssessable(a, NotAssessableReason::kNoData);
    return;
  }
  const Pt& base = pts.front();
  const Pt* current = &pts.back();
  const bool passed = current->year >= target_year;
  if (passed) {
    for (const Pt& p : pts) {
      if (p.year >= target_year) {
        current = &p;
        break;
      }
    }
  }
  SetBaseAndCurrent(base, *current, o, o.pool_years, c.pooled, a);
  const bool two_points = current->year > base.year;
  if (two_points) {
    if (std::optional<double> cagr = ActualCagr(base, *current, o)) {
      a->figures.set_actual_annual_rate(*cagr);
    }
  }
  if (passed) {
    a->status = meets(current->value) ? v1::PROGRESS_STATUS_ACHIEVED : v1::PROGRESS_STATUS_MISSED;
    if (a->status == v1::PROGRESS_STATUS_MISSED) {
      SetKind(a, v1::WARNING_KIND_MISSED);
    }
    return;
  }
  if (meets(current->value)) {
    a->status = v1::PROGRESS_STATUS_ACHIEVED;
    return;
  }
  for (const Pt& p : pts) {
    if (p.year < current->year && meets(p.value)) {
      a->slipped_from_year = p.year;
    }
  }
  if (!two_points) {
    NotAssessable(a, NotAssessableReason::kTooFewYears);
    return;
  }
  const double y0 = NonZero(base.value, o);
  const double yt = current->value;
  const double y_target = NonZero(target_value, o);
  if (y0 * yt < 0 || y0 * y_target < 0) {
    a->figures.clear_actual_annual_rate();
    NotAssessable(a, NotAssessableReason::kSignChange);
    return;
  }
  const int t0 = base.year;
  const int t = current->year;
  const int big_t = target_year;
  const double cagr_actual = Cagr(yt, y0, t, t0);
  const double cagr_needed_from_base = Cagr(y_target, y0, big_t, t0);
  if (cagr_needed_from_base == 0) {
    // The base sits on the target itself: P is undefined; the sign of the
    // actual change decides.
    const double g = d * cagr_actual;
    a->status = g > 0    ? v1::PROGRESS_STATUS_ON_TRACK
                : g == 0 ? v1::PROGRESS_STATUS_AT_RISK
                         : v1::PROGRESS_STATUS_MOVING_AWAY;
  } else {
    const double p = d * cagr_actual / std::fabs(cagr_needed_from_base);
    a->figures.set_progress(p);
    a->status = BandP(p, o);
  }
  a->figures.set_projected_value(yt * std::pow(1.0 + cagr_actual, big_t - t));
  const double yt_nonzero = NonZero(yt, o);
  if (y_target / yt_nonzero > 0) {
    a->figures.set_required_annual_rate(Cagr(y_target, yt_nonzero, big_t, t));
  }
  if (a->slipped_from_year > 0) {
    SetKind(a, v1::WARNING_KIND_SLIPPED);
  } else if (IsWarningStatus(a->status)) {
    SetKind(a, v1::WARNING_KIND_PROGRESS);
  }
}

// Targets without a number: d·CAGR against the no-target bands.
void NoTargetProgress(const Ctx& c, int d, int target_year, const Pts& pts, Assessment* a) {
  const MethodOptions& o = c.options;
  a->figures.set_target_year(target_year);
  if (pts.empty()) {
    NotAssessable(a, NotAssessableReason::kNoData);
    return;
  }
  const Pt& base = pts.front();
  const Pt* current = &pts.back();
  const bool passed = target_year > 0 && current->year >= target_year;
  if (passed) {
    for (const Pt& p : pts) {
      if (p.year >= target_year) {
        current = &p;
        break;
      }
    }
  }
  SetBaseAndCurrent(base, *current, o, o.pool_years, c.pooled, a);
  if (current->year <= base.year) {
    NotAssessable(a, NotAssessableReason::kTooFewYears);
    return;
  }
  std::optional<double> cagr = ActualCagr(base, *current, o);
  if (!cagr.has_value()) {
    NotAssessable(a, NotAssessableReason::kSignChange);
    return;
  }
  const double g = d * *cagr;
  a->figures.set_actual_annual_rate(*cagr);
  a->figures.set_progress(g);
  if (passed) {
    a->status = g > 0 ? v1::PROGRESS_STATUS_ACHIEVED : v1::PROGRESS_STATUS_MISSED;
    if (a->status == v1::PROGRESS_STATUS_MISSED) {
      SetKind(a, v1::WARNING_KIND_MISSED);
    }
    return;
  }
  a->status = BandNoTarget(g, o);
  if (target_year > 0) {
    a->figures.set_projected_value(current->value *
                                   std::pow(1.0 + *cagr, target_year - current->year));
  }
  if (IsWarningStatus(a->status)) {
    SetKind(a, v1::WARNING_KIND_PROGRESS);
  }
}

// Every point from `from_year` must meet the rule.
void RuleCheck(const Ctx& c, const std::function<bool(double)>& meets, double target_value,
               int target_year, int from_year, const Pts& pts, Assessment* a) {
  a->figures.set_target_year(target_year);
  a->figures.set_target_value(target_value);
  if (pts.empty()) {
    NotAssessable(a, NotAssessableReason::kNoData);
    return;
  }
  SetBaseAndCurrent(pts.front(), pts.back(), c.options, c.options.pool_years, c.pooled, a);
  if (std::optional<double> cagr =
          pts.size() > 1 ? ActualCagr(pts.front(), pts.back(), c.options) : std::nullopt) {
    a->figures.set_actual_annual_rate(*cagr);
  }
  for (const Pt& p : pts) {
    if (p.year >= from_year && !meets(p.value)) {
      a->broken_years.push_back({p.year, p.value, std::nullopt});
    }
  }
  if (!a->broken_years.empty()) {
    a->status = v1::PROGRESS_STATUS_MISSED;
    SetKind(a, v1::WARNING_KIND_RULE_BROKEN);
    return;
  }
  a->status = v1::PROGRESS_STATUS_ACHIEVED;
}

std::function<bool(double)> MeetsFor(Comparator cmp, double v) {
  switch (cmp) {
    case v1::COMPARATOR_AT_LEAST:
    case v1::COMPARATOR_MAINTAIN_AT_LEAST:
    case v1::COMPARATOR_INCREASE:
      return [v](double x) { return x >= v; };
    case v1::COMPARATOR_BELOW:
      return [v](double x) { return x < v; };
    default:  // AT_MOST, MAINTAIN_AT_MOST, DECREASE, DECREASE_EACH_YEAR, NARROW_GAP
      return [v](double x) { return x <= v; };
  }
}

int DirectionFor(Comparator cmp) {
  switch (cmp) {
    case v1::COMPARATOR_AT_LEAST:
    case v1::COMPARATOR_MAINTAIN_AT_LEAST:
    case v1::COMPARATOR_INCREASE:
      return +1;
    default:
      return -1;
  }
}

absl::Status ValidateTarget(const Indicator& indicator, const Target& target) {
  const Comparator cmp = target.comparator();
  auto bad = [&](const char* what) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s 目标无效：%s / invalid target: %s", indicator.id(), what, what));
  };
  if (cmp == v1::COMPARATOR_UNSPECIFIED || !v1::Comparator_IsValid(cmp)) {
    return bad("comparator unspecified");
  }
  const bool needs_value = cmp == v1::COMPARATOR_AT_LEAST || cmp == v1::COMPARATOR_AT_MOST ||
                           cmp == v1::COMPARATOR_BELOW || cmp == v1::COMPARATOR_ABOUT ||
                           cmp == v1::COMPARATOR_MAINTAIN_AT_LEAST ||
                           cmp == v1::COMPARATOR_MAINTAIN_AT_MOST;
  if (needs_value && !target.has_value()) {
    return bad("value missing");
  }
  if (target.has_value() && !std::isfinite(target.value())) {
    return bad("value not finite");
  }
  if (target.year() < 0) {
    return bad("negative year");
  }
  return absl::OkStatus();
}

Pts Gap(const Pts& a, const Pts& b) {
  Pts gap;
  size_t j = 0;
  for (const Pt& p : a) {
    while (j < b.size() && b[j].year < p.year) {
      ++j;
    }
    if (j < b.size() && b[j].year == p.year) {
      Pt g;
      g.year = p.year;
      g.value = std::fabs(p.value - b[j].value);
      gap.push_back(g);
    }
  }
  return gap;
}

// Attaches the Garwood interval of a pooled point.
absl::Status AttachInterval(const Indicator& indicator, const MethodOptions& o, const Pt& p,
                            v1::Figures* f) {
  f->set_few_events(true);
  f->set_event_count(p.numerator);
  absl::StatusOr<PoissonInterval> ci = GarwoodInterval(p.numerator, o.confidence_level);
  if (!ci.ok()) {
    return ci.status();
  }
  const double scale = Multiplier(indicator) / p.denominator;
  f->mutable_interval()->set_lower(ci->lower * scale);
  f->mutable_interval()->set_upper(ci->upper * scale);
  f->mutable_interval()->set_level(o.confidence_level);
  return absl::OkStatus();
}

}  // namespace

double EffectiveAboutTolerance(const Target& target, const MethodOptions& options) {
  return target.tolerance() > 0 ? target.tolerance() : options.default_about_tolerance;
}

Series SeriesFromProto(const google::protobuf::RepeatedPtrField<v1::SeriesPoint>& points) {
  Series series;
  series.reserve(points.size());
  for (const v1::SeriesPoint& p : points) {
    YearPoint y;
    y.year = p.year();
    if (p.has_value()) {
      y.value = p.value();
    }
    if (p.denominator() > 0 && !p.published()) {
      y.numerator = p.numerator();
      y.denominator = p.denominator();
    }
    y.incomplete = p.incomplete();
    y.contributing_areas = p.contributing_area_count();
    y.expected_areas = p.expected_area_count();
    y.published_areas = p.published_area_count();
    y.published = p.published();
    y.unapproved = p.contains_unapproved_data();
    y.parts = p.part_count();
    y.approved_parts = p.approved_part_count();
    series.push_back(y);
  }
  return series;
}

v1::TargetAssessment Assessment::ToProto() const {
  v1::TargetAssessment out;
  *out.mutable_target() = target;
  out.set_status(status);
  *out.mutable_figures() = figures;
  out.set_explanation_zh(explanation_zh);
  out.set_contains_unapproved_data(!unapproved_years.empty());
  for (int y : unapproved_years) {
    out.add_unapproved_years(y);
  }
  out.set_severity(severity);
  out.set_warning_kind(warning_kind);
  out.set_explanation_en(explanation_en);
  return out;
}

void SeriesSet::Put(v1::Sex sex, v1::Residence residence, Series series) {
  if (sex == v1::SEX_UNSPECIFIED) {
    sex = v1::SEX_TOTAL;
  }
  if (residence == v1::RESIDENCE_UNSPECIFIED) {
    residence = v1::RESIDENCE_ALL;
  }
  const std::pair<int, int> key{sex, residence};
  for (auto& entry : entries_) {
    if (entry.first == key) {
      entry.second = std::move(series);
      return;
    }
  }
  entries_.emplace_back(key, std::move(series));
}

const Series* SeriesSet::Find(v1::Sex sex, v1::Residence residence) const {
  if (sex == v1::SEX_UNSPECIFIED) {
    sex = v1::SEX_TOTAL;
  }
  if (residence == v1::RESIDENCE_UNSPECIFIED) {
    residence = v1::RESIDENCE_ALL;
  }
  const std::pair<int, int> key{sex, residence};
  for (const auto& entry : entries_) {
    if (entry.first == key) {
      return &entry.second;
    }
  }
  return nullptr;
}

Severity SeverityFor(WarningKind kind, ProgressStatus status) {
  switch (kind) {
    case v1::WARNING_KIND_PROGRESS:
      return StatusSeverity(status);
    case v1::WARNING_KIND_MISSED:
    case v1::WARNING_KIND_RULE_BROKEN:
      return v1::SEVERITY_RED;
    case v1::WARNING_KIND_SLIPPED:
      return Max(v1::SEVERITY_ORANGE, StatusSeverity(status));
    case v1::WARNING_KIND_OUT_OF_BAND:
      if (status == v1::PROGRESS_STATUS_MISSED) {
        return v1::SEVERITY_ORANGE;
      }
      return Max(v1::SEVERITY_YELLOW, StatusSeverity(status));
    case v1::WARNING_KIND_LATE_DATA:
      return LateDataSeverity(0, MethodOptions{});
    case v1::WARNING_KIND_FLUCTUATION:
    case v1::WARNING_KIND_DATA_QUALITY:
      return v1::SEVERITY_YELLOW;
    default:
      return v1::SEVERITY_UNSPECIFIED;
  }
}

Severity LateDataSeverity(int days_overdue, const MethodOptions& options) {
  if (days_overdue < 0) {
    return v1::SEVERITY_UNSPECIFIED;
  }
  if (days_overdue >= options.late_red_after_days) {
    return v1::SEVERITY_RED;
  }
  if (days_overdue >= options.late_orange_after_days) {
    return v1::SEVERITY_ORANGE;
  }
  return v1::SEVERITY_YELLOW;
}

absl::StatusOr<Assessment> AssessTarget(const Indicator& indicator, const Target& target,
                                        const Series& series, const MethodOptions& options,
                                        const Series* other) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateTarget(indicator, target); !s.ok()) {
    return s;
  }
  Assessment a;
  a.target = target;
  const Comparator cmp = target.comparator();
  const bool every_year = target.every_year() || target.year() == 0;
  const int target_year = every_year ? 0 : target.year();
  if (indicator.kind() == v1::INDICATOR_KIND_QUALITATIVE) {
    a.figures.set_target_year(target_year);
    NotAssessable(&a, NotAssessableReason::kQualitative);
    ExplainAssessment(indicator, options, &a);
    return a;
  }
  absl::StatusOr<Pts> raw = Normalize(indicator, series, options);
  if (!raw.ok()) {
    return raw.status();
  }
  Ctx c{indicator, options, false};
  const double multiplier = Multiplier(indicator);
  auto prepare = [&](const Pts& in, bool* pooled) -> Pts {
    *pooled = IsRare(indicator, in, options);
    if (*pooled) {
      return From(Pool(in, options.pool_years, multiplier),
                  options.base_year + options.pool_years - 1);
    }
    return From(in, options.base_year);
  };
  Pts pts = prepare(*raw, &c.pooled);

  if (cmp == v1::COMPARATOR_NARROW_GAP) {
    Pts other_pts;
    bool other_pooled = false;
    if (other != nullptr) {
      absl::StatusOr<Pts> o = Normalize(indicator, *other, options);
      if (!o.ok()) {
        return o.status();
      }
      other_pts = prepare(*o, &other_pooled);
    }
    c.pooled = c.pooled || other_pooled;
    if (pts.empty() || other_pts.empty()) {
      a.figures.set_target_year(target_year);
      // The reason is what is actually missing: a group without any data
      // (one of two: kNoComparisonSeries; both: kNoData); with data in both
      // groups, too few pooled windows (rare events) or nothing from the
      // base year on.
      const bool own_raw = !raw->empty();
      bool other_raw = false;
      if (other != nullptr) {
        absl::StatusOr<Pts> o = Normalize(indicator, *other, options);
        other_raw = o.ok() && !o->empty();
      }
      NotAssessableReason reason = NotAssessableReason::kNoData;
      if (own_raw != other_raw) {
        reason = NotAssessableReason::kNoComparisonSeries;
      } else if (own_raw && other_raw && c.pooled) {
        reason = NotAssessableReason::kTooFewPooledYears;
      }
      NotAssessable(&a, reason);
      a.pooled = c.pooled;
      ExplainAssessment(indicator, options, &a);
      return a;
    }
    pts = Gap(pts, other_pts);
    // The interval belongs to a single series; a gap carries none.
    if (!pts.empty() && pts.back().value == 0 &&
        !(target_year > 0 && pts.back().year >= target_year)) {
      a.figures.set_target_year(target_year);
      if (target.has_value()) {
        a.figures.set_target_value(target.value());
      }
      SetBaseAndCurrent(pts.front(), pts.back(), options, options.pool_years, c.pooled, &a);
      a.status = v1::PROGRESS_STATUS_ACHIEVED;
    } else if (target.has_value()) {
      NumberedProgress(c, MeetsFor(cmp, target.value()), -1, target.value(), target_year, pts, &a);
    } else {
      NoTargetProgress(c, -1, target_year, pts, &a);
    }
  } else {
    switch (cmp) {
      case v1::COMPARATOR_AT_LEAST:
      case v1::COMPARATOR_AT_MOST:
      case v1::COMPARATOR_BELOW:
        if (every_year) {
          RuleCheck(c, MeetsFor(cmp, target.value()), target.value(), 0, options.base_year, pts,
                    &a);
        } else {
          NumberedProgress(c, MeetsFor(cmp, target.value()), DirectionFor(cmp), target.value(),
                           target_year, pts, &a);
        }
        break;
      case v1::COMPARATOR_INCREASE:
      case v1::COMPARATOR_DECREASE:
        if (target.has_value()) {
          NumberedProgress(c, MeetsFor(cmp, target.value()), DirectionFor(cmp), target.value(),
                           target_year, pts, &a);
        } else {
          NoTargetProgress(c, DirectionFor(cmp), target_year, pts, &a);
        }
        break;
      case v1::COMPARATOR_MAINTAIN_AT_LEAST:
      case v1::COMPARATOR_MAINTAIN_AT_MOST: {
        const auto meets = MeetsFor(cmp, target.value());
        if (every_year) {
          RuleCheck(c, meets, target.value(), 0, options.base_year, pts, &a);
          break;
        }
        int first_met = 0;
        for (const Pt& p : pts) {
          if (meets(p.value)) {
            first_met = p.year;
            break;
          }
        }
        if (first_met == 0) {
          NumberedProgress(c, meets, DirectionFor(cmp), target.value(), target_year, pts, &a);
        } else {
          RuleCheck(c, meets, target.value(), target_year, first_met, pts, &a);
        }
        break;
      }
      case v1::COMPARATOR_DECREASE_EACH_YEAR: {
        Assessment rule = a;
        for (size_t i = 1; i < pts.size(); ++i) {
          if (pts[i].value > pts[i - 1].value) {
            rule.broken_years.push_back({pts[i].year, pts[i].value, pts[i - 1].value});
          }
        }
        if (target.has_value()) {
          NumberedProgress(c, MeetsFor(cmp, target.value()), -1, target.value(), target_year, pts,
                           &a);
        } else {
          NoTargetProgress(c, -1, target_year, pts, &a);
        }
        if (!rule.broken_years.empty()) {
          a.broken_years = std::move(rule.broken_years);
          a.status = v1::PROGRESS_STATUS_MISSED;
          a.reason = NotAssessableReason::kNone;
          SetKind(&a, v1::WARNING_KIND_RULE_BROKEN);
        }
        break;
      }
      case v1::COMPARATOR_ABOUT: {
        const double v = target.value();
        const double tol = EffectiveAboutTolerance(target, options);
        auto inside = [v, tol](double x) { return x >= v - tol && x <= v + tol; };
        if (every_year) {
          a.figures.set_target_year(0);
          a.figures.set_target_value(v);
          if (pts.empty()) {
            NotAssessable(&a, NotAssessableReason::kNoData);
            break;
          }
          SetBaseAndCurrent(pts.front(), pts.back(), options, options.pool_years, c.pooled, &a);
          // 「保持在…左右」 holds in every year from the base year.
          for (const Pt& p : pts) {
            if (!inside(p.value)) {
              a.broken_years.push_back({p.year, p.value, std::nullopt});
            }
          }
          if (a.broken_years.empty()) {
            a.status = v1::PROGRESS_STATUS_ACHIEVED;
          } else {
            a.status = v1::PROGRESS_STATUS_MISSED;
            SetKind(&a, v1::WARNING_KIND_OUT_OF_BAND);
          }
          break;
        }
        int d = +1;
        if (!pts.empty()) {
          d = pts.back().value < v ? +1 : -1;
        }
        NumberedProgress(c, inside, d, v, target_year, pts, &a);
        const bool outside =
            !pts.empty() && a.figures.has_current_value() && !inside(a.figures.current_value());
        if (outside && a.status != v1::PROGRESS_STATUS_MISSED) {
          if (a.warning_kind != v1::WARNING_KIND_SLIPPED) {
            SetKind(&a, v1::WARNING_KIND_OUT_OF_BAND);
          }
        }
        break;
      }
      default:
        return absl::InvalidArgumentError("unknown comparator");
    }
  }
  a.pooled = c.pooled;
  if (c.pooled && cmp != v1::COMPARATOR_NARROW_GAP) {
    if (a.status == v1::PROGRESS_STATUS_NOT_ASSESSABLE &&
        (a.reason == NotAssessableReason::kNoData ||
         a.reason == NotAssessableReason::kTooFewYears) &&
        !raw->empty()) {
      a.reason = NotAssessableReason::kTooFewPooledYears;
    }
    if (a.figures.has_current_value()) {
      for (const Pt& p : pts) {
        if (p.year == a.figures.current_year()) {
          if (absl::Status s = AttachInterval(indicator, options, p, &a.figures); !s.ok()) {
            return s;
          }
        }
      }
    }
    a.figures.set_few_events(true);
  } else if (c.pooled) {
    a.figures.set_few_events(true);
  }
  ExplainAssessment(indicator, options, &a);
  return a;
}

absl::StatusOr<FluctuationResult> AssessFluctuation(const Indicator& indicator,
                                                    const Series& series,
                                                    const MethodOptions& options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) {
    return s;
  }
  FluctuationResult r;
  if (indicator.kind() == v1::INDICATOR_KIND_QUALITATIVE) {
    ExplainFluctuation(indicator, options, &r);
    return r;
  }
  absl::StatusOr<Pts> pts_or = Normalize(indicator, series, options);
  if (!pts_or.ok()) {
    return pts_or.status();
  }
  const Pts& pts = *pts_or;
  if (pts.size() < 2) {
    if (!pts.empty()) {
      r.figures.set_current_year(pts.back().year);
      r.figures.set_current_value(pts.back().value);
    }
    ExplainFluctuation(indicator, options, &r);
    return r;
  }
  const Pt& cur = pts.back();
  const Pt& prev = pts[pts.size() - 2];
  std::vector<double> changes;
  for (size_t i = 1; i < pts.size(); ++i) {
    changes.push_back((pts[i].value - pts[i - 1].value) / (pts[i].year - pts[i - 1].year));
  }
  const double latest = changes.back();
  r.figures.set_base_year(prev.year);
  r.figures.set_base_value(prev.value);
  r.figures.set_current_year(cur.year);
  r.figures.set_current_value(cur.value);
  r.figures.set_latest_change(latest);
  r.gap_years = cur.year - prev.year;
  if (prev.value != 0) {
    // Per year: points years apart (a survey every few years) are judged
    // on their yearly pace, not on the change of the whole gap.
    if (prev.value > 0 && cur.value >= 0) {
      r.relative_change = std::pow(cur.value / prev.value, 1.0 / r.gap_years) - 1.0;
    } else {
      r.relative_change = (cur.value - prev.value) / std::fabs(prev.value) / r.gap_years;
    }
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  };
  bool z_used = false;
  if (static_cast<int>(changes.size()) >= options.min_changes_for_z_score) {
    const double med = median(changes);
    std::vector<double> deviations;
    for (double d : changes) {
      deviations.push_back(std::fabs(d - med));
    }
    const double mad = median(deviations);
    // Equal changes of decimal figures (75.0, 75.3, 75.6 …) differ by
    // rounding noise only: such a MAD is zero, not a divisor.
    double scale = 0;
    for (double d : changes) {
      scale = std::max(scale, std::fabs(d));
    }
    if (mad > 1e-9 * scale) {
      z_used = true;
      const double z = 0.6745 * std::fabs(latest - med) / mad;
      r.method = FluctuationMethod::kModifiedZScore;
      r.threshold = options.fluctuation_z_threshold;
      r.figures.set_modified_z_score(z);
      r.exceeds_threshold = z > options.fluctuation_z_threshold;
    }
  }
  if (!z_used) {
    r.method = FluctuationMethod::kRelativeChange;
    r.threshold = indicator.fluctuation_threshold() > 0 ? indicator.fluctuation_threshold()
                                                        : options.default_relative_threshold;
    r.exceeds_threshold =
        r.relative_change.has_value() && std::fabs(*r.relative_change) > r.threshold;
  }
  r.warns = r.exceeds_threshold;
  if (IsRare(indicator, pts, options) && cur.has_fraction) {
    if (absl::Status s = AttachInterval(indicator, options, cur, &r.figures); !s.ok()) {
      return s;
    }
    double num = 0;
    double den = 0;
    for (const Pt& p : pts) {
      if (p.has_fraction && p.year < cur.year && p.year >= cur.year - options.pool_years) {
        num += p.numerator;
        den += p.denominator;
      }
    }
    if (den > 0) {
      const double pooled = num / den * Multiplier(indicator);
      r.previous_pooled_value = pooled;
      r.explained_by_interval =
          pooled >= r.figures.interval().lower() && pooled <= r.figures.interval().upper();
      if (r.explained_by_interval) {
        r.warns = false;
      }
    }
  }
  ExplainFluctuation(indicator, options, &r);
  return r;
}

absl::StatusOr<IndicatorEvaluation> EvaluateIndicator(const Indicator& indicator,
                                                      const SeriesSet& all_series,
                                                      const MethodOptions& options) {
  IndicatorEvaluation out;
  static const Series kEmpty;
  // With approved_only, points with unapproved data are left out like
  // incomplete ones (and noted as such); otherwise they are used and noted.
  const SeriesSet noted_series =
      options.approved_only ? UnapprovedAsLeftOut(all_series) : all_series;
  // Only complete points are the area's figures (coverage.h).
  const SeriesSet series = CompletePointsOnly(noted_series);
  for (const Target& target : indicator.targets()) {
    const Series* a = nullptr;
    const Series* b = nullptr;
    if (target.comparator() == v1::COMPARATOR_NARROW_GAP) {
      if (target.gap_dimension() == v1::GAP_DIMENSION_RESIDENCE) {
        a = series.Find(target.sex(), v1::RESIDENCE_URBAN);
        b = series.Find(target.sex(), v1::RESIDENCE_RURAL);
      } else {
        a = series.Find(v1::SEX_FEMALE, target.residence());
        b = series.Find(v1::SEX_MALE, target.residence());
      }
    } else {
      a = series.Find(target.sex(), target.residence());
    }
    absl::StatusOr<Assessment> assessment = AssessTarget(
        indicator, target, a != nullptr ? *a : kEmpty, options,
        b != nullptr ? b : (target.comparator() == v1::COMPARATOR_NARROW_GAP ? &kEmpty : nullptr));
    if (!assessment.ok()) {
      return assessment.status();
    }
    NoteCoverage(indicator, options, TargetSeries(noted_series, target), &*assessment);
    NoteUnapproved(options, TargetSeries(series, target), &*assessment);
    out.assessments.push_back(std::move(*assessment));
  }
  const Series* total = series.Find(v1::SEX_TOTAL, v1::RESIDENCE_ALL);
  absl::StatusOr<FluctuationResult> fluctuation =
      AssessFluctuation(indicator, total != nullptr ? *total : kEmpty, options);
  if (!fluctuation.ok()) {
    return fluctuation.status();
  }
  NoteCoverage(indicator, options, noted_series.Find(v1::SEX_TOTAL, v1::RESIDENCE_ALL),
               &*fluctuation);
  NoteUnapproved(options, total, &*fluctuation);
  out.fluctuation = std::move(*fluctuation);
  return out;
}

}  // namespace halfsky::evaluation
