#!/usr/bin/env bash
# The API read path of issue 16, over real HTTP against `peerflow serve`:
#   1. a read with a token serve has seen lately is one round trip: the
#      token is not looked up again (pf_api_token_find), the database checks
#      it in the read's own pipeline (pf_api_token_check), and nothing is
#      written (the token's row keeps its version);
#   2. what serve remembers is never trusted: a revoked token and a disabled
#      user are refused at once (401 bad_token), a user moved to another
#      network or given another role is answered as what they are now;
#      a decision with a revoked remembered token decides nothing.
source "$(dirname "$0")/lib.sh"
pf=$PEERFLOW_BIN
tmp=$(mktemp -d /tmp/pf-readpath-test.XXXXXX)
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
fresh_db peerflow_readpath || { echo "cannot create the database"; exit 1; }

q() { "$pf" "$@" >/dev/null || { echo "set-up failed: $*"; exit 1; }; }
q network add --asn 64700 --name "Alpha" --contact noc@alpha.example
q network add --asn 64701 --name "Beta" --contact noc@beta.example
q switch add --name s1 --dpid 00000000000000b1
q port add --network 64700 --switch s1 --ofport 1 --name a-1
q port add --network 64701 --switch s1 --ofport 2 --name b-1
q user add --email admin@alpha.example --network 64700 --role admin
tok=$("$pf" token create --email admin@alpha.example --name t)
id=$("$pf" request submit --as admin@alpha.example --port a-1 --peer-asn 64701 | grep -o '[0-9]\+' | head -1)
[ -n "$id" ] || { echo "set-up failed: no request"; exit 1; }
# counts calls of the SECURITY DEFINER functions (pg_stat_user_functions)
sql "ALTER DATABASE peerflow_readpath SET track_functions = 'pl'" >/dev/null

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
# get: GET the request with the token; the body in $tmp/body, prints the status
get() { curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $tok" "$base/api/v1/requests/$id"; }
body() { jq -r "$1" <"$tmp/body"; }
# reads N: N reads, prints their statuses (with the last body's my_side) once each
reads() {
  local n=$1 out=""
  for _ in $(seq "$n"); do out+="$(get) "; done
  printf '%s\n' "$out" | tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ $//'
}
calls() {
  sql "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE funcname = '$1'"
}

# ------------------------------------------------ 1. one round trip, no write
start_serve
expect_eq "the first read answers" 200 "$(get)"
expect_eq "as the requester" requester "$(body .my_side)"
row_version=$(sql "SELECT xmin || ctid FROM api_tokens")
expect_eq "20 more reads all answer" 200 "$(reads 20)"
expect_eq "with the request" "$id" "$(body .id)"
expect_eq "and the admin's actions" cancel "$(body '.actions | join(",")')"
expect_eq "the reads wrote nothing to the token" "$row_version" "$(sql "SELECT xmin || ctid FROM api_tokens")"
stop_serve
# the backends' counts reach the statistics as they exit
for _ in $(seq 50); do
  [ $(( $(calls pf_api_token_find) + $(calls pf_api_token_check) )) -ge 21 ] && break
  sleep 0.1
done
finds=$(calls pf_api_token_find)
checks=$(calls pf_api_token_check)
# serve's 4 threads each look the token up once at most, then check it
expect_eq "the token is looked up at most once per serve thread" yes "$([ "$finds" -ge 1 ] && [ "$finds" -le 4 ] && echo yes)"
expect_eq "every other read checks it in its own pipeline" 21 "$((finds + checks))"

# ------------------------------------------------ 2. never trusted
start_serve
expect_eq "reads answer (the token remembered)" 200 "$(reads 8)"
sql "UPDATE api_tokens SET revoked_at = now()" >/dev/null
expect_eq "a revoked token is refused at once, by every thread" 401 "$(reads 8)"
expect_eq "as bad_token" bad_token "$(body .error.code)"
sql "UPDATE api_tokens SET revoked_at = NULL" >/dev/null
expect_eq "reads answer again" 200 "$(reads 8)"
q user disable --email admin@alpha.example
expect_eq "a disabled user's token is refused at once" 401 "$(reads 8)"
q user enable --email admin@alpha.example
expect_eq "enabled again, reads answer" 200 "$(reads 8)"
sql "UPDATE users SET role = 'viewer' WHERE email = 'admin@alpha.example'" >/dev/null
expect_eq "a user made a viewer reads" 200 "$(reads 8)"
expect_eq "with a viewer's actions (none), not the remembered admin's" "" "$(body '.actions | join(",")')"
sql "UPDATE users SET role = 'admin', network_id = (SELECT id FROM networks WHERE asn = 64701) WHERE email = 'admin@alpha.example'" >/dev/null
expect_eq "a user moved to the other network reads" 200 "$(reads 8)"
expect_eq "as the peer now, not the remembered requester" peer "$(body .my_side)"

# a decision may use a remembered token too (the check rides with BEGIN):
# a revoked one decides nothing
approve() {
  curl -s -o "$tmp/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $tok" \
    -H 'Content-Type: application/json' --data-binary '{"port": "b-1"}' \
    "$base/api/v1/requests/$id/approve"
}
decisions() { sql "SELECT count(*) FROM approvals WHERE request_id = $id"; }
before=$(decisions)
sql "UPDATE api_tokens SET revoked_at = now()" >/dev/null
expect_eq "a decision with a revoked remembered token is refused" 401 "$(approve)"
expect_eq "as bad_token" bad_token "$(body .error.code)"
expect_eq "and decided nothing" "$before" "$(decisions)"
sql "UPDATE api_tokens SET revoked_at = NULL" >/dev/null
expect_eq "reads answer again" 200 "$(reads 8)"
expect_eq "the live token decides" 200 "$(approve)"
expect_eq "the request is approved" approved "$(body .state)"
expect_eq "one decision more" $((before + 1)) "$(decisions)"
stop_serve
finish
