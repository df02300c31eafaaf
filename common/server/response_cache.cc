#include "common/server/response_cache.h"

namespace halfsky::server {

std::optional<grpc::Slice> VersionedResponseCache::Find(int64_t version,
                                                        absl::string_view request) const {
  if (max_entries_ == 0) {
    return std::nullopt;
  }
  absl::ReaderMutexLock lock(&mu_);
  if (version != version_) {
    return std::nullopt;
  }
  auto it = entries_.find(request);
  if (it == entries_.end()) {
    return std::nullopt;
  }
  return it->second;
}

void VersionedResponseCache::Insert(int64_t version, absl::string_view request,
                                    const grpc::Slice& response) {
  if (max_entries_ == 0 || request.size() > kMaxRequestBytes) {
    return;
  }
  absl::MutexLock lock(&mu_);
  if (version < version_) {
    return;  // built from an older state than the cache already holds
  }
  if (version > version_ || entries_.size() >= max_entries_) {
    entries_.clear();
    version_ = version;
  }
  entries_.insert_or_assign(std::string(request), response);
}

size_t VersionedResponseCache::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace halfsky::server
