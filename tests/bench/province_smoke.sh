#!/usr/bin/env bash
# ctest: tests/bench/run.sh --smoke --only=province on an existing build
# (no timings checked): the generated province catalog passes lint, its
# values load through a real halfsky-submission, aggregation catches up in a
# real redis-server and evaluation ends its passes at depth 1 and 3, at the
# three smoke sizes. Fails if any province figure is NOT RUN or missing.
#   province_smoke.sh BUILD_DIR
set -u
build=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(HALFSKY_BENCH_NO_INSTALL=1 PROVINCE_WAIT_BOUND=120 \
        "$root/tests/bench/run.sh" --smoke --no-build --build-dir="$build" --only=province 2>&1)
echo "$out"
lines=$(grep -c '^province ' <<<"$out")
[ "$lines" -eq 9 ] || { echo "expected 9 province figure lines, got $lines"; exit 1; }
if grep '^province ' <<<"$out" | grep -q 'NOT RUN'; then
  echo "a province figure was not run"
  exit 1
fi
# Every size ran the depth-3 passes (the table's "eval d3" column is a time).
if grep -E '^ +[0-9]+ \| ' <<<"$out" | grep -q 'not run\|>'; then
  echo "an evaluation pass at depth 3 did not end"
  exit 1
fi
echo "ok"
