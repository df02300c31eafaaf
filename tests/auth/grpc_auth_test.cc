// Authentication over a real gRPC server on 127.0.0.1:0: a tiny
// CatalogService whose GetCatalog authenticates the call, requires the
// statistics role, and answers the principal's name in `fingerprint`.

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/auth/authenticator.h"
#include "common/auth/credentials.h"
#include "common/auth/rate_limiter.h"
#include "common/auth/roles.h"
#include "common/clock/clock.h"
#include "common/status/status.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/catalog.grpc.pb.h"

namespace halfsky::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class WhoAmIService final : public v1::CatalogService::CallbackService {
 public:
  explicit WhoAmIService(const Authenticator* auth) : auth_(auth) {}

  grpc::ServerUnaryReactor* GetCatalog(grpc::CallbackServerContext* context,
                                       const v1::GetCatalogRequest* /*request*/,
                                       v1::GetCatalogResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpcStatus(Handle(*context, response)));
    return reactor;
  }

 private:
  absl::Status Handle(const grpc::CallbackServerContext& context,
                      v1::GetCatalogResponse* response) {
    HALFSKY_ASSIGN_OR_RETURN(v1::Principal who, auth_->AuthenticateCall(context));
    HALFSKY_RETURN_IF_ERROR(RequireRole(who, {v1::ROLE_KIND_STATISTICS, v1::ROLE_KIND_ADMIN}));
    response->set_fingerprint(who.name());
    return absl::OkStatus();
  }

  const Authenticator* auth_;
};

class GrpcAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = TokenStore::FromString(
        absl::StrCat(HashToken("stats-secret"), " statistics-bureau statistics\n",
                     HashToken("unit-secret"), " health-bureau-system unit:HEALTH\n"));
    ASSERT_TRUE(store.ok()) << store.status();
    auth_ = Authenticator::WithTokens(*std::move(store));
    Start(auth_.get());
  }

  void Start(const Authenticator* auth) {
    service_ = std::make_unique<WhoAmIService>(auth);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    channel_ =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
    stub_ = v1::CatalogService::NewStub(channel_);
  }

  void TearDown() override {
    if (server_ != nullptr) {
      server_->Shutdown();
    }
  }

  grpc::Status Call(const std::string& authorization, std::string* name) {
    grpc::ClientContext context;
    if (!authorization.empty()) {
      context.AddMetadata("authorization", authorization);
    }
    v1::GetCatalogResponse response;
    grpc::Status status = stub_->GetCatalog(&context, v1::GetCatalogRequest(), &response);
    *name = response.fingerprint();
    return status;
  }

  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<WhoAmIService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::CatalogService::Stub> stub_;
};

TEST_F(GrpcAuthTest, ValidTokenAuthenticates) {
  grpc::ClientContext context;
  AddBearerToken(&context, "stats-secret");
  v1::GetCatalogResponse response;
  grpc::Status status = stub_->GetCatalog(&context, v1::GetCatalogRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.fingerprint(), "statistics-bureau");
}

TEST_F(GrpcAuthTest, EmptyTokenSendsNoHeader) {
  grpc::ClientContext context;
  AddBearerToken(&context, "");
  v1::GetCatalogResponse response;
  grpc::Status status = stub_->GetCatalog(&context, v1::GetCatalogRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("missing credentials"));  // not "malformed"
}

TEST_F(GrpcAuthTest, MissingTokenIsUnauthenticated) {
  std::string name;
  grpc::Status status = Call("", &name);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("缺少身份凭证"));
  EXPECT_THAT(status.error_message(), HasSubstr("missing credentials"));
}

TEST_F(GrpcAuthTest, UnknownTokenIsUnauthenticatedAndNotEchoed) {
  std::string name;
  grpc::Status status = Call("Bearer guessed-secret-value", &name);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), Not(HasSubstr("guessed-secret")));
  EXPECT_TRUE(name.empty());
}

TEST_F(GrpcAuthTest, MalformedHeaderIsUnauthenticated) {
  std::string name;
  EXPECT_EQ(Call("Basic c3RhdHMtc2VjcmV0", &name).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Call("stats-secret", &name).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(GrpcAuthTest, AuthenticatedButLackingRoleIsPermissionDenied) {
  std::string name;
  grpc::Status status = Call("Bearer unit-secret", &name);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("statistics"));
  EXPECT_THAT(status.error_message(), HasSubstr("health-bureau-system"));
}

TEST_F(GrpcAuthTest, CallCredentialsAreNotSentOnPlaintextChannels) {
  // Documented in credentials.h: BearerTokenCredentials is for TLS channels;
  // gRPC refuses to attach call credentials to an insecure channel, so the
  // call fails before reaching the service instead of leaking the token.
  grpc::ClientContext context;
  context.set_credentials(BearerTokenCredentials("stats-secret"));
  v1::GetCatalogResponse response;
  grpc::Status status = stub_->GetCatalog(&context, v1::GetCatalogRequest(), &response);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.error_message(), HasSubstr("security level"));
  EXPECT_NE(response.fingerprint(), "statistics-bureau");
}

TEST(GrpcNoAuthTest, NoAuthModeServesAnonymousAdmin) {
  auto auth = Authenticator::NoAuth();
  WhoAmIService service(auth.get());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto stub = v1::CatalogService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::GetCatalogResponse response;
  grpc::Status status = stub->GetCatalog(&context, v1::GetCatalogRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.fingerprint(), kAnonymousPrincipal);
  server->Shutdown();
}

// The rate limit over the wire: one principal over its budget answers
// RESOURCE_EXHAUSTED with a google.rpc.RetryInfo detail (what a client
// reads), before the handler; another principal is unaffected; a service
// principal is never limited. Switched off (rate_limit.per_second = 0) the
// fourth call of "stats-a" is OK and the test fails.
class GrpcRateLimitTest : public GrpcAuthTest {
 protected:
  void SetUp() override {
    auto store = TokenStore::FromString(absl::StrCat(
        HashToken("a-secret"), " stats-a statistics\n", HashToken("b-secret"),
        " stats-b statistics\n", HashToken("svc-secret"), " evaluation-service service\n"));
    ASSERT_TRUE(store.ok()) << store.status();
    AuthenticatorOptions options;
    options.rate_limit.per_second = 1;
    options.rate_limit.burst = 3;
    options.clock = &clock_;
    auth_ = Authenticator::WithTokens(*std::move(store), "", options);
    ASSERT_TRUE(auth_->rate_limited());
    Start(auth_.get());
  }

  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
};

TEST_F(GrpcRateLimitTest, OverBudgetIsResourceExhaustedWithRetryInfoOthersUnaffected) {
  std::string name;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Call("Bearer a-secret", &name).ok()) << i;
  }
  grpc::Status refused = Call("Bearer a-secret", &name);
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(name.empty());  // the handler did nothing
  EXPECT_THAT(refused.error_message(), HasSubstr("调用过于频繁"));
  EXPECT_THAT(refused.error_message(), HasSubstr("retry after 1s"));
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(refused.error_details()));
  google::rpc::RetryInfo retry;
  bool found = false;
  for (const auto& any : details.details()) {
    if (any.Is<google::rpc::RetryInfo>()) {
      found = any.UnpackTo(&retry);
    }
  }
  ASSERT_TRUE(found) << "no RetryInfo in the status details";
  EXPECT_EQ(retry.retry_delay().seconds(), 1);
  EXPECT_EQ(FromGrpcStatus(refused).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(RetryDelay(FromGrpcStatus(refused)), absl::Seconds(1));

  // Another principal has its own budget.
  ASSERT_TRUE(Call("Bearer b-secret", &name).ok());
  EXPECT_EQ(name, "stats-b");
  // A service principal is never limited (it lacks the statistics role, so
  // PERMISSION_DENIED, never RESOURCE_EXHAUSTED).
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Call("Bearer svc-secret", &name).error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << i;
  }
  // After the advertised delay the call passes.
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(Call("Bearer a-secret", &name).ok());
  EXPECT_EQ(name, "stats-a");
}

TEST_F(GrpcRateLimitTest, UnauthenticatedCallsAreNotCountedAgainstAnyone) {
  std::string name;
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Call("Bearer wrong", &name).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  ASSERT_TRUE(Call("Bearer a-secret", &name).ok());
}

}  // namespace
}  // namespace halfsky::auth
