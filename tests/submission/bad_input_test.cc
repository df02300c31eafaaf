// Bad input over real gRPC (in-process RunningServer, real SQLite file):
// errors that always reach the caller (bounded details), control
// characters, invalid UTF-8 in a client stream. Each checks that nothing
// was written. docs/BAD_INPUT.md lists them.
#include <string>
#include <vector>

#include "common/server/server.h"
#include "common/status/status.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "services/submission/service.h"
#include "services/submission/sqlite_store.h"
#include "tests/submission/test_util.h"
#include "tests/support/process.h"

namespace halfsky::submission {
namespace {

namespace v1 = ::halfsky::v1;
using ::halfsky::submission::testing::Number;
using ::halfsky::submission::testing::Story;
using ::testing::HasSubstr;
using ::testing::Not;

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = halfsky::testing::MakeTempDir("submission-bad-input");
    catalog_ = testing::TestCatalog();
    ASSERT_NE(catalog_, nullptr);
    SqliteSubmissionStore::Options o;
    o.path = dir_ + "/submission.db";
    o.clock = SystemClock::Default();
    auto store = SqliteSubmissionStore::Open(o);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    service_ = std::make_unique<SubmissionServiceImpl>(
        catalog_, store_.get(), SystemClock::Default(), testing::TestAuthenticate);
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.metrics_listen = "";
    options.drain_delay = absl::ZeroDuration();
    options.grace_period = absl::Seconds(2);
    auto server = RunningServer::Start(options, catalog_, {service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::SubmissionService::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    service_->Shutdown();
    server_->Shutdown();
  }
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token = "health-token") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", "Bearer " + token);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return ctx;
  }
  grpc::Status Submit(const std::vector<v1::DataValue>& values, const std::string& id = "r1") {
    v1::SubmitBatchRequest req;
    req.set_request_id(id);
    for (const auto& v : values) {
      *req.add_data_values() = v;
    }
    v1::SubmitBatchResponse resp;
    return stub_->SubmitBatch(Ctx().get(), req, &resp);
  }
  static google::rpc::BadRequest Details(const grpc::Status& status) {
    google::rpc::Status rpc;
    EXPECT_TRUE(rpc.ParseFromString(status.error_details()));
    google::rpc::BadRequest bad;
    for (const auto& any : rpc.details()) {
      if (any.type_url() == kBadRequestTypeUrl) {
        EXPECT_TRUE(any.UnpackTo(&bad));
      }
    }
    return bad;
  }

  std::string dir_;
  std::shared_ptr<const CatalogIndex> catalog_;
  std::unique_ptr<SqliteSubmissionStore> store_;
  std::unique_ptr<SubmissionServiceImpl> service_;
  std::unique_ptr<RunningServer> server_;
  std::unique_ptr<v1::SubmissionService::Stub> stub_;
};

// 1 000 bad rows in one batch: a prompt INVALID_ARGUMENT (not "received
// initial metadata size exceeds limit", not a hang) with the first
// violations and the count; the trailers stay far under gRPC's 8 KiB.
TEST_F(BadInputTest, ThousandBadRowsAnswerTheFirstViolationsAndTheCount) {
  std::vector<v1::DataValue> values;
  for (int i = 0; i < 1000; ++i) {
    values.push_back(Number("HEALTH-03", 2019, 1));  // year before 2020, and repeated keys
  }
  const grpc::Status status = Submit(values);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  const google::rpc::BadRequest bad = Details(status);
  ASSERT_GT(bad.field_violations_size(), 0);
  EXPECT_LE(bad.field_violations_size(), kMaxFieldViolations);
  EXPECT_EQ(bad.field_violations(0).field(), "data_values[0].key.year");
  EXPECT_THAT(status.error_message(),
              HasSubstr(absl::StrCat("first ", bad.field_violations_size(), " of ")));
  EXPECT_LE(status.error_details().size(), kMaxStatusDetailsBytes);
  EXPECT_EQ(store_->HeadSequence(), 0);
}

// A 1 MB string echoed in an error (an unknown unit code) comes back
// truncated, and the same connection keeps working.
TEST_F(BadInputTest, MegabyteStringIsTruncatedAndTheConnectionStaysUsable) {
  v1::GetReportingStatusRequest req;
  req.set_year(2023);
  req.add_unit_codes(std::string(1 << 20, 'X'));
  v1::GetReportingStatusResponse resp;
  const grpc::Status status = stub_->GetReportingStatus(Ctx("stats-token").get(), req, &resp);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_LE(status.error_message().size(), kMaxStatusMessageBytes + 200);
  const google::rpc::BadRequest bad = Details(status);
  ASSERT_EQ(bad.field_violations_size(), 1);
  EXPECT_EQ(bad.field_violations(0).field(), "unit_codes[0]");
  EXPECT_LE(bad.field_violations(0).description().size(), kMaxViolationDescriptionBytes);
  EXPECT_THAT(bad.field_violations(0).description(), HasSubstr("…"));
  // The channel is fine: the next call on it succeeds.
  ASSERT_TRUE(Submit({Number("HEALTH-03", 2021, 1)}, "after").ok());
  EXPECT_EQ(store_->HeadSequence(), 1);
}

// Control characters: none in source (a CRLF file's carriage return), tab
// and newline only in notes and narratives; INVALID_ARGUMENT names the
// field, and nothing of the batch is written.
TEST_F(BadInputTest, ControlCharactersAreRefusedWithTheFieldPath) {
  std::vector<v1::DataValue> values = {
      Number("HEALTH-03", 2021, 1), Number("HEALTH-03", 2022, 2), Number("HEALTH-03", 2023, 3),
      Story("HEALTH-05", 2023, "第一段\r\n第二段"), Number("HEALTH-03", 2020, 4)};
  values[0].set_source("教育统计年报\r");
  values[1].set_note("制表\t换行\n都可以");  // fine
  values[2].set_note(std::string("响铃\x07", 7));
  values[4].set_source(std::string("a\0b", 3));
  const grpc::Status status = Submit(values);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const google::rpc::BadRequest bad = Details(status);
  std::vector<std::string> fields;
  for (const auto& v : bad.field_violations()) {
    fields.push_back(v.field());
  }
  EXPECT_THAT(fields, ::testing::UnorderedElementsAre(
                          "data_values[0].source", "data_values[2].note",
                          "data_values[3].narrative.text", "data_values[4].source"));
  EXPECT_THAT(bad.field_violations(0).description(), HasSubstr("U+000D"));
  EXPECT_EQ(store_->HeadSequence(), 0);
  // Tab and newline in a note are accepted.
  ASSERT_TRUE(Submit({values[1]}, "r2").ok());
}

// A lock's reason is free text like a note: a control character other than
// tab and newline is refused naming "reason", and the year stays unlocked.
TEST_F(BadInputTest, ControlCharacterInALockReasonIsRefused) {
  v1::LockYearRequest req;
  req.set_year(2023);
  req.set_reason("年报已审核\r");
  v1::YearLock lock;
  const grpc::Status status = stub_->LockYear(Ctx("stats-token").get(), req, &lock);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  const google::rpc::BadRequest bad = Details(status);
  ASSERT_EQ(bad.field_violations_size(), 1);
  EXPECT_EQ(bad.field_violations(0).field(), "reason");
  EXPECT_THAT(bad.field_violations(0).description(), HasSubstr("U+000D"));
  auto locks = store_->ListYearLocks();
  ASSERT_TRUE(locks.ok());
  for (const auto& l : locks->current) {
    EXPECT_FALSE(l.locked()) << l.year();
  }
  req.set_reason("年报已审核\n第二行");  // newline is fine
  EXPECT_TRUE(stub_->LockYear(Ctx("stats-token").get(), req, &lock).ok());
}

// Invalid UTF-8 in a chunk of the client stream: the stream ends with
// INVALID_ARGUMENT naming the field (gRPC's own parse failure looked like
// the client's end of stream), after the chunks before it were
// acknowledged; the bad chunk wrote nothing.
TEST_F(BadInputTest, InvalidUtf8InAStreamChunkIsInvalidArgument) {
  auto ctx = Ctx();
  auto stream = stub_->SubmitStream(ctx.get());
  v1::SubmitStreamRequest good;
  good.set_request_id("c0");
  *good.add_data_values() = Number("HEALTH-03", 2021, 1);
  ASSERT_TRUE(stream->Write(good));
  v1::SubmitStreamResponse ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.created_count(), 1);
  v1::SubmitStreamRequest bad;
  bad.set_request_id("c1");
  *bad.add_data_values() = Number("HEALTH-03", 2022, 2);
  bad.mutable_data_values(0)->set_source("ok\xff\xfe");  // serialized as is (proto3 only logs)
  stream->Write(bad);
  EXPECT_FALSE(stream->Read(&ack));
  const grpc::Status status = stream->Finish();
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("halfsky.v1.DataValue.source"));
  const google::rpc::BadRequest details = Details(status);
  ASSERT_EQ(details.field_violations_size(), 1);
  EXPECT_EQ(details.field_violations(0).field(), "data_values[].source");
  EXPECT_EQ(store_->HeadSequence(), 1);
}

// The same in a unary call: INVALID_ARGUMENT naming the field, not
// UNIMPLEMENTED with an empty message; nothing written.
TEST_F(BadInputTest, InvalidUtf8InABatchIsInvalidArgument) {
  v1::DataValue v = Number("HEALTH-03", 2021, 1);
  v.mutable_key()->set_area_code("6103\xc0\xaf");
  const grpc::Status status = Submit({v});
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  const google::rpc::BadRequest details = Details(status);
  ASSERT_EQ(details.field_violations_size(), 1);
  EXPECT_EQ(details.field_violations(0).field(), "data_values[].key.area_code");
  EXPECT_EQ(store_->HeadSequence(), 0);
  // Counted as what the caller was told.
  EXPECT_THAT(ServiceMetrics().Render(),
              HasSubstr("halfsky_grpc_server_handled_total{code=\"3\",method=\"/"
                        "halfsky.v1.SubmissionService/SubmitBatch\"}"));
  EXPECT_THAT(ServiceMetrics().Render(),
              Not(HasSubstr("code=\"12\",method=\"/halfsky.v1.SubmissionService/SubmitBatch")));
}

}  // namespace
}  // namespace halfsky::submission
