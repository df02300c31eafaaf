#!/usr/bin/env bash
# Runs the Redis Sentinel set of deploy/k8s/components/sentinel-redis on
# loopback addresses, with the component's own start scripts, ACL template
# and the base redis.conf: 3 Redis servers (127.0.0.11-13), 3 sentinels
# (127.0.0.21-23). Checks that
#   * the first start makes the first server the primary, the others its
#     replicas, and the sentinels find each other (quorum 2);
#   * the sentinel ACL: the client user may ask for the primary and nothing
#     else, the default user is off; the Redis ACL keeps the service users;
#   * killing the primary promotes a replica; the old primary, restarted by
#     redis-start.sh, comes back as a replica of the new one;
#   * sentinels all restarted at once (their state lost) monitor the
#     current primary, not the first server.
# Needs redis-server and redis-cli (Debian: redis-server, redis-tools) on
# PATH; exit 77 (skipped) without them.
#   tests/deploy/sentinel_set_test.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
comp=$repo/deploy/k8s/components/sentinel-redis
for t in redis-server redis-cli getent timeout; do
  command -v "$t" >/dev/null || { echo "sentinel_set_test: $t not found: skipped" >&2; exit 77; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [[ ${KEEP:-0} == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() { echo "sentinel_set_test: FAIL: $*" >&2; for f in "$work"/*/log; do echo "== $f"; tail -n 20 "$f"; done >&2; exit 1; }

RPORT=${RPORT:-16379}
SPORT=${SPORT:-36379}
# With SENTINEL_TEST_NAMES=1 the servers and sentinels are known by names
# (as in Kubernetes: redis-0.redis-headless ...), which /etc/hosts must map
# to 127.0.0.11-13 and 127.0.0.21-23 (run it under `unshare -m` with a
# bind-mounted hosts file: see the end of this file).
if [[ ${SENTINEL_TEST_NAMES:-0} == 1 ]]; then
  R=(- redis-0.redis-headless redis-1.redis-headless redis-2.redis-headless)
  S=(- redis-sentinel-0.redis-sentinel redis-sentinel-1.redis-sentinel redis-sentinel-2.redis-sentinel)
else
  R=(- 127.0.0.11 127.0.0.12 127.0.0.13)
  S=(- 127.0.0.21 127.0.0.22 127.0.0.23)
fi
PEERS="${R[1]} ${R[2]} ${R[3]}"
SENTS="${S[1]} ${S[2]} ${S[3]}"
mkdir -p "$work/acl" "$work/sec" "$work/scripts"
echo admin-pw >"$work/acl/admin-password"
echo replication-pw >"$work/acl/replication-password"
sed -e s/@WRITER_PASSWORD@/writer-pw/ -e s/@READER_PASSWORD@/reader-pw/ -e s/@ADMIN_PASSWORD@/admin-pw/ \
  "$repo/deploy/redis/users.acl.in" >"$work/acl/users.acl"
echo client-pw >"$work/sec/client-password"
echo sentinel-admin-pw >"$work/sec/admin-password"
echo sentinel-redis-pw >"$work/sec/redis-password"
cp "$comp/sentinel-set-users.acl.in" "$work/scripts/"

declare -A rpid spid
start_redis() {
  local i=$1 d=$work/r$1
  mkdir -p "$d/data"
  sed -e "s/^bind .*/bind 127.0.0.1$i/" -e "s#^dir .*#dir $d/data#" "$repo/deploy/k8s/base/redis.conf" >"$d/base.conf"
  REDIS_PORT=$RPORT SENTINEL_PORT=$SPORT REDIS_PEERS=$PEERS SENTINELS=$SENTS SELF=${R[$i]} \
    BASE_CONF=$d/base.conf ACL_DIR=$work/acl SENTINEL_SECRET_DIR=$work/sec SCRIPTS_DIR=$work/scripts \
    RUNTIME_DIR=$d/run sh "$comp/redis-start.sh" >>"$d/log" 2>&1 &
  rpid[$i]=$!
  pids+=($!)
}
start_sentinel() {
  local i=$1 d=$work/s$1
  mkdir -p "$d"
  REDIS_PORT=$RPORT SENTINEL_PORT=$SPORT REDIS_PEERS=$PEERS SENTINELS=$SENTS SELF=${S[$i]} SENTINEL_BIND=127.0.0.2$i \
    SENTINEL_SECRET_DIR=$work/sec RUNTIME_DIR=$d/run DOWN_AFTER_MS=2000 FAILOVER_TIMEOUT_MS=10000 \
    sh "$comp/sentinel-start.sh" >>"$d/log" 2>&1 &
  spid[$i]=$!
  pids+=($!)
}
rcli() {  # rcli HOST ARGS...: as halfsky-admin
  local h=$1; shift
  REDISCLI_AUTH=admin-pw timeout 3 redis-cli --no-auth-warning --user halfsky-admin -h "$h" -p "$RPORT" "$@"
}
scli() {  # scli HOST USER PASSWORD ARGS...
  local h=$1 u=$2 pw=$3; shift 3
  REDISCLI_AUTH=$pw timeout 3 redis-cli --no-auth-warning --user "$u" -h "$h" -p "$SPORT" "$@"
}
primary_of() { scli "$1" halfsky-sentinel-client client-pw SENTINEL get-master-addr-by-name halfsky 2>/dev/null | sed -n 1p; }
wait_for() {  # wait_for SECONDS WHAT COMMAND...
  local n=$(( $1 * 5 )) what=$2; shift 2
  while ! "$@" >/dev/null 2>&1; do
    n=$((n - 1)); [[ $n -gt 0 ]] || fail "timed out waiting for $what"
    sleep 0.2
  done
}
role_is() { [[ $(rcli "$1" ROLE | sed -n 1p) == "$2" ]]; }
replica_of() { [[ $(rcli "$1" ROLE | sed -n 2p) == "$2" && $(rcli "$1" INFO replication | tr -d '\r' | grep -c '^master_link_status:up') == 1 ]]; }
master_info() { scli "${S[$1]}" halfsky-sentinel-admin sentinel-admin-pw SENTINEL master halfsky | paste - - | tr '\t' ' '; }
settled() {  # every sentinel: primary $1 with 2 replicas and 2 other sentinels
  local i info
  for i in 1 2 3; do
    # A here-string, not a pipe: grep -q stops reading at its match, and
    # under pipefail the writer's SIGPIPE would fail the check.
    info=$(master_info "$i")
    grep -qx "ip $1" <<<"$info" || return 1
    grep -qx "num-slaves 2" <<<"$info" || return 1
    grep -qx "num-other-sentinels 2" <<<"$info" || return 1
  done
}

# --- first start
start_redis 1
wait_for 10 "redis 1" role_is "${R[1]}" master
start_redis 2; start_redis 3
wait_for 20 "replica 2" replica_of "${R[2]}" "${R[1]}"
wait_for 20 "replica 3" replica_of "${R[3]}" "${R[1]}"
for i in 1 2 3; do start_sentinel "$i"; done
wait_for 30 "sentinels to settle on ${R[1]}" settled "${R[1]}"
echo "ok: first start: ${R[1]} primary, 2 replicas, 3 sentinels"

# --- ACL
[[ $(primary_of "${S[2]}") == "${R[1]}" ]] || fail "client user cannot ask for the primary"
out=$(scli "${S[2]}" halfsky-sentinel-client client-pw SENTINEL failover halfsky 2>&1 || true)
[[ $out == *NOPERM* ]] || fail "client user may SENTINEL FAILOVER: $out"
out=$(timeout 3 redis-cli -h "${S[2]}" -p "$SPORT" SENTINEL masters 2>&1 || true)
[[ $out == *NOAUTH* || $out == *NOPERM* ]] || fail "default sentinel user is not off: $out"
out=$(REDISCLI_AUTH=writer-pw redis-cli --no-auth-warning --user halfsky-writer -h "${R[1]}" -p "$RPORT" SET halfsky:agg:t 1)
[[ $out == OK ]] || fail "writer cannot SET: $out"
wait_for 10 "the write on a replica" test "$(rcli "${R[3]}" GET halfsky:agg:t)" = 1
out=$(REDISCLI_AUTH=replication-pw redis-cli --no-auth-warning --user halfsky-replica -h "${R[1]}" -p "$RPORT" GET halfsky:agg:t 2>&1 || true)
[[ $out == *NOPERM* ]] || fail "replication user may GET: $out"
echo "ok: ACL (sentinel client user, default user off, service and replication users)"
sleep 0.5
[[ $(rcli "${R[3]}" GET halfsky:agg:t) == 1 ]] || fail "not replicated"

# --- failover
kill "${rpid[1]}"
promoted() { local p; p=$(primary_of "${S[1]}"); [[ -n $p && $p != "${R[1]}" ]]; }
wait_for 30 "a new primary" promoted
new=$(primary_of "${S[1]}")
wait_for 10 "$new to be primary" role_is "$new" master
echo "ok: failover: $new promoted"
start_redis 1
wait_for 30 "the old primary as a replica of $new" replica_of "${R[1]}" "$new"
grep -q "the sentinels report $new" "$work/r1/log" || fail "restarted primary did not ask the sentinels"
wait_for 30 "sentinels to settle on $new" settled "$new"
echo "ok: the old primary came back as a replica of $new"

# --- all sentinels restarted
for i in 1 2 3; do kill "${spid[$i]}"; done
sleep 1
for i in 1 2 3; do start_sentinel "$i"; sleep 0.3; done
wait_for 30 "restarted sentinels to settle on $new" settled "$new"
echo "ok: sentinels restarted together monitor $new"
echo "sentinel_set_test: all ok"
# Named variant (root, util-linux unshare):
#   printf '127.0.0.1%s redis-%s.redis-headless\n127.0.0.2%s redis-sentinel-%s.redis-sentinel\n' \
#     1 0 1 0 2 1 2 1 3 2 3 2 | cat /etc/hosts - >/tmp/hosts
#   unshare -m sh -c 'mount --bind /tmp/hosts /etc/hosts &&
#     SENTINEL_TEST_NAMES=1 tests/deploy/sentinel_set_test.sh'
