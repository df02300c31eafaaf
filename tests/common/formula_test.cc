// common/text/formula.h and its use by CsvField: text a spreadsheet would
// run as a formula is escaped, numbers and ordinary text are not.
#include "common/text/formula.h"

#include "common/text/csv.h"
#include "gtest/gtest.h"

namespace halfsky {
namespace {

TEST(FormulaTest, FormulaLikeTextIsRecognised) {
  for (const char* text :
       {"=1+2", "=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1",
        "-x", "=", "@", "-1-", "--1", "-1e", "+.e1", "-cmd|' /C calc'!A0"}) {
    EXPECT_TRUE(LooksLikeFormula(text)) << text;
  }
  EXPECT_FALSE(LooksLikeFormula("-"));
  EXPECT_EQ(FormulaSafeText("=1+2"), "'=1+2");
  EXPECT_EQ(FormulaSafeText("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(FormulaSafeText("\t=1"), "'\t=1");
}

TEST(FormulaTest, NumbersAndOrdinaryTextAreLeftAlone) {
  for (const char* text : {"", "-3.5", "+2", "-1e-3", "1E+6", "-.5", "-0.5%", "12", "孕产妇死亡率",
                           "a=b", "HEALTH-01", " =1", "'=1", "妇幼年报"}) {
    EXPECT_FALSE(LooksLikeFormula(text)) << text;
    EXPECT_EQ(FormulaSafeText(text), text);
  }
}

TEST(FormulaTest, CsvFieldEscapesFormulasThenQuotes) {
  EXPECT_EQ(CsvField("=1+2"), "'=1+2");
  EXPECT_EQ(CsvField("=SUM(1,2)"), "\"'=SUM(1,2)\"");
  EXPECT_EQ(CsvField("@x\"y"), "\"'@x\"\"y\"");
  EXPECT_EQ(CsvField("-2.5"), "-2.5");
  EXPECT_EQ(CsvField("-"), "-");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
}

}  // namespace
}  // namespace halfsky
