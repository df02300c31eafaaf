#include "services/submission/sqlite_readers.h"

#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status/status.h"
#include "services/submission/sqlite_schema.h"

namespace halfsky::submission {

namespace v1 = ::halfsky::v1;

// A connection taken from the pool for one read; returned on destruction.
class SqliteReaders::Lease {
 public:
  explicit Lease(SqliteReaders* pool) : pool_(pool) {
    absl::MutexLock lock(&pool_->mu_);
    pool_->mu_.Await(absl::Condition(
        +[](std::vector<std::unique_ptr<sqlite::Database>>* idle) { return !idle->empty(); },
        &pool_->idle_));
    db_ = std::move(pool_->idle_.back());
    pool_->idle_.pop_back();
  }
  ~Lease() {
    absl::MutexLock lock(&pool_->mu_);
    pool_->idle_.push_back(std::move(db_));
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  sqlite::Database& db() { return *db_; }

 private:
  SqliteReaders* const pool_;
  std::unique_ptr<sqlite::Database> db_;
};

absl::StatusOr<std::unique_ptr<SqliteReaders>> SqliteReaders::Open(const std::string& path,
                                                                   int connections) {
  std::unique_ptr<SqliteReaders> readers(new SqliteReaders());
  sqlite::Database::Options options;
  options.create = false;
  options.query_only = true;
  options.busy_timeout = absl::Seconds(10);
  for (int i = 0; i < std::max(1, connections); ++i) {
    HALFSKY_ASSIGN_OR_RETURN(sqlite::Database db, sqlite::Database::Open(path, options));
    absl::MutexLock lock(&readers->mu_);
    readers->idle_.push_back(std::make_unique<sqlite::Database>(std::move(db)));
  }
  return readers;
}

namespace {

// Appends every year-lock row of `table` (year_locks or year_lock_history)
// in `order` to `out`.
absl::Status ReadLocks(sqlite::Database& db, absl::string_view table, absl::string_view order,
                       std::vector<v1::YearLock>* out) {
  sqlite::Statement s;
  HALFSKY_RETURN_IF_ERROR(
      s.Prepare(db, absl::StrCat("SELECT year, locked, changed_by, changed_at_us, reason FROM ",
                                 table, " ORDER BY ", order)));
  while (true) {
    HALFSKY_ASSIGN_OR_RETURN(int step, s.Step());
    if (step != SQLITE_ROW) {
      return absl::OkStatus();
    }
    out->push_back(LockFromRow(s));
  }
}

}  // namespace

absl::StatusOr<YearLocks> SqliteReaders::ListYearLocks() {
  Lease lease(this);
  YearLocks out;
  HALFSKY_RETURN_IF_ERROR(ReadLocks(lease.db(), "year_locks", "year", &out.current));
  HALFSKY_RETURN_IF_ERROR(ReadLocks(lease.db(), "year_lock_history", "id", &out.history));
  return out;
}

absl::StatusOr<CurrentPage> SqliteReaders::ListCurrent(const CurrentFilter& filter, int64_t cursor,
                                                       int limit) {
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

  Lease lease(this);
  sqlite::Database& db = lease.db();
  sqlite::Statement s;
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

absl::StatusOr<std::vector<v1::Revision>> SqliteReaders::History(const v1::DataKey& key) {
  Lease lease(this);
  sqlite::Database& db = lease.db();
  sqlite::Statement s;
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

template <typename NewRevision>
absl::Status SqliteReaders::ScanChanges(int64_t after_sequence, int limit, size_t max_bytes,
                                        NewRevision new_revision) {
  Lease lease(this);
  sqlite::Database& db = lease.db();
  sqlite::Statement s;
  HALFSKY_RETURN_IF_ERROR(
      s.Prepare(db, absl::StrCat("SELECT ", kRevisionColumns,
                                 ", k.unit_code FROM revisions r JOIN data_keys k ON "
                                 "k.key_id = r.key_id WHERE r.sequence > ?1 ORDER BY r.sequence "
                                 "LIMIT ?2")));
  s.Bind(1, after_sequence);
  s.Bind(2, static_cast<int64_t>(std::max(1, limit)));
  size_t bytes = 0;
  for (bool first = true; first || bytes < max_bytes; first = false) {
    HALFSKY_ASSIGN_OR_RETURN(int step, s.Step());
    if (step != SQLITE_ROW) {
      return absl::OkStatus();
    }
    // The stored DataValue and the change reason (kRevisionColumns' first
    // and ninth).
    bytes += s.View(0).size() + s.View(8).size();
    v1::Revision* rev = new_revision();
    HALFSKY_RETURN_IF_ERROR(FillRevisionFromRow(s, 0, rev));
    SetKeyUnit(s.View(kRevisionColumnCount), rev);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Revision>> SqliteReaders::ReadChanges(int64_t after_sequence,
                                                                     int limit) {
  std::vector<v1::Revision> out;
  // Each pointer is filled before the next emplace_back.
  HALFSKY_RETURN_IF_ERROR(ScanChanges(after_sequence, limit, std::numeric_limits<size_t>::max(),
                                      [&out] { return &out.emplace_back(); }));
  return out;
}

absl::StatusOr<std::vector<v1::Revision*>> SqliteReaders::ReadChangesOnArena(
    int64_t after_sequence, int limit, size_t max_bytes, google::protobuf::Arena* arena) {
  std::vector<v1::Revision*> out;
  HALFSKY_RETURN_IF_ERROR(ScanChanges(after_sequence, limit, max_bytes, [&out, arena] {
    return out.emplace_back(google::protobuf::Arena::CreateMessage<v1::Revision>(arena));
  }));
  return out;
}

absl::StatusOr<std::vector<ReportingTimes>> SqliteReaders::ListReportingTimes(int year) {
  Lease lease(this);
  sqlite::Database& db = lease.db();
  sqlite::Statement s;
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
