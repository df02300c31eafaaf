// SqliteSubmissionStore on real SQLite files: group commit, idempotency,
// revisions, locks, sequences, migrations and reopening.
#include "services/submission/sqlite_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/status/status.h"
#include "gmock/gmock.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "gtest/gtest.h"
#include "tests/submission/test_util.h"
#include "tests/support/process.h"

namespace halfsky::submission {
namespace {

namespace v1 = ::halfsky::v1;
using ::halfsky::submission::testing::Number;
using ::halfsky::submission::testing::Story;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = halfsky::testing::MakeTempDir("submission-store") + "/submission.db";
    Reopen();
  }
  void Reopen() {
    store_.reset();
    SqliteSubmissionStore::Options o;
    o.path = path_;
    o.clock = &clock_;
    auto s = SqliteSubmissionStore::Open(o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
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
  std::string path_;
  std::unique_ptr<SqliteSubmissionStore> store_;
};

// The writer's page cache bound (PRAGMA cache_size): below 1 MiB it is
// refused; any positive bound opens. (Its effect on memory is shown by
// tests/bench/soak_bench.cc --sqlite_cache_mib.)
TEST_F(StoreTest, PageCacheBoundBelowOneMibIsRefused) {
  store_.reset();
  SqliteSubmissionStore::Options o;
  o.path = path_;
  o.clock = &clock_;
  o.cache_mib = 0;
  auto refused = SqliteSubmissionStore::Open(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  o.cache_mib = 3;
  auto opened = SqliteSubmissionStore::Open(o);
  ASSERT_TRUE(opened.ok()) << opened.status();
}

TEST_F(StoreTest, CreateReviseUnchanged) {
  auto r1 = store_->WriteAndWait(Req("p", "a", {Number("HEALTH-03", 2024, 3)}));
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(r1->results(0).outcome(), v1::WRITE_OUTCOME_CREATED);
  EXPECT_EQ(r1->results(0).revision(), 1);
  EXPECT_EQ(r1->results(0).sequence(), 1);
  EXPECT_EQ(r1->created_count(), 1);

  auto r2 = store_->WriteAndWait(Req("p", "b", {Number("HEALTH-03", 2024, 3)}));
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);
  EXPECT_EQ(r2->results(0).revision(), 1);
  EXPECT_EQ(r2->results(0).sequence(), 0);
  EXPECT_EQ(r2->sequences().first(), 0);

  auto v = Number("HEALTH-03", 2024, 3);
  v.set_note("changed note only");
  auto r3 = store_->WriteAndWait(Req("p", "c", {v}));
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->results(0).outcome(), v1::WRITE_OUTCOME_REVISED);
  EXPECT_EQ(r3->results(0).revision(), 2);
  EXPECT_EQ(r3->results(0).sequence(), 2);
  EXPECT_EQ(store_->HeadSequence(), 2);

  v.mutable_key()->set_sex(v1::SEX_TOTAL);
  v.mutable_key()->set_residence(v1::RESIDENCE_ALL);
  auto history = store_->History(v.key());
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].revision(), 1);
  EXPECT_EQ((*history)[1].data_value().note(), "changed note only");
  EXPECT_EQ((*history)[1].request_id(), "c");
  EXPECT_EQ((*history)[1].submitted_by(), "p");
  EXPECT_EQ((*history)[1].unit_code(), "HEALTH_BUREAU");
}

TEST_F(StoreTest, IdempotentReplayAndConflict) {
  WriteRequest req = Req("p", "same", {Number("HEALTH-03", 2024, 3), Number("HEALTH-03", 2023, 2)});
  auto first = store_->WriteAndWait(req);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->replayed());
  auto again = store_->WriteAndWait(req);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->results_size(), 2);
  EXPECT_EQ(again->results(1).key().year(), 2023);
  EXPECT_EQ(again->results(1).outcome(), v1::WRITE_OUTCOME_CREATED);
  EXPECT_EQ(again->sequences().last(), first->sequences().last());
  EXPECT_EQ(store_->HeadSequence(), 2);

  WriteRequest other = Req("p", "same", {Number("HEALTH-03", 2024, 9)});
  auto conflict = store_->WriteAndWait(other);
  EXPECT_EQ(conflict.status().code(), absl::StatusCode::kAlreadyExists);
  // Another principal may use the same id.
  auto other_principal = store_->WriteAndWait(Req("q", "same", {Number("HEALTH-03", 2022, 1)}));
  ASSERT_TRUE(other_principal.ok());
  EXPECT_FALSE(other_principal->replayed());
}

TEST_F(StoreTest, LockedYearFailsWithoutWriting) {
  auto lock = store_->SetYearLock(2024, true, "stats", "审核完毕");
  ASSERT_TRUE(lock.ok());
  EXPECT_TRUE(lock->locked());
  auto r = store_->WriteAndWait(
      Req("p", "x", {Number("HEALTH-03", 2023, 1), Number("HEALTH-03", 2024, 1)}));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(r.status()), "YEAR_LOCKED");
  EXPECT_EQ(store_->HeadSequence(), 0);
  ASSERT_TRUE(store_->SetYearLock(2024, false, "stats", "更正").ok());
  EXPECT_TRUE(store_->WriteAndWait(Req("p", "x", {Number("HEALTH-03", 2024, 1)})).ok());
  auto locks = store_->ListYearLocks();
  ASSERT_TRUE(locks.ok());
  ASSERT_EQ(locks->history.size(), 2u);
  EXPECT_TRUE(locks->history[0].locked());
  EXPECT_FALSE(locks->history[1].locked());
  EXPECT_EQ(locks->history[1].reason(), "更正");
  ASSERT_EQ(locks->current.size(), 1u);
  EXPECT_FALSE(locks->current[0].locked());
}

TEST_F(StoreTest, ConcurrentWritersGetGaplessSequencesAndOwnResults) {
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
        auto r = store_->WriteAndWait(Req("p" + std::to_string(t), "r" + std::to_string(i), {v}));
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
  std::cerr << "group commits: " << store_->commit_count() << " for " << kThreads * kPerThread
            << " requests\n";
  auto changes = store_->ReadChanges(0, 10000);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 0; i < changes->size(); ++i) {
    EXPECT_EQ((*changes)[i].sequence(), static_cast<int64_t>(i + 1));
  }
}

TEST_F(StoreTest, FailingRequestInAGroupDoesNotPoisonOthers) {
  ASSERT_TRUE(store_->SetYearLock(2021, true, "stats", "").ok());
  // Queue many writes at once so they share groups; every third is locked.
  std::vector<absl::Notification> done(30);
  std::vector<absl::StatusOr<v1::SubmitBatchResponse>> results(30);
  for (int i = 0; i < 30; ++i) {
    auto v = Number("HEALTH-03", i % 3 == 0 ? 2021 : 2022, i);
    v.mutable_key()->set_area_code(i % 2 == 0 ? "610303001" : "610303100");
    store_->Write(Req("p", "g" + std::to_string(i), {v}), [&, i](auto r) {
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
  EXPECT_EQ(store_->HeadSequence(), ok);
  auto changes = store_->ReadChanges(0, 1000);
  ASSERT_TRUE(changes.ok());
  for (size_t i = 0; i < changes->size(); ++i) {
    EXPECT_EQ((*changes)[i].sequence(), static_cast<int64_t>(i + 1));
    EXPECT_EQ((*changes)[i].data_value().key().year(), 2022);
  }
}

TEST_F(StoreTest, SurvivesReopenWithSequencesLocksAndRequestIds) {
  ASSERT_TRUE(store_->WriteAndWait(Req("p", "a", {Number("HEALTH-03", 2024, 3)})).ok());
  ASSERT_TRUE(store_->SetYearLock(2020, true, "stats", "").ok());
  Reopen();
  EXPECT_EQ(store_->HeadSequence(), 1);
  auto replay = store_->WriteAndWait(Req("p", "a", {Number("HEALTH-03", 2024, 3)}));
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed());
  EXPECT_EQ(store_->WriteAndWait(Req("p", "z", {Number("HEALTH-03", 2020, 3)})).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto next = store_->WriteAndWait(Req("p", "b", {Number("HEALTH-03", 2023, 3)}));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->results(0).sequence(), 2);
}

TEST_F(StoreTest, SchemaVersionRecordedAndNewerSchemaRefused) {
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT MAX(version) FROM schema_version", -1, &s, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), SqliteSubmissionStore::LatestSchemaVersion());
  sqlite3_finalize(s);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_version VALUES(999)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  SqliteSubmissionStore::Options o;
  o.path = path_;
  o.clock = &clock_;
  EXPECT_EQ(SqliteSubmissionStore::Open(o).status().code(), absl::StatusCode::kFailedPrecondition);
}

// A database written by the first release (schema version 1, where
// data_keys carried each key's current revision) opens, migrates, and keeps
// every revision, the current values, the unit filter and the sequence.
TEST_F(StoreTest, MigratesSchemaVersion1KeepingEveryRevision) {
  store_.reset();
  const std::string path = halfsky::testing::MakeTempDir("submission-store-v1") + "/v1.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const char* kVersion1 = R"sql(
PRAGMA journal_mode=WAL;
CREATE TABLE schema_version(version INTEGER NOT NULL);
INSERT INTO schema_version VALUES(1);
CREATE TABLE data_keys(
  key_id INTEGER PRIMARY KEY, indicator_id TEXT NOT NULL, area_code TEXT NOT NULL,
  year INTEGER NOT NULL, sex INTEGER NOT NULL, residence INTEGER NOT NULL,
  current_revision INTEGER NOT NULL, current_sequence INTEGER NOT NULL,
  current_unit_code TEXT NOT NULL, UNIQUE(indicator_id, area_code, year, sex, residence));
CREATE TABLE revisions(
  sequence INTEGER PRIMARY KEY, key_id INTEGER NOT NULL, revision INTEGER NOT NULL,
  data_value BLOB NOT NULL, submitted_by TEXT NOT NULL, unit_code TEXT NOT NULL,
  committed_at_us INTEGER NOT NULL, request_id TEXT NOT NULL, UNIQUE(key_id, revision));
CREATE TABLE requests(
  principal TEXT NOT NULL, request_id TEXT NOT NULL, payload_hash BLOB NOT NULL,
  reply BLOB NOT NULL, committed_at_us INTEGER NOT NULL,
  PRIMARY KEY(principal, request_id)) WITHOUT ROWID;
CREATE TABLE year_locks(
  year INTEGER PRIMARY KEY, locked INTEGER NOT NULL, changed_by TEXT NOT NULL,
  changed_at_us INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE TABLE year_lock_history(
  id INTEGER PRIMARY KEY, year INTEGER NOT NULL, locked INTEGER NOT NULL,
  changed_by TEXT NOT NULL, changed_at_us INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE TABLE reporting_times(
  year INTEGER NOT NULL, unit_code TEXT NOT NULL, indicator_id TEXT NOT NULL,
  first_at_us INTEGER NOT NULL, last_at_us INTEGER NOT NULL,
  PRIMARY KEY(year, unit_code, indicator_id)) WITHOUT ROWID;
)sql";
  ASSERT_EQ(sqlite3_exec(db, kVersion1, nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  // Key 1 (HEALTH-03 2022) has revisions 1 (HEALTH_BUREAU) and 2 (EDU), key
  // 2 (HEALTH-03 2023) revision 1 (HEALTH_BUREAU); sequences 1..3.
  auto value = [](int year, double x) {
    auto v = Number("HEALTH-03", year, x);
    v.mutable_key()->set_sex(v1::SEX_TOTAL);
    v.mutable_key()->set_residence(v1::RESIDENCE_ALL);
    return v;
  };
  const v1::DataValue k1r1 = value(2022, 1), k1r2 = value(2022, 2), k2r1 = value(2023, 5);
  ASSERT_EQ(sqlite3_exec(db,
                         absl::StrCat("INSERT INTO data_keys VALUES(1, 'HEALTH-03', '",
                                      k1r1.key().area_code(), "', 2022, ", v1::SEX_TOTAL, ", ",
                                      v1::RESIDENCE_ALL, ", 2, 3, 'EDU');",
                                      "INSERT INTO data_keys VALUES(2, 'HEALTH-03', '",
                                      k2r1.key().area_code(), "', 2023, ", v1::SEX_TOTAL, ", ",
                                      v1::RESIDENCE_ALL, ", 1, 2, 'HEALTH_BUREAU');")
                             .c_str(),
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_stmt* ins = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "INSERT INTO revisions VALUES(?1, ?2, ?3, ?4, 'old', ?5, "
                               "1700000000000000, ?6)",
                               -1, &ins, nullptr),
            SQLITE_OK);
  struct Row {
    int seq, key, rev;
    const v1::DataValue* v;
    const char* unit;
  };
  for (const Row& r : {Row{1, 1, 1, &k1r1, "HEALTH_BUREAU"}, Row{2, 2, 1, &k2r1, "HEALTH_BUREAU"},
                       Row{3, 1, 2, &k1r2, "EDU"}}) {
    const std::string bytes = r.v->SerializeAsString();
    const std::string id = absl::StrCat("old-", r.seq);
    sqlite3_bind_int(ins, 1, r.seq);
    sqlite3_bind_int(ins, 2, r.key);
    sqlite3_bind_int(ins, 3, r.rev);
    sqlite3_bind_blob(ins, 4, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 5, r.unit, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 6, id.c_str(), -1, SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(ins), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  sqlite3_close(db);

  SqliteSubmissionStore::Options o;
  o.path = path;
  o.clock = &clock_;
  auto opened = SqliteSubmissionStore::Open(o);
  ASSERT_TRUE(opened.ok()) << opened.status();
  auto& store = *opened;
  EXPECT_EQ(store->HeadSequence(), 3);

  auto history = store->History(k1r1.key());
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].data_value().value(), 1);
  EXPECT_EQ((*history)[1].data_value().value(), 2);
  EXPECT_EQ((*history)[1].unit_code(), "EDU");

  auto all = store->ListCurrent({}, 0, 10);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->revisions.size(), 2u);
  EXPECT_EQ(all->revisions[0].revision(), 2);
  EXPECT_EQ(all->revisions[0].data_value().value(), 2);
  EXPECT_EQ(all->revisions[1].sequence(), 2);
  CurrentFilter health;
  health.unit_code = "HEALTH_BUREAU";
  auto mine = store->ListCurrent(health, 0, 10);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->revisions.size(), 1u);
  EXPECT_EQ(mine->revisions[0].data_value().key().year(), 2023);

  // Writes continue from the migrated state.
  auto same = store->WriteAndWait(Req("p", "n1", {Number("HEALTH-03", 2022, 2)}, "EDU"));
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);
  EXPECT_EQ(same->results(0).revision(), 2);
  auto next = store->WriteAndWait(
      Req("p", "n2", {Number("HEALTH-03", 2022, 7), Number("HEALTH-03", 2024, 1)}));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->results(0).outcome(), v1::WRITE_OUTCOME_REVISED);
  EXPECT_EQ(next->results(0).revision(), 3);
  EXPECT_EQ(next->results(0).sequence(), 4);
  EXPECT_EQ(next->results(1).outcome(), v1::WRITE_OUTCOME_CREATED);
  EXPECT_EQ(next->results(1).sequence(), 5);
  auto after = store->ListCurrent({}, 0, 10);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->revisions.size(), 3u);
  EXPECT_EQ(after->revisions[0].data_value().value(), 7);
  EXPECT_EQ(after->revisions[2].data_value().key().year(), 2024);
}

// A database of schema version 3 (before DataKey.unit_code) opens and
// migrates: every revision kept, the sequence continued, and each narrative
// key takes the unit of its current revision (figures none). Here key 1 is
// the old problem: two units' narratives of HEALTH-05 2024 as revisions of
// one key (the EDU narrative current); key 2 a figure; key 3 a narrative
// statistics wrote (no unit to take).
TEST_F(StoreTest, MigratesSchemaVersion3BackfillingNarrativeUnits) {
  store_.reset();
  const std::string path = halfsky::testing::MakeTempDir("submission-store-v3") + "/v3.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  // Schema version 3 as migrations 1-3 leave it.
  const char* kVersion3 = R"sql(
PRAGMA journal_mode=WAL;
CREATE TABLE schema_version(version INTEGER NOT NULL);
INSERT INTO schema_version VALUES(1);
INSERT INTO schema_version VALUES(2);
INSERT INTO schema_version VALUES(3);
CREATE TABLE data_keys(
  key_id INTEGER PRIMARY KEY, indicator_id TEXT NOT NULL, area_code TEXT NOT NULL,
  year INTEGER NOT NULL, sex INTEGER NOT NULL, residence INTEGER NOT NULL,
  UNIQUE(indicator_id, area_code, year, sex, residence));
CREATE TABLE revisions(
  sequence INTEGER PRIMARY KEY, key_id INTEGER NOT NULL, revision INTEGER NOT NULL,
  prev_sequence INTEGER NOT NULL, data_value BLOB NOT NULL, submitted_by TEXT NOT NULL,
  unit_code TEXT NOT NULL, committed_at_us INTEGER NOT NULL, request_id TEXT NOT NULL);
CREATE TABLE key_heads(
  key_id INTEGER PRIMARY KEY, revision INTEGER NOT NULL, sequence INTEGER NOT NULL);
CREATE TABLE requests(
  principal TEXT NOT NULL, request_id TEXT NOT NULL, payload_hash BLOB NOT NULL,
  reply BLOB NOT NULL, committed_at_us INTEGER NOT NULL,
  PRIMARY KEY(principal, request_id)) WITHOUT ROWID;
CREATE TABLE year_locks(
  year INTEGER PRIMARY KEY, locked INTEGER NOT NULL, changed_by TEXT NOT NULL,
  changed_at_us INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE TABLE year_lock_history(
  id INTEGER PRIMARY KEY, year INTEGER NOT NULL, locked INTEGER NOT NULL,
  changed_by TEXT NOT NULL, changed_at_us INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE TABLE reporting_times(
  year INTEGER NOT NULL, unit_code TEXT NOT NULL, indicator_id TEXT NOT NULL,
  first_at_us INTEGER NOT NULL, last_at_us INTEGER NOT NULL,
  PRIMARY KEY(year, unit_code, indicator_id)) WITHOUT ROWID;
)sql";
  ASSERT_EQ(sqlite3_exec(db, kVersion3, nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  auto normalized = [](v1::DataValue v) {
    v.mutable_key()->set_sex(v1::SEX_TOTAL);
    v.mutable_key()->set_residence(v1::RESIDENCE_ALL);
    return v;
  };
  // Stored as version 3 stored them: keys without a unit.
  const v1::DataValue k1r1 = normalized(Story("HEALTH-05", 2024, "卫健局的叙述"));
  const v1::DataValue k1r2 = normalized(Story("HEALTH-05", 2024, "教育局的叙述"));
  const v1::DataValue k2r1 = normalized(Number("HEALTH-03", 2024, 5));
  const v1::DataValue k3r1 = normalized(Story("HEALTH-05", 2023, "统计局代录"));
  ASSERT_EQ(
      sqlite3_exec(db,
                   absl::StrCat("INSERT INTO data_keys VALUES(1, 'HEALTH-05', '610303', 2024, ",
                                v1::SEX_TOTAL, ", ", v1::RESIDENCE_ALL, ");",
                                "INSERT INTO data_keys VALUES(2, 'HEALTH-03', '610303', 2024, ",
                                v1::SEX_TOTAL, ", ", v1::RESIDENCE_ALL, ");",
                                "INSERT INTO data_keys VALUES(3, 'HEALTH-05', '610303', 2023, ",
                                v1::SEX_TOTAL, ", ", v1::RESIDENCE_ALL, ");",
                                "INSERT INTO key_heads VALUES(1, 2, 3), (2, 1, 2), (3, 1, 4);")
                       .c_str(),
                   nullptr, nullptr, nullptr),
      SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_stmt* ins = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "INSERT INTO revisions VALUES(?1, ?2, ?3, ?4, ?5, 'old', ?6, "
                               "1700000000000000, ?7)",
                               -1, &ins, nullptr),
            SQLITE_OK);
  struct Row {
    int seq, key, rev, prev;
    const v1::DataValue* v;
    const char* unit;
  };
  for (const Row& r :
       {Row{1, 1, 1, 0, &k1r1, "HEALTH_BUREAU"}, Row{2, 2, 1, 0, &k2r1, "HEALTH_BUREAU"},
        Row{3, 1, 2, 1, &k1r2, "EDU_BUREAU"}, Row{4, 3, 1, 0, &k3r1, ""}}) {
    std::string bytes;
    {
      google::protobuf::io::StringOutputStream sos(&bytes);
      google::protobuf::io::CodedOutputStream cos(&sos);
      cos.SetSerializationDeterministic(true);
      r.v->SerializeToCodedStream(&cos);
    }
    const std::string id = absl::StrCat("old-", r.seq);
    sqlite3_bind_int(ins, 1, r.seq);
    sqlite3_bind_int(ins, 2, r.key);
    sqlite3_bind_int(ins, 3, r.rev);
    sqlite3_bind_int(ins, 4, r.prev);
    sqlite3_bind_blob(ins, 5, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 6, r.unit, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 7, id.c_str(), -1, SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(ins), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  sqlite3_close(db);

  SqliteSubmissionStore::Options o;
  o.path = path;
  o.clock = &clock_;
  auto opened = SqliteSubmissionStore::Open(o);
  ASSERT_TRUE(opened.ok()) << opened.status();
  auto& store = *opened;
  EXPECT_EQ(store->HeadSequence(), 4);

  // The backfilled column.
  {
    sqlite3* check = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &check), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(check, "SELECT key_id, unit_code FROM data_keys ORDER BY key_id",
                                 -1, &q, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(check);
    std::vector<std::string> units;
    while (sqlite3_step(q) == SQLITE_ROW) {
      units.push_back(reinterpret_cast<const char*>(sqlite3_column_text(q, 1)));
    }
    sqlite3_finalize(q);
    sqlite3_close(check);
    EXPECT_THAT(units, ::testing::ElementsAre("EDU_BUREAU", "", ""));
  }

  // Every revision is kept; the key and every revision of it read with its unit.
  v1::DataKey key1 = k1r1.key();
  key1.set_unit_code("EDU_BUREAU");
  auto history = store->History(key1);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].data_value().narrative().text(), "卫健局的叙述");
  EXPECT_EQ((*history)[0].unit_code(), "HEALTH_BUREAU");  // who wrote it, as recorded
  EXPECT_EQ((*history)[1].data_value().narrative().text(), "教育局的叙述");
  EXPECT_EQ((*history)[1].data_value().key().unit_code(), "EDU_BUREAU");
  auto feed = store->ReadChanges(0, 10);
  ASSERT_TRUE(feed.ok()) << feed.status();
  ASSERT_EQ(feed->size(), 4u);
  EXPECT_EQ((*feed)[0].data_value().key().unit_code(), "EDU_BUREAU");
  EXPECT_EQ((*feed)[1].data_value().key().unit_code(), "");
  EXPECT_EQ((*feed)[3].data_value().key().unit_code(), "");
  auto all = store->ListCurrent({}, 0, 10);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->revisions.size(), 3u);
  EXPECT_EQ(all->revisions[0].data_value().key().unit_code(), "EDU_BUREAU");
  EXPECT_EQ(all->revisions[0].revision(), 2);

  // Writes continue from the migrated state: EDU's identical narrative is
  // unchanged, HEALTH's own narrative is a new key, the figure is revised.
  v1::DataValue edu_again = k1r2;
  edu_again.mutable_key()->set_unit_code("EDU_BUREAU");
  v1::DataValue health_own = k1r1;
  health_own.mutable_key()->set_unit_code("HEALTH_BUREAU");
  auto next = store->WriteAndWait(Req("p", "n1", {edu_again}, "EDU_BUREAU"));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);
  EXPECT_EQ(next->results(0).revision(), 2);
  auto more = store->WriteAndWait(
      Req("p", "n2", {health_own, Number("HEALTH-03", 2024, 6)}, "HEALTH_BUREAU"));
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_EQ(more->results(0).outcome(), v1::WRITE_OUTCOME_CREATED);
  EXPECT_EQ(more->results(0).sequence(), 5);
  EXPECT_EQ(more->results(1).outcome(), v1::WRITE_OUTCOME_REVISED);
  EXPECT_EQ(more->results(1).revision(), 2);
  auto after = store->ListCurrent({}, 0, 10);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->revisions.size(), 4u);
}

TEST_F(StoreTest, ListCurrentFiltersAndPages) {
  std::vector<v1::DataValue> values;
  for (int y = 2020; y <= 2025; ++y) {
    values.push_back(Number("HEALTH-03", y, y - 2000));
  }
  ASSERT_TRUE(store_->WriteAndWait(Req("p", "a", values)).ok());
  ASSERT_TRUE(store_->WriteAndWait(Req("p", "b", {Number("HEALTH-03", 2021, 99)})).ok());
  CurrentFilter f;
  std::vector<int> years;
  int64_t cursor = 0;
  do {
    auto page = store_->ListCurrent(f, cursor, 4);
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
  auto filtered = store_->ListCurrent(f, 0, 100);
  ASSERT_TRUE(filtered.ok());
  EXPECT_EQ(filtered->revisions.size(), 2u);
  f.years.clear();
  f.unit_code = "EDU_BUREAU";
  EXPECT_TRUE(store_->ListCurrent(f, 0, 100)->revisions.empty());
}

TEST_F(StoreTest, ReportingTimesFirstAndLast) {
  ASSERT_TRUE(store_->WriteAndWait(Req("p", "a", {Number("HEALTH-03", 2024, 3)})).ok());
  clock_.Advance(absl::Hours(48));
  ASSERT_TRUE(store_->WriteAndWait(Req("p", "b", {Number("HEALTH-03", 2024, 4)})).ok());
  clock_.Advance(absl::Hours(48));
  // Unchanged: does not move last_at.
  ASSERT_TRUE(store_->WriteAndWait(Req("p", "c", {Number("HEALTH-03", 2024, 4)})).ok());
  auto times = store_->ListReportingTimes(2024);
  ASSERT_TRUE(times.ok());
  ASSERT_EQ(times->size(), 1u);
  EXPECT_EQ((*times)[0].unit_code, "HEALTH_BUREAU");
  EXPECT_EQ((*times)[0].last_at - (*times)[0].first_at, absl::Hours(48));
}

TEST_F(StoreTest, UnchangedWriteOfAnotherUnitReportsForThatUnit) {
  // Two responsible units: the second confirms the figure the first wrote.
  ASSERT_TRUE(store_->WriteAndWait(Req("p", "a", {Number("HEALTH-03", 2024, 3)})).ok());
  clock_.Advance(absl::Hours(24));
  auto confirmed =
      store_->WriteAndWait(Req("q", "b", {Number("HEALTH-03", 2024, 3)}, "WOMENS_FEDERATION"));
  ASSERT_TRUE(confirmed.ok()) << confirmed.status();
  EXPECT_EQ(confirmed->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);
  clock_.Advance(absl::Hours(24));
  // Confirming again moves nothing.
  ASSERT_TRUE(
      store_->WriteAndWait(Req("q", "c", {Number("HEALTH-03", 2024, 3)}, "WOMENS_FEDERATION"))
          .ok());
  auto times = store_->ListReportingTimes(2024);
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
TEST_F(StoreTest, TwoUnitsNarrativesOfOneObjectiveAreTwoKeys) {
  const v1::DataValue health1 = Story("HEALTH-05", 2024, "卫健局：建成新院区", "HEALTH_BUREAU");
  const v1::DataValue edu1 = Story("HEALTH-05", 2024, "教育局：开设健康课", "EDU_BUREAU");
  auto a = store_->WriteAndWait(Req("h", "a", {health1}, "HEALTH_BUREAU"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->results(0).outcome(), v1::WRITE_OUTCOME_CREATED);
  auto b = store_->WriteAndWait(Req("e", "b", {edu1}, "EDU_BUREAU"));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->results(0).outcome(), v1::WRITE_OUTCOME_CREATED);  // not a revision of HEALTH's
  EXPECT_EQ(b->results(0).revision(), 1);
  EXPECT_EQ(b->results(0).key().unit_code(), "EDU_BUREAU");
  const v1::DataValue health2 = Story("HEALTH-05", 2024, "卫健局：更正", "HEALTH_BUREAU");
  auto c = store_->WriteAndWait(Req("h", "c", {health2}, "HEALTH_BUREAU"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->results(0).outcome(), v1::WRITE_OUTCOME_REVISED);
  EXPECT_EQ(c->results(0).revision(), 2);
  // The statistics bureau revises EDU's narrative: credited to no unit, still
  // EDU's narrative.
  const v1::DataValue edu2 = Story("HEALTH-05", 2024, "教育局：统计局代录", "EDU_BUREAU");
  auto d = store_->WriteAndWait(Req("s", "d", {edu2}, ""));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->results(0).revision(), 2);

  auto check = [&] {
    auto all = store_->ListCurrent({}, 0, 10);
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
    auto mine = store_->ListCurrent(edu, 0, 10);
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
      auto history = store_->History(key);
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
    EXPECT_TRUE(store_->History(nobody)->empty());
    auto feed = store_->ReadChanges(0, 10);
    ASSERT_TRUE(feed.ok());
    ASSERT_EQ(feed->size(), 4u);
    EXPECT_EQ((*feed)[0].data_value().key().unit_code(), "HEALTH_BUREAU");
    EXPECT_EQ((*feed)[1].data_value().key().unit_code(), "EDU_BUREAU");
  };
  check();
  // Each unit reported for itself.
  auto times = store_->ListReportingTimes(2024);
  ASSERT_TRUE(times.ok());
  std::set<std::string> reported;
  for (const auto& t : *times) {
    reported.insert(t.unit_code + "/" + t.indicator_id);
  }
  EXPECT_EQ(reported, (std::set<std::string>{"EDU_BUREAU/HEALTH-05", "HEALTH_BUREAU/HEALTH-05"}));

  Reopen();
  check();
  // The reloaded directory tells the two keys apart.
  auto again = store_->WriteAndWait(
      Req("h", "e", {health2, Story("HEALTH-05", 2024, "教育局：第三版", "EDU_BUREAU")}, ""));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);
  EXPECT_EQ(again->results(1).outcome(), v1::WRITE_OUTCOME_REVISED);
  EXPECT_EQ(again->results(1).revision(), 3);
}

// The key directory is loaded at Open: keys written before a reopen are
// revised (or found unchanged), not created a second time.
TEST_F(StoreTest, ReopenedStoreKnowsEveryKey) {
  ASSERT_TRUE(store_
                  ->WriteAndWait(
                      Req("p", "a", {Number("HEALTH-03", 2023, 1), Number("HEALTH-03", 2024, 2)}))
                  .ok());
  Reopen();
  auto same = store_->WriteAndWait(Req("p", "b", {Number("HEALTH-03", 2023, 1)}));
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);
  auto changed = store_->WriteAndWait(
      Req("p", "c", {Number("HEALTH-03", 2024, 5), Number("HEALTH-03", 2025, 6)}));
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(changed->results(0).outcome(), v1::WRITE_OUTCOME_REVISED);
  EXPECT_EQ(changed->results(0).revision(), 2);
  EXPECT_EQ(changed->results(0).sequence(), 3);
  EXPECT_EQ(changed->results(1).outcome(), v1::WRITE_OUTCOME_CREATED);
  auto key = Number("HEALTH-03", 2024, 0).key();
  key.set_sex(v1::SEX_TOTAL);
  key.set_residence(v1::RESIDENCE_ALL);
  auto history = store_->History(key);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].data_value().value(), 5);
  auto current = store_->ListCurrent({}, 0, 100);
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->revisions.size(), 3u);
}

// A key's history is a chain through its revisions: it stays whole when
// revisions of several keys interleave, two requests of one group revise
// the same key, and the store is reopened in between.
TEST_F(StoreTest, HistoryFollowsEachKeysChain) {
  auto a = [](double x) { return Number("HEALTH-03", 2023, x); };
  auto b = [](double x) { return Number("HEALTH-03", 2024, x); };
  ASSERT_TRUE(store_->WriteAndWait(Req("p", "1", {a(1), b(10)})).ok());
  ASSERT_TRUE(store_->WriteAndWait(Req("p", "2", {b(20)})).ok());
  // Two requests queued together usually share a group.
  absl::Notification first, second;
  store_->Write(Req("p", "3", {a(2), b(30)}), [&](auto r) {
    EXPECT_TRUE(r.ok()) << r.status();
    first.Notify();
  });
  store_->Write(Req("p", "4", {a(3)}), [&](auto r) {
    EXPECT_TRUE(r.ok()) << r.status();
    second.Notify();
  });
  first.WaitForNotification();
  second.WaitForNotification();
  Reopen();
  ASSERT_TRUE(store_->WriteAndWait(Req("p", "5", {a(4)})).ok());
  auto values_of = [&](v1::DataValue v) {
    v.mutable_key()->set_sex(v1::SEX_TOTAL);
    v.mutable_key()->set_residence(v1::RESIDENCE_ALL);
    std::vector<double> out;
    auto history = store_->History(v.key());
    EXPECT_TRUE(history.ok()) << history.status();
    for (size_t i = 0; history.ok() && i < history->size(); ++i) {
      EXPECT_EQ((*history)[i].revision(), static_cast<int64_t>(i + 1));
      out.push_back((*history)[i].data_value().value());
    }
    return out;
  };
  EXPECT_EQ(values_of(a(0)), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(values_of(b(0)), (std::vector<double>{10, 20, 30}));
  auto current = store_->ListCurrent({}, 0, 10);
  ASSERT_TRUE(current.ok());
  ASSERT_EQ(current->revisions.size(), 2u);
  EXPECT_EQ(current->revisions[0].data_value().value(), 4);
  EXPECT_EQ(current->revisions[0].revision(), 4);
  EXPECT_EQ(current->revisions[1].data_value().value(), 30);
}

// A storage failure in the middle of a group (here a trigger that aborts
// the insert of one request's revisions) rolls the whole group back, and the
// store forgets what the group did in memory too: the key it created is new
// again, the key it revised still has its committed value, and sequences go
// on without a gap.
TEST_F(StoreTest, StorageFailureRollsBackTheGroupInMemoryToo) {
  ASSERT_TRUE(store_->WriteAndWait(Req("p", "a", {Number("HEALTH-03", 2023, 1)})).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TRIGGER poison BEFORE INSERT ON revisions "
                         "WHEN NEW.request_id = 'poison' BEGIN SELECT RAISE(ABORT, 'injected'); "
                         "END",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  auto failed = store_->WriteAndWait(
      Req("p", "poison", {Number("HEALTH-03", 2023, 7), Number("HEALTH-03", 2024, 8)}));
  EXPECT_FALSE(failed.ok());
  ASSERT_EQ(sqlite3_exec(db, "DROP TRIGGER poison", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(store_->HeadSequence(), 1);

  auto retry = store_->WriteAndWait(
      Req("p", "retry", {Number("HEALTH-03", 2023, 7), Number("HEALTH-03", 2024, 8)}));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->results(0).outcome(), v1::WRITE_OUTCOME_REVISED);
  EXPECT_EQ(retry->results(0).revision(), 2);
  EXPECT_EQ(retry->results(1).outcome(), v1::WRITE_OUTCOME_CREATED);
  EXPECT_EQ(retry->results(1).revision(), 1);
  EXPECT_EQ(retry->sequences().first(), 2);
  EXPECT_EQ(retry->sequences().last(), 3);
  auto changes = store_->ReadChanges(0, 100);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 3u);
  EXPECT_EQ((*changes)[2].revision(), 1);
  // The poisoned request id was never recorded: it can still be used.
  auto reuse = store_->WriteAndWait(Req("p", "poison", {Number("HEALTH-03", 2025, 9)}));
  ASSERT_TRUE(reuse.ok()) << reuse.status();
  EXPECT_FALSE(reuse->replayed());
}

// Callbacks run in the order the writes were queued, whether a group is
// answered by the completion thread (large groups) or by the committer
// itself (small groups with nothing queued before them): a small group
// committed while a large group's callbacks are still being delivered
// waits for them.
TEST_F(StoreTest, CallbacksRunInQueueOrderAcrossLargeAndSmallGroups) {
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
  const int64_t commits = store_->commit_count();
  store_->Write(std::move(big), [&](absl::StatusOr<v1::SubmitBatchResponse> r) {
    EXPECT_TRUE(r.ok()) << r.status();
    absl::SleepFor(absl::Milliseconds(300));  // a slow delivery
    record(0);
    big_done.Notify();
  });
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (store_->commit_count() == commits && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_GT(store_->commit_count(), commits);
  store_->Write(Req("p", "small", {Number("HEALTH-03", 2024, 1)}), [&](auto r) {
    EXPECT_TRUE(r.ok()) << r.status();
    record(1);
    small_done.Notify();
  });
  big_done.WaitForNotification();
  small_done.WaitForNotification();
  EXPECT_EQ(order, (std::vector<int>{0, 1}));
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

// 100-value requests, one group each.
void WriteRounds(SqliteSubmissionStore& store, int rounds) {
  for (int r = 0; r < rounds; ++r) {
    WriteRequest req;
    req.principal = "p";
    req.request_id = absl::StrCat("r", r);
    req.payload_hash = req.request_id;
    for (int i = 0; i < 100; ++i) {
      auto v = Number("HEALTH-03", 2020 + i % 7, r * 1000 + i,
                      i / 7 % 2 == 0 ? "610303001" : "610303100");
      v.mutable_key()->set_sex(static_cast<v1::Sex>(1 + i / 14 % 3));
      v.mutable_key()->set_residence(static_cast<v1::Residence>(1 + i / 42 % 3));
      v.set_note(std::string(200, 'x'));  // a few pages per group
      req.values.push_back({v, "HEALTH_BUREAU"});
    }
    ASSERT_TRUE(store.WriteAndWait(std::move(req)).ok());
  }
}

// The checkpointer copies the WAL into the database while writes go on
// (SQLite's own automatic checkpoint is off), without any bound forcing it.
TEST_F(StoreTest, CheckpointerCopiesTheWalIntoTheDatabase) {
  store_.reset();
  SqliteSubmissionStore::Options o;
  o.path = halfsky::testing::MakeTempDir("submission-ckpt") + "/submission.db";
  o.clock = &clock_;
  o.checkpoint_pages = 8;
  o.max_wal_pages = 1 << 30;
  auto store = SqliteSubmissionStore::Open(o);
  ASSERT_TRUE(store.ok()) << store.status();
  const int64_t db_before = FileSize(o.path);
  WriteRounds(**store, 40);
  // Asynchronous: wait (bounded) for the database file to receive pages.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (FileSize(o.path) <= db_before + 16 * 4096 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_GT(FileSize(o.path), db_before + 16 * 4096)
      << "the WAL was never checkpointed into " << o.path;
}

// Under writes that never pause, the committer itself restarts the WAL once
// it reaches max_wal_pages, so the WAL file stays bounded.
TEST_F(StoreTest, WalFileStaysBoundedUnderContinuousWrites) {
  store_.reset();
  SqliteSubmissionStore::Options o;
  o.path = halfsky::testing::MakeTempDir("submission-wal") + "/submission.db";
  o.clock = &clock_;
  o.checkpoint_pages = 1 << 30;  // no background checkpoints: only the bound
  o.max_wal_pages = 32;
  auto store = SqliteSubmissionStore::Open(o);
  ASSERT_TRUE(store.ok()) << store.status();
  WriteRounds(**store, 60);
  // 60 groups of a few pages each would be far beyond 32 pages; the bound
  // plus one group's frames (4 KiB pages, 24-byte frame headers) is the most.
  EXPECT_LE(FileSize(o.path + "-wal"), (32 + 64) * (4096 + 24));
  auto changes = (*store)->ReadChanges(0, 10000);
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(changes->size(), 60u * 100u);
}

// ------------------------------------------------ withdrawal, reasons, chains

// A withdrawal request of `keys` (normalized as the service does).
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

TEST_F(StoreTest, WithdrawalAppendsARevisionHidesTheValueAndAResubmissionRevises) {
  const v1::DataValue v1_value = Number("HEALTH-03", 2024, 3);
  ASSERT_TRUE(store_->WriteAndWait(Req("health", "a", {v1_value})).ok());
  // A correction with a reason for change: kept on the revision, not in the
  // value.
  WriteRequest corrected = Req("health", "b", {Number("HEALTH-03", 2024, 4)});
  corrected.values[0].change_reason = "口径更正：含流动人口";
  auto rb = store_->WriteAndWait(corrected);
  ASSERT_TRUE(rb.ok()) << rb.status();
  EXPECT_EQ(rb->results(0).outcome(), v1::WRITE_OUTCOME_REVISED);
  // Same value, another reason: unchanged (the reason is not compared).
  WriteRequest same = Req("health", "b2", {Number("HEALTH-03", 2024, 4)});
  same.values[0].change_reason = "另一个原因";
  auto rb2 = store_->WriteAndWait(same);
  ASSERT_TRUE(rb2.ok());
  EXPECT_EQ(rb2->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);

  clock_.Advance(absl::Hours(1));
  auto w = store_->WriteAndWait(
      WithdrawReq("stats", "w1", {KeyOf(v1_value)}, "误填为2024年，应为2023年", ""));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->results_size(), 1);
  EXPECT_EQ(w->results(0).outcome(), v1::WRITE_OUTCOME_WITHDRAWN);
  EXPECT_EQ(w->results(0).revision(), 3);
  EXPECT_EQ(w->results(0).sequence(), 3);
  EXPECT_EQ(w->withdrawn_count(), 1);
  EXPECT_EQ(w->sequences().first(), 3);
  EXPECT_EQ(store_->HeadSequence(), 3);

  auto current = store_->ListCurrent({}, 0, 10);
  ASSERT_TRUE(current.ok());
  EXPECT_TRUE(current->revisions.empty());

  auto history = store_->History(KeyOf(v1_value));
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
  EXPECT_EQ(gone.committed_at().seconds(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(gone.request_id(), "w1");
  EXPECT_FALSE(gone.data_value().has_fraction());
  EXPECT_EQ(gone.data_value().payload_case(), v1::DataValue::PAYLOAD_NOT_SET);
  EXPECT_EQ(gone.data_value().key().indicator_id(), "HEALTH-03");

  auto feed = store_->ReadChanges(0, 10);
  ASSERT_TRUE(feed.ok());
  ASSERT_EQ(feed->size(), 3u);
  EXPECT_TRUE((*feed)[2].withdrawn());
  EXPECT_EQ((*feed)[2].change_reason(), "误填为2024年，应为2023年");

  // A retry replays; withdrawing again is unchanged.
  auto retry = store_->WriteAndWait(
      WithdrawReq("stats", "w1", {KeyOf(v1_value)}, "误填为2024年，应为2023年", ""));
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->replayed());
  auto again = store_->WriteAndWait(WithdrawReq("stats", "w2", {KeyOf(v1_value)}, "再次", ""));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);
  EXPECT_EQ(store_->HeadSequence(), 3);

  // The directory survives a reopen with the key withdrawn.
  Reopen();
  auto after_reopen =
      store_->WriteAndWait(WithdrawReq("stats", "w3", {KeyOf(v1_value)}, "再次", ""));
  ASSERT_TRUE(after_reopen.ok());
  EXPECT_EQ(after_reopen->results(0).outcome(), v1::WRITE_OUTCOME_UNCHANGED);
  // The same value as before the withdrawal is a new revision.
  auto back = store_->WriteAndWait(Req("health", "c", {Number("HEALTH-03", 2024, 4)}));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->results(0).outcome(), v1::WRITE_OUTCOME_REVISED);
  EXPECT_EQ(back->results(0).revision(), 4);
  current = store_->ListCurrent({}, 0, 10);
  ASSERT_TRUE(current.ok());
  ASSERT_EQ(current->revisions.size(), 1u);
  EXPECT_EQ(current->revisions[0].revision(), 4);
  EXPECT_FALSE(current->revisions[0].withdrawn());
}

TEST_F(StoreTest, WithdrawalOfAKeyWithoutValueFailsWholeAndWritesNothing) {
  const v1::DataValue a = Number("HEALTH-03", 2024, 3);
  ASSERT_TRUE(store_->WriteAndWait(Req("p", "a", {a})).ok());
  auto w = store_->WriteAndWait(
      WithdrawReq("p", "w", {KeyOf(a), KeyOf(Number("HEALTH-03", 2022, 0))}, "错填"));
  EXPECT_EQ(w.status().code(), absl::StatusCode::kNotFound) << w.status();
  EXPECT_EQ(ErrorReason(w.status()), "NO_SUCH_VALUE");
  EXPECT_THAT(std::string(w.status().message()), ::testing::HasSubstr("[1] HEALTH-03/610303/2022"));
  EXPECT_EQ(store_->HeadSequence(), 1);
  auto current = store_->ListCurrent({}, 0, 10);
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->revisions.size(), 1u);
  // Nothing recorded: the id is free.
  auto ok = store_->WriteAndWait(WithdrawReq("p", "w", {KeyOf(a)}, "错填"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_FALSE(ok->replayed());
}

TEST_F(StoreTest, WithdrawalRespectsYearLocks) {
  const v1::DataValue a = Number("HEALTH-03", 2024, 3);
  ASSERT_TRUE(store_->WriteAndWait(Req("p", "a", {a})).ok());
  ASSERT_TRUE(store_->SetYearLock(2024, true, "stats", "审核完毕").ok());
  auto w = store_->WriteAndWait(WithdrawReq("p", "w", {KeyOf(a)}, "错填"));
  EXPECT_EQ(w.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->HeadSequence(), 1);
}

TEST_F(StoreTest, WithdrawalLeavingAUnitNoValueDropsItsReportingTime) {
  const v1::DataValue a = Number("HEALTH-03", 2024, 3, "610303");
  const v1::DataValue b = Number("HEALTH-03", 2024, 4, "610303001");
  ASSERT_TRUE(store_->WriteAndWait(Req("p", "a", {a, b})).ok());
  auto reported = [&]() -> std::optional<ReportingTimes> {
    auto times = store_->ListReportingTimes(2024);
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
  ASSERT_TRUE(store_->WriteAndWait(WithdrawReq("p", "w1", {KeyOf(a)}, "错填区域")).ok());
  ASSERT_TRUE(reported().has_value());
  // Both withdrawn (by statistics, on nobody's behalf): not reported any more.
  ASSERT_TRUE(store_->WriteAndWait(WithdrawReq("s", "w2", {KeyOf(b)}, "错填区域", "")).ok());
  EXPECT_FALSE(reported().has_value());
  // Reported anew by a later write: first_at is that write's time.
  clock_.Advance(absl::Hours(48));
  ASSERT_TRUE(store_->WriteAndWait(Req("p", "again", {b})).ok());
  auto t = reported();
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->first_at, clock_.Now());
}

TEST_F(StoreTest, RequestReachedAfterItsDeadlineWritesNothing) {
  WriteRequest late = Req("p", "late", {Number("HEALTH-03", 2024, 3)});
  late.deadline = absl::Now() - absl::Milliseconds(1);
  auto r = store_->WriteAndWait(late);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_EQ(store_->HeadSequence(), 0);
  // Not recorded: the same id with a live deadline commits.
  late.deadline = absl::Now() + absl::Seconds(30);
  auto again = store_->WriteAndWait(late);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->replayed());
  EXPECT_EQ(again->created_count(), 1);
}

TEST_F(StoreTest, AfterAFailedRequestOfAChainNothingLaterOfItCommits) {
  ASSERT_TRUE(store_->SetYearLock(2023, true, "stats", "审核完毕").ok());
  auto chain = std::make_shared<WriteChain>();
  std::vector<WriteRequest> reqs;
  reqs.push_back(Req("p", "c0", {Number("HEALTH-03", 2024, 1)}));
  reqs.push_back(Req("p", "c1", {Number("HEALTH-03", 2023, 1)}));  // locked
  reqs.push_back(Req("p", "c2", {Number("HEALTH-03", 2022, 1)}));
  reqs.push_back(Req("p", "other", {Number("HEALTH-03", 2021, 1)}));  // no chain
  std::vector<absl::StatusOr<v1::SubmitBatchResponse>> results(reqs.size());
  absl::Mutex mu;
  int done = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    if (i < 3) {
      reqs[i].chain = chain;
    }
    store_->Write(std::move(reqs[i]), [&, i](absl::StatusOr<v1::SubmitBatchResponse> r) {
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
  auto current = store_->ListCurrent({}, 0, 10);
  ASSERT_TRUE(current.ok());
  std::set<int> years;
  for (const auto& rev : current->revisions) {
    years.insert(rev.data_value().key().year());
  }
  EXPECT_EQ(years, (std::set<int>{2021, 2024}));

  // Broken from outside (a cancelled stream): refused too.
  auto cancelled = std::make_shared<WriteChain>();
  cancelled->Break();
  WriteRequest after = Req("p", "c3", {Number("HEALTH-03", 2020, 1)});
  after.chain = cancelled;
  EXPECT_EQ(store_->WriteAndWait(after).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(store_->HeadSequence(), 2);
}

TEST_F(StoreTest, MigratesSchemaVersion4AddingWithdrawalColumns) {
  ASSERT_TRUE(store_->WriteAndWait(Req("p", "a", {Number("HEALTH-03", 2024, 3)})).ok());
  store_.reset();
  // Back to version 4 as it was: without the two columns and the row.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "ALTER TABLE revisions DROP COLUMN withdrawn;"
                         "ALTER TABLE revisions DROP COLUMN change_reason;"
                         // Every later migration is undone too, so the
                         // database is a version-4 one whatever the latest is.
                         "DROP TABLE IF EXISTS review_events;"
                         "DROP TABLE IF EXISTS review_forms;"
                         "DELETE FROM schema_version WHERE version >= 5;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  ASSERT_GE(SqliteSubmissionStore::LatestSchemaVersion(), 5);
  Reopen();
  auto history = store_->History(KeyOf(Number("HEALTH-03", 2024, 3)));
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 1u);
  EXPECT_FALSE((*history)[0].withdrawn());
  EXPECT_EQ((*history)[0].change_reason(), "");
  auto w =
      store_->WriteAndWait(WithdrawReq("p", "w", {KeyOf(Number("HEALTH-03", 2024, 3))}, "错填"));
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->results(0).outcome(), v1::WRITE_OUTCOME_WITHDRAWN);
  auto current = store_->ListCurrent({}, 0, 10);
  ASSERT_TRUE(current.ok());
  EXPECT_TRUE(current->revisions.empty());
}

}  // namespace
}  // namespace halfsky::submission
