#include "services/submission/read_access.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/roles.h"

namespace halfsky::submission {
namespace {

namespace v1 = ::halfsky::v1;

std::vector<std::string> UnitsOf(const v1::Principal& principal) {
  std::vector<std::string> units;
  for (const v1::Role& role : principal.roles()) {
    if (role.kind() == v1::ROLE_KIND_UNIT) {
      units.push_back(role.unit_code());
    }
  }
  return units;
}

bool Holds(const std::vector<std::string>& units, const std::string& unit) {
  return std::find(units.begin(), units.end(), unit) != units.end();
}

absl::Status OnlyOwn(const v1::Principal& principal, const std::string& what_zh,
                     const std::string& what_en) {
  return absl::PermissionDeniedError(
      absl::StrCat("权限不足：成员单位只能查看本单位的", what_zh, "（", principal.name(),
                   "） / permission denied: a member unit reads only its own ", what_en,
                   " (principal \"", principal.name(), "\")"));
}

}  // namespace

bool ReadsEverything(const v1::Principal& principal) {
  return auth::HasRole(principal, v1::ROLE_KIND_STATISTICS) ||
         auth::HasRole(principal, v1::ROLE_KIND_ASSESSMENT) ||
         auth::HasRole(principal, v1::ROLE_KIND_ADMIN) ||
         auth::HasRole(principal, v1::ROLE_KIND_SERVICE);
}

absl::Status AuthorizeChangeFeed(const v1::Principal& principal) {
  if (ReadsEverything(principal)) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "权限不足：变更流含所有单位的数据，成员单位不能订阅（", principal.name(),
      "） / permission denied: the change feed carries every unit's data; a member unit may "
      "not follow it (principal \"",
      principal.name(), "\")"));
}

absl::Status ScopeListToOwnUnit(const v1::Principal& principal, std::string* unit_code) {
  if (ReadsEverything(principal)) {
    return absl::OkStatus();
  }
  const std::vector<std::string> units = UnitsOf(principal);
  if (unit_code->empty()) {
    if (units.size() == 1) {
      *unit_code = units.front();
      return absl::OkStatus();
    }
    if (units.empty()) {
      return OnlyOwn(principal, "数据", "data");
    }
    return absl::PermissionDeniedError(absl::StrCat(
        "请用 unit_code 指明查看哪个单位的数据（", absl::StrJoin(units, "、"),
        "） / name the unit to read with unit_code (one of ", absl::StrJoin(units, ", "), ")"));
  }
  if (!Holds(units, *unit_code)) {
    return OnlyOwn(principal, "数据", "data");
  }
  return absl::OkStatus();
}

absl::Status ScopeListToReportingAreas(const v1::Principal& principal,
                                       std::vector<std::string>* area_codes,
                                       const std::string& unit_code, bool* scoped) {
  *scoped = false;
  if (ReadsEverything(principal) || !UnitsOf(principal).empty() ||
      !auth::HasRole(principal, v1::ROLE_KIND_AREA)) {
    return absl::OkStatus();
  }
  const std::vector<std::string> areas = auth::ReportingAreas(principal);
  bool own = unit_code.empty();
  for (const std::string& code : *area_codes) {
    own = own && Holds(areas, code);
  }
  if (!own) {
    return absl::PermissionDeniedError(
        absl::StrCat("权限不足：上报通道只能查看本区域（", absl::StrJoin(areas, "、"), "）的数据（",
                     principal.name(),
                     "） / permission denied: a reporting exchange reads only its own area(s) ",
                     absl::StrJoin(areas, ", "), " (principal \"", principal.name(), "\")"));
  }
  if (area_codes->empty()) {
    *area_codes = areas;
  }
  *scoped = true;
  return absl::OkStatus();
}

absl::Status AuthorizeHistory(const v1::Principal& principal, const v1::Indicator* indicator,
                              const v1::DataKey& key) {
  if (ReadsEverything(principal) || indicator == nullptr) {
    return absl::OkStatus();
  }
  const std::vector<std::string> units = UnitsOf(principal);
  if (indicator->kind() == v1::INDICATOR_KIND_QUALITATIVE) {
    if (Holds(units, key.unit_code())) {
      return absl::OkStatus();
    }
    return OnlyOwn(principal, "工作进展", "narratives");
  }
  for (const std::string& unit : indicator->responsible_unit_codes()) {
    if (Holds(units, unit)) {
      return absl::OkStatus();
    }
  }
  return OnlyOwn(principal, absl::StrCat("负责指标（", indicator->id(), "不是）"),
                 absl::StrCat("indicators (not ", indicator->id(), ")"));
}

absl::Status ScopeReportingToOwnUnits(const v1::Principal& principal,
                                      std::vector<std::string>* unit_codes) {
  if (ReadsEverything(principal)) {
    return absl::OkStatus();
  }
  const std::vector<std::string> units = UnitsOf(principal);
  if (units.empty()) {
    return OnlyOwn(principal, "报送情况", "reporting status");
  }
  if (unit_codes->empty()) {
    *unit_codes = units;
    return absl::OkStatus();
  }
  for (const std::string& unit : *unit_codes) {
    if (!Holds(units, unit)) {
      return OnlyOwn(principal, "报送情况", "reporting status");
    }
  }
  return absl::OkStatus();
}

}  // namespace halfsky::submission
