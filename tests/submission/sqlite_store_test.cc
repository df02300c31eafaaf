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
