#include "services/submission/reporting.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/proto/timestamp.h"
#include "common/status/status.h"

namespace halfsky::submission {

namespace v1 = ::halfsky::v1;

namespace {

void Finalize(v1::ReportingSummary* s) {
  if (s->expected_count() > 0) {
    s->set_completeness_percent(100.0 * s->reported_count() / s->expected_count());
    s->set_timeliness_percent(100.0 * s->on_time_count() / s->expected_count());
  }
}

}  // namespace

absl::StatusOr<v1::GetReportingStatusResponse> ComputeReportingStatus(
    const CatalogIndex& catalog, int year, const std::vector<std::string>& unit_codes,
    absl::Time as_of, const std::vector<ReportingTimes>& times) {
  std::vector<std::string> units = unit_codes;
  if (units.empty()) {
    for (const auto& u : catalog.catalog().member_units()) {
      units.push_back(u.code());
    }
  } else {
    std::vector<FieldViolation> bad;
    for (size_t i = 0; i < units.size(); ++i) {
      if (catalog.FindMemberUnit(units[i]) == nullptr) {
        bad.push_back(
            {absl::StrCat("unit_codes[", i, "]"),
             absl::StrCat("未知成员单位“", units[i], "” / unknown member unit '", units[i], "'")});
      }
    }
    if (!bad.empty()) {
      return InvalidArgumentError("未知成员单位 / unknown member unit", bad);
    }
  }
  std::map<std::pair<std::string, std::string>, const ReportingTimes*> by_key;
  for (const ReportingTimes& t : times) {
    if (t.year == year) {
      by_key[{t.unit_code, t.indicator_id}] = &t;
    }
  }
  v1::GetReportingStatusResponse out;
  v1::ReportingSummary* overall = out.mutable_overall();
  for (const std::string& unit : units) {
    v1::ReportingSummary* summary = out.add_units();
    summary->set_unit_code(unit);
    for (const v1::Indicator* ind : catalog.IndicatorsOfUnit(unit)) {
      v1::ReportingStatusEntry* e = out.add_entries();
      e->set_unit_code(unit);
      e->set_indicator_id(ind->id());
      e->set_year(year);
      const absl::Time due = catalog.DueAt(*ind, year);
      SetTimestamp(due, e->mutable_due_at());
      // A figure from any responsible unit reports the indicator for all of
      // them (co-responsible units, 牵头单位 and 配合单位); a narrative is
      // each unit's own. A submission after as_of does not exist yet as far
      // as this report is concerned.
      std::vector<std::string> reporters = {unit};
      if (ind->kind() != v1::INDICATOR_KIND_QUALITATIVE) {
        reporters.assign(ind->responsible_unit_codes().begin(),
                         ind->responsible_unit_codes().end());
      }
      bool reported = false;
      absl::Time first_at = absl::InfiniteFuture();
      absl::Time last_at = absl::InfinitePast();
      for (const std::string& reporter : reporters) {
        auto it = by_key.find({reporter, ind->id()});
        if (it == by_key.end() || it->second->first_at > as_of) {
          continue;
        }
        reported = true;
        first_at = std::min(first_at, it->second->first_at);
        last_at = std::max(
            last_at, it->second->last_at <= as_of ? it->second->last_at : it->second->first_at);
      }
      if (reported) {
        SetTimestamp(first_at, e->mutable_first_submitted_at());
        SetTimestamp(last_at, e->mutable_last_submitted_at());
        e->set_state(first_at <= due ? v1::REPORTING_STATE_ON_TIME : v1::REPORTING_STATE_LATE);
      } else {
        e->set_state(as_of > due ? v1::REPORTING_STATE_MISSING : v1::REPORTING_STATE_NOT_DUE);
      }
      if (e->state() == v1::REPORTING_STATE_NOT_DUE) {
        continue;
      }
      for (v1::ReportingSummary* s : {summary, overall}) {
        s->set_expected_count(s->expected_count() + 1);
        if (reported) {
          s->set_reported_count(s->reported_count() + 1);
        }
        if (e->state() == v1::REPORTING_STATE_ON_TIME) {
          s->set_on_time_count(s->on_time_count() + 1);
        }
      }
    }
    Finalize(summary);
  }
  Finalize(overall);
  return out;
}

}  // namespace halfsky::submission
