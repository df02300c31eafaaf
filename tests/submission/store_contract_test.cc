// The store contract (services/submission/store.h), one typed suite run on
// every backend: SQLite on a real file and PostgreSQL on a real server
// (tests/support/postgres.h: initdb in a temporary directory, a server on a
// free port, removed afterwards). Backend-specific behaviour (SQLite's WAL,
// page cache and migrations from old versions) stays in
// sqlite_store_test.cc and postgres_store_test.cc.
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/status/status.h"
#include "gmock/gmock.h"
#include "google/protobuf/arena.h"
#include "gtest/gtest.h"
#include "services/submission/postgres_store.h"
#include "services/submission/sqlite_store.h"
#include "tests/submission/test_util.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"

namespace halfsky::submission {
namespace {

namespace v1 = ::halfsky::v1;
using ::halfsky::submission::testing::Number;
using ::halfsky::submission::testing::Story;

// A fresh SQLite file per test.
struct SqliteBackend {
  std::string path;
  void Init() { path = halfsky::testing::MakeTempDir("submission-store") + "/submission.db"; }
  absl::StatusOr<std::unique_ptr<SubmissionStore>> Open(Clock* clock) {
    SqliteSubmissionStore::Options o;
    o.path = path;
    o.clock = clock;
    auto s = SqliteSubmissionStore::Open(o);
    if (!s.ok()) return s.status();
    return std::unique_ptr<SubmissionStore>(std::move(*s));
  }
  static int64_t CommitCount(SubmissionStore* s) {
    return static_cast<SqliteSubmissionStore*>(s)->commit_count();
  }
};

// A fresh database per test on the binary's shared server.
struct PostgresBackend {
  std::string uri;
  void Init() {
    static int counter = 0;
    auto server = halfsky::testing::PostgresServer::Shared();
    ASSERT_TRUE(server.ok()) << server.status();
    auto created = (*server)->CreateDatabase(absl::StrCat("contract_", ++counter));
    ASSERT_TRUE(created.ok()) << created.status();
    uri = *created;
  }
  absl::StatusOr<std::unique_ptr<SubmissionStore>> Open(Clock* clock) {
    PostgresSubmissionStore::Options o;
    o.conninfo = uri;
    o.clock = clock;
    auto s = PostgresSubmissionStore::Open(o);
    if (!s.ok()) return s.status();
    return std::unique_ptr<SubmissionStore>(std::move(*s));
  }
  static int64_t CommitCount(SubmissionStore* s) {
    return static_cast<PostgresSubmissionStore*>(s)->commit_count();
  }
};

WriteRequest WithdrawReq(const std::string& principal, const std::string& id,
                         std::vector<v1::DataKey> keys, const std::string& reason,
                         const std::string& unit = "HEALTH_BUREAU") {
  WriteRequest r;
  r.principal = principal;
  r.request_id = id;
  for (auto& k : keys) {
    k.set_sex(v1::SEX_TOTAL);
    k.set_residence(v1::RESIDENCE_ALL);
    ValueToWrite v;
    *v.value.mutable_key() = k;
    v.unit_code = unit;
    v.withdraw = true;
    v.change_reason = reason;
    r.values.push_back(std::move(v));
  }
  r.payload_hash = "withdraw-" + id + "-" + reason;
  return r;
}

v1::DataKey KeyOf(const v1::DataValue& v) {
  v1::DataKey k = v.key();
  k.set_sex(v1::SEX_TOTAL);
  k.set_residence(v1::RESIDENCE_ALL);
  return k;
}

template <typename Backend>
class StoreContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.Init();
    if (HasFatalFailure()) return;
    Reopen();
  }
  void Reopen() {
    store_.reset();
    auto s = backend_.Open(&clock_);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  int64_t CommitCount() { return Backend::CommitCount(store_.get()); }
  WriteRequest Req(const std::string& principal, const std::string& id,
                   std::vector<v1::DataValue> values, const std::string& unit = "HEALTH_BUREAU") {
    WriteRequest r;
    r.principal = principal;
    r.request_id = id;
    for (auto& v : values) {
      v.mutable_key()->set_sex(v1::SEX_TOTAL);
      v.mutable_key()->set_residence(v1::RESIDENCE_ALL);
      r.values.push_back({v, unit});
    }
    r.payload_hash = "hash-of-" + id + "-" + std::to_string(r.values.size()) + "-" +
                     (r.values.empty() ? "" : r.values[0].value.SerializeAsString());
    return r;
  }

  FakeClock clock_{absl::FromUnixSeconds(1767225600)};  // 2026-01-01
  Backend backend_;
  std::unique_ptr<SubmissionStore> store_;
};

struct BackendNames {
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, SqliteBackend> ? "Sqlite" : "Postgres";
  }
};
using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
TYPED_TEST_SUITE(StoreContractTest, Backends, BackendNames);

TYPED_TEST(StoreContractTest, CreateReviseUnchanged) {
  auto r1 = this->store_->WriteAndWait(this->Req("p", "a", {Number("HEALTH-03", 2024, 3)}));
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(r1->results(0).outcome(), v1::WRITE_OUTCOME_CREATED);
  EXPECT_EQ(r1->results(0).revision(), 1);
  EXPECT_EQ(r1->results(0).sequence(), 1);
  EXPECT_EQ(r1->created_count(), 1);

  auto r2 = this->store_->WriteAndWait(this->Req("p", "b", {Number("HEALTH-03", 2024, 3)}));
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);
  EXPECT_EQ(r2->results(0).revision(), 1);
  EXPECT_EQ(r2->results(0).sequence(), 0);
  EXPECT_EQ(r2->sequences().first(), 0);

  auto v = Number("HEALTH-03", 2024, 3);
  v.set_note("changed note only");
  auto r3 = this->store_->WriteAndWait(this->Req("p", "c", {v}));
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->results(0).outcome(), v1::WRITE_OUTCOME_REVISED);
  EXPECT_EQ(r3->results(0).revision(), 2);
  EXPECT_EQ(r3->results(0).sequence(), 2);
  EXPECT_EQ(this->store_->HeadSequence(), 2);

  v.mutable_key()->set_sex(v1::SEX_TOTAL);
  v.mutable_key()->set_residence(v1::RESIDENCE_ALL);
  auto history = this->store_->History(v.key());
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].revision(), 1);
  EXPECT_EQ((*history)[1].data_value().note(), "changed note only");
  EXPECT_EQ((*history)[1].request_id(), "c");
  EXPECT_EQ((*history)[1].submitted_by(), "p");
  EXPECT_EQ((*history)[1].unit_code(), "HEALTH_BUREAU");
}

TYPED_TEST(StoreContractTest, IdempotentReplayAndConflict) {
  WriteRequest req =
      this->Req("p", "same", {Number("HEALTH-03", 2024, 3), Number("HEALTH-03", 2023, 2)});
  auto first = this->store_->WriteAndWait(req);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->replayed());
  auto again = this->store_->WriteAndWait(req);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->results_size(), 2);
  EXPECT_EQ(again->results(1).key().year(), 2023);
  EXPECT_EQ(again->results(1).outcome(), v1::WRITE_OUTCOME_CREATED);
  EXPECT_EQ(again->sequences().last(), first->sequences().last());
  EXPECT_EQ(this->store_->HeadSequence(), 2);

  WriteRequest other = this->Req("p", "same", {Number("HEALTH-03", 2024, 9)});
  auto conflict = this->store_->WriteAndWait(other);
  EXPECT_EQ(conflict.status().code(), absl::StatusCode::kAlreadyExists);
  // Another principal may use the same id.
  auto other_principal =
      this->store_->WriteAndWait(this->Req("q", "same", {Number("HEALTH-03", 2022, 1)}));
  ASSERT_TRUE(other_principal.ok());
  EXPECT_FALSE(other_principal->replayed());
}

TYPED_TEST(StoreContractTest, LockedYearFailsWithoutWriting) {
  auto lock = this->store_->SetYearLock(2024, true, "stats", "审核完毕");
  ASSERT_TRUE(lock.ok());
  EXPECT_TRUE(lock->locked());
  auto r = this->store_->WriteAndWait(
      this->Req("p", "x", {Number("HEALTH-03", 2023, 1), Number("HEALTH-03", 2024, 1)}));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(r.status()), "YEAR_LOCKED");
  EXPECT_EQ(this->store_->HeadSequence(), 0);
  ASSERT_TRUE(this->store_->SetYearLock(2024, false, "stats", "更正").ok());
  EXPECT_TRUE(this->store_->WriteAndWait(this->Req("p", "x", {Number("HEALTH-03", 2024, 1)})).ok());
  auto locks = this->store_->ListYearLocks();
  ASSERT_TRUE(locks.ok());
  ASSERT_EQ(locks->history.size(), 2u);
  EXPECT_TRUE(locks->history[0].locked());
  EXPECT_FALSE(locks->history[1].locked());
  EXPECT_EQ(locks->history[1].reason(), "更正");
  ASSERT_EQ(locks->current.size(), 1u);
  EXPECT_FALSE(locks->current[0].locked());
}

TYPED_TEST(StoreContractTest, ConcurrentWritersGetGaplessSequencesAndOwnResults) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  std::mutex mu;
  std::set<int64_t> sequences;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Each thread its own area/year combination space: year 2020..2026, value distinct.
        auto v = Number("HEALTH-03", 2020 + (i % 7), t * 1000 + i);
        v.mutable_key()->set_area_code(t % 2 == 0 ? "610303001" : "610303100");
        v.set_note("t" + std::to_string(t) + "i" + std::to_string(i));
        auto r = this->store_->WriteAndWait(
            this->Req("p" + std::to_string(t), "r" + std::to_string(i), {v}));
        if (!r.ok() || r->results(0).sequence() == 0) {
          ++failures;
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        sequences.insert(r->results(0).sequence());
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(sequences.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(*sequences.begin(), 1);
  EXPECT_EQ(*sequences.rbegin(), kThreads * kPerThread);
  std::cerr << "group commits: " << this->CommitCount() << " for " << kThreads * kPerThread
            << " requests\n";
  auto changes = this->store_->ReadChanges(0, 10000);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 0; i < changes->size(); ++i) {
    EXPECT_EQ((*changes)[i].sequence(), static_cast<int64_t>(i + 1));
  }
}

// The change feed's read on an arena is bounded by count and by bytes: no
// revision is added once those taken hold max_bytes (the first is always
// taken), and the next read resumes right after the last one taken.
TYPED_TEST(StoreContractTest, ReadChangesOnArenaStopsAtItsByteBudget) {
  std::vector<v1::DataValue> values;
  for (int year = 2020; year <= 2029; ++year) {
    v1::DataValue v = Number("HEALTH-03", year, year);
    v.set_note(std::string(2000, 'n'));
    values.push_back(std::move(v));
  }
  ASSERT_TRUE(this->store_->WriteAndWait(this->Req("p", "big", values)).ok());
  auto sequences = [](const absl::StatusOr<std::vector<v1::Revision*>>& page) {
    std::vector<int64_t> out;
    for (const v1::Revision* r : *page) {
      out.push_back(r->sequence());
      EXPECT_EQ(r->data_value().note().size(), 2000u);
    }
    return out;
  };
  google::protobuf::Arena arena;
  // ~2 050 bytes each: the third brings the page past 5 000.
  auto page = this->store_->ReadChangesOnArena(0, 100, 5000, &arena);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(sequences(page), (std::vector<int64_t>{1, 2, 3}));
  page = this->store_->ReadChangesOnArena(3, 100, 5000, &arena);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(sequences(page), (std::vector<int64_t>{4, 5, 6}));
  // On the budget exactly: the page that reaches it is closed there.
  auto size_of = [](const v1::Revision* r) {
    return r->data_value().ByteSizeLong() + r->change_reason().size();
  };
  page = this->store_->ReadChangesOnArena(0, 100, size_t{1} << 20, &arena);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->size(), 10u);
  const size_t two = size_of((*page)[0]) + size_of((*page)[1]);
  EXPECT_EQ(sequences(this->store_->ReadChangesOnArena(0, 100, two, &arena)),
            (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(sequences(this->store_->ReadChangesOnArena(0, 100, two + 1, &arena)),
            (std::vector<int64_t>{1, 2, 3}));
  // One revision larger than the budget still comes, alone.
  page = this->store_->ReadChangesOnArena(6, 100, 1, &arena);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(sequences(page), (std::vector<int64_t>{7}));
  // The count still bounds it, and the budget does not cut short a page
  // that fits.
  page = this->store_->ReadChangesOnArena(0, 2, size_t{1} << 20, &arena);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(sequences(page), (std::vector<int64_t>{1, 2}));
  page = this->store_->ReadChangesOnArena(7, 100, size_t{1} << 20, &arena);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(sequences(page), (std::vector<int64_t>{8, 9, 10}));
}

// A page larger than the default implementation's chunks of 500 (what the
// PostgreSQL store reads through) comes whole and in order, and the count
// still bounds it across chunks.
TYPED_TEST(StoreContractTest, ReadChangesOnArenaPagesAcrossChunks) {
  std::vector<v1::DataValue> values;
  for (int i = 0; i < 1200; ++i) {
    values.push_back(Number(i % 2 == 0 ? "HEALTH-03" : "HEALTH-01", 2020 + (i / 2) % 10, i));
  }
  // 1 200 values over 20 keys: 60 revisions each, one request per round.
  for (int round = 0; round < 60; ++round) {
    std::vector<v1::DataValue> batch(values.begin() + round * 20, values.begin() + round * 20 + 20);
    ASSERT_TRUE(
        this->store_->WriteAndWait(this->Req("p", "chunk" + std::to_string(round), batch)).ok());
  }
  google::protobuf::Arena arena;
  for (int limit : {1200, 1001}) {
    auto page = this->store_->ReadChangesOnArena(0, limit, size_t{1} << 30, &arena);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_EQ(page->size(), static_cast<size_t>(limit));
    for (int i = 0; i < limit; ++i) {
      ASSERT_EQ((*page)[i]->sequence(), i + 1);
    }
  }
}

TYPED_TEST(StoreContractTest, FailingRequestInAGroupDoesNotPoisonOthers) {
  ASSERT_TRUE(this->store_->SetYearLock(2021, true, "stats", "").ok());
  // Queue many writes at once so they share groups; every third is locked.
  std::vector<absl::Notification> done(30);
  std::vector<absl::StatusOr<v1::SubmitBatchResponse>> results(30);
  for (int i = 0; i < 30; ++i) {
    auto v = Number("HEALTH-03", i % 3 == 0 ? 2021 : 2022, i);
    v.mutable_key()->set_area_code(i % 2 == 0 ? "610303001" : "610303100");
    this->store_->Write(this->Req("p", "g" + std::to_string(i), {v}), [&, i](auto r) {
      results[i] = std::move(r);
      done[i].Notify();
    });
  }
  int ok = 0;
  for (int i = 0; i < 30; ++i) {
    done[i].WaitForNotification();
    if (i % 3 == 0) {
      EXPECT_EQ(results[i].status().code(), absl::StatusCode::kFailedPrecondition);
    } else {
      ASSERT_TRUE(results[i].ok()) << results[i].status();
      ++ok;
    }
  }
  EXPECT_EQ(this->store_->HeadSequence(), ok);
  auto changes = this->store_->ReadChanges(0, 1000);
  ASSERT_TRUE(changes.ok());
  for (size_t i = 0; i < changes->size(); ++i) {
    EXPECT_EQ((*changes)[i].sequence(), static_cast<int64_t>(i + 1));
    EXPECT_EQ((*changes)[i].data_value().key().year(), 2022);
  }
}

TYPED_TEST(StoreContractTest, SurvivesReopenWithSequencesLocksAndRequestIds) {
  ASSERT_TRUE(this->store_->WriteAndWait(this->Req("p", "a", {Number("HEALTH-03", 2024, 3)})).ok());
  ASSERT_TRUE(this->store_->SetYearLock(2020, true, "stats", "").ok());
  this->Reopen();
  EXPECT_EQ(this->store_->HeadSequence(), 1);
  auto replay = this->store_->WriteAndWait(this->Req("p", "a", {Number("HEALTH-03", 2024, 3)}));
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed());
  EXPECT_EQ(this->store_->WriteAndWait(this->Req("p", "z", {Number("HEALTH-03", 2020, 3)}))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  auto next = this->store_->WriteAndWait(this->Req("p", "b", {Number("HEALTH-03", 2023, 3)}));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->results(0).sequence(), 2);
}

TYPED_TEST(StoreContractTest, ListCurrentFiltersAndPages) {
  std::vector<v1::DataValue> values;
  for (int y = 2020; y <= 2025; ++y) {
    values.push_back(Number("HEALTH-03", y, y - 2000));
  }
  ASSERT_TRUE(this->store_->WriteAndWait(this->Req("p", "a", values)).ok());
  ASSERT_TRUE(
      this->store_->WriteAndWait(this->Req("p", "b", {Number("HEALTH-03", 2021, 99)})).ok());
  CurrentFilter f;
  std::vector<int> years;
  int64_t cursor = 0;
  do {
    auto page = this->store_->ListCurrent(f, cursor, 4);
    ASSERT_TRUE(page.ok());
    for (const auto& r : page->revisions) {
      years.push_back(r.data_value().key().year());
      if (r.data_value().key().year() == 2021) {
        EXPECT_EQ(r.revision(), 2);
        EXPECT_EQ(r.data_value().value(), 99);
      }
    }
    cursor = page->next_cursor;
  } while (cursor != 0);
  EXPECT_THAT(years, ::testing::ElementsAre(2020, 2021, 2022, 2023, 2024, 2025));
  f.years = {2022, 2024};
  auto filtered = this->store_->ListCurrent(f, 0, 100);
  ASSERT_TRUE(filtered.ok());
  EXPECT_EQ(filtered->revisions.size(), 2u);
  f.years.clear();
  f.unit_code = "EDU_BUREAU";
  EXPECT_TRUE(this->store_->ListCurrent(f, 0, 100)->revisions.empty());
}

TYPED_TEST(StoreContractTest, ReportingTimesFirstAndLast) {
  ASSERT_TRUE(this->store_->WriteAndWait(this->Req("p", "a", {Number("HEALTH-03", 2024, 3)})).ok());
  this->clock_.Advance(absl::Hours(48));
  ASSERT_TRUE(this->store_->WriteAndWait(this->Req("p", "b", {Number("HEALTH-03", 2024, 4)})).ok());
  this->clock_.Advance(absl::Hours(48));
  // Unchanged: does not move last_at.
  ASSERT_TRUE(this->store_->WriteAndWait(this->Req("p", "c", {Number("HEALTH-03", 2024, 4)})).ok());
  auto times = this->store_->ListReportingTimes(2024);
  ASSERT_TRUE(times.ok());
  ASSERT_EQ(times->size(), 1u);
  EXPECT_EQ((*times)[0].unit_code, "HEALTH_BUREAU");
  EXPECT_EQ((*times)[0].last_at - (*times)[0].first_at, absl::Hours(48));
}

TYPED_TEST(StoreContractTest, UnchangedWriteOfAnotherUnitReportsForThatUnit) {
  // Two responsible units: the second confirms the figure the first wrote.
  ASSERT_TRUE(this->store_->WriteAndWait(this->Req("p", "a", {Number("HEALTH-03", 2024, 3)})).ok());
  this->clock_.Advance(absl::Hours(24));
  auto confirmed = this->store_->WriteAndWait(
      this->Req("q", "b", {Number("HEALTH-03", 2024, 3)}, "WOMENS_FEDERATION"));
  ASSERT_TRUE(confirmed.ok()) << confirmed.status();
  EXPECT_EQ(confirmed->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);
  this->clock_.Advance(absl::Hours(24));
  // Confirming again moves nothing.
  ASSERT_TRUE(
      this->store_
          ->WriteAndWait(this->Req("q", "c", {Number("HEALTH-03", 2024, 3)}, "WOMENS_FEDERATION"))
          .ok());
  auto times = this->store_->ListReportingTimes(2024);
  ASSERT_TRUE(times.ok());
  ASSERT_EQ(times->size(), 2u);
  std::map<std::string, ReportingTimes> by_unit;
  for (const auto& t : *times) {
    by_unit[t.unit_code] = t;
  }
  ASSERT_EQ(by_unit.count("WOMENS_FEDERATION"), 1u);
  EXPECT_EQ(by_unit["WOMENS_FEDERATION"].first_at - by_unit["HEALTH_BUREAU"].first_at,
            absl::Hours(24));
  EXPECT_EQ(by_unit["WOMENS_FEDERATION"].last_at, by_unit["WOMENS_FEDERATION"].first_at);
  EXPECT_EQ(by_unit["HEALTH_BUREAU"].last_at, by_unit["HEALTH_BUREAU"].first_at);
}

// Narratives are kept per unit (DataKey.unit_code): two responsible units of
// one objective each have their own key for a year, with its own revisions
// and history, both current; the directory keeps them apart across a
// reopen; the change feed, ListCurrent and History carry the unit.
TYPED_TEST(StoreContractTest, TwoUnitsNarrativesOfOneObjectiveAreTwoKeys) {
  const v1::DataValue health1 = Story("HEALTH-05", 2024, "卫健局：建成新院区", "HEALTH_BUREAU");
  const v1::DataValue edu1 = Story("HEALTH-05", 2024, "教育局：开设健康课", "EDU_BUREAU");
  auto a = this->store_->WriteAndWait(this->Req("h", "a", {health1}, "HEALTH_BUREAU"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->results(0).outcome(), v1::WRITE_OUTCOME_CREATED);
  auto b = this->store_->WriteAndWait(this->Req("e", "b", {edu1}, "EDU_BUREAU"));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->results(0).outcome(), v1::WRITE_OUTCOME_CREATED);  // not a revision of HEALTH's
  EXPECT_EQ(b->results(0).revision(), 1);
  EXPECT_EQ(b->results(0).key().unit_code(), "EDU_BUREAU");
  const v1::DataValue health2 = Story("HEALTH-05", 2024, "卫健局：更正", "HEALTH_BUREAU");
  auto c = this->store_->WriteAndWait(this->Req("h", "c", {health2}, "HEALTH_BUREAU"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->results(0).outcome(), v1::WRITE_OUTCOME_REVISED);
  EXPECT_EQ(c->results(0).revision(), 2);
  // The statistics bureau revises EDU's narrative: credited to no unit, still
  // EDU's narrative.
  const v1::DataValue edu2 = Story("HEALTH-05", 2024, "教育局：统计局代录", "EDU_BUREAU");
  auto d = this->store_->WriteAndWait(this->Req("s", "d", {edu2}, ""));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->results(0).revision(), 2);

  auto check = [&] {
    auto all = this->store_->ListCurrent({}, 0, 10);
    ASSERT_TRUE(all.ok()) << all.status();
    ASSERT_EQ(all->revisions.size(), 2u);
    std::map<std::string, v1::Revision> by_unit;
    for (const auto& r : all->revisions) {
      by_unit[r.data_value().key().unit_code()] = r;
    }
    ASSERT_EQ(by_unit.count("HEALTH_BUREAU"), 1u);
    ASSERT_EQ(by_unit.count("EDU_BUREAU"), 1u);
    EXPECT_EQ(by_unit["HEALTH_BUREAU"].data_value().narrative().text(), "卫健局：更正");
    EXPECT_EQ(by_unit["EDU_BUREAU"].data_value().narrative().text(), "教育局：统计局代录");
    EXPECT_EQ(by_unit["EDU_BUREAU"].unit_code(), "");
    // A unit's listing has its own narrative even when statistics wrote its
    // current revision.
    CurrentFilter edu;
    edu.unit_code = "EDU_BUREAU";
    auto mine = this->store_->ListCurrent(edu, 0, 10);
    ASSERT_TRUE(mine.ok());
    ASSERT_EQ(mine->revisions.size(), 1u);
    EXPECT_EQ(mine->revisions[0].data_value().key().unit_code(), "EDU_BUREAU");
    for (const auto& [unit, texts] : std::map<std::string, std::vector<std::string>>{
             {"HEALTH_BUREAU", {"卫健局：建成新院区", "卫健局：更正"}},
             {"EDU_BUREAU", {"教育局：开设健康课", "教育局：统计局代录"}}}) {
      v1::DataKey key = health1.key();
      key.set_sex(v1::SEX_TOTAL);
      key.set_residence(v1::RESIDENCE_ALL);
      key.set_unit_code(unit);
      auto history = this->store_->History(key);
      ASSERT_TRUE(history.ok()) << history.status();
      ASSERT_EQ(history->size(), texts.size()) << unit;
      for (size_t i = 0; i < texts.size(); ++i) {
        EXPECT_EQ((*history)[i].data_value().narrative().text(), texts[i]);
        EXPECT_EQ((*history)[i].revision(), static_cast<int64_t>(i + 1));
        EXPECT_EQ((*history)[i].data_value().key().unit_code(), unit);
      }
    }
    v1::DataKey nobody = health1.key();
    nobody.set_sex(v1::SEX_TOTAL);
    nobody.set_residence(v1::RESIDENCE_ALL);
    nobody.clear_unit_code();
    EXPECT_TRUE(this->store_->History(nobody)->empty());
    auto feed = this->store_->ReadChanges(0, 10);
    ASSERT_TRUE(feed.ok());
    ASSERT_EQ(feed->size(), 4u);
    EXPECT_EQ((*feed)[0].data_value().key().unit_code(), "HEALTH_BUREAU");
    EXPECT_EQ((*feed)[1].data_value().key().unit_code(), "EDU_BUREAU");
  };
  check();
  // Each unit reported for itself.
  auto times = this->store_->ListReportingTimes(2024);
  ASSERT_TRUE(times.ok());
  std::set<std::string> reported;
  for (const auto& t : *times) {
    reported.insert(t.unit_code + "/" + t.indicator_id);
  }
  EXPECT_EQ(reported, (std::set<std::string>{"EDU_BUREAU/HEALTH-05", "HEALTH_BUREAU/HEALTH-05"}));

  this->Reopen();
  check();
  // The reloaded directory tells the two keys apart.
  auto again = this->store_->WriteAndWait(
      this->Req("h", "e", {health2, Story("HEALTH-05", 2024, "教育局：第三版", "EDU_BUREAU")}, ""));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);
  EXPECT_EQ(again->results(1).outcome(), v1::WRITE_OUTCOME_REVISED);
  EXPECT_EQ(again->results(1).revision(), 3);
}

// The key directory is loaded at Open: keys written before a reopen are
// revised (or found unchanged), not created a second time.
TYPED_TEST(StoreContractTest, ReopenedStoreKnowsEveryKey) {
  ASSERT_TRUE(this->store_
                  ->WriteAndWait(this->Req(
                      "p", "a", {Number("HEALTH-03", 2023, 1), Number("HEALTH-03", 2024, 2)}))
                  .ok());
  this->Reopen();
  auto same = this->store_->WriteAndWait(this->Req("p", "b", {Number("HEALTH-03", 2023, 1)}));
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);
  auto changed = this->store_->WriteAndWait(
      this->Req("p", "c", {Number("HEALTH-03", 2024, 5), Number("HEALTH-03", 2025, 6)}));
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(changed->results(0).outcome(), v1::WRITE_OUTCOME_REVISED);
  EXPECT_EQ(changed->results(0).revision(), 2);
  EXPECT_EQ(changed->results(0).sequence(), 3);
  EXPECT_EQ(changed->results(1).outcome(), v1::WRITE_OUTCOME_CREATED);
  auto key = Number("HEALTH-03", 2024, 0).key();
  key.set_sex(v1::SEX_TOTAL);
  key.set_residence(v1::RESIDENCE_ALL);
  auto history = this->store_->History(key);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].data_value().value(), 5);
  auto current = this->store_->ListCurrent({}, 0, 100);
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->revisions.size(), 3u);
}

// A key's history is a chain through its revisions: it stays whole when
// revisions of several keys interleave, two requests of one group revise
// the same key, and the store is reopened in between.
TYPED_TEST(StoreContractTest, HistoryFollowsEachKeysChain) {
  auto a = [](double x) { return Number("HEALTH-03", 2023, x); };
  auto b = [](double x) { return Number("HEALTH-03", 2024, x); };
  ASSERT_TRUE(this->store_->WriteAndWait(this->Req("p", "1", {a(1), b(10)})).ok());
  ASSERT_TRUE(this->store_->WriteAndWait(this->Req("p", "2", {b(20)})).ok());
  // Two requests queued together usually share a group.
  absl::Notification first, second;
  this->store_->Write(this->Req("p", "3", {a(2), b(30)}), [&](auto r) {
    EXPECT_TRUE(r.ok()) << r.status();
    first.Notify();
  });
  this->store_->Write(this->Req("p", "4", {a(3)}), [&](auto r) {
    EXPECT_TRUE(r.ok()) << r.status();
    second.Notify();
  });
  first.WaitForNotification();
  second.WaitForNotification();
  this->Reopen();
  ASSERT_TRUE(this->store_->WriteAndWait(this->Req("p", "5", {a(4)})).ok());
  auto values_of = [&](v1::DataValue v) {
    v.mutable_key()->set_sex(v1::SEX_TOTAL);
    v.mutable_key()->set_residence(v1::RESIDENCE_ALL);
    std::vector<double> out;
    auto history = this->store_->History(v.key());
    EXPECT_TRUE(history.ok()) << history.status();
    for (size_t i = 0; history.ok() && i < history->size(); ++i) {
      EXPECT_EQ((*history)[i].revision(), static_cast<int64_t>(i + 1));
      out.push_back((*history)[i].data_value().value());
    }
    return out;
  };
  EXPECT_EQ(values_of(a(0)), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(values_of(b(0)), (std::vector<double>{10, 20, 30}));
  auto current = this->store_->ListCurrent({}, 0, 10);
  ASSERT_TRUE(current.ok());
  ASSERT_EQ(current->revisions.size(), 2u);
  EXPECT_EQ(current->revisions[0].data_value().value(), 4);
  EXPECT_EQ(current->revisions[0].revision(), 4);
  EXPECT_EQ(current->revisions[1].data_value().value(), 30);
}

// Callbacks run in the order the writes were queued, whether a group is
// answered by the completion thread (large groups) or by the committer
// itself (small groups with nothing queued before them): a small group
// committed while a large group's callbacks are still being delivered
// waits for them.
TYPED_TEST(StoreContractTest, CallbacksRunInQueueOrderAcrossLargeAndSmallGroups) {
  std::mutex mu;
  std::vector<int> order;
  auto record = [&](int i) {
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(i);
  };
  WriteRequest big;
  big.principal = "p";
  big.request_id = "big";
  big.payload_hash = "big";
  for (int k = 0; k < 1000; ++k) {  // > inline_completion_values
    auto v = Number("HEALTH-03", 2020 + k % 7, k, k / 7 % 2 == 0 ? "610303001" : "610303100");
    v.mutable_key()->set_sex(static_cast<v1::Sex>(1 + k / 14 % 3));
    v.mutable_key()->set_residence(static_cast<v1::Residence>(1 + k / 42 % 3));
    big.values.push_back({v, "HEALTH_BUREAU"});  // keys repeat: the store revises them
  }
  absl::Notification big_done, small_done;
  const int64_t commits = this->CommitCount();
  this->store_->Write(std::move(big), [&](absl::StatusOr<v1::SubmitBatchResponse> r) {
    EXPECT_TRUE(r.ok()) << r.status();
    absl::SleepFor(absl::Milliseconds(300));  // a slow delivery
    record(0);
    big_done.Notify();
  });
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (this->CommitCount() == commits && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_GT(this->CommitCount(), commits);
  this->store_->Write(this->Req("p", "small", {Number("HEALTH-03", 2024, 1)}), [&](auto r) {
    EXPECT_TRUE(r.ok()) << r.status();
    record(1);
    small_done.Notify();
  });
  big_done.WaitForNotification();
  small_done.WaitForNotification();
  EXPECT_EQ(order, (std::vector<int>{0, 1}));
}

TYPED_TEST(StoreContractTest, WithdrawalAppendsARevisionHidesTheValueAndAResubmissionRevises) {
  const v1::DataValue v1_value = Number("HEALTH-03", 2024, 3);
  ASSERT_TRUE(this->store_->WriteAndWait(this->Req("health", "a", {v1_value})).ok());
  // A correction with a reason for change: kept on the revision, not in the
  // value.
  WriteRequest corrected = this->Req("health", "b", {Number("HEALTH-03", 2024, 4)});
  corrected.values[0].change_reason = "口径更正：含流动人口";
  auto rb = this->store_->WriteAndWait(corrected);
  ASSERT_TRUE(rb.ok()) << rb.status();
  EXPECT_EQ(rb->results(0).outcome(), v1::WRITE_OUTCOME_REVISED);
  // Same value, another reason: unchanged (the reason is not compared).
  WriteRequest same = this->Req("health", "b2", {Number("HEALTH-03", 2024, 4)});
  same.values[0].change_reason = "另一个原因";
  auto rb2 = this->store_->WriteAndWait(same);
  ASSERT_TRUE(rb2.ok());
  EXPECT_EQ(rb2->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);

  this->clock_.Advance(absl::Hours(1));
  auto w = this->store_->WriteAndWait(
      WithdrawReq("stats", "w1", {KeyOf(v1_value)}, "误填为2024年，应为2023年", ""));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->results_size(), 1);
  EXPECT_EQ(w->results(0).outcome(), v1::WRITE_OUTCOME_WITHDRAWN);
  EXPECT_EQ(w->results(0).revision(), 3);
  EXPECT_EQ(w->results(0).sequence(), 3);
  EXPECT_EQ(w->withdrawn_count(), 1);
  EXPECT_EQ(w->sequences().first(), 3);
  EXPECT_EQ(this->store_->HeadSequence(), 3);

  auto current = this->store_->ListCurrent({}, 0, 10);
  ASSERT_TRUE(current.ok());
  EXPECT_TRUE(current->revisions.empty());

  auto history = this->store_->History(KeyOf(v1_value));
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 3u);
  EXPECT_FALSE((*history)[0].withdrawn());
  EXPECT_EQ((*history)[0].change_reason(), "");
  EXPECT_EQ((*history)[1].change_reason(), "口径更正：含流动人口");
  EXPECT_EQ((*history)[1].data_value().change_reason(), "");
  const v1::Revision& gone = (*history)[2];
  EXPECT_TRUE(gone.withdrawn());
  EXPECT_EQ(gone.submitted_by(), "stats");
  EXPECT_EQ(gone.change_reason(), "误填为2024年，应为2023年");
  EXPECT_EQ(gone.committed_at().seconds(), absl::ToUnixSeconds(this->clock_.Now()));
  EXPECT_EQ(gone.request_id(), "w1");
  EXPECT_FALSE(gone.data_value().has_fraction());
  EXPECT_EQ(gone.data_value().payload_case(), v1::DataValue::PAYLOAD_NOT_SET);
  EXPECT_EQ(gone.data_value().key().indicator_id(), "HEALTH-03");

  auto feed = this->store_->ReadChanges(0, 10);
  ASSERT_TRUE(feed.ok());
  ASSERT_EQ(feed->size(), 3u);
  EXPECT_TRUE((*feed)[2].withdrawn());
  EXPECT_EQ((*feed)[2].change_reason(), "误填为2024年，应为2023年");

  // A retry replays; withdrawing again is unchanged.
  auto retry = this->store_->WriteAndWait(
      WithdrawReq("stats", "w1", {KeyOf(v1_value)}, "误填为2024年，应为2023年", ""));
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->replayed());
  auto again =
      this->store_->WriteAndWait(WithdrawReq("stats", "w2", {KeyOf(v1_value)}, "再次", ""));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);
  EXPECT_EQ(this->store_->HeadSequence(), 3);

  // The directory survives a reopen with the key withdrawn.
  this->Reopen();
  auto after_reopen =
      this->store_->WriteAndWait(WithdrawReq("stats", "w3", {KeyOf(v1_value)}, "再次", ""));
  ASSERT_TRUE(after_reopen.ok());
  EXPECT_EQ(after_reopen->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);
  // The same value as before the withdrawal is a new revision.
  auto back = this->store_->WriteAndWait(this->Req("health", "c", {Number("HEALTH-03", 2024, 4)}));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->results(0).outcome(), v1::WRITE_OUTCOME_REVISED);
  EXPECT_EQ(back->results(0).revision(), 4);
  current = this->store_->ListCurrent({}, 0, 10);
  ASSERT_TRUE(current.ok());
  ASSERT_EQ(current->revisions.size(), 1u);
  EXPECT_EQ(current->revisions[0].revision(), 4);
  EXPECT_FALSE(current->revisions[0].withdrawn());
}

TYPED_TEST(StoreContractTest, WithdrawalOfAKeyWithoutValueFailsWholeAndWritesNothing) {
  const v1::DataValue a = Number("HEALTH-03", 2024, 3);
  ASSERT_TRUE(this->store_->WriteAndWait(this->Req("p", "a", {a})).ok());
  auto w = this->store_->WriteAndWait(
      WithdrawReq("p", "w", {KeyOf(a), KeyOf(Number("HEALTH-03", 2022, 0))}, "错填"));
  EXPECT_EQ(w.status().code(), absl::StatusCode::kNotFound) << w.status();
  EXPECT_EQ(ErrorReason(w.status()), "NO_SUCH_VALUE");
  EXPECT_THAT(std::string(w.status().message()), ::testing::HasSubstr("[1] HEALTH-03/610303/2022"));
  EXPECT_EQ(this->store_->HeadSequence(), 1);
  auto current = this->store_->ListCurrent({}, 0, 10);
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->revisions.size(), 1u);
  // Nothing recorded: the id is free.
  auto ok = this->store_->WriteAndWait(WithdrawReq("p", "w", {KeyOf(a)}, "错填"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_FALSE(ok->replayed());
}

TYPED_TEST(StoreContractTest, WithdrawalRespectsYearLocks) {
  const v1::DataValue a = Number("HEALTH-03", 2024, 3);
  ASSERT_TRUE(this->store_->WriteAndWait(this->Req("p", "a", {a})).ok());
  ASSERT_TRUE(this->store_->SetYearLock(2024, true, "stats", "审核完毕").ok());
  auto w = this->store_->WriteAndWait(WithdrawReq("p", "w", {KeyOf(a)}, "错填"));
  EXPECT_EQ(w.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->store_->HeadSequence(), 1);
}

TYPED_TEST(StoreContractTest, WithdrawalLeavingAUnitNoValueDropsItsReportingTime) {
  const v1::DataValue a = Number("HEALTH-03", 2024, 3, "610303");
  const v1::DataValue b = Number("HEALTH-03", 2024, 4, "610303001");
  ASSERT_TRUE(this->store_->WriteAndWait(this->Req("p", "a", {a, b})).ok());
  auto reported = [&]() -> std::optional<ReportingTimes> {
    auto times = this->store_->ListReportingTimes(2024);
    EXPECT_TRUE(times.ok());
    for (const auto& t : *times) {
      if (t.unit_code == "HEALTH_BUREAU" && t.indicator_id == "HEALTH-03") {
        return t;
      }
    }
    return std::nullopt;
  };
  ASSERT_TRUE(reported().has_value());
  // One of two areas withdrawn: still reported.
  ASSERT_TRUE(this->store_->WriteAndWait(WithdrawReq("p", "w1", {KeyOf(a)}, "错填区域")).ok());
  ASSERT_TRUE(reported().has_value());
  // Both withdrawn (by statistics, on nobody's behalf): not reported any more.
  ASSERT_TRUE(this->store_->WriteAndWait(WithdrawReq("s", "w2", {KeyOf(b)}, "错填区域", "")).ok());
  EXPECT_FALSE(reported().has_value());
  // Reported anew by a later write: first_at is that write's time.
  this->clock_.Advance(absl::Hours(48));
  ASSERT_TRUE(this->store_->WriteAndWait(this->Req("p", "again", {b})).ok());
  auto t = reported();
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->first_at, this->clock_.Now());
}

TYPED_TEST(StoreContractTest, RequestReachedAfterItsDeadlineWritesNothing) {
  WriteRequest late = this->Req("p", "late", {Number("HEALTH-03", 2024, 3)});
  late.deadline = absl::Now() - absl::Milliseconds(1);
  auto r = this->store_->WriteAndWait(late);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_EQ(this->store_->HeadSequence(), 0);
  // Not recorded: the same id with a live deadline commits.
  late.deadline = absl::Now() + absl::Seconds(30);
  auto again = this->store_->WriteAndWait(late);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->replayed());
  EXPECT_EQ(again->created_count(), 1);
}

TYPED_TEST(StoreContractTest, AfterAFailedRequestOfAChainNothingLaterOfItCommits) {
  ASSERT_TRUE(this->store_->SetYearLock(2023, true, "stats", "审核完毕").ok());
  auto chain = std::make_shared<WriteChain>();
  std::vector<WriteRequest> reqs;
  reqs.push_back(this->Req("p", "c0", {Number("HEALTH-03", 2024, 1)}));
  reqs.push_back(this->Req("p", "c1", {Number("HEALTH-03", 2023, 1)}));  // locked
  reqs.push_back(this->Req("p", "c2", {Number("HEALTH-03", 2022, 1)}));
  reqs.push_back(this->Req("p", "other", {Number("HEALTH-03", 2021, 1)}));  // no chain
  std::vector<absl::StatusOr<v1::SubmitBatchResponse>> results(reqs.size());
  absl::Mutex mu;
  int done = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    if (i < 3) {
      reqs[i].chain = chain;
    }
    this->store_->Write(std::move(reqs[i]), [&, i](absl::StatusOr<v1::SubmitBatchResponse> r) {
      absl::MutexLock lock(&mu);
      results[i] = std::move(r);
      ++done;
    });
  }
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* d) { return *d == 4; }, &done));
  }
  EXPECT_TRUE(results[0].ok()) << results[0].status();
  EXPECT_EQ(results[1].status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(results[2].status().code(), absl::StatusCode::kAborted) << results[2].status();
  EXPECT_TRUE(results[3].ok()) << results[3].status();
  EXPECT_TRUE(chain->broken());
  auto current = this->store_->ListCurrent({}, 0, 10);
  ASSERT_TRUE(current.ok());
  std::set<int> years;
  for (const auto& rev : current->revisions) {
    years.insert(rev.data_value().key().year());
  }
  EXPECT_EQ(years, (std::set<int>{2021, 2024}));

  // Broken from outside (a cancelled stream): refused too.
  auto cancelled = std::make_shared<WriteChain>();
  cancelled->Break();
  WriteRequest after = this->Req("p", "c3", {Number("HEALTH-03", 2020, 1)});
  after.chain = cancelled;
  EXPECT_EQ(this->store_->WriteAndWait(after).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(this->store_->HeadSequence(), 2);
}

}  // namespace
}  // namespace halfsky::submission
