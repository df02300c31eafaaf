#include "common/redis/redis_flags.h"

#include <utility>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/redis/secret_file.h"

ABSL_FLAG(std::string, redis, "127.0.0.1:6379",
          "Redis (the aggregate cache): HOST:PORT (one server, or a managed endpoint whose name "
          "follows the primary), or sentinel://HOST:PORT[,HOST:PORT...]/MASTER to follow the "
          "primary that Redis Sentinel reports for MASTER.");
ABSL_FLAG(bool, redis_tls_tunnel, false,
          "--redis is the loopback end of a TLS tunnel beside this service (a stunnel client "
          "that verifies the Redis server's certificate; deploy/k8s/components/redis-tls). "
          "Refuses a sentinel:// address (the sentinels name the servers' own addresses, which "
          "would bypass the tunnel) and a host other than 127.0.0.1, ::1 or localhost; "
          "connection errors name the tunnel.");
ABSL_FLAG(std::string, redis_sentinel_user, "",
          "ACL user for AUTH to the sentinels (with --redis=sentinel://...). Empty: the "
          "sentinel's default user.");
ABSL_FLAG(std::string, redis_sentinel_password_file, "",
          "File holding the sentinels' password (their requirepass or the ACL user's; mode 600 "
          "or 640). Empty: no AUTH to the sentinels.");
ABSL_FLAG(std::string, redis_user, "",
          "Redis ACL user (AUTH user password after every connect): aggregation's is the writer "
          "(halfsky:agg:* and PUBLISH), evaluation's the read-only reader (GET, SUBSCRIBE). "
          "Empty: the default user.");
ABSL_FLAG(std::string, redis_password_file, "",
          "File holding the Redis password (mode 600 or 640; never on the command line). "
          "Empty: no AUTH.");
ABSL_FLAG(std::string, cache_mac_key_file, "",
          "File holding the HMAC-SHA256 key that tags every cached series value; aggregation and "
          "evaluation must hold the same. Evaluation refuses a value whose tag does not match and "
          "reads it from the aggregation service. Empty: values carry an unkeyed checksum only "
          "(anyone with write access to Redis can forge them).");

namespace halfsky {
namespace {

absl::Status Prefixed(absl::string_view flag, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat("--", flag, ": ", status.message()));
}

}  // namespace

absl::StatusOr<CacheConnection> CacheConnectionFromFlags() {
  CacheConnection out;
  absl::StatusOr<HiredisOptions> redis = ParseRedisAddress(absl::GetFlag(FLAGS_redis));
  if (!redis.ok()) {
    return Prefixed("redis", redis.status());
  }
  out.redis = *std::move(redis);
  if (absl::GetFlag(FLAGS_redis_tls_tunnel)) {
    if (!out.redis.sentinels.empty()) {
      return absl::InvalidArgumentError(
          "--redis_tls_tunnel 不能与 --redis=sentinel://... 同用：哨兵报告的是 Redis 服务器自己的"
          "地址，连接会绕过 TLS 隧道；请用一个（托管 Redis 的）地址 (a TLS tunnel works with one "
          "Redis address, not with Sentinel: the sentinels report the servers' own addresses, "
          "which bypass the tunnel)");
    }
    const std::string& host = out.redis.host;
    if (host != "127.0.0.1" && host != "::1" && host != "localhost") {
      return absl::InvalidArgumentError(absl::StrCat(
          "--redis_tls_tunnel: --redis 必须是本机隧道的回环地址 (127.0.0.1, ::1 or localhost: the "
          "tunnel listens beside the service), got ",
          host));
    }
    out.redis.via_tls_tunnel = true;
  }
  out.redis.username = absl::GetFlag(FLAGS_redis_user);
  const std::string sentinel_user = absl::GetFlag(FLAGS_redis_sentinel_user);
  const std::string sentinel_password_path = absl::GetFlag(FLAGS_redis_sentinel_password_file);
  if (out.redis.sentinels.empty() && (!sentinel_user.empty() || !sentinel_password_path.empty())) {
    return absl::InvalidArgumentError(
        "--redis_sentinel_user / --redis_sentinel_password_file 只用于 "
        "--redis=sentinel://... (only with a sentinel address)");
  }
  out.redis.sentinel_username = sentinel_user;
  if (!sentinel_password_path.empty()) {
    absl::StatusOr<std::string> password = ReadSecretFile(sentinel_password_path);
    if (!password.ok()) {
      return Prefixed("redis_sentinel_password_file", password.status());
    }
    out.redis.sentinel_password = *std::move(password);
  }
  if (const std::string path = absl::GetFlag(FLAGS_redis_password_file); !path.empty()) {
    absl::StatusOr<std::string> password = ReadSecretFile(path);
    if (!password.ok()) {
      return Prefixed("redis_password_file", password.status());
    }
    out.redis.password = *std::move(password);
  }
  if (const std::string path = absl::GetFlag(FLAGS_cache_mac_key_file); !path.empty()) {
    absl::StatusOr<std::string> key = ReadSecretFile(path);
    if (!key.ok()) {
      return Prefixed("cache_mac_key_file", key.status());
    }
    out.cache_mac_key = *std::move(key);
  }
  return out;
}

}  // namespace halfsky
