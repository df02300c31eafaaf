// `halfskyctl form` (issue #16 item 2) on the real binaries: a real
// halfsky-submission process (its own SQLite file) with the plan's catalog
// (deploy/catalog), last year's values submitted with `halfskyctl submit`,
// then every member unit's form written with `form --all` and read back with
// an independent reader — python3-openpyxl (tests/halfskyctl/xlsx/
// check_forms.py): the header block, the header row exactly, one row per
// expected key in order, 年份 a number, the sheet protected with exactly
// the cells to fill unlocked, a decimal ≥ validation with Chinese messages
// on every number cell to fill, last year's values in 上年…, and the
// 指标解释 sheet (指标代码 without 区域代码). The expected rows are derived
// here from the catalog (CatalogIndex), not from the form's code.
//
// Formula injection (issue #16 item 3): with a catalog whose indicator name
// and member unit name begin with '=' and '@', the xlsx form holds them as
// strings formatted as Text (never formulas) and the CSV form with a leading
// apostrophe.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/auth/token_store.h"
#include "common/catalog/catalog.h"
#include "common/labels/labels.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"

namespace halfsky {
namespace {

namespace ht = ::halfsky::testing;
namespace v1 = ::halfsky::v1;
using ::testing::HasSubstr;

constexpr char kStatisticsToken[] = "form-e2e-statistics";
constexpr char kPython[] = "/usr/bin/python3";

std::string Describe(const ht::CommandResult& r) {
  return absl::StrCat("exit ", r.exit_code, "\n--- stdout ---\n", r.out, "\n--- stderr ---\n",
                      r.err);
}

std::string Json(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

bool Has(const v1::Indicator& ind, v1::Disaggregation d) {
  return std::find(ind.required_disaggregations().begin(), ind.required_disaggregations().end(),
                   d) != ind.required_disaggregations().end();
}

class FormTest : public ::testing::Test {
 protected:
  void StartSubmission(const std::string& catalog) {
    dir_ = ht::MakeTempDir("form-e2e");
    const std::string tokens = dir_ + "/tokens";
    ASSERT_TRUE(ht::WriteTextFile(tokens, absl::StrCat(auth::HashToken(kStatisticsToken),
                                                       " statistics statistics\n"))
                    .ok());
    absl::Status st = submission_.Start(
        dir_, "submission", ht::ServiceBinary("submission"), catalog, tokens,
        {"--db=" + dir_ + "/submission.db", "--fake_now=2025-03-01T00:00:00+08:00"});
    ASSERT_TRUE(st.ok()) << st;
  }
  void TearDown() override { EXPECT_TRUE(submission_.Stop().ok()); }

  ht::CommandResult Run(std::vector<std::string> argv) {
    absl::StatusOr<ht::CommandResult> r =
        ht::RunCommand(argv, {{"HALFSKY_SERVER", ""}, {"HALFSKY_TOKEN", ""}, {"NO_COLOR", "1"}},
                       absl::Seconds(120));
    if (!r.ok()) {
      ADD_FAILURE() << absl::StrJoin(argv, " ") << ": " << r.status();
      return {};
    }
    return *r;
  }

  ht::CommandResult Ctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {ht::ServiceBinary("halfskyctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--server", submission_.address(), "--token", kStatisticsToken});
    if (args[0] == "submit") {
      argv.insert(argv.end(), {"--state-dir", dir_ + "/state"});
    }
    return Run(argv);
  }

  std::string dir_;
  ht::ServiceProcess submission_;
};

TEST_F(FormTest, EveryUnitsFormReadsBackWithOpenpyxl) {
  const std::string catalog_dir = absl::StrCat(HALFSKY_SOURCE_DIR, "/deploy/catalog");
  ASSERT_NO_FATAL_FAILURE(StartSubmission(catalog_dir));
  auto index = CatalogIndex::Load({catalog_dir});
  ASSERT_TRUE(index.ok()) << index.status();
  const v1::Catalog& catalog = (*index)->catalog();

  // Last year's values: a fraction, a value and a published rate.
  const std::string prev = dir_ + "/2023.csv";
  ASSERT_TRUE(ht::WriteTextFile(prev,
                                "指标代码,区域代码,年份,性别,城乡,分子,分母,数值,公布数,数据来源\n"
                                "HEALTH-11,610303,2023,合计,全部,12,1000,,,妇幼年报\n"
                                "HEALTH-01,610303,2023,合计,全部,,,80.5,,统计年鉴\n"
                                "HEALTH-04,610303,2023,合计,全部,,,,10.15,统计公报\n")
                  .ok());
  ht::CommandResult s = Ctl({"submit", prev});
  ASSERT_EQ(s.exit_code, 0) << Describe(s);
  const std::map<std::string, std::map<std::string, double>> previous = {
      {"HEALTH-11", {{"上年分子", 12}, {"上年分母", 1000}}},
      {"HEALTH-01", {{"上年数值", 80.5}}},
      {"HEALTH-04", {{"上年公布数", 10.15}}}};

  const std::string forms = dir_ + "/forms";
  ht::CommandResult r = Ctl({"form", "--all", "--year", "2024", "-o", forms});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  ht::CommandResult c =
      Ctl({"form", "--unit", "HEALTH", "--year", "2024", "-o", dir_ + "/HEALTH.csv"});
  ASSERT_EQ(c.exit_code, 0) << Describe(c);

  // The expectation, from the catalog.
  const v1::Area& root = (*index)->RootArea();
  std::vector<const v1::Area*> towns;
  for (const v1::Area* a : (*index)->Children(root.code())) {
    if (a->level() == v1::AREA_LEVEL_TOWN || a->level() == v1::AREA_LEVEL_SUBDISTRICT) {
      towns.push_back(a);
    }
  }
  ASSERT_FALSE(towns.empty());
  std::string json = "{\"forms\": [";
  int units = 0;
  size_t rows = 0;
  for (const v1::MemberUnit& unit : catalog.member_units()) {
    const std::vector<const v1::Indicator*> inds = (*index)->IndicatorsOfUnit(unit.code());
    if (inds.empty()) {
      continue;
    }
    bool narratives = false;
    std::vector<std::string> row_json;
    std::vector<std::string> ids;
    for (const v1::Indicator* ind : inds) {
      ids.push_back(Json(ind->id()));
      const bool narrative = ind->kind() == v1::INDICATOR_KIND_QUALITATIVE;
      narratives |= narrative;
      const bool fraction =
          ind->kind() == v1::INDICATOR_KIND_RATE || ind->kind() == v1::INDICATOR_KIND_PROPORTION;
      std::vector<const v1::Area*> areas = {&root};
      if (!narrative && Has(*ind, v1::DISAGGREGATION_AREA)) {
        areas.insert(areas.end(), towns.begin(), towns.end());
      }
      std::vector<std::pair<v1::Sex, v1::Residence>> parts = {{v1::SEX_TOTAL, v1::RESIDENCE_ALL}};
      if (!narrative && Has(*ind, v1::DISAGGREGATION_SEX)) {
        parts.insert(parts.end(),
                     {{v1::SEX_FEMALE, v1::RESIDENCE_ALL}, {v1::SEX_MALE, v1::RESIDENCE_ALL}});
      }
      if (!narrative && Has(*ind, v1::DISAGGREGATION_RESIDENCE)) {
        parts.insert(parts.end(),
                     {{v1::SEX_TOTAL, v1::RESIDENCE_URBAN}, {v1::SEX_TOTAL, v1::RESIDENCE_RURAL}});
      }
      const double min = ind->value_range().has_min() && ind->value_range().min() < 0 && !fraction
                             ? ind->value_range().min()
                             : 0;
      for (const v1::Area* area : areas) {
        for (const auto& [sex, residence] : parts) {
          std::string prev_json = "{}";
          auto p = previous.find(ind->id());
          if (p != previous.end() && area == &root && sex == v1::SEX_TOTAL &&
              residence == v1::RESIDENCE_ALL) {
            std::vector<std::string> kv;
            for (const auto& [k, v] : p->second) {
              kv.push_back(absl::StrCat(Json(k), ": ", v));
            }
            prev_json = absl::StrCat("{", absl::StrJoin(kv, ", "), "}");
          }
          row_json.push_back(absl::StrCat("{\"key\": [", Json(ind->id()), ", ", Json(area->code()),
                                          ", 2024, ", Json(labels::LabelZh(sex)), ", ",
                                          Json(labels::LabelZh(residence)), "], \"wanted\": ",
                                          narrative  ? "\"narrative\""
                                          : fraction ? "\"fraction\""
                                                     : "\"value\"",
                                          ", \"min\": ", min, ", \"previous\": ", prev_json, "}"));
        }
      }
    }
    rows += row_json.size();
    std::vector<std::string> header = {"指标代码", "指标名称", "区域代码", "区域名称", "年份",
                                       "性别",     "城乡",     "计量单位", "填报内容", "分子",
                                       "分母",     "数值",     "公布数"};
    if (narratives) {
      header.insert(header.end(), {"工作进展", "自评", "佐证材料", "填报单位"});
    }
    header.insert(header.end(),
                  {"数据来源", "备注", "上年分子", "上年分母", "上年数值", "上年公布数"});
    std::vector<std::string> header_json;
    for (const auto& h : header) {
      header_json.push_back(Json(h));
    }
    absl::StrAppend(
        &json, units++ > 0 ? ",\n" : "\n",
        "{\"file\": ", Json(absl::StrCat(forms, "/报表-", unit.code(), "-2024.xlsx")),
        unit.code() == "HEALTH" ? absl::StrCat(", \"csv\": ", Json(dir_ + "/HEALTH.csv")) : "",
        ", \"header\": [", absl::StrJoin(header_json, ", "),
        "], \"block\": {\"表号\": ", Json(absl::StrCat("妇规监测-", unit.code())),
        ", \"制表机关\": ", Json(absl::StrCat(root.name_zh(), "妇女儿童工作委员会办公室")),
        ", \"填报单位\": ", Json(absl::StrCat(unit.name_zh(), "（", unit.code(), "）")),
        ", \"报告期\": \"2024年\"}, \"rows\": [", absl::StrJoin(row_json, ",\n"),
        "], \"indicators\": [", absl::StrJoin(ids, ", "), "]}");
  }
  json += "]}\n";
  EXPECT_GE(units, 20);
  EXPECT_GE(rows, 300u);
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("共 ", units, " 份报表")));
  const std::string expected = dir_ + "/expected.json";
  ASSERT_TRUE(ht::WriteTextFile(expected, json).ok());
  ht::CommandResult check =
      Run({kPython, absl::StrCat(HALFSKY_SOURCE_DIR, "/tests/halfskyctl/xlsx/check_forms.py"),
           expected});
  EXPECT_EQ(check.exit_code, 0) << Describe(check);
  EXPECT_THAT(check.out, HasSubstr(absl::StrCat("OK ", units))) << Describe(check);

  // Usage errors change nothing and say why.
  ht::CommandResult both =
      Ctl({"form", "--all", "--unit", "HEALTH", "--year", "2024", "-o", forms});
  EXPECT_EQ(both.exit_code, 2) << Describe(both);
  ht::CommandResult unknown =
      Ctl({"form", "--unit", "NO_SUCH", "--year", "2024", "-o", dir_ + "/x.xlsx"});
  EXPECT_EQ(unknown.exit_code, 2) << Describe(unknown);
  EXPECT_THAT(unknown.err, HasSubstr("没有成员单位 NO_SUCH")) << Describe(unknown);
  EXPECT_EQ(ht::ReadFile(dir_ + "/x.xlsx"), "");
}

TEST_F(FormTest, FormulaLikeCatalogTextIsWrittenAsText) {
  // The plan's catalog with an indicator and a member unit renamed.
  const std::string catalog = ht::MakeTempDir("form-e2e-catalog");
  ht::CommandResult cp =
      Run({"/bin/sh", "-c",
           absl::StrCat("cp ", HALFSKY_SOURCE_DIR, "/deploy/catalog/*.textproto ", catalog)});
  ASSERT_EQ(cp.exit_code, 0) << Describe(cp);
  const std::string health = catalog + "/plan_1_health.textproto";
  std::string text = ht::ReadFile(health);
  const std::string name = "name_zh: \"女性人均预期寿命\"";
  ASSERT_NE(text.find(name), std::string::npos);
  text.replace(text.find(name), name.size(),
               "name_zh: \"=HYPERLINK(\\\"http://example.invalid\\\",\\\"寿命\\\")\"");
  ASSERT_TRUE(ht::WriteTextFile(health, text).ok());
  const std::string units_path = catalog + "/member_units.textproto";
  std::string units = ht::ReadFile(units_path);
  const std::string unit_name = "name_zh: \"区卫生健康局\"";
  ASSERT_NE(units.find(unit_name), std::string::npos);
  units.replace(units.find(unit_name), unit_name.size(), "name_zh: \"@SUM(1+1)卫健\"");
  ASSERT_TRUE(ht::WriteTextFile(units_path, units).ok());
  ASSERT_NO_FATAL_FAILURE(StartSubmission(catalog));

  const std::string xlsx = dir_ + "/health.xlsx";
  const std::string csv = dir_ + "/health.csv";
  ht::CommandResult x = Ctl({"form", "--unit", "HEALTH", "--year", "2024", "-o", xlsx});
  ASSERT_EQ(x.exit_code, 0) << Describe(x);
  ht::CommandResult c = Ctl({"form", "--unit", "HEALTH", "--year", "2024", "-o", csv});
  ASSERT_EQ(c.exit_code, 0) << Describe(c);
  EXPECT_THAT(ht::ReadFile(csv),
              HasSubstr(",\"'=HYPERLINK(\"\"http://example.invalid\"\",\"\"寿命\"\")\","));
  ht::CommandResult check = Run(
      {kPython, absl::StrCat(HALFSKY_SOURCE_DIR, "/tests/halfskyctl/xlsx/check_text_cells.py"),
       xlsx, "表式", "=HYPERLINK(\"http://example.invalid\",\"寿命\")", "@SUM(1+1)卫健（HEALTH）"});
  EXPECT_EQ(check.exit_code, 0) << Describe(check);
  EXPECT_THAT(check.out, HasSubstr("OK 2")) << Describe(check);
}

}  // namespace
}  // namespace halfsky
