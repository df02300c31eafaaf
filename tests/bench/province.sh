# shellcheck shell=bash disable=SC2034
# tests/bench/province.sh — sourced by tests/bench/run.sh (not run on its
# own): a province-size instance (issue #17 item 5) at three sizes, through
# the real services (submission on SQLite, aggregation into run.sh's
# redis-server, evaluation).
#
# Uses from run.sh: ROOT BUILD SMOKE DO_BUILD WORK RPORT SQLITE_RATE figure not_run
# ratio; from writes.sh: WRITE_LOAD_BIN (its --key_plan mode); from
# stack.sh: stack_start stack_stop stack_stop_one stack_start_aggregation
# stack_start_evaluation stack_metric stack_caught_up; from size.sh:
# size_status size_mb.
#
# Per size (PROVINCE_COUNTIES, in increasing order), on a fresh stack:
#  1. tests/bench/province_gen.py --counties=N --towns=PROVINCE_TOWNS writes
#     the province catalog (deploy/catalog's header, indicators, targets and
#     units; a generated tree 示例省 → cities (one per 10 counties) →
#     counties → towns) and its key plan (every numeric indicator × the
#     breakdowns it accepts × PROVINCE_YEARS × the towns, where data is
#     entered); `halfskyctl catalog lint` is timed on it (must pass).
#  2. stack_start with BENCH_CATALOG = that catalog, evaluation with
#     --area_depth=1 (the default: the province and its cities) and
#     --reevaluate_interval=2s.
#  3. Load: write_load --mode=stream --key_plan (4 streams, one town's values
#     per chunk, 4 unacknowledged, seeded values) of every key, within
#     PROVINCE_LOAD_BOUND s plus 1 s per 20 000 values; NOT RUN if fewer were
#     acknowledged created. Load values/s ÷ run.sh's raw SQLite rows/s.
#  4. Aggregation lag: from the load's end until aggregation's cursor is the
#     feed head (≥ the values written), within PROVINCE_WAIT_BOUND s.
#  5. Evaluation at depth 1: the first and the second full pass that
#     ended after the catch-up, counted by halfsky_evaluation_passes_total{
#     pass="full",result="ok"} (a result="error" pass meanwhile: "failed"),
#     timed by halfsky_evaluation_pass_seconds{pass="full"} Δsum/Δcount;
#     its firing warnings.
#  6. Memory and disk: VmRSS/VmHWM of each service, redis-server's
#     used_memory and VmRSS, the submission SQLite file (+ WAL) and the
#     evaluation's.
#  7. Cold aggregation catch-up over the whole tree: aggregation stopped,
#     Redis FLUSHALLed, a new aggregation started: seconds until its cursor
#     is the feed head again (every aggregate rebuilt), and its RSS after
#     ("failed" if it did not start or catch up within PROVINCE_WAIT_BOUND s).
#  8. Evaluation at depth 3 (every area: cities, counties, towns), the
#     evaluation restarted on the new aggregation after a completed step 7:
#     its first and second full pass as in step 5, within PROVINCE_WAIT_BOUND
#     s each (in the table "notrun" if step 7 failed or the evaluation did
#     not start, "failed" if a pass failed, ">Ns" if a pass did not end in
#     time), RSS after. HALFSKY_BENCH_PERF=DIR: perf
#     record (call graphs) of evaluation and aggregation during these two
#     passes at the largest size, into DIR/province-eval-d3.perf.data.
# Printed: one figure line per measure at the largest size, the growth of
# each from the smallest (÷ the data's growth: 1 is linear), and a table of
# all sizes.

if [ "$SMOKE" = 1 ]; then
  PROVINCE_COUNTIES=(1 2 3)
  PROVINCE_TOWNS=2
  PROVINCE_YEARS=2020-2021
else
  # 5 counties ≈ 1e5 values (a district's order), 25 ≈ 5e5, 100 ≈ 2e6.
  PROVINCE_COUNTIES=(5 25 100)
  PROVINCE_TOWNS=28
  PROVINCE_YEARS=2020-2026  # 2020..today: the service refuses future years
fi
# PROVINCE_SIZES="N ...": other county counts (e.g. "5 25").
if [ -n "${PROVINCE_SIZES:-}" ]; then read -r -a PROVINCE_COUNTIES <<<"$PROVINCE_SIZES"; fi
PROVINCE_LOAD_BOUND=${PROVINCE_LOAD_BOUND:-60}   # s, plus 1 s per 20 000 values
# PROVINCE_PG=postgresql://USER@HOST:PORT: submission on the PostgreSQL
# store instead, a fresh database provN per size (createdb; the disk column
# is then the database's pg_database_size).
PROVINCE_PG=${PROVINCE_PG:-}
PROVINCE_WAIT_BOUND=${PROVINCE_WAIT_BOUND:-600}  # s, per catch-up and per evaluation pass
HALFSKYCTL_BIN=$BUILD/services/halfskyctl/halfskyctl

# province_pass_stats: "SUM COUNT OK ERROR": the full-pass histogram's sum
# and count (every full pass, failed ones too) and
# halfsky_evaluation_passes_total{pass="full"} by result.
province_pass_stats() {
  curl -s "http://127.0.0.1:$STACK_EVAL_MPORT/metrics" |
    awk '/^halfsky_evaluation_pass_seconds_sum\{pass="full"\}/ { s = $2 }
         /^halfsky_evaluation_pass_seconds_count\{pass="full"\}/ { n = $2 }
         /^halfsky_evaluation_passes_total\{pass="full",result="ok"\}/ { ok = $2 }
         /^halfsky_evaluation_passes_total\{pass="full",result="error"\}/ { e = $2 }
         END { printf "%s %s %s %s\n", (s == "" ? 0 : s), (n == "" ? 0 : n),
                      (ok == "" ? 0 : ok), (e == "" ? 0 : e) }'
}
province_metric_sum() {  # PORT NAME: the sum of every sample of NAME
  curl -s "http://127.0.0.1:$1/metrics" |
    awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f\n", s }'
}

# province_two_passes: waits for two more successful full passes
# (passes_total{result="ok"}) than when called, within PROVINCE_WAIT_BOUND s
# each; sets PROV_PASS1 PROV_PASS2 (seconds of the first and the second:
# Δsum/Δcount of the histogram), or returns 1 with PROV_PASS_FAIL "failed"
# (a full pass ended with result="error": the histogram counts those too, so
# no time is taken from it) or "> Ns" (not within the bound, or the
# evaluation exited).
province_two_passes() {
  local n s ok e err0 _ k
  read -r s n ok e <<<"$(province_pass_stats)"
  err0=$e
  PROV_PASS1=""
  PROV_PASS2=""
  PROV_PASS_FAIL=""
  local prev_s=$s prev_n=$n prev_ok=$ok
  for k in 1 2; do
    local done_=0
    for _ in $(seq $((PROVINCE_WAIT_BOUND * 5))); do
      read -r s n ok e <<<"$(province_pass_stats)"
      if awk -v a="$e" -v b="$err0" 'BEGIN { exit !(a > b) }'; then
        PROV_PASS_FAIL="failed"
        return 1
      fi
      if awk -v a="$ok" -v b="$prev_ok" -v c="$n" -v d="$prev_n" 'BEGIN { exit !(a > b && c > d) }'; then
        done_=1
        break
      fi
      kill -0 "$STACK_EVAL_PID" 2>/dev/null || break
      sleep 0.2
    done
    if [ "$done_" != 1 ]; then
      PROV_PASS_FAIL="> ${PROVINCE_WAIT_BOUND}s"
      return 1
    fi
    local t
    t=$(awk -v a="$s" -v b="$prev_s" -v c="$n" -v d="$prev_n" 'BEGIN { printf "%.2f", (a - b) / (c - d) }')
    if [ "$k" = 1 ]; then PROV_PASS1=$t; else PROV_PASS2=$t; fi
    prev_s=$s
    prev_n=$n
    prev_ok=$ok
  done
}

# province_size N: one size; appends a row to PROV_ROWS and sets PROV_* for
# the figures, or returns 1 with PROV_ERR.
province_size() {
  local n=$1
  local dir=$WORK/province-$n out
  rm -rf "$dir"
  if ! out=$(python3 "$ROOT/tests/bench/province_gen.py" --counties="$n" --towns="$PROVINCE_TOWNS" \
               --years="$PROVINCE_YEARS" --catalog="$ROOT/deploy/catalog" --out="$dir" 2>&1); then
    PROV_ERR="province_gen.py failed: $out"
    return 1
  fi
  local values towns slots years areas
  values=$(sed -n 's/.* values=\([0-9]*\).*/\1/p' <<<"$out")
  towns=$(sed -n 's/.* towns=\([0-9]*\).*/\1/p' <<<"$out")
  slots=$(sed -n 's/.* slots=\([0-9]*\).*/\1/p' <<<"$out")
  years=$(sed -n 's/.* years=\([0-9]*\).*/\1/p' <<<"$out")
  areas=$(sed -n 's/.* areas=\([0-9]*\).*/\1/p' <<<"$out")
  PROV_DESC=$out
  # 1. Lint.
  local t0 t1 lint_s
  t0=$(date +%s.%N)
  if ! "$HALFSKYCTL_BIN" catalog lint "$dir/catalog" >"$WORK/province-lint-$n.out" 2>&1; then
    PROV_ERR="halfskyctl catalog lint refused the generated catalog: $(head -3 "$WORK/province-lint-$n.out" | tr '\n' ' ')"
    return 1
  fi
  t1=$(date +%s.%N)
  lint_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  # 2. The stack on the province catalog.
  BENCH_CATALOG=$dir/catalog  # read by writes_catalog_paths (writes.sh)
  if [ -n "$PROVINCE_PG" ]; then
    psql -q "$PROVINCE_PG/postgres" -c "DROP DATABASE IF EXISTS prov$n" -c "CREATE DATABASE prov$n" \
      >"$WORK/province-pg-$n.log" 2>&1 || {
      PROV_ERR="cannot create database prov$n: $(tail -2 "$WORK/province-pg-$n.log" | tr '\n' ' ')"
      return 1
    }
    BENCH_STORE=postgres:$PROVINCE_PG/prov$n
  fi
  t0=$(date +%s.%N)
  if ! stack_start "prov$n" --area_depth=1 --reevaluate_interval=2s; then
    PROV_ERR=$STACK_ERR
    unset BENCH_CATALOG BENCH_STORE
    return 1
  fi
  t1=$(date +%s.%N)
  local start_s
  start_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  # 3. Load.
  local chunk=$((slots * years)) bound=$((PROVINCE_LOAD_BOUND + values / 20000)) got load_s
  t0=$(date +%s.%N)
  "$WRITE_LOAD_BIN" --mode=stream --target="$STACK_SUB_ADDR" --token_file="$WORK/writes.token" \
    --key_plan="$dir/keys.txt" --seed=17 --connections=4 --in_flight=4 --chunk="$chunk" \
    --max_chunks="$towns" --seconds="$bound" --warmup=0 >"$WORK/province-load-$n.out" 2>&1
  t1=$(date +%s.%N)
  got=$(sed -n 's/^RESULT .* values=\([0-9]*\).*/\1/p' "$WORK/province-load-$n.out")
  if [ "${got:-0}" -lt "$values" ]; then
    PROV_ERR="loading $values values acknowledged ${got:-0} within $bound s: $(grep -v '^RESULT' "$WORK/province-load-$n.out" | head -3 | tr '\n' ' ')"
    stack_stop
    unset BENCH_CATALOG BENCH_STORE
    return 1
  fi
  load_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  PROV_LOAD_RATE=$(awk -v v="$values" -v s="$load_s" 'BEGIN { printf "%.0f", v / s }')
  # 4. Lag.
  if ! stack_caught_up "$PROVINCE_WAIT_BOUND" "$values"; then
    PROV_ERR="after the load: $STACK_ERR"
    stack_stop
    unset BENCH_CATALOG BENCH_STORE
    return 1
  fi
  t0=$(date +%s.%N)
  local lag_s
  lag_s=$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.2f", b - a }')
  # 5. Evaluation, depth 1.
  local d1_first="-" d1_second="-" d1_warn="-"
  if province_two_passes; then
    d1_first=$PROV_PASS1
    d1_second=$PROV_PASS2
    d1_warn=$(province_metric_sum "$STACK_EVAL_MPORT" halfsky_evaluation_firing_warnings)
  else
    d1_first=$PROV_PASS_FAIL
  fi
  # 6. Memory and disk.
  local redis_pid mem=() i
  redis_pid=$(redis-cli -p "$RPORT" info server | tr -d '\r' | sed -n 's/^process_id://p')
  for i in "$STACK_SUB_PID" "$STACK_AGG_PID" "$STACK_EVAL_PID"; do
    mem+=("$(size_mb "$(size_status "$i" VmRSS)")/$(size_mb "$(size_status "$i" VmHWM)")")
  done
  local redis_used redis_rss sub_disk eval_disk
  redis_used=$(redis-cli -p "$RPORT" info memory | tr -d '\r' | sed -n 's/^used_memory:\([0-9]*\)/\1/p')
  redis_used=$(awk -v b="${redis_used:-0}" 'BEGIN { printf "%.1f", b / 1048576 }')
  redis_rss=$(size_mb "$(size_status "${redis_pid:-0}" VmRSS)")
  if [ -n "$PROVINCE_PG" ]; then
    sub_disk=$(psql -At "$PROVINCE_PG/postgres" -c "SELECT pg_database_size('prov$n') / 1048576.0" |
               awk '{ printf "%.1f", $1 }')
  else
    sub_disk=$(du -ck "$WORK/prov$n.db"* 2>/dev/null | awk 'END { printf "%.1f", $1 / 1024 }')
  fi
  eval_disk=$(du -ck "$WORK/prov$n-eval.db"* 2>/dev/null | awk 'END { printf "%.1f", $1 / 1024 }')
  # 7. Cold catch-up.
  local cold_s="failed" agg_after="-"
  stack_stop_one evaluation
  stack_stop_one aggregation
  redis-cli -p "$RPORT" flushall >/dev/null
  t0=$(date +%s.%N)
  if stack_start_aggregation "prov$n" && stack_caught_up "$PROVINCE_WAIT_BOUND" "$values"; then
    t1=$(date +%s.%N)
    cold_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    agg_after=$(size_mb "$(size_status "$STACK_AGG_PID" VmRSS)")
  fi
  # 8. Evaluation, depth 3 (only on a completed cold catch-up: on a
  # partly rebuilt Redis its times would not be the whole tree's).
  local d3_first="not run" d3_second="-" d3_warn="-" eval3="-"
  if [ "$cold_s" != failed ] && stack_start_evaluation "prov$n" --area_depth=3 --reevaluate_interval=2s; then
    if [ "$n" = "${PROVINCE_COUNTIES[-1]}" ]; then
      bench_perf_start province-eval-d3 "$STACK_EVAL_PID,$STACK_AGG_PID" 199
    fi
    local passes_ok=0
    province_two_passes && passes_ok=1
    bench_perf_stop
    if [ "$passes_ok" = 1 ]; then
      d3_first=$PROV_PASS1
      d3_second=$PROV_PASS2
      d3_warn=$(province_metric_sum "$STACK_EVAL_MPORT" halfsky_evaluation_firing_warnings)
    else
      d3_first=$PROV_PASS_FAIL
    fi
    eval3="$(size_mb "$(size_status "$STACK_EVAL_PID" VmRSS)")/$(size_mb "$(size_status "$STACK_EVAL_PID" VmHWM)")"
  fi
  stack_stop
  unset BENCH_CATALOG BENCH_STORE
  PROV_ROWS+=("$n $areas $values $lint_s $start_s $load_s $PROV_LOAD_RATE $lag_s $cold_s ${d1_first// /} $d1_second $d1_warn ${mem[0]} ${mem[1]} ${mem[2]} $redis_used $redis_rss $sub_disk $eval_disk $agg_after ${d3_first// /} $d3_second $d3_warn $eval3")
  PROV_LAST=("$n" "$areas" "$values" "$lint_s" "$start_s" "$load_s" "$PROV_LOAD_RATE" "$lag_s" "$cold_s" "$d1_first" "$d1_second" "$d1_warn" "${mem[0]}" "${mem[1]}" "${mem[2]}" "$redis_used" "$redis_rss" "$sub_disk" "$eval_disk" "$agg_after" "$d3_first" "$d3_second" "$d3_warn" "$eval3")
}

province_figures() {
  local names=("province load, SubmitStream (values/s)"
               "province aggregation lag after the load (s)"
               "province aggregation cold catch-up, whole tree (s)"
               "province evaluation full pass, depth 1 (s)"
               "province evaluation full pass, depth 3 = every area (s)"
               "province RSS submission/aggregation/evaluation (MB)"
               "province Redis used_memory (MB)"
               "province disk: submission $([ -n "$PROVINCE_PG" ] && echo "PostgreSQL database" || echo "SQLite + WAL") (MB)"
               "province growth, smallest -> largest (three sizes)")
  province_not_run() {
    local x
    for x in "${names[@]}"; do not_run "$x" "report" "$1"; done
  }
  if [ "$DO_BUILD" = 1 ]; then
    ninja -C "$BUILD" write_load halfsky-submission halfsky-aggregation halfsky-evaluation halfskyctl \
      >"$WORK/province-build.log" 2>&1 ||
      echo "    (province.sh: build failed: $(tail -3 "$WORK/province-build.log"))"
  fi
  local t
  for t in python3 curl redis-cli; do
    command -v "$t" >/dev/null || { province_not_run "$t not installed"; return; }
  done
  [ -x "$WRITE_LOAD_BIN" ] || { province_not_run "$WRITE_LOAD_BIN missing"; return; }
  [ -x "$HALFSKYCTL_BIN" ] || { province_not_run "$HALFSKYCTL_BIN missing"; return; }
  PROV_ROWS=()
  local n first=()
  for n in "${PROVINCE_COUNTIES[@]}"; do
    if ! province_size "$n"; then
      province_not_run "at $n counties: $PROV_ERR"
      return
    fi
    [ ${#first[@]} -eq 0 ] && first=("${PROV_LAST[@]}")
  done
  local L=("${PROV_LAST[@]}")
  echo "    ($PROV_DESC; years $PROVINCE_YEARS)"
  figure "${names[0]}" "${L[6]}" "${SQLITE_RATE:-?}" "$(ratio "${L[6]}" "${SQLITE_RATE:-0}")" "report (vs raw SQLite rows/s)"
  echo "    (${L[2]} values in ${L[5]} s: 4 streams, one town per chunk; catalog lint ${L[3]} s, stack start ${L[4]} s)"
  figure "${names[1]}" "${L[7]}" "-" "-" "report"
  figure "${names[2]}" "${L[8]}" "-" "-" "report"
  echo "    (a new aggregation on an emptied Redis until its cursor is the feed head; its RSS after: ${L[19]} MB)"
  figure "${names[3]}" "${L[10]}" "-" "-" "report"
  echo "    (the province and its cities: the second full pass after the catch-up; the first ${L[9]} s; firing warnings ${L[11]})"
  figure "${names[4]}" "${L[21]}" "-" "-" "report"
  echo "    (${L[1]} areas, the evaluation restarted with --area_depth=3: second pass; first ${L[20]} s; firing warnings ${L[22]}; RSS/HWM ${L[23]} MB)"
  figure "${names[5]}" "${L[12]%/*} / ${L[13]%/*} / ${L[14]%/*}" "-" "-" "report"
  echo "    (VmRSS/VmHWM: submission ${L[12]}, aggregation ${L[13]}, evaluation ${L[14]} MB at depth 1; redis-server VmRSS ${L[16]} MB)"
  figure "${names[6]}" "${L[15]}" "-" "-" "report"
  figure "${names[7]}" "${L[17]}" "-" "-" "report"
  echo "    (evaluation's SQLite ${L[18]} MB)"
  local F=("${first[@]}") g_data
  g_data=$(ratio "${L[2]}" "${F[2]}")
  local gr=""
  local -A col=([load_s]=5 [lag]=7 [cold]=8 [pass1]=10 [pass3]=21 [redis]=15 [disk]=17)
  local k
  for k in load_s cold pass1 pass3 redis disk; do
    gr+="$k x$(ratio "${L[${col[$k]}]}" "${F[${col[$k]}]}") "
  done
  local rss_l rss_f
  rss_l=$(awk -v a="${L[12]%/*}" -v b="${L[13]%/*}" -v c="${L[14]%/*}" 'BEGIN { print a + b + c }')
  rss_f=$(awk -v a="${F[12]%/*}" -v b="${F[13]%/*}" -v c="${F[14]%/*}" 'BEGIN { print a + b + c }')
  gr+="RSS(sum) x$(ratio "$rss_l" "$rss_f")"
  figure "${names[8]}" "values x$g_data" "-" "-" "report"
  echo "    (growth from ${F[2]} to ${L[2]} values: $gr)"
  echo "    counties | areas | values | lint s | start s | load s | values/s | lag s | cold catch-up s | eval d1 pass 1/2 s | d1 firing | RSS/HWM MB sub | agg | eval | redis used MB | redis RSS MB | sub disk MB | eval disk MB | agg RSS after cold MB | eval d3 pass 1/2 s | d3 firing | eval d3 RSS/HWM MB"
  local r
  for r in "${PROV_ROWS[@]}"; do
    echo "$r" | awk '{ printf "    %s | %s | %s | %s | %s | %s | %s | %s | %s | %s/%s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s/%s | %s | %s\n",
                        $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24 }'
  done
}
