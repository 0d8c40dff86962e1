#!/usr/bin/env bash
# demo-bgp.sh [start [ID]] | stop: the BGP session of a demo circuit on real
# routers, while `make run` runs.
#
#   start [ID]  (default: the first active request between two access
#               ports) gives both member namespaces of the demo fabric
#               (pfdemo-PORT) the addresses peerflow allocated, starts BIRD 2
#               in each with a main bird.conf that `include`s exactly
#               `peerflow bgp-config ID --side requester|peer --daemon bird2`
#               and announces the network's registered prefixes, waits for
#               the sessions, and prints `birdc show protocols` and the routes
#               each side learned. Run again: the routers are restarted.
#   stop        stops those BIRDs (make stop and Ctrl-C of make run do it too)
#
# Files (configs, control sockets, logs) in var/bgp, or /tmp/peerflow-demo-bgp
# when that path is too long for unix sockets. Needs root, the demo fabric
# (root and Open vSwitch) and bird2; without bird2 it says so and exits 0.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
source tests/e2e/routers.sh

dir=$root/var/bgp
[ ${#dir} -le 60 ] || dir=/tmp/peerflow-demo-bgp
ns=pfdemo
pf=${PEERFLOW_BIN:-$root/build/peerflow}

die() { echo "demo-bgp: $*" >&2; exit 1; }

# the demo's member networks: what each announces (scripts/demo-seed.sh
# registers the same prefixes) and a router id
announce_of() {
  case $1 in
    alpha-*) echo "198.51.100.0/24 2001:db8:a::/48" ;;
    beta-*) echo "203.0.113.0/24 2001:db8:b::/48" ;;
    gamma-*) echo "192.0.2.0/24 2001:db8:c::/48" ;;
  esac
}
router_id_of() {
  case $1 in alpha-*) echo 10.255.0.1 ;; beta-*) echo 10.255.0.2 ;; *) echo 10.255.0.3 ;; esac
}

stop_birds() {
  local d
  for d in "$dir"/*/; do
    [ -f "$d/bird.pid" ] && rt_kill_pidfile "$d/bird.pid"
  done
  return 0
}

case "${1:-start}" in
stop)
  [ -f var/bgp.dir ] && dir=$(cat var/bgp.dir)
  [ -d "$dir" ] && stop_birds
  rm -rf "$dir" var/bgp.dir
  exit 0
  ;;
start) ;;
*) echo "usage: demo-bgp.sh [start [ID]] | stop" >&2; exit 2 ;;
esac

if ! rt_have_bird; then
  echo "demo-bgp: bird2 is not installed (apt-get install bird2, or make deps): nothing to show"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || die "needs root (member namespaces)"
ip netns list | awk '{print $1}' | grep -qx "$ns-alpha-1" ||
  die "no demo fabric (namespace $ns-alpha-1): start 'make run' first (as root, with Open vSwitch)"
[ -d var/pg ] || die "no demo database in var/pg: start 'make run' first"
eval "$(bash scripts/pg.sh env var/pg)"
export PEERFLOW_KEY_DIR=${PEERFLOW_KEY_DIR:-$root/var/keys}

id=${2:-}
if [ -z "$id" ]; then
  psql_bin=$(pg_config --bindir)/psql
  # the first active request whose two ports are access ports (a trunk
  # member's VLAN interfaces are not set up for BGP here)
  id=$("$psql_bin" "$PEERFLOW_MIGRATE_DATABASE_URL" -qAtX -c "
    SELECT r.id FROM peering_requests r
      JOIN ports a ON a.id = r.requester_port_id JOIN ports b ON b.id = r.peer_port_id
     WHERE r.state = 'active' AND a.mode = 'access' AND b.mode = 'access'
     ORDER BY r.id LIMIT 1" 2>/dev/null)
  [ -n "$id" ] || die "no active request between two access ports yet (request 1 becomes active a few seconds after 'make run' starts)"
fi
doc=$("$pf" request show "$id") || die "request show $id failed"
[ "$(jq -r .state <<<"$doc")" = active ] || die "request $id is $(jq -r .state <<<"$doc"), not active"
[ "$(jq -r '.bgp.ipv4 // .bgp.ipv6 // empty | length' <<<"$doc")" != "" ] ||
  die "request $id has no BGP addresses (no pools when it was approved?)"

stop_birds
rm -rf "$dir"
rt_init "$dir" || die "cannot create $dir"
mkdir -p var && echo "$dir" > var/bgp.dir

sides=(requester peer)
names=()
for side in "${sides[@]}"; do
  port=$(jq -r ".${side}.port" <<<"$doc")
  hns=$ns-$port
  ip netns list | awk '{print $1}' | grep -qx "$hns" || die "no namespace $hns for port $port"
  addrs=()
  for fam in ipv4 ipv6; do
    ip=$(jq -r --arg s "${side}_ip" ".bgp.$fam[\$s] // empty" <<<"$doc")
    len=$(jq -r ".bgp.$fam.prefix_length // empty" <<<"$doc")
    [ -n "$ip" ] && addrs+=("$ip/$len")
  done
  rt_addr "$hns" eth0 "${addrs[@]}" || die "cannot address eth0 in $hns"
  mkdir -p "$dir/$port"
  "$pf" bgp-config "$id" --side "$side" --daemon bird2 > "$dir/$port/peerflow.conf" ||
    die "bgp-config $id --side $side --daemon bird2 failed"
  # shellcheck disable=SC2046
  rt_bird_main "$port" "$(router_id_of "$port")" "$dir/$port/peerflow.conf" $(announce_of "$port")
  rt_bird_start "$port" "$hns" || die "BIRD for $port did not start (see $dir/$port)"
  names+=("$port")
done

all_up() {
  local n p
  for n in "${names[@]}"; do
    for p in $(rt_birdc "$n" show protocols | awk '$2 == "BGP" { print $1 }'); do
      rt_bird_established "$n" "$p" || return 1
    done
  done
}
# each session has learned something (the other side's registered prefixes)
all_learned() {
  local n p
  for n in "${names[@]}"; do
    for p in $(rt_birdc "$n" show protocols | awk '$2 == "BGP" { print $1 }'); do
      [ -n "$(rt_bird_routes "$n" "$p")" ] || return 1
    done
  done
}
up=yes
rt_wait 30 all_up || up=no
[ "$up" = yes ] && rt_wait 10 all_learned

for n in "${names[@]}"; do
  echo
  echo "== $n (birdc -s $dir/$n/bird.ctl show protocols)"
  rt_birdc "$n" show protocols | sed 1d
  for p in $(rt_birdc "$n" show protocols | awk '$2 == "BGP" { print $1 }'); do
    echo "   learned from $p: $(rt_bird_routes "$n" "$p" | paste -sd' ')"
  done
done
echo
if [ "$up" = yes ]; then
  echo "demo-bgp: request $id's sessions are Established ('make stop' or 'scripts/demo-bgp.sh stop' stops the routers)"
else
  echo "demo-bgp: request $id's sessions did not all reach Established within 30 s (logs in $dir/*/bird.log)" >&2
  exit 1
fi
