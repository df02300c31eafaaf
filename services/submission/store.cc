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

absl::StatusOr<std::vector<halfsky::v1::Revision*>> SubmissionStore::ReadChangesOnArena(
    int64_t after_sequence, int limit, size_t max_bytes, google::protobuf::Arena* arena) {
  absl::StatusOr<std::vector<halfsky::v1::Revision>> page = ReadChanges(after_sequence, limit);
  if (!page.ok()) {
    return page.status();
  }
  std::vector<halfsky::v1::Revision*> out;
  out.reserve(page->size());
  size_t bytes = 0;
  for (halfsky::v1::Revision& rev : *page) {
    if (!out.empty() && bytes >= max_bytes) {
      break;
    }
    bytes += rev.data_value().ByteSizeLong() + rev.change_reason().size();
    // Moved (swapped) into a heap message the arena owns and deletes when
    // it is reset: no copy. Its parent on the arena never deletes it.
    auto* owned = new halfsky::v1::Revision(std::move(rev));
    arena->Own(owned);
    out.push_back(owned);
  }
  return out;
}

}  // namespace halfsky::submission
