#!/usr/bin/env bash
# halfsky on one machine: Redis (AOF, data under var/) and the three
# services, each supervised (restarted if it dies), with the plan's catalog.
#
#   deploy/local/run.sh [start]   install what is missing, build Release, start, wait for SERVING
#   deploy/local/run.sh stop      stop everything this script started (SIGTERM: services drain)
#   deploy/local/run.sh status    what runs, and each service's health
#   deploy/local/run.sh logs [NAME]  tail the logs (redis, submission, aggregation, evaluation)
#   deploy/local/run.sh restart
#   deploy/local/run.sh --demo    start, then load the synthetic demo data (deploy/demo/, 示例数据)
#
# Idempotent: `start` when everything already runs changes nothing.
# Ports (override with the environment): HALFSKY_REDIS_PORT (7379),
# HALFSKY_SUBMISSION_PORT (7301), HALFSKY_AGGREGATION_PORT (7302),
# HALFSKY_EVALUATION_PORT (7303); metrics on 9301/9302/9303.
# HALFSKY_BUILD_DIR (build-release) with HALFSKY_SKIP_BUILD=1 uses binaries
# already built there; HALFSKY_FAKE_NOW (RFC 3339) sets the services' "today".
# Authentication is on: the first start creates var/secrets/ (mode 700) with
# random bearer tokens for the principals `admin`, `statistics`,
# `assessment` and the two service principals, and var/secrets/tokens with
# only their SHA-256 hashes (the --tokens_file). Use them with
#   export HALFSKY_TOKEN=$(cat var/secrets/admin.token)
# Add member units' principals to var/secrets/tokens (format:
# deploy/local/tokens.example) and restart. HALFSKY_NO_AUTH=1 runs without
# authentication (development only; the services say so loudly).
set -euo pipefail
HALFSKY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$HALFSKY_ROOT"
# shellcheck source=deps.sh
source deploy/local/deps.sh

VAR=$HALFSKY_ROOT/var
RUN=$VAR/run
LOG=$VAR/log
BUILD_DIR=${HALFSKY_BUILD_DIR:-$HALFSKY_ROOT/build-release}
BIN=$BUILD_DIR/services
REDIS_PORT=${HALFSKY_REDIS_PORT:-7379}
SUBMISSION_PORT=${HALFSKY_SUBMISSION_PORT:-7301}
AGGREGATION_PORT=${HALFSKY_AGGREGATION_PORT:-7302}
EVALUATION_PORT=${HALFSKY_EVALUATION_PORT:-7303}
CATALOG=${HALFSKY_CATALOG:-$HALFSKY_ROOT/deploy/catalog}
SECRETS=$VAR/secrets
NO_AUTH=${HALFSKY_NO_AUTH:-0}
FAKE_NOW=${HALFSKY_FAKE_NOW:-}
SERVICES=(submission aggregation evaluation)

say() { printf '%s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

port_of() {
  case $1 in
    redis) echo "$REDIS_PORT" ;;
    submission) echo "$SUBMISSION_PORT" ;;
    aggregation) echo "$AGGREGATION_PORT" ;;
    evaluation) echo "$EVALUATION_PORT" ;;
  esac
}
metrics_port_of() { echo $(( $(port_of "$1") + 2000 )); }

running() {  # running NAME: the supervisor of NAME is alive
  local pidfile=$RUN/$1.pid
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

port_taken() {  # port_taken PORT: something listens there
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

service_args() {
  local name=$1
  local args=(--listen "127.0.0.1:$(port_of "$name")"
              --metrics_listen "127.0.0.1:$(metrics_port_of "$name")"
              --catalog "$CATALOG" --address_file "$RUN/$name.addr")
  if [ "$NO_AUTH" != 1 ]; then
    args+=(--tokens_file "$SECRETS/tokens")
  fi
  if [ -n "$FAKE_NOW" ]; then
    args+=(--fake_now "$FAKE_NOW")
  fi
  case $name in
    submission) args+=(--db "$VAR/submission.db") ;;
    aggregation)
      args+=(--submission "127.0.0.1:$SUBMISSION_PORT" --redis "127.0.0.1:$REDIS_PORT")
      [ "$NO_AUTH" = 1 ] || args+=(--submission_token_file "$SECRETS/aggregation-service.token")
      ;;
    evaluation)
      args+=(--submission "127.0.0.1:$SUBMISSION_PORT" --aggregation "127.0.0.1:$AGGREGATION_PORT"
             --redis "127.0.0.1:$REDIS_PORT" --db "$VAR/evaluation.db")
      [ "$NO_AUTH" = 1 ] || args+=(--submission_token_file "$SECRETS/evaluation-service.token"
                                   --aggregation_token_file "$SECRETS/evaluation-service.token")
      ;;
  esac
  printf '%s\n' "${args[@]}"
}

# supervise NAME CMD...: runs CMD, restarting it (after 1 s) whenever it dies,
# until the supervisor gets SIGTERM, which it forwards (the service drains).
supervise() {
  local name=$1
  shift
  (
    child=0
    trap 'stopping=1; [ "$child" -ne 0 ] && kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM INT
    stopping=0
    while [ "$stopping" -eq 0 ]; do
      "$@" >>"$LOG/$name.log" 2>&1 &
      child=$!
      wait "$child" || true
      [ "$stopping" -eq 0 ] || break
      echo "$(date -Is) run.sh: $name exited; restarting in 1 s" >>"$LOG/$name.log"
      sleep 1
    done
  ) </dev/null >/dev/null 2>&1 &
  echo $! >"$RUN/$name.pid"
}

# make_secrets: once, random tokens for the built-in principals and the
# hash file the services read. Never overwrites existing secrets.
make_secrets() {
  [ "$NO_AUTH" = 1 ] && return
  if [ -f "$SECRETS/tokens" ]; then
    return
  fi
  mkdir -p "$SECRETS"
  chmod 700 "$SECRETS"
  local tmp="$SECRETS/tokens.tmp"
  {
    echo "# halfsky token hashes, generated by deploy/local/run.sh on $(date -Is)."
    echo "# Format: deploy/local/tokens.example. Tokens are in var/secrets/NAME.token."
  } >"$tmp"
  local entry name roles token
  local entries=(admin:admin statistics:statistics assessment:assessment
                 aggregation-service:statistics evaluation-service:statistics)
  # One principal per member unit of the catalog (unit-<CODE>, role unit:<CODE>):
  # hand each unit its token; a unit may write only its own indicators.
  local code
  for code in $(grep -o 'code: "[A-Z0-9_]*"' "$CATALOG/member_units.textproto" 2>/dev/null | cut -d'"' -f2); do
    entries+=("unit-$code:unit:$code")
  done
  for entry in "${entries[@]}"; do
    name=${entry%%:*}
    roles=${entry#*:}
    token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    (umask 077 && printf '%s' "$token" >"$SECRETS/$name.token")
    printf '%s  %s  %s\n' "$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)" "$name" "$roles" >>"$tmp"
  done
  mv "$tmp" "$SECRETS/tokens"
  say "tokens       created in var/secrets/ (export HALFSKY_TOKEN=\$(cat var/secrets/admin.token))"
}

build() {
  if [ "${HALFSKY_SKIP_BUILD:-0}" = 1 ]; then
    say "==> HALFSKY_SKIP_BUILD=1: using the binaries in $BUILD_DIR as they are"
    return
  fi
  halfsky_install_packages "${HALFSKY_BUILD_PACKAGES[@]}" "${HALFSKY_RUN_PACKAGES[@]}"
  say "==> building Release into $BUILD_DIR"
  halfsky_build "$BUILD_DIR" Release -DHALFSKY_BUILD_TESTS=OFF -DHALFSKY_BUILD_BENCHMARKS=OFF
}

start_redis() {
  if running redis; then
    say "redis        already running on 127.0.0.1:$REDIS_PORT"
    return
  fi
  port_taken "$REDIS_PORT" && die "port $REDIS_PORT (redis) is taken by another program; set HALFSKY_REDIS_PORT"
  mkdir -p "$VAR/redis"
  supervise redis "$(command -v redis-server)" --port "$REDIS_PORT" --bind 127.0.0.1 \
    --dir "$VAR/redis" --appendonly yes --appendfsync everysec --save "" --daemonize no
  for _ in $(seq 100); do
    port_taken "$REDIS_PORT" && break
    sleep 0.1
  done
  port_taken "$REDIS_PORT" || die "redis did not start; see $LOG/redis.log"
  say "redis        started on 127.0.0.1:$REDIS_PORT (AOF in var/redis)"
}

start_service() {
  local name=$1
  if running "$name"; then
    say "$name$(printf '%*s' $((13 - ${#name})) '')already running on 127.0.0.1:$(port_of "$name")"
    return
  fi
  port_taken "$(port_of "$name")" && die "port $(port_of "$name") ($name) is taken by another program; set HALFSKY_${name^^}_PORT"
  port_taken "$(metrics_port_of "$name")" && die "port $(metrics_port_of "$name") ($name metrics) is taken by another program"
  local args
  mapfile -t args < <(service_args "$name")
  local binary=$BIN/$name/halfsky-$name
  [ "$name" = evaluation ] && binary=$BIN/evaluation/service/halfsky-evaluation
  [ -x "$binary" ] || die "$binary is missing (build failed?)"
  supervise "$name" "$binary" "${args[@]}"
  say "$name$(printf '%*s' $((13 - ${#name})) '')started on 127.0.0.1:$(port_of "$name") (metrics :$(metrics_port_of "$name"))"
}

cmd_start() {
  build
  mkdir -p "$RUN" "$LOG"
  make_secrets
  start_redis
  for s in "${SERVICES[@]}"; do
    start_service "$s"
  done
  local addrs=()
  for s in "${SERVICES[@]}"; do
    addrs+=("127.0.0.1:$(port_of "$s")")
  done
  say "==> waiting for SERVING"
  if ! "$BIN/halfskyctl/halfskyctl" health --wait 60s "${addrs[@]}"; then
    die "not every service reports SERVING; see deploy/local/run.sh logs"
  fi
  say ""
  say "halfsky is up. halfskyctl: $BIN/halfskyctl/halfskyctl"
  say "  submission  127.0.0.1:$SUBMISSION_PORT   aggregation 127.0.0.1:$AGGREGATION_PORT   evaluation 127.0.0.1:$EVALUATION_PORT"
  say "  redis       127.0.0.1:$REDIS_PORT        logs: $LOG   data: $VAR"
  if [ "$NO_AUTH" != 1 ]; then
    say "  token:      export HALFSKY_TOKEN=\$(cat $SECRETS/admin.token)"
  fi
}

stop_one() {
  local name=$1
  if ! running "$name"; then
    rm -f "$RUN/$name.pid"
    return
  fi
  local pid
  pid=$(cat "$RUN/$name.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name did not stop within 15 s; killing it"
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/$name.pid" "$RUN/$name.addr"
  say "$name stopped"
}

cmd_stop() {
  for s in evaluation aggregation submission redis; do
    stop_one "$s"
  done
}

cmd_status() {
  local rc=0
  for s in redis "${SERVICES[@]}"; do
    if running "$s"; then
      say "$s$(printf '%*s' $((13 - ${#s})) '')running (supervisor pid $(cat "$RUN/$s.pid")) on 127.0.0.1:$(port_of "$s")"
    else
      say "$s$(printf '%*s' $((13 - ${#s})) '')stopped"
      rc=1
    fi
  done
  if [ -x "$BIN/halfskyctl/halfskyctl" ]; then
    local addrs=()
    for s in "${SERVICES[@]}"; do
      addrs+=("127.0.0.1:$(port_of "$s")")
    done
    "$BIN/halfskyctl/halfskyctl" health "${addrs[@]}" || rc=1
  fi
  return $rc
}

cmd_logs() {
  if [ $# -gt 0 ]; then
    tail -n 100 -F "$LOG/$1.log"
  else
    tail -n 20 -F "$LOG"/*.log
  fi
}

cmd_demo() {
  # The demo's data years end in 2024; under the real clock every later year
  # would be overdue and bury the designed warnings in late-data ones, so the
  # services run with the demo's "today" unless HALFSKY_FAKE_NOW says otherwise.
  if running submission || running evaluation; then
    say "the suite is already running: stop it first (deploy/local/run.sh stop) so that --demo can set its clock"
    exit 1
  fi
  FAKE_NOW=${FAKE_NOW:-2025-03-01T00:00:00+08:00}
  cmd_start
  say "==> loading the synthetic demo data (deploy/demo, 示例数据) with each unit's own token; clock: $FAKE_NOW"
  [ -n "$(ls deploy/demo/demo-synthetic-*.csv 2>/dev/null)" ] || bash deploy/demo/generate.sh
  local f unit token
  for f in deploy/demo/demo-synthetic-*.csv; do
    unit=$(basename "$f" .csv)
    unit=${unit#demo-synthetic-}
    token=""
    if [ "$NO_AUTH" != 1 ]; then
      [ -f "$SECRETS/unit-$unit.token" ] || die "no token for unit $unit in $SECRETS (created before the unit was in the catalog?); add one or remove var/secrets to regenerate"
      token=$(cat "$SECRETS/unit-$unit.token")
    fi
    HALFSKY_TOKEN=$token "$BIN/halfskyctl/halfskyctl" submit --server "127.0.0.1:$SUBMISSION_PORT" "$f" \
      || die "loading $f failed"
  done
  # Late-data warnings are re-checked on evaluation's full passes (start-up
  # and every --reevaluate_interval); restart it so the demo shows the
  # reporting status just loaded rather than five minutes later.
  stop_one evaluation
  start_service evaluation
  "$BIN/halfskyctl/halfskyctl" health --wait 60s "127.0.0.1:$EVALUATION_PORT" >/dev/null \
    || die "evaluation did not come back; see deploy/local/run.sh logs evaluation"
  say "demo data loaded. Try:"
  say "  export HALFSKY_TOKEN=\$(cat $SECRETS/assessment.token)"
  say "  $BIN/halfskyctl/halfskyctl warnings"
  say "  $BIN/halfskyctl/halfskyctl report annual --year 2024 -o report.html"
  say "(the services run with the demo's clock $FAKE_NOW until the next stop/start)"
}

case ${1:-start} in
  start) cmd_start ;;
  --demo|demo) cmd_demo ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  restart) cmd_stop; cmd_start ;;
  logs) shift; cmd_logs "$@" ;;
  -h|--help|help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$1' (start|stop|status|restart|logs)" ;;
esac
