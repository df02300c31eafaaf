// --leader_election and its companions: what is refused before anything
// connects (pure; no database).
#include "common/election/election_flags.h"

#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

ABSL_DECLARE_FLAG(std::string, leader_election);
ABSL_DECLARE_FLAG(std::string, leader_election_password_file);
ABSL_DECLARE_FLAG(absl::Duration, leader_election_lease);

namespace halfsky::election {
namespace {

class ElectionFlagsTest : public ::testing::Test {
 protected:
  void TearDown() override {
    absl::SetFlag(&FLAGS_leader_election, "");
    absl::SetFlag(&FLAGS_leader_election_password_file, "");
    absl::SetFlag(&FLAGS_leader_election_lease, absl::Seconds(5));
  }
};

TEST_F(ElectionFlagsTest, EmptyMeansNoElection) {
  auto e = ElectorFromFlags("aggregation");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(*e, nullptr);
}

TEST_F(ElectionFlagsTest, ABadValueIsRefusedAndNamed) {
  for (const char* bad : {"etcd:127.0.0.1:2379", "127.0.0.1:5432", "postgres"}) {
    absl::SetFlag(&FLAGS_leader_election, bad);
    auto e = ElectorFromFlags("aggregation");
    EXPECT_TRUE(absl::IsInvalidArgument(e.status())) << bad << ": " << e.status();
    EXPECT_TRUE(absl::StrContains(e.status().message(), "--leader_election")) << e.status();
  }
}

TEST_F(ElectionFlagsTest, APasswordOnTheCommandLineIsRefused) {
  for (const char* bad :
       {"postgres:postgresql://u:secret@127.0.0.1/db", "postgres:host=127.0.0.1 password=secret"}) {
    absl::SetFlag(&FLAGS_leader_election, bad);
    auto e = ElectorFromFlags("aggregation");
    EXPECT_TRUE(absl::IsInvalidArgument(e.status())) << bad << ": " << e.status();
    EXPECT_FALSE(absl::StrContains(e.status().message(), "secret")) << e.status();
  }
}

TEST_F(ElectionFlagsTest, ALeaseUnderTwoSecondsAndAMissingPasswordFileAreRefused) {
  absl::SetFlag(&FLAGS_leader_election, "postgres:host=127.0.0.1");
  absl::SetFlag(&FLAGS_leader_election_lease, absl::Milliseconds(500));
  EXPECT_TRUE(absl::IsInvalidArgument(ElectorFromFlags("aggregation").status()));
  absl::SetFlag(&FLAGS_leader_election_lease, absl::Seconds(5));
  absl::SetFlag(&FLAGS_leader_election_password_file, "/nonexistent/halfsky-pg-password");
  EXPECT_FALSE(ElectorFromFlags("aggregation").ok());
  absl::SetFlag(&FLAGS_leader_election_password_file, "");
  auto e = ElectorFromFlags("aggregation");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_NE(*e, nullptr);
}

}  // namespace
}  // namespace halfsky::election
