// Several plans in one catalog over a multi-level area tree (issue #17):
// `catalog lint` accepts a city with two districts, each bound to its own
// plan, and rejects a broken one with FILE:LINE, the offending id and a
// Chinese message; CatalogIndex says which plan governs an area and which
// targets apply to it.

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/catalog/catalog.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"

namespace halfsky {
namespace {

// 宝鸡市 with 金台区 and 渭滨区, a plan each. Comments mark the lines the
// cases point at.
// Text-proto fixture: its layout is kept.
// clang-format off
constexpr char kCity[] = R"pb(version: "test.city.1"
plan_title_zh: "宝鸡市妇女发展规划（2021—2030年）"
base_year: 2020
midterm_year: 2025
final_year: 2030
plans { code: "BAOJI" title_zh: "宝鸡市妇女发展规划（2021—2030年）" area_code: "610300" level: AREA_LEVEL_CITY }  # P1
plans { code: "JINTAI" title_zh: "金台区妇女发展规划（2021—2030年）" area_code: "610303" level: AREA_LEVEL_DISTRICT }  # P2
plans { code: "WEIBIN" title_zh: "渭滨区妇女发展规划（示例）" area_code: "610302" level: AREA_LEVEL_DISTRICT base_year: 2020 midterm_year: 2023 final_year: 2025 }  # P3
domains { id: "HEALTH" number: 1 name_zh: "妇女与健康" name_en: "Women and health" }
objectives { id: "HEALTH-O01" domain_id: "HEALTH" number: 1 text_zh: "孕产妇死亡率控制在12/10万以下。" }  # O1
objectives { id: "HEALTH-O02" domain_id: "HEALTH" number: 1 plan_code: "JINTAI" text_zh: "孕产妇死亡率下降到10.15/10万以下。" }  # O2
objectives { id: "HEALTH-O03" domain_id: "HEALTH" number: 1 plan_code: "WEIBIN" text_zh: "孕产妇死亡率下降到11/10万以下。" }  # O3
indicators {  # IND1
  id: "HEALTH-01"
  domain_id: "HEALTH"
  objective_ids: "HEALTH-O01"
  objective_ids: "HEALTH-O02"
  objective_ids: "HEALTH-O03"
  name_zh: "孕产妇死亡率"
  name_en: "Maternal mortality ratio"
  kind: INDICATOR_KIND_RATE
  unit: "/10万"
  multiplier: 100000
  definition { numerator_zh: "孕产妇死亡人数" denominator_zh: "活产数" }
  statistic_code: "NATIONAL.HEALTH.MMR"
  responsible_unit_codes: "HEALTH"
  data_source: DATA_SOURCE_DEPARTMENTAL_STATISTICS
  direction: DIRECTION_LOWER_IS_BETTER
  targets { comparator: COMPARATOR_AT_MOST year: 2030 value: 12 objective_id: "HEALTH-O01" text_zh: "控制在12/10万以下" }  # T1
  targets { comparator: COMPARATOR_AT_MOST year: 2030 value: 10.15 plan_code: "JINTAI" objective_id: "HEALTH-O02" text_zh: "下降到10.15/10万以下" }  # T2
  targets { comparator: COMPARATOR_AT_MOST year: 2025 value: 11 plan_code: "WEIBIN" objective_id: "HEALTH-O03" text_zh: "下降到11/10万以下" }  # T3
}
member_units { code: "HEALTH" name_zh: "卫生健康局" name_en: "Health Bureau" }
areas { code: "610300" name_zh: "宝鸡市" name_en: "Baoji" level: AREA_LEVEL_CITY residence: RESIDENCE_URBAN }  # A0
areas { code: "610302" name_zh: "渭滨区" name_en: "Weibin" parent_code: "610300" level: AREA_LEVEL_DISTRICT residence: RESIDENCE_URBAN }  # A1
areas { code: "610303" name_zh: "金台区" name_en: "Jintai" parent_code: "610300" level: AREA_LEVEL_DISTRICT residence: RESIDENCE_URBAN }  # A2
areas { code: "610302100" name_zh: "神农镇" name_en: "Shennong" parent_code: "610302" level: AREA_LEVEL_TOWN residence: RESIDENCE_RURAL }  # A3
areas { code: "610303100" name_zh: "陈仓镇" name_en: "Chencang" parent_code: "610303" level: AREA_LEVEL_TOWN residence: RESIDENCE_RURAL }  # A4
)pb";
// clang-format on

std::string WriteFile(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

int LineOf(const std::string& text, const std::string& marker) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++n;
    if (absl::StrContains(line, marker)) {
      return n;
    }
  }
  return 0;
}

std::string Dump(const std::vector<CatalogProblem>& problems) {
  std::vector<std::string> lines;
  for (const auto& p : problems) {
    lines.push_back(p.ToString());
  }
  return absl::StrJoin(lines, "\n");
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t pos = text.find(from);
  if (pos == std::string::npos) {
    ADD_FAILURE() << "fixture does not contain: " << from;
    return text;
  }
  return text.replace(pos, from.size(), to);
}

std::shared_ptr<const CatalogIndex> MustLoad(const std::string& text) {
  const std::string dir = testing::MakeTempDir("catalog-city");
  const std::string path = WriteFile(dir, "city.textproto", text);
  auto index = CatalogIndex::Load({path});
  EXPECT_TRUE(index.ok()) << index.status();
  return index.ok() ? *index : nullptr;
}

TEST(CatalogMultiPlanTest, CityWithTwoDistrictPlansIsValid) {
  auto index = MustLoad(kCity);
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->RootArea().code(), "610300");
  ASSERT_NE(index->GoverningPlan("610300"), nullptr);
  EXPECT_EQ(index->GoverningPlan("610300")->code(), "BAOJI");
  EXPECT_EQ(index->GoverningPlan("610303")->code(), "JINTAI");
  // A town is governed by its district's plan.
  EXPECT_EQ(index->GoverningPlan("610303100")->code(), "JINTAI");
  EXPECT_EQ(index->GoverningPlan("610302100")->code(), "WEIBIN");
  EXPECT_EQ(index->GoverningPlan("999999"), nullptr);
  EXPECT_EQ(index->PlanTitle("610303100"), "金台区妇女发展规划（2021—2030年）");
  EXPECT_EQ(index->PlanTitle("610300"), "宝鸡市妇女发展规划（2021—2030年）");

  const auto& targets = index->FindIndicator("HEALTH-01")->targets();
  ASSERT_EQ(targets.size(), 3);
  // T1 has no plan_code: it is the root area's (the city's) plan.
  EXPECT_TRUE(index->TargetApplies(targets[0], "610300"));
  EXPECT_FALSE(index->TargetApplies(targets[0], "610303"));
  EXPECT_TRUE(index->TargetApplies(targets[1], "610303"));
  EXPECT_TRUE(index->TargetApplies(targets[1], "610303100"));
  EXPECT_FALSE(index->TargetApplies(targets[1], "610302"));
  EXPECT_FALSE(index->TargetApplies(targets[1], "610300"));
  EXPECT_TRUE(index->TargetApplies(targets[2], "610302"));
}

TEST(CatalogMultiPlanTest, WithoutPlansEveryTargetAppliesEverywhere) {
  // The one-plan case: the deploy catalog as it has always been.
  auto index = CatalogIndex::Load({std::string(HALFSKY_SOURCE_DIR) + "/deploy/catalog"});
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_TRUE((*index)->catalog().plans().empty());
  EXPECT_EQ((*index)->GoverningPlan("610303"), nullptr);
  EXPECT_EQ((*index)->PlanTitle("610303100"), "金台区妇女发展规划（2021—2030年）");
  for (const auto& ind : (*index)->catalog().indicators()) {
    for (const auto& t : ind.targets()) {
      EXPECT_TRUE((*index)->TargetApplies(t, "610303100")) << ind.id();
    }
  }
}

TEST(CatalogMultiPlanTest, TheExampleCityCatalogLintsClean) {
  // deploy/examples/city/catalog: what `halfskyctl catalog lint` asks,
  // explanations included.
  const std::string dir = std::string(HALFSKY_SOURCE_DIR) + "/deploy/examples/city/catalog";
  CatalogLoadResult result = LintCatalog({dir}, LintOptions{/*require_explanations=*/true});
  EXPECT_TRUE(result.problems.empty()) << Dump(result.problems);
  auto index = CatalogIndex::Load({dir});
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ((*index)->catalog().plans_size(), 3);
  EXPECT_EQ((*index)->GoverningPlan("610300")->code(), "BAOJI");
  EXPECT_EQ((*index)->GoverningPlan("610303100")->code(), "JINTAI");
  EXPECT_EQ((*index)->GoverningPlan("610302001")->code(), "WEIBIN");
  // Each area reads the 孕产妇死亡率 target of its own plan: the city 12
  // (the national outline's), 金台区 10.15 (its plan's), 渭滨区 11 (invented).
  const auto* mmr = (*index)->FindIndicator("HEALTH-01");
  ASSERT_NE(mmr, nullptr);
  auto value_for = [&](const std::string& area) {
    std::vector<double> out;
    for (const auto& t : mmr->targets()) {
      if ((*index)->TargetApplies(t, area)) {
        out.push_back(t.value());
      }
    }
    return out;
  };
  EXPECT_THAT(value_for("610300"), ::testing::ElementsAre(12));
  EXPECT_THAT(value_for("610303"), ::testing::ElementsAre(10.15));
  EXPECT_THAT(value_for("610302100"), ::testing::ElementsAre(11));
}

TEST(CatalogMultiPlanTest, FiveLevelTreeIsValid) {
  // 省 → 市 → 区 → 镇/街道 → 村/社区, and a county directly under the
  // province (省直辖县级行政区); urban and rural at any level.
  std::string text =
      Replace(kCity, "areas { code: \"610300\" name_zh: \"宝鸡市\" name_en: \"Baoji\" level",
              "areas { code: \"610000\" name_zh: \"陕西省\" name_en: \"Shaanxi\" "
              "level: AREA_LEVEL_PROVINCE residence: RESIDENCE_URBAN }\n"
              "areas { code: \"610300\" name_zh: \"宝鸡市\" name_en: \"Baoji\" "
              "parent_code: \"610000\" level");
  text = Replace(text, "area_code: \"610300\" level: AREA_LEVEL_CITY",
                 "area_code: \"610000\" level: AREA_LEVEL_PROVINCE");
  text +=
      "areas { code: \"610303100201\" name_zh: \"某村\" name_en: \"A village\" parent_code: "
      "\"610303100\" level: AREA_LEVEL_VILLAGE residence: RESIDENCE_RURAL }\n"
      "areas { code: \"610303001\" name_zh: \"中山东路街道\" name_en: \"Zhongshan East\" "
      "parent_code: \"610303\" level: AREA_LEVEL_SUBDISTRICT residence: RESIDENCE_URBAN }\n"
      "areas { code: \"610303001001\" name_zh: \"某社区\" name_en: \"A community\" parent_code: "
      "\"610303001\" level: AREA_LEVEL_COMMUNITY residence: RESIDENCE_URBAN }\n"
      "areas { code: \"619000\" name_zh: \"某县\" name_en: \"A county\" parent_code: \"610000\" "
      "level: AREA_LEVEL_COUNTY residence: RESIDENCE_RURAL }\n";
  auto index = MustLoad(text);
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->RootArea().code(), "610000");
  // The city has no plan of its own here: the province's governs it.
  EXPECT_EQ(index->GoverningPlan("610300")->code(), "BAOJI");
  EXPECT_EQ(index->GoverningPlan("619000")->code(), "BAOJI");
  EXPECT_EQ(index->GoverningPlan("610303100201")->code(), "JINTAI");
}

struct BadCase {
  std::string name;
  std::function<std::string(const std::string&)> mutate;
  std::string marker;   // the problem's line is the first line containing this
  std::string id;       // expected problem id
  std::string message;  // expected substring of the message (Chinese part)
};

std::vector<BadCase> BadCases() {
  auto rep = [](std::string from, std::string to) {
    return [from, to](const std::string& t) { return Replace(t, from, to); };
  };
  auto app = [](std::string more) { return [more](const std::string& t) { return t + more; }; };
  return {
      {"PlanGovernsUnknownArea", rep("area_code: \"610302\"", "area_code: \"610399\""), "# P3",
       "WEIBIN", "规划管辖的区域 610399 不在区域树中"},
      {"TwoPlansGovernTheSameArea",
       app("plans { code: \"JINTAI2\" title_zh: \"重复\" area_code: \"610303\" level: "
           "AREA_LEVEL_DISTRICT }  # DUP\n"),
       "# DUP", "JINTAI2", "两个规划管辖同一区域 610303（同一层级），已有规划 JINTAI"},
      {"DuplicatePlanCode",
       app("plans { code: \"JINTAI\" title_zh: \"重复\" area_code: \"610303100\" }  # DUP\n"),
       "# DUP", "JINTAI", "规划代码重复"},
      {"PlanLevelDiffersFromItsArea",
       rep("area_code: \"610303\" level: AREA_LEVEL_DISTRICT",
           "area_code: \"610303\" level: AREA_LEVEL_CITY"),
       "# P2", "JINTAI",
       "规划层级 AREA_LEVEL_CITY 与所辖区域 610303 的层级 AREA_LEVEL_DISTRICT 不符"},
      {"NoPlanGovernsTheRoot", rep("area_code: \"610300\"", "area_code: \"610303100\""), "# P1", "",
       "没有规划管辖根区域 610300"},
      {"PlanYearsOutOfOrder", rep("midterm_year: 2023", "midterm_year: 2026"), "# P3", "WEIBIN",
       "规划年份顺序错误"},
      {"TargetYearOutsideItsPlan",
       rep("year: 2025 value: 11 plan_code", "year: 2030 value: 11 plan_code"), "# T3", "HEALTH-01",
       "目标年份 2030 超出 2021—2025（规划 WEIBIN 的年份）"},
      {"TargetOfUnknownPlan",
       rep("plan_code: \"WEIBIN\" objective_id",
           "plan_code: \"XIAN\" "
           "objective_id"),
       "# T3", "HEALTH-01", "未知规划 XIAN"},
      {"TargetCitesAnotherPlansObjective",
       rep("plan_code: \"JINTAI\" objective_id: \"HEALTH-O02\"",
           "plan_code: \"JINTAI\" objective_id: \"HEALTH-O03\""),
       "# T2", "HEALTH-01", "出处 HEALTH-O03 属于规划 WEIBIN，不是目标的规划 JINTAI"},
      {"ObjectiveOfUnknownPlan",
       rep("plan_code: \"WEIBIN\" text_zh", "plan_code: \"XIAN\" text_zh"), "# O3", "HEALTH-O03",
       "未知规划 XIAN"},
      {"DuplicateObjectiveNumberInOnePlan",
       rep("number: 1 plan_code: \"WEIBIN\"", "number: 1 plan_code: \"JINTAI\""), "# O3",
       "HEALTH-O03", "重复"},
      {"SharedStatisticWhoseUnitsDisagree",
       app("indicators { id: \"HEALTH-02\" domain_id: \"HEALTH\" objective_ids: \"HEALTH-O01\" "
           "name_zh: \"孕产妇死亡率（千分）\" name_en: \"MMR per mille\" kind: INDICATOR_KIND_RATE "
           "unit: \"‰\" multiplier: 1000 definition { numerator_zh: \"孕产妇死亡人数\" "
           "denominator_zh: \"活产数\" } statistic_code: \"NATIONAL.HEALTH.MMR\" "
           "responsible_unit_codes: \"HEALTH\" data_source: DATA_SOURCE_DEPARTMENTAL_STATISTICS "
           "}  # SHARED\n"),
       "# SHARED", "HEALTH-02", "与指标 HEALTH-01 共用统计代码 NATIONAL.HEALTH.MMR，但计量单位"},
      {"SharedStatisticWhoseDefinitionsDisagree",
       app("indicators { id: \"HEALTH-02\" domain_id: \"HEALTH\" objective_ids: \"HEALTH-O01\" "
           "name_zh: \"孕产妇死亡率（另一口径）\" name_en: \"MMR other\" kind: INDICATOR_KIND_RATE "
           "unit: \"/10万\" multiplier: 100000 definition { numerator_zh: \"孕产妇死亡人数\" "
           "denominator_zh: \"出生人数\" } statistic_code: \"NATIONAL.HEALTH.MMR\" "
           "responsible_unit_codes: \"HEALTH\" data_source: DATA_SOURCE_DEPARTMENTAL_STATISTICS "
           "}  # SHARED\n"),
       "# SHARED", "HEALTH-02", "分母定义"},
      {"CycleInTheTree",
       app("areas { code: \"610303200\" name_zh: \"甲\" parent_code: \"610303201\" level: "
           "AREA_LEVEL_TOWN residence: RESIDENCE_RURAL }  # CYC\n"
           "areas { code: \"610303201\" name_zh: \"乙\" parent_code: \"610303200\" level: "
           "AREA_LEVEL_TOWN residence: RESIDENCE_RURAL }\n"),
       "# CYC", "610303200", "区域的上级关系成环"},
      {"TownDirectlyUnderTheCity",
       rep("name_en: \"Shennong\" parent_code: \"610302\"",
           "name_en: \"Shennong\" parent_code: \"610300\""),
       "# A3", "610302100", "区域层级 AREA_LEVEL_TOWN 不能隶属于 AREA_LEVEL_CITY"},
      {"CityUnderADistrict",
       app("areas { code: \"610303900\" name_zh: \"错市\" parent_code: \"610303\" level: "
           "AREA_LEVEL_CITY residence: RESIDENCE_URBAN }  # BADCITY\n"),
       "# BADCITY", "610303900", "不能隶属于 AREA_LEVEL_DISTRICT"},
      {"TownAsRoot",
       rep("name_en: \"Baoji\" level: AREA_LEVEL_CITY",
           "name_en: \"Baoji\" level: AREA_LEVEL_TOWN"),
       "# A0", "610300", "根区域须为省、市或县（区）级"},
  };
}

class BadMultiPlanCatalogTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadMultiPlanCatalogTest, IsRejectedWithFileLineAndChineseMessage) {
  const BadCase& c = GetParam();
  const std::string text = c.mutate(kCity);
  ASSERT_NE(text, kCity) << "mutation did nothing";
  const std::string dir = testing::MakeTempDir("catalog-city-bad");
  const std::string path = WriteFile(dir, "city.textproto", text);
  CatalogLoadResult result = LintCatalog({path});
  ASSERT_FALSE(result.problems.empty()) << "accepted:\n" << text;
  const int line = LineOf(text, c.marker);
  bool found = false;
  for (const auto& p : result.problems) {
    if (p.file == path && p.line == line && p.id == c.id &&
        absl::StrContains(p.message, c.message)) {
      found = true;
    }
  }
  EXPECT_TRUE(found) << "want " << path << ":" << line << ": " << c.id << ": ..." << c.message
                     << "\ngot:\n"
                     << Dump(result.problems);
  EXPECT_FALSE(CatalogIndex::Load({path}).ok());
}

INSTANTIATE_TEST_SUITE_P(AllRules, BadMultiPlanCatalogTest, ::testing::ValuesIn(BadCases()),
                         [](const ::testing::TestParamInfo<BadCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace halfsky
