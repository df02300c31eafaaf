#include "common/auth/authenticator.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/auth/credentials.h"  // ReadTokenFile
#include "common/auth/roles.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"

namespace halfsky::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Metadata = std::multimap<grpc::string_ref, grpc::string_ref>;

TEST(ParseBearerHeaderTest, AcceptsRfc6750Tokens) {
  EXPECT_EQ(ParseBearerHeader("Bearer abc").value(), "abc");
  EXPECT_EQ(ParseBearerHeader("bearer abc").value(), "abc");
  EXPECT_EQ(ParseBearerHeader("BEARER   a-b.c_d~e+f/g==").value(), "a-b.c_d~e+f/g==");
}

TEST(ParseBearerHeaderTest, RejectsMalformedWithoutEcho) {
  for (const char* bad :
       {"", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearerabc", "Bearer abc def", "Bearer a=b",
        "Bearer 令牌", "Bearer abc\n", "Bearer ==", "secret-token"}) {
    auto token = ParseBearerHeader(bad);
    ASSERT_FALSE(token.ok()) << bad;
    EXPECT_EQ(token.status().code(), absl::StatusCode::kUnauthenticated) << bad;
    EXPECT_THAT(std::string(token.status().message()), Not(HasSubstr("secret")));
  }
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store =
        TokenStore::FromString(absl::StrCat(HashToken("good"), " unit-system unit:HEALTH\n"));
    ASSERT_TRUE(store.ok()) << store.status();
    auth_ = Authenticator::WithTokens(*std::move(store));
  }
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(AuthenticatorTest, MetadataCases) {
  EXPECT_TRUE(auth_->enabled());
  const std::string good = "Bearer good";
  auto ok = auth_->AuthenticateMetadata(Metadata{{"authorization", good}});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->name(), "unit-system");

  auto missing = auth_->AuthenticateMetadata(Metadata{{"x-other", "v"}});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("缺少身份凭证"));
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("missing credentials"));

  const std::string unknown_value = "Bearer wrong-secret";
  auto unknown = auth_->AuthenticateMetadata(Metadata{{"authorization", unknown_value}});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(unknown.status().message()), Not(HasSubstr("wrong-secret")));

  const std::string twice = "Bearer good";
  auto duplicated =
      auth_->AuthenticateMetadata(Metadata{{"authorization", twice}, {"authorization", twice}});
  EXPECT_EQ(duplicated.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(AuthenticatorNoAuthTest, EveryCallerIsAnonymousAdmin) {
  auto auth = Authenticator::FromTokensFile("");
  ASSERT_TRUE(auth.ok());
  EXPECT_FALSE((*auth)->enabled());
  for (const Metadata& md : {Metadata{}, Metadata{{"authorization", "Bearer whatever"}},
                             Metadata{{"authorization", "garbage"}}}) {
    auto p = (*auth)->AuthenticateMetadata(md);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->name(), kAnonymousPrincipal);
    EXPECT_TRUE(HasRole(*p, v1::ROLE_KIND_ADMIN));
  }
  EXPECT_EQ((*auth)->Reload().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(AuthenticatorFileTest, BadFileIsAnErrorNeverNoAuth) {
  const std::string dir = testing::MakeTempDir("halfsky-auth");
  EXPECT_EQ(Authenticator::FromTokensFile(dir + "/missing").status().code(),
            absl::StatusCode::kNotFound);
  { std::ofstream(dir + "/bad") << "not a token line\n"; }
  EXPECT_EQ(Authenticator::FromTokensFile(dir + "/bad").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AuthenticatorFileTest, ReloadSwapsTokensAndKeepsOldOnError) {
  const std::string path = testing::MakeTempDir("halfsky-auth") + "/tokens";
  { std::ofstream(path) << HashToken("old") << " p admin\n"; }
  auto auth = Authenticator::FromTokensFile(path);
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_TRUE((*auth)->AuthenticateToken("old").ok());
  { std::ofstream(path) << HashToken("new") << " p admin\n"; }
  ASSERT_TRUE((*auth)->Reload().ok());
  EXPECT_EQ((*auth)->AuthenticateToken("old").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE((*auth)->AuthenticateToken("new").ok());
  { std::ofstream(path) << "broken\n"; }
  EXPECT_EQ((*auth)->Reload().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE((*auth)->AuthenticateToken("new").ok());
}

TEST(AuthenticatorCacheTest, CachesSuccessesOnlyAndReloadEmptiesIt) {
  const std::string path = testing::MakeTempDir("halfsky-auth") + "/tokens";
  { std::ofstream(path) << HashToken("a") << " pa admin\n" << HashToken("b") << " pb admin\n"; }
  AuthenticatorOptions options;
  options.cache_entries = 1;
  auto auth = Authenticator::FromTokensFile(path, options);
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ((*auth)->cached_principals(), 0u);
  EXPECT_EQ((*auth)->AuthenticateToken("nope").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ((*auth)->cached_principals(), 0u);  // failures are not cached
  ASSERT_TRUE((*auth)->AuthenticateToken("a").ok());
  EXPECT_EQ((*auth)->cached_principals(), 1u);
  auto b = (*auth)->AuthenticateToken("b");  // full: emptied, then b
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->name(), "pb");
  EXPECT_EQ((*auth)->cached_principals(), 1u);
  // b is cached; revoking it in the file changes nothing until Reload().
  { std::ofstream(path) << HashToken("a") << " pa admin\n"; }
  EXPECT_TRUE((*auth)->AuthenticateToken("b").ok());
  ASSERT_TRUE((*auth)->Reload().ok());
  EXPECT_EQ((*auth)->cached_principals(), 0u);
  EXPECT_EQ((*auth)->AuthenticateToken("b").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE((*auth)->AuthenticateToken("a").ok());
}

TEST(AuthenticatorCacheTest, ZeroEntriesDisablesTheCache) {
  auto store = TokenStore::FromString(absl::StrCat(HashToken("a"), " pa admin\n"));
  ASSERT_TRUE(store.ok()) << store.status();
  AuthenticatorOptions options;
  options.cache_entries = 0;
  auto auth = Authenticator::WithTokens(*std::move(store), "", options);
  EXPECT_TRUE(auth->AuthenticateMetadata(Metadata{{"authorization", "Bearer a"}}).ok());
  EXPECT_EQ(auth->cached_principals(), 0u);
}

TEST(ReadTokenFileTest, TrimsWhitespaceAndNamesAnUnreadablePath) {
  const std::string dir = testing::MakeTempDir("halfsky-auth");
  { std::ofstream(dir + "/token") << "  s3cret-token\r\n\n"; }
  EXPECT_EQ(ReadTokenFile(dir + "/token").value(), "s3cret-token");
  EXPECT_EQ(ReadTokenFile("").value(), "");
  auto missing = ReadTokenFile(dir + "/missing");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(dir + "/missing"));
}

}  // namespace
}  // namespace halfsky::auth
