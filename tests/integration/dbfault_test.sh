#!/usr/bin/env bash
# Faults cost nothing (issue "Trust", item 6): PostgreSQL restarted under a
# running `peerflow serve` costs its clients nothing - every pooled
# connection notices, reconnects and retries the work that had not
# committed -, and while the database is down every request answers 503
# with Retry-After within 5 s and /healthz names the database.
#
# Restarts the suite's shared test cluster (tests/run.sh runs suites one at
# a time) and always leaves it running.
source "$(dirname "$0")/lib.sh"
pf=$PEERFLOW_BIN
pgdir=$(dirname "$PEERFLOW_TEST_PG_HOST")
tmp=$(mktemp -d /tmp/pf-dbfault-test.XXXXXX)
serve_pid=
cleanup() {
  bash "$PEERFLOW_ROOT/scripts/pg.sh" start "$pgdir" --fast >/dev/null 2>&1
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fresh_db peerflow_dbfault || { echo "cannot create the database"; exit 1; }
q() { "$pf" "$@" >/dev/null || { echo "set-up failed: $*"; exit 1; }; }
q network add --asn 64800 --name "Alpha" --contact noc@alpha.example
q network add --asn 64801 --name "Beta" --contact noc@beta.example
q switch add --name s1 --dpid 00000000000000c1
q port add --network 64800 --switch s1 --ofport 1 --name a-trunk --mode trunk
q port add --network 64801 --switch s1 --ofport 2 --name b-1
q user add --email admin@alpha.example --network 64800 --role admin
tok=$("$pf" token create --email admin@alpha.example --name t)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
# 4 threads (the default), each with its own pooled connection
"$pf" serve --listen "127.0.0.1:$port" --no-workers >"$tmp/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

# burst N: N concurrent API reads and N submissions; prints the status codes
burst() {
  for i in $(seq "$1"); do
    curl -s -o /dev/null -w '%{http_code}\n' -m 10 -H "Authorization: Bearer $tok" \
      "$base/api/v1/requests" &
    curl -s -o /dev/null -w '%{http_code}\n' -m 10 -H "Authorization: Bearer $tok" \
      -H 'Content-Type: application/json' \
      --data-binary "{\"port\": \"a-trunk\", \"vlan\": $((vlan_next + i)), \"peer_asn\": 64801}" \
      "$base/api/v1/requests" &
  done
  wait $(jobs -p | grep -v "^$serve_pid$") 2>/dev/null
  vlan_next=$((vlan_next + $1))
}
vlan_next=100
burst 16 >"$tmp/before"
expect_eq "all answered before the restart" "16 x200 16 x201" \
  "$(grep -c '^200$' "$tmp/before") x200 $(grep -c '^201$' "$tmp/before") x201"

# a restart: every pooled connection is broken, none of it reaches a client
bash "$PEERFLOW_ROOT/scripts/pg.sh" stop "$pgdir" >/dev/null
bash "$PEERFLOW_ROOT/scripts/pg.sh" start "$pgdir" --fast >/dev/null
burst 16 >"$tmp/after"
expect_eq "after the restart: no error, every request served" "16 x200 16 x201" \
  "$(grep -c '^200$' "$tmp/after") x200 $(grep -c '^201$' "$tmp/after") x201"
expect_eq "32 requests written, each once" 32 "$(sql "SELECT count(*) FROM peering_requests")"

# the database down: 503 with Retry-After, within 5 s, and /healthz says why
bash "$PEERFLOW_ROOT/scripts/pg.sh" stop "$pgdir" >/dev/null
start=$(date +%s%N)
st=$(curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -m 10 -H "Authorization: Bearer $tok" "$base/api/v1/requests")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "a read while the database is down" "503 database_unavailable" "$st $(jq -r .error.code <"$tmp/body")"
[ "$ms" -lt 5000 ] && pass || fail "the 503 took $ms ms"
grep -qi '^Retry-After: 5' "$tmp/headers" && pass || fail "no Retry-After: $(cat "$tmp/headers")"
st=$(curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -m 10 -H "Authorization: Bearer $tok" \
       -H 'Content-Type: application/json' --data-binary '{"port": "a-trunk", "vlan": 999, "peer_asn": 64801}' \
       "$base/api/v1/requests")
expect_eq "a submission while the database is down" "503 database_unavailable" "$st $(jq -r .error.code <"$tmp/body")"
burst 8 >"$tmp/down"
expect_eq "a burst while down: all 503, none 500" 16 "$(grep -c '^503$' "$tmp/down")"
st=$(curl -s -o "$tmp/body" -w '%{http_code}' -m 10 "$base/healthz")
expect_eq "/healthz while down" 503 "$st"
grep -q '^database: down (' "$tmp/body" && pass || fail "/healthz does not name the database: $(cat "$tmp/body")"

bash "$PEERFLOW_ROOT/scripts/pg.sh" start "$pgdir" --fast >/dev/null
st=$(curl -s -o "$tmp/body" -w '%{http_code}' -m 10 "$base/healthz")
expect_eq "/healthz once it is back" "200 database: ok" "$st $(cat "$tmp/body")"
burst 8 >"$tmp/back"
expect_eq "served again once it is back" "8 x200 8 x201" \
  "$(grep -c '^200$' "$tmp/back") x200 $(grep -c '^201$' "$tmp/back") x201"
kill -0 "$serve_pid" 2>/dev/null && pass || fail "serve died: $(tail -5 "$tmp/serve.log")"
grep -q "runtime error\|AddressSanitizer" "$tmp/serve.log" && fail "sanitizer: $(grep -m3 'runtime error\|Sanitizer' "$tmp/serve.log")" || pass
finish
