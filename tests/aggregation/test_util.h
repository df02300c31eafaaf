#ifndef HALFSKY_TESTS_AGGREGATION_TEST_UTIL_H_
#define HALFSKY_TESTS_AGGREGATION_TEST_UTIL_H_

// Helpers shared by the aggregation tests: the test catalog and revision
// builders.

#include <memory>
#include <string>

#include "common/catalog/catalog.h"
#include "halfsky/v1/common.pb.h"

namespace halfsky::aggregation::testing {

inline std::string TestCatalogPath() {
  return std::string(HALFSKY_SOURCE_DIR) + "/tests/aggregation/testdata/catalog.textproto";
}

// Loads testdata/catalog.textproto; aborts the test binary if invalid.
std::shared_ptr<const CatalogIndex> TestCatalog();

halfsky::v1::DataKey Key(const std::string& indicator, const std::string& area, int year,
                         halfsky::v1::Sex sex = halfsky::v1::SEX_TOTAL,
                         halfsky::v1::Residence residence = halfsky::v1::RESIDENCE_ALL);

// A revision with a fraction payload.
halfsky::v1::Revision Fraction(int64_t sequence, const halfsky::v1::DataKey& key, double numerator,
                               double denominator);
// A revision with a published-rate payload (RATE / PROPORTION, no counts).
halfsky::v1::Revision Published(int64_t sequence, const halfsky::v1::DataKey& key, double value);
// A revision with a value payload (COUNT / VALUE).
halfsky::v1::Revision Value(int64_t sequence, const halfsky::v1::DataKey& key, double value);
// A revision with a narrative payload (QUALITATIVE).
halfsky::v1::Revision Narrative(int64_t sequence, const halfsky::v1::DataKey& key,
                                const std::string& text);

}  // namespace halfsky::aggregation::testing

#endif  // HALFSKY_TESTS_AGGREGATION_TEST_UTIL_H_
