// `halfskyctl submit` against a real in-process submission server.
#include "services/halfskyctl/submit/submit_cmd.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/server/server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/submission/service.h"
#include "services/submission/sqlite_store.h"
#include "tests/submission/test_util.h"
#include "tests/support/process.h"

namespace halfsky::submission {
namespace {

namespace v1 = ::halfsky::v1;
using ::testing::HasSubstr;
using ::testing::Not;

class SubmitCmdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = halfsky::testing::MakeTempDir("submit-cmd");
    catalog_ = testing::TestCatalog();
    SqliteSubmissionStore::Options o;
    o.path = dir_ + "/submission.db";
    o.clock = SystemClock::Default();
    store_ = std::move(*SqliteSubmissionStore::Open(o));
    service_ = std::make_unique<SubmissionServiceImpl>(
        catalog_, store_.get(), SystemClock::Default(), testing::TestAuthenticate);
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.metrics_listen = "";
    options.drain_delay = absl::ZeroDuration();
    server_ = std::move(*RunningServer::Start(options, catalog_, {service_.get()}));
  }
  void TearDown() override {
    service_->Shutdown();
    server_->Shutdown();
  }
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << content;
    return path;
  }
  int Run(std::vector<std::string> args, const std::string& token = "health-token") {
    out_.str("");
    err_.str("");
    args.insert(args.begin(), {"--server", server_->address(), "--token", token, "--no-progress",
                               "--state-dir", dir_ + "/state"});
    return RunSubmitCommand(args, out_, err_);
  }
  int64_t Head() { return store_->HeadSequence(); }
  // The upload journals in the state directory.
  std::vector<std::string> Journals() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_ + "/state", ec)) {
      if (absl::EndsWith(e.path().string(), ".journal")) {
        out.push_back(e.path().string());
      }
    }
    return out;
  }

  std::string dir_;
  std::shared_ptr<const CatalogIndex> catalog_;
  std::unique_ptr<SqliteSubmissionStore> store_;
  std::unique_ptr<SubmissionServiceImpl> service_;
  std::unique_ptr<RunningServer> server_;
  std::ostringstream out_, err_;
};

const char kGood[] =
    "\xEF\xBB\xBF指标代码,区域代码,年份,数值,数据来源\n"
    "HEALTH-03,610303,2021,1,部门统计\n"
    "HEALTH-03,610303,2022,2,部门统计\n"
    "HEALTH-03,610303,2023,3,部门统计\n";

// Issue #12 item 6: an upload that finished is done; the same file again is
// a new upload (new request ids) that writes again. (This test used to
// expect "2 replayed" here: the ids were the file's hash and chunk number,
// so a correction could never be undone by re-submitting the original.)
TEST_F(SubmitCmdTest, RerunAfterCompletionIsANewUpload) {
  const std::string file = Write("good.csv", kGood);
  ASSERT_EQ(Run({"--chunk", "2", file}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("created 3"));
  EXPECT_THAT(out_.str(), HasSubstr("2 chunks"));
  EXPECT_EQ(Head(), 3);
  ASSERT_EQ(Run({"--chunk", "2", file}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("created 0, revised 0, unchanged 3"));
  EXPECT_THAT(out_.str(), Not(HasSubstr("replayed")));
  EXPECT_EQ(Head(), 3);
  // The journal of a finished upload is gone.
  EXPECT_TRUE(Journals().empty());
}

// File A, then a wrong correction B, then A again: the store holds A.
TEST_F(SubmitCmdTest, CorrectionThenOriginalLeavesTheOriginal) {
  const std::string a = Write("a.csv", kGood);
  const std::string b = Write("b.csv",
                              "指标代码,区域代码,年份,数值,数据来源\n"
                              "HEALTH-03,610303,2021,10,部门统计\n"
                              "HEALTH-03,610303,2022,20,部门统计\n"
                              "HEALTH-03,610303,2023,30,部门统计\n");
  ASSERT_EQ(Run({"--chunk", "2", a}), 0) << err_.str();
  ASSERT_EQ(Run({"--chunk", "2", b}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("revised 3"));
  ASSERT_EQ(Run({"--chunk", "2", a}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("created 0, revised 3, unchanged 0"));
  EXPECT_THAT(out_.str(), Not(HasSubstr("replayed")));
  auto current = store_->ListCurrent({}, 0, 10);
  ASSERT_TRUE(current.ok());
  ASSERT_EQ(current->revisions.size(), 3u);
  std::vector<double> values;
  for (const auto& r : current->revisions) {
    values.push_back(r.data_value().value());
  }
  EXPECT_THAT(values, ::testing::UnorderedElementsAre(1, 2, 3));
  EXPECT_EQ(Head(), 9);
}

// Interrupted after one acknowledged chunk, then the same command again:
// it resumes (same upload id, acknowledged chunk skipped) and writes each
// value once.
TEST_F(SubmitCmdTest, InterruptedUploadResumesWritingNothingTwice) {
  const std::string file = Write("good.csv", kGood);
  EXPECT_EQ(Run({"--chunk=1", "--interrupt-after", "1", file}), 3);
  EXPECT_THAT(err_.str(), HasSubstr("1 of 3 chunks acknowledged"));
  EXPECT_EQ(Head(), 1);
  ASSERT_EQ(Journals().size(), 1u);
  ASSERT_EQ(Run({"--chunk=1", file}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("created 2, revised 0, unchanged 0"));
  EXPECT_THAT(out_.str(), HasSubstr("1 skipped"));
  EXPECT_EQ(Head(), 3);
  EXPECT_TRUE(Journals().empty());
}

// The acknowledgement of committed chunks was lost (the journal says 0):
// resuming resends them with the same ids, the server replays its stored
// replies, and the output says so instead of counting them as new.
TEST_F(SubmitCmdTest, LostAcknowledgementIsReportedAsReplayNotAsNewWrites) {
  const std::string file = Write("good.csv", kGood);
  EXPECT_EQ(Run({"--chunk=1", "--interrupt-after", "2", file}), 3);
  EXPECT_EQ(Head(), 2);
  const std::vector<std::string> journals = Journals();
  ASSERT_EQ(journals.size(), 1u);
  std::string journal = halfsky::testing::ReadFile(journals[0]);
  ASSERT_EQ(journal.back(), '\n');
  journal.replace(journal.rfind(' ') + 1, std::string::npos, "0\n");
  std::ofstream(journals[0], std::ios::trunc) << journal;
  ASSERT_EQ(Run({"--chunk=1", file}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("created 1, revised 0, unchanged 0"));
  EXPECT_THAT(out_.str(), HasSubstr("2 chunks replayed: 2 values"));
  EXPECT_THAT(out_.str(), HasSubstr("重放 2 块"));
  EXPECT_EQ(Head(), 3);
}

// --resume-state FILE names the journal itself.
TEST_F(SubmitCmdTest, ResumeStateNamesTheJournal) {
  const std::string file = Write("good.csv", kGood);
  const std::string state = dir_ + "/state-file";
  EXPECT_EQ(Run({"--chunk=1", "--resume-state", state, "--interrupt-after", "2", file}), 3);
  EXPECT_FALSE(halfsky::testing::ReadFile(state).empty());
  ASSERT_EQ(Run({"--chunk=1", "--resume-state", state, file}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("2 skipped"));
  EXPECT_EQ(Head(), 3);
  EXPECT_TRUE(halfsky::testing::ReadFile(state).empty());
}

// A bad row in the last chunk: every chunk is validated before any is
// written, so nothing is.
TEST_F(SubmitCmdTest, BadRowInALaterChunkWritesNothing) {
  const std::string file = Write("late.csv",
                                 "indicator_id,area_code,year,value,source\n"
                                 "HEALTH-03,610303,2021,1,x\n"
                                 "HEALTH-03,610303,2022,2,x\n"
                                 "HEALTH-03,610303,2019,3,x\n");
  EXPECT_EQ(Run({"--chunk=1", file}), 1);
  EXPECT_THAT(err_.str(), HasSubstr(file + ":4: key.year"));
  EXPECT_THAT(err_.str(), HasSubstr("nothing was uploaded"));
  EXPECT_EQ(Head(), 0);
}

// 1 000 bad rows: the server answers with the first violations and the
// count (not "received initial metadata size exceeds limit", no hang), and
// halfskyctl still shows CSV line numbers.
TEST_F(SubmitCmdTest, ThousandBadRowsShowLineNumbersAndTheCount) {
  std::string csv = "indicator_id,area_code,year,value,source\n";
  for (int i = 0; i < 1000; ++i) {
    absl::StrAppend(&csv, "HEALTH-03,610303,2019,", i, ",x\n");
  }
  const std::string file = Write("many.csv", csv);
  EXPECT_EQ(Run({file}), 1);
  EXPECT_THAT(err_.str(), HasSubstr(file + ":2: key.year"));
  EXPECT_THAT(err_.str(), HasSubstr(" of 1999 violations listed"));
  EXPECT_EQ(Head(), 0);
}

// A thousands separator without quotes never uploads 12 with source "345".
TEST_F(SubmitCmdTest, UnquotedThousandsSeparatorUploadsNothing) {
  const std::string file = Write("edu.csv",
                                 "指标代码,区域代码,年份,数值,数据来源\n"
                                 "HEALTH-03,610303,2023,12,345,教育统计年报\n");
  EXPECT_EQ(Run({file}), 1);
  EXPECT_THAT(err_.str(), HasSubstr("line 2, column 6"));
  EXPECT_THAT(err_.str(), HasSubstr("nothing was uploaded"));
  EXPECT_EQ(Head(), 0);
}

TEST_F(SubmitCmdTest, ServerErrorsPointAtCsvLines) {
  const std::string file = Write("bad.csv",
                                 "indicator_id,area_code,year,value,source\n"
                                 "HEALTH-03,610303,2021,1,x\n"
                                 "HEALTH-03,610303,2019,1,x\n"
                                 "HEALTH-03,610303,2022,-4,x\n");
  EXPECT_EQ(Run({file}), 1);
  EXPECT_THAT(err_.str(), HasSubstr(file + ":3: key.year"));
  EXPECT_THAT(err_.str(), HasSubstr(file + ":4: value"));
  EXPECT_EQ(Head(), 0);
}

TEST_F(SubmitCmdTest, DryRunWritesNothing) {
  const std::string file = Write("good.csv", kGood);
  EXPECT_EQ(Run({"--dry-run", file}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("dry run"));
  EXPECT_EQ(Head(), 0);
}

TEST_F(SubmitCmdTest, LocalParseErrorsUploadNothing) {
  const std::string file =
      Write("broken.csv", "indicator_id,area_code,year,value\nHEALTH-03,610303,abc,1\n");
  EXPECT_EQ(Run({file}), 1);
  EXPECT_THAT(err_.str(), HasSubstr("line 2"));
  EXPECT_EQ(Head(), 0);
}

// 填报单位 names whose narrative a row is: the statistics bureau uploads
// both units' narratives of one objective and year, which stay two values;
// a figure naming a unit is refused at its CSV line.
TEST_F(SubmitCmdTest, UnitColumnKeepsEachUnitsNarrative) {
  const std::string file =
      Write("narratives.csv",
            "指标代码,区域代码,年份,工作进展,自评,数据来源,填报单位\n"
            "HEALTH-05,610303,2024,卫健局的叙述,达标,工作总结,HEALTH_BUREAU\n"
            "HEALTH-05,610303,2024,教育局的叙述,基本达标,工作总结,EDU_BUREAU\n");
  ASSERT_EQ(Run({file}, "stats-token"), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("created 2"));
  auto current = store_->ListCurrent({}, 0, 10);
  ASSERT_TRUE(current.ok());
  ASSERT_EQ(current->revisions.size(), 2u);
  EXPECT_EQ(current->revisions[0].data_value().key().unit_code(), "HEALTH_BUREAU");
  EXPECT_EQ(current->revisions[1].data_value().key().unit_code(), "EDU_BUREAU");
  // A unit's own file may leave the column out.
  const std::string own = Write("own.csv",
                                "indicator_id,area_code,year,narrative,self_assessment,source\n"
                                "HEALTH-05,610303,2023,x,met,s\n");
  ASSERT_EQ(Run({own}), 0) << err_.str();
  const std::string bad = Write("bad.csv",
                                "indicator_id,area_code,year,value,source,unit_code\n"
                                "HEALTH-03,610303,2021,1,x,HEALTH_BUREAU\n");
  EXPECT_EQ(Run({bad}), 1);
  EXPECT_THAT(err_.str(), HasSubstr(bad + ":2: key.unit_code"));
  EXPECT_EQ(Head(), 3);
}

// 公布数 and 修改原因 reach the store: a published rate (no counts) as
// DataValue.published, the reason on the new revision; a row giving both
// counts and a published figure uploads nothing and names its cell.
TEST_F(SubmitCmdTest, PublishedRateAndReasonForChange) {
  const std::string first = Write("first.csv",
                                  "指标代码,区域代码,年份,分子,分母,公布数,数据来源\n"
                                  "HEALTH-01,610303,2024,,,13.2,统计年鉴\n"
                                  "HEALTH-02,610303,2024,50,100,,妇幼年报\n");
  ASSERT_EQ(Run({first}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("created 2"));
  const std::string fix = Write("fix.csv",
                                "indicator_id,area_code,year,published,source,change_reason\n"
                                "HEALTH-01,610303,2024,12.8,统计年鉴,\"年鉴勘误, 第3页\"\n");
  ASSERT_EQ(Run({fix}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("revised 1"));
  v1::DataKey key;
  key.set_indicator_id("HEALTH-01");
  key.set_area_code("610303");
  key.set_year(2024);
  key.set_sex(v1::SEX_TOTAL);
  key.set_residence(v1::RESIDENCE_ALL);
  auto history = store_->History(key);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 2u);
  const v1::Revision* latest = &(*history)[0];
  const v1::Revision* older = &(*history)[1];
  if (latest->revision() < older->revision()) {
    std::swap(latest, older);
  }
  ASSERT_EQ(latest->data_value().payload_case(), v1::DataValue::kPublished);
  EXPECT_DOUBLE_EQ(latest->data_value().published().value(), 12.8);
  EXPECT_EQ(latest->change_reason(), "年鉴勘误, 第3页");
  EXPECT_EQ(latest->data_value().change_reason(), "");  // never inside the value
  EXPECT_DOUBLE_EQ(older->data_value().published().value(), 13.2);
  EXPECT_EQ(older->change_reason(), "");

  const int64_t head = Head();
  const std::string both = Write("both.csv",
                                 "指标代码,区域代码,年份,分子,分母,公布数,数据来源\n"
                                 "HEALTH-02,610303,2023,50,100,,妇幼年报\n"
                                 "HEALTH-01,610303,2023,2,100,2.0,统计年鉴\n");
  EXPECT_EQ(Run({both}), 1) << out_.str() << err_.str();
  EXPECT_THAT(err_.str(), HasSubstr("line 3, column 6 (公布数)"));
  EXPECT_EQ(Head(), head);  // nothing written, the good row neither
  // A published figure on a COUNT is the server's refusal, naming the line.
  const std::string count = Write("count.csv",
                                  "indicator_id,area_code,year,published,source\n"
                                  "HEALTH-03,610303,2023,5,s\n");
  EXPECT_NE(Run({count}), 0);
  EXPECT_THAT(err_.str(), HasSubstr(count + ":2:"));
  EXPECT_EQ(Head(), head);
}

TEST_F(SubmitCmdTest, PermissionDenied) {
  const std::string file =
      Write("edu.csv", "indicator_id,area_code,year,value,source\nHEALTH-06,610303,2021,1,x\n");
  EXPECT_EQ(Run({file}), 1);
  EXPECT_THAT(err_.str(), HasSubstr("HEALTH-06"));
}

}  // namespace
}  // namespace halfsky::submission
