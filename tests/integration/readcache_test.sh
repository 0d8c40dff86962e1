#!/usr/bin/env bash
# The kept answers of GET /api/v1/requests/ID (web/read_cache.c,
# migrations/0020_request_touches.sql), over real HTTP against
# `peerflow serve`:
#   1. a request read again unchanged is not built again: the database
#      only confirms its stamp (the request's whole statement, which reads
#      approvals, runs once for 20 reads), with a remembered token in one
#      statement that checks the token too;
#   2. every table the request's statement reads has a touch trigger: a
#      read that builds the answer is watched (pg_stat_user_tables), and
#      each table it scanned must be a touched source of the answer (or
#      the token lookup's own);
#   3. a change to any source shows on the very next read: a decision,
#      the circuit, the addresses, a network's, port's and switch's name,
#      an audit event; and while the other party approves, no read that
#      starts after the approval has answered shows the request as it was;
#      and when the database drops serve's connections, reads reconnect
#      and still confirm a kept answer before serving it;
#   4. answers are never shared: another network still gets 404, an
#      viewer gets a viewer's actions, a revoked token 401, a user
#      moved away 404.
source "$(dirname "$0")/lib.sh"
pf=$PEERFLOW_BIN
tmp=$(mktemp -d /tmp/pf-readcache-test.XXXXXX)
serve_pid=
stop_serve() {
  if [ -n "$serve_pid" ]; then
    kill "$serve_pid" 2>/dev/null
    wait "$serve_pid" 2>/dev/null
    serve_pid=
  fi
}
cleanup() { stop_serve; rm -rf "$tmp"; }
trap cleanup EXIT
fresh_db peerflow_readcache || { echo "cannot create the database"; exit 1; }

q() { "$pf" "$@" >/dev/null || { echo "set-up failed: $*"; exit 1; }; }
q network add --asn 64700 --name "Alpha" --contact noc@alpha.example
q network add --asn 64701 --name "Beta" --contact noc@beta.example
q network add --asn 64702 --name "Gamma" --contact noc@gamma.example
q switch add --name s1 --dpid 00000000000000b1
q port add --network 64700 --switch s1 --ofport 1 --name a-1
q port add --network 64701 --switch s1 --ofport 2 --name b-1
q user add --email admin@alpha.example --network 64700 --role admin
q user add --email view@alpha.example --network 64700 --role viewer
q user add --email admin@beta.example --network 64701 --role admin
q user add --email admin@gamma.example --network 64702 --role admin
tok=$("$pf" token create --email admin@alpha.example --name t)
tok_view=$("$pf" token create --email view@alpha.example --name t)
tok_b=$("$pf" token create --email admin@beta.example --name t)
tok_g=$("$pf" token create --email admin@gamma.example --name t)
id=$("$pf" request submit --as admin@alpha.example --port a-1 --peer-asn 64701 | grep -o '[0-9]\+' | head -1)
[ -n "$id" ] || { echo "set-up failed: no request"; exit 1; }
sql "ALTER DATABASE peerflow_readcache SET track_counts = on" >/dev/null
# counts calls of the SECURITY DEFINER functions (pg_stat_user_functions)
sql "ALTER DATABASE peerflow_readcache SET track_functions = 'pl'" >/dev/null
calls() { sql "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE funcname = '$1'"; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
start_serve() {
  "$pf" serve --listen "127.0.0.1:$port" --no-workers >"$tmp/serve.log" 2>&1 &
  serve_pid=$!
  for _ in $(seq 100); do
    curl -sf "$base/healthz" >/dev/null && return 0
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "serve did not start:"; cat "$tmp/serve.log"; exit 1
}
# get [TOKEN]: GET the request; the body in $tmp/body, prints the status
get() { curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer ${1:-$tok}" "$base/api/v1/requests/$id"; }
body() { jq -r "$1" <"$tmp/body"; }
reads() {
  local n=$1 out=""
  for _ in $(seq "$n"); do out+="$(get) "; done
  printf '%s\n' "$out" | tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ $//'
}
# scans of each table so far (the backends' counts reach the statistics
# as they exit: read after stop_serve)
scans() {
  sql "SELECT relname || ' ' || (coalesce(seq_scan, 0) + coalesce(idx_scan, 0)) FROM pg_stat_user_tables ORDER BY 1" >"$1"
}
settle() { sleep 1.2; } # PostgreSQL 15 flushes a backend's counts at least every second

# -------------------------------------- 1. unchanged: confirmed, not rebuilt
scans "$tmp/s0"
start_serve
expect_eq "the first read answers" 200 "$(get)"
cp "$tmp/body" "$tmp/first"
expect_eq "20 more reads answer" 200 "$(reads 20)"
expect_eq "with the same answer" "" "$(cmp "$tmp/first" "$tmp/body")"
stop_serve
settle
scans "$tmp/s1"
approvals_scans() { awk '$1 == "approvals" {print $2}' "$1"; }
expect_eq "the request's statement ran once for 21 reads" 1 "$(( $(approvals_scans "$tmp/s1") - $(approvals_scans "$tmp/s0") ))"
touch_scans=$(( $(awk '$1 == "request_touches" {print $2}' "$tmp/s1") - $(awk '$1 == "request_touches" {print $2}' "$tmp/s0") ))
expect_eq "every read read the stamp" yes "$([ "$touch_scans" -ge 21 ] && echo yes)"
# with the token remembered, the check and the stamp are one statement
# (migrations/0023): at least 16 of the 20 reads (serve's 4 threads each
# look the token up once at most)
stamp_calls=$(calls pf_request_stamp_for)
expect_eq "kept answers were confirmed in one statement" yes "$([ "$stamp_calls" -ge 16 ] && echo yes)"

# ------------------------- 2. every table the statement reads is a touched one
# a fresh serve (nothing kept): one read builds the answer
scans "$tmp/s2"
start_serve
expect_eq "a fresh server's read answers" 200 "$(get)"
stop_serve
settle
scans "$tmp/s3"
read_tables=$(join "$tmp/s2" "$tmp/s3" | awk '$3 > $2 {print $1}' | sort)
touched=$(sql "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname LIKE 'pf_touch_request%' ORDER BY 1")
# the token's lookup and the stamp itself are not sources of the answer
not_sources="api_tokens request_touches users"
missing=""
for t in $read_tables; do
  case " $not_sources " in *" $t "*) continue ;; esac
  grep -qx "$t" <<<"$touched" || missing+="$t "
done
expect_eq "the read scanned the request's sources" yes "$(grep -qx approvals <<<"$read_tables" && grep -qx audit_events <<<"$read_tables" && echo yes)"
expect_eq "each table the statement reads has a touch trigger" "" "$missing"

# -------------------------------------- 3. a change shows on the next read
start_serve
expect_eq "read, kept" 200 "$(get)"
changed() { # changed WHAT SQL JQ WANT: the change, then the next read shows it
  sql "$2" >/dev/null
  expect_eq "$1: the next read answers" 200 "$(get)"
  expect_eq "$1: and shows it" "$4" "$(body "$3")"
}
changed "a network renamed" "UPDATE networks SET name = 'Beta Renamed' WHERE asn = 64701" .peer.name "Beta Renamed"
changed "a port renamed" "UPDATE ports SET name = 'a-one' WHERE name = 'a-1'" .requester.port a-one
changed "a switch renamed" "UPDATE switches SET name = 'sw1' WHERE name = 's1'" .requester.switch sw1
changed "an audit event" "INSERT INTO audit_events (seq, at, actor_kind, actor_label, action, object_type, object_id, request_id, after, prev_hash, hash)
  SELECT h.seq + 1, now(), 'system', 'test', 'test.noted', 'request', '$id', $id, '{}', h.hash, h.hash FROM audit_head h;
  UPDATE audit_head SET seq = seq + 1" '.history[-1].action' test.noted
changed "a circuit" "INSERT INTO circuits (request_id, state) VALUES ($id, 'planned')" .circuit.state planned
changed "the circuit's state" "UPDATE circuits SET state = 'failed', error = 'x' WHERE request_id = $id" .circuit.error x
changed "its addresses" "INSERT INTO address_pools (cidr) VALUES ('100.64.0.0/30');
  INSERT INTO circuit_addresses (request_id, family, pool_id, net)
  SELECT $id, 4, id, '100.64.0.0/31' FROM address_pools" .bgp.ipv4.requester_ip 100.64.0.0
changed "the request row" "UPDATE peering_requests SET message = 'hello' WHERE id = $id" .message hello
sql "DELETE FROM circuit_addresses; DELETE FROM address_pools; DELETE FROM circuits" >/dev/null
expect_eq "deletions show too" null "$(get >/dev/null; body .circuit)"

# the database drops serve's connections halfway (a restart, a failover):
# the next reads reconnect and answer, and a kept answer is still served
# only after its stamp is read again
drop_serves_connections() {
  sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
        WHERE datname = current_database() AND usename = 'peerflow_app'" >/dev/null
}
expect_eq "read, kept" 200 "$(get)"
drop_serves_connections
expect_eq "after the connections dropped, every read answers" 200 "$(reads 8)"
expect_eq "with the request as it is" hello "$(body .message)"
sql "UPDATE peering_requests SET message = 'after the drop' WHERE id = $id" >/dev/null
drop_serves_connections
expect_eq "changed and dropped again, the reads answer" 200 "$(reads 8)"
expect_eq "and show the change, not the kept answer" "after the drop" "$(body .message)"

# --------------------------------------------- 4. answers are never shared
expect_eq "Alpha's admin reads (kept)" 200 "$(get)"
expect_eq "with the admin's actions" cancel "$(body '.actions | join(",")')"
expect_eq "Gamma's admin gets 404" 404 "$(get "$tok_g")"
expect_eq "Alpha's viewer reads" 200 "$(get "$tok_view")"
expect_eq "with a viewer's actions (none), not the admin's kept answer" "" "$(body '.actions | join(",")')"
expect_eq "Beta reads as the peer" peer "$(get "$tok_b" >/dev/null; body .my_side)"
expect_eq "Alpha still reads as the requester" requester "$(get >/dev/null; body .my_side)"
# the other party approves while Alpha reads in a loop: every read that
# starts after the approval has answered shows it
( for _ in $(seq 150); do
    t=$(date +%s%N)
    s=$(curl -s -H "Authorization: Bearer $tok" "$base/api/v1/requests/$id" | jq -r .state)
    echo "$t $s"
  done >"$tmp/loop" ) &
loop=$!
sleep 0.3
curl -s -o "$tmp/approve" -X POST -H "Authorization: Bearer $tok_b" -H 'Content-Type: application/json' \
  --data-binary '{"port": "b-1"}' "$base/api/v1/requests/$id/approve"
approved_at=$(date +%s%N)
wait "$loop"
expect_eq "the peer's approval answers" approved "$(jq -r .state <"$tmp/approve")"
expect_eq "reads saw the request pending before" yes "$(awk '$2 == "pending"' "$tmp/loop" | grep -q . && echo yes)"
stale=$(awk -v t="$approved_at" '$1 > t && $2 != "approved"' "$tmp/loop" | wc -l)
after=$(awk -v t="$approved_at" '$1 > t' "$tmp/loop" | wc -l)
expect_eq "reads ran after the approval" yes "$([ "$after" -gt 0 ] && echo yes)"
expect_eq "none of them shows the request as it was" 0 "$stale"

sql "UPDATE api_tokens SET revoked_at = now() WHERE user_id = (SELECT id FROM users WHERE email = 'admin@alpha.example')" >/dev/null
expect_eq "a revoked token gets no kept answer" 401 "$(get)"
sql "UPDATE api_tokens SET revoked_at = NULL" >/dev/null
expect_eq "live again, it reads" 200 "$(get)"
sql "UPDATE users SET network_id = (SELECT id FROM networks WHERE asn = 64702) WHERE email = 'admin@alpha.example'" >/dev/null
expect_eq "moved to Gamma, the user gets 404, not the kept answer" 404 "$(get)"
stop_serve
finish
