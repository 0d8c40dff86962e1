#!/usr/bin/env bash
# The IETF Peering API over real HTTP (curl against `peerflow serve`,
# docs/peering-api.md): locations, sessions added (accepted, refused per
# field, duplicates 409, two at once), listed and paged (signed
# next_token, max_results capped at 100), read from both sides (local_*
# is the caller), deleted (cancel, reject, decommission refused before
# active), one 404 for unknown network, foreign session and unknown id, a
# configured prefix, the PeeringDB pins API - and every answer of the
# Peering API validated against docs/peering-api.openapi.json.
source "$(dirname "$0")/lib.sh"
pf=$PEERFLOW_BIN
root=${PEERFLOW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d /tmp/pf-papi-test.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fresh_db peerflow_papi || { echo "cannot create the database"; exit 1; }
export PEERFLOW_KEY_DIR=$tmp/keys
export PEERFLOW_PEERINGDB_IX_ID=42

q() { "$pf" "$@" >/dev/null || { echo "set-up failed: $*"; exit 1; }; }
q network add --asn 64500 --name "Alpha" --contact noc@alpha.example
q network add --asn 64501 --name "Beta" --contact noc@beta.example
q network add --asn 64502 --name "Gamma" --contact noc@gamma.example
q switch add --name s1 --dpid 00000000000000a1
q port add --network 64500 --switch s1 --ofport 1 --name a1
q port add --network 64500 --switch s1 --ofport 2 --name a2 --mode trunk
q port add --network 64500 --switch s1 --ofport 3 --name a3
q port add --network 64500 --switch s1 --ofport 4 --name a4
q port add --network 64501 --switch s1 --ofport 10 --name b1
q port add --network 64502 --switch s1 --ofport 20 --name c1 --mode trunk
q pool add --cidr 100.64.0.0/16
q pool add --cidr 2001:db8:100::/48
for u in "admin@alpha.example --network 64500 --role admin" \
         "admin@beta.example --network 64501 --role admin" \
         "admin@gamma.example --network 64502 --role admin" \
         "op@ix.example --operator"; do
  # shellcheck disable=SC2086
  "$pf" user add --email $u >/dev/null || { echo "user $u"; exit 1; }
done
tok_a=$("$pf" token create --email admin@alpha.example --name t)
tok_b=$("$pf" token create --email admin@beta.example --name t)
tok_c=$("$pf" token create --email admin@gamma.example --name t)
tok_op=$("$pf" token create --email op@ix.example --name t)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
base=http://127.0.0.1:$port
"$pf" serve --listen "127.0.0.1:$port" --no-workers >"$tmp/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done
P=/peering-api/v0.1

# api METHOD TOKEN TEMPLATE PATH [BODY]: the answer's body in $tmp/body;
# prints the status; each answer is kept for the schema check at the end
api() {
  local method=$1 tok=$2 tpl=$3 path=$4 data=${5-}
  local f; f=$(mktemp "$tmp/answer.XXXXXX")
  local args=(-s -o "$f" -w '%{http_code}' -X "$method")
  [ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
  [ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
  local st; st=$(curl "${args[@]}" "$base$P$path")
  cp "$f" "$tmp/body"
  echo "$method $tpl $st $f" >>"$tmp/answers"
  echo "$st"
}
body() { jq -r "$1" <"$tmp/body"; }
post() {
  curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' --data-binary "$3" "$base$2"
}
get() { curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $1" "$base$2"; }

# ------------------------------------------------------------ the document
expect_eq "openapi.json is public" 200 "$(api GET "" /openapi.json /openapi.json)"
expect_eq "  ... names this prefix" "$P" "$(body '.servers[0].url')"
expect_eq "  ... and the draft's paths" "/locations /sessions /sessions/{session_id}" \
  "$(body '[.paths | keys[] | select(. != "/openapi.json")] | join(" ")')"

# ------------------------------------------------------------- who asks
expect_eq "no token: 401" 401 "$(api GET "" /sessions '/sessions?asn=64501')"
expect_eq "an operator's token: 403" 403 "$(api GET "$tok_op" /sessions '/sessions?asn=64501')"
expect_eq "  ... network_only" network_only "$(body .error.code)"

# ------------------------------------------------------------- locations
expect_eq "locations" 200 "$(api GET "$tok_a" /locations '/locations?asn=64501')"
expect_eq "  ... every free port of the caller, and the exchange" \
  "pf:port:a1 private,pf:port:a2 private,pf:port:a3 private,pf:port:a4 private,pdb:ix:42 public" \
  "$(body '[.items[] | .id + " " + .type] | join(",")')"
expect_eq "location_type=public" 200 "$(api GET "$tok_a" /locations '/locations?asn=AS64501&location_type=public')"
expect_eq "  ... the exchange only" "pdb:ix:42" "$(body '[.items[].id] | join(",")')"
expect_eq "a bad location_type: 422" 422 "$(api GET "$tok_a" /locations '/locations?asn=64501&location_type=both')"
expect_eq "an unknown parameter: 422" 422 "$(api GET "$tok_a" /locations '/locations?asn=64501&limit=3')"
expect_eq "  ... names it" limit "$(body .error.field)"
expect_eq "no asn: 422" 422 "$(api GET "$tok_a" /locations '/locations')"
expect_eq "an unknown network: 404" 404 "$(api GET "$tok_a" /locations '/locations?asn=64999')"
nf_network=$(jq -c . "$tmp/body")

# paging: one at a time, the token signed and bound to the query
expect_eq "page 1 of 1 item" 200 "$(api GET "$tok_a" /locations '/locations?asn=64501&max_results=1')"
expect_eq "  ... a1 and a next_token" "pf:port:a1 yes" "$(body '.items[0].id + " " + (if .next_token then "yes" else "no" end)')"
tok1=$(body .next_token)
expect_eq "page 2" 200 "$(api GET "$tok_a" /locations "/locations?asn=64501&max_results=1&next_token=$tok1")"
expect_eq "  ... a2" "pf:port:a2" "$(body '.items[0].id')"
seen=2 t=$(body .next_token)
while [ "$t" != null ] && [ "$seen" -lt 10 ]; do
  api GET "$tok_a" /locations "/locations?asn=64501&max_results=1&next_token=$t" >/dev/null
  seen=$((seen + 1)) t=$(body .next_token)
done
expect_eq "the pages end after the 5th" 5 "$seen"
forged=$(python3 -c "
import base64,sys
t=sys.argv[1]; raw=bytearray(base64.urlsafe_b64decode(t+'='*(-len(t)%4))); raw[7]=3
print(base64.urlsafe_b64encode(bytes(raw)).decode().rstrip('='))" "$tok1")
expect_eq "a token with another offset: 422" 422 "$(api GET "$tok_a" /locations "/locations?asn=64501&max_results=1&next_token=$forged")"
expect_eq "  ... bad_next_token" bad_next_token "$(body .error.code)"
expect_eq "a token of another query (asn): 422" 422 "$(api GET "$tok_a" /locations "/locations?asn=64502&max_results=1&next_token=$tok1")"
expect_eq "a token of another network: 422" 422 "$(api GET "$tok_c" /locations "/locations?asn=64501&max_results=1&next_token=$tok1")"
expect_eq "garbage: 422" 422 "$(api GET "$tok_a" /locations "/locations?asn=64501&next_token=abc")"
# max_results is capped at 100: 105 more trunk ports make 110 locations
sql "INSERT INTO ports (network_id, switch_id, ofport, name, mode)
     SELECT n.id, s.id, 100 + g, 'x' || g, 'trunk' FROM networks n, switches s, generate_series(1, 105) g
     WHERE n.asn = 64500" >/dev/null
expect_eq "max_results=1000" 200 "$(api GET "$tok_a" /locations '/locations?asn=64501&max_results=1000')"
expect_eq "  ... 100 items and a next_token" "100 true" "$(body '[(.items | length), (.next_token != null)] | map(tostring) | join(" ")')"
expect_eq "  ... the rest on the next page" 200 "$(api GET "$tok_a" /locations "/locations?asn=64501&max_results=1000&next_token=$(body .next_token)")"
expect_eq "  ... 10 and no token" "10 false" "$(body '[(.items | length), (.next_token != null)] | map(tostring) | join(" ")')"
sql "DELETE FROM switch_port_uses WHERE port_id IN (SELECT id FROM ports WHERE name LIKE 'x%');
     DELETE FROM ports WHERE name LIKE 'x%'" >/dev/null
expect_eq "max_results=0: 422" 422 "$(api GET "$tok_a" /locations '/locations?asn=64501&max_results=0')"

# ------------------------------------------------------------ add sessions
expect_eq "a body that is not JSON: 400" 400 "$(api POST "$tok_a" /sessions /sessions '[{')"
expect_eq "an empty list: 422" 422 "$(api POST "$tok_a" /sessions /sessions '[]')"
expect_eq "one accepted, one refused" 200 "$(api POST "$tok_a" /sessions /sessions \
  '[{"local_asn": 64500, "peer_asn": 64501, "peer_type": "private", "location": "pf:port:a1", "local_bgp_role": "peer"},
    {"local_asn": 64501, "peer_asn": 64501, "peer_ip": "100.64.9.9", "location": "pdb:ix:42", "session_secret": "x"}]')"
expect_eq "  ... the accepted one" "1 pending 64500 64501 pf:port:a1" \
  "$(body '[(.sessions | length), .sessions[0].status, .sessions[0].local_asn, .sessions[0].peer_asn, .sessions[0].location.id] | map(tostring) | join(" ")')"
sid=$(body '.sessions[0].session_id')
rid=$(body '.sessions[0].request_id')
expect_eq "  ... the refused one, every field named" "1 422 local_asn,location,peer_ip,session_secret" \
  "$(body '[.refused[0].index, .refused[0].status, ([.refused[0].errors[].name] | sort | join(","))] | map(tostring) | join(" ")')"
expect_eq "  ... one request written, its session id stored" "1 $sid" \
  "$(sql 'SELECT count(*), max(session_id::text) FROM peering_requests' | tr '|' ' ')"
expect_eq "the same session again: 409" 409 "$(api POST "$tok_a" /sessions /sessions \
  '{"sessions": [{"local_asn": 64500, "peer_asn": 64501, "location": {"id": "pf:port:a1"}}]}')"
case $(body '.refused[0].errors[0].errors[0]') in *"$sid"*) pass ;; *) fail "409 names the live session: $(cat "$tmp/body")" ;; esac
expect_eq "an unknown peer, a trunk without vlan, an unknown field: 422" 422 "$(api POST "$tok_a" /sessions /sessions \
  '[{"local_asn": 64500, "peer_asn": 64999, "location": "pf:port:a3"},
    {"local_asn": 64500, "peer_asn": 64502, "location": "pf:port:a2"},
    {"local_asn": 64500, "peer_asn": 64502, "location": "pf:port:a3", "colour": "blue"},
    {"local_asn": 64500, "peer_asn": 64502, "location": "pf:port:a3", "peer_type": "public", "local_bgp_role": "rs"}]')"
expect_eq "  ... each named" "peer_asn vlan colour local_bgp_role,peer_type" \
  "$(body '[.refused[] | [.errors[].name] | sort | join(",")] | join(" ")')"
expect_eq "  ... nothing written" 1 "$(sql 'SELECT count(*) FROM peering_requests')"

# ---------------------------------------------------- read, from both sides
expect_eq "alpha lists its sessions with beta" 200 "$(api GET "$tok_a" /sessions '/sessions?asn=64501')"
expect_eq "  ... local is alpha" "$sid 64500 64501 requester pending" \
  "$(body '.items[0] | [.session_id, .local_asn, .peer_asn, .side, .status] | map(tostring) | join(" ")')"
expect_eq "beta lists the same session" 200 "$(api GET "$tok_b" /sessions '/sessions?asn=64500')"
expect_eq "  ... local is beta, no port yet" "$sid 64501 64500 peer null" \
  "$(body '.items[0] | [.session_id, .local_asn, .peer_asn, .side, .location] | map(tostring) | join(" ")')"
expect_eq "alpha with gamma: none" 200 "$(api GET "$tok_a" /sessions '/sessions?asn=64502')"
expect_eq "  ... empty" 0 "$(body '.items | length')"
expect_eq "gamma reads alpha's session: 404" 404 "$(api GET "$tok_c" /sessions/{session_id} "/sessions/$sid")"
nf_foreign=$(jq -c . "$tmp/body")
expect_eq "an unknown session: 404" 404 "$(api GET "$tok_a" /sessions/{session_id} /sessions/00000000-0000-4000-8000-000000000000)"
nf_unknown=$(jq -c . "$tmp/body")
expect_eq "a malformed id: 404" 404 "$(api GET "$tok_a" /sessions/{session_id} /sessions/1%27%20or%201=1)"
nf_bad=$(jq -c . "$tmp/body")
expect_eq "one 404 for all: no enumeration" "$nf_network" "$nf_foreign"
expect_eq "  ... (unknown)" "$nf_network" "$nf_unknown"
expect_eq "  ... (malformed)" "$nf_network" "$nf_bad"
expect_eq "gamma lists sessions with alpha: none" 200 "$(api GET "$tok_c" /sessions '/sessions?asn=64500')"
expect_eq "  ... empty" 0 "$(body '.items | length')"

# approved: the addresses, local_* the caller's
expect_eq "beta approves (JSON API)" 200 "$(post "$tok_b" "/api/v1/requests/$rid/approve" '{"port": "b1"}')"
expect_eq "alpha's view" 200 "$(api GET "$tok_a" /sessions/{session_id} "/sessions/$sid")"
expect_eq "  ... approved, alpha the lower address" "approved 100.64.0.0 100.64.0.1 2001:db8:100:: 2001:db8:100::1" \
  "$(body '[.status, .local_ip, .peer_ip, .local_ipv6, .peer_ipv6] | join(" ")')"
expect_eq "beta's view" 200 "$(api GET "$tok_b" /sessions/{session_id} "/sessions/$sid")"
expect_eq "  ... reversed, with its port" "100.64.0.1 100.64.0.0 pf:port:b1" \
  "$(body '[.local_ip, .peer_ip, .location.id] | join(" ")')"
expect_eq "delete before it is active: 409" 409 "$(api DELETE "$tok_b" /sessions/{session_id} "/sessions/$sid")"
sql "UPDATE peering_requests SET state = 'provisioning' WHERE id = $rid;
     UPDATE peering_requests SET state = 'active' WHERE id = $rid" >/dev/null
expect_eq "active" 200 "$(api GET "$tok_a" /sessions/{session_id} "/sessions/$sid")"
expect_eq "  ... status active" active "$(body .status)"
expect_eq "gamma deletes it: 404" 404 "$(api DELETE "$tok_c" /sessions/{session_id} "/sessions/$sid")"
expect_eq "beta deletes it: decommissioning" 200 "$(api DELETE "$tok_b" /sessions/{session_id} "/sessions/$sid")"
expect_eq "  ... status" "decommissioning decommissioning" "$(body '[.status, .peerflow_state] | join(" ")')"

# pending sessions: the peer's delete rejects, the requester's cancels
api POST "$tok_a" /sessions /sessions '[{"local_asn": 64500, "peer_asn": 64502, "location": "pf:port:a3"}]' >/dev/null
s2=$(body '.sessions[0].session_id')
expect_eq "gamma deletes a pending session" 200 "$(api DELETE "$tok_c" /sessions/{session_id} "/sessions/$s2")"
expect_eq "  ... rejected" "rejected rejected" "$(body '[.status, .peerflow_state] | join(" ")')"
api POST "$tok_a" /sessions /sessions '[{"local_asn": 64500, "peer_asn": 64502, "location": "pf:port:a3"}]' >/dev/null
s3=$(body '.sessions[0].session_id')
expect_eq "alpha deletes its pending session" 200 "$(api DELETE "$tok_a" /sessions/{session_id} "/sessions/$s3")"
expect_eq "  ... cancelled" "cancelled cancelled" "$(body '[.status, .peerflow_state] | join(" ")')"
expect_eq "deleting it again: 409" 409 "$(api DELETE "$tok_a" /sessions/{session_id} "/sessions/$s3")"
expect_eq "listed with the rejected one, paged" 200 "$(api GET "$tok_a" /sessions '/sessions?asn=64502&max_results=1')"
expect_eq "  ... oldest first" "$s2" "$(body '.items[0].session_id')"
expect_eq "  ... page 2" 200 "$(api GET "$tok_a" /sessions "/sessions?asn=64502&max_results=1&next_token=$(body .next_token)")"
expect_eq "  ... the cancelled one, no more" "$s3 null" "$(body '[.items[0].session_id, .next_token] | map(tostring) | join(" ")')"

# ------------------------------------------------- both parties at once
one='[{"local_asn": 64500, "peer_asn": 64502, "location": "pf:port:a4"}]'
racers=()
for i in 1 2; do
  curl -s -o "$tmp/race$i.json" -w '%{http_code}' -H "Authorization: Bearer $tok_a" \
    -H 'Content-Type: application/json' --data-binary "$one" "$base$P/sessions" >"$tmp/race$i.st" &
  racers+=($!)
done
wait "${racers[@]}"
expect_eq "two at once for the same place: one 200, one 409" "200 409" \
  "$(printf '%s\n' "$(cat "$tmp/race1.st")" "$(cat "$tmp/race2.st")" | sort | paste -sd' ')"
for i in 1 2; do echo "POST /sessions $(cat "$tmp/race$i.st") $tmp/race$i.json" >>"$tmp/answers"; done
expect_eq "  ... one live request on a4" 1 "$(sql "SELECT count(*) FROM peering_requests r JOIN ports p ON p.id = r.requester_port_id
  WHERE p.name = 'a4' AND r.state = 'pending'")"

# both parties delete the same pending session at once: one decides
api POST "$tok_a" /sessions /sessions '[{"local_asn": 64500, "peer_asn": 64502, "location": "pf:port:a3"}]' >/dev/null
s4=$(body '.sessions[0].session_id')
racers=()
for t in "$tok_a" "$tok_c"; do
  curl -s -o "$tmp/del$t.json" -w '%{http_code}' -X DELETE -H "Authorization: Bearer $t" \
    "$base$P/sessions/$s4" >"$tmp/del$t.st" &
  racers+=($!)
done
wait "${racers[@]}"
expect_eq "both sides delete at once: one 200, one 409" "200 409" \
  "$(printf '%s\n' "$(cat "$tmp/del$tok_a.st")" "$(cat "$tmp/del$tok_c.st")" | sort | paste -sd' ')"
for t in "$tok_a" "$tok_c"; do echo "DELETE /sessions/{session_id} $(cat "$tmp/del$t.st") $tmp/del$t.json" >>"$tmp/answers"; done
expect_eq "  ... the session closed once" 1 \
  "$(sql "SELECT count(*) FROM audit_events WHERE request_id = (SELECT id FROM peering_requests WHERE session_id = '$s4')
          AND action IN ('request.rejected', 'request.cancelled')")"
expect_eq "an unknown path under the prefix: a JSON 404" not_found \
  "$(curl -s -H "Authorization: Bearer $tok_a" "$base$P/nothing" | jq -r .error.code)"

# ---------------------------------------------------- a configured prefix
port2=$(free_port)
PEERFLOW_PEERING_API_BASE=/papi/ "$pf" serve --listen "127.0.0.1:$port2" --no-workers >"$tmp/serve2.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port2/healthz" >/dev/null && break; sleep 0.2; done
expect_eq "PEERFLOW_PEERING_API_BASE=/papi/ serves /papi" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok_a" "http://127.0.0.1:$port2/papi/sessions?asn=64501")"
expect_eq "  ... and no longer the default prefix" 404 \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok_a" "http://127.0.0.1:$port2$P/sessions?asn=64501")"
expect_eq "  ... its document says so" /papi \
  "$(curl -s "http://127.0.0.1:$port2/papi/openapi.json" | jq -r '.servers[0].url')"
expect_error "a prefix that is not a path is refused" "peering_api_base is a path" \
  env PEERFLOW_PEERING_API_BASE=papi "$pf" config check

# ------------------------------------------------------ PeeringDB pins (API)
expect_eq "pins: none yet" 200 "$(get "$tok_b" /api/v1/networks/64500/peeringdb-pins)"
expect_eq "  ... []" "[]" "$(body '.pinned | tostring')"
expect_eq "alpha's admin pins name and policy" 200 \
  "$(post "$tok_a" /api/v1/networks/64500/peeringdb-pins '{"pinned": ["name", "policy", "name"]}')"
expect_eq "  ... stored once each" '{name,policy}' "$(sql "SELECT peeringdb_pinned FROM networks WHERE asn = 64500")"
expect_eq "  ... audited" 1 "$(sql "SELECT count(*) FROM audit_events WHERE action = 'network.peeringdb_pinned'")"
expect_eq "beta may not pin alpha's fields: 403" 403 \
  "$(post "$tok_b" /api/v1/networks/64500/peeringdb-pins '{"pinned": []}')"
expect_eq "an unknown field: 422" 422 "$(post "$tok_a" /api/v1/networks/64500/peeringdb-pins '{"pinned": ["ports"]}')"
expect_eq "  ... nothing changed" '{name,policy}' "$(sql "SELECT peeringdb_pinned FROM networks WHERE asn = 64500")"

# ----------------------------------------- every answer against the document
out=$(python3 "$root/tests/integration/openapi_check.py" "$root/docs/peering-api.openapi.json" "$tmp/answers")
rc=$?
echo "$out" | grep -E 'FAIL|answers checked'
expect_eq "every answer matches docs/peering-api.openapi.json" 0 "$rc"
# ... and the check can fail: a location without its type, an undocumented status
echo '{"items": [{"id": "pf:port:a1"}]}' >"$tmp/wrong.json"
printf 'GET /locations 200 %s\nGET /sessions 418 %s\n' "$tmp/wrong.json" "$tmp/wrong.json" >"$tmp/wrong.answers"
python3 "$root/tests/integration/openapi_check.py" "$root/docs/peering-api.openapi.json" "$tmp/wrong.answers" >"$tmp/wrong.out"
expect_eq "  ... the checker refuses a wrong answer" "1 2" "$? $(grep -c '^FAIL' "$tmp/wrong.out")"
expect_eq "  ... and there were many" yes "$([ "$(wc -l <"$tmp/answers")" -ge 45 ] && echo yes)"

# the servers stop cleanly: no sanitizer report in their logs
for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
pids=()
expect_eq "no sanitizer report from serve" 0 "$(cat "$tmp"/serve*.log | grep -c -E 'Sanitizer|runtime error')"

finish
