// common/sqlite on real SQLite files: the error mapping (SQLITE_BUSY from a
// second connection that holds the write lock, a full database, a broken
// constraint, a file that is not a database), statements, transactions and
// the migrations runner.

#include "common/sqlite/sqlite.h"

#include <sqlite3.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sqlite/migrations.h"
#include "common/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"

namespace halfsky::sqlite {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = halfsky::testing::MakeTempDir("common-sqlite") + "/test.db"; }

  Database OpenOrDie(Database::Options options = {}) {
    auto db = Database::Open(path_, options);
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? std::move(*db) : Database();
  }

  std::string path_;
};

TEST(ErrorStatusTest, MapsEveryClassOfResultCode) {
  const absl::Status full = ErrorStatus(nullptr, SQLITE_FULL, "insert");
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrorReason(full), "STORAGE_FULL");
  EXPECT_THAT(full.message(), HasSubstr("存储空间已满"));
  EXPECT_THAT(full.message(), HasSubstr("sqlite: insert: "));
  for (int rc : {SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_IOERR_WRITE, SQLITE_IOERR_FSYNC,
                 SQLITE_CANTOPEN, SQLITE_PROTOCOL, SQLITE_BUSY_SNAPSHOT}) {
    EXPECT_EQ(ErrorStatus(nullptr, rc, "x").code(), absl::StatusCode::kUnavailable) << rc;
  }
  for (int rc : {SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_CORRUPT_INDEX}) {
    EXPECT_EQ(ErrorStatus(nullptr, rc, "x").code(), absl::StatusCode::kDataLoss) << rc;
  }
  for (int rc : {SQLITE_CONSTRAINT, SQLITE_CONSTRAINT_UNIQUE, SQLITE_ERROR, SQLITE_MISUSE,
                 SQLITE_READONLY, SQLITE_NOMEM}) {
    EXPECT_EQ(ErrorStatus(nullptr, rc, "x").code(), absl::StatusCode::kInternal) << rc;
  }
  EXPECT_EQ(ErrorReason(ErrorStatus(nullptr, SQLITE_BUSY, "x")), "");
}

TEST_F(SqliteTest, BusyWhileAnotherConnectionHoldsTheWriteLockIsUnavailable) {
  Database holder = OpenOrDie();
  ASSERT_TRUE(holder.Exec("PRAGMA journal_mode=WAL; CREATE TABLE t(x INTEGER)").ok());
  ASSERT_TRUE(holder.Exec("BEGIN IMMEDIATE; INSERT INTO t VALUES(1)").ok());

  Database::Options impatient;
  impatient.busy_timeout = absl::Milliseconds(50);
  Database other = OpenOrDie(impatient);
  const absl::Status begin = other.Exec("BEGIN IMMEDIATE");
  EXPECT_EQ(begin.code(), absl::StatusCode::kUnavailable) << begin;
  EXPECT_THAT(begin.message(), HasSubstr("database is locked"));

  Statement insert;
  ASSERT_TRUE(insert.Prepare(other, "INSERT INTO t VALUES(2)").ok());
  const absl::Status step = insert.Run();
  EXPECT_EQ(step.code(), absl::StatusCode::kUnavailable) << step;

  // Readers are not blocked by the writer (WAL) and see the committed state.
  auto count = other.QueryInt("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 0);

  // Once the lock is released the same statement goes through.
  ASSERT_TRUE(holder.Exec("COMMIT").ok());
  EXPECT_TRUE(insert.Run().ok());
  count = holder.QueryInt("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2);
}

TEST_F(SqliteTest, FullDatabaseIsResourceExhaustedStorageFull) {
  Database db = OpenOrDie();
  ASSERT_TRUE(db.Exec("CREATE TABLE t(b BLOB NOT NULL)").ok());
  auto pages = db.QueryInt("PRAGMA page_count");
  ASSERT_TRUE(pages.ok());
  ASSERT_TRUE(db.Exec(absl::StrCat("PRAGMA max_page_count=", *pages + 2)).ok());
  const std::string big(64 * 1024, 'x');
  Statement insert;
  ASSERT_TRUE(insert.Prepare(db, "INSERT INTO t VALUES(?1)").ok());
  insert.BindBlob(1, big);
  const absl::Status st = insert.Run();
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_EQ(ErrorReason(st), "STORAGE_FULL");
}

TEST_F(SqliteTest, ConstraintViolationIsInternalAndTransactionRollsBack) {
  Database db = OpenOrDie();
  ASSERT_TRUE(db.Exec("CREATE TABLE t(k TEXT PRIMARY KEY)").ok());
  const absl::Status st = InTransaction(db, [&] {
    HALFSKY_RETURN_IF_ERROR(db.Exec("INSERT INTO t VALUES('a')"));
    return db.Exec("INSERT INTO t VALUES('a')");
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kInternal) << st;
  EXPECT_THAT(st.message(), HasSubstr("UNIQUE constraint failed"));
  auto count = db.QueryInt("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 0);  // the first insert was rolled back too

  EXPECT_TRUE(InTransaction(db, [&] { return db.Exec("INSERT INTO t VALUES('b')"); }).ok());
  count = db.QueryInt("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 1);
}

TEST_F(SqliteTest, FileThatIsNotADatabaseIsDataLoss) {
  {
    std::ofstream f(path_);
    f << std::string(8192, 'z');
  }
  auto db = Database::Open(path_);
  absl::Status st = db.status();
  if (db.ok()) {
    st = db->Exec("CREATE TABLE t(x)");
  }
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
}

TEST_F(SqliteTest, MissingFileWithoutCreateIsUnavailable) {
  Database::Options no_create;
  no_create.create = false;
  auto db = Database::Open(path_ + ".missing", no_create);
  EXPECT_EQ(db.status().code(), absl::StatusCode::kUnavailable) << db.status();
}

TEST_F(SqliteTest, QueryOnlyConnectionRefusesWrites) {
  {
    Database db = OpenOrDie();
    ASSERT_TRUE(db.Exec("CREATE TABLE t(x)").ok());
  }
  Database::Options reader;
  reader.query_only = true;
  Database db = OpenOrDie(reader);
  EXPECT_EQ(db.Exec("INSERT INTO t VALUES(1)").code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(db.QueryInt("SELECT COUNT(*) FROM t").ok());
}

TEST_F(SqliteTest, StatementBindsEmptyTextAndBlobAsValuesNotNull) {
  Database db = OpenOrDie();
  ASSERT_TRUE(db.Exec("CREATE TABLE t(s TEXT NOT NULL, b BLOB NOT NULL, n INTEGER NOT NULL)").ok());
  Statement insert;
  ASSERT_TRUE(insert.Prepare(db, "INSERT INTO t VALUES(?1, ?2, ?3)", /*persistent=*/true).ok());
  insert.Bind(1, absl::string_view());
  insert.BindBlob(2, "");
  insert.Bind(3, int64_t{-7});
  ASSERT_TRUE(insert.Run().ok());
  insert.Bind(1, "中文");
  insert.BindBlob(2, absl::string_view("\0\1", 2));
  insert.Bind(3, int64_t{1} << 40);
  ASSERT_TRUE(insert.Run().ok());

  Statement select;
  ASSERT_TRUE(select.Prepare(db, "SELECT s, b, n FROM t ORDER BY rowid").ok());
  std::vector<std::string> rows;
  while (true) {
    auto step = select.Step();
    ASSERT_TRUE(step.ok()) << step.status();
    if (*step != SQLITE_ROW) {
      break;
    }
    EXPECT_FALSE(select.IsNull(0));
    EXPECT_FALSE(select.IsNull(1));
    rows.push_back(absl::StrCat(select.Text(0), "|", select.View(1).size(), "|", select.Int(2)));
  }
  EXPECT_THAT(rows, ElementsAre("|0|-7", "中文|2|1099511627776"));

  Statement bad;
  EXPECT_EQ(bad.Prepare(db, "SELEC nothing").code(), absl::StatusCode::kInternal);
}

// Each migration appends its version to `log`; migration 2 needs 1's table.
const Migration kTwo[] = {
    {1, "CREATE TABLE log(v INTEGER NOT NULL); INSERT INTO log VALUES(1);"},
    {2, "CREATE TABLE other(x); INSERT INTO log VALUES(2);"},
};
const Migration kThree[] = {
    {1, "CREATE TABLE log(v INTEGER NOT NULL); INSERT INTO log VALUES(1);"},
    {2, "CREATE TABLE other(x); INSERT INTO log VALUES(2);"},
    {5, "INSERT INTO log VALUES(5);"},
};

std::vector<int64_t> Log(Database& db) {
  std::vector<int64_t> out;
  Statement s;
  EXPECT_TRUE(s.Prepare(db, "SELECT v FROM log ORDER BY rowid").ok());
  while (true) {
    auto step = s.Step();
    if (!step.ok() || *step != SQLITE_ROW) {
      break;
    }
    out.push_back(s.Int(0));
  }
  return out;
}

TEST_F(SqliteTest, MigrationsAreAppliedOnceInOrder) {
  {
    Database db = OpenOrDie();
    auto v = SchemaVersion(db);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, 0);
    auto applied = ApplyMigrations(db, kTwo, "test");
    ASSERT_TRUE(applied.ok()) << applied.status();
    EXPECT_EQ(*applied, 2);
    EXPECT_THAT(Log(db), ElementsAre(1, 2));
  }
  {
    // Reopened: nothing runs again.
    Database db = OpenOrDie();
    auto applied = ApplyMigrations(db, kTwo, "test");
    ASSERT_TRUE(applied.ok()) << applied.status();
    EXPECT_EQ(*applied, 2);
    EXPECT_THAT(Log(db), ElementsAre(1, 2));
  }
  {
    // Newer code: only the new migration runs.
    Database db = OpenOrDie();
    auto applied = ApplyMigrations(db, kThree, "test");
    ASSERT_TRUE(applied.ok()) << applied.status();
    EXPECT_EQ(*applied, 5);
    EXPECT_THAT(Log(db), ElementsAre(1, 2, 5));
    auto v = SchemaVersion(db);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, 5);
    auto rows = db.QueryInt("SELECT COUNT(*) FROM schema_version");
    ASSERT_TRUE(rows.ok());
    EXPECT_EQ(*rows, 3);
  }
}

TEST_F(SqliteTest, DatabaseNewerThanTheCodeIsRefusedAndUnchanged) {
  Database db = OpenOrDie();
  ASSERT_TRUE(ApplyMigrations(db, kThree, "test").ok());
  auto refused = ApplyMigrations(db, kTwo, "test");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_THAT(refused.status().message(),
              HasSubstr("schema version 5, newer than this program's 2"));
  EXPECT_THAT(Log(db), ElementsAre(1, 2, 5));
}

TEST_F(SqliteTest, FailedMigrationIsRolledBackEarlierOnesStay) {
  const Migration broken[] = {
      {1, "CREATE TABLE log(v INTEGER NOT NULL); INSERT INTO log VALUES(1);"},
      {2, "INSERT INTO log VALUES(2); INSERT INTO no_such_table VALUES(1);"},
  };
  Database db = OpenOrDie();
  auto st = ApplyMigrations(db, broken, "test");
  EXPECT_EQ(st.status().code(), absl::StatusCode::kInternal) << st.status();
  EXPECT_THAT(Log(db), ElementsAre(1));
  auto v = SchemaVersion(db);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 1);
}

TEST_F(SqliteTest, MigrationListMustBeStrictlyIncreasing) {
  const Migration unordered[] = {{2, "CREATE TABLE a(x);"}, {1, "CREATE TABLE b(x);"}};
  Database db = OpenOrDie();
  EXPECT_EQ(ApplyMigrations(db, unordered, "test").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ApplyMigrations(db, {}, "test").status().code(), absl::StatusCode::kInvalidArgument);
  auto tables = db.QueryInt("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('a', 'b')");
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(*tables, 0);
}

}  // namespace
}  // namespace halfsky::sqlite
