// halfskyctl retries by itself when the server says "busy" (issue #13):
// the real halfskyctl binary against a real halfsky-submission process
// whose per-principal rate limit is tiny (--rate_limit_per_second=1,
// --rate_limit_burst=1). An upload of three one-value chunks makes four
// calls (three dry runs, one stream) back to back: the limit refuses them
// with RESOURCE_EXHAUSTED + google.rpc.RetryInfo, the CLI says
// 「服务繁忙，N 秒后重试」 on stderr, waits, and succeeds; every value is
// written exactly once (one revision each). With --max_attempts 1 (no
// retries: the mechanism switched off) the same upload fails with the
// refusal and writes nothing.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/auth/token_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"

namespace halfsky {
namespace {

namespace ht = ::halfsky::testing;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kUnitToken[] = "retry-unit-HEALTH";

std::string Describe(const ht::CommandResult& r) {
  return absl::StrCat("exit ", r.exit_code, "\n--- stdout ---\n", r.out, "\n--- stderr ---\n",
                      r.err);
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

class SubmitRetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ht::MakeTempDir("submit-retry");
    const std::string tokens = dir_ + "/tokens";
    ASSERT_TRUE(ht::WriteTextFile(tokens, absl::StrCat(auth::HashToken(kUnitToken),
                                                       " health-system unit:HEALTH\n"))
                    .ok());
    absl::Status st = submission_.Start(
        dir_, "submission", ht::ServiceBinary("submission"),
        absl::StrCat(HALFSKY_SOURCE_DIR, "/deploy/catalog"), tokens,
        {"--db=" + dir_ + "/submission.db", "--fake_now=2025-03-01T00:00:00+08:00",
         "--rate_limit_per_second=1", "--rate_limit_burst=1"});
    ASSERT_TRUE(st.ok()) << st;
    csv_ = dir_ + "/three.csv";
    ASSERT_TRUE(ht::WriteTextFile(csv_,
                                  "指标代码,区域代码,年份,性别,城乡,分子,分母,数值,数据来源,备注\n"
                                  "HEALTH-11,610303,2021,合计,全部,7,1000,,妇幼年报,\n"
                                  "HEALTH-11,610303,2022,合计,全部,8,1000,,妇幼年报,\n"
                                  "HEALTH-11,610303,2023,合计,全部,9,1000,,妇幼年报,\n")
                    .ok());
  }
  void TearDown() override { EXPECT_TRUE(submission_.Stop().ok()); }

  ht::CommandResult Ctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {ht::ServiceBinary("halfskyctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--server", submission_.address(), "--token", kUnitToken});
    if (args[0] == "submit") {
      argv.insert(argv.end(), {"--state-dir", dir_ + "/state"});
    }
    absl::StatusOr<ht::CommandResult> r =
        ht::RunCommand(argv, {{"HALFSKY_SERVER", ""}, {"HALFSKY_TOKEN", ""}, {"NO_COLOR", "1"}},
                       absl::Seconds(120));
    if (!r.ok()) {
      ADD_FAILURE() << absl::StrJoin(argv, " ") << ": " << r.status();
      return {};
    }
    return *r;
  }

  // `history` of HEALTH-11 at 610303 for `year` (retrying itself too).
  ht::CommandResult History(int year) {
    return Ctl(
        {"history", "--indicator", "HEALTH-11", "--area", "610303", "--year", absl::StrCat(year)});
  }

  std::string dir_;
  std::string csv_;
  ht::ServiceProcess submission_;
};

TEST_F(SubmitRetryTest, BusyServerIsRetriedAfterItsDelayAndEveryValueIsWrittenOnce) {
  ht::CommandResult r = Ctl({"submit", csv_, "--chunk", "1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.err, AllOf(HasSubstr("服务繁忙，"), HasSubstr(" 秒后重试"),
                           HasSubstr("server busy (RESOURCE_EXHAUSTED), retrying in")))
      << Describe(r);
  EXPECT_THAT(r.out, AllOf(HasSubstr("新增 3"), HasSubstr("修订 0"), Not(HasSubstr("重放"))))
      << Describe(r);
  for (int year : {2021, 2022, 2023}) {
    absl::SleepFor(absl::Seconds(1));  // keep the check itself mostly under the limit
    ht::CommandResult h = History(year);
    ASSERT_EQ(h.exit_code, 0) << Describe(h);
    EXPECT_EQ(Count(h.out, "修订 revision "), 1) << year << "\n" << Describe(h);
    EXPECT_THAT(h.out, HasSubstr(absl::StrCat("数值 value: ", year - 2014, "/1000"))) << h.out;
  }
}

TEST_F(SubmitRetryTest, WithoutRetriesTheRefusalIsReportedAndNothingIsWritten) {
  ht::CommandResult r = Ctl({"submit", csv_, "--chunk", "1", "--max_attempts", "1"});
  EXPECT_NE(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.err, AllOf(HasSubstr("调用过于频繁"), HasSubstr("未上传任何数据"),
                           Not(HasSubstr("秒后重试"))))
      << Describe(r);
  absl::SleepFor(absl::Seconds(2));
  for (int year : {2021, 2022, 2023}) {
    absl::SleepFor(absl::Seconds(1));
    ht::CommandResult h = History(year);
    ASSERT_EQ(h.exit_code, 0) << Describe(h);
    EXPECT_THAT(h.out, HasSubstr("没有记录 / no revisions")) << year << "\n" << Describe(h);
  }
}

TEST_F(SubmitRetryTest, BadMaxAttemptsIsAUsageError) {
  ht::CommandResult r = Ctl({"history", "--indicator", "HEALTH-11", "--area", "610303", "--year",
                             "2021", "--max_attempts", "0"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("--max_attempts")) << Describe(r);
}

}  // namespace
}  // namespace halfsky
