// `halfskyctl catalog lint|show|doc` over the real catalog and broken copies.

#include "services/halfskyctl/catalog/catalog_cmd.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/catalog/catalog.h"
#include "common/catalog/catalog_service.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "services/halfskyctl/catalog/catalog_text.h"
#include "tests/support/process.h"

namespace halfsky {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kCatalogDir = std::string(HALFSKY_SOURCE_DIR) + "/deploy/catalog";

struct CmdResult {
  int code;
  std::string out;
  std::string err;
};

CmdResult Cmd(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = RunCatalogCommand(args, out, err);
  return {code, out.str(), err.str()};
}

// A copy of the real catalog in a fresh directory.
std::string CopyCatalog() {
  const std::string dir = testing::MakeTempDir("catalog-copy");
  for (const auto& e : fs::directory_iterator(kCatalogDir)) {
    fs::copy_file(e.path(), fs::path(dir) / e.path().filename());
  }
  return dir;
}

std::string Read(const std::string& path) { return testing::ReadFile(path); }

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

int LineOfOffset(const std::string& text, size_t offset) {
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + offset, '\n'));
}

TEST(DisplayWidthTest, CjkIsTwoColumns) {
  EXPECT_EQ(DisplayWidth("abc"), 3);
  EXPECT_EQ(DisplayWidth("孕产妇死亡率"), 12);
  EXPECT_EQ(DisplayWidth("/10万"), 5);
  EXPECT_EQ(DisplayWidth("％"), 2);      // fullwidth percent
  EXPECT_EQ(DisplayWidth("“两委”"), 6);  // curly quotes are narrow, 两委 wide
  EXPECT_EQ(DisplayWidth("≥ 95"), 4);
  EXPECT_EQ(DisplayWidth(""), 0);
  EXPECT_EQ(PadToWidth("率", 4), "率  ");
  EXPECT_EQ(PadToWidth("比例比例", 4), "比例比例");
}

TEST(CatalogCmdTest, HelpAndUsageErrors) {
  EXPECT_EQ(Cmd({}).code, 2);
  EXPECT_EQ(Cmd({"--help"}).code, 0);
  EXPECT_EQ(Cmd({"frobnicate"}).code, 2);
  for (const char* sub : {"lint", "show", "doc"}) {
    CmdResult r = Cmd({sub, "--help"});
    EXPECT_EQ(r.code, 0) << sub;
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("halfskyctl catalog ", sub))) << sub;
  }
  EXPECT_EQ(Cmd({"show", "--catalog", kCatalogDir, "--format", "xml"}).code, 2);
  EXPECT_EQ(Cmd({"show", "--catalog"}).code, 2);
  EXPECT_EQ(Cmd({"show", "--bogus"}).code, 2);
  EXPECT_EQ(Cmd({"doc", "--catalog", kCatalogDir}).code, 2);  // -o is required
  EXPECT_EQ(Cmd({"lint", "--strict"}).code, 2);
}

TEST(CatalogCmdTest, LintRealCatalogIsClean) {
  CmdResult r = Cmd({"lint", kCatalogDir});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("catalog OK: 8 domains, 72 objectives"));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

TEST(CatalogCmdTest, LintRejectsACopyWithABrokenTarget) {
  const std::string dir = CopyCatalog();
  const std::string file = dir + "/plan_1_health.textproto";
  std::string text = Read(file);
  // The maternal mortality target loses its year; the cervical screening
  // target (a proportion) becomes 170 %.
  const size_t mmr = text.find("    value: 10.15\n");
  ASSERT_NE(mmr, std::string::npos);
  const size_t year = text.rfind("    year: 2030\n", mmr);
  ASSERT_NE(year, std::string::npos);
  const size_t target_open = text.rfind("  targets {", year);
  const int mmr_line = LineOfOffset(text, target_open);
  text.erase(year, std::string("    year: 2030\n").size());
  const size_t screening = text.find("    value: 70\n");
  ASSERT_NE(screening, std::string::npos);
  text.replace(screening, std::string("    value: 70\n").size(), "    value: 170\n");
  const int screening_line = LineOfOffset(text, text.rfind("  targets {", screening));
  Write(file, text);

  CmdResult r = Cmd({"lint", dir});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(file, ":", mmr_line, ": HEALTH-04: ")));
  EXPECT_THAT(r.out, HasSubstr("target without year"));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(file, ":", screening_line, ": HEALTH-06: ")));
  EXPECT_THAT(r.out, HasSubstr("target value 170 outside value_range"));
  EXPECT_THAT(r.out, HasSubstr("2 problem(s)"));

  // show and doc refuse it too, printing the problems to stderr.
  CmdResult show = Cmd({"show", "--catalog", dir});
  EXPECT_EQ(show.code, 1);
  EXPECT_THAT(show.err, HasSubstr("target without year"));
}

// 指标解释 (issue #16 item 1): lint requires it for every numeric indicator
// and names what is missing at the indicator's file:line; the services'
// loader does not (test catalogs need no wording).
TEST(CatalogCmdTest, LintRefusesANumericIndicatorWithoutItsExplanation) {
  const std::string dir = CopyCatalog();
  const std::string file = dir + "/plan_1_health.textproto";
  std::string text = Read(file);
  const size_t id = text.find("  id: \"HEALTH-04\"\n");
  ASSERT_NE(id, std::string::npos);
  const int line = LineOfOffset(text, text.rfind("indicators {", id));
  // HEALTH-04 loses its definition and its wording marker.
  const size_t def = text.find("    definition_zh: ", id);
  ASSERT_NE(def, std::string::npos);
  text.erase(def, text.find('\n', def) + 1 - def);
  const size_t wording = text.find("    wording: EXPLANATION_WORDING_OURS\n", id);
  ASSERT_NE(wording, std::string::npos);
  text.erase(wording, std::string("    wording: EXPLANATION_WORDING_OURS\n").size());
  // HEALTH-05 loses its whole explanation.
  const size_t id5 = text.find("  id: \"HEALTH-05\"\n");
  ASSERT_NE(id5, std::string::npos);
  const int line5 = LineOfOffset(text, text.rfind("indicators {", id5));
  const size_t block = text.find("  explanation {\n", id5);
  ASSERT_NE(block, std::string::npos);
  text.erase(block, text.find("  }\n", block) + 4 - block);
  Write(file, text);

  CmdResult r = Cmd({"lint", dir});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(file, ":", line,
                                            ": HEALTH-04: 数值指标的指标解释缺少指标含义、措辞出处 "
                                            "/ numeric indicator's explanation lacks "
                                            "definition_zh, wording")))
      << r.out;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(file, ":", line5, ": HEALTH-05: ")));
  EXPECT_THAT(r.out, HasSubstr("definition_zh, formula_zh, data_source_zh, wording"));
  EXPECT_THAT(r.out, HasSubstr("2 problem(s)"));
  // The services still load it.
  EXPECT_TRUE(CatalogIndex::Load({dir}).ok());
}

TEST(CatalogCmdTest, ShowPrintsAnIndicatorsExplanation) {
  CmdResult r = Cmd({"show", "--catalog", kCatalogDir, "--indicator", "HEALTH-04"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("HEALTH-04 孕产妇死亡率"));
  EXPECT_THAT(r.out, HasSubstr("  指标含义 definition: 指年内每10万名活产儿中孕产妇死亡的人数。"));
  EXPECT_THAT(r.out,
              HasSubstr("  计算方法 formula: 孕产妇死亡率 = 孕产妇死亡人数 ÷ 活产数 × 10万\n"));
  EXPECT_THAT(r.out, HasSubstr("  计量单位 unit: /10万\n"));
  EXPECT_THAT(r.out, HasSubstr("  数据来源 source: 妇幼卫生年报、孕产妇死亡监测（区卫生健康局）"
                               "（部门统计 departmental statistics）\n"));
  EXPECT_THAT(r.out, HasSubstr("  责任单位 responsible: 区卫生健康局 (HEALTH)\n"));
  EXPECT_THAT(r.out, HasSubstr("  牵头单位 lead: 区卫生健康局 (HEALTH)\n"));
  EXPECT_THAT(r.out, HasSubstr("  解释出处 wording: 本系统依通行统计口径拟定，待责任单位确认"));
  // Several responsible units: the lead is named.
  CmdResult two = Cmd({"show", "--catalog", kCatalogDir, "--indicator", "ECONOMY-08"});
  ASSERT_EQ(two.code, 0) << two.err;
  EXPECT_THAT(two.out,
              HasSubstr("责任单位 responsible: 区卫生健康局 (HEALTH)、区人力资源和社会保障局"));
  EXPECT_THAT(two.out, HasSubstr("牵头单位 lead: "));
  CmdResult unknown = Cmd({"show", "--catalog", kCatalogDir, "--indicator", "NO-SUCH-1"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("未知指标"));
}

TEST(CatalogCmdTest, LintOfMissingPathIsAProblem) {
  CmdResult r = Cmd({"lint", "/nonexistent/dir"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("/nonexistent/dir: "));
}

TEST(CatalogCmdTest, ShowTableIsAlignedByDisplayWidth) {
  auto index = CatalogIndex::Load({kCatalogDir});
  ASSERT_TRUE(index.ok()) << index.status();
  CmdResult r = Cmd({"show", "--catalog", kCatalogDir});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n');
  // Column 3 (kind) starts at the same display column on every indicator
  // row, whatever the width of the Chinese name before it.
  int column = -1;
  int rows = 0;
  for (const auto& ind : (*index)->catalog().indicators()) {
    const std::string prefix = ind.id() + "  ";
    bool seen = false;
    for (const auto& line : lines) {
      if (!absl::StartsWith(line, prefix)) {
        continue;
      }
      seen = true;
      size_t pos = line.find(ind.name_zh(), prefix.size());
      ASSERT_NE(pos, std::string::npos) << line;
      pos += ind.name_zh().size();
      while (pos < line.size() && line[pos] == ' ') {
        ++pos;
      }
      const int col = DisplayWidth(line.substr(0, pos));
      if (column < 0) {
        column = col;
      }
      EXPECT_EQ(col, column) << line;
      ++rows;
    }
    EXPECT_TRUE(seen) << ind.id();
  }
  EXPECT_EQ(rows, (*index)->catalog().indicators_size());
  EXPECT_THAT(r.out, HasSubstr("≤ 10.15/10万 (2030)"));
}

TEST(CatalogCmdTest, ShowDomainFilterAndUnknownDomain) {
  CmdResult r = Cmd({"show", "--catalog", kCatalogDir, "--domain", "LAW"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("LAW-01"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("HEALTH-01")));
  CmdResult bad = Cmd({"show", "--catalog", kCatalogDir, "--domain", "SPORTS"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.err, HasSubstr("unknown domain_id SPORTS"));
}

TEST(CatalogCmdTest, ShowJsonRoundTrips) {
  auto index = CatalogIndex::Load({kCatalogDir});
  ASSERT_TRUE(index.ok()) << index.status();
  CmdResult r = Cmd({"show", "--catalog=" + kCatalogDir, "--domain=HEALTH", "--format=json"});
  ASSERT_EQ(r.code, 0) << r.err;
  v1::GetCatalogResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &parsed).ok()) << r.out;
  auto want = CatalogForDomain(**index, "HEALTH");
  ASSERT_TRUE(want.ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed.catalog(), *want));
  EXPECT_EQ(parsed.fingerprint(), (*index)->fingerprint());
  EXPECT_THAT(r.out, HasSubstr("\"name_zh\": \"孕产妇死亡率\""));
}

TEST(CatalogCmdTest, DefaultCatalogComesFromTheEnvironment) {
  ASSERT_EQ(setenv("HALFSKY_CATALOG", kCatalogDir.c_str(), 1), 0);
  CmdResult r = Cmd({"show", "--domain", "FAMILY"});
  unsetenv("HALFSKY_CATALOG");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("FAMILY-07"));
}

TEST(CatalogCmdTest, DocListsEveryIndicatorAndObjective) {
  auto index = CatalogIndex::Load({kCatalogDir});
  ASSERT_TRUE(index.ok()) << index.status();
  CmdResult r = Cmd({"doc", "--catalog", kCatalogDir, "-o", "-"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const auto& i : (*index)->catalog().indicators()) {
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("#### `", i.id(), "` ", i.name_zh()))) << i.id();
  }
  for (const auto& o : (*index)->catalog().objectives()) {
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("`", o.id(), "`"))) << o.id();
  }
  EXPECT_THAT(r.out, HasSubstr("| **合计 total** | **72** |"));
  EXPECT_THAT(r.out, HasSubstr("## 定性主要目标 Qualitative objectives"));
  EXPECT_THAT(r.out, HasSubstr("孕产妇死亡率下降到10.15/10万以下"));
  // Writing to a file.
  const std::string out = testing::MakeTempDir("catalog-doc") + "/CATALOG.md";
  CmdResult w = Cmd({"doc", "--catalog", kCatalogDir, "-o", out});
  EXPECT_EQ(w.code, 0) << w.err;
  EXPECT_EQ(Read(out), r.out);
  EXPECT_EQ(Cmd({"doc", "--catalog", kCatalogDir, "-o", "/nonexistent/dir/CATALOG.md"}).code, 1);
}

}  // namespace
}  // namespace halfsky
