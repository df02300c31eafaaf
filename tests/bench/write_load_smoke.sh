#!/usr/bin/env bash
# ctest: the harness's write generator (write_load) on real servers, no
# timings:
#   1. a bad flag is refused (a non-zero exit);
#   2. echo mode drives the bare echo server: every call OK, a rate above 0;
#   3. batch mode (when SUBMISSION_BIN is given) drives a real
#      halfsky-submission on a fresh SQLite file with the bench catalog and
#      token of tests/bench/writes.sh: every call OK with one durable value,
#      and at least that many revisions are in the store afterwards (calls
#      that end in the warm-up or after the window are stored, not counted);
#   4. the same with a token the service does not know: exit 1, failed > 0
#      and no OK call (the generator never counts a refused call);
#   5. the service stopped (SIGTERM: GOAWAY, then the connections close)
#      while the load runs: exit 1 with failed > 0, never a clean exit with
#      a lower rate.
#   write_load_smoke.sh WRITE_LOAD BARE_ECHO_SERVER [SUBMISSION_BIN]
set -u
gen=$1
echo_bin=$2
sub_bin=${3:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

if "$gen" --mode=bogus --target=127.0.0.1:1 >/dev/null 2>&1; then fail "bad mode accepted"; fi

"$echo_bin" >"$WORK/echo.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q '^PORT [1-9]' "$WORK/echo.out" && break; sleep 0.1; done
port=$(awk '/^PORT/ {print $2}' "$WORK/echo.out")
[ -n "$port" ] || fail "echo server did not start: $(cat "$WORK/echo.out")"
result=$("$gen" --mode=echo --target="127.0.0.1:$port" --connections=2 --in_flight=4 --threads=2 \
           --seconds=0.5 --warmup=0.1 2>&1)
rc=$?
echo "$result"
[ $rc -eq 0 ] || fail "write_load echo exited $rc"
grep -Eq '^RESULT mode=echo ok=[1-9][0-9]* failed=0 ' <<<"$result" || fail "echo: no OK calls"

if [ -n "$sub_bin" ]; then
  # writes.sh's submission starter, catalog fragment and token (its
  # variables: ROOT, BUILD, WORK, PIDS, SMOKE, DO_BUILD).
  ROOT=$(cd "$here/../.." && pwd)
  BUILD=$(dirname "$(dirname "$(dirname "$gen")")")
  SMOKE=1
  DO_BUILD=0
  # shellcheck source=writes.sh
  source "$here/writes.sh"
  SUBMISSION_BIN=$sub_bin
  writes_start_submission smoke || fail "$WRITES_START_ERR"
  result=$("$gen" --mode=batch --target="$SUB_ADDR" --token_file="$WORK/writes.token" \
             --connections=2 --in_flight=4 --seconds=0.5 --warmup=0.1 2>&1)
  rc=$?
  echo "$result"
  [ $rc -eq 0 ] || fail "write_load batch exited $rc"
  ok=$(sed -n 's/^RESULT mode=batch ok=\([0-9]*\) failed=0 .*/\1/p' <<<"$result")
  [ "${ok:-0}" -gt 0 ] || fail "batch: no OK calls"
  writes_stop_submission
  # Calls completing in the warm-up or after the window are not counted,
  # but every call the generator counted is a durable revision.
  n=$(sqlite3 "$WORK/smoke.db" 'SELECT count(*) FROM revisions')
  [ "$n" -ge "$ok" ] || fail "batch: $ok OK calls counted but only $n revisions stored"

  writes_start_submission smoke-bad || fail "$WRITES_START_ERR"
  echo "not-a-known-token" >"$WORK/bad.token"
  result=$("$gen" --mode=batch --target="$SUB_ADDR" --token_file="$WORK/bad.token" \
             --connections=1 --in_flight=2 --seconds=0.3 --warmup=0 2>&1)
  rc=$?
  echo "$result"
  writes_stop_submission
  [ $rc -eq 1 ] || fail "batch with an unknown token exited $rc, expected 1"
  grep -Eq '^RESULT mode=batch ok=0 failed=[1-9]' <<<"$result" || fail "batch: refused calls not counted as failed"
  grep -q 'grpc-status 16' <<<"$result" || fail "batch: UNAUTHENTICATED (16) not reported"

  writes_start_submission smoke-stop || fail "$WRITES_START_ERR"
  "$gen" --mode=batch --target="$SUB_ADDR" --token_file="$WORK/writes.token" \
    --connections=2 --in_flight=4 --seconds=3 --warmup=0 >"$WORK/stop.out" 2>&1 &
  gen_pid=$!
  sleep 0.7
  writes_stop_submission
  wait "$gen_pid"
  rc=$?
  cat "$WORK/stop.out"
  [ $rc -eq 1 ] || fail "batch with the service stopped mid-run exited $rc, expected 1"
  grep -Eq '^RESULT mode=batch ok=[0-9]+ failed=[1-9]' "$WORK/stop.out" ||
    fail "batch: a service stopped mid-run was not counted as failed"
fi
echo "ok"
