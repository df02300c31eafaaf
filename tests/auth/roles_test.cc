#include "common/auth/roles.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace halfsky::auth {
namespace {

using ::testing::HasSubstr;

Principal Make(const std::string& name, std::initializer_list<const char*> roles) {
  Principal p;
  p.set_name(name);
  for (const char* r : roles) {
    *p.add_roles() = ParseRole(r).value();
  }
  return p;
}

TEST(RolesTest, HasRoleAndIsUnitAreLiteral) {
  Principal p = Make("stats", {"statistics", "unit:STATISTICS"});
  EXPECT_TRUE(HasRole(p, v1::ROLE_KIND_STATISTICS));
  EXPECT_TRUE(HasRole(p, v1::ROLE_KIND_UNIT));
  EXPECT_FALSE(HasRole(p, v1::ROLE_KIND_ADMIN));
  EXPECT_TRUE(IsUnit(p, "STATISTICS"));
  EXPECT_FALSE(IsUnit(p, "statistics"));
  EXPECT_FALSE(IsUnit(p, "HEALTH"));
  Principal admin = Make("op", {"admin"});
  EXPECT_FALSE(HasRole(admin, v1::ROLE_KIND_STATISTICS));  // admin implies nothing
  EXPECT_FALSE(IsUnit(admin, "HEALTH"));
}

TEST(RolesTest, RequireRoleNamesWhatIsNeeded) {
  Principal unit = Make("health-bureau-system", {"unit:HEALTH"});
  EXPECT_TRUE(RequireRole(unit, {v1::ROLE_KIND_UNIT}).ok());
  absl::Status denied = RequireRole(unit, {v1::ROLE_KIND_STATISTICS, v1::ROLE_KIND_ADMIN});
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(denied.message()), HasSubstr("statistics 或 admin"));
  EXPECT_THAT(std::string(denied.message()), HasSubstr("requires role statistics or admin"));
  EXPECT_THAT(std::string(denied.message()), HasSubstr("health-bureau-system"));
  EXPECT_TRUE(RequireUnit(unit, "HEALTH").ok());
  absl::Status other = RequireUnit(unit, "EDUCATION");
  EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(other.message()), HasSubstr("unit:EDUCATION"));
}

TEST(RolesTest, ParseAndFormatRoundTrip) {
  for (const char* text : {"unit:HEALTH", "unit:a.b-c_9", "statistics", "assessment", "admin",
                           "service", "area:610303"}) {
    auto role = ParseRole(text);
    ASSERT_TRUE(role.ok()) << text << ": " << role.status();
    EXPECT_EQ(FormatRole(*role), text);
  }
  EXPECT_EQ(ParseRole("unit:HEALTH")->unit_code(), "HEALTH");
  EXPECT_EQ(ParseRole("service")->kind(), ::halfsky::v1::ROLE_KIND_SERVICE);
  EXPECT_EQ(ParseRole("area:610303")->kind(), ::halfsky::v1::ROLE_KIND_AREA);
  EXPECT_EQ(ParseRole("area:610303")->area_code(), "610303");
  for (const char* bad :
       {"", "unit:", "unit:A B", "unit:健康", "Admin", "stats", "unit", "area:", "area:61 03"}) {
    EXPECT_EQ(ParseRole(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

// A lower instance's exchange (area:<code>) is its area(s) and nothing else.
TEST(RolesTest, ReportingArea) {
  ::halfsky::v1::Principal p;
  p.set_name("jintai-exchange");
  *p.add_roles() = ParseRole("area:610303").value();
  EXPECT_TRUE(IsReportingArea(p, "610303"));
  EXPECT_FALSE(IsReportingArea(p, "610302"));
  EXPECT_FALSE(HasRole(p, ::halfsky::v1::ROLE_KIND_UNIT));
  EXPECT_THAT(ReportingAreas(p), ::testing::ElementsAre("610303"));
  EXPECT_EQ(RequireRole(p, {::halfsky::v1::ROLE_KIND_STATISTICS}).code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace halfsky::auth
