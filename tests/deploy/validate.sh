#!/usr/bin/env bash
# Offline validation of halfsky's deployment files (issue 8). No cluster, no
# container engine, no network.
#
#   tests/deploy/validate.sh manifests            render + catalog list + dev ACL + schema + policy
#   tests/deploy/validate.sh dockerfile           static checks of deploy/docker/Dockerfile
#   tests/deploy/validate.sh runtime-libs BIN...  runtime-packages.txt covers `ldd BIN`
#   tests/deploy/validate.sh flags BIN...         the manifests pass only flags BIN defines
#   tests/deploy/validate.sh smoke SUBMISSION_BIN boot it as the dev pod would (and fail on a bad catalog)
#   tests/deploy/validate.sh smoke-web WEB_BIN    boot halfsky-web as the dev pod would
#   tests/deploy/validate.sh smoke-exchange BIN   boot halfsky-exchange as a dev district's pod would
#   tests/deploy/validate.sh negative             every check above fails on a broken copy
#   tests/deploy/validate.sh all [BIN...]         all of the above
#
# Renders base, overlays/dev, overlays/prod, overlays/prod-managed-redis,
# overlays/prod-managed-redis-tls and overlays/prod-exchange (and "plaintext-ha": base + components aggregation-standby and
# sentinel-redis without TLS, so that the gRPC probes TLS replaces are
# checked too; and "city-exchange": prod + components exchange and exchange-tls,
# a city's exchange) with the pinned `kubectl kustomize` (or `$KUSTOMIZE build`), then
#   * k8s_schema_check.js  (node + npm `kubernetes-models`, offline, strict)
#   * k8s_policy_check.py  (python3 + PyYAML)
# Tools: the pinned kubectl and node with tests/deploy's npm packages (both
# installed by halfsky_install_deploy_tools in deploy/local/deps.sh), python3 with PyYAML, ldd and dpkg-query. A missing tool makes the
# run exit 77 (ctest: skipped), or fail when HALFSKY_REQUIRE_DEPLOY_TOOLS=1,
# as CI sets it. Rendered manifests are left in $HALFSKY_DEPLOY_OUT (default:
# a temporary directory) for inspection.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=${HALFSKY_REPO:-$(cd "$here/../.." && pwd)}
SKIP=77

die() { echo "validate.sh: $*" >&2; exit 1; }
missing_tool() {
  echo "validate.sh: $*" >&2
  if [[ ${HALFSKY_REQUIRE_DEPLOY_TOOLS:-0} == 1 ]]; then
    exit 1
  fi
  exit "$SKIP"
}

# ------------------------------------------------------------------ tools --
# The renderer is the pinned kubectl that tests/run.sh installs
# (deploy/local/deps.sh: halfsky_install_deploy_tools; HALFSKY_KUBECTL, or
# its place under node_modules), or a `kustomize` named by KUSTOMIZE. A
# kubectl or kustomize that happens to be on PATH is never used: its
# version would decide what the checks accept.
renderer() {
  local kubectl=${HALFSKY_KUBECTL:-$here/node_modules/.halfsky-bin/kubectl}
  if [[ -n ${KUSTOMIZE:-} ]]; then
    echo "$KUSTOMIZE build"
  elif [[ -x $kubectl ]]; then
    echo "$kubectl kustomize"
  else
    return 1
  fi
}

python_with_yaml() {
  local p
  for p in ${PYTHON:-} python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import yaml' 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

need_manifest_tools() {
  RENDER=$(renderer) || missing_tool "no kustomize renderer: the pinned kubectl is not installed (tests/run.sh installs it; or: source deploy/local/deps.sh && halfsky_install_deploy_tools; or set KUSTOMIZE)"
  command -v node >/dev/null || missing_tool "node not found (Debian: nodejs)"
  [[ -d $here/node_modules/kubernetes-models ]] ||
    missing_tool "npm packages missing: run \`npm ci --prefix tests/deploy\`"
  PY=$(python_with_yaml) || missing_tool "python3 with PyYAML not found (Debian: python3-yaml)"
}

# ----------------------------------------------------------------- checks --

# The catalog ConfigMap (deploy/catalog/kustomization.yaml) lists
# deploy/catalog/*.textproto by name (kustomize has no globs): the list and
# the directory must agree. Every variant renders with the renderer's
# defaults (no --load-restrictor), as `kubectl apply -k` and GitOps tools do.
check_catalog_list() {
  local root=$1 listed present
  listed=$(sed -n 's#^ *- \([^ /]*\.textproto\) *$#\1#p' \
             "$root/deploy/catalog/kustomization.yaml" | sort)
  present=$(cd "$root/deploy/catalog" && ls -1 -- *.textproto 2>/dev/null | sort || true)
  if [[ -z $present ]]; then
    echo "CATALOG deploy/catalog has no *.textproto" >&2
    return 1
  fi
  if [[ $listed != "$present" ]]; then
    echo "CATALOG deploy/catalog/kustomization.yaml (halfsky-catalog) lists:" >&2
    echo "${listed:-  (nothing)}" | sed 's/^/    /' >&2
    echo "  but deploy/catalog holds:" >&2
    echo "$present" | sed 's/^/    /' >&2
    return 1
  fi
  echo "catalog list: $(echo "$present" | wc -l) files, in sync"
}

# The dev overlay's ACL file is deploy/redis/users.acl.in with the dev
# passwords of overlays/dev/kustomization.yaml filled in; a user rule added
# to the template (e.g. +watch for the writer) must reach it too.
check_dev_acl() {
  local root=$1 k pw args=()
  k=$root/deploy/k8s/overlays/dev/kustomization.yaml
  for pw in writer reader admin; do
    local v
    v=$(sed -n "s/^ *- $pw-password=\([^ ]*\) *\$/\1/p" "$k")
    [[ -n $v ]] || { echo "ACL dev overlay: no $pw-password literal" >&2; return 1; }
    args+=(-e "s/@${pw^^}_PASSWORD@/$v/")
  done
  if ! diff <(sed "${args[@]}" "$root/deploy/redis/users.acl.in") \
      "$root/deploy/k8s/overlays/dev/dev-users.acl" >&2; then
    echo "ACL deploy/k8s/overlays/dev/dev-users.acl is not deploy/redis/users.acl.in with the dev passwords" >&2
    return 1
  fi
  echo "dev ACL: in sync with deploy/redis/users.acl.in"
}

# render ROOT VARIANT_DIR OUT.yaml
render() {
  local dir=$1 out=$2
  if ! $RENDER "$dir" >"$out" 2>"$out.err"; then
    echo "RENDER $dir failed:" >&2
    cat "$out.err" >&2
    return 1
  fi
  echo "rendered $(grep -c '^kind:' "$out") objects from ${dir#"$repo"/}"
}

# The variants every run renders, relative to deploy/k8s.
variants() {
  echo base overlays/dev overlays/prod overlays/prod-managed-redis overlays/prod-managed-redis-tls \
    overlays/prod-exchange
}

# plaintext_ha_overlay ROOT DIR [JSON6902 PATCH of Deployment aggregation]:
# writes DIR/kustomization.yaml = base + components aggregation-standby and
# sentinel-redis, without components/tls. prod has TLS, which turns every
# probe into TCP; this variant checks the probes as they are without it
# (aggregation's readiness on the leader-only health service). Paths are
# relative: kustomize refuses absolute ones.
plaintext_ha_overlay() {
  local root=$1 dir=$2 patch=${3:-} k
  mkdir -p "$dir"
  k=$(realpath --relative-to="$dir" "$root/deploy/k8s")
  cat >"$dir/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- $k/base
components:
- $k/components/aggregation-standby
- $k/components/sentinel-redis
replicas:
- name: aggregation
  count: 2
- name: redis
  count: 3
EOF
  if [[ -n $patch ]]; then
    cat >>"$dir/kustomization.yaml" <<EOF
patches:
- target:
    kind: Deployment
    name: aggregation
  patch: |-
$(sed 's/^/    /' <<<"$patch")
EOF
  fi
  echo "$dir"
}

# city_exchange_overlay ROOT DIR [COMPONENT...]: writes DIR/kustomization.yaml
# = overlays/prod + the given exchange components (default: what a CITY
# lists, exchange and exchange-tls: it reports nowhere and keeps its
# districts' reports), so that the city's form is checked on every run too.
city_exchange_overlay() {
  local root=$1 dir=$2 k c
  shift 2
  [[ $# -gt 0 ]] || set -- exchange exchange-tls
  mkdir -p "$dir"
  k=$(realpath --relative-to="$dir" "$root/deploy/k8s")
  {
    printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: halfsky\n'
    printf 'resources:\n- %s/overlays/prod\ncomponents:\n' "$k"
    for c in "$@"; do printf -- '- %s/components/%s\n' "$k" "$c"; done
    if [[ " $* " == *" exchange-upward "* ]]; then
      printf 'configMapGenerator:\n- name: halfsky-exchange-upper\n  literals:\n'
      printf '  - UPPER_SUBMISSION_ADDR=halfsky.city.example:7301\n  - UPPER_EXCHANGE_ADDR=halfsky.city.example:7305\n'
    fi
  } >"$dir/kustomization.yaml"
  echo "$dir"
}

# check_manifests ROOT OUTDIR: every check on the tree at ROOT.
check_manifests() {
  local root=$1 out=$2 failed=0 v name files=()
  check_catalog_list "$root" || failed=1
  check_dev_acl "$root" || failed=1
  for v in $(variants); do
    name=$(basename "$v")
    if render "$root/deploy/k8s/$v" "$out/$name.yaml"; then
      files+=("$out/$name.yaml")
    else
      failed=1
    fi
  done
  if render "$(plaintext_ha_overlay "$root" "$out/plaintext-ha.d")" "$out/plaintext-ha.yaml"; then
    files+=("$out/plaintext-ha.yaml")
  else
    failed=1
  fi
  if render "$(city_exchange_overlay "$root" "$out/city-exchange.d")" "$out/city-exchange.yaml"; then
    files+=("$out/city-exchange.yaml")
  else
    failed=1
  fi
  if [[ ${#files[@]} -gt 0 ]]; then
    node "$here/k8s_schema_check.js" "${files[@]}" || failed=1
    local f
    for f in "${files[@]}"; do
      echo -n "$(basename "$f"): "
      "$PY" "$here/k8s_policy_check.py" "$f" || failed=1
    done
  fi
  return "$failed"
}

check_dockerfile() {
  local df=${1:-$repo/deploy/docker/Dockerfile} failed=0
  [[ -r $df ]] || die "no $df"
  grep -Eq '^ARG RUNTIME_IMAGE=debian:12-slim$' "$df" && grep -Eq '^FROM \$\{RUNTIME_IMAGE\} AS runtime' "$df" ||
    { echo "DOCKERFILE runtime stage must be FROM debian:12-slim" >&2; failed=1; }
  grep -Eq '^ARG DEBIAN_IMAGE=debian:12$' "$df" ||
    { echo "DOCKERFILE build stage must be Debian 12" >&2; failed=1; }
  grep -q 'runtime-packages.txt' "$df" ||
    { echo "DOCKERFILE runtime stage must install deploy/docker/runtime-packages.txt" >&2; failed=1; }
  if grep -E '^(ENTRYPOINT|CMD) ' "$df" | grep -Ev '^(ENTRYPOINT|CMD) \[' >/dev/null; then
    echo "DOCKERFILE ENTRYPOINT/CMD must be exec form" >&2; failed=1
  fi
  local user
  user=$(grep -E '^USER ' "$df" | tail -n 1 | awk '{print $2}')
  if [[ ! $user =~ ^[1-9][0-9]*(:[0-9]+)?$ ]]; then
    echo "DOCKERFILE last USER must be a numeric non-root UID (got '${user:-none}')" >&2; failed=1
  fi
  local target
  for target in submission aggregation evaluation web exchange halfskyctl redis-tunnel; do
    grep -Eq "^FROM runtime AS $target\$" "$df" ||
      { echo "DOCKERFILE no target $target built on the runtime stage" >&2; failed=1; }
  done
  [[ $failed -eq 0 ]] && echo "dockerfile: ok"
  return "$failed"
}

check_runtime_libs() {
  [[ $# -gt 0 ]] || die "runtime-libs needs at least one binary"
  command -v ldd >/dev/null && command -v dpkg-query >/dev/null ||
    missing_tool "ldd/dpkg-query not found"
  bash "$here/runtime_libs_check.sh" "$repo/deploy/docker/runtime-packages.txt" "$@"
}

# Every --flag the dev/prod manifests pass to a halfsky container must be
# defined by the built binary of that image (BIN's file name = image name).
check_flags() {
  [[ $# -gt 0 ]] || die "flags needs at least one binary"
  local out v args=() b
  out=$(mktemp -d)
  for v in overlays/dev overlays/prod overlays/prod-managed-redis overlays/prod-managed-redis-tls \
      overlays/prod-exchange; do
    render "$repo/deploy/k8s/$v" "$out/$(basename "$v").yaml" || { rm -rf "$out"; return 1; }
    args+=("$out/$(basename "$v").yaml")
  done
  for b in "$@"; do
    # Only the services run from the manifests (halfskyctl has no absl flags).
    [[ $(basename "$b") == halfsky-* ]] && args+=(--binary "$(basename "$b")=$b")
  done
  local rc=0
  "$PY" "$here/k8s_flags_check.py" "${args[@]}" || rc=$?
  rm -rf "$out"
  return "$rc"
}

# Boots the submission binary with the dev pod's args, catalog ConfigMap and
# token Secret (k8s_smoke.py), then checks that a corrupted catalog in the
# same manifests makes the same boot fail.
check_smoke() {
  [[ $# -eq 1 ]] || die "smoke needs the halfsky-submission binary"
  local bin=$1 out rc=0
  out=$(mktemp -d)
  render "$repo/deploy/k8s/overlays/dev" "$out/dev.yaml" || { rm -rf "$out"; return 1; }
  "$PY" "$here/k8s_smoke.py" "$out/dev.yaml" StatefulSet/submission "$bin" || rc=1
  # A catalog the loader must reject: an unknown top-level field.
  sed 's/^\(    \)member_units {/\1no_such_field_in_the_catalog {/' "$out/dev.yaml" >"$out/broken.yaml"
  if cmp -s "$out/dev.yaml" "$out/broken.yaml"; then
    echo "SMOKE could not corrupt the catalog for the negative case" >&2
    rc=1
  elif "$PY" "$here/k8s_smoke.py" "$out/broken.yaml" StatefulSet/submission "$bin" >"$out/neg.log" 2>&1; then
    echo "SMOKE NEGATIVE FAILED: submission started with a corrupted catalog" >&2
    rc=1
  else
    echo "negative ok: smoke: submission refuses a corrupted catalog ConfigMap"
  fi
  rm -rf "$out"
  return "$rc"
}

# Boots halfsky-web with the dev pod's args and catalog ConfigMap (its
# upstreams connect lazily, so it starts alone) and stops it with SIGTERM.
check_smoke_web() {
  [[ $# -eq 1 ]] || die "smoke-web needs the halfsky-web binary"
  local bin=$1 out rc=0
  out=$(mktemp -d)
  render "$repo/deploy/k8s/overlays/dev" "$out/dev.yaml" || { rm -rf "$out"; return 1; }
  "$PY" "$here/k8s_smoke.py" "$out/dev.yaml" Deployment/web "$bin" || rc=1
  rm -rf "$out"
  return "$rc"
}

# Boots halfsky-exchange as a dev DISTRICT's pod would (overlays/dev +
# components/exchange + exchange-upward, in a copy of the tree, with dev
# values for the city's addresses and the area token): it must reach
# SERVING with its log on the PVC though the city is not there (it retries),
# and stop on SIGTERM. Then the same pod without the area token Secret's
# file must refuse to start.
check_smoke_exchange() {
  [[ $# -eq 1 ]] || die "smoke-exchange needs the halfsky-exchange binary"
  local bin=$1 out rc=0 d
  out=$(mktemp -d)
  copy_tree "$out/tree"
  d=$out/tree/deploy/k8s/overlays/dev-exchange
  mkdir -p "$d"
  cat >"$d/kustomization.yaml" <<'EOF2'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: halfsky-dev
resources:
- ../dev
components:
- ../../components/exchange
- ../../components/exchange-upward
configMapGenerator:
- name: halfsky-exchange-upper
  literals:
  - UPPER_SUBMISSION_ADDR=127.0.0.1:1
  - UPPER_EXCHANGE_ADDR=127.0.0.1:1
secretGenerator:
- name: halfsky-service-tokens
  behavior: merge
  literals:
  - exchange=dev-exchange-token
- name: halfsky-exchange-upper
  literals:
  - token=dev-city-area-token
EOF2
  render "$d" "$out/dev-exchange.yaml" || { rm -rf "$out"; return 1; }
  "$PY" "$here/k8s_smoke.py" "$out/dev-exchange.yaml" StatefulSet/exchange "$bin" || rc=1
  sed 's#--upper_token_file=/etc/halfsky/upper/token#--upper_token_file=/etc/halfsky/upper/missing#' \
    "$out/dev-exchange.yaml" >"$out/broken.yaml"
  if cmp -s "$out/dev-exchange.yaml" "$out/broken.yaml"; then
    echo "SMOKE could not break the exchange's token path for the negative case" >&2
    rc=1
  elif "$PY" "$here/k8s_smoke.py" "$out/broken.yaml" StatefulSet/exchange "$bin" >"$out/neg.log" 2>&1; then
    echo "SMOKE NEGATIVE FAILED: the exchange started without its area token file" >&2
    rc=1
  else
    echo "negative ok: smoke: the exchange refuses a missing --upper_token_file" \
      "($(grep -m1 -o 'halfsky-exchange: .*' "$out/neg.log" | cut -c1-100))"
  fi
  rm -rf "$out"
  return "$rc"
}

# --------------------------------------------------------------- negative --

# expect_failure WHAT COMMAND...: the command must exit 1 (a finding), not
# succeed and not fail for a setup reason.
neg_failures=0
expect_failure() {
  local what=$1 rc=0
  shift
  "$@" >"$neg_tmp/last.log" 2>&1 || rc=$?
  if [[ $rc -eq 1 ]]; then
    echo "negative ok: $what ($(grep -m1 -E '^(INVALID|POLICY|CATALOG|ACL|RENDER|UNLISTED|DOCKERFILE|FLAGS)' "$neg_tmp/last.log" | cut -c1-110))"
  else
    echo "NEGATIVE FAILED: $what: expected exit 1, got $rc" >&2
    sed 's/^/    /' "$neg_tmp/last.log" >&2
    neg_failures=$((neg_failures + 1))
  fi
}

# broken_overlay ROOT NAME KIND TARGET PATCH [BASE]: overlays/NAME = BASE
# (an overlay, default prod) + a JSON 6902 patch of KIND/TARGET.
broken_overlay() {
  local root=$1 name=$2 kind=$3 target=$4 patch=$5 base=${6:-prod} dir
  dir=$root/deploy/k8s/overlays/$name
  mkdir -p "$dir"
  cat >"$dir/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../$base
patches:
- target:
    kind: $kind
    name: $target
  patch: |-
$(sed 's/^/    /' <<<"$patch")
EOF
  echo "$dir"
}

# render_then CHECK DIR: render DIR and run one check on it.
render_then() {
  local check=$1 dir=$2 out
  out=$neg_tmp/$(basename "$dir").yaml
  # A broken overlay that does not even render proves nothing about CHECK.
  render "$dir" "$out" >/dev/null || return 3
  case $check in
    schema) node "$here/k8s_schema_check.js" "$out" ;;
    policy) "$PY" "$here/k8s_policy_check.py" "$out" ;;
  esac
}

# A copy of the files the checks read, to break without touching the tree.
copy_tree() {
  local dst=$1
  mkdir -p "$dst/deploy"
  cp -r "$repo/deploy/k8s" "$repo/deploy/catalog" "$repo/deploy/docker" "$repo/deploy/redis" "$dst/deploy/"
}

check_negative() {
  neg_tmp=$(mktemp -d)
  trap 'rm -rf "$neg_tmp"' RETURN
  local root=$neg_tmp/tree d
  copy_tree "$root"

  # Baseline: the unbroken copy passes, so each failure below is the breakage's.
  if ! check_manifests "$root" "$neg_tmp" >"$neg_tmp/baseline.log" 2>&1; then
    echo "validate.sh negative: the unbroken manifests already fail; fix them first:" >&2
    sed 's/^/    /' "$neg_tmp/baseline.log" >&2
    return 1
  fi

  d=$(broken_overlay "$root" neg-no-limits Deployment submission \
        '- op: remove
  path: /spec/template/spec/containers/0/resources/limits')
  expect_failure "policy: submission without resource limits" render_then policy "$d"

  d=$(broken_overlay "$root" neg-sqlite-replicas Deployment submission \
        '- op: replace
  path: /spec/template/spec/containers/0/args/4
  value: --db=/var/lib/halfsky/submission.db')
  expect_failure "policy: three submission replicas on SQLite" render_then policy "$d"

  d=$(broken_overlay "$root" neg-password-in-store Deployment submission \
        '- op: replace
  path: /spec/template/spec/containers/0/args/4
  value: --store=postgres:postgresql://halfsky:secret@db:5432/halfsky')
  expect_failure "policy: a password in --store" render_then policy "$d"

  d=$(broken_overlay "$root" neg-no-readiness Deployment aggregation \
        '- op: remove
  path: /spec/template/spec/containers/0/readinessProbe')
  expect_failure "policy: aggregation without readinessProbe" render_then policy "$d"

  d=$(broken_overlay "$root" neg-privilege-escalation StatefulSet evaluation \
        '- op: replace
  path: /spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation
  value: true')
  expect_failure "policy: evaluation allowing privilege escalation" render_then policy "$d"

  # prod runs 2 aggregation replicas that elect a leader; args/12 is
  # --leader_election (the `test` makes a shifted index fail to render).
  d=$(broken_overlay "$root" neg-two-aggregators Deployment aggregation \
        '- op: test
  path: /spec/template/spec/containers/0/args/12
  value: --leader_election=postgres:sslmode=require connect_timeout=10
- op: remove
  path: /spec/template/spec/containers/0/args/12')
  expect_failure "policy: two aggregation replicas without leader election" render_then policy "$d"

  d=$(broken_overlay "$root" neg-election-password Deployment aggregation \
        '- op: test
  path: /spec/template/spec/containers/0/args/12
  value: --leader_election=postgres:sslmode=require connect_timeout=10
- op: replace
  path: /spec/template/spec/containers/0/args/12
  value: --leader_election=postgres:sslmode=require password=secret')
  expect_failure "policy: a password in --leader_election" render_then policy "$d"

  d=$(broken_overlay "$root" neg-standby-liveness Deployment aggregation \
        '- op: replace
  path: /spec/template/spec/containers/0/livenessProbe
  value: {grpc: {port: 7302, service: halfsky.v1.AggregationService}, periodSeconds: 10}')
  expect_failure "policy: liveness on the leader-only health service" render_then policy "$d"

  # prod (TLS): readiness through the plaintext metrics port.
  d=$(broken_overlay "$root" neg-standby-tcp-ready Deployment aggregation \
        '- op: replace
  path: /spec/template/spec/containers/0/readinessProbe
  value: {tcpSocket: {port: grpc}, periodSeconds: 5}')
  expect_failure "policy: a TCP readiness probe that makes the standby Ready" render_then policy "$d"

  d=$(broken_overlay "$root" neg-standby-http-ready Deployment aggregation \
        '- op: replace
  path: /spec/template/spec/containers/0/readinessProbe/httpGet/path
  value: /healthz')
  expect_failure "policy: an HTTP readiness probe on the overall status (the standby Ready)" render_then policy "$d"

  d=$(broken_overlay "$root" neg-http-probe-grpc-port Deployment submission \
        '- op: replace
  path: /spec/template/spec/containers/0/readinessProbe/httpGet/port
  value: grpc')
  expect_failure "policy: an HTTP probe on the gRPC port" render_then policy "$d"

  d=$(broken_overlay "$root" neg-standby-rollout Deployment aggregation \
        '- op: replace
  path: /spec/strategy/rollingUpdate/maxUnavailable
  value: 1')
  expect_failure "policy: a rollout that waits for a second Ready aggregation" render_then policy "$d"

  # prod's Redis is a Sentinel set; aggregation's args/6 is --redis.
  d=$(broken_overlay "$root" neg-sentinel-flags-plain-redis Deployment aggregation \
        '- op: test
  path: /spec/template/spec/containers/0/args/6
  value: --redis=$(REDIS_ADDR)
- op: replace
  path: /spec/template/spec/containers/0/args/6
  value: --redis=redis-0.redis-headless:6379')
  expect_failure "policy: sentinel flags with a plain Redis address" render_then policy "$d"

  d=$(broken_overlay "$root" neg-one-sentinel Deployment aggregation \
        '- op: test
  path: /spec/template/spec/containers/0/args/6
  value: --redis=$(REDIS_ADDR)
- op: replace
  path: /spec/template/spec/containers/0/args/6
  value: --redis=sentinel://redis-sentinel-0.redis-sentinel:26379/halfsky')
  expect_failure "policy: a sentinel address with one sentinel" render_then policy "$d"

  d=$(broken_overlay "$root" neg-sentinel-set-of-one StatefulSet redis-sentinel \
        '- op: replace
  path: /spec/replicas
  value: 1')
  expect_failure "policy: three Redis servers and one sentinel" render_then policy "$d"

  d=$(broken_overlay "$root" neg-sentinel-root StatefulSet redis-sentinel \
        '- op: replace
  path: /spec/template/spec/containers/0/securityContext/runAsUser
  value: 0')
  expect_failure "policy: a sentinel running as root" render_then policy "$d"

  # Redis over TLS (prod-managed-redis-tls): the tunnel must verify the
  # server, listen on loopback only, and carry every Redis client's traffic.
  local conf=$root/deploy/k8s/components/redis-tls/stunnel.conf tls_overlay
  tls_overlay=$root/deploy/k8s/overlays/prod-managed-redis-tls
  cp "$conf" "$neg_tmp/stunnel.conf"
  sed -i 's/^verifyChain = yes$/verifyChain = no/' "$conf"
  expect_failure "policy: a Redis TLS tunnel that does not verify the chain (verifyChain = no)" \
    render_then policy "$tls_overlay"
  cp "$neg_tmp/stunnel.conf" "$conf"
  sed -i '/^checkHost = /d' "$conf"
  expect_failure "policy: a Redis TLS tunnel that checks no name (no checkHost)" \
    render_then policy "$tls_overlay"
  cp "$neg_tmp/stunnel.conf" "$conf"
  sed -i 's/^accept = 127.0.0.1:6380$/accept = 0.0.0.0:6380/' "$conf"
  expect_failure "policy: a Redis TLS tunnel whose plaintext side listens beyond loopback" \
    render_then policy "$tls_overlay"
  cp "$neg_tmp/stunnel.conf" "$conf"

  # evaluation's args/7 is --redis, args/16 --redis_sentinel_password_file
  # (both set as Sentinel wants them, so that only the tunnel is wrong).
  d=$(broken_overlay "$root" neg-tunnel-sentinel StatefulSet evaluation \
        '- op: test
  path: /spec/template/spec/containers/0/args/7
  value: --redis=$(REDIS_ADDR)
- op: replace
  path: /spec/template/spec/containers/0/args/7
  value: --redis=sentinel://redis-sentinel-0.redis-sentinel:26379,redis-sentinel-1.redis-sentinel:26379,redis-sentinel-2.redis-sentinel:26379/halfsky
- op: test
  path: /spec/template/spec/containers/0/args/16
  value: --redis_sentinel_password_file=$(REDIS_SENTINEL_PASSWORD_FILE)
- op: replace
  path: /spec/template/spec/containers/0/args/16
  value: --redis_sentinel_password_file=/etc/halfsky/redis-sentinel/client-password' \
        prod-managed-redis-tls)
  expect_failure "policy: a Redis TLS tunnel with a sentinel:// address" render_then policy "$d"

  d=$(broken_overlay "$root" neg-tunnel-missing Deployment aggregation \
        '- op: test
  path: /spec/template/spec/initContainers/0/name
  value: redis-tunnel
- op: remove
  path: /spec/template/spec/initContainers' \
        prod-managed-redis-tls)
  expect_failure "policy: --redis_tls_tunnel without a tunnel in the pod" render_then policy "$d"

  d=$(plaintext_ha_overlay "$root" "$neg_tmp/neg-standby-ready" \
        '- op: replace
  path: /spec/template/spec/containers/0/readinessProbe
  value: {grpc: {port: 7302}, periodSeconds: 5}')
  expect_failure "policy: a standby that is Ready (readiness on the overall status)" render_then policy "$d"

  d=$(broken_overlay "$root" neg-hpa-on-primary HorizontalPodAutoscaler evaluation-replica \
        '- op: replace
  path: /spec/scaleTargetRef
  value: {apiVersion: apps/v1, kind: StatefulSet, name: evaluation}')
  expect_failure "policy: an HPA on the evaluation primary" render_then policy "$d"

  d=$(broken_overlay "$root" neg-replica-follows-replicas Deployment evaluation-replica \
        '- op: replace
  path: /spec/template/spec/containers/0/args/4
  value: --follow=evaluation:7303')
  expect_failure "policy: a read replica following the replicas' Service" render_then policy "$d"

  d=$(broken_overlay "$root" neg-clients-to-primary Service evaluation \
        '- op: replace
  path: /spec/selector/app.kubernetes.io~1name
  value: evaluation')
  expect_failure "policy: clients routed to the evaluation primary" render_then policy "$d"

  # The web console (base/web.yaml, prod's networkpolicies.yaml).
  d=$(broken_overlay "$root" neg-web-no-evaluation-egress NetworkPolicy web-egress \
        '- op: test
  path: /spec/egress/2/to/0/podSelector/matchLabels/app.kubernetes.io~1name
  value: evaluation-replica
- op: remove
  path: /spec/egress/2')
  expect_failure "policy: the web console cannot reach evaluation (NetworkPolicy)" render_then policy "$d"

  d=$(broken_overlay "$root" neg-web-closed NetworkPolicy web-http-ingress \
        '- op: replace
  path: /spec/ingress/0/ports/0/port
  value: 7304')
  expect_failure "policy: browsers cannot reach the web console's port" render_then policy "$d"

  # prod (TLS): args/11 of web is --upstream_tls_ca.
  d=$(broken_overlay "$root" neg-web-plaintext-upstream Deployment web \
        '- op: test
  path: /spec/template/spec/containers/0/args/11
  value: --upstream_tls_ca=/etc/halfsky/tls/ca.crt
- op: remove
  path: /spec/template/spec/containers/0/args/11')
  expect_failure "policy: the web console on TLS calling upstream in plaintext" render_then policy "$d"

  d=$(broken_overlay "$root" neg-web-replicas Deployment web \
        '- op: replace
  path: /spec/replicas
  value: 2')
  expect_failure "policy: two web consoles with sessions in memory" render_then policy "$d"

  d=$(broken_overlay "$root" neg-web-unknown-upstream Deployment web \
        '- op: test
  path: /spec/template/spec/containers/0/args/6
  value: --evaluation=$(EVALUATION_ADDR)
- op: replace
  path: /spec/template/spec/containers/0/args/6
  value: --evaluation=evaluation:7309')
  expect_failure "policy: the web console calling a port its Service lacks" render_then policy "$d"

  # The exchange (overlays/prod-exchange): a district's way out to its city,
  # and its log on the PVC (args/4 is --database).
  d=$(broken_overlay "$root" neg-exchange-no-way-out NetworkPolicy exchange-upper-egress \
        '- op: test
  path: /spec/egress/0/to/0/ipBlock/cidr
  value: 0.0.0.0/0
- op: replace
  path: /spec/egress/0/to/0
  value: {podSelector: {}}' \
        prod-exchange)
  expect_failure "policy: a district exchange that cannot leave the cluster for its city" render_then policy "$d"

  d=$(broken_overlay "$root" neg-exchange-log-in-tmp StatefulSet exchange \
        '- op: test
  path: /spec/template/spec/containers/0/args/4
  value: --database=/var/lib/halfsky/exchange.db
- op: replace
  path: /spec/template/spec/containers/0/args/4
  value: --database=/tmp/exchange.db' \
        prod-exchange)
  expect_failure "policy: the exchange log on an emptyDir" render_then policy "$d"

  d=$(city_exchange_overlay "$root" "$neg_tmp/neg-exchange-plaintext" exchange exchange-upward)
  expect_failure "policy: a plaintext exchange in a TLS instance (no exchange-tls)" render_then policy "$d"

  d=$(broken_overlay "$root" neg-short-grace Deployment submission \
        '- op: replace
  path: /spec/template/spec/terminationGracePeriodSeconds
  value: 10')
  expect_failure "policy: grace period shorter than --grace_period" render_then policy "$d"

  d=$(broken_overlay "$root" neg-typo Deployment submission \
        '- op: add
  path: /spec/template/spec/containers/0/livenesProbe
  value: {tcpSocket: {port: 7301}}')
  expect_failure "schema: unknown field livenesProbe" render_then schema "$d"

  d=$(broken_overlay "$root" neg-type StatefulSet evaluation \
        '- op: replace
  path: /spec/template/spec/containers/0/ports/0/containerPort
  value: "seven-three-zero-three"')
  expect_failure "schema: containerPort of the wrong type" render_then schema "$d"

  d=$root/deploy/k8s/overlays/neg-missing-patch
  mkdir -p "$d"
  printf 'resources:\n- ../prod\npatches:\n- path: does-not-exist.yaml\n' >"$d/kustomization.yaml"
  expect_failure "render: overlay naming a missing patch" render "$d" "$neg_tmp/missing.yaml"

  # The renderer keeps kustomize's load restrictor: a file from outside the
  # kustomization root fails to render, as `kubectl apply -k` would.
  d=$root/deploy/k8s/overlays/neg-outside-root
  mkdir -p "$d"
  printf 'resources:\n- ../prod\nconfigMapGenerator:\n- name: outside\n  files:\n  - ../../../catalog/areas.textproto\n' >"$d/kustomization.yaml"
  expect_failure "render: a file loaded from outside the kustomization root" render "$d" "$neg_tmp/outside.yaml"

  cp "$root/deploy/k8s/overlays/dev/dev-users.acl" "$neg_tmp/dev-users.acl"
  sed -i 's/ +watch//' "$root/deploy/k8s/overlays/dev/dev-users.acl"
  expect_failure "acl: a dev ACL file behind deploy/redis/users.acl.in" check_dev_acl "$root"
  cp "$neg_tmp/dev-users.acl" "$root/deploy/k8s/overlays/dev/dev-users.acl"

  echo '# not listed in the kustomization' >"$root/deploy/catalog/zz_unlisted.textproto"
  expect_failure "catalog: a catalog file the ConfigMap does not list" check_catalog_list "$root"
  rm -f "$root/deploy/catalog/zz_unlisted.textproto"

  sed -i 's/^USER .*/USER root/' "$root/deploy/docker/Dockerfile"
  expect_failure "dockerfile: runtime user root" check_dockerfile "$root/deploy/docker/Dockerfile"

  # A stand-in binary whose --helpfull (absl's format) lacks --db and others.
  mkdir -p "$neg_tmp/bin"
  cat >"$neg_tmp/bin/halfsky-submission" <<'EOF'
#!/bin/sh
printf '  Flags from common/server/server.cc:\n    --listen (gRPC listen address); default: "127.0.0.1:0";\n'
exit 1
EOF
  chmod +x "$neg_tmp/bin/halfsky-submission"
  expect_failure "flags: a flag the binary does not define" check_flags "$neg_tmp/bin/halfsky-submission"

  # The exchange's flags are checked too (a stand-in without --upper_submission).
  cat >"$neg_tmp/bin/halfsky-exchange" <<'EOF2'
#!/bin/sh
printf '  Flags from common/server/server.cc:\n    --listen (gRPC listen address); default: "127.0.0.1:0";\n'
exit 1
EOF2
  chmod +x "$neg_tmp/bin/halfsky-exchange"
  expect_failure "flags: an exchange flag the binary does not define" check_flags "$neg_tmp/bin/halfsky-exchange"

  : >"$neg_tmp/empty-packages.txt"
  expect_failure "runtime-libs: a package list missing libc6" \
    bash "$here/runtime_libs_check.sh" "$neg_tmp/empty-packages.txt" "$(command -v ls)"

  if [[ $neg_failures -gt 0 ]]; then
    echo "validate.sh negative: $neg_failures broken inputs were NOT caught" >&2
    return 1
  fi
  echo "validate.sh negative: every broken input was caught"
}

# ------------------------------------------------------------------- main --
cmd=${1:-all}
shift || true
case $cmd in
  manifests)
    need_manifest_tools
    out=${HALFSKY_DEPLOY_OUT:-$(mktemp -d)}
    mkdir -p "$out"
    echo "renderer: $RENDER; output: $out"
    check_manifests "$repo" "$out"
    ;;
  dockerfile)
    check_dockerfile
    ;;
  runtime-libs)
    check_runtime_libs "$@"
    ;;
  flags)
    need_manifest_tools
    check_flags "$@"
    ;;
  smoke)
    need_manifest_tools
    check_smoke "$@"
    ;;
  smoke-web)
    need_manifest_tools
    check_smoke_web "$@"
    ;;
  smoke-exchange)
    need_manifest_tools
    check_smoke_exchange "$@"
    ;;
  negative)
    need_manifest_tools
    check_negative
    ;;
  all)
    need_manifest_tools
    out=${HALFSKY_DEPLOY_OUT:-$(mktemp -d)}
    mkdir -p "$out"
    rc=0
    check_manifests "$repo" "$out" || rc=1
    check_dockerfile || rc=1
    if [[ $# -gt 0 ]]; then
      check_runtime_libs "$@" || rc=1
      check_flags "$@" || rc=1
    fi
    check_negative || rc=1
    exit "$rc"
    ;;
  *)
    sed -n '2,12p' "$0" >&2
    exit 2
    ;;
esac
