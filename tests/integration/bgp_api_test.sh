#!/usr/bin/env bash
# The layer-3 API over real HTTP (curl against `peerflow serve`, docs/bgp.md):
# the submission's BGP fields, GET .../bgp-config (text/plain, the caller's
# side, 409 before approval, 422 for an unknown daemon, 403 for engineers,
# 404 for a third network, operators name the side), and
# GET/POST /api/v1/networks/ASN (its admins only, strict fields, bad
# prefixes change nothing).
source "$(dirname "$0")/lib.sh"
pf=$PEERFLOW_BIN
tmp=$(mktemp -d /tmp/pf-bgpapi-test.XXXXXX)
serve_pid=
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fresh_db peerflow_bgpapi || { echo "cannot create the database"; exit 1; }
export PEERFLOW_KEY_DIR=$tmp/keys

q() { "$pf" "$@" >/dev/null || { echo "set-up failed: $*"; exit 1; }; }
q network add --asn 64500 --name "Alpha" --contact noc@alpha.example
q network add --asn 64501 --name "Beta" --contact noc@beta.example
q network add --asn 64502 --name "Gamma" --contact noc@gamma.example
q switch add --name s1 --dpid 00000000000000a1
q port add --network 64500 --switch s1 --ofport 1 --name a1
q port add --network 64501 --switch s1 --ofport 2 --name b1
q port add --network 64502 --switch s1 --ofport 3 --name c1
q pool add --cidr 100.64.0.0/16
q pool add --cidr 2001:db8:100::/48
q network prefix add --asn 64500 --cidr 198.51.100.0/24
q network prefix add --asn 64501 --cidr 203.0.113.0/24
for u in "admin@alpha.example --network 64500 --role admin" \
         "eng@alpha.example --network 64500 --role engineer" \
         "admin@beta.example --network 64501 --role admin" \
         "admin@gamma.example --network 64502 --role admin" \
         "op@ix.example --operator"; do
  # shellcheck disable=SC2086
  "$pf" user add --email $u >/dev/null || { echo "user $u"; exit 1; }
done
tok_a=$("$pf" token create --email admin@alpha.example --name t)
tok_e=$("$pf" token create --email eng@alpha.example --name t)
tok_b=$("$pf" token create --email admin@beta.example --name t)
tok_c=$("$pf" token create --email admin@gamma.example --name t)
tok_op=$("$pf" token create --email op@ix.example --name t)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
"$pf" serve --listen "127.0.0.1:$port" --no-workers >"$tmp/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done

# post TOKEN PATH JSON / get TOKEN PATH: body in $tmp/body, headers in
# $tmp/head, prints the status
post() {
  curl -s -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' --data-binary "$3" "$base$2"
}
get() { curl -s -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' -H "Authorization: Bearer $1" "$base$2"; }
body() { jq -r "$1" <"$tmp/body"; }
header() { grep -i "^$1:" "$tmp/head" | head -1 | cut -d' ' -f2- | tr -d '\r'; }

# ------------------------------------------------------------ submission
expect_eq "bgp_md5 must be a boolean" 422 \
  "$(post "$tok_a" /api/v1/requests '{"port": "a1", "peer_asn": 64501, "bgp_md5": "maybe"}')"
expect_eq "  ... names the field" bgp_md5 "$(body .error.field)"
expect_eq "no request written" 0 "$(sql 'SELECT count(*) FROM peering_requests')"
expect_eq "submit with a secret, IPv4 only" 201 \
  "$(post "$tok_a" /api/v1/requests '{"port": "a1", "peer_asn": 64501, "bgp_md5": true, "bgp_ipv6": false}')"
id=$(body .id)
expect_eq "  ... the request says what it asked for" "true false true" \
  "$(body '[.bgp.requested.ipv4, .bgp.requested.ipv6, .bgp.md5] | map(tostring) | join(" ")')"

# ----------------------------------------------------------- bgp-config
expect_eq "bgp-config before approval: 409" 409 "$(get "$tok_a" "/api/v1/requests/$id/bgp-config?daemon=bird2")"
expect_eq "  ... no_addresses" no_addresses "$(body .error.code)"
case $(body .error.message) in *"not approved"*) pass ;; *) fail "409 message: $(body .error.message)" ;; esac

expect_eq "B approves" 200 "$(post "$tok_b" "/api/v1/requests/$id/approve" '{"port": "b1"}')"
expect_eq "  ... the addresses" "100.64.0.0 100.64.0.1 31 null" \
  "$(body '[.bgp.ipv4.requester_ip, .bgp.ipv4.peer_ip, .bgp.ipv4.prefix_length, .bgp.ipv6] | map(tostring) | join(" ")')"
secret=$(body .bgp.md5_secret)
expect_eq "  ... the admin sees the 24-character secret" 24 "${#secret}"

expect_eq "A's bird2 config" 200 "$(get "$tok_a" "/api/v1/requests/$id/bgp-config?daemon=bird2")"
expect_eq "  ... is text/plain" "text/plain; charset=utf-8" "$(header Content-Type)"
expect_eq "  ... never cached" "no-store" "$(header Cache-Control)"
grep -q "local 100.64.0.0 as 64500;" "$tmp/body" && pass || fail "A's side is not the lower address: $(cat "$tmp/body")"
grep -q "neighbor 100.64.0.1 as 64501;" "$tmp/body" && pass || fail "A's neighbour is not B"
grep -qF "\"$secret\"" "$tmp/body" && pass || fail "A's config lacks the secret"
grep -q "2001:db8" "$tmp/body" && fail "an IPv6 session although the request opted out" || pass
expect_eq "B's frr config" 200 "$(get "$tok_b" "/api/v1/requests/$id/bgp-config?daemon=frr")"
grep -q "neighbor 100.64.0.0 remote-as 64500" "$tmp/body" && pass || fail "B's neighbour is not A"
expect_eq "an unknown daemon: 422" 422 "$(get "$tok_a" "/api/v1/requests/$id/bgp-config?daemon=quagga")"
case $(body .error.message) in *"bird2, frr, junos, eos"*) pass ;; *) fail "no daemon list: $(body .error.message)" ;; esac
expect_eq "no daemon: 422" 422 "$(get "$tok_a" "/api/v1/requests/$id/bgp-config")"
expect_eq "an unknown parameter: 422" 422 "$(get "$tok_a" "/api/v1/requests/$id/bgp-config?daemon=frr&format=x")"
expect_eq "the other side's config: 403" 403 "$(get "$tok_a" "/api/v1/requests/$id/bgp-config?daemon=frr&side=peer")"
expect_eq "an engineer: 403 (the secret)" 403 "$(get "$tok_e" "/api/v1/requests/$id/bgp-config?daemon=frr")"
expect_eq "a third network: 404" 404 "$(get "$tok_c" "/api/v1/requests/$id/bgp-config?daemon=frr")"
get "$tok_e" "/api/v1/requests/$id" >/dev/null
expect_eq "the engineer sees no secret" null "$(body .bgp.md5_secret)"
expect_eq "an operator without a side: 422" 422 "$(get "$tok_op" "/api/v1/requests/$id/bgp-config?daemon=eos")"
expect_eq "an operator with one" 200 "$(get "$tok_op" "/api/v1/requests/$id/bgp-config?daemon=eos&side=peer")"
grep -q "neighbor 100.64.0.0 remote-as 64500" "$tmp/body" && pass || fail "EOS peer side"

# -------------------------------------------------------- routing facts
expect_eq "read B's facts as A" 200 "$(get "$tok_a" /api/v1/networks/64501)"
expect_eq "  ... prefixes, not editable by A" '["203.0.113.0/24"] false' \
  "$(body '[(.prefixes | tojson), (.can_edit | tostring)] | join(" ")')"
audit=$(sql 'SELECT count(*) FROM audit_events')
expect_eq "A changes B's facts: 403" 403 "$(post "$tok_a" /api/v1/networks/64501 '{"max_prefix4": 5}')"
expect_eq "an unknown field: 422" 422 "$(post "$tok_b" /api/v1/networks/64501 '{"max_prefixes": 5}')"
expect_eq "  ... named" max_prefixes "$(body .error.field)"
expect_eq "a bogon in the set: 422" 422 \
  "$(post "$tok_b" /api/v1/networks/64501 '{"prefixes": ["203.0.113.0/24", "172.16.0.0/12"]}')"
expect_eq "  ... bogon_prefix" bogon_prefix "$(body .error.code)"
expect_eq "a limit and a bad prefix together: 422" 422 \
  "$(post "$tok_b" /api/v1/networks/64501 '{"max_prefix4": 7, "prefixes": ["203.0.113.0/25"]}')"
expect_eq "  ... the limit is not set either (one transaction)" "" \
  "$(sql "SELECT max_prefix4 FROM networks WHERE asn = 64501")"
expect_eq "A posts nothing to B's facts: still 403" 403 "$(post "$tok_a" /api/v1/networks/64501 '{}')"
expect_eq "A's space: 409" 409 "$(post "$tok_b" /api/v1/networks/64501 '{"prefixes": ["198.51.0.0/16"]}')"
expect_eq "force is for operators: 403" 403 \
  "$(post "$tok_b" /api/v1/networks/64501 '{"prefixes": ["198.51.0.0/16"], "force": true}')"
expect_eq "nothing changed by the refusals" "$audit 203.0.113.0/24" \
  "$(sql "SELECT (SELECT count(*) FROM audit_events) || ' ' || string_agg(prefix::text, ',') FROM network_prefixes p JOIN networks n ON n.id = p.network_id WHERE n.asn = 64501")"
expect_eq "B sets its facts" 200 \
  "$(post "$tok_b" /api/v1/networks/64501 '{"max_prefix4": 50, "max_prefix6": 20, "irr_as_set": "AS-BETA", "prefixes": ["203.0.113.0/24", "2001:db8:b::/48"]}')"
expect_eq "  ... as sent" '50 20 AS-BETA ["203.0.113.0/24","2001:db8:b::/48"]' \
  "$(body '[.max_prefix4, .max_prefix6, .irr_as_set, (.prefixes | tojson)] | map(tostring) | join(" ")')"
expect_eq "null clears a limit" 200 "$(post "$tok_b" /api/v1/networks/64501 '{"max_prefix6": null}')"
expect_eq "  ... cleared, the rest kept" "50 null AS-BETA" \
  "$(body '[.max_prefix4, .max_prefix6, .irr_as_set] | map(tostring) | join(" ")')"
expect_eq "A's config follows: B's limit" 200 "$(get "$tok_a" "/api/v1/requests/$id/bgp-config?daemon=bird2")"
grep -q "import limit 50 action restart;" "$tmp/body" && pass || fail "A's import limit is not B's max-prefix"
expect_eq "an unknown network: 404" 404 "$(get "$tok_a" /api/v1/networks/64999)"
finish
