#!/usr/bin/env bash
# ctest: tests/bench/run.sh --smoke --only=province on an existing build
# (no timings checked): the generated province catalog passes lint, its
# values load through a real halfsky-submission, aggregation catches up in a
# real redis-server and evaluation ends its passes at depth 1 and 3, at the
# three smoke sizes. Fails if any province figure is NOT RUN or missing, or a
# size's row lacks a time for the cold catch-up or for two successful full
# passes at depth 1 and at depth 3.
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
# Every size's row has a time in the cold catch-up column and two times in
# the depth-1 and depth-3 pass columns (not "failed", "notrun", ">Ns" or
# "-"), and a count of firing warnings at both depths.
rows=$(grep -E '^ +[0-9]+ \| ' <<<"$out")
[ "$(grep -c . <<<"$rows")" -eq 3 ] || { echo "expected 3 rows in the province table"; exit 1; }
if grep -q 'notrun\|failed\|>' <<<"$rows"; then
  echo "a province step did not run or failed: $(grep 'notrun\|failed\|>' <<<"$rows" | head -1)"
  exit 1
fi
bad=$(awk -F ' [|] ' '
  function num(x) { return x ~ /^[0-9]+([.][0-9]+)?$/ }
  function two(x,  p) { return split(x, p, "/") == 2 && num(p[1]) && num(p[2]) }
  { sub(/^ +/, "", $1)
    if (!num($9)) print $1 " counties: cold catch-up \"" $9 "\""
    if (!two($10)) print $1 " counties: eval d1 passes \"" $10 "\""
    if (!num($11)) print $1 " counties: d1 firing \"" $11 "\""
    if (!two($20)) print $1 " counties: eval d3 passes \"" $20 "\""
    if (!num($21)) print $1 " counties: d3 firing \"" $21 "\"" }' <<<"$rows")
if [ -n "$bad" ]; then
  echo "a province step has no figure: $bad"
  exit 1
fi
echo "ok"
