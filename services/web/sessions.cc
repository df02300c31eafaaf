#include "services/web/sessions.h"

#include <sys/random.h>

#include <cstdlib>
#include <string>

#include "absl/strings/escaping.h"

namespace halfsky::web {

std::string RandomHex(size_t n) {
  std::string bytes(n, '\0');
  size_t got = 0;
  while (got < n) {
    const ssize_t r = getrandom(bytes.data() + got, n - got, 0);
    if (r <= 0) {
      std::abort();
    }
    got += static_cast<size_t>(r);
  }
  return absl::BytesToHexString(bytes);
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

SessionStore::SessionStore(absl::Duration lifetime, size_t max_sessions)
    : lifetime_(lifetime), max_sessions_(max_sessions) {}

Session SessionStore::Create(const std::string& bearer_token, absl::Time now) {
  Session s{RandomHex(32), RandomHex(32), bearer_token, now + lifetime_};
  absl::MutexLock lock(&mu_);
  // Drop the expired first, then the oldest while full.
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second.expires <= now) {
      sessions_.erase(it++);
    } else {
      ++it;
    }
  }
  while (sessions_.size() >= max_sessions_ && !sessions_.empty()) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.expires < oldest->second.expires) {
        oldest = it;
      }
    }
    sessions_.erase(oldest);
  }
  sessions_[s.id] = s;
  return s;
}

std::optional<Session> SessionStore::Find(const std::string& id, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) {
    return std::nullopt;
  }
  if (it->second.expires <= now) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void SessionStore::Remove(const std::string& id) {
  absl::MutexLock lock(&mu_);
  sessions_.erase(id);
}

size_t SessionStore::size() const {
  absl::MutexLock lock(&mu_);
  return sessions_.size();
}

}  // namespace halfsky::web
