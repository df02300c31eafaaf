#include "common/auth/roles.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace halfsky::auth {

bool HasRole(const Principal& principal, RoleKind kind) {
  for (const Role& role : principal.roles()) {
    if (role.kind() == kind) {
      return true;
    }
  }
  return false;
}

bool IsUnit(const Principal& principal, absl::string_view unit_code) {
  for (const Role& role : principal.roles()) {
    if (role.kind() == v1::ROLE_KIND_UNIT && role.unit_code() == unit_code) {
      return true;
    }
  }
  return false;
}

bool IsReportingArea(const Principal& principal, absl::string_view area_code) {
  for (const Role& role : principal.roles()) {
    if (role.kind() == v1::ROLE_KIND_AREA && role.area_code() == area_code) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> ReportingAreas(const Principal& principal) {
  std::vector<std::string> areas;
  for (const Role& role : principal.roles()) {
    if (role.kind() == v1::ROLE_KIND_AREA) {
      areas.push_back(role.area_code());
    }
  }
  return areas;
}

absl::Status RequireRole(const Principal& principal, std::initializer_list<RoleKind> kinds) {
  for (RoleKind kind : kinds) {
    if (HasRole(principal, kind)) {
      return absl::OkStatus();
    }
  }
  std::vector<std::string> names;
  for (RoleKind kind : kinds) {
    names.push_back(kind == v1::ROLE_KIND_UNIT   ? "unit:<code>"
                    : kind == v1::ROLE_KIND_AREA ? "area:<code>"
                                                 : RoleKindName(kind));
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "权限不足：需要角色 ", absl::StrJoin(names, " 或 "), " / permission denied: requires role ",
      absl::StrJoin(names, " or "), " (principal \"", principal.name(), "\")"));
}

absl::Status RequireUnit(const Principal& principal, absl::string_view unit_code) {
  if (IsUnit(principal, unit_code)) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "权限不足：需要成员单位角色 unit:", unit_code, " / permission denied: requires role unit:",
      unit_code, " (principal \"", principal.name(), "\")"));
}

const char* RoleKindName(RoleKind kind) {
  switch (kind) {
    case v1::ROLE_KIND_UNIT:
      return "unit";
    case v1::ROLE_KIND_STATISTICS:
      return "statistics";
    case v1::ROLE_KIND_ASSESSMENT:
      return "assessment";
    case v1::ROLE_KIND_ADMIN:
      return "admin";
    case v1::ROLE_KIND_SERVICE:
      return "service";
    case v1::ROLE_KIND_AREA:
      return "area";
    default:
      return "unspecified";
  }
}

std::string FormatRole(const Role& role) {
  if (role.kind() == v1::ROLE_KIND_UNIT) {
    return absl::StrCat("unit:", role.unit_code());
  }
  if (role.kind() == v1::ROLE_KIND_AREA) {
    return absl::StrCat("area:", role.area_code());
  }
  return RoleKindName(role.kind());
}

absl::StatusOr<Role> ParseRole(absl::string_view text) {
  Role role;
  const bool unit = absl::StartsWith(text, "unit:");
  if (unit || absl::StartsWith(text, "area:")) {
    const absl::string_view what = unit ? "unit" : "area";
    const absl::string_view code = text.substr(5);
    if (code.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("role \"", what, ":\" has no ", what, " code"));
    }
    for (char c : code) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
        return absl::InvalidArgumentError(absl::StrCat(
            what, " code \"", code, "\" may only hold letters, digits, '_', '-', '.'"));
      }
    }
    if (unit) {
      role.set_kind(v1::ROLE_KIND_UNIT);
      role.set_unit_code(std::string(code));
    } else {
      role.set_kind(v1::ROLE_KIND_AREA);
      role.set_area_code(std::string(code));
    }
    return role;
  }
  if (text == "statistics") {
    role.set_kind(v1::ROLE_KIND_STATISTICS);
  } else if (text == "assessment") {
    role.set_kind(v1::ROLE_KIND_ASSESSMENT);
  } else if (text == "admin") {
    role.set_kind(v1::ROLE_KIND_ADMIN);
  } else if (text == "service") {
    role.set_kind(v1::ROLE_KIND_SERVICE);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown role \"", text,
        "\" (expected unit:<code>, area:<code>, statistics, assessment, admin or service)"));
  }
  return role;
}

}  // namespace halfsky::auth
