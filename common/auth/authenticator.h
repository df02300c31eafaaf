#ifndef HALFSKY_COMMON_AUTH_AUTHENTICATOR_H_
#define HALFSKY_COMMON_AUTH_AUTHENTICATOR_H_

// Authentication of gRPC calls, the one path every halfsky service uses:
// reads `authorization: Bearer <token>` from the call's metadata and maps
// the token to a principal through a TokenStore, behind a bounded cache.
//
// Every service takes an AuthenticateFn (main() passes
// `authenticator->AsFunction()`) and starts each handler with:
//
//   HALFSKY_ASSIGN_OR_RETURN(v1::Principal who, authenticate_(*context));
//   HALFSKY_RETURN_IF_ERROR(auth::RequireRole(who, {v1::ROLE_KIND_STATISTICS,
//                                                   v1::ROLE_KIND_ADMIN}));
//
// With TLS, the server bootstrap (common/server) calls AuthenticateMetadata
// from a grpc::AuthMetadataProcessor, before a call's message is read: the
// same checks, messages and cache as AuthenticateCall, so a call refused
// early and a call refused in its handler say the same thing. (gRPC 1.51
// has no such hook for plaintext servers, and its interceptors run only
// after the message is read and parsed.)
//
// Cache (decision): successful authentications are kept by token, at most
// `cache_entries` of them (the cache is emptied when full), so a repeated
// token costs a hash-map lookup instead of a SHA-256 and a store lookup.
// Failures are never cached. The tokens cannot change without Reload(),
// which empties the cache: a revoked token stops working as soon as the
// reload returns.
//
// Errors (UNAUTHENTICATED; messages Chinese then English; the token is never
// echoed, not even in part):
//   - no authorization metadata;
//   - more than one authorization entry, a scheme other than "Bearer"
//     (case-insensitive), or a token outside RFC 6750's token68 alphabet;
//   - a token not in the store.
//
// Rate limit (decision): AuthenticateCall — what every handler calls
// first, through AsFunction() — also takes one call from the principal's
// budget (RateLimiter: a token bucket per principal name) and refuses an
// authenticated call over budget with RESOURCE_EXHAUSTED carrying a
// google.rpc.RetryInfo (the delay until the next call is allowed), before
// the handler does anything. Not limited: principals holding
// ROLE_KIND_SERVICE (the services' own bursts, e.g. evaluation's full pass
// reading every series, are the system working, and their tokens never
// leave the cluster) and no-auth mode (everyone is one anonymous
// principal). AuthenticateMetadata and AuthenticateToken never take from
// the budget. A streaming call is one call, however long it lasts.
//
// No-auth mode (decision): when --tokens_file is empty, every caller —
// with or without a token — is the principal "anonymous" holding the
// `admin` role, and a loud warning is printed at start-up. This keeps
// `deploy/local/run.sh` and quick experiments free of token handling;
// production deployments (deploy/k8s) always set --tokens_file. A
// configured but unreadable or invalid token file is a start-up error,
// never a silent fallback to no-auth.
//
// Thread-safety: thread-safe. Reload() may run concurrently with
// authentication; each call sees either the old or the new tokens, and no
// principal of the old tokens is cached after Reload() returns.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/rate_limiter.h"
#include "common/auth/token_store.h"
#include "common/clock/clock.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/string_ref.h"
#include "halfsky/v1/common.pb.h"

namespace halfsky::auth {

// Who is calling: the principal, or UNAUTHENTICATED (the service then
// answers with that status). What every service's constructor takes:
// Authenticator::AsFunction() in production. Must be thread-safe.
using AuthenticateFn =
    std::function<absl::StatusOr<halfsky::v1::Principal>(const grpc::CallbackServerContext&)>;

struct AuthenticatorOptions {
  // Successful authentications kept (see above); 0 disables the cache.
  size_t cache_entries = 1024;
  // Per-principal call budget applied by AuthenticateCall (see "Rate
  // limit" above); off by default (per_second 0). AuthenticatorFromFlags
  // sets it from --rate_limit_per_second and --rate_limit_burst.
  RateLimitOptions rate_limit;
  // For the rate limiter; nullptr = the system clock. Must outlive the
  // authenticator.
  const Clock* clock = nullptr;
};

// Name of the principal every caller becomes in no-auth mode.
inline constexpr char kAnonymousPrincipal[] = "anonymous";

// Extracts the token from an authorization metadata value
// ("Bearer <token>"). UNAUTHENTICATED if malformed.
absl::StatusOr<std::string> ParseBearerHeader(absl::string_view value);

class Authenticator {
 public:
  // Authenticates against `store`. `path` (may be empty) is the file it
  // came from, for Reload().
  static std::unique_ptr<Authenticator> WithTokens(TokenStore store, std::string path = "",
                                                   AuthenticatorOptions options = {});
  // No-auth mode (see above). Prints nothing; FromTokensFile warns.
  static std::unique_ptr<Authenticator> NoAuth();
  // Empty `path` → NoAuth() and a warning on stderr; otherwise loads the
  // file (TokenStore::FromFile errors).
  static absl::StatusOr<std::unique_ptr<Authenticator>> FromTokensFile(
      const std::string& path, AuthenticatorOptions options = {});

  ~Authenticator();

  // False in no-auth mode.
  bool enabled() const { return enabled_; }

  // The principal for the call's `authorization: Bearer <token>` metadata,
  // after taking one call from its rate-limit budget (RESOURCE_EXHAUSTED
  // with RetryInfo when over it; see above). Works for
  // grpc::CallbackServerContext and every other ServerContextBase.
  absl::StatusOr<halfsky::v1::Principal> AuthenticateCall(
      const grpc::ServerContextBase& context) const;
  // The same from a raw metadata map (for interceptors and tests): exactly
  // one `authorization` entry, "Bearer <token68>".
  absl::StatusOr<halfsky::v1::Principal> AuthenticateMetadata(
      const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const;
  // The principal for a bare token (no "Bearer " prefix), through the
  // cache.
  absl::StatusOr<halfsky::v1::Principal> AuthenticateToken(absl::string_view token) const;

  // A callable that outlives nothing: it references *this, which must stay
  // alive while the function is used.
  AuthenticateFn AsFunction() const;

  // TokenStore::CheckUnitCodes on the current tokens; OK in no-auth mode.
  absl::Status CheckUnitCodes(const std::function<bool(absl::string_view)>& is_known) const;

  // Re-reads the token file given at construction (e.g. after rotating a
  // Kubernetes Secret) and empties the cache. On error the previous tokens
  // (and the cache) stay in force and the error is returned.
  // FAILED_PRECONDITION in no-auth mode or without a path.
  absl::Status Reload();

  // Principals currently cached (tests, metrics).
  size_t cached_principals() const;

  // Whether calls are rate-limited (options.rate_limit.per_second > 0 and
  // authentication enabled).
  bool rate_limited() const { return limiter_ != nullptr; }

 private:
  Authenticator(bool enabled, std::shared_ptr<const TokenStore> store, std::string path,
                AuthenticatorOptions options);

  const bool enabled_;
  const std::string path_;
  const AuthenticatorOptions options_;
  // nullptr when not rate-limited.
  const std::unique_ptr<RateLimiter> limiter_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const TokenStore> store_ ABSL_GUARDED_BY(mu_);
  // Bumped by Reload(): a result computed from an older store is not cached.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  mutable absl::flat_hash_map<std::string, halfsky::v1::Principal> cache_ ABSL_GUARDED_BY(mu_);
};

// --tokens_file (defined by this library): the token file path, "" for
// no-auth mode. --rate_limit_per_second and --rate_limit_burst (also
// defined here) give AuthenticatorFromFlags its rate limit.
std::string TokensFileFlag();
// Authenticator::FromTokensFile(--tokens_file) with the --rate_limit_*
// flags. Services call this in main() and exit with status 2 on error.
// The result is also what FlagsAuthenticator() returns while it lives.
absl::StatusOr<std::unique_ptr<Authenticator>> AuthenticatorFromFlags();

// The authenticator AuthenticatorFromFlags made last, while it is alive
// (its destructor clears this); nullptr otherwise. How the server
// bootstrap (common/server) refuses unauthenticated calls before their
// message is read, without main() handing the authenticator over.
// Thread-safe.
const Authenticator* FlagsAuthenticator();

}  // namespace halfsky::auth

#endif  // HALFSKY_COMMON_AUTH_AUTHENTICATOR_H_
