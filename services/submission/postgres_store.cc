#include "services/submission/postgres_store.h"

#include <poll.h>

#include <algorithm>
#include <iostream>
#include <set>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "common/postgres/migrations.h"
#include "common/proto/serialize.h"
#include "common/proto/timestamp.h"
#include "common/status/status.h"
#include "google/rpc/error_details.pb.h"

namespace halfsky::submission {

namespace v1 = ::halfsky::v1;
using postgres::ArrayParam;
using postgres::Connection;
using postgres::Param;
using postgres::Result;

namespace {

// Ordered schema migrations. Append only; never edit a released one.
const postgres::Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE data_keys(
  key_id BIGINT PRIMARY KEY,
  indicator_id TEXT NOT NULL,
  area_code TEXT NOT NULL,
  year INTEGER NOT NULL,
  sex INTEGER NOT NULL,
  residence INTEGER NOT NULL,
  unit_code TEXT NOT NULL,
  UNIQUE(indicator_id, area_code, year, sex, residence, unit_code));
CREATE TABLE revisions(
  sequence BIGINT PRIMARY KEY,
  key_id BIGINT NOT NULL,
  revision BIGINT NOT NULL,
  prev_sequence BIGINT NOT NULL,
  data_value BYTEA NOT NULL,
  submitted_by TEXT NOT NULL,
  unit_code TEXT NOT NULL,
  committed_at_us BIGINT NOT NULL,
  request_id TEXT NOT NULL,
  withdrawn BOOLEAN NOT NULL DEFAULT FALSE,
  change_reason TEXT NOT NULL DEFAULT '');
CREATE TABLE key_heads(
  key_id BIGINT PRIMARY KEY,
  revision BIGINT NOT NULL,
  sequence BIGINT NOT NULL);
CREATE TABLE requests(
  principal TEXT NOT NULL,
  request_id TEXT NOT NULL,
  payload_hash BYTEA NOT NULL,
  reply BYTEA NOT NULL,
  committed_at_us BIGINT NOT NULL,
  PRIMARY KEY(principal, request_id));
CREATE TABLE year_locks(
  year INTEGER PRIMARY KEY,
  locked BOOLEAN NOT NULL,
  changed_by TEXT NOT NULL,
  changed_at_us BIGINT NOT NULL,
  reason TEXT NOT NULL);
CREATE TABLE year_lock_history(
  id BIGSERIAL PRIMARY KEY,
  year INTEGER NOT NULL,
  locked BOOLEAN NOT NULL,
  changed_by TEXT NOT NULL,
  changed_at_us BIGINT NOT NULL,
  reason TEXT NOT NULL);
CREATE TABLE reporting_times(
  year INTEGER NOT NULL,
  unit_code TEXT NOT NULL,
  indicator_id TEXT NOT NULL,
  first_at_us BIGINT NOT NULL,
  last_at_us BIGINT NOT NULL,
  PRIMARY KEY(year, unit_code, indicator_id));
CREATE TABLE review_forms(
  unit_code TEXT NOT NULL,
  area_code TEXT NOT NULL,
  year INTEGER NOT NULL,
  state INTEGER NOT NULL,
  explanation TEXT NOT NULL,
  reason TEXT NOT NULL,
  changed_by TEXT NOT NULL,
  changed_at_us BIGINT NOT NULL,
  PRIMARY KEY(unit_code, area_code, year));
CREATE TABLE review_events(
  event_id BIGSERIAL PRIMARY KEY,
  unit_code TEXT NOT NULL,
  area_code TEXT NOT NULL,
  year INTEGER NOT NULL,
  action INTEGER NOT NULL,
  from_state INTEGER NOT NULL,
  to_state INTEGER NOT NULL,
  actor TEXT NOT NULL,
  at_us BIGINT NOT NULL,
  reason TEXT NOT NULL,
  explanation TEXT NOT NULL);
CREATE INDEX review_events_by_form ON review_events(unit_code, area_code, year, event_id);
)sql"},
};

const char kCurrentRevisionJoin[] =
    " FROM data_keys k JOIN key_heads h ON h.key_id = k.key_id"
    " JOIN revisions r ON r.sequence = h.sequence";
const char kRevisionColumns[] =
    "r.data_value, r.revision, r.sequence, r.submitted_by, r.unit_code, r.committed_at_us, "
    "r.request_id, r.withdrawn, r.change_reason";
constexpr int kRevisionColumnCount = 9;

absl::StatusOr<v1::Revision> RevisionFromRow(const Result& res, int row, int col) {
  v1::Revision rev;
  if (!rev.mutable_data_value()->ParseFromString(res.Bytes(row, col))) {
    return absl::DataLossError("postgres: stored data value does not parse");
  }
  rev.set_revision(res.Int(row, col + 1));
  rev.set_sequence(res.Int(row, col + 2));
  rev.set_submitted_by(res.Text(row, col + 3));
  rev.set_unit_code(res.Text(row, col + 4));
  SetTimestamp(absl::FromUnixMicros(res.Int(row, col + 5)), rev.mutable_committed_at());
  rev.set_request_id(res.Text(row, col + 6));
  rev.set_withdrawn(res.Bool(row, col + 7));
  rev.set_change_reason(res.Text(row, col + 8));
  return rev;
}

void SetKeyUnit(absl::string_view unit_code, v1::Revision* rev) {
  if (!unit_code.empty()) {
    rev->mutable_data_value()->mutable_key()->set_unit_code(std::string(unit_code));
  }
}

v1::YearLock LockFromRow(const Result& r, int row) {
  v1::YearLock lock;
  lock.set_year(static_cast<int>(r.Int(row, 0)));
  lock.set_locked(r.Bool(row, 1));
  lock.set_changed_by(r.Text(row, 2));
  SetTimestamp(absl::FromUnixMicros(r.Int(row, 3)), lock.mutable_changed_at());
  lock.set_reason(r.Text(row, 4));
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

std::string KeyString(const v1::DataKey& k) {
  return absl::StrCat(k.indicator_id(), "\x1f", k.area_code(), "\x1f", k.year(), "\x1f",
                      static_cast<int>(k.sex()), "\x1f", static_cast<int>(k.residence()), "\x1f",
                      k.unit_code());
}

constexpr char kChannel[] = "halfsky_changes";

}  // namespace

// ------------------------------------------------------------------- Op

struct PostgresSubmissionStore::Op {
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

// ------------------------------------------------------------ ReaderPool

class PostgresSubmissionStore::ReaderPool {
 public:
  ReaderPool(Connection::Options options, int n) : options_(std::move(options)), size_(n) {}

  // Runs `fn` on an idle connection (opened or re-opened as needed).
  template <typename Fn>
  auto With(Fn fn) -> decltype(fn(std::declval<Connection&>())) {
    std::unique_ptr<Connection> conn;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ReaderPool* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
            return !p->idle_.empty() || p->opened_ < p->size_;
          },
          this));
      if (!idle_.empty()) {
        conn = std::move(idle_.back());
        idle_.pop_back();
      } else {
        ++opened_;
      }
    }
    if (conn == nullptr || !conn->ok()) {
      absl::StatusOr<Connection> fresh = Connection::Open(options_);
      if (!fresh.ok()) {
        absl::MutexLock lock(&mu_);
        --opened_;
        return fresh.status();
      }
      conn = std::make_unique<Connection>(*std::move(fresh));
    }
    auto result = fn(*conn);
    absl::MutexLock lock(&mu_);
    idle_.push_back(std::move(conn));
    return result;
  }

 private:
  const Connection::Options options_;
  const int size_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int opened_ ABSL_GUARDED_BY(mu_) = 0;
};

// ---------------------------------------------------------------- Group

// One group commit in flight (committer thread): what it read under the
// write lock, the rows it will write, and each op's result.
class PostgresSubmissionStore::Group {
 public:
  struct KeyState {
    int64_t key_id = 0;
    int64_t revision = 0;
    int64_t sequence = 0;
    std::string encoded;
    bool withdrawn = false;
  };

  Group(Connection& conn, absl::Time now) : conn_(conn), now_(now) {}

  // Reads head, next key id, year locks, the stored requests and the keys
  // of `ops`.
  absl::Status Load(const std::vector<std::unique_ptr<Op>>& ops);
  absl::Status ApplyLock(const Op& op, absl::StatusOr<v1::YearLock>* result);
  void ApplyWrite(WriteRequest& request, absl::StatusOr<v1::SubmitBatchResponse>* result);
  absl::Status Flush();
  int64_t head() const { return next_sequence_ - 1; }

 private:
  struct RevisionRow {
    int64_t sequence, key_id, revision, prev_sequence;
    absl::string_view encoded, submitted_by, unit_code, request_id;
    bool withdrawn;
    absl::string_view change_reason;
    const v1::DataKey* key;
  };
  struct StoredRequest {
    std::string payload_hash;
    std::string reply;
  };
  void ApplyAccepted(WriteRequest& request, absl::StatusOr<v1::SubmitBatchResponse>* result);

  Connection& conn_;
  const absl::Time now_;
  int64_t next_sequence_ = 1;
  int64_t next_key_id_ = 1;
  absl::flat_hash_map<int, bool> locks_;
  absl::flat_hash_map<std::string, KeyState> keys_;
  // Committed requests and those applied earlier in this group (by
  // principal \x1f request id).
  absl::flat_hash_map<std::string, StoredRequest> requests_;
  struct NewRequest {
    absl::string_view principal, request_id, payload_hash;
    std::string reply;
  };
  std::vector<NewRequest> new_requests_;
  std::vector<std::pair<int64_t, const v1::DataKey*>> new_keys_;
  std::vector<RevisionRow> revisions_;
  // key_id -> (revision, sequence) after the group.
  absl::flat_hash_map<int64_t, std::pair<int64_t, int64_t>> heads_;
  std::set<std::tuple<int, std::string, std::string>> reported_;
  std::set<std::tuple<int, std::string, std::string>> confirmed_;
};

absl::Status PostgresSubmissionStore::Group::Load(const std::vector<std::unique_ptr<Op>>& ops) {
  HALFSKY_ASSIGN_OR_RETURN(Result state,
                           conn_.Query("SELECT (SELECT COALESCE(MAX(sequence), 0) FROM revisions), "
                                       "(SELECT COALESCE(MAX(key_id), 0) FROM data_keys)"));
  next_sequence_ = state.Int(0, 0) + 1;
  next_key_id_ = state.Int(0, 1) + 1;
  HALFSKY_ASSIGN_OR_RETURN(Result locks, conn_.Query("SELECT year, locked FROM year_locks"));
  for (int i = 0; i < locks.rows(); ++i) {
    locks_[static_cast<int>(locks.Int(i, 0))] = locks.Bool(i, 1);
  }
  ArrayParam principals, ids;
  ArrayParam ind, area, year, sex, res, unit;
  absl::flat_hash_set<std::string> seen;
  for (const auto& op : ops) {
    if (op->is_lock) continue;
    principals.AddText(op->write.principal);
    ids.AddText(op->write.request_id);
    for (const ValueToWrite& v : op->write.values) {
      const v1::DataKey& k = v.value.key();
      if (!seen.insert(KeyString(k)).second) continue;
      ind.AddText(k.indicator_id());
      area.AddText(k.area_code());
      year.AddInt(k.year());
      sex.AddInt(static_cast<int>(k.sex()));
      res.AddInt(static_cast<int>(k.residence()));
      unit.AddText(k.unit_code());
    }
  }
  if (principals.size() > 0) {
    HALFSKY_ASSIGN_OR_RETURN(
        Result r,
        conn_.Query("SELECT q.p, q.i, r.payload_hash, r.reply FROM unnest($1::text[], $2::text[]) "
                    "AS q(p, i) JOIN requests r ON r.principal = q.p AND r.request_id = q.i",
                    {principals.Build(), ids.Build()}));
    for (int i = 0; i < r.rows(); ++i) {
      requests_[absl::StrCat(r.View(i, 0), "\x1f", r.View(i, 1))] =
          StoredRequest{r.Bytes(i, 2), r.Bytes(i, 3)};
    }
  }
  if (ind.size() > 0) {
    HALFSKY_ASSIGN_OR_RETURN(
        Result r,
        conn_.Query(
            "SELECT k.indicator_id, k.area_code, k.year, k.sex, k.residence, k.unit_code, "
            "k.key_id, h.revision, h.sequence, r.data_value, r.withdrawn "
            "FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::int[], "
            "$6::text[]) AS q(i, a, y, s, re, u) JOIN data_keys k ON k.indicator_id = q.i "
            "AND k.area_code = q.a AND k.year = q.y AND k.sex = q.s AND k.residence = "
            "q.re AND k.unit_code = q.u JOIN key_heads h ON h.key_id = k.key_id JOIN "
            "revisions r ON r.sequence = h.sequence",
            {ind.Build(), area.Build(), year.Build(), sex.Build(), res.Build(), unit.Build()}));
    for (int i = 0; i < r.rows(); ++i) {
      v1::DataKey k;
      k.set_indicator_id(r.Text(i, 0));
      k.set_area_code(r.Text(i, 1));
      k.set_year(static_cast<int>(r.Int(i, 2)));
      k.set_sex(static_cast<v1::Sex>(r.Int(i, 3)));
      k.set_residence(static_cast<v1::Residence>(r.Int(i, 4)));
      k.set_unit_code(r.Text(i, 5));
      KeyState& s = keys_[KeyString(k)];
      s.key_id = r.Int(i, 6);
      s.revision = r.Int(i, 7);
      s.sequence = r.Int(i, 8);
      s.encoded = r.Bytes(i, 9);
      s.withdrawn = r.Bool(i, 10);
    }
  }
  return absl::OkStatus();
}

absl::Status PostgresSubmissionStore::Group::ApplyLock(const Op& op,
                                                       absl::StatusOr<v1::YearLock>* result) {
  HALFSKY_ASSIGN_OR_RETURN(
      Result cur,
      conn_.Query("SELECT year, locked, changed_by, changed_at_us, reason FROM year_locks WHERE "
                  "year = $1",
                  {Param::Int(op.year)}));
  if (cur.rows() > 0) {
    v1::YearLock current = LockFromRow(cur, 0);
    if (current.locked() == op.locked) {
      *result = std::move(current);
      return absl::OkStatus();
    }
  } else if (!op.locked) {
    v1::YearLock never;
    never.set_year(op.year);
    *result = std::move(never);
    return absl::OkStatus();
  }
  const std::vector<Param> params = {Param::Int(op.year), Param::Bool(op.locked),
                                     Param::Text(op.principal),
                                     Param::Int(absl::ToUnixMicros(now_)), Param::Text(op.reason)};
  HALFSKY_RETURN_IF_ERROR(
      conn_
          .Query("INSERT INTO year_locks(year, locked, changed_by, changed_at_us, reason) "
                 "VALUES($1, $2, $3, $4, $5) ON CONFLICT(year) DO UPDATE SET locked = "
                 "excluded.locked, changed_by = excluded.changed_by, changed_at_us = "
                 "excluded.changed_at_us, reason = excluded.reason",
                 params)
          .status());
  HALFSKY_RETURN_IF_ERROR(
      conn_
          .Query("INSERT INTO year_lock_history(year, locked, changed_by, changed_at_us, reason) "
                 "VALUES($1, $2, $3, $4, $5)",
                 params)
          .status());
  locks_[op.year] = op.locked;
  v1::YearLock lock;
  lock.set_year(op.year);
  lock.set_locked(op.locked);
  lock.set_changed_by(op.principal);
  SetTimestamp(now_, lock.mutable_changed_at());
  lock.set_reason(op.reason);
  *result = std::move(lock);
  return absl::OkStatus();
}

void PostgresSubmissionStore::Group::ApplyWrite(WriteRequest& request,
                                                absl::StatusOr<v1::SubmitBatchResponse>* result) {
  if (request.chain != nullptr && request.chain->broken()) {
    *result = absl::AbortedError(
        "同一数据流中之前的数据块失败，本块未写入 / an earlier chunk of this stream failed; this "
        "chunk was not written");
  } else if (absl::Now() > request.deadline) {
    *result = absl::DeadlineExceededError(
        "请求已超过截止时间，未写入 / the request's deadline passed before it was committed; "
        "nothing was written");
  } else if (absl::Status refused =
                 request.precondition ? request.precondition(request) : absl::OkStatus();
             !refused.ok()) {
    *result = std::move(refused);
  } else {
    ApplyAccepted(request, result);
  }
  if (!result->ok() && request.chain != nullptr) {
    request.chain->Break();
  }
}

void PostgresSubmissionStore::Group::ApplyAccepted(
    WriteRequest& request, absl::StatusOr<v1::SubmitBatchResponse>* result) {
  const std::string request_key = absl::StrCat(request.principal, "\x1f", request.request_id);
  if (auto it = requests_.find(request_key); it != requests_.end()) {
    if (it->second.payload_hash != request.payload_hash) {
      *result = WithReason(absl::AlreadyExistsError(absl::StrCat(
                               "请求编号已用于不同的数据 / request id '", request.request_id,
                               "' was already used with a different payload")),
                           "REQUEST_ID_REUSED");
      return;
    }
    v1::SubmitBatchResponse reply;
    if (!reply.ParseFromString(it->second.reply)) {
      *result = absl::DataLossError("stored reply does not parse");
      return;
    }
    if (request.reply_keys) {
      for (int i = 0; i < reply.results_size() && i < static_cast<int>(request.values.size());
           ++i) {
        *reply.mutable_results(i)->mutable_key() = request.values[i].value.key();
      }
    }
    reply.set_replayed(true);
    *result = std::move(reply);
    return;
  }

  std::set<int> locked;
  for (const ValueToWrite& v : request.values) {
    auto it = locks_.find(v.value.key().year());
    if (it != locks_.end() && it->second) {
      locked.insert(v.value.key().year());
    }
  }
  if (!locked.empty()) {
    *result = YearLockedError(locked);
    return;
  }

  std::vector<std::string> missing;
  for (size_t i = 0; i < request.values.size(); ++i) {
    const ValueToWrite& v = request.values[i];
    if (!v.withdraw) continue;
    const KeyState& state = keys_[KeyString(v.value.key())];
    if (state.revision == 0) {
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
    return;
  }

  v1::SubmitBatchResponse reply;
  SetTimestamp(now_, reply.mutable_committed_at());
  reply.mutable_results()->Reserve(static_cast<int>(request.values.size()));
  int64_t first_seq = 0, last_seq = 0;
  int created = 0, revised = 0, unchanged = 0, withdrawn = 0;
  for (ValueToWrite& v : request.values) {
    const v1::DataKey& key = v.value.key();
    if (v.encoded.empty()) {
      v.encoded = DeterministicBytes(v.value);
    }
    v1::ValueResult* out = reply.add_results();
    KeyState& state = keys_[KeyString(key)];
    if (v.withdraw ? state.withdrawn
                   : (state.revision > 0 && !state.withdrawn && state.encoded == v.encoded)) {
      out->set_outcome(v1::WRITE_OUTCOME_UNCHANGED);
      out->set_revision(state.revision);
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
    } else if (state.revision == 0) {
      state.key_id = next_key_id_++;
      new_keys_.emplace_back(state.key_id, &key);
      out->set_outcome(v1::WRITE_OUTCOME_CREATED);
      ++created;
    } else {
      out->set_outcome(v1::WRITE_OUTCOME_REVISED);
      ++revised;
    }
    ++state.revision;
    state.encoded.assign(v.encoded);
    state.withdrawn = v.withdraw;
    revisions_.push_back(RevisionRow{seq, state.key_id, state.revision, state.sequence, v.encoded,
                                     request.principal, v.unit_code, request.request_id, v.withdraw,
                                     v.change_reason, &key});
    state.sequence = seq;
    heads_[state.key_id] = {state.revision, seq};
    out->set_revision(state.revision);
    out->set_sequence(seq);
    if (first_seq == 0) first_seq = seq;
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

  std::string stored = reply.SerializeAsString();
  requests_[request_key] = StoredRequest{request.payload_hash, stored};
  new_requests_.push_back(
      NewRequest{request.principal, request.request_id, request.payload_hash, std::move(stored)});
  if (request.reply_keys) {
    for (int i = 0; i < reply.results_size(); ++i) {
      *reply.mutable_results(i)->mutable_key() = request.values[i].value.key();
    }
  }
  *result = std::move(reply);
}

absl::Status PostgresSubmissionStore::Group::Flush() {
  const int64_t now_us = absl::ToUnixMicros(now_);
  if (!revisions_.empty()) {
    ArrayParam seq, key, rev, prev, data, by, unit, at, rid, wd, why;
    for (const RevisionRow& r : revisions_) {
      seq.AddInt(r.sequence);
      key.AddInt(r.key_id);
      rev.AddInt(r.revision);
      prev.AddInt(r.prev_sequence);
      data.AddBytes(r.encoded);
      by.AddText(r.submitted_by);
      unit.AddText(r.unit_code);
      at.AddInt(now_us);
      rid.AddText(r.request_id);
      wd.AddBool(r.withdrawn);
      why.AddText(r.change_reason);
    }
    HALFSKY_RETURN_IF_ERROR(
        conn_
            .Query("INSERT INTO revisions(sequence, key_id, revision, prev_sequence, data_value, "
                   "submitted_by, unit_code, committed_at_us, request_id, withdrawn, "
                   "change_reason) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], "
                   "$4::bigint[], $5::bytea[], $6::text[], $7::text[], $8::bigint[], $9::text[], "
                   "$10::boolean[], $11::text[])",
                   {seq.Build(), key.Build(), rev.Build(), prev.Build(), data.Build(), by.Build(),
                    unit.Build(), at.Build(), rid.Build(), wd.Build(), why.Build()})
            .status());
  }
  if (!heads_.empty()) {
    ArrayParam key, rev, seq;
    for (const auto& [key_id, h] : heads_) {
      key.AddInt(key_id);
      rev.AddInt(h.first);
      seq.AddInt(h.second);
    }
    HALFSKY_RETURN_IF_ERROR(
        conn_
            .Query("INSERT INTO key_heads(key_id, revision, sequence) SELECT * FROM "
                   "unnest($1::bigint[], $2::bigint[], $3::bigint[]) ON CONFLICT(key_id) DO "
                   "UPDATE SET revision = excluded.revision, sequence = excluded.sequence",
                   {key.Build(), rev.Build(), seq.Build()})
            .status());
  }
  if (!new_keys_.empty()) {
    ArrayParam id, ind, area, year, sex, res, unit;
    for (const auto& [key_id, k] : new_keys_) {
      id.AddInt(key_id);
      ind.AddText(k->indicator_id());
      area.AddText(k->area_code());
      year.AddInt(k->year());
      sex.AddInt(static_cast<int>(k->sex()));
      res.AddInt(static_cast<int>(k->residence()));
      unit.AddText(k->unit_code());
    }
    HALFSKY_RETURN_IF_ERROR(
        conn_
            .Query("INSERT INTO data_keys(key_id, indicator_id, area_code, year, sex, residence, "
                   "unit_code) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], "
                   "$4::int[], $5::int[], $6::int[], $7::text[])",
                   {id.Build(), ind.Build(), area.Build(), year.Build(), sex.Build(), res.Build(),
                    unit.Build()})
            .status());
  }
  auto reporting = [&](const std::set<std::tuple<int, std::string, std::string>>& rows,
                       const char* conflict) -> absl::Status {
    if (rows.empty()) return absl::OkStatus();
    ArrayParam year, unit, ind, at;
    for (const auto& [y, u, i] : rows) {
      year.AddInt(y);
      unit.AddText(u);
      ind.AddText(i);
      at.AddInt(now_us);
    }
    return conn_
        .Query(absl::StrCat("INSERT INTO reporting_times(year, unit_code, indicator_id, "
                            "first_at_us, last_at_us) SELECT y, u, i, t, t FROM "
                            "unnest($1::int[], $2::text[], $3::text[], $4::bigint[]) AS "
                            "q(y, u, i, t) ON CONFLICT(year, unit_code, indicator_id) ",
                            conflict),
               {year.Build(), unit.Build(), ind.Build(), at.Build()})
        .status();
  };
  HALFSKY_RETURN_IF_ERROR(reporting(reported_, "DO UPDATE SET last_at_us = excluded.last_at_us"));
  std::set<std::tuple<int, std::string, std::string>> confirmed;
  for (const auto& r : confirmed_) {
    if (reported_.count(r) == 0) confirmed.insert(r);
  }
  HALFSKY_RETURN_IF_ERROR(reporting(confirmed, "DO NOTHING"));
  for (const RevisionRow& r : revisions_) {
    if (!r.withdrawn) continue;
    HALFSKY_RETURN_IF_ERROR(
        conn_
            .Query(absl::StrCat(
                       "DELETE FROM reporting_times WHERE year = $1 AND indicator_id = $2 AND "
                       "unit_code <> '' AND unit_code IN ($3, $5, (SELECT p.unit_code FROM "
                       "revisions p WHERE p.sequence = $4)) AND NOT EXISTS (SELECT 1",
                       kCurrentRevisionJoin,
                       " WHERE k.indicator_id = $2 AND k.year = $1 AND NOT r.withdrawn AND "
                       "(r.unit_code = reporting_times.unit_code OR k.unit_code = "
                       "reporting_times.unit_code))"),
                   {Param::Int(r.key->year()), Param::Text(r.key->indicator_id()),
                    Param::Text(r.unit_code), Param::Int(r.prev_sequence),
                    Param::Text(r.key->unit_code())})
            .status());
  }
  if (!new_requests_.empty()) {
    ArrayParam p, id, hash, reply, at;
    for (const NewRequest& r : new_requests_) {
      p.AddText(r.principal);
      id.AddText(r.request_id);
      hash.AddBytes(r.payload_hash);
      reply.AddBytes(r.reply);
      at.AddInt(now_us);
    }
    HALFSKY_RETURN_IF_ERROR(
        conn_
            .Query("INSERT INTO requests(principal, request_id, payload_hash, reply, "
                   "committed_at_us) SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], "
                   "$4::bytea[], $5::bigint[])",
                   {p.Build(), id.Build(), hash.Build(), reply.Build(), at.Build()})
            .status());
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- store

int PostgresSubmissionStore::LatestSchemaVersion() {
  return kMigrations[std::size(kMigrations) - 1].version;
}

PostgresSubmissionStore::PostgresSubmissionStore(const Options& options) : options_(options) {}

absl::StatusOr<std::unique_ptr<PostgresSubmissionStore>> PostgresSubmissionStore::Open(
    const Options& options) {
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("PostgresSubmissionStore: clock is required");
  }
  Connection::Options conn_options;
  conn_options.conninfo = options.conninfo;
  conn_options.password = options.password;
  conn_options.application_name = "halfsky-submission";
  std::unique_ptr<PostgresSubmissionStore> store(new PostgresSubmissionStore(options));
  HALFSKY_ASSIGN_OR_RETURN(store->writer_, Connection::Open(conn_options));
  // Acknowledged = committed: COMMIT waits for the WAL flush whatever the
  // database's default.
  HALFSKY_RETURN_IF_ERROR(store->writer_.Exec("SET synchronous_commit = on"));
  HALFSKY_RETURN_IF_ERROR(
      postgres::ApplyMigrations(store->writer_, kMigrations, "submission").status());
  HALFSKY_ASSIGN_OR_RETURN(const int64_t head,
                           store->writer_.QueryInt("SELECT COALESCE(MAX(sequence), 0) FROM "
                                                   "revisions"));
  {
    absl::MutexLock lock(&store->head_mu_);
    store->head_ = head;
  }
  store->readers_ =
      std::make_unique<ReaderPool>(conn_options, std::max(1, options.read_connections));
  store->committer_ = std::thread([s = store.get()] { s->CommitLoop(); });
  store->listener_thread_ = std::thread([s = store.get()] { s->ListenLoop(); });
  return store;
}

PostgresSubmissionStore::~PostgresSubmissionStore() {
  {
    absl::MutexLock lock(&queue_mu_);
    closing_ = true;
  }
  if (committer_.joinable()) committer_.join();
  {
    absl::MutexLock lock(&head_mu_);
    listen_closing_ = true;
  }
  if (listener_thread_.joinable()) listener_thread_.join();
}

void PostgresSubmissionStore::Enqueue(std::unique_ptr<Op> op) {
  {
    absl::MutexLock lock(&queue_mu_);
    if (!closing_) {
      queue_.push_back(std::move(op));
      return;
    }
  }
  const absl::Status closing = absl::UnavailableError("submission store is closing");
  if (op->is_lock) {
    op->lock_done(closing);
  } else {
    op->write_done(closing);
  }
}

void PostgresSubmissionStore::Write(WriteRequest request, WriteCallback done) {
  auto op = std::make_unique<Op>();
  op->write = std::move(request);
  op->write_done = std::move(done);
  Enqueue(std::move(op));
}

absl::StatusOr<v1::YearLock> PostgresSubmissionStore::SetYearLock(int year, bool locked,
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
  Enqueue(std::move(op));
  done.WaitForNotification();
  return result;
}

void PostgresSubmissionStore::CommitLoop() {
  while (true) {
    std::vector<std::unique_ptr<Op>> group;
    {
      absl::MutexLock lock(&queue_mu_);
      queue_mu_.Await(absl::Condition(
          +[](PostgresSubmissionStore* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->queue_mu_) {
            return !s->queue_.empty() || s->closing_;
          },
          this));
      if (queue_.empty()) {
        return;  // closing, and everything queued was committed
      }
      size_t values = 0, taken = 0;
      while (taken < queue_.size() &&
             (group.empty() ||
              values + queue_[taken]->size() <= static_cast<size_t>(options_.max_group_values))) {
        values += queue_[taken]->size();
        group.push_back(std::move(queue_[taken]));
        ++taken;
      }
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(taken));
    }
    CommitGroup(group);
  }
}

void PostgresSubmissionStore::CommitGroup(std::vector<std::unique_ptr<Op>>& ops) {
  std::vector<absl::StatusOr<v1::SubmitBatchResponse>> write_results(ops.size());
  std::vector<absl::StatusOr<v1::YearLock>> lock_results(ops.size());
  int64_t head = 0;
  absl::Status status;
  if (!writer_.ok()) {
    status = writer_.Reset();
    if (status.ok()) status = writer_.Exec("SET synchronous_commit = on");
  }
  if (status.ok()) {
    Group group(writer_, options_.clock->Now());
    status = postgres::InTransaction(writer_, [&]() -> absl::Status {
      // Every writer of every replica, one at a time, until COMMIT.
      HALFSKY_RETURN_IF_ERROR(
          writer_.Query("SELECT pg_advisory_xact_lock($1)", {Param::Int(kSubmissionWriteLockKey)})
              .status());
      if (options_.on_approvals) {
        HALFSKY_ASSIGN_OR_RETURN(
            const int64_t epoch,
            writer_.QueryInt("SELECT COALESCE(MAX(event_id), 0) FROM review_events"));
        if (epoch != review_epoch_) {
          HALFSKY_ASSIGN_OR_RETURN(
              Result forms,
              writer_.Query("SELECT unit_code, area_code, year FROM review_forms WHERE state = $1",
                            {Param::Int(v1::FORM_STATE_APPROVED)}));
          std::vector<v1::FormKey> approved(forms.rows());
          for (int i = 0; i < forms.rows(); ++i) {
            approved[i].set_unit_code(forms.Text(i, 0));
            approved[i].set_area_code(forms.Text(i, 1));
            approved[i].set_year(static_cast<int>(forms.Int(i, 2)));
          }
          options_.on_approvals(approved);
          review_epoch_ = epoch;
        }
      }
      HALFSKY_RETURN_IF_ERROR(group.Load(ops));
      for (size_t i = 0; i < ops.size(); ++i) {
        if (ops[i]->is_lock) {
          HALFSKY_RETURN_IF_ERROR(group.ApplyLock(*ops[i], &lock_results[i]));
        } else {
          group.ApplyWrite(ops[i]->write, &write_results[i]);
        }
      }
      HALFSKY_RETURN_IF_ERROR(group.Flush());
      head = group.head();
      return writer_.Query("SELECT pg_notify($1, $2)", {Param::Text(kChannel), Param::Int(head)})
          .status();
    });
  }
  if (status.ok()) {
    {
      absl::MutexLock lock(&head_mu_);
      ++commits_;
    }
    AdvanceHead(head);
  } else {
    review_epoch_ = -1;
    for (const auto& op : ops) {
      if (!op->is_lock && op->write.chain != nullptr) op->write.chain->Break();
    }
    std::cerr << "submission store (postgres): group commit failed: " << status << "\n";
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    Op& op = *ops[i];
    if (op.is_lock) {
      op.lock_done(status.ok() ? std::move(lock_results[i]) : status);
    } else {
      op.write_done(status.ok() ? std::move(write_results[i]) : status);
    }
  }
}

void PostgresSubmissionStore::AdvanceHead(int64_t head) {
  std::function<void(int64_t)> listener;
  {
    absl::MutexLock lock(&head_mu_);
    if (head <= head_) return;
    head_ = head;
    listener = listener_;
  }
  if (listener) listener(head);
}

void PostgresSubmissionStore::ListenLoop() {
  Connection::Options conn_options;
  conn_options.conninfo = options_.conninfo;
  conn_options.password = options_.password;
  conn_options.application_name = "halfsky-submission-listen";
  Connection conn;
  absl::Time next_poll = absl::InfinitePast();
  auto closing = [&] {
    absl::MutexLock lock(&head_mu_);
    return listen_closing_;
  };
  while (!closing()) {
    if (!conn.ok()) {
      absl::StatusOr<Connection> fresh = Connection::Open(conn_options);
      if (!fresh.ok() || !fresh->Exec(absl::StrCat("LISTEN ", kChannel)).ok()) {
        absl::SleepFor(absl::Milliseconds(200));
        continue;
      }
      conn = *std::move(fresh);
      next_poll = absl::InfinitePast();  // re-read the head after a reconnect
    }
    if (absl::Now() >= next_poll) {
      absl::StatusOr<int64_t> head = conn.QueryInt(
          "SELECT COALESCE(MAX(sequence), 0) FROM "
          "revisions");
      if (head.ok()) AdvanceHead(*head);
      next_poll = absl::Now() + options_.head_poll_interval;
    }
    pollfd pfd{conn.socket(), POLLIN, 0};
    ::poll(&pfd, 1, 100);
    absl::StatusOr<std::vector<std::string>> notes = conn.ConsumeNotifications();
    if (!notes.ok()) continue;  // reconnects
    for (const std::string& n : *notes) {
      int64_t head = 0;
      if (absl::SimpleAtoi(n, &head)) AdvanceHead(head);
    }
  }
}

int64_t PostgresSubmissionStore::HeadSequence() const {
  absl::MutexLock lock(&head_mu_);
  return head_;
}

int64_t PostgresSubmissionStore::commit_count() const {
  absl::MutexLock lock(&head_mu_);
  return commits_;
}

void PostgresSubmissionStore::SetCommitListener(std::function<void(int64_t head)> listener) {
  absl::MutexLock lock(&head_mu_);
  listener_ = std::move(listener);
}

// ---------------------------------------------------------------- reads

absl::StatusOr<YearLocks> PostgresSubmissionStore::ListYearLocks() {
  return readers_->With([](Connection& c) -> absl::StatusOr<YearLocks> {
    YearLocks out;
    HALFSKY_ASSIGN_OR_RETURN(
        Result cur,
        c.Query("SELECT year, locked, changed_by, changed_at_us, reason FROM year_locks ORDER BY "
                "year"));
    for (int i = 0; i < cur.rows(); ++i) out.current.push_back(LockFromRow(cur, i));
    HALFSKY_ASSIGN_OR_RETURN(Result hist,
                             c.Query("SELECT year, locked, changed_by, changed_at_us, reason FROM "
                                     "year_lock_history ORDER BY id"));
    for (int i = 0; i < hist.rows(); ++i) out.history.push_back(LockFromRow(hist, i));
    return out;
  });
}

absl::StatusOr<CurrentPage> PostgresSubmissionStore::ListCurrent(const CurrentFilter& filter,
                                                                 int64_t cursor, int limit) {
  limit = std::max(1, limit);
  std::string sql = absl::StrCat("SELECT k.key_id, k.unit_code, ", kRevisionColumns,
                                 kCurrentRevisionJoin, " WHERE k.key_id > $1 AND NOT r.withdrawn");
  std::vector<Param> params = {Param::Int(cursor)};
  if (!filter.indicator_ids.empty()) {
    ArrayParam a;
    for (const auto& id : filter.indicator_ids) a.AddText(id);
    params.push_back(a.Build());
    absl::StrAppend(&sql, " AND k.indicator_id = ANY($", params.size(), "::text[])");
  }
  if (!filter.area_codes.empty()) {
    ArrayParam a;
    for (const auto& code : filter.area_codes) a.AddText(code);
    params.push_back(a.Build());
    absl::StrAppend(&sql, " AND k.area_code = ANY($", params.size(), "::text[])");
  }
  if (!filter.years.empty()) {
    ArrayParam a;
    for (int y : filter.years) a.AddInt(y);
    params.push_back(a.Build());
    absl::StrAppend(&sql, " AND k.year = ANY($", params.size(), "::int[])");
  }
  if (!filter.unit_code.empty()) {
    params.push_back(Param::Text(filter.unit_code));
    absl::StrAppend(&sql, " AND (r.unit_code = $", params.size(), " OR k.unit_code = $",
                    params.size(), ")");
  }
  params.push_back(Param::Int(int64_t{limit} + 1));
  absl::StrAppend(&sql, " ORDER BY k.key_id LIMIT $", params.size());
  return readers_->With([&](Connection& c) -> absl::StatusOr<CurrentPage> {
    HALFSKY_ASSIGN_OR_RETURN(Result r, c.Query(sql, params));
    CurrentPage page;
    int64_t last_key = 0;
    for (int i = 0; i < r.rows(); ++i) {
      if (static_cast<int>(page.revisions.size()) == limit) {
        page.next_cursor = last_key;
        break;
      }
      last_key = r.Int(i, 0);
      HALFSKY_ASSIGN_OR_RETURN(v1::Revision rev, RevisionFromRow(r, i, 2));
      SetKeyUnit(r.View(i, 1), &rev);
      page.revisions.push_back(std::move(rev));
    }
    return page;
  });
}

absl::StatusOr<std::vector<v1::Revision>> PostgresSubmissionStore::History(const v1::DataKey& key) {
  return readers_->With([&](Connection& c) -> absl::StatusOr<std::vector<v1::Revision>> {
    HALFSKY_ASSIGN_OR_RETURN(
        Result r,
        c.Query(absl::StrCat(
                    "WITH RECURSIVE chain(seq) AS ("
                    "SELECT h.sequence FROM data_keys k JOIN key_heads h ON h.key_id = k.key_id "
                    "WHERE k.indicator_id = $1 AND k.area_code = $2 AND k.year = $3 AND "
                    "k.sex = $4 AND k.residence = $5 AND k.unit_code = $6 "
                    "UNION ALL SELECT p.prev_sequence FROM revisions p JOIN chain c ON "
                    "p.sequence = c.seq WHERE p.prev_sequence > 0) SELECT ",
                    kRevisionColumns,
                    " FROM chain c JOIN revisions r ON r.sequence = c.seq ORDER BY r.revision"),
                {Param::Text(key.indicator_id()), Param::Text(key.area_code()),
                 Param::Int(key.year()), Param::Int(static_cast<int>(key.sex())),
                 Param::Int(static_cast<int>(key.residence())), Param::Text(key.unit_code())}));
    std::vector<v1::Revision> out;
    for (int i = 0; i < r.rows(); ++i) {
      HALFSKY_ASSIGN_OR_RETURN(v1::Revision rev, RevisionFromRow(r, i, 0));
      SetKeyUnit(key.unit_code(), &rev);
      out.push_back(std::move(rev));
    }
    return out;
  });
}

absl::StatusOr<std::vector<v1::Revision>> PostgresSubmissionStore::ReadChanges(
    int64_t after_sequence, int limit) {
  return readers_->With([&](Connection& c) -> absl::StatusOr<std::vector<v1::Revision>> {
    HALFSKY_ASSIGN_OR_RETURN(
        Result r, c.Query(absl::StrCat("SELECT ", kRevisionColumns,
                                       ", k.unit_code FROM revisions r JOIN data_keys k ON "
                                       "k.key_id = r.key_id WHERE r.sequence > $1 ORDER BY "
                                       "r.sequence LIMIT $2"),
                          {Param::Int(after_sequence), Param::Int(std::max(1, limit))}));
    std::vector<v1::Revision> out;
    for (int i = 0; i < r.rows(); ++i) {
      HALFSKY_ASSIGN_OR_RETURN(v1::Revision rev, RevisionFromRow(r, i, 0));
      SetKeyUnit(r.View(i, kRevisionColumnCount), &rev);
      out.push_back(std::move(rev));
    }
    return out;
  });
}

absl::StatusOr<std::vector<ReportingTimes>> PostgresSubmissionStore::ListReportingTimes(int year) {
  return readers_->With([&](Connection& c) -> absl::StatusOr<std::vector<ReportingTimes>> {
    HALFSKY_ASSIGN_OR_RETURN(Result r,
                             c.Query("SELECT unit_code, indicator_id, first_at_us, last_at_us FROM "
                                     "reporting_times WHERE year = $1",
                                     {Param::Int(year)}));
    std::vector<ReportingTimes> out;
    for (int i = 0; i < r.rows(); ++i) {
      ReportingTimes t;
      t.unit_code = r.Text(i, 0);
      t.indicator_id = r.Text(i, 1);
      t.year = year;
      t.first_at = absl::FromUnixMicros(r.Int(i, 2));
      t.last_at = absl::FromUnixMicros(r.Int(i, 3));
      out.push_back(std::move(t));
    }
    return out;
  });
}

}  // namespace halfsky::submission
