#!/usr/bin/env bash
# ctest: the harness's write generator (write_load) drives the bare echo
# server: every call OK, a rate above zero; a bad flag is refused. No timings.
set -u
gen=$1
echo_bin=$2
out=$(mktemp)
if "$gen" --mode=bogus --target=127.0.0.1:1 >/dev/null 2>&1; then echo "bad mode accepted"; exit 1; fi
"$echo_bin" >"$out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q '^PORT [1-9]' "$out" && break; sleep 0.1; done
port=$(awk '/^PORT/ {print $2}' "$out")
[ -n "$port" ] || { echo "echo server did not start: $(cat "$out")"; kill $pid; exit 1; }
result=$("$gen" --mode=echo --target="127.0.0.1:$port" --connections=2 --in_flight=4 --threads=2 \
           --seconds=0.5 --warmup=0.1 2>&1)
rc=$?
kill -TERM $pid
wait $pid
rm -f "$out"
echo "$result"
[ $rc -eq 0 ] || { echo "write_load exited $rc"; exit 1; }
grep -Eq '^RESULT mode=echo ok=[1-9][0-9]* failed=0 ' <<<"$result" || { echo "no OK calls"; exit 1; }
echo "ok"
