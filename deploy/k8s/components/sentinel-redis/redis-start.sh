#!/bin/sh
# Starts one Redis server of the Sentinel set (components/sentinel-redis).
#
# 1. Finds the current primary: what the sentinels report for the master,
#    else a peer whose ROLE is master, else the first peer (redis-0: the
#    very first start of the set). A restarted old primary thus comes back
#    as a replica of the one the sentinels promoted.
# 2. Writes the runtime configuration $RUNTIME_DIR/redis.conf: the base
#    redis.conf (AOF, ACL, noeviction) plus the replication settings, and
#    the ACL file: the Secret's users.acl plus sentinel-set-users.acl.in
#    (halfsky-replica, halfsky-sentinel) with their passwords.
# 3. Runs redis-server on it. Sentinel reconfigures the server at runtime
#    (REPLICAOF, CONFIG REWRITE of that file); a restart redoes step 1.
#
# Every name and path can be overridden from the environment (the test in
# tests/deploy runs the set on loopback addresses).
set -eu
: "${MASTER_NAME:=halfsky}"
: "${REDIS_PORT:=6379}"
: "${SENTINEL_PORT:=26379}"
: "${REDIS_PEERS:=redis-0.redis-headless redis-1.redis-headless redis-2.redis-headless}"
: "${SENTINELS:=redis-sentinel-0.redis-sentinel redis-sentinel-1.redis-sentinel redis-sentinel-2.redis-sentinel}"
: "${SELF:=${POD_NAME:?POD_NAME not set}.redis-headless}"
: "${BASE_CONF:=/etc/redis/redis.conf}"
: "${ACL_DIR:=/etc/redis-acl}"
: "${SENTINEL_SECRET_DIR:=/etc/redis-sentinel}"
: "${SCRIPTS_DIR:=/scripts}"
: "${RUNTIME_DIR:=/tmp/redis}"
: "${REDIS_SERVER:=redis-server}"

log() { echo "redis-start: $*" >&2; }

# ask_sentinels: prints the primary's host, or fails.
ask_sentinels() {
  for s in $SENTINELS; do
    out=$(REDISCLI_AUTH=$(cat "$SENTINEL_SECRET_DIR/client-password") timeout 3 \
      redis-cli --no-auth-warning --user halfsky-sentinel-client -h "$s" -p "$SENTINEL_PORT" \
      SENTINEL get-master-addr-by-name "$MASTER_NAME" 2>/dev/null) || continue
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

# ask_peers: prints the host of a peer (not this server) whose ROLE is master.
ask_peers() {
  for p in $REDIS_PEERS; do
    [ "$p" = "$SELF" ] && continue
    role=$(REDISCLI_AUTH=$(cat "$ACL_DIR/admin-password") timeout 3 \
      redis-cli --no-auth-warning --user halfsky-admin -h "$p" -p "$REDIS_PORT" ROLE 2>/dev/null |
      sed -n 1p) || continue
    if [ "$role" = master ]; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

if primary=$(ask_sentinels); then
  log "the sentinels report $primary as the primary of $MASTER_NAME"
elif primary=$(ask_peers); then
  log "no sentinel answered; $primary says it is a primary"
else
  primary=${REDIS_PEERS%% *}
  log "no sentinel and no primary answered: first start, $primary is the primary"
fi

umask 077
mkdir -p "$RUNTIME_DIR"
replication=$(cat "$ACL_DIR/replication-password")
sentinel=$(cat "$SENTINEL_SECRET_DIR/redis-password")
{
  cat "$ACL_DIR/users.acl"
  echo
  sed -e "s/@REPLICATION_PASSWORD@/$replication/" -e "s/@SENTINEL_PASSWORD@/$sentinel/" \
    "$SCRIPTS_DIR/sentinel-set-users.acl.in"
} | grep -v '^[[:space:]]*$' >"$RUNTIME_DIR/users.acl"
{
  echo "include $BASE_CONF"
  echo "aclfile $RUNTIME_DIR/users.acl"
  echo "port $REDIS_PORT"
  # What the sentinels and the clients are told (a name: pod IPs change).
  echo "replica-announce-ip $SELF"
  echo "masteruser halfsky-replica"
  echo "masterauth $replication"
  if [ "$primary" != "$SELF" ]; then
    echo "replicaof $primary $REDIS_PORT"
  fi
} >"$RUNTIME_DIR/redis.conf"
exec "$REDIS_SERVER" "$RUNTIME_DIR/redis.conf"
