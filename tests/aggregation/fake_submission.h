#ifndef HALFSKY_TESTS_AGGREGATION_FAKE_SUBMISSION_H_
#define HALFSKY_TESTS_AGGREGATION_FAKE_SUBMISSION_H_

// A small real gRPC server on loopback implementing only
// SubmissionService.WatchChanges over an in-memory log, with the contract of
// submission.proto: every revision with sequence > after_sequence in order,
// a Heartbeat once the backlog is drained and then periodically while idle,
// then live revisions as they are appended. For follower tests that must
// not depend on the real submission service's storage.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/submission.grpc.pb.h"

namespace halfsky::aggregation::testing {

class FakeSubmission {
 public:
  FakeSubmission();
  ~FakeSubmission();

  // Starts listening on 127.0.0.1:`port` (0: any). Returns false on failure.
  bool Start(int port = 0);
  // Stops the server (ends every stream). The log is kept.
  void Stop();
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Appends with the next sequence (overwriting the given one); returns it.
  int64_t Append(halfsky::v1::Revision revision);
  std::vector<halfsky::v1::Revision> Log() const;
  // Forgets everything (a reset store: the feed starts again at 1).
  void Reset();
  // The next heartbeat sent on draining a backlog (by any stream) goes out
  // with `live` in ONE message, heartbeat first: `live` is appended to the log
  // (with the next sequences) as that heartbeat is sent, so the heartbeat's
  // head is the backlog's and what follows it in the message is live. (The
  // contract does not tie events to messages; a follower must treat the
  // events after the heartbeat as live whatever the framing.) One-shot.
  void SendWithNextHeartbeat(std::vector<halfsky::v1::Revision> live);

 private:
  class Service;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace halfsky::aggregation::testing

#endif  // HALFSKY_TESTS_AGGREGATION_FAKE_SUBMISSION_H_
