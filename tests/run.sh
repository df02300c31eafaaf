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
set -euo pipefail
HALFSKY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$HALFSKY_ROOT"
# shellcheck source=../deploy/local/deps.sh
source deploy/local/deps.sh

halfsky_install_packages "${HALFSKY_BUILD_PACKAGES[@]}" "${HALFSKY_RUN_PACKAGES[@]}" \
  "${HALFSKY_TEST_PACKAGES[@]}"

halfsky_install_node
# Offline Kubernetes schemas for tests/deploy (pinned by its package-lock).
npm ci --prefix tests/deploy --no-audit --no-fund --loglevel=error
# CI must not skip the deployment checks for want of a tool.
export HALFSKY_REQUIRE_DEPLOY_TOOLS=${HALFSKY_REQUIRE_DEPLOY_TOOLS:-1}

# redis-server's package starts a system instance on 6379; tests never use it.
export HALFSKY_REDIS_SERVER=${HALFSKY_REDIS_SERVER:-$(command -v redis-server)}
"$HALFSKY_REDIS_SERVER" --version >/dev/null

BUILD_DIR=${HALFSKY_TEST_BUILD_DIR:-$HALFSKY_ROOT/build}
echo "==> building into $BUILD_DIR"
halfsky_build "$BUILD_DIR" RelWithDebInfo -DHALFSKY_BUILD_TESTS=ON -DHALFSKY_BUILD_BENCHMARKS=ON

echo "==> running tests"
export TMPDIR=${TMPDIR:-/tmp}
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 600 -j "$(nproc)" "$@"
