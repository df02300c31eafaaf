#include "common/auth/token_store.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/auth/roles.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "halfsky/v1/catalog.pb.h"
#include "tests/support/process.h"

namespace halfsky::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kAlice = HashToken("alice-token");
const std::string kBob = HashToken("bob-token");

TEST(HashTokenTest, IsLowercaseHexSha256) {
  // FIPS 180-2 test vector.
  EXPECT_EQ(HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HashToken(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(TokenStoreTest, ParsesAndAuthenticates) {
  const std::string content = absl::StrCat("# comment\n\n   # indented comment\n", kAlice,
                                           "  alice\tunit:HEALTH,unit:EDUCATION\r\n",
                                           absl::AsciiStrToUpper(kBob), " bob statistics,admin\n");
  auto store = TokenStore::FromString(content, "t.txt");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(store->size(), 2u);
  EXPECT_THAT(store->PrincipalNames(), ElementsAre("alice", "bob"));
  EXPECT_THAT(store->UnitCodes(), ElementsAre("EDUCATION", "HEALTH"));

  auto alice = store->Authenticate("alice-token");
  ASSERT_TRUE(alice.ok()) << alice.status();
  EXPECT_EQ(alice->name(), "alice");
  EXPECT_TRUE(IsUnit(*alice, "HEALTH"));
  EXPECT_TRUE(IsUnit(*alice, "EDUCATION"));
  EXPECT_FALSE(HasRole(*alice, v1::ROLE_KIND_STATISTICS));

  auto bob = store->Authenticate("bob-token");  // hash written in uppercase
  ASSERT_TRUE(bob.ok()) << bob.status();
  EXPECT_TRUE(HasRole(*bob, v1::ROLE_KIND_ADMIN));
  EXPECT_TRUE(HasRole(*bob, v1::ROLE_KIND_STATISTICS));
}

TEST(TokenStoreTest, UnknownAndEmptyTokensAreUnauthenticatedWithoutEcho) {
  auto store = TokenStore::FromString(absl::StrCat(kAlice, " alice admin\n"));
  ASSERT_TRUE(store.ok());
  auto unknown = store->Authenticate("secret-guess-123");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(unknown.status().message()), Not(HasSubstr("secret-guess")));
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("令牌无效"));
  EXPECT_EQ(store->Authenticate("").status().code(), absl::StatusCode::kUnauthenticated);
  // The hash itself is not a token.
  EXPECT_EQ(store->Authenticate(kAlice).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(TokenStoreTest, SameNameMayHoldSeveralTokensWithSameRoles) {
  auto store = TokenStore::FromString(absl::StrCat(kAlice, " alice unit:HEALTH,statistics\n", kBob,
                                                   " alice statistics,unit:HEALTH\n"));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(store->Authenticate("bob-token")->name(), "alice");
  EXPECT_THAT(store->PrincipalNames(), ElementsAre("alice"));
}

struct BadCase {
  std::string content;
  std::string error;  // expected substring, including "file:line"
};

TEST(TokenStoreTest, RejectsEveryKindOfBadLineWithItsLineNumber) {
  const std::string h = kAlice;
  const std::vector<BadCase> cases = {
      {"# only comments\n\n", "t.txt: defines no principal"},
      {"\n" + h + " alice\n", "t.txt:2: expected 3 fields"},
      {h + " alice admin extra\n", "t.txt:1: expected 3 fields"},
      {"alice-token alice admin\n", "t.txt:1: first field must be the token's hex SHA-256"},
      {h.substr(1) + " alice admin\n", "t.txt:1: first field"},
      {h.substr(1) + "g alice admin\n", "t.txt:1: first field"},
      {h + " al/ice admin\n", "t.txt:1: principal name"},
      {h + " alice superuser\n", "t.txt:1: unknown role \"superuser\""},
      {h + " alice unit:\n", "t.txt:1: role \"unit:\" has no unit code"},
      {h + " alice admin,\n", "t.txt:1: unknown role \"\""},
      {h + " alice admin,admin\n", "t.txt:1: role \"admin\" listed twice"},
      {"# c\n" + h + " alice admin\n" + h + " bob admin\n",
       "t.txt:3: the same token hash is already on line 2"},
      {h + " alice admin\n" + kBob + " alice statistics\n",
       "t.txt:2: principal \"alice\" has different roles on line 1"},
  };
  for (const BadCase& c : cases) {
    auto store = TokenStore::FromString(c.content, "t.txt");
    ASSERT_FALSE(store.ok()) << c.content;
    EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument) << c.content;
    EXPECT_THAT(std::string(store.status().message()), HasSubstr(c.error)) << c.content;
  }
}

TEST(TokenStoreTest, CheckUnitCodesNamesUnknownUnits) {
  auto store = TokenStore::FromString(absl::StrCat(kAlice, " alice unit:HEALTH,unit:HEALTHH\n",
                                                   kBob, " bob unit:EDUCATION,statistics\n"));
  ASSERT_TRUE(store.ok()) << store.status();
  auto known = [](absl::string_view code) { return code == "HEALTH" || code == "EDUCATION"; };
  absl::Status status = store->CheckUnitCodes(known);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("unit:HEALTHH (principal \"alice\")"));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("EDUCATION")));
  EXPECT_TRUE(store->CheckUnitCodes([](absl::string_view) { return true; }).ok());
}

TEST(TokenStoreTest, FromFileNamesTheFile) {
  const std::string dir = testing::MakeTempDir("halfsky-tokens");
  const std::string path = dir + "/tokens.txt";
  auto missing = TokenStore::FromFile(path);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(path));
  {
    std::ofstream out(path);
    out << kAlice << " alice admin\n"
        << "bad line\n";
  }
  auto bad = TokenStore::FromFile(path);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr(path + ":2:"));
}

TEST(TokenStoreTest, ShippedExampleParsesAndItsDocumentedTokensWork) {
  auto store =
      TokenStore::FromFile(std::string(HALFSKY_SOURCE_DIR) + "/deploy/local/tokens.example");
  ASSERT_TRUE(store.ok()) << store.status();
  auto health = store->Authenticate("example-health-bureau-token");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->name(), "health-bureau-system");
  EXPECT_TRUE(IsUnit(*health, "HEALTH"));
  EXPECT_EQ(store->Authenticate("example-federation-token")->name(), "womens-federation-system");
  EXPECT_TRUE(HasRole(*store->Authenticate("example-statistics-token"), v1::ROLE_KIND_STATISTICS));
  EXPECT_TRUE(HasRole(*store->Authenticate("example-assessment-token"), v1::ROLE_KIND_ASSESSMENT));
  EXPECT_TRUE(HasRole(*store->Authenticate("example-admin-token"), v1::ROLE_KIND_ADMIN));

  // Its unit roles name real member units of the shipped catalog.
  v1::Catalog catalog;
  const std::string units =
      testing::ReadFile(std::string(HALFSKY_SOURCE_DIR) + "/deploy/catalog/member_units.textproto");
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(units, &catalog));
  ASSERT_FALSE(catalog.member_units().empty());
  auto known = [&catalog](absl::string_view code) {
    for (const auto& unit : catalog.member_units()) {
      if (unit.code() == code) {
        return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(store->CheckUnitCodes(known).ok()) << store->CheckUnitCodes(known);
}

}  // namespace
}  // namespace halfsky::auth
