#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (ctest: unit,
# integration and deploy labels). Exits non-zero on any failure.
#
#   tests/run.sh              everything, then the sanitizer subset: every
#                             fuzz target's corpus replayed under ASan +
#                             UBSan (gcc, -O1) from build-sanitize-subset/
#                             (HALFSKY_SANITIZE_SUBSET=0 skips it)
#   tests/run.sh -L unit      only one label (extra args go to ctest; no
#                             sanitizer subset)
#   tests/run.sh --sanitize [ctest args]
#                             the whole suite built with ASan + UBSan (gcc),
#                             into build-sanitize/; any report fails the test
#   tests/run.sh --fuzz       each libFuzzer target (clang, ASan + UBSan) for
#                             HALFSKY_FUZZ_SECONDS (60) from its seed corpus;
#                             a crashing input is kept in tests/fuzz/corpus/
#                             (so ctest replays it from then on), new inputs
#                             in build-fuzz/corpus/ (HALFSKY_FUZZ_MERGE=1
#                             merges them, minimised, into the seed corpus)
#
# Integration tests start what they need themselves — a throw-away
# redis-server per fixture on a free loopback port, the services as child
# processes on ports chosen at run time — and stop it when they finish.
# At the end it says how long the install, the build and the tests took
# (the first run on a fresh 2-core machine: about 20–25 minutes in all).
set -euo pipefail
HALFSKY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$HALFSKY_ROOT"
# shellcheck source=../deploy/local/deps.sh
source deploy/local/deps.sh

mode=all
case ${1:-} in
  --sanitize) mode=sanitize; shift ;;
  --fuzz) mode=fuzz; shift ;;
esac

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
# axe-core for the browser tests' accessibility check (tests/web).
halfsky_install_web_test_tools
HALFSKY_AXE=$(halfsky_axe_path)
export HALFSKY_AXE

# redis-server's package starts a system instance on 6379; tests never use it.
HALFSKY_REDIS_SERVER=${HALFSKY_REDIS_SERVER:-$(command -v redis-server)}
export HALFSKY_REDIS_SERVER
"$HALFSKY_REDIS_SERVER" --version >/dev/null
if [ "$mode" = fuzz ]; then
  halfsky_install_packages clang libclang-rt-14-dev
fi
step_done install

export TMPDIR=${TMPDIR:-/tmp}
if [ "$mode" = fuzz ]; then
  BUILD_DIR=${HALFSKY_TEST_BUILD_DIR:-$HALFSKY_ROOT/build-fuzz}
  echo "==> building the fuzz targets into $BUILD_DIR (clang, ASan + UBSan)"
  CC=clang CXX=clang++ cmake -S "$HALFSKY_ROOT" -B "$BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHALFSKY_BUILD_FUZZERS=ON -DHALFSKY_BUILD_BENCHMARKS=OFF \
    >/dev/null
  # Every seed corpus tests/fuzz/corpus/NAME/ belongs to the target NAME_fuzz
  # (tests/fuzz/CMakeLists.txt), so a new target needs no change here.
  fuzz_targets=()
  for corpus in "$HALFSKY_ROOT"/tests/fuzz/corpus/*/; do
    corpus=$(basename "$corpus")
    fuzz_targets+=("${corpus}_fuzz:$corpus")
  done
  ninja -C "$BUILD_DIR" -j "$(nproc)" "${fuzz_targets[@]%%:*}"
  step_done build
  rc=0
  for entry in "${fuzz_targets[@]}"; do
    name=${entry%%:*}
    seeds=$HALFSKY_ROOT/tests/fuzz/corpus/${entry#*:}
    found=$BUILD_DIR/corpus/${entry#*:}
    mkdir -p "$found"
    echo "==> fuzzing $name for ${HALFSKY_FUZZ_SECONDS:-60} s"
    # New inputs go to the first directory (found), crashes next to the seeds.
    if ! "$BUILD_DIR/tests/fuzz/$name" -max_total_time="${HALFSKY_FUZZ_SECONDS:-60}" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$seeds/crash-" "$found" "$seeds"; then
      echo "==> $name found a failing input; it is kept in $seeds (ctest replays it)" >&2
      rc=1
    fi
    if [ "${HALFSKY_FUZZ_MERGE:-0}" = 1 ]; then
      "$BUILD_DIR/tests/fuzz/$name" -merge=1 "$seeds" "$found"
    fi
  done
  step_done fuzz
  exit $rc
fi

if [ "$mode" = sanitize ]; then
  BUILD_DIR=${HALFSKY_TEST_BUILD_DIR:-$HALFSKY_ROOT/build-sanitize}
  echo "==> building into $BUILD_DIR with ASan + UBSan"
  halfsky_build "$BUILD_DIR" RelWithDebInfo -DHALFSKY_BUILD_TESTS=ON -DHALFSKY_BUILD_BENCHMARKS=OFF \
    -DHALFSKY_SANITIZE=address,undefined
  # Every report ends the process with an error (the services the tests
  # start inherit this too), so a finding fails its test.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  # deploy.runtime_libs checks the release image's libraries: libasan is
  # not one of them.
  set -- -E '^deploy\.runtime_libs$' "$@"
else
  BUILD_DIR=${HALFSKY_TEST_BUILD_DIR:-$HALFSKY_ROOT/build}
  echo "==> building into $BUILD_DIR"
  # RelWithDebInfo's -O2 -DNDEBUG without its -g: debug info made the first
  # build on a 2-core machine about 25 minutes (about a third of each compile
  # and most of each link of ~100 test programs). The sanitizer build
  # above keeps -g for its reports.
  halfsky_build "$BUILD_DIR" Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
    -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" -DHALFSKY_BUILD_TESTS=ON -DHALFSKY_BUILD_BENCHMARKS=ON
fi
step_done build

echo "==> running tests"
rc=0
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 600 -j "$(nproc)" "$@" || rc=$?
step_done tests

# The bounded sanitizer subset CI runs (the whole suite under ASan + UBSan
# is `--sanitize`: about 35 minutes of build on 2 cores, past CI's budget):
# the parsers of untrusted input — every fuzz target (CSV and xlsx files,
# catalog text, text decoding, the three services' request checks) replaying
# its whole corpus, every input ever found included. -O1 without debug info
# keeps its build to a few minutes; reports name functions, not lines (run
# `--sanitize` for those).
if [ "$mode" = all ] && [ $# -eq 0 ] && [ "${HALFSKY_SANITIZE_SUBSET:-1}" = 1 ]; then
  SUBSET_DIR=$HALFSKY_ROOT/build-sanitize-subset
  echo "==> sanitizer subset: the fuzz corpora under ASan + UBSan, into $SUBSET_DIR"
  fuzz_targets=()
  for corpus in "$HALFSKY_ROOT"/tests/fuzz/corpus/*/; do
    corpus=${corpus%/}
    fuzz_targets+=("${corpus##*/}_fuzz")
  done
  cmake -S "$HALFSKY_ROOT" -B "$SUBSET_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS_RELEASE=-O1 -DCMAKE_C_FLAGS_RELEASE=-O1 -DHALFSKY_BUILD_TESTS=ON \
    -DHALFSKY_BUILD_BENCHMARKS=OFF -DHALFSKY_SANITIZE=address,undefined >/dev/null
  ninja -C "$SUBSET_DIR" -j "$(nproc)" "${fuzz_targets[@]}"
  ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    ctest --test-dir "$SUBSET_DIR" --output-on-failure --timeout 600 -j "$(nproc)" \
      -R '_fuzz\.corpus$' || rc=$?
  step_done sanitizer-subset
fi
exit $rc
