#!/usr/bin/env bash
# ctest: the bench harness's bare echo server starts on a free port, prints
# it, rejects a bad flag, and stops on SIGTERM. No timings.
set -u
bin=$1
out=$(mktemp)
if "$bin" --bogus >/dev/null 2>&1; then echo "bad flag accepted"; exit 1; fi
"$bin" >"$out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q '^PORT [1-9]' "$out" && break; sleep 0.1; done
grep -q '^PORT [1-9]' "$out" || { echo "no PORT line: $(cat "$out")"; kill $pid; exit 1; }
port=$(awk '/^PORT/ {print $2}' "$out")
python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 2)" "$port" ||
  { echo "port $port not accepting"; kill $pid; exit 1; }
kill -TERM $pid
wait $pid; rc=$?
rm -f "$out"
[ $rc -eq 0 ] || { echo "exit $rc on SIGTERM"; exit 1; }
echo "ok: port $port"
