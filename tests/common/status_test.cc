#include "common/status/status.h"

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status/parse_error.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "halfsky/v1/submission.pb.h"

namespace halfsky {
namespace {

TEST(StatusTest, OkMapsToOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(StatusTest, CodesAndMessagesSurviveBothWays) {
  for (absl::StatusCode code :
       {absl::StatusCode::kInvalidArgument, absl::StatusCode::kPermissionDenied,
        absl::StatusCode::kUnauthenticated, absl::StatusCode::kFailedPrecondition,
        absl::StatusCode::kUnavailable, absl::StatusCode::kNotFound}) {
    const absl::Status in(code, "年份已锁定 / year locked");
    const grpc::Status wire = ToGrpcStatus(in);
    EXPECT_EQ(static_cast<int>(wire.error_code()), static_cast<int>(code));
    EXPECT_EQ(wire.error_message(), "年份已锁定 / year locked");
    EXPECT_EQ(FromGrpcStatus(wire), in);
  }
}

TEST(StatusTest, BadRequestTravelsAsGoogleRpcStatusDetails) {
  const absl::Status in =
      InvalidArgumentError("2 个字段有误 / 2 bad fields",
                           {{"data_values[0].key.year", "年份超出范围 / year out of range"},
                            {"data_values[3].source", "缺少数据来源 / source missing"}});
  const grpc::Status wire = ToGrpcStatus(in);
  ASSERT_EQ(wire.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // What any gRPC client sees in grpc-status-details-bin.
  google::rpc::Status rpc_status;
  ASSERT_TRUE(rpc_status.ParseFromString(wire.error_details()));
  EXPECT_EQ(rpc_status.code(), 3);
  ASSERT_EQ(rpc_status.details_size(), 1);
  EXPECT_EQ(rpc_status.details(0).type_url(), kBadRequestTypeUrl);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(rpc_status.details(0).UnpackTo(&bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 2);
  EXPECT_EQ(bad_request.field_violations(1).field(), "data_values[3].source");

  const std::vector<FieldViolation> back = BadRequestViolations(FromGrpcStatus(wire));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].field, "data_values[0].key.year");
  EXPECT_EQ(back[0].description, "年份超出范围 / year out of range");
}

TEST(StatusTest, ReasonRoundTrips) {
  const absl::Status in = WithReason(absl::FailedPreconditionError("locked"), "YEAR_LOCKED");
  EXPECT_EQ(ErrorReason(FromGrpcStatus(ToGrpcStatus(in))), "YEAR_LOCKED");
  EXPECT_EQ(ErrorReason(absl::InternalError("x")), "");
}

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) {
    return absl::InvalidArgumentError("odd");
  }
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  HALFSKY_ASSIGN_OR_RETURN(int half, Half(x));
  HALFSKY_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

absl::Status CheckEven(int x) {
  HALFSKY_RETURN_IF_ERROR(Half(x).status());
  return absl::OkStatus();
}

TEST(StatusTest, Macros) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckEven(2).ok());
  EXPECT_FALSE(CheckEven(3).ok());
}

// Issue #13 item 6: what reaches the wire is bounded, whatever the
// violations: the first ones, each truncated, and the count.
TEST(StatusTest, DetailsAreBoundedWithTheFirstViolationsAndTheCount) {
  std::vector<FieldViolation> many;
  for (int i = 0; i < 1000; ++i) {
    many.push_back(
        {absl::StrCat("data_values[", i, "].key.year"), "年份超出范围 / year out of range"});
  }
  const grpc::Status wire = ToGrpcStatus(InvalidArgumentError("1000 处问题 / 1000 problems", many));
  ASSERT_EQ(wire.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LE(wire.error_details().size(), kMaxStatusDetailsBytes);
  const std::vector<FieldViolation> back = BadRequestViolations(FromGrpcStatus(wire));
  ASSERT_EQ(back.size(), static_cast<size_t>(kMaxFieldViolations));
  EXPECT_EQ(back[0].field, "data_values[0].key.year");
  EXPECT_EQ(back[19].field, "data_values[19].key.year");
  EXPECT_THAT(wire.error_message(), ::testing::HasSubstr("first 20 of 1000 violations listed"));
  EXPECT_THAT(wire.error_message(), ::testing::HasSubstr("仅列出前20处，共1000处"));

  // A megabyte in a description, in a field path and in the message.
  const std::string huge(1 << 20, 'x');
  const grpc::Status big = ToGrpcStatus(InvalidArgumentError(
      absl::StrCat("未知“", huge, "”"), {{huge, absl::StrCat("未知成员单位“", huge, "”")}}));
  EXPECT_LE(big.error_message().size(), kMaxStatusMessageBytes);
  EXPECT_LE(big.error_details().size(), kMaxStatusDetailsBytes);
  const std::vector<FieldViolation> one = BadRequestViolations(FromGrpcStatus(big));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_LE(one[0].field.size(), kMaxViolationFieldBytes);
  EXPECT_LE(one[0].description.size(), kMaxViolationDescriptionBytes);
  EXPECT_TRUE(absl::StartsWith(one[0].description, "未知成员单位“x"));
  EXPECT_TRUE(absl::EndsWith(one[0].description, "…"));

  // Without a BadRequest, only the message is bounded.
  const grpc::Status plain = ToGrpcStatus(absl::NotFoundError(huge));
  EXPECT_LE(plain.error_message().size(), kMaxStatusMessageBytes);
  // Short ones are untouched (CodesAndMessagesSurviveBothWays above).
}

TEST(StatusTest, TruncateUtf8CutsAtACharacterBoundary) {
  EXPECT_EQ(TruncateUtf8("短", 10), "短");
  const std::string cut = TruncateUtf8("一二三四五六", 10);  // 3 bytes each; "…" is 3
  EXPECT_EQ(cut, "一二…");
  EXPECT_EQ(TruncateUtf8("a\xff", 10), "a?");
}

// ParseRequest (for services that parse request bytes themselves): invalid
// UTF-8 is INVALID_ARGUMENT naming the path to the refused field; bytes
// that are no message name the type.
TEST(StatusTest, ParseRequestNamesTheRefusedField) {
  halfsky::v1::SubmitBatchRequest sent;
  sent.set_request_id("r");
  sent.add_data_values()->mutable_key()->set_indicator_id("HEALTH-03");
  sent.add_data_values()->mutable_key()->set_area_code("61\xff");
  halfsky::v1::SubmitBatchRequest got;
  const absl::Status status = ParseRequest(sent.SerializeAsString(), &got);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), ::testing::HasSubstr("halfsky.v1.DataKey.area_code"));
  const std::vector<FieldViolation> v = BadRequestViolations(status);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "data_values[].key.area_code");

  const absl::Status garbage = ParseRequest(std::string("\x0f\xff", 2), &got);
  ASSERT_EQ(garbage.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(garbage.message(), ::testing::HasSubstr("halfsky.v1.SubmitBatchRequest"));

  EXPECT_TRUE(ParseRequest(halfsky::v1::SubmitBatchRequest().SerializeAsString(), &got).ok());
  // Nothing left over for the next parse on this thread.
  EXPECT_FALSE(TakeRefusedUtf8Field().has_value());
}

}  // namespace
}  // namespace halfsky
