#!/usr/bin/env bash
# demo-fabric.sh start|stop: the Open vSwitch fabric of `make run`
# (scripts/fabric.sh demo): switches s1, s2 linked s1:10 <-> s2:10, member
# hosts alpha-1 (s1:1), alpha-trunk (s1:2), beta-1 (s2:1), gamma-1 (s2:2),
# gamma-trunk (s2:3), in the network namespace pfdemo and the directory
# var/fabric (or PEERFLOW_FABRIC_DIR). Its own namespace and directory keep
# it apart from the test fabrics, which use pft<PID> and /tmp/pff.<PID>.
#
#   start  (re)creates it and prints its directory on stdout (nothing when
#          it cannot run here: not root, or no Open vSwitch)
#   stop   removes it (processes, namespaces, veths, directory)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dir=${PEERFLOW_FABRIC_DIR:-$root/var/fabric}
[ ${#dir} -le 60 ] || dir=/tmp/peerflow-demo-fabric
ns=pfdemo

case "${1:-}" in
start)
  if [ "$(id -u)" -ne 0 ] || ! command -v ovs-vswitchd >/dev/null 2>&1; then
    echo "demo fabric: skipped (needs root and Open vSwitch)" >&2
    exit 0
  fi
  bash scripts/fabric.sh down "$dir" >/dev/null 2>&1 || true
  # a namespace left by a run that was killed hard
  for n in $(ip netns list | awk '{print $1}' | grep -E "^$ns(-|$)" || true); do
    ip netns del "$n" 2>/dev/null || true
  done
  mkdir -p "$(dirname "$dir")"
  bash scripts/fabric.sh demo "$dir" "$ns" >&2
  mkdir -p var && echo "$dir" > var/fabric.dir
  cat >&2 <<MSG
demo fabric: switches s1, s2 (Open vSwitch in network namespace $ns, files in $dir)
  flows        ovs-ofctl -O OpenFlow13 dump-flows unix:$dir/s1.mgmt
  ping         ip netns exec $ns-alpha-1 ping 10.0.0.2     (alpha-1 -> beta-1, once active)
MSG
  echo "$dir"
  ;;
stop)
  [ -f var/fabric.dir ] && dir=$(cat var/fabric.dir)
  bash scripts/fabric.sh down "$dir" >/dev/null 2>&1 || true
  rm -f var/fabric.dir
  ;;
*)
  echo "usage: demo-fabric.sh start|stop" >&2
  exit 2
  ;;
esac
