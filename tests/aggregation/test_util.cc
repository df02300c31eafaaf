#include "tests/aggregation/test_util.h"

#include <cstdlib>
#include <iostream>

namespace halfsky::aggregation::testing {

std::shared_ptr<const CatalogIndex> TestCatalog() {
  static const auto* catalog = [] {
    auto loaded = CatalogIndex::Load({TestCatalogPath()});
    if (!loaded.ok()) {
      std::cerr << "test catalog invalid: " << loaded.status() << "\n";
      std::abort();
    }
    return new std::shared_ptr<const CatalogIndex>(*loaded);
  }();
  return *catalog;
}

halfsky::v1::DataKey Key(const std::string& indicator, const std::string& area, int year,
                         halfsky::v1::Sex sex, halfsky::v1::Residence residence) {
  halfsky::v1::DataKey key;
  key.set_indicator_id(indicator);
  key.set_area_code(area);
  key.set_year(year);
  key.set_sex(sex);
  key.set_residence(residence);
  return key;
}

namespace {
halfsky::v1::Revision Base(int64_t sequence, const halfsky::v1::DataKey& key) {
  halfsky::v1::Revision r;
  *r.mutable_data_value()->mutable_key() = key;
  r.mutable_data_value()->set_source("测试");
  r.set_sequence(sequence);
  r.set_revision(1);
  return r;
}
}  // namespace

halfsky::v1::Revision Fraction(int64_t sequence, const halfsky::v1::DataKey& key, double numerator,
                               double denominator) {
  auto r = Base(sequence, key);
  r.mutable_data_value()->mutable_fraction()->set_numerator(numerator);
  r.mutable_data_value()->mutable_fraction()->set_denominator(denominator);
  return r;
}

halfsky::v1::Revision Published(int64_t sequence, const halfsky::v1::DataKey& key, double value) {
  auto r = Base(sequence, key);
  r.mutable_data_value()->mutable_published()->set_value(value);
  return r;
}

halfsky::v1::Revision Value(int64_t sequence, const halfsky::v1::DataKey& key, double value) {
  auto r = Base(sequence, key);
  r.mutable_data_value()->set_value(value);
  return r;
}

halfsky::v1::Revision Narrative(int64_t sequence, const halfsky::v1::DataKey& key,
                                const std::string& text) {
  auto r = Base(sequence, key);
  r.mutable_data_value()->mutable_narrative()->set_text(text);
  r.mutable_data_value()->mutable_narrative()->set_self_assessment(
      halfsky::v1::SELF_ASSESSMENT_MET);
  return r;
}

}  // namespace halfsky::aggregation::testing
