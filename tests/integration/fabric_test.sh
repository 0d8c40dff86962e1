#!/usr/bin/env bash
# scripts/fabric.sh on its own: a fabric comes up in its own namespace and
# directory, carries a ping over flows set by hand (access and trunk
# members), survives an ovs-vswitchd restart, and `down` leaves nothing:
# no process, no namespace, no veth, no directory - also after a failed
# `up` and when run twice.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

if [ "$(id -u)" -ne 0 ] || ! command -v ovs-vswitchd >/dev/null 2>&1; then
  echo "skipped: needs root and Open vSwitch"; exit 77
fi
dir=/tmp/pffs.$$
ns=pffs$$
F="bash scripts/fabric.sh"
trap '$F down $dir >/dev/null 2>&1; $F down $dir.2 >/dev/null 2>&1' EXIT

expect_ok "up" $F up $dir $ns
expect_ok "switch s1" $F switch $dir s1 0000000000000001
expect_ok "switch s2" $F switch $dir s2 0000000000000002
expect_ok "link" $F link $dir s1 10 s2 10
expect_ok "access host" $F host $dir h1 s1 1 10.9.0.1/24
expect_ok "trunk host" $F trunk $dir h2 s2 2
expect_ok "vlan on trunk" $F vlan $dir h2 77 10.9.0.2/24
expect_eq "controller socket" "unix:$dir/s1.sock" "$($F endpoint $dir s1)"
expect_ok "bridge is secure, 1.3 only, netdev" \
  bash -c "$F vsctl $dir get bridge s1 fail_mode protocols datapath_type | tr -d '\n' | grep -qx 'secure\[OpenFlow13\]netdev'"
expect_error "no vlan device on an access host" "not a trunk member" $F vlan $dir h1 5 10.9.1.1/24

# h1 (untagged, s1:1) <-> h2 (VLAN 77 on s2:2) by hand
of() { ovs-ofctl -O OpenFlow13 add-flow "unix:$dir/$1.mgmt" "$2"; }
of s1 "priority=10,in_port=1,actions=push_vlan:0x8100,set_field:4173->vlan_vid,output:10"
of s1 "priority=10,in_port=10,dl_vlan=77,actions=pop_vlan,output:1"
of s2 "priority=10,in_port=10,dl_vlan=77,actions=output:2"
of s2 "priority=10,in_port=2,dl_vlan=77,actions=output:10"
expect_ok "ping across access and trunk" $F exec $dir h1 ping -c 1 -W 2 10.9.0.2

# restart: flows are gone (fail_mode=secure, no controller), ports are back
expect_ok "stop-switchd" $F stop-switchd $dir
expect_ok "start-switchd" $F start-switchd $dir
expect_eq "flows gone after restart" "0" "$($F ofctl $dir s1 dump-flows --no-stats | wc -l)"
expect_eq "edge bridge flows re-applied" "2" "$($F ofctl $dir ce-h2 dump-flows --no-stats | wc -l)"

pids="$(cat $dir/ovs-vswitchd.pid) $(cat $dir/ovsdb-server.pid)"
expect_ok "down" $F down $dir
expect_ok "down twice" $F down $dir
expect_eq "no directory" "no" "$([ -e $dir ] && echo yes || echo no)"
expect_eq "no namespace" "" "$(ip netns list | awk '{print $1}' | grep "^$ns" || true)"
left=""
for p in $pids; do
  [ -r /proc/$p/stat ] && ! awk '{exit ($3 == "Z") ? 0 : 1}' /proc/$p/stat && left="$left $p"
done
expect_eq "no process" "" "$left"

# a failed up (namespace taken) leaves nothing of its own either
ip netns add ${ns}x
expect_error "up refuses a taken namespace" "exists already" $F up $dir.2 ${ns}x
ip netns del ${ns}x
$F down $dir.2 >/dev/null 2>&1
expect_eq "nothing left after the failed up" "no" "$([ -e $dir.2/netns ] && echo yes || echo no)"
finish
