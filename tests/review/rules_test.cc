// The validation rules library (common/catalog/rules): every built-in
// family catches inconsistent figures and lets consistent ones through; the
// catalog's own rules (comparison, bounds, change) and their lint.
#include "common/catalog/rules/rules.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/catalog/catalog.h"
#include "gtest/gtest.h"

namespace halfsky::rules {
namespace {

namespace v1 = ::halfsky::v1;

std::string CatalogPath() {
  return std::string(HALFSKY_SOURCE_DIR) + "/tests/review/testdata/catalog.textproto";
}

class RulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = CatalogIndex::Load({CatalogPath()});
    ASSERT_TRUE(c.ok()) << c.status();
    catalog_ = *c;
    rules_ = RulesInForce(catalog_->catalog());
  }

  void Count(const std::string& id, int year, double v, v1::Sex sex = v1::SEX_TOTAL,
             v1::Residence res = v1::RESIDENCE_ALL, const std::string& area = "610303") {
    v1::DataValue d;
    d.mutable_key()->set_indicator_id(id);
    d.mutable_key()->set_area_code(area);
    d.mutable_key()->set_year(year);
    d.mutable_key()->set_sex(sex);
    d.mutable_key()->set_residence(res);
    d.set_value(v);
    table_.Add(d, *catalog_->FindIndicator(id));
  }
  void Frac(const std::string& id, int year, double num, double den, v1::Sex sex,
            v1::Residence res) {
    v1::DataValue d;
    d.mutable_key()->set_indicator_id(id);
    d.mutable_key()->set_area_code("610303");
    d.mutable_key()->set_year(year);
    d.mutable_key()->set_sex(sex);
    d.mutable_key()->set_residence(res);
    d.mutable_fraction()->set_numerator(num);
    d.mutable_fraction()->set_denominator(den);
    table_.Add(d, *catalog_->FindIndicator(id));
  }
  std::vector<v1::RuleViolation> Run(int year, int* checked = nullptr) {
    return Evaluate(rules_, catalog_->catalog(), table_, {{"610303", year}}, checked);
  }
  static std::vector<std::string> Ids(const std::vector<v1::RuleViolation>& vs) {
    std::vector<std::string> out;
    for (const auto& v : vs) out.push_back(v.rule_id());
    return out;
  }

  std::shared_ptr<const CatalogIndex> catalog_;
  std::vector<v1::ValidationRule> rules_;
  FigureTable table_;
};

TEST_F(RulesTest, BuiltinFamiliesFollowTheDisaggregations) {
  std::vector<std::string> ids;
  for (const auto& r : BuiltinRules(catalog_->catalog())) ids.push_back(r.id());
  // COUNT by sex and residence: value sums and parts.
  EXPECT_NE(std::find(ids.begin(), ids.end(), "builtin.sex_sum.HEALTH-07"), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), "builtin.residence_sum.HEALTH-07"), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), "builtin.sex_part.HEALTH-07.female"), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), "builtin.residence_part.HEALTH-07.rural"), ids.end());
  // A RATE by residence: numerators and denominators, never rates.
  EXPECT_NE(std::find(ids.begin(), ids.end(), "builtin.residence_sum.HEALTH-01.numerator"),
            ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), "builtin.residence_sum.HEALTH-01.denominator"),
            ids.end());
  EXPECT_EQ(std::find(ids.begin(), ids.end(), "builtin.sex_sum.HEALTH-01.numerator"), ids.end());
  // A PROPORTION: numerator <= denominator for every group it has.
  EXPECT_NE(std::find(ids.begin(), ids.end(), "builtin.fraction.HEALTH-02.female.all"), ids.end());
  // The children's sum for every summable indicator, each group and part,
  // importance WARNING.
  EXPECT_NE(std::find(ids.begin(), ids.end(), "builtin.children_sum.HEALTH-03.total.all"),
            ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), "builtin.children_sum.HEALTH-07.female.all"),
            ids.end());
  EXPECT_NE(
      std::find(ids.begin(), ids.end(), "builtin.children_sum.HEALTH-01.total.rural.denominator"),
      ids.end());
  for (const auto& r : BuiltinRules(catalog_->catalog())) {
    EXPECT_EQ(r.importance(), absl::StartsWith(r.id(), "builtin.children_sum.")
                                  ? v1::RULE_IMPORTANCE_WARNING
                                  : v1::RULE_IMPORTANCE_ERROR)
        << r.id();
  }
  // No other family for a COUNT without disaggregation; none for a VALUE or
  // a narrative.
  for (const auto& id : ids) {
    EXPECT_TRUE(!absl::StrContains(id, "HEALTH-03") ||
                id == "builtin.children_sum.HEALTH-03.total.all")
        << id;
    EXPECT_FALSE(absl::StrContains(id, "HEALTH-04")) << id;
    EXPECT_FALSE(absl::StrContains(id, "HEALTH-05")) << id;
  }
}

TEST_F(RulesTest, SexSumCatchesFortyPlusSeventyAgainstHundred) {
  Count("HEALTH-07", 2024, 100);
  Count("HEALTH-07", 2024, 40, v1::SEX_FEMALE);
  Count("HEALTH-07", 2024, 70, v1::SEX_MALE);
  auto vs = Run(2024);
  ASSERT_EQ(Ids(vs), std::vector<std::string>{"builtin.sex_sum.HEALTH-07"});
  EXPECT_EQ(vs[0].importance(), v1::RULE_IMPORTANCE_ERROR);
  EXPECT_EQ(vs[0].left_value(), 110);
  EXPECT_EQ(vs[0].right_value(), 100);
  EXPECT_EQ(vs[0].field(), "HEALTH-07/610303/2024: female+male == total");
  EXPECT_TRUE(absl::StrContains(vs[0].message_zh(), "女 40 + 男 70 = 110，不等于合计 100"))
      << vs[0].message_zh();
}

TEST_F(RulesTest, ConsistentFiguresPassEveryFamily) {
  Count("HEALTH-07", 2024, 100);
  Count("HEALTH-07", 2024, 40, v1::SEX_FEMALE);
  Count("HEALTH-07", 2024, 60, v1::SEX_MALE);
  Count("HEALTH-07", 2024, 70, v1::SEX_TOTAL, v1::RESIDENCE_URBAN);
  Count("HEALTH-07", 2024, 30, v1::SEX_TOTAL, v1::RESIDENCE_RURAL);
  Frac("HEALTH-01", 2024, 3, 2000, v1::SEX_TOTAL, v1::RESIDENCE_ALL);
  Frac("HEALTH-01", 2024, 1, 1200, v1::SEX_TOTAL, v1::RESIDENCE_URBAN);
  Frac("HEALTH-01", 2024, 2, 800, v1::SEX_TOTAL, v1::RESIDENCE_RURAL);
  Frac("HEALTH-02", 2024, 90, 100, v1::SEX_FEMALE, v1::RESIDENCE_ALL);
  int checked = 0;
  EXPECT_TRUE(Run(2024, &checked).empty());
  // sex: sum + 2 parts; residence: sum + 2 parts; HEALTH-01: 2 x (sum + 2
  // parts); HEALTH-02 female: fraction; the catalog's bounds on HEALTH-07.
  EXPECT_EQ(checked, 3 + 3 + 6 + 1 + 1);
}

TEST_F(RulesTest, ResidenceSumAndPartAndFractionCatch) {
  Count("HEALTH-07", 2024, 100);
  Count("HEALTH-07", 2024, 40, v1::SEX_TOTAL, v1::RESIDENCE_URBAN);
  Count("HEALTH-07", 2024, 70, v1::SEX_TOTAL, v1::RESIDENCE_RURAL);
  Count("HEALTH-07", 2023, 100);
  Count("HEALTH-07", 2023, 120, v1::SEX_FEMALE);  // male missing: no sum, but a part
  Frac("HEALTH-01", 2024, 1, 1200, v1::SEX_TOTAL, v1::RESIDENCE_URBAN);
  Frac("HEALTH-01", 2024, 1, 800, v1::SEX_TOTAL, v1::RESIDENCE_RURAL);
  Frac("HEALTH-01", 2024, 3, 2000, v1::SEX_TOTAL, v1::RESIDENCE_ALL);
  Frac("HEALTH-02", 2024, 120, 100, v1::SEX_FEMALE, v1::RESIDENCE_ALL);
  // In rule order: the indicators' catalog order.
  EXPECT_EQ(Ids(Run(2024)), (std::vector<std::string>{"builtin.residence_sum.HEALTH-01.numerator",
                                                      "builtin.fraction.HEALTH-02.female.all",
                                                      "builtin.residence_sum.HEALTH-07"}));
  EXPECT_EQ(Ids(Run(2023)), std::vector<std::string>{"builtin.sex_part.HEALTH-07.female"});
}

// The children's sum against the parent's own figure (WARNING): checked
// only where the parent reports its own figure and every child has one.
TEST_F(RulesTest, ChildrenSumAgainstTheParentsOwnFigure) {
  Count("HEALTH-07", 2024, 100);
  Count("HEALTH-07", 2024, 50, v1::SEX_TOTAL, v1::RESIDENCE_ALL, "610303001");
  // One child missing: a partial sum is never compared.
  int checked = 0;
  std::vector<v1::RuleViolation> vs =
      Evaluate(rules_, catalog_->catalog(), table_, {{"610303", 2024}}, &checked);
  EXPECT_TRUE(vs.empty()) << vs[0].message_zh();
  const int without_children = checked;

  Count("HEALTH-07", 2024, 40, v1::SEX_TOTAL, v1::RESIDENCE_ALL, "610303100");
  vs = Evaluate(rules_, catalog_->catalog(), table_, {{"610303", 2024}}, &checked);
  ASSERT_EQ(Ids(vs), std::vector<std::string>{"builtin.children_sum.HEALTH-07.total.all"});
  EXPECT_EQ(checked, without_children + 1);
  EXPECT_EQ(vs[0].importance(), v1::RULE_IMPORTANCE_WARNING);
  EXPECT_EQ(vs[0].left_value(), 90);
  EXPECT_EQ(vs[0].right_value(), 100);
  EXPECT_EQ(vs[0].field(), "HEALTH-07/610303/2024: children.total == total");
  EXPECT_TRUE(absl::StrContains(vs[0].message_zh(), "下级合计 90 与本级 100 不一致（相差 10）"))
      << vs[0].message_zh();
  EXPECT_TRUE(absl::StrContains(vs[0].message_zh(), "提示")) << vs[0].message_zh();

  // Consistent: 60 + 40 = 100 passes; a town (no children) is not checked.
  Count("HEALTH-07", 2024, 60, v1::SEX_TOTAL, v1::RESIDENCE_ALL, "610303001");
  EXPECT_TRUE(Evaluate(rules_, catalog_->catalog(), table_, {{"610303", 2024}}).empty());
  EXPECT_TRUE(Evaluate(rules_, catalog_->catalog(), table_, {{"610303100", 2024}}).empty());
}

// For a RATE the children's numerators and denominators are compared, by
// group (here the female figures), never the rates.
TEST_F(RulesTest, ChildrenSumOfFractionsComparesNumeratorsAndDenominators) {
  auto frac = [&](const std::string& area, double num, double den) {
    v1::DataValue d;
    d.mutable_key()->set_indicator_id("HEALTH-02");
    d.mutable_key()->set_area_code(area);
    d.mutable_key()->set_year(2024);
    d.mutable_key()->set_sex(v1::SEX_FEMALE);
    d.mutable_fraction()->set_numerator(num);
    d.mutable_fraction()->set_denominator(den);
    table_.Add(d, *catalog_->FindIndicator("HEALTH-02"));
  };
  frac("610303", 90, 100);
  frac("610303001", 50, 55);
  frac("610303100", 40, 50);  // denominators 105 against 100
  std::vector<v1::RuleViolation> vs =
      Evaluate(rules_, catalog_->catalog(), table_, {{"610303", 2024}});
  ASSERT_EQ(Ids(vs),
            std::vector<std::string>{"builtin.children_sum.HEALTH-02.female.all.denominator"});
  EXPECT_TRUE(absl::StrContains(vs[0].message_zh(), "下级合计女分母 105 与本级女分母 100 不一致"))
      << vs[0].message_zh();
  table_ = FigureTable();
  frac("610303", 90, 100);
  frac("610303001", 50, 50);
  frac("610303100", 40, 50);
  EXPECT_TRUE(Evaluate(rules_, catalog_->catalog(), table_, {{"610303", 2024}}).empty());
}

TEST_F(RulesTest, CatalogComparisonAndBoundsRules) {
  Count("HEALTH-03", 2024, 200);
  Count("HEALTH-07", 2024, 100);
  auto vs = Run(2024);
  ASSERT_EQ(Ids(vs), std::vector<std::string>{"HEALTH-03.within_screened"});
  EXPECT_TRUE(absl::StrContains(vs[0].message_zh(), "孕产妇死亡人数 200，大于妇科病检查人数 100"))
      << vs[0].message_zh();
  Count("HEALTH-07", 2025, 6000);
  Count("HEALTH-03", 2025, 3);
  vs = Run(2025);
  ASSERT_EQ(Ids(vs), std::vector<std::string>{"HEALTH-07.plausible"});
  EXPECT_EQ(vs[0].importance(), v1::RULE_IMPORTANCE_WARNING);
  EXPECT_EQ(vs[0].right_value(), 5000);
}

TEST_F(RulesTest, ChangeRuleComparesThePreviousYear) {
  v1::ValidationRule r;
  r.set_id("x.change");
  r.set_description_zh("年度变动不超过50%");
  r.set_importance(v1::RULE_IMPORTANCE_WARNING);
  r.add_left()->set_indicator_id("HEALTH-03");
  r.set_max_change_percent(50);
  Count("HEALTH-03", 2023, 10);
  Count("HEALTH-03", 2024, 16);
  auto vs = Evaluate({r}, catalog_->catalog(), table_, {{"610303", 2024}});
  ASSERT_EQ(vs.size(), 1u);
  EXPECT_EQ(vs[0].right_value(), 10);
  Count("HEALTH-03", 2024, 14);
  EXPECT_TRUE(Evaluate({r}, catalog_->catalog(), table_, {{"610303", 2024}}).empty());
  // Without the previous year's figure the rule is not checked.
  EXPECT_TRUE(Evaluate({r}, catalog_->catalog(), table_, {{"610303", 2023}}).empty());
}

TEST(RulesLintTest, BadCatalogRulesAreProblemsWithFileAndLine) {
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "/bad_rules.textproto";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(
        "validation_rules { id: \"builtin.mine\" description_zh: \"x\" importance: "
        "RULE_IMPORTANCE_ERROR left { indicator_id: \"HEALTH-03\" } bounds { max: 1 } }\n"
        "validation_rules {\n  id: \"two-forms\" description_zh: \"x\" importance: "
        "RULE_IMPORTANCE_ERROR\n  left { indicator_id: \"HEALTH-03\" part: RULE_PART_NUMERATOR }\n"
        "  bounds { max: 1 } max_change_percent: 5 }\n"
        "validation_rules { id: \"nope\" description_zh: \"x\" importance: "
        "RULE_IMPORTANCE_WARNING left { indicator_id: \"NOPE\" } operator: "
        "RULE_OPERATOR_EQUAL right { indicator_id: \"HEALTH-03\" } }\n",
        f);
    std::fclose(f);
  }
  CatalogLoadResult r = LintCatalog(
      {std::string(HALFSKY_SOURCE_DIR) + "/tests/submission/testdata/catalog.textproto", path});
  std::vector<std::string> got;
  for (const auto& p : r.problems) got.push_back(p.ToString());
  auto has = [&](const std::string& needle) {
    for (const auto& g : got) {
      if (absl::StrContains(g, needle)) return true;
    }
    return false;
  };
  EXPECT_EQ(got.size(), 4u) << ::testing::PrintToString(got);
  EXPECT_TRUE(has("bad_rules.textproto:1: builtin.mine: 校验规则：校验规则 id 不能以 builtin."));
  EXPECT_TRUE(has("bad_rules.textproto:2: two-forms: 校验规则：校验规则须且只能有一种形式"));
  EXPECT_TRUE(has("bad_rules.textproto:2: two-forms: 校验规则：left[0] HEALTH-03 不是比率"));
  EXPECT_TRUE(has("bad_rules.textproto:6: nope: 校验规则：left[0] 引用未知指标"));
}

}  // namespace
}  // namespace halfsky::rules
