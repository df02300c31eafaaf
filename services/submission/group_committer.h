#ifndef HALFSKY_SERVICES_SUBMISSION_GROUP_COMMITTER_H_
#define HALFSKY_SERVICES_SUBMISSION_GROUP_COMMITTER_H_

// The write side of the SQLite submission store: one committer thread that
// turns queued writes and year-lock changes into group commits on the one
// writer connection.
//
// Group commit: Write() enqueues. The committer takes everything queued (up
// to Options::max_group_values values) into one transaction (BEGIN
// IMMEDIATE) and commits once (one fsync: WAL, synchronous=FULL); only then
// does every request's callback get its own result, in queue order.
//
// Within a group, each request is first checked against in-memory state
// (idempotency: the requests table and the group's own pending requests;
// year locks; each key's current revision, from the KeyDirectory) and only
// then turns into buffered rows, so a request refused for a logical reason
// (reused request id, locked year) writes nothing and does not disturb the
// others, without a per-request SAVEPOINT. The group's rows are written at
// the end in multi-row INSERTs through cached prepared statements:
// revisions in sequence order, rows of keys seen for the first time, key
// heads, reporting times once per (year, unit, indicator), stored replies.
// A storage failure (I/O error, busy, disk full) anywhere in the group
// rolls the whole group back and fails every request in it with the mapped
// status (common/sqlite: UNAVAILABLE, RESOURCE_EXHAUSTED reason
// STORAGE_FULL, INTERNAL, ...): nothing of it is committed, and the key
// directory is reloaded from the database.
//
// Off the committer thread, so that it spends its time on the next group:
// - callbacks run, in commit order, on a completion thread, which also
//   destroys the group's requests; a group of at most
//   Options::inline_completion_values values with nothing queued before it
//   is answered on the committer itself;
// - WAL checkpoints run on a checkpointer thread with its own connection
//   (PASSIVE: they never block the committer) once the WAL holds
//   Options::checkpoint_pages pages. Only if the WAL still reaches
//   Options::max_wal_pages does the committer itself run a blocking
//   RESTART checkpoint after its commit, which bounds the WAL file.
//
// Thread-safety: thread-safe. Destruction commits what is queued, then
// stops the threads and closes the connections.

#include <cstdint>
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
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/clock/clock.h"
#include "common/sqlite/sqlite.h"
#include "services/submission/key_directory.h"
#include "services/submission/store.h"

namespace halfsky::submission {

class GroupCommitter {
 public:
  struct Options {
    // Source of committed_at; not owned, must outlive the committer.
    Clock* clock = nullptr;
    // See SqliteSubmissionStore::Options.
    int max_group_values = 50000;
    int checkpoint_pages = 4000;
    int max_wal_pages = 65536;
    int inline_completion_values = 256;
  };

  // Takes `writer`, a connection to a migrated submission database (WAL,
  // synchronous=FULL), loads the committed state (head sequence, key
  // directory, year locks), opens the checkpointer's own connection and
  // starts the threads. Errors: the mapped SQLite status.
  static absl::StatusOr<std::unique_ptr<GroupCommitter>> Start(sqlite::Database writer,
                                                               const Options& options);
  ~GroupCommitter();

  // As SubmissionStore::Write / SetYearLock / HeadSequence /
  // SetCommitListener (store.h).
  void Write(WriteRequest request, WriteCallback done);
  absl::StatusOr<halfsky::v1::YearLock> SetYearLock(int year, bool locked,
                                                    const std::string& principal,
                                                    const std::string& reason);
  int64_t HeadSequence() const;
  void SetCommitListener(std::function<void(int64_t head)> listener);
  // Number of group commits so far.
  int64_t commit_count() const;

 private:
  struct Op;
  struct Completion;
  struct WriterStatements;
  struct PendingRequest;
  struct RevisionRow;
  using KeyState = KeyDirectory::KeyState;

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

  GroupCommitter(sqlite::Database writer, const Options& options);
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
  absl::Status ApplyLock(const Op& op, absl::Time now, absl::flat_hash_map<int, bool>& locks,
                         absl::StatusOr<halfsky::v1::YearLock>* result);
  // Writes the group's buffered rows.
  absl::Status FlushGroup(int64_t now_us);
  void ClearGroupBuffers();

  const Options options_;

  // Writer connection, statements and group state: used by the committer
  // thread only (and by Init before it starts).
  sqlite::Database writer_;
  std::unique_ptr<WriterStatements> stmts_;
  int64_t next_sequence_ = 1;
  int64_t next_key_id_ = 1;
  absl::flat_hash_map<int, bool> locked_years_;  // committed state
  KeyDirectory keys_;
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

  // Groups whose callbacks are due, in commit order.
  mutable absl::Mutex completion_mu_;
  std::deque<std::unique_ptr<Completion>> completions_ ABSL_GUARDED_BY(completion_mu_);
  bool completion_closing_ ABSL_GUARDED_BY(completion_mu_) = false;
  // Completions queued or being delivered by the completion thread.
  int completions_pending_ ABSL_GUARDED_BY(completion_mu_) = 0;

  sqlite::Database checkpointer_db_;  // checkpointer thread only
  absl::Mutex checkpoint_mu_;
  bool checkpoint_wanted_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  bool checkpoint_closing_ ABSL_GUARDED_BY(checkpoint_mu_) = false;

  std::thread committer_;
  std::thread completer_;
  std::thread checkpointer_;
};

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_GROUP_COMMITTER_H_
