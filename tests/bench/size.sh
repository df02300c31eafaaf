# shellcheck shell=bash
# tests/bench/size.sh — sourced by tests/bench/run.sh (not run on its own):
#   RSS of each service with a province-size dataset (≈ 2e6 values; goal
#   ≤ 150 MB each) and the growth of RSS and of a Rebuild from district
#   (1e5 values) to province size, measured at three sizes in one run.
#
# Uses from run.sh: ROOT BUILD SMOKE WORK PIDS RPORT figure not_run ratio;
# from writes.sh: WRITE_LOAD_BIN WRITES_AREAS (the bench fragment's key
# space: 40 indicators × WRITES_AREAS communities × 7 years × sex ×
# residence = 2 520 000 keys); from stack.sh: stack_start stack_stop
# stack_metric stack_caught_up.
#
# One fresh stack (stack.sh: real submission, aggregation into run.sh's
# Redis, evaluation with --reevaluate_interval=2s), then per size S of
# SIZE_STEPS, in increasing order:
#  1. write_load --mode=stream adds S - (values so far) values, every one a
#     new key (--key_offset = values so far; 4 streams, 1000-value chunks,
#     4 unacknowledged; seeded: the keys and values are a function of the
#     key index), within SIZE_LOAD_BOUND s plus 1 s per 20 000 values;
#     NOT RUN if fewer were acknowledged created;
#  2. waits until aggregation's cursor equals the feed head and is at
#     least S (a fresh feed: one revision per value), then until
#     evaluation has ended two more full passes (its
#     halfsky_evaluation_passes_total{pass="full",result="ok"}: the second
#     started after the catch-up), each within SIZE_WAIT_BOUND s;
#  3. reads VmRSS and VmHWM from /proc/PID/status of each service (and of
#     redis-server, for information);
#  4. times one Rebuild RPC from the client (as rebuild.sh), checking that
#     its data_value_count is S, within SIZE_WAIT_BOUND s ("failed" in the
#     table otherwise).
# Printed: one line per service with its RSS at the largest size against
# ≤ 150 MB (HWM beside it), then the growth line: the sum of the three
# services' RSS at the largest size ÷ at the smallest, against the growth
# of the data (the ratio: 1 would be linear in the data), and a table of
# all three sizes.

if [ "$SMOKE" = 1 ]; then
  SIZE_STEPS=(2000 6000 20000)
else
  SIZE_STEPS=(100000 500000 2000000)
fi
SIZE_LOAD_BOUND=60   # s, plus 1 s per 20 000 values, per load step
SIZE_WAIT_BOUND=300  # s, for the cache to catch up and for an evaluation pass
SIZE_SERVICES=(submission aggregation evaluation)

# size_status PID FIELD: FIELD (VmRSS, VmHWM) of PID in kB.
size_status() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }
size_mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# size_rebuild: one Rebuild on the stack's aggregation; prints "SECONDS
# COUNT" or nothing.
size_rebuild() {
  printf '\0\0\0\0\0' >"$WORK/size-rebuild.frame"
  local t0 t1 reply
  t0=$(date +%s.%N)
  timeout "$SIZE_WAIT_BOUND" nghttp -d "$WORK/size-rebuild.frame" -H 'content-type: application/grpc' -H 'te: trailers' \
    -H "authorization: Bearer $(cat "$WORK/writes.token")" \
    "http://$STACK_AGG_ADDR/halfsky.v1.AggregationService/Rebuild" >"$WORK/size-rebuild.reply" \
    2>"$WORK/size-rebuild.err" || return 1
  t1=$(date +%s.%N)
  reply=$(tail -c +6 "$WORK/size-rebuild.reply" |
          protoc -I"$ROOT/protos" --decode=halfsky.v1.RebuildResponse halfsky/v1/aggregation.proto 2>&1)
  awk -v a="$t0" -v b="$t1" -v c="$(sed -n 's/^data_value_count: \([0-9]*\)/\1/p' <<<"$reply")" \
    'BEGIN { if (c != "") printf "%.3f %d\n", b - a, c }'
}

size_figures() {
  local names=() s
  for s in "${SIZE_SERVICES[@]}"; do names+=("RSS per service, ~2e6 values: halfsky-$s"); done
  local growth="growth 1e5 -> 2e6 values (three sizes)"
  size_not_run() {
    local n
    for n in "${names[@]}"; do not_run "$n" "<= 150 MB" "$1"; done
    not_run "$growth" "report" "$1"
  }
  local t
  for t in nghttp protoc curl redis-cli; do
    command -v "$t" >/dev/null || { size_not_run "$t not installed"; return; }
  done
  [ -x "$WRITE_LOAD_BIN" ] || { size_not_run "$WRITE_LOAD_BIN missing"; return; }
  if [ "${SIZE_STEPS[-1]}" -gt $((40 * 63 * WRITES_AREAS)) ]; then
    size_not_run "the bench key space ($((40 * 63 * WRITES_AREAS)) keys) is smaller than ${SIZE_STEPS[-1]}"
    return
  fi
  if ! stack_start size --reevaluate_interval=2s; then
    size_not_run "$STACK_ERR"
    return
  fi
  local redis_pid
  redis_pid=$(redis-cli -p "$RPORT" info server | tr -d '\r' | sed -n 's/^process_id://p')
  local loaded=0 rows=() step delta chunks bound t0 t1 got caught pass
  local -A rss hwm
  for step in "${SIZE_STEPS[@]}"; do
    # 1. Load the new keys.
    delta=$((step - loaded))
    chunks=$((delta / 1000))
    bound=$((SIZE_LOAD_BOUND + delta / 20000))
    t0=$(date +%s.%N)
    "$WRITE_LOAD_BIN" --mode=stream --target="$STACK_SUB_ADDR" --token_file="$WORK/writes.token" \
      --connections=4 --in_flight=4 --chunk=1000 --seconds="$bound" --warmup=0 \
      --max_chunks="$chunks" --key_offset="$loaded" --areas="$WRITES_AREAS" \
      --area_prefix=610303001 >"$WORK/size-load-$step.out" 2>&1
    t1=$(date +%s.%N)
    got=$(sed -n 's/^RESULT .* values=\([0-9]*\).*/\1/p' "$WORK/size-load-$step.out")
    if [ "${got:-0}" -lt "$delta" ]; then
      size_not_run "loading $delta values (to $step) acknowledged ${got:-0} within $bound s: $(grep -v '^RESULT' "$WORK/size-load-$step.out" | head -2 | tr '\n' ' ')"
      stack_stop
      return
    fi
    loaded=$step
    local load_s
    load_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    # 2. Caught up, then a full evaluation pass that started after that.
    if ! stack_caught_up "$SIZE_WAIT_BOUND" "$step"; then
      size_not_run "at $step values: $STACK_ERR"
      stack_stop
      return
    fi
    # Two more full passes ended: the second started after the catch-up.
    caught=$(stack_metric "$STACK_EVAL_MPORT" halfsky_evaluation_passes_total '{pass="full",result="ok"}')
    local _ ok=0
    for _ in $(seq $((SIZE_WAIT_BOUND * 5))); do
      pass=$(stack_metric "$STACK_EVAL_MPORT" halfsky_evaluation_passes_total '{pass="full",result="ok"}')
      if awk -v p="${pass:-0}" -v c="${caught:-0}" 'BEGIN { exit !(p >= c + 2) }'; then ok=1; break; fi
      sleep 0.2
    done
    if [ "$ok" != 1 ]; then
      size_not_run "at $step values: evaluation did not end two full passes within $SIZE_WAIT_BOUND s of the catch-up (passes ${caught:-?} -> ${pass:-?})"
      stack_stop
      return
    fi
    # 3. Memory.
    local pids=("$STACK_SUB_PID" "$STACK_AGG_PID" "$STACK_EVAL_PID") i row
    row="$step $load_s"
    for i in 0 1 2; do
      rss[$step,$i]=$(size_status "${pids[$i]}" VmRSS)
      hwm[$step,$i]=$(size_status "${pids[$i]}" VmHWM)
      row+=" $(size_mb "${rss[$step,$i]:-0}")/$(size_mb "${hwm[$step,$i]:-0}")"
    done
    row+=" $(size_mb "$(size_status "${redis_pid:-0}" VmRSS)")"
    # 4. Rebuild.
    local rb
    rb=$(size_rebuild)
    if [ -z "$rb" ] || [ "${rb#* }" -lt "$step" ]; then
      row+=" failed(>${SIZE_WAIT_BOUND}s?)"
    else
      row+=" ${rb% *}"
    fi
    rows+=("$row")
  done
  local pass_s
  pass_s=$(curl -s "http://127.0.0.1:$STACK_EVAL_MPORT/metrics" |
           awk '/^halfsky_evaluation_pass_seconds_sum\{pass="full"\}/ { s = $2 }
                /^halfsky_evaluation_pass_seconds_count\{pass="full"\}/ { n = $2 }
                END { if (n > 0) printf "%.3f s mean over %d passes", s / n, n }')
  stack_stop

  local big=${SIZE_STEPS[-1]} small=${SIZE_STEPS[0]} i
  for i in 0 1 2; do
    figure "${names[$i]}" "$(size_mb "${rss[$big,$i]:-0}") MB" "-" "-" "<= 150 MB"
    echo "    (VmRSS at $big values, caught up and after a full evaluation pass; VmHWM $(size_mb "${hwm[$big,$i]:-0}") MB)"
  done
  local sum_big=0 sum_small=0
  for i in 0 1 2; do
    sum_big=$((sum_big + ${rss[$big,$i]:-0}))
    sum_small=$((sum_small + ${rss[$small,$i]:-0}))
  done
  local g_rss g_data
  g_rss=$(ratio "$sum_big" "$sum_small")
  g_data=$(ratio "$big" "$small")
  figure "$growth" "RSS x$g_rss" "values x$g_data" "$(ratio "$g_rss" "$g_data")" "report"
  echo "    (sum of the three services' VmRSS at $big ÷ at $small values, against the data's growth; per size:)"
  echo "    values | load s | submission RSS/HWM MB | aggregation RSS/HWM MB | evaluation RSS/HWM MB | redis-server RSS MB | Rebuild s"
  local r
  for r in "${rows[@]}"; do
    echo "$r" | awk '{ printf "    %7s | %6s | %21s | %22s | %21s | %19s | %s\n", $1, $2, $3, $4, $5, $6, $7 }'
  done
  echo "    (seeded synthetic data: write_load --mode=stream keys 0..$big of the bench fragment, all created; evaluation full passes every 2 s: ${pass_s:-no pass time})"
}
