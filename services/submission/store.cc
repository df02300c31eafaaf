#include "services/submission/store.h"

#include <utility>

#include "absl/synchronization/notification.h"

namespace halfsky::submission {

absl::StatusOr<halfsky::v1::SubmitBatchResponse> SubmissionStore::WriteAndWait(
    WriteRequest request) {
  absl::Notification done;
  absl::StatusOr<halfsky::v1::SubmitBatchResponse> result;
  Write(std::move(request), [&](absl::StatusOr<halfsky::v1::SubmitBatchResponse> r) {
    result = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

}  // namespace halfsky::submission
