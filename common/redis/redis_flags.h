#ifndef HALFSKY_COMMON_REDIS_REDIS_FLAGS_H_
#define HALFSKY_COMMON_REDIS_REDIS_FLAGS_H_

// The flags of every service that uses the aggregate cache in Redis
// (aggregation writes it, evaluation reads it), defined once:
//   --redis HOST:PORT or sentinel://HOST:PORT[,...]/MASTER (Redis Sentinel;
//   common/redis/hiredis_client.h), --redis_user, --redis_password_file (the
//   ACL user and its password; deploy/redis/users.acl.in),
//   --redis_sentinel_user, --redis_sentinel_password_file (AUTH to the
//   sentinels; only with a sentinel:// address), --cache_mac_key_file (the
//   HMAC-SHA256 key that tags every cached series value; both services must
//   hold the same). Secrets are read with ReadSecretFile, never from the
//   command line.

#include <string>

#include "absl/status/statusor.h"
#include "common/redis/hiredis_client.h"

namespace halfsky {

struct CacheConnection {
  HiredisOptions redis;       // address, username and password
  std::string cache_mac_key;  // empty without --cache_mac_key_file
};

// Reads the flags above. INVALID_ARGUMENT for a bad --redis address,
// sentinel credentials without a sentinel address, or --redis_tls_tunnel
// with a sentinel:// address or a host that is not loopback; the
// errors of ReadSecretFile for a password or key file, each prefixed with
// its flag. Call after absl::ParseCommandLine.
absl::StatusOr<CacheConnection> CacheConnectionFromFlags();

}  // namespace halfsky

#endif  // HALFSKY_COMMON_REDIS_REDIS_FLAGS_H_
