// halfskyctl validate / review / status --board on a real halfsky-submission
// process (its SubmissionService and ReviewService over one SQLite file),
// through the real halfskyctl binary: the form walks submit → return (the
// unit's `review list` shows the reason; its `--watch` receives the return)
// → resubmit → approve → `submit` of a value refused → unlock with a reason
// → correction; the board shows each state and 逾期; the children-sum rule
// needs a 情况说明.
#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/auth/token_store.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/review.grpc.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"

namespace halfsky {
namespace {

namespace v1 = ::halfsky::v1;
namespace ht = ::halfsky::testing;

constexpr char kHealth[] = "cli-health";
constexpr char kEdu[] = "cli-edu";
constexpr char kStats[] = "cli-stats";

std::string CatalogPath() {
  return std::string(HALFSKY_SOURCE_DIR) + "/tests/review/testdata/catalog.textproto";
}

class ReviewCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ht::MakeTempDir("review-cli");
    tokens_ = dir_ + "/tokens";
    ASSERT_TRUE(
        ht::WriteTextFile(
            tokens_, absl::StrCat(auth::HashToken(kHealth), " health-system unit:HEALTH_BUREAU\n",
                                  auth::HashToken(kEdu), " edu-system unit:EDU_BUREAU\n",
                                  auth::HashToken(kStats), " stats-bureau statistics\n"))
            .ok());
    // 2024's figures were due on 2024-12-31: two months late by this clock.
    absl::Status st = submission_.Start(
        dir_, "submission", ht::ServiceBinary("submission"), CatalogPath(), tokens_,
        {"--db=" + dir_ + "/sub.db", "--fake_now=2025-03-01T00:00:00+08:00"});
    ASSERT_TRUE(st.ok()) << st;
    auto channel = grpc::CreateChannel(submission_.address(), grpc::InsecureChannelCredentials());
    data_ = v1::SubmissionService::NewStub(channel);
    review_ = v1::ReviewService::NewStub(channel);
  }
  void TearDown() override {
    for (auto& w : watchers_) {
      w->Signal(SIGKILL);
      (void)w->Wait(absl::Seconds(5));
    }
    EXPECT_TRUE(submission_.Stop().ok());
  }

  ht::CommandResult Ctl(std::vector<std::string> args, const std::string& token) {
    std::vector<std::string> argv = {ht::ServiceBinary("halfskyctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--server", submission_.address(), "--token", token});
    absl::StatusOr<ht::CommandResult> r = ht::RunCommand(argv, CleanEnv(), absl::Seconds(60));
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
  static std::string Describe(const ht::CommandResult& r) {
    return absl::StrCat("exit ", r.exit_code, "\nstdout:\n", r.out, "\nstderr:\n", r.err);
  }

  // `halfskyctl review list --watch ARGS` in the background; its stdout
  // goes to the returned log file.
  std::string StartWatch(const std::string& name, const std::string& token,
                         std::vector<std::string> args = {}) {
    const std::string log = absl::StrCat(dir_, "/", name, ".out");
    std::vector<std::string> argv = {"/usr/bin/env"};
    for (const auto& [k, v] : CleanEnv()) {
      if (v.empty()) {
        argv.push_back("-u");
        argv.push_back(k);
      } else {
        argv.push_back(absl::StrCat(k, "=", v));
      }
    }
    argv.insert(argv.end(), {ht::ServiceBinary("halfskyctl"), "review", "list", "--watch"});
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--server", submission_.address(), "--token", token});
    auto child = ht::ChildProcess::Start(argv, log);
    EXPECT_TRUE(child.ok()) << child.status();
    if (child.ok()) watchers_.push_back(*std::move(child));
    return log;
  }
  // Waits up to 20 s for `needle` in `path`.
  static bool WaitFor(const std::string& path, const std::string& needle) {
    for (int i = 0; i < 200; ++i) {
      if (absl::StrContains(ht::ReadFile(path), needle)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  // A CSV for `halfskyctl submit`: HEALTH-07 2024 at the district.
  std::string Csv(const std::string& name, double total, double female, double male) {
    const std::string path = absl::StrCat(dir_, "/", name, ".csv");
    std::string text = "指标代码,区域代码,年份,性别,城乡,分子,分母,数值,数据来源,备注\n";
    for (auto [sex, v] : std::vector<std::pair<std::string, double>>{
             {"合计", total}, {"女", female}, {"男", male}}) {
      absl::StrAppend(&text, "HEALTH-07,610303,2024,", sex, ",全部,,,", v, ",妇幼卫生年报,\n");
    }
    EXPECT_TRUE(ht::WriteTextFile(path, text).ok());
    return path;
  }

  static v1::DataValue Count(const std::string& id, const std::string& area, double value) {
    v1::DataValue v;
    v.mutable_key()->set_indicator_id(id);
    v.mutable_key()->set_area_code(area);
    v.mutable_key()->set_year(2024);
    v.mutable_key()->set_sex(v1::SEX_TOTAL);
    v.mutable_key()->set_residence(v1::RESIDENCE_ALL);
    v.set_value(value);
    v.set_source("妇幼卫生年报");
    return v;
  }
  grpc::Status Write(std::vector<v1::DataValue> values, const std::string& token = kHealth) {
    v1::SubmitBatchRequest req;
    req.set_request_id(absl::StrCat("req-", ++request_));
    for (auto& v : values) *req.add_data_values() = std::move(v);
    v1::SubmitBatchResponse resp;
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    return data_->SubmitBatch(&ctx, req, &resp);
  }
  v1::GetReviewBoardResponse Board(int year, const std::string& token = kStats) {
    v1::GetReviewBoardRequest req;
    req.set_year(year);
    v1::GetReviewBoardResponse resp;
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    grpc::Status s = review_->GetReviewBoard(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }
  // The board's line of `unit` in `halfskyctl status --board` output.
  static std::string LineOf(const std::string& out, const std::string& unit) {
    for (absl::string_view line : absl::StrSplit(out, '\n')) {
      if (absl::StartsWith(line, unit)) return std::string(line);
    }
    return "";
  }

  std::string dir_;
  std::string tokens_;
  ht::ServiceProcess submission_;
  std::unique_ptr<v1::SubmissionService::Stub> data_;
  std::unique_ptr<v1::ReviewService::Stub> review_;
  std::vector<std::unique_ptr<ht::ChildProcess>> watchers_;
  int request_ = 0;
};

const std::vector<std::string> kForm = {"--unit", "HEALTH_BUREAU", "--year", "2024"};

std::vector<std::string> Args(std::vector<std::string> head,
                              const std::vector<std::string>& tail = kForm) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

TEST_F(ReviewCliTest, FormWalksSubmitReturnResubmitApproveLockUnlockCorrect) {
  // 女 40 + 男 70 against 合计 100: an ERROR rule broken.
  ht::CommandResult r = Ctl({"submit", Csv("wrong", 100, 40, 70)}, kHealth);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);

  // validate: every violation with rule, figures and field; exit 1.
  r = Ctl({"validate", "--year", "2024", "--unit", "HEALTH_BUREAU"}, kHealth);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.out, "重要性")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "builtin.sex_sum.HEALTH-07")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "HEALTH-07/610303/2024: female+male == total")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "女 40 + 男 70 = 110，不等于合计 100")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "错误 1 条")) << r.out;
  r = Ctl({"validate", "--year", "2024", "--unit", "HEALTH_BUREAU", "--format", "json"}, kHealth);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  v1::ValidateDataResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &parsed).ok()) << r.out;
  ASSERT_EQ(parsed.violations_size(), 1) << r.out;
  EXPECT_EQ(parsed.violations(0).left_value(), 110);
  EXPECT_EQ(parsed.violations(0).right_value(), 100);
  // Another unit's figures are not the Education bureau's to validate.
  r = Ctl({"validate", "--year", "2024", "--unit", "HEALTH_BUREAU"}, kEdu);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.err, "无权限")) << r.err;

  // 报送 refused with every violation in the field details and the reason.
  r = Ctl(Args({"review", "submit"}), kHealth);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.err, "VALIDATION_FAILED")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "HEALTH-07/610303/2024: female+male == total")) << r.err;

  // Corrected, then 报送.
  r = Ctl({"submit", Csv("right", 100, 40, 60)}, kHealth);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Ctl({"validate", "--year", "2024", "--unit", "HEALTH_BUREAU"}, kHealth);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.out, "逻辑审核通过")) << r.out;
  const std::string unit_watch = StartWatch("unit-watch", kHealth, {"--year", "2024"});
  const std::string edu_watch = StartWatch("edu-watch", kEdu);
  const std::string bureau_watch =
      StartWatch("bureau-watch", kStats, {"--format", "json", "--state", "all"});
  ASSERT_TRUE(WaitFor(unit_watch, "[已同步]")) << ht::ReadFile(unit_watch);
  ASSERT_TRUE(WaitFor(edu_watch, "[已同步]")) << ht::ReadFile(edu_watch);
  ASSERT_TRUE(WaitFor(bureau_watch, "FORM_WATCH_EVENT_TYPE_SYNCED")) << ht::ReadFile(bureau_watch);
  r = Ctl(Args({"review", "submit"}), kHealth);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.out, "已报送")) << r.out;
  // The bureau's queue.
  r = Ctl({"review", "list"}, kStats);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.out, "HEALTH_BUREAU 区卫生健康局")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "已报送")) << r.out;

  // Bad input changes nothing: an unknown unit names the field; usage errors
  // exit 2.
  r = Ctl({"review", "approve", "--unit", "NO_SUCH", "--year", "2024"}, kStats);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.err, "key.unit_code")) << r.err;
  EXPECT_EQ(Ctl({"review", "approve", "--year", "2024"}, kStats).exit_code, 2);
  EXPECT_EQ(Ctl({"review", "frobnicate", "--unit", "X", "--year", "2024"}, kStats).exit_code, 2);
  EXPECT_EQ(Ctl({"review", "list", "--state", "nonsense"}, kStats).exit_code, 2);
  EXPECT_EQ(Ctl({"validate", "--unit", "HEALTH_BUREAU"}, kStats).exit_code, 2);

  // 退回 needs a reason; a unit may not return.
  r = Ctl(Args({"review", "return"}), kStats);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  r = Ctl(Args({"review", "return", "--reason", "自己退回"}), kHealth);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.err, "无权限")) << r.err;
  r = Ctl(Args({"review", "return", "--reason", "女性检查人数与台账不符，请核实"}), kStats);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.out, "已退回")) << r.out;

  // The unit sees its returned form and the reason, in the list and live.
  r = Ctl({"review", "list"}, kHealth);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.out, "已退回")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "女性检查人数与台账不符，请核实")) << r.out;
  EXPECT_TRUE(WaitFor(unit_watch, "[变更] 退回")) << ht::ReadFile(unit_watch);
  EXPECT_TRUE(WaitFor(unit_watch, "原因：女性检查人数与台账不符，请核实"))
      << ht::ReadFile(unit_watch);
  EXPECT_TRUE(WaitFor(bureau_watch, "\"FORM_ACTION_RETURN\"")) << ht::ReadFile(bureau_watch);
  // Another unit sees none of it, and may not watch or list another's forms.
  r = Ctl({"review", "list", "--unit", "HEALTH_BUREAU"}, kEdu);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  r = Ctl({"review", "list", "--watch", "--unit", "HEALTH_BUREAU"}, kEdu);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.err, "无权限")) << r.err;

  // 再报送, 审核通过 (only the bureau).
  r = Ctl(Args({"review", "submit"}), kHealth);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  r = Ctl(Args({"review", "approve"}), kHealth);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  r = Ctl(Args({"review", "approve"}), kStats);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.out, "已审核")) << r.out;
  EXPECT_TRUE(WaitFor(unit_watch, "[变更] 审核通过")) << ht::ReadFile(unit_watch);

  // Locked: a value is refused, and so is another 报送.
  r = Ctl({"submit", Csv("locked", 100, 45, 55)}, kHealth);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.out + r.err, "数据已锁定")) << Describe(r);
  r = Ctl(Args({"review", "submit"}), kHealth);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.err, "FORM_STATE")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "已审核")) << r.err;

  // 解锁 needs a reason, then the correction goes in.
  r = Ctl(Args({"review", "unlock"}), kStats);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  r = Ctl(Args({"review", "unlock", "--reason", "卫健局申请更正女性人数"}), kStats);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.out, "填报中")) << r.out;
  r = Ctl({"submit", Csv("corrected", 100, 45, 55)}, kHealth);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);

  // The history: who, when, why.
  r = Ctl(Args({"review", "history"}), kHealth);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  for (const char* want : {"报送", "退回", "审核通过", "解锁", "女性检查人数与台账不符，请核实",
                           "卫健局申请更正女性人数", "health-system", "stats-bureau",
                           "已报送 → 已退回", "已审核 → 填报中"}) {
    EXPECT_TRUE(absl::StrContains(r.out, want)) << want << "\n" << r.out;
  }
  r = Ctl(Args({"review", "history", "--format", "json"}), kStats);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  v1::GetFormHistoryResponse history;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &history).ok()) << r.out;
  EXPECT_EQ(history.events_size(), 5);  // submit, return, submit, approve, unlock
  EXPECT_FALSE(absl::StrContains(ht::ReadFile(edu_watch), "HEALTH_BUREAU"))
      << ht::ReadFile(edu_watch);
}

TEST_F(ReviewCliTest, ChildrenSumWarningNeedsAnExplanation) {
  // Towns 60 + 30 against the district's own 100.
  ASSERT_TRUE(Write({Count("HEALTH-03", "610303", 100), Count("HEALTH-03", "610303001", 60),
                     Count("HEALTH-03", "610303100", 30), Count("HEALTH-07", "610303", 200)})
                  .ok());
  ht::CommandResult r =
      Ctl({"validate", "--year", "2024", "--unit", "HEALTH_BUREAU", "--area", "610303"}, kHealth);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);  // a WARNING alone
  EXPECT_TRUE(absl::StrContains(r.out, "builtin.children_sum.HEALTH-03.total.all")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "下级合计 90 与本级 100 不一致")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "提示 1 条")) << r.out;
  // The whole year, as the bureau: the same violation.
  r = Ctl({"validate", "--year", "2024"}, kStats);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.out, "下级合计 90 与本级 100 不一致")) << r.out;
  r = Ctl(Args({"review", "submit"}), kHealth);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.err, "EXPLANATION_REQUIRED")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "下级合计 90 与本级 100 不一致")) << r.err;
  r = Ctl(Args({"review", "submit", "--explanation", "陈仓镇有一所机构未纳入镇级统计"}), kHealth);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.out, "情况说明：陈仓镇有一所机构未纳入镇级统计")) << r.out;
  // Consistent towns: no warning.
  ASSERT_TRUE(Write({Count("HEALTH-03", "610303100", 40)}).ok());
  r = Ctl({"validate", "--year", "2024", "--unit", "HEALTH_BUREAU", "--area", "610303"}, kHealth);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.out, "逻辑审核通过")) << r.out;
}

TEST_F(ReviewCliTest, BoardShowsEachStateAndOverdue) {
  ASSERT_TRUE(Write({Count("HEALTH-07", "610303", 100)}).ok());
  // Nothing moved: both units' 2024 forms are drafts past the deadline.
  ht::CommandResult r = Ctl({"status", "--year", "2024", "--board"}, kStats);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  for (const char* h : {"单位", "应报", "已报", "报表状态", "截止日期", "逾期"}) {
    EXPECT_TRUE(absl::StrContains(r.out, h)) << h << "\n" << r.out;
  }
  std::string health = LineOf(r.out, "HEALTH_BUREAU");
  EXPECT_TRUE(absl::StrContains(health, "填报中")) << r.out;
  EXPECT_TRUE(absl::StrContains(health, "逾期")) << r.out;
  EXPECT_TRUE(absl::StrContains(health, "2024-12-31")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "逾期 2 个")) << r.out;
  v1::GetReviewBoardResponse board = Board(2024);
  ASSERT_EQ(board.rows_size(), 2);
  EXPECT_EQ(board.rows(0).unit_code(), "HEALTH_BUREAU");
  EXPECT_EQ(board.rows(0).expected_count(), 6);  // HEALTH-01..05, 07
  EXPECT_EQ(board.rows(0).reported_count(), 1);  // HEALTH-07
  EXPECT_EQ(board.rows(1).expected_count(), 3);  // HEALTH-02, 05, 06
  EXPECT_EQ(board.rows(1).reported_count(), 0);
  EXPECT_TRUE(board.rows(0).overdue());
  // 2025 is not due yet by the service's clock: not overdue.
  EXPECT_FALSE(Board(2025).rows(0).overdue());

  // 已报送: not overdue; the Education bureau still is.
  ASSERT_EQ(Ctl(Args({"review", "submit"}), kHealth).exit_code, 0);
  r = Ctl({"status", "--year", "2024", "--board"}, kStats);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  health = LineOf(r.out, "HEALTH_BUREAU");
  EXPECT_TRUE(absl::StrContains(health, "已报送")) << r.out;
  EXPECT_FALSE(absl::StrContains(health, "逾期")) << r.out;
  EXPECT_TRUE(absl::StrContains(LineOf(r.out, "EDU_BUREAU"), "逾期")) << r.out;

  // 已退回 past the deadline: overdue again, with the reason.
  ASSERT_EQ(Ctl(Args({"review", "return", "--reason", "缺少宫颈癌筛查数据"}), kStats).exit_code, 0);
  r = Ctl({"status", "--year", "2024", "--board"}, kStats);
  health = LineOf(r.out, "HEALTH_BUREAU");
  EXPECT_TRUE(absl::StrContains(health, "已退回")) << r.out;
  EXPECT_TRUE(absl::StrContains(health, "逾期")) << r.out;
  EXPECT_TRUE(absl::StrContains(health, "缺少宫颈癌筛查数据")) << r.out;

  // 已审核 and 已报送: nobody overdue, exit 0; the unit sees only its row.
  ASSERT_EQ(Ctl(Args({"review", "submit"}), kHealth).exit_code, 0);
  ASSERT_EQ(Ctl(Args({"review", "approve"}), kStats).exit_code, 0);
  ASSERT_EQ(Ctl({"review", "submit", "--unit", "EDU_BUREAU", "--year", "2024"}, kEdu).exit_code, 0);
  r = Ctl({"status", "--year", "2024", "--board"}, kStats);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(absl::StrContains(LineOf(r.out, "HEALTH_BUREAU"), "已审核")) << r.out;
  EXPECT_TRUE(absl::StrContains(LineOf(r.out, "EDU_BUREAU"), "已报送")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "逾期 0 个")) << r.out;
  r = Ctl({"status", "--year", "2024", "--board"}, kEdu);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(LineOf(r.out, "HEALTH_BUREAU").empty()) << r.out;
  EXPECT_FALSE(LineOf(r.out, "EDU_BUREAU").empty()) << r.out;
  // Bad input: a year outside the plan is INVALID_ARGUMENT naming the field.
  r = Ctl({"status", "--year", "1999", "--board"}, kStats);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(absl::StrContains(r.err, "- year:")) << r.err;
  // `status` without --board prints the board before the details.
  r = Ctl({"status", "--year", "2024"}, kStats);
  EXPECT_TRUE(absl::StrContains(r.out, "报送审核看板")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "HEALTH-07")) << r.out;
}

}  // namespace
}  // namespace halfsky
