// docs/BAD_INPUT.md cannot rot: every row of its tables names at least one
// test (`Suite.Name`, `Prefix/Suite.Name/*` for a parameterized one, or
// `Suite.*` for every test of a suite) in its last cell; every named test
// exists in tests/ (TEST, TEST_F, TEST_P or TYPED_TEST); every suite named is listed
// in the "Test files" table with the file that defines it; `name.corpus`
// names a fuzz target whose seed corpus ctest replays; and the matrix keeps
// at least the 144 kinds of bad input issue #13 counted.
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct TestIndex {
  std::set<std::string> tests;                                  // "Suite.Name"
  std::map<std::string, std::set<std::string>> files_of_suite;  // suite -> files (relative)
};

TestIndex IndexTests() {
  TestIndex index;
  const std::regex test_re(R"(\b(?:TYPED_)?TEST(?:_F|_P)?\(\s*(\w+)\s*,\s*(\w+)\s*\))");
  const std::filesystem::path root = std::filesystem::path(HALFSKY_SOURCE_DIR) / "tests";
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".cc") continue;
    if (absl::StrContains(entry.path().string(), "node_modules")) continue;
    const std::string text = Read(entry.path().string());
    const std::string rel =
        std::filesystem::relative(entry.path(), HALFSKY_SOURCE_DIR).generic_string();
    for (std::sregex_iterator it(text.begin(), text.end(), test_re), end; it != end; ++it) {
      index.tests.insert((*it)[1].str() + "." + (*it)[2].str());
      index.files_of_suite[(*it)[1].str()].insert(rel);
    }
  }
  return index;
}

std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> cells = absl::StrSplit(line, '|');
  // A row "| a | b |" splits into "", " a ", " b ", "".
  if (!cells.empty()) cells.erase(cells.begin());
  if (!cells.empty() && absl::StripAsciiWhitespace(cells.back()).empty()) cells.pop_back();
  return cells;
}

std::vector<std::string> Backticked(const std::string& cell) {
  std::vector<std::string> out;
  const std::regex tick_re("`([^`]+)`");
  for (std::sregex_iterator it(cell.begin(), cell.end(), tick_re), end; it != end; ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

TEST(BadInputMatrixTest, EveryRowNamesTestsThatExist) {
  const std::string doc = Read(std::string(HALFSKY_SOURCE_DIR) + "/docs/BAD_INPUT.md");
  ASSERT_FALSE(doc.empty()) << "docs/BAD_INPUT.md is missing";
  const TestIndex index = IndexTests();
  ASSERT_GT(index.tests.size(), 100u);
  const std::string fuzz_cmake =
      Read(std::string(HALFSKY_SOURCE_DIR) + "/tests/fuzz/CMakeLists.txt");

  // Suite.Name, Prefix/Suite.Name/*, Suite.*, name_fuzz.corpus
  const std::regex ref_re(R"(^(?:(\w+)/)?([A-Z]\w*)\.([A-Z]\w*|\*)(?:/\*)?$)");
  const std::regex corpus_re(R"(^(\w+_fuzz)\.corpus$)");

  std::vector<std::string> lines = absl::StrSplit(doc, '\n');
  std::map<std::string, std::string> listed_files;  // from the "Test files" table
  std::set<std::string> suites_named;
  int rows = 0;
  bool in_files_table = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (absl::StartsWith(line, "#")) {
      in_files_table = absl::StrContains(line, "Test files");
      continue;
    }
    if (!absl::StartsWith(line, "|")) continue;
    if (absl::StartsWith(line, "|---") || absl::StartsWith(line, "| ---")) continue;
    // A header row is followed by the separator.
    if (i + 1 < lines.size() && absl::StartsWith(lines[i + 1], "|-")) continue;
    const std::vector<std::string> cells = Cells(line);
    ASSERT_GE(cells.size(), 2u) << "line " << i + 1 << ": " << line;
    if (in_files_table) {
      std::vector<std::string> suite = Backticked(cells[0]);
      std::vector<std::string> file = Backticked(cells[1]);
      ASSERT_EQ(suite.size(), 1u) << "line " << i + 1;
      ASSERT_EQ(file.size(), 1u) << "line " << i + 1;
      listed_files[suite[0]] = file[0];
      continue;
    }
    ++rows;
    int refs = 0;
    for (const std::string& token : Backticked(cells.back())) {
      std::smatch m;
      if (std::regex_match(token, m, corpus_re)) {
        ++refs;
        EXPECT_TRUE(absl::StrContains(fuzz_cmake, "\"" + m[1].str() + "\\;"))
            << "line " << i + 1 << ": no fuzz target " << m[1] << " in tests/fuzz/CMakeLists.txt";
        continue;
      }
      if (!std::regex_match(token, m, ref_re)) continue;
      ++refs;
      const std::string suite = m[2].str();
      suites_named.insert(suite);
      if (m[3] == "*") {
        EXPECT_TRUE(index.files_of_suite.count(suite) > 0)
            << "line " << i + 1 << ": no test of suite " << suite << " in tests/";
      } else {
        EXPECT_TRUE(index.tests.count(suite + "." + m[3].str()) > 0)
            << "line " << i + 1 << ": test " << suite << "." << m[3] << " does not exist in tests/";
      }
    }
    EXPECT_GT(refs, 0) << "line " << i + 1 << " names no test in its last cell: " << line;
  }
  EXPECT_GE(rows, 144) << "the matrix lists fewer than the 144 kinds of issue #13";
  for (const std::string& suite : suites_named) {
    auto listed = listed_files.find(suite);
    if (listed == listed_files.end()) {
      ADD_FAILURE() << "suite " << suite << " is not in the \"Test files\" table";
      continue;
    }
    auto files = index.files_of_suite.find(suite);
    EXPECT_TRUE(files != index.files_of_suite.end() && files->second.count(listed->second) > 0)
        << "suite " << suite << " is listed in " << listed->second << " but is not defined there";
  }
}

}  // namespace
