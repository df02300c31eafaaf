#include "services/submission/store.h"

#include <algorithm>
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
  // Read in chunks of at most kChunk, so that what is read past the budget
  // (and read again by the next page) is at most one chunk's rest, and so
  // is the memory held while reading.
  constexpr int kChunk = 500;
  std::vector<halfsky::v1::Revision*> out;
  size_t bytes = 0;
  int64_t after = after_sequence;
  while (static_cast<int>(out.size()) < limit && (out.empty() || bytes < max_bytes)) {
    const int want = std::min(kChunk, limit - static_cast<int>(out.size()));
    absl::StatusOr<std::vector<halfsky::v1::Revision>> chunk = ReadChanges(after, want);
    if (!chunk.ok()) {
      return chunk.status();
    }
    for (halfsky::v1::Revision& rev : *chunk) {
      if (!out.empty() && bytes >= max_bytes) {
        break;
      }
      bytes += rev.data_value().ByteSizeLong() + rev.change_reason().size();
      after = rev.sequence();
      // Moved (swapped) into a heap message the arena owns and deletes when
      // it is reset: no copy. Its parent on the arena never deletes it.
      auto* owned = new halfsky::v1::Revision(std::move(rev));
      arena->Own(owned);
      out.push_back(owned);
    }
    if (static_cast<int>(chunk->size()) < want) {
      break;  // caught up
    }
  }
  return out;
}

}  // namespace halfsky::submission
