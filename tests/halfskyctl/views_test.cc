#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "common/views/display_width.h"
#include "common/views/labels.h"
#include "common/views/series_view.h"
#include "common/views/status_view.h"
#include "common/views/table.h"
#include "common/views/warnings_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/halfskyctl/cli.h"
#include "tests/halfskyctl/golden.h"
#include "tests/halfskyctl/sample_report.h"

namespace halfsky {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

views::Names SampleNames() {
  views::Names n;
  n.areas = {{"610303", "金台区"}, {"610303001", "中山东路街道"}};
  n.units = {{"HEALTH", "区卫生健康局"}, {"PEOPLES_CONGRESS", "区人大常委会办公室"}};
  n.indicators = {{"DECISION-03", "区人大代表中女性比例"},
                  {"DECISION-06", "区政协委员中女性比例"},
                  {"DECISION-07", "区人大常委会组成人员中女性比例"},
                  {"DECISION-08", "区政协常委中女性比例"},
                  {"HEALTH-04", "孕产妇死亡率"}};
  return n;
}

std::vector<v1::Warning> Sorted() {
  std::vector<v1::Warning> w = testing::SampleWarnings();
  views::SortWarnings(&w);
  return w;
}

// Display column where each column of `line` starts, given the header.
std::vector<int> ColumnStarts(const std::string& line) {
  std::vector<int> starts;
  int col = 0;
  bool in_gap = true;
  int spaces = 0;
  for (size_t i = 0; i < line.size();) {
    size_t j = i + 1;
    while (j < line.size() && (static_cast<unsigned char>(line[j]) & 0xC0) == 0x80) {
      ++j;
    }
    const std::string ch = line.substr(i, j - i);
    if (ch == " ") {
      ++spaces;
    } else {
      if (in_gap || spaces >= 2) {
        starts.push_back(col);
      }
      spaces = 0;
      in_gap = false;
    }
    col += DisplayWidth(ch);
    i = j;
  }
  return starts;
}

TEST(DisplayWidthTest, CjkTakesTwoColumns) {
  EXPECT_EQ(DisplayWidth("孕产妇死亡率"), 12);
  EXPECT_EQ(DisplayWidth("HEALTH-04"), 9);
  EXPECT_EQ(DisplayWidth("≤10.15/10万"), 11);
  EXPECT_EQ(PadToWidth("红色", 6), "红色  ");
  EXPECT_EQ(PadLeftToWidth("95%", 5), "  95%");
  EXPECT_EQ(TruncateToWidth("孕产妇死亡率", 7), "孕产妇…");
  EXPECT_EQ(TruncateToWidth("abc", 7), "abc");
}

TEST(TableTest, AlignsMixedChineseAndAsciiByDisplayWidth) {
  const std::string t = views::RenderTable({{"指标"}, {"数值", true}, {"说明"}},
                                           {{{"孕产妇死亡率", ""}, {"16.2", ""}, {"下降", ""}},
                                            {{"HEALTH-05 管理率", ""}, {"98.4", ""}, {"ok", ""}},
                                            {{"x", ""}, {"5", ""}, {"", ""}}},
                                           false);
  std::vector<std::string> lines = absl::StrSplit(t, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u);
  // The value column is right-aligned: every row's value ends where the
  // header's does.
  const int end = DisplayWidth(lines[0].substr(0, lines[0].find("数值"))) + 4;
  for (size_t i = 2; i < lines.size(); ++i) {
    const std::vector<std::string> cells =
        absl::StrSplit(lines[i], absl::ByString("  "), absl::SkipEmpty());
    size_t pos = lines[i].find(i == 2 ? "16.2" : i == 3 ? "98.4" : "5");
    EXPECT_EQ(DisplayWidth(lines[i].substr(0, pos)) + DisplayWidth(i == 2   ? "16.2"
                                                                   : i == 3 ? "98.4"
                                                                            : "5"),
              end)
        << lines[i];
  }
  for (const auto& l : lines) {
    EXPECT_NE(l.back(), ' ') << "trailing space in '" << l << "'";
  }
}

TEST(WarningsViewTest, SortsRedFirst) {
  const std::vector<v1::Warning> w = Sorted();
  ASSERT_EQ(w.size(), 6u);
  EXPECT_EQ(w[0].severity(), v1::SEVERITY_RED);
  EXPECT_EQ(w[1].severity(), v1::SEVERITY_RED);
  EXPECT_EQ(w[2].severity(), v1::SEVERITY_ORANGE);
  EXPECT_EQ(w[3].severity(), v1::SEVERITY_ORANGE);
  EXPECT_EQ(w[4].severity(), v1::SEVERITY_YELLOW);
  EXPECT_EQ(w[5].severity(), v1::SEVERITY_YELLOW);
  EXPECT_EQ(w[2].indicator_id(), "HEALTH-04");  // then by indicator id
  // A severity's per-unit late-data warnings after its indicators' warnings.
  EXPECT_EQ(w[0].indicator_id(), "ECONOMY-02");
  EXPECT_EQ(w[1].unit_code(), "HEALTH");
  EXPECT_EQ(w[4].indicator_id(), "EDUCATION-05");
  EXPECT_EQ(w[5].unit_code(), "PEOPLES_CONGRESS");
}

// A per-unit late-data warning has no indicator: the 指标 column shows the
// unit's Chinese name with its missing indicators (at most 3, then 等N项) and
// 状态 the days overdue; never an empty indicator.
TEST(WarningsViewTest, UnitLateDataWarningShowsUnitAndMissingIndicators) {
  const std::string t = views::RenderWarningsTable(Sorted(), SampleNames(), false);
  EXPECT_THAT(t, HasSubstr("区人大常委会办公室 未报4项：DECISION-03 区人大代表中女性比例、"
                           "DECISION-06 区政协委员中女性比例、DECISION-07 "
                           "区人大常委会组成人员中女性比例等4项"));
  EXPECT_THAT(t, Not(HasSubstr("DECISION-08 区政协常委中女性比例")));  // bounded
  EXPECT_THAT(t, HasSubstr("区卫生健康局 未报1项：HEALTH-04 孕产妇死亡率"));
  EXPECT_THAT(t, HasSubstr("逾期425天"));
  EXPECT_THAT(t, HasSubstr("逾期59天"));
  std::vector<std::string> lines = absl::StrSplit(t, '\n');
  EXPECT_THAT(lines[3], HasSubstr("红色预警  unit.HEALTH:610303:late_data:2023"));

  views::Names no_names;  // no catalog: codes and ids, still not empty
  const v1::Warning unit = Sorted()[5];
  EXPECT_EQ(views::WarningSubjectZh(unit, no_names.units, no_names.indicators),
            "PEOPLES_CONGRESS 未报4项：DECISION-03、DECISION-06、DECISION-07等4项");
  EXPECT_EQ(views::WarningSubjectZh(unit, {}, {}, 4),
            "PEOPLES_CONGRESS 未报4项：DECISION-03、DECISION-06、DECISION-07、DECISION-08");

  const std::string csv = views::RenderWarningsCsv(Sorted(), SampleNames());
  EXPECT_THAT(csv, HasSubstr(",PEOPLES_CONGRESS,区人大常委会办公室,"
                             "DECISION-03;DECISION-06;DECISION-07;DECISION-08,59\n"));

  v1::WarningEvent e;
  e.set_type(v1::WARNING_EVENT_TYPE_FIRED);
  *e.mutable_warning() = unit;
  EXPECT_THAT(views::RenderEventLine(e, SampleNames(), false),
              HasSubstr("unit.PEOPLES_CONGRESS:610303:late_data:2024  区人大常委会办公室 未报4项"));
}

TEST(WarningsViewTest, TableGolden) {
  testing::ExpectGolden("warnings_table.txt",
                        views::RenderWarningsTable(Sorted(), SampleNames(), false));
}

TEST(WarningsViewTest, TableColumnsLineUpByDisplayWidth) {
  const std::string t = views::RenderWarningsTable(Sorted(), SampleNames(), false);
  std::vector<std::string> lines = absl::StrSplit(t, '\n');
  const std::vector<int> header = ColumnStarts(lines[0]);
  ASSERT_EQ(header.size(), 9u) << lines[0];
  for (size_t i = 2; i < 2 + 6; ++i) {
    const std::vector<int> row = ColumnStarts(lines[i]);
    // Every row's cells start at header columns (empty cells skip one).
    for (int start : row) {
      EXPECT_NE(std::find(header.begin(), header.end(), start), header.end())
          << "line " << i << ": a cell starts at column " << start << "\n"
          << t;
    }
  }
}

TEST(WarningsViewTest, ColourOnlyWhenAsked) {
  const std::string plain = views::RenderWarningsTable(Sorted(), SampleNames(), false);
  const std::string coloured = views::RenderWarningsTable(Sorted(), SampleNames(), true);
  EXPECT_THAT(plain, Not(HasSubstr("\x1b[")));
  EXPECT_THAT(coloured, HasSubstr("\x1b[1;31m红色预警\x1b[0m"));
  EXPECT_FALSE(views::UseColour(std::cerr));  // not stdout: never coloured
}

TEST(WarningsViewTest, JsonGolden) {
  testing::ExpectGolden("warnings.json", views::RenderWarningsJson(Sorted()));
}

TEST(WarningsViewTest, CsvGolden) {
  testing::ExpectGolden("warnings.csv", views::RenderWarningsCsv(Sorted(), SampleNames()));
}

TEST(WarningsViewTest, EmptyList) {
  EXPECT_EQ(views::RenderWarningsTable({}, SampleNames(), false),
            "没有符合条件的预警 / no matching warnings\n");
  EXPECT_EQ(views::RenderWarningsCsv({}, SampleNames()), views::WarningsCsvHeader(false));
}

TEST(WarningsViewTest, WatchLinesGolden) {
  std::string out;
  v1::WarningEvent e;
  for (const auto& w : Sorted()) {
    e.set_type(v1::WARNING_EVENT_TYPE_CURRENT);
    *e.mutable_warning() = w;
    e.mutable_at()->set_seconds(1740794400);
    out += views::RenderEventLine(e, SampleNames(), false);
  }
  v1::WarningEvent synced;
  synced.set_type(v1::WARNING_EVENT_TYPE_SYNCED);
  out += views::RenderEventLine(synced, SampleNames(), false);
  e.set_type(v1::WARNING_EVENT_TYPE_RESOLVED);
  e.mutable_at()->set_seconds(1740798000);
  out += views::RenderEventLine(e, SampleNames(), false);
  out += "--- csv ---\n" + views::WarningsCsvHeader(true) + views::RenderEventCsv(e, SampleNames());
  EXPECT_EQ(views::RenderEventCsv(synced, SampleNames()), "");
  out += "--- json ---\n" + views::RenderEventJson(e);
  testing::ExpectGolden("warnings_watch.txt", out);
}

TEST(SparklineTest, ScalesBetweenMinAndMax) {
  EXPECT_EQ(views::Sparkline({1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0}), "▁▂▃▄▅▆▇█");
  EXPECT_EQ(views::Sparkline({18.6, std::nullopt, 16.2}), "█ ▁");
  EXPECT_EQ(views::Sparkline({5.0, 5.0}), "▄▄");
  EXPECT_EQ(views::Sparkline({}), "");
}

TEST(SeriesViewTest, Golden) {
  views::SeriesLabels labels{"孕产妇死亡率", "/10万", "金台区"};
  testing::ExpectGolden("series_health04.txt",
                        views::RenderSeries(testing::SampleSeries(), labels, false));
}

TEST(StatusViewTest, Golden) {
  views::StatusNames names;
  names.units = {{"HEALTH", "区卫生健康局"},
                 {"PEOPLES_CONGRESS", "区人大常委会办公室"},
                 {"EDUCATION", "区教育体育局"}};
  names.indicators = {{"DECISION-03", "区人大代表中女性比例"}, {"HEALTH-04", "孕产妇死亡率"}};
  const auto status = testing::SampleReportingStatus();
  EXPECT_TRUE(views::HasReportingProblems(status));
  testing::ExpectGolden("status_2024.txt",
                        views::RenderReportingStatus(status, 2024, names, false) + "--- csv ---\n" +
                            views::RenderReportingStatusCsv(status, names));
}

TEST(LabelsTest, ParsesFlagValuesInEnglishAndChinese) {
  EXPECT_EQ(views::ParseKind("late_data"), v1::WARNING_KIND_LATE_DATA);
  EXPECT_EQ(views::ParseKind("波动较大"), v1::WARNING_KIND_FLUCTUATION);
  EXPECT_EQ(views::ParseSeverity("Orange"), v1::SEVERITY_ORANGE);
  EXPECT_EQ(views::ParseSeverity("红"), v1::SEVERITY_RED);
  EXPECT_EQ(views::ParseSex("女"), v1::SEX_FEMALE);
  EXPECT_EQ(views::ParseResidence("rural"), v1::RESIDENCE_RURAL);
  EXPECT_EQ(views::ParseReportType("midterm"), v1::REPORT_TYPE_MIDTERM);
  EXPECT_FALSE(views::ParseKind("nonsense").has_value());
  EXPECT_EQ(views::FormatValue(14.30), "14.3");
  EXPECT_EQ(views::FormatValue(-0.001), "0");
  EXPECT_EQ(views::FormatRate(-0.056), "-5.6%");
}

TEST(CliTest, ParsesFlagsBothWaysAndRejectsUnknown) {
  auto args = cli::Args::Parse(
      {"--min_severity", "red", "--format=json", "-o", "x.html", "--watch", "HEALTH-04"},
      {"min-severity", "format", "o"}, {"watch"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->GetOr("min-severity", ""), "red");
  EXPECT_EQ(args->GetOr("format", ""), "json");
  EXPECT_EQ(args->GetOr("o", ""), "x.html");
  EXPECT_TRUE(args->Has("watch"));
  EXPECT_THAT(args->positional(), ElementsAre("HEALTH-04"));
  EXPECT_FALSE(cli::Args::Parse({"--bogus"}, {}, {}).ok());
  EXPECT_FALSE(cli::Args::Parse({"--format"}, {"format"}, {}).ok());
  EXPECT_EQ(cli::ExitCodeFor(grpc::Status(grpc::StatusCode::UNAVAILABLE, "")), 3);
  EXPECT_EQ(cli::ExitCodeFor(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "")), 3);
  EXPECT_EQ(cli::ExitCodeFor(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "")), 1);
  EXPECT_EQ(cli::ExitCodeFor(grpc::Status::OK), 0);
}

}  // namespace
}  // namespace halfsky
