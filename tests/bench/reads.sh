# shellcheck shell=bash
# tests/bench/reads.sh — the read figures of issue #20, sourced by
# tests/bench/run.sh (not run on its own):
#   ListWarnings ÷ bare echo, GetSeries ÷ bare echo, grpc.health.v1 Check ÷
#   bare echo (the evaluation service's; the aggregation service's too, an
#   informative line beside GetSeries) — all driven from outside by h2load
#   with run.sh's -c/-m/-t1.
#
# Uses from run.sh: ROOT BUILD DO_BUILD SECS CONNS STREAMS WORK PIDS
# ECHO_RATE ECHO_PORT, and figure / not_run / ratio / free_port / grpc_frame /
# h2load_rate.
#
# What it does (docs/BENCHMARKS.md, "Read figures"):
#  1. builds the three services and halfskyctl (unless --no-build);
#  2. starts its own Redis and the three real services on free loopback
#     ports with deploy/local/run.sh --demo (bearer tokens on, Redis ACL,
#     HALFSKY_VAR under $WORK) and so loads the synthetic demo data with each
#     unit's own token under the demo's clock (deploy/demo/README.md: 10
#     firing warnings, a 2020–2024 series per indicator);
#  3. waits until ListWarnings answers the same number (5–20) of firing
#     warnings twice in a row, and checks that GetSeries returns points;
#  4. per figure: h2load -D 1 (warm-up; sizes the run), then h2load -n N
#     with N = that rate × SECS (so the run lasts about SECS, like the bare
#     echo's -D SECS), and reads halfsky_grpc_server_handled_total{method,
#     code} from the service's /metrics before and after: the figure is
#     printed only if h2load saw N of N succeed and the OK count rose by
#     exactly N with no other code rising — h2load counts any HTTP 200 as a
#     success, whatever the grpc-status. (-n rather than -D for the counted
#     run: at a -D deadline h2load abandons up to c×m requests in flight,
#     which the server still finishes — ListWarnings partly with code 3 — so
#     the counters could not prove anything.) The bare echo runs (h2load
#     -D SECS) just before and just after the counted run; the ratio's
#     baseline is their mean, since the machine's speed drifts over a run.
#  5. stops the services (deploy/local/run.sh stop).
# The calls authenticate as the service principal evaluation-service (role
# service: exempt from the per-principal rate limit, 50/s by default, which
# would otherwise be what is measured); the health Check sends no token, as
# a probe does.

READS_DIR=$WORK/reads
READS_VAR=$READS_DIR/var
READS_FIGURES=("ListWarnings ÷ bare echo (h2load)|>= 0.85"
               "GetSeries ÷ bare echo (h2load)|>= 0.85"
               "halfsky grpc.health.v1 Check ÷ bare echo (h2load)|>= 0.95"
               "halfsky-aggregation's health Check ÷ bare echo (h2load)|report")

# reads_not_run_all REASON: every read figure NOT RUN for one reason.
reads_not_run_all() {
  local f
  for f in "${READS_FIGURES[@]}"; do
    not_run "${f%|*}" "${f#*|}" "$1"
  done
}

# reads_deploy ARGS...: deploy/local/run.sh on this run's ports and var/.
reads_deploy() {
  env HALFSKY_VAR="$READS_VAR" HALFSKY_BUILD_DIR="$BUILD" HALFSKY_SKIP_BUILD=1 \
    HALFSKY_REDIS_PORT="$READS_REDIS_PORT" \
    HALFSKY_SUBMISSION_PORT="$READS_SUBMISSION_PORT" \
    HALFSKY_AGGREGATION_PORT="$READS_AGGREGATION_PORT" \
    HALFSKY_EVALUATION_PORT="$READS_EVALUATION_PORT" \
    HALFSKY_SUBMISSION_METRICS_PORT="$READS_SUBMISSION_METRICS_PORT" \
    HALFSKY_AGGREGATION_METRICS_PORT="$READS_AGGREGATION_METRICS_PORT" \
    HALFSKY_EVALUATION_METRICS_PORT="$READS_EVALUATION_METRICS_PORT" \
    bash "$ROOT/deploy/local/run.sh" "$@"
}

# reads_encode MESSAGE PROTO TEXT NAME: $READS_DIR/NAME.frame, a gRPC frame
# of the message MESSAGE (protoc --encode of TEXT) from protos/PROTO.
reads_encode() {
  printf '%s' "$3" |
    protoc -I"$ROOT/protos" --encode="$1" "$2" >"$READS_DIR/$4.msg" 2>"$READS_DIR/$4.err" &&
    grpc_frame "$READS_DIR/$4.msg" "$READS_DIR/$4.frame"
}

# reads_call URL FRAME [HEADER...]: one call with nghttp; prints the response
# message (the frame's 5-byte prefix removed).
reads_call() {
  local url=$1 frame=$2 h=()
  shift 2
  for a in "$@"; do h+=(-H "$a"); done
  nghttp -d "$frame" -H 'content-type: application/grpc' -H 'te: trailers' "${h[@]}" "$url" |
    tail -c +6
}

# reads_handled METRICS_PORT METHOD: "CODE COUNT" lines of
# halfsky_grpc_server_handled_total for METHOD (e.g.
# /halfsky.v1.EvaluationService/ListWarnings) on that /metrics page.
reads_handled() {
  python3 - "$1" "$2" <<'EOF'
import re, sys, urllib.request
page = urllib.request.urlopen('http://127.0.0.1:%s/metrics' % sys.argv[1], timeout=10).read().decode()
pat = re.compile(r'^halfsky_grpc_server_handled_total\{(.*)\} (\S+)$')
for line in page.splitlines():
    m = pat.match(line)
    if not m:
        continue
    labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
    if labels.get('method') == sys.argv[2]:
        print(labels.get('code'), int(float(m.group(2))))
EOF
}

# reads_figure NAME GOAL WHAT URL FRAME METRICS_PORT METHOD [HEADER...]: one
# counted figure (see the file comment, step 4); WHAT describes the call on
# the line under the figure.
reads_figure() {
  local name=$1 goal=$2 what=$3 url=$4 frame=$5 mport=$6 method=$7
  shift 7
  local h=(-H 'content-type: application/grpc' -H 'te: trailers') a
  for a in "$@"; do h+=(-H "$a"); done
  local out probe n
  if ! out=$(h2load -c "$CONNS" -m "$STREAMS" -t 1 -D 1 -d "$frame" "${h[@]}" "$url" 2>&1); then
    not_run "$name" "$goal" "h2load warm-up failed: $(tail -2 <<<"$out")"
    return
  fi
  probe=$(awk '/^finished in/ { gsub(",", "", $4); print $4 }' <<<"$out")
  n=$(awk -v r="${probe:-0}" -v s="$SECS" -v c="$CONNS" -v m="$STREAMS" \
        'BEGIN { n = int(r * s); if (n < c * m) n = c * m; print n }')
  # The bare echo just before and just after the counted run (the
  # machine's speed drifts over a run): the ratio's baseline is their mean.
  local echo_before echo_after echo_mean
  echo_before=$(h2load_rate "http://127.0.0.1:$ECHO_PORT/bench.Echo/Echo" "$WORK/echo.frame")
  local before after
  if ! before=$(reads_handled "$mport" "$method"); then
    not_run "$name" "$goal" "cannot read /metrics on :$mport"
    return
  fi
  out=$(timeout $((SECS * 5 + 30)) \
          h2load -c "$CONNS" -m "$STREAMS" -t 1 -n "$n" -d "$frame" "${h[@]}" "$url" 2>&1)
  local rc=$?
  echo "$out" >"$READS_DIR/h2load.$(basename "$frame" .frame).$mport.out"
  if ! after=$(reads_handled "$mport" "$method"); then
    not_run "$name" "$goal" "cannot read /metrics on :$mport"
    return
  fi
  echo_after=$(h2load_rate "http://127.0.0.1:$ECHO_PORT/bench.Echo/Echo" "$WORK/echo.frame")
  if [ -z "$echo_before" ] || [ -z "$echo_after" ]; then
    not_run "$name" "$goal" "the bare echo beside it failed: $(tail -2 "$WORK/h2load.last" 2>/dev/null)"
    return
  fi
  echo_mean=$(awk -v a="$echo_before" -v b="$echo_after" 'BEGIN { printf "%.0f", (a + b) / 2 }')
  if [ "$rc" -ne 0 ]; then
    not_run "$name" "$goal" "h2load -n $n exited $rc (124: took over $((SECS * 5 + 30)) s): $(tail -2 <<<"$out")"
    return
  fi
  # "finished in 10.00s, 33512.30 req/s, 25.41MB/s"
  # "requests: N total, N started, N done, N succeeded, 0 failed, 0 errored, 0 timeout"
  # "traffic: ... total, ... headers (...), B data"
  local rate ndone succeeded bad bytes
  rate=$(awk '/^finished in/ { gsub(",", "", $4); print $4 }' <<<"$out")
  read -r ndone succeeded bad < <(awk '/^requests:/ { print $6, $8, $10 + $12 + $14 }' <<<"$out")
  bytes=$(awk '/^traffic:/ { for (i = 1; i < NF; i++) if ($(i + 1) == "data") { gsub(/[()]/, "", $i); print $i } }' <<<"$out")
  if [ -z "$rate" ] || [ "${ndone:-}" != "$n" ] || [ "${succeeded:-}" != "$n" ] || [ "${bad:-1}" != 0 ]; then
    not_run "$name" "$goal" "h2load: $(grep -E '^requests:|^status codes:' <<<"$out" | tr '\n' ' ')(want $n of $n succeeded)"
    return
  fi
  # Every code's rise on the service's own counter.
  local deltas ok other
  deltas=$(awk 'NR == FNR { b[$1] = $2; next } { d = $2 - b[$1]; if (d != 0) print $1, d }' \
             <(echo "$before") <(echo "$after"))
  ok=$(awk '$1 == "0" { print $2 }' <<<"$deltas")
  other=$(awk '$1 != "0" { printf "%scode %s +%s", sep, $1, $2; sep = ", " }' <<<"$deltas")
  if [ "${ok:-0}" != "$n" ] || [ -n "$other" ]; then
    not_run "$name" "$goal" "$method on /metrics: OK +${ok:-0} (want +$n); ${other:-no other code}"
    return
  fi
  figure "$name" "$rate" "$echo_mean" "$(ratio "$rate" "$echo_mean")" "$goal"
  echo "    ($what; $(awk -v b="${bytes:-0}" -v n="$n" 'BEGIN { printf "%.0f", b / n }') B of DATA" \
       "per response; $n of $n requests grpc-status 0 per $method on /metrics)"
  echo "    (baseline: the bare echo just before and just after, $echo_before and $echo_after req/s, their mean;" \
       "the run's first measurement: $ECHO_RATE)"
}

reads_main() {
  mkdir -p "$READS_DIR"
  local t
  if [ -z "${ECHO_RATE:-}" ]; then
    reads_not_run_all "no same-run bare echo rate to divide by"
    return
  fi
  for t in h2load nghttp protoc python3; do
    if ! command -v "$t" >/dev/null; then
      reads_not_run_all "$t not installed (h2load/nghttp: Debian nghttp2-client)"
      return
    fi
  done
  if [ "$DO_BUILD" = 1 ]; then
    if ! ninja -C "$BUILD" halfsky-submission halfsky-aggregation halfsky-evaluation halfskyctl \
           >"$READS_DIR/build.log" 2>&1; then
      reads_not_run_all "build failed: $(tail -3 "$READS_DIR/build.log")"
      return
    fi
  fi

  # --- Redis and the three services, seeded with the demo data -------------
  READS_REDIS_PORT=$(free_port)
  READS_SUBMISSION_PORT=$(free_port)
  READS_AGGREGATION_PORT=$(free_port)
  READS_EVALUATION_PORT=$(free_port)
  READS_SUBMISSION_METRICS_PORT=$(free_port)
  READS_AGGREGATION_METRICS_PORT=$(free_port)
  READS_EVALUATION_METRICS_PORT=$(free_port)
  local started=0
  reads_deploy --demo >"$READS_DIR/deploy.log" 2>&1 && started=1
  # run.sh's cleanup also stops the supervisors if this run is cut short.
  local pidfile
  for pidfile in "$READS_VAR"/run/*.pid; do
    [ -f "$pidfile" ] && PIDS+=("$(cat "$pidfile")")
  done
  if [ "$started" != 1 ]; then
    reads_not_run_all "deploy/local/run.sh --demo failed: $(tail -3 "$READS_DIR/deploy.log" | tr '\n' ' ')"
    reads_deploy stop >>"$READS_DIR/deploy.log" 2>&1
    return
  fi

  local token eval_url agg_url
  token=$(cat "$READS_VAR/secrets/evaluation-service.token")
  eval_url=http://127.0.0.1:$READS_EVALUATION_PORT
  agg_url=http://127.0.0.1:$READS_AGGREGATION_PORT
  if ! reads_encode halfsky.v1.ListWarningsRequest halfsky/v1/evaluation.proto \
         'page_size: 100' list_warnings ||
     ! reads_encode halfsky.v1.GetSeriesRequest halfsky/v1/aggregation.proto \
         'indicator_id: "HEALTH-08" area_code: "610303" sex: SEX_TOTAL residence: RESIDENCE_ALL' \
         get_series ||
     ! reads_encode grpc.health.v1.HealthCheckRequest grpc/health/v1/health.proto '' health; then
    reads_not_run_all "protoc --encode failed: $(cat "$READS_DIR"/*.err | head -3)"
    reads_deploy stop >>"$READS_DIR/deploy.log" 2>&1
    return
  fi

  # --- Wait until the warnings exist (the same count twice in a row) -------
  local count=-1 last=-2
  for _ in $(seq 60); do
    count=$(reads_call "$eval_url/halfsky.v1.EvaluationService/ListWarnings" \
              "$READS_DIR/list_warnings.frame" "authorization: Bearer $token" |
            protoc -I"$ROOT/protos" --decode=halfsky.v1.ListWarningsResponse \
              halfsky/v1/evaluation.proto 2>/dev/null | grep -c '^warnings {')
    [ "$count" -gt 0 ] && [ "$count" = "$last" ] && break
    last=$count
    sleep 0.5
  done
  local series_points
  series_points=$(reads_call "$agg_url/halfsky.v1.AggregationService/GetSeries" \
                    "$READS_DIR/get_series.frame" "authorization: Bearer $token" |
                  protoc -I"$ROOT/protos" --decode=halfsky.v1.GetSeriesResponse \
                    halfsky/v1/aggregation.proto 2>/dev/null | grep -c '^points {')

  if [ "$count" -lt 5 ] || [ "$count" -gt 20 ] || [ "$count" != "$last" ]; then
    not_run "${READS_FIGURES[0]%|*}" "${READS_FIGURES[0]#*|}" \
      "the demo data gave $count firing warnings (last poll $last), not a steady ~10"
  else
    reads_figure "${READS_FIGURES[0]%|*}" "${READS_FIGURES[0]#*|}" \
      "$count firing warnings of the synthetic demo data, page_size 100" \
      "$eval_url/halfsky.v1.EvaluationService/ListWarnings" "$READS_DIR/list_warnings.frame" \
      "$READS_EVALUATION_METRICS_PORT" /halfsky.v1.EvaluationService/ListWarnings \
      "authorization: Bearer $token"
  fi
  if [ "$series_points" -lt 1 ]; then
    not_run "${READS_FIGURES[1]%|*}" "${READS_FIGURES[1]#*|}" \
      "GetSeries HEALTH-08 610303 returned no points"
  else
    reads_figure "${READS_FIGURES[1]%|*}" "${READS_FIGURES[1]#*|}" \
      "HEALTH-08, district 610303, total/all: $series_points yearly points" \
      "$agg_url/halfsky.v1.AggregationService/GetSeries" "$READS_DIR/get_series.frame" \
      "$READS_AGGREGATION_METRICS_PORT" /halfsky.v1.AggregationService/GetSeries \
      "authorization: Bearer $token"
  fi
  reads_figure "${READS_FIGURES[2]%|*}" "${READS_FIGURES[2]#*|}" \
    "halfsky-evaluation's Check, service \"\", no token" \
    "$eval_url/grpc.health.v1.Health/Check" "$READS_DIR/health.frame" \
    "$READS_EVALUATION_METRICS_PORT" /grpc.health.v1.Health/Check
  # The same Check on the aggregation service, beside GetSeries: what the
  # process costs per call apart from the method (a thread blocked in a
  # synchronous gRPC read once cost it a third of its rate; BENCHMARKS.md).
  reads_figure "${READS_FIGURES[3]%|*}" "${READS_FIGURES[3]#*|}" \
    "halfsky-aggregation's Check, service \"\", no token: the process's per-call cost beside GetSeries" \
    "$agg_url/grpc.health.v1.Health/Check" "$READS_DIR/health.frame" \
    "$READS_AGGREGATION_METRICS_PORT" /grpc.health.v1.Health/Check

  reads_deploy stop >>"$READS_DIR/deploy.log" 2>&1
}

reads_main
