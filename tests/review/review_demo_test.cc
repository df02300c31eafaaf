// The demo (deploy/demo/load.sh, what deploy/local/run.sh --demo loads) on
// a real halfsky-submission with the product catalog and one token per
// member unit: every unit's 2024 form ends 已审核 except the People's
// Congress office's, 已退回 with a reason; a second run (the demo
// reloaded) ends the same.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/token_store.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/review.grpc.pb.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"

namespace halfsky {
namespace {

namespace v1 = ::halfsky::v1;
namespace ht = ::halfsky::testing;

std::string SourcePath(const std::string& rel) {
  return absl::StrCat(HALFSKY_SOURCE_DIR, "/", rel);
}

TEST(ReviewDemoTest, EveryUnitsFormApprovedAndOneReturnedWithAReason) {
  const std::string dir = ht::MakeTempDir("review-demo");
  const std::string secrets = dir + "/secrets";
  std::filesystem::create_directories(secrets);
  // Every member unit of the product catalog, units without indicators too.
  std::vector<std::string> units;
  for (absl::string_view line :
       absl::StrSplit(ht::ReadFile(SourcePath("deploy/catalog/member_units.textproto")), '\n')) {
    constexpr absl::string_view kPrefix = "member_units { code: \"";
    if (absl::StartsWith(line, kPrefix)) {
      line.remove_prefix(kPrefix.size());
      units.emplace_back(line.substr(0, line.find('"')));
    }
  }
  ASSERT_GT(units.size(), 10u);
  std::string tokens = absl::StrCat(auth::HashToken("demo-stats"), " statistics statistics\n");
  ASSERT_TRUE(ht::WriteTextFile(secrets + "/statistics.token", "demo-stats").ok());
  for (const std::string& u : units) {
    const std::string token = absl::StrCat("demo-unit-", u);
    absl::StrAppend(&tokens, auth::HashToken(token), " unit-", u, " unit:", u, "\n");
    ASSERT_TRUE(ht::WriteTextFile(absl::StrCat(secrets, "/unit-", u, ".token"), token).ok());
  }
  ASSERT_TRUE(ht::WriteTextFile(dir + "/tokens", tokens).ok());
  ht::ServiceProcess submission;
  absl::Status st = submission.Start(
      dir, "submission", ht::ServiceBinary("submission"), SourcePath("deploy/catalog"),
      dir + "/tokens", {"--db=" + dir + "/sub.db", "--fake_now=2025-03-01T00:00:00+08:00"});
  ASSERT_TRUE(st.ok()) << st;
  const std::map<std::string, std::string> env = {
      {"HALFSKY_SERVER", ""}, {"HALFSKY_TOKEN", ""}, {"HALFSKY_SUBMISSION", ""}, {"NO_COLOR", "1"}};

  auto review = v1::ReviewService::NewStub(
      grpc::CreateChannel(submission.address(), grpc::InsecureChannelCredentials()));
  for (int run = 1; run <= 2; ++run) {
    absl::StatusOr<ht::CommandResult> r =
        ht::RunCommand({"/bin/bash", SourcePath("deploy/demo/load.sh"),
                        ht::ServiceBinary("halfskyctl"), submission.address(), secrets},
                       env, absl::Seconds(300));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->exit_code, 0) << "run " << run << "\n" << r->out << "\n" << r->err;

    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer demo-stats");
    v1::ListFormsRequest req;
    req.set_year(2024);
    v1::ListFormsResponse resp;
    grpc::Status s = review->ListForms(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    std::map<std::string, v1::Form> by_unit;
    for (const auto& f : resp.forms()) by_unit[f.key().unit_code()] = f;
    ASSERT_EQ(by_unit.size(), units.size()) << resp.DebugString();
    for (const std::string& u : units) {
      const v1::Form& f = by_unit[u];
      if (u == "PEOPLES_CONGRESS") {
        EXPECT_EQ(f.state(), v1::FORM_STATE_RETURNED) << u;
        EXPECT_TRUE(absl::StrContains(f.reason(), "DECISION-05")) << f.reason();
      } else {
        EXPECT_EQ(f.state(), v1::FORM_STATE_APPROVED) << u << " run " << run;
      }
    }
  }
  // The board as `halfskyctl status --board` prints it.
  absl::StatusOr<ht::CommandResult> board =
      ht::RunCommand({ht::ServiceBinary("halfskyctl"), "status", "--year", "2024", "--board",
                      "--server", submission.address(), "--token", "demo-stats"},
                     env);
  ASSERT_TRUE(board.ok()) << board.status();
  int approved = 0, returned = 0;
  for (absl::string_view line : absl::StrSplit(board->out, '\n')) {
    approved += absl::StrContains(line, "已审核") ? 1 : 0;
    if (absl::StrContains(line, "已退回")) {
      ++returned;
      EXPECT_TRUE(absl::StrContains(line, "PEOPLES_CONGRESS")) << line;
      EXPECT_TRUE(absl::StrContains(line, "逾期")) << line;
    }
  }
  EXPECT_EQ(approved, static_cast<int>(units.size()) - 1) << board->out;
  EXPECT_EQ(returned, 1) << board->out;
  EXPECT_EQ(board->exit_code, 1) << board->out;  // the returned form is overdue
  EXPECT_TRUE(submission.Stop().ok());
}

}  // namespace
}  // namespace halfsky
