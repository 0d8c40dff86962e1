#!/usr/bin/env bash
# The core's promises under pressure, over real HTTP against `peerflow serve`
# and a real PostgreSQL (issue "Trust", items 1, 2 and 4):
#
#   1. both sides approving at the same moment: every request leaves
#      pending, with exactly one job; the database itself refuses
#      `approved` without an approve per side, and an approval for another
#      network or side;
#   2. isolation whatever role connects: serve on a superuser switches to
#      peerflow_app (a third network still gets 404), a BYPASSRLS or
#      table-owning login without the role is refused with one line, the
#      operator scope cannot be taken with set_config, operator-only
#      reports and /metrics stay the operators';
#   4. the requester's suggestion reserves none of the peer's ports, and the
#      per-network submission limits answer 429 with Retry-After.
source "$(dirname "$0")/lib.sh"
pf=$PEERFLOW_BIN
tmp=$(mktemp -d /tmp/pf-trust-test.XXXXXX)
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
fresh_db peerflow_trust || { echo "cannot create the database"; exit 1; }
app_url=$PEERFLOW_DATABASE_URL
worker_url=$PEERFLOW_WORKER_DATABASE_URL
super_url=$PEERFLOW_MIGRATE_DATABASE_URL

q() { "$pf" "$@" >/dev/null || { echo "set-up failed: $*"; exit 1; }; }
q network add --asn 64700 --name "Alpha" --contact noc@alpha.example
q network add --asn 64701 --name "Beta" --contact noc@beta.example
q network add --asn 64702 --name "Gamma" --contact noc@gamma.example
q switch add --name s1 --dpid 00000000000000b1
q switch add --name s2 --dpid 00000000000000b2
q link add --a s1:10 --b s2:10
q port add --network 64700 --switch s1 --ofport 1 --name a-trunk --mode trunk
q port add --network 64701 --switch s2 --ofport 1 --name b-trunk --mode trunk
q port add --network 64701 --switch s2 --ofport 2 --name b-1
q port add --network 64702 --switch s2 --ofport 3 --name c-1
for u in "admin@alpha.example --network 64700 --role admin" \
         "eng@alpha.example --network 64700 --role engineer" \
         "admin@beta.example --network 64701 --role admin" \
         "admin@gamma.example --network 64702 --role admin" \
         "op@ix.example --operator"; do
  # shellcheck disable=SC2086
  q user add --email $u
done
tok_a=$("$pf" token create --email admin@alpha.example --name t)
tok_eng=$("$pf" token create --email eng@alpha.example --name t)
tok_b=$("$pf" token create --email admin@beta.example --name t)
tok_c=$("$pf" token create --email admin@gamma.example --name t)
tok_op=$("$pf" token create --email op@ix.example --name t)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
# start_serve: serve --no-workers on $base with the environment as it is
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
# call METHOD TOKEN PATH [JSON]: the body in $tmp/body, prints the status
call() {
  local data=()
  [ $# -ge 4 ] && data=(-H 'Content-Type: application/json' --data-binary "$4")
  curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -X "$1" \
    -H "Authorization: Bearer $2" "${data[@]}" "$base$3"
}
body() { jq -r "$1" <"$tmp/body"; }

# ------------------------------------------------ 1. both sides at once
start_serve
N=40
ids=()
for i in $(seq 1 $N); do
  st=$(call POST "$tok_eng" /api/v1/requests "{\"port\": \"a-trunk\", \"vlan\": $((100 + i)), \"peer_asn\": 64701}")
  [ "$st" = 201 ] || { fail "submission $i: $st $(cat "$tmp/body")"; continue; }
  ids+=("$(body .id)")
done
expect_eq "$N engineer submissions" "$N" "${#ids[@]}"
# each pair of decisions goes out together, all pairs at once
i=0
for id in "${ids[@]}"; do
  i=$((i + 1))
  curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $tok_a" \
    -H 'Content-Type: application/json' --data-binary '{}' \
    "$base/api/v1/requests/$id/approve" >>"$tmp/st_a" &
  curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $tok_b" \
    -H 'Content-Type: application/json' --data-binary "{\"port\": \"b-trunk\", \"vlan\": $((100 + i))}" \
    "$base/api/v1/requests/$id/approve" >>"$tmp/st_b" &
done
wait $(jobs -p | grep -v "^$serve_pid$") 2>/dev/null
expect_eq "every requester-side approval answered 200" "$N" "$(grep -c '^200$' "$tmp/st_a")"
expect_eq "every peer-side approval answered 200" "$N" "$(grep -c '^200$' "$tmp/st_b")"
expect_eq "no request left pending, all approved" "0 $N" \
  "$(sql "SELECT count(*) FILTER (WHERE state = 'pending') || ' ' || count(*) FILTER (WHERE state = 'approved') FROM peering_requests")"
expect_eq "exactly one provision job per request" "$N" \
  "$(sql "SELECT count(*) FROM (SELECT request_id FROM jobs WHERE kind = 'provision' GROUP BY request_id HAVING count(*) = 1) x")"
expect_eq "two approvals per request" "$((2 * N))" "$(sql "SELECT count(*) FROM approvals")"

# the database refuses the impossible by itself, whoever writes
call POST "$tok_eng" /api/v1/requests '{"port": "a-trunk", "vlan": 900, "peer_asn": 64701}' >/dev/null
one=$(body .id)
call POST "$tok_a" "/api/v1/requests/$one/approve" '{}' >/dev/null
out=$("$PSQL" "$worker_url" -qAtX -c "SET peerflow.operator = 'on'" \
        -c "UPDATE peering_requests SET state = 'approved' WHERE id = $one" 2>&1)
case $out in *"before both sides approved"*) pass ;; *) fail "approved with one approval: $out" ;; esac
out=$("$PSQL" "$worker_url" -qAtX -c "SET peerflow.operator = 'on'" \
        -c "INSERT INTO approvals (request_id, network_id, side, decision, via, user_id)
            SELECT $one, (SELECT id FROM networks WHERE asn = 64702), 'peer', 'approve', 'cli',
                   (SELECT id FROM users WHERE email = 'admin@gamma.example')" 2>&1)
case $out in *"must be the peer network"*) pass ;; *) fail "an approval by a third network: $out" ;; esac
# network B may write an approval only as B: not on the requester's side,
# not as another network (row-level security of peerflow_app)
beta=$(sql "SELECT id FROM networks WHERE asn = 64701")
gamma=$(sql "SELECT id FROM networks WHERE asn = 64702")
out=$("$PSQL" "$app_url" -qAtX -c "SET peerflow.network_id = '$gamma'" \
        -c "INSERT INTO approvals (request_id, network_id, side, decision, via, user_id)
            VALUES ($one, $beta, 'peer', 'approve', 'api', (SELECT id FROM users WHERE email = 'admin@beta.example'))" 2>&1)
case $out in *"row-level security"*) pass ;; *) fail "network C wrote B's approval: $out" ;; esac
expect_eq "the half-approved request is still pending with one approval" "pending 1" \
  "$(sql "SELECT state || ' ' || (SELECT count(*) FROM approvals WHERE request_id = $one) FROM peering_requests WHERE id = $one")"

# ------------------------------------------------ 4. suggestions and limits
# A suggests B's trunk VLAN 77: nothing of B's is reserved by it
st=$(call POST "$tok_a" /api/v1/requests '{"port": "a-trunk", "vlan": 950, "peer_asn": 64701, "peer_port": "b-trunk", "peer_vlan": 77}')
expect_eq "a submission suggesting the peer's port" 201 "$st"
sugg=$(body .id)
expect_eq "the suggestion is shown" "b-trunk 77 null" "$(body '"\(.suggested_peer.port) \(.suggested_peer.vlan) \(.peer.port)"')"
b_trunk=$(sql "SELECT id FROM ports WHERE name = 'b-trunk'")
expect_eq "no endpoint of the peer held by the suggestion" 0 \
  "$(sql "SELECT count(*) FROM request_endpoints WHERE port_id = $b_trunk AND vlan = 77")"
# so B can use its own VLAN 77
st=$(call POST "$tok_b" /api/v1/requests '{"port": "b-trunk", "vlan": 77, "peer_asn": 64702}')
expect_eq "the peer uses the suggested VLAN for itself" 201 "$st"
# B approving A's request with nothing given takes the suggestion, now taken
st=$(call POST "$tok_b" "/api/v1/requests/$sugg/approve" '{}')
expect_eq "approving onto a VLAN in use is a conflict" "409 endpoint_in_use" "$st $(body .error.code)"
st=$(call POST "$tok_b" "/api/v1/requests/$sugg/approve" '{"vlan": 78}')
expect_eq "the peer approves with a VLAN of its choice" "200 approved b-trunk 78" \
  "$st $(body '"\(.state) \(.peer.port) \(.peer.vlan)"')"

stop_serve
PEERFLOW_MAX_OPEN_REQUESTS=3 PEERFLOW_MAX_SUBMISSIONS_PER_HOUR=1000 start_serve
# Gamma has one open request (B's), so it may open two more
for v in 1 2; do
  st=$(call POST "$tok_c" /api/v1/requests "{\"port\": \"c-1\", \"peer_asn\": 64700}")
  [ "$v" = 1 ] && expect_eq "Gamma's first submission" 201 "$st"
done
expect_eq "the access port is taken by the first" "409" "$st"
st=$(call POST "$tok_eng" /api/v1/requests '{"port": "a-trunk", "vlan": 990, "peer_asn": 64702}')
expect_eq "Alpha, far above the open limit, is refused" "429 too_many_open_requests" "$st $(body .error.code)"
grep -qi '^Retry-After: [1-9]' "$tmp/headers" && pass || fail "no Retry-After on the 429: $(cat "$tmp/headers")"
expect_eq "nothing was written for the refused submission" 0 \
  "$(sql "SELECT count(*) FROM peering_requests WHERE requester_vlan = 990")"
stop_serve
PEERFLOW_MAX_SUBMISSIONS_PER_HOUR=1 start_serve
# Gamma has submitted one request in the last hour: the next is refused
st=$(call POST "$tok_c" /api/v1/requests '{"port": "c-1", "peer_asn": 64701}')
expect_eq "the hourly limit" "429 too_many_submissions" "$st $(body .error.code)"
ra=$(grep -i '^Retry-After:' "$tmp/headers" | tr -dc 0-9)
[ -n "$ra" ] && [ "$ra" -ge 1 ] && [ "$ra" -le 3600 ] && pass || fail "Retry-After '$ra' is not 1..3600"
case $(body .error.message) in *"try again in"*) pass ;; *) fail "the message does not say when: $(cat "$tmp/body")" ;; esac
stop_serve
# at the same moment: 8 submissions of one network with room for 3, all at
# once; the count under the network's row lock lets exactly 3 through
alpha=$(sql "SELECT id FROM networks WHERE asn = 64700")
hour=$(sql "SELECT count(*) FROM peering_requests WHERE requester_network_id = $alpha
            AND created_at > now() - interval '1 hour'")
PEERFLOW_MAX_SUBMISSIONS_PER_HOUR=$((hour + 3)) start_serve
: >"$tmp/st_burst"
for v in $(seq 1001 1008); do
  curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $tok_a" \
    -H 'Content-Type: application/json' \
    --data-binary "{\"port\": \"a-trunk\", \"vlan\": $v, \"peer_asn\": 64701}" \
    "$base/api/v1/requests" >>"$tmp/st_burst" &
done
wait $(jobs -p | grep -v "^$serve_pid$") 2>/dev/null
expect_eq "concurrent submissions past the limit: exactly the room left" "3 x201 5 x429" \
  "$(grep -c '^201$' "$tmp/st_burst") x201 $(grep -c '^429$' "$tmp/st_burst") x429"
expect_eq "and exactly 3 written" 3 \
  "$(sql "SELECT count(*) FROM peering_requests WHERE requester_vlan BETWEEN 1001 AND 1008")"
stop_serve
PEERFLOW_MAX_OPEN_REQUESTS=lots expect_error "a bad limit refuses to start" "PEERFLOW_MAX_OPEN_REQUESTS must be a whole number" \
  "$pf" serve --listen "127.0.0.1:0" --no-workers
PEERFLOW_MAIL_MAX_ATTEMPTS=0 expect_error "so does a bad mail attempt count (not mail silently off)" \
  "PEERFLOW_MAIL_MAX_ATTEMPTS must be a whole number 1..1000" "$pf" worker --only mailer

# ------------------------------------------------ 2. whatever role connects
ab=${ids[0]}
# serve on the superuser: it switches to peerflow_app, a third network sees nothing
PEERFLOW_DATABASE_URL=$super_url PEERFLOW_WORKER_DATABASE_URL=$super_url start_serve
expect_eq "on a superuser login, a third network still gets 404" 404 "$(call GET "$tok_c" "/api/v1/requests/$ab")"
call GET "$tok_c" /api/v1/requests >/dev/null
expect_eq "and its list holds only its own requests" 0 \
  "$(jq "[.requests[] | select(.requester.asn != 64702 and .peer.asn != 64702)] | length" <"$tmp/body")"
expect_eq "a party reads it" 200 "$(call GET "$tok_b" "/api/v1/requests/$ab")"
expect_eq "with the other side's approver named" "admin@alpha.example admin@beta.example" \
  "$(jq -r '[.approvals[].user] | sort | join(" ")' <"$tmp/body")"
expect_eq "an operator reads it (the operator scope is granted)" 200 "$(call GET "$tok_op" "/api/v1/requests/$ab")"
call GET "$tok_op" /api/v1/requests >/dev/null
expect_eq "an operator lists every request" \
  "$(sql "SELECT count(*) FROM peering_requests")" "$(jq '.requests | length' <"$tmp/body")"
# operator-only data
expect_eq "reports.switches is the operators'" "403 operators_only" "$(call GET "$tok_c" /api/v1/reports/switches) $(body .error.code)"
expect_eq "reports.vlan_use_by_link too" 403 "$(call GET "$tok_a" /api/v1/reports/vlan_use_by_link)"
call GET "$tok_a" /api/v1/reports >/dev/null
expect_eq "a network's report list leaves them out" 0 \
  "$(jq '[.. | objects | select(.name? == "switches" or .name? == "vlan_use_by_link")] | length' <"$tmp/body")"
expect_eq "an operator runs them" 200 "$(call GET "$tok_op" /api/v1/reports/switches)"
expect_eq "with the fabric's rows" 2 "$(jq '.rows | length' <"$tmp/body" 2>/dev/null || echo "?")"
expect_eq "/metrics without a token" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$base/metrics")"
expect_eq "/metrics with a network's token" 403 "$(call GET "$tok_a" /metrics)"
expect_eq "/metrics with an operator's token" 200 "$(call GET "$tok_op" /metrics)"
grep -q "^peerflow_requests{state=\"approved\"} $((N + 1))" "$tmp/body" && pass ||
  fail "the operator's gauges do not count every request: $(grep peerflow_requests "$tmp/body")"
stop_serve

# the operator scope cannot be taken by an arbitrary statement
out=$("$PSQL" "$app_url" -qAtX -c "SET peerflow.operator = 'on'" \
        -c "SELECT count(*) FROM peering_requests" 2>&1)
expect_eq "set_config('peerflow.operator') on peerflow_app sees nothing" 0 "$out"
out=$("$PSQL" "$app_url" -qAtX -c "SET peerflow.operator_grant = '1'" -c "SET peerflow.operator = 'on'" \
        -c "SELECT count(*) FROM peering_requests" 2>&1)
expect_eq "nor does a forged grant hint" 0 "$out"
op_id=$(sql "SELECT id FROM users WHERE email = 'op@ix.example'")
out=$("$PSQL" "$app_url" -qAtX -c "SELECT pf_grant_operator($op_id, '\\x$(printf '%064d' 0)')" 2>&1)
case $out in *"live session or API token"*) pass ;; *) fail "pf_grant_operator without a credential: $out" ;; esac
out=$("$PSQL" "$app_url" -qAtX -c "DELETE FROM flows" -c "INSERT INTO request_endpoints VALUES (1, 5, 1, 'peer')" 2>&1)
expect_eq "peerflow_app may not delete flows nor write endpoints" 2 "$(grep -c 'permission denied' <<<"$out")"

# accounts are their network's: as Gamma's admin, peerflow_app sees Gamma's
# users only, and no one's sessions or API tokens but its own
gamma_admin=$(sql "SELECT id FROM users WHERE email = 'admin@gamma.example'")
as_gamma() {
  "$PSQL" "$app_url" -qAtX -c "SET peerflow.network_id = '$gamma'" \
    -c "SET peerflow.user_id = '$gamma_admin'" -c "$1" 2>&1
}
expect_eq "users: Gamma's own" "admin@gamma.example" \
  "$(as_gamma "SELECT string_agg(email, ',' ORDER BY email) FROM users")"
expect_eq "api tokens: the user's own" 1 "$(as_gamma "SELECT count(*) FROM api_tokens")"
expect_eq "others' tokens cannot be revoked" 0 \
  "$(as_gamma "WITH x AS (UPDATE api_tokens SET revoked_at = now() WHERE user_id <> $gamma_admin RETURNING 1) SELECT count(*) FROM x")"
sql "INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at)
     SELECT decode(md5(email) || md5(email), 'hex'), id, repeat('x', 40), now() + interval '1 hour'
       FROM users" >/dev/null
expect_eq "sessions: the user's own" 1 "$(as_gamma "SELECT count(*) FROM sessions")"
expect_eq "a session cannot be moved to another user" 0 \
  "$(as_gamma "WITH x AS (UPDATE sessions SET expires_at = now() WHERE user_id <> $gamma_admin RETURNING 1) SELECT count(*) FROM x")"
expect_eq "no scope, no accounts" "0 0 0" \
  "$("$PSQL" "$app_url" -qAtX -c "SELECT (SELECT count(*) FROM users) || ' ' || (SELECT count(*) FROM sessions) || ' ' || (SELECT count(*) FROM api_tokens)")"

# logins that would bypass row-level security and may not switch: refused
sql "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pf_test_bypass') THEN
    CREATE ROLE pf_test_bypass LOGIN BYPASSRLS; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pf_test_plain') THEN
    CREATE ROLE pf_test_plain LOGIN; END IF; END \$\$" >/dev/null
bypass_url=${app_url%user=*}user=pf_test_bypass
plain_url=${app_url%user=*}user=pf_test_plain
PEERFLOW_DATABASE_URL=$bypass_url expect_error "serve on a BYPASSRLS login is refused" \
  "pf_test_bypass has BYPASSRLS.*GRANT peerflow_app TO \"pf_test_bypass\"" \
  "$pf" serve --listen 127.0.0.1:0 --no-workers
PEERFLOW_WORKER_DATABASE_URL=$plain_url expect_error "a worker on a login that cannot act as peerflow_worker" \
  "cannot act as peerflow_worker.*PEERFLOW_WORKER_DATABASE_URL" "$pf" worker
PEERFLOW_WORKER_DATABASE_URL=$app_url expect_error "the web's role cannot become the worker" \
  "peerflow_app cannot act as peerflow_worker" "$pf" request list
# a login granted the role is switched to it, and then works
sql "GRANT peerflow_worker TO pf_test_bypass" >/dev/null
expect_ok "a BYPASSRLS login that may SET ROLE is switched and works" \
  env PEERFLOW_WORKER_DATABASE_URL="$bypass_url" "$pf" request list
# the table owner is switched too (serve on the owner, not a superuser)
sql "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pf_test_owner') THEN
    CREATE ROLE pf_test_owner LOGIN; END IF; END \$\$" >/dev/null
sql "ALTER TABLE peering_requests OWNER TO pf_test_owner" >/dev/null
owner_url=${app_url%user=*}user=pf_test_owner
PEERFLOW_DATABASE_URL=$owner_url expect_error "serve on the tables' owner is refused" \
  "pf_test_owner owns the tables" "$pf" serve --listen 127.0.0.1:0 --no-workers
sql "GRANT peerflow_app TO pf_test_owner" >/dev/null
PEERFLOW_DATABASE_URL=$owner_url start_serve
expect_eq "on the owner's login (switched), a third network still gets 404" 404 "$(call GET "$tok_c" "/api/v1/requests/$ab")"
stop_serve
sql "ALTER TABLE peering_requests OWNER TO peerflow" >/dev/null
sql "REVOKE peerflow_worker FROM pf_test_bypass; REVOKE peerflow_app FROM pf_test_owner" >/dev/null

finish
