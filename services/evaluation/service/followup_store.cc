#include "services/evaluation/service/followup_store.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status/status.h"
#include "google/protobuf/util/time_util.h"

namespace halfsky::evaluation {

const char kFollowUpSchemaMigration[] =
    "CREATE TABLE follow_ups ("
    "  warning_id TEXT PRIMARY KEY,"
    "  owner_unit_code TEXT NOT NULL,"
    "  state INTEGER NOT NULL,"
    "  body BLOB NOT NULL"
    ");"
    "CREATE TABLE follow_up_steps ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  warning_id TEXT NOT NULL,"
    "  episode INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL,"
    "  by TEXT NOT NULL,"
    "  at_micros INTEGER NOT NULL,"
    "  body BLOB NOT NULL"
    ");"
    "CREATE INDEX follow_up_steps_by_warning ON follow_up_steps (warning_id, seq);";

namespace {

using sqlite::Statement;

}  // namespace

absl::StatusOr<std::unique_ptr<FollowUpStore>> FollowUpStore::Open(const std::string& path) {
  sqlite::Database::Options options;
  options.create = false;
  options.busy_timeout = absl::Seconds(5);
  HALFSKY_ASSIGN_OR_RETURN(sqlite::Database db, sqlite::Database::Open(path, options));
  std::unique_ptr<FollowUpStore> store(new FollowUpStore(std::move(db)));
  HALFSKY_RETURN_IF_ERROR(store->db_.Exec("PRAGMA journal_mode=WAL;"));
  HALFSKY_RETURN_IF_ERROR(store->db_.Exec("PRAGMA synchronous=FULL;"));
  HALFSKY_ASSIGN_OR_RETURN(
      const int64_t tables,
      store->db_.QueryInt("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                          "('follow_ups', 'follow_up_steps');"));
  if (tables != 2) {
    return absl::FailedPreconditionError(
        absl::StrCat("评估数据库缺少督办表 / ", path,
                     " has no follow-up tables (open it with WarningStore first)"));
  }
  return store;
}

FollowUpStore::~FollowUpStore() = default;

absl::StatusOr<std::vector<halfsky::v1::FollowUp>> FollowUpStore::LoadAll() {
  std::vector<halfsky::v1::FollowUp> out;
  Statement s;
  HALFSKY_RETURN_IF_ERROR(s.Prepare(db_, "SELECT body FROM follow_ups ORDER BY warning_id;"));
  while (true) {
    HALFSKY_ASSIGN_OR_RETURN(const int step, s.Step());
    if (step != SQLITE_ROW) {
      break;
    }
    const absl::string_view blob = s.View(0);
    halfsky::v1::FollowUp f;
    if (!f.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
      return absl::DataLossError("评估数据库中的督办记录损坏 / corrupt follow-up row");
    }
    out.push_back(std::move(f));
  }
  return out;
}

absl::Status FollowUpStore::Write(
    const std::vector<halfsky::v1::FollowUp>& records,
    const std::vector<std::pair<std::string, halfsky::v1::FollowUpStep>>& steps) {
  if (records.empty() && steps.empty()) {
    return absl::OkStatus();
  }
  Statement r;
  Statement a;
  HALFSKY_RETURN_IF_ERROR(
      r.Prepare(db_,
                "INSERT OR REPLACE INTO follow_ups (warning_id, owner_unit_code, state, body) "
                "VALUES (?1, ?2, ?3, ?4);"));
  HALFSKY_RETURN_IF_ERROR(
      a.Prepare(db_,
                "INSERT INTO follow_up_steps (warning_id, episode, kind, by, at_micros, body) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6);"));
  return sqlite::InTransaction(db_, [&]() -> absl::Status {
    for (const halfsky::v1::FollowUp& record : records) {
      halfsky::v1::FollowUp body = record;
      body.clear_steps();
      const std::string bytes = body.SerializeAsString();
      r.Bind(1, body.warning_id());
      r.Bind(2, body.owner_unit_code());
      r.Bind(3, static_cast<int64_t>(body.state()));
      r.BindBlob(4, bytes);
      HALFSKY_RETURN_IF_ERROR(r.Run());
    }
    for (const auto& [warning_id, step] : steps) {
      const std::string bytes = step.SerializeAsString();
      a.Bind(1, warning_id);
      a.Bind(2, static_cast<int64_t>(step.episode()));
      a.Bind(3, static_cast<int64_t>(step.kind()));
      a.Bind(4, step.by());
      a.Bind(5, static_cast<int64_t>(
                    google::protobuf::util::TimeUtil::TimestampToMicroseconds(step.at())));
      a.BindBlob(6, bytes);
      HALFSKY_RETURN_IF_ERROR(a.Run());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<halfsky::v1::FollowUpStep>> FollowUpStore::Steps(
    const std::string& warning_id) {
  Statement s;
  HALFSKY_RETURN_IF_ERROR(
      s.Prepare(db_, "SELECT body FROM follow_up_steps WHERE warning_id = ?1 ORDER BY seq;"));
  s.Bind(1, warning_id);
  std::vector<halfsky::v1::FollowUpStep> out;
  while (true) {
    HALFSKY_ASSIGN_OR_RETURN(const int step, s.Step());
    if (step != SQLITE_ROW) {
      break;
    }
    const absl::string_view blob = s.View(0);
    if (!out.emplace_back().ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
      return absl::DataLossError("评估数据库中的督办历史损坏 / corrupt follow-up step");
    }
  }
  return out;
}

}  // namespace halfsky::evaluation
