#!/usr/bin/env bash
# End-to-end test of `deploy/local/run.sh --demo=city` (issue #17): the real
# script with the binaries of a build directory, in a throw-away HALFSKY_VAR
# on a block of loopback ports chosen at run time. Proves:
#   1. it starts a city and two district instances and the districts'
#      exchanges, SERVING, and prints how to watch them;
#   2. the districts' figures reach the city (Jintai's approved 2024 figures,
#      Weibin's complete ones), and `halfskyctl exchange status` says so;
#   3. each district's report is kept at the city's exchange;
#   4. `--demo=city stop` leaves no process behind.
#
#   tests/local/city_demo_test.sh [BUILD_DIR]     (default: build/)
#
# Needs python3, redis-server (PATH or HALFSKY_REDIS_SERVER), timeout and
# pgrep; a missing tool makes it exit 77 (skipped), or fail when
# HALFSKY_REQUIRE_DEPLOY_TOOLS=1 (CI).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(realpath -m "${1:-$root/build}")
run_sh=$root/deploy/local/run.sh
ctl=$build/services/halfskyctl/halfskyctl

log() { printf '[city_demo_test %s] %s\n' "$(date +%T)" "$*"; }
fail() {
  printf '[city_demo_test] FAIL: %s\n' "$*" >&2
  for f in "$var"/city-demo/*/log/exchange.log; do
    [[ -f $f ]] && { printf -- '--- %s\n' "$f" >&2; tail -n 20 "$f" >&2; }
  done
  exit 1
}
skip_or_fail() {
  printf '[city_demo_test] %s\n' "$*" >&2
  [[ ${HALFSKY_REQUIRE_DEPLOY_TOOLS:-0} == 1 ]] && exit 1
  exit 77
}

redis_server=${HALFSKY_REDIS_SERVER:-$(command -v redis-server || true)}
[[ -n $redis_server && -x $redis_server ]] || skip_or_fail "redis-server not found"
for tool in python3 timeout pgrep; do
  command -v "$tool" >/dev/null || skip_or_fail "$tool not found"
done
for b in "$ctl" "$build/services/exchange/halfsky-exchange" "$build/services/web/halfsky-web"; do
  [[ -x $b ]] || fail "$b is missing: build the services first"
done
while read -r v; do
  unset "$v"
done < <(compgen -e | grep -E '^HALFSKY_' | grep -vxE 'HALFSKY_REQUIRE_DEPLOY_TOOLS' || true)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/halfsky-city-demo-test.XXXXXX")
var=$tmp/var
# A base whose 60 ports (and their + 2000 metrics ports) are all free now.
base=$(python3 -c '
import random, socket
for _ in range(200):
    base = random.randrange(20000, 40000, 100)
    socks = []
    try:
        for p in list(range(base, base + 60)) + list(range(base + 2000, base + 2060)):
            s = socket.socket(); s.bind(("127.0.0.1", p)); socks.append(s)
    except OSError:
        continue
    finally:
        for s in socks: s.close()
    print(base); break
')
[[ -n $base ]] || fail "no free block of ports"
run_env=(HALFSKY_VAR="$var" HALFSKY_BUILD_DIR="$build" HALFSKY_SKIP_BUILD=1 HALFSKY_SKIP_INSTALL=1
         HALFSKY_REDIS_SERVER="$redis_server" HALFSKY_CITY_PORT_BASE="$base")
runsh() {  # runsh SECONDS OUTFILE ARGS...
  local limit=$1 out=$2
  shift 2
  local rc=0
  env "${run_env[@]}" timeout "$limit" bash "$run_sh" "$@" >"$out" 2>&1 </dev/null || rc=$?
  return "$rc"
}
demo_pids() { pgrep -f "$var" || true; }
cleanup() {
  runsh 120 "$tmp/cleanup.out" --demo=city stop || true
  local pids
  pids=$(demo_pids)
  [[ -z $pids ]] || kill -KILL $pids 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

log "1. --demo=city (base port $base)"
runsh 300 "$tmp/start.out" --demo=city || fail "--demo=city failed: $(tail -n 30 "$tmp/start.out")"
grep -qF "exchange status --server 127.0.0.1:$((base + 25))" "$tmp/start.out" \
  || fail "--demo=city does not say how to watch Jintai's exchange: $(cat "$tmp/start.out")"

city_sub=127.0.0.1:$((base + 1))
stats() { cat "$var/city-demo/$1/secrets/statistics.token"; }
log "2. the districts' figures reach the city"
ok=0
for _ in $(seq 60); do
  out=$(HALFSKY_TOKEN=$(stats city) "$ctl" history --indicator HEALTH-01 --area 610303 --year 2024 \
          --server "$city_sub" 2>&1 || true)
  out2=$(HALFSKY_TOKEN=$(stats city) "$ctl" history --indicator HEALTH-01 --area 610302 --year 2024 \
          --server "$city_sub" 2>&1 || true)
  if grep -q "jintai-exchange" <<<"$out" && grep -q "weibin-exchange" <<<"$out2"; then
    ok=1
    break
  fi
  sleep 1
done
[[ $ok == 1 ]] || fail "the city has no figures from both districts: $out / $out2"
HALFSKY_TOKEN=$(stats weibin) "$ctl" exchange status --server "127.0.0.1:$((base + 45))" \
  >"$tmp/status.out" 2>&1 || fail "Weibin's exchange status is not clean: $(cat "$tmp/status.out")"
grep -qF "审核规则 approval: complete" "$tmp/status.out" || fail "status: $(cat "$tmp/status.out")"

log "3. each district's report is kept at the city"
ok=0
for _ in $(seq 30); do
  n=$(find "$var/city-demo/city" -name exchange.db -size +0 | wc -l)
  if [[ $n == 1 ]] && python3 - "$var/city-demo/city/exchange.db" <<'PY'
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("SELECT DISTINCT area_code FROM area_report").fetchall()
sys.exit(0 if {r[0] for r in rows} >= {"610302", "610303"} else 1)
PY
  then
    ok=1
    break
  fi
  sleep 1
done
[[ $ok == 1 ]] || fail "the city's exchange keeps no report of both districts"

log "4. --demo=city stop"
runsh 120 "$tmp/stop.out" --demo=city stop || fail "stop failed: $(cat "$tmp/stop.out")"
sleep 1
[[ -z $(demo_pids) ]] || fail "processes left after stop: $(demo_pids | xargs -r ps -o pid,args -p)"
log "PASS"
