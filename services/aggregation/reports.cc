#include "services/aggregation/reports.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/cache/cache_layout.h"
#include "common/cache/series_point.h"
#include "common/status/status.h"
#include "common/text/csv.h"
#include "google/protobuf/util/time_util.h"
#include "services/aggregation/request_checks.h"

namespace halfsky::aggregation {

using halfsky::v1::Aggregate;
using halfsky::v1::DataKey;
using halfsky::v1::Residence;
using halfsky::v1::Sex;

using cache::FillSeriesPoint;
using cache::NormalizeResidence;
using cache::NormalizeSex;

namespace {

DataKey MakeKey(const std::string& indicator, const std::string& area, int year, Sex sex,
                Residence residence) {
  DataKey k;
  k.set_indicator_id(indicator);
  k.set_area_code(area);
  k.set_year(year);
  k.set_sex(sex);
  k.set_residence(residence);
  return k;
}

std::optional<double> ValueOf(const Aggregator& agg, const DataKey& key) {
  auto a = agg.Get(key);
  if (a && a->has_value()) {
    return a->value();
  }
  return std::nullopt;
}

absl::Status YearViolation(const std::string& field, int year, int first, int last) {
  return InvalidArgumentError("年份无效 / invalid year",
                              {{field, absl::StrFormat("年份 %d 超出 %d—%d / year %d outside %d–%d",
                                                       year, first, last, year, first, last)}});
}

absl::StatusOr<std::string> ResolveArea(const Aggregator& agg, const std::string& code) {
  if (code.empty()) {
    return agg.catalog().RootArea().code();
  }
  if (agg.AreaIndex(code) < 0) {
    return absl::NotFoundError(absl::StrCat("未知区域 ", code, " / unknown area ", code));
  }
  return code;
}

std::string Num(double v) { return absl::StrFormat("%.15g", v); }

const char* SdmxSex(Sex s) {
  switch (s) {
    case halfsky::v1::SEX_FEMALE:
      return "F";
    case halfsky::v1::SEX_MALE:
      return "M";
    default:
      return "_T";
  }
}

const char* SdmxUrbanisation(Residence r) {
  switch (r) {
    case halfsky::v1::RESIDENCE_URBAN:
      return "U";
    case halfsky::v1::RESIDENCE_RURAL:
      return "R";
    default:
      return "_T";
  }
}

}  // namespace

absl::StatusOr<halfsky::v1::GetSeriesResponse> BuildSeries(
    const Aggregator& agg, const halfsky::v1::GetSeriesRequest& request) {
  const int ind = agg.IndicatorIndex(request.indicator_id());
  if (ind < 0) {
    return absl::NotFoundError(absl::StrCat("未知指标 ", request.indicator_id(),
                                            " / unknown indicator ", request.indicator_id()));
  }
  HALFSKY_ASSIGN_OR_RETURN(std::string area, ResolveArea(agg, request.area_code()));
  YearRange range;
  HALFSKY_RETURN_IF_ERROR(CheckSeriesRequest(request, agg.first_year(), agg.last_year(), &range));
  const int from = range.from;
  const int to = range.to;
  const Sex sex = NormalizeSex(request.sex());
  const Residence res = NormalizeResidence(request.residence());
  const std::string& id = request.indicator_id();

  halfsky::v1::GetSeriesResponse response;
  response.set_indicator_id(id);
  response.set_area_code(area);
  response.set_sex(sex);
  response.set_residence(res);
  *response.mutable_targets() = agg.IndicatorAt(ind).targets();
  response.set_as_of_sequence(agg.last_sequence());
  for (int year = from; year <= to; ++year) {
    auto a = agg.Get(MakeKey(id, area, year, sex, res));
    if (!a) {
      continue;
    }
    auto* p = response.add_points();
    FillSeriesPoint(*a, p);
    if (a->has_value() && !a->incomplete()) {
      auto prev = agg.Get(MakeKey(id, area, year - 1, sex, res));
      if (prev && prev->has_value() && !prev->incomplete()) {
        p->set_change_from_previous(a->value() - prev->value());
      }
    }
    auto f = ValueOf(agg, MakeKey(id, area, year, halfsky::v1::SEX_FEMALE, res));
    auto m = ValueOf(agg, MakeKey(id, area, year, halfsky::v1::SEX_MALE, res));
    if (f && m) {
      p->set_female_minus_male(*f - *m);
      if (*m != 0) {
        p->set_female_to_male_ratio(*f / *m);
      }
    }
    auto u = ValueOf(agg, MakeKey(id, area, year, sex, halfsky::v1::RESIDENCE_URBAN));
    auto r = ValueOf(agg, MakeKey(id, area, year, sex, halfsky::v1::RESIDENCE_RURAL));
    if (u && r) {
      p->set_urban_minus_rural(*u - *r);
      if (*r != 0) {
        p->set_urban_to_rural_ratio(*u / *r);
      }
    }
  }
  return response;
}

absl::StatusOr<halfsky::v1::AnnualReport> BuildAnnualReport(
    const Aggregator& agg, const halfsky::v1::GetAnnualReportRequest& request, absl::Time now) {
  const int year = request.year();
  if (year < agg.first_year() || year > agg.last_year()) {
    return YearViolation("year", year, agg.first_year(), agg.last_year());
  }
  HALFSKY_ASSIGN_OR_RETURN(std::string area, ResolveArea(agg, request.area_code()));
  const auto& catalog = agg.catalog();
  halfsky::v1::AnnualReport report;
  report.set_year(year);
  report.set_area_code(area);
  *report.mutable_generated_at() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(now));
  report.set_as_of_sequence(agg.last_sequence());
  for (const auto& domain : catalog.catalog().domains()) {
    auto* d = report.add_domains();
    d->set_domain_id(domain.id());
    d->set_name_zh(domain.name_zh());
    for (const auto& ind : catalog.catalog().indicators()) {
      if (ind.domain_id() != domain.id()) {
        continue;
      }
      auto* row = d->add_rows();
      row->set_indicator_id(ind.id());
      row->set_name_zh(ind.name_zh());
      row->set_unit(ind.unit());
      *row->mutable_targets() = ind.targets();
      const auto current_agg = agg.Get(
          MakeKey(ind.id(), area, year, halfsky::v1::SEX_TOTAL, halfsky::v1::RESIDENCE_ALL));
      const auto previous_agg = agg.Get(
          MakeKey(ind.id(), area, year - 1, halfsky::v1::SEX_TOTAL, halfsky::v1::RESIDENCE_ALL));
      std::optional<double> value;
      std::optional<double> previous;
      if (current_agg) {
        FillSeriesPoint(*current_agg, row->mutable_value_point());
        if (current_agg->has_value()) {
          value = current_agg->value();
        }
      }
      if (previous_agg) {
        FillSeriesPoint(*previous_agg, row->mutable_previous_point());
        if (previous_agg->has_value()) {
          previous = previous_agg->value();
        }
      }
      if (value) {
        row->set_value(*value);
      }
      if (previous) {
        row->set_previous_value(*previous);
      }
      // A change between a part and the whole (or two parts) means nothing.
      if (value && previous && !current_agg->incomplete() && !previous_agg->incomplete()) {
        row->set_change(*value - *previous);
      }
      // Completeness of reporting.
      std::vector<std::string> areas = {area};
      std::vector<std::pair<Sex, Residence>> groups = {
          {halfsky::v1::SEX_TOTAL, halfsky::v1::RESIDENCE_ALL}};
      for (int dis : ind.required_disaggregations()) {
        if (dis == halfsky::v1::DISAGGREGATION_AREA) {
          for (const auto* child : catalog.Children(area)) {
            areas.push_back(child->code());
          }
        } else if (dis == halfsky::v1::DISAGGREGATION_SEX) {
          groups.push_back({halfsky::v1::SEX_FEMALE, halfsky::v1::RESIDENCE_ALL});
          groups.push_back({halfsky::v1::SEX_MALE, halfsky::v1::RESIDENCE_ALL});
        } else if (dis == halfsky::v1::DISAGGREGATION_RESIDENCE) {
          groups.push_back({halfsky::v1::SEX_TOTAL, halfsky::v1::RESIDENCE_URBAN});
          groups.push_back({halfsky::v1::SEX_TOTAL, halfsky::v1::RESIDENCE_RURAL});
        }
      }
      int expected = 0;
      int present = 0;
      const bool qualitative = ind.kind() == halfsky::v1::INDICATOR_KIND_QUALITATIVE;
      for (const auto& a : areas) {
        for (const auto& [s, r] : groups) {
          ++expected;
          const DataKey key = MakeKey(ind.id(), a, year, s, r);
          if (qualitative ? agg.Reported(key) : agg.Get(key).has_value()) {
            ++present;
          }
        }
      }
      row->set_completeness_percent(expected == 0 ? 0 : 100.0 * present / expected);
      auto f = ValueOf(
          agg, MakeKey(ind.id(), area, year, halfsky::v1::SEX_FEMALE, halfsky::v1::RESIDENCE_ALL));
      auto m = ValueOf(
          agg, MakeKey(ind.id(), area, year, halfsky::v1::SEX_MALE, halfsky::v1::RESIDENCE_ALL));
      if (f && m) {
        row->set_female_minus_male(*f - *m);
      }
      auto u = ValueOf(
          agg, MakeKey(ind.id(), area, year, halfsky::v1::SEX_TOTAL, halfsky::v1::RESIDENCE_URBAN));
      auto r = ValueOf(
          agg, MakeKey(ind.id(), area, year, halfsky::v1::SEX_TOTAL, halfsky::v1::RESIDENCE_RURAL));
      if (u && r) {
        row->set_urban_minus_rural(*u - *r);
      }
    }
  }
  return report;
}

absl::StatusOr<ExportPlan> PlanExport(const Aggregator& agg,
                                      const halfsky::v1::ExportRequest& request) {
  ExportPlan plan;
  std::vector<FieldViolation> violations;
  switch (request.format()) {
    case halfsky::v1::EXPORT_FORMAT_UNSPECIFIED:
    case halfsky::v1::EXPORT_FORMAT_CSV:
      plan.format = halfsky::v1::EXPORT_FORMAT_CSV;
      break;
    case halfsky::v1::EXPORT_FORMAT_SDMX_CSV:
      plan.format = halfsky::v1::EXPORT_FORMAT_SDMX_CSV;
      break;
    default:
      violations.push_back({"format", "未知导出格式 / unknown export format"});
  }
  for (int i = 0; i < request.indicator_ids_size(); ++i) {
    const int ind = agg.IndicatorIndex(request.indicator_ids(i));
    if (ind < 0) {
      violations.push_back(
          {absl::StrCat("indicator_ids[", i, "]"),
           absl::StrCat("未知指标 ", request.indicator_ids(i), " / unknown indicator")});
    } else {
      plan.indicators.push_back(ind);
    }
  }
  for (int i = 0; i < request.area_codes_size(); ++i) {
    const int area = agg.AreaIndex(request.area_codes(i));
    if (area < 0) {
      violations.push_back({absl::StrCat("area_codes[", i, "]"),
                            absl::StrCat("未知区域 ", request.area_codes(i), " / unknown area")});
    } else {
      plan.areas.push_back(area);
    }
  }
  const int first = agg.first_year();
  const int last = agg.last_year();
  plan.from_year = request.from_year() == 0 ? first : request.from_year();
  plan.to_year = request.to_year() == 0 ? last : request.to_year();
  if (plan.from_year < first || plan.from_year > last) {
    violations.push_back({"from_year", absl::StrFormat("年份 %d 超出 %d—%d / year outside %d–%d",
                                                       plan.from_year, first, last, first, last)});
  }
  if (plan.to_year < first || plan.to_year > last) {
    violations.push_back({"to_year", absl::StrFormat("年份 %d 超出 %d—%d / year outside %d–%d",
                                                     plan.to_year, first, last, first, last)});
  }
  if (plan.from_year > plan.to_year) {
    violations.push_back({"from_year", "起始年份晚于截止年份 / from_year is after to_year"});
  }
  if (!violations.empty()) {
    return InvalidArgumentError("导出请求无效 / invalid export request", violations);
  }
  if (plan.indicators.empty()) {
    for (int i = 0; i < agg.catalog().catalog().indicators_size(); ++i) {
      plan.indicators.push_back(i);
    }
  } else {
    std::sort(plan.indicators.begin(), plan.indicators.end());
    plan.indicators.erase(std::unique(plan.indicators.begin(), plan.indicators.end()),
                          plan.indicators.end());
  }
  return plan;
}

std::string ExportHeader(halfsky::v1::ExportFormat format) {
  if (format == halfsky::v1::EXPORT_FORMAT_SDMX_CSV) {
    return "DATAFLOW,FREQ,INDICATOR,REF_AREA,SEX,URBANISATION,TIME_PERIOD,OBS_VALUE,"
           "UNIT_MEASURE,OBS_STATUS\n";
  }
  return "indicator_id,indicator_name_zh,area_code,area_name_zh,year,sex,residence,value,"
         "numerator,denominator,unit,direct,contributing_areas,missing_areas,children_value,"
         "children_mismatch,as_of_sequence\n";
}

std::string ExportIndicatorRows(const Aggregator& agg, const ExportPlan& plan, size_t index) {
  std::string out;
  const int ind = plan.indicators[index];
  const auto& indicator = agg.IndicatorAt(ind);
  const bool sdmx = plan.format == halfsky::v1::EXPORT_FORMAT_SDMX_CSV;
  agg.ForEachFiltered({ind}, plan.areas, plan.from_year, plan.to_year, [&](const Aggregate& a) {
    const auto& k = a.key();
    const auto* area = agg.catalog().FindArea(k.area_code());
    if (sdmx) {
      absl::StrAppend(&out, kSdmxDataflow, ",A,", CsvField(k.indicator_id()), ",",
                      CsvField(k.area_code()), ",", SdmxSex(k.sex()), ",",
                      SdmxUrbanisation(k.residence()), ",", k.year(), ",",
                      a.has_value() ? Num(a.value()) : "", ",", CsvField(indicator.unit()), ",",
                      a.has_value() ? "A" : "M", "\n");
      return;
    }
    absl::StrAppend(&out, CsvField(k.indicator_id()), ",", CsvField(indicator.name_zh()), ",",
                    CsvField(k.area_code()), ",", CsvField(area ? area->name_zh() : ""), ",",
                    k.year(), ",", cache::SexToken(k.sex()), ",",
                    cache::ResidenceToken(k.residence()), ",", a.has_value() ? Num(a.value()) : "",
                    ",", Num(a.numerator()), ",", Num(a.denominator()), ",",
                    CsvField(indicator.unit()), ",", a.direct() ? "true" : "false", ",",
                    a.contributing_area_count(), ",", absl::StrJoin(a.missing_area_codes(), ";"),
                    ",", a.has_children_value() ? Num(a.children_value()) : "", ",",
                    a.children_mismatch() ? "true" : "false", ",", a.as_of_sequence(), "\n");
  });
  return out;
}

}  // namespace halfsky::aggregation
