#ifndef HALFSKY_SERVICES_SUBMISSION_POSTGRES_REVIEW_STORE_H_
#define HALFSKY_SERVICES_SUBMISSION_POSTGRES_REVIEW_STORE_H_

// ReviewStore on the PostgreSQL submission database (tables review_forms and
// review_events of postgres_store.cc's schema), through its own
// connection. A transition takes the submission write lock
// (kSubmissionWriteLockKey) for its transaction, so it is ordered with every
// replica's write groups: a group that starts after an approval committed
// sees it (PostgresSubmissionStore::Options::on_approvals) and refuses the
// form's values.
// Thread-safety: thread-safe (one connection behind a mutex, re-opened when
// broken).

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/postgres/postgres.h"
#include "services/submission/review_store.h"

namespace halfsky::submission {

class PostgresReviewStore final : public ReviewStore {
 public:
  // Connects to a database the submission store has migrated (open that
  // first). Errors: as postgres::Connection::Open.
  static absl::StatusOr<std::unique_ptr<PostgresReviewStore>> Open(
      const postgres::Connection::Options& options);

  absl::StatusOr<halfsky::v1::Form> GetForm(const halfsky::v1::FormKey& key) override;
  absl::StatusOr<halfsky::v1::Form> Transition(const halfsky::v1::FormEvent& event) override;
  absl::StatusOr<std::vector<halfsky::v1::Form>> ListForms(int year, const std::string& unit_code,
                                                           halfsky::v1::FormState state) override;
  absl::StatusOr<std::vector<halfsky::v1::FormEvent>> History(
      const halfsky::v1::FormKey& key) override;
  // Not implemented for PostgreSQL yet (the form-change feed exists only in
  // the SQLite review store): UNIMPLEMENTED; the listener is never called.
  absl::StatusOr<std::vector<halfsky::v1::FormChange>> ReadFormChanges(int64_t after_sequence,
                                                                       int limit) override;
  absl::StatusOr<int64_t> HeadFormSequence() override;
  void SetTransitionListener(std::function<void(int64_t head)> listener) override;

 private:
  PostgresReviewStore(postgres::Connection::Options options, postgres::Connection conn)
      : options_(std::move(options)), conn_(std::move(conn)) {}
  absl::Status EnsureConnected() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<halfsky::v1::Form> GetLocked(const halfsky::v1::FormKey& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const postgres::Connection::Options options_;
  absl::Mutex mu_;
  postgres::Connection conn_ ABSL_GUARDED_BY(mu_);
};

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_POSTGRES_REVIEW_STORE_H_
