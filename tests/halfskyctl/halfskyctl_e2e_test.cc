// The whole product on the demo data, as people use it: real redis-server,
// halfsky-submission, halfsky-aggregation and halfsky-evaluation child
// processes (tests/support/suite.h) and the real halfskyctl binary run as a
// child process for every step, its stdout, stderr and exit code checked.
//
// The evaluation and submission services run with a fake clock of
// 2025-03-01 (Beijing time): 2024 data are due (default due date 31
// December), 2025 data are not yet — so the demo's one late unit is the only
// late one whatever the real date is.
//
// deploy/demo/README.md promises which indicator shows which status and
// warning kind; kDemoPromises below is that table, and the test fails for
// each promise the live suite does not keep, and for any warning the README
// does not announce ("nothing warns by accident").
#include <glob.h>
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/auth/credentials.h"
#include "common/auth/token_store.h"
#include "common/labels/labels.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"

namespace halfsky {
namespace {

namespace ht = ::halfsky::testing;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kStatisticsToken[] = "e2e-statistics-token";
constexpr char kAssessmentToken[] = "e2e-assessment-token";
// Each member unit's system has its own token: "e2e-unit-" + unit code.
constexpr char kHealthUnitToken[] = "e2e-unit-HEALTH";
constexpr char kServiceToken[] = "e2e-service-token";
constexpr char kFakeNow[] = "2025-03-01T00:00:00+08:00";
constexpr char kDistrict[] = "610303";

std::string SourcePath(const std::string& relative) {
  return absl::StrCat(HALFSKY_SOURCE_DIR, "/", relative);
}

std::vector<std::string> Glob(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      out.push_back(g.gl_pathv[i]);
    }
  }
  globfree(&g);
  std::sort(out.begin(), out.end());
  return out;
}

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::vector<std::string> DemoCsvs() { return Glob(SourcePath("deploy/demo/demo-synthetic-*.csv")); }

// deploy/demo/demo-synthetic-HEALTH.csv → HEALTH.
std::string UnitOfDemoCsv(const std::string& path) {
  const std::string base = Basename(path);
  absl::string_view name = base;
  absl::ConsumePrefix(&name, "demo-synthetic-");
  absl::ConsumeSuffix(&name, ".csv");
  return std::string(name);
}

// RFC 4180 records (quoted fields may hold commas, quotes and newlines).
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  bool any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
        ++i;
      }
      if (any || !field.empty()) {
        row.push_back(field);
        rows.push_back(row);
      }
      row.clear();
      field.clear();
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (any || !field.empty()) {
    row.push_back(field);
    rows.push_back(row);
  }
  return rows;
}

// CSV rows as maps keyed by the header.
std::vector<std::map<std::string, std::string>> CsvRecords(const std::string& text) {
  std::vector<std::vector<std::string>> rows = ParseCsv(text);
  std::vector<std::map<std::string, std::string>> out;
  if (rows.empty()) {
    return out;
  }
  for (size_t r = 1; r < rows.size(); ++r) {
    std::map<std::string, std::string> m;
    for (size_t c = 0; c < rows[0].size() && c < rows[r].size(); ++c) {
      m[rows[0][c]] = rows[r][c];
    }
    out.push_back(std::move(m));
  }
  return out;
}

// What deploy/demo/README.md promises for one indicator: a headline status
// of some target's assessment in the annual report, and/or a firing warning
// of a kind (and severity, "" = any).
struct Promise {
  const char* indicator;
  const char* status;    // StatusToken, "" = not promised
  const char* kind;      // KindToken, "" = no warning promised
  const char* severity;  // SeverityToken, "" = any
};

constexpr Promise kDemoPromises[] = {
    {"HEALTH-05", "achieved", "", ""},
    {"HEALTH-06", "on_track", "", ""},
    {"HEALTH-08", "needs_acceleration", "progress", "yellow"},
    {"HEALTH-09", "at_risk", "progress", "orange"},
    {"HEALTH-11", "moving_away", "progress", "red"},
    // Rare events (pooled 3-year rates, Poisson interval), moving away.
    {"HEALTH-04", "moving_away", "progress", "red"},
    {"HEALTH-07", "", "fluctuation", ""},
    {"HEALTH-17", "", "rule_broken", ""},
    {"EDUCATION-05", "", "rule_broken", ""},
    {"ECONOMY-02", "", "out_of_band", ""},
    {"HEALTH-03", "", "slipped", ""},
    {"DECISION-05", "", "late_data", "yellow"},  // 2 months late: yellow (orange from 90 days)
};

// The contract's tokens (common/labels), as halfskyctl prints them.
std::string KindToken(v1::WarningKind kind) {
  const std::string& token = labels::Token(kind);
  return token.empty() ? "unspecified" : token;
}

std::string SeverityToken(v1::Severity s) { return labels::Token(s); }

std::string Describe(const ht::CommandResult& r) {
  return absl::StrCat("exit ", r.exit_code, "\n--- stdout ---\n", r.out, "\n--- stderr ---\n",
                      r.err);
}

class HalfskyctlEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ht::SuiteOptions options;
    options.catalog = SourcePath("deploy/catalog");
    options.tokens = absl::StrCat(auth::HashToken(kStatisticsToken), " stats statistics\n",
                                  auth::HashToken(kAssessmentToken), " alice assessment\n",
                                  auth::HashToken(kServiceToken), " halfsky-services service\n");
    for (const std::string& csv : DemoCsvs()) {
      const std::string unit = UnitOfDemoCsv(csv);
      // Principal names allow [A-Za-z0-9._@-]: HUMAN_RESOURCES → human-resources.
      std::string name = absl::AsciiStrToLower(unit);
      std::replace(name.begin(), name.end(), '_', '-');
      absl::StrAppend(&options.tokens, auth::HashToken(UnitToken(unit)), " ", name,
                      "-system unit:", unit, "\n");
    }
    options.service_token = kServiceToken;
    options.submission_flags = {absl::StrCat("--fake_now=", kFakeNow)};
    // No full pass after start-up (an hour apart), as the demo never waits
    // for one: every warning comes from the reaction to the uploads, and
    // late data from its own check (every 2 s here, 15 s by default). With
    // full passes every second a late-data warning that outlived its data
    // (narratives publish no update message) went unnoticed here.
    options.evaluation_flags = {absl::StrCat("--fake_now=", kFakeNow), "--reevaluate_interval=1h",
                                "--late_data_interval=2s"};
    auto suite = ht::Suite::Start(options);
    ASSERT_TRUE(suite.ok()) << suite.status();
    suite_ = std::move(*suite);
  }

  void TearDown() override {
    if (suite_ != nullptr) {
      absl::Status st = suite_->Stop();
      EXPECT_TRUE(st.ok()) << st;
    }
  }

  static std::string UnitToken(const std::string& unit) { return "e2e-unit-" + unit; }

  // halfskyctl ARGS --server SERVER --token TOKEN, with no HALFSKY_*
  // variable of the caller's environment leaking in.
  ht::CommandResult Ctl(std::vector<std::string> args, const std::string& server,
                        const std::string& token, absl::Duration timeout = absl::Seconds(60)) {
    std::vector<std::string> argv = {ht::ServiceBinary("halfskyctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--server", server});
    if (!token.empty()) {
      argv.insert(argv.end(), {"--token", token});
    }
    absl::StatusOr<ht::CommandResult> r = ht::RunCommand(argv, CleanEnv(), timeout);
    if (!r.ok()) {
      ADD_FAILURE() << absl::StrJoin(argv, " ") << ": " << r.status();
      return {};
    }
    return *r;
  }

  static std::map<std::string, std::string> CleanEnv() {
    return {{"HALFSKY_SERVER", ""},     {"HALFSKY_TOKEN", ""},       {"HALFSKY_TLS_CA", ""},
            {"HALFSKY_SUBMISSION", ""}, {"HALFSKY_AGGREGATION", ""}, {"HALFSKY_EVALUATION", ""},
            {"NO_COLOR", "1"}};
  }

  // `warnings --format json` (firing), parsed.
  v1::ListWarningsResponse Warnings(const std::vector<std::string>& filters = {}) {
    std::vector<std::string> args = {"warnings", "--format", "json"};
    args.insert(args.end(), filters.begin(), filters.end());
    ht::CommandResult r = Ctl(args, suite_->evaluation().address(), kAssessmentToken);
    // Exit 1 = some warning matches, 0 = none.
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << Describe(r);
    v1::ListWarningsResponse response;
    auto st = google::protobuf::util::JsonStringToMessage(r.out, &response);
    EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << Describe(r);
    return response;
  }

  // A summary of the firing set that changes when any warning does.
  static std::string Fingerprint(const v1::ListWarningsResponse& response) {
    std::vector<std::string> parts;
    for (const auto& w : response.warnings()) {
      parts.push_back(absl::StrCat(w.id(), "/", w.severity(), "/", w.status(), "/",
                                   w.figures().current_value(), "/", w.data_year()));
    }
    std::sort(parts.begin(), parts.end());
    return absl::StrJoin(parts, "\n");
  }

  // Polls `warnings --format json` until evaluation has caught up with every
  // submission: no late-data warning remains for an indicator the demo
  // reported, and two snapshots taken more than a full-pass interval apart
  // agree. Returns the last snapshot.
  v1::ListWarningsResponse WaitForStableWarnings(const std::set<std::string>& late_allowed) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    std::string previous;
    v1::ListWarningsResponse response;
    while (absl::Now() < deadline) {
      response = Warnings();
      bool late_settled = true;
      for (const auto& w : response.warnings()) {
        if (w.kind() == v1::WARNING_KIND_LATE_DATA) {
          for (const std::string& id : w.missing_indicator_ids()) {
            if (late_allowed.count(id) == 0) {
              late_settled = false;
            }
          }
        }
      }
      const std::string now = Fingerprint(response);
      if (late_settled && now == previous) {
        return response;
      }
      previous = now;
      absl::SleepFor(absl::Milliseconds(1500));
    }
    ADD_FAILURE() << "the warnings did not settle within 60 s; last set:\n"
                  << previous << "\nevaluation log:\n"
                  << suite_->evaluation().log();
    return response;
  }

  std::unique_ptr<ht::Suite> suite_;
};

// Every file of deploy/demo is what deploy/demo/generate.sh writes today
// (the generator is deterministic and the committed CSVs are not stale).
TEST(DemoDataTest, CommittedCsvsAreWhatTheGeneratorWrites) {
  const std::string out = ht::MakeTempDir("demo-generate");
  absl::StatusOr<ht::CommandResult> r = ht::RunCommand(
      {"/bin/bash", SourcePath("deploy/demo/generate.sh"), SourcePath("deploy/catalog"), out});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << Describe(*r);
  const std::vector<std::string> generated = Glob(out + "/demo-synthetic-*.csv");
  const std::vector<std::string> committed = DemoCsvs();
  ASSERT_FALSE(committed.empty());
  ASSERT_EQ(generated.size(), committed.size());
  for (size_t i = 0; i < generated.size(); ++i) {
    EXPECT_EQ(Basename(generated[i]), Basename(committed[i]));
    EXPECT_EQ(ht::ReadFile(generated[i]), ht::ReadFile(committed[i]))
        << committed[i] << " is stale: run deploy/demo/generate.sh";
  }
}

TEST_F(HalfskyctlEndToEndTest, DemoDataThroughTheWholeProduct) {
  const std::string& submission = suite_->submission().address();
  const std::string& aggregation = suite_->aggregation().address();
  const std::string& evaluation = suite_->evaluation().address();
  const std::string dir = suite_->dir();

  // 1. Every member unit submits its demo CSV with its own token (what a
  // unit reports counts for its 报送率; statistics uploads count for no
  // unit).
  const std::vector<std::string> csvs = DemoCsvs();
  ASSERT_GE(csvs.size(), 10u);
  std::set<std::string> reported;  // indicators with at least one row
  for (const std::string& csv : csvs) {
    ht::CommandResult r = Ctl({"submit", csv}, submission, UnitToken(UnitOfDemoCsv(csv)));
    ASSERT_EQ(r.exit_code, 0) << csv << "\n" << Describe(r);
    EXPECT_THAT(r.out, HasSubstr("submitted")) << Describe(r);
    for (const auto& row : CsvRecords(ht::ReadFile(csv))) {
      reported.insert(row.at("指标代码"));
    }
  }

  // 2. Wait for evaluation; then every promise of deploy/demo/README.md.
  const v1::ListWarningsResponse warnings = WaitForStableWarnings({"DECISION-05"});
  // A late-data warning is one per unit and year (issue #12) and lists its
  // overdue indicators: it counts for each of them.
  auto indicators_of = [](const v1::Warning& w) {
    return w.kind() == v1::WARNING_KIND_LATE_DATA
               ? std::vector<std::string>(w.missing_indicator_ids().begin(),
                                          w.missing_indicator_ids().end())
               : std::vector<std::string>{w.indicator_id()};
  };
  std::map<std::string, std::vector<const v1::Warning*>> by_indicator;
  for (const auto& w : warnings.warnings()) {
    for (const std::string& id : indicators_of(w)) {
      by_indicator[id].push_back(&w);
    }
  }

  ht::CommandResult report_csv =
      Ctl({"report", "annual", "--year", "2024", "--format", "csv", "--aggregation", aggregation},
          evaluation, kAssessmentToken);
  ASSERT_EQ(report_csv.exit_code, 0) << Describe(report_csv);
  std::map<std::string, std::set<std::string>> statuses;  // indicator → assessment statuses
  std::set<std::string> charted;                          // indicators with yearly points
  for (const auto& rec : CsvRecords(report_csv.out)) {
    if (rec.at("record") == "assessment") {
      statuses[rec.at("indicator_id")].insert(rec.at("status"));
    } else if (rec.at("record") == "point") {
      charted.insert(rec.at("indicator_id"));
    }
  }

  std::set<std::string> promised_warnings;  // "INDICATOR kind"
  for (const Promise& p : kDemoPromises) {
    SCOPED_TRACE(p.indicator);
    if (*p.status != '\0') {
      EXPECT_EQ(statuses[p.indicator].count(p.status), 1u)
          << p.indicator << " should show " << p.status
          << "; report statuses: " << absl::StrJoin(statuses[p.indicator], ",");
    }
    if (*p.kind != '\0') {
      promised_warnings.insert(absl::StrCat(p.indicator, " ", p.kind));
      bool found = false;
      std::vector<std::string> seen;
      for (const v1::Warning* w : by_indicator[p.indicator]) {
        seen.push_back(absl::StrCat(KindToken(w->kind()), "/", SeverityToken(w->severity())));
        if (KindToken(w->kind()) == p.kind &&
            (*p.severity == '\0' || SeverityToken(w->severity()) == p.severity)) {
          found = true;
        }
      }
      EXPECT_TRUE(found) << p.indicator << " should warn " << p.kind << " " << p.severity
                         << "; firing: " << absl::StrJoin(seen, ", ");
    }
  }
  // Nothing warns by accident.
  for (const auto& w : warnings.warnings()) {
    for (const std::string& id : indicators_of(w)) {
      EXPECT_EQ(promised_warnings.count(absl::StrCat(id, " ", KindToken(w.kind()))), 1u)
          << "unannounced warning " << w.id() << " (" << SeverityToken(w.severity())
          << "): " << w.explanation_zh();
    }
  }
  // The late unit is named.
  for (const v1::Warning* w : by_indicator["DECISION-05"]) {
    if (w->kind() == v1::WARNING_KIND_LATE_DATA) {
      EXPECT_THAT(w->responsible_unit_codes(), ::testing::ElementsAre("PEOPLES_CONGRESS"));
      EXPECT_EQ(w->unit_code(), "PEOPLES_CONGRESS");
      EXPECT_THAT(w->missing_indicator_ids(), ::testing::ElementsAre("DECISION-05"));
      EXPECT_EQ(w->data_year(), 2024);
    }
  }

  // `warnings --indicator DECISION-05` passes the indicator to ListWarnings,
  // which finds the unit's late-data warning listing it; the table shows the
  // unit by its Chinese name with the missing indicator and days overdue,
  // never an empty indicator.
  {
    const v1::ListWarningsResponse listed =
        Warnings({"--indicator", "DECISION-05", "--kind", "late_data"});
    ASSERT_GE(listed.warnings_size(), 1);
    for (const auto& w : listed.warnings()) {
      EXPECT_THAT(w.missing_indicator_ids(), ::testing::Contains("DECISION-05"));
    }
    ht::CommandResult table =
        Ctl({"warnings", "--indicator", "DECISION-05", "--kind", "late_data", "--no-color"},
            evaluation, kAssessmentToken);
    EXPECT_EQ(table.exit_code, 1) << Describe(table);
    EXPECT_THAT(table.out, HasSubstr("区人大常委会办公室 未报1项：DECISION-05 ")) << table.out;
    EXPECT_THAT(table.out, HasSubstr("逾期")) << table.out;
  }

  // HEALTH-04: rare events, pooled with a Poisson interval (Evaluate).
  {
    auto stub = v1::EvaluationService::NewStub(
        grpc::CreateChannel(evaluation, grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    auth::AddBearerToken(&ctx, kAssessmentToken);
    v1::EvaluateRequest request;
    request.set_indicator_id("HEALTH-04");
    v1::EvaluateResponse response;
    grpc::Status st = stub->Evaluate(&ctx, request, &response);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_GT(response.assessments_size(), 0);
    const v1::Figures& f = response.assessments(0).figures();
    EXPECT_TRUE(f.few_events()) << response.DebugString();
    EXPECT_TRUE(f.has_interval()) << response.DebugString();
    EXPECT_LT(f.interval().lower(), f.interval().upper());
  }

  // 3. series: the district's 2024 value of a rate indicator is Σnum/Σden ×
  // multiplier of what the CSV submitted (HEALTH-04, per 100 000).
  {
    double num = 0;
    double den = 0;
    for (const auto& row :
         CsvRecords(ht::ReadFile(SourcePath("deploy/demo/demo-synthetic-HEALTH.csv")))) {
      if (row.at("指标代码") == "HEALTH-04" && row.at("年份") == "2024" &&
          row.at("区域代码") == kDistrict) {
        double n = 0;
        double d = 0;
        ASSERT_TRUE(absl::SimpleAtod(row.at("分子"), &n));
        ASSERT_TRUE(absl::SimpleAtod(row.at("分母"), &d));
        num += n;
        den += d;
      }
    }
    ASSERT_GT(den, 0);
    const double expected = num / den * 100000.0;
    ht::CommandResult table = Ctl({"series", "HEALTH-04"}, aggregation, kStatisticsToken);
    ASSERT_EQ(table.exit_code, 0) << Describe(table);
    const std::string figure = absl::StrFormat("%.2f", expected);  // e.g. 20.99
    bool row_found = false;
    for (absl::string_view line : absl::StrSplit(table.out, '\n')) {
      if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), "2024")) {
        row_found = true;
        EXPECT_THAT(std::string(line), HasSubstr(figure)) << table.out;
        EXPECT_THAT(std::string(line), HasSubstr(absl::StrCat(" ", num, " "))) << table.out;
        EXPECT_THAT(std::string(line), HasSubstr(absl::StrCat(den))) << table.out;
      }
    }
    EXPECT_TRUE(row_found) << table.out;
    EXPECT_THAT(table.out, HasSubstr("孕产妇死亡率")) << table.out;
    ht::CommandResult json =
        Ctl({"series", "HEALTH-04", "--format", "json"}, aggregation, kStatisticsToken);
    ASSERT_EQ(json.exit_code, 0) << Describe(json);
    v1::GetSeriesResponse series;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &series).ok()) << json.out;
    bool year_found = false;
    for (const auto& p : series.points()) {
      if (p.year() == 2024) {
        year_found = true;
        EXPECT_NEAR(p.value(), expected, 1e-9 * expected);
      }
    }
    EXPECT_TRUE(year_found) << json.out;
  }

  // 4. status: the People's Congress office has not reported DECISION-05
  // for 2024.
  {
    ht::CommandResult r = Ctl({"status", "--year", "2024"}, submission, kStatisticsToken);
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_THAT(r.out, HasSubstr("区人大常委会办公室")) << r.out;
    bool line_found = false;
    for (absl::string_view line : absl::StrSplit(r.out, '\n')) {
      if (absl::StrContains(line, "DECISION-05")) {
        line_found = true;
        EXPECT_THAT(std::string(line), HasSubstr("区人大常委会办公室"));
        EXPECT_TRUE(absl::StrContains(line, "未报") || absl::StrContains(line, "迟报")) << line;
      }
    }
    EXPECT_TRUE(line_found) << r.out;
  }

  // 5. ack: the assessment group may, a member unit may not.
  {
    std::string id;
    for (const v1::Warning* w : by_indicator["HEALTH-09"]) {
      id = w->id();
    }
    ASSERT_FALSE(id.empty());
    ht::CommandResult refused =
        Ctl({"ack", id, "--note", "单位无权确认"}, evaluation, kHealthUnitToken);
    EXPECT_EQ(refused.exit_code, 1) << Describe(refused);
    EXPECT_THAT(refused.err, HasSubstr("permission denied")) << Describe(refused);
    ht::CommandResult ok =
        Ctl({"ack", id, "--note", "开展高效宫颈癌筛查专项行动"}, evaluation, kAssessmentToken);
    ASSERT_EQ(ok.exit_code, 0) << Describe(ok);
    EXPECT_THAT(ok.out, HasSubstr(id));
    v1::ListWarningsResponse acked = Warnings({"--indicator", "HEALTH-09"});
    ASSERT_EQ(acked.warnings_size(), 1);
    EXPECT_EQ(acked.warnings(0).acknowledgement().by(), "alice");
    EXPECT_EQ(acked.warnings(0).acknowledgement().note(), "开展高效宫颈癌筛查专项行动");
  }

  // 6. report: one chart per indicator with data; export: SDMX-CSV.
  {
    const std::string html_path = dir + "/report-2024.html";
    ht::CommandResult r = Ctl({"report", "annual", "--year", "2024", "-o", html_path, "--banner",
                               "示例数据（合成）", "--aggregation", aggregation},
                              evaluation, kAssessmentToken);
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    const std::string html = ht::ReadFile(html_path);
    ASSERT_FALSE(html.empty());
    size_t charts = 0;
    for (size_t pos = html.find("<svg class=\"chart\""); pos != std::string::npos;
         pos = html.find("<svg class=\"chart\"", pos + 1)) {
      ++charts;
    }
    EXPECT_EQ(charts, charted.size());
    size_t numeric_reported = 0;
    for (const std::string& id : charted) {
      numeric_reported += reported.count(id);
    }
    EXPECT_EQ(numeric_reported, charted.size())
        << "a chart for an indicator the demo did not report";
    EXPECT_GE(charts, 50u) << "expected a chart for each numeric demo indicator";
    for (const Promise& p : kDemoPromises) {
      if (std::string(p.indicator) != "DECISION-05") {
        EXPECT_EQ(charted.count(p.indicator), 1u) << p.indicator << " has no chart";
      }
    }
    EXPECT_THAT(html, HasSubstr("示例数据（合成）"));
    EXPECT_THAT(html, HasSubstr("金台区"));

    // The statistical compendium (issue #16 item 4): the same call as the
    // HTML report with --format xlsx, both parsed by
    // tests/halfskyctl/xlsx/check_compendium.py (html.parser, openpyxl) and
    // their figures compared; one sheet per domain of the catalog.
    // Formula injection (item 3): an acknowledgement note that is a formula
    // reaches the report's xlsx as a text cell and `warnings --format csv`
    // with a leading apostrophe.
    const std::string injected = "=HYPERLINK(\"http://example.invalid\",\"详情\")";
    {
      std::string other;
      for (const auto& w : warnings.warnings()) {
        if (w.indicator_id() != "HEALTH-09" && w.indicator_id() != "HEALTH-11" &&
            !w.indicator_id().empty()) {
          other = w.id();
          break;
        }
      }
      ASSERT_FALSE(other.empty());
      ht::CommandResult ack = Ctl({"ack", other, "--note", injected}, evaluation, kAssessmentToken);
      ASSERT_EQ(ack.exit_code, 0) << Describe(ack);
      ht::CommandResult csv = Ctl({"warnings", "--format", "csv"}, evaluation, kAssessmentToken);
      ASSERT_EQ(csv.exit_code, 1) << Describe(csv);  // 1: there are warnings
      EXPECT_THAT(csv.out,
                  HasSubstr(",\"'=HYPERLINK(\"\"http://example.invalid\"\",\"\"详情\"\")\""))
          << csv.out.substr(0, 2000);
      EXPECT_THAT(csv.out, Not(HasSubstr(",\"=HYPERLINK("))) << csv.out.substr(0, 2000);
    }
    const std::string html2_path = dir + "/report-2024-2.html";
    const std::string xlsx_path = dir + "/report-2024.xlsx";
    for (const std::string& path : {html2_path, xlsx_path}) {
      ht::CommandResult x = Ctl({"report", "annual", "--year", "2024", "-o", path, "--banner",
                                 "示例数据（合成）", "--aggregation", aggregation},
                                evaluation, kAssessmentToken);
      ASSERT_EQ(x.exit_code, 0) << Describe(x);
    }
    absl::StatusOr<ht::CommandResult> compared =
        ht::RunCommand({"/usr/bin/python3", SourcePath("tests/halfskyctl/xlsx/check_compendium.py"),
                        html2_path, xlsx_path, "8"},
                       {}, absl::Seconds(120));
    ASSERT_TRUE(compared.ok()) << compared.status();
    EXPECT_EQ(compared->exit_code, 0) << Describe(*compared);
    EXPECT_THAT(compared->out, HasSubstr("OK")) << Describe(*compared);
    absl::StatusOr<ht::CommandResult> text_cell =
        ht::RunCommand({"/usr/bin/python3", SourcePath("tests/halfskyctl/xlsx/check_text_cells.py"),
                        xlsx_path, "总体情况", absl::StrCat(injected, "（alice）")},
                       {}, absl::Seconds(60));
    ASSERT_TRUE(text_cell.ok()) << text_cell.status();
    EXPECT_EQ(text_cell->exit_code, 0) << Describe(*text_cell);

    // export --format xlsx: the aggregates, one sheet per domain, numbers
    // typed, as many rows as the CSV export.
    const std::string export_path = dir + "/export.xlsx";
    ht::CommandResult ex =
        Ctl({"export", "--format", "xlsx", "-o", export_path}, aggregation, kStatisticsToken);
    ASSERT_EQ(ex.exit_code, 0) << Describe(ex);
    ht::CommandResult ex_csv = Ctl({"export", "--format", "csv"}, aggregation, kStatisticsToken);
    ASSERT_EQ(ex_csv.exit_code, 0) << Describe(ex_csv);
    const size_t csv_rows = CsvRecords(ex_csv.out).size();
    absl::StatusOr<ht::CommandResult> exported =
        ht::RunCommand({"/usr/bin/python3", SourcePath("tests/halfskyctl/xlsx/check_export.py"),
                        export_path, absl::StrCat(csv_rows), "8"},
                       {}, absl::Seconds(120));
    ASSERT_TRUE(exported.ok()) << exported.status();
    EXPECT_EQ(exported->exit_code, 0) << Describe(*exported);

    ht::CommandResult sdmx = Ctl({"export", "--format", "sdmx-csv"}, aggregation, kStatisticsToken);
    ASSERT_EQ(sdmx.exit_code, 0) << Describe(sdmx);
    EXPECT_TRUE(absl::StartsWith(sdmx.out,
                                 "DATAFLOW,FREQ,INDICATOR,REF_AREA,SEX,URBANISATION,TIME_PERIOD,"
                                 "OBS_VALUE,UNIT_MEASURE,OBS_STATUS\n"))
        << sdmx.out.substr(0, 300);
    EXPECT_THAT(sdmx.out, HasSubstr("HEALTH-04")) << sdmx.out.substr(0, 300);
  }

  // 7. warnings --watch prints a line when a correction changes a warning:
  // the health bureau corrects HEALTH-11 for 2024 (3.4 → 1.5 %, below the
  // 2 % target), the red 逆向变化 warning resolves.
  {
    const std::string watch_log = dir + "/watch.out";
    auto watch = ht::ChildProcess::Start(
        {ht::ServiceBinary("halfskyctl"), "warnings", "--watch", "--indicator", "HEALTH-11",
         "--no-color", "--server", evaluation, "--token", kAssessmentToken},
        watch_log);
    ASSERT_TRUE(watch.ok()) << watch.status();
    const std::string separator = "以上为当前预警";
    absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline && !absl::StrContains(ht::ReadFile(watch_log), separator)) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    const std::string before = ht::ReadFile(watch_log);
    ASSERT_THAT(before, HasSubstr(separator));
    ASSERT_THAT(before, HasSubstr("HEALTH-11:610303:progress")) << before;

    const std::string correction = dir + "/correction.csv";
    ASSERT_TRUE(ht::WriteTextFile(correction,
                                  "指标代码,区域代码,年份,性别,城乡,分子,分母,数值,数据来源,备注\n"
                                  "HEALTH-11,610303,2024,合计,全部,15,1000,,示例数据（合成）,"
                                  "correction\n")
                    .ok());
    ht::CommandResult r = Ctl({"submit", correction}, submission, kHealthUnitToken);
    ASSERT_EQ(r.exit_code, 0) << Describe(r);

    std::string after;
    deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      after = ht::ReadFile(watch_log).substr(before.size());
      if (absl::StrContains(after, "HEALTH-11:610303:progress")) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    EXPECT_THAT(after, HasSubstr("HEALTH-11:610303:progress")) << ht::ReadFile(watch_log);
    EXPECT_THAT(after, HasSubstr("解除")) << after;
    EXPECT_TRUE((*watch)->Running()) << "the watch should still be running";
    (*watch)->Signal(SIGTERM);
    (void)(*watch)->Wait(absl::Seconds(5));
  }
}

// Exit codes: a bad CSV names its line and exits 1 with nothing stored; an
// unreachable server exits 3.
TEST_F(HalfskyctlEndToEndTest, ExitCodes) {
  const std::string bad = suite_->dir() + "/bad.csv";
  ASSERT_TRUE(ht::WriteTextFile(bad,
                                "指标代码,区域代码,年份,性别,城乡,分子,分母,数值,数据来源,备注\n"
                                "HEALTH-05,610303,2024,合计,全部,984,1000,,示例数据（合成）,\n"
                                "NO-SUCH-99,610303,2024,合计,全部,,,5,示例数据（合成）,\n")
                  .ok());
  ht::CommandResult r = Ctl({"submit", bad}, suite_->submission().address(), kStatisticsToken);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("bad.csv:3:")) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("NO-SUCH-99")) << Describe(r);
  // The batch is all or nothing: line 2 was not stored either.
  ht::CommandResult series = Ctl({"series", "HEALTH-05", "--format", "json"},
                                 suite_->aggregation().address(), kStatisticsToken);
  EXPECT_EQ(series.exit_code, 0) << Describe(series);
  EXPECT_THAT(series.out, ::testing::Not(HasSubstr("2024"))) << series.out;

  // No server: exit 3. A command retries once (--max_attempts 2) and then
  // stops: one that fetches the catalog's names before its own call gives
  // up with the catalog instead of waiting as long again for its call.
  const std::string nowhere = absl::StrCat("127.0.0.1:", ht::FreePort());
  for (std::vector<std::string> args : {std::vector<std::string>{"submit", bad},
                                        {"warnings"},
                                        {"followup", "list"},
                                        {"review", "list"},
                                        {"series", "HEALTH-05"},
                                        {"status", "--year", "2024"},
                                        {"report", "annual", "--year", "2024"},
                                        {"ack", "HEALTH-09:610303:progress:2030", "--note", "x"},
                                        {"export", "--format", "sdmx-csv"}}) {
    args.insert(args.end(), {"--timeout", "3s", "--max_attempts", "2"});
    ht::CommandResult u = Ctl(args, nowhere, kStatisticsToken);
    EXPECT_EQ(u.exit_code, 3) << absl::StrJoin(args, " ") << "\n" << Describe(u);
    size_t retries = 0;
    for (size_t at = u.err.find("retrying in"); at != std::string::npos;
         at = u.err.find("retrying in", at + 1)) {
      ++retries;
    }
    EXPECT_LE(retries, 1u) << absl::StrJoin(args, " ") << "\n" << Describe(u);
  }
}

// Corrections happen (issue #12 item 6), through the real binary and
// processes: file A, then a wrong correction B, then A again leaves A's
// value, and each run reports what it wrote (never a replay as new writes).
// A CRLF file stores no carriage return (item 9).
TEST_F(HalfskyctlEndToEndTest, ResubmittingAFileCorrectsAndCrlfStoresNoCarriageReturn) {
  const std::string submission = suite_->submission().address();
  const std::string header = "指标代码,区域代码,年份,性别,城乡,分子,分母,数值,数据来源,备注\r\n";
  const std::string a = suite_->dir() + "/a.csv";
  const std::string b = suite_->dir() + "/b.csv";
  ASSERT_TRUE(
      ht::WriteTextFile(a, header + "HEALTH-11,610303,2023,合计,全部,10,1000,,妇幼年报,\r\n").ok());
  ASSERT_TRUE(
      ht::WriteTextFile(b, header + "HEALTH-11,610303,2023,合计,全部,30,1000,,妇幼年报,\r\n").ok());
  ht::CommandResult first = Ctl({"submit", a}, submission, kHealthUnitToken);
  ASSERT_EQ(first.exit_code, 0) << Describe(first);
  EXPECT_THAT(first.out, HasSubstr("新增 1")) << first.out;
  ht::CommandResult wrong = Ctl({"submit", b}, submission, kHealthUnitToken);
  ASSERT_EQ(wrong.exit_code, 0) << Describe(wrong);
  EXPECT_THAT(wrong.out, HasSubstr("修订 1")) << wrong.out;
  ht::CommandResult again = Ctl({"submit", a}, submission, kHealthUnitToken);
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_THAT(again.out, HasSubstr("修订 1")) << again.out;
  EXPECT_THAT(again.out, ::testing::Not(HasSubstr("replayed"))) << again.out;

  ht::CommandResult history =
      Ctl({"history", "--indicator", "HEALTH-11", "--area", "610303", "--year", "2023"}, submission,
          kHealthUnitToken);
  ASSERT_EQ(history.exit_code, 0) << Describe(history);
  // Three revisions: A, B, then A again as the current value.
  EXPECT_THAT(history.out, HasSubstr("修订 revision 3")) << history.out;
  const size_t third = history.out.find("修订 revision 3");
  ASSERT_NE(third, std::string::npos);
  EXPECT_THAT(history.out.substr(third), HasSubstr("数值 value: 10/1000")) << history.out;
  EXPECT_THAT(history.out.substr(third), HasSubstr("来源 source: 妇幼年报\n")) << history.out;
  EXPECT_EQ(history.out.find('\r'), std::string::npos) << "a carriage return was stored";
}

}  // namespace
}  // namespace halfsky
