#!/usr/bin/env bash
# The router harness (tests/e2e/routers.sh) on its own, with hand-written
# configurations and hand-set flows: no peerflow involved. It proves what
# tests/e2e/bgp_test.sh relies on:
#
#   - BIRD 2 in member A's namespace and FRR (zebra, staticd, bgpd) in B's,
#     each with its own files, reach Established over IPv4 and IPv6 across
#     an Open vSwitch fabric (s1 - s2, VLAN 77 on the link, flows by hand),
#     with a TCP-MD5 secret on both sessions;
#   - the harness reads what each side learned, and an import filter shows
#     (B announces an extra prefix that A's filter drops);
#   - MD5 is really in force: a wrong secret on one side keeps the session
#     down; the right one brings it back;
#   - without the flows the sessions go down;
#   - rt_stop_all leaves no daemon running.
#
# Only addresses inside the test namespaces are used. Needs root, Open
# vSwitch, bird2 and frr (else: skipped, exit 77).
source "$(dirname "$0")/../integration/lib.sh"
root=${PEERFLOW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$root/tests/e2e/routers.sh"

missing=$(rt_missing)
if [ -n "$missing" ]; then
  echo "skipped: missing here: $missing"
  exit 77
fi
if ! rt_md5_ok; then
  echo "FAIL: this kernel has no TCP-MD5 (CONFIG_TCP_MD5SIG is not y): BGP sessions with a secret cannot be tested"
  exit 1
fi

fab=/tmp/pfr.$$
ns=pfr$$
tmp=$(mktemp -d /tmp/peerflow-rt.XXXXXX)
chmod 711 "$tmp"   # FRR's daemons (user frr) pass through to their directory
F="bash $root/scripts/fabric.sh"
cleanup() {
  rt_stop_all
  $F down "$fab" >/dev/null 2>&1
  [ -n "${KEEP_TMP:-}" ] && { echo "kept $tmp"; return; }; rm -rf "$tmp"
}
[ -n "${RT_DEBUG:-}" ] || trap cleanup EXIT
trap 'exit 130' INT TERM
die() { fail "$*"; rt_logs; finish; exit 1; }

rt_init "$tmp/rt" || die "rt_init"
{
  $F up "$fab" "$ns" && $F switch "$fab" s1 0000000000000001 && $F switch "$fab" s2 0000000000000002 &&
  $F link "$fab" s1 10 s2 10 && $F host "$fab" a s1 1 && $F host "$fab" b s2 1
} >"$tmp/fabric.log" 2>&1 || die "fabric: $(tail -n 3 "$tmp/fabric.log")"
of() { ovs-ofctl -O OpenFlow13 add-flow "unix:$fab/$1.mgmt" "$2"; }
flows_on() {
  of s1 "priority=10,in_port=1,actions=push_vlan:0x8100,set_field:4173->vlan_vid,output:10" &&
  of s1 "priority=10,in_port=10,dl_vlan=77,actions=pop_vlan,output:1" &&
  of s2 "priority=10,in_port=10,dl_vlan=77,actions=pop_vlan,output:1" &&
  of s2 "priority=10,in_port=1,actions=push_vlan:0x8100,set_field:4173->vlan_vid,output:10"
}
flows_off() {
  ovs-ofctl -O OpenFlow13 del-flows "unix:$fab/s1.mgmt" && ovs-ofctl -O OpenFlow13 del-flows "unix:$fab/s2.mgmt"
}
expect_ok "hand flows" flows_on
expect_ok "A's addresses" rt_addr "$ns-a" eth0 100.64.0.0/31 2001:db8:100::/127
expect_ok "B's addresses" rt_addr "$ns-b" eth0 100.64.0.1/31 2001:db8:100::1/127
expect_ok "A pings B over IPv4" ip netns exec "$ns-a" ping -c 1 -W 2 100.64.0.1
expect_ok "A pings B over IPv6" ip netns exec "$ns-a" ping -6 -c 1 -W 2 2001:db8:100::1

secret=hand-Secret.1_x
# ------------------------------------------------------------ BIRD in A
cat > "$tmp/rt/a.inc" <<EOF
filter hand_in4 { if net = 203.0.113.0/24 then accept; reject; }
filter hand_out4 { if net = 198.51.100.0/24 then accept; reject; }
filter hand_in6 { if net = 2001:db8:b::/48 then accept; reject; }
filter hand_out6 { if net = 2001:db8:a::/48 then accept; reject; }
protocol bgp hand4 {
  local 100.64.0.0 as 64500;
  neighbor 100.64.0.1 as 64501;
  password "$secret";
  ipv4 { import filter hand_in4; export filter hand_out4; };
}
protocol bgp hand6 {
  local 2001:db8:100:: as 64500;
  neighbor 2001:db8:100::1 as 64501;
  password "$secret";
  ipv6 { import filter hand_in6; export filter hand_out6; };
}
EOF
rt_bird_main a 10.255.0.1 "$tmp/rt/a.inc" 198.51.100.0/24 2001:db8:a::/48
rt_bird_start a "$ns-a" || die "BIRD in A"

# ------------------------------------------------------------ FRR in B
expect_ok "B's blackholes (announced by network lines)" \
  rt_blackhole "$ns-b" 203.0.113.0/24 192.0.2.0/24 2001:db8:b::/48 2001:db8:ff::/48
rt_frr_start b "$ns-b" || die "FRR in B"
cat > "$tmp/rt/b.conf" <<EOF
ip prefix-list HAND-IN4 seq 5 permit 198.51.100.0/24
ipv6 prefix-list HAND-IN6 seq 5 permit 2001:db8:a::/48
route-map HAND-IN4 permit 10
 match ip address prefix-list HAND-IN4
exit
route-map HAND-IN6 permit 10
 match ipv6 address prefix-list HAND-IN6
exit
route-map HAND-ALL permit 10
exit
router bgp 64501
 bgp router-id 10.255.0.2
 timers bgp 3 9
 no bgp default ipv4-unicast
 neighbor 100.64.0.0 remote-as 64500
 neighbor 100.64.0.0 password $secret
 neighbor 2001:db8:100:: remote-as 64500
 neighbor 2001:db8:100:: password $secret
 address-family ipv4 unicast
  network 203.0.113.0/24
  network 192.0.2.0/24
  neighbor 100.64.0.0 activate
  neighbor 100.64.0.0 route-map HAND-IN4 in
  neighbor 100.64.0.0 route-map HAND-ALL out
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:b::/48
  network 2001:db8:ff::/48
  neighbor 2001:db8:100:: activate
  neighbor 2001:db8:100:: route-map HAND-IN6 in
  neighbor 2001:db8:100:: route-map HAND-ALL out
 exit-address-family
exit
EOF
expect_ok "vtysh -f loads B's configuration" rt_frr_load b "$tmp/rt/b.conf"

# ------------------------------------------------------------ sessions
t=$SECONDS
rt_wait 60 rt_bird_established a hand4 && pass || die "BIRD hand4 not Established: $(rt_birdc a show protocols all hand4 | tail -n 12)"
rt_wait 30 rt_bird_established a hand6 && pass || die "BIRD hand6 not Established: $(rt_birdc a show protocols all hand6 | tail -n 12)"
expect_ok "FRR: IPv4 Established" rt_frr_established b ipv4 100.64.0.0
expect_ok "FRR: IPv6 Established" rt_frr_established b ipv6 2001:db8:100::
echo "sessions Established after $(( SECONDS - t )) s"
learned_all() {
  [ "$(rt_bird_routes a hand4 4)" = 203.0.113.0/24 ] && [ "$(rt_bird_routes a hand6 6)" = 2001:db8:b::/48 ] &&
    [ -n "$(rt_frr_routes b ipv4)" ] && [ -n "$(rt_frr_routes b ipv6)" ]
}
rt_wait 20 learned_all
expect_eq "A imports B's 203.0.113.0/24 only (192.0.2.0/24 filtered)" "203.0.113.0/24" "$(rt_bird_routes a hand4 4)"
expect_eq "A imports B's 2001:db8:b::/48 only (2001:db8:ff::/48 filtered)" "2001:db8:b::/48" "$(rt_bird_routes a hand6 6)"
expect_eq "B learned A's IPv4 prefix" "198.51.100.0/24" "$(rt_frr_routes b ipv4)"
expect_eq "B learned A's IPv6 prefix" "2001:db8:a::/48" "$(rt_frr_routes b ipv6)"

# ------------------------------------------------------------ MD5 in force
printf 'router bgp 64501\n neighbor 100.64.0.0 password wrong-secret\nexit\n' > "$tmp/rt/b-wrong.conf"
expect_ok "B's IPv4 secret changed to a wrong one" rt_frr_load b "$tmp/rt/b-wrong.conf"
v4_down() { ! rt_frr_established b ipv4 100.64.0.0; }
rt_wait 15 v4_down ||
  fail "the IPv4 session stays up with a wrong secret"
sleep 8
if rt_frr_established b ipv4 100.64.0.0 || rt_bird_established a hand4; then
  fail "the IPv4 session came back with a wrong secret: MD5 is not in force"
else pass; fi
expect_ok "IPv6 (right secret) unaffected" rt_frr_established b ipv6 2001:db8:100::
# the kernel dropped segments for their signature (A signs with the right
# secret, B expects the wrong one, or B's are unsigned for A's key)
md5_drops() { ip netns exec "$1" nstat -asz 2>/dev/null | awk '$1 ~ /^TcpExtTCPMD5(Failure|NotFound|Unexpected)$/ { s += $2 } END { print s + 0 }'; }
drops=$(( $(md5_drops "$ns-a") + $(md5_drops "$ns-b") ))
if [ "$drops" -gt 0 ]; then pass; echo "kernel dropped $drops segments for their MD5 signature"; else fail "no MD5 drop counted by the kernel"; fi
printf 'router bgp 64501\n neighbor 100.64.0.0 password %s\nexit\n' "$secret" > "$tmp/rt/b-right.conf"
expect_ok "B's IPv4 secret restored" rt_frr_load b "$tmp/rt/b-right.conf"
rt_wait 60 rt_frr_established b ipv4 100.64.0.0 && pass || fail "IPv4 not Established again with the right secret"

# ------------------------------------------------------------ no flows, no session
expect_ok "flows removed" flows_off
# B's main configuration proposes a 9 s hold time (timers bgp 3 9), so
# both sides notice within about 10 s that nothing arrives any more
t=$SECONDS
bird_down() { ! rt_bird_established a hand4 && ! rt_bird_established a hand6; }
frr_down() { ! rt_frr_established b ipv4 100.64.0.0 && ! rt_frr_established b ipv6 2001:db8:100::; }
rt_wait 30 bird_down &&
  pass || fail "BIRD's sessions still Established 30 s after the flows went"
rt_wait 30 frr_down &&
  pass || fail "FRR's sessions still Established 30 s after the flows went"
echo "sessions down $(( SECONDS - t )) s after the flows went"

# ------------------------------------------------------------ stop
pids=""
for f in "$RT_DIR"/a/bird.pid "$RT_DIR"/b/{zebra,staticd,bgpd}.pid; do pids="$pids $(cat "$f")"; done
rt_stop_all
left=""
for p in $pids; do
  [ -r /proc/$p/stat ] && ! awk '{exit ($3 == "Z") ? 0 : 1}' /proc/$p/stat && left="$left $p"
done
expect_eq "no daemon left after rt_stop_all" "" "$left"
finish
