# shellcheck shell=bash disable=SC2034
# tests/bench/writes.sh — the write figures of tests/bench/run.sh (issue #20).
# Sourced by run.sh (uses its figure/not_run/ratio/h2load_rate/
# sqlite_baseline_rate helpers, BUILD, WORK, PIDS, SECS, SMOKE, DO_BUILD,
# CONNS, STREAMS, ECHO_PORT, ECHO_RATE, SQLITE_RATE, SQLITE_ROWS; the write_load
# smoke test sources it for writes_start_submission alone); defines:
#
#   writes_generator_check  "write generator ÷ h2load on the bare echo": our
#       generator (tests/bench/write_load.cc, a fresh body per call) and h2load
#       drive the bare echo in alternating rounds with the same -c/-m; the
#       ratio of their totals must be >= 0.9, else the write figures below are
#       NOT RUN (with the measured ratio as the reason).
#   writes_submit_batch     one-value SubmitBatch, durable, a fresh request id
#       and value per call, through a real halfsky-submission on a fresh
#       SQLite file, ÷ the bare echo's h2load rate (same run). Any non-OK or
#       not-durable reply fails the figure.
#   writes_submit_stream    SubmitStream durable values/s (1 000-value chunks,
#       new keys of the raw SQLite baseline's shape) ÷ raw SQLite rows/s.

WRITE_LOAD_BIN=$BUILD/tests/bench/write_load
SUBMISSION_BIN=${SUBMISSION_BIN:-$BUILD/services/submission/halfsky-submission}
WRITES_GEN_OK=""        # "1" once the generator check passed
WRITES_GEN_REASON="generator check not run"
WRITES_H2LOAD_RATE=""   # h2load's bare echo rate in the generator check
WRITES_ROUNDS=$([ "$SMOKE" = 1 ] && echo 3 || echo 5)
# Bench keys: 40 indicators × this many communities × 7 years × sex × residence
# (2 520 000 keys: more than a full run writes, so stream values are new keys).
WRITES_AREAS=1000

if [ "$DO_BUILD" = 1 ]; then
  ninja -C "$BUILD" write_load halfsky-submission >"$WORK/writes-build.log" 2>&1 ||
    echo "    (writes.sh: build failed: $(tail -3 "$WORK/writes-build.log"))"
fi

# writes_catalog FILE: the bench catalog fragment, loaded next to
# deploy/catalog: HEALTH-B01..B40 (VALUE, by sex and residence, any value up to
# 1e9) and WRITES_AREAS communities 6103030010000.. under 中山东路街道.
writes_catalog() {
  {
    echo "# 基准测试目录片段 / bench catalog fragment (tests/bench/writes.sh)"
    local i
    for ((i = 1; i <= 40; i++)); do
      printf 'indicators { id: "HEALTH-B%02d" domain_id: "HEALTH" objective_ids: "HEALTH-O01"' "$i"
      printf ' name_zh: "基准指标%d" name_en: "Bench indicator %d" kind: INDICATOR_KIND_VALUE' "$i" "$i"
      printf ' unit: "个" responsible_unit_codes: "STATISTICS" lead_unit_code: "STATISTICS"'
      printf ' required_disaggregations: DISAGGREGATION_SEX required_disaggregations: DISAGGREGATION_RESIDENCE'
      printf ' value_range { min: 0 max: 1000000000 } data_source: DATA_SOURCE_DEPARTMENTAL_STATISTICS'
      printf ' direction: DIRECTION_HIGHER_IS_BETTER }\n'
    done
    for ((i = 0; i < WRITES_AREAS; i++)); do
      printf 'areas { code: "610303001%04d" name_zh: "基准社区%d" name_en: "Bench community %d"' "$i" "$i" "$i"
      printf ' parent_code: "610303001" level: AREA_LEVEL_COMMUNITY residence: RESIDENCE_URBAN }\n'
    done
  } >"$1"
}

# writes_catalog_paths: the --catalog of the bench's services: deploy/catalog
# plus the bench fragment, or $BENCH_CATALOG when set (province.sh's
# generated province catalog).
writes_catalog_paths() {
  echo "${BENCH_CATALOG:-$ROOT/deploy/catalog,$WORK/writes-catalog.textproto}"
}

# writes_start_submission NAME: a real halfsky-submission on a fresh SQLite
# file $WORK/NAME.db (or on --store=$BENCH_STORE when set: province.sh's
# PostgreSQL database) with the bench catalog (writes_catalog_paths) and a statistics token
# ($WORK/writes.token), the per-principal rate limit off (one principal sends
# the whole load), and $HALFSKY_BENCH_SUBMISSION_FLAGS (word-split; for
# experiments such as --sqlite_cache_mib=16); sets SUB_ADDR and SUB_PID, or
# returns 1 with WRITES_START_ERR.
writes_start_submission() {
  local name=$1
  if [ ! -f "$WORK/writes.token" ]; then
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/writes.token"
    printf '%s  bench-statistics  statistics\n' \
      "$(sha256sum <"$WORK/writes.token" | cut -d' ' -f1)" >"$WORK/writes.tokens"
    writes_catalog "$WORK/writes-catalog.textproto"
  fi
  rm -f "$WORK/$name.db" "$WORK/$name.db-wal" "$WORK/$name.db-shm" "$WORK/$name.addr"
  # shellcheck disable=SC2086  # HALFSKY_BENCH_SUBMISSION_FLAGS is word-split on purpose
  "$SUBMISSION_BIN" --listen 127.0.0.1:0 --metrics_listen 127.0.0.1:0 \
    --catalog "$(writes_catalog_paths)" \
    --tokens_file "$WORK/writes.tokens" --store "${BENCH_STORE:-sqlite:$WORK/$name.db}" \
    --address_file "$WORK/$name.addr" --drain_delay 0s --rate_limit_per_second=0 \
    ${HALFSKY_BENCH_SUBMISSION_FLAGS:-} >"$WORK/$name.log" 2>&1 &
  SUB_PID=$!
  PIDS+=("$SUB_PID")
  local _
  for _ in $(seq 100); do
    [ -s "$WORK/$name.addr" ] && break
    kill -0 "$SUB_PID" 2>/dev/null || break
    sleep 0.1
  done
  SUB_ADDR=$(sed -n 's/^grpc=\([^ ]*\).*/\1/p' "$WORK/$name.addr" 2>/dev/null)
  if [ -z "$SUB_ADDR" ]; then
    WRITES_START_ERR="halfsky-submission did not start: $(tail -3 "$WORK/$name.log")"
    return 1
  fi
}

writes_stop_submission() {
  kill "$SUB_PID" 2>/dev/null
  wait "$SUB_PID" 2>/dev/null
}

# write_load_rate ARGS...: runs the generator; prints its rate, or nothing
# (then $WORK/write_load.last has its output).
write_load_rate() {
  "$WRITE_LOAD_BIN" --seconds="$SECS" --connections="$CONNS" --in_flight="$STREAMS" "$@" \
    >"$WORK/write_load.last" 2>&1 || return 1
  sed -n 's/^RESULT .* rate=\([0-9.]*\).*/\1/p' "$WORK/write_load.last"
}

# writes_ticks PID: CPU time (user + system) of PID so far, in clock ticks.
writes_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# ... | writes_children_cpu: CPU seconds of the finished children in the
# output of the builtin `times` (its second line).
writes_children_cpu() {
  sed -n 2p | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }'
}

# writes_note_measured REASON VALUE_TEXT: the reason a figure is not reported,
# with what was measured anyway (a lower bound, not a figure).
writes_note_measured() {
  echo "    (measured anyway, not reported as a figure: $2)"
}

writes_generator_check() {
  local name="write generator ÷ h2load on the bare echo"
  if [ ! -x "$WRITE_LOAD_BIN" ]; then
    WRITES_GEN_REASON="$WRITE_LOAD_BIN missing"
  elif [ -z "${ECHO_PORT:-}" ] || [ -z "${ECHO_RATE:-}" ]; then
    WRITES_GEN_REASON="the bare echo baseline did not run"
  else
    # The bare echo server's pid (run.sh started it), for its CPU per call.
    local p echo_pid=""
    for p in "${PIDS[@]}"; do
      tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q bare_echo_server && echo_pid=$p
    done
    local tck
    tck=$(getconf CLK_TCK)
    # Alternating rounds (ABBA order), so that both see the same background
    # load; the check is the median of the per-round ratios. CPU per call of
    # each client and of the server under each, summed over the rounds.
    local r gen h2 out step t0 gen_sum=0 h2_sum=0 rounds=()
    local gen_cpu=0 h2_cpu=0 srv_gen=0 srv_h2=0
    for ((r = 1; r <= WRITES_ROUNDS; r++)); do
      for step in 1 2; do
        t0=$(writes_ticks "${echo_pid:-self}")
        if [ $(((r + step) % 2)) = 0 ]; then
          gen=$(write_load_rate --mode=echo --target="127.0.0.1:$ECHO_PORT" \
                  --method=/bench.Echo/Echo --body_bytes=64 --warmup=0)
          if [ -z "$gen" ]; then
            WRITES_GEN_REASON="write_load failed on the echo: $(tail -3 "$WORK/write_load.last")"
            not_run "$name" ">= 0.9" "$WRITES_GEN_REASON"
            return
          fi
          gen_cpu=$(awk -v a="$gen_cpu" -v n="$gen" -v s="$SECS" \
                      -v c="$(sed -n 's/.*cpu_us_per_call=\([0-9.]*\).*/\1/p' "$WORK/write_load.last")" \
                      'BEGIN { print a + c * n * s / 1e6 }')
          srv_gen=$((srv_gen + $(writes_ticks "${echo_pid:-self}") - t0))
        else
          # `times` in the same subshell, whose finished child h2load is.
          out=$(h2load_rate "http://127.0.0.1:$ECHO_PORT/bench.Echo/Echo" "$WORK/echo.frame"
                times)
          h2=$(sed -n 1p <<<"$out" | grep -E '^[0-9.]+$')
          if [ -z "$h2" ]; then
            WRITES_GEN_REASON="h2load failed: $(tail -3 "$WORK/h2load.last" 2>/dev/null)"
            not_run "$name" ">= 0.9" "$WRITES_GEN_REASON"
            return
          fi
          h2_cpu=$(awk -v a="$h2_cpu" -v c="$(tail -2 <<<"$out" | writes_children_cpu)" 'BEGIN { print a + c }')
          srv_h2=$((srv_h2 + $(writes_ticks "${echo_pid:-self}") - t0))
        fi
      done
      gen_sum=$(awk -v a="$gen_sum" -v b="$gen" 'BEGIN { print a + b }')
      h2_sum=$(awk -v a="$h2_sum" -v b="$h2" 'BEGIN { print a + b }')
      rounds+=("$(ratio "$gen" "$h2")")
    done
    local gen_rate h2_rate q cpu_note
    gen_rate=$(awk -v s="$gen_sum" -v n="$WRITES_ROUNDS" 'BEGIN { printf "%.0f", s / n }')
    h2_rate=$(awk -v s="$h2_sum" -v n="$WRITES_ROUNDS" 'BEGIN { printf "%.0f", s / n }')
    WRITES_H2LOAD_RATE=$h2_rate
    q=$(printf '%s\n' "${rounds[@]}" | sort -g |
          awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : sprintf("%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2) }')
    # Calls made: rate × seconds (each tool's measured window).
    cpu_note=$(awk -v gc="$gen_cpu" -v hc="$h2_cpu" -v sg="$srv_gen" -v sh="$srv_h2" -v t="$tck" \
                 -v gn="$gen_sum" -v hn="$h2_sum" -v secs="$SECS" -v have="${echo_pid:+1}" 'BEGIN {
      g = gc * 1e6 / (gn * secs); h = hc * 1e6 / (hn * secs)
      printf "CPU per call: write_load %.1f us, h2load %.1f us", g, h
      if (have) {
        a = sg / t * 1e6 / (gn * secs); b = sh / t * 1e6 / (hn * secs)
        printf "; the bare echo server %.1f us under write_load, %.1f us under h2load", a, b
        printf "; where CPU is the limit, the generator can reach at most (%.1f + %.1f) / (%.1f + %.1f) = %.2f of h2load", b, h, a, g, (b + h) / (a + g)
      }
    }')
    figure "$name" "$gen_rate" "$h2_rate" "$q" ">= 0.9"
    echo "    (req/s: means of $WRITES_ROUNDS alternating ${SECS}-s rounds of write_load --mode=echo and h2load, both -c$CONNS -m$STREAMS, 64-byte bodies, fresh per call for write_load; ratio: median of the rounds' ratios ${rounds[*]})"
    echo "    ($cpu_note)"
    if awk -v q="$q" 'BEGIN { exit !(q >= 0.9) }'; then
      WRITES_GEN_OK=1
    else
      WRITES_GEN_REASON="the write generator reached only $q of h2load's rate on the bare echo (< 0.9), so its ratios are not reported; $cpu_note"
      FAILED=1
    fi
    return
  fi
  not_run "$name" ">= 0.9" "$WRITES_GEN_REASON"
}

writes_submit_batch() {
  local name="SubmitBatch (1 value, durable) ÷ bare echo"
  if [ ! -x "$WRITE_LOAD_BIN" ] || [ ! -x "$SUBMISSION_BIN" ]; then
    not_run "$name" ">= 0.5" "$WRITE_LOAD_BIN or $SUBMISSION_BIN missing"
    return
  fi
  if ! writes_start_submission writes-batch; then
    not_run "$name" ">= 0.5" "$WRITES_START_ERR"
    return
  fi
  local rate echo_rate result
  rate=$(write_load_rate --mode=batch --target="$SUB_ADDR" --token_file="$WORK/writes.token" \
           --areas="$WRITES_AREAS" --area_prefix=610303001 --warmup=0.5)
  writes_stop_submission
  result=$(grep '^RESULT' "$WORK/write_load.last")
  [ -z "$rate" ] || rate=$(printf '%.0f' "$rate")
  if [ -z "$rate" ]; then
    not_run "$name" ">= 0.5" "SubmitBatch calls failed: $(grep -v '^RESULT' "$WORK/write_load.last" | head -3) $result"
    return
  fi
  # The bare echo's h2load rate: the generator check's (adjacent in time),
  # else the baseline's.
  echo_rate=${WRITES_H2LOAD_RATE:-${ECHO_RATE:-}}
  if [ "$WRITES_GEN_OK" != 1 ]; then
    not_run "$name" ">= 0.5" "$WRITES_GEN_REASON"
    writes_note_measured "$name" "$rate SubmitBatch/s, ${echo_rate:-?} bare echo req/s, ratio $(ratio "$rate" "${echo_rate:-0}") — a lower bound: the generator may be the limit; $result"
    return
  fi
  figure "$name" "$rate" "$echo_rate" "$(ratio "$rate" "$echo_rate")" ">= 0.5"
  echo "    (req/s, write_load --mode=batch -c$CONNS -m$STREAMS vs h2load's bare echo; every reply OK with one created/revised value: $result)"
}

writes_submit_stream() {
  local name="SubmitStream durable values/s ÷ raw SQLite rows/s"
  if [ -z "${SQLITE_RATE:-}" ]; then
    not_run "$name" ">= 1.0" "the raw SQLite baseline did not run"
    return
  fi
  if [ ! -x "$WRITE_LOAD_BIN" ] || [ ! -x "$SUBMISSION_BIN" ]; then
    not_run "$name" ">= 1.0" "$WRITE_LOAD_BIN or $SUBMISSION_BIN missing"
    return
  fi
  if ! writes_start_submission writes-stream; then
    not_run "$name" ">= 1.0" "$WRITES_START_ERR"
    return
  fi
  # The raw SQLite baseline again, just before and just after the stream
  # (the machine's speed drifts over a run): the ratio's baseline is their
  # mean; the run's first measurement is shown beside them.
  local sqlite_before sqlite_after sqlite_mean
  sqlite_before=$(sqlite_baseline_rate) || { sqlite_before=""; cp "$WORK/sqlite.err" "$WORK/sqlite-before.err"; }
  # 4 streams × 4 chunks of 1 000 values in flight (submission_bench's (b)).
  # HALFSKY_BENCH_PERF=DIR: perf record of the submission service during
  # the stream (DIR/stream.perf.data; HALFSKY_BENCH_PERF_ARGS as rebuild.sh).
  # The figure is then measured under perf: a profile run, not a figure.
  local rate result
  bench_perf_start stream "$SUB_PID"
  rate=$("$WRITE_LOAD_BIN" --mode=stream --target="$SUB_ADDR" --token_file="$WORK/writes.token" \
           --connections=4 --in_flight=4 --chunk=1000 --seconds="$SECS" --warmup=0.5 \
           --areas="$WRITES_AREAS" --area_prefix=610303001 >"$WORK/write_load.last" 2>&1 &&
         sed -n 's/^RESULT .* rate=\([0-9.]*\).*/\1/p' "$WORK/write_load.last")
  bench_perf_stop
  writes_stop_submission
  sqlite_after=$(sqlite_baseline_rate) || sqlite_after=""
  result=$(grep '^RESULT' "$WORK/write_load.last")
  if [ -z "$rate" ]; then
    not_run "$name" ">= 1.0" "SubmitStream failed: $(grep -v '^RESULT' "$WORK/write_load.last" | head -3) $result"
    return
  fi
  if [ -z "$sqlite_before" ] || [ -z "$sqlite_after" ]; then
    not_run "$name" ">= 1.0" "the raw SQLite baseline failed beside the stream: $(cat "$WORK/sqlite-before.err" "$WORK/sqlite.err" 2>/dev/null)"
    return
  fi
  sqlite_mean=$(awk -v a="$sqlite_before" -v b="$sqlite_after" 'BEGIN { printf "%.0f", (a + b) / 2 }')
  rate=$(printf '%.0f' "$rate")
  if [ "$WRITES_GEN_OK" != 1 ]; then
    not_run "$name" ">= 1.0" "$WRITES_GEN_REASON"
    writes_note_measured "$name" "$rate durable values/s, $sqlite_mean raw SQLite rows/s, ratio $(ratio "$rate" "$sqlite_mean"); $result"
    writes_store_floor "$WORK/writes-stream.db" "$rate" "$sqlite_mean"
    return
  fi
  figure "$name" "$rate" "$sqlite_mean" "$(ratio "$rate" "$sqlite_mean")" ">= 1.0"
  echo "    (values/s: 4 streams, 1000-value chunks, 4 unacknowledged per stream, new keys; ok = acknowledged chunks: $result)"
  # Stream mode uses gRPC's own client, which the generator check does not
  # cover: its own CPU over the run shows whether it could be the limit.
  awk -v r="$result" -v secs="$SECS" 'BEGIN {
    n = split(r, f, " "); for (i = 1; i <= n; i++) { split(f[i], kv, "="); v[kv[1]] = kv[2] }
    printf "    (the generator itself: %.0f us of CPU per 1000-value chunk, %.1f %% of one of the 2 cores over the run)\n",
           v["cpu_us_per_call"], 100 * v["cpu_us_per_call"] * v["ok"] / (secs * 1e6)
  }'
  echo "    (baseline: raw SQLite rows/s just before and just after the stream, $sqlite_before and $sqlite_after, their mean; the run's first measurement: $SQLITE_RATE)"
  writes_store_floor "$WORK/writes-stream.db" "$rate" "$sqlite_mean"
}

# writes_store_floor DB RATE: informative line under the SubmitStream figure.
# The issue's baseline writes one row of one table per value; the store
# writes three rows per new value (data_keys with its unique 6-column
# index, revisions, key_heads). This times the sqlite3 CLI writing exactly
# those rows — DB's own schema (copied with .schema), its rows' mean
# sizes, 1 000 values per transaction as the baseline, WAL +
# synchronous=FULL — as many values as the stream stored: what this schema
# costs SQLite itself at the baseline's transaction size, without
# halfsky's service, validation or protobuf costs (the service's group
# commit may put several chunks into one transaction, so it can beat it).
writes_store_floor() {
  local db=$1 rate=$2 one_row=${3:-$SQLITE_RATE} floor="$WORK/floor.db" n blob req src
  [ "${BENCH_STORE:-}" = "" ] && [ -f "$db" ] && command -v sqlite3 >/dev/null || return 0
  read -r n blob req src < <(sqlite3 -separator ' ' "$db" \
    "SELECT count(*), CAST(avg(length(data_value)) AS INT), CAST(avg(length(request_id)) AS INT),
            CAST(avg(length(submitted_by)) AS INT) FROM revisions" 2>/dev/null)
  [ "${n:-0}" -ge 1000 ] || return 0
  rm -f "$floor" "$floor-wal" "$floor-shm"
  {
    echo "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
    sqlite3 "$db" .schema | grep -v '^CREATE TABLE sqlite_'
    local b
    for ((b = 0; b < n / 1000; b++)); do
      local c="WITH RECURSIVE c(x) AS (SELECT $((b * 1000 + 1)) UNION ALL SELECT x+1 FROM c WHERE x < $((b * 1000 + 1000)))"
      echo "BEGIN;"
      echo "$c INSERT INTO data_keys(key_id, indicator_id, area_code, year, sex, residence, unit_code)"
      echo "  SELECT x, printf('HEALTH-B%02d', x % 40 + 1), printf('6103030010%06d', x / 40 % 1000), 2020 + x / 40000 % 7, x % 3, x / 3 % 3, '' FROM c;"
      echo "$c INSERT INTO revisions(sequence, key_id, revision, prev_sequence, data_value, submitted_by, unit_code, committed_at_us, request_id, withdrawn, change_reason)"
      echo "  SELECT x, x, 1, 0, randomblob($blob), substr(hex(randomblob($src)), 1, $src), '', 1700000000000000 + x, substr(printf('%0${req}d', $b), 1, $req), 0, '' FROM c;"
      echo "$c INSERT INTO key_heads(key_id, revision, sequence) SELECT x, 1, x FROM c;"
      echo "COMMIT;"
    done
  } >"$WORK/floor.sql"
  local t0 t1 floor_rate
  t0=$(date +%s.%N)
  sqlite3 "$floor" <"$WORK/floor.sql" >/dev/null 2>"$WORK/floor.err" || {
    echo "    (store floor: not run: $(head -2 "$WORK/floor.err" | tr '\n' ' '))"
    return 0
  }
  t1=$(date +%s.%N)
  floor_rate=$(awk -v n="$(( n / 1000 * 1000 ))" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
  rm -f "$floor" "$floor-wal" "$floor-shm" "$WORK/floor.sql"
  echo "    (informative, not the goal's baseline: raw SQLite writing this schema's 3 rows per new value" \
       "(data_keys + revisions + key_heads; ${blob}-B values, the stream's mean) in 1000-value transactions," \
       "as the baseline's, for $(( n / 1000 * 1000 )) values: $floor_rate values/s" \
       "($(ratio "$floor_rate" "${one_row:-0}") of the one-row baseline); SubmitStream ÷ it = $(ratio "$rate" "$floor_rate")," \
       "since the service's group commit puts every chunk queued meanwhile into one transaction)"
}
