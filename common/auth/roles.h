#ifndef HALFSKY_COMMON_AUTH_ROLES_H_
#define HALFSKY_COMMON_AUTH_ROLES_H_

// Role checks on an authenticated halfsky.v1.Principal.
//
// Roles (DESIGN.md §7): `unit:<code>` (a member unit 成员单位, may hold
// several), `statistics` (区统计局监测组), `assessment` (评估组/妇儿工委办),
// `admin` (operators), `service` (halfsky's own services calling each
// other: read-only), `area:<code>` (a lower instance's reporting exchange:
// writes only that area's figures). Checks are literal: no role implies another. In
// particular `admin` does not imply the others — a service that lets
// operators act everywhere lists ROLE_KIND_ADMIN explicitly.
//
// Pure functions; thread-safe.

#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "halfsky/v1/common.pb.h"

namespace halfsky::auth {

using ::halfsky::v1::Principal;
using ::halfsky::v1::Role;
using ::halfsky::v1::RoleKind;

// True if `principal` holds a role of `kind` (for ROLE_KIND_UNIT: any unit).
bool HasRole(const Principal& principal, RoleKind kind);

// True if `principal` holds `unit:<unit_code>` (exact, case-sensitive).
bool IsUnit(const Principal& principal, absl::string_view unit_code);

// True if `principal` holds `area:<area_code>` (exact).
bool IsReportingArea(const Principal& principal, absl::string_view area_code);

// The area codes of every area:<code> role `principal` holds, in order.
std::vector<std::string> ReportingAreas(const Principal& principal);

// OK if `principal` holds at least one of `kinds`; otherwise
// PERMISSION_DENIED naming the principal and the roles that would do, e.g.
// "需要角色 statistics 或 admin / requires role statistics or admin
// (principal \"x\")". `kinds` must not be empty.
absl::Status RequireRole(const Principal& principal, std::initializer_list<RoleKind> kinds);

// OK if `principal` holds unit:<unit_code>; otherwise PERMISSION_DENIED
// naming the unit.
absl::Status RequireUnit(const Principal& principal, absl::string_view unit_code);

// "unit:HEALTH", "area:610303", "statistics", "assessment", "admin".
std::string FormatRole(const Role& role);
// The role names used in token files and messages: "unit", "statistics",
// "assessment", "admin", "service", "area" ("unspecified" for anything else).
const char* RoleKindName(RoleKind kind);

// Parses FormatRole's output. INVALID_ARGUMENT for an unknown role or a
// unit or area code that is empty or not [A-Za-z0-9_.-]+.
absl::StatusOr<Role> ParseRole(absl::string_view text);

}  // namespace halfsky::auth

#endif  // HALFSKY_COMMON_AUTH_ROLES_H_
