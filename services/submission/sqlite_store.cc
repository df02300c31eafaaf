#include "services/submission/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "common/proto/serialize.h"
#include "common/proto/timestamp.h"
#include "common/status/status.h"
#include "google/rpc/error_details.pb.h"

namespace halfsky::submission {

namespace v1 = ::halfsky::v1;

namespace {

// Ordered schema migrations. Append only; never edit a released one.
struct Migration {
  int version;
  const char* sql;
};

const Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE data_keys(
  key_id INTEGER PRIMARY KEY,
  indicator_id TEXT NOT NULL,
  area_code TEXT NOT NULL,
  year INTEGER NOT NULL,
  sex INTEGER NOT NULL,
  residence INTEGER NOT NULL,
  current_revision INTEGER NOT NULL,
  current_sequence INTEGER NOT NULL,
  current_unit_code TEXT NOT NULL,
  UNIQUE(indicator_id, area_code, year, sex, residence));
CREATE TABLE revisions(
  sequence INTEGER PRIMARY KEY,
  key_id INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  data_value BLOB NOT NULL,
  submitted_by TEXT NOT NULL,
  unit_code TEXT NOT NULL,
  committed_at_us INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  UNIQUE(key_id, revision));
CREATE TABLE requests(
  principal TEXT NOT NULL,
  request_id TEXT NOT NULL,
  payload_hash BLOB NOT NULL,
  reply BLOB NOT NULL,
  committed_at_us INTEGER NOT NULL,
  PRIMARY KEY(principal, request_id)) WITHOUT ROWID;
CREATE TABLE year_locks(
  year INTEGER PRIMARY KEY,
  locked INTEGER NOT NULL,
  changed_by TEXT NOT NULL,
  changed_at_us INTEGER NOT NULL,
  reason TEXT NOT NULL);
CREATE TABLE year_lock_history(
  id INTEGER PRIMARY KEY,
  year INTEGER NOT NULL,
  locked INTEGER NOT NULL,
  changed_by TEXT NOT NULL,
  changed_at_us INTEGER NOT NULL,
  reason TEXT NOT NULL);
CREATE TABLE reporting_times(
  year INTEGER NOT NULL,
  unit_code TEXT NOT NULL,
  indicator_id TEXT NOT NULL,
  first_at_us INTEGER NOT NULL,
  last_at_us INTEGER NOT NULL,
  PRIMARY KEY(year, unit_code, indicator_id)) WITHOUT ROWID;
)sql"},
    // data_keys becomes write-once: a key's current revision is its highest
    // revision in revisions' (key_id, revision) index, so a write no longer
    // rewrites the key's row (one B-tree write less per value).
    {2, R"sql(
CREATE TABLE data_keys_v2(
  key_id INTEGER PRIMARY KEY,
  indicator_id TEXT NOT NULL,
  area_code TEXT NOT NULL,
  year INTEGER NOT NULL,
  sex INTEGER NOT NULL,
  residence INTEGER NOT NULL,
  UNIQUE(indicator_id, area_code, year, sex, residence));
INSERT INTO data_keys_v2(key_id, indicator_id, area_code, year, sex, residence)
  SELECT key_id, indicator_id, area_code, year, sex, residence FROM data_keys;
DROP TABLE data_keys;
ALTER TABLE data_keys_v2 RENAME TO data_keys;
)sql"},
    // A key's revisions become a chain (prev_sequence) and its current one
    // is kept in a narrow key_heads row, instead of the (key_id, revision)
    // index: that index placed each new revision after the key's earlier
    // ones, so a chunk of values dirtied one index page per key with a long
    // history (write amplification growing with history depth); a
    // key_heads row is rewritten in place, and revisions only append.
    {3, R"sql(
CREATE TABLE revisions_v3(
  sequence INTEGER PRIMARY KEY,
  key_id INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  prev_sequence INTEGER NOT NULL,
  data_value BLOB NOT NULL,
  submitted_by TEXT NOT NULL,
  unit_code TEXT NOT NULL,
  committed_at_us INTEGER NOT NULL,
  request_id TEXT NOT NULL);
INSERT INTO revisions_v3(sequence, key_id, revision, prev_sequence, data_value, submitted_by,
                         unit_code, committed_at_us, request_id)
  SELECT r.sequence, r.key_id, r.revision,
         COALESCE((SELECT p.sequence FROM revisions p
                   WHERE p.key_id = r.key_id AND p.revision = r.revision - 1), 0),
         r.data_value, r.submitted_by, r.unit_code, r.committed_at_us, r.request_id
  FROM revisions r;
CREATE TABLE key_heads(
  key_id INTEGER PRIMARY KEY,
  revision INTEGER NOT NULL,
  sequence INTEGER NOT NULL);
INSERT INTO key_heads(key_id, revision, sequence)
  SELECT r.key_id, r.revision, r.sequence FROM revisions r
  WHERE r.revision = (SELECT MAX(m.revision) FROM revisions m WHERE m.key_id = r.key_id);
DROP TABLE revisions;
ALTER TABLE revisions_v3 RENAME TO revisions;
)sql"},
    // A key names the unit whose narrative it is (DataKey.unit_code,
    // QUALITATIVE only; '' for every figure), and the unit is part of the
    // key's uniqueness, so each responsible unit of a qualitative objective
    // has its own narrative, revisions and history. Existing narrative keys
    // (their current revision's payload is a narrative, which only
    // QUALITATIVE indicators accept: halfsky_is_narrative, a function the
    // store registers on its writer) take the unit_code of their current
    // revision (the unit that wrote it; '' if statistics/admin did); figures
    // stay ''. Revisions are not rewritten: readers take a key's unit from
    // data_keys. key_ids are kept, so revisions and key_heads stay valid.
    {4, R"sql(
CREATE TABLE data_keys_v4(
  key_id INTEGER PRIMARY KEY,
  indicator_id TEXT NOT NULL,
  area_code TEXT NOT NULL,
  year INTEGER NOT NULL,
  sex INTEGER NOT NULL,
  residence INTEGER NOT NULL,
  unit_code TEXT NOT NULL,
  UNIQUE(indicator_id, area_code, year, sex, residence, unit_code));
INSERT INTO data_keys_v4(key_id, indicator_id, area_code, year, sex, residence, unit_code)
  SELECT k.key_id, k.indicator_id, k.area_code, k.year, k.sex, k.residence,
         CASE WHEN halfsky_is_narrative(r.data_value) THEN r.unit_code ELSE '' END
  FROM data_keys k LEFT JOIN key_heads h ON h.key_id = k.key_id
  LEFT JOIN revisions r ON r.sequence = h.sequence;
DROP TABLE data_keys;
ALTER TABLE data_keys_v4 RENAME TO data_keys;
)sql"},
    // Withdrawals and reasons for change: a revision may withdraw its key's
    // value (withdrawn = 1; its data_value then holds only the key), and
    // every revision keeps the reason given for it ('' when none). Existing
    // revisions are values without a reason.
    {5, R"sql(
ALTER TABLE revisions ADD COLUMN withdrawn INTEGER NOT NULL DEFAULT 0;
ALTER TABLE revisions ADD COLUMN change_reason TEXT NOT NULL DEFAULT '';
)sql"},
};

// halfsky_is_narrative(data_value): 1 when the blob is a DataValue whose
// payload is a narrative, else 0 (NULL and unparsable blobs included). Used
// by migration 4.
void IsNarrativeFunction(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  int result = 0;
  if (argc == 1 && sqlite3_value_type(argv[0]) == SQLITE_BLOB) {
    v1::DataValue value;
    if (value.ParseFromArray(sqlite3_value_blob(argv[0]), sqlite3_value_bytes(argv[0])) &&
        value.payload_case() == v1::DataValue::kNarrative) {
      result = 1;
    }
  }
  sqlite3_result_int(ctx, result);
}

// Joins data_keys k to the current revision r of each key (through its
// key_heads row h).
constexpr char kCurrentRevisionJoin[] =
    " FROM data_keys k JOIN key_heads h ON h.key_id = k.key_id"
    " JOIN revisions r ON r.sequence = h.sequence";

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what) {
  const std::string message =
      absl::StrCat("sqlite: ", what, ": ", db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_FULL:
      // Out of space (disk, quota or max_page_count): retrying does not
      // help until space is freed, so not UNAVAILABLE.
      return WithReason(
          absl::ResourceExhaustedError(absl::StrCat(
              "存储空间已满，数据未写入 / storage full, nothing was written (", message, ")")),
          "STORAGE_FULL");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string what = absl::StrCat(sql, " (", err != nullptr ? err : "", ")");
    sqlite3_free(err);
    return SqliteError(db, rc, what);
  }
  return absl::OkStatus();
}

// A prepared statement; reset after each use by its user. Text and blob
// parameters are bound without copying (SQLITE_STATIC): the caller keeps
// the bytes alive until the statement is reset, and binds every parameter
// before each step.
class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(stmt_); }

  // `persistent`: the statement is kept for many uses (SQLite then
  // allocates it outside its lookaside memory).
  absl::Status Prepare(sqlite3* db, const std::string& sql, bool persistent = false) {
    db_ = db;
    const int rc = sqlite3_prepare_v3(db, sql.c_str(), -1,
                                      persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt_, nullptr);
    if (rc != SQLITE_OK) {
      return SqliteError(db, rc, absl::StrCat("prepare ", sql));
    }
    return absl::OkStatus();
  }
  void Reset() { sqlite3_reset(stmt_); }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, absl::string_view v) {
    // A default string_view has no data(); that would bind NULL.
    sqlite3_bind_text(stmt_, i, v.data() == nullptr ? "" : v.data(), static_cast<int>(v.size()),
                      SQLITE_STATIC);
  }
  void BindBlob(int i, absl::string_view v) {
    // A zero-length blob must not be bound as NULL (columns are NOT NULL).
    sqlite3_bind_blob(stmt_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()),
                      SQLITE_STATIC);
  }
  // SQLITE_ROW or SQLITE_DONE; an error status otherwise.
  absl::StatusOr<int> Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
      return rc;
    }
    return SqliteError(db_, rc, sqlite3_sql(stmt_));
  }
  // Steps a statement that returns no rows, then resets it.
  absl::Status Run() {
    auto rc = Step();
    Reset();
    return rc.status();
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  // Valid until the next Step or Reset.
  absl::string_view View(int col) {
    const auto* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p == nullptr ? absl::string_view() : absl::string_view(static_cast<const char*>(p), n);
  }
  std::string Text(int col) {
    const auto* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

// Revision columns in the order every read query selects them.
constexpr char kRevisionColumns[] =
    "r.data_value, r.revision, r.sequence, r.submitted_by, r.unit_code, r.committed_at_us, "
    "r.request_id, r.withdrawn, r.change_reason";
constexpr int kRevisionColumnCount = 9;

absl::StatusOr<v1::Revision> RevisionFromRow(Stmt& s, int first_col) {
  v1::Revision rev;
  if (!rev.mutable_data_value()->ParseFromString(s.Text(first_col))) {
    return absl::DataLossError("sqlite: stored data value does not parse");
  }
  rev.set_revision(s.Int(first_col + 1));
  rev.set_sequence(s.Int(first_col + 2));
  rev.set_submitted_by(s.Text(first_col + 3));
  rev.set_unit_code(s.Text(first_col + 4));
  SetTimestamp(FromMicros(s.Int(first_col + 5)), rev.mutable_committed_at());
  rev.set_request_id(s.Text(first_col + 6));
  rev.set_withdrawn(s.Int(first_col + 7) != 0);
  rev.set_change_reason(s.Text(first_col + 8));
  return rev;
}

// A key's unit comes from data_keys (migration 4 did not rewrite the
// DataValues stored before it, whose keys carry no unit_code).
void SetKeyUnit(absl::string_view unit_code, v1::Revision* rev) {
  if (!unit_code.empty()) {
    rev->mutable_data_value()->mutable_key()->set_unit_code(std::string(unit_code));
  }
}

// The stored encoding of a key's current value as a new write of it would
// encode it: a narrative stored before migration 4 lacks its key's
// unit_code, so it is re-encoded with it (only narrative keys pay this, at
// load), and an identical resubmission stays UNCHANGED.
std::string EncodedWithUnit(std::string encoded, absl::string_view unit_code) {
  if (unit_code.empty()) {
    return encoded;
  }
  v1::DataValue value;
  if (!value.ParseFromString(encoded) || value.key().unit_code() == unit_code) {
    return encoded;
  }
  value.mutable_key()->set_unit_code(std::string(unit_code));
  return DeterministicBytes(value);
}

v1::YearLock LockFromRow(Stmt& s) {
  v1::YearLock lock;
  lock.set_year(static_cast<int>(s.Int(0)));
  lock.set_locked(s.Int(1) != 0);
  lock.set_changed_by(s.Text(2));
  SetTimestamp(FromMicros(s.Int(3)), lock.mutable_changed_at());
  lock.set_reason(s.Text(4));
  return lock;
}

absl::Status YearLockedError(const std::set<int>& years) {
  absl::Status status = absl::FailedPreconditionError(absl::StrCat(
      "年份已锁定，不能写入 / year locked, writes refused: ", absl::StrJoin(years, ", ")));
  google::rpc::PreconditionFailure failure;
  for (int y : years) {
    auto* v = failure.add_violations();
    v->set_type("YEAR_LOCKED");
    v->set_subject(absl::StrCat("year/", y));
    v->set_description(absl::StrCat(y, "年数据已由统计局锁定 / data of ", y,
                                    " is locked by the statistics bureau"));
  }
  status.SetPayload("type.googleapis.com/google.rpc.PreconditionFailure",
                    absl::Cord(failure.SerializeAsString()));
  return WithReason(status, "YEAR_LOCKED");
}

}  // namespace

struct SqliteSubmissionStore::Op {
  bool is_lock = false;
  WriteRequest write;
  WriteCallback write_done;
  int year = 0;
  bool locked = false;
  std::string principal;
  std::string reason;
  std::function<void(absl::StatusOr<v1::YearLock>)> lock_done;

  size_t size() const { return is_lock ? 1 : std::max<size_t>(1, write.values.size()); }
};

// A committed (or failed) group whose callbacks are due.
struct SqliteSubmissionStore::Completion {
  std::vector<std::unique_ptr<Op>> group;
  std::vector<absl::StatusOr<v1::SubmitBatchResponse>> write_results;
  std::vector<absl::StatusOr<v1::YearLock>> lock_results;
  // Not OK: the whole group failed, every op gets this status.
  absl::Status group_status;

  void Deliver() {
    for (size_t i = 0; i < group.size(); ++i) {
      Op& op = *group[i];
      if (op.is_lock) {
        op.lock_done(group_status.ok() ? std::move(lock_results[i]) : group_status);
      } else {
        op.write_done(group_status.ok() ? std::move(write_results[i]) : group_status);
      }
    }
  }
};

// One buffered row of `revisions`; the strings point into the group's
// requests, which outlive the flush.
struct SqliteSubmissionStore::RevisionRow {
  int64_t sequence;
  int64_t key_id;
  int64_t revision;
  // The key's previous revision (0 for its first).
  int64_t prev_sequence;
  absl::string_view encoded;
  absl::string_view submitted_by;
  absl::string_view unit_code;
  absl::string_view request_id;
  bool withdrawn;
  absl::string_view change_reason;
  // The key (points into the group's request).
  const v1::DataKey* key;
};

// One buffered row of `requests` (a request applied in the group in flight).
struct SqliteSubmissionStore::PendingRequest {
  absl::string_view principal;
  absl::string_view request_id;
  absl::string_view payload_hash;
  // Serialized reply without keys, as stored.
  std::string reply;
};

struct SqliteSubmissionStore::WriterStatements {
  Stmt select_request;
  Stmt select_current;
  Stmt select_lock;
  Stmt upsert_lock;
  Stmt insert_lock_history;
  Stmt begin;
  Stmt commit;
  Stmt rollback;
  // Multi-row INSERTs, prepared on first use for each row count
  // (index = rows, 1..kMaxRowsPerInsert).
  std::vector<std::unique_ptr<Stmt>> insert_revisions;
  std::vector<std::unique_ptr<Stmt>> upsert_heads;
  std::vector<std::unique_ptr<Stmt>> insert_keys;
  std::vector<std::unique_ptr<Stmt>> upsert_reporting;
  std::vector<std::unique_ptr<Stmt>> insert_reporting_if_new;
  std::vector<std::unique_ptr<Stmt>> insert_requests;
  // Drops a unit's reporting time a withdrawal leaves without a value.
  Stmt drop_reporting;
};

namespace {

// Rows per multi-row INSERT: amortizes statement execution (and SQLite's
// per-statement journal) without making statements huge (at most 8 x 64
// parameters). A power of two.
constexpr size_t kMaxRowsPerInsert = 64;

// "(?,?,?),(?,?,?)..." for `rows` rows of `columns` parameters.
std::string ValuesList(size_t rows, size_t columns) {
  std::string row = "(";
  for (size_t c = 0; c < columns; ++c) {
    absl::StrAppend(&row, c == 0 ? "?" : ",?");
  }
  row += ")";
  std::string out;
  out.reserve(rows * (row.size() + 1));
  for (size_t r = 0; r < rows; ++r) {
    if (r > 0) {
      out += ",";
    }
    out += row;
  }
  return out;
}

// Inserts `n` rows in chunks of at most kMaxRowsPerInsert through statements
// cached in `cache` by row count: `sql_head` + " VALUES " + list + `sql_tail`.
// `bind(stmt, first_param, row_index)` binds the `columns` parameters of row
// `row_index` starting at parameter `first_param`.
template <typename BindRow>
absl::Status InsertRows(sqlite3* db, std::vector<std::unique_ptr<Stmt>>& cache,
                        const char* sql_head, const char* sql_tail, size_t columns, size_t n,
                        BindRow bind) {
  if (cache.size() <= kMaxRowsPerInsert) {
    cache.resize(kMaxRowsPerInsert + 1);
  }
  // Row counts are powers of two (64, 32, ..., 1): at most 7 statements per
  // table are ever prepared, whatever the group sizes.
  size_t rows = kMaxRowsPerInsert;
  for (size_t start = 0; start < n; start += rows) {
    while (rows > n - start) {
      rows /= 2;
    }
    std::unique_ptr<Stmt>& stmt = cache[rows];
    if (stmt == nullptr) {
      auto fresh = std::make_unique<Stmt>();
      HALFSKY_RETURN_IF_ERROR(fresh->Prepare(
          db, absl::StrCat(sql_head, " VALUES ", ValuesList(rows, columns), sql_tail),
          /*persistent=*/true));
      stmt = std::move(fresh);
    }
    for (size_t r = 0; r < rows; ++r) {
      bind(*stmt, static_cast<int>(r * columns + 1), start + r);
    }
    HALFSKY_RETURN_IF_ERROR(stmt->Run());
  }
  return absl::OkStatus();
}

}  // namespace

class SqliteSubmissionStore::ReadConnection {
 public:
  ~ReadConnection() { sqlite3_close_v2(db_); }
  sqlite3* db_ = nullptr;
};

SqliteSubmissionStore::SqliteSubmissionStore(const Options& options) : options_(options) {}

int SqliteSubmissionStore::LatestSchemaVersion() {
  return kMigrations[std::size(kMigrations) - 1].version;
}

absl::StatusOr<std::unique_ptr<SqliteSubmissionStore>> SqliteSubmissionStore::Open(
    const Options& options) {
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("SqliteSubmissionStore: clock is required");
  }
  std::unique_ptr<SqliteSubmissionStore> store(new SqliteSubmissionStore(options));
  HALFSKY_RETURN_IF_ERROR(store->Init());
  store->completer_ = std::thread([s = store.get()] { s->CompletionLoop(); });
  store->checkpointer_ = std::thread([s = store.get()] { s->CheckpointLoop(); });
  store->committer_ = std::thread([s = store.get()] { s->CommitLoop(); });
  return store;
}

absl::Status SqliteSubmissionStore::Init() {
  int rc =
      sqlite3_open_v2(options_.path.c_str(), &writer_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteError(writer_, rc, absl::StrCat("open ", options_.path));
  }
  sqlite3_busy_timeout(writer_, 10000);
  HALFSKY_RETURN_IF_ERROR(Exec(writer_, "PRAGMA journal_mode=WAL"));
  HALFSKY_RETURN_IF_ERROR(Exec(writer_, "PRAGMA synchronous=FULL"));
  // 64 MiB page cache. No automatic checkpoints on the writer: the WAL
  // hook hands them to the checkpointer thread (see OnWalCommit).
  HALFSKY_RETURN_IF_ERROR(Exec(writer_, "PRAGMA cache_size=-65536"));
  HALFSKY_RETURN_IF_ERROR(Exec(writer_, "PRAGMA temp_store=MEMORY"));
  HALFSKY_RETURN_IF_ERROR(
      Exec(writer_, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)"));
  rc = sqlite3_create_function_v2(writer_, "halfsky_is_narrative", 1,
                                  SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, &IsNarrativeFunction,
                                  nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteError(writer_, rc, "register halfsky_is_narrative");
  }

  // Migrations.
  int current = 0;
  {
    Stmt s;
    HALFSKY_RETURN_IF_ERROR(
        s.Prepare(writer_, "SELECT COALESCE(MAX(version), 0) FROM schema_version"));
    HALFSKY_ASSIGN_OR_RETURN(int step, s.Step());
    if (step == SQLITE_ROW) {
      current = static_cast<int>(s.Int(0));
    }
  }
  if (current > LatestSchemaVersion()) {
    return absl::FailedPreconditionError(
        absl::StrCat("submission database ", options_.path, " has schema version ", current,
                     ", newer than this program's ", LatestSchemaVersion()));
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= current) {
      continue;
    }
    HALFSKY_RETURN_IF_ERROR(Exec(writer_, "BEGIN IMMEDIATE"));
    absl::Status st = Exec(writer_, m.sql);
    if (st.ok()) {
      st =
          Exec(writer_,
               absl::StrCat("INSERT INTO schema_version(version) VALUES(", m.version, ")").c_str());
    }
    if (st.ok()) {
      st = Exec(writer_, "COMMIT");
    }
    if (!st.ok()) {
      Exec(writer_, "ROLLBACK").IgnoreError();
      return st;
    }
  }

  stmts_ = std::make_unique<WriterStatements>();
  WriterStatements& w = *stmts_;
  HALFSKY_RETURN_IF_ERROR(w.select_request.Prepare(
      writer_, "SELECT payload_hash, reply FROM requests WHERE principal = ?1 AND request_id = ?2",
      true));
  HALFSKY_RETURN_IF_ERROR(w.select_current.Prepare(
      writer_,
      absl::StrCat("SELECT k.key_id, r.revision, r.data_value, r.sequence, r.withdrawn",
                   kCurrentRevisionJoin,
                   " WHERE k.indicator_id = ?1 AND k.area_code = ?2 AND k.year = ?3 AND "
                   "k.sex = ?4 AND k.residence = ?5 AND k.unit_code = ?6"),
      true));
  HALFSKY_RETURN_IF_ERROR(w.select_lock.Prepare(
      writer_,
      "SELECT year, locked, changed_by, changed_at_us, reason FROM year_locks WHERE year = ?1",
      true));
  HALFSKY_RETURN_IF_ERROR(w.upsert_lock.Prepare(
      writer_,
      "INSERT OR REPLACE INTO year_locks(year, locked, changed_by, changed_at_us, reason) "
      "VALUES(?1, ?2, ?3, ?4, ?5)",
      true));
  HALFSKY_RETURN_IF_ERROR(w.insert_lock_history.Prepare(
      writer_,
      "INSERT INTO year_lock_history(year, locked, changed_by, changed_at_us, reason) "
      "VALUES(?1, ?2, ?3, ?4, ?5)",
      true));
  // After a withdrawal of a key of (year ?1, indicator ?2): the reporting
  // time of the withdrawing unit (?3), of the key's narrative unit (?5) and
  // of the unit credited with the withdrawn revision (sequence ?4) is
  // dropped when no current value of that indicator and year is left that
  // was written on the unit's behalf or is its own narrative.
  HALFSKY_RETURN_IF_ERROR(w.drop_reporting.Prepare(
      writer_,
      absl::StrCat("DELETE FROM reporting_times WHERE year = ?1 AND indicator_id = ?2 AND "
                   "unit_code <> '' AND unit_code IN (?3, ?5, (SELECT p.unit_code FROM revisions "
                   "p WHERE p.sequence = ?4)) AND NOT EXISTS (SELECT 1",
                   kCurrentRevisionJoin,
                   " WHERE k.indicator_id = ?2 AND k.year = ?1 AND r.withdrawn = 0 AND "
                   "(r.unit_code = reporting_times.unit_code OR k.unit_code = "
                   "reporting_times.unit_code))"),
      true));
  HALFSKY_RETURN_IF_ERROR(w.begin.Prepare(writer_, "BEGIN IMMEDIATE", true));
  HALFSKY_RETURN_IF_ERROR(w.commit.Prepare(writer_, "COMMIT", true));
  HALFSKY_RETURN_IF_ERROR(w.rollback.Prepare(writer_, "ROLLBACK", true));

  // Committed state the committer starts from.
  {
    Stmt s;
    HALFSKY_RETURN_IF_ERROR(s.Prepare(writer_, "SELECT COALESCE(MAX(sequence), 0) FROM revisions"));
    HALFSKY_ASSIGN_OR_RETURN(int step, s.Step());
    const int64_t head = step == SQLITE_ROW ? s.Int(0) : 0;
    next_sequence_ = head + 1;
    Stmt k;
    HALFSKY_RETURN_IF_ERROR(k.Prepare(writer_, "SELECT COALESCE(MAX(key_id), 0) FROM data_keys"));
    HALFSKY_ASSIGN_OR_RETURN(int kstep, k.Step());
    next_key_id_ = (kstep == SQLITE_ROW ? k.Int(0) : 0) + 1;
    absl::MutexLock lock(&head_mu_);
    head_ = head;
  }
  HALFSKY_RETURN_IF_ERROR(LoadKeyDirectory());
  {
    Stmt s;
    HALFSKY_RETURN_IF_ERROR(s.Prepare(writer_, "SELECT year, locked FROM year_locks"));
    while (true) {
      HALFSKY_ASSIGN_OR_RETURN(int step, s.Step());
      if (step != SQLITE_ROW) {
        break;
      }
      locked_years_[static_cast<int>(s.Int(0))] = s.Int(1) != 0;
    }
  }

  rc = sqlite3_open_v2(options_.path.c_str(), &checkpointer_db_,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteError(checkpointer_db_, rc, absl::StrCat("open checkpointer ", options_.path));
  }
  sqlite3_busy_timeout(checkpointer_db_, 10000);
  // A connection that has not read the database yet does not know it is in
  // WAL mode, and its checkpoints would silently do nothing.
  HALFSKY_RETURN_IF_ERROR(Exec(checkpointer_db_, "PRAGMA journal_mode=WAL"));
  // Replaces SQLite's automatic checkpoint on the writer.
  sqlite3_wal_hook(writer_, &SqliteSubmissionStore::OnWalCommit, this);

  for (int i = 0; i < std::max(1, options_.read_connections); ++i) {
    auto reader = std::make_unique<ReadConnection>();
    rc = sqlite3_open_v2(options_.path.c_str(), &reader->db_,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      return SqliteError(reader->db_, rc, absl::StrCat("open reader ", options_.path));
    }
    sqlite3_busy_timeout(reader->db_, 10000);
    HALFSKY_RETURN_IF_ERROR(Exec(reader->db_, "PRAGMA query_only=1"));
    absl::MutexLock lock(&readers_mu_);
    readers_.push_back(std::move(reader));
  }
  return absl::OkStatus();
}

SqliteSubmissionStore::~SqliteSubmissionStore() {
  {
    absl::MutexLock lock(&queue_mu_);
    closing_ = true;
    queue_cv_.SignalAll();
  }
  if (committer_.joinable()) {
    committer_.join();
  }
  // The committer is done: no more completions or checkpoint requests.
  {
    absl::MutexLock lock(&completion_mu_);
    completion_closing_ = true;
  }
  if (completer_.joinable()) {
    completer_.join();
  }
  {
    absl::MutexLock lock(&checkpoint_mu_);
    checkpoint_closing_ = true;
  }
  if (checkpointer_.joinable()) {
    checkpointer_.join();
  }
  if (checkpointer_db_ != nullptr) {
    sqlite3_close_v2(checkpointer_db_);
  }
  stmts_.reset();
  {
    absl::MutexLock lock(&readers_mu_);
    readers_.clear();
  }
  if (writer_ != nullptr) {
    sqlite3_close_v2(writer_);
  }
}

void SqliteSubmissionStore::Write(WriteRequest request, WriteCallback done) {
  auto op = std::make_unique<Op>();
  op->write = std::move(request);
  op->write_done = std::move(done);
  {
    absl::MutexLock lock(&queue_mu_);
    if (!closing_) {
      queue_.push_back(std::move(op));
      queue_cv_.Signal();
      return;
    }
  }
  op->write_done(absl::UnavailableError("submission store is closing"));
}

absl::StatusOr<v1::YearLock> SqliteSubmissionStore::SetYearLock(int year, bool locked,
                                                                const std::string& principal,
                                                                const std::string& reason) {
  auto op = std::make_unique<Op>();
  op->is_lock = true;
  op->year = year;
  op->locked = locked;
  op->principal = principal;
  op->reason = reason;
  absl::Notification done;
  absl::StatusOr<v1::YearLock> result;
  op->lock_done = [&](absl::StatusOr<v1::YearLock> r) {
    result = std::move(r);
    done.Notify();
  };
  {
    absl::MutexLock lock(&queue_mu_);
    if (closing_) {
      return absl::UnavailableError("submission store is closing");
    }
    queue_.push_back(std::move(op));
    queue_cv_.Signal();
  }
  done.WaitForNotification();
  return result;
}

void SqliteSubmissionStore::CommitLoop() {
  while (true) {
    std::vector<std::unique_ptr<Op>> group;
    {
      absl::MutexLock lock(&queue_mu_);
      while (queue_.empty() && !closing_) {
        queue_cv_.Wait(&queue_mu_);
      }
      if (queue_.empty() && closing_) {
        return;
      }
      size_t values = 0;
      while (!queue_.empty() &&
             (group.empty() ||
              values + queue_.front()->size() <= static_cast<size_t>(options_.max_group_values))) {
        values += queue_.front()->size();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitGroup(group);
  }
}

int SqliteSubmissionStore::OnWalCommit(void* self, sqlite3* db, const char* name, int pages) {
  auto* store = static_cast<SqliteSubmissionStore*>(self);
  if (pages >= store->options_.max_wal_pages) {
    // Backpressure: the checkpointer could not keep the WAL small. Copy it
    // back and restart it from the beginning before the next group; a
    // failure (a reader still on an old snapshot) leaves the WAL as it is
    // and is retried after the next commit.
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
  } else if (pages >= store->options_.checkpoint_pages) {
    absl::MutexLock lock(&store->checkpoint_mu_);
    store->checkpoint_wanted_ = true;
  }
  return SQLITE_OK;
}

void SqliteSubmissionStore::CheckpointLoop() {
  while (true) {
    {
      absl::MutexLock lock(&checkpoint_mu_);
      checkpoint_mu_.Await(absl::Condition(
          +[](SqliteSubmissionStore* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->checkpoint_mu_) {
            return s->checkpoint_wanted_ || s->checkpoint_closing_;
          },
          this));
      if (checkpoint_closing_) {
        return;
      }
      checkpoint_wanted_ = false;
    }
    // PASSIVE: copies what it can without waiting for the writer or readers.
    // A failure is not fatal (the WAL stays valid); the next request retries.
    const int rc = sqlite3_wal_checkpoint_v2(checkpointer_db_, nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                             nullptr, nullptr);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      std::cerr << "submission store: checkpoint failed: " << sqlite3_errmsg(checkpointer_db_)
                << "\n";
    }
  }
}

void SqliteSubmissionStore::CompletionLoop() {
  while (true) {
    std::unique_ptr<Completion> done;
    {
      absl::MutexLock lock(&completion_mu_);
      completion_mu_.Await(absl::Condition(
          +[](SqliteSubmissionStore* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->completion_mu_) {
            return !s->completions_.empty() || s->completion_closing_;
          },
          this));
      if (completions_.empty()) {
        return;  // closing, and everything was delivered
      }
      done = std::move(completions_.front());
      completions_.pop_front();
    }
    done->Deliver();
    {
      absl::MutexLock lock(&completion_mu_);
      --completions_pending_;
    }
    // `done` (the group's requests and results) is destroyed here, off the
    // committer.
  }
}

absl::StatusOr<uint64_t> SqliteSubmissionStore::DirectoryKey(absl::string_view indicator_id,
                                                             absl::string_view unit_code,
                                                             absl::string_view area_code,
                                                             int64_t year, int64_t sex,
                                                             int64_t residence) {
  auto intern = [](absl::flat_hash_map<std::string, uint32_t>& ids, absl::string_view s,
                   uint32_t next) {
    auto it = ids.find(s);
    if (it == ids.end()) {
      it = ids.emplace(std::string(s), next).first;
    }
    return it->second;
  };
  // Slot of (indicator, unit): a figure's (unit "") is its indicator's own
  // slot, one lookup as before; a narrative's is interned as the pair of the
  // indicator's slot and the interned unit, in the same slot space.
  uint32_t slot = intern(indicator_ids_, indicator_id, next_indicator_slot_);
  if (slot == next_indicator_slot_) {
    ++next_indicator_slot_;
  }
  if (!unit_code.empty()) {
    const uint64_t pair = static_cast<uint64_t>(slot) << 32 |
                          intern(unit_ids_, unit_code, static_cast<uint32_t>(unit_ids_.size()));
    auto [it, inserted] = narrative_slots_.try_emplace(pair, next_indicator_slot_);
    if (inserted) {
      ++next_indicator_slot_;
    }
    slot = it->second;
  }
  // 20 bits each for the slot and the interned area (the catalog has
  // hundreds of indicators, a few hundred (objective, unit) pairs and
  // hundreds of areas), 16 for the year, 4 each for sex and residence.
  const uint32_t area = intern(area_ids_, area_code, static_cast<uint32_t>(area_ids_.size()));
  constexpr uint32_t kIds = 1u << 20;
  if (slot >= kIds || area >= kIds) {
    return absl::ResourceExhaustedError(
        "submission store: more than 2^20 distinct indicators or areas in the key directory");
  }
  return static_cast<uint64_t>(slot) << 44 | static_cast<uint64_t>(area) << 24 |
         (static_cast<uint64_t>(year) & 0xffff) << 8 | (static_cast<uint64_t>(sex) & 0xf) << 4 |
         (static_cast<uint64_t>(residence) & 0xf);
}

absl::Status SqliteSubmissionStore::LoadKeyDirectory() {
  current_.clear();
  key_directory_complete_ = false;
  Stmt s;
  HALFSKY_RETURN_IF_ERROR(s.Prepare(
      writer_, absl::StrCat("SELECT k.indicator_id, k.area_code, k.year, k.sex, k.residence, "
                            "k.key_id, r.revision, r.data_value, r.sequence, k.unit_code, "
                            "r.withdrawn",
                            kCurrentRevisionJoin)));
  while (true) {
    absl::StatusOr<int> step = s.Step();
    if (!step.ok()) {
      current_.clear();
      return step.status();
    }
    if (*step != SQLITE_ROW) {
      break;
    }
    const absl::string_view unit = s.View(9);
    absl::StatusOr<uint64_t> key =
        DirectoryKey(s.View(0), unit, s.View(1), s.Int(2), s.Int(3), s.Int(4));
    if (!key.ok()) {
      current_.clear();
      return key.status();
    }
    KeyState& state = current_[*key];
    state.key_id = s.Int(5);
    state.revision = s.Int(6);
    state.encoded = EncodedWithUnit(s.Text(7), unit);
    state.sequence = s.Int(8);
    state.withdrawn = s.Int(10) != 0;
  }
  key_directory_complete_ = true;
  return absl::OkStatus();
}

void SqliteSubmissionStore::ClearGroupBuffers() {
  new_keys_.clear();
  heads_.clear();
  head_index_.clear();
  revision_rows_.clear();
  pending_requests_.clear();
  pending_index_.clear();
  reported_.clear();
  confirmed_.clear();
}

void SqliteSubmissionStore::CommitGroup(std::vector<std::unique_ptr<Op>>& group) {
  const absl::Time now = options_.clock->Now();
  const int64_t now_us = ToMicros(now);
  std::vector<absl::StatusOr<v1::SubmitBatchResponse>> write_results(group.size());
  std::vector<absl::StatusOr<v1::YearLock>> lock_results(group.size());
  const int64_t sequence_before_group = next_sequence_;
  const int64_t key_id_before_group = next_key_id_;
  absl::flat_hash_map<int, bool> locks = locked_years_;

  absl::Status group_status = stmts_->begin.Run();
  if (group_status.ok()) {
    for (size_t i = 0; i < group.size() && group_status.ok(); ++i) {
      Op& op = *group[i];
      if (op.is_lock) {
        group_status = ApplyLock(op, now, locks, &lock_results[i]);
      } else {
        group_status = ApplyWrite(op.write, now, locks, &write_results[i]);
      }
    }
    if (group_status.ok()) {
      group_status = FlushGroup(now_us);
    }
    if (group_status.ok()) {
      group_status = stmts_->commit.Run();
    }
    if (!group_status.ok()) {
      stmts_->rollback.Run().IgnoreError();
    }
  }

  int64_t head = 0;
  std::function<void(int64_t)> listener;
  if (group_status.ok()) {
    locked_years_ = std::move(locks);
    ClearGroupBuffers();
    absl::MutexLock lock(&head_mu_);
    ++commits_;
    if (next_sequence_ - 1 > head_) {
      head_ = next_sequence_ - 1;
      head = head_;
      listener = listener_;
    }
  } else {
    // Nothing of the group is committed: forget everything it changed, and
    // no later request of a chain in it may commit.
    for (const auto& op : group) {
      if (!op->is_lock && op->write.chain != nullptr) {
        op->write.chain->Break();
      }
    }
    next_sequence_ = sequence_before_group;
    next_key_id_ = key_id_before_group;
    ClearGroupBuffers();
    std::cerr << "submission store: group commit failed: " << group_status << "\n";
    if (absl::Status reload = LoadKeyDirectory(); !reload.ok()) {
      std::cerr << "submission store: key directory reload failed (keys will be looked up one by "
                   "one): "
                << reload << "\n";
    }
  }
  if (listener && head > 0) {
    listener(head);
  }
  size_t group_values = 0;
  for (const auto& op : group) {
    group_values += op->size();
  }
  auto completion = std::make_unique<Completion>();
  completion->group = std::move(group);
  completion->write_results = std::move(write_results);
  completion->lock_results = std::move(lock_results);
  completion->group_status = std::move(group_status);
  {
    absl::MutexLock lock(&completion_mu_);
    if (group_values > static_cast<size_t>(options_.inline_completion_values) ||
        completions_pending_ > 0) {
      ++completions_pending_;
      completions_.push_back(std::move(completion));
      return;
    }
  }
  // A small group with nothing before it still to deliver: answering here
  // saves a thread hand-off per group (one-value requests are
  // latency-bound), and the order of completions is kept.
  completion->Deliver();
}

absl::Status SqliteSubmissionStore::ApplyWrite(WriteRequest& request, absl::Time now,
                                               const absl::flat_hash_map<int, bool>& locks,
                                               absl::StatusOr<v1::SubmitBatchResponse>* result) {
  absl::Status storage;
  if (request.chain != nullptr && request.chain->broken()) {
    *result = absl::AbortedError(
        "同一数据流中之前的数据块失败，本块未写入 / an earlier chunk of this stream failed; this "
        "chunk was not written");
  } else if (absl::Now() > request.deadline) {
    // Real time, as the caller's gRPC deadline; checked before anything of
    // the request is buffered, so a request past its deadline writes nothing.
    *result = absl::DeadlineExceededError(
        "请求已超过截止时间，未写入 / the request's deadline passed before it was committed; "
        "nothing was written");
  } else {
    storage = ApplyAcceptedWrite(request, now, locks, result);
  }
  if ((!storage.ok() || !result->ok()) && request.chain != nullptr) {
    request.chain->Break();
  }
  return storage;
}

absl::StatusOr<SqliteSubmissionStore::KeyState*> SqliteSubmissionStore::FindKeyState(
    const v1::DataKey& key) {
  WriterStatements& w = *stmts_;
  HALFSKY_ASSIGN_OR_RETURN(const uint64_t cache_key,
                           DirectoryKey(key.indicator_id(), key.unit_code(), key.area_code(),
                                        key.year(), key.sex(), key.residence()));
  if (auto it = current_.find(cache_key); it != current_.end()) {
    return &it->second;
  }
  if (key_directory_complete_) {
    return &current_[cache_key];  // a new key
  }
  // Incomplete directory: read the committed state (nothing of this group
  // has touched the key, so what the query sees is committed).
  w.select_current.Bind(1, key.indicator_id());
  w.select_current.Bind(2, key.area_code());
  w.select_current.Bind(3, key.year());
  w.select_current.Bind(4, key.sex());
  w.select_current.Bind(5, key.residence());
  w.select_current.Bind(6, key.unit_code());
  absl::StatusOr<int> step = w.select_current.Step();
  if (!step.ok()) {
    w.select_current.Reset();
    return step.status();
  }
  KeyState loaded;
  if (*step == SQLITE_ROW) {
    loaded.key_id = w.select_current.Int(0);
    loaded.revision = w.select_current.Int(1);
    loaded.encoded = EncodedWithUnit(w.select_current.Text(2), key.unit_code());
    loaded.sequence = w.select_current.Int(3);
    loaded.withdrawn = w.select_current.Int(4) != 0;
  }
  w.select_current.Reset();
  return &current_.emplace(cache_key, std::move(loaded)).first->second;
}

absl::Status SqliteSubmissionStore::ApplyAcceptedWrite(
    WriteRequest& request, absl::Time now, const absl::flat_hash_map<int, bool>& locks,
    absl::StatusOr<v1::SubmitBatchResponse>* result) {
  WriterStatements& w = *stmts_;
  auto reused = [&] {
    return WithReason(absl::AlreadyExistsError(absl::StrCat(
                          "请求编号已用于不同的数据 / request id '", request.request_id,
                          "' was already used with a different payload")),
                      "REQUEST_ID_REUSED");
  };
  auto replay = [&](absl::string_view reply_bytes) -> absl::Status {
    v1::SubmitBatchResponse reply;
    if (!reply.ParseFromArray(reply_bytes.data(), static_cast<int>(reply_bytes.size()))) {
      *result = absl::DataLossError("stored reply does not parse");
      return absl::OkStatus();
    }
    if (request.reply_keys) {
      for (int i = 0; i < reply.results_size() && i < static_cast<int>(request.values.size());
           ++i) {
        *reply.mutable_results(i)->mutable_key() = request.values[i].value.key();
      }
    }
    reply.set_replayed(true);
    *result = std::move(reply);
    return absl::OkStatus();
  };

  // Idempotency: first the requests applied earlier in this group, then
  // the committed ones.
  if (auto it = pending_index_.find(std::make_pair(absl::string_view(request.principal),
                                                   absl::string_view(request.request_id)));
      it != pending_index_.end()) {
    const PendingRequest& pending = pending_requests_[it->second];
    if (pending.payload_hash != request.payload_hash) {
      *result = reused();
      return absl::OkStatus();
    }
    return replay(pending.reply);
  }
  w.select_request.Bind(1, request.principal);
  w.select_request.Bind(2, request.request_id);
  absl::StatusOr<int> step = w.select_request.Step();
  if (!step.ok()) {
    w.select_request.Reset();
    return step.status();
  }
  if (*step == SQLITE_ROW) {
    const std::string hash = w.select_request.Text(0);
    const std::string reply_bytes = w.select_request.Text(1);
    w.select_request.Reset();
    if (hash != request.payload_hash) {
      *result = reused();
      return absl::OkStatus();
    }
    return replay(reply_bytes);
  }
  w.select_request.Reset();

  // Year locks.
  std::set<int> locked;
  for (const ValueToWrite& v : request.values) {
    auto it = locks.find(v.value.key().year());
    if (it != locks.end() && it->second) {
      locked.insert(v.value.key().year());
    }
  }
  if (!locked.empty()) {
    *result = YearLockedError(locked);
    return absl::OkStatus();
  }

  // Withdrawals of keys that never had a value: the whole request fails.
  std::vector<std::string> missing;
  for (size_t i = 0; i < request.values.size(); ++i) {
    const ValueToWrite& v = request.values[i];
    if (!v.withdraw) {
      continue;
    }
    HALFSKY_ASSIGN_OR_RETURN(KeyState * state, FindKeyState(v.value.key()));
    if (state->revision == 0) {
      const v1::DataKey& k = v.value.key();
      missing.push_back(absl::StrCat("[", i, "] ", k.indicator_id(), "/", k.area_code(), "/",
                                     k.year(), "/", v1::Sex_Name(k.sex()), "/",
                                     v1::Residence_Name(k.residence()),
                                     k.unit_code().empty() ? "" : "/", k.unit_code()));
    }
  }
  if (!missing.empty()) {
    *result = WithReason(absl::NotFoundError(absl::StrCat(
                             "没有可撤回的数据 / nothing to withdraw, these keys never had a "
                             "value: ",
                             absl::StrJoin(missing, "; "))),
                         "NO_SUCH_VALUE");
    return absl::OkStatus();
  }

  // From here on the request is accepted: only storage failures remain,
  // and they fail the whole group.
  v1::SubmitBatchResponse reply;
  SetTimestamp(now, reply.mutable_committed_at());
  reply.mutable_results()->Reserve(static_cast<int>(request.values.size()));
  int64_t first_seq = 0;
  int64_t last_seq = 0;
  int created = 0, revised = 0, unchanged = 0, withdrawn = 0;
  for (ValueToWrite& v : request.values) {
    const v1::DataKey& key = v.value.key();
    if (v.encoded.empty()) {
      v.encoded = DeterministicBytes(v.value);
    }
    v1::ValueResult* out = reply.add_results();
    HALFSKY_ASSIGN_OR_RETURN(KeyState * state, FindKeyState(key));
    if (v.withdraw ? state->withdrawn
                   : (state->revision > 0 && !state->withdrawn && state->encoded == v.encoded)) {
      // Unchanged: the same value again, or a withdrawn key withdrawn again.
      out->set_outcome(v1::WRITE_OUTCOME_UNCHANGED);
      out->set_revision(state->revision);
      ++unchanged;
      if (!v.withdraw && !v.unit_code.empty()) {
        confirmed_.emplace(key.year(), v.unit_code, key.indicator_id());
      }
      continue;
    }

    const int64_t seq = next_sequence_++;
    if (v.withdraw) {
      out->set_outcome(v1::WRITE_OUTCOME_WITHDRAWN);
      ++withdrawn;
    } else if (state->revision == 0) {
      state->key_id = next_key_id_++;
      new_keys_.push_back(NewKey{state->key_id, &key});
      out->set_outcome(v1::WRITE_OUTCOME_CREATED);
      ++created;
    } else {
      out->set_outcome(v1::WRITE_OUTCOME_REVISED);
      ++revised;
    }
    ++state->revision;
    state->encoded.assign(v.encoded);
    state->withdrawn = v.withdraw;
    revision_rows_.push_back(RevisionRow{seq, state->key_id, state->revision, state->sequence,
                                         v.encoded, request.principal, v.unit_code,
                                         request.request_id, v.withdraw, v.change_reason, &key});
    state->sequence = seq;
    // The key's head after the group: its last revision in the group.
    if (auto [it, inserted] = head_index_.emplace(state->key_id, heads_.size()); inserted) {
      heads_.push_back(KeyHead{state->key_id, state->revision, seq});
    } else {
      heads_[it->second].revision = state->revision;
      heads_[it->second].sequence = seq;
    }
    out->set_revision(state->revision);
    out->set_sequence(seq);
    if (first_seq == 0) {
      first_seq = seq;
    }
    last_seq = seq;
    if (!v.withdraw && !v.unit_code.empty()) {
      reported_.emplace(key.year(), v.unit_code, key.indicator_id());
    }
  }
  reply.set_withdrawn_count(withdrawn);
  reply.set_created_count(created);
  reply.set_revised_count(revised);
  reply.set_unchanged_count(unchanged);
  reply.mutable_sequences()->set_first(first_seq);
  reply.mutable_sequences()->set_last(last_seq);

  // The stored reply omits keys: a replay carries the identical payload and
  // takes them from there.
  PendingRequest pending;
  pending.principal = request.principal;
  pending.request_id = request.request_id;
  pending.payload_hash = request.payload_hash;
  pending.reply = reply.SerializeAsString();
  pending_index_.emplace(std::make_pair(pending.principal, pending.request_id),
                         pending_requests_.size());
  pending_requests_.push_back(std::move(pending));
  if (request.reply_keys) {
    for (int i = 0; i < reply.results_size(); ++i) {
      *reply.mutable_results(i)->mutable_key() = request.values[i].value.key();
    }
  }
  *result = std::move(reply);
  return absl::OkStatus();
}

absl::Status SqliteSubmissionStore::FlushGroup(int64_t now_us) {
  WriterStatements& w = *stmts_;
  // Revisions in sequence order (appends to the table's B-tree).
  HALFSKY_RETURN_IF_ERROR(
      InsertRows(writer_, w.insert_revisions,
                 "INSERT INTO revisions(sequence, key_id, revision, prev_sequence, data_value, "
                 "submitted_by, unit_code, committed_at_us, request_id, withdrawn, "
                 "change_reason)",
                 "", 11, revision_rows_.size(), [&](Stmt& s, int p, size_t i) {
                   const RevisionRow& r = revision_rows_[i];
                   s.Bind(p, r.sequence);
                   s.Bind(p + 1, r.key_id);
                   s.Bind(p + 2, r.revision);
                   s.Bind(p + 3, r.prev_sequence);
                   s.BindBlob(p + 4, r.encoded);
                   s.Bind(p + 5, r.submitted_by);
                   s.Bind(p + 6, r.unit_code);
                   s.Bind(p + 7, now_us);
                   s.Bind(p + 8, r.request_id);
                   s.Bind(p + 9, static_cast<int64_t>(r.withdrawn ? 1 : 0));
                   s.Bind(p + 10, r.change_reason);
                 }));
  // Each key's current revision (in place for a key seen before).
  HALFSKY_RETURN_IF_ERROR(
      InsertRows(writer_, w.upsert_heads, "INSERT INTO key_heads(key_id, revision, sequence)",
                 " ON CONFLICT(key_id) DO UPDATE SET revision = excluded.revision, "
                 "sequence = excluded.sequence",
                 3, heads_.size(), [&](Stmt& s, int p, size_t i) {
                   s.Bind(p, heads_[i].key_id);
                   s.Bind(p + 1, heads_[i].revision);
                   s.Bind(p + 2, heads_[i].sequence);
                 }));
  // Keys created by the group (a key's row never changes afterwards).
  HALFSKY_RETURN_IF_ERROR(
      InsertRows(writer_, w.insert_keys,
                 "INSERT INTO data_keys(key_id, indicator_id, area_code, year, sex, residence, "
                 "unit_code)",
                 "", 7, new_keys_.size(), [&](Stmt& s, int p, size_t i) {
                   const NewKey& k = new_keys_[i];
                   s.Bind(p, k.key_id);
                   s.Bind(p + 1, k.key->indicator_id());
                   s.Bind(p + 2, k.key->area_code());
                   s.Bind(p + 3, static_cast<int64_t>(k.key->year()));
                   s.Bind(p + 4, static_cast<int64_t>(k.key->sex()));
                   s.Bind(p + 5, static_cast<int64_t>(k.key->residence()));
                   s.Bind(p + 6, k.key->unit_code());
                 }));
  using ReportingRows = std::vector<const std::tuple<int, absl::string_view, absl::string_view>*>;
  auto bind_reporting = [now_us](const ReportingRows& rows) {
    return [&rows, now_us](Stmt& s, int p, size_t i) {
      const auto& [year, unit, indicator] = *rows[i];
      s.Bind(p, year);
      s.Bind(p + 1, unit);
      s.Bind(p + 2, indicator);
      s.Bind(p + 3, now_us);
      s.Bind(p + 4, now_us);
    };
  };
  ReportingRows reported;
  reported.reserve(reported_.size());
  for (const auto& r : reported_) {
    reported.push_back(&r);
  }
  HALFSKY_RETURN_IF_ERROR(InsertRows(
      writer_, w.upsert_reporting,
      "INSERT INTO reporting_times(year, unit_code, indicator_id, first_at_us, last_at_us)",
      " ON CONFLICT(year, unit_code, indicator_id) DO UPDATE SET last_at_us = "
      "excluded.last_at_us",
      5, reported.size(), bind_reporting(reported)));
  ReportingRows confirmed;
  for (const auto& r : confirmed_) {
    if (reported_.count(r) == 0) {
      confirmed.push_back(&r);
    }
  }
  HALFSKY_RETURN_IF_ERROR(InsertRows(
      writer_, w.insert_reporting_if_new,
      "INSERT INTO reporting_times(year, unit_code, indicator_id, first_at_us, last_at_us)",
      " ON CONFLICT(year, unit_code, indicator_id) DO NOTHING", 5, confirmed.size(),
      bind_reporting(confirmed)));
  // After the revisions, heads and reporting rows above: what a withdrawal
  // leaves unreported is judged on the group's final state.
  for (const RevisionRow& r : revision_rows_) {
    if (!r.withdrawn) {
      continue;
    }
    w.drop_reporting.Bind(1, static_cast<int64_t>(r.key->year()));
    w.drop_reporting.Bind(2, r.key->indicator_id());
    w.drop_reporting.Bind(3, r.unit_code);
    w.drop_reporting.Bind(4, r.prev_sequence);
    w.drop_reporting.Bind(5, r.key->unit_code());
    HALFSKY_RETURN_IF_ERROR(w.drop_reporting.Run());
  }
  return InsertRows(writer_, w.insert_requests,
                    "INSERT INTO requests(principal, request_id, payload_hash, reply, "
                    "committed_at_us)",
                    "", 5, pending_requests_.size(), [&](Stmt& s, int p, size_t i) {
                      const PendingRequest& r = pending_requests_[i];
                      s.Bind(p, r.principal);
                      s.Bind(p + 1, r.request_id);
                      s.BindBlob(p + 2, r.payload_hash);
                      s.BindBlob(p + 3, r.reply);
                      s.Bind(p + 4, now_us);
                    });
}

absl::Status SqliteSubmissionStore::ApplyLock(const Op& op, absl::Time now,
                                              absl::flat_hash_map<int, bool>& locks,
                                              absl::StatusOr<v1::YearLock>* result) {
  WriterStatements& w = *stmts_;
  w.select_lock.Bind(1, op.year);
  absl::StatusOr<int> step = w.select_lock.Step();
  if (!step.ok()) {
    w.select_lock.Reset();
    return step.status();
  }
  if (*step == SQLITE_ROW) {
    v1::YearLock current = LockFromRow(w.select_lock);
    w.select_lock.Reset();
    if (current.locked() == op.locked) {
      *result = std::move(current);
      return absl::OkStatus();
    }
  } else {
    w.select_lock.Reset();
    if (!op.locked) {
      v1::YearLock never;
      never.set_year(op.year);
      *result = std::move(never);
      return absl::OkStatus();
    }
  }
  const int64_t now_us = ToMicros(now);
  for (Stmt* s : {&w.upsert_lock, &w.insert_lock_history}) {
    s->Bind(1, op.year);
    s->Bind(2, op.locked ? 1 : 0);
    s->Bind(3, op.principal);
    s->Bind(4, now_us);
    s->Bind(5, op.reason);
    HALFSKY_RETURN_IF_ERROR(s->Run());
  }
  locks[op.year] = op.locked;
  v1::YearLock lock;
  lock.set_year(op.year);
  lock.set_locked(op.locked);
  lock.set_changed_by(op.principal);
  SetTimestamp(now, lock.mutable_changed_at());
  lock.set_reason(op.reason);
  *result = std::move(lock);
  return absl::OkStatus();
}

std::unique_ptr<SqliteSubmissionStore::ReadConnection> SqliteSubmissionStore::AcquireReader() {
  absl::MutexLock lock(&readers_mu_);
  readers_mu_.Await(absl::Condition(
      +[](std::vector<std::unique_ptr<ReadConnection>>* r) { return !r->empty(); }, &readers_));
  auto reader = std::move(readers_.back());
  readers_.pop_back();
  return reader;
}

void SqliteSubmissionStore::ReleaseReader(std::unique_ptr<ReadConnection> reader) {
  absl::MutexLock lock(&readers_mu_);
  readers_.push_back(std::move(reader));
}

namespace {
// Returns the reader to the pool on scope exit.
template <typename F>
class Finally {
 public:
  explicit Finally(F f) : f_(std::move(f)) {}
  ~Finally() { f_(); }

 private:
  F f_;
};
}  // namespace

absl::StatusOr<YearLocks> SqliteSubmissionStore::ListYearLocks() {
  auto reader = AcquireReader();
  sqlite3* db = reader->db_;
  Finally release([&] { ReleaseReader(std::move(reader)); });
  YearLocks out;
  {
    Stmt s;
    HALFSKY_RETURN_IF_ERROR(s.Prepare(
        db,
        "SELECT year, locked, changed_by, changed_at_us, reason FROM year_locks ORDER BY year"));
    while (true) {
      HALFSKY_ASSIGN_OR_RETURN(int step, s.Step());
      if (step != SQLITE_ROW) {
        break;
      }
      out.current.push_back(LockFromRow(s));
    }
  }
  {
    Stmt s;
    HALFSKY_RETURN_IF_ERROR(s.Prepare(db,
                                      "SELECT year, locked, changed_by, changed_at_us, reason "
                                      "FROM year_lock_history ORDER BY id"));
    while (true) {
      HALFSKY_ASSIGN_OR_RETURN(int step, s.Step());
      if (step != SQLITE_ROW) {
        break;
      }
      out.history.push_back(LockFromRow(s));
    }
  }
  return out;
}

absl::StatusOr<CurrentPage> SqliteSubmissionStore::ListCurrent(const CurrentFilter& filter,
                                                               int64_t cursor, int limit) {
  limit = std::max(1, limit);
  std::string sql = absl::StrCat("SELECT k.key_id, k.unit_code, ", kRevisionColumns,
                                 kCurrentRevisionJoin, " WHERE k.key_id > ?1 AND r.withdrawn = 0");
  int next_param = 2;
  auto in_list = [&](const char* column, size_t n) {
    if (n == 0) {
      return;
    }
    std::vector<std::string> params;
    for (size_t i = 0; i < n; ++i) {
      params.push_back(absl::StrCat("?", next_param++));
    }
    absl::StrAppend(&sql, " AND ", column, " IN (", absl::StrJoin(params, ", "), ")");
  };
  in_list("k.indicator_id", filter.indicator_ids.size());
  in_list("k.area_code", filter.area_codes.size());
  in_list("k.year", filter.years.size());
  if (!filter.unit_code.empty()) {
    // Written on behalf of the unit, or the unit's own narrative.
    absl::StrAppend(&sql, " AND (r.unit_code = ?", next_param, " OR k.unit_code = ?", next_param,
                    ")");
    ++next_param;
  }
  absl::StrAppend(&sql, " ORDER BY k.key_id LIMIT ?", next_param++);

  auto reader = AcquireReader();
  sqlite3* db = reader->db_;
  Finally release([&] { ReleaseReader(std::move(reader)); });
  Stmt s;
  HALFSKY_RETURN_IF_ERROR(s.Prepare(db, sql));
  int p = 1;
  s.Bind(p++, cursor);
  for (const auto& id : filter.indicator_ids) {
    s.Bind(p++, id);
  }
  for (const auto& code : filter.area_codes) {
    s.Bind(p++, code);
  }
  for (int year : filter.years) {
    s.Bind(p++, static_cast<int64_t>(year));
  }
  if (!filter.unit_code.empty()) {
    s.Bind(p++, filter.unit_code);
  }
  s.Bind(p++, static_cast<int64_t>(limit) + 1);
  CurrentPage page;
  int64_t last_key = 0;
  while (true) {
    HALFSKY_ASSIGN_OR_RETURN(int step, s.Step());
    if (step != SQLITE_ROW) {
      break;
    }
    if (static_cast<int>(page.revisions.size()) == limit) {
      page.next_cursor = last_key;
      break;
    }
    last_key = s.Int(0);
    HALFSKY_ASSIGN_OR_RETURN(v1::Revision rev, RevisionFromRow(s, 2));
    SetKeyUnit(s.View(1), &rev);
    page.revisions.push_back(std::move(rev));
  }
  return page;
}

absl::StatusOr<std::vector<v1::Revision>> SqliteSubmissionStore::History(const v1::DataKey& key) {
  auto reader = AcquireReader();
  sqlite3* db = reader->db_;
  Finally release([&] { ReleaseReader(std::move(reader)); });
  Stmt s;
  // Walks the key's chain from its head back to its first revision.
  HALFSKY_RETURN_IF_ERROR(s.Prepare(
      db,
      absl::StrCat("WITH RECURSIVE chain(seq) AS ("
                   "SELECT h.sequence FROM data_keys k JOIN key_heads h ON h.key_id = k.key_id "
                   "WHERE k.indicator_id = ?1 AND k.area_code = ?2 AND k.year = ?3 AND "
                   "k.sex = ?4 AND k.residence = ?5 AND k.unit_code = ?6 "
                   "UNION ALL SELECT p.prev_sequence FROM revisions p JOIN chain c ON "
                   "p.sequence = c.seq WHERE p.prev_sequence > 0) "
                   "SELECT ",
                   kRevisionColumns,
                   " FROM chain c JOIN revisions r ON r.sequence = c.seq ORDER BY r.revision")));
  s.Bind(1, key.indicator_id());
  s.Bind(2, key.area_code());
  s.Bind(3, static_cast<int64_t>(key.year()));
  s.Bind(4, static_cast<int64_t>(key.sex()));
  s.Bind(5, static_cast<int64_t>(key.residence()));
  s.Bind(6, key.unit_code());
  std::vector<v1::Revision> out;
  while (true) {
    HALFSKY_ASSIGN_OR_RETURN(int step, s.Step());
    if (step != SQLITE_ROW) {
      break;
    }
    HALFSKY_ASSIGN_OR_RETURN(v1::Revision rev, RevisionFromRow(s, 0));
    SetKeyUnit(key.unit_code(), &rev);
    out.push_back(std::move(rev));
  }
  return out;
}

absl::StatusOr<std::vector<v1::Revision>> SqliteSubmissionStore::ReadChanges(int64_t after_sequence,
                                                                             int limit) {
  auto reader = AcquireReader();
  sqlite3* db = reader->db_;
  Finally release([&] { ReleaseReader(std::move(reader)); });
  Stmt s;
  HALFSKY_RETURN_IF_ERROR(
      s.Prepare(db, absl::StrCat("SELECT ", kRevisionColumns,
                                 ", k.unit_code FROM revisions r JOIN data_keys k ON "
                                 "k.key_id = r.key_id WHERE r.sequence > ?1 ORDER BY r.sequence "
                                 "LIMIT ?2")));
  s.Bind(1, after_sequence);
  s.Bind(2, static_cast<int64_t>(std::max(1, limit)));
  std::vector<v1::Revision> out;
  while (true) {
    HALFSKY_ASSIGN_OR_RETURN(int step, s.Step());
    if (step != SQLITE_ROW) {
      break;
    }
    HALFSKY_ASSIGN_OR_RETURN(v1::Revision rev, RevisionFromRow(s, 0));
    SetKeyUnit(s.View(kRevisionColumnCount), &rev);
    out.push_back(std::move(rev));
  }
  return out;
}

int64_t SqliteSubmissionStore::HeadSequence() const {
  absl::MutexLock lock(&head_mu_);
  return head_;
}

int64_t SqliteSubmissionStore::commit_count() const {
  absl::MutexLock lock(&head_mu_);
  return commits_;
}

void SqliteSubmissionStore::SetCommitListener(std::function<void(int64_t head)> listener) {
  absl::MutexLock lock(&head_mu_);
  listener_ = std::move(listener);
}

absl::StatusOr<std::vector<ReportingTimes>> SqliteSubmissionStore::ListReportingTimes(int year) {
  auto reader = AcquireReader();
  sqlite3* db = reader->db_;
  Finally release([&] { ReleaseReader(std::move(reader)); });
  Stmt s;
  HALFSKY_RETURN_IF_ERROR(s.Prepare(db,
                                    "SELECT unit_code, indicator_id, first_at_us, last_at_us FROM "
                                    "reporting_times WHERE year = ?1"));
  s.Bind(1, static_cast<int64_t>(year));
  std::vector<ReportingTimes> out;
  while (true) {
    HALFSKY_ASSIGN_OR_RETURN(int step, s.Step());
    if (step != SQLITE_ROW) {
      break;
    }
    ReportingTimes t;
    t.unit_code = s.Text(0);
    t.indicator_id = s.Text(1);
    t.year = year;
    t.first_at = FromMicros(s.Int(2));
    t.last_at = FromMicros(s.Int(3));
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace halfsky::submission
