#ifndef HALFSKY_SERVICES_SUBMISSION_SQLITE_REVIEW_STORE_H_
#define HALFSKY_SERVICES_SUBMISSION_SQLITE_REVIEW_STORE_H_

// ReviewStore on the submission database (tables review_forms and
// review_events, migration 6 of sqlite_schema.cc), through its own
// connection (common/sqlite; WAL, so reads never wait for the committer,
// and a transition waits at most the busy timeout for its write lock).
// Thread-safety: thread-safe (one connection behind a mutex).

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/sqlite/sqlite.h"
#include "services/submission/review_store.h"

namespace halfsky::submission {

class SqliteReviewStore final : public ReviewStore {
 public:
  // Opens `path` (created and migrated as the submission store would).
  // Errors: as SqliteSubmissionStore::Open.
  static absl::StatusOr<std::unique_ptr<SqliteReviewStore>> Open(const std::string& path);

  absl::StatusOr<halfsky::v1::Form> GetForm(const halfsky::v1::FormKey& key) override;
  absl::StatusOr<halfsky::v1::Form> Transition(const halfsky::v1::FormEvent& event) override;
  absl::StatusOr<std::vector<halfsky::v1::Form>> ListForms(int year, const std::string& unit_code,
                                                           halfsky::v1::FormState state) override;
  absl::StatusOr<std::vector<halfsky::v1::FormEvent>> History(
      const halfsky::v1::FormKey& key) override;
  absl::StatusOr<std::vector<halfsky::v1::FormChange>> ReadFormChanges(int64_t after_sequence,
                                                                       int limit) override;
  absl::StatusOr<int64_t> HeadFormSequence() override;
  void SetTransitionListener(std::function<void(int64_t head)> listener) override;

 private:
  explicit SqliteReviewStore(sqlite::Database db) : db_(std::move(db)) {}
  absl::StatusOr<halfsky::v1::Form> GetLocked(const halfsky::v1::FormKey& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  sqlite::Database db_ ABSL_GUARDED_BY(mu_);
  absl::Mutex listener_mu_;
  std::function<void(int64_t)> listener_ ABSL_GUARDED_BY(listener_mu_);
};

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_SQLITE_REVIEW_STORE_H_
