// One event at a time from a WatchChanges stream, whose messages carry
// batches of events (WatchChangesResponse): for tests that read the feed
// event by event.
//
//   auto reader = testing::ChangeEvents(stub->WatchChanges(&ctx, request));
//   v1::ChangeEvent ev;
//   while (reader->Read(&ev)) { ... }
//   grpc::Status st = reader->Finish();
//
// Not thread-safe (like grpc::ClientReader). Owns the stream's reader.
#ifndef HALFSKY_TESTS_SUPPORT_CHANGE_EVENTS_H_
#define HALFSKY_TESTS_SUPPORT_CHANGE_EVENTS_H_

#include <memory>
#include <utility>

#include "grpcpp/grpcpp.h"
#include "halfsky/v1/submission.pb.h"

namespace halfsky::testing {

class ChangeEventReader {
 public:
  explicit ChangeEventReader(
      std::unique_ptr<grpc::ClientReader<halfsky::v1::WatchChangesResponse>> reader)
      : reader_(std::move(reader)) {}

  // The next event, reading the next message when this one is used up.
  // False once the stream ended (then call Finish). A message without
  // events breaks the feed's contract and ends the reading, too.
  bool Read(halfsky::v1::ChangeEvent* event) {
    if (next_ >= message_.events_size()) {
      next_ = 0;
      if (!reader_->Read(&message_) || message_.events_size() == 0) {
        message_.Clear();
        return false;
      }
    }
    *event = std::move(*message_.mutable_events(next_++));
    return true;
  }

  // The stream's status, once Read returned false.
  grpc::Status Finish() { return reader_->Finish(); }

 private:
  std::unique_ptr<grpc::ClientReader<halfsky::v1::WatchChangesResponse>> reader_;
  halfsky::v1::WatchChangesResponse message_;
  int next_ = 0;
};

inline std::unique_ptr<ChangeEventReader> ChangeEvents(
    std::unique_ptr<grpc::ClientReader<halfsky::v1::WatchChangesResponse>> reader) {
  return std::make_unique<ChangeEventReader>(std::move(reader));
}

}  // namespace halfsky::testing

#endif  // HALFSKY_TESTS_SUPPORT_CHANGE_EVENTS_H_
