// The plan's catalog in deploy/catalog: it loads clean, has every numbered
// 主要目标 of the plan and every exact target the plan sets.
//
// Plan: 金台区妇女发展规划（2021—2030年）, part 二「发展领域、主要目标和保障措施」.

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/catalog/catalog.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace halfsky {
namespace {

const std::string kCatalogDir = std::string(HALFSKY_SOURCE_DIR) + "/deploy/catalog";

class PlanCatalogTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = CatalogIndex::Load({kCatalogDir});
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    index_ = new std::shared_ptr<const CatalogIndex>(*loaded);
  }
  static void TearDownTestSuite() {
    delete index_;
    index_ = nullptr;
  }
  const CatalogIndex& index() { return **index_; }

  // The indicator named `name_zh` (exactly one).
  const v1::Indicator* ByName(const std::string& name_zh) {
    const v1::Indicator* found = nullptr;
    int n = 0;
    for (const auto& i : index().catalog().indicators()) {
      if (i.name_zh() == name_zh) {
        found = &i;
        ++n;
      }
    }
    EXPECT_EQ(n, 1) << "indicators named " << name_zh;
    return found;
  }

  static std::shared_ptr<const CatalogIndex>* index_;
};
std::shared_ptr<const CatalogIndex>* PlanCatalogTest::index_ = nullptr;

TEST_F(PlanCatalogTest, LoadsCleanAndLintFindsNothing) {
  CatalogLoadResult result = LintCatalog({kCatalogDir});
  for (const auto& p : result.problems) {
    ADD_FAILURE() << p.ToString();
  }
  EXPECT_EQ(index().catalog().base_year(), 2020);
  EXPECT_EQ(index().catalog().midterm_year(), 2025);
  EXPECT_EQ(index().catalog().final_year(), 2030);
  EXPECT_EQ(index().catalog().plan_title_zh(), "金台区妇女发展规划（2021—2030年）");
}

TEST_F(PlanCatalogTest, EightDomainsInPlanOrder) {
  const std::vector<std::pair<std::string, std::string>> want = {
      {"HEALTH", "妇女与健康"},      {"EDUCATION", "妇女与教育"},
      {"ECONOMY", "妇女与经济"},     {"DECISION", "妇女参与决策和管理"},
      {"SOCIAL", "妇女与社会保障"},  {"FAMILY", "妇女与家庭建设"},
      {"ENVIRONMENT", "妇女与环境"}, {"LAW", "妇女与法律"},
  };
  ASSERT_EQ(index().catalog().domains_size(), 8);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(index().catalog().domains(i).id(), want[i].first);
    EXPECT_EQ(index().catalog().domains(i).name_zh(), want[i].second);
    EXPECT_EQ(index().catalog().domains(i).number(), i + 1);
  }
}

// Counted by hand from the plan, part 二, the numbered items under each
// domain's 「主要目标」 heading:
//   二（一）妇女与健康 1–9, 二（二）妇女与教育 1–10, 二（三）妇女与经济 1–8,
//   二（四）妇女参与决策和管理 1–10, 二（五）妇女与社会保障 1–9,
//   二（六）妇女与家庭建设 1–8, 二（七）妇女与环境 1–10, 二（八）妇女与法律 1–8.
TEST_F(PlanCatalogTest, EveryNumberedObjectiveOfEveryDomain) {
  const std::map<std::string, int> want = {
      {"HEALTH", 9}, {"EDUCATION", 10}, {"ECONOMY", 8},      {"DECISION", 10},
      {"SOCIAL", 9}, {"FAMILY", 8},     {"ENVIRONMENT", 10}, {"LAW", 8},
  };
  std::map<std::string, int> got;
  for (const auto& o : index().catalog().objectives()) {
    ++got[o.domain_id()];
    EXPECT_FALSE(o.text_zh().empty()) << o.id();
    EXPECT_EQ(o.id(), absl::StrCat(o.domain_id(), "-O", o.number() < 10 ? "0" : "", o.number()));
    EXPECT_THAT(o.source_section(), ::testing::HasSubstr("主要目标"));
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(index().catalog().objectives_size(), 72);
}

TEST_F(PlanCatalogTest, ObjectiveTextIsVerbatim) {
  EXPECT_EQ(index().FindObjective("HEALTH-O02")->text_zh(),
            "降低孕产妇死亡率。孕产妇死亡率下降到10.15/10万以下。城乡差距明显缩小。");
  EXPECT_EQ(index().FindObjective("DECISION-O09")->text_zh(),
            "社区党组织书记、居委会主任中的女性比例逐步提高。社区“两委”成员中女性比例保持在60％左"
            "右，主任中女性比例保持在50％以上。");
  EXPECT_EQ(index().FindObjective("LAW-O08")->text_zh(),
            "依法为妇女提供公共法律服务，保障遭受侵害妇女获得及时有效的法律援助。");
  // The plan's stray blanks (「保持在   95％以上」) are not kept.
  EXPECT_EQ(index().FindObjective("SOCIAL-O03")->text_zh(),
            "完善医疗保障体系。妇女基本医疗保险参保率保持在95％以上，待遇保障水平稳步提高。");
}

TEST_F(PlanCatalogTest, QualitativeObjectivesHaveOneNarrativeIndicator) {
  int qualitative = 0;
  for (const auto& o : index().catalog().objectives()) {
    int narratives = 0;
    for (const auto& i : index().catalog().indicators()) {
      for (const auto& oid : i.objective_ids()) {
        if (oid == o.id() && i.kind() == v1::INDICATOR_KIND_QUALITATIVE) {
          ++narratives;
        }
      }
    }
    if (o.qualitative()) {
      ++qualitative;
      EXPECT_EQ(narratives, 1) << o.id();
    } else {
      EXPECT_EQ(narratives, 0) << o.id();
    }
  }
  EXPECT_GT(qualitative, 0);
}

struct WantTarget {
  std::string indicator;  // name_zh
  v1::Comparator comparator;
  int year;  // 0 = every year
  double value;
};

// Every exact figure the plan sets (主要目标 and 保障措施).
TEST_F(PlanCatalogTest, ExactTargetsOfThePlan) {
  const std::vector<WantTarget> want = {
      // 二（一） health
      {"孕产妇死亡率", v1::COMPARATOR_AT_MOST, 2030, 10.15},
      {"适龄妇女宫颈癌人群筛查率", v1::COMPARATOR_AT_LEAST, 2030, 70},
      {"艾滋病母婴传播率", v1::COMPARATOR_BELOW, 2030, 2},
      {"孕产妇系统管理率", v1::COMPARATOR_AT_LEAST, 2030, 98},                   // 保障措施4
      {"宫颈癌和乳腺癌防治知识知晓率", v1::COMPARATOR_AT_LEAST, 2030, 90},       // 保障措施5
      {"35—45岁妇女接受高效宫颈癌筛查比例", v1::COMPARATOR_AT_LEAST, 2030, 70},  // 保障措施5
      {"政府举办的标准化妇幼保健机构数", v1::COMPARATOR_AT_LEAST, 2030, 1},      // 保障措施2
      // 二（二） education
      {"女性高中阶段毛入学率", v1::COMPARATOR_MAINTAIN_AT_LEAST, 2030, 95},  // 达到并保持
      // 二（三） economy
      {"就业人员中女性比例", v1::COMPARATOR_ABOUT, 0, 45},
      {"城镇单位就业人员中女性比例", v1::COMPARATOR_ABOUT, 2030, 40},
      {"女性高级专业技术人员比例", v1::COMPARATOR_AT_LEAST, 2030, 40},
      // 二（四） decision-making
      {"区人大代表中女性比例", v1::COMPARATOR_MAINTAIN_AT_LEAST, 2030, 30},  // 达到并保持
      {"区政协委员中女性比例", v1::COMPARATOR_MAINTAIN_AT_LEAST, 2030, 30},  // 达到并保持
      {"区人大常委会组成人员中女性比例", v1::COMPARATOR_AT_LEAST, 2025, 20},
      {"区人大常委会组成人员中女性比例", v1::COMPARATOR_AT_LEAST, 2030, 25},
      {"区政协常委中女性比例", v1::COMPARATOR_AT_LEAST, 2025, 20},
      {"区政协常委中女性比例", v1::COMPARATOR_AT_LEAST, 2030, 25},
      {"区委政府部门领导班子中配备女干部的比例", v1::COMPARATOR_AT_LEAST, 2030, 50},
      {"镇（街）党政领导班子配备女干部的比例", v1::COMPARATOR_AT_LEAST, 2030, 100},
      {"镇（街）党（工）委书记中的女性人数", v1::COMPARATOR_AT_LEAST, 2030, 1},
      {"镇长、街道办事处主任中的女性人数", v1::COMPARATOR_AT_LEAST, 2030, 1},
      {"女性年轻干部占同级年轻干部的比例", v1::COMPARATOR_MAINTAIN_AT_LEAST, 0, 25},
      {"村“两委”成员中女性比例", v1::COMPARATOR_MAINTAIN_AT_LEAST, 0, 40},
      {"社区“两委”成员中女性比例", v1::COMPARATOR_ABOUT, 0, 60},
      {"居委会主任中女性比例", v1::COMPARATOR_MAINTAIN_AT_LEAST, 0, 50},
      // 二（五） social security
      {"妇女基本医疗保险参保率", v1::COMPARATOR_MAINTAIN_AT_LEAST, 0, 95},
      {"妇女基本养老保险参保率", v1::COMPARATOR_AT_LEAST, 2025, 90},
      {"妇女基本养老保险参保率", v1::COMPARATOR_AT_LEAST, 2030, 95},
      // 二（六） family: 保障措施7 「全覆盖」
      {"婚姻家庭纠纷调解委员会覆盖率", v1::COMPARATOR_AT_LEAST, 2030, 100},
      // 二（七） environment
      {"农村自来水普及率", v1::COMPARATOR_MAINTAIN_AT_LEAST, 0, 95},
      {"城镇污水管网覆盖率", v1::COMPARATOR_AT_LEAST, 2030, 100},
  };
  for (const auto& w : want) {
    const v1::Indicator* ind = ByName(w.indicator);
    ASSERT_NE(ind, nullptr) << w.indicator;
    int matches = 0;
    for (const auto& t : ind->targets()) {
      if (t.comparator() != w.comparator) {
        continue;
      }
      if (w.year == 0 ? !t.every_year() : (t.every_year() || t.year() != w.year)) {
        continue;
      }
      ++matches;
      ASSERT_TRUE(t.has_value()) << w.indicator;
      EXPECT_DOUBLE_EQ(t.value(), w.value) << w.indicator;
      EXPECT_FALSE(t.text_zh().empty()) << w.indicator;
      EXPECT_THAT(ind->objective_ids(), ::testing::Contains(t.objective_id())) << w.indicator;
    }
    EXPECT_EQ(matches, 1) << w.indicator << " " << v1::Comparator_Name(w.comparator) << " "
                          << w.year;
  }
}

struct WantDirection {
  std::string indicator;
  v1::Comparator comparator;
  v1::GapDimension gap;
};

// Directional objectives become INCREASE/DECREASE/… targets where a
// statistic exists.
TEST_F(PlanCatalogTest, DirectionalTargets) {
  const std::vector<WantDirection> want = {
      {"女性人均预期寿命", v1::COMPARATOR_INCREASE, v1::GAP_DIMENSION_UNSPECIFIED},
      {"女性人均健康预期寿命", v1::COMPARATOR_INCREASE, v1::GAP_DIMENSION_UNSPECIFIED},
      {"孕产妇死亡率", v1::COMPARATOR_NARROW_GAP, v1::GAP_DIMENSION_RESIDENCE},
      {"适龄妇女乳腺癌人群筛查率", v1::COMPARATOR_INCREASE, v1::GAP_DIMENSION_UNSPECIFIED},
      {"孕产妇贫血患病率", v1::COMPARATOR_DECREASE_EACH_YEAR, v1::GAP_DIMENSION_UNSPECIFIED},
      {"女性居民健康素养水平", v1::COMPARATOR_INCREASE, v1::GAP_DIMENSION_UNSPECIFIED},
      {"女性平均受教育年限", v1::COMPARATOR_INCREASE, v1::GAP_DIMENSION_UNSPECIFIED},
      {"具备科学素质的公民比例（分性别）", v1::COMPARATOR_NARROW_GAP, v1::GAP_DIMENSION_SEX},
      {"女性高级专业技术人员比例", v1::COMPARATOR_INCREASE, v1::GAP_DIMENSION_UNSPECIFIED},
      {"居民人均可支配收入（分性别）", v1::COMPARATOR_NARROW_GAP, v1::GAP_DIMENSION_SEX},
      {"女职工职业病发病率", v1::COMPARATOR_DECREASE, v1::GAP_DIMENSION_UNSPECIFIED},
      {"女性年轻干部占同级年轻干部的比例", v1::COMPARATOR_INCREASE, v1::GAP_DIMENSION_UNSPECIFIED},
      {"村党组织书记中女性比例", v1::COMPARATOR_INCREASE, v1::GAP_DIMENSION_UNSPECIFIED},
      {"社会组织负责人中女性比例", v1::COMPARATOR_INCREASE, v1::GAP_DIMENSION_UNSPECIFIED},
      {"生育保险参保率（女职工）", v1::COMPARATOR_INCREASE, v1::GAP_DIMENSION_UNSPECIFIED},
      {"日均家务劳动时间（分性别）", v1::COMPARATOR_NARROW_GAP, v1::GAP_DIMENSION_SEX},
      {"人身安全保护令审核签发率", v1::COMPARATOR_INCREASE, v1::GAP_DIMENSION_UNSPECIFIED},
  };
  for (const auto& w : want) {
    const v1::Indicator* ind = ByName(w.indicator);
    ASSERT_NE(ind, nullptr) << w.indicator;
    int matches = 0;
    for (const auto& t : ind->targets()) {
      if (t.comparator() == w.comparator && t.gap_dimension() == w.gap) {
        ++matches;
        EXPECT_FALSE(t.has_value() && t.comparator() != v1::COMPARATOR_NARROW_GAP) << w.indicator;
        if (w.comparator == v1::COMPARATOR_DECREASE_EACH_YEAR) {
          EXPECT_TRUE(t.every_year()) << w.indicator;
        } else {
          EXPECT_EQ(t.year(), 2030) << w.indicator;
        }
      }
    }
    EXPECT_EQ(matches, 1) << w.indicator << " " << v1::Comparator_Name(w.comparator);
  }
}

TEST_F(PlanCatalogTest, MaternalMortalityIsARareEventRate) {
  const v1::Indicator* mmr = ByName("孕产妇死亡率");
  ASSERT_NE(mmr, nullptr);
  EXPECT_EQ(mmr->kind(), v1::INDICATOR_KIND_RATE);
  EXPECT_EQ(mmr->multiplier(), 100000);
  EXPECT_EQ(mmr->unit(), "/10万");
  EXPECT_EQ(mmr->direction(), v1::DIRECTION_LOWER_IS_BETTER);
  EXPECT_GT(mmr->rare_event_threshold(), 0);
  EXPECT_THAT(mmr->required_disaggregations(), ::testing::Contains(v1::DISAGGREGATION_RESIDENCE));
  EXPECT_THAT(mmr->responsible_unit_codes(), ::testing::ElementsAre("HEALTH"));
}

TEST_F(PlanCatalogTest, MemberUnitsOfTheWorkingCommittee) {
  for (const char* code :
       {"HEALTH", "EDUCATION", "HUMAN_RESOURCES", "CIVIL_AFFAIRS", "STATISTICS",
        "WOMENS_FEDERATION", "ORGANIZATION_DEPT", "COURT", "PROCURATORATE", "PUBLIC_SECURITY",
        "JUSTICE", "MEDICAL_INSURANCE", "AGRICULTURE", "WATER", "HOUSING", "ECOLOGY",
        "CULTURE_TOURISM", "TRADE_UNION", "DISABLED_FEDERATION"}) {
    EXPECT_NE(index().FindMemberUnit(code), nullptr) << code;
  }
  EXPECT_EQ(index().FindMemberUnit("WOMENS_FEDERATION")->name_zh(), "区妇联");
  EXPECT_EQ(index().FindMemberUnit("STATISTICS")->name_zh(), "区统计局");
  // Every indicator has a responsible unit that exists (the loader checks
  // it too); the health bureau reports the maternal figures.
  EXPECT_FALSE(index().IndicatorsOfUnit("HEALTH").empty());
}

TEST_F(PlanCatalogTest, AreaTreeOfJintai) {
  const v1::Area& root = index().RootArea();
  EXPECT_EQ(root.code(), "610303");
  EXPECT_EQ(root.name_zh(), "金台区");
  EXPECT_EQ(root.residence(), v1::RESIDENCE_URBAN);
  std::map<std::string, v1::Residence> want = {
      {"中山东路街道", v1::RESIDENCE_URBAN}, {"中山西路街道", v1::RESIDENCE_URBAN},
      {"群众路街道", v1::RESIDENCE_URBAN},   {"东风路街道", v1::RESIDENCE_URBAN},
      {"十里铺街道", v1::RESIDENCE_URBAN},   {"卧龙寺街道", v1::RESIDENCE_URBAN},
      {"西关街道", v1::RESIDENCE_URBAN},     {"陈仓镇", v1::RESIDENCE_RURAL},
      {"蟠龙镇", v1::RESIDENCE_RURAL},       {"金河镇", v1::RESIDENCE_RURAL},
      {"硖石镇", v1::RESIDENCE_RURAL},
  };
  std::map<std::string, v1::Residence> got;
  for (const v1::Area* a : index().Children("610303")) {
    got[a->name_zh()] = a->residence();
    EXPECT_EQ(a->code().size(), 9u) << a->name_zh();
    EXPECT_EQ(a->level(), a->residence() == v1::RESIDENCE_URBAN ? v1::AREA_LEVEL_SUBDISTRICT
                                                                : v1::AREA_LEVEL_TOWN);
  }
  EXPECT_EQ(got, want);
}

TEST_F(PlanCatalogTest, ReportingCalendarDefaultsTo31December) {
  // 规划三（五）：责任单位于每年12月底前报告。
  const v1::Indicator* rate = ByName("孕产妇系统管理率");
  ASSERT_NE(rate, nullptr);
  absl::Time want;
  std::string err;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, "2023-12-31T23:59:59+08:00", &want, &err));
  EXPECT_EQ(index().DueAt(*rate, 2023), want);
  // Survey-based life expectancy is due the next June (override).
  const v1::Indicator* le = ByName("女性人均预期寿命");
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, "2024-06-30T23:59:59+08:00", &want, &err));
  EXPECT_EQ(index().DueAt(*le, 2023), want);
}

}  // namespace
}  // namespace halfsky
