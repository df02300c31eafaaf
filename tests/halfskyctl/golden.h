#ifndef HALFSKY_TESTS_HALFSKYCTL_GOLDEN_H_
#define HALFSKY_TESTS_HALFSKYCTL_GOLDEN_H_

// Golden files under tests/halfskyctl/testdata/. Run a test with
// HALFSKY_UPDATE_GOLDEN=1 to rewrite them after a deliberate change, then
// review the diff.

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace halfsky::testing {

inline void ExpectGolden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(HALFSKY_SOURCE_DIR) + "/tests/halfskyctl/testdata/" + name;
  const char* update = std::getenv("HALFSKY_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "missing golden " << path << " (run with HALFSKY_UPDATE_GOLDEN=1)";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(actual, want.str()) << "golden " << name
                                << " differs; HALFSKY_UPDATE_GOLDEN=1 rewrites it";
}

}  // namespace halfsky::testing

#endif  // HALFSKY_TESTS_HALFSKYCTL_GOLDEN_H_
