#ifndef HALFSKY_SERVICES_SUBMISSION_REVIEW_SERVICE_H_
#define HALFSKY_SERVICES_SUBMISSION_REVIEW_SERVICE_H_

// halfsky.v1.ReviewService (protos/halfsky/v1/review.proto): the validation
// rules 逻辑审核 over the submission store's current values, and the review
// workflow of each (unit, area, year) form: 填报中 → 已报送 → 已退回 / 已审核,
// unlock by exception. Served by the submission process next to
// SubmissionService.
//
// Locking: ApprovedForms holds the approved forms in memory (loaded at
// start from the ReviewStore, changed by ApproveForm / UnlockForm). The
// submission service attaches ApprovedForms::CheckWrite to every write as
// WriteRequest::precondition, so the committer refuses a write of an
// approved form's values in the same serial order as every other write.
// A form covers the keys of the indicators its unit is responsible for (a
// figure shared by several responsible units is locked by any of their
// approved forms), at its area and year, every sex and residence, and the
// unit's own narratives there.
//
// Handlers run inline on the callback thread (short SQLite reads and small
// transactions, as the submission service's reads and year locks).
//
// WatchForms: each stream is a common/server QueuedWriteReactor. It is
// subscribed under the transition mutex (its initial set is the store's
// forms at that point), and every committed transition is queued to the
// matching streams in the same critical section, so a stream sees every
// transition after its initial set exactly once, in order. A stream whose
// queue passes `max_watch_queue` events is ended ABORTED; Shutdown() ends
// every stream UNAVAILABLE and refuses new ones.

#include <cstddef>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/authenticator.h"
#include "common/catalog/catalog.h"
#include "common/clock/clock.h"
#include "halfsky/v1/review.grpc.pb.h"
#include "services/submission/review_store.h"
#include "services/submission/store.h"

namespace halfsky::submission {

// The approved forms, for the write path. Thread-safe.
class ApprovedForms {
 public:
  explicit ApprovedForms(std::shared_ptr<const CatalogIndex> catalog)
      : catalog_(std::move(catalog)) {}

  void Set(const halfsky::v1::FormKey& key, bool approved);
  // Replaces the set with `approved` (PostgreSQL: the approvals committed
  // by any replica, read by the committer under the write lock).
  void ReplaceAll(const std::vector<halfsky::v1::FormKey>& approved);
  bool IsApproved(const halfsky::v1::FormKey& key) const;

  // OK unless a value of `request` belongs to an approved form; then
  // FAILED_PRECONDITION (reason "FORM_APPROVED") naming each such key and
  // the form's unit (at most 10, then the count).
  absl::Status CheckWrite(const WriteRequest& request) const;

 private:
  using Key = std::tuple<std::string, std::string, int>;
  const std::shared_ptr<const CatalogIndex> catalog_;
  mutable absl::Mutex mu_;
  absl::flat_hash_set<Key> approved_ ABSL_GUARDED_BY(mu_);
};

class ReviewServiceImpl final : public halfsky::v1::ReviewService::CallbackService {
 public:
  // Not owned; must outlive the service. `approved` must be the object the
  // submission service checks writes against; Create loads it.
  static absl::StatusOr<std::unique_ptr<ReviewServiceImpl>> Create(
      std::shared_ptr<const CatalogIndex> catalog, SubmissionStore* store,
      ReviewStore* review_store, ApprovedForms* approved, Clock* clock,
      auth::AuthenticateFn authenticate, size_t max_watch_queue = 1024);

  // Ends every WatchForms stream UNAVAILABLE and refuses new ones (call
  // before grpc::Server::Shutdown).
  void Shutdown();

  grpc::ServerUnaryReactor* ValidateData(grpc::CallbackServerContext* ctx,
                                         const halfsky::v1::ValidateDataRequest* request,
                                         halfsky::v1::ValidateDataResponse* response) override;
  grpc::ServerUnaryReactor* SubmitForm(grpc::CallbackServerContext* ctx,
                                       const halfsky::v1::SubmitFormRequest* request,
                                       halfsky::v1::Form* response) override;
  grpc::ServerUnaryReactor* ReturnForm(grpc::CallbackServerContext* ctx,
                                       const halfsky::v1::ReturnFormRequest* request,
                                       halfsky::v1::Form* response) override;
  grpc::ServerUnaryReactor* ApproveForm(grpc::CallbackServerContext* ctx,
                                        const halfsky::v1::ApproveFormRequest* request,
                                        halfsky::v1::Form* response) override;
  grpc::ServerUnaryReactor* UnlockForm(grpc::CallbackServerContext* ctx,
                                       const halfsky::v1::UnlockFormRequest* request,
                                       halfsky::v1::Form* response) override;
  grpc::ServerUnaryReactor* ListForms(grpc::CallbackServerContext* ctx,
                                      const halfsky::v1::ListFormsRequest* request,
                                      halfsky::v1::ListFormsResponse* response) override;
  grpc::ServerUnaryReactor* GetFormHistory(grpc::CallbackServerContext* ctx,
                                           const halfsky::v1::GetFormHistoryRequest* request,
                                           halfsky::v1::GetFormHistoryResponse* response) override;
  grpc::ServerWriteReactor<halfsky::v1::FormWatchEvent>* WatchForms(
      grpc::CallbackServerContext* ctx, const halfsky::v1::WatchFormsRequest* request) override;
  grpc::ServerUnaryReactor* GetReviewBoard(grpc::CallbackServerContext* ctx,
                                           const halfsky::v1::GetReviewBoardRequest* request,
                                           halfsky::v1::GetReviewBoardResponse* response) override;

  // The logic behind the RPCs (absl::Status; converted once at the edge).
  absl::StatusOr<halfsky::v1::ValidateDataResponse> Validate(
      const halfsky::v1::Principal& principal, const halfsky::v1::ValidateDataRequest& request);
  absl::StatusOr<halfsky::v1::Form> Act(const halfsky::v1::Principal& principal,
                                        halfsky::v1::FormAction action,
                                        const halfsky::v1::FormKey& key, const std::string& text);
  // The board of `request` as `principal` may see it.
  absl::StatusOr<halfsky::v1::GetReviewBoardResponse> Board(
      const halfsky::v1::Principal& principal, const halfsky::v1::GetReviewBoardRequest& request);

 private:
  class WatchReactor;

  ReviewServiceImpl(std::shared_ptr<const CatalogIndex> catalog, SubmissionStore* store,
                    ReviewStore* review_store, ApprovedForms* approved, Clock* clock,
                    auth::AuthenticateFn authenticate, size_t max_watch_queue);
  // Queues the initial set and registers `watcher` (under act_mu_).
  absl::Status Subscribe(WatchReactor* watcher) ABSL_LOCKS_EXCLUDED(act_mu_, watch_mu_);
  void Unsubscribe(WatchReactor* watcher) ABSL_LOCKS_EXCLUDED(watch_mu_);
  // Queues a committed transition to the matching streams.
  void Publish(const halfsky::v1::Form& form, const halfsky::v1::FormEvent& event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(act_mu_) ABSL_LOCKS_EXCLUDED(watch_mu_);
  // Validates and normalizes (area "" → root) a form key.
  absl::StatusOr<halfsky::v1::FormKey> CheckKey(const halfsky::v1::FormKey& key,
                                                const std::string& field) const;
  // The violations of a form's figures.
  absl::StatusOr<halfsky::v1::ValidateDataResponse> ValidateForm(const halfsky::v1::FormKey& key);

  const std::shared_ptr<const CatalogIndex> catalog_;
  SubmissionStore* const store_;
  ReviewStore* const review_store_;
  ApprovedForms* const approved_;
  Clock* const clock_;
  const auth::AuthenticateFn authenticate_;
  const size_t max_watch_queue_;
  // Serializes transitions (with their checks) of every form, and the
  // subscription of watchers against them. Taken before watch_mu_.
  absl::Mutex act_mu_;
  absl::Mutex watch_mu_ ABSL_ACQUIRED_AFTER(act_mu_);
  absl::flat_hash_set<WatchReactor*> watchers_ ABSL_GUARDED_BY(watch_mu_);
  bool shutting_down_ ABSL_GUARDED_BY(watch_mu_) = false;
};

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_REVIEW_SERVICE_H_
