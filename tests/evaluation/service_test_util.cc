#include "tests/evaluation/service_test_util.h"

#include <cstdlib>
#include <iostream>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/auth/token_store.h"
#include "common/cache/cache_layout.h"
#include "common/status/status.h"

namespace halfsky::evaluation::testing {

std::string TestCatalogPath() {
  return std::string(HALFSKY_SOURCE_DIR) + "/tests/evaluation/testdata/service_catalog.textproto";
}

std::shared_ptr<const CatalogIndex> TestCatalog() {
  auto catalog = CatalogIndex::Load({TestCatalogPath()});
  if (!catalog.ok()) {
    std::cerr << catalog.status() << "\n";
    std::abort();
  }
  return *catalog;
}

std::string TokenFileContent() {
  return absl::StrCat(auth::HashToken(kAssessmentToken), " alice assessment\n",
                      auth::HashToken(kUnitToken), " health-system unit:HEALTH_BUREAU\n",
                      auth::HashToken(kStatisticsToken), " stats statistics\n");
}

std::unique_ptr<auth::Authenticator> TestAuthenticator(auth::AuthenticatorOptions options) {
  auto store = auth::TokenStore::FromString(TokenFileContent());
  if (!store.ok()) {
    std::cerr << store.status() << "\n";
    std::abort();
  }
  return auth::Authenticator::WithTokens(std::move(*store), "", options);
}

namespace {
halfsky::v1::DataKey Key(const std::string& indicator, int year, const std::string& area) {
  halfsky::v1::DataKey key;
  key.set_indicator_id(indicator);
  key.set_area_code(area);
  key.set_year(year);
  key.set_sex(halfsky::v1::SEX_TOTAL);
  key.set_residence(halfsky::v1::RESIDENCE_ALL);
  return key;
}
}  // namespace

halfsky::v1::DataValue FractionValue(const std::string& indicator, int year, double numerator,
                                     double denominator, const std::string& area) {
  halfsky::v1::DataValue v;
  *v.mutable_key() = Key(indicator, year, area);
  v.mutable_fraction()->set_numerator(numerator);
  v.mutable_fraction()->set_denominator(denominator);
  v.set_source("测试");
  return v;
}

halfsky::v1::DataValue PlainValue(const std::string& indicator, int year, double value,
                                  const std::string& area) {
  halfsky::v1::DataValue v;
  *v.mutable_key() = Key(indicator, year, area);
  v.set_value(value);
  v.set_source("测试");
  return v;
}

AggregateWriter::AggregateWriter(std::shared_ptr<const CatalogIndex> catalog, RedisClient* redis)
    : agg_(std::move(catalog)), writer_(redis) {}

absl::Status AggregateWriter::Write(const std::vector<halfsky::v1::DataValue>& values) {
  aggregation::ChangeSet changes;
  std::set<std::string> indicators;
  for (const auto& v : values) {
    halfsky::v1::Revision rev;
    *rev.mutable_data_value() = v;
    rev.set_revision(1);
    rev.set_sequence(++sequence_);
    rev.set_unit_code("HEALTH_BUREAU");
    agg_.Apply(rev, &changes);
    indicators.insert(v.key().indicator_id());
  }
  std::vector<aggregation::CellId> cells(changes.cells.begin(), changes.cells.end());
  HALFSKY_ASSIGN_OR_RETURN(auto result,
                           writer_.Commit(agg_, cells, sequence_, /*create_cursor=*/!created_));
  created_ = true;
  cache::UpdateMessage message;
  message.cursor = sequence_;
  message.version = result.version;
  message.indicator_ids.assign(indicators.begin(), indicators.end());
  return writer_.Publish(message);
}

}  // namespace halfsky::evaluation::testing
