#include "services/evaluation/service/warning_store.h"

#include <sqlite3.h>

#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sqlite/migrations.h"
#include "common/status/status.h"
#include "google/protobuf/util/time_util.h"
#include "services/evaluation/service/followup_store.h"

namespace halfsky::evaluation {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::halfsky::sqlite::Statement;

// Migrations, in order; index i brings the schema to version i + 1. Never
// edit a released entry: append a new one.
const char* const kMigrations[] = {
    // 1: warnings (current episode per identity) and acknowledgements.
    "CREATE TABLE warnings ("
    "  id TEXT PRIMARY KEY,"
    "  indicator_id TEXT NOT NULL,"
    "  area_code TEXT NOT NULL,"
    "  kind INTEGER NOT NULL,"
    "  target_year INTEGER NOT NULL,"
    "  episode INTEGER NOT NULL,"
    "  state INTEGER NOT NULL,"
    "  body BLOB NOT NULL"
    ");"
    "CREATE TABLE acknowledgements ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  warning_id TEXT NOT NULL,"
    "  episode INTEGER NOT NULL,"
    "  by TEXT NOT NULL,"
    "  note TEXT NOT NULL,"
    "  at_micros INTEGER NOT NULL"
    ");"
    "CREATE INDEX acknowledgements_by_warning ON acknowledgements (warning_id, episode, seq);",
    // 2: follow-up records (督办) and their history (followup_store.h).
    kFollowUpSchemaMigration,
};

int64_t ToMicros(const google::protobuf::Timestamp& t) {
  return TimeUtil::TimestampToMicroseconds(t);
}

}  // namespace

int WarningStore::LatestSchemaVersion() {
  return static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));
}

absl::StatusOr<std::unique_ptr<WarningStore>> WarningStore::Open(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::filesystem::create_directories(parent, ec);
  }
  sqlite::Database::Options options;
  options.busy_timeout = absl::Seconds(5);
  HALFSKY_ASSIGN_OR_RETURN(sqlite::Database db, sqlite::Database::Open(path, options));
  std::unique_ptr<WarningStore> store(new WarningStore(std::move(db)));
  HALFSKY_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL;"));
  HALFSKY_RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=FULL;"));
  HALFSKY_RETURN_IF_ERROR(store->Exec("PRAGMA foreign_keys=ON;"));
  HALFSKY_RETURN_IF_ERROR(store->Migrate());
  return store;
}

WarningStore::~WarningStore() = default;

absl::Status WarningStore::Migrate() {
  // kMigrations[i] is version i + 1.
  std::vector<sqlite::Migration> migrations;
  for (int v = 0; v < LatestSchemaVersion(); ++v) {
    migrations.push_back(sqlite::Migration{v + 1, kMigrations[v]});
  }
  HALFSKY_ASSIGN_OR_RETURN(schema_version_, sqlite::ApplyMigrations(db_, migrations, "evaluation"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<halfsky::v1::Warning>> WarningStore::LoadAll() {
  std::vector<halfsky::v1::Warning> out;
  {
    Statement s;
    HALFSKY_RETURN_IF_ERROR(s.Prepare(db_, "SELECT body FROM warnings ORDER BY id;"));
    while (true) {
      HALFSKY_ASSIGN_OR_RETURN(const int step, s.Step());
      if (step != SQLITE_ROW) {
        break;
      }
      halfsky::v1::Warning w;
      const absl::string_view blob = s.View(0);
      if (!w.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
        return absl::DataLossError("评估数据库中的预警记录损坏 / corrupt warning row");
      }
      out.push_back(std::move(w));
    }
  }
  Statement a;
  HALFSKY_RETURN_IF_ERROR(
      a.Prepare(db_,
                "SELECT by, note, at_micros FROM acknowledgements WHERE warning_id = ?1 AND "
                "episode = ?2 ORDER BY seq DESC LIMIT 1;"));
  for (halfsky::v1::Warning& w : out) {
    a.Bind(1, w.id());
    a.Bind(2, w.episode());
    HALFSKY_ASSIGN_OR_RETURN(const int step, a.Step());
    if (step == SQLITE_ROW) {
      halfsky::v1::Acknowledgement* ack = w.mutable_acknowledgement();
      ack->set_by(a.Text(0));
      ack->set_note(a.Text(1));
      *ack->mutable_at() = TimeUtil::MicrosecondsToTimestamp(a.Int(2));
    } else {
      w.clear_acknowledgement();
    }
    a.Reset();
  }
  return out;
}

absl::Status WarningStore::Upsert(const std::vector<halfsky::v1::Warning>& warnings) {
  if (warnings.empty()) {
    return absl::OkStatus();
  }
  Statement s;
  HALFSKY_RETURN_IF_ERROR(
      s.Prepare(db_,
                "INSERT OR REPLACE INTO warnings (id, indicator_id, area_code, kind, target_year, "
                "episode, state, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8);"));
  return sqlite::InTransaction(db_, [&]() -> absl::Status {
    for (const halfsky::v1::Warning& warning : warnings) {
      halfsky::v1::Warning body = warning;
      body.clear_acknowledgement();
      const std::string blob = body.SerializeAsString();
      s.Bind(1, body.id());
      s.Bind(2, body.indicator_id());
      s.Bind(3, body.area_code());
      s.Bind(4, static_cast<int64_t>(body.kind()));
      s.Bind(5, static_cast<int64_t>(body.target_year()));
      s.Bind(6, body.episode());
      s.Bind(7, static_cast<int64_t>(body.state()));
      s.BindBlob(8, blob);
      HALFSKY_RETURN_IF_ERROR(s.Run());
    }
    return absl::OkStatus();
  });
}

absl::Status WarningStore::Acknowledge(const std::string& warning_id, int64_t episode,
                                       const halfsky::v1::Acknowledgement& ack) {
  Statement s;
  HALFSKY_RETURN_IF_ERROR(
      s.Prepare(db_,
                "INSERT INTO acknowledgements (warning_id, episode, by, note, at_micros) "
                "VALUES (?1, ?2, ?3, ?4, ?5);"));
  s.Bind(1, warning_id);
  s.Bind(2, episode);
  s.Bind(3, ack.by());
  s.Bind(4, ack.note());
  s.Bind(5, ToMicros(ack.at()));
  // Autocommit: one durable transaction (WAL, synchronous=FULL).
  return s.Run();
}

absl::StatusOr<std::vector<halfsky::v1::Acknowledgement>> WarningStore::AcknowledgementHistory(
    const std::string& warning_id) {
  Statement s;
  HALFSKY_RETURN_IF_ERROR(s.Prepare(
      db_, "SELECT by, note, at_micros FROM acknowledgements WHERE warning_id = ?1 ORDER BY seq;"));
  s.Bind(1, warning_id);
  std::vector<halfsky::v1::Acknowledgement> out;
  while (true) {
    HALFSKY_ASSIGN_OR_RETURN(const int step, s.Step());
    if (step != SQLITE_ROW) {
      break;
    }
    halfsky::v1::Acknowledgement& ack = out.emplace_back();
    ack.set_by(s.Text(0));
    ack.set_note(s.Text(1));
    *ack.mutable_at() = TimeUtil::MicrosecondsToTimestamp(s.Int(2));
  }
  return out;
}

}  // namespace halfsky::evaluation
