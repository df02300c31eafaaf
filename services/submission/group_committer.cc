#include "services/submission/group_committer.h"

#include <sqlite3.h>

#include <algorithm>
#include <iostream>
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
#include "services/submission/sqlite_schema.h"

namespace halfsky::submission {

namespace v1 = ::halfsky::v1;

namespace {

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

struct GroupCommitter::Op {
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
struct GroupCommitter::Completion {
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
struct GroupCommitter::RevisionRow {
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
struct GroupCommitter::PendingRequest {
  absl::string_view principal;
  absl::string_view request_id;
  absl::string_view payload_hash;
  // Serialized reply without keys, as stored.
  std::string reply;
};

struct GroupCommitter::WriterStatements {
  sqlite::Statement select_request;
  sqlite::Statement select_lock;
  sqlite::Statement upsert_lock;
  sqlite::Statement insert_lock_history;
  sqlite::Statement begin;
  sqlite::Statement commit;
  sqlite::Statement rollback;
  // Multi-row INSERTs, prepared on first use for each row count
  // (index = rows, 1..kMaxRowsPerInsert).
  std::vector<std::unique_ptr<sqlite::Statement>> insert_revisions;
  std::vector<std::unique_ptr<sqlite::Statement>> upsert_heads;
  std::vector<std::unique_ptr<sqlite::Statement>> insert_keys;
  std::vector<std::unique_ptr<sqlite::Statement>> upsert_reporting;
  std::vector<std::unique_ptr<sqlite::Statement>> insert_reporting_if_new;
  std::vector<std::unique_ptr<sqlite::Statement>> insert_requests;
  // Drops a unit's reporting time a withdrawal leaves without a value.
  sqlite::Statement drop_reporting;
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
absl::Status InsertRows(sqlite3* db, std::vector<std::unique_ptr<sqlite::Statement>>& cache,
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
    std::unique_ptr<sqlite::Statement>& stmt = cache[rows];
    if (stmt == nullptr) {
      auto fresh = std::make_unique<sqlite::Statement>();
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

GroupCommitter::GroupCommitter(sqlite::Database writer, const Options& options)
    : options_(options), writer_(std::move(writer)), keys_(&writer_) {}

absl::StatusOr<std::unique_ptr<GroupCommitter>> GroupCommitter::Start(sqlite::Database writer,
                                                                      const Options& options) {
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("GroupCommitter: clock is required");
  }
  std::unique_ptr<GroupCommitter> committer(new GroupCommitter(std::move(writer), options));
  HALFSKY_RETURN_IF_ERROR(committer->Init());
  committer->completer_ = std::thread([c = committer.get()] { c->CompletionLoop(); });
  committer->checkpointer_ = std::thread([c = committer.get()] { c->CheckpointLoop(); });
  committer->committer_ = std::thread([c = committer.get()] { c->CommitLoop(); });
  return committer;
}

absl::Status GroupCommitter::Init() {
  stmts_ = std::make_unique<WriterStatements>();
  WriterStatements& w = *stmts_;
  HALFSKY_RETURN_IF_ERROR(w.select_request.Prepare(
      writer_, "SELECT payload_hash, reply FROM requests WHERE principal = ?1 AND request_id = ?2",
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
    sqlite::Statement s;
    HALFSKY_RETURN_IF_ERROR(s.Prepare(writer_, "SELECT COALESCE(MAX(sequence), 0) FROM revisions"));
    HALFSKY_ASSIGN_OR_RETURN(int step, s.Step());
    const int64_t head = step == SQLITE_ROW ? s.Int(0) : 0;
    next_sequence_ = head + 1;
    sqlite::Statement k;
    HALFSKY_RETURN_IF_ERROR(k.Prepare(writer_, "SELECT COALESCE(MAX(key_id), 0) FROM data_keys"));
    HALFSKY_ASSIGN_OR_RETURN(int kstep, k.Step());
    next_key_id_ = (kstep == SQLITE_ROW ? k.Int(0) : 0) + 1;
    absl::MutexLock lock(&head_mu_);
    head_ = head;
  }
  HALFSKY_RETURN_IF_ERROR(keys_.Load());
  {
    sqlite::Statement s;
    HALFSKY_RETURN_IF_ERROR(s.Prepare(writer_, "SELECT year, locked FROM year_locks"));
    while (true) {
      HALFSKY_ASSIGN_OR_RETURN(int step, s.Step());
      if (step != SQLITE_ROW) {
        break;
      }
      locked_years_[static_cast<int>(s.Int(0))] = s.Int(1) != 0;
    }
  }

  sqlite::Database::Options checkpointer_options;
  checkpointer_options.create = false;
  HALFSKY_ASSIGN_OR_RETURN(checkpointer_db_,
                           sqlite::Database::Open(writer_.path(), checkpointer_options));
  // A connection that has not read the database yet does not know it is in
  // WAL mode, and its checkpoints would silently do nothing.
  HALFSKY_RETURN_IF_ERROR(checkpointer_db_.Exec("PRAGMA journal_mode=WAL"));
  // Replaces SQLite's automatic checkpoint on the writer.
  sqlite3_wal_hook(writer_.get(), &GroupCommitter::OnWalCommit, this);

  return absl::OkStatus();
}

GroupCommitter::~GroupCommitter() {
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
  checkpointer_db_.Close();
  stmts_.reset();
  writer_.Close();
}

void GroupCommitter::Write(WriteRequest request, WriteCallback done) {
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

absl::StatusOr<v1::YearLock> GroupCommitter::SetYearLock(int year, bool locked,
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

void GroupCommitter::CommitLoop() {
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

int GroupCommitter::OnWalCommit(void* self, sqlite3* db, const char* name, int pages) {
  auto* store = static_cast<GroupCommitter*>(self);
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

void GroupCommitter::CheckpointLoop() {
  while (true) {
    {
      absl::MutexLock lock(&checkpoint_mu_);
      checkpoint_mu_.Await(absl::Condition(
          +[](GroupCommitter* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->checkpoint_mu_) {
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
    const int rc = sqlite3_wal_checkpoint_v2(checkpointer_db_.get(), nullptr,
                                             SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      std::cerr << "submission store: checkpoint failed: " << sqlite3_errmsg(checkpointer_db_.get())
                << "\n";
    }
  }
}

void GroupCommitter::CompletionLoop() {
  while (true) {
    std::unique_ptr<Completion> done;
    {
      absl::MutexLock lock(&completion_mu_);
      completion_mu_.Await(absl::Condition(
          +[](GroupCommitter* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->completion_mu_) {
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

void GroupCommitter::ClearGroupBuffers() {
  new_keys_.clear();
  heads_.clear();
  head_index_.clear();
  revision_rows_.clear();
  pending_requests_.clear();
  pending_index_.clear();
  reported_.clear();
  confirmed_.clear();
}

void GroupCommitter::CommitGroup(std::vector<std::unique_ptr<Op>>& group) {
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
    if (absl::Status reload = keys_.Load(); !reload.ok()) {
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

absl::Status GroupCommitter::ApplyWrite(WriteRequest& request, absl::Time now,
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
  } else if (absl::Status refused =
                 request.precondition ? request.precondition(request) : absl::OkStatus();
             !refused.ok()) {
    *result = std::move(refused);
  } else {
    storage = ApplyAcceptedWrite(request, now, locks, result);
  }
  if ((!storage.ok() || !result->ok()) && request.chain != nullptr) {
    request.chain->Break();
  }
  return storage;
}

absl::Status GroupCommitter::ApplyAcceptedWrite(WriteRequest& request, absl::Time now,
                                                const absl::flat_hash_map<int, bool>& locks,
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
    HALFSKY_ASSIGN_OR_RETURN(KeyState * state, keys_.Find(v.value.key()));
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
    HALFSKY_ASSIGN_OR_RETURN(KeyState * state, keys_.Find(key));
    const KeyDirectory::ValueDigest digest = KeyDirectory::Digest(v.encoded);
    if (v.withdraw ? state->withdrawn
                   : (state->revision > 0 && !state->withdrawn && state->digest == digest)) {
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
    state->digest = digest;
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

absl::Status GroupCommitter::FlushGroup(int64_t now_us) {
  WriterStatements& w = *stmts_;
  // Revisions in sequence order (appends to the table's B-tree).
  HALFSKY_RETURN_IF_ERROR(
      InsertRows(writer_.get(), w.insert_revisions,
                 "INSERT INTO revisions(sequence, key_id, revision, prev_sequence, data_value, "
                 "submitted_by, unit_code, committed_at_us, request_id, withdrawn, "
                 "change_reason)",
                 "", 11, revision_rows_.size(), [&](sqlite::Statement& s, int p, size_t i) {
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
      InsertRows(writer_.get(), w.upsert_heads, "INSERT INTO key_heads(key_id, revision, sequence)",
                 " ON CONFLICT(key_id) DO UPDATE SET revision = excluded.revision, "
                 "sequence = excluded.sequence",
                 3, heads_.size(), [&](sqlite::Statement& s, int p, size_t i) {
                   s.Bind(p, heads_[i].key_id);
                   s.Bind(p + 1, heads_[i].revision);
                   s.Bind(p + 2, heads_[i].sequence);
                 }));
  // Keys created by the group (a key's row never changes afterwards).
  HALFSKY_RETURN_IF_ERROR(
      InsertRows(writer_.get(), w.insert_keys,
                 "INSERT INTO data_keys(key_id, indicator_id, area_code, year, sex, residence, "
                 "unit_code)",
                 "", 7, new_keys_.size(), [&](sqlite::Statement& s, int p, size_t i) {
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
    return [&rows, now_us](sqlite::Statement& s, int p, size_t i) {
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
      writer_.get(), w.upsert_reporting,
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
      writer_.get(), w.insert_reporting_if_new,
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
  return InsertRows(writer_.get(), w.insert_requests,
                    "INSERT INTO requests(principal, request_id, payload_hash, reply, "
                    "committed_at_us)",
                    "", 5, pending_requests_.size(), [&](sqlite::Statement& s, int p, size_t i) {
                      const PendingRequest& r = pending_requests_[i];
                      s.Bind(p, r.principal);
                      s.Bind(p + 1, r.request_id);
                      s.BindBlob(p + 2, r.payload_hash);
                      s.BindBlob(p + 3, r.reply);
                      s.Bind(p + 4, now_us);
                    });
}

absl::Status GroupCommitter::ApplyLock(const Op& op, absl::Time now,
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
  for (sqlite::Statement* s : {&w.upsert_lock, &w.insert_lock_history}) {
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

int64_t GroupCommitter::HeadSequence() const {
  absl::MutexLock lock(&head_mu_);
  return head_;
}

int64_t GroupCommitter::commit_count() const {
  absl::MutexLock lock(&head_mu_);
  return commits_;
}

void GroupCommitter::SetCommitListener(std::function<void(int64_t head)> listener) {
  absl::MutexLock lock(&head_mu_);
  listener_ = std::move(listener);
}

}  // namespace halfsky::submission
