#include "services/evaluation/service/evaluator.h"

#include <algorithm>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "common/cache/cache_layout.h"
#include "common/proto/timestamp.h"
#include "common/status/status.h"
#include "google/protobuf/util/time_util.h"
#include "services/evaluation/method/data_warnings.h"
#include "services/evaluation/service/service_metrics.h"

namespace halfsky::evaluation {
namespace {

using ::halfsky::v1::Indicator;
using ::halfsky::v1::ProgressStatus;
using ::halfsky::v1::SeriesPoint;
using ::halfsky::v1::Warning;

Series ToSeries(const std::vector<SeriesPoint>& points) {
  google::protobuf::RepeatedPtrField<SeriesPoint> field(points.begin(), points.end());
  return SeriesFromProto(field);
}

SeriesSet ToSeriesSet(const AreaSeries& area) {
  SeriesSet set;
  for (const auto& [spec, points] : area.series) {
    set.Put(spec.sex, spec.residence, ToSeries(points));
  }
  return set;
}

// Worse statuses rank higher; NOT_ASSESSABLE lowest.
int StatusRank(ProgressStatus s) {
  switch (s) {
    case halfsky::v1::PROGRESS_STATUS_MISSED:
      return 7;
    case halfsky::v1::PROGRESS_STATUS_MOVING_AWAY:
      return 6;
    case halfsky::v1::PROGRESS_STATUS_AT_RISK:
      return 5;
    case halfsky::v1::PROGRESS_STATUS_NEEDS_ACCELERATION:
      return 4;
    case halfsky::v1::PROGRESS_STATUS_ON_TRACK:
      return 3;
    case halfsky::v1::PROGRESS_STATUS_ACHIEVED:
      return 2;
    case halfsky::v1::PROGRESS_STATUS_NOT_ASSESSABLE:
      return 1;
    case halfsky::v1::PROGRESS_STATUS_DATA_INCOMPLETE:
      return 1;  // as NOT_ASSESSABLE; see the tally, which prefers it
    default:
      return 0;
  }
}

// Warnings about a target (not fluctuation, data quality or late data).
bool IsTargetWarning(halfsky::v1::WarningKind kind) {
  return kind != halfsky::v1::WARNING_KIND_FLUCTUATION &&
         kind != halfsky::v1::WARNING_KIND_DATA_QUALITY &&
         kind != halfsky::v1::WARNING_KIND_LATE_DATA;
}

std::string UnitNameZh(const CatalogIndex& catalog, const std::string& code) {
  const halfsky::v1::MemberUnit* unit = catalog.FindMemberUnit(code);
  return unit != nullptr ? unit->name_zh() : code;
}

std::string UnitNameEn(const CatalogIndex& catalog, const std::string& code) {
  const halfsky::v1::MemberUnit* unit = catalog.FindMemberUnit(code);
  return unit != nullptr && !unit->name_en().empty() ? unit->name_en() : code;
}

// The words of coverage sentences for `area_code`: what its children are
// called (镇街 for towns and subdistricts) and the area as a whole (全区).
MethodOptions WithAreaWords(MethodOptions options, const CatalogIndex& catalog,
                            const std::string& area_code) {
  const halfsky::v1::Area* area = catalog.FindArea(area_code);
  if (area == nullptr) {
    return options;
  }
  // Several plans: the progress measure starts from the governing plan's
  // base year when it sets its own.
  if (const halfsky::v1::Plan* plan = catalog.GoverningPlan(area_code);
      plan != nullptr && plan->base_year() != 0) {
    options.base_year = plan->base_year();
  }
  switch (area->level()) {
    case halfsky::v1::AREA_LEVEL_DISTRICT:
      options.area_whole_zh = "全区";
      break;
    case halfsky::v1::AREA_LEVEL_PROVINCE:
      options.area_whole_zh = "全省";
      break;
    case halfsky::v1::AREA_LEVEL_CITY:
      options.area_whole_zh = "全市";
      break;
    case halfsky::v1::AREA_LEVEL_COUNTY:
      options.area_whole_zh = "全县";
      break;
    case halfsky::v1::AREA_LEVEL_TOWN:
      options.area_whole_zh = "全镇";
      break;
    case halfsky::v1::AREA_LEVEL_SUBDISTRICT:
      options.area_whole_zh = "全街道";
      break;
    default:
      break;
  }
  const auto children = catalog.Children(area_code);
  if (!children.empty()) {
    const auto level = children.front()->level();
    if (level == halfsky::v1::AREA_LEVEL_CITY) {
      options.child_areas_zh = "各市";
    } else if (level == halfsky::v1::AREA_LEVEL_DISTRICT ||
               level == halfsky::v1::AREA_LEVEL_COUNTY) {
      options.child_areas_zh = "各县区";
    } else if (level == halfsky::v1::AREA_LEVEL_TOWN ||
               level == halfsky::v1::AREA_LEVEL_SUBDISTRICT) {
      options.child_areas_zh = "镇街";
    } else if (level == halfsky::v1::AREA_LEVEL_VILLAGE ||
               level == halfsky::v1::AREA_LEVEL_COMMUNITY) {
      options.child_areas_zh = "村（社区）";
    }
  }
  return options;
}

// The indicator with only the targets of the plan governing `area_code`
// (Catalog.plans): each area is evaluated against its own plan. Without
// plans, the indicator itself (every target applies everywhere); otherwise
// a filtered copy in `storage`.
const Indicator& ForArea(const CatalogIndex& catalog, const Indicator& indicator,
                         const std::string& area_code, Indicator* storage) {
  if (catalog.catalog().plans().empty()) {
    return indicator;
  }
  *storage = indicator;
  storage->clear_targets();
  for (const auto& target : indicator.targets()) {
    if (catalog.TargetApplies(target, area_code)) {
      *storage->add_targets() = target;
    }
  }
  return *storage;
}

// The status an indicator counts in 达标率: the worst of its targets'
// (DATA_INCOMPLETE preferred to NOT_ASSESSABLE); NOT_ASSESSABLE for none.
ProgressStatus WorstStatus(const std::vector<Assessment>& assessments) {
  ProgressStatus worst = halfsky::v1::PROGRESS_STATUS_NOT_ASSESSABLE;
  for (const Assessment& a : assessments) {
    if (StatusRank(a.status) > StatusRank(worst) ||
        (a.status == halfsky::v1::PROGRESS_STATUS_DATA_INCOMPLETE &&
         worst == halfsky::v1::PROGRESS_STATUS_NOT_ASSESSABLE)) {
      worst = a.status;
    }
  }
  return worst;
}

// 达标率 over indicators: each indicator counts once, with its worst status.
// Assessed = every status but NOT_ASSESSABLE and DATA_INCOMPLETE; achieved =
// ACHIEVED, and ON_TRACK too unless the report is the final one.
struct Tally {
  std::map<int, int> counts;  // status → indicators
  int assessed = 0;
  int achieved = 0;

  void Add(ProgressStatus worst, bool final_report) {
    ++counts[worst];
    if (worst != halfsky::v1::PROGRESS_STATUS_NOT_ASSESSABLE &&
        worst != halfsky::v1::PROGRESS_STATUS_DATA_INCOMPLETE) {
      ++assessed;
      if (worst == halfsky::v1::PROGRESS_STATUS_ACHIEVED ||
          (!final_report && worst == halfsky::v1::PROGRESS_STATUS_ON_TRACK)) {
        ++achieved;
      }
    }
  }

  void Fill(halfsky::v1::DomainSummary* s) const {
    for (const auto& [status, count] : counts) {
      halfsky::v1::StatusCount* sc = s->add_status_counts();
      sc->set_status(static_cast<ProgressStatus>(status));
      sc->set_count(count);
    }
    s->set_assessed_count(assessed);
    s->set_achieved_count(achieved);
    s->set_achievement_rate_percent(assessed == 0 ? 0 : 100.0 * achieved / assessed);
  }
};

// Competition ranks ("1, 1, 3") of `keys`, best first by `better`; entries
// with no key (nullopt) get 0.
template <typename Better>
std::vector<int> Ranks(const std::vector<std::optional<double>>& keys, Better better) {
  std::vector<int> ranks(keys.size(), 0);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!keys[i].has_value()) {
      continue;
    }
    int rank = 1;
    for (size_t j = 0; j < keys.size(); ++j) {
      if (j != i && keys[j].has_value() && better(*keys[j], *keys[i])) {
        ++rank;
      }
    }
    ranks[i] = rank;
  }
  return ranks;
}

const SeriesPoint* PointOfYear(const std::vector<SeriesPoint>& points, int year) {
  for (const SeriesPoint& p : points) {
    if (p.year() == year && p.has_value()) {
      return &p;
    }
  }
  return nullptr;
}

// What a partial point covers: 「仅1/2个镇街报送」 when children are missing,
// else 「下级区域数据不完整」 (every child reported, some of them a part).
// `children_zh` names the children ("" → 下级区域).
std::string PartOf(const SeriesPoint& point, absl::string_view children_zh) {
  const std::string children = children_zh.empty() ? "下级区域" : std::string(children_zh);
  if (point.contributing_area_count() < point.expected_area_count()) {
    return absl::StrCat("仅", point.contributing_area_count(), "/", point.expected_area_count(),
                        "个", children, "报送");
  }
  return absl::StrCat(children, "数据不完整");
}

std::string AreaName(const CatalogIndex& catalog, const std::string& code) {
  const halfsky::v1::Area* area = catalog.FindArea(code);
  return area != nullptr ? area->name_zh() : code;
}

}  // namespace

GrpcReportingSource::GrpcReportingSource(std::shared_ptr<grpc::Channel> channel,
                                         std::string bearer_token, absl::Duration deadline)
    : stub_(halfsky::v1::SubmissionService::NewStub(channel)),
      token_(std::move(bearer_token)),
      deadline_(deadline) {}

absl::StatusOr<halfsky::v1::GetReportingStatusResponse> GrpcReportingSource::Get(int year,
                                                                                 absl::Time as_of) {
  grpc::ClientContext ctx;
  PrepareClientContext(&ctx, token_, deadline_);
  halfsky::v1::GetReportingStatusRequest request;
  request.set_year(year);
  *request.mutable_as_of() = ToTimestamp(as_of);
  halfsky::v1::GetReportingStatusResponse response;
  grpc::Status st = stub_->GetReportingStatus(&ctx, request, &response);
  if (!st.ok()) {
    return FromGrpcStatus(st);
  }
  return response;
}

Evaluator::Evaluator(std::shared_ptr<const CatalogIndex> catalog, SeriesSource* series,
                     ReportingSource* reporting, WarningEngine* engine, Clock* clock,
                     EvaluatorOptions options)
    : catalog_(std::move(catalog)),
      series_(series),
      reporting_(reporting),
      engine_(engine),
      clock_(clock),
      options_(std::move(options)) {
  if (catalog_->catalog().base_year() != 0) {
    options_.method.base_year = catalog_->catalog().base_year();
  }
  // The deployment's progress bands: the bounds the catalog sets replace
  // those of the options (the defaults unless a caller chose others).
  options_.method.bands.MergeFrom(catalog_->catalog().progress_bands());
}

Evaluator::~Evaluator() { Stop(); }

std::vector<std::string> Evaluator::EvaluatedAreas() const {
  std::vector<std::string> areas = {catalog_->RootArea().code()};
  // Level by level, down to area_depth levels below the root.
  size_t level_begin = 0;
  for (int depth = 1; depth <= options_.area_depth; ++depth) {
    const size_t level_end = areas.size();
    for (size_t i = level_begin; i < level_end; ++i) {
      for (const halfsky::v1::Area* child : catalog_->Children(areas[i])) {
        areas.push_back(child->code());
      }
    }
    if (areas.size() == level_end) {
      break;  // no deeper level
    }
    level_begin = level_end;
  }
  return areas;
}

absl::StatusOr<std::vector<Warning>> Evaluator::CandidateWarnings(
    const Indicator& indicator_in, const std::string& area_code, const AreaSeries& series,
    const MethodOptions& options) const {
  std::vector<Warning> out;
  if (indicator_in.kind() == halfsky::v1::INDICATOR_KIND_QUALITATIVE) {
    return out;
  }
  Indicator storage;
  const Indicator& indicator = ForArea(*catalog_, indicator_in, area_code, &storage);
  const halfsky::v1::Plan* plan = catalog_->GoverningPlan(area_code);
  HALFSKY_ASSIGN_OR_RETURN(
      IndicatorEvaluation eval,
      ::halfsky::evaluation::EvaluateIndicator(indicator, ToSeriesSet(series),
                                               WithAreaWords(options, *catalog_, area_code)));
  auto base = [&](halfsky::v1::WarningKind kind, int target_year) {
    Warning w;
    w.set_indicator_id(indicator.id());
    w.set_area_code(area_code);
    w.set_kind(kind);
    w.set_target_year(target_year);
    *w.mutable_responsible_unit_codes() = indicator.responsible_unit_codes();
    w.set_domain_id(indicator.domain_id());
    w.set_indicator_name_zh(indicator.name_zh());
    return w;
  };
  for (const Assessment& a : eval.assessments) {
    if (!a.warns()) {
      continue;
    }
    Warning w = base(a.warning_kind, a.target.every_year() ? 0 : a.target.year());
    w.set_severity(a.severity);
    w.set_status(a.status);
    *w.mutable_figures() = a.figures;
    w.set_explanation_zh(a.explanation_zh);
    w.set_explanation_en(a.explanation_en);
    if (plan != nullptr) {
      // Several plans: the warning names the plan whose target it is.
      w.set_plan_code(plan->code());
      w.set_explanation_zh(absl::StrCat(a.explanation_zh, "（评估依据：", plan->title_zh(), "）"));
      w.set_explanation_en(absl::StrCat(a.explanation_en, " (against plan ", plan->code(), ")"));
    }
    w.set_data_year(a.figures.current_year());
    out.push_back(std::move(w));
  }
  if (eval.fluctuation.warns) {
    Warning w = base(halfsky::v1::WARNING_KIND_FLUCTUATION, 0);
    w.set_severity(eval.fluctuation.severity());
    *w.mutable_figures() = eval.fluctuation.figures;
    w.set_explanation_zh(eval.fluctuation.explanation_zh);
    w.set_explanation_en(eval.fluctuation.explanation_en);
    w.set_data_year(eval.fluctuation.figures.current_year());
    out.push_back(std::move(w));
  }
  // Data quality: the latest figure was reported directly and disagrees
  // with the sum of the child areas (aggregation's children_mismatch).
  const halfsky::v1::Area* area = catalog_->FindArea(area_code);
  DataQualityResult quality = AssessDataQuality(
      indicator, area != nullptr ? area->name_zh() : area_code, series.Get(SeriesSpec{}), options);
  if (quality.warns) {
    Warning w = base(halfsky::v1::WARNING_KIND_DATA_QUALITY, 0);
    w.set_severity(quality.severity());
    *w.mutable_figures() = std::move(quality.figures);
    w.set_data_year(quality.data_year);
    w.set_explanation_zh(std::move(quality.explanation_zh));
    w.set_explanation_en(std::move(quality.explanation_en));
    out.push_back(std::move(w));
  }
  return out;
}

absl::Status Evaluator::EvaluateIndicator(const std::string& indicator_id) {
  const Indicator* indicator = catalog_->FindIndicator(indicator_id);
  if (indicator == nullptr) {
    return absl::NotFoundError(absl::StrCat("未知指标 / unknown indicator ", indicator_id));
  }
  absl::MutexLock pass(&pass_mu_);
  return EvaluateIndicatorLocked(*indicator, nullptr);
}

absl::Status Evaluator::EvaluatePending(const std::set<std::string>& ids) {
  absl::MutexLock pass(&pass_mu_);
  const absl::Time start = absl::Now();
  const std::vector<std::string> areas = EvaluatedAreas();
  // One per id, in order: its indicator (null: unknown) and the position
  // of its request (ReadMany answers in request order; kNoRequest: nothing
  // to read).
  constexpr size_t kNoRequest = static_cast<size_t>(-1);
  struct Pass {
    const std::string* id;
    const Indicator* indicator;
    size_t request;
  };
  std::vector<Pass> passes;
  std::vector<SeriesRequest> requests;
  for (const std::string& id : ids) {
    const Indicator* indicator = catalog_->FindIndicator(id);
    size_t request = kNoRequest;
    if (indicator != nullptr && indicator->kind() != halfsky::v1::INDICATOR_KIND_QUALITATIVE) {
      request = requests.size();
      requests.push_back(SeriesRequest{indicator, areas, NeededSeries(*indicator)});
    }
    passes.push_back(Pass{&id, indicator, request});
  }
  std::vector<IndicatorSnapshot> batch;
  if (requests.size() > 1) {
    absl::StatusOr<std::vector<IndicatorSnapshot>> read = series_->ReadMany(requests);
    if (read.ok() && read->size() == requests.size()) {
      batch = std::move(*read);
    }
  }
  // The shared read's time is spread over the passes it served.
  const absl::Duration read_share =
      batch.empty() ? absl::ZeroDuration() : (absl::Now() - start) / batch.size();
  absl::Status status;
  for (const Pass& p : passes) {
    // Null: the pass reads for itself (no batch) or has nothing to read.
    const IndicatorSnapshot* snapshot =
        batch.empty() || p.request == kNoRequest ? nullptr : &batch[p.request];
    const absl::Time pass_start = absl::Now();
    const absl::Status st =
        p.indicator == nullptr
            ? absl::NotFoundError(absl::StrCat("未知指标 / unknown indicator ", *p.id))
            : EvaluateIndicatorLocked(*p.indicator, snapshot);
    if (options_.metrics != nullptr) {
      options_.metrics->ObservePass(
          /*full=*/false,
          absl::Now() - pass_start + (snapshot == nullptr ? absl::ZeroDuration() : read_share),
          st.ok());
    }
    if (!st.ok() && status.ok()) {
      status = st;
    }
  }
  return status;
}

absl::Status Evaluator::EvaluateIndicatorLocked(const Indicator& indicator,
                                                const IndicatorSnapshot* given) {
  const std::string& indicator_id = indicator.id();
  std::vector<Warning> candidates;
  if (indicator.kind() != halfsky::v1::INDICATOR_KIND_QUALITATIVE) {
    const std::vector<std::string> areas = EvaluatedAreas();
    IndicatorSnapshot read;
    if (given == nullptr) {
      HALFSKY_ASSIGN_OR_RETURN(read, series_->Read(indicator, areas, NeededSeries(indicator)));
    }
    const IndicatorSnapshot& snapshot = given != nullptr ? *given : read;
    const std::string& root = catalog_->RootArea().code();
    // Per area: its latest data year and, per target year, the severity of
    // its own target warnings (suppressed or not). `areas` is level-ordered,
    // so an area's parent is judged before it.
    struct Judged {
      int latest = 0;
      std::map<int, halfsky::v1::Severity> severity;
    };
    std::map<std::string, Judged> judged;
    for (const AreaSeries& area : snapshot.areas) {
      const std::vector<SeriesPoint>& total = area.Get(SeriesSpec{});
      Judged& own = judged[area.area_code];
      if (!total.empty()) {
        own.latest = total.back().year();
      }
      HALFSKY_ASSIGN_OR_RETURN(std::vector<Warning> ws,
                               CandidateWarnings(indicator, area.area_code, area, options_.method));
      for (const Warning& w : ws) {
        if (IsTargetWarning(w.kind())) {
          halfsky::v1::Severity& s = own.severity[w.target_year()];
          s = std::max(s, w.severity());
        }
      }
      if (area.area_code == root) {
        std::move(ws.begin(), ws.end(), std::back_inserter(candidates));
        continue;
      }
      const halfsky::v1::Area* a = catalog_->FindArea(area.area_code);
      const std::string parent =
          a != nullptr && !a->parent_code().empty() ? a->parent_code() : root;
      const Judged& up = judged[parent];
      // An area warns only on data as complete as its parent's ...
      if (total.empty() || total.back().year() < up.latest) {
        continue;
      }
      const bool same_plan =
          catalog_->GoverningPlan(area.area_code) == catalog_->GoverningPlan(parent);
      for (Warning& w : ws) {
        // ... never on fluctuation (small populations swing), and on a
        // target of its parent's plan only where it is worse than the
        // parent as a whole (what the parent's own warning already says is
        // not repeated per town). An area under a plan of its own (a
        // district under the city's catalog) is judged against its own
        // targets, none suppressed.
        if (w.kind() == halfsky::v1::WARNING_KIND_FLUCTUATION) {
          continue;
        }
        if (IsTargetWarning(w.kind()) && same_plan) {
          auto it = up.severity.find(w.target_year());
          if (it != up.severity.end() && w.severity() <= it->second) {
            continue;
          }
        }
        candidates.push_back(std::move(w));
      }
    }
  }
  const std::string id = indicator_id;
  auto in_scope = [&id](const Warning& w) {
    return w.indicator_id() == id && w.kind() != halfsky::v1::WARNING_KIND_LATE_DATA;
  };
  return engine_->Reconcile(in_scope, std::move(candidates)).status();
}

absl::Status Evaluator::CheckLateData() {
  if (reporting_ == nullptr) {
    return absl::OkStatus();
  }
  absl::MutexLock pass(&pass_mu_);
  const absl::Time now = clock_->Now();
  const int base_year =
      catalog_->catalog().base_year() != 0 ? catalog_->catalog().base_year() : 2020;
  const int first_year =
      options_.first_reporting_year > 0 ? options_.first_reporting_year : base_year;
  int last_year = LocalYear(now);
  if (catalog_->catalog().final_year() != 0) {
    last_year = std::min(last_year, catalog_->catalog().final_year());
  }
  // (unit, year) → the unit's overdue indicators, in catalog order.
  struct Overdue {
    std::vector<const Indicator*> indicators;
    absl::Time earliest_due = absl::InfiniteFuture();
  };
  std::map<std::pair<std::string, int>, Overdue> overdue;
  for (int year = first_year; year <= last_year; ++year) {
    HALFSKY_ASSIGN_OR_RETURN(halfsky::v1::GetReportingStatusResponse response,
                             reporting_->Get(year, now));
    for (const auto& entry : response.entries()) {
      if (entry.state() != halfsky::v1::REPORTING_STATE_MISSING) {
        continue;
      }
      const Indicator* indicator = catalog_->FindIndicator(entry.indicator_id());
      if (indicator == nullptr) {
        continue;
      }
      // A figure nobody reported is its lead unit's to report; every
      // co-responsible unit has a MISSING entry for it too.
      if (indicator->kind() != halfsky::v1::INDICATOR_KIND_QUALITATIVE &&
          entry.unit_code() != CatalogIndex::LeadUnit(*indicator)) {
        continue;
      }
      Overdue& o = overdue[{entry.unit_code(), entry.year()}];
      o.indicators.push_back(indicator);
      o.earliest_due = std::min(o.earliest_due, catalog_->DueAt(*indicator, entry.year()));
    }
  }
  std::vector<Warning> candidates;
  const std::string root = catalog_->RootArea().code();
  for (const auto& [key, o] : overdue) {
    const auto& [unit, year] = key;
    Warning w;
    w.set_area_code(root);
    w.set_kind(halfsky::v1::WARNING_KIND_LATE_DATA);
    w.set_target_year(0);
    w.set_unit_code(unit);
    w.add_responsible_unit_codes(unit);
    w.set_data_year(year);
    w.mutable_figures()->set_current_year(year);
    LateDataInput input;
    input.unit_name_zh = UnitNameZh(*catalog_, unit);
    input.unit_name_en = UnitNameEn(*catalog_, unit);
    input.data_year = year;
    input.earliest_due = absl::CivilDay(absl::ToCivilSecond(o.earliest_due, DistrictTimeZone()));
    input.days_overdue = static_cast<int>(absl::ToInt64Hours(now - o.earliest_due) / 24);
    std::string domain = o.indicators.front()->domain_id();
    for (const Indicator* indicator : o.indicators) {
      w.add_missing_indicator_ids(indicator->id());
      if (indicator->domain_id() != domain) {
        domain.clear();
      }
      if (catalog_->DueAt(*indicator, year) != o.earliest_due) {
        input.same_due = false;
      }
      OverdueItem item;
      item.indicator = indicator;
      if (indicator->kind() != halfsky::v1::INDICATOR_KIND_QUALITATIVE) {
        for (const std::string& other : indicator->responsible_unit_codes()) {
          if (other != unit) {
            item.partner_names_zh.push_back(UnitNameZh(*catalog_, other));
            item.partner_names_en.push_back(UnitNameEn(*catalog_, other));
          }
        }
      }
      input.items.push_back(std::move(item));
    }
    LateDataResult late = AssessLateData(input, options_.method);
    w.set_days_overdue(input.days_overdue);
    w.set_severity(late.severity);
    w.set_domain_id(domain);
    w.set_indicator_name_zh(std::move(late.subject_zh));
    w.set_explanation_zh(std::move(late.explanation_zh));
    w.set_explanation_en(std::move(late.explanation_en));
    candidates.push_back(std::move(w));
  }
  auto in_scope = [](const Warning& w) { return w.kind() == halfsky::v1::WARNING_KIND_LATE_DATA; };
  return engine_->Reconcile(in_scope, std::move(candidates)).status();
}

absl::Status Evaluator::FullPass() {
  const absl::Time start = absl::Now();
  absl::Status first;
  for (const Indicator& indicator : catalog_->catalog().indicators()) {
    absl::Status st = EvaluateIndicator(indicator.id());
    if (!st.ok() && first.ok()) {
      first = st;
    }
    if (!st.ok() && absl::IsUnavailable(st)) {
      break;  // Inputs are down: the rest would fail the same way.
    }
  }
  absl::Status late = CheckLateData();
  if (!late.ok() && first.ok()) {
    first = late;
  }
  absl::Time finished = absl::InfinitePast();
  if (first.ok()) {
    absl::MutexLock lock(&mu_);
    last_full_ = clock_->Now();
    finished = last_full_;
  }
  if (options_.metrics != nullptr) {
    options_.metrics->ObservePass(/*full=*/true, absl::Now() - start, first.ok());
    if (first.ok()) {
      options_.metrics->SetLastFullPass(finished);
    }
  }
  return first;
}

absl::StatusOr<halfsky::v1::EvaluateResponse> Evaluator::Evaluate(
    const halfsky::v1::EvaluateRequest& request) {
  if (request.indicator_id().empty()) {
    return InvalidArgumentError("缺少指标 / indicator_id is required",
                                {{"indicator_id", "不能为空 / required"}});
  }
  const Indicator* indicator = catalog_->FindIndicator(request.indicator_id());
  if (indicator == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("未知指标 / unknown indicator ", request.indicator_id()));
  }
  const std::string area =
      request.area_code().empty() ? catalog_->RootArea().code() : request.area_code();
  if (catalog_->FindArea(area) == nullptr) {
    return absl::NotFoundError(absl::StrCat("未知区域 / unknown area ", area));
  }
  halfsky::v1::EvaluateResponse response;
  response.set_indicator_id(indicator->id());
  response.set_area_code(area);
  HALFSKY_ASSIGN_OR_RETURN(IndicatorSnapshot snapshot,
                           series_->Read(*indicator, {area}, NeededSeries(*indicator)));
  const AreaSeries& series = snapshot.areas.at(0);
  Indicator storage;
  HALFSKY_ASSIGN_OR_RETURN(IndicatorEvaluation eval,
                           ::halfsky::evaluation::EvaluateIndicator(
                               ForArea(*catalog_, *indicator, area, &storage), ToSeriesSet(series),
                               WithAreaWords(options_.method, *catalog_, area)));
  for (const Assessment& a : eval.assessments) {
    *response.add_assessments() = a.ToProto();
  }
  *response.mutable_fluctuation() = eval.fluctuation.figures;
  for (const SeriesPoint& p : series.Get(SeriesSpec{})) {
    *response.add_series() = p;
  }
  halfsky::v1::ListWarningsRequest filter;
  filter.set_indicator_id(indicator->id());
  filter.set_area_code(area);
  for (Warning& w : engine_->Snapshot(filter)) {
    *response.add_warnings() = std::move(w);
  }
  return response;
}

absl::StatusOr<halfsky::v1::EvaluationReport> Evaluator::Report(
    const halfsky::v1::GetEvaluationReportRequest& request) {
  const halfsky::v1::Catalog& cat = catalog_->catalog();
  // The years of the plan governing the area (several plans), else the
  // catalog's; an unknown area is refused below.
  const halfsky::v1::Plan* governing = catalog_->GoverningPlan(
      request.area_code().empty() ? catalog_->RootArea().code() : request.area_code());
  auto plan_year = [governing](int plan_value, int catalog_value, int fallback) {
    if (plan_value != 0) {
      return plan_value;
    }
    return catalog_value != 0 ? catalog_value : fallback;
  };
  const int midterm_year =
      plan_year(governing ? governing->midterm_year() : 0, cat.midterm_year(), 2025);
  const int final_year = plan_year(governing ? governing->final_year() : 0, cat.final_year(), 2030);
  const int base_year = plan_year(governing ? governing->base_year() : 0, cat.base_year(), 2020);
  int year = request.year();
  switch (request.type()) {
    case halfsky::v1::REPORT_TYPE_ANNUAL:
      if (year == 0) {
        year = LocalYear(clock_->Now()) - 1;
      }
      break;
    case halfsky::v1::REPORT_TYPE_MIDTERM:
      if (year == 0) {
        year = midterm_year;
      }
      break;
    case halfsky::v1::REPORT_TYPE_FINAL:
      if (year == 0) {
        year = final_year;
      }
      break;
    default:
      return InvalidArgumentError("报告类型无效 / invalid report type",
                                  {{"type",
                                    "须为 ANNUAL、MIDTERM 或 FINAL / must be ANNUAL, "
                                    "MIDTERM or FINAL"}});
  }
  const int first = base_year;
  const int last = final_year;
  if (year < first || year > last) {
    return InvalidArgumentError(
        "年份超出规划期 / year outside the plan period",
        {{"year",
          absl::StrCat("须在", first, "—", last, "之间 / must be within ", first, "–", last)}});
  }
  const std::string area =
      request.area_code().empty() ? catalog_->RootArea().code() : request.area_code();
  if (catalog_->FindArea(area) == nullptr) {
    return absl::NotFoundError(absl::StrCat("未知区域 / unknown area ", area));
  }
  MethodOptions method = WithAreaWords(options_.method, *catalog_, area);
  method.as_of_year = year;
  const bool final_report = request.type() == halfsky::v1::REPORT_TYPE_FINAL;

  halfsky::v1::EvaluationReport report;
  report.set_type(request.type());
  report.set_year(year);
  report.set_area_code(area);
  *report.mutable_generated_at() = ToTimestamp(clock_->Now());
  if (const halfsky::v1::Plan* plan = catalog_->GoverningPlan(area); plan != nullptr) {
    report.set_plan_code(plan->code());
  }
  report.set_plan_title_zh(catalog_->PlanTitle(area));

  // domain id → tally.
  std::map<std::string, Tally> tallies;
  Tally overall;
  for (const Indicator& catalog_indicator : cat.indicators()) {
    // Only the targets of the plan governing the area.
    Indicator storage;
    const Indicator& indicator = ForArea(*catalog_, catalog_indicator, area, &storage);
    if (indicator.targets().empty()) {
      continue;
    }
    halfsky::v1::IndicatorAssessment* ia = report.add_indicators();
    ia->set_indicator_id(indicator.id());
    ia->set_name_zh(indicator.name_zh());
    ia->set_domain_id(indicator.domain_id());
    ia->set_unit(indicator.unit());
    ProgressStatus worst = halfsky::v1::PROGRESS_STATUS_NOT_ASSESSABLE;
    if (indicator.kind() == halfsky::v1::INDICATOR_KIND_QUALITATIVE) {
      for (const auto& target : indicator.targets()) {
        halfsky::v1::TargetAssessment* ta = ia->add_assessments();
        *ta->mutable_target() = target;
        ta->set_status(halfsky::v1::PROGRESS_STATUS_NOT_ASSESSABLE);
        ta->set_explanation_zh("定性目标，依据年度工作进展评估。");
      }
    } else {
      HALFSKY_ASSIGN_OR_RETURN(IndicatorSnapshot snapshot,
                               series_->Read(indicator, {area}, NeededSeries(indicator)));
      const AreaSeries& series = snapshot.areas.at(0);
      HALFSKY_ASSIGN_OR_RETURN(
          IndicatorEvaluation eval,
          ::halfsky::evaluation::EvaluateIndicator(indicator, ToSeriesSet(series), method));
      for (const Assessment& a : eval.assessments) {
        *ia->add_assessments() = a.ToProto();
      }
      worst = WorstStatus(eval.assessments);
      for (const SeriesPoint& p : series.Get(SeriesSpec{})) {
        if (p.year() <= year) {
          *ia->add_series() = p;
        }
      }
    }
    for (Tally* t : {&tallies[indicator.domain_id()], &overall}) {
      t->Add(worst, final_report);
    }
  }
  for (const halfsky::v1::Domain& domain : cat.domains()) {
    halfsky::v1::DomainSummary* s = report.add_domains();
    s->set_domain_id(domain.id());
    s->set_name_zh(domain.name_zh());
    tallies[domain.id()].Fill(s);
  }
  report.mutable_overall()->set_name_zh("总体");
  overall.Fill(report.mutable_overall());
  HALFSKY_RETURN_IF_ERROR(CompareChildAreas(area, year, final_report, method, &report));
  halfsky::v1::ListWarningsRequest filter;
  filter.set_area_code(area);
  for (Warning& w : engine_->Snapshot(filter)) {
    *report.add_warnings() = std::move(w);
  }
  return report;
}

absl::Status Evaluator::CompareChildAreas(const std::string& area, int year, bool final_report,
                                          const MethodOptions& method,
                                          halfsky::v1::EvaluationReport* report) {
  const std::vector<const halfsky::v1::Area*>& children = catalog_->Children(area);
  const halfsky::v1::Plan* report_plan = catalog_->GoverningPlan(area);
  const bool compare =
      std::any_of(children.begin(), children.end(), [&](const halfsky::v1::Area* child) {
        return catalog_->GoverningPlan(child->code()) != report_plan;
      });
  if (!compare) {
    return absl::OkStatus();
  }
  const std::string& area_name = AreaName(*catalog_, area);
  const std::string& report_title = catalog_->PlanTitle(area);
  std::vector<std::string> codes = {area};
  for (const halfsky::v1::Area* child : children) {
    codes.push_back(child->code());
    halfsky::v1::ChildAreaComparison* c = report->add_child_areas();
    c->set_area_code(child->code());
    c->set_name_zh(child->name_zh());
    if (const halfsky::v1::Plan* plan = catalog_->GoverningPlan(child->code()); plan != nullptr) {
      c->set_plan_code(plan->code());
    }
    c->set_plan_title_zh(catalog_->PlanTitle(child->code()));
  }
  // Each child's own plan (its words, its plan's base year), and the report
  // area's plan with the child's words but that plan's base year.
  std::vector<MethodOptions> own_method;
  std::vector<MethodOptions> upper_method;
  for (const halfsky::v1::Area* child : children) {
    MethodOptions own = WithAreaWords(options_.method, *catalog_, child->code());
    own.as_of_year = year;
    MethodOptions upper = own;
    upper.base_year = method.base_year;
    own_method.push_back(own);
    upper_method.push_back(upper);
  }
  std::vector<Tally> own_tally(children.size());
  std::vector<Tally> upper_tally(children.size());
  for (const Indicator& catalog_indicator : catalog_->catalog().indicators()) {
    if (catalog_indicator.kind() == halfsky::v1::INDICATOR_KIND_QUALITATIVE) {
      continue;
    }
    Indicator upper_storage;
    const Indicator& upper = ForArea(*catalog_, catalog_indicator, area, &upper_storage);
    std::vector<Indicator> own(children.size());
    bool any_target = !upper.targets().empty();
    for (size_t i = 0; i < children.size(); ++i) {
      Indicator storage;
      own[i] = ForArea(*catalog_, catalog_indicator, children[i]->code(), &storage);
      any_target = any_target || !own[i].targets().empty();
    }
    if (!any_target) {
      continue;
    }
    // One snapshot for the report area and every child.
    HALFSKY_ASSIGN_OR_RETURN(
        IndicatorSnapshot snapshot,
        series_->Read(catalog_indicator, codes, NeededSeries(catalog_indicator)));
    // The comparison year: the latest up to the report year in which some
    // child has a complete figure (an approved one with approved_only); a
    // part never picks the year, or one district's early partial figure
    // would leave every other district unranked.
    // With approved_only the method leaves unapproved figures out like
    // parts; so does the comparison (no year, no gap, no rank).
    auto left_out = [&](const SeriesPoint& p) {
      return method.approved_only && p.contains_unapproved_data();
    };
    int compare_year = 0;
    for (size_t i = 0; i < children.size(); ++i) {
      for (const SeriesPoint& p : snapshot.areas.at(i + 1).Get(SeriesSpec{})) {
        if (p.has_value() && p.year() <= year && !p.incomplete() && !left_out(p)) {
          compare_year = std::max(compare_year, p.year());
        }
      }
    }
    const SeriesPoint* upper_point =
        PointOfYear(snapshot.areas.at(0).Get(SeriesSpec{}), compare_year);
    std::vector<std::optional<double>> keys(children.size());
    std::vector<halfsky::v1::ChildIndicatorComparison*> rows;
    for (size_t i = 0; i < children.size(); ++i) {
      const AreaSeries& series = snapshot.areas.at(i + 1);
      halfsky::v1::ChildIndicatorComparison* row =
          report->mutable_child_areas(static_cast<int>(i))->add_indicators();
      rows.push_back(row);
      row->set_indicator_id(catalog_indicator.id());
      row->set_name_zh(catalog_indicator.name_zh());
      row->set_unit(catalog_indicator.unit());
      row->set_year(compare_year);
      const SeriesSet set = ToSeriesSet(series);
      if (!own[i].targets().empty()) {
        HALFSKY_ASSIGN_OR_RETURN(IndicatorEvaluation eval, ::halfsky::evaluation::EvaluateIndicator(
                                                               own[i], set, own_method[i]));
        for (const Assessment& a : eval.assessments) {
          *row->add_own_plan_assessments() = a.ToProto();
        }
        row->set_own_plan_status(WorstStatus(eval.assessments));
        own_tally[i].Add(row->own_plan_status(), final_report);
      }
      if (!upper.targets().empty()) {
        HALFSKY_ASSIGN_OR_RETURN(IndicatorEvaluation eval, ::halfsky::evaluation::EvaluateIndicator(
                                                               upper, set, upper_method[i]));
        for (const Assessment& a : eval.assessments) {
          *row->add_report_plan_assessments() = a.ToProto();
        }
        row->set_report_plan_status(WorstStatus(eval.assessments));
        upper_tally[i].Add(row->report_plan_status(), final_report);
      }
      const SeriesPoint* point = PointOfYear(series.Get(SeriesSpec{}), compare_year);
      const std::string& name = children[i]->name_zh();
      std::string covers;
      if (compare_year == 0) {
        covers = absl::StrCat("截至", year, "年各区域均无数据");
      } else if (point == nullptr) {
        covers = absl::StrCat(compare_year, "年", name, "无数据，不排名");
      } else {
        *row->mutable_figure() = *point;
        if (upper_point != nullptr) {
          *row->mutable_report_area_figure() = *upper_point;
        }
        if (point->incomplete()) {
          covers = absl::StrCat(compare_year, "年", PartOf(*point, own_method[i].child_areas_zh),
                                "，为部分数，不与", area_name, "比较、不排名");
        } else if (left_out(*point)) {
          covers = absl::StrCat(compare_year, "年", name, "含未审核数据（仅评估已审核数据），不与",
                                area_name, "比较、不排名");
        } else {
          keys[i] = point->value();
          if (upper_point == nullptr) {
            covers = absl::StrCat(compare_year, "年；", area_name, "同年无数据，不计差距");
          } else if (upper_point->incomplete()) {
            covers = absl::StrCat(compare_year, "年；", area_name, "同年为部分数（",
                                  PartOf(*upper_point, method.child_areas_zh), "），不计差距");
          } else if (left_out(*upper_point)) {
            covers = absl::StrCat(compare_year, "年；", area_name,
                                  "同年含未审核数据（仅评估已审核数据），不计差距");
          } else {
            row->set_gap_to_report_area(point->value() - upper_point->value());
            covers = absl::StrCat(compare_year, "年；差距 = ", name, " − ", area_name);
          }
        }
        if (!method.approved_only &&
            (point->contains_unapproved_data() ||
             (upper_point != nullptr && upper_point->contains_unapproved_data()))) {
          absl::StrAppend(&covers, "（含未审核数据）");
        }
      }
      row->set_covers_zh(std::move(covers));
    }
    const halfsky::v1::Direction direction = catalog_indicator.direction();
    if (direction != halfsky::v1::DIRECTION_UNSPECIFIED) {
      const bool higher = direction == halfsky::v1::DIRECTION_HIGHER_IS_BETTER;
      const std::vector<int> ranks =
          Ranks(keys, [higher](double a, double b) { return higher ? a > b : a < b; });
      const int ranked = static_cast<int>(std::count_if(
          keys.begin(), keys.end(), [](const std::optional<double>& k) { return k.has_value(); }));
      for (size_t i = 0; i < rows.size(); ++i) {
        rows[i]->set_rank(ranks[i]);
        rows[i]->set_ranked_count(ranks[i] == 0 ? 0 : ranked);
      }
    }
  }
  std::vector<std::optional<double>> rates(children.size());
  for (size_t i = 0; i < children.size(); ++i) {
    halfsky::v1::ChildAreaComparison* c = report->mutable_child_areas(static_cast<int>(i));
    c->mutable_own_plan()->set_name_zh(c->plan_title_zh());
    own_tally[i].Fill(c->mutable_own_plan());
    c->mutable_report_plan()->set_name_zh(report_title);
    upper_tally[i].Fill(c->mutable_report_plan());
    if (upper_tally[i].assessed > 0) {
      rates[i] = c->report_plan().achievement_rate_percent();
    }
  }
  const std::vector<int> ranks = Ranks(rates, [](double a, double b) { return a > b; });
  const int ranked = static_cast<int>(std::count_if(
      rates.begin(), rates.end(), [](const std::optional<double>& r) { return r.has_value(); }));
  for (size_t i = 0; i < children.size(); ++i) {
    report->mutable_child_areas(static_cast<int>(i))->set_rank(ranks[i]);
    report->mutable_child_areas(static_cast<int>(i))->set_ranked_count(ranks[i] == 0 ? 0 : ranked);
  }
  report->set_child_areas_covers_zh(
      absl::StrCat("各下级区域的数值指标分别按其本级规划和", report_title, "评估（", year,
                   "年报告，各自的数据）；达标率 = 已达标", final_report ? "" : "或进展良好",
                   "的指标数 ÷ 可评估的指标数（数据不足、数据不完整的不计入）；"
                   "区域排名按",
                   report_title,
                   "的达标率（同一把尺子）；指标排名与差距用同一年的完整数据，"
                   "部分数不排名、不与",
                   area_name, "比较"));
  return absl::OkStatus();
}

absl::Status Evaluator::Start(RedisClient* redis) {
  {
    absl::MutexLock lock(&mu_);
    stop_ = false;
    full_pending_ = true;
  }
  worker_ = std::thread([this] { Run(); });
  if (redis != nullptr) {
    RedisSubscriptionCallbacks callbacks;
    callbacks.on_message = [this](const std::string&, const std::string& message) {
      OnUpdateMessage(message);
    };
    callbacks.on_subscribed = [this] { EnqueueFullPass(); };
    callbacks.on_disconnected = [](const absl::Status& st) {
      std::cerr << "halfsky-evaluation: update subscription lost: " << st << "\n";
    };
    absl::StatusOr<std::unique_ptr<RedisSubscription>> sub =
        redis->Subscribe({cache::kUpdatesChannel}, std::move(callbacks));
    if (!sub.ok()) {
      return sub.status();
    }
    subscription_ = std::move(*sub);
  }
  return absl::OkStatus();
}

void Evaluator::Stop() {
  subscription_.reset();
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  if (worker_.joinable()) {
    worker_.join();
  }
}

void Evaluator::Enqueue(const std::vector<std::string>& indicator_ids) {
  absl::MutexLock lock(&mu_);
  for (const std::string& id : indicator_ids) {
    pending_.insert(id);
  }
  cv_.Signal();
}

void Evaluator::EnqueueFullPass() {
  absl::MutexLock lock(&mu_);
  full_pending_ = true;
  cv_.Signal();
}

void Evaluator::OnUpdateMessage(const std::string& message) {
  absl::StatusOr<cache::UpdateMessage> parsed = cache::ParseUpdateMessage(message);
  if (!parsed.ok() || parsed->rebuild) {
    EnqueueFullPass();
    return;
  }
  absl::MutexLock lock(&mu_);
  for (const std::string& id : parsed->indicator_ids) {
    pending_.insert(id);
  }
  late_pending_ = true;
  cv_.Signal();
}

int64_t Evaluator::completed_passes() const {
  absl::MutexLock lock(&mu_);
  return completed_;
}

absl::Time Evaluator::last_full_pass() const {
  absl::MutexLock lock(&mu_);
  return last_full_;
}

void Evaluator::Run() {
  for (;;) {
    bool full = false;
    bool late = false;
    std::set<std::string> ids;
    {
      absl::MutexLock lock(&mu_);
      // A late-data re-check asked for by an update message waits for
      // late_allowed_: a write load publishes many messages, and each check
      // asks submission for every due year.
      auto late_due = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return late_pending_ ? std::min(next_late_, late_allowed_) : next_late_;
      };
      while (!stop_ && !full_pending_ && pending_.empty() &&
             absl::Now() < std::min(next_full_, late_due())) {
        cv_.WaitWithDeadline(&mu_, std::min(next_full_, late_due()));
      }
      if (stop_) {
        return;
      }
      const absl::Time now = absl::Now();
      if (full_pending_ || now >= next_full_) {
        full = true;
        full_pending_ = false;
        pending_.clear();  // covered by the full pass
      } else {
        ids.swap(pending_);
      }
      if (full || now >= late_due()) {
        late = true;
        late_pending_ = false;
        next_late_ = now + options_.late_data_interval;
        late_allowed_ = now + options_.late_data_min_interval;
      }
    }
    absl::Status status;
    if (full) {
      status = FullPass();
    } else {
      status = EvaluatePending(ids);
      // The figures behind these updates were just submitted: their
      // late-data warnings clear now (within late_data_min_interval), not at
      // the next full pass.
      if (late) {
        if (absl::Status st = CheckLateData(); !st.ok() && status.ok()) {
          status = st;
        }
      }
    }
    if (!status.ok()) {
      std::cerr << "halfsky-evaluation: evaluation pass failed (retrying): " << status << "\n";
    }
    absl::MutexLock lock(&mu_);
    ++completed_;
    const absl::Time now = absl::Now();
    if (full) {
      next_full_ = now + (status.ok() ? options_.full_pass_interval : options_.retry_interval);
    } else if (!status.ok()) {
      // Retry everything soon (the failed indicators are not tracked one by one).
      next_full_ = std::min(next_full_, now + options_.retry_interval);
    }
  }
}

}  // namespace halfsky::evaluation
