#!/usr/bin/env bash
# Rolling restart (issue 17, part 3): two `peerflow serve` behind a load
# balancer (tests/integration/tcp_proxy.py: round robin, a refused backend
# is skipped), wrk keeps API reads going over keep-alive connections, and
# each serve in turn gets SIGTERM, drains, exits and starts again.
# Required: zero failed requests (no socket error, no non-2xx) in wrk's
# count, and both processes serving at the end.
source "$(dirname "$0")/lib.sh"
pf=$PEERFLOW_BIN
root=$PEERFLOW_ROOT
command -v wrk >/dev/null || { echo "skipped: no wrk (scripts/deps.sh installs it)"; exit 77; }
tmp=$(mktemp -d /tmp/pf-rolling-test.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fresh_db peerflow_rolling || { echo "cannot create the database"; exit 1; }
"$pf" network add --asn 64800 --name "Alpha" --contact noc@alpha.example >/dev/null
"$pf" user add --email admin@alpha.example --network 64800 --role admin >/dev/null
tok=$("$pf" token create --email admin@alpha.example --name t)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
p0=$(free_port); p1=$(free_port); p2=$(free_port)
declare -A serve_pid
start_serve() { # PORT
  "$pf" serve --listen "127.0.0.1:$1" --no-workers >>"$tmp/serve-$1.log" 2>&1 &
  serve_pid[$1]=$!; pids+=($!)
  for _ in $(seq 100); do curl -sf -m 2 "http://127.0.0.1:$1/healthz" >/dev/null && return 0; sleep 0.1; done
  fail "serve on $1 did not start: $(tail -3 "$tmp/serve-$1.log")"
}
start_serve "$p1"
start_serve "$p2"
python3 "$root/tests/integration/tcp_proxy.py" "$p0" "$p1" "$p2" & pids+=($!)
for _ in $(seq 50); do curl -sf -m 2 "http://127.0.0.1:$p0/healthz" >/dev/null && break; sleep 0.1; done

wrk -t2 -c8 -d16s --timeout 5s -H "Authorization: Bearer $tok" \
  "http://127.0.0.1:$p0/api/v1/requests" >"$tmp/wrk.out" 2>&1 &
wrk_pid=$!
sleep 3
for p in "$p1" "$p2"; do
  kill -TERM "${serve_pid[$p]}"
  wait "${serve_pid[$p]}"; rc=$?
  expect_eq "serve on $p exits 0 after its drain" 0 "$rc"
  start_serve "$p"
  sleep 3
done
wait "$wrk_pid"
cat "$tmp/wrk.out"
reqs=$(awk '/requests in/ {print $1}' "$tmp/wrk.out")
[ "${reqs:-0}" -gt 100 ] && pass || fail "wrk made only ${reqs:-0} requests"
expect_eq "no socket errors during the rolling restart" "" "$(grep 'Socket errors' "$tmp/wrk.out")"
expect_eq "no non-2xx answers during the rolling restart" "" "$(grep 'Non-2xx' "$tmp/wrk.out")"
expect_eq "both restarted and serving" "200 200" \
  "$(curl -s -o /dev/null -w '%{http_code}' -m 5 "http://127.0.0.1:$p1/healthz") $(curl -s -o /dev/null -w '%{http_code}' -m 5 "http://127.0.0.1:$p2/healthz")"
for p in "$p1" "$p2"; do
  grep -q "runtime error\|AddressSanitizer" "$tmp/serve-$p.log" && fail "sanitizer: $(grep -m3 'runtime error\|Sanitizer' "$tmp/serve-$p.log")" || pass
done
finish
