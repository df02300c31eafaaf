#!/bin/sh
# Starts one Redis Sentinel of the set (components/sentinel-redis).
#
# Finds the primary to monitor as redis-start.sh does (the other sentinels,
# else a Redis server whose ROLE is master, else the first one), waits until
# its name resolves, writes $RUNTIME_DIR/sentinel.conf (Sentinel rewrites
# it with what it learns) and runs redis-server --sentinel on it.
# Sentinel ACL: the default user is off; halfsky-sentinel-client may only
# ask for the primary's address (aggregation, evaluation, the Redis servers
# at start); halfsky-sentinel-admin is what the sentinels use among
# themselves and what an operator uses. To Redis the sentinels AUTH as
# halfsky-sentinel (sentinel-set-users.acl.in).
set -eu
: "${MASTER_NAME:=halfsky}"
: "${QUORUM:=2}"
: "${DOWN_AFTER_MS:=5000}"
: "${FAILOVER_TIMEOUT_MS:=60000}"
: "${REDIS_PORT:=6379}"
: "${SENTINEL_PORT:=26379}"
: "${REDIS_PEERS:=redis-0.redis-headless redis-1.redis-headless redis-2.redis-headless}"
: "${SENTINELS:=redis-sentinel-0.redis-sentinel redis-sentinel-1.redis-sentinel redis-sentinel-2.redis-sentinel}"
: "${SELF:=${POD_NAME:?POD_NAME not set}.redis-sentinel}"
: "${SENTINEL_SECRET_DIR:=/etc/redis-sentinel}"
: "${RUNTIME_DIR:=/data}"
: "${REDIS_SERVER:=redis-server}"
: "${RESOLVE_WAIT_S:=300}"
: "${SENTINEL_BIND:=0.0.0.0}"

log() { echo "sentinel-start: $*" >&2; }

admin=$(cat "$SENTINEL_SECRET_DIR/admin-password")
client=$(cat "$SENTINEL_SECRET_DIR/client-password")
redis=$(cat "$SENTINEL_SECRET_DIR/redis-password")

ask_sentinels() {
  for s in $SENTINELS; do
    [ "$s" = "$SELF" ] && continue
    out=$(REDISCLI_AUTH=$admin timeout 3 redis-cli --no-auth-warning --user halfsky-sentinel-admin \
      -h "$s" -p "$SENTINEL_PORT" SENTINEL get-master-addr-by-name "$MASTER_NAME" 2>/dev/null) ||
      continue
    host=$(echo "$out" | sed -n 1p)
    port=$(echo "$out" | sed -n 2p)
    case $port in
      ''|*[!0-9]*) continue ;;
    esac
    echo "$host"
    return 0
  done
  return 1
}

ask_redis() {
  for p in $REDIS_PEERS; do
    role=$(REDISCLI_AUTH=$redis timeout 3 redis-cli --no-auth-warning --user halfsky-sentinel \
      -h "$p" -p "$REDIS_PORT" ROLE 2>/dev/null | sed -n 1p) || continue
    if [ "$role" = master ]; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

if primary=$(ask_sentinels); then
  log "the other sentinels report $primary as the primary of $MASTER_NAME"
elif primary=$(ask_redis); then
  log "no other sentinel answered; $primary says it is a primary"
else
  primary=${REDIS_PEERS%% *}
  log "nothing answered: first start, monitoring $primary"
fi

# Sentinel refuses a `monitor` whose name does not resolve (yet).
waited=0
until getent ahosts "$primary" >/dev/null 2>&1; do
  if [ "$waited" -ge "$RESOLVE_WAIT_S" ]; then
    log "$primary does not resolve after ${RESOLVE_WAIT_S}s"
    exit 1
  fi
  sleep 2
  waited=$((waited + 2))
done

umask 077
mkdir -p "$RUNTIME_DIR"
cat >"$RUNTIME_DIR/sentinel.conf" <<CONF
port $SENTINEL_PORT
bind $SENTINEL_BIND
protected-mode no
dir $RUNTIME_DIR
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip $SELF
sentinel announce-port $SENTINEL_PORT
sentinel monitor $MASTER_NAME $primary $REDIS_PORT $QUORUM
sentinel auth-user $MASTER_NAME halfsky-sentinel
sentinel auth-pass $MASTER_NAME $redis
sentinel down-after-milliseconds $MASTER_NAME $DOWN_AFTER_MS
sentinel failover-timeout $MASTER_NAME $FAILOVER_TIMEOUT_MS
sentinel parallel-syncs $MASTER_NAME 1
sentinel sentinel-user halfsky-sentinel-admin
sentinel sentinel-pass $admin
user default off resetpass resetkeys resetchannels -@all
user halfsky-sentinel-admin on resetpass >$admin allkeys allchannels +@all
user halfsky-sentinel-client on resetpass >$client resetkeys resetchannels -@all +ping +sentinel|get-master-addr-by-name
CONF
exec "$REDIS_SERVER" "$RUNTIME_DIR/sentinel.conf" --sentinel
