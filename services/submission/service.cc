#include "services/submission/service.h"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <iostream>
#include <limits>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/roles.h"
#include "common/proto/serialize.h"
#include "common/proto/timestamp.h"
#include "common/server/unary_reply.h"
#include "common/status/status.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/util/time_util.h"
#include "services/submission/read_access.h"
#include "services/submission/reporting.h"
#include "services/submission/request_checks.h"

namespace halfsky::submission {

namespace v1 = ::halfsky::v1;

namespace {

// The call's deadline as an absl::Time (InfiniteFuture when none).
absl::Time DeadlineOf(const grpc::CallbackServerContext& ctx) {
  const auto deadline = ctx.deadline();
  if (deadline >= std::chrono::system_clock::time_point::max() - std::chrono::hours(24 * 365)) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
}

// Page tokens: base64url("v1:<cursor>:<filter fingerprint>").
std::string FilterFingerprint(const v1::ListDataValuesRequest& r) {
  v1::ListDataValuesRequest f = r;
  f.clear_page_size();
  f.clear_page_token();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const std::string bytes = DeterministicBytes(f);
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(md), 8));
}

}  // namespace

std::string PayloadHash(const std::vector<ValueToWrite>& values) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::string scratch;
  for (const ValueToWrite& v : values) {
    const std::string* encoded = &v.encoded;
    if (encoded->empty()) {
      scratch = DeterministicBytes(v.value);
      encoded = &scratch;
    }
    const std::string& bytes = *encoded;
    const uint64_t n = bytes.size();
    EVP_DigestUpdate(ctx, &n, sizeof(n));
    EVP_DigestUpdate(ctx, bytes.data(), bytes.size());
    if (v.withdraw || !v.change_reason.empty()) {
      // A marker no serialized value length can be (2^64 - 1), then the
      // flag and the reason, length-prefixed.
      const uint64_t marker = ~uint64_t{0};
      const unsigned char withdraw = v.withdraw ? 1 : 0;
      const uint64_t rn = v.change_reason.size();
      EVP_DigestUpdate(ctx, &marker, sizeof(marker));
      EVP_DigestUpdate(ctx, &withdraw, 1);
      EVP_DigestUpdate(ctx, &rn, sizeof(rn));
      EVP_DigestUpdate(ctx, v.change_reason.data(), v.change_reason.size());
    }
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(md), len));
}

SubmissionServiceImpl::SubmissionServiceImpl(std::shared_ptr<const CatalogIndex> catalog,
                                             SubmissionStore* store, Clock* clock,
                                             auth::AuthenticateFn authenticate,
                                             SubmissionServiceOptions options)
    : catalog_(std::move(catalog)),
      store_(store),
      clock_(clock),
      authenticate_(std::move(authenticate)),
      options_(options) {
  if (options_.metrics != nullptr) {
    storage_full_gauge_ = options_.metrics->GetGauge(
        "halfsky_submission_storage_full",
        "1 while writes fail because the submission database's disk is full (RESOURCE_EXHAUSTED, "
        "STORAGE_FULL); 0 once a write commits again.");
    storage_full_failures_ = options_.metrics->GetCounter(
        "halfsky_submission_storage_full_failures_total",
        "Write requests refused because the submission database's disk was full.");
    storage_full_gauge_->Set(0);
  }
  {
    absl::MutexLock lock(&mu_);
    head_ = store_->HeadSequence();
  }
  store_->SetCommitListener([this](int64_t head) {
    absl::MutexLock lock(&mu_);
    if (head > head_) {
      head_ = head;
    }
    cv_.SignalAll();
  });
  if (options_.review_store != nullptr) {
    // A head that cannot be read starts at 0: the first transition's
    // listener call, or the first page a stream reads, moves it.
    const absl::StatusOr<int64_t> form_head = options_.review_store->HeadFormSequence();
    {
      absl::MutexLock lock(&mu_);
      form_head_ = form_head.ok() ? *form_head : 0;
    }
    options_.review_store->SetTransitionListener([this](int64_t head) {
      absl::MutexLock lock(&mu_);
      if (head > form_head_) {
        form_head_ = head;
      }
      cv_.SignalAll();
    });
  }
}

SubmissionServiceImpl::~SubmissionServiceImpl() {
  store_->SetCommitListener(nullptr);
  if (options_.review_store != nullptr) {
    options_.review_store->SetTransitionListener(nullptr);
  }
  Shutdown();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* w) { return *w == 0; }, &watchers_));
}

void SubmissionServiceImpl::Shutdown() {
  absl::MutexLock lock(&mu_);
  shutting_down_ = true;
  cv_.SignalAll();
}

int SubmissionServiceImpl::active_watchers() const {
  absl::MutexLock lock(&mu_);
  return watchers_;
}

void SubmissionServiceImpl::SetWritableListener(std::function<void(bool writable)> listener) {
  absl::MutexLock lock(&storage_mu_);
  writable_listener_ = std::move(listener);
}

bool SubmissionServiceImpl::storage_full() const {
  absl::MutexLock lock(&storage_mu_);
  return storage_full_;
}

void SubmissionServiceImpl::NoteWriteResult(const absl::StatusOr<v1::SubmitBatchResponse>& result) {
  if (result.ok() && result->replayed()) {
    return;  // a replay writes nothing: it proves nothing about space
  }
  const absl::Status& status = result.status();
  const bool full = status.code() == absl::StatusCode::kResourceExhausted &&
                    ErrorReason(status) == "STORAGE_FULL";
  if (!full && !status.ok()) {
    return;  // other failures say nothing about the disk
  }
  if (full && storage_full_failures_ != nullptr) {
    storage_full_failures_->Increment();
  }
  std::function<void(bool)> listener;
  {
    absl::MutexLock lock(&storage_mu_);
    if (storage_full_ == full) {
      return;
    }
    storage_full_ = full;
    listener = writable_listener_;
    if (storage_full_gauge_ != nullptr) {
      storage_full_gauge_->Set(full ? 1 : 0);
    }
    if (full) {
      std::cerr << "halfsky-submission: STORAGE FULL: writes refused with RESOURCE_EXHAUSTED "
                   "(STORAGE_FULL), health of halfsky.v1.SubmissionService NOT_SERVING until a "
                   "write commits again; free space on the database's disk: "
                << status.message() << "\n";
    } else {
      std::cerr << "halfsky-submission: storage writable again: a write committed, health of "
                   "halfsky.v1.SubmissionService SERVING\n";
    }
    // Called under storage_mu_ so that listeners see the changes in order.
    if (listener) {
      listener(!full);
    }
  }
}

absl::StatusOr<WriteRequest> SubmissionServiceImpl::PrepareWrite(
    const v1::Principal& principal, const std::string& request_id,
    const google::protobuf::RepeatedPtrField<v1::DataValue>& values) {
  google::protobuf::RepeatedPtrField<v1::DataValue> copy(values);
  return PrepareWrite(principal, request_id, &copy);
}

absl::StatusOr<WriteRequest> SubmissionServiceImpl::PrepareWrite(
    const v1::Principal& principal, const std::string& request_id,
    google::protobuf::RepeatedPtrField<v1::DataValue>* values) {
  std::vector<std::string> units;
  HALFSKY_RETURN_IF_ERROR(AuthorizeWrite(principal, *values, *catalog_, &units));
  // A unit's narrative without key.unit_code is the caller's own; set before
  // validation, hashing and the store, which all see the full key.
  AssignNarrativeUnits(values, *catalog_, units);
  {
    std::vector<FieldViolation> reasons = ValidateChangeReasons(*values, options_.limits);
    absl::Status batch =
        ValidateBatch(request_id, *values, *catalog_, clock_->Now(), options_.limits);
    if (!reasons.empty()) {
      std::vector<FieldViolation> all = BadRequestViolations(batch);
      all.insert(all.end(), reasons.begin(), reasons.end());
      return InvalidArgumentError(absl::StrCat("数据校验未通过，共", all.size(), "处问题 / ",
                                               all.size(), " problem(s) in the submitted data"),
                                  all);
    }
    HALFSKY_RETURN_IF_ERROR(batch);
  }
  WriteRequest req;
  req.principal = principal.name();
  req.request_id = request_id;
  req.values.resize(values->size());
  // Serialized here, once, on the calling (gRPC) thread: the payload hash
  // and the store both use these bytes, so the single committer thread
  // does not serialize.
  for (int i = 0; i < values->size(); ++i) {
    ValueToWrite& v = req.values[i];
    v.value.Swap(values->Mutable(i));
    NormalizeKey(v.value.mutable_key());
    v.unit_code = std::move(units[i]);
    // Kept on the revision, not part of the value (never compared).
    v.change_reason = std::move(*v.value.mutable_change_reason());
    v.value.clear_change_reason();
    v.encoded = DeterministicBytes(v.value);
  }
  req.payload_hash = PayloadHash(req.values);
  req.precondition = options_.write_precondition;
  return req;
}

// ---------------------------------------------------------------- SubmitBatch

grpc::ServerUnaryReactor* SubmissionServiceImpl::SubmitBatch(grpc::CallbackServerContext* ctx,
                                                             const v1::SubmitBatchRequest* request,
                                                             v1::SubmitBatchResponse* response) {
  absl::StatusOr<v1::Principal> principal = authenticate_(*ctx);
  if (!principal.ok()) {
    return server::FinishUnary(ctx, principal.status());
  }
  absl::StatusOr<WriteRequest> write =
      PrepareWrite(*principal, request->request_id(), request->data_values());
  if (!write.ok()) {
    return server::FinishUnary(ctx, write.status());
  }
  if (request->dry_run()) {
    absl::StatusOr<YearLocks> locks = store_->ListYearLocks();
    if (!locks.ok()) {
      return server::FinishUnary(ctx, locks.status());
    }
    for (const auto& lock : locks->current) {
      for (const auto& v : write->values) {
        if (lock.locked() && lock.year() == v.value.key().year()) {
          return server::FinishUnary(
              ctx,
              WithReason(absl::FailedPreconditionError(absl::StrCat(
                             "年份已锁定，不能写入 / year locked, writes refused: ", lock.year())),
                         "YEAR_LOCKED"));
        }
      }
    }
    for (const auto& v : write->values) {
      *response->add_results()->mutable_key() = v.value.key();
    }
    return server::FinishUnary(ctx, absl::OkStatus());
  }
  write->deadline = DeadlineOf(*ctx);
  auto* reactor = ctx->DefaultReactor();
  store_->Write(std::move(*write),
                [this, reactor, response](absl::StatusOr<v1::SubmitBatchResponse> result) {
                  NoteWriteResult(result);
                  if (result.ok()) {
                    *response = std::move(*result);
                    reactor->Finish(grpc::Status::OK);
                  } else {
                    reactor->Finish(ToGrpcStatus(result.status()));
                  }
                });
  return reactor;
}

// ------------------------------------------------------------- WithdrawValues

grpc::ServerUnaryReactor* SubmissionServiceImpl::WithdrawValues(
    grpc::CallbackServerContext* ctx, const v1::WithdrawValuesRequest* request,
    v1::WithdrawValuesResponse* response) {
  absl::StatusOr<v1::Principal> principal = authenticate_(*ctx);
  if (!principal.ok()) {
    return server::FinishUnary(ctx, principal.status());
  }
  // Authorized as writes of the keys (same roles, same narrative rules).
  google::protobuf::RepeatedPtrField<v1::DataValue> values;
  for (const v1::DataKey& key : request->keys()) {
    *values.Add()->mutable_key() = key;
  }
  std::vector<std::string> units;
  absl::Status st = AuthorizeWrite(*principal, values, *catalog_, &units);
  if (!st.ok()) {
    return server::FinishUnary(ctx, st);
  }
  AssignNarrativeUnits(&values, *catalog_, units);
  google::protobuf::RepeatedPtrField<v1::DataKey> keys;
  for (v1::DataValue& v : values) {
    keys.Add()->Swap(v.mutable_key());
  }
  st = ValidateWithdrawal(request->request_id(), keys, request->reason(), *catalog_, clock_->Now(),
                          options_.limits);
  if (!st.ok()) {
    return server::FinishUnary(ctx, st);
  }
  WriteRequest write;
  write.principal = principal->name();
  write.request_id = request->request_id();
  write.values.resize(keys.size());
  for (int i = 0; i < keys.size(); ++i) {
    ValueToWrite& v = write.values[i];
    v.value.mutable_key()->Swap(keys.Mutable(i));
    NormalizeKey(v.value.mutable_key());
    v.unit_code = std::move(units[i]);
    v.withdraw = true;
    v.change_reason = request->reason();
    v.encoded = DeterministicBytes(v.value);
  }
  write.payload_hash = PayloadHash(write.values);
  write.precondition = options_.write_precondition;
  write.deadline = DeadlineOf(*ctx);
  auto* reactor = ctx->DefaultReactor();
  store_->Write(std::move(write),
                [this, reactor, response](absl::StatusOr<v1::SubmitBatchResponse> result) {
                  NoteWriteResult(result);
                  if (!result.ok()) {
                    reactor->Finish(ToGrpcStatus(result.status()));
                    return;
                  }
                  response->mutable_results()->Swap(result->mutable_results());
                  *response->mutable_sequences() = result->sequences();
                  response->set_withdrawn_count(result->withdrawn_count());
                  response->set_unchanged_count(result->unchanged_count());
                  *response->mutable_committed_at() = result->committed_at();
                  response->set_replayed(result->replayed());
                  reactor->Finish(grpc::Status::OK);
                });
  return reactor;
}

// --------------------------------------------------------------- SubmitStream

// Pipelined: up to `stream_window` chunks are validated and queued for
// commit while earlier ones commit (so a single stream still fills group
// commits); acknowledgements are written strictly in chunk order (the store
// completes requests in queue order). A chunk that fails validation is
// never queued: the stream waits for the chunks before it to be
// acknowledged, then finishes with the error. A store-side failure (locked
// year, reused request id, deadline, full disk) finishes the stream too,
// and nothing after it commits: the stream's chunks share one WriteChain,
// which the failure breaks, so chunks already queued behind it fail in the
// store unwritten (ABORTED, never acknowledged). A cancelled or broken
// stream breaks the chain itself. So after an error exactly the
// acknowledged chunks (and those before the failed one, acknowledged
// first) are committed.
class SubmissionServiceImpl::StreamReactor final
    : public grpc::ServerBidiReactor<v1::SubmitStreamRequest, v1::SubmitStreamResponse> {
 public:
  StreamReactor(SubmissionServiceImpl* service, grpc::CallbackServerContext* ctx)
      : service_(service) {
    absl::StatusOr<v1::Principal> principal = service_->authenticate_(*ctx);
    if (!principal.ok()) {
      finished_ = true;
      Finish(ToGrpcStatus(principal.status()));
      return;
    }
    principal_ = std::move(*principal);
    deadline_ = DeadlineOf(*ctx);
    reading_ = true;
    StartRead(&request_);
  }

  void OnCancel() override { chain_->Break(); }

  void OnReadDone(bool ok) override {
    // reading_ stays true while request_ is in use, so Act() on another
    // thread neither reuses request_ nor finishes meanwhile.
    bool stopped = false;
    {
      absl::MutexLock lock(&mu_);
      stopped = error_.has_value() || finished_;
    }
    // A chunk read after the stream's error is never written (the stream
    // may already be finished: see Act).
    if (ok && !stopped) {
      // The values are moved out of request_ (it is refilled by the next
      // read); acknowledgements need counts and sequences only, not keys.
      absl::StatusOr<WriteRequest> write =
          service_->PrepareWrite(principal_, request_.request_id(), request_.mutable_data_values());
      if (write.ok()) {
        write->reply_keys = false;
        write->deadline = deadline_;
        write->chain = chain_;
      }
      if (!write.ok()) {
        absl::MutexLock lock(&mu_);
        // Chunks before this one are queued already and still acknowledged.
        SetError(ToGrpcStatus(write.status()), next_chunk_);
      } else {
        int64_t index = 0;
        {
          absl::MutexLock lock(&mu_);
          index = next_chunk_++;
          ++in_flight_;
        }
        service_->store_->Write(std::move(*write), [this, index, id = request_.request_id()](
                                                       absl::StatusOr<v1::SubmitBatchResponse> r) {
          OnCommitted(index, id, std::move(r));
        });
      }
    }
    {
      absl::MutexLock lock(&mu_);
      reading_ = false;
      if (!ok) {
        read_done_ = true;
      }
    }
    Act();
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) {
        chain_->Break();
        SetError(grpc::Status(grpc::StatusCode::CANCELLED, "stream closed before acknowledgement"),
                 -1);
      }
    }
    Act();
  }

  void OnDone() override { delete this; }

 private:
  void OnCommitted(int64_t index, const std::string& request_id,
                   absl::StatusOr<v1::SubmitBatchResponse> result) {
    service_->NoteWriteResult(result);
    {
      absl::MutexLock lock(&mu_);
      --in_flight_;
      if (!result.ok()) {
        SetError(ToGrpcStatus(result.status()), index);
      } else if (index < error_chunk_) {
        v1::SubmitStreamResponse ack;
        ack.set_request_id(request_id);
        ack.set_chunk_index(index);
        *ack.mutable_sequences() = result->sequences();
        ack.set_created_count(result->created_count());
        ack.set_revised_count(result->revised_count());
        ack.set_unchanged_count(result->unchanged_count());
        ack.set_replayed(result->replayed());
        ready_.push_back(std::move(ack));
      }
    }
    Act();
  }

  // Records the stream's error; acknowledgements of chunks from
  // `first_unacknowledged` on are dropped (chunks before it that commit are
  // still acknowledged, before the error ends the stream).
  void SetError(grpc::Status status, int64_t first_unacknowledged)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!error_) {
      error_ = std::move(status);
    }
    error_chunk_ = std::min(error_chunk_, first_unacknowledged);
  }

  // Decides under the lock what to start next, then starts it outside.
  void Act() {
    bool start_write = false, start_read = false, finish = false;
    grpc::Status status;
    {
      absl::MutexLock lock(&mu_);
      if (finished_) {
        return;
      }
      while (!ready_.empty() && ready_.front().chunk_index() >= error_chunk_) {
        ready_.pop_front();
      }
      if (!writing_ && !ready_.empty()) {
        response_ = std::move(ready_.front());
        ready_.pop_front();
        writing_ = true;
        start_write = true;
      }
      if (!reading_ && !read_done_ && !error_ &&
          in_flight_ + static_cast<int>(ready_.size()) < service_->options_.stream_window) {
        reading_ = true;
        start_read = true;
      }
      // After an error the stream ends without waiting for the read in
      // flight: a client that waits for each chunk's acknowledgement before
      // sending the next would otherwise wait for its deadline.
      if (!writing_ && ready_.empty() && in_flight_ == 0 &&
          (error_.has_value() || (!reading_ && read_done_))) {
        finished_ = true;
        finish = true;
        status = error_ ? *error_ : grpc::Status::OK;
      }
    }
    if (start_write) {
      StartWrite(&response_);
    }
    if (start_read) {
      StartRead(&request_);
    }
    if (finish) {
      Finish(status);
    }
  }

  SubmissionServiceImpl* const service_;
  v1::Principal principal_;
  absl::Time deadline_ = absl::InfiniteFuture();
  const std::shared_ptr<WriteChain> chain_ = std::make_shared<WriteChain>();
  // request_ is only touched between StartRead and OnReadDone's end;
  // response_ between StartWrite and OnWriteDone.
  v1::SubmitStreamRequest request_;
  v1::SubmitStreamResponse response_;

  absl::Mutex mu_;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool read_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t next_chunk_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<v1::SubmitStreamResponse> ready_ ABSL_GUARDED_BY(mu_);
  std::optional<grpc::Status> error_ ABSL_GUARDED_BY(mu_);
  int64_t error_chunk_ ABSL_GUARDED_BY(mu_) = std::numeric_limits<int64_t>::max();
};

grpc::ServerBidiReactor<v1::SubmitStreamRequest, v1::SubmitStreamResponse>*
SubmissionServiceImpl::SubmitStream(grpc::CallbackServerContext* ctx) {
  return new StreamReactor(this, ctx);
}

// --------------------------------------------------------------- WatchChanges

class SubmissionServiceImpl::WatchReactor final
    : public grpc::ServerWriteReactor<v1::WatchChangesResponse> {
 public:
  WatchReactor(SubmissionServiceImpl* service, int64_t after, int64_t after_form)
      : service_(service), cursor_(after), form_cursor_(after_form) {
    thread_ = std::thread([this] { Run(); });
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&service_->mu_);
    writing_ = false;
    write_ok_ = ok;
    service_->cv_.SignalAll();
  }

  void OnCancel() override {
    absl::MutexLock lock(&service_->mu_);
    cancelled_ = true;
    service_->cv_.SignalAll();
  }

  void OnDone() override {
    thread_.join();
    {
      absl::MutexLock lock(&service_->mu_);
      --service_->watchers_;
    }
    delete this;
  }

 private:
  // A message is closed once its events reach this size, so that it stays
  // well under the client's default 4 MiB receive limit (a revision is a few
  // hundred bytes; one alone can never come near it).
  static constexpr size_t kMaxMessageBytes = 1 << 20;

  // A new event on the page's arena (owned by it).
  v1::ChangeEvent* NewEvent() {
    return google::protobuf::Arena::CreateMessage<v1::ChangeEvent>(&arena_);
  }

  // Appends one event (on arena_) to the message being filled; sends the
  // message first when the event would take it past kMaxMessageBytes. False
  // if the stream is gone.
  bool Add(v1::ChangeEvent* event) {
    const size_t bytes = event->ByteSizeLong();
    if (pending_->events_size() > 0 && pending_bytes_ + bytes > kMaxMessageBytes && !Flush()) {
      return false;
    }
    pending_->mutable_events()->AddAllocated(event);  // same arena: no copy
    pending_bytes_ += bytes;
    return true;
  }

  // Frees the last page's messages: only between pages, when no write is in
  // flight (Flush waits for its write).
  void ResetArena() {
    arena_.Reset();
    pending_ = google::protobuf::Arena::CreateMessage<v1::WatchChangesResponse>(&arena_);
    pending_bytes_ = 0;
  }

  // Writes the message being filled (if it holds any event) and waits for
  // its completion (gRPC flow control). False if the stream is gone
  // (cancelled, write failed) or the service shuts down.
  bool Flush() {
    if (pending_->events_size() == 0) {
      return true;
    }
    // Both stay on arena_ until the page is done.
    v1::WatchChangesResponse* sending = pending_;
    pending_ = google::protobuf::Arena::CreateMessage<v1::WatchChangesResponse>(&arena_);
    pending_bytes_ = 0;
    {
      absl::MutexLock lock(&service_->mu_);
      writing_ = true;
    }
    StartWrite(sending);
    absl::MutexLock lock(&service_->mu_);
    while (writing_ && !cancelled_) {
      service_->cv_.Wait(&service_->mu_);
    }
    // After a cancel, the pending write still completes (ok=false) before
    // OnDone; Finish must not race with it, so wait for it.
    while (writing_) {
      service_->cv_.Wait(&service_->mu_);
    }
    return write_ok_ && !cancelled_;
  }

  void Run() {
    const SubmissionServiceOptions& opts = service_->options_;
    bool heartbeat_sent = false;
    absl::Time next_heartbeat = absl::InfinitePast();
    grpc::Status final_status = grpc::Status::OK;
    while (true) {
      {
        absl::MutexLock lock(&service_->mu_);
        if (cancelled_) {
          final_status = grpc::Status::CANCELLED;
          break;
        }
        if (service_->shutting_down_) {
          final_status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                      "服务正在关闭，请重连 / server shutting down; reconnect");
          break;
        }
      }
      ResetArena();
      absl::StatusOr<std::vector<v1::Revision*>> page = service_->store_->ReadChangesOnArena(
          cursor_, opts.watch_page_size, opts.watch_page_bytes, &arena_);
      if (!page.ok()) {
        final_status = ToGrpcStatus(page.status());
        break;
      }
      bool alive = true;
      for (v1::Revision* rev : *page) {
        v1::ChangeEvent* ev = NewEvent();
        const int64_t seq = rev->sequence();
        // Owned by arena_ (on it, or Own()ed by it): the event never deletes it.
        ev->unsafe_arena_set_allocated_revision(rev);
        if (!Add(ev)) {
          alive = false;
          break;
        }
        cursor_ = seq;
      }
      // Then the review forms' transitions, in their own gapless order.
      size_t form_count = 0;
      if (ReviewStore* review = opts.review_store; alive && review != nullptr) {
        absl::StatusOr<std::vector<v1::FormChange>> forms =
            review->ReadFormChanges(form_cursor_, opts.watch_page_size);
        if (!forms.ok()) {
          final_status = ToGrpcStatus(forms.status());
          break;
        }
        form_count = forms->size();
        for (v1::FormChange& change : *forms) {
          v1::ChangeEvent* ev = NewEvent();
          const int64_t seq = change.form_sequence();
          *ev->mutable_form_change() = std::move(change);  // a copy onto the arena
          if (!Add(ev)) {
            alive = false;
            break;
          }
          form_cursor_ = seq;
        }
      }
      // One page is one message (or a few, when large): sent before the
      // next page is read.
      if (!alive || !Flush()) {
        final_status = grpc::Status::CANCELLED;
        break;
      }
      if (static_cast<int>(page->size()) == opts.watch_page_size ||
          static_cast<int>(form_count) == opts.watch_page_size) {
        continue;  // more backlog
      }
      // Caught up with what the read saw, or the page was cut short by its
      // byte budget: then the head is past the cursor and the loop goes on
      // below. Heartbeat only if nothing newer has committed meanwhile (so
      // head_sequence never runs ahead of what this stream has delivered).
      int64_t head = 0;
      int64_t form_head = 0;
      {
        absl::MutexLock lock(&service_->mu_);
        head = service_->head_;
        form_head = service_->form_head_;
      }
      if (head > cursor_ || form_head > form_cursor_) {
        continue;
      }
      const absl::Time now = absl::Now();
      if (!heartbeat_sent || now >= next_heartbeat) {
        v1::ChangeEvent* hb = NewEvent();
        hb->mutable_heartbeat()->set_head_sequence(cursor_);
        hb->mutable_heartbeat()->set_head_form_sequence(form_cursor_);
        SetTimestamp(service_->clock_->Now(), hb->mutable_heartbeat()->mutable_sent_at());
        if (!Add(hb) || !Flush()) {
          final_status = grpc::Status::CANCELLED;
          break;
        }
        heartbeat_sent = true;
        next_heartbeat = absl::Now() + opts.heartbeat_interval;
      }
      absl::MutexLock lock(&service_->mu_);
      while (!cancelled_ && !service_->shutting_down_ && service_->head_ <= cursor_ &&
             service_->form_head_ <= form_cursor_) {
        if (service_->cv_.WaitWithDeadline(&service_->mu_, next_heartbeat)) {
          break;  // timed out: time for a heartbeat
        }
      }
    }
    Finish(final_status);
  }

  SubmissionServiceImpl* const service_;
  int64_t cursor_;
  int64_t form_cursor_;
  std::thread thread_;
  // One page's revisions, events and messages (Run's thread only; reset
  // between pages, when no write is in flight).
  google::protobuf::Arena arena_;
  // The message being filled by Run (on arena_; made by ResetArena at the
  // start of each page).
  v1::WatchChangesResponse* pending_ = nullptr;
  size_t pending_bytes_ = 0;
  // Guarded by service_->mu_.
  bool writing_ = false;
  bool write_ok_ = true;
  bool cancelled_ = false;
};

grpc::ServerWriteReactor<v1::WatchChangesResponse>* SubmissionServiceImpl::WatchChanges(
    grpc::CallbackServerContext* ctx, const v1::WatchChangesRequest* request) {
  absl::StatusOr<v1::Principal> principal = authenticate_(*ctx);
  absl::Status error;
  if (!principal.ok()) {
    error = principal.status();
  } else if (absl::Status allowed = AuthorizeChangeFeed(*principal); !allowed.ok()) {
    error = allowed;
  } else if (absl::Status cursor =
                 CheckWatchCursor(request->after_sequence(), store_->HeadSequence());
             !cursor.ok()) {
    error = cursor;
  } else if (absl::StatusOr<int64_t> form_head = options_.review_store != nullptr
                                                     ? options_.review_store->HeadFormSequence()
                                                     : absl::StatusOr<int64_t>(0);
             !form_head.ok()) {
    error = form_head.status();
  } else if (absl::Status form_cursor =
                 CheckWatchFormCursor(request->after_form_sequence(), *form_head);
             !form_cursor.ok()) {
    error = form_cursor;
  } else {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) {
      error = absl::UnavailableError("服务正在关闭 / server shutting down");
    } else if (watchers_ >= options_.max_watchers) {
      error = absl::ResourceExhaustedError(
          absl::StrCat("订阅数已达上限 / too many WatchChanges streams (", watchers_, ")"));
    } else {
      ++watchers_;
    }
  }
  if (!error.ok()) {
    class Failed final : public grpc::ServerWriteReactor<v1::WatchChangesResponse> {
     public:
      explicit Failed(const grpc::Status& s) { Finish(s); }
      void OnDone() override { delete this; }
    };
    return new Failed(ToGrpcStatus(error));
  }
  return new WatchReactor(this, request->after_sequence(), request->after_form_sequence());
}

// ------------------------------------------------------------------- Reads

grpc::ServerUnaryReactor* SubmissionServiceImpl::ListDataValues(
    grpc::CallbackServerContext* ctx, const v1::ListDataValuesRequest* request,
    v1::ListDataValuesResponse* response) {
  absl::StatusOr<v1::Principal> principal = authenticate_(*ctx);
  if (!principal.ok()) {
    return server::FinishUnary(ctx, principal.status());
  }
  if (absl::Status size = CheckPageSize(request->page_size()); !size.ok()) {
    return server::FinishUnary(ctx, size);
  }
  const int page_size = request->page_size() == 0 ? 1000 : std::min(request->page_size(), 10000);
  const std::string fingerprint = FilterFingerprint(*request);
  absl::StatusOr<int64_t> cursor = DecodePageToken(request->page_token(), fingerprint);
  if (!cursor.ok()) {
    return server::FinishUnary(ctx, cursor.status());
  }
  CurrentFilter filter;
  filter.indicator_ids.assign(request->indicator_ids().begin(), request->indicator_ids().end());
  filter.area_codes.assign(request->area_codes().begin(), request->area_codes().end());
  filter.years.assign(request->years().begin(), request->years().end());
  filter.unit_code = request->unit_code();
  bool area_scoped = false;
  if (absl::Status allowed =
          ScopeListToReportingAreas(*principal, &filter.area_codes, filter.unit_code, &area_scoped);
      !allowed.ok()) {
    return server::FinishUnary(ctx, allowed);
  }
  if (absl::Status allowed =
          area_scoped ? absl::OkStatus() : ScopeListToOwnUnit(*principal, &filter.unit_code);
      !allowed.ok()) {
    return server::FinishUnary(ctx, allowed);
  }
  absl::StatusOr<CurrentPage> page = store_->ListCurrent(filter, *cursor, page_size);
  if (!page.ok()) {
    return server::FinishUnary(ctx, page.status());
  }
  for (auto& rev : page->revisions) {
    *response->add_data_values() = std::move(rev);
  }
  if (page->next_cursor != 0) {
    response->set_next_page_token(EncodePageToken(page->next_cursor, fingerprint));
  }
  return server::FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* SubmissionServiceImpl::GetHistory(grpc::CallbackServerContext* ctx,
                                                            const v1::GetHistoryRequest* request,
                                                            v1::GetHistoryResponse* response) {
  absl::StatusOr<v1::Principal> principal = authenticate_(*ctx);
  if (!principal.ok()) {
    return server::FinishUnary(ctx, principal.status());
  }
  if (absl::Status checked = CheckHistoryRequest(*request, options_.limits); !checked.ok()) {
    return server::FinishUnary(ctx, checked);
  }
  v1::DataKey key = request->key();
  NormalizeKey(&key);
  const v1::Indicator* ind = catalog_->FindIndicator(key.indicator_id());
  if (key.unit_code().empty()) {
    // As for writes: a unit's own narrative may be asked for without the unit.
    if (ind != nullptr && ind->kind() == v1::INDICATOR_KIND_QUALITATIVE) {
      key.set_unit_code(ResponsibleUnitOf(*principal, *ind));
    }
  }
  if (absl::Status allowed = AuthorizeHistory(*principal, ind, key); !allowed.ok()) {
    return server::FinishUnary(ctx, allowed);
  }
  absl::StatusOr<std::vector<v1::Revision>> history = store_->History(key);
  if (!history.ok()) {
    return server::FinishUnary(ctx, history.status());
  }
  for (auto& rev : *history) {
    *response->add_revisions() = std::move(rev);
  }
  return server::FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* SubmissionServiceImpl::GetReportingStatus(
    grpc::CallbackServerContext* ctx, const v1::GetReportingStatusRequest* request,
    v1::GetReportingStatusResponse* response) {
  absl::StatusOr<v1::Principal> principal = authenticate_(*ctx);
  if (!principal.ok()) {
    return server::FinishUnary(ctx, principal.status());
  }
  if (absl::Status checked = CheckReportingStatusRequest(*request, options_.limits);
      !checked.ok()) {
    return server::FinishUnary(ctx, checked);
  }
  const absl::Time as_of = request->has_as_of() ? FromTimestamp(request->as_of()) : clock_->Now();
  absl::StatusOr<std::vector<ReportingTimes>> times = store_->ListReportingTimes(request->year());
  if (!times.ok()) {
    return server::FinishUnary(ctx, times.status());
  }
  std::vector<std::string> unit_codes(request->unit_codes().begin(), request->unit_codes().end());
  if (absl::Status allowed = ScopeReportingToOwnUnits(*principal, &unit_codes); !allowed.ok()) {
    return server::FinishUnary(ctx, allowed);
  }
  absl::StatusOr<v1::GetReportingStatusResponse> status =
      ComputeReportingStatus(*catalog_, request->year(), unit_codes, as_of, *times);
  if (!status.ok()) {
    return server::FinishUnary(ctx, status.status());
  }
  *response = std::move(*status);
  return server::FinishUnary(ctx, absl::OkStatus());
}

// ------------------------------------------------------------------- Locks

absl::StatusOr<v1::YearLock> SubmissionServiceImpl::ChangeLock(grpc::CallbackServerContext* ctx,
                                                               int year, bool locked,
                                                               const std::string& reason) {
  HALFSKY_ASSIGN_OR_RETURN(v1::Principal principal, authenticate_(*ctx));
  if (!auth::HasRole(principal, v1::ROLE_KIND_STATISTICS) &&
      !auth::HasRole(principal, v1::ROLE_KIND_ADMIN)) {
    return WithReason(absl::PermissionDeniedError(
                          "只有统计局（statistics）或管理员（admin）可以锁定/解锁年份 / only the "
                          "statistics or admin role may lock or unlock a year"),
                      "ROLE_REQUIRED");
  }
  HALFSKY_RETURN_IF_ERROR(YearInRange(year, options_.limits, "year"));
  if (!locked && reason.empty()) {
    return InvalidArgumentError("解锁需要说明原因 / unlocking requires a reason",
                                {{"reason", "解锁需要说明原因 / a reason is required"}});
  }
  if (std::vector<FieldViolation> bad =
          ValidateFreeText("reason", reason, 2000, false, "原因", "reason");
      !bad.empty()) {
    return InvalidArgumentError("原因无效 / invalid reason", bad);
  }
  return store_->SetYearLock(year, locked, principal.name(), reason);
}

grpc::ServerUnaryReactor* SubmissionServiceImpl::LockYear(grpc::CallbackServerContext* ctx,
                                                          const v1::LockYearRequest* request,
                                                          v1::YearLock* response) {
  absl::StatusOr<v1::YearLock> lock = ChangeLock(ctx, request->year(), true, request->reason());
  if (lock.ok()) {
    *response = std::move(*lock);
  }
  return server::FinishUnary(ctx, lock.status());
}

grpc::ServerUnaryReactor* SubmissionServiceImpl::UnlockYear(grpc::CallbackServerContext* ctx,
                                                            const v1::UnlockYearRequest* request,
                                                            v1::YearLock* response) {
  absl::StatusOr<v1::YearLock> lock = ChangeLock(ctx, request->year(), false, request->reason());
  if (lock.ok()) {
    *response = std::move(*lock);
  }
  return server::FinishUnary(ctx, lock.status());
}

grpc::ServerUnaryReactor* SubmissionServiceImpl::ListYearLocks(
    grpc::CallbackServerContext* ctx, const v1::ListYearLocksRequest* request,
    v1::ListYearLocksResponse* response) {
  absl::StatusOr<v1::Principal> principal = authenticate_(*ctx);
  if (!principal.ok()) {
    return server::FinishUnary(ctx, principal.status());
  }
  absl::StatusOr<YearLocks> locks = store_->ListYearLocks();
  if (!locks.ok()) {
    return server::FinishUnary(ctx, locks.status());
  }
  for (auto& l : locks->current) {
    *response->add_locks() = std::move(l);
  }
  for (auto& l : locks->history) {
    *response->add_history() = std::move(l);
  }
  return server::FinishUnary(ctx, absl::OkStatus());
}

}  // namespace halfsky::submission
