#!/usr/bin/env bash
# Traffic counters on the real fabric (issue 14, docs/architecture.md
# "Traffic"): `peerflow serve` with its provisioner polling every second,
# Open vSwitch with two switches s1 - s2 in a namespace of its own
# (scripts/fabric.sh), member hosts A (s1:1) and B (s2:1).
#
#   1. a circuit A -> B becomes active; pings across it make both ingress
#      flows' counters grow (the switches' flow stats, ovs-ofctl as oracle)
#      and the poller's totals follow them;
#   2. GET /api/v1/requests/ID/traffic shows a non-zero rate in both
#      directions, .../traffic.csv the same; a third network gets 404;
#   3. /metrics (operator) exports the circuit's bytes and packets;
#   4. an idle circuit costs nothing: no new sample row while nothing moves;
#   5. the circuit's flows deleted by hand on s1 and re-added by a
#      reconcile: a new segment, the totals never go down, no negative or
#      absurd rate in the series.
#
# Needs root and Open vSwitch (else skipped), and what tests/run.sh
# exports. Everything it starts is stopped and removed on exit.
source "$(dirname "$0")/lib.sh"
root=${PEERFLOW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
pf=$PEERFLOW_BIN

if [ "$(id -u)" -ne 0 ] || ! command -v ovs-vswitchd >/dev/null 2>&1; then
  echo "skipped: needs root and Open vSwitch"; exit 77
fi
fab=/tmp/pftr.$$
ns=pftr$$
tmp=$(mktemp -d /tmp/pf-traffic-test.XXXXXX)
db=peerflow_traffic_ovs_$$
serve_pid=
cleanup() {
  if [ -n "$serve_pid" ]; then
    kill "$serve_pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$serve_pid" 2>/dev/null
    wait "$serve_pid" 2>/dev/null
  fi
  bash "$root/scripts/fabric.sh" down "$fab" >/dev/null 2>&1
  "$PSQL" -h "$PEERFLOW_TEST_PG_HOST" -p "$PEERFLOW_TEST_PG_PORT" -U peerflow -d postgres -qAtc \
    "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { fail "$*"; [ -s "$tmp/serve.log" ] && tail -n 30 "$tmp/serve.log"; finish; exit 1; }

# wait_for SECONDS CMD...: CMD every 0.2 s until it succeeds
wait_for() {
  local end=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -lt "$end" ] || return 1; sleep 0.2; done
}
expect_wait() {
  local desc=$1 limit=$2; shift 2
  if wait_for "$limit" "$@"; then pass; else fail "$desc (not within $limit s)"; fi
}

fresh_db "$db" >/dev/null 2>&1 || die "cannot create the database"
F="bash $root/scripts/fabric.sh"
{
  $F up "$fab" "$ns" && $F switch "$fab" s1 0000000000000001 &&
  $F switch "$fab" s2 0000000000000002 && $F link "$fab" s1 10 s2 10 &&
  $F host "$fab" a s1 1 10.78.0.1/24 && $F host "$fab" b s2 1 10.78.0.2/24
} >"$tmp/fabric.log" 2>&1 || die "fabric: $(tail -n 3 "$tmp/fabric.log")"
# only the pings cross the circuit: no IPv6 (router solicitations, DAD),
# no ARP (its probes come seconds after a ping, in the idle check)
for h in a b; do ip netns exec "$ns-$h" sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
mac() { ip netns exec "$ns-$1" cat /sys/class/net/eth0/address; }
ip netns exec "$ns-a" ip neigh replace 10.78.0.2 lladdr "$(mac b)" dev eth0 nud permanent &&
  ip netns exec "$ns-b" ip neigh replace 10.78.0.1 lladdr "$(mac a)" dev eth0 nud permanent ||
  die "static ARP entries"

q() { "$pf" "$@" >/dev/null 2>"$tmp/q.err" || die "set-up failed: $* ($(cat "$tmp/q.err"))"; }
q network add --asn 64500 --name "A Net" --contact noc@a.example
q network add --asn 64501 --name "B Net" --contact noc@b.example
q network add --asn 64502 --name "C Net" --contact noc@c.example
for i in 1 2; do
  q switch add --name s$i --dpid 000000000000000$i --endpoint "$($F endpoint "$fab" s$i)"
done
q link add --a s1:10 --b s2:10
q port add --network 64500 --switch s1 --ofport 1 --name a-1
q port add --network 64501 --switch s2 --ofport 1 --name b-1
q user add --email admin@a.example --network 64500 --role admin
q user add --email admin@b.example --network 64501 --role admin
q user add --email admin@c.example --network 64502 --role admin
q user add --email op@ix.example --operator
tok_a=$("$pf" token create --email admin@a.example --name t)
tok_c=$("$pf" token create --email admin@c.example --name t)
tok_op=$("$pf" token create --email op@ix.example --name t)

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
PEERFLOW_COUNTER_INTERVAL=1 PEERFLOW_KEY_DIR=$tmp/keys PEERFLOW_BASE_URL=$base \
  "$pf" serve --listen "127.0.0.1:$port" >"$tmp/serve.log" 2>&1 &
serve_pid=$!
wait_for 15 curl -sf "$base/healthz" || die "peerflow serve did not answer /healthz"
connected() { [ "$(sql "SELECT count(*) FROM switches WHERE conn_state = 'connected'")" = 2 ]; }
wait_for 15 connected || die "the provisioner did not connect to s1 and s2"

# ------------------------------------------------------------ 1. counters grow
id=$("$pf" request submit --as admin@a.example --port a-1 --peer-asn 64501 --peer-port b-1 \
       --no-bgp-ipv4 --no-bgp-ipv6 2>"$tmp/q.err" | grep -o '[0-9]\+' | head -1)
[ -n "$id" ] || die "submit: $(cat "$tmp/q.err")"
q request approve "$id" --as admin@b.example
active() { [ "$(sql "SELECT state FROM peering_requests WHERE id = $id")" = active ]; }
wait_for 30 active || die "request $id did not become active"
cid=$(sql "SELECT id FROM circuits WHERE request_id = $id")
cookie=$(printf '0x5046%012x' "$cid")

# n_bytes of the circuit's ingress flow on SWITCH (in_port=1), from the switch itself
switch_bytes() {
  $F ofctl "$fab" "$1" dump-flows "cookie=$cookie/-1" | grep 'in_port=1[, ]' |
    sed -n 's/.*n_bytes=\([0-9]*\).*/\1/p' | head -1
}
total() { sql "SELECT coalesce(sum(bytes_total), -1) FROM traffic_counters WHERE circuit_id = $cid AND direction = '$1'"; }
pings() { ip netns exec "$ns-a" ping -q -c "$1" -i 0.2 -W 1 10.78.0.2 >/dev/null 2>&1; }

expect_ok "A pings B over the circuit" pings 10
ab_counted() { [ "$(switch_bytes s1)" -ge 840 ]; }
ba_counted() { [ "$(switch_bytes s2)" -ge 840 ]; }
expect_wait "s1 counts A's pings on the circuit's ingress flow" 10 ab_counted
expect_wait "s2 counts B's answers on the circuit's ingress flow" 10 ba_counted
# the poller's totals reach what the switches hold (their counters only grow)
caught_up() {
  [ "$(total a_to_b)" -ge "$(switch_bytes s1)" ] && [ "$(total b_to_a)" -ge "$(switch_bytes s2)" ] &&
    [ "$(total a_to_b)" -gt 0 ]
}
expect_wait "the poller's totals follow the switches' counters" 10 caught_up
expect_eq "the totals equal the switches' counters (one segment)" \
  "$(switch_bytes s1) $(switch_bytes s2)" "$(total a_to_b) $(total b_to_a)"

# ------------------------------------------------------------ 2. the API series
get() { curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $1" "$base$2"; }
# the last hour, to a little after now (a sample of this second is after
# a to of now)
hour() { local now; now=$(date +%s); echo "from=$((now - 3600))&to=$((now + 10))"; }
# the bytes a -> b the series holds: rate x step / 8, summed
series_bytes() { jq -r '.step as $s | [.points[] | .a_to_b_bps // 0 | . * $s / 8] | add | round' <"$tmp/body"; }
expect_eq "traffic API for A" 200 "$(get "$tok_a" "/api/v1/requests/$id/traffic?$(hour)")"
rates=$(jq -r '[.points[] | select(.a_to_b_bps != null)] | [(map(.a_to_b_bps) | max), (map(.b_to_a_bps) | max)] | map(tostring) | join(" ")' <"$tmp/body")
read -r ab_max ba_max <<<"$rates"
if awk -v a="${ab_max:-0}" -v b="${ba_max:-0}" 'BEGIN {exit !(a > 0 && b > 0)}'; then pass; else
  fail "no non-zero rate in both directions: '$rates'"; fi
expect_eq "the series sums what the poller counted (bytes)" "$(total a_to_b)" \
  "$(series_bytes)"
expect_eq "traffic CSV for A" 200 "$(get "$tok_a" "/api/v1/requests/$id/traffic.csv?$(hour)")"
csv_ab=$(awk -F, 'NR > 1 && $3 != "" && $3 + 0 > 0 {n++} END {print n + 0}' "$tmp/body")
if [ "$csv_ab" -gt 0 ]; then pass; else fail "the CSV has no non-zero a_to_b row: $(head -3 "$tmp/body")"; fi
expect_eq "a third network does not see the traffic" 404 "$(get "$tok_c" "/api/v1/requests/$id/traffic")"

# ------------------------------------------------------------ 3. /metrics
metric() { grep "^peerflow_circuit_$1_total{circuit=\"$cid\"" "$tmp/body" | grep "direction=\"$2\"" | awk '{print $2}'; }
expect_eq "/metrics for the operator" 200 "$(get "$tok_op" /metrics)"
expect_eq "/metrics: the circuit's bytes a_to_b" "$(total a_to_b)" "$(metric bytes a_to_b)"
expect_eq "/metrics: the circuit's bytes b_to_a" "$(total b_to_a)" "$(metric bytes b_to_a)"
pk=$(metric packets a_to_b)
if [ "${pk:-0}" -ge 10 ]; then pass; else fail "/metrics: packets a_to_b is '$pk', want >= 10"; fi

# ------------------------------------------------------------ 4. idle costs nothing
samples() { sql "SELECT count(*) FROM traffic_samples WHERE circuit_id = $cid"; }
polls_at() { sql "SELECT sampled_at FROM traffic_counters WHERE circuit_id = $cid AND direction = 'a_to_b'"; }
n0=$(samples); at0=$(polls_at)
sleep 4   # four polls with no traffic (pings stopped: nothing else crosses)
expect_eq "no sample row while the circuit is idle" "$n0" "$(samples)"
[ "$n0" = "$(samples)" ] || sql "SELECT * FROM traffic_samples WHERE circuit_id = $cid ORDER BY at DESC LIMIT 2"
expect_eq "nor a counter update" "$at0" "$(polls_at)"
expect_ok "pings again" pings 3
grew() { [ "$(samples)" -gt "$n0" ]; }
expect_wait "traffic writes a sample again" 10 grew

# ------------------------------------------------------------ 5. reconcile re-adds the flows
before_ab=$(total a_to_b); before_ba=$(total b_to_a)
before_seg=$(sql "SELECT segments FROM traffic_counters WHERE circuit_id = $cid AND direction = 'a_to_b'")
expect_ok "delete the circuit's flows on s1 by hand" $F ofctl "$fab" s1 del-flows "cookie=$cookie/-1"
expect_eq "s1 holds none of them" 0 "$($F ofctl "$fab" s1 dump-flows "cookie=$cookie/-1" --no-stats | grep -c cookie)"
sleep 2   # the poller sees the flow missing (no reading, nothing stored)
expect_ok "peerflow reconcile --switch s1" "$pf" reconcile --switch s1
readded() { [ "$($F ofctl "$fab" s1 dump-flows "cookie=$cookie/-1" --no-stats | grep -c cookie)" = 2 ]; }
expect_wait "the reconciler re-adds the two flows" 15 readded
expect_ok "A pings B after the reconcile" pings 5
new_segment() {
  [ "$(sql "SELECT segments FROM traffic_counters WHERE circuit_id = $cid AND direction = 'a_to_b'")" -gt "$before_seg" ]
}
expect_wait "the re-added flow starts a new segment" 10 new_segment
past() { [ "$(total a_to_b)" -ge $((before_ab + 420)) ]; }
expect_wait "the total grows by the new pings, from where it was" 10 past
if [ "$(total b_to_a)" -ge "$before_ba" ]; then pass; else fail "b_to_a total went down"; fi
expect_eq "no negative sample" 0 \
  "$(sql "SELECT count(*) FROM traffic_samples WHERE circuit_id = $cid AND least(ab_bytes, ab_packets, ba_bytes, ba_packets) < 0")"
# absurd: more than the pings could carry (a few hundred bytes a second);
# a counter taken as a difference from the old flow's would be ~2^64
expect_eq "traffic API after the reconcile" 200 "$(get "$tok_a" "/api/v1/requests/$id/traffic?$(hour)&step=10")"
max=$(jq -r '[.points[] | (.a_to_b_bps, .b_to_a_bps) | select(. != null)] | max' <"$tmp/body")
if awk -v m="${max:-x}" 'BEGIN {exit !(m > 0 && m < 100000)}'; then pass; else
  fail "rate after the reconcile is '$max' bit/s (want 0 < rate < 100000)"; fi
expect_eq "the series still sums to the totals" "$(total a_to_b)" \
  "$(series_bytes)"
finish
