# shellcheck shell=bash disable=SC2034
# tests/bench/stack.sh — sourced by tests/bench/run.sh (not run on its own):
# the three real services, started by the harness for latency.sh and
# size.sh.
#
# Uses from run.sh: ROOT BUILD WORK PIDS RPORT (its redis-server); from
# writes.sh: SUBMISSION_BIN writes_start_submission writes_stop_submission
# (the bench catalog fragment and the statistics token $WORK/writes.token).
#
#   stack_start NAME [EVAL_FLAG...]
#       FLUSHALLs run.sh's Redis, then starts a fresh halfsky-submission
#       (writes_start_submission NAME: a fresh SQLite file, deploy/catalog
#       plus the bench fragment), a halfsky-aggregation following it into
#       that Redis and a halfsky-evaluation (fresh SQLite file $WORK/NAME-
#       eval.db, real clock) reading both, every one with the same catalog,
#       tokens file and the statistics token as its service token, rate
#       limit off. EVAL_FLAG...: extra flags for the evaluation service.
#       Sets STACK_{SUB,AGG,EVAL}_ADDR (gRPC HOST:PORT), STACK_{SUB,AGG,
#       EVAL}_MPORT (metrics ports) and STACK_{SUB,AGG,EVAL}_PID; returns 1
#       with STACK_ERR when a service did not start.
#   stack_stop      stops the three (SIGTERM, waits).
#   stack_stop_one aggregation|evaluation, stack_start_aggregation NAME,
#   stack_start_evaluation NAME [EVAL_FLAG...]: stop or (re)start one of
#       them (a restarted aggregation has a new port: restart evaluation
#       after it). A start that fails stops that service again and leaves
#       its STACK_*_PID empty.
#   stack_metric PORT NAME [LABELS]: the value of sample NAME (with the
#       exact label text LABELS, e.g. '{pass="full",result="ok"}') on that
#       /metrics page, or nothing.
#   stack_caught_up SECONDS [MIN_HEAD]: waits until aggregation's cursor
#       equals the feed head and the head is at least MIN_HEAD (default 1);
#       returns 1 after SECONDS. Its feed head metric is the head as last
#       seen, which trails the submission service's while a catch-up
#       streams: pass the sequence the feed is known to have reached (a
#       fresh feed: the revisions written) as MIN_HEAD.

AGGREGATION_BIN=${AGGREGATION_BIN:-$BUILD/services/aggregation/halfsky-aggregation}
EVALUATION_BIN=${EVALUATION_BIN:-$BUILD/services/evaluation/service/halfsky-evaluation}
STACK_SUB_PID=""
STACK_AGG_PID=""
STACK_EVAL_PID=""

stack_metric() {
  curl -s "http://127.0.0.1:$1/metrics" | awk -v n="$2${3:-}" '$1 == n { print $2 }'
}

# stack_wait_addr NAME PID: waits for $WORK/NAME.addr; sets STACK_ADDR and
# STACK_MPORT.
stack_wait_addr() {
  local _
  STACK_ADDR=""
  STACK_MPORT=""
  for _ in $(seq 200); do
    [ -s "$WORK/$1.addr" ] && break
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  STACK_ADDR=$(sed -n 's/^grpc=\([^ ]*\).*/\1/p' "$WORK/$1.addr" 2>/dev/null)
  STACK_MPORT=$(sed -n 's/.*metrics=[^ ]*:\([0-9]*\).*/\1/p' "$WORK/$1.addr" 2>/dev/null)
  [ -n "$STACK_ADDR" ] && [ -n "$STACK_MPORT" ]
}

stack_start() {
  local name=$1
  shift
  local t
  for t in "$SUBMISSION_BIN" "$AGGREGATION_BIN" "$EVALUATION_BIN"; do
    [ -x "$t" ] || { STACK_ERR="$t missing"; return 1; }
  done
  if [ -z "${RPORT:-}" ]; then
    STACK_ERR="run.sh's redis-server did not start"
    return 1
  fi
  redis-cli -p "$RPORT" flushall >/dev/null
  if ! writes_start_submission "$name"; then
    STACK_ERR=$WRITES_START_ERR
    return 1
  fi
  STACK_SUB_PID=$SUB_PID
  STACK_SUB_ADDR=$SUB_ADDR
  STACK_SUB_MPORT=$(sed -n 's/.*metrics=[^ ]*:\([0-9]*\).*/\1/p' "$WORK/$name.addr")
  : >"$WORK/$name-agg.log"
  : >"$WORK/$name-eval.log"
  rm -f "$WORK/$name-eval.db"*
  if ! stack_start_aggregation "$name" || ! stack_start_evaluation "$name" "$@"; then
    stack_stop
    return 1
  fi
}

# The flags every stack service but submission takes.
stack_common_flags() {
  STACK_COMMON=(--listen 127.0.0.1:0 --metrics_listen 127.0.0.1:0
                --catalog "$(writes_catalog_paths)"
                --tokens_file "$WORK/writes.tokens" --drain_delay 0s --rate_limit_per_second=0
                --submission "$STACK_SUB_ADDR" --submission_token_file "$WORK/writes.token"
                --redis "127.0.0.1:$RPORT")
}

# stack_start_aggregation NAME: (re)starts the stack's aggregation (after
# stack_stop_one aggregation: a new port, so restart evaluation after it).
stack_start_aggregation() {
  local name=$1
  stack_common_flags
  rm -f "$WORK/$name-agg.addr"
  "$AGGREGATION_BIN" "${STACK_COMMON[@]}" --address_file "$WORK/$name-agg.addr" \
    >>"$WORK/$name-agg.log" 2>&1 &
  STACK_AGG_PID=$!
  PIDS+=("$STACK_AGG_PID")
  if ! stack_wait_addr "$name-agg" "$STACK_AGG_PID"; then
    STACK_ERR="halfsky-aggregation did not start: $(tail -3 "$WORK/$name-agg.log" | tr '\n' ' ')"
    stack_stop_one aggregation  # no PID of a service that is not serving
    return 1
  fi
  STACK_AGG_ADDR=$STACK_ADDR
  STACK_AGG_MPORT=$STACK_MPORT
}

# stack_start_evaluation NAME [EVAL_FLAG...]: (re)starts the stack's
# evaluation on $WORK/NAME-eval.db, reading the current aggregation.
stack_start_evaluation() {
  local name=$1
  shift
  stack_common_flags
  rm -f "$WORK/$name-eval.addr"
  "$EVALUATION_BIN" "${STACK_COMMON[@]}" --address_file "$WORK/$name-eval.addr" \
    --aggregation "$STACK_AGG_ADDR" --aggregation_token_file "$WORK/writes.token" \
    --db "$WORK/$name-eval.db" "$@" >>"$WORK/$name-eval.log" 2>&1 &
  STACK_EVAL_PID=$!
  PIDS+=("$STACK_EVAL_PID")
  if ! stack_wait_addr "$name-eval" "$STACK_EVAL_PID"; then
    STACK_ERR="halfsky-evaluation did not start: $(tail -3 "$WORK/$name-eval.log" | tr '\n' ' ')"
    stack_stop_one evaluation
    return 1
  fi
  STACK_EVAL_ADDR=$STACK_ADDR
  STACK_EVAL_MPORT=$STACK_MPORT
}

# stack_stop_one aggregation|evaluation: stops that one service (SIGTERM, waits).
stack_stop_one() {
  local p
  case $1 in
    aggregation) p=$STACK_AGG_PID; STACK_AGG_PID="" ;;
    evaluation) p=$STACK_EVAL_PID; STACK_EVAL_PID="" ;;
  esac
  [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
}

stack_stop() {
  local p
  for p in "$STACK_EVAL_PID" "$STACK_AGG_PID"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  STACK_EVAL_PID=""
  STACK_AGG_PID=""
  [ -n "$STACK_SUB_PID" ] && SUB_PID=$STACK_SUB_PID && writes_stop_submission
  STACK_SUB_PID=""
}

stack_caught_up() {
  local _ head cursor
  for _ in $(seq $(($1 * 10))); do
    head=$(stack_metric "$STACK_AGG_MPORT" halfsky_aggregation_feed_head_sequence)
    cursor=$(stack_metric "$STACK_AGG_MPORT" halfsky_aggregation_cursor)
    [ -n "$head" ] && [ "${head%.*}" -ge "${2:-1}" ] && [ "$head" = "$cursor" ] && return 0
    sleep 0.1
  done
  STACK_ERR="aggregation's cursor ${cursor:-?} did not reach the feed head ${head:-?} (at least ${2:-1}) within $1 s"
  return 1
}
