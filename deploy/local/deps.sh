# Debian 12 packages halfsky needs, installed with apt-get when missing.
# Sourced by deploy/local/run.sh and tests/run.sh; the one list of them.

HALFSKY_BUILD_PACKAGES=(
  cmake ninja-build g++ pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libhiredis-dev libsqlite3-dev libssl-dev
)
# iproute2: run.sh names the process holding a taken port (ss); procps:
# pgrep, which tests/local/run_sh_test.sh uses to find what run.sh started.
HALFSKY_RUN_PACKAGES=(redis-server sqlite3 curl iproute2 procps)
HALFSKY_TEST_PACKAGES=(libgtest-dev libgmock-dev libbenchmark-dev python3 python3-yaml
  chromium fonts-noto-cjk)

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
