#!/usr/bin/env bash
# tests/bench/run.sh — one benchmark run, every figure against a baseline
# measured in the same run that shares none of halfsky's costs (issue #20).
#
#   tests/bench/run.sh [--smoke] [--no-build] [--build-dir=DIR] [--only=F[,F...]]
#
# --only: run only these figures (generator, submit_batch, reads,
# submit_stream, rebuild, latency, size, province); the baselines always
# run. `province` (province.sh: a generated province instance at three
# sizes up to 2·10^6 values) took 3.5 minutes on the 2-core machine.
# HALFSKY_BENCH_NO_INSTALL=1: never install missing tools (the baselines
# that need them are NOT RUN).
# HALFSKY_BENCH_SUBMISSION_FLAGS="--flag=v ...": extra flags for every
# halfsky-submission the figures start (experiments, e.g.
# --sqlite_cache_mib=16; word-split).
# HALFSKY_BENCH_PERF=DIR: perf record (call graphs) of the servers while
# the Rebuild RPC runs (submission, aggregation), of the submission during
# SubmitStream, while the loaded latency probe runs (aggregation,
# evaluation), and of evaluation and aggregation during province.sh's
# depth-3 passes, into DIR (docs/BENCHMARKS.md).
#
# Builds Release into build-bench/ (deploy/local/deps.sh's halfsky_build),
# starts its own redis-server and servers on free loopback ports, runs each
# figure for a bounded time and prints one line per figure:
#   figure | value | same-run baseline | ratio | goal
# Exit status: non-zero when a benchmark could not run (or is not built
# yet); a missed goal is printed, not an error. --smoke: tiny durations, for
# checking that the harness works (not for figures).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export HALFSKY_ROOT=$ROOT
BUILD=$ROOT/build-bench
SMOKE=0
DO_BUILD=1
ONLY=""
for a in "$@"; do
  case $a in
    --smoke) SMOKE=1 ;;
    --no-build) DO_BUILD=0 ;;
    --build-dir=*) BUILD=${a#--build-dir=} ;;
    --only=*) ONLY=,${a#--only=}, ;;
    *) echo "用法 usage: $0 [--smoke] [--no-build] [--build-dir=DIR] [--only=F,...]" >&2; exit 2 ;;
  esac
done

if [ "$SMOKE" = 1 ]; then
  SECS=1; SQLITE_ROWS=20000; REDIS_N=20000
else
  SECS=10; SQLITE_ROWS=1000000; REDIS_N=2000000
fi
CONNS=16; STREAMS=32          # h2load -c / -m, the same for every gRPC figure

FAILED=0
WORK=$(mktemp -d /tmp/halfsky-bench.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck source=../../deploy/local/deps.sh
. "$ROOT/deploy/local/deps.sh"

# One output line per figure.
figure() {  # name value baseline ratio goal
  printf '%-58s | %14s | %14s | %8s | %s\n' "$1" "$2" "$3" "$4" "$5"
}
not_run() {  # name goal reason
  figure "$1" "NOT RUN" "-" "-" "$2"
  echo "    ($3)"
  FAILED=1
}
want() { [ -z "$ONLY" ] || [[ $ONLY == *",$1,"* ]]; }  # is figure $1 to run?
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }
# bench_perf_start NAME PIDS [HZ]: with HALFSKY_BENCH_PERF=DIR set and perf
# installed, perf record of PIDS (comma-separated) at HZ (499) into
# DIR/NAME.perf.data in the background, with HALFSKY_BENCH_PERF_ARGS (call
# graphs by default), then a second for it to attach; sets BENCH_PERF_PID
# (empty when not recording). bench_perf_stop ends the recording.
bench_perf_start() {
  BENCH_PERF_PID=""
  [ -n "${HALFSKY_BENCH_PERF:-}" ] && command -v perf >/dev/null || return 0
  mkdir -p "$HALFSKY_BENCH_PERF"
  # shellcheck disable=SC2086  # HALFSKY_BENCH_PERF_ARGS is a list of perf options
  perf record -F "${3:-499}" ${HALFSKY_BENCH_PERF_ARGS:---call-graph dwarf,8192} \
    -o "$HALFSKY_BENCH_PERF/$1.perf.data" -p "$2" >"$WORK/perf-$1.log" 2>&1 &
  BENCH_PERF_PID=$!
  sleep 1
}
bench_perf_stop() {
  if [ -n "${BENCH_PERF_PID:-}" ]; then
    kill -INT "$BENCH_PERF_PID" 2>/dev/null
    wait "$BENCH_PERF_PID" 2>/dev/null
    BENCH_PERF_PID=""
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

echo "== halfsky benchmark run $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== load before: $(uptime)"

# --- Tools -----------------------------------------------------------------
if [ "${HALFSKY_BENCH_NO_INSTALL:-0}" != 1 ] &&
   { ! command -v h2load >/dev/null || ! command -v redis-benchmark >/dev/null ||
     ! command -v sqlite3 >/dev/null; }; then
  halfsky_install_packages nghttp2-client redis-tools sqlite3 || true
fi

# --- Build -----------------------------------------------------------------
if [ "$DO_BUILD" = 1 ]; then
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-/work} CCACHE_NOHASHDIR=true
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
    -DHALFSKY_BUILD_TESTS=ON -DHALFSKY_BUILD_BENCHMARKS=ON \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache >/dev/null || exit 1
  ninja -C "$BUILD" bare_echo_server || exit 1
fi
ECHO_BIN=$BUILD/tests/bench/bare_echo_server

# --- Baseline 1: bare gRPC callback echo, driven by h2load ------------------
# h2load sends one fixed gRPC frame: 1 byte flags (0), 4 bytes big-endian
# length, the message. The echo answers any method with the same bytes.
grpc_frame() {  # FILE_IN FILE_OUT : wrap a serialized message in a gRPC frame
  python3 - "$1" "$2" <<'EOF'
import struct, sys
body = open(sys.argv[1], 'rb').read()
open(sys.argv[2], 'wb').write(b'\0' + struct.pack('>I', len(body)) + body)
EOF
}
h2load_rate() {  # URL BODYFILE -> prints req/s (succeeded), or nothing
  local out
  local rc=0
  out=$(h2load -c "$CONNS" -m "$STREAMS" -t 1 -D "$SECS" -d "$2" \
          -H 'content-type: application/grpc' -H 'te: trailers' "$1" 2>&1) || rc=$?
  echo "$out" >"$WORK/h2load.last"
  [ "$rc" = 0 ] || return 1
  # "finished in 10.00s, 33512.30 req/s, ..." and "requests: ... N succeeded"
  awk '/^finished in/ { gsub(",", "", $4); print $4 }' <<<"$out"
}

ECHO_RATE=""
head -c 64 /dev/zero >"$WORK/echo.msg"   # a small message; the echo does not parse it
grpc_frame "$WORK/echo.msg" "$WORK/echo.frame"
if [ ! -x "$ECHO_BIN" ]; then
  not_run "bare gRPC echo (h2load)" "baseline" "$ECHO_BIN missing"
elif ! command -v h2load >/dev/null; then
  not_run "bare gRPC echo (h2load)" "baseline" "h2load not installed (Debian nghttp2-client)"
else
  "$ECHO_BIN" >"$WORK/echo.out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 50); do grep -q '^PORT' "$WORK/echo.out" && break; sleep 0.1; done
  ECHO_PORT=$(awk '/^PORT/ {print $2}' "$WORK/echo.out")
  if [ -z "$ECHO_PORT" ]; then
    not_run "bare gRPC echo (h2load)" "baseline" "echo server did not start: $(cat "$WORK/echo.out")"
  else
    ECHO_RATE=$(h2load_rate "http://127.0.0.1:$ECHO_PORT/bench.Echo/Echo" "$WORK/echo.frame")
    if [ -z "$ECHO_RATE" ]; then
      not_run "bare gRPC echo (h2load)" "baseline" "h2load failed: $(tail -3 "$WORK/h2load.last" 2>/dev/null)"
    else
      figure "bare gRPC echo, h2load -c$CONNS -m$STREAMS -t1 (req/s)" "$ECHO_RATE" "-" "1" "baseline"
    fi
  fi
fi

# --- Baseline 2: raw SQLite inserts, same durability ------------------------
# WAL, synchronous=FULL, 1 000-row transactions, unique text key, a value.
# sqlite_baseline_rate: one run on a fresh file; prints rows/s, or nothing
# (then $WORK/sqlite.err says why). writes.sh runs it again around
# SubmitStream, so that its ratio's baseline is measured beside it.
sqlite_baseline_rate() {
  if [ ! -f "$WORK/sqlite.sql" ]; then
    {
      echo "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
      echo "CREATE TABLE t(k TEXT NOT NULL UNIQUE, v REAL NOT NULL);"
      local b
      for ((b = 0; b < SQLITE_ROWS / 1000; b++)); do
        echo "BEGIN; WITH RECURSIVE c(x) AS (SELECT $((b * 1000)) UNION ALL SELECT x+1 FROM c WHERE x < $((b * 1000 + 999)))"
        echo " INSERT INTO t SELECT printf('HEALTH-%02d/%06d/%04d/%d', x % 40, x / 400, 2020 + x % 11, x % 9), x * 0.5 FROM c; COMMIT;"
      done
    } >"$WORK/sqlite.sql"
  fi
  rm -f "$WORK/raw.db" "$WORK/raw.db-wal" "$WORK/raw.db-shm"
  local t0 t1
  t0=$(date +%s.%N)
  sqlite3 "$WORK/raw.db" <"$WORK/sqlite.sql" >/dev/null 2>"$WORK/sqlite.err" || return 1
  t1=$(date +%s.%N)
  rm -f "$WORK/raw.db" "$WORK/raw.db-wal" "$WORK/raw.db-shm"
  awk -v n="$SQLITE_ROWS" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }'
}
if ! command -v sqlite3 >/dev/null; then
  not_run "raw SQLite inserts (rows/s)" "baseline" "sqlite3 CLI not installed"
elif SQLITE_RATE=$(sqlite_baseline_rate); then
  figure "raw SQLite inserts, WAL+FULL, 1000-row txns (rows/s)" "$SQLITE_RATE" "-" "1" "baseline"
else
  SQLITE_RATE=""
  not_run "raw SQLite inserts (rows/s)" "baseline" "$(cat "$WORK/sqlite.err")"
fi

# --- Baseline 3: Redis' own pipelined SET rate ------------------------------
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
  not_run "redis-benchmark SET -P 1024 (SET/s)" "baseline" "redis-server/redis-benchmark missing"
else
  RPORT=$(free_port)
  redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$WORK" >"$WORK/redis.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 50); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  # 420 B values: the size of an 11-year series value (docs/BENCHMARKS.md).
  REDIS_RATE=$(redis-benchmark -p "$RPORT" -t set -P 1024 -n "$REDIS_N" -d 420 -r 100000 -q 2>/dev/null |
                 tr '\r' '\n' | awk '/^SET:/ { print $2 }' | tail -1)
  if [ -z "$REDIS_RATE" ]; then
    not_run "redis-benchmark SET -P 1024 (SET/s)" "baseline" "redis-benchmark failed"
  else
    figure "redis-benchmark SET -P 1024 -d 420 (SET/s)" "$REDIS_RATE" "-" "1" "baseline"
  fi
fi

# --- Write figures: tests/bench/writes.sh -----------------------------------
# shellcheck source=writes.sh
. "$ROOT/tests/bench/writes.sh"

# --- Figures -----------------------------------------------------------------
# A figure that cannot run is printed as NOT RUN (and makes the run exit
# non-zero). The write ratios need the generator check of the same run.
if want generator || want submit_batch || want submit_stream; then writes_generator_check; fi
want submit_batch && writes_submit_batch
if want reads; then
  # shellcheck source=reads.sh
  . "$ROOT/tests/bench/reads.sh"   # ListWarnings, GetSeries, health Check ÷ bare echo
fi
want submit_stream && writes_submit_stream
# shellcheck source=stack.sh
. "$ROOT/tests/bench/stack.sh"   # start-up helpers, and the three real services for latency/size
# shellcheck source=rebuild.sh
. "$ROOT/tests/bench/rebuild.sh"
want rebuild && rebuild_figure
# shellcheck source=latency.sh
. "$ROOT/tests/bench/latency.sh"
want latency && latency_figure
# shellcheck source=size.sh
. "$ROOT/tests/bench/size.sh"     # RSS per service at ~2e6 values, and the growth
want size && size_figures
# shellcheck source=province.sh
. "$ROOT/tests/bench/province.sh" # a generated province instance at three sizes
want province && province_figures

echo "== load after: $(uptime)"
exit "$FAILED"
