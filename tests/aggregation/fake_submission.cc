#include "tests/aggregation/fake_submission.h"

#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"

namespace halfsky::aggregation::testing {

class FakeSubmission::Service final : public halfsky::v1::SubmissionService::Service {
 public:
  grpc::Status WatchChanges(
      grpc::ServerContext* ctx, const halfsky::v1::WatchChangesRequest* request,
      grpc::ServerWriter<halfsky::v1::WatchChangesResponse>* writer) override {
    int64_t next = request->after_sequence() + 1;
    bool heartbeat_sent = false;
    absl::Time last_heartbeat = absl::InfinitePast();
    while (!ctx->IsCancelled()) {
      std::vector<halfsky::v1::Revision> batch;
      int64_t head;
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) {
          return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
        }
        head = static_cast<int64_t>(log_.size());
        for (int64_t s = next; s <= head && batch.size() < 100; ++s) {
          batch.push_back(log_[s - 1]);
        }
      }
      if (!batch.empty()) {
        // One message per batch, as the real feed sends its pages.
        halfsky::v1::WatchChangesResponse message;
        for (auto& r : batch) {
          *message.add_events()->mutable_revision() = std::move(r);
        }
        if (!writer->Write(message)) {
          return grpc::Status::OK;
        }
        next += static_cast<int64_t>(batch.size());
        heartbeat_sent = false;
        continue;
      }
      // Drained: a heartbeat now, then every 200 ms while idle.
      if (!heartbeat_sent || absl::Now() - last_heartbeat >= absl::Milliseconds(200)) {
        halfsky::v1::WatchChangesResponse message;
        halfsky::v1::Heartbeat* hb = message.add_events()->mutable_heartbeat();
        hb->set_head_sequence(head);
        *hb->mutable_sent_at() =
            google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::GetCurrentTimeNanos());
        if (!heartbeat_sent) {
          // The live revisions of SendWithNextHeartbeat, if any, ride in
          // the same message; `next` moves past them. A revision appended
          // since `head` was read would make the heartbeat's head stale
          // (then none are sent: the hook waits for the next drain).
          absl::MutexLock lock(&mu_);
          if (!with_heartbeat_.empty() && static_cast<int64_t>(log_.size()) == head) {
            for (halfsky::v1::Revision& r : with_heartbeat_) {
              r.set_sequence(static_cast<int64_t>(log_.size()) + 1);
              log_.push_back(r);
              *message.add_events()->mutable_revision() = std::move(r);
              ++next;
            }
            with_heartbeat_.clear();
          }
        }
        if (!writer->Write(message)) {
          return grpc::Status::OK;
        }
        heartbeat_sent = true;
        last_heartbeat = absl::Now();
      }
      struct Wait {
        Service* s;
        int64_t next;
      } w{this, next};
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(
                               +[](Wait* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                 return w->s->stopping_ ||
                                        static_cast<int64_t>(w->s->log_.size()) >= w->next;
                               },
                               &w),
                           absl::Milliseconds(50));
    }
    return grpc::Status::OK;
  }

  int64_t Append(halfsky::v1::Revision r) {
    absl::MutexLock lock(&mu_);
    r.set_sequence(static_cast<int64_t>(log_.size()) + 1);
    log_.push_back(std::move(r));
    return static_cast<int64_t>(log_.size());
  }
  std::vector<halfsky::v1::Revision> Log() const {
    absl::MutexLock lock(&mu_);
    return log_;
  }
  void Reset() {
    absl::MutexLock lock(&mu_);
    log_.clear();
  }
  void SendWithNextHeartbeat(std::vector<halfsky::v1::Revision> live) {
    absl::MutexLock lock(&mu_);
    with_heartbeat_ = std::move(live);
  }
  void SetStopping(bool stopping) {
    absl::MutexLock lock(&mu_);
    stopping_ = stopping;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<halfsky::v1::Revision> log_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<halfsky::v1::Revision> with_heartbeat_ ABSL_GUARDED_BY(mu_);
};

FakeSubmission::FakeSubmission() : service_(std::make_unique<Service>()) {}

FakeSubmission::~FakeSubmission() { Stop(); }

bool FakeSubmission::Start(int port) {
  service_->SetStopping(false);
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                           &bound);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || bound == 0) {
    server_.reset();
    return false;
  }
  port_ = bound;
  return true;
}

void FakeSubmission::Stop() {
  if (server_ != nullptr) {
    service_->SetStopping(true);
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_->Wait();
    server_.reset();
  }
}

int64_t FakeSubmission::Append(halfsky::v1::Revision revision) {
  return service_->Append(std::move(revision));
}

std::vector<halfsky::v1::Revision> FakeSubmission::Log() const { return service_->Log(); }

void FakeSubmission::Reset() { service_->Reset(); }

void FakeSubmission::SendWithNextHeartbeat(std::vector<halfsky::v1::Revision> live) {
  service_->SendWithNextHeartbeat(std::move(live));
}

}  // namespace halfsky::aggregation::testing
