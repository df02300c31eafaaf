#ifndef HALFSKY_SERVICES_SUBMISSION_SERVICE_H_
#define HALFSKY_SERVICES_SUBMISSION_SERVICE_H_

// halfsky.v1.SubmissionService on a SubmissionStore (callback API).
//
// Writes: authenticate → authorize (PERMISSION_DENIED naming indicators, and
// other units' narratives) → a unit's narrative without key.unit_code
// becomes its own → validate (INVALID_ARGUMENT with every violation) →
// normalize → hand to the
// store, whose group committer replies from its own thread after COMMIT;
// no gRPC thread waits for the disk.
//
// WatchChanges runs one thread per stream: it reads the store in pages of
// `watch_page_size` revisions and about `watch_page_bytes` from its own cursor,
// writes each page as one message (WatchChangesResponse; a page past about 1
// MiB as several) and waits for the write to complete (gRPC flow control)
// before the next, and, once caught up, sleeps on a condition variable that
// commits signal (the store's commit listener only bumps `head_`). So a slow
// consumer holds one page of memory and blocks no one but itself, and a commit
// costs O(1) regardless of the number of watchers. A thread per stream (instead
// of a pure callback state machine) keeps that loop linear and easy to verify;
// watchers are few (aggregation replicas, operators' tools) and capped by
// `max_watchers` (RESOURCE_EXHAUSTED beyond it).
//
// Withdrawals (WithdrawValues) take the write path: authorized as writes of
// the keys, validated (a reason is required), then a store request of
// withdraw values, so group commit, year locks and idempotency are the
// writes' own.
//
// What the client is told is what happened: every write carries the call's
// deadline to the store, which refuses a request it reaches after it
// (DEADLINE_EXCEEDED, nothing written); a stream's chunks form a
// WriteChain, so after a chunk fails (or the stream is cancelled) no later
// chunk of the stream is committed.
//
// Reads (ListDataValues, GetHistory, GetReportingStatus, ListYearLocks) run
// short SQLite queries inline on the callback thread; LockYear/UnlockYear
// wait for their (small) commit inline.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/catalog/catalog.h"
#include "common/clock/clock.h"
#include "common/metrics/metrics.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/common.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "services/submission/review_store.h"
#include "services/submission/store.h"
#include "services/submission/validate.h"

namespace halfsky::submission {

struct SubmissionServiceOptions {
  ValidationLimits limits;
  // Idle heartbeat period of WatchChanges.
  absl::Duration heartbeat_interval = absl::Seconds(5);
  // A WatchChanges page: at most this many revisions, and none added once
  // they hold watch_page_bytes (SubmissionStore::ReadChangesOnArena), so
  // each stream holds at most one page of ~watch_page_bytes whatever the
  // revisions' sizes. 2 000 rather than 500: a quarter of the pages' fixed
  // costs (two queries, a flush and its wake-ups) took a Rebuild's replay
  // of 10^6 values from ~1.5 to ~1.2 s (docs/BENCHMARKS.md); 5 000 gained
  // nothing more. Review form changes (a key, an action, a state, a time:
  // no free text) are paged by count alone.
  int watch_page_size = 2000;
  size_t watch_page_bytes = size_t{4} << 20;
  int max_watchers = 64;
  // SubmitStream chunks validated and queued ahead of their acknowledgement.
  int stream_window = 4;
  // Where halfsky_submission_storage_full{,_failures_total} are recorded;
  // not owned, may be null (no metrics).
  MetricsRegistry* metrics = nullptr;
  // Attached to every write and withdrawal as WriteRequest::precondition
  // (the review workflow's lock of approved forms,
  // ApprovedForms::CheckWrite); empty: none.
  std::function<absl::Status(const WriteRequest&)> write_precondition;
  // The review forms whose transitions WatchChanges carries
  // (ChangeEvent.form_change, after the revisions of each page); not owned,
  // must outlive the service. Null: the feed carries no form changes (and
  // every Heartbeat.head_form_sequence is 0).
  ReviewStore* review_store = nullptr;
};

class SubmissionServiceImpl final : public halfsky::v1::SubmissionService::CallbackService {
 public:
  // `store` and `clock` are not owned and must outlive the service.
  SubmissionServiceImpl(std::shared_ptr<const CatalogIndex> catalog, SubmissionStore* store,
                        Clock* clock, auth::AuthenticateFn authenticate,
                        SubmissionServiceOptions options = {});
  ~SubmissionServiceImpl() override;

  // Ends every WatchChanges stream (UNAVAILABLE, "shutting down") and refuses
  // new ones, so that grpc::Server::Shutdown need not wait for them.
  void Shutdown();

  // Live WatchChanges streams (tests).
  int active_watchers() const;

  // Storage full: a write that fails with RESOURCE_EXHAUSTED / STORAGE_FULL
  // sets it (log line "STORAGE FULL", gauge halfsky_submission_storage_full
  // = 1, counter halfsky_submission_storage_full_failures_total), the next
  // write that commits clears it. `listener(writable)` is called on each
  // change (false when full), from the thread that saw the result; it must
  // not block (e.g. set the gRPC health status of the write service).
  // Replaces an earlier listener; call before serving.
  void SetWritableListener(std::function<void(bool writable)> listener);
  bool storage_full() const;

  grpc::ServerUnaryReactor* SubmitBatch(grpc::CallbackServerContext* ctx,
                                        const halfsky::v1::SubmitBatchRequest* request,
                                        halfsky::v1::SubmitBatchResponse* response) override;
  grpc::ServerBidiReactor<halfsky::v1::SubmitStreamRequest, halfsky::v1::SubmitStreamResponse>*
  SubmitStream(grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* WithdrawValues(grpc::CallbackServerContext* ctx,
                                           const halfsky::v1::WithdrawValuesRequest* request,
                                           halfsky::v1::WithdrawValuesResponse* response) override;
  grpc::ServerUnaryReactor* ListDataValues(grpc::CallbackServerContext* ctx,
                                           const halfsky::v1::ListDataValuesRequest* request,
                                           halfsky::v1::ListDataValuesResponse* response) override;
  grpc::ServerUnaryReactor* GetHistory(grpc::CallbackServerContext* ctx,
                                       const halfsky::v1::GetHistoryRequest* request,
                                       halfsky::v1::GetHistoryResponse* response) override;
  grpc::ServerWriteReactor<halfsky::v1::WatchChangesResponse>* WatchChanges(
      grpc::CallbackServerContext* ctx, const halfsky::v1::WatchChangesRequest* request) override;
  grpc::ServerUnaryReactor* GetReportingStatus(
      grpc::CallbackServerContext* ctx, const halfsky::v1::GetReportingStatusRequest* request,
      halfsky::v1::GetReportingStatusResponse* response) override;
  grpc::ServerUnaryReactor* LockYear(grpc::CallbackServerContext* ctx,
                                     const halfsky::v1::LockYearRequest* request,
                                     halfsky::v1::YearLock* response) override;
  grpc::ServerUnaryReactor* UnlockYear(grpc::CallbackServerContext* ctx,
                                       const halfsky::v1::UnlockYearRequest* request,
                                       halfsky::v1::YearLock* response) override;
  grpc::ServerUnaryReactor* ListYearLocks(grpc::CallbackServerContext* ctx,
                                          const halfsky::v1::ListYearLocksRequest* request,
                                          halfsky::v1::ListYearLocksResponse* response) override;

  // Checks, authorizes and validates a write, then builds the store request
  // (normalized values, their deterministic serialization, payload hash).
  // Used by SubmitBatch and SubmitStream. The second form moves the values
  // out of `values` (left in an unspecified state) instead of copying them.
  absl::StatusOr<WriteRequest> PrepareWrite(
      const halfsky::v1::Principal& principal, const std::string& request_id,
      const google::protobuf::RepeatedPtrField<halfsky::v1::DataValue>& values);
  absl::StatusOr<WriteRequest> PrepareWrite(
      const halfsky::v1::Principal& principal, const std::string& request_id,
      google::protobuf::RepeatedPtrField<halfsky::v1::DataValue>* values);

 private:
  class StreamReactor;
  class WatchReactor;

  absl::StatusOr<halfsky::v1::YearLock> ChangeLock(grpc::CallbackServerContext* ctx, int year,
                                                   bool locked, const std::string& reason);
  // Tracks storage-full from every write result (see SetWritableListener).
  void NoteWriteResult(const absl::StatusOr<halfsky::v1::SubmitBatchResponse>& result);

  const std::shared_ptr<const CatalogIndex> catalog_;
  SubmissionStore* const store_;
  Clock* const clock_;
  const auth::AuthenticateFn authenticate_;
  const SubmissionServiceOptions options_;

  // Shared by the commit listener and every watcher.
  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  int64_t head_ ABSL_GUARDED_BY(mu_) = 0;
  // Head form_sequence of options_.review_store (0 without one).
  int64_t form_head_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  int watchers_ ABSL_GUARDED_BY(mu_) = 0;

  mutable absl::Mutex storage_mu_;
  bool storage_full_ ABSL_GUARDED_BY(storage_mu_) = false;
  std::function<void(bool)> writable_listener_ ABSL_GUARDED_BY(storage_mu_);
  Gauge* storage_full_gauge_ = nullptr;
  Counter* storage_full_failures_ = nullptr;
};

// Hex SHA-256 over the deterministic serialization of the values (each
// length-prefixed; a value's change_reason and withdraw flag follow it when
// set, so a request without them hashes as before they existed): the
// idempotency payload hash.
std::string PayloadHash(const std::vector<ValueToWrite>& values);

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_SERVICE_H_
