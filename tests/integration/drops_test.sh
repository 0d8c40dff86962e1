#!/usr/bin/env bash
# Meter drops on the real fabric (issue 14, docs/architecture.md "Traffic"):
# `peerflow serve` with its provisioner polling every second, Open vSwitch
# with two switches s1 - s2 (scripts/fabric.sh), member hosts A (s1:1) and
# B (s2:1).
#
#   1. a circuit A -> B capped at 1 Mbit/s becomes active: a meter per end;
#      /metrics has a dropped-packets line per direction once the poller
#      read the meters (0: nothing dropped yet) and none for an uncapped
#      circuit;
#   2. a ping flood of big packets from A (far over 1 Mbit/s) is policed:
#      the switch's own meter stats (ovs-ofctl as oracle) count drops, the
#      poller's total follows them, /metrics shows them > 0 for a_to_b;
#   3. the meter deleted by hand and re-added by a reconcile (its counter
#      starts at zero again): the total never goes down and grows with
#      the new drops.
#
# Needs root and Open vSwitch (else skipped), and what tests/run.sh
# exports. Everything it starts is stopped and removed on exit.
source "$(dirname "$0")/lib.sh"
root=${PEERFLOW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
pf=$PEERFLOW_BIN

if [ "$(id -u)" -ne 0 ] || ! command -v ovs-vswitchd >/dev/null 2>&1; then
  echo "skipped: needs root and Open vSwitch"; exit 77
fi
fab=/tmp/pfdr.$$
ns=pfdr$$
tmp=$(mktemp -d /tmp/pf-drops-test.XXXXXX)
db=peerflow_drops_ovs_$$
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
  $F host "$fab" a s1 1 10.79.0.1/24 && $F host "$fab" b s2 1 10.79.0.2/24 &&
  $F host "$fab" c s1 2 10.79.1.1/24 && $F host "$fab" d s2 2 10.79.1.2/24
} >"$tmp/fabric.log" 2>&1 || die "fabric: $(tail -n 3 "$tmp/fabric.log")"

q() { "$pf" "$@" >/dev/null 2>"$tmp/q.err" || die "set-up failed: $* ($(cat "$tmp/q.err"))"; }
q network add --asn 64500 --name "A Net" --contact noc@a.example
q network add --asn 64501 --name "B Net" --contact noc@b.example
for i in 1 2; do
  q switch add --name s$i --dpid 000000000000000$i --endpoint "$($F endpoint "$fab" s$i)"
done
q link add --a s1:10 --b s2:10
q port add --network 64500 --switch s1 --ofport 1 --name a-1
q port add --network 64501 --switch s2 --ofport 1 --name b-1
q port add --network 64500 --switch s1 --ofport 2 --name a-2
q port add --network 64501 --switch s2 --ofport 2 --name b-2
q user add --email admin@a.example --network 64500 --role admin
q user add --email admin@b.example --network 64501 --role admin
q user add --email op@ix.example --operator
tok_op=$("$pf" token create --email op@ix.example --name t)

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
PEERFLOW_COUNTER_INTERVAL=1 PEERFLOW_KEY_DIR=$tmp/keys PEERFLOW_BASE_URL=$base \
  "$pf" serve --listen "127.0.0.1:$port" >"$tmp/serve.log" 2>&1 &
serve_pid=$!
wait_for 15 curl -sf "$base/healthz" || die "peerflow serve did not answer /healthz"
connected() { [ "$(sql "SELECT count(*) FROM switches WHERE conn_state = 'connected'")" = 2 ]; }
wait_for 15 connected || die "the provisioner did not connect to s1 and s2"

# ------------------------------------------------------------ 1. a capped circuit
submit() {
  "$pf" request submit --as admin@a.example --port "$1" --peer-asn 64501 --peer-port "$2" \
    --no-bgp-ipv4 --no-bgp-ipv6 "${@:3}" 2>"$tmp/q.err" | grep -o '[0-9]\+' | head -1
}
id=$(submit a-1 b-1 --bandwidth 1)
[ -n "$id" ] || die "submit: $(cat "$tmp/q.err")"
q request approve "$id" --as admin@b.example
free=$(submit a-2 b-2)   # no cap: no meter, no drops line
[ -n "$free" ] || die "submit (uncapped): $(cat "$tmp/q.err")"
q request approve "$free" --as admin@b.example
active() { [ "$(sql "SELECT count(*) FROM peering_requests WHERE id IN ($id, $free) AND state = 'active'")" = 2 ]; }
wait_for 30 active || die "requests $id and $free did not become active"
cid=$(sql "SELECT id FROM circuits WHERE request_id = $id")
fcid=$(sql "SELECT id FROM circuits WHERE request_id = $free")
meter=$(sql "SELECT meter_id FROM circuit_meters WHERE circuit_id = $cid AND end_side = 'a'")
[ -n "$meter" ] || die "the capped circuit has no meter at end a"

get() { curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $1" "$base$2"; }
drops() { grep "^peerflow_circuit_dropped_packets_total{circuit=\"$1\"" "$tmp/body" | grep "direction=\"$2\"" | awk '{print $2}'; }
read_once() { [ "$(sql "SELECT count(*) FROM circuit_meters WHERE circuit_id = $cid AND drops_sampled_at IS NOT NULL")" = 2 ]; }
expect_wait "the poller reads both meters of the capped circuit" 10 read_once
expect_eq "/metrics for the operator" 200 "$(get "$tok_op" /metrics)"
expect_eq "/metrics: a drops line a_to_b, 0 before any flood" 0 "$(drops "$cid" a_to_b)"
expect_eq "/metrics: a drops line b_to_a" 0 "$(drops "$cid" b_to_a)"
expect_eq "/metrics: no drops line for the uncapped circuit" "" "$(drops "$fcid" a_to_b)"
expect_ok "/metrics: TYPE counter" grep -q '^# TYPE peerflow_circuit_dropped_packets_total counter' "$tmp/body"

# ------------------------------------------------------------ 2. over the cap
# the drop band's packet count on s1, from the switch itself
switch_drops() {
  $F ofctl "$fab" s1 meter-stats "meter=$((meter))" | tr ' ,' '\n\n' |
    sed -n 's/^packet_count:\([0-9]*\)$/\1/p' | tail -1
}
total() { sql "SELECT dropped_packets_total FROM circuit_meters WHERE circuit_id = $cid AND end_side = '$1'"; }
# 500 packets of 1428 bytes a second (~5.7 Mbit/s) for 3 s through a 1
# Mbit/s cap (a flood, -f, would wait for replies and slow down to it)
flood() { ip netns exec "$ns-a" ping -q -i 0.002 -s 1400 -c 1500 -w 5 10.79.0.2 >"$tmp/ping.log" 2>&1; }
flood
dropped_on_switch() { [ "${1:-$(switch_drops)}" -gt 0 ] 2>/dev/null; }
expect_wait "s1's meter drops packets of the flood" 10 dropped_on_switch
sw=$(switch_drops)
caught_up() { [ "$(total a)" -ge "$sw" ] && [ "$(total a)" -gt 0 ]; }
expect_wait "the poller's total follows the switch's meter ($sw dropped)" 10 caught_up
expect_eq "the total equals the switch's counter" "$(switch_drops)" "$(total a)"
expect_eq "/metrics after the flood" 200 "$(get "$tok_op" /metrics)"
got=$(drops "$cid" a_to_b)
if [ "${got:-0}" -gt 0 ]; then pass; else fail "/metrics: dropped a_to_b is '$got', want > 0"; fi
expect_eq "/metrics: the drops are the stored total" "$(total a)" "$got"
echo "# the flood: s1's meter dropped $sw packets, /metrics a_to_b $got"
b=$(drops "$cid" b_to_a)
if [ -n "$b" ] && [ "$b" -ge 0 ]; then pass; else fail "/metrics: no drops line b_to_a after the flood"; fi

# ------------------------------------------------------------ 3. meter re-added
before=$(total a)
expect_ok "delete the circuit's meter on s1 by hand" $F ofctl "$fab" s1 del-meter "meter=$((meter))"
sleep 2   # the poller finds the meter missing: no reading, nothing stored
expect_ok "peerflow reconcile --switch s1" "$pf" reconcile --switch s1
back() { $F ofctl "$fab" s1 dump-meters | grep -q "meter=$((meter)) "; }
expect_wait "the reconciler re-adds the meter" 15 back
flows_back() { [ "$($F ofctl "$fab" s1 dump-flows "cookie=$(printf '0x5046%012x' "$cid")/-1" --no-stats | grep -c cookie)" = 2 ]; }
expect_wait "and the circuit's flows it took with it" 15 flows_back
if [ "$(total a)" -ge "$before" ]; then pass; else fail "the total went down: $before -> $(total a)"; fi
flood
grew() { [ "$(total a)" -gt "$before" ]; }
expect_wait "new drops after the re-added meter add to the total" 10 grew
# the new meter counts from zero: the total is the old one plus its count
sums() { [ "$(total a)" = $((before + $(switch_drops))) ]; }
expect_wait "the total is the old total plus the new meter's count" 10 sums
sums || echo "  total $(total a), before $before, the new meter $(switch_drops)"
finish
