#ifndef HALFSKY_COMMON_SERVER_RESPONSE_CACHE_H_
#define HALFSKY_COMMON_SERVER_RESPONSE_CACHE_H_

// A bounded cache of the serialized responses of one read method, for raw
// callback methods (WithRawCallbackMethod_*) whose answer is a function of
// the request's bytes and of one version of the service's state.
//
// The version is a number the state's single writer raises with every
// change (e.g. the aggregation state's version(), the published warning
// set's version()). Entries are kept for the newest version seen only: an
// insert at a newer version empties the cache first, an insert at an older
// one is ignored, and a lookup finds nothing unless its version is the
// cache's. When `max_entries` are held the next insert empties it (so a
// scan of distinct requests costs one rebuild per `max_entries` calls, and
// memory stays bounded by max_entries responses). Responses are
// ref-counted slices: a hit copies no bytes.
//
// Callers authenticate and authorize before answering from it; cache only
// answers that do not depend on the caller, and never errors. Requests
// longer than kMaxRequestBytes are never cached (a real read request is a
// few dozen bytes; padded ones would otherwise hold up to max_entries ×
// the largest message a server accepts).
//
// Thread-safety: thread-safe (lookups share a reader lock).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/slice.h"

namespace halfsky::server {

class VersionedResponseCache {
 public:
  static constexpr size_t kMaxRequestBytes = 4096;

  // max_entries == 0: Find never hits and Insert keeps nothing.
  explicit VersionedResponseCache(size_t max_entries) : max_entries_(max_entries) {}

  VersionedResponseCache(const VersionedResponseCache&) = delete;
  VersionedResponseCache& operator=(const VersionedResponseCache&) = delete;

  // The response kept for `request` at `version` (a new reference to the
  // same bytes), or nullopt.
  std::optional<grpc::Slice> Find(int64_t version, absl::string_view request) const;

  // Keeps `response` as the answer to `request` at `version` (see above).
  void Insert(int64_t version, absl::string_view request, const grpc::Slice& response);

  // Entries held now (for tests and metrics).
  size_t size() const;

 private:
  const size_t max_entries_;
  mutable absl::Mutex mu_;
  int64_t version_ ABSL_GUARDED_BY(mu_) = -1;
  absl::flat_hash_map<std::string, grpc::Slice> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace halfsky::server

#endif  // HALFSKY_COMMON_SERVER_RESPONSE_CACHE_H_
