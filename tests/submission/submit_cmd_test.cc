// `halfskyctl submit` against a real in-process submission server.
#include "services/halfskyctl/submit/submit_cmd.h"

#include <fstream>
#include <sstream>

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
    args.insert(args.begin(), {"--server", server_->address(), "--token", token, "--no-progress"});
    return RunSubmitCommand(args, out_, err_);
  }
  int64_t Head() { return store_->HeadSequence(); }

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

TEST_F(SubmitCmdTest, UploadsThenReplaysOnRerun) {
  const std::string file = Write("good.csv", kGood);
  ASSERT_EQ(Run({"--chunk", "2", file}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("created 3"));
  EXPECT_THAT(out_.str(), HasSubstr("2 chunks"));
  EXPECT_EQ(Head(), 3);
  // Same file again (e.g. after an interruption): replayed, nothing rewritten.
  ASSERT_EQ(Run({"--chunk", "2", file}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("2 replayed"));
  EXPECT_EQ(Head(), 3);
}

TEST_F(SubmitCmdTest, ResumeStateSkipsAcknowledgedChunks) {
  const std::string file = Write("good.csv", kGood);
  const std::string state = dir_ + "/state";
  ASSERT_EQ(Run({"--chunk=1", "--resume-state", state, file}), 0) << err_.str();
  ASSERT_EQ(Run({"--chunk=1", "--resume-state", state, file}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("3 skipped"));
  EXPECT_EQ(Head(), 3);
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

TEST_F(SubmitCmdTest, PermissionDenied) {
  const std::string file =
      Write("edu.csv", "indicator_id,area_code,year,value,source\nHEALTH-06,610303,2021,1,x\n");
  EXPECT_EQ(Run({file}), 1);
  EXPECT_THAT(err_.str(), HasSubstr("HEALTH-06"));
}

}  // namespace
}  // namespace halfsky::submission
