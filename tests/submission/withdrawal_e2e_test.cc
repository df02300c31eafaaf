// A withdrawn figure end to end, on real processes: halfsky-submission and
// halfsky-aggregation binaries, a real redis-server, and `halfskyctl
// withdraw` / `halfskyctl history`. The withdrawn figure disappears from the
// aggregates in Redis (its leaf series key and index field go, the parent's
// sum drops it) and the history says who withdrew it, when and why.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/auth/token_store.h"
#include "common/cache/cache_layout.h"
#include "common/redis/hiredis_client.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "tests/submission/test_util.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"

namespace halfsky::submission {
namespace {

namespace v1 = ::halfsky::v1;
namespace ht = ::halfsky::testing;
using ::halfsky::submission::testing::Number;
using ::halfsky::submission::testing::TestCatalogPath;

constexpr char kHealthToken[] = "withdrawal-e2e-health";
constexpr char kServiceToken[] = "withdrawal-e2e-service";
constexpr char kDistrict[] = "610303";
constexpr char kStreet[] = "610303001";
constexpr char kTown[] = "610303100";

class WithdrawalEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ht::MakeTempDir("withdrawal-e2e");
    auto redis = ht::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = std::move(*redis);
    HiredisOptions opts;
    opts.port = redis_->port();
    probe_ = std::make_unique<HiredisClient>(opts);

    const std::string tokens = dir_ + "/tokens";
    ASSERT_TRUE(ht::WriteTextFile(tokens, absl::StrCat(auth::HashToken(kHealthToken),
                                                       " health-system unit:HEALTH_BUREAU\n",
                                                       auth::HashToken(kServiceToken),
                                                       " halfsky-services statistics\n"))
                    .ok());
    ASSERT_TRUE(ht::WriteTextFile(dir_ + "/service-token", kServiceToken).ok());
    absl::Status st = submission_.Start(dir_, "submission", ht::ServiceBinary("submission"),
                                        TestCatalogPath(), tokens, {"--db=" + dir_ + "/sub.db"});
    ASSERT_TRUE(st.ok()) << st;
    st = aggregation_.Start(
        dir_, "aggregation", ht::ServiceBinary("aggregation"), TestCatalogPath(), tokens,
        {"--submission=" + submission_.address(),
         "--submission_token_file=" + dir_ + "/service-token", "--redis=" + redis_->address()});
    ASSERT_TRUE(st.ok()) << st;
    stub_ = v1::SubmissionService::NewStub(
        grpc::CreateChannel(submission_.address(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    EXPECT_TRUE(aggregation_.Stop().ok());
    EXPECT_TRUE(submission_.Stop().ok());
  }

  // The stored series of HEALTH-03 in `area` (total/all): year → value;
  // nullopt when the key does not exist.
  std::optional<std::map<int, double>> Series(const std::string& area) {
    const std::string key =
        cache::SeriesRedisKey("HEALTH-03", area, v1::SEX_TOTAL, v1::RESIDENCE_ALL);
    auto reply = probe_->Command({"GET", key});
    if (!reply.ok() || reply->is_nil()) {
      return std::nullopt;
    }
    // The suite's aggregation runs without a MAC key: tagged with "".
    auto payload = cache::OpenSeriesValue("", key, reply->str());
    EXPECT_TRUE(payload.ok()) << payload.status();
    auto parsed = cache::ParseStoredSeries("HEALTH-03", area, v1::SEX_TOTAL, v1::RESIDENCE_ALL,
                                           payload.value_or(""));
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    std::map<int, double> out;
    for (const auto& a : parsed.value_or(std::vector<v1::Aggregate>{})) {
      out[a.key().year()] = a.value();
    }
    return out;
  }

  // Polls (up to 30 s) until `done()` holds; false if it never did.
  template <typename F>
  bool Eventually(F done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      if (done()) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return done();
  }

  ht::CommandResult Ctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {ht::ServiceBinary("halfskyctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--server", submission_.address(), "--token", kHealthToken});
    auto r = ht::RunCommand(argv, {{"HALFSKY_SERVER", ""},
                                   {"HALFSKY_TOKEN", ""},
                                   {"HALFSKY_TLS_CA", ""},
                                   {"HALFSKY_SUBMISSION", ""},
                                   {"NO_COLOR", "1"}});
    if (!r.ok()) {
      ADD_FAILURE() << absl::StrJoin(argv, " ") << ": " << r.status();
      return {};
    }
    return *r;
  }

  std::string dir_;
  std::unique_ptr<ht::RedisServer> redis_;
  std::unique_ptr<HiredisClient> probe_;
  ht::ServiceProcess submission_;
  ht::ServiceProcess aggregation_;
  std::unique_ptr<v1::SubmissionService::Stub> stub_;
};

TEST_F(WithdrawalEndToEndTest, WithdrawnFigureLeavesAggregatesAndRedisAndHistorySaysWhy) {
  {
    v1::SubmitBatchRequest req;
    req.set_request_id("health-2024");
    *req.add_data_values() = Number("HEALTH-03", 2024, 3, kStreet);
    *req.add_data_values() = Number("HEALTH-03", 2024, 4, kTown);
    *req.add_data_values() = Number("HEALTH-03", 2023, 5, kTown);
    v1::SubmitBatchResponse resp;
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", kHealthToken));
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    grpc::Status st = stub_->SubmitBatch(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  ASSERT_TRUE(Eventually([&] {
    auto d = Series(kDistrict);
    return d && d->count(2024) && (*d)[2024] == 7;
  })) << aggregation_.log();
  ASSERT_TRUE(Series(kTown).has_value());

  // The town's 2024 figure was put on the wrong area: withdrawn.
  const std::string why = "误报在陈仓镇，实为中山东路街道 / reported under the wrong area";
  ht::CommandResult w = Ctl(
      {"withdraw", "--indicator", "HEALTH-03", "--area", kTown, "--year", "2024", "--reason", why});
  ASSERT_EQ(w.exit_code, 0) << w.out << w.err;
  EXPECT_NE(w.out.find("已撤回 withdrawn"), std::string::npos) << w.out;
  // The same command again is the same request: replayed, not withdrawn twice.
  ht::CommandResult again = Ctl(
      {"withdraw", "--indicator", "HEALTH-03", "--area", kTown, "--year", "2024", "--reason", why});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("replayed"), std::string::npos) << again.out;

  // The district's sum drops it; the town keeps only 2023.
  ASSERT_TRUE(Eventually([&] {
    auto d = Series(kDistrict);
    auto t = Series(kTown);
    return d && d->count(2024) && (*d)[2024] == 3 && t && t->count(2024) == 0;
  })) << aggregation_.log();
  EXPECT_EQ(Series(kTown)->at(2023), 5);

  // Withdrawing the town's last figure removes its series and index field.
  ht::CommandResult last = Ctl({"withdraw", "--indicator", "HEALTH-03", "--area", kTown, "--year",
                                "2023", "--reason", "重复报送 / duplicate"});
  ASSERT_EQ(last.exit_code, 0) << last.out << last.err;
  ASSERT_TRUE(Eventually([&] { return !Series(kTown).has_value(); })) << aggregation_.log();
  auto field = probe_->Command({"HEXISTS", cache::IndexRedisKey("HEALTH-03"),
                                cache::IndexField(kTown, v1::SEX_TOTAL, v1::RESIDENCE_ALL)});
  ASSERT_TRUE(field.ok());
  EXPECT_EQ(field->AsInteger().value_or(-1), 0);
  EXPECT_FALSE(Series(kDistrict)->count(2023));

  // History: who, when, why.
  ht::CommandResult h =
      Ctl({"history", "--indicator", "HEALTH-03", "--area", kTown, "--year", "2024"});
  ASSERT_EQ(h.exit_code, 0) << h.out << h.err;
  EXPECT_NE(h.out.find("修订 revision 2"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("撤回 WITHDRAWN"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("health-system (HEALTH_BUREAU)"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("撤回原因 reason: " + why), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("(UTC+8)"), std::string::npos) << h.out;
}

}  // namespace
}  // namespace halfsky::submission
