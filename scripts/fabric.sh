#!/usr/bin/env bash
# fabric.sh: a real Open vSwitch fabric for `make run` and the tests.
#
# Each fabric lives in a private directory DIR (ovsdb, sockets, pid and log
# files, state) and a network namespace NS of its own, because a userspace
# ovs-vswitchd owns the tap device "ovs-netdev" and only one can run per
# network namespace (see ENGINEERING.md). The switches are bridges with
# datapath_type=netdev, OpenFlow13 only, fail_mode=secure, and a
# `punix:DIR/NAME.sock` controller listener: the provisioner, outside the
# namespace, connects with `unix:DIR/NAME.sock` (unix sockets cross network
# namespaces through the file system). Inter-switch links are patch-port
# pairs; member hosts are network namespaces joined by veth pairs.
#
# Trunk members: this kernel may have no 802.1Q devices (and no tc vlan
# action), so a trunk member is emulated as a member's own edge switch: a
# bridge ce-HOST (no controller, fail_mode=secure) patched to the trunk
# port, with one veth per VLAN into the member's namespace and two flows
# per VLAN (push the tag towards the fabric, pop it towards the host).
# Those flows are kept in DIR/ce-flows and re-applied by start-switchd.
#
#   fabric.sh up DIR NS                     start ovsdb-server + ovs-vswitchd in NS
#   fabric.sh switch DIR NAME DPID          a bridge (DPID: 16 hex digits)
#   fabric.sh link DIR SW1 PORT1 SW2 PORT2  a patch-port pair (OpenFlow port numbers)
#   fabric.sh host DIR HOST SWITCH OFPORT [IP/PREFIX]
#                                           member namespace NS-HOST, veth eth0 <-> SWITCH:OFPORT
#   fabric.sh trunk DIR HOST SWITCH OFPORT  a trunk member: customer-edge bridge ce-HOST
#                                           patched to SWITCH:OFPORT, namespace NS-HOST
#   fabric.sh vlan DIR HOST VLAN IP/PREFIX  interface vVLAN with IP in HOST, tagged VLAN on its
#                                           trunk (the edge bridge pushes/pops the tag)
#   fabric.sh controller DIR SWITCH TARGET  replace the switch's controller (e.g. unix:PATH:
#                                           the switch connects to the provisioner)
#   fabric.sh stop-switchd DIR              stop ovs-vswitchd (all switches go away, flows too)
#   fabric.sh start-switchd DIR             start it again (bridges come back, flows empty)
#   fabric.sh ofctl DIR SWITCH CMD [ARGS]   ovs-ofctl -O OpenFlow13 CMD unix:<SWITCH's mgmt socket> ARGS
#   fabric.sh vsctl DIR ARGS...             ovs-vsctl on this fabric's database
#   fabric.sh exec DIR HOST CMD...          run CMD in a member host's namespace
#   fabric.sh down DIR                      stop and remove everything (processes,
#                                           namespaces, veths, DIR); safe to repeat
#   fabric.sh demo DIR NS                   up + the demo fabric of scripts/demo-seed.sh
#   fabric.sh endpoint DIR SWITCH           print unix:PATH the provisioner connects to
#
# Keep DIR short (unix socket paths are limited to 107 bytes).
set -euo pipefail

die() { echo "fabric: $*" >&2; exit 1; }

cmd=${1:-}; shift || true
[ -n "$cmd" ] || die "usage: fabric.sh up|switch|link|host|vlan|down|demo|... DIR ..."
dir=${1:-}; shift || true
[ -n "$dir" ] || die "$cmd: DIR is required"

ns_of() { cat "$dir/netns" 2>/dev/null || die "no fabric in $dir (run: fabric.sh up $dir NS)"; }
vsctl() { ovs-vsctl --db="unix:$dir/db.sock" --timeout=10 "$@"; }
# a process that exited but was not reaped yet (a zombie) counts as gone
alive() { [ -r "/proc/$1/stat" ] && ! awk '{ exit ($3 == "Z") ? 0 : 1 }' "/proc/$1/stat" 2>/dev/null; }

start_switchd() {
  local ns; ns=$(ns_of)
  # OVS_RUNDIR puts the bridges' management sockets (NAME.mgmt) in DIR.
  OVS_RUNDIR="$dir" OVS_LOGDIR="$dir" ip netns exec "$ns" \
    ovs-vswitchd "unix:$dir/db.sock" --pidfile="$dir/ovs-vswitchd.pid" --detach \
      --unixctl="$dir/ovs-vswitchd.ctl" --log-file="$dir/ovs-vswitchd.log" -vconsole:off \
      --no-chdir 2>>"$dir/startup.log" || { cat "$dir/startup.log" >&2; die "ovs-vswitchd did not start (see $dir/ovs-vswitchd.log)"; }
  # wait until every bridge in the database has its management socket
  local b i
  for b in $(vsctl list-br); do
    for i in $(seq 100); do [ -S "$dir/$b.mgmt" ] && break; sleep 0.05; done
  done
  # the member edge bridges have no controller: give them their flows back
  local f
  for f in "$dir"/ce-flows/*; do
    [ -f "$f" ] || continue
    ovs-ofctl -O OpenFlow13 replace-flows "unix:$dir/$(basename "$f").mgmt" "$f"
  done
}

stop_switchd() {
  local pid
  if [ -f "$dir/ovs-vswitchd.pid" ]; then
    pid=$(cat "$dir/ovs-vswitchd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/ovs-vswitchd.pid"
  fi
}

case "$cmd" in
up)
  ns=${1:-}; [ -n "$ns" ] || die "up: NS is required"
  [ "$(id -u)" -eq 0 ] || die "up: needs root (network namespaces)"
  [ ${#dir} -le 60 ] || die "up: DIR '$dir' is too long for unix socket paths (max 60 characters)"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -f "$dir/netns" ] && die "up: $dir already holds a fabric (fabric.sh down $dir first)"
  ip netns list | awk '{print $1}' | grep -qx "$ns" && die "up: network namespace $ns exists already"
  ip netns add "$ns"
  echo "$ns" > "$dir/netns"
  : > "$dir/hosts"
  ip -n "$ns" link set lo up
  ovsdb-tool create "$dir/conf.db" /usr/share/openvswitch/vswitch.ovsschema
  ovsdb-server "$dir/conf.db" --remote="punix:$dir/db.sock" --pidfile="$dir/ovsdb-server.pid" \
    --unixctl="$dir/ovsdb-server.ctl" --log-file="$dir/ovsdb-server.log" -vconsole:off \
    --detach --no-chdir 2>>"$dir/startup.log" || { cat "$dir/startup.log" >&2; die "ovsdb-server did not start"; }
  vsctl --no-wait init
  start_switchd
  ;;
switch)
  name=${1:-}; dpid=${2:-}
  [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,14}$ ]] || die "switch: bad name '$name'"
  [[ "$dpid" =~ ^[0-9a-f]{16}$ ]] || die "switch: DPID must be 16 lowercase hex digits, not '$dpid'"
  vsctl add-br "$name" -- set bridge "$name" datapath_type=netdev protocols=OpenFlow13 \
      fail_mode=secure other-config:datapath-id="$dpid" \
      other-config:disable-in-band=true \
    -- set-controller "$name" "punix:$dir/$name.sock"
  for _ in $(seq 100); do [ -S "$dir/$name.sock" ] && [ -S "$dir/$name.mgmt" ] && break; sleep 0.05; done
  [ -S "$dir/$name.sock" ] || die "switch: $name's controller socket $dir/$name.sock did not appear"
  ;;
link)
  sa=${1:-}; pa=${2:-}; sb=${3:-}; pb=${4:-}
  [ -n "$pb" ] || die "link: SW1 PORT1 SW2 PORT2 are required"
  a="$sa-$sb-$pa"; b="$sb-$sa-$pb"
  [ ${#a} -le 15 ] && [ ${#b} -le 15 ] || { a="pa$pa-$pb-$RANDOM"; b="pb$pb-$pa-$RANDOM"; }
  vsctl add-port "$sa" "$a" -- set interface "$a" type=patch options:peer="$b" ofport_request="$pa" \
    -- add-port "$sb" "$b" -- set interface "$b" type=patch options:peer="$a" ofport_request="$pb"
  ;;
host)
  host=${1:-}; sw=${2:-}; port=${3:-}; ip=${4:-}
  [ -n "$port" ] || die "host: HOST SWITCH OFPORT are required"
  ns=$(ns_of)
  hns="$ns-$host"
  ip netns add "$hns"
  echo "$hns" >> "$dir/hosts"
  ip -n "$hns" link set lo up
  veth="$sw-p$port"
  [ ${#veth} -le 15 ] || veth="v$port-$RANDOM"
  ip -n "$ns" link add "$veth" type veth peer name eth0 netns "$hns"
  ip -n "$ns" link set "$veth" up
  ip -n "$hns" link set eth0 up
  ip netns exec "$hns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 >/dev/null 2>&1 || true
  [ -n "$ip" ] && ip -n "$hns" addr add "$ip" dev eth0
  vsctl add-port "$sw" "$veth" -- set interface "$veth" ofport_request="$port"
  ;;
trunk)
  host=${1:-}; sw=${2:-}; port=${3:-}
  [ -n "$port" ] || die "trunk: HOST SWITCH OFPORT are required"
  ns=$(ns_of)
  ce="ce-$host"
  [ ${#ce} -le 15 ] || die "trunk: host name '$host' too long (max 12 characters)"
  hns="$ns-$host"
  ip netns add "$hns"
  echo "$hns" >> "$dir/hosts"
  ip -n "$hns" link set lo up
  ip netns exec "$hns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 >/dev/null 2>&1 || true
  vsctl add-br "$ce" -- set bridge "$ce" datapath_type=netdev protocols=OpenFlow13 \
      fail_mode=secure other-config:disable-in-band=true
  a="$sw-$ce"; b="$ce-up"
  [ ${#a} -le 15 ] || a="t$port-$RANDOM"
  vsctl add-port "$sw" "$a" -- set interface "$a" type=patch options:peer="$b" ofport_request="$port" \
    -- add-port "$ce" "$b" -- set interface "$b" type=patch options:peer="$a" ofport_request=1
  mkdir -p "$dir/ce-flows"
  : > "$dir/ce-flows/$ce"
  ;;
vlan)
  host=${1:-}; vlan=${2:-}; ip=${3:-}
  [ -n "$ip" ] || die "vlan: HOST VLAN IP/PREFIX are required"
  [[ "$vlan" =~ ^[0-9]+$ ]] && [ "$vlan" -ge 1 ] && [ "$vlan" -le 4094 ] || die "vlan: bad VLAN '$vlan'"
  ns=$(ns_of)
  ce="ce-$host"; hns="$ns-$host"
  [ -f "$dir/ce-flows/$ce" ] || die "vlan: $host is not a trunk member (fabric.sh trunk first)"
  veth="$host-v$vlan"
  [ ${#veth} -le 15 ] || veth="v$vlan-$RANDOM"
  ip -n "$ns" link add "$veth" type veth peer name "v$vlan" netns "$hns"
  ip -n "$ns" link set "$veth" up
  ip -n "$hns" addr add "$ip" dev "v$vlan"
  ip -n "$hns" link set "v$vlan" up
  vsctl add-port "$ce" "$veth" -- set interface "$veth" ofport_request=$((vlan + 1))
  {
    echo "priority=100,in_port=$((vlan + 1)),actions=push_vlan:0x8100,set_field:$((4096 + vlan))->vlan_vid,output:1"
    echo "priority=100,in_port=1,dl_vlan=$vlan,actions=pop_vlan,output:$((vlan + 1))"
  } >> "$dir/ce-flows/$ce"
  ovs-ofctl -O OpenFlow13 replace-flows "unix:$dir/$ce.mgmt" "$dir/ce-flows/$ce"
  ;;
controller)
  sw=${1:-}; target=${2:-}
  [ -n "$target" ] || die "controller: SWITCH TARGET are required"
  vsctl set-controller "$sw" "$target"
  ;;
stop-switchd) stop_switchd ;;
start-switchd) start_switchd ;;
ofctl)
  sw=${1:-}; sub=${2:-}
  [ -n "$sub" ] || die "ofctl: SWITCH CMD are required"
  shift 2
  ovs-ofctl -O OpenFlow13 "$sub" "unix:$dir/$sw.mgmt" "$@"
  ;;
vsctl) vsctl "$@" ;;
exec)
  host=${1:-}; shift || true
  ip netns exec "$(ns_of)-$host" "$@"
  ;;
endpoint)
  echo "unix:$(cd "$dir" && pwd)/${1:?switch name}.sock"
  ;;
down)
  [ -d "$dir" ] || exit 0
  stop_switchd
  if [ -f "$dir/ovsdb-server.pid" ]; then
    pid=$(cat "$dir/ovsdb-server.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  # deleting a namespace destroys the veth ends in it, and so both ends
  if [ -f "$dir/hosts" ]; then
    while read -r h; do [ -n "$h" ] && ip netns del "$h" 2>/dev/null || true; done < "$dir/hosts"
  fi
  if [ -f "$dir/netns" ]; then
    ns=$(cat "$dir/netns")
    # anything still running in the fabric namespace was started for it
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  fi
  rm -rf "$dir"
  ;;
demo)
  ns=${1:-}; [ -n "$ns" ] || die "demo: NS is required"
  "$0" up "$dir" "$ns"
  dir=$(cd "$dir" && pwd)
  "$0" switch "$dir" s1 0000000000000001
  "$0" switch "$dir" s2 0000000000000002
  "$0" link "$dir" s1 10 s2 10
  # member hosts: 10.0.0.0/24 on access ports; trunk hosts get VLAN
  # sub-interfaces with `fabric.sh vlan` as requests need them
  "$0" host "$dir" alpha-1 s1 1 10.0.0.1/24
  "$0" trunk "$dir" alpha-trunk s1 2
  "$0" host "$dir" beta-1 s2 1 10.0.0.2/24
  "$0" host "$dir" gamma-1 s2 2 10.0.0.3/24
  "$0" trunk "$dir" gamma-trunk s2 3
  "$0" vlan "$dir" alpha-trunk 100 10.0.100.1/24
  "$0" vlan "$dir" gamma-trunk 100 10.0.100.3/24
  ;;
*) die "unknown command '$cmd'" ;;
esac
