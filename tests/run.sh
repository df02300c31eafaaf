#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (ctest: unit,
# integration and deploy labels). Exits non-zero on any failure.
#
#   tests/run.sh              everything
#   tests/run.sh -L unit      only one label (extra args go to ctest)
#
# Integration tests start what they need themselves — a throw-away
# redis-server per fixture on a free loopback port, the services as child
# processes on ports chosen at run time — and stop it when they finish.
# At the end it says how long the install, the build and the tests took
# (the first run on a fresh 2-core machine: about 20 minutes in all).
set -euo pipefail
HALFSKY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$HALFSKY_ROOT"
# shellcheck source=../deploy/local/deps.sh
source deploy/local/deps.sh

# How long each step took, printed whatever the outcome.
step_names=()
step_seconds=()
step_started=$SECONDS
step_done() {
  step_names+=("$1")
  step_seconds+=($((SECONDS - step_started)))
  step_started=$SECONDS
}
print_times() {
  local rc=$? i line=""
  [ ${#step_names[@]} -gt 0 ] || return 0
  for i in "${!step_names[@]}"; do
    line+="${line:+, }${step_names[i]} $((step_seconds[i] / 60))m$((step_seconds[i] % 60))s"
  done
  echo "==> 用时 / time taken: $line (total $((SECONDS / 60))m$((SECONDS % 60))s)$([ "$rc" -eq 0 ] || echo ", failed: exit $rc")"
}
trap print_times EXIT

# Every program below is looked up only after the step that installs it.
halfsky_install_packages "${HALFSKY_BUILD_PACKAGES[@]}" "${HALFSKY_RUN_PACKAGES[@]}" \
  "${HALFSKY_TEST_PACKAGES[@]}"
halfsky_install_node
# Offline Kubernetes schemas and the pinned kubectl for tests/deploy.
halfsky_install_deploy_tools
HALFSKY_KUBECTL=$(halfsky_kubectl_path)
export HALFSKY_KUBECTL
# CI must not skip the deployment checks for want of a tool.
export HALFSKY_REQUIRE_DEPLOY_TOOLS=${HALFSKY_REQUIRE_DEPLOY_TOOLS:-1}

# redis-server's package starts a system instance on 6379; tests never use it.
HALFSKY_REDIS_SERVER=${HALFSKY_REDIS_SERVER:-$(command -v redis-server)}
export HALFSKY_REDIS_SERVER
"$HALFSKY_REDIS_SERVER" --version >/dev/null
step_done install

BUILD_DIR=${HALFSKY_TEST_BUILD_DIR:-$HALFSKY_ROOT/build}
echo "==> building into $BUILD_DIR"
halfsky_build "$BUILD_DIR" RelWithDebInfo -DHALFSKY_BUILD_TESTS=ON -DHALFSKY_BUILD_BENCHMARKS=ON
step_done build

echo "==> running tests"
export TMPDIR=${TMPDIR:-/tmp}
rc=0
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 600 -j "$(nproc)" "$@" || rc=$?
step_done tests
exit $rc
