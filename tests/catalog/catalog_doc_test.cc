// docs/CATALOG.md is generated from deploy/catalog by `halfskyctl catalog
// doc`; this test regenerates it and fails when the committed copy is stale.

#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "services/halfskyctl/catalog/catalog_cmd.h"
#include "tests/support/process.h"

namespace halfsky {
namespace {

TEST(CatalogDocTest, CommittedCatalogDocIsCurrent) {
  const std::string source = HALFSKY_SOURCE_DIR;
  const std::string generated = testing::MakeTempDir("catalog-doc") + "/CATALOG.md";
  std::ostringstream out, err;
  ASSERT_EQ(RunCatalogCommand({"doc", "--catalog", source + "/deploy/catalog", "-o", generated},
                              out, err),
            0)
      << err.str();
  const std::string want = testing::ReadFile(generated);
  ASSERT_FALSE(want.empty());
  const std::string committed = testing::ReadFile(source + "/docs/CATALOG.md");
  EXPECT_TRUE(committed == want)
      << "docs/CATALOG.md is stale; regenerate it from the source tree with\n"
         "  halfskyctl catalog doc --catalog deploy/catalog -o docs/CATALOG.md\n"
         "(freshly generated copy: "
      << generated << ")";
}

}  // namespace
}  // namespace halfsky
