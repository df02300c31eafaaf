// The catalog loader rejects every kind of bad catalog with FILE:LINE and
// the offending id, and accepts a good one (files, directories, merging).

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/catalog/catalog.h"
#include "common/catalog/progress_bands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"

namespace halfsky {
namespace {

// A small valid catalog. Comments mark lines the cases point at.
// Text-proto fixture: its layout is kept.
// clang-format off
constexpr char kMinimal[] = R"pb(version: "test.1"
plan_title_zh: "测试规划"
base_year: 2020
midterm_year: 2025
final_year: 2030
calendar { default_due_date { month: 12 day: 31 } }
domains { id: "HEALTH" number: 1 name_zh: "妇女与健康" name_en: "Women and health" }  # D1
objectives { id: "HEALTH-O01" domain_id: "HEALTH" number: 1 text_zh: "降低孕产妇死亡率。" }  # O1
objectives { id: "HEALTH-O02" domain_id: "HEALTH" number: 2 text_zh: "普及知识。" qualitative: true }  # O2
indicators {  # IND1
  id: "HEALTH-01"
  domain_id: "HEALTH"
  objective_ids: "HEALTH-O01"
  name_zh: "孕产妇死亡率"
  name_en: "Maternal mortality ratio"
  kind: INDICATOR_KIND_RATE
  unit: "/10万"
  multiplier: 100000
  definition { numerator_zh: "孕产妇死亡人数" denominator_zh: "活产数" }
  responsible_unit_codes: "HEALTH"
  required_disaggregations: DISAGGREGATION_RESIDENCE
  value_range { min: 0 max: 1000 }
  data_source: DATA_SOURCE_DEPARTMENTAL_STATISTICS
  direction: DIRECTION_LOWER_IS_BETTER
  rare_event_threshold: 20
  targets {  # T1
    comparator: COMPARATOR_AT_MOST
    year: 2030
    value: 10.15
    objective_id: "HEALTH-O01"
    text_zh: "下降到10.15/10万以下"
  }
}
indicators { id: "HEALTH-02" domain_id: "HEALTH" objective_ids: "HEALTH-O02" name_zh: "知识普及情况" name_en: "Narrative" kind: INDICATOR_KIND_QUALITATIVE responsible_unit_codes: "HEALTH" }  # IND2
member_units { code: "HEALTH" name_zh: "区卫生健康局" name_en: "Health Bureau" }  # U1
areas { code: "610303" name_zh: "金台区" name_en: "Jintai" level: AREA_LEVEL_DISTRICT residence: RESIDENCE_URBAN }  # A1
areas { code: "610303100" name_zh: "陈仓镇" name_en: "Chencang" parent_code: "610303" level: AREA_LEVEL_TOWN residence: RESIDENCE_RURAL }  # A2
)pb";
// clang-format on

std::string WriteFile(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// 1-based line of the first line containing `marker`; 0 if none.
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

TEST(CatalogLoaderTest, MinimalCatalogIsValid) {
  const std::string dir = testing::MakeTempDir("catalog-minimal");
  const std::string path = WriteFile(dir, "c.textproto", kMinimal);
  CatalogLoadResult result = LintCatalog({path});
  EXPECT_TRUE(result.problems.empty()) << Dump(result.problems);
  auto index = CatalogIndex::Load({path});
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ((*index)->catalog().indicators_size(), 2);
  EXPECT_EQ((*index)->RootArea().code(), "610303");
  ASSERT_EQ((*index)->Children("610303").size(), 1u);
  EXPECT_EQ((*index)->Children("610303")[0]->code(), "610303100");
  EXPECT_TRUE((*index)->Children("999999").empty());
  EXPECT_NE((*index)->FindIndicator("HEALTH-01"), nullptr);
  EXPECT_EQ((*index)->FindIndicator("HEALTH-99"), nullptr);
  EXPECT_NE((*index)->FindObjective("HEALTH-O02"), nullptr);
  EXPECT_NE((*index)->FindDomain("HEALTH"), nullptr);
  EXPECT_NE((*index)->FindMemberUnit("HEALTH"), nullptr);
  EXPECT_NE((*index)->FindArea("610303100"), nullptr);
  EXPECT_EQ((*index)->IndicatorsOfUnit("HEALTH").size(), 2u);
  EXPECT_TRUE((*index)->IndicatorsOfUnit("NOPE").empty());
}

TEST(CatalogLoaderTest, ProgressBandsAreOptionalPerBound) {
  const std::string dir = testing::MakeTempDir("catalog-bands");
  const std::string path = WriteFile(
      dir, "c.textproto",
      std::string(kMinimal) + "progress_bands { on_track: 0.9 no_target_on_track: 0.02 }\n");
  auto index = CatalogIndex::Load({path});
  ASSERT_TRUE(index.ok()) << index.status();
  const v1::ProgressBands b = ResolveProgressBands((*index)->catalog().progress_bands());
  EXPECT_DOUBLE_EQ(b.on_track(), 0.9);
  EXPECT_DOUBLE_EQ(b.no_target_on_track(), 0.02);
  const v1::ProgressBands d = DefaultProgressBands();
  EXPECT_DOUBLE_EQ(b.needs_acceleration(), d.needs_acceleration());
  EXPECT_DOUBLE_EQ(b.at_risk(), d.at_risk());
  EXPECT_DOUBLE_EQ(b.no_target_needs_acceleration(), d.no_target_needs_acceleration());
  EXPECT_DOUBLE_EQ(b.no_target_at_risk(), d.no_target_at_risk());
  EXPECT_EQ(ProgressBandsProblem(b), "");
  EXPECT_NE(ProgressBandsProblem(v1::ProgressBands()), "") << "no bound set";
}

TEST(CatalogLoaderTest, FingerprintIsStableAndTracksContent) {
  const std::string dir = testing::MakeTempDir("catalog-fp");
  const std::string a = WriteFile(dir, "a.textproto", kMinimal);
  auto first = CatalogIndex::Load({a});
  auto second = CatalogIndex::Load({a});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ((*first)->fingerprint().size(), 64u);
  EXPECT_EQ((*first)->fingerprint().find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ((*first)->fingerprint(), (*second)->fingerprint());
  const std::string b =
      WriteFile(dir, "b.textproto", Replace(kMinimal, "value: 10.15", "value: 10.16"));
  auto changed = CatalogIndex::Load({b});
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_NE((*first)->fingerprint(), (*changed)->fingerprint());
  // FromProto of the same content gives the same fingerprint.
  auto from_proto = CatalogIndex::FromProto((*first)->catalog());
  ASSERT_TRUE(from_proto.ok());
  EXPECT_EQ((*from_proto)->fingerprint(), (*first)->fingerprint());
}

TEST(CatalogLoaderTest, DueAtIsEndOfDayInUtcPlus8WithOverride) {
  const std::string dir = testing::MakeTempDir("catalog-due");
  const std::string path = WriteFile(
      dir, "c.textproto",
      Replace(kMinimal, "  rare_event_threshold: 20\n",
              "  rare_event_threshold: 20\n  due_date { year_offset: 1 month: 3 day: 31 }\n"));
  auto index = CatalogIndex::Load({path});
  ASSERT_TRUE(index.ok()) << index.status();
  absl::Time want;
  std::string err;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, "2026-03-31T23:59:59+08:00", &want, &err));
  EXPECT_EQ((*index)->DueAt(*(*index)->FindIndicator("HEALTH-01"), 2025), want);
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, "2025-12-31T23:59:59+08:00", &want, &err));
  EXPECT_EQ((*index)->DueAt(*(*index)->FindIndicator("HEALTH-02"), 2025), want);
  // The district is UTC+8: the deadline is 15:59:59 UTC.
  EXPECT_EQ(absl::FormatTime("%Y-%m-%d %H:%M:%S", want, absl::UTCTimeZone()),
            "2025-12-31 15:59:59");
}

TEST(CatalogLoaderTest, LoadReportsEveryProblemAsInvalidArgument) {
  const std::string dir = testing::MakeTempDir("catalog-status");
  std::string text = Replace(kMinimal, "    year: 2030\n", "");
  text = Replace(text, "  multiplier: 100000\n", "");
  const std::string path = WriteFile(dir, "c.textproto", text);
  auto index = CatalogIndex::Load({path});
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(index.status().message()),
              ::testing::HasSubstr(absl::StrCat(path, ":", LineOf(text, "# T1"),
                                                ": HEALTH-01: 目标#1 / target #1: 目标缺少年份 / "
                                                "target without year")));
  EXPECT_THAT(std::string(index.status().message()),
              ::testing::HasSubstr("RATE indicator needs multiplier > 0"));
}

TEST(CatalogLoaderTest, FromProtoValidatesWithoutLocations) {
  halfsky::v1::Catalog empty;
  auto index = CatalogIndex::FromProto(empty);
  ASSERT_FALSE(index.ok());
  EXPECT_THAT(std::string(index.status().message()),
              ::testing::HasSubstr("catalog has no domains"));
}

TEST(CatalogLoaderTest, DirectoryLoadsSortedFilesAndReportsTheRightFile) {
  const std::string dir = testing::MakeTempDir("catalog-dir");
  // Split the minimal catalog: header+domain+objectives+indicators in one
  // file, units and areas in another; a non-.textproto file is ignored.
  const std::string text = kMinimal;
  const size_t split = text.find("member_units");
  WriteFile(dir, "a_plan.textproto", text.substr(0, split));
  const std::string second = text.substr(split);
  WriteFile(dir, "b_units.textproto", second);
  WriteFile(dir, "README.md", "not a catalog");
  CatalogLoadResult ok = LintCatalog({dir});
  EXPECT_TRUE(ok.problems.empty()) << Dump(ok.problems);
  EXPECT_EQ(ok.catalog.areas_size(), 2);

  // A problem in the second file names that file and its line.
  const std::string bad = Replace(second, "parent_code: \"610303\"", "parent_code: \"610399\"");
  const std::string bad_path = WriteFile(dir, "b_units.textproto", bad);
  CatalogLoadResult result = LintCatalog({dir});
  bool found = false;
  for (const auto& p : result.problems) {
    if (p.file == bad_path && p.line == LineOf(bad, "# A2") && p.id == "610303100" &&
        absl::StrContains(p.message, "parent area 610399 is missing")) {
      found = true;
    }
  }
  EXPECT_TRUE(found) << Dump(result.problems);
}

TEST(CatalogLoaderTest, ConflictingHeaderAcrossFilesIsAProblem) {
  const std::string dir = testing::MakeTempDir("catalog-conflict");
  const std::string a = WriteFile(dir, "a.textproto", kMinimal);
  const std::string b = WriteFile(dir, "b.textproto", "\nversion: \"other\"\n");
  CatalogLoadResult result = LintCatalog({a, b});
  ASSERT_EQ(result.problems.size(), 1u) << Dump(result.problems);
  EXPECT_EQ(result.problems[0].file, b);
  EXPECT_EQ(result.problems[0].line, 2);
  EXPECT_THAT(result.problems[0].message, ::testing::HasSubstr("version conflicts with"));
}

TEST(CatalogLoaderTest, MissingPathsAreProblems) {
  CatalogLoadResult result = LintCatalog({"/nonexistent/catalog.textproto"});
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0].ToString(),
            "/nonexistent/catalog.textproto: 文件不存在 / no such file or directory");
  EXPECT_FALSE(LintCatalog({}).problems.empty());
  const std::string empty_dir = testing::MakeTempDir("catalog-empty");
  EXPECT_FALSE(LintCatalog({empty_dir}).problems.empty());
}

// --- one bad catalog per rule ------------------------------------------------

struct BadCase {
  std::string name;
  std::function<std::string(const std::string&)> mutate;
  std::string marker;   // the problem's line is the first line containing this
  std::string id;       // expected problem id
  std::string message;  // expected substring of the message
};

std::string Append(const std::string& text, const std::string& more) { return text + more; }

std::vector<BadCase> BadCases() {
  auto rep = [](std::string from, std::string to) {
    return [from, to](const std::string& t) { return Replace(t, from, to); };
  };
  auto app = [](std::string more) {
    return [more](const std::string& t) { return Append(t, more); };
  };
  return {
      {"ParseError", rep("  unit: \"/10万\"\n", "  unit: \"/10万\" }}}  # BROKEN\n"), "# BROKEN",
       "", "parse error"},
      {"UnknownField", rep("  unit: \"/10万\"\n", "  colour: 3  # BROKEN\n"), "# BROKEN", "",
       "parse error"},
      // protobuf reports an unknown enum value once it has read the next
      // token, i.e. on the following line.
      {"BadEnumName", rep("kind: INDICATOR_KIND_RATE", "kind: INDICATOR_KIND_RATIO"),
       "  unit: \"/10万\"", "", "Unknown enumeration value of \"INDICATOR_KIND_RATIO\""},
      {"DuplicateIndicatorId",
       app("indicators { id: \"HEALTH-02\" domain_id: \"HEALTH\" objective_ids: \"HEALTH-O02\" "
           "name_zh: \"重复\" name_en: \"dup\" kind: INDICATOR_KIND_QUALITATIVE "
           "responsible_unit_codes: \"HEALTH\" }  # DUP\n"),
       "# DUP", "HEALTH-02", "duplicate indicator id"},
      {"DuplicateDomainId",
       app("domains { id: \"HEALTH\" number: 2 name_zh: \"重复\" name_en: \"dup\" }  # DUP\n"),
       "# DUP", "HEALTH", "duplicate domain id"},
      {"DuplicateObjectiveId",
       app("objectives { id: \"HEALTH-O01\" domain_id: \"HEALTH\" number: 3 text_zh: \"重复\" }  "
           "# DUP\n"),
       "# DUP", "HEALTH-O01", "duplicate objective id"},
      {"DuplicateObjectiveNumber",
       app("objectives { id: \"HEALTH-O03\" domain_id: \"HEALTH\" number: 2 text_zh: \"重复\" }  "
           "# DUP\n"),
       "# DUP", "HEALTH-O03", "duplicate objective number 2"},
      {"DuplicateUnitCode",
       app("member_units { code: \"HEALTH\" name_zh: \"重复\" name_en: \"dup\" }  # DUP\n"),
       "# DUP", "HEALTH", "duplicate member unit code"},
      {"DuplicateAreaCode",
       app("areas { code: \"610303100\" name_zh: \"重复\" parent_code: \"610303\" level: "
           "AREA_LEVEL_TOWN residence: RESIDENCE_RURAL }  # DUP\n"),
       "# DUP", "610303100", "duplicate area code"},
      {"ObjectiveUnknownDomain",
       rep("objectives { id: \"HEALTH-O02\" domain_id: \"HEALTH\"",
           "objectives { id: \"HEALTH-O02\" domain_id: \"HEALTHY\""),
       "# O2", "HEALTH-O02", "unknown domain_id HEALTHY"},
      {"IndicatorUnknownDomain", rep("  domain_id: \"HEALTH\"\n", "  domain_id: \"WEALTH\"\n"),
       "# IND1", "HEALTH-01", "unknown domain_id WEALTH"},
      {"IndicatorUnknownObjective",
       rep("objective_ids: \"HEALTH-O02\"", "objective_ids: \"HEALTH-O09\""), "# IND2", "HEALTH-02",
       "unknown objective HEALTH-O09"},
      {"IndicatorWithoutObjectives", rep(" objective_ids: \"HEALTH-O02\"", ""), "# IND2",
       "HEALTH-02", "indicator without objective_ids"},
      {"IndicatorWithoutResponsibleUnit",
       rep(" kind: INDICATOR_KIND_QUALITATIVE responsible_unit_codes: \"HEALTH\"",
           " kind: INDICATOR_KIND_QUALITATIVE"),
       "# IND2", "HEALTH-02", "indicator without responsible unit"},
      {"IndicatorUnknownUnit",
       rep("  responsible_unit_codes: \"HEALTH\"\n",
           "  responsible_unit_codes: \"HEALTH_BUREAU\"\n"),
       "# IND1", "HEALTH-01", "unknown responsible unit HEALTH_BUREAU"},
      {"IndicatorWithoutChineseName", rep("  name_zh: \"孕产妇死亡率\"\n", "  name_zh: \"  \"\n"),
       "# IND1", "HEALTH-01", "indicator without name_zh"},
      {"IndicatorWithoutKind", rep("  kind: INDICATOR_KIND_RATE\n", ""), "# IND1", "HEALTH-01",
       "indicator without a valid kind"},
      {"IndicatorIdNotUnderDomain", rep("  id: \"HEALTH-01\"\n", "  id: \"HLTH-01\"\n"), "# IND1",
       "HLTH-01", "indicator id must be HEALTH-<A-Z0-9>"},
      {"RateWithoutMultiplier", rep("  multiplier: 100000\n", ""), "# IND1", "HEALTH-01",
       "RATE indicator needs multiplier > 0"},
      {"RateWithoutDefinition",
       rep("  definition { numerator_zh: \"孕产妇死亡人数\" denominator_zh: \"活产数\" }\n", ""),
       "# IND1", "HEALTH-01", "needs definition numerator_zh and denominator_zh"},
      {"ProportionRangeAbove100",
       app("indicators { id: \"HEALTH-03\" domain_id: \"HEALTH\" objective_ids: \"HEALTH-O01\" "
           "name_zh: \"筛查率\" name_en: \"screening\" kind: INDICATOR_KIND_PROPORTION unit: \"%\" "
           "definition { numerator_zh: \"a\" denominator_zh: \"b\" } responsible_unit_codes: "
           "\"HEALTH\" value_range { min: 0 max: 120 } data_source: "
           "DATA_SOURCE_SURVEY }  # P\n"),
       "# P", "HEALTH-03", "PROPORTION value_range must lie within 0..100"},
      {"RangeMinAboveMax", rep("value_range { min: 0 max: 1000 }", "value_range { min: 5 max: 1 }"),
       "# IND1", "HEALTH-01", "value_range min > max"},
      {"NumericWithoutDataSource", rep("  data_source: DATA_SOURCE_DEPARTMENTAL_STATISTICS\n", ""),
       "# IND1", "HEALTH-01", "indicator without data_source"},
      {"RareEventThresholdOnQualitative",
       rep("kind: INDICATOR_KIND_QUALITATIVE",
           "kind: INDICATOR_KIND_QUALITATIVE rare_event_threshold: 5"),
       "# IND2", "HEALTH-02", "rare_event_threshold is for RATE only"},
      {"CoverageThresholdAbove100",
       rep("  rare_event_threshold: 20\n",
           "  rare_event_threshold: 20\n  coverage_threshold_percent: 120\n"),
       "# IND1", "HEALTH-01", "coverage_threshold_percent must be within 0..100"},
      {"CoverageThresholdNegative",
       rep("  rare_event_threshold: 20\n",
           "  rare_event_threshold: 20\n  coverage_threshold_percent: -5\n"),
       "# IND1", "HEALTH-01", "coverage_threshold_percent must be within 0..100"},
      {"CoverageThresholdOnQualitative",
       rep("kind: INDICATOR_KIND_QUALITATIVE",
           "kind: INDICATOR_KIND_QUALITATIVE coverage_threshold_percent: 50"),
       "# IND2", "HEALTH-02", "coverage_threshold_percent is for aggregated indicators only"},
      {"TargetWithoutYear", rep("    year: 2030\n", ""), "# T1", "HEALTH-01",
       "target without year"},
      {"TargetYearOutOfRange", rep("    year: 2030\n", "    year: 2035\n"), "# T1", "HEALTH-01",
       "target year 2035 outside 2021..2030"},
      {"TargetYearAndEveryYear", rep("    year: 2030\n", "    year: 2030 every_year: true\n"),
       "# T1", "HEALTH-01", "target with both year and every_year"},
      {"TargetWithoutComparator", rep("    comparator: COMPARATOR_AT_MOST\n", ""), "# T1",
       "HEALTH-01", "target without comparator"},
      {"TargetWithoutValue", rep("    value: 10.15\n", ""), "# T1", "HEALTH-01",
       "COMPARATOR_AT_MOST target without value"},
      {"DirectionalTargetWithValue",
       rep("    comparator: COMPARATOR_AT_MOST\n", "    comparator: COMPARATOR_DECREASE\n"), "# T1",
       "HEALTH-01", "COMPARATOR_DECREASE target cannot have a value"},
      {"TargetContradictsDirection",
       rep("    comparator: COMPARATOR_AT_MOST\n", "    comparator: COMPARATOR_AT_LEAST\n"), "# T1",
       "HEALTH-01", "contradicts direction DIRECTION_LOWER_IS_BETTER"},
      {"MaintainNeedsEveryYear",
       rep("    comparator: COMPARATOR_AT_MOST\n", "    comparator: COMPARATOR_MAINTAIN_AT_MOST\n"),
       "# T1", "HEALTH-01", "COMPARATOR_MAINTAIN_AT_MOST needs every_year"},
      // Lead unit 牵头单位 (issue #12 item 3).
      {"LeadUnitNotResponsible",
       rep("  responsible_unit_codes: \"HEALTH\"\n",
           "  responsible_unit_codes: \"HEALTH\"\n  lead_unit_code: \"EDU\"\n"),
       "# IND1", "HEALTH-01", "lead unit EDU is not one of responsible_unit_codes"},
      {"SeveralUnitsWithoutLead",
       [](const std::string& t) {
         return Append(Replace(t, "  responsible_unit_codes: \"HEALTH\"\n",
                               "  responsible_unit_codes: \"HEALTH\"\n"
                               "  responsible_unit_codes: \"EDU\"\n"),
                       "member_units { code: \"EDU\" name_zh: \"区教育局\" name_en: \"Edu\" }\n");
       },
       "# IND1", "HEALTH-01", "several responsible units needs lead_unit_code"},
      // 「达到并保持」 is reach, then keep: a year, not every_year.
      {"ReachAndKeepNeedsAYear",
       [](const std::string& t) {
         return Replace(
             Replace(t, "    comparator: COMPARATOR_AT_MOST\n    year: 2030\n",
                     "    comparator: COMPARATOR_MAINTAIN_AT_MOST\n    every_year: true\n"),
             "    text_zh: \"下降到10.15/10万以下\"\n",
             "    text_zh: \"达到并保持在10.15/10万以下\"\n");
       },
       "# T1", "HEALTH-01", "「达到并保持」 (reach, then keep) needs a year, not every_year"},
      {"AboutNegativeTolerance",
       rep("    comparator: COMPARATOR_AT_MOST\n",
           "    comparator: COMPARATOR_ABOUT\n    tolerance: -1\n"),
       "# T1", "HEALTH-01", "ABOUT tolerance must be >= 0"},
      {"ToleranceOnlyForAbout", rep("    value: 10.15\n", "    value: 10.15\n    tolerance: 1\n"),
       "# T1", "HEALTH-01", "tolerance is for ABOUT only"},
      {"NarrowGapWithoutDimension",
       rep("    comparator: COMPARATOR_AT_MOST\n    year: 2030\n    value: 10.15\n",
           "    comparator: COMPARATOR_NARROW_GAP\n    year: 2030\n"),
       "# T1", "HEALTH-01", "NARROW_GAP needs gap_dimension"},
      {"SexGapNeedsSexDisaggregation",
       rep("    comparator: COMPARATOR_AT_MOST\n    year: 2030\n    value: 10.15\n",
           "    comparator: COMPARATOR_NARROW_GAP\n    year: 2030\n    gap_dimension: "
           "GAP_DIMENSION_SEX\n"),
       "# T1", "HEALTH-01", "SEX gap needs the SEX disaggregation"},
      {"TargetValueOutsideRange", rep("    value: 10.15\n", "    value: 1015\n"), "# T1",
       "HEALTH-01", "target value 1015 outside value_range"},
      {"TargetWithoutObjective", rep("    objective_id: \"HEALTH-O01\"\n", ""), "# T1", "HEALTH-01",
       "target without objective_id"},
      {"TargetCitesForeignObjective",
       rep("    objective_id: \"HEALTH-O01\"\n", "    objective_id: \"HEALTH-O02\"\n"), "# T1",
       "HEALTH-01", "objective HEALTH-O02 is not among the indicator's objective_ids"},
      {"TargetWithoutText", rep("    text_zh: \"下降到10.15/10万以下\"\n", ""), "# T1", "HEALTH-01",
       "target without text_zh"},
      {"DuplicateTarget",
       rep("  targets {  # T1\n",
           "  targets { comparator: COMPARATOR_AT_MOST year: 2030 value: 9 objective_id: "
           "\"HEALTH-O01\" text_zh: \"x\" }\n  targets {  # T1\n"),
       "# T1", "HEALTH-01", "duplicate target"},
      {"QualitativeWithTargets",
       rep("responsible_unit_codes: \"HEALTH\" }  # IND2",
           "responsible_unit_codes: \"HEALTH\"\n targets { comparator: COMPARATOR_INCREASE year: "
           "2030 objective_id: \"HEALTH-O02\" text_zh: \"提高\" }  # QT\n}  # IND2"),
       "# QT", "HEALTH-02", "QUALITATIVE indicator cannot have targets"},
      {"ObjectiveNotCovered",
       app("objectives { id: \"HEALTH-O03\" domain_id: \"HEALTH\" number: 3 text_zh: \"新目标\" }  "
           "# NEW\n"),
       "# NEW", "HEALTH-O03", "objective not covered by any indicator"},
      {"QualitativeObjectiveNeedsQualitativeIndicator",
       rep("text_zh: \"降低孕产妇死亡率。\" }",
           "text_zh: \"降低孕产妇死亡率。\" qualitative: true }"),
       "# O1", "HEALTH-O01", "qualitative objective needs a QUALITATIVE indicator"},
      {"NumericObjectiveCoveredOnlyByNarrative", rep(" qualitative: true }  # O2", " }  # O2"),
       "# O2", "HEALTH-O02", "must be marked qualitative"},
      {"ObjectiveNumbersMustBeContiguous",
       rep("domain_id: \"HEALTH\" number: 2 text_zh", "domain_id: \"HEALTH\" number: 5 text_zh"),
       "NO LINE", "HEALTH", "objective numbers must run 1..n; 2 is missing"},
      {"DomainWithoutObjectives",
       app("domains { id: \"EDUCATION\" number: 2 name_zh: \"妇女与教育\" name_en: \"Women and "
           "education\" }  # D2\n"),
       "# D2", "EDUCATION", "domain has no objectives"},
      {"DomainWithoutChineseName", rep("name_zh: \"妇女与健康\"", "name_zh: \"\""), "# D1",
       "HEALTH", "domain without name_zh"},
      {"AreaParentMissing", rep("parent_code: \"610303\"", "parent_code: \"610399\""), "# A2",
       "610303100", "parent area 610399 is missing"},
      {"AreaSecondRoot", rep(" parent_code: \"610303\"", ""), "# A2", "610303100",
       "more than one root area"},
      {"AreaNoRoot",
       rep("name_en: \"Jintai\" level", "name_en: \"Jintai\" parent_code: \"610303100\" level"),
       "# A1", "", "area tree has no root"},
      {"AreaCycle",
       app("areas { code: \"610303200\" name_zh: \"甲\" parent_code: \"610303201\" level: "
           "AREA_LEVEL_TOWN residence: RESIDENCE_RURAL }  # CYC\n"
           "areas { code: \"610303201\" name_zh: \"乙\" parent_code: \"610303200\" level: "
           "AREA_LEVEL_TOWN residence: RESIDENCE_RURAL }\n"),
       "# CYC", "610303200", "area parent chain forms a cycle"},
      {"AreaSelfParent",
       app("areas { code: \"610303300\" name_zh: \"丙\" parent_code: \"610303300\" level: "
           "AREA_LEVEL_TOWN residence: RESIDENCE_RURAL }  # SELF\n"),
       "# SELF", "610303300", "area is its own parent"},
      {"AreaCodeNotUnderParent",
       app("areas { code: \"610304100\" name_zh: \"丁\" parent_code: \"610303\" level: "
           "AREA_LEVEL_TOWN residence: RESIDENCE_RURAL }  # PFX\n"),
       "# PFX", "610304100", "must start with its parent's code 610303"},
      {"AreaWithoutResidence", rep(" residence: RESIDENCE_RURAL }", " }"), "# A2", "610303100",
       "area residence must be RESIDENCE_URBAN or RESIDENCE_RURAL"},
      {"AreaBadLevelNesting", rep("level: AREA_LEVEL_TOWN", "level: AREA_LEVEL_VILLAGE"), "# A2",
       "610303100", "cannot be under AREA_LEVEL_DISTRICT"},
      {"MissingYears", rep("midterm_year: 2025\n", ""), "NO LINE", "",
       "base_year, midterm_year and final_year are required"},
      {"BadDueDate",
       rep("default_due_date { month: 12 day: 31 }", "default_due_date { month: 2 day: 30 }"),
       "calendar", "", "due date day 30 invalid for month 2"},
      {"UnitWithoutEnglishName", rep("name_en: \"Health Bureau\"", "name_en: \"\""), "# U1",
       "HEALTH", "member unit without name_en"},
      // The bands in force (the catalog's over the defaults) must not
      // increase: a needs_acceleration bound above the default on_track.
      {"ProgressBandsIncrease", app("progress_bands { needs_acceleration: 0.99 }  # BANDS\n"),
       "# BANDS", "", "bands must not increase: on_track 0.95 < needs_acceleration 0.99"},
      {"ProgressBandsNoTargetIncrease",
       app("progress_bands {\n  no_target_on_track: 0.01\n  no_target_at_risk: 0.02\n}  # NT\n"),
       "progress_bands {", "",
       "bands must not increase: no_target_needs_acceleration 0.005 < no_target_at_risk 0.02"},
  };
}

class BadCatalogTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadCatalogTest, IsRejectedWithFileLineAndId) {
  const BadCase& c = GetParam();
  const std::string text = c.mutate(kMinimal);
  ASSERT_NE(text, kMinimal) << "mutation did nothing";
  const std::string dir = testing::MakeTempDir("catalog-bad");
  const std::string path = WriteFile(dir, "bad.textproto", text);
  CatalogLoadResult result = LintCatalog({path});
  ASSERT_FALSE(result.problems.empty()) << "accepted:\n" << text;
  const int line = LineOf(text, c.marker);  // 0 when the marker is "NO LINE"
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
  // Load refuses the same catalog.
  EXPECT_FALSE(CatalogIndex::Load({path}).ok());
}

INSTANTIATE_TEST_SUITE_P(AllRules, BadCatalogTest, ::testing::ValuesIn(BadCases()),
                         [](const ::testing::TestParamInfo<BadCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace halfsky
