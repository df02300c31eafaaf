#include "services/evaluation/service/warning_store.h"

#include <sqlite3.h>

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "google/protobuf/util/time_util.h"

namespace halfsky::evaluation {
namespace {

using ::google::protobuf::util::TimeUtil;

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
};

absl::Status SqliteError(sqlite3* db, absl::string_view what) {
  return absl::InternalError(absl::StrCat("sqlite: ", what, ": ", sqlite3_errmsg(db)));
}

// RAII statement.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(s_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return s_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int rc_;
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
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    absl::Status st =
        absl::UnavailableError(absl::StrCat("无法打开评估数据库 / cannot open ", path, ": ",
                                            db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return st;
  }
  std::unique_ptr<WarningStore> store(new WarningStore(db));
  sqlite3_busy_timeout(db, 5000);
  HALFSKY_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL;"));
  HALFSKY_RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=FULL;"));
  HALFSKY_RETURN_IF_ERROR(store->Exec("PRAGMA foreign_keys=ON;"));
  HALFSKY_RETURN_IF_ERROR(store->Migrate());
  return store;
}

WarningStore::~WarningStore() { sqlite3_close(db_); }

absl::Status WarningStore::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    absl::Status st = absl::InternalError(
        absl::StrCat("sqlite: ", err != nullptr ? err : "error", " in: ", sql.substr(0, 80)));
    sqlite3_free(err);
    return st;
  }
  return absl::OkStatus();
}

absl::Status WarningStore::Migrate() {
  HALFSKY_RETURN_IF_ERROR(
      Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"));
  int version = 0;
  {
    Stmt s(db_, "SELECT MAX(version) FROM schema_version;");
    if (!s.ok()) {
      return SqliteError(db_, "read schema_version");
    }
    if (sqlite3_step(s.get()) == SQLITE_ROW && sqlite3_column_type(s.get(), 0) != SQLITE_NULL) {
      version = sqlite3_column_int(s.get(), 0);
    }
  }
  if (version > LatestSchemaVersion()) {
    return absl::FailedPreconditionError(
        absl::StrCat("评估数据库版本过新 / database schema version ", version,
                     " is newer than this binary's ", LatestSchemaVersion()));
  }
  for (int v = version; v < LatestSchemaVersion(); ++v) {
    HALFSKY_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE;"));
    absl::Status st = Exec(kMigrations[v]);
    if (st.ok()) {
      st = Exec(absl::StrCat("INSERT INTO schema_version (version) VALUES (", v + 1, ");"));
    }
    if (!st.ok()) {
      (void)Exec("ROLLBACK;");
      return st;
    }
    HALFSKY_RETURN_IF_ERROR(Exec("COMMIT;"));
  }
  schema_version_ = LatestSchemaVersion();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<halfsky::v1::Warning>> WarningStore::LoadAll() {
  std::vector<halfsky::v1::Warning> out;
  Stmt s(db_, "SELECT body FROM warnings ORDER BY id;");
  if (!s.ok()) {
    return SqliteError(db_, "load warnings");
  }
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    halfsky::v1::Warning w;
    const void* blob = sqlite3_column_blob(s.get(), 0);
    const int n = sqlite3_column_bytes(s.get(), 0);
    if (!w.ParseFromArray(blob, n)) {
      return absl::DataLossError("评估数据库中的预警记录损坏 / corrupt warning row");
    }
    out.push_back(std::move(w));
  }
  if (rc != SQLITE_DONE) {
    return SqliteError(db_, "load warnings");
  }
  Stmt a(db_,
         "SELECT by, note, at_micros FROM acknowledgements WHERE warning_id = ?1 AND episode = ?2 "
         "ORDER BY seq DESC LIMIT 1;");
  if (!a.ok()) {
    return SqliteError(db_, "load acknowledgements");
  }
  for (halfsky::v1::Warning& w : out) {
    sqlite3_reset(a.get());
    sqlite3_bind_text(a.get(), 1, w.id().data(), static_cast<int>(w.id().size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(a.get(), 2, w.episode());
    if (sqlite3_step(a.get()) == SQLITE_ROW) {
      halfsky::v1::Acknowledgement* ack = w.mutable_acknowledgement();
      ack->set_by(reinterpret_cast<const char*>(sqlite3_column_text(a.get(), 0)));
      ack->set_note(reinterpret_cast<const char*>(sqlite3_column_text(a.get(), 1)));
      *ack->mutable_at() = TimeUtil::MicrosecondsToTimestamp(sqlite3_column_int64(a.get(), 2));
    } else {
      w.clear_acknowledgement();
    }
  }
  return out;
}

absl::Status WarningStore::Upsert(const std::vector<halfsky::v1::Warning>& warnings) {
  if (warnings.empty()) {
    return absl::OkStatus();
  }
  HALFSKY_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE;"));
  absl::Status st;
  {
    Stmt s(db_,
           "INSERT OR REPLACE INTO warnings (id, indicator_id, area_code, kind, target_year, "
           "episode, state, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8);");
    if (!s.ok()) {
      st = SqliteError(db_, "prepare upsert");
    }
    for (size_t i = 0; st.ok() && i < warnings.size(); ++i) {
      halfsky::v1::Warning body = warnings[i];
      body.clear_acknowledgement();
      const std::string blob = body.SerializeAsString();
      sqlite3_reset(s.get());
      sqlite3_bind_text(s.get(), 1, body.id().data(), static_cast<int>(body.id().size()),
                        SQLITE_TRANSIENT);
      sqlite3_bind_text(s.get(), 2, body.indicator_id().data(),
                        static_cast<int>(body.indicator_id().size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(s.get(), 3, body.area_code().data(),
                        static_cast<int>(body.area_code().size()), SQLITE_TRANSIENT);
      sqlite3_bind_int(s.get(), 4, body.kind());
      sqlite3_bind_int(s.get(), 5, body.target_year());
      sqlite3_bind_int64(s.get(), 6, body.episode());
      sqlite3_bind_int(s.get(), 7, body.state());
      sqlite3_bind_blob(s.get(), 8, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
      if (sqlite3_step(s.get()) != SQLITE_DONE) {
        st = SqliteError(db_, "upsert warning");
      }
    }
  }
  if (!st.ok()) {
    (void)Exec("ROLLBACK;");
    return st;
  }
  return Exec("COMMIT;");
}

absl::Status WarningStore::Acknowledge(const std::string& warning_id, int64_t episode,
                                       const halfsky::v1::Acknowledgement& ack) {
  Stmt s(db_,
         "INSERT INTO acknowledgements (warning_id, episode, by, note, at_micros) "
         "VALUES (?1, ?2, ?3, ?4, ?5);");
  if (!s.ok()) {
    return SqliteError(db_, "prepare acknowledge");
  }
  sqlite3_bind_text(s.get(), 1, warning_id.data(), static_cast<int>(warning_id.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_int64(s.get(), 2, episode);
  sqlite3_bind_text(s.get(), 3, ack.by().data(), static_cast<int>(ack.by().size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_text(s.get(), 4, ack.note().data(), static_cast<int>(ack.note().size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_int64(s.get(), 5, ToMicros(ack.at()));
  // Autocommit: one durable transaction (WAL, synchronous=FULL).
  if (sqlite3_step(s.get()) != SQLITE_DONE) {
    return SqliteError(db_, "insert acknowledgement");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<halfsky::v1::Acknowledgement>> WarningStore::AcknowledgementHistory(
    const std::string& warning_id) {
  Stmt s(db_,
         "SELECT by, note, at_micros FROM acknowledgements WHERE warning_id = ?1 ORDER BY seq;");
  if (!s.ok()) {
    return SqliteError(db_, "acknowledgement history");
  }
  sqlite3_bind_text(s.get(), 1, warning_id.data(), static_cast<int>(warning_id.size()),
                    SQLITE_TRANSIENT);
  std::vector<halfsky::v1::Acknowledgement> out;
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    halfsky::v1::Acknowledgement& ack = out.emplace_back();
    ack.set_by(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0)));
    ack.set_note(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 1)));
    *ack.mutable_at() = TimeUtil::MicrosecondsToTimestamp(sqlite3_column_int64(s.get(), 2));
  }
  return out;
}

}  // namespace halfsky::evaluation
