#ifndef HALFSKY_COMMON_SERVER_QUEUED_WRITE_REACTOR_H_
#define HALFSKY_COMMON_SERVER_QUEUED_WRITE_REACTOR_H_

// A server-streaming callback reactor that writes queued events one at a
// time, with a bounded queue: the shape of every halfsky watch stream
// (WatchWarnings, WatchFollowUps). A subclass subscribes to its source in
// its own Begin(), queues what the source sends with Enqueue(), then calls
// StartWriting(); the events queued before StartWriting() (the initial set)
// never count against the bound, at most `max_queue` more may wait after
// them. A stream that falls further behind is ended ABORTED with the
// subclass's message (the client watches again and resyncs); a failed write
// ends it CANCELLED; Close(status) ends it with `status` after dropping
// what is still queued.
//
// Thread-safety: Enqueue and Close may be called from any thread (they only
// touch the queue under the reactor's mutex); gRPC calls (StartWrite,
// Finish) are made with the mutex released, since gRPC may run OnWriteDone
// inline. Ownership: gRPC owns the reactor; the subclass deletes itself in
// OnDone() (after unsubscribing from its source).

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/status/status.h"
#include "grpcpp/grpcpp.h"

namespace halfsky::server {

template <typename Event>
class QueuedWriteReactor : public grpc::ServerWriteReactor<Event> {
 public:
  void OnCancel() override { Close(absl::CancelledError("cancelled by the client")); }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok && !closing_) {
        queue_.clear();
        closing_ = true;
        finish_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "write failed");
      }
    }
    Pump();
  }

 protected:
  // `fell_behind_message`: the ABORTED message of a stream that fell
  // behind (Chinese first).
  explicit QueuedWriteReactor(std::string fell_behind_message)
      : fell_behind_message_(std::move(fell_behind_message)) {}

  enum class Queued { kQueued, kClosed, kFellBehind };

  // Queues `event` (written once StartWriting has run). kClosed: the stream
  // is closing and the event was dropped; kFellBehind: this event would
  // exceed the bound, so the stream is now ending ABORTED.
  Queued Enqueue(const Event& event) {
    bool pump = false;
    Queued result = Queued::kQueued;
    {
      absl::MutexLock lock(&mu_);
      if (closing_) {
        return Queued::kClosed;
      }
      if (started_ && queue_.size() >= limit_) {
        queue_.clear();
        closing_ = true;
        finish_status_ = grpc::Status(grpc::StatusCode::ABORTED, fell_behind_message_);
        result = Queued::kFellBehind;
      } else {
        queue_.push_back(event);
      }
      // Before StartWriting, StartWriting starts the writes.
      pump = started_;
    }
    if (pump) {
      Pump();
    }
    return result;
  }

  // Starts writing what is queued; from now on at most `max_queue` events
  // may wait beyond those.
  void StartWriting(size_t max_queue) {
    {
      absl::MutexLock lock(&mu_);
      started_ = true;
      limit_ = queue_.size() + max_queue;
    }
    Pump();
  }

  // Drops what is queued and ends the stream with `status` once the write
  // in flight (if any) is done. Later calls do nothing.
  void Close(const absl::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      if (closing_) {
        return;
      }
      closing_ = true;
      queue_.clear();
      finish_status_ = ToGrpcStatus(status);
      started_ = true;
    }
    Pump();
  }

 private:
  // Starts the next write, or finishes once closing and idle.
  void Pump() {
    const Event* to_write = nullptr;
    std::optional<grpc::Status> to_finish;
    {
      absl::MutexLock lock(&mu_);
      if (writing_ || finished_) {
        return;
      }
      if (!queue_.empty()) {
        current_ = std::move(queue_.front());
        queue_.pop_front();
        writing_ = true;
        to_write = &current_;
      } else if (closing_) {
        finished_ = true;
        to_finish = finish_status_;
      }
    }
    if (to_write != nullptr) {
      this->StartWrite(to_write);
    } else if (to_finish.has_value()) {
      this->Finish(*to_finish);
    }
  }

  const std::string fell_behind_message_;
  absl::Mutex mu_;
  std::deque<Event> queue_ ABSL_GUARDED_BY(mu_);
  Event current_;  // the event being written (only while writing_)
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  size_t limit_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status finish_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace halfsky::server

#endif  // HALFSKY_COMMON_SERVER_QUEUED_WRITE_REACTOR_H_
