#ifndef HALFSKY_TESTS_SUBMISSION_TEST_UTIL_H_
#define HALFSKY_TESTS_SUBMISSION_TEST_UTIL_H_

// Shared helpers of the submission tests: the test catalog, value builders
// and a token → principal authenticator for in-process servers.

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/authenticator.h"
#include "common/auth/roles.h"
#include "common/auth/token_store.h"
#include "common/catalog/catalog.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/common.pb.h"

namespace halfsky::submission::testing {

inline std::string TestCatalogPath() {
  return std::string(HALFSKY_SOURCE_DIR) + "/tests/submission/testdata/catalog.textproto";
}

inline std::shared_ptr<const CatalogIndex> TestCatalog() {
  auto catalog = CatalogIndex::Load({TestCatalogPath()});
  EXPECT_TRUE(catalog.ok()) << catalog.status();
  return catalog.ok() ? *catalog : nullptr;
}

inline halfsky::v1::DataValue Fraction(const std::string& indicator, int year, double num,
                                       double den, const std::string& area = "610303") {
  halfsky::v1::DataValue v;
  v.mutable_key()->set_indicator_id(indicator);
  v.mutable_key()->set_area_code(area);
  v.mutable_key()->set_year(year);
  v.mutable_fraction()->set_numerator(num);
  v.mutable_fraction()->set_denominator(den);
  v.set_source("妇幼卫生年报");
  return v;
}

inline halfsky::v1::DataValue Number(const std::string& indicator, int year, double value,
                                     const std::string& area = "610303") {
  halfsky::v1::DataValue v;
  v.mutable_key()->set_indicator_id(indicator);
  v.mutable_key()->set_area_code(area);
  v.mutable_key()->set_year(year);
  v.set_value(value);
  v.set_source("部门统计");
  return v;
}

// A narrative; `unit` is DataKey.unit_code (whose narrative), empty by
// default (a unit's own write may omit it).
inline halfsky::v1::DataValue Story(const std::string& indicator, int year, const std::string& text,
                                    const std::string& unit = "") {
  halfsky::v1::DataValue v;
  v.mutable_key()->set_indicator_id(indicator);
  v.mutable_key()->set_area_code("610303");
  v.mutable_key()->set_year(year);
  v.mutable_key()->set_unit_code(unit);
  v.mutable_narrative()->set_text(text);
  v.mutable_narrative()->set_self_assessment(halfsky::v1::SELF_ASSESSMENT_MET);
  v.mutable_narrative()->add_evidence_refs("金卫发〔2024〕12号");
  v.set_source("工作总结");
  return v;
}

inline halfsky::v1::Principal MakePrincipal(const std::string& name, halfsky::v1::RoleKind kind,
                                            const std::string& unit = "") {
  halfsky::v1::Principal p;
  p.set_name(name);
  auto* r = p.add_roles();
  r->set_kind(kind);
  r->set_unit_code(unit);
  return p;
}

// Tokens of the in-process tests.
inline const std::map<std::string, halfsky::v1::Principal>& TestPrincipals() {
  static const auto* m = new std::map<std::string, halfsky::v1::Principal>{
      {"health-token",
       MakePrincipal("health-system", halfsky::v1::ROLE_KIND_UNIT, "HEALTH_BUREAU")},
      {"edu-token", MakePrincipal("edu-system", halfsky::v1::ROLE_KIND_UNIT, "EDU_BUREAU")},
      {"stats-token", MakePrincipal("stats-bureau", halfsky::v1::ROLE_KIND_STATISTICS)},
      {"assess-token", MakePrincipal("assessment-office", halfsky::v1::ROLE_KIND_ASSESSMENT)},
      {"service-token", MakePrincipal("halfsky-services", halfsky::v1::ROLE_KIND_SERVICE)},
  };
  return *m;
}

// The production authenticator (common/auth) over a token store holding
// TestPrincipals(): "authorization: Bearer TOKEN" → TestPrincipals()[TOKEN].
inline const auth::Authenticator& TestAuthenticator() {
  static const auth::Authenticator* authenticator = [] {
    std::string tokens;
    for (const auto& [token, principal] : TestPrincipals()) {
      std::vector<std::string> roles;
      for (const auto& role : principal.roles()) {
        roles.push_back(auth::FormatRole(role));
      }
      absl::StrAppend(&tokens, auth::HashToken(token), " ", principal.name(), " ",
                      absl::StrJoin(roles, ","), "\n");
    }
    absl::StatusOr<auth::TokenStore> store = auth::TokenStore::FromString(tokens, "test tokens");
    if (!store.ok()) {
      std::cerr << store.status() << "\n";
      std::abort();
    }
    return auth::Authenticator::WithTokens(*std::move(store)).release();
  }();
  return *authenticator;
}

inline absl::StatusOr<halfsky::v1::Principal> TestAuthenticate(
    const grpc::CallbackServerContext& ctx) {
  return TestAuthenticator().AuthenticateCall(ctx);
}

}  // namespace halfsky::submission::testing

#endif  // HALFSKY_TESTS_SUBMISSION_TEST_UTIL_H_
