// AggregationServiceImpl over a real gRPC server on loopback: GetSeries, a
// raw method with a response cache (services/aggregation/aggregation_service.h),
// answers every change of the aggregates at once, with the cache on or off.
#include "services/aggregation/aggregation_service.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "common/clock/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/aggregation.grpc.pb.h"
#include "services/aggregation/follower.h"
#include "tests/aggregation/test_util.h"

namespace halfsky::aggregation {
namespace {

using halfsky::v1::RESIDENCE_ALL;
using halfsky::v1::SEX_FEMALE;
using halfsky::v1::SEX_MALE;
using testing::Key;
using testing::TestCatalog;
using testing::Value;

// The parameter: series_cache_entries (0 = the cache off).
class AggregationServiceTest : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    catalog_ = TestCatalog();
    state_ = std::make_unique<AggregationState>(catalog_);
    service_ = std::make_unique<AggregationServiceImpl>(
        catalog_, state_.get(), /*follower=*/nullptr, &clock_,
        [this](const grpc::CallbackServerContext&) -> absl::StatusOr<v1::Principal> {
          if (!authenticated_) {
            return absl::UnauthenticatedError("no token");
          }
          return v1::Principal();
        },
        GetParam());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    stub_ = v1::AggregationService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_ != nullptr) {
      server_->Shutdown();
    }
  }

  // Swaps in an aggregator holding HEALTH-03 at 610303 in 2022: female
  // `female`, male 4 (sequences 1 and 2).
  void SwapIn(double female) {
    auto agg = std::make_unique<Aggregator>(catalog_);
    agg->Apply(Value(1, Key("HEALTH-03", "610303", 2022, SEX_FEMALE), female), nullptr);
    agg->Apply(Value(2, Key("HEALTH-03", "610303", 2022, SEX_MALE), 4), nullptr);
    state_->Swap(std::move(agg));
  }

  grpc::Status Series(const std::string& indicator, v1::GetSeriesResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::GetSeriesRequest request;
    request.set_indicator_id(indicator);
    request.set_area_code("610303");
    request.set_sex(SEX_FEMALE);
    request.set_residence(RESIDENCE_ALL);
    return stub_->GetSeries(&context, request, response);
  }

  // The value of the 2022 point of HEALTH-03 (female), -1 if none.
  double Female2022() {
    v1::GetSeriesResponse response;
    grpc::Status st = Series("HEALTH-03", &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    for (const auto& p : response.points()) {
      if (p.year() == 2022) {
        return p.value();
      }
    }
    return -1;
  }

  SystemClock clock_;
  std::atomic<bool> authenticated_{true};
  std::shared_ptr<const CatalogIndex> catalog_;
  std::unique_ptr<AggregationState> state_;
  std::unique_ptr<AggregationServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::AggregationService::Stub> stub_;
};

TEST_P(AggregationServiceTest, UnavailableUntilTheFirstBuildThenServed) {
  v1::GetSeriesResponse response;
  EXPECT_EQ(Series("HEALTH-03", &response).error_code(), grpc::StatusCode::UNAVAILABLE);
  SwapIn(7);
  ASSERT_TRUE(Series("HEALTH-03", &response).ok());
  EXPECT_EQ(response.indicator_id(), "HEALTH-03");
  EXPECT_EQ(response.as_of_sequence(), 2);
}

// A repeated request is answered from the cache only while the aggregates
// are unchanged: every Mutate and every Swap shows at once.
TEST_P(AggregationServiceTest, RepeatedRequestsSeeEveryChange) {
  SwapIn(7);
  EXPECT_EQ(Female2022(), 7);
  EXPECT_EQ(Female2022(), 7);  // the same request again (a hit when cached)

  state_->Mutate([](Aggregator& agg) {
    agg.Apply(Value(3, Key("HEALTH-03", "610303", 2022, SEX_FEMALE), 9), nullptr);
  });
  EXPECT_EQ(Female2022(), 9);
  v1::GetSeriesResponse response;
  ASSERT_TRUE(Series("HEALTH-03", &response).ok());
  EXPECT_EQ(response.as_of_sequence(), 3);
  ASSERT_EQ(response.points_size(), 1);
  EXPECT_EQ(response.points(0).female_minus_male(), 5);

  SwapIn(11);  // a rebuild replaces the aggregates (sequence 2 again)
  EXPECT_EQ(Female2022(), 11);
  ASSERT_TRUE(Series("HEALTH-03", &response).ok());
  EXPECT_EQ(response.as_of_sequence(), 2);
}

// Errors are answered every time and never cached; the caller is checked on
// every call, hit or not.
TEST_P(AggregationServiceTest, ErrorsAndTheCallerAreCheckedOnEveryCall) {
  SwapIn(7);
  v1::GetSeriesResponse response;
  EXPECT_EQ(Series("NO-SUCH-1", &response).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Series("NO-SUCH-1", &response).error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Series("HEALTH-03", &response).ok());
  authenticated_ = false;
  EXPECT_EQ(Series("HEALTH-03", &response).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  authenticated_ = true;
  EXPECT_TRUE(Series("HEALTH-03", &response).ok());
}

INSTANTIATE_TEST_SUITE_P(CacheOnAndOff, AggregationServiceTest, ::testing::Values(256, 0),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return info.param == 0 ? std::string("Uncached") : std::string("Cached");
                         });

}  // namespace
}  // namespace halfsky::aggregation
