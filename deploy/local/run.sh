#!/usr/bin/env bash
# halfsky on one machine: Redis (AOF, data under var/), the three services
# and the web console (halfsky-web), each supervised (restarted if it dies),
# with the plan's catalog.
#
#   deploy/local/run.sh [start]   install what is missing, build Release, start, wait for SERVING
#   deploy/local/run.sh stop      stop everything this script started (SIGTERM: services drain)
#   deploy/local/run.sh status    what runs, and each service's health
#   deploy/local/run.sh logs [NAME]  tail the logs (redis, submission, aggregation, evaluation, web)
#   deploy/local/run.sh restart
#   deploy/local/run.sh --demo    start, then load the synthetic demo data (deploy/demo/, 示例数据),
#                                 and print the console's address and the token of each role
#   deploy/local/run.sh --demo=city [stop]   a small city (宝鸡市) with two district
#                                 instances (金台区 with the demo data and its review, 渭滨区
#                                 without review), each a whole suite under
#                                 var/city-demo/NAME, and the districts' halfsky-exchange
#                                 reporting upward to the city (issue #17); `stop` stops it all.
#                                 Ports: HALFSKY_CITY_PORT_BASE (7310) + 20 × instance (city 0,
#                                 jintai 1, weibin 2) + 1 submission, 2 aggregation,
#                                 3 evaluation, 4 web, 5 exchange, 9 redis, 10 console pages;
#                                 metrics + 2000.
#
# Idempotent: `start` when everything already runs changes nothing. Before
# it starts anything, `start` checks every port it needs and, if one is
# taken, names it (and its holder) and exits 1 with nothing started; a start
# that fails later stops what it started.
# Ports (override with the environment): HALFSKY_REDIS_PORT (7379),
# HALFSKY_SUBMISSION_PORT (7301), HALFSKY_AGGREGATION_PORT (7302),
# HALFSKY_EVALUATION_PORT (7303), HALFSKY_WEB_PORT (7304: the console's
# gRPC health); metrics HALFSKY_SUBMISSION_METRICS_PORT,
# HALFSKY_AGGREGATION_METRICS_PORT, HALFSKY_EVALUATION_METRICS_PORT,
# HALFSKY_WEB_METRICS_PORT (default: the gRPC port + 2000, so
# 9301/9302/9303/9304); the console's pages HALFSKY_WEB_HTTP_PORT (8080:
# http://127.0.0.1:8080/, loopback only, plain HTTP).
# HALFSKY_VAR (var/ of the checkout) is where all state lives: databases,
# redis/ (AOF), log/, run/ (pids), secrets/.
# HALFSKY_BUILD_DIR (build-release) with HALFSKY_SKIP_BUILD=1 uses binaries
# already built there (and installs nothing); HALFSKY_SKIP_INSTALL=1 never
# runs apt-get; HALFSKY_REDIS_SERVER names the redis-server binary (default:
# the one on PATH); HALFSKY_CATALOG the catalog directory (deploy/catalog);
# HALFSKY_FAKE_NOW (RFC 3339) sets the services' "today".
# Authentication is on: the first start creates var/secrets/ (mode 700) with
# random bearer tokens for the principals `admin`, `statistics`,
# `assessment` and the two service principals, and var/secrets/tokens with
# only their SHA-256 hashes (the --tokens_file). Use them with
#   export HALFSKY_TOKEN=$(cat var/secrets/admin.token)
# Add member units' principals to var/secrets/tokens (format:
# deploy/local/tokens.example) and restart. HALFSKY_NO_AUTH=1 runs without
# authentication (development only; the services say so loudly).
# Redis runs with an ACL (var/redis/users.acl, default user off): aggregation
# as halfsky-writer, evaluation as the read-only halfsky-reader, passwords and
# the cache MAC key in var/secrets/ (docs/OPERATIONS.md, "Redis passwords and
# the cache MAC key").
set -euo pipefail
HALFSKY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# A relative HALFSKY_VAR is relative to where the script was called from.
VAR=$(realpath -m "${HALFSKY_VAR:-$HALFSKY_ROOT/var}")
cd "$HALFSKY_ROOT"
# shellcheck source-path=SCRIPTDIR/../.. source=deploy/local/deps.sh
source deploy/local/deps.sh

RUN=$VAR/run
LOG=$VAR/log
BUILD_DIR=${HALFSKY_BUILD_DIR:-$HALFSKY_ROOT/build-release}
BIN=$BUILD_DIR/services
REDIS_PORT=${HALFSKY_REDIS_PORT:-7379}
SUBMISSION_PORT=${HALFSKY_SUBMISSION_PORT:-7301}
AGGREGATION_PORT=${HALFSKY_AGGREGATION_PORT:-7302}
EVALUATION_PORT=${HALFSKY_EVALUATION_PORT:-7303}
WEB_PORT=${HALFSKY_WEB_PORT:-7304}
WEB_HTTP_PORT=${HALFSKY_WEB_HTTP_PORT:-8080}
SUBMISSION_METRICS_PORT=${HALFSKY_SUBMISSION_METRICS_PORT:-$((SUBMISSION_PORT + 2000))}
AGGREGATION_METRICS_PORT=${HALFSKY_AGGREGATION_METRICS_PORT:-$((AGGREGATION_PORT + 2000))}
EVALUATION_METRICS_PORT=${HALFSKY_EVALUATION_METRICS_PORT:-$((EVALUATION_PORT + 2000))}
WEB_METRICS_PORT=${HALFSKY_WEB_METRICS_PORT:-$((WEB_PORT + 2000))}
# Looked up by resolve_programs, after build() has installed the packages:
# on a fresh machine redis-server is not there when the script starts.
REDIS_SERVER=
CATALOG=${HALFSKY_CATALOG:-$HALFSKY_ROOT/deploy/catalog}
SECRETS=$VAR/secrets
NO_AUTH=${HALFSKY_NO_AUTH:-0}
FAKE_NOW=${HALFSKY_FAKE_NOW:-}
# In start order; stopped in the reverse order. web (the console) calls the
# other three with the signed-in person's own token.
SERVICES=(submission aggregation evaluation web)
STARTED=()  # what this invocation started, stopped again if the start fails

say() { printf '%s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

port_of() {
  case $1 in
    redis) echo "$REDIS_PORT" ;;
    submission) echo "$SUBMISSION_PORT" ;;
    aggregation) echo "$AGGREGATION_PORT" ;;
    evaluation) echo "$EVALUATION_PORT" ;;
    web) echo "$WEB_PORT" ;;
  esac
}
metrics_port_of() {
  case $1 in
    submission) echo "$SUBMISSION_METRICS_PORT" ;;
    aggregation) echo "$AGGREGATION_METRICS_PORT" ;;
    evaluation) echo "$EVALUATION_METRICS_PORT" ;;
    web) echo "$WEB_METRICS_PORT" ;;
  esac
}

binary_of() {
  case $1 in
    redis) echo "$REDIS_SERVER" ;;
    evaluation) echo "$BIN/evaluation/service/halfsky-evaluation" ;;
    *) echo "$BIN/$1/halfsky-$1" ;;
  esac
}

running() {  # running NAME: the supervisor of NAME is alive
  local pidfile=$RUN/$1.pid
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

port_taken() {  # port_taken PORT: something listens there
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# port_holder PORT: "NAME (pid N)" of the process listening on PORT, when
# ss or lsof can tell (another user's process needs root); else nothing.
port_holder() {
  local line name="" pid=""
  if command -v ss >/dev/null; then
    line=$(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(("[^"]*",pid=[0-9]*' | head -n 1 || true)
    if [ -n "$line" ]; then
      name=${line#*\"}
      name=${name%%\"*}
      pid=${line##*pid=}
    fi
  fi
  if [ -z "$pid" ] && command -v lsof >/dev/null; then
    line=$(lsof -nP -iTCP:"$1" -sTCP:LISTEN -Fpc 2>/dev/null | head -n 2 | tr '\n' ' ' || true)
    if [[ $line =~ ^p([0-9]+)\ c(.*)\ $ ]]; then
      pid=${BASH_REMATCH[1]}
      name=${BASH_REMATCH[2]}
    fi
  fi
  [ -n "$pid" ] || return 0
  # The kernel cuts the name at 15 characters; the executable's is whole.
  local exe
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
  exe=${exe##*/}
  if [ ${#name} -eq 15 ] && [ "${exe#"$name"}" != "$exe" ]; then
    name=$exe
  fi
  printf '%s (pid %s)' "$name" "$pid"
}

# preflight: before anything starts, every program it would start exists and
# every port it would bind is free; otherwise says which and exits 1.
preflight() {
  local problems=() name binary port what var holder
  local all_ports=("$REDIS_PORT" "$WEB_HTTP_PORT")
  for name in "${SERVICES[@]}"; do
    all_ports+=("$(port_of "$name")" "$(metrics_port_of "$name")")
  done
  for port in $(printf '%s\n' "${all_ports[@]}" | sort | uniq -d); do
    problems+=("端口 $port 被配置了两次 / port $port is configured twice (HALFSKY_*_PORT)")
  done
  [ -x "$BIN/halfskyctl/halfskyctl" ] \
    || problems+=("找不到 halfskyctl / halfskyctl is missing: $BIN/halfskyctl/halfskyctl")
  for name in redis "${SERVICES[@]}"; do
    running "$name" && continue
    binary=$(binary_of "$name")
    if [ -z "$binary" ] || [ ! -x "$binary" ]; then
      problems+=("找不到 $name 的程序 / the $name program is missing: ${binary:-redis-server (not on PATH; set HALFSKY_REDIS_SERVER)}")
    fi
    for what in "$name" "$name metrics" "$name http"; do
      if [ "$what" = "$name" ]; then
        port=$(port_of "$name")
        var=HALFSKY_${name^^}_PORT
      elif [ "$what" = "$name metrics" ]; then
        [ "$name" = redis ] && continue
        port=$(metrics_port_of "$name")
        var=HALFSKY_${name^^}_METRICS_PORT
      else
        [ "$name" = web ] || continue
        port=$WEB_HTTP_PORT
        var=HALFSKY_WEB_HTTP_PORT
      fi
      if port_taken "$port"; then
        holder=$(port_holder "$port")
        problems+=("端口 $port（$what）已被${holder:+ $holder }占用 / port $port ($what) is already in use${holder:+ by $holder}; 请停止它或设置 / stop it or set $var")
      fi
    done
  done
  if [ ${#problems[@]} -gt 0 ]; then
    printf 'run.sh: %s\n' "${problems[@]}" >&2
    printf 'run.sh: 未启动任何进程 / nothing was started\n' >&2
    exit 1
  fi
}

# start_failed MESSAGE: stops what this invocation started, then exits 1.
start_failed() {
  printf 'run.sh: %s\n' "$*" >&2
  local i
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
    stop_one "${STARTED[i]}" >&2
  done
  [ ${#STARTED[@]} -eq 0 ] || printf 'run.sh: 启动失败，已停止本次启动的进程 / start failed; stopped what it had started\n' >&2
  exit 1
}

service_args() {
  local name=$1
  local args=(--listen "127.0.0.1:$(port_of "$name")"
              --metrics_listen "127.0.0.1:$(metrics_port_of "$name")"
              --catalog "$CATALOG" --address_file "$RUN/$name.addr")
  if [ "$name" = web ]; then
    # The console checks no token itself: it passes the signed-in person's
    # own token to the services, which decide (no --tokens_file, no clock).
    args+=(--http_listen "127.0.0.1:$WEB_HTTP_PORT" --http_address_file "$RUN/web.http.addr"
           --submission "127.0.0.1:$SUBMISSION_PORT" --aggregation "127.0.0.1:$AGGREGATION_PORT"
           --evaluation "127.0.0.1:$EVALUATION_PORT")
    printf '%s\n' "${args[@]}"
    return
  fi
  if [ "$NO_AUTH" != 1 ]; then
    args+=(--tokens_file "$SECRETS/tokens")
  fi
  if [ -n "$FAKE_NOW" ]; then
    args+=(--fake_now "$FAKE_NOW")
  fi
  case $name in
    submission) args+=(--db "$VAR/submission.db") ;;
    aggregation)
      args+=(--submission "127.0.0.1:$SUBMISSION_PORT" --redis "127.0.0.1:$REDIS_PORT"
             --redis_user halfsky-writer --redis_password_file "$SECRETS/redis-writer.password"
             --cache_mac_key_file "$SECRETS/cache-mac.key")
      [ "$NO_AUTH" = 1 ] || args+=(--submission_token_file "$SECRETS/aggregation-service.token")
      ;;
    evaluation)
      args+=(--submission "127.0.0.1:$SUBMISSION_PORT" --aggregation "127.0.0.1:$AGGREGATION_PORT"
             --redis "127.0.0.1:$REDIS_PORT" --db "$VAR/evaluation.db"
             --redis_user halfsky-reader --redis_password_file "$SECRETS/redis-reader.password"
             --cache_mac_key_file "$SECRETS/cache-mac.key")
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
  STARTED+=("$name")
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
    echo "# Format: deploy/local/tokens.example. Tokens are in $SECRETS/NAME.token."
  } >"$tmp"
  local entry name roles token
  local entries=(admin:admin statistics:statistics assessment:assessment
                 aggregation-service:service evaluation-service:service)
  # One principal per member unit of the catalog (unit-<CODE>, role unit:<CODE>):
  # hand each unit its token; a unit may write only its own indicators.
  local code codes
  mapfile -t codes < <(grep -o 'code: "[A-Z0-9_]*"' "$CATALOG/member_units.textproto" 2>/dev/null | cut -d'"' -f2)
  for code in "${codes[@]}"; do
    entries+=("unit-$code:unit:$code")
  done
  # HALFSKY_EXTRA_PRINCIPALS: "NAME:ROLE ..." more principals (--demo=city
  # gives the city one area:<code> principal per district's exchange).
  local extra
  for extra in ${HALFSKY_EXTRA_PRINCIPALS:-}; do
    entries+=("$extra")
  done
  for entry in "${entries[@]}"; do
    name=${entry%%:*}
    roles=${entry#*:}
    token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    (umask 077 && printf '%s' "$token" >"$SECRETS/$name.token")
    printf '%s  %s  %s\n' "$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)" "$name" "$roles" >>"$tmp"
  done
  mv "$tmp" "$SECRETS/tokens"
  say "tokens       created in $SECRETS/ (export HALFSKY_TOKEN=\$(cat $SECRETS/admin.token))"
}

# make_redis_secrets: once, random passwords for the Redis ACL users
# halfsky-writer (aggregation) and halfsky-reader (evaluation) and the cache
# MAC key, and for the operator halfsky-admin (all commands:
#   REDISCLI_AUTH=$(cat var/secrets/redis-admin.password) redis-cli --user halfsky-admin ...),
# each in var/secrets (600); never overwritten. Then, on every
# start, the ACL file var/redis/users.acl (600) from deploy/redis/users.acl.in
# with those passwords (the default user is off). Also with HALFSKY_NO_AUTH=1:
# that switch is about the gRPC tokens, not Redis.
make_redis_secrets() {
  mkdir -p "$SECRETS" "$VAR/redis"
  chmod 700 "$SECRETS"
  local name
  for name in redis-writer.password redis-reader.password redis-admin.password cache-mac.key; do
    if [ ! -s "$SECRETS/$name" ]; then
      (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SECRETS/$name")
    fi
  done
  local writer reader admin
  writer=$(cat "$SECRETS/redis-writer.password")
  reader=$(cat "$SECRETS/redis-reader.password")
  admin=$(cat "$SECRETS/redis-admin.password")
  (umask 077 && sed -e "s/@WRITER_PASSWORD@/$writer/" -e "s/@READER_PASSWORD@/$reader/" \
    -e "s/@ADMIN_PASSWORD@/$admin/" deploy/redis/users.acl.in >"$VAR/redis/users.acl.tmp")
  mv "$VAR/redis/users.acl.tmp" "$VAR/redis/users.acl"
}

# resolve_programs: the programs packages provide, looked up only now (after
# build(), which installs them).
resolve_programs() {
  REDIS_SERVER=${HALFSKY_REDIS_SERVER:-$(command -v redis-server || true)}
}

build() {
  if [ "${HALFSKY_SKIP_BUILD:-0}" = 1 ]; then
    say "==> HALFSKY_SKIP_BUILD=1: using the binaries in $BUILD_DIR as they are"
    return
  fi
  if [ "${HALFSKY_SKIP_INSTALL:-0}" = 1 ]; then
    say "==> HALFSKY_SKIP_INSTALL=1: installing no packages"
  else
    halfsky_install_packages "${HALFSKY_BUILD_PACKAGES[@]}" "${HALFSKY_RUN_PACKAGES[@]}"
  fi
  say "==> building Release into $BUILD_DIR"
  halfsky_build "$BUILD_DIR" Release -DHALFSKY_BUILD_TESTS=OFF -DHALFSKY_BUILD_BENCHMARKS=OFF
}

start_redis() {
  if running redis; then
    say "redis        already running on 127.0.0.1:$REDIS_PORT"
    return
  fi
  mkdir -p "$VAR/redis"
  supervise redis "$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 \
    --dir "$VAR/redis" --appendonly yes --appendfsync everysec --save "" --daemonize no \
    --aclfile "$VAR/redis/users.acl"
  for _ in $(seq 100); do
    port_taken "$REDIS_PORT" && break
    sleep 0.1
  done
  port_taken "$REDIS_PORT" || start_failed "redis 未能启动 / redis did not start; see $LOG/redis.log"
  say "redis        started on 127.0.0.1:$REDIS_PORT (AOF in $VAR/redis)"
}

start_service() {
  local name=$1
  if running "$name"; then
    say "$name$(printf '%*s' $((13 - ${#name})) '')already running on 127.0.0.1:$(port_of "$name")"
    return
  fi
  local args
  mapfile -t args < <(service_args "$name")
  supervise "$name" "$(binary_of "$name")" "${args[@]}"
  say "$name$(printf '%*s' $((13 - ${#name})) '')started on 127.0.0.1:$(port_of "$name") (metrics :$(metrics_port_of "$name"))$([ "$name" != web ] || echo "; console $(console_url)")"
}

console_url() { echo "http://127.0.0.1:$WEB_HTTP_PORT/"; }

# wait_console SECONDS: the console's HTTP port answers (it listens before
# its gRPC health turns SERVING, so this is quick once health said so).
wait_console() {
  local i
  for ((i = 0; i < $1 * 10; i++)); do
    port_taken "$WEB_HTTP_PORT" && return 0
    sleep 0.1
  done
  return 1
}

cmd_start() {
  build
  resolve_programs
  preflight
  # State and logs are the operator's alone: everything created from here on
  # (databases, AOF, logs, pid files, secrets) by this script and the
  # services it starts is 700/600, and so is a var/ made by an older run.sh.
  umask 077
  mkdir -p "$VAR" "$RUN" "$LOG"
  chmod -R go-rwx "$VAR"
  make_secrets
  make_redis_secrets
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
    start_failed "并非所有服务都在 SERVING / not every service reports SERVING; see the logs in $LOG"
  fi
  wait_console 10 || start_failed "网页控制台未在 $(console_url) 应答 / the web console does not answer on $(console_url); see $LOG/web.log"
  say ""
  say "halfsky is up. halfskyctl: $BIN/halfskyctl/halfskyctl"
  say "  submission  127.0.0.1:$SUBMISSION_PORT   aggregation 127.0.0.1:$AGGREGATION_PORT   evaluation 127.0.0.1:$EVALUATION_PORT"
  say "  redis       127.0.0.1:$REDIS_PORT        logs: $LOG   data: $VAR"
  say "  网页控制台 / web console: $(console_url)"
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
  rm -f "$RUN/$name.pid" "$RUN/$name.addr" "$RUN/$name.http.addr"
  say "$name stopped"
}

cmd_stop() {
  local i
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
    stop_one "${SERVICES[i]}"
  done
  stop_one redis
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
  if running web; then
    say "web console  $(console_url)"
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
  # deploy/demo/load.sh: every unit's file with its own token, then the 2024
  # review (every form approved, one returned with a reason); re-runnable.
  if [ "$NO_AUTH" = 1 ]; then
    bash deploy/demo/load.sh "$BIN/halfskyctl/halfskyctl" "127.0.0.1:$SUBMISSION_PORT" \
      || die "loading the demo failed"
  else
    bash deploy/demo/load.sh "$BIN/halfskyctl/halfskyctl" "127.0.0.1:$SUBMISSION_PORT" "$SECRETS" \
      || die "loading the demo failed"
  fi
  # Evaluation re-checks late data after each update message, so the
  # warnings follow the data just loaded (no restart needed).
  say "demo data loaded."
  say ""
  say "网页控制台 / web console: $(console_url)"
  if [ "$NO_AUTH" = 1 ]; then
    say "  登录 / sign in: 任意令牌 / any token (HALFSKY_NO_AUTH=1: no authentication)"
  else
    # The demo's principals are those make_secrets created: one token file
    # each (var/secrets/NAME.token, 600); paste its content into the
    # sign-in page. The returned unit's form shows the bureau's reason.
    say "  登录时粘贴令牌 / sign in by pasting the content of a token file:"
    say "  成员单位 / unit ($(console_url)unit): $SECRETS/unit-PEOPLES_CONGRESS.token"
    say "      (区人大常委会办公室: its 2024 form 已退回 / returned with a reason; any unit: unit-<CODE>.token)"
    say "  统计局 / statistics bureau ($(console_url)review): $SECRETS/statistics.token"
    say "  妇儿工委办公室 / assessment group ($(console_url)warnings): $SECRETS/assessment.token"
    say "  e.g. cat $SECRETS/assessment.token"
  fi
  say ""
  say "halfskyctl:"
  say "  export HALFSKY_TOKEN=\$(cat $SECRETS/assessment.token)"
  say "  $BIN/halfskyctl/halfskyctl warnings"
  say "  $BIN/halfskyctl/halfskyctl report annual --year 2024 -o report.html"
  say "  HALFSKY_TOKEN=\$(cat $SECRETS/statistics.token) $BIN/halfskyctl/halfskyctl review list --year 2024"
  say "(the services run with the demo's clock $FAKE_NOW until the next stop/start)"
}

# ------------------------------------------------------------- --demo=city
CITY_BASE=${HALFSKY_CITY_PORT_BASE:-7310}
CITY_DIR=$VAR/city-demo
# name index catalog, in start order (the city first: the districts report to it).
CITY_INSTANCES=("city 0 deploy/examples/city/catalog" "jintai 1 deploy/catalog"
                "weibin 2 deploy/examples/city/weibin/catalog")

city_base_of() { echo $((CITY_BASE + 20 * $1)); }

# city_instance NAME INDEX CATALOG COMMAND: this script for one instance,
# with its own var dir, catalog and ports.
city_instance() {
  local base
  base=$(city_base_of "$2")
  local extra=""
  [ "$1" = city ] && extra="jintai-exchange:area:610303 weibin-exchange:area:610302"
  HALFSKY_VAR="$CITY_DIR/$1" HALFSKY_CATALOG="$HALFSKY_ROOT/$3" HALFSKY_EXTRA_PRINCIPALS="$extra" \
    HALFSKY_REDIS_PORT=$((base + 9)) HALFSKY_SUBMISSION_PORT=$((base + 1)) \
    HALFSKY_AGGREGATION_PORT=$((base + 2)) HALFSKY_EVALUATION_PORT=$((base + 3)) \
    HALFSKY_WEB_PORT=$((base + 4)) HALFSKY_WEB_HTTP_PORT=$((base + 10)) \
    HALFSKY_SUBMISSION_METRICS_PORT= HALFSKY_AGGREGATION_METRICS_PORT= \
    HALFSKY_EVALUATION_METRICS_PORT= HALFSKY_WEB_METRICS_PORT= \
    HALFSKY_SKIP_BUILD=1 HALFSKY_BUILD_DIR="$BUILD_DIR" HALFSKY_FAKE_NOW="$FAKE_NOW" \
    HALFSKY_NO_AUTH="$NO_AUTH" bash "$HALFSKY_ROOT/deploy/local/run.sh" "$4"
}

# city_exchange NAME INDEX CATALOG ARGS...: starts (supervised) the
# instance's halfsky-exchange.
city_exchange() {
  local name=$1 base dir
  base=$(city_base_of "$2")
  dir=$CITY_DIR/$name
  RUN=$dir/run
  LOG=$dir/log
  if running exchange; then
    say "$name exchange already running on 127.0.0.1:$((base + 5))"
    return
  fi
  local args=(--listen "127.0.0.1:$((base + 5))" --metrics_listen "127.0.0.1:$((base + 2005))"
              --catalog "$HALFSKY_ROOT/$3" --address_file "$RUN/exchange.addr"
              --database "$dir/exchange.db")
  [ "$NO_AUTH" = 1 ] || args+=(--tokens_file "$dir/secrets/tokens")
  [ -z "$FAKE_NOW" ] || args+=(--fake_now "$FAKE_NOW")
  supervise exchange "$BIN/exchange/halfsky-exchange" "${args[@]}" "${@:4}"
  say "$name exchange started on 127.0.0.1:$((base + 5))"
}

cmd_demo_city() {
  local entry name index catalog
  if [ "${1:-start}" = stop ]; then
    for entry in "${CITY_INSTANCES[@]}"; do
      read -r name index catalog <<<"$entry"
      RUN=$CITY_DIR/$name/run
      stop_one exchange
    done
    for ((i = ${#CITY_INSTANCES[@]} - 1; i >= 0; i--)); do
      read -r name index catalog <<<"${CITY_INSTANCES[i]}"
      [ -d "$CITY_DIR/$name" ] && city_instance "$name" "$index" "$catalog" stop
    done
    return
  fi
  [ "${1:-start}" = start ] || die "unknown command '$1' for --demo=city (start|stop)"
  for entry in "${CITY_INSTANCES[@]}"; do
    read -r name index catalog <<<"$entry"
    if [ -f "$CITY_DIR/$name/run/submission.pid" ] && kill -0 "$(cat "$CITY_DIR/$name/run/submission.pid")" 2>/dev/null; then
      say "the city demo is already running: stop it first (deploy/local/run.sh --demo=city stop)"
      exit 1
    fi
  done
  FAKE_NOW=${FAKE_NOW:-2025-03-01T00:00:00+08:00}
  build
  [ -x "$BIN/exchange/halfsky-exchange" ] || die "halfsky-exchange is missing: $BIN/exchange/halfsky-exchange"
  umask 077
  mkdir -p "$CITY_DIR"
  for entry in "${CITY_INSTANCES[@]}"; do
    read -r name index catalog <<<"$entry"
    say "==> $name ($catalog)"
    city_instance "$name" "$index" "$catalog" start || die "starting $name failed"
  done
  local ctl=$BIN/halfskyctl/halfskyctl
  local jintai weibin city
  city=$(city_base_of 0)
  jintai=$(city_base_of 1)
  weibin=$(city_base_of 2)
  say "==> 金台区: the synthetic demo data and its 2024 review (deploy/demo)"
  if [ "$NO_AUTH" = 1 ]; then
    bash deploy/demo/load.sh "$ctl" "127.0.0.1:$((jintai + 1))" || die "loading Jintai's demo failed"
  else
    bash deploy/demo/load.sh "$ctl" "127.0.0.1:$((jintai + 1))" "$CITY_DIR/jintai/secrets" \
      || die "loading Jintai's demo failed"
  fi
  say "==> 渭滨区: deploy/examples/city/weibin/demo-synthetic-HEALTH.csv (no review)"
  HALFSKY_TOKEN=$([ "$NO_AUTH" = 1 ] || cat "$CITY_DIR/weibin/secrets/unit-HEALTH.token") \
    "$ctl" submit deploy/examples/city/weibin/demo-synthetic-HEALTH.csv \
    --server "127.0.0.1:$((weibin + 1))" >/dev/null || die "loading Weibin's data failed"
  say "==> the exchanges (向上级报送)"
  city_exchange city 0 deploy/examples/city/catalog
  local d base approval
  for d in "jintai 1 deploy/catalog approved" "weibin 2 deploy/examples/city/weibin/catalog complete"; do
    read -r name index catalog approval <<<"$d"
    base=$(city_base_of "$index")
    local auth=()
    if [ "$NO_AUTH" != 1 ]; then
      auth=(--aggregation_token_file "$CITY_DIR/$name/secrets/evaluation-service.token"
            --upper_token_file "$CITY_DIR/city/secrets/$name-exchange.token")
    fi
    city_exchange "$name" "$index" "$catalog" --aggregation "127.0.0.1:$((base + 2))" \
      --evaluation "127.0.0.1:$((base + 3))" --upper_submission "127.0.0.1:$((city + 1))" \
      --upper_exchange "127.0.0.1:$((city + 5))" --approval "$approval" --interval 5s \
      "${auth[@]}"
  done
  "$ctl" health --wait 30s "127.0.0.1:$((city + 5))" "127.0.0.1:$((jintai + 5))" \
    "127.0.0.1:$((weibin + 5))" || die "the exchanges do not report SERVING; see $CITY_DIR/*/log/exchange.log"
  say ""
  say "宝鸡市 city demo is up (示例数据; clock $FAKE_NOW). Each instance: $CITY_DIR/NAME (logs in log/)."
  say "  市 city     submission 127.0.0.1:$((city + 1))   console http://127.0.0.1:$((city + 10))/"
  say "  金台区      submission 127.0.0.1:$((jintai + 1))   console http://127.0.0.1:$((jintai + 10))/   exchange 127.0.0.1:$((jintai + 5))"
  say "  渭滨区      submission 127.0.0.1:$((weibin + 1))   console http://127.0.0.1:$((weibin + 10))/   exchange 127.0.0.1:$((weibin + 5))"
  say "  tokens: $CITY_DIR/NAME/secrets/*.token (e.g. statistics.token, assessment.token)"
  say "向上级报送 / reporting upward:"
  say "  HALFSKY_TOKEN=\$(cat $CITY_DIR/jintai/secrets/statistics.token) $ctl exchange status --server 127.0.0.1:$((jintai + 5))"
  say "  HALFSKY_TOKEN=\$(cat $CITY_DIR/weibin/secrets/statistics.token) $ctl exchange log --server 127.0.0.1:$((weibin + 5))"
  say "the city's report of a district, against the district's plan:"
  say "  HALFSKY_TOKEN=\$(cat $CITY_DIR/city/secrets/assessment.token) $ctl report annual --year 2024 --area 610302 --server 127.0.0.1:$((city + 3))"
  say "stop: deploy/local/run.sh --demo=city stop"
}

case ${1:-start} in
  start) cmd_start ;;
  --demo|demo) cmd_demo ;;
  --demo=city) shift; cmd_demo_city "$@" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  restart) cmd_stop; cmd_start ;;
  logs) shift; cmd_logs "$@" ;;
  -h|--help|help) sed -n '2,/^[^#]/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
  *) die "unknown command '$1' (start|stop|status|restart|logs)" ;;
esac
