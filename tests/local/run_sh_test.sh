#!/usr/bin/env bash
# End-to-end test of deploy/local/run.sh (issue 8): drives the real script,
# with the real redis-server and the service binaries of a build directory,
# in a throw-away HALFSKY_VAR on loopback ports chosen at run time. Proves:
#   1. start brings up redis, the three services and the web console,
#      SERVING, catalog loaded; the console answers its pages on its HTTP
#      port and /healthz on its metrics port;
#   2. a second start changes nothing (same processes, same secrets);
#   3. a service (and redis) killed with SIGKILL is restarted by the supervisor;
#   4. a port already taken: run.sh names it (and the holder), exits non-zero
#      and leaves nothing running;
#   5. stop leaves no process behind, and status then says stopped;
#   6. redis runs with AOF under the var dir, and a write survives a SIGKILL;
#   7. --demo loads the demo, prints the console's address and a token file
#      for each role (unit, bureau, assessment group), and each of those
#      tokens signs in to the console.
#
#   tests/local/run_sh_test.sh [BUILD_DIR]     (default: build/)
#
# Needs python3 (to pick free ports and hold one), redis-server (PATH or
# HALFSKY_REDIS_SERVER), redis-cli and timeout. A missing tool makes it exit
# 77 (ctest: skipped), or fail when HALFSKY_REQUIRE_DEPLOY_TOOLS=1 (CI).
# Every wait is bounded; whatever happens, the EXIT trap stops the suite,
# kills what is left of it and removes the temporary directory.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(realpath -m "${1:-$root/build}")
run_sh=$root/deploy/local/run.sh
ctl=$build/services/halfskyctl/halfskyctl

log() { printf '[run_sh_test %s] %s\n' "$(date +%T)" "$*"; }
fail() {
  printf '[run_sh_test] FAIL: %s\n' "$*" >&2
  exit 1
}
skip_or_fail() {
  printf '[run_sh_test] %s\n' "$*" >&2
  if [[ ${HALFSKY_REQUIRE_DEPLOY_TOOLS:-0} == 1 ]]; then
    exit 1
  fi
  exit 77
}

redis_server=${HALFSKY_REDIS_SERVER:-$(command -v redis-server || true)}
[[ -n $redis_server && -x $redis_server ]] || skip_or_fail "redis-server not found (set HALFSKY_REDIS_SERVER)"
for tool in python3 redis-cli timeout pgrep; do
  command -v "$tool" >/dev/null || skip_or_fail "$tool not found"
done
for b in "$ctl" "$build/services/submission/halfsky-submission" \
         "$build/services/aggregation/halfsky-aggregation" \
         "$build/services/evaluation/service/halfsky-evaluation" \
         "$build/services/web/halfsky-web"; do
  [[ -x $b ]] || fail "$b is missing: build the services first"
done

# Nothing from the caller's environment may steer run.sh or halfskyctl.
while read -r v; do
  unset "$v"
done < <(compgen -e | grep -E '^HALFSKY_' | grep -vxE 'HALFSKY_REQUIRE_DEPLOY_TOOLS' || true)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/halfsky-run-sh-test.XXXXXX")
var=$tmp/var
holder_pid=""
real_var_existed=0
[[ -e $root/var ]] && real_var_existed=1

# Free loopback ports: bind port 0 for each, read the port, close them all.
read -r p_redis p_sub p_agg p_eval p_sub_m p_agg_m p_eval_m p_web p_web_m p_web_h < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(10)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
')
declare -A port=([redis]=$p_redis [submission]=$p_sub [aggregation]=$p_agg [evaluation]=$p_eval
                 [web]=$p_web)
declare -A metrics_port=([submission]=$p_sub_m [aggregation]=$p_agg_m [evaluation]=$p_eval_m
                         [web]=$p_web_m)
services=(submission aggregation evaluation web)
components=(redis "${services[@]}")
declare -A exe_name=([redis]=redis [submission]=halfsky-submission
                     [aggregation]=halfsky-aggregation [evaluation]=halfsky-evaluation
                     [web]=halfsky-web)

run_env=(
  HALFSKY_VAR="$var"
  HALFSKY_BUILD_DIR="$build"
  HALFSKY_SKIP_BUILD=1
  HALFSKY_SKIP_INSTALL=1
  HALFSKY_REDIS_SERVER="$redis_server"
  HALFSKY_REDIS_PORT="$p_redis"
  HALFSKY_SUBMISSION_PORT="$p_sub"
  HALFSKY_AGGREGATION_PORT="$p_agg"
  HALFSKY_EVALUATION_PORT="$p_eval"
  HALFSKY_SUBMISSION_METRICS_PORT="$p_sub_m"
  HALFSKY_AGGREGATION_METRICS_PORT="$p_agg_m"
  HALFSKY_EVALUATION_METRICS_PORT="$p_eval_m"
  HALFSKY_WEB_PORT="$p_web"
  HALFSKY_WEB_METRICS_PORT="$p_web_m"
  HALFSKY_WEB_HTTP_PORT="$p_web_h"
)

# runsh SECONDS OUTFILE ARGS...: run.sh with the test's environment, bounded
# (on expiry timeout signals run.sh's whole process group). Returns its status.
runsh() {
  local limit=$1 out=$2
  shift 2
  local rc=0
  env "${run_env[@]}" timeout "$limit" bash "$run_sh" "$@" >"$out" 2>&1 </dev/null || rc=$?
  return "$rc"
}

# suite_pids: every live process started by run.sh in this test: those with
# the test's HALFSKY_VAR in their environment (the supervisors and the
# services), redis (its process title replaces its environment, but names
# the test's port), and their descendants.
suite_pids() {
  local f pid pp stat
  local -A parent=() in=()
  for f in /proc/[0-9]*/stat; do
    pid=${f#/proc/}
    pid=${pid%/stat}
    { stat=$(<"$f"); } 2>/dev/null || continue
    read -r _ pp _ <<<"${stat##*) }"  # after "PID (COMM) ": state, ppid
    [[ -n $pp ]] || continue
    parent[$pid]=$pp
    if grep -qzxF "HALFSKY_VAR=$var" "/proc/$pid/environ" 2>/dev/null \
       || tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qE "^\S*redis-server 127\.0\.0\.1:$p_redis( |$)"; then
      in[$pid]=1
    fi
  done
  local added=1
  while ((added)); do
    added=0
    for pid in "${!parent[@]}"; do
      if [[ -z ${in[$pid]:-} && -n ${in[${parent[$pid]}]:-} ]]; then
        in[$pid]=1
        added=1
      fi
    done
  done
  for pid in "${!in[@]}"; do
    echo "$pid"
  done
}

# exe_of PID: the name of its executable (" (deleted)" when a build replaced
# the file meanwhile is dropped: still the same process).
exe_of() {
  local e
  e=$(readlink "/proc/$1/exe" 2>/dev/null || true)
  e=${e% (deleted)}
  echo "${e##*/}"
}
ppid_of() {
  local stat pp
  { stat=$(<"/proc/$1/stat"); } 2>/dev/null || return 0
  read -r _ pp _ <<<"${stat##*) }"
  echo "$pp"
}

# snapshot: "PID PPID EXE" of every suite process, sorted; a redis fork
# (background AOF rewrite) is left out, it comes and goes by itself.
snapshot() {
  local pid pp exe redis_pids=" "
  for pid in $(suite_pids); do
    [[ $(exe_of "$pid") == redis-* ]] && redis_pids+="$pid "
  done
  for pid in $(suite_pids); do
    pp=$(ppid_of "$pid")
    exe=$(exe_of "$pid")
    [[ -n $exe ]] || continue
    [[ $redis_pids == *" $pp "* ]] && continue
    echo "$pid $pp $exe"
  done | sort -n
}

dump_logs() {
  local f
  for f in "$tmp"/*.out "$var"/log/*.log; do
    [[ -f $f ]] || continue
    printf -- '----- %s (last 30 lines)\n' "${f#"$tmp"/}" >&2
    tail -n 30 "$f" >&2
  done
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT
  if ((rc != 0)) && ((rc != 77)); then
    dump_logs
  fi
  if [[ -d $var/run ]]; then
    env "${run_env[@]}" timeout 60 bash "$run_sh" stop >/dev/null 2>&1 </dev/null
  fi
  local left pid
  left=$(suite_pids)
  if [[ -n $left ]]; then
    printf '[run_sh_test] killing leftovers: %s\n' "$(echo "$left" | tr '\n' ' ')" >&2
    for pid in $left; do
      kill -KILL "$pid" 2>/dev/null
    done
  fi
  if [[ -n $holder_pid ]]; then
    kill -KILL "$holder_pid" 2>/dev/null
    wait "$holder_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# http METHOD URL [JSON_BODY]: prints the status line's code, then the
# headers and the body; never follows a redirect. Exit 0 when answered.
http() {
  python3 - "$@" <<'PY'
import http.client, sys, urllib.parse
method, url = sys.argv[1], sys.argv[2]
body = sys.argv[3].encode() if len(sys.argv) > 3 else None
u = urllib.parse.urlsplit(url)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=15)
headers = {"Content-Type": "application/json"} if body is not None else {}
c.request(method, u.path + ("?" + u.query if u.query else ""), body=body, headers=headers)
r = c.getresponse()
print(r.status)
for k, v in r.getheaders():
    print(f"{k}: {v}")
print()
print(r.read().decode("utf-8", "replace"))
PY
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s.
wait_for() {
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do
    ((SECONDS < deadline)) || fail "$what: not within ${limit} s"
    sleep 0.2
  done
}

supervisor_of() { cat "$var/run/$1.pid" 2>/dev/null; }
# child_of NAME: the pid of the program NAME's supervisor runs (empty if none)
child_of() {
  local sup pid
  sup=$(supervisor_of "$1") || return 0
  for pid in $(pgrep -P "$sup" || true); do
    if [[ $(exe_of "$pid") == "${exe_name[$1]}"* ]]; then
      echo "$pid"
      return 0
    fi
  done
}

addrs=()
for s in "${services[@]}"; do
  addrs+=("127.0.0.1:${port[$s]}")
done
all_serving() { "$ctl" health --wait 30s "${addrs[@]}" >"$tmp/health.out" 2>&1; }

# check_suite_shape: exactly one supervisor per component (the pid in its
# pid file, a bash), each running exactly one copy of its program, and no
# other suite process.
check_suite_shape() {
  local snap name sup child n
  snap=$(snapshot)
  n=$(grep -c . <<<"$snap" || true)
  ((n == 10)) || fail "expected 10 suite processes (5 supervisors + redis + 4 services), found $n:
$snap"
  for name in "${components[@]}"; do
    sup=$(supervisor_of "$name") || fail "no pid file for $name"
    grep -qE "^$sup [0-9]+ bash$" <<<"$snap" || fail "supervisor $sup of $name is not a running bash:
$snap"
    child=$(child_of "$name")
    [[ -n $child ]] || fail "the supervisor of $name runs no ${exe_name[$name]}"
    n=$(grep -cE "^[0-9]+ $sup " <<<"$snap" || true)
    ((n == 1)) || fail "the supervisor of $name has $n children, expected 1:
$snap"
  done
}

secrets_fingerprint() {
  (cd "$var/secrets" && find . -type f -print0 | sort -z |
     xargs -0 stat -c '%n %i %s %Y %a' && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

# ----------------------------------------------------------------- 4. port
# A port that run.sh wants is held by another program; the console's HTTP
# port and evaluation's metrics port are among the last ones it would bind,
# so a late check would leave redis, submission and aggregation running.
log "ports: redis $p_redis; grpc $p_sub $p_agg $p_eval $p_web; metrics $p_sub_m $p_agg_m $p_eval_m $p_web_m; console $p_web_h; var $var"
for held in "$p_web_h" "$p_eval_m" "$p_redis"; do
  python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
time.sleep(300)
' "$held" &
  holder_pid=$!
  wait_for 10 "the port holder listens on $held" port_open "$held"
  log "4. port $held taken by pid $holder_pid: start must refuse"
  rc=0
  runsh 30 "$tmp/start-taken-$held.out" start || rc=$?
  ((rc != 0)) || fail "start succeeded although port $held is taken"
  ((rc != 124)) || fail "start with port $held taken did not finish within 30 s"
  out=$(cat "$tmp/start-taken-$held.out")
  grep -q "端口 $held.*占用" <<<"$out" || fail "no Chinese message naming port $held:
$out"
  grep -q "port $held .*already in use" <<<"$out" || fail "no English message naming port $held:
$out"
  if command -v ss >/dev/null || command -v lsof >/dev/null; then
    grep -q "pid $holder_pid" <<<"$out" || fail "the message does not name the holder (pid $holder_pid):
$out"
  fi
  left=$(snapshot)
  [[ -z $left ]] || fail "start with port $held taken left processes running:
$left"
  if compgen -G "$var/run/*.pid" >/dev/null; then
    fail "start with port $held taken left pid files: $(ls "$var/run")"
  fi
  kill -KILL "$holder_pid"
  wait "$holder_pid" 2>/dev/null || true
  holder_pid=""
  wait_for 10 "port $held is free again" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$held) 2>/dev/null"
done

# ---------------------------------------------------------------- 1. start
log "1. start"
runsh 90 "$tmp/start1.out" start || fail "start failed (status $?)"
all_serving || fail "not every service is SERVING after start: $(cat "$tmp/health.out")"
check_suite_shape
runsh 60 "$tmp/status1.out" status || fail "status after start exited $?: $(cat "$tmp/status1.out")"
for name in "${components[@]}"; do
  grep -qE "^$name +running \(supervisor pid $(supervisor_of "$name")\) on 127.0.0.1:${port[$name]}$" \
    "$tmp/status1.out" || fail "status does not show $name running: $(cat "$tmp/status1.out")"
done
for a in "${addrs[@]}"; do
  grep -qE "^$a\s+SERVING$" "$tmp/status1.out" || fail "status does not show $a SERVING: $(cat "$tmp/status1.out")"
done
for s in "${services[@]}"; do
  pid=$(child_of "$s")
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  [[ $cmdline == *"--metrics_listen 127.0.0.1:${metrics_port[$s]} "* ]] \
    || fail "$s does not listen for metrics on ${metrics_port[$s]}: $cmdline"
  [[ $cmdline != *"$root/var"* ]] || fail "$s uses the checkout's var/: $cmdline"
  python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' \
    "http://127.0.0.1:${metrics_port[$s]}/metrics" >"$tmp/metrics-$s.out" 2>&1 || true
  grep -qE '^halfsky_serving(\{[^}]*\})? 1$' "$tmp/metrics-$s.out" \
    || fail "$s's /metrics on ${metrics_port[$s]} does not say halfsky_serving 1"
  http GET "http://127.0.0.1:${metrics_port[$s]}/healthz" >"$tmp/healthz-$s.out" 2>&1 || true
  [[ $(head -n 1 "$tmp/healthz-$s.out") == 200 ]] \
    || fail "$s's /healthz on ${metrics_port[$s]} is not 200: $(cat "$tmp/healthz-$s.out")"
done

# The console: its pages on the HTTP port run.sh printed, plain HTTP on
# loopback, calling the services run.sh started.
grep -qF "http://127.0.0.1:$p_web_h/" "$tmp/start1.out" \
  || fail "start does not print the console's address http://127.0.0.1:$p_web_h/: $(cat "$tmp/start1.out")"
web_cmdline=$(tr '\0' ' ' <"/proc/$(child_of web)/cmdline")
for want in "--http_listen 127.0.0.1:$p_web_h " "--submission 127.0.0.1:$p_sub " \
            "--aggregation 127.0.0.1:$p_agg " "--evaluation 127.0.0.1:$p_eval "; do
  [[ $web_cmdline == *"$want"* ]] || fail "the console runs without $want: $web_cmdline"
done
http GET "http://127.0.0.1:$p_web_h/" >"$tmp/web-root.out" 2>&1 || fail "the console does not answer /: $(cat "$tmp/web-root.out")"
{ [[ $(head -n 1 "$tmp/web-root.out") == 303 ]] && grep -qi '^location: /warnings' "$tmp/web-root.out"; } \
  || fail "the console's / is not a redirect to /warnings: $(cat "$tmp/web-root.out")"
http GET "http://127.0.0.1:$p_web_h/signin" >"$tmp/web-signin.out" 2>&1 || true
{ [[ $(head -n 1 "$tmp/web-signin.out") == 200 ]] && grep -q '登录' "$tmp/web-signin.out"; } \
  || fail "the console's sign-in page is not served: $(head -c 600 "$tmp/web-signin.out")"
http GET "http://127.0.0.1:$p_web_h/api/session" >"$tmp/web-session.out" 2>&1 || true
[[ $(head -n 1 "$tmp/web-session.out") == 401 ]] \
  || fail "the console's API answers without a session: $(cat "$tmp/web-session.out")"

# The catalog is loaded: each service answers from the plan's catalog (and
# refuses what the catalog does not have).
statistics_token=$(cat "$var/secrets/statistics.token")
assessment_token=$(cat "$var/secrets/assessment.token")
HALFSKY_TOKEN=$statistics_token "$ctl" status --year 2024 --format csv \
  --server "127.0.0.1:$p_sub" >"$tmp/catalog-sub.out" 2>&1 || true
grep -q '^ORGANIZATION_DEPT,区委组织部,' "$tmp/catalog-sub.out" \
  || fail "submission does not list the catalog's member units: $(head -5 "$tmp/catalog-sub.out")"
# Aggregation answers UNAVAILABLE until its first build from the change feed
# is done; wait (bounded) for an answer, then judge it.
ctl_answers() {  # ctl_answers OUT ARGS...: halfskyctl gives an answer other than "unavailable"
  local out=$1
  shift
  HALFSKY_TOKEN=$assessment_token "$ctl" "$@" >"$out" 2>&1 && return 0
  ! grep -q 'unavailable' "$out"
}
wait_for 30 "aggregation answers series HEALTH-01" \
  ctl_answers "$tmp/catalog-agg.out" series HEALTH-01 --format csv --server "127.0.0.1:$p_agg"
HALFSKY_TOKEN=$assessment_token "$ctl" series HEALTH-01 --format csv --server "127.0.0.1:$p_agg" \
  >"$tmp/catalog-agg.out" 2>&1 || fail "aggregation does not know indicator HEALTH-01: $(cat "$tmp/catalog-agg.out")"
ctl_answers "$tmp/catalog-agg2.out" series NO-SUCH-99 --format csv --server "127.0.0.1:$p_agg" || true
grep -q 'unknown indicator NO-SUCH-99' "$tmp/catalog-agg2.out" \
  || fail "aggregation does not refuse an indicator the catalog lacks: $(cat "$tmp/catalog-agg2.out")"
wait_for 30 "evaluation answers warnings --indicator HEALTH-01" \
  ctl_answers "$tmp/catalog-eval.out" warnings --indicator HEALTH-01 --state all --format csv \
  --server "127.0.0.1:$p_eval"
rc=0  # 0: no warnings, 1: warnings listed
HALFSKY_TOKEN=$assessment_token "$ctl" warnings --indicator HEALTH-01 --state all --format csv \
  --server "127.0.0.1:$p_eval" >"$tmp/catalog-eval.out" 2>&1 || rc=$?
if ((rc > 1)) || ! head -n 1 "$tmp/catalog-eval.out" | grep -q '^id,severity,kind,'; then
  fail "evaluation does not know indicator HEALTH-01 (status $rc): $(cat "$tmp/catalog-eval.out")"
fi
ctl_answers "$tmp/catalog-eval2.out" warnings --indicator NO-SUCH-99 --format csv \
  --server "127.0.0.1:$p_eval" || true
grep -q 'unknown indicator "NO-SUCH-99"' "$tmp/catalog-eval2.out" \
  || fail "evaluation does not refuse an indicator the catalog lacks: $(cat "$tmp/catalog-eval2.out")"

# Everything lives under HALFSKY_VAR.
for f in submission.db evaluation.db secrets/tokens secrets/admin.token log/redis.log \
         log/submission.log log/aggregation.log log/evaluation.log log/web.log \
         run/redis.pid run/submission.pid run/aggregation.pid run/evaluation.pid run/web.pid; do
  [[ -e $var/$f ]] || fail "$var/$f is missing"
done
[[ $(stat -c %a "$var/secrets") == 700 ]] || fail "$var/secrets is not mode 700"
for f in log run; do
  [[ $(stat -c %a "$var/$f") == 700 ]] || fail "$var/$f is not mode 700"
done
for f in log/web.log run/web.pid run/web.addr run/web.http.addr; do
  [[ $(stat -c %a "$var/$f") == 600 ]] || fail "$var/$f is not mode 600"
done
if ((real_var_existed == 0)) && [[ -e $root/var ]]; then
  fail "run.sh created $root/var although HALFSKY_VAR=$var"
fi

# ------------------------------------------------------------ 6. redis AOF
log "6. redis AOF under $var/redis"
# Redis runs with an ACL (default user off): the operator's admin user here.
rcli() {
  REDISCLI_AUTH=$(cat "$var/secrets/redis-admin.password") \
    timeout 10 redis-cli --no-auth-warning --user halfsky-admin -h 127.0.0.1 -p "$p_redis" "$@"
}
for f in redis-writer.password redis-reader.password redis-admin.password cache-mac.key; do
  [[ $(stat -c %a "$var/secrets/$f") == 600 ]] || fail "$var/secrets/$f is not mode 600"
done
[[ $(stat -c %a "$var/redis/users.acl") == 600 ]] || fail "$var/redis/users.acl is not mode 600"
[[ $(timeout 10 redis-cli -h 127.0.0.1 -p "$p_redis" PING 2>&1) == *NOAUTH* ]] \
  || fail "redis answers without a password"
[[ $(REDISCLI_AUTH=$(cat "$var/secrets/redis-reader.password") timeout 10 redis-cli \
      --no-auth-warning --user halfsky-reader -h 127.0.0.1 -p "$p_redis" \
      SET halfsky:agg:run_sh_test x 2>&1) == *NOPERM* ]] \
  || fail "the reader user may write"
[[ $(rcli CONFIG GET appendonly | tail -n 1) == yes ]] || fail "redis runs without appendonly"
[[ $(rcli CONFIG GET dir | tail -n 1) == "$(realpath "$var/redis")" ]] \
  || fail "redis's dir is $(rcli CONFIG GET dir | tail -n 1), not $var/redis"
grep -q '^aof_enabled:1' <<<"$(rcli INFO persistence)" || fail "INFO persistence: aof_enabled is not 1"
marker="run-sh-test-$$-$RANDOM"
[[ $(rcli SET halfsky:run_sh_test "$marker") == OK ]] || fail "SET in redis failed"
# Redis 7 keeps its AOF in appendonlydir/, older ones in appendonly.aof.
aof_has_marker() { grep -qE '/appendonly[^/]*\.aof$' <<<"$(grep -rlF "$marker" "$var/redis" 2>/dev/null)"; }
wait_for 10 "the write reaches an AOF file under $var/redis" aof_has_marker

# ------------------------------------------------------------ 2. idempotent
log "2. a second start changes nothing"
before=$(snapshot)
secrets_before=$(secrets_fingerprint)
runsh 90 "$tmp/start2.out" start || fail "the second start failed (status $?)"
for name in "${components[@]}"; do
  grep -qE "^$name +already running" "$tmp/start2.out" \
    || fail "the second start does not say $name is already running: $(cat "$tmp/start2.out")"
done
if grep -q "started on" "$tmp/start2.out"; then
  fail "the second start started something: $(cat "$tmp/start2.out")"
fi
after=$(snapshot)
[[ $after == "$before" ]] || fail "the second start changed the processes:
before:
$before
after:
$after"
[[ $(secrets_fingerprint) == "$secrets_before" ]] || fail "the second start changed $var/secrets"
check_suite_shape
all_serving || fail "not every service is SERVING after the second start: $(cat "$tmp/health.out")"

# ------------------------------------------------------------- 3. restart
new_child() {  # new_child NAME OLD_PID: NAME's supervisor runs another copy now
  local c
  c=$(child_of "$1")
  [[ -n $c && $c != "$2" ]]
}
redis_up() { [[ $(rcli PING 2>/dev/null) == PONG ]]; }
for name in submission redis; do
  sup=$(supervisor_of "$name")
  old=$(child_of "$name")
  log "3. SIGKILL $name (pid $old); its supervisor ($sup) must restart it"
  kill -KILL "$old"
  wait_for 30 "$name restarted after SIGKILL" new_child "$name" "$old"
  [[ $(supervisor_of "$name") == "$sup" ]] || fail "the supervisor of $name changed"
  kill -0 "$old" 2>/dev/null && fail "the killed $name (pid $old) is still there"
  grep -q "run.sh: $name exited; restarting" "$var/log/$name.log" \
    || fail "the supervisor did not log the restart of $name"
  if [[ $name == redis ]]; then
    wait_for 30 "redis answers PING after its restart" redis_up
    [[ $(rcli CONFIG GET appendonly | tail -n 1) == yes ]] || fail "the restarted redis runs without AOF"
    [[ $(rcli GET halfsky:run_sh_test) == "$marker" ]] \
      || fail "the write made before the SIGKILL is gone: AOF not replayed from $var/redis"
  fi
  all_serving || fail "not every service is SERVING after $name was restarted: $(cat "$tmp/health.out")"
  check_suite_shape
done
log "   new pids: submission $(child_of submission), redis $(child_of redis)"

# ---------------------------------------------------------------- 5. stop
log "5. stop"
recorded=$(snapshot | awk '{print $1}')
runsh 90 "$tmp/stop.out" stop || fail "stop failed (status $?): $(cat "$tmp/stop.out")"
gone() { [[ -z $(suite_pids) ]]; }
if ! (wait_for 5 "" gone) 2>/dev/null; then
  fail "processes left after stop:
$(snapshot)"
fi
for pid in $recorded; do
  kill -0 "$pid" 2>/dev/null && fail "pid $pid ($(exe_of "$pid")) survived stop"
done
for p in "$p_redis" "$p_sub" "$p_agg" "$p_eval" "$p_sub_m" "$p_agg_m" "$p_eval_m" \
         "$p_web" "$p_web_m" "$p_web_h"; do
  port_open "$p" && fail "port $p still listens after stop"
done
if compgen -G "$var/run/*.pid" >/dev/null; then
  fail "stop left pid files: $(ls "$var/run")"
fi
rc=0
runsh 60 "$tmp/status2.out" status || rc=$?
((rc != 0 && rc != 124)) || fail "status after stop exited $rc, expected a failure: $(cat "$tmp/status2.out")"
for name in "${components[@]}"; do
  grep -qE "^$name +stopped$" "$tmp/status2.out" || fail "status after stop does not say $name stopped: $(cat "$tmp/status2.out")"
done
runsh 60 "$tmp/stop2.out" stop || fail "a second stop failed (status $?)"

# ---------------------------------------------------------------- 7. demo
log "7. --demo: the demo data, the console's address and a token per role"
runsh 240 "$tmp/demo.out" --demo || fail "--demo failed (status $?)"
grep -qF "网页控制台 / web console: http://127.0.0.1:$p_web_h/" "$tmp/demo.out" \
  || fail "--demo does not print the console's address: $(cat "$tmp/demo.out")"
# sign_in TOKEN_FILE: POST /api/session with the token → 200 and a session cookie.
sign_in() {
  local body
  body=$(python3 -c 'import json, sys; print(json.dumps({"token": open(sys.argv[1]).read().strip()}))' "$1")
  http POST "http://127.0.0.1:$p_web_h/api/session" "$body" >"$tmp/web-signin-post.out" 2>&1 || true
  [[ $(head -n 1 "$tmp/web-signin-post.out") == 200 ]] \
    && grep -qi '^set-cookie: halfsky_session=.*HttpOnly' "$tmp/web-signin-post.out"
}
for role in "成员单位 / unit" "统计局 / statistics bureau" "妇儿工委办公室 / assessment group"; do
  line=$(grep -F "  $role (" "$tmp/demo.out" || true)
  [[ -n $line ]] || fail "--demo names no token for $role: $(cat "$tmp/demo.out")"
  file=${line##* }
  [[ $file == "$var/secrets/"*.token && -f $file ]] || fail "--demo's token for $role is no token file: $line"
  [[ $(stat -c %a "$file") == 600 ]] || fail "$file is not mode 600"
  sign_in "$file" || fail "the console refuses the demo's $role token ($file): $(cat "$tmp/web-signin-post.out")"
done
grep -qF "$var/secrets/unit-PEOPLES_CONGRESS.token" "$tmp/demo.out" || fail "--demo's unit is not the returned one"
grep -qF "$var/secrets/statistics.token" "$tmp/demo.out" || fail "--demo's bureau token is not statistics"
grep -qF "$var/secrets/assessment.token" "$tmp/demo.out" || fail "--demo's assessment token is not assessment"
printf '{"token":"not-a-token"}' >"$tmp/bad.json"
http POST "http://127.0.0.1:$p_web_h/api/session" "$(cat "$tmp/bad.json")" >"$tmp/web-bad.out" 2>&1 || true
[[ $(head -n 1 "$tmp/web-bad.out") == 401 ]] || fail "the console accepts a wrong token: $(cat "$tmp/web-bad.out")"
runsh 90 "$tmp/stop3.out" stop || fail "stop after --demo failed (status $?)"
[[ -z $(suite_pids) ]] || fail "processes left after the demo's stop:
$(snapshot)"

log "PASS"
