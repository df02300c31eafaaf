# shellcheck shell=bash
# tests/bench/latency.sh — sourced by tests/bench/run.sh (not run on its own):
#   submit acknowledged → WatchWarnings event, p99, while a background
#   SubmitBatch load runs at about half the peak SubmitBatch rate measured
#   on the same services in the same run; baseline: the same probe's p99
#   with no background load (same run, same services, just before).
#
# Uses from run.sh: ROOT BUILD SMOKE SECS CONNS STREAMS WORK PIDS RPORT
# figure not_run ratio; from writes.sh: WRITE_LOAD_BIN WRITES_AREAS
# WRITES_GEN_OK; from stack.sh: stack_start stack_stop.
#
#  1. stack_start: fresh real halfsky-submission, -aggregation (into run.sh's
#     Redis, flushed) and -evaluation (--reevaluate_interval=1h: only the
#     update messages drive it), deploy/catalog + the bench fragment;
#  2. baseline probe: tests/bench/evaluation/watch_latency_bench.cc in
#     external mode — a WatchWarnings stream (HEALTH-06, kind PROGRESS) and
#     SubmitBatch of HEALTH-06 610303 2024 alternately 50.5 % (the progress
#     warning fires against 50 % in 2020 and the ≥ 70 % target of 2030) and
#     60 % (it resolves); latency = SubmitBatch returned → the FIRED /
#     RESOLVED event received; LATENCY_PROBES probes;
#  3. peak: write_load --mode=batch -cCONNS -mSTREAMS for SECS on the same
#     submission service (aggregation and evaluation following);
#  4. write_load --mode=batch --rate=peak/2 in the background (new keys of
#     the bench fragment), and the same probe again while it runs (at most
#     LATENCY_BG_SECS - 3 s of probing); the background must end with 0
#     failed calls, else NOT RUN.
# Printed: p99 under load | p99 without load | ratio | goal ≤ 20 ms, and a
# line with p50/p90/p99/max and the sample count of both, the peak and the
# background's target and achieved rates.

LATENCY_BIN=$BUILD/tests/bench/evaluation/evaluation_watch_latency_bench
if [ "$SMOKE" = 1 ]; then
  LATENCY_PROBES=40; LATENCY_BG_SECS=8
else
  LATENCY_PROBES=300; LATENCY_BG_SECS=40
fi
# HEALTH-06 (proportion, target ≥ 70 % in 2030), district 610303: per mille.
LATENCY_PROBE_ARGS=(--indicator=HEALTH-06 --area=610303 --denominator=1000 --base=500
                    --fire=505 --resolve=600 --probe_timeout_ms=30000)

if [ "$DO_BUILD" = 1 ]; then
  ninja -C "$BUILD" evaluation_watch_latency_bench halfsky-aggregation halfsky-evaluation \
    >"$WORK/latency-build.log" 2>&1 ||
    echo "    (latency.sh: build failed: $(tail -3 "$WORK/latency-build.log"))"
fi

# latency_probe OUT [ARGS...]: one probe run against the stack; its output
# in $WORK/OUT; prints "n p50 p90 p99 max" or nothing.
latency_probe() {
  local out=$1
  shift
  timeout $((LATENCY_BG_SECS + 60)) "$LATENCY_BIN" --submission="$STACK_SUB_ADDR" \
    --evaluation="$STACK_EVAL_ADDR" --token_file="$WORK/writes.token" \
    --iterations="$LATENCY_PROBES" "${LATENCY_PROBE_ARGS[@]}" "$@" >"$WORK/$out" 2>&1 || return 1
  sed -n 's/^RESULT n=\([0-9]*\) missed=0 p50=\([0-9.]*\) p90=\([0-9.]*\) p99=\([0-9.]*\) max=\([0-9.]*\)$/\1 \2 \3 \4 \5/p' \
    "$WORK/$out"
}

latency_figure() {
  local name="submit -> WatchWarnings p99 at half peak writes" goal="<= 20 ms"
  local t
  for t in "$LATENCY_BIN" "$WRITE_LOAD_BIN"; do
    [ -x "$t" ] || { not_run "$name" "$goal" "$t missing"; return; }
  done
  if ! stack_start latency --reevaluate_interval=1h; then
    not_run "$name" "$goal" "$STACK_ERR"
    return
  fi
  # 2. Without load.
  local quiet
  quiet=$(latency_probe latency-quiet.out)
  if [ -z "$quiet" ]; then
    not_run "$name" "$goal" "the probe without load failed: $(tail -3 "$WORK/latency-quiet.out" | tr '\n' ' ')"
    stack_stop
    return
  fi
  # 3. Peak SubmitBatch on these services.
  local peak
  peak=$("$WRITE_LOAD_BIN" --mode=batch --target="$STACK_SUB_ADDR" --token_file="$WORK/writes.token" \
           --connections="$CONNS" --in_flight="$STREAMS" --seconds="$SECS" --warmup=0.5 \
           --areas="$WRITES_AREAS" --area_prefix=610303001 >"$WORK/latency-peak.out" 2>&1 &&
         sed -n 's/^RESULT .* rate=\([0-9.]*\).*/\1/p' "$WORK/latency-peak.out")
  if [ -z "$peak" ]; then
    not_run "$name" "$goal" "the peak SubmitBatch run failed: $(head -3 "$WORK/latency-peak.out" | tr '\n' ' ')"
    stack_stop
    return
  fi
  local target
  target=$(awk -v p="$peak" 'BEGIN { printf "%.0f", p / 2 }')
  # 4. Background at half the peak (keys after the peak run's), and the probe.
  "$WRITE_LOAD_BIN" --mode=batch --target="$STACK_SUB_ADDR" --token_file="$WORK/writes.token" \
    --connections="$CONNS" --in_flight="$STREAMS" --seconds="$LATENCY_BG_SECS" --warmup=0 \
    --rate="$target" --key_offset=1000000 --areas="$WRITES_AREAS" --area_prefix=610303001 \
    >"$WORK/latency-bg.out" 2>&1 &
  local bg=$!
  PIDS+=("$bg")
  # The cache's lag behind the feed while the load runs (revisions), every 0.5 s.
  (
    while kill -0 "$bg" 2>/dev/null; do
      stack_metric "$STACK_AGG_MPORT" halfsky_aggregation_lag_revisions
      sleep 0.5
    done
  ) >"$WORK/latency-lag.out" 2>/dev/null &
  local sampler=$!
  local ip0 is0
  ip0=$(stack_metric "$STACK_EVAL_MPORT" halfsky_evaluation_passes_total '{pass="indicator",result="ok"}')
  is0=$(stack_metric "$STACK_EVAL_MPORT" halfsky_evaluation_pass_seconds_sum '{pass="indicator"}')
  sleep 1
  bench_perf_start latency "$STACK_EVAL_PID,$STACK_AGG_PID"
  local loaded
  loaded=$(latency_probe latency-load.out --max_seconds=$((LATENCY_BG_SECS - 3)))
  bench_perf_stop
  wait "$bg"
  wait "$sampler"
  local passes
  passes=$(awk -v a="${ip0:-0}" -v b="$(stack_metric "$STACK_EVAL_MPORT" halfsky_evaluation_passes_total '{pass="indicator",result="ok"}')" \
               -v c="${is0:-0}" -v d="$(stack_metric "$STACK_EVAL_MPORT" halfsky_evaluation_pass_seconds_sum '{pass="indicator"}')" \
               -v t="$LATENCY_BG_SECS" 'BEGIN { n = b - a; if (n > 0) printf "%d indicator passes (%.0f/s over %d s), %.1f ms each on average", n, n / t, t, (d - c) * 1000 / n; else print "no indicator pass" }')
  local lag
  lag=$(sort -g "$WORK/latency-lag.out" | awk '{ v[NR] = $1 } END { if (NR) printf "median %s, max %s revisions (%d samples)", v[int((NR + 1) / 2)], v[NR], NR }')
  local bg_rc=$? bg_result
  bg_result=$(grep '^RESULT' "$WORK/latency-bg.out")
  stack_stop
  if [ -z "$loaded" ]; then
    not_run "$name" "$goal" "the probe under load failed: $(tail -3 "$WORK/latency-load.out" | tr '\n' ' ')"
    return
  fi
  if [ "$bg_rc" != 0 ]; then
    not_run "$name" "$goal" "the background load had failed calls: $(grep -v '^RESULT' "$WORK/latency-bg.out" | head -3 | tr '\n' ' ') $bg_result"
    return
  fi
  local achieved
  achieved=$(sed -n 's/^RESULT .* rate=\([0-9.]*\).*/\1/p' <<<"$bg_result")
  local q l
  read -r -a q <<<"$quiet"
  read -r -a l <<<"$loaded"
  figure "$name" "${l[3]} ms" "${q[3]} ms" "$(ratio "${l[3]}" "${q[3]}")" "$goal"
  echo "    (under load: n=${l[0]} p50=${l[1]} p90=${l[2]} p99=${l[3]} max=${l[4]} ms; baseline, no load, same services just before: n=${q[0]} p50=${q[1]} p90=${q[2]} p99=${q[3]} max=${q[4]} ms)"
  echo "    (load: peak SubmitBatch on these services $(printf '%.0f' "$peak")/s (write_load -c$CONNS -m$STREAMS, ${SECS} s$([ "${WRITES_GEN_OK:-}" = 1 ] || echo '; the generator check did not pass or did not run, so the peak may be a lower bound')); background --rate=$target: achieved $(printf '%.0f' "$achieved")/s over ${LATENCY_BG_SECS} s, $bg_result)"
  echo "    (while the background load ran: aggregation's halfsky_aggregation_lag_revisions ${lag:-not sampled}; evaluation: $passes)"
  echo "    (probe: HEALTH-06 610303 2024 alternately 50.5 % / 60 % → progress warning FIRED / RESOLVED on WatchWarnings; latency from SubmitBatch returned to the event received)"
}
