#ifndef HALFSKY_SERVICES_WEB_SESSIONS_H_
#define HALFSKY_SERVICES_WEB_SESSIONS_H_

// Browser sessions of halfsky-web, in memory only: a random session id (the
// HttpOnly cookie) maps to the caller's bearer token, a CSRF token (the
// double-submit value every POST must echo in X-CSRF-Token) and an expiry.
// The token never leaves the process towards the browser again. A restart
// signs everyone out (by design: nothing secret is written to disk).
//
// Thread-safe.

#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace halfsky::web {

struct Session {
  std::string id;          // 32 random bytes, hex
  std::string csrf_token;  // 32 random bytes, hex
  std::string bearer_token;
  absl::Time expires;
};

// Hex of `n` bytes from getrandom(2) (the kernel's CSPRNG). Aborts if the
// kernel refuses (never on Linux ≥ 3.17 once booted).
std::string RandomHex(size_t n);

// Compares in time independent of where the strings differ.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

class SessionStore {
 public:
  // Sessions last `lifetime` from sign-in; at most `max_sessions` live at
  // once (the oldest is dropped when a new one would pass it).
  SessionStore(absl::Duration lifetime, size_t max_sessions);

  // A new session for `bearer_token`, as of `now`.
  Session Create(const std::string& bearer_token, absl::Time now);
  // The live session with this id; nullopt if unknown or expired (an
  // expired one is removed).
  std::optional<Session> Find(const std::string& id, absl::Time now);
  // Removes it (sign-out); no-op if unknown.
  void Remove(const std::string& id);
  size_t size() const;
  absl::Duration lifetime() const { return lifetime_; }

 private:
  const absl::Duration lifetime_;
  const size_t max_sessions_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Session> sessions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace halfsky::web

#endif  // HALFSKY_SERVICES_WEB_SESSIONS_H_
