# shellcheck shell=bash
# tests/bench/rebuild.sh — sourced by tests/bench/run.sh (not run on its own):
#   Rebuild of ~1e6 values through the Rebuild RPC, end to end, against the
#   time Redis itself takes to SET the same keys with the same bytes
#   (redis-benchmark -P 1024, in the same run).
#
# Uses from run.sh: ROOT BUILD SMOKE WORK PIDS RPORT (its redis-server)
# figure not_run ratio free_port; from writes.sh: WRITE_LOAD_BIN
# SUBMISSION_BIN WRITES_AREAS writes_start_submission writes_stop_submission;
# from stack.sh: AGGREGATION_BIN stack_wait_addr stack_metric.
#
#  1. a real halfsky-submission on a fresh SQLite file is loaded with
#     REBUILD_VALUES new values (write_load --mode=stream: 4 streams,
#     1000-value chunks; every chunk acknowledged, so durable);
#  2. the Redis of run.sh is flushed (redis-benchmark's keys) and a real
#     halfsky-aggregation follows the submission service into it, until its
#     cursor equals the feed head;
#  3. Rebuild is called once (nghttp, the statistics token) and timed from
#     the client: the whole recompute from sequence 0 and the rewrite of the
#     cache; it counts only if the reply decodes with data_value_count equal
#     to what was loaded and the server counted exactly one OK Rebuild;
#  4. baseline: the series keys Redis now holds (SCAN) and their mean value
#     size (STRLEN); redis-benchmark SETs as many keys of that size,
#     pipelined 1024 deep; its time = keys / rate.
# Printed: the Rebuild's seconds, the baseline's seconds, their ratio
# (how many times Redis' own time for the same keys and bytes), goal ≤ 1 s;
# and the CPU each service spent during the Rebuild, with its busiest
# thread (which of them bounds the wall time).

if [ "$SMOKE" = 1 ]; then REBUILD_VALUES=20000; else REBUILD_VALUES=1000000; fi
REBUILD_VALUES=${HALFSKY_BENCH_REBUILD_VALUES:-$REBUILD_VALUES}

# Per-thread CPU ticks of PID: "stat-path name ticks" lines (comm has no
# spaces in halfsky's threads; fields 14 + 15 are utime + stime). A thread
# that ends between the two snapshots is not counted.
rebuild_thread_ticks() {
  local f
  for f in /proc/"$1"/task/*/stat; do
    awk '{ n = $2; gsub(/[()]/, "", n); print FILENAME, n, $14 + $15 }' "$f" 2>/dev/null
  done
}

# Both services' thread ticks into $WORK/rebuild-{agg,sub}.ticksN.
rebuild_snapshot() {
  rebuild_thread_ticks "$REBUILD_AGG_PID" >"$WORK/rebuild-agg.ticks$1"
  rebuild_thread_ticks "$SUB_PID" >"$WORK/rebuild-sub.ticks$1"
}

# CPU seconds of each process between two rebuild_thread_ticks snapshots,
# and its busiest thread: "P.PP s (busiest thread NAME Q.QQ s)".
rebuild_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '
    NR == FNR { before[$1] = $3; next }
    { d = $3 - before[$1]; total += d; if (d > best) { best = d; name = $2 } }
    END { printf "%.2f s (busiest thread %s %.2f s)", total / hz, name, best / hz }' "$1" "$2"
}

rebuild_stop() {
  [ -n "${REBUILD_AGG_PID:-}" ] && kill "$REBUILD_AGG_PID" 2>/dev/null && wait "$REBUILD_AGG_PID" 2>/dev/null
  REBUILD_AGG_PID=
  writes_stop_submission
}

rebuild_figure() {
  local name="Rebuild 1e6 values ÷ redis-benchmark SET rate" goal="report; <= 1 s"
  local t
  for t in nghttp protoc curl redis-cli redis-benchmark; do
    command -v "$t" >/dev/null || { not_run "$name" "$goal" "$t not installed"; return; }
  done
  if [ -z "${RPORT:-}" ]; then
    not_run "$name" "$goal" "run.sh's redis-server did not start"
    return
  fi
  for t in "$WRITE_LOAD_BIN" "$SUBMISSION_BIN" "$AGGREGATION_BIN"; do
    [ -x "$t" ] || { not_run "$name" "$goal" "$t missing"; return; }
  done
  if ! writes_start_submission writes-rebuild; then
    not_run "$name" "$goal" "$WRITES_START_ERR"
    return
  fi

  # 1. Load: chunks of 1000 new values until REBUILD_VALUES are acknowledged.
  local chunks=$((REBUILD_VALUES / 1000)) seconds
  seconds=$(awk -v n="$REBUILD_VALUES" 'BEGIN { printf "%d", n / 20000 + 5 }')
  "$WRITE_LOAD_BIN" --mode=stream --target="$SUB_ADDR" --token_file="$WORK/writes.token" \
    --connections=4 --in_flight=4 --chunk=1000 --seconds="$seconds" --warmup=0 \
    --max_chunks="$chunks" --areas="$WRITES_AREAS" --area_prefix=610303001 \
    >"$WORK/rebuild-load.out" 2>&1
  local loaded
  loaded=$(sed -n 's/^RESULT .* values=\([0-9]*\).*/\1/p' "$WORK/rebuild-load.out")
  if [ -z "$loaded" ] || [ "$loaded" -lt "$REBUILD_VALUES" ]; then
    not_run "$name" "$goal" "loading $REBUILD_VALUES values failed or stopped at ${loaded:-0}: $(head -3 "$WORK/rebuild-load.out" | tr '\n' ' ')"
    rebuild_stop
    return
  fi

  # 2. Aggregation follows the feed into the (flushed) Redis.
  redis-cli -p "$RPORT" flushall >/dev/null
  rm -f "$WORK/rebuild-agg.addr"
  "$AGGREGATION_BIN" --listen 127.0.0.1:0 --metrics_listen 127.0.0.1:0 \
    --catalog "$ROOT/deploy/catalog,$WORK/writes-catalog.textproto" \
    --tokens_file "$WORK/writes.tokens" --address_file "$WORK/rebuild-agg.addr" \
    --submission "$SUB_ADDR" --submission_token_file "$WORK/writes.token" \
    --redis "127.0.0.1:$RPORT" --drain_delay 0s --rate_limit_per_second=0 \
    >"$WORK/rebuild-agg.log" 2>&1 &
  REBUILD_AGG_PID=$!
  PIDS+=("$REBUILD_AGG_PID")
  local agg_addr="" mport="" _
  stack_wait_addr rebuild-agg "$REBUILD_AGG_PID"
  agg_addr=$STACK_ADDR
  mport=$STACK_MPORT
  if [ -z "$agg_addr" ] || [ -z "$mport" ]; then
    not_run "$name" "$goal" "halfsky-aggregation did not start: $(tail -3 "$WORK/rebuild-agg.log" | tr '\n' ' ')"
    rebuild_stop
    return
  fi
  local head cursor
  for _ in $(seq 1200); do
    head=$(stack_metric "$mport" halfsky_aggregation_feed_head_sequence)
    cursor=$(stack_metric "$mport" halfsky_aggregation_cursor)
    # The head metric lags the real head during a catch-up: also require
    # every loaded value (one revision each) to be in it.
    [ -n "$head" ] && [ "${head%.*}" -ge "$loaded" ] && [ "$head" = "$cursor" ] && break
    sleep 0.1
  done
  if [ -z "$head" ] || [ "$head" != "$cursor" ]; then
    not_run "$name" "$goal" "the cache did not reach the feed head (cursor ${cursor:-?}, head ${head:-?}) within 120 s"
    rebuild_stop
    return
  fi

  # 3. One Rebuild, timed end to end from the client.
  : >"$WORK/rebuild.msg"
  { printf '\0\0\0\0\0'; } >"$WORK/rebuild.frame"
  local t0 t1 secs reply count
  bench_perf_start rebuild "$REBUILD_AGG_PID,$SUB_PID"
  rebuild_snapshot 0
  t0=$(date +%s.%N)
  nghttp -d "$WORK/rebuild.frame" -H 'content-type: application/grpc' -H 'te: trailers' \
    -H "authorization: Bearer $(cat "$WORK/writes.token")" \
    "http://$agg_addr/halfsky.v1.AggregationService/Rebuild" >"$WORK/rebuild.reply" 2>"$WORK/rebuild.err"
  t1=$(date +%s.%N)
  rebuild_snapshot 1
  bench_perf_stop
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  reply=$(tail -c +6 "$WORK/rebuild.reply" |
          protoc -I"$ROOT/protos" --decode=halfsky.v1.RebuildResponse halfsky/v1/aggregation.proto 2>&1)
  count=$(sed -n 's/^data_value_count: \([0-9]*\)/\1/p' <<<"$reply")
  local handled
  handled=$(curl -s "http://127.0.0.1:$mport/metrics" |
            grep 'halfsky_grpc_server_handled_total{.*/halfsky.v1.AggregationService/Rebuild"' |
            tr '\n' ' ')
  if [ "${count:-0}" -lt "$loaded" ] || [ "$handled" != "halfsky_grpc_server_handled_total{code=\"0\",method=\"/halfsky.v1.AggregationService/Rebuild\"} 1 " ]; then
    not_run "$name" "$goal" "Rebuild did not answer OK with $loaded values: $(tr '\n' ' ' <<<"$reply") $(head -2 "$WORK/rebuild.err") [$handled]"
    rebuild_stop
    return
  fi

  # 4. Baseline: Redis SETting as many keys of the same mean size.
  local keys bytes mean rate base
  keys=$(redis-cli -p "$RPORT" --scan --pattern 'halfsky:agg:v3:s:*' | wc -l)
  bytes=$(redis-cli -p "$RPORT" --scan --pattern 'halfsky:agg:v3:s:*' | sed 's/^/STRLEN /' |
          redis-cli -p "$RPORT" | awk '{ s += $1 } END { print s + 0 }')
  mean=$(awk -v b="$bytes" -v k="$keys" 'BEGIN { if (k > 0) printf "%d", b / k; else print 0 }')
  redis-cli -p "$RPORT" flushall >/dev/null
  rate=$(redis-benchmark -p "$RPORT" -t set -P 1024 -n "$keys" -d "$mean" -r "$keys" -q 2>/dev/null |
         tr '\r' '\n' | awk '/^SET:/ { print $2 }' | tail -1)
  rebuild_stop
  if [ -z "$rate" ] || [ "$keys" -eq 0 ]; then
    not_run "$name" "$goal" "redis-benchmark of $keys keys × $mean B failed"
    return
  fi
  base=$(awk -v k="$keys" -v r="$rate" 'BEGIN { printf "%.3f", k / r }')
  figure "$name" "${secs} s" "${base} s" "$(ratio "$secs" "$base")" "$goal"
  echo "    (Rebuild RPC of $count values ($(sed -n 's/^aggregate_count: //p' <<<"$reply") aggregates, server 'took' $(tr '\n' ' ' <<<"$reply" | sed -n 's/.*took {\(.*\)}.*/\1/p')) timed by the client; baseline: redis-benchmark SET of $keys keys × $mean B (the series keys and mean value size the rebuild wrote), -P 1024, $rate SET/s; ratio = Rebuild time ÷ Redis' own time)"
  echo "    (aggregation's own account: $(grep -o 'rebuilt from the change feed: .*' "$WORK/rebuild-agg.log" | tail -1))"
  echo "    (CPU during the Rebuild: submission $(rebuild_cpu "$WORK/rebuild-sub.ticks0" "$WORK/rebuild-sub.ticks1"), aggregation $(rebuild_cpu "$WORK/rebuild-agg.ticks0" "$WORK/rebuild-agg.ticks1"))"
}
