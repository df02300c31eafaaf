// PostgresLeaderElector and Leadership on a real PostgreSQL server
// (tests/support/postgres.h): one leader at a time, strictly increasing
// epochs, and the leadership passing to a standby when the leader releases
// it, closes its connection, falls silent for the lease, or the server
// goes away.
#include "common/election/postgres_elector.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/election/leader_elector.h"
#include "gtest/gtest.h"
#include "tests/support/postgres.h"

namespace halfsky::election {
namespace {

using halfsky::testing::PostgresServer;

class PostgresElectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = PostgresServer::Shared();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *server;
    auto uri = server_->CreateDatabase(
        absl::StrCat("election_", ::testing::UnitTest::GetInstance()->current_test_info()->name()));
    ASSERT_TRUE(uri.ok()) << uri.status();
    uri_ = *uri;
  }

  PostgresElectorOptions Options(const std::string& holder,
                                 absl::Duration lease = absl::Seconds(2)) const {
    PostgresElectorOptions o;
    o.connection.conninfo = uri_;
    o.holder = holder;
    o.lease = lease;
    o.retry = absl::Milliseconds(50);
    return o;
  }

  // Acquire, giving up after `wait` (then CANCELLED).
  static absl::StatusOr<int64_t> AcquireWithin(LeaderElector& e, absl::Duration wait) {
    const absl::Time until = absl::Now() + wait;
    return e.Acquire([until] { return absl::Now() >= until; });
  }

  PostgresServer* server_ = nullptr;
  std::string uri_;
};

TEST_F(PostgresElectorTest, OneLeaderAtATimeAndEpochsIncrease) {
  PostgresLeaderElector a(Options("a"));
  PostgresLeaderElector b(Options("b"));
  absl::StatusOr<int64_t> ea = AcquireWithin(a, absl::Seconds(5));
  ASSERT_TRUE(ea.ok()) << ea.status();
  EXPECT_GE(*ea, 1);
  // b stands by while a holds it.
  absl::StatusOr<int64_t> eb = AcquireWithin(b, absl::Milliseconds(700));
  EXPECT_TRUE(absl::IsCancelled(eb.status())) << eb.status();
  EXPECT_TRUE(a.Renew().ok());
  // The table records who leads.
  auto who = server_->Psql(uri_.substr(uri_.rfind('/') + 1),
                           "SELECT role || ' ' || epoch || ' ' || holder FROM halfsky_leader");
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_NE(who->find(absl::StrCat("aggregation ", *ea, " a")), std::string::npos) << *who;

  a.Release();
  EXPECT_FALSE(a.Renew().ok());
  eb = AcquireWithin(b, absl::Seconds(5));
  ASSERT_TRUE(eb.ok()) << eb.status();
  EXPECT_GT(*eb, *ea);
  EXPECT_TRUE(b.Renew().ok());

  // a again, after b: a greater epoch still.
  b.Release();
  absl::StatusOr<int64_t> ea2 = AcquireWithin(a, absl::Seconds(5));
  ASSERT_TRUE(ea2.ok()) << ea2.status();
  EXPECT_GT(*ea2, *eb);
}

TEST_F(PostgresElectorTest, AClosedConnectionReleasesAtOnce) {
  auto a = std::make_unique<PostgresLeaderElector>(Options("a", absl::Seconds(30)));
  ASSERT_TRUE(AcquireWithin(*a, absl::Seconds(5)).ok());
  PostgresLeaderElector b(Options("b", absl::Seconds(30)));
  // Destroyed without Release (as a killed process' socket closes).
  a.reset();
  const absl::Time start = absl::Now();
  absl::StatusOr<int64_t> eb = AcquireWithin(b, absl::Seconds(5));
  ASSERT_TRUE(eb.ok()) << eb.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST_F(PostgresElectorTest, ASilentLeaderLosesTheLockAfterTheLease) {
  // a stops renewing (a stopped or hung process): the server ends its
  // session after the lease (idle_session_timeout) and b takes over; not
  // before.
  PostgresLeaderElector a(Options("a", absl::Seconds(2)));
  PostgresLeaderElector b(Options("b", absl::Seconds(2)));
  absl::StatusOr<int64_t> ea = AcquireWithin(a, absl::Seconds(5));
  ASSERT_TRUE(ea.ok()) << ea.status();
  const absl::Time start = absl::Now();
  absl::StatusOr<int64_t> eb = AcquireWithin(b, absl::Seconds(10));
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(eb.ok()) << eb.status();
  EXPECT_GT(*eb, *ea);
  EXPECT_GE(took, absl::Milliseconds(1500)) << "taken over before the lease ran out";
  EXPECT_LT(took, absl::Seconds(5));
  // a finds out at its next renewal.
  EXPECT_FALSE(a.Renew().ok());
}

TEST_F(PostgresElectorTest, ARenewingLeaderKeepsTheLockPastTheLease) {
  PostgresLeaderElector a(Options("a", absl::Seconds(2)));
  PostgresLeaderElector b(Options("b", absl::Seconds(2)));
  ASSERT_TRUE(AcquireWithin(a, absl::Seconds(5)).ok());
  std::atomic<bool> stop{false};
  absl::Status renewed;
  std::thread renewer([&] {
    while (!stop && renewed.ok()) {
      renewed = a.Renew();
      absl::SleepFor(absl::Milliseconds(500));
    }
  });
  absl::StatusOr<int64_t> eb = AcquireWithin(b, absl::Seconds(4));
  stop = true;
  renewer.join();
  EXPECT_TRUE(absl::IsCancelled(eb.status())) << eb.status();
  EXPECT_TRUE(renewed.ok()) << renewed;
}

TEST(PostgresElectorServerTest, LeadershipIsLostWhenTheServerGoesAndEpochsSurviveIt) {
  auto server = PostgresServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  PostgresElectorOptions o;
  o.connection.conninfo = (*server)->Uri();
  o.connection.connect_timeout = absl::Seconds(2);
  o.lease = absl::Seconds(2);
  o.retry = absl::Milliseconds(100);
  absl::Notification elected, lost;
  std::atomic<int64_t> first_epoch{0};
  absl::Status why;
  Leadership::Options lo;
  lo.renew_interval = absl::Milliseconds(200);
  lo.lease = absl::Seconds(2);
  Leadership leadership(std::make_unique<PostgresLeaderElector>(o), lo,
                        {[&](int64_t epoch) {
                           first_epoch = epoch;
                           elected.Notify();
                         },
                         [&](const absl::Status& w) {
                           why = w;
                           lost.Notify();
                         }});
  leadership.Start();
  ASSERT_TRUE(elected.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(leadership.leading());
  EXPECT_EQ(leadership.epoch(), first_epoch.load());
  (*server)->Kill();
  ASSERT_TRUE(lost.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_FALSE(leadership.leading());
  EXPECT_FALSE(why.ok());
  leadership.Stop();

  // The epoch row is durable: the next leader's epoch is greater.
  ASSERT_TRUE((*server)->Restart().ok());
  PostgresLeaderElector next(o);
  absl::StatusOr<int64_t> e = next.Acquire([] { return false; });
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_GT(*e, first_epoch.load());
}

TEST(LeadershipTest, StopReleasesWithoutCallingLost) {
  auto server = PostgresServer::Shared();
  ASSERT_TRUE(server.ok()) << server.status();
  auto uri = (*server)->CreateDatabase("election_stop");
  ASSERT_TRUE(uri.ok()) << uri.status();
  PostgresElectorOptions o;
  o.connection.conninfo = *uri;
  o.retry = absl::Milliseconds(50);
  std::atomic<int> lost_calls{0};
  absl::Notification elected;
  auto leadership = std::make_unique<Leadership>(
      std::make_unique<PostgresLeaderElector>(o), Leadership::Options{},
      Leadership::Callbacks{[&](int64_t) { elected.Notify(); },
                            [&](const absl::Status&) { ++lost_calls; }});
  leadership->Start();
  ASSERT_TRUE(elected.WaitForNotificationWithTimeout(absl::Seconds(10)));
  leadership->Stop();
  EXPECT_EQ(lost_calls.load(), 0);
  // Released: another takes it at once.
  PostgresLeaderElector b(o);
  const absl::Time until = absl::Now() + absl::Seconds(3);
  EXPECT_TRUE(b.Acquire([until] { return absl::Now() >= until; }).ok());
}

}  // namespace
}  // namespace halfsky::election
