// WarningStore on a real SQLite file: writes while another connection holds
// the database's write lock fail UNAVAILABLE (transient, retry) and change
// nothing; once the lock is released they go through. A file that is not a
// database is DATA_LOSS; a database newer than the code is refused.

#include "services/evaluation/service/warning_store.h"

#include <sqlite3.h>

#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/process.h"

namespace halfsky::evaluation {
namespace {

halfsky::v1::Warning MakeWarning(const std::string& id) {
  halfsky::v1::Warning w;
  w.set_id(id);
  w.set_indicator_id("HEALTH-01");
  w.set_area_code("610303");
  w.set_kind(halfsky::v1::WARNING_KIND_PROGRESS);
  w.set_target_year(2030);
  w.set_episode(1);
  return w;
}

TEST(WarningStoreTest, BusyDatabaseIsUnavailableAndWritesNothing) {
  const std::string path = halfsky::testing::MakeTempDir("warning-store") + "/evaluation.db";
  auto store = WarningStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();

  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(holder);

  const absl::Status upsert = (*store)->Upsert({MakeWarning("w1")});
  EXPECT_EQ(upsert.code(), absl::StatusCode::kUnavailable) << upsert;
  halfsky::v1::Acknowledgement ack;
  ack.set_by("stats");
  ack.set_note("已知");
  const absl::Status acked = (*store)->Acknowledge("w1", 1, ack);
  EXPECT_EQ(acked.code(), absl::StatusCode::kUnavailable) << acked;
  // Reads still work (WAL) and see nothing of the refused writes.
  auto all = (*store)->LoadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_TRUE(all->empty());

  ASSERT_EQ(sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(holder);
  EXPECT_TRUE((*store)->Upsert({MakeWarning("w1")}).ok());
  EXPECT_TRUE((*store)->Acknowledge("w1", 1, ack).ok());
  all = (*store)->LoadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].acknowledgement().note(), "已知");
}

TEST(WarningStoreTest, FileThatIsNotADatabaseIsDataLoss) {
  const std::string path = halfsky::testing::MakeTempDir("warning-store") + "/evaluation.db";
  {
    std::ofstream f(path);
    f << std::string(8192, 'z');
  }
  EXPECT_EQ(WarningStore::Open(path).status().code(), absl::StatusCode::kDataLoss);
}

TEST(WarningStoreTest, NewerSchemaIsRefused) {
  const std::string path = halfsky::testing::MakeTempDir("warning-store") + "/evaluation.db";
  ASSERT_TRUE(WarningStore::Open(path).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_version VALUES(999)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(WarningStore::Open(path).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace halfsky::evaluation
