#include "services/evaluation/method/coverage.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace halfsky::evaluation {
namespace v1 = ::halfsky::v1;

namespace {

struct Noted {
  std::vector<YearPoint> incomplete;  // one per year, ascending
  std::set<int> published;            // years of complete published points
};

Noted Collect(const std::vector<const Series*>& series, const MethodOptions& options) {
  Noted out;
  std::set<int> seen;
  for (const Series* s : series) {
    if (s == nullptr) {
      continue;
    }
    for (const YearPoint& p : *s) {
      if (options.as_of_year > 0 && p.year > options.as_of_year) {
        continue;
      }
      if (p.incomplete) {
        if (seen.insert(p.year).second) {
          out.incomplete.push_back(p);
        }
      } else if (p.published) {
        out.published.insert(p.year);
      }
    }
  }
  std::sort(out.incomplete.begin(), out.incomplete.end(),
            [](const YearPoint& a, const YearPoint& b) { return a.year < b.year; });
  return out;
}

std::string YearsZh(const std::vector<int>& years) {
  return absl::StrCat(absl::StrJoin(years, "、"), "年");
}

std::string YearsEn(const std::vector<int>& years) { return absl::StrJoin(years, ", "); }

std::vector<int> YearsOf(const std::vector<YearPoint>& points) {
  std::vector<int> years;
  for (const YearPoint& p : points) {
    years.push_back(p.year);
  }
  return years;
}

std::string SubjectZh(const v1::Indicator& indicator, const v1::Target* target) {
  if (target == nullptr || target->comparator() != v1::COMPARATOR_NARROW_GAP) {
    return indicator.name_zh();
  }
  return indicator.name_zh() +
         (target->gap_dimension() == v1::GAP_DIMENSION_RESIDENCE ? "的城乡差距" : "的男女差距");
}

std::string SubjectEn(const v1::Indicator& indicator, const v1::Target* target) {
  const std::string name = indicator.name_en().empty() ? indicator.id() : indicator.name_en();
  if (target == nullptr || target->comparator() != v1::COMPARATOR_NARROW_GAP) {
    return name;
  }
  return absl::StrCat(
      "The ",
      target->gap_dimension() == v1::GAP_DIMENSION_RESIDENCE ? "urban–rural" : "female–male",
      " gap of ", name);
}

// 「（2023年数据不完整（2023年仅1/11个镇街报送），未计入评估。）」
void AppendLeftOut(const Noted& noted, const MethodOptions& options, const char* what_zh,
                   const char* what_en, std::string* zh, std::string* en) {
  std::vector<std::string> cov_zh;
  std::vector<std::string> cov_en;
  for (const YearPoint& p : noted.incomplete) {
    cov_zh.push_back(CoverageTextZh(p, options));
    cov_en.push_back(CoverageTextEn(p));
  }
  absl::StrAppend(zh, "（", YearsZh(YearsOf(noted.incomplete)), "数据不完整（",
                  absl::StrJoin(cov_zh, "，"), "），", what_zh, "。）");
  absl::StrAppend(en, " (", YearsEn(YearsOf(noted.incomplete)), ": incomplete data (",
                  absl::StrJoin(cov_en, "; "), "), ", what_en, ".)");
}

void AppendPublished(const v1::Indicator& indicator, const Noted& noted, std::string* zh,
                     std::string* en) {
  if (noted.published.empty()) {
    return;
  }
  const std::vector<int> years(noted.published.begin(), noted.published.end());
  const bool rate = indicator.kind() == v1::INDICATOR_KIND_RATE;
  absl::StrAppend(zh, "（", YearsZh(years), "为公布数，按公布值评估",
                  rate ? "，不按事件数合并" : "", "。）");
  absl::StrAppend(en, " (", YearsEn(years), ": published figure, assessed as published",
                  rate ? ", not pooled as events" : "", ".)");
}

}  // namespace

SeriesSet CompletePointsOnly(const SeriesSet& series) {
  SeriesSet out;
  for (const auto& [key, points] : series.entries()) {
    Series complete;
    complete.reserve(points.size());
    for (const YearPoint& p : points) {
      if (!p.incomplete) {
        complete.push_back(p);
      }
    }
    out.Put(static_cast<v1::Sex>(key.first), static_cast<v1::Residence>(key.second),
            std::move(complete));
  }
  return out;
}

SeriesSet UnapprovedAsLeftOut(const SeriesSet& series) {
  SeriesSet out;
  for (const auto& [key, points] : series.entries()) {
    Series marked = points;
    for (YearPoint& p : marked) {
      if (p.unapproved && !p.incomplete) {
        p.incomplete = true;
        p.unapproved_left_out = true;
      }
    }
    out.Put(static_cast<v1::Sex>(key.first), static_cast<v1::Residence>(key.second),
            std::move(marked));
  }
  return out;
}

namespace {

std::vector<int> UnapprovedYears(const MethodOptions& options,
                                 const std::vector<const Series*>& series) {
  std::set<int> years;
  for (const Series* s : series) {
    if (s == nullptr) {
      continue;
    }
    for (const YearPoint& p : *s) {
      if (p.unapproved && !p.incomplete &&
          (options.as_of_year <= 0 || p.year <= options.as_of_year)) {
        years.insert(p.year);
      }
    }
  }
  return {years.begin(), years.end()};
}

void AppendUnapproved(const std::vector<int>& years, std::string* zh, std::string* en) {
  absl::StrAppend(zh, "（含未审核数据：", YearsZh(years), "。）");
  absl::StrAppend(en, " (contains unapproved data: ", YearsEn(years), ".)");
}

}  // namespace

void NoteUnapproved(const MethodOptions& options, const std::vector<const Series*>& series,
                    Assessment* a) {
  if (options.approved_only) {
    return;
  }
  a->unapproved_years = UnapprovedYears(options, series);
  if (!a->unapproved_years.empty()) {
    AppendUnapproved(a->unapproved_years, &a->explanation_zh, &a->explanation_en);
  }
}

void NoteUnapproved(const MethodOptions& options, const Series* total, FluctuationResult* r) {
  if (options.approved_only) {
    return;
  }
  const std::vector<int> years = UnapprovedYears(options, {total});
  if (!years.empty()) {
    AppendUnapproved(years, &r->explanation_zh, &r->explanation_en);
  }
}

std::vector<const Series*> TargetSeries(const SeriesSet& series, const v1::Target& target) {
  std::vector<const Series*> out;
  auto add = [&](v1::Sex s, v1::Residence r) {
    if (const Series* found = series.Find(s, r)) {
      out.push_back(found);
    }
  };
  if (target.comparator() == v1::COMPARATOR_NARROW_GAP) {
    if (target.gap_dimension() == v1::GAP_DIMENSION_RESIDENCE) {
      add(target.sex(), v1::RESIDENCE_URBAN);
      add(target.sex(), v1::RESIDENCE_RURAL);
    } else {
      add(v1::SEX_FEMALE, target.residence());
      add(v1::SEX_MALE, target.residence());
    }
  } else {
    add(target.sex(), target.residence());
  }
  return out;
}

std::string CoverageTextZh(const YearPoint& p, const MethodOptions& options) {
  if (p.unapproved_left_out) {
    return absl::StrFormat("%d年含未审核数据（已审核%d/%d项），按设置只评估已审核数据", p.year,
                           p.approved_parts, p.parts);
  }
  if (p.expected_areas <= 0) {
    return absl::StrFormat("%d年%s报送不全", p.year, options.child_areas_zh);
  }
  std::string out = absl::StrFormat("%d年仅%d/%d个%s报送", p.year, p.contributing_areas,
                                    p.expected_areas, options.child_areas_zh);
  if (p.published_areas > 0) {
    absl::StrAppend(&out, "（另", p.published_areas, "个仅有公布数，未计入）");
  }
  return out;
}

std::string CoverageTextEn(const YearPoint& p) {
  if (p.unapproved_left_out) {
    return absl::StrFormat(
        "%d: contains unapproved data (%d of %d parts approved); only approved "
        "data is evaluated",
        p.year, p.approved_parts, p.parts);
  }
  if (p.expected_areas <= 0) {
    return absl::StrFormat("%d: not every child area reported", p.year);
  }
  std::string out = absl::StrFormat("%d: only %d of %d child areas reported", p.year,
                                    p.contributing_areas, p.expected_areas);
  if (p.published_areas > 0) {
    absl::StrAppend(&out, " (", p.published_areas, " more with a published figure only, left out)");
  }
  return out;
}

void NoteCoverage(const v1::Indicator& indicator, const MethodOptions& options,
                  const std::vector<const Series*>& series, Assessment* a) {
  const Noted noted = Collect(series, options);
  if (!noted.incomplete.empty()) {
    const bool not_assessable = a->status == v1::PROGRESS_STATUS_NOT_ASSESSABLE &&
                                (a->reason == NotAssessableReason::kNoData ||
                                 a->reason == NotAssessableReason::kTooFewYears ||
                                 a->reason == NotAssessableReason::kTooFewPooledYears ||
                                 a->reason == NotAssessableReason::kNoComparisonSeries);
    if (not_assessable) {
      a->status = v1::PROGRESS_STATUS_DATA_INCOMPLETE;
      a->reason = NotAssessableReason::kDataIncomplete;
      a->warning_kind = v1::WARNING_KIND_UNSPECIFIED;
      a->severity = v1::SEVERITY_UNSPECIFIED;
      a->pooled = false;
      v1::Figures kept;
      kept.set_target_year(a->figures.target_year());
      if (a->figures.has_target_value()) {
        kept.set_target_value(a->figures.target_value());
      }
      a->figures = kept;
      std::vector<std::string> cov_zh;
      std::vector<std::string> cov_en;
      for (const YearPoint& p : noted.incomplete) {
        cov_zh.push_back(CoverageTextZh(p, options));
        cov_en.push_back(CoverageTextEn(p));
      }
      const std::vector<int> years = YearsOf(noted.incomplete);
      const bool all_unapproved =
          std::all_of(noted.incomplete.begin(), noted.incomplete.end(),
                      [](const YearPoint& p) { return p.unapproved_left_out; });
      if (all_unapproved) {
        // Nothing is missing but the approval: never shown as the whole.
        a->explanation_zh = absl::StrCat(SubjectZh(indicator, &a->target), YearsZh(years),
                                         "的数值含未审核数据（", absl::StrJoin(cov_zh, "，"),
                                         "），未审核数据不纳入评估：数据不完整，暂无法评估进展。");
        a->explanation_en = absl::StrCat(
            SubjectEn(indicator, &a->target), ": the figures contain unapproved data (",
            absl::StrJoin(cov_en, "; "),
            "), which is not evaluated: data incomplete, progress cannot be assessed.");
        AppendPublished(indicator, noted, &a->explanation_zh, &a->explanation_en);
        return;
      }
      a->explanation_zh =
          absl::StrCat(SubjectZh(indicator, &a->target), YearsZh(years), "仅有部分",
                       options.child_areas_zh, "报送（", absl::StrJoin(cov_zh, "，"),
                       "），不能作为", options.area_whole_zh, "数值：数据不完整，暂无法评估进展。");
      a->explanation_en =
          absl::StrCat(SubjectEn(indicator, &a->target),
                       ": only part of the child areas reported (", absl::StrJoin(cov_en, "; "),
                       "), which is not the area's figure: data incomplete, progress cannot be "
                       "assessed.");
    } else {
      AppendLeftOut(noted, options, "未计入评估", "left out of the assessment", &a->explanation_zh,
                    &a->explanation_en);
    }
  }
  AppendPublished(indicator, noted, &a->explanation_zh, &a->explanation_en);
}

void NoteCoverage(const v1::Indicator& indicator, const MethodOptions& options, const Series* total,
                  FluctuationResult* r) {
  const Noted noted = Collect({total}, options);
  if (!noted.incomplete.empty()) {
    AppendLeftOut(noted, options, "未作波动检验", "not tested for fluctuation", &r->explanation_zh,
                  &r->explanation_en);
  }
  AppendPublished(indicator, noted, &r->explanation_zh, &r->explanation_en);
}

}  // namespace halfsky::evaluation
