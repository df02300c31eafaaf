// halfsky-web's pieces without a server: sessions (expiry, the bound on
// their number, random ids), the gRPC → HTTP status table, the error body
// (google.rpc.Status details in JSON) and the enum labels.

#include <set>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "services/web/gateway.h"
#include "services/web/sessions.h"

namespace halfsky::web {
namespace {

using ::testing::HasSubstr;

TEST(SessionStoreTest, ASessionLastsItsLifetime) {
  SessionStore store(absl::Hours(8), 100);
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  const Session s = store.Create("tok", t0);
  EXPECT_EQ(s.id.size(), 64u);
  EXPECT_EQ(s.csrf_token.size(), 64u);
  EXPECT_NE(s.id, s.csrf_token);
  ASSERT_TRUE(store.Find(s.id, t0 + absl::Hours(7)).has_value());
  EXPECT_EQ(store.Find(s.id, t0 + absl::Hours(7))->bearer_token, "tok");
  EXPECT_FALSE(store.Find(s.id, t0 + absl::Hours(8)).has_value());
  EXPECT_EQ(store.size(), 0u);  // the expired one is gone
  EXPECT_FALSE(store.Find("", t0).has_value());
}

TEST(SessionStoreTest, RemoveSignsOut) {
  SessionStore store(absl::Hours(1), 100);
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  const Session s = store.Create("tok", t0);
  store.Remove(s.id);
  EXPECT_FALSE(store.Find(s.id, t0).has_value());
}

TEST(SessionStoreTest, TheOldestGoesWhenFull) {
  SessionStore store(absl::Hours(1), 3);
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  std::set<std::string> ids;
  std::string first;
  for (int i = 0; i < 4; ++i) {
    const Session s = store.Create("tok", t0 + absl::Seconds(i));
    if (i == 0) {
      first = s.id;
    }
    ids.insert(s.id);
  }
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(store.size(), 3u);
  EXPECT_FALSE(store.Find(first, t0 + absl::Seconds(5)).has_value());
}

TEST(SessionStoreTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

TEST(GatewayTest, GrpcCodesMapToHttpStatuses) {
  EXPECT_EQ(HttpStatusForGrpc(grpc::OK), 200);
  EXPECT_EQ(HttpStatusForGrpc(grpc::UNAUTHENTICATED), 401);
  EXPECT_EQ(HttpStatusForGrpc(grpc::PERMISSION_DENIED), 403);
  EXPECT_EQ(HttpStatusForGrpc(grpc::NOT_FOUND), 404);
  EXPECT_EQ(HttpStatusForGrpc(grpc::INVALID_ARGUMENT), 400);
  EXPECT_EQ(HttpStatusForGrpc(grpc::FAILED_PRECONDITION), 400);
  EXPECT_EQ(HttpStatusForGrpc(grpc::ALREADY_EXISTS), 409);
  EXPECT_EQ(HttpStatusForGrpc(grpc::ABORTED), 409);
  EXPECT_EQ(HttpStatusForGrpc(grpc::RESOURCE_EXHAUSTED), 429);
  EXPECT_EQ(HttpStatusForGrpc(grpc::UNAVAILABLE), 503);
  EXPECT_EQ(HttpStatusForGrpc(grpc::DEADLINE_EXCEEDED), 504);
  EXPECT_EQ(HttpStatusForGrpc(grpc::INTERNAL), 500);
}

TEST(GatewayTest, TheErrorBodyCarriesTheDetails) {
  google::rpc::Status rpc;
  rpc.set_code(grpc::INVALID_ARGUMENT);
  rpc.set_message("bad");
  google::rpc::BadRequest bad;
  auto* v = bad.add_field_violations();
  v->set_field("data_values[0].key.year");
  v->set_description("年份超出范围");
  rpc.add_details()->PackFrom(bad);
  const std::string json =
      ErrorJson(grpc::Status(grpc::INVALID_ARGUMENT, "bad", rpc.SerializeAsString()));
  EXPECT_THAT(json, HasSubstr(R"({"status":"INVALID_ARGUMENT","code":3,"message":"bad")"));
  EXPECT_THAT(json, HasSubstr(R"("@type":"type.googleapis.com/google.rpc.BadRequest")"));
  EXPECT_THAT(json, HasSubstr(R"("field":"data_values[0].key.year")"));
  EXPECT_THAT(json, HasSubstr("年份超出范围"));
  EXPECT_EQ(ErrorJson(grpc::Status(grpc::NOT_FOUND, "x")),
            R"({"status":"NOT_FOUND","code":5,"message":"x"})");
}

TEST(GatewayTest, TheAllowListHasNoStreamingUploadOrAdministration) {
  const auto& allowed = AllowedMethods();
  EXPECT_TRUE(allowed.count("halfsky.v1.EvaluationService/ListWarnings"));
  EXPECT_FALSE(allowed.count("halfsky.v1.SubmissionService/SubmitStream"));
  EXPECT_FALSE(allowed.count("halfsky.v1.SubmissionService/WatchChanges"));
  EXPECT_FALSE(allowed.count("halfsky.v1.AggregationService/Rebuild"));
  EXPECT_FALSE(allowed.count("halfsky.v1.SubmissionService/LockYear"));
}

TEST(GatewayTest, LabelsComeFromTheDescriptors) {
  const std::string json = EnumLabelsJson();
  EXPECT_THAT(json, HasSubstr("\"halfsky.v1.Severity\""));
  EXPECT_THAT(json, HasSubstr("红色预警"));
  EXPECT_THAT(json, HasSubstr("已退回"));
}

}  // namespace
}  // namespace halfsky::web
