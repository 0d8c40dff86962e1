#!/usr/bin/env bash
# Layer 3 end to end (issue 12): a circuit's BGP session on real routers.
#
#   PostgreSQL (the cluster of tests/run.sh, a database of our own),
#   `peerflow serve` with its workers, Open vSwitch with switches
#   s1 - s2 - s3 (scripts/fabric.sh), member A (AS64500) on s1 and member B
#   (AS64501) on s3, BIRD 2 in A's namespace and FRR (zebra, staticd, bgpd)
#   in B's (tests/e2e/routers.sh).
#
#   1. the operator: fabric, networks with their routing facts (registered
#      prefixes, max-prefix), address pools 100.64.0.0/16 and 2001:db8:100::/48
#   2. A's admin files a request to B with a TCP-MD5 secret; no config yet
#   3. B's admin approves: the circuit becomes active, a /31 and a /127 are
#      allocated (requester the lower address, peer the upper)
#   4. each member interface gets its allocated addresses; BIRD in A loads
#      exactly `peerflow bgp-config ID --side requester --daemon bird2` by
#      include, FRR in B exactly the API's bgp-config?daemon=frr of B's
#      admin by vtysh -f; B also announces 192.0.2.0/24 and 2001:db8:ff::/48,
#      which it did not register
#   5. Established over IPv4 and IPv6 on both daemons; A learns B's
#      registered prefixes only, B learns A's; the secret is in neither mail,
#      log nor audit log
#   6. B leaks (its export policy replaced by hand, more prefixes announced:
#      too long, bogons, the default route): A's import policy on its own
#      keeps all of them out
#   7. decommission: the sessions go down, the pools have nothing allocated,
#      a new request gets the same addresses
#   8. that request (no secret) brings the sessions up again
#   9. an IPv4-only request with a secret: one session; B registers a /23
#      and may send 2 routes: a more specific /24 of it is accepted, a
#      third route trips BIRD's import limit (restart)
#
# Needs root, Open vSwitch, bird2, frr, jq and curl (else: skipped, exit 77)
# and what tests/run.sh exports: PEERFLOW_TEST_PG_HOST, PEERFLOW_TEST_PG_PORT,
# PEERFLOW_BIN, PEERFLOW_ROOT. Only addresses inside the test namespaces are
# used. Everything it starts is stopped and removed on exit, also on failure
# or interruption. Ends with "N passed, N failed".
source "$(dirname "$0")/../integration/lib.sh"
root=${PEERFLOW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/tests/e2e/routers.sh"
pf=${PEERFLOW_BIN:-$root/build/asan/peerflow}
t0=$SECONDS

missing=$(rt_missing jq curl)
if [ -n "$missing" ]; then
  echo "skipped: missing here: $missing"
  exit 77
fi
if ! rt_md5_ok; then
  echo "FAIL: this kernel has no TCP-MD5 (CONFIG_TCP_MD5SIG is not y): BGP sessions with a secret cannot be tested"
  exit 1
fi

# ------------------------------------------------------------ set-up, teardown
fab=/tmp/pfb.$$            # short: unix socket paths are limited
ns=pfb$$
tmp=$(mktemp -d /tmp/peerflow-bgp.XXXXXX)
chmod 711 "$tmp"           # FRR's daemons (user frr) pass through to their directory
db=peerflow_e2e_bgp_$$
serve_pid=
serve_log=$tmp/serve.log
export PEERFLOW_KEY_DIR=$tmp/keys   # serve and the CLI: the same secretbox key

stop_serve() {
  [ -n "$serve_pid" ] || return 0
  kill "$serve_pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$serve_pid" 2>/dev/null
  wait "$serve_pid" 2>/dev/null
  serve_rc=$?
  serve_pid=
}

cleanup() {
  rt_stop_all
  stop_serve
  bash "$root/scripts/fabric.sh" down "$fab" >/dev/null 2>&1
  "$PSQL" -h "$PEERFLOW_TEST_PG_HOST" -p "$PEERFLOW_TEST_PG_PORT" -U peerflow -d postgres -qAtc \
    "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  [ -n "${KEEP_TMP:-}" ] && { echo "kept $tmp"; return; }; rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
  fail "$*"
  if [ -s "$serve_log" ]; then echo "--- serve log (tail)"; tail -n 30 "$serve_log"; fi
  rt_logs
  finish
  exit 1
}

step() { echo "== $(( SECONDS - t0 ))s $*"; }

expect_wait() {
  local desc=$1 limit=$2; shift 2
  if rt_wait "$limit" "$@"; then pass; else fail "$desc (not within ${limit} s)"; fi
}

state_of() { sql "SELECT state FROM peering_requests WHERE id = $1"; }
state_is() { [ "$(state_of "$1")" = "$2" ]; }
# show ID JQ: a field of `peerflow request show ID`
show() { "$pf" request show "$1" | jq -r "$2"; }
# pool_allocated CIDR: the pool's "allocated" in `pool list --format json`
pool_allocated() { "$pf" pool list --format json | jq -r --arg c "$1" '.[] | select(.cidr == $c) | .allocated'; }

A=64500; B=64501
pw_a='bgp-admin-A-pass'; pw_b='bgp-admin-B-pass'

# ------------------------------------------------------------ 1. the operator
step "1. fabric, database, serve; the operator's set-up"
rt_init "$tmp/rt" || die "rt_init $tmp/rt"
fresh_db "$db" 2>"$tmp/db.log" || die "cannot create the database: $(cat "$tmp/db.log")"
{
  bash "$root/scripts/fabric.sh" up "$fab" "$ns" &&
  bash "$root/scripts/fabric.sh" switch "$fab" s1 0000000000000001 &&
  bash "$root/scripts/fabric.sh" switch "$fab" s2 0000000000000002 &&
  bash "$root/scripts/fabric.sh" switch "$fab" s3 0000000000000003 &&
  bash "$root/scripts/fabric.sh" link "$fab" s1 10 s2 10 &&
  bash "$root/scripts/fabric.sh" link "$fab" s2 11 s3 10 &&
  bash "$root/scripts/fabric.sh" host "$fab" a s1 1 &&
  bash "$root/scripts/fabric.sh" host "$fab" b s3 1
} >"$tmp/fabric.log" 2>&1 || die "fabric set-up: $(tail -n 3 "$tmp/fabric.log")"

expect_ok "network A" "$pf" network add --asn $A --name "A Net" --policy selective --contact peering@a-net.example
expect_ok "network B" "$pf" network add --asn $B --name "B Net" --policy selective --contact noc@b-net.example
for i in 1 2 3; do
  expect_ok "switch s$i" "$pf" switch add --name "s$i" --dpid "000000000000000$i" \
    --endpoint "$(bash "$root/scripts/fabric.sh" endpoint "$fab" "s$i")"
done
expect_ok "link s1-s2" "$pf" link add --a s1:10 --b s2:10
expect_ok "link s2-s3" "$pf" link add --a s2:11 --b s3:10
expect_ok "port of A on s1" "$pf" port add --network $A --switch s1 --ofport 1 --name a-1 --speed 10000
expect_ok "port of B on s3" "$pf" port add --network $B --switch s3 --ofport 1 --name b-1 --speed 10000
adduser() { printf '%s\n' "$1" | "$pf" user add --email "$2" --network "$3" --role "$4" --password-stdin; }
expect_ok "A admin" adduser "$pw_a" admin@a-net.example $A admin
expect_ok "B admin" adduser "$pw_b" admin@b-net.example $B admin

# routing facts: what each network announces, and the limits its peers apply
expect_ok "A's routing facts" "$pf" network set --asn $A --max-prefix4 100 --max-prefix6 50 --irr-as-set AS-A-NET
expect_ok "B's routing facts" "$pf" network set --asn $B --max-prefix4 200 --max-prefix6 100 --irr-as-set AS-B-NET
expect_ok "A registers 198.51.100.0/24" "$pf" network prefix add --asn $A --cidr 198.51.100.0/24
expect_ok "A registers 2001:db8:a::/48" "$pf" network prefix add --asn $A --cidr 2001:db8:a::/48
expect_ok "B registers 203.0.113.0/24" "$pf" network prefix add --asn $B --cidr 203.0.113.0/24
expect_ok "B registers 2001:db8:b::/48" "$pf" network prefix add --asn $B --cidr 2001:db8:b::/48
expect_ok "pool 100.64.0.0/16" "$pf" pool add --cidr 100.64.0.0/16
expect_ok "pool 2001:db8:100::/48" "$pf" pool add --cidr 2001:db8:100::/48
expect_eq "nothing allocated yet (IPv4)" 0 "$(pool_allocated 100.64.0.0/16)"
expect_eq "nothing allocated yet (IPv6)" 0 "$(pool_allocated 2001:db8:100::/48)"

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
PEERFLOW_SMTP_URL=file:$tmp/mail PEERFLOW_BASE_URL=$base PEERFLOW_MAIL_FROM=peerflow@ix.example \
  "$pf" serve --listen "127.0.0.1:$port" >"$serve_log" 2>&1 &
serve_pid=$!
rt_wait 15 curl -sf "$base/healthz" || die "peerflow serve did not answer /healthz"
all_connected() { [ "$(sql "SELECT count(*) FROM switches WHERE conn_state = 'connected'")" = 3 ]; }
expect_wait "the provisioner connects to s1, s2 and s3" 15 all_connected

# ------------------------------------------------------------ 2. the request
step "2. A's admin files a request to B with a TCP-MD5 secret"
out=$("$pf" request submit --as admin@a-net.example --port a-1 --peer-asn $B --bgp-md5 \
        --message "BGP e2e: A and B" 2>&1) || die "request submit: $out"
id=$(printf '%s\n' "$out" | sed -n 's/^request \([0-9]*\) submitted$/\1/p')
[ -n "$id" ] || die "no request id in: $out"
expect_eq "request $id is pending" pending "$(state_of "$id")"
expect_eq "the request asks for MD5" true "$(show "$id" '.bgp.md5')"
expect_error "no bgp-config before approval" "not approved" \
  "$pf" bgp-config "$id" --side requester --daemon bird2
tok_b=$("$pf" token create --email admin@b-net.example 2>&1) || die "token create: $tok_b"
api_config() {   # api_config ID DAEMON FILE: prints "HTTP_CODE CONTENT_TYPE"
  curl -sS -o "$3" -w '%{http_code} %{content_type}' -H "Authorization: Bearer $tok_b" \
    "$base/api/v1/requests/$1/bgp-config?daemon=$2"
}
expect_eq "the API answers 409 before approval" 409 "$(api_config "$id" frr "$tmp/early.txt" | cut -d' ' -f1)"

# ------------------------------------------------------------ 3. approved, active
step "3. B's admin approves; the circuit becomes active with its addresses"
expect_ok "B approves" "$pf" request approve "$id" --as admin@b-net.example --port b-1
expect_wait "request $id becomes active" 45 state_is "$id" active
show "$id" '.bgp' > "$tmp/bgp.json"
r4=$(jq -r '.ipv4.requester_ip' "$tmp/bgp.json"); p4=$(jq -r '.ipv4.peer_ip' "$tmp/bgp.json")
r6=$(jq -r '.ipv6.requester_ip' "$tmp/bgp.json"); p6=$(jq -r '.ipv6.peer_ip' "$tmp/bgp.json")
expect_eq "IPv4: the requester gets the lower address of the pool's first /31" 100.64.0.0 "$r4"
expect_eq "IPv4: the peer the upper" 100.64.0.1 "$p4"
expect_eq "IPv4: a /31" 31 "$(jq -r '.ipv4.prefix_length' "$tmp/bgp.json")"
expect_eq "IPv6: the requester gets the lower address of the pool's first /127" 2001:db8:100:: "$r6"
expect_eq "IPv6: the peer the upper" 2001:db8:100::1 "$p6"
expect_eq "IPv6: a /127" 127 "$(jq -r '.ipv6.prefix_length' "$tmp/bgp.json")"
expect_eq "one /31 allocated" 1 "$(pool_allocated 100.64.0.0/16)"
expect_eq "one /127 allocated" 1 "$(pool_allocated 2001:db8:100::/48)"
[ "$r4" = null ] || [ "$r6" = null ] && die "no addresses allocated: $(cat "$tmp/bgp.json")"

# ------------------------------------------------------------ 4. routers
step "4. addresses on the member interfaces, BIRD in A and FRR in B with peerflow's configs"
expect_ok "A's interface gets $r4/31 and $r6/127" rt_addr "$ns-a" eth0 "$r4/31" "$r6/127"
expect_ok "B's interface gets $p4/31 and $p6/127" rt_addr "$ns-b" eth0 "$p4/31" "$p6/127"
expect_ok "A pings B's allocated IPv4 address over the circuit" ip netns exec "$ns-a" ping -c 2 -W 2 -i 0.3 "$p4"
expect_ok "A pings B's allocated IPv6 address over the circuit" ip netns exec "$ns-a" ping -6 -c 2 -W 2 -i 0.3 "$p6"

# A: exactly the CLI's bird2 snippet, included by a main bird.conf that
# sets the router id and announces A's prefixes (static blackholes)
start_a() {   # start_a ID [SESSIONS]
  "$pf" bgp-config "$1" --side requester --daemon bird2 > "$tmp/rt/a-peerflow.conf" 2>"$tmp/a-config.err" ||
    die "bgp-config $1 --side requester --daemon bird2: $(cat "$tmp/a-config.err")"
  rt_bird_main a 10.255.0.1 "$tmp/rt/a-peerflow.conf" 198.51.100.0/24 2001:db8:a::/48
  rt_bird_start a "$ns-a" || die "BIRD in A with peerflow's config of request $1"
  pass
  mapfile -t bgp_protos < <(rt_birdc a show protocols | awk '$2 == "BGP" { print $1 }')
  expect_eq "peerflow's snippet for request $1 defines ${2:-2} BGP sessions" "${2:-2}" "${#bgp_protos[@]}"
}

# B: exactly the API's frr block, after a main config of B's own: the
# prefixes B announces (network lines, static Null0 routes through
# zebra), two of them not registered; its router id; a short hold time so
# a dead session shows within seconds (the session's hold time is the
# smaller of the two sides' proposals)
cat > "$tmp/rt/b-main.conf" <<EOF
ip route 203.0.113.0/24 Null0
ip route 192.0.2.0/24 Null0
ipv6 route 2001:db8:b::/48 Null0
ipv6 route 2001:db8:ff::/48 Null0
router bgp $B
 bgp router-id 10.255.0.2
 timers bgp 3 9
 address-family ipv4 unicast
  network 203.0.113.0/24
  network 192.0.2.0/24
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:b::/48
  network 2001:db8:ff::/48
 exit-address-family
exit
EOF
start_b() {   # start_b ID
  local code ctype
  read -r code ctype <<<"$(api_config "$1" frr "$tmp/rt/b-peerflow.conf")"
  expect_eq "the API returns B's frr config of request $1" 200 "$code"
  case $ctype in text/plain*) pass ;; *) fail "the API's config is $ctype, not text/plain" ;; esac
  "$pf" bgp-config "$1" --side peer --daemon frr > "$tmp/rt/b-cli.conf" 2>"$tmp/b-config.err" ||
    fail "bgp-config $1 --side peer --daemon frr: $(cat "$tmp/b-config.err")"
  if [ "$code" = 200 ]; then
    expect_eq "the API's config for B's admin is the CLI's --side peer" "" \
      "$(diff "$tmp/rt/b-peerflow.conf" "$tmp/rt/b-cli.conf" | head -n 5)"
  else
    # failed above; go on with the CLI's config of the same side so the
    # routers still prove the rest
    echo "   (continuing with the CLI's --side peer --daemon frr config)"
    cp "$tmp/rt/b-cli.conf" "$tmp/rt/b-peerflow.conf"
  fi
  rt_frr_start b "$ns-b" || die "FRR in B"
  expect_ok "vtysh -f loads B's main config" rt_frr_load b "$tmp/rt/b-main.conf"
  expect_ok "vtysh -f loads peerflow's frr config of request $1 as is" rt_frr_load b "$tmp/rt/b-peerflow.conf"
}
start_a "$id"
start_b "$id"

# both carry the secret, the same one
secret_a=$(sed -n 's/^[[:space:]]*password "\([^"]*\)";.*/\1/p' "$tmp/rt/a-peerflow.conf" | sort -u)
secret_b=$(sed -n 's/^[[:space:]]*neighbor [^ ]* password \([^ ]*\)[[:space:]]*$/\1/p' "$tmp/rt/b-peerflow.conf" | sort -u)
[ -n "$secret_a" ] && [ "$secret_a" = "$secret_b" ] && [ "$(printf '%s\n' "$secret_a" | wc -l)" = 1 ] && pass ||
  fail "the two configs do not carry one and the same MD5 secret (BIRD: ${#secret_a} chars, FRR: ${#secret_b} chars)"
expect_eq "the secret has 24 characters" 24 "${#secret_a}"

# ------------------------------------------------------------ 5. Established
step "5. Established over IPv4 and IPv6; each side learns the other's registered prefixes only"
bird_up() { local p; for p in "${bgp_protos[@]}"; do rt_bird_established a "$p" || return 1; done; }
frr_up() { rt_frr_established b ipv4 "$r4" && rt_frr_established b ipv6 "$r6"; }
t=$SECONDS
# Normally a second or two. 150 s: when both sides open at the same moment
# (a connection collision; seen under load) FRR answers one with an FSM
# error, and BIRD then waits its default "error wait time" of 60 s
# before it tries again.
if rt_wait 150 bird_up; then pass; else
  fail "BIRD's sessions not Established within 150 s"
  for p in "${bgp_protos[@]}"; do rt_birdc a show protocols all "$p" | sed -n '1,12p'; done
fi
expect_wait "FRR: IPv4 and IPv6 Established" 20 frr_up
frr_up && echo "   Established $(( SECONDS - t )) s after start"

bird_routes() {   # bird_routes 4|6: prefixes A imported from peerflow's sessions
  local p
  for p in "${bgp_protos[@]}"; do rt_bird_routes a "$p" "$1"; done | sort -u | paste -sd' '
}
frr_routes() { rt_frr_routes b "$1" | paste -sd' '; }
learned() {
  [ "$(bird_routes 4)" = 203.0.113.0/24 ] && [ "$(bird_routes 6)" = 2001:db8:b::/48 ] &&
    [ -n "$(frr_routes ipv4)" ] && [ -n "$(frr_routes ipv6)" ]
}
rt_wait 20 learned
expect_eq "A learns B's registered 203.0.113.0/24 and not 192.0.2.0/24" 203.0.113.0/24 "$(bird_routes 4)"
expect_eq "A learns B's registered 2001:db8:b::/48 and not 2001:db8:ff::/48" 2001:db8:b::/48 "$(bird_routes 6)"
expect_eq "B learns A's 198.51.100.0/24" 198.51.100.0/24 "$(frr_routes ipv4)"
expect_eq "B learns A's 2001:db8:a::/48" 2001:db8:a::/48 "$(frr_routes ipv6)"
adv() { rt_vtysh b -c "show bgp $1 unicast neighbors $2 advertised-routes json" | jq -r '.advertisedRoutes // {} | keys[]' | sort | paste -sd' '; }
expect_eq "B's export policy sends only its registered IPv4 prefix" 203.0.113.0/24 "$(adv ipv4 "$r4")"
expect_eq "B's export policy sends only its registered IPv6 prefix" 2001:db8:b::/48 "$(adv ipv6 "$r6")"

# the secret appears nowhere but in the two configs
leaks=0
grep -rqF -- "$secret_a" "$serve_log" "$tmp/mail" 2>/dev/null && leaks=1
[ "$(sql "SELECT count(*) FROM audit_events e WHERE position('$secret_a' in e::text) > 0")" = 0 ] || leaks=1
[ "$(sql "SELECT count(*) FROM outbox o WHERE position('$secret_a' in o::text) > 0")" = 0 ] || leaks=1
expect_eq "the MD5 secret is in no log, mail or audit event" 0 "$leaks"

# ------------------------------------------------------------ 6. B leaks
step "6. B leaks everything: A's import policy alone filters the unregistered prefixes, bogons, the default and too long ones"
# besides the unregistered prefixes: too long, bogons and the default route
leak4="203.0.113.128/25 10.99.0.0/16 100.64.200.0/24 0.0.0.0/0"
leak6="2001:db8:b:1::/64 fc00:99::/48 ::/0"
# leak_conf "AFI NEIGHBOR [PREFIX...]"...: a block that gives B's neighbor
# a permit-all outbound policy instead of peerflow's, and announces the
# PREFIXes too (static Null0 routes and network lines)
leak_conf() {
  local af c specs=("$@")
  for af in "${specs[@]}"; do
    set -- $af
    for c in "${@:3}"; do
      if [ "$1" = ipv6 ]; then echo "ipv6 route $c Null0"; else echo "ip route $c Null0"; fi
    done
  done
  echo "route-map PF-E2E-LEAK permit 10"
  echo "exit"
  echo "router bgp $B"
  for af in "${specs[@]}"; do
    set -- $af
    echo " address-family $1 unicast"
    for c in "${@:3}"; do echo "  network $c"; done
    # undo whatever outbound policy peerflow's config gave the neighbor
    grep -E "^[[:space:]]*neighbor $2 (route-map|prefix-list|filter-list|distribute-list) [^ ]+ out[[:space:]]*$" \
      "$tmp/rt/b-peerflow.conf" | sed 's/^[[:space:]]*/  no /'
    echo "  neighbor $2 route-map PF-E2E-LEAK out"
    echo " exit-address-family"
  done
  echo "exit"
}
leak_conf "ipv4 $r4 $leak4" "ipv6 $r6 $leak6" > "$tmp/rt/b-leak.conf"
expect_ok "B's outbound policy replaced by permit-all" rt_frr_load b "$tmp/rt/b-leak.conf"
rt_vtysh b -c "clear bgp ipv4 unicast $r4 soft out" -c "clear bgp ipv6 unicast $r6 soft out" >/dev/null 2>&1
# (B then also sends A's own prefixes back: BIRD drops them for the AS path loop)
leaking() {
  local a4 a6 c
  a4=" $(adv ipv4 "$r4") "; a6=" $(adv ipv6 "$r6") "
  for c in 192.0.2.0/24 $leak4; do [[ $a4 == *" $c "* ]] || return 1; done
  for c in 2001:db8:ff::/48 $leak6; do [[ $a6 == *" $c "* ]] || return 1; done
}
if rt_wait 20 leaking; then pass; else
  fail "B does not send the unregistered prefixes after the leak (IPv4: $(adv ipv4 "$r4"); IPv6: $(adv ipv6 "$r6"))"
  rt_vtysh b -c "show bgp ipv4 unicast neighbors $r4" | grep -iE 'route map|prefix list|state' | sed 's/^/   /'
fi
sleep 3   # time for A to receive and judge them
expect_eq "A still has only B's registered IPv4 prefix (not 192.0.2.0/24 $leak4)" 203.0.113.0/24 "$(bird_routes 4)"
expect_eq "A still has only B's registered IPv6 prefix (not 2001:db8:ff::/48 $leak6)" 2001:db8:b::/48 "$(bird_routes 6)"
expect_ok "the sessions are still Established" bird_up

# ------------------------------------------------------------ 7. decommission
step "7. decommission: the sessions go down, the addresses are free again"
hold=$(rt_vtysh b -c "show bgp neighbors $r4 json" | jq -r --arg n "$r4" '.[$n].bgpTimerHoldTimeMsecs // 180000')
limit=$(( hold / 1000 + 20 ))
expect_ok "A's admin decommissions" "$pf" request decommission "$id" --as admin@a-net.example
expect_wait "request $id reaches decommissioned" 45 state_is "$id" decommissioned
t=$SECONDS
bird_down() { local p; for p in "${bgp_protos[@]}"; do ! rt_bird_established a "$p" || return 1; done; }
frr_down() { ! rt_frr_established b ipv4 "$r4" && ! rt_frr_established b ipv6 "$r6"; }
expect_wait "BIRD's sessions are down (hold time $(( hold / 1000 )) s)" "$limit" bird_down
expect_wait "FRR's sessions are down" 10 frr_down
echo "   down $(( SECONDS - t )) s after decommissioned"
sleep 5
if bird_up || rt_frr_established b ipv4 "$r4" || rt_frr_established b ipv6 "$r6"; then
  fail "a session came back without the circuit"
else pass; fi
expect_eq "the /31 is released" 0 "$(pool_allocated 100.64.0.0/16)"
expect_eq "the /127 is released" 0 "$(pool_allocated 2001:db8:100::/48)"

out=$("$pf" request submit --as admin@a-net.example --port a-1 --peer-asn $B --message "BGP e2e: again" 2>&1) ||
  die "second request submit: $out"
id2=$(printf '%s\n' "$out" | sed -n 's/^request \([0-9]*\) submitted$/\1/p')
[ -n "$id2" ] || die "no second request id in: $out"
expect_ok "B approves request $id2" "$pf" request approve "$id2" --as admin@b-net.example --port b-1
expect_wait "request $id2 becomes active" 45 state_is "$id2" active
expect_eq "request $id2 gets the released IPv4 addresses" "$r4 $p4" "$(show "$id2" '"\(.bgp.ipv4.requester_ip) \(.bgp.ipv4.peer_ip)"')"
expect_eq "request $id2 gets the released IPv6 addresses" "$r6 $p6" "$(show "$id2" '"\(.bgp.ipv6.requester_ip) \(.bgp.ipv6.peer_ip)"')"
expect_eq "request $id2 asked for no MD5" false "$(show "$id2" '.bgp.md5')"

step "8. request $id2's sessions, without a secret, on the same addresses"
rt_bird_stop a
rt_frr_stop b
start_a "$id2"
start_b "$id2"
expect_eq "no secret in A's config of request $id2" 0 "$(grep -c 'password' "$tmp/rt/a-peerflow.conf")"
expect_eq "no secret in B's config of request $id2" 0 "$(grep -c 'password' "$tmp/rt/b-peerflow.conf")"
if rt_wait 150 bird_up; then pass; else fail "BIRD's sessions of request $id2 not Established within 150 s"; fi
expect_wait "FRR: request $id2's sessions Established" 20 frr_up
rt_wait 20 learned
expect_eq "A learns B's registered IPv4 prefix again" 203.0.113.0/24 "$(bird_routes 4)"
expect_eq "B learns A's registered IPv6 prefix again" 2001:db8:a::/48 "$(frr_routes ipv6)"

# ------------------------------------------------------------ 9. IPv4 only, max-prefix
step "9. an IPv4-only request with a secret; B registers 203.0.112.0/23 and may send 2 routes"
expect_ok "A's admin decommissions request $id2" "$pf" request decommission "$id2" --as admin@a-net.example
expect_wait "request $id2 reaches decommissioned" 45 state_is "$id2" decommissioned
expect_ok "B registers 203.0.112.0/23 too" "$pf" network prefix add --asn $B --cidr 203.0.112.0/23
expect_ok "B's max-prefix4 becomes 2" "$pf" network set --asn $B --max-prefix4 2
out=$("$pf" request submit --as admin@a-net.example --port a-1 --peer-asn $B --bgp-md5 --no-bgp-ipv6 \
        --message "BGP e2e: IPv4 only" 2>&1) || die "third request submit: $out"
id3=$(printf '%s\n' "$out" | sed -n 's/^request \([0-9]*\) submitted$/\1/p')
[ -n "$id3" ] || die "no third request id in: $out"
expect_ok "B approves request $id3" "$pf" request approve "$id3" --as admin@b-net.example --port b-1
expect_wait "request $id3 becomes active" 45 state_is "$id3" active
expect_eq "request $id3 gets the IPv4 addresses" "$r4 $p4" "$(show "$id3" '"\(.bgp.ipv4.requester_ip) \(.bgp.ipv4.peer_ip)"')"
expect_eq "request $id3 has no IPv6 session" null "$(show "$id3" '.bgp.ipv6')"
expect_eq "no /127 allocated for it" 0 "$(pool_allocated 2001:db8:100::/48)"
rt_bird_stop a
rt_frr_stop b
start_a "$id3" 1
start_b "$id3"
expect_eq "B's config of request $id3 has no IPv6 neighbor" 0 "$(grep -c "neighbor $r6 " "$tmp/rt/b-peerflow.conf")"
v4_up() { rt_bird_established a "${bgp_protos[0]}" && rt_frr_established b ipv4 "$r4"; }
expect_wait "request $id3's IPv4 session Established (with its secret)" 150 v4_up
# B leaks a more specific of its new /23 (A accepts up to /24): with its
# registered 203.0.113.0/24, 2 routes, at the limit (192.0.2.0/24 A drops)
leak_conf "ipv4 $r4 203.0.112.0/24" > "$tmp/rt/b-more.conf"
expect_ok "B leaks and announces 203.0.112.0/24" rt_frr_load b "$tmp/rt/b-more.conf"
rt_vtysh b -c "clear bgp ipv4 unicast $r4 soft out" >/dev/null 2>&1
two() { [ "$(bird_routes 4)" = "203.0.112.0/24 203.0.113.0/24" ]; }
if rt_wait 20 two; then pass; else fail "A does not accept the more specific 203.0.112.0/24 of B's /23: has $(bird_routes 4)"; fi
expect_ok "at 2 routes (B's max-prefix4) the session stays up" v4_up
dropped() { rt_vtysh b -c "show bgp neighbors $r4 json" | jq -r --arg n "$r4" '.[$n].connectionsDropped // 0'; }
dropped_before=$(dropped)
# a third accepted route exceeds B's max-prefix4: BIRD's import limit restarts the session
leak_conf "ipv4 $r4 203.0.112.0/23" > "$tmp/rt/b-over.conf"
expect_ok "B announces 203.0.112.0/23 (a third route)" rt_frr_load b "$tmp/rt/b-over.conf"
limit_hit() { grep -qi 'limit exceeded' "$RT_DIR/a/bird.log"; }
if rt_wait 20 limit_hit; then pass; else fail "BIRD did not log its import limit exceeded: $(tail -n 5 "$RT_DIR/a/bird.log")"; fi
was_dropped() { [ "$(dropped)" -gt "$dropped_before" ]; }
if rt_wait 15 was_dropped; then pass; else
  fail "FRR saw no dropped connection after A's limit (connectionsDropped $dropped_before -> $(dropped))"; fi

out=$("$pf" audit verify 2>&1); rc=$?
if [ $rc -eq 0 ] && [[ $out == "audit log OK"* ]]; then pass; else fail "audit verify: exit $rc: $out"; fi

# ------------------------------------------------------------ the server
step "serve stops cleanly"
rt_stop_all
stop_serve
if [ "${serve_rc:-1}" -eq 0 ] && ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error' "$serve_log"; then
  pass
else
  fail "peerflow serve exited $serve_rc: $(grep -E 'Sanitizer|runtime error' "$serve_log" | head -n 3)"
  tail -n 40 "$serve_log"
fi
echo "bgp e2e took $(( SECONDS - t0 )) s"
finish
