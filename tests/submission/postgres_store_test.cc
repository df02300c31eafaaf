// PostgresSubmissionStore beyond the shared contract (store_contract_test.cc):
// its migrations, the libpq layer's refusals and error mapping, two stores
// (replicas) on one database following each other's commits, and
// reconnecting after the server restarts, and the form-change feed written
// concurrently through several review stores (replicas) while a follower
// reads it. On a real PostgreSQL (tests/support/postgres.h).
#include "services/submission/postgres_store.h"

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/postgres/migrations.h"
#include "common/postgres/postgres.h"
#include "common/proto/timestamp.h"
#include "common/status/status.h"
#include "gtest/gtest.h"
#include "services/submission/postgres_review_store.h"
#include "services/submission/review_service.h"
#include "services/submission/store_factory.h"
#include "tests/submission/test_util.h"
#include "tests/support/postgres.h"

namespace halfsky::submission {
namespace {

namespace v1 = ::halfsky::v1;
using ::halfsky::submission::testing::Number;

WriteRequest Req(const std::string& id, v1::DataValue v) {
  WriteRequest r;
  r.principal = "p";
  r.request_id = id;
  v.mutable_key()->set_sex(v1::SEX_TOTAL);
  v.mutable_key()->set_residence(v1::RESIDENCE_ALL);
  r.values.push_back({v, "HEALTH_BUREAU"});
  r.payload_hash = id + v.SerializeAsString();
  return r;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    auto server = halfsky::testing::PostgresServer::Shared();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *server;
    name_ = absl::StrCat("pgstore_", ++counter);
    auto uri = server_->CreateDatabase(name_);
    ASSERT_TRUE(uri.ok()) << uri.status();
    uri_ = *uri;
  }
  absl::StatusOr<std::unique_ptr<PostgresSubmissionStore>> Open() {
    PostgresSubmissionStore::Options o;
    o.conninfo = uri_;
    o.clock = &clock_;
    o.head_poll_interval = absl::Milliseconds(200);
    return PostgresSubmissionStore::Open(o);
  }

  FakeClock clock_{absl::FromUnixSeconds(1767225600)};
  halfsky::testing::PostgresServer* server_ = nullptr;
  std::string name_, uri_;
};

TEST_F(PostgresStoreTest, SchemaVersionRecordedAndNewerSchemaRefused) {
  {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.status();
  }
  auto version = server_->Psql(name_, "SELECT MAX(version) FROM schema_version");
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(std::stoi(*version), PostgresSubmissionStore::LatestSchemaVersion());
  ASSERT_TRUE(
      server_
          ->Psql(name_, absl::StrCat("INSERT INTO schema_version VALUES(",
                                     PostgresSubmissionStore::LatestSchemaVersion() + 1, ")"))
          .ok());
  auto refused = Open();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
}

TEST_F(PostgresStoreTest, ConnectionRefusesAPasswordInTheAddressAndNamesNoPassword) {
  postgres::Connection::Options o;
  o.conninfo = absl::StrCat("postgresql://halfsky:s3cret@127.0.0.1:", server_->port(), "/x");
  auto c = postgres::Connection::Open(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(c.status().message()).find("s3cret"), std::string::npos);
  o.conninfo = absl::StrCat("host=127.0.0.1 port=", server_->port(), " password=s3cret");
  EXPECT_EQ(postgres::Connection::Open(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.conninfo = "postgresql://halfsky@127.0.0.1:1/x";  // nothing listens on port 1
  EXPECT_EQ(postgres::Connection::Open(o).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(PostgresStoreTest, ErrorMapping) {
  EXPECT_EQ(postgres::CodeForSqlState("53100"), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(postgres::CodeForSqlState("40001"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(postgres::CodeForSqlState("40P01"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(postgres::CodeForSqlState("08006"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(postgres::CodeForSqlState("57P01"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(postgres::CodeForSqlState("23505"), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(postgres::CodeForSqlState("23503"), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(postgres::CodeForSqlState("28P01"), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(postgres::CodeForSqlState("42601"), absl::StatusCode::kInternal);
  // From a real server: a unique violation and a syntax error.
  postgres::Connection::Options o;
  o.conninfo = uri_;
  auto c = postgres::Connection::Open(o);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->Exec("CREATE TABLE t(x INT PRIMARY KEY); INSERT INTO t VALUES(1)").ok());
  absl::Status dup = c->Query("INSERT INTO t VALUES($1)", {postgres::Param::Int(1)}).status();
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists) << dup;
  EXPECT_EQ(c->Exec("SELEC 1").code(), absl::StatusCode::kInternal);
  // A failed statement inside InTransaction rolls back what it did.
  absl::Status tx = postgres::InTransaction(*c, [&] {
    HALFSKY_RETURN_IF_ERROR(c->Exec("INSERT INTO t VALUES(2)"));
    return c->Exec("INSERT INTO t VALUES(1)");
  });
  EXPECT_FALSE(tx.ok());
  auto n = c->QueryInt("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
}

// Two stores on one database, as two replicas: each sees the other's
// commits (head, listener, reads), and sequences stay one gapless run.
TEST_F(PostgresStoreTest, TwoReplicasFollowEachOthersCommits) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a.ok() && b.ok());
  std::atomic<int64_t> b_heard{0};
  (*b)->SetCommitListener([&](int64_t head) { b_heard = head; });
  auto r1 = (*a)->WriteAndWait(Req("one", Number("HEALTH-03", 2024, 1)));
  ASSERT_TRUE(r1.ok()) << r1.status();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (b_heard.load() < 1 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(b_heard.load(), 1) << "replica b was not told of a's commit";
  EXPECT_EQ((*b)->HeadSequence(), 1);
  // b revises the key a created, and replays a's request.
  auto r2 = (*b)->WriteAndWait(Req("two", Number("HEALTH-03", 2024, 2)));
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->results(0).outcome(), v1::WRITE_OUTCOME_REVISED);
  EXPECT_EQ(r2->results(0).revision(), 2);
  EXPECT_EQ(r2->results(0).sequence(), 2);
  auto replay = (*b)->WriteAndWait(Req("one", Number("HEALTH-03", 2024, 1)));
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed());
  // A year lock set through one replica binds the other.
  ASSERT_TRUE((*a)->SetYearLock(2024, true, "stats", "").ok());
  EXPECT_EQ((*b)->WriteAndWait(Req("three", Number("HEALTH-03", 2024, 3))).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto changes = (*a)->ReadChanges(0, 10);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[1].request_id(), "two");
}

// The server goes away: writes fail UNAVAILABLE (nothing half-written) or,
// if acknowledged, survive; they work again once it is back, on re-opened
// connections, and the sequences continue without a gap.
TEST_F(PostgresStoreTest, ReconnectsAfterTheServerRestarts) {
  halfsky::testing::PostgresServer::StartOptions o;
  o.fsync = false;
  auto own = halfsky::testing::PostgresServer::Start(o);
  ASSERT_TRUE(own.ok()) << own.status();
  auto uri = (*own)->CreateDatabase("restart");
  ASSERT_TRUE(uri.ok());
  uri_ = *uri;
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->WriteAndWait(Req("before", Number("HEALTH-03", 2024, 1))).ok());
  (*own)->Kill();
  // A backend orphaned by the killed postmaster may still commit before it
  // notices: then the write is acknowledged and must survive the restart;
  // otherwise it fails UNAVAILABLE and wrote nothing.
  auto during = (*store)->WriteAndWait(Req("during", Number("HEALTH-03", 2023, 1)));
  EXPECT_TRUE(during.ok() || during.status().code() == absl::StatusCode::kUnavailable)
      << during.status();
  const int64_t committed = during.ok() ? 2 : 1;
  ASSERT_TRUE((*own)->Restart().ok());
  absl::StatusOr<v1::SubmitBatchResponse> after;
  for (int i = 0; i < 50; ++i) {
    after = (*store)->WriteAndWait(Req("after", Number("HEALTH-03", 2022, 1)));
    if (after.ok()) break;
    EXPECT_EQ(after.status().code(), absl::StatusCode::kUnavailable) << after.status();
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->results(0).sequence(), committed + 1);
  auto history = (*store)->ReadChanges(0, 10);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), static_cast<size_t>(committed + 1));
  EXPECT_EQ(history->front().request_id(), "before");
  EXPECT_EQ(history->back().request_id(), "after");
  store->reset();
}

// An approval committed through one replica's review store locks the form's
// values for writes through every replica: the committer reloads the
// approved forms (Options::on_approvals) when review_events moved.
TEST_F(PostgresStoreTest, ApprovalOnOneReplicaLocksWritesThroughAnother) {
  auto catalog = testing::TestCatalog();
  ASSERT_NE(catalog, nullptr);
  ApprovedForms approved_b(catalog);
  PostgresSubmissionStore::Options o;
  o.conninfo = uri_;
  o.clock = &clock_;
  o.on_approvals = [&](const std::vector<v1::FormKey>& keys) { approved_b.ReplaceAll(keys); };
  auto b = PostgresSubmissionStore::Open(o);
  ASSERT_TRUE(b.ok()) << b.status();
  postgres::Connection::Options ro;
  ro.conninfo = uri_;
  auto review_a = PostgresReviewStore::Open(ro);
  ASSERT_TRUE(review_a.ok()) << review_a.status();

  auto write_b = [&](const std::string& id, double value) {
    WriteRequest r = Req(id, Number("HEALTH-03", 2024, value));
    r.precondition = [&](const WriteRequest& req) { return approved_b.CheckWrite(req); };
    return (*b)->WriteAndWait(std::move(r));
  };
  ASSERT_TRUE(write_b("before", 1).ok());

  v1::FormEvent approve;
  approve.mutable_key()->set_unit_code("HEALTH_BUREAU");
  approve.mutable_key()->set_area_code("610303");
  approve.mutable_key()->set_year(2024);
  approve.set_action(v1::FORM_ACTION_APPROVE);
  approve.set_from_state(v1::FORM_STATE_DRAFT);
  approve.set_to_state(v1::FORM_STATE_APPROVED);
  approve.set_actor("stats");
  auto form = (*review_a)->Transition(approve);
  ASSERT_TRUE(form.ok()) << form.status();
  EXPECT_EQ(form->state(), v1::FORM_STATE_APPROVED);
  // The transition is conditional on the state: a second one is refused.
  EXPECT_EQ((*review_a)->Transition(approve).status().code(),
            absl::StatusCode::kFailedPrecondition);

  auto refused = write_b("after", 2);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_EQ(ErrorReason(refused.status()), "FORM_APPROVED");

  v1::FormEvent unlock = approve;
  unlock.set_action(v1::FORM_ACTION_UNLOCK);
  unlock.set_from_state(v1::FORM_STATE_APPROVED);
  unlock.set_to_state(v1::FORM_STATE_DRAFT);
  unlock.set_reason("更正");
  ASSERT_TRUE((*review_a)->Transition(unlock).ok());
  EXPECT_TRUE(write_b("unlocked", 3).ok());
  auto history = (*review_a)->History(approve.key());
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 2u);
  auto forms = (*review_a)->ListForms(2024, "", v1::FORM_STATE_UNSPECIFIED);
  ASSERT_TRUE(forms.ok());
  ASSERT_EQ(forms->size(), 1u);
  EXPECT_EQ((*forms)[0].reason(), "更正");
}

// The form-change feed under concurrent writers on several replicas: three
// review stores (one connection each) on one database, two threads on each
// cycling their own forms through submit / return / submit / approve /
// unlock, while a fourth store follows ReadFormChanges after its cursor in
// small pages. Every transition must succeed (the forms are distinct), and
// the follower must end having seen each committed transition exactly once,
// form sequences 1, 2, 3 … with no gap or repeat, each page starting right
// after its cursor, and each matching what its writer was told (the
// sequence the transition listener heard on the writer's thread, the key,
// action, state and time it wrote). Seen to fail with the write lock
// removed (writers refused: duplicate event_id), and with the id taken
// from the BIGSERIAL without the lock (the follower skips an id that
// committed after a higher one).
TEST_F(PostgresStoreTest, FormFeedIsGaplessAndInCommitOrderAcrossReplicas) {
  {
    auto migrate = Open();
    ASSERT_TRUE(migrate.ok()) << migrate.status();
  }
  postgres::Connection::Options ro;
  ro.conninfo = uri_;
  constexpr int kReplicas = 3;
  constexpr int kThreadsPerReplica = 2;
  constexpr int kFormsPerThread = 3;
  constexpr int kTransitionsPerThread = 40;
  constexpr int kTotal = kReplicas * kThreadsPerReplica * kTransitionsPerThread;
  std::vector<std::unique_ptr<PostgresReviewStore>> replicas;
  // The sequence the listener heard, on the transition's own thread.
  static thread_local int64_t heard = 0;
  for (int i = 0; i < kReplicas; ++i) {
    auto r = PostgresReviewStore::Open(ro);
    ASSERT_TRUE(r.ok()) << r.status();
    (*r)->SetTransitionListener([](int64_t head) { heard = head; });
    replicas.push_back(*std::move(r));
  }
  auto follower_store = PostgresReviewStore::Open(ro);
  ASSERT_TRUE(follower_store.ok()) << follower_store.status();

  struct Committed {
    int64_t sequence;
    v1::FormKey key;
    v1::FormAction action;
    v1::FormState state;
    int64_t at_us;
  };
  struct Step {
    v1::FormAction action;
    v1::FormState from, to;
  };
  const Step kCycle[] = {
      {v1::FORM_ACTION_SUBMIT, v1::FORM_STATE_DRAFT, v1::FORM_STATE_SUBMITTED},
      {v1::FORM_ACTION_RETURN, v1::FORM_STATE_SUBMITTED, v1::FORM_STATE_RETURNED},
      {v1::FORM_ACTION_SUBMIT, v1::FORM_STATE_RETURNED, v1::FORM_STATE_SUBMITTED},
      {v1::FORM_ACTION_APPROVE, v1::FORM_STATE_SUBMITTED, v1::FORM_STATE_APPROVED},
      {v1::FORM_ACTION_UNLOCK, v1::FORM_STATE_APPROVED, v1::FORM_STATE_DRAFT},
  };
  constexpr int kCycleLength = sizeof(kCycle) / sizeof(kCycle[0]);

  absl::Mutex mu;
  std::vector<Committed> committed;   // ABSL_GUARDED_BY(mu)
  std::vector<std::string> failures;  // ABSL_GUARDED_BY(mu)
  auto fail = [&](std::string what) {
    absl::MutexLock l(&mu);
    failures.push_back(std::move(what));
  };
  std::atomic<bool> writers_done{false};

  std::vector<std::thread> writers;
  for (int w = 0; w < kReplicas * kThreadsPerReplica; ++w) {
    writers.emplace_back([&, w] {
      PostgresReviewStore& store = *replicas[w / kThreadsPerReplica];
      std::vector<int> step(kFormsPerThread, 0);
      int64_t last = 0;
      for (int i = 0; i < kTransitionsPerThread; ++i) {
        const int form = i % kFormsPerThread;
        const Step& s = kCycle[step[form] % kCycleLength];
        v1::FormEvent e;
        e.mutable_key()->set_unit_code(absl::StrCat("UNIT_", w));
        e.mutable_key()->set_area_code("610303");
        e.mutable_key()->set_year(2020 + form);
        e.set_action(s.action);
        e.set_from_state(s.from);
        e.set_to_state(s.to);
        e.set_actor(absl::StrCat("writer", w));
        if (s.action == v1::FORM_ACTION_RETURN || s.action == v1::FORM_ACTION_UNLOCK) {
          e.set_reason("更正");
        }
        const int64_t at_us = 1767225600000000 + w * 1000000 + i;
        SetTimestamp(absl::FromUnixMicros(at_us), e.mutable_at());
        heard = 0;
        auto form_after = store.Transition(e);
        if (!form_after.ok()) {
          fail(absl::StrCat("writer ", w, " transition ", i, ": ", form_after.status().ToString()));
          return;
        }
        if (form_after->state() != s.to) {
          fail(absl::StrCat("writer ", w, " transition ", i, ": state ", form_after->state()));
        }
        if (heard <= last) {
          fail(absl::StrCat("writer ", w, " transition ", i, ": heard sequence ", heard, " after ",
                            last));
        }
        last = heard;
        ++step[form];
        absl::MutexLock l(&mu);
        committed.push_back({heard, e.key(), s.action, s.to, at_us});
      }
    });
  }

  // The follower: pages of at most 7 after its cursor, throughout.
  std::vector<v1::FormChange> seen;
  std::thread follower([&] {
    int64_t cursor = 0;
    const absl::Time deadline = absl::Now() + absl::Seconds(15);
    while (absl::Now() < deadline) {
      const bool done = writers_done.load();
      auto page = (*follower_store)->ReadFormChanges(cursor, 7);
      if (!page.ok()) {
        fail(absl::StrCat("follower: ", page.status().ToString()));
        return;
      }
      for (const v1::FormChange& c : *page) {
        if (c.form_sequence() != cursor + 1) {
          fail(absl::StrCat("follower: sequence ", c.form_sequence(), " after cursor ", cursor));
        }
        cursor = c.form_sequence();
        seen.push_back(c);
      }
      if (page->empty()) {
        if (done) return;  // read to the head after every writer returned
        absl::SleepFor(absl::Milliseconds(1));
      }
    }
    fail("follower: did not reach the head in time");
  });
  for (std::thread& t : writers) t.join();
  writers_done = true;
  follower.join();

  absl::MutexLock l(&mu);
  for (const std::string& f : failures) ADD_FAILURE() << f;
  ASSERT_TRUE(failures.empty());
  ASSERT_EQ(committed.size(), static_cast<size_t>(kTotal));
  auto head = (*follower_store)->HeadFormSequence();
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(*head, kTotal);
  ASSERT_EQ(seen.size(), static_cast<size_t>(kTotal));
  std::map<int64_t, const Committed*> by_sequence;
  for (const Committed& c : committed) {
    EXPECT_TRUE(by_sequence.emplace(c.sequence, &c).second)
        << "two writers were told sequence " << c.sequence;
  }
  for (int i = 0; i < kTotal; ++i) {
    const v1::FormChange& c = seen[i];
    ASSERT_EQ(c.form_sequence(), i + 1);
    auto it = by_sequence.find(c.form_sequence());
    ASSERT_NE(it, by_sequence.end()) << "no writer was told sequence " << c.form_sequence();
    const Committed& w = *it->second;
    EXPECT_EQ(c.key().SerializeAsString(), w.key.SerializeAsString()) << c.ShortDebugString();
    EXPECT_EQ(c.action(), w.action) << c.ShortDebugString();
    EXPECT_EQ(c.state(), w.state) << c.ShortDebugString();
    EXPECT_EQ(absl::ToUnixMicros(FromTimestamp(c.at())), w.at_us) << c.ShortDebugString();
  }
}

TEST(StoreFlagTest, ParsesBothBackendsKeepsTheOldFlagAndRefusesTheRest) {
  auto legacy = ParseStoreFlag("", "var/submission.db");
  ASSERT_TRUE(legacy.ok());
  EXPECT_EQ(legacy->backend, StoreConfig::Backend::kSqlite);
  EXPECT_EQ(legacy->target, "var/submission.db");
  auto sqlite = ParseStoreFlag("sqlite:/data/s.db", "ignored");
  ASSERT_TRUE(sqlite.ok());
  EXPECT_EQ(sqlite->backend, StoreConfig::Backend::kSqlite);
  EXPECT_EQ(sqlite->target, "/data/s.db");
  auto pg = ParseStoreFlag("postgres:postgresql://halfsky@db:5432/halfsky", "ignored");
  ASSERT_TRUE(pg.ok());
  EXPECT_EQ(pg->backend, StoreConfig::Backend::kPostgres);
  EXPECT_EQ(pg->target, "postgresql://halfsky@db:5432/halfsky");
  EXPECT_EQ(ParseStoreFlag("mysql://x", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseStoreFlag("postgres:", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseStoreFlag("sqlite:", "").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace halfsky::submission
