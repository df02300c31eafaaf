#include "services/exchange/reconcile.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/auth/token_store.h"

namespace halfsky::exchange {
namespace {

namespace v1 = ::halfsky::v1;

int NormSex(v1::Sex s) { return s == v1::SEX_UNSPECIFIED ? v1::SEX_TOTAL : s; }
int NormResidence(v1::Residence r) {
  return r == v1::RESIDENCE_UNSPECIFIED ? v1::RESIDENCE_ALL : r;
}

bool FractionKind(v1::IndicatorKind kind) {
  return kind == v1::INDICATOR_KIND_RATE || kind == v1::INDICATOR_KIND_PROPORTION;
}

// The part of a value the upper instance compares: everything but the key
// and the change reason.
std::string Comparable(const v1::DataValue& value) {
  v1::DataValue copy = value;
  copy.clear_key();
  copy.clear_change_reason();
  return copy.SerializeAsString();
}

}  // namespace

const char* ApprovalRuleName(ApprovalRule rule) {
  return rule == ApprovalRule::kApproved ? "approved" : "complete";
}

absl::StatusOr<ApprovalRule> ParseApprovalRule(const std::string& text) {
  if (text == "approved") {
    return ApprovalRule::kApproved;
  }
  if (text == "complete") {
    return ApprovalRule::kComplete;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--approval 只能是 approved 或 complete / --approval must be approved or complete, not \"",
      text, "\""));
}

Mappings MapIndicators(const v1::Catalog& lower, const v1::Catalog& upper) {
  absl::flat_hash_map<std::string, const v1::Indicator*> by_code;
  for (const v1::Indicator& ind : upper.indicators()) {
    if (!ind.statistic_code().empty()) {
      by_code.emplace(ind.statistic_code(), &ind);
    }
  }
  Mappings out;
  for (const v1::Indicator& ind : lower.indicators()) {
    if (ind.statistic_code().empty() || ind.kind() == v1::INDICATOR_KIND_QUALITATIVE) {
      continue;
    }
    auto it = by_code.find(ind.statistic_code());
    if (it == by_code.end()) {
      out.skipped.push_back(
          absl::StrCat(ind.id(), "（", ind.statistic_code(),
                       "）：上级目录无此统计代码 / no such statistic_code above"));
      continue;
    }
    if (it->second->kind() != ind.kind()) {
      out.skipped.push_back(absl::StrCat(ind.id(), " → ", it->second->id(),
                                         "：指标类型不同 / indicator kinds differ"));
      continue;
    }
    IndicatorMapping mapping{ind.id(), it->second->id(), ind.kind()};
    for (int d : it->second->required_disaggregations()) {
      mapping.by_sex = mapping.by_sex || d == v1::DISAGGREGATION_SEX;
      mapping.by_residence = mapping.by_residence || d == v1::DISAGGREGATION_RESIDENCE;
    }
    out.indicators.push_back(std::move(mapping));
  }
  return out;
}

CellKey KeyOf(const v1::DataKey& key) {
  return {key.indicator_id(), key.year(), NormSex(key.sex()), NormResidence(key.residence())};
}

bool Takes(const IndicatorMapping& mapping, v1::Sex sex, v1::Residence residence) {
  return (NormSex(sex) == v1::SEX_TOTAL || mapping.by_sex) &&
         (NormResidence(residence) == v1::RESIDENCE_ALL || mapping.by_residence);
}

void AddSeries(const IndicatorMapping& mapping, const std::string& area_code,
               const v1::GetSeriesResponse& series, ApprovalRule rule, const std::string& source,
               const std::string& note, LowerFigures* out) {
  if (!Takes(mapping, series.sex(), series.residence())) {
    return;
  }
  for (const v1::SeriesPoint& point : series.points()) {
    if (point.incomplete()) {
      continue;  // a part of the area, never its figure
    }
    v1::DataValue value;
    v1::DataKey* key = value.mutable_key();
    key->set_indicator_id(mapping.upper_id);
    key->set_area_code(area_code);
    key->set_year(point.year());
    key->set_sex(static_cast<v1::Sex>(NormSex(series.sex())));
    key->set_residence(static_cast<v1::Residence>(NormResidence(series.residence())));
    if (point.published()) {
      if (!point.has_value() || !FractionKind(mapping.kind)) {
        continue;
      }
      value.mutable_published()->set_value(point.value());
    } else if (FractionKind(mapping.kind)) {
      if (!(point.denominator() > 0) || !std::isfinite(point.numerator())) {
        continue;
      }
      value.mutable_fraction()->set_numerator(point.numerator());
      value.mutable_fraction()->set_denominator(point.denominator());
    } else {
      if (!point.has_value() || !std::isfinite(point.value())) {
        continue;
      }
      value.set_value(point.value());
    }
    const CellKey cell = KeyOf(*key);
    if (rule == ApprovalRule::kApproved && point.contains_unapproved_data()) {
      out->held.emplace(cell, mapping.lower_id);
      continue;
    }
    value.set_source(source);
    value.set_note(note);
    out->eligible[cell] = Figure{std::move(value), mapping.lower_id};
  }
}

Plan PlanBatches(const std::string& area_code, const LowerFigures& lower,
                 const std::vector<v1::Revision>& upper_current,
                 const std::vector<IndicatorMapping>& mappings, int max_batch) {
  std::set<std::string> mapped;
  absl::flat_hash_map<std::string, std::string> lower_of;
  for (const IndicatorMapping& m : mappings) {
    mapped.insert(m.upper_id);
    lower_of.emplace(m.upper_id, m.lower_id);
  }
  struct Upper {
    const v1::Revision* revision;
  };
  std::map<CellKey, Upper> upper;
  for (const v1::Revision& rev : upper_current) {
    const v1::DataKey& key = rev.data_value().key();
    if (rev.withdrawn() || key.area_code() != area_code || mapped.count(key.indicator_id()) == 0 ||
        !key.unit_code().empty()) {
      continue;
    }
    upper[KeyOf(key)] = Upper{&rev};
  }
  // (year, withdraw) → figures and the upper revisions they replace.
  struct Pending {
    std::vector<Figure> figures;
    std::string fingerprint;
  };
  std::map<std::pair<int, bool>, Pending> pending;
  Plan plan;
  for (const auto& [cell, figure] : lower.eligible) {
    auto it = upper.find(cell);
    if (it != upper.end() &&
        Comparable(it->second.revision->data_value()) == Comparable(figure.value)) {
      ++plan.in_sync_count;
      continue;
    }
    Pending& p = pending[{std::get<1>(cell), false}];
    p.figures.push_back(figure);
    absl::StrAppend(&p.fingerprint, figure.value.SerializeAsString(), "|",
                    it == upper.end() ? 0 : it->second.revision->revision(), ";");
  }
  for (const auto& [cell, u] : upper) {
    if (lower.eligible.count(cell) != 0 || lower.held.count(cell) != 0) {
      continue;
    }
    Figure figure;
    *figure.value.mutable_key() = u.revision->data_value().key();
    auto lower_id = lower_of.find(std::get<0>(cell));
    figure.source_indicator_id = lower_id == lower_of.end() ? "" : lower_id->second;
    Pending& p = pending[{std::get<1>(cell), true}];
    absl::StrAppend(&p.fingerprint, figure.value.key().SerializeAsString(), "|",
                    u.revision->revision(), ";");
    p.figures.push_back(std::move(figure));
  }
  for (auto& [year_action, p] : pending) {
    const auto [year, withdraw] = year_action;
    for (size_t start = 0; start < p.figures.size(); start += max_batch) {
      PlannedBatch batch;
      batch.year = year;
      batch.withdraw = withdraw;
      const size_t end = std::min(p.figures.size(), start + static_cast<size_t>(max_batch));
      batch.figures.assign(p.figures.begin() + start, p.figures.begin() + end);
      const std::string digest = auth::HashToken(
          absl::StrCat(area_code, "|", year, "|", withdraw, "|", start, "|", p.fingerprint));
      batch.request_id = absl::StrCat("exchange-", area_code, "-", year, withdraw ? "-w-" : "-s-",
                                      digest.substr(0, 32));
      plan.batches.push_back(std::move(batch));
    }
  }
  return plan;
}

std::string ValueText(const v1::DataValue& value) {
  switch (value.payload_case()) {
    case v1::DataValue::kFraction:
      return absl::StrCat(value.fraction().numerator(), "/", value.fraction().denominator());
    case v1::DataValue::kValue:
      return absl::StrCat(value.value());
    case v1::DataValue::kPublished:
      return absl::StrCat(value.published().value(), "（公布值 published）");
    default:
      return "";
  }
}

}  // namespace halfsky::exchange
