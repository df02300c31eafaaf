#ifndef HALFSKY_SERVICES_SUBMISSION_SQLITE_STORE_H_
#define HALFSKY_SERVICES_SUBMISSION_SQLITE_STORE_H_

// SubmissionStore on an embedded SQLite file.
//
// Durability: WAL journal, synchronous=FULL; a reply is given only after
// COMMIT returned (the WAL is fsynced).
//
// Group commit: Write() enqueues. One committer thread takes everything
// queued (up to Options::max_group_values values) into one transaction and
// commits once (one fsync); then every request's callback gets its own
// result, in queue order (on which thread: see below). Throughput therefore
// grows with concurrency instead of with weaker durability.
//
// Within a group, each request is first checked against in-memory state
// (idempotency: the requests table and the group's own pending requests;
// year locks; each key's current revision, from the key directory) and
// only then turns into buffered rows, so a request refused for a logical
// reason (reused request id, locked year) writes nothing and does not
// disturb the others, without a per-request SAVEPOINT. The group's rows are
// written at the end in multi-row INSERTs through cached prepared
// statements: revisions in sequence order, rows of keys seen for the first
// time, key heads, reporting times once per (year, unit, indicator),
// stored replies. A storage failure
// (I/O error, disk full) anywhere in the group rolls the whole group back
// and fails every request in it (UNAVAILABLE/INTERNAL): nothing of it is
// committed, and the key directory is reloaded from the database.
//
// Reads use a small pool of separate connections (WAL lets them read the
// last committed state while the committer writes).
//
// Off the committer thread, so that it spends its time on the next group:
// - callbacks run, in commit order, on a completion thread, which also
//   destroys the group's requests (a 1 000-value request is thousands of
//   frees); a group of at most Options::inline_completion_values values
//   with nothing queued before it is answered on the committer itself;
// - WAL checkpoints run on a checkpointer thread with its own connection
//   (PASSIVE: they never block the committer) once the WAL holds
//   Options::checkpoint_pages pages. Only if the WAL still reaches
//   Options::max_wal_pages (the checkpointer cannot keep up, or a reader
//   pins an old snapshot) does the committer itself run a blocking RESTART
//   checkpoint after its commit, which bounds the WAL file.
//
// Schema (version 5): data_keys (one write-once row per key; a key is
// (indicator, area, year, sex, residence, unit_code), unit_code naming the
// unit whose narrative it is, '' for figures), revisions
// (append-only, by sequence; each names its key's previous revision, so a
// key's history is a chain), key_heads (each key's current revision,
// rewritten in place), requests (idempotency and stored replies),
// year_locks and their history, reporting_times. Version 5 added
// revisions.withdrawn and revisions.change_reason (withdrawals, reasons for
// change).
//
// A full disk (SQLITE_FULL: no space, or the file size limit) fails the
// group with RESOURCE_EXHAUSTED, reason STORAGE_FULL.
//
// Schema: versioned migrations (schema_version table, migrations applied in
// order at Open, each in its own transaction). A database written by a newer
// version of this code is refused (FAILED_PRECONDITION).

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/clock/clock.h"
#include "services/submission/store.h"

struct sqlite3;

namespace halfsky::submission {

class SqliteSubmissionStore final : public SubmissionStore {
 public:
  struct Options {
    // File path; parent directory must exist. Created if missing.
    std::string path;
    // Source of committed_at; not owned, must outlive the store.
    Clock* clock = nullptr;
    int read_connections = 4;
    // A group stops growing once it holds this many values (bounds
    // transaction size and latency); a single larger request still commits.
    int max_group_values = 50000;
    // WAL size (pages) at which the checkpointer thread copies the WAL
    // into the database (PASSIVE checkpoint).
    int checkpoint_pages = 4000;
    // WAL size (pages) at which the committer runs a blocking RESTART
    // checkpoint itself after a commit, so that the WAL file cannot grow
    // without bound under a write load that never pauses.
    int max_wal_pages = 65536;
    // A group of at most this many values is answered on the committer
    // itself when no earlier group waits for the completion thread.
    int inline_completion_values = 256;
  };

  // Opens (creating and migrating as needed). Errors: INTERNAL/UNAVAILABLE
  // when the file cannot be opened or migrated, FAILED_PRECONDITION when the
  // schema is newer than this code.
  static absl::StatusOr<std::unique_ptr<SqliteSubmissionStore>> Open(const Options& options);

  // Commits what is queued, stops the committer, closes connections.
  ~SqliteSubmissionStore() override;

  // The newest schema version this code knows.
  static int LatestSchemaVersion();

  void Write(WriteRequest request, WriteCallback done) override;
  absl::StatusOr<halfsky::v1::YearLock> SetYearLock(int year, bool locked,
                                                    const std::string& principal,
                                                    const std::string& reason) override;
  absl::StatusOr<YearLocks> ListYearLocks() override;
  absl::StatusOr<CurrentPage> ListCurrent(const CurrentFilter& filter, int64_t cursor,
                                          int limit) override;
  absl::StatusOr<std::vector<halfsky::v1::Revision>> History(
      const halfsky::v1::DataKey& key) override;
  absl::StatusOr<std::vector<halfsky::v1::Revision>> ReadChanges(int64_t after_sequence,
                                                                 int limit) override;
  int64_t HeadSequence() const override;
  void SetCommitListener(std::function<void(int64_t head)> listener) override;
  absl::StatusOr<std::vector<ReportingTimes>> ListReportingTimes(int year) override;

  // Number of group commits so far (tests and metrics).
  int64_t commit_count() const;

 private:
  struct Op;
  struct Completion;
  struct WriterStatements;
  struct PendingRequest;
  struct RevisionRow;
  class ReadConnection;

  // Committer-only directory of every key's current state, including the
  // changes of the group in flight. Loaded whole at Open (so a key not in
  // it is new and needs no lookup query), dropped and reloaded when a group
  // fails. If a reload fails, the directory is incomplete and keys missing
  // from it are looked up one by one until a later reload succeeds. Memory
  // is bounded by the number of distinct keys, which the catalog bounds
  // (indicators x areas x years x 3 sexes x 3 residences): about 60 bytes
  // per key plus its current value.
  struct KeyState {
    int64_t key_id = 0;
    // 0: the key has no revision (and no data_keys row) yet.
    int64_t revision = 0;
    // Sequence of the current revision (0 when none).
    int64_t sequence = 0;
    // Deterministic serialization of the current DataValue.
    std::string encoded;
    // The current revision is a withdrawal (the key has no value).
    bool withdrawn = false;
  };
  // A key's key_heads row as the group in flight leaves it.
  struct KeyHead {
    int64_t key_id;
    int64_t revision;
    int64_t sequence;
  };
  // A key the group in flight creates: its data_keys row, inserted at the
  // group's end (`key` points into the group's request).
  struct NewKey {
    int64_t key_id;
    const halfsky::v1::DataKey* key;
  };

  explicit SqliteSubmissionStore(const Options& options);
  absl::Status Init();
  void CommitLoop();
  // Completion thread: runs the callbacks of committed groups in order.
  void CompletionLoop();
  // Checkpointer thread: PASSIVE checkpoints when the WAL is large.
  void CheckpointLoop();
  // sqlite3_wal_hook on the writer, after every commit (committer thread).
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int pages);
  void CommitGroup(std::vector<std::unique_ptr<Op>>& group);
  // Applies one request to the group in flight. The return value is a
  // storage failure (fails the whole group); `result` gets the request's
  // own outcome (OK, DEADLINE_EXCEEDED, ABORTED, ALREADY_EXISTS,
  // FAILED_PRECONDITION, NOT_FOUND). A request that does not succeed breaks
  // its chain.
  absl::Status ApplyWrite(WriteRequest& request, absl::Time now,
                          const absl::flat_hash_map<int, bool>& locks,
                          absl::StatusOr<halfsky::v1::SubmitBatchResponse>* result);
  absl::Status ApplyAcceptedWrite(WriteRequest& request, absl::Time now,
                                  const absl::flat_hash_map<int, bool>& locks,
                                  absl::StatusOr<halfsky::v1::SubmitBatchResponse>* result);
  // The directory entry of `key` (created with revision 0 for a key without
  // one; looked up in the database when the directory is incomplete).
  absl::StatusOr<KeyState*> FindKeyState(const halfsky::v1::DataKey& key);
  absl::Status ApplyLock(const Op& op, absl::Time now, absl::flat_hash_map<int, bool>& locks,
                         absl::StatusOr<halfsky::v1::YearLock>* result);
  // Writes the group's buffered rows.
  absl::Status FlushGroup(int64_t now_us);
  void ClearGroupBuffers();
  // Fills `current_` with every committed key (see KeyState).
  absl::Status LoadKeyDirectory();
  // The directory's key of a data key: the interned (indicator, unit) pair
  // (unit "" for every figure), interned area, year, sex and residence
  // packed in 64 bits (committer thread only). RESOURCE_EXHAUSTED once more
  // than 2^20 (indicator, unit) pairs or areas were seen (the packing would
  // alias keys; catalogs have hundreds).
  absl::StatusOr<uint64_t> DirectoryKey(absl::string_view indicator_id, absl::string_view unit_code,
                                        absl::string_view area_code, int64_t year, int64_t sex,
                                        int64_t residence);
  std::unique_ptr<ReadConnection> AcquireReader();
  void ReleaseReader(std::unique_ptr<ReadConnection> reader);

  const Options options_;

  // Writer connection, statements and group state: used by the committer
  // thread only (and by Init before it starts).
  sqlite3* writer_ = nullptr;
  std::unique_ptr<WriterStatements> stmts_;
  int64_t next_sequence_ = 1;
  int64_t next_key_id_ = 1;
  absl::flat_hash_map<int, bool> locked_years_;  // committed state
  // Key directory, by DirectoryKey().
  absl::flat_hash_map<uint64_t, KeyState> current_;
  // Interned names of DirectoryKey() (bounded by the catalog; never shrink).
  // Indicators and (indicator, unit) pairs of narratives share one slot
  // space: indicator_ids_ gives an indicator's slot (that of its figures),
  // narrative_slots_ maps (indicator slot << 32 | interned unit) to the
  // slot of that unit's narratives.
  absl::flat_hash_map<std::string, uint32_t> indicator_ids_;
  absl::flat_hash_map<std::string, uint32_t> unit_ids_;
  absl::flat_hash_map<uint64_t, uint32_t> narrative_slots_;
  uint32_t next_indicator_slot_ = 0;
  absl::flat_hash_map<std::string, uint32_t> area_ids_;
  // True when `current_` holds every committed key.
  bool key_directory_complete_ = false;
  std::vector<NewKey> new_keys_;
  // key_heads rows the group writes (one per key), and where each key's is.
  std::vector<KeyHead> heads_;
  absl::flat_hash_map<int64_t, size_t> head_index_;
  std::vector<RevisionRow> revision_rows_;
  std::vector<PendingRequest> pending_requests_;
  absl::flat_hash_map<std::pair<absl::string_view, absl::string_view>, size_t> pending_index_;
  absl::flat_hash_set<std::tuple<int, absl::string_view, absl::string_view>> reported_;
  // UNCHANGED writes by a unit: they report the figure too (a second
  // responsible unit confirming it), recorded only if the unit had not
  // reported it yet (last_at does not move).
  absl::flat_hash_set<std::tuple<int, absl::string_view, absl::string_view>> confirmed_;

  mutable absl::Mutex queue_mu_;
  absl::CondVar queue_cv_;
  std::deque<std::unique_ptr<Op>> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool closing_ ABSL_GUARDED_BY(queue_mu_) = false;

  mutable absl::Mutex head_mu_;
  int64_t head_ ABSL_GUARDED_BY(head_mu_) = 0;
  int64_t commits_ ABSL_GUARDED_BY(head_mu_) = 0;
  std::function<void(int64_t)> listener_ ABSL_GUARDED_BY(head_mu_);

  absl::Mutex readers_mu_;
  std::vector<std::unique_ptr<ReadConnection>> readers_ ABSL_GUARDED_BY(readers_mu_);

  // Groups whose callbacks are due, in commit order.
  mutable absl::Mutex completion_mu_;
  std::deque<std::unique_ptr<Completion>> completions_ ABSL_GUARDED_BY(completion_mu_);
  bool completion_closing_ ABSL_GUARDED_BY(completion_mu_) = false;
  // Completions queued or being delivered by the completion thread.
  int completions_pending_ ABSL_GUARDED_BY(completion_mu_) = 0;

  sqlite3* checkpointer_db_ = nullptr;  // checkpointer thread only
  absl::Mutex checkpoint_mu_;
  bool checkpoint_wanted_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  bool checkpoint_closing_ ABSL_GUARDED_BY(checkpoint_mu_) = false;

  std::thread committer_;
  std::thread completer_;
  std::thread checkpointer_;
};

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_SQLITE_STORE_H_
