# routers.sh: real BGP daemons in member namespaces, for the tests and the
# demo (sourced; bash).
#
# BIRD 2 and FRR 8 each run with their own files in a directory of the
# caller's (config, control sockets, pid files, logs): nothing system-wide
# is read or written, and a system frr or bird, if any, is not touched.
#
#   rt_init DIR                  the directory for every router's files
#                                (short: unix socket paths are limited;
#                                the user frr must be able to pass through
#                                its parents: FRR's daemons drop to it)
#   rt_have_bird / rt_have_frr   true when the daemon is installed
#   rt_missing [CMD...]          prints what is missing to run (root, OVS, the
#                                daemons, CMDs), nothing when all is there
#   rt_md5_ok                    true when the kernel has TCP-MD5 (CONFIG_TCP_MD5SIG)
#   rt_addr NS DEV CIDR...       IPv4/IPv6 addresses on DEV in NS (IPv6 turned
#                                on there, no duplicate address detection; again is no error) and
#                                DEV's transmit checksum offload off (see rt_tx_csum_off)
#   rt_blackhole NS CIDR...      kernel blackhole routes in NS (what zebra sees)
#
#   rt_bird_main NAME ROUTER_ID INCLUDE [STATIC_CIDR...]
#                                writes DIR/NAME/bird.conf: router id,
#                                protocol device, one static protocol per
#                                family announcing STATIC_CIDRs as blackholes,
#                                then `include "INCLUDE";` (the snippet under test)
#   rt_bird_start NAME NS        `bird -p` check, then bird in NS with
#                                DIR/NAME/{bird.conf,bird.ctl,bird.pid,bird.log}
#   rt_birdc NAME CMD...         birdc on NAME's control socket
#   rt_bird_established NAME PROTO   true when that BGP protocol is Established
#   rt_bird_routes NAME PROTO [FAMILY]  prefixes imported by PROTO, one a line, sorted
#   rt_bird_stop NAME
#
#   rt_frr_start NAME NS         zebra, staticd and bgpd in NS, sockets and pid
#                                files in DIR/NAME, vty over unix sockets only
#   rt_vtysh NAME ARGS...        vtysh for NAME's daemons (e.g. -c 'show bgp summary json')
#   rt_frr_load NAME FILE        `vtysh -f FILE`: fails when vtysh reports an error
#   rt_frr_established NAME AFI NEIGHBOR  AFI ipv4|ipv6: true when Established
#   rt_frr_routes NAME AFI       prefixes in bgpd's table learned from a neighbor (not
#                                local ones), one a line, sorted
#   rt_frr_stop NAME
#
#   rt_wait SECONDS CMD...       polls CMD every 0.5 s; false on timeout
#   rt_stop_all                  stops every daemon started by this harness
#                                (call it from the caller's EXIT trap)
#   rt_logs                      prints the tail of every daemon's log (on failure)
#
# Every daemon is stopped by the pid it wrote, never by name.

RT_DIR=${RT_DIR:-}
RT_FRR=/usr/lib/frr
RT_ROUTERS=()

rt_init() {
  RT_DIR=$1
  mkdir -p "$RT_DIR" || return 1
  RT_DIR=$(cd "$RT_DIR" && pwd)
  # FRR's daemons drop to the user frr: they must reach their directory
  chmod 755 "$RT_DIR"
}

# rt_missing [COMMAND...]: what this harness (and the caller's extra
# commands) needs and this machine lacks, as words for a skip line
rt_missing() {
  local m=() c
  [ "$(id -u)" -eq 0 ] || m+=("root")
  command -v ovs-vswitchd >/dev/null 2>&1 || m+=("Open vSwitch (openvswitch-switch)")
  rt_have_bird || m+=("BIRD 2 (bird2: bird, birdc)")
  rt_have_frr || m+=("FRR (frr: $RT_FRR/zebra, staticd, bgpd, vtysh)")
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || m+=("$c"); done
  local out="" x
  for x in "${m[@]}"; do out+="${out:+; }$x"; done
  echo "$out"
}

rt_have_bird() { command -v bird >/dev/null 2>&1 && command -v birdc >/dev/null 2>&1; }
rt_have_frr() {
  [ -x "$RT_FRR/zebra" ] && [ -x "$RT_FRR/bgpd" ] && [ -x "$RT_FRR/staticd" ] &&
    command -v vtysh >/dev/null 2>&1
}

# The kernel option is what matters; /proc/config.gz or /boot/config-*
# says it when present, else a socket option probe (python) decides.
rt_md5_ok() {
  if [ -r /proc/config.gz ]; then
    # not grep -q: with pipefail zcat's SIGPIPE would fail the pipe
    [ "$(zcat /proc/config.gz | grep -cx 'CONFIG_TCP_MD5SIG=y')" -ge 1 ]
    return
  fi
  if [ -r "/boot/config-$(uname -r)" ]; then
    grep -qx 'CONFIG_TCP_MD5SIG=y' "/boot/config-$(uname -r)"
    return
  fi
  /usr/bin/python3 - <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# struct tcp_md5sig: sockaddr_storage(128) + flags(1) + prefixlen(1) + keylen(2) + ifindex(4) + key(80)
addr = struct.pack("=HH4s120x", socket.AF_INET, 0, socket.inet_aton("127.0.0.1"))
key = b"probe"
val = addr + struct.pack("=BBHi", 0, 0, len(key), 0) + key.ljust(80, b"\0")
try:
    s.setsockopt(socket.IPPROTO_TCP, 14, val)  # TCP_MD5SIG
except OSError:
    sys.exit(1)
EOF
}

# Open vSwitch's userspace datapath (datapath_type=netdev, which the
# fabric uses) forwards a veth's TCP segments with the checksum the kernel
# left to the "hardware" unfilled: the receiver drops every one
# (TcpInCsumErrors) while ping, checksummed in software, works. So a
# member's interface computes its checksums itself: ethtool -K DEV tx off,
# done with the ioctl (ETHTOOL_STXCSUM) to need no ethtool.
rt_tx_csum_off() {
  local ns=$1 dev=$2
  ip netns exec "$ns" /usr/bin/python3 - "$dev" <<'EOF'
import ctypes, fcntl, socket, struct, sys
ETHTOOL_STXCSUM, SIOCETHTOOL = 0x17, 0x8946
val = ctypes.create_string_buffer(struct.pack("II", ETHTOOL_STXCSUM, 0))
ifr = struct.pack("16sP", sys.argv[1].encode(), ctypes.addressof(val)).ljust(40, b"\0")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifr)
EOF
}

rt_addr() {
  local ns=$1 dev=$2; shift 2
  rt_tx_csum_off "$ns" "$dev" || return 1
  ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=0 >/dev/null || return 1
  ip netns exec "$ns" sysctl -q -w "net.ipv6.conf.$dev.disable_ipv6=0" >/dev/null || return 1
  local c
  for c in "$@"; do
    case $c in
      *:*) ip -n "$ns" -6 addr replace "$c" dev "$dev" nodad || return 1 ;;
      *) ip -n "$ns" addr replace "$c" dev "$dev" || return 1 ;;
    esac
  done
}

rt_blackhole() {
  local ns=$1; shift
  local c
  for c in "$@"; do
    case $c in
      *:*) ip -n "$ns" -6 route add blackhole "$c" || return 1 ;;
      *) ip -n "$ns" route add blackhole "$c" || return 1 ;;
    esac
  done
}

rt_wait() {
  local limit=$1; shift
  local end=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.5
  done
}

# rt_kill_pidfile FILE: TERM, wait up to 5 s, then KILL; the pid only.
rt_kill_pidfile() {
  local f=$1 pid
  [ -s "$f" ] || return 0
  pid=$(tr -dc '0-9' < "$f")
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || { rm -f "$f"; return 0; }
  local _
  for _ in $(seq 50); do
    [ -r "/proc/$pid/stat" ] && ! awk '{ exit ($3 == "Z") ? 0 : 1 }' "/proc/$pid/stat" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$f"
}

# ------------------------------------------------------------------ BIRD 2
rt_bird_main() {
  local name=$1 rid=$2 inc=$3; shift 3
  local d=$RT_DIR/$name c v4="" v6=""
  mkdir -p "$d"
  for c in "$@"; do
    case $c in
      *:*) v6+="  route $c blackhole;"$'\n' ;;
      *) v4+="  route $c blackhole;"$'\n' ;;
    esac
  done
  {
    echo "# main bird.conf of the test router $name (tests/e2e/routers.sh)"
    echo "log \"$d/bird.log\" all;"
    echo "router id $rid;"
    echo "protocol device {}"
    [ -n "$v4" ] && printf 'protocol static announce4 {\n  ipv4;\n%s}\n' "$v4"
    [ -n "$v6" ] && printf 'protocol static announce6 {\n  ipv6;\n%s}\n' "$v6"
    echo "include \"$inc\";"
  } > "$d/bird.conf"
}

rt_bird_start() {
  local name=$1 ns=$2 d=$RT_DIR/$1 out
  out=$(bird -p -c "$d/bird.conf" 2>&1) || { echo "bird -p rejects $d/bird.conf: $out" >&2; return 1; }
  RT_ROUTERS+=("bird:$name")
  ip netns exec "$ns" bird -c "$d/bird.conf" -s "$d/bird.ctl" -P "$d/bird.pid" 2>"$d/start.log" ||
    { echo "bird $name did not start: $(cat "$d/start.log")" >&2; return 1; }
  rt_wait 10 test -S "$d/bird.ctl" || { echo "bird $name: no control socket $d/bird.ctl" >&2; return 1; }
}

rt_birdc() { local name=$1; shift; birdc -s "$RT_DIR/$name/bird.ctl" "$@"; }

rt_bird_established() {
  rt_birdc "$1" show protocols "$2" | awk -v p="$2" '$1 == p && $NF == "Established" { ok = 1 } END { exit !ok }'
}

# prefixes of the routes PROTO imported (best or not), sorted
rt_bird_routes() {
  local name=$1 proto=$2 fam=${3:-}
  rt_birdc "$name" show route protocol "$proto" ${fam:+table master$fam} |
    awk '$1 ~ /^[0-9a-fA-F:.]+\/[0-9]+$/ { print $1 }' | sort -u
}

rt_bird_stop() {
  local name=$1
  rt_kill_pidfile "$RT_DIR/$name/bird.pid"
}

# ------------------------------------------------------------------ FRR 8
rt_frr_start() {
  local name=$1 ns=$2 d=$RT_DIR/$1 dm
  mkdir -p "$d"
  RT_ROUTERS+=("frr:$name")
  # the daemons drop privileges to frr (Debian's build): their pid, log and
  # vty socket files are written as frr, in a directory of frr's
  chown frr:frr "$d" || return 1
  # each daemon: its own empty startup config (else it reads /etc/frr),
  # vty on the unix socket DIR/NAME/DAEMON.vty only (-P 0: no TCP vty),
  # zebra's API socket in DIR/NAME, logs in DIR/NAME.
  for dm in zebra staticd bgpd; do
    : > "$d/$dm.conf"; chown frr:frr "$d/$dm.conf"
    local extra=()
    [ "$dm" = bgpd ] && extra=(-p 179)
    ip netns exec "$ns" "$RT_FRR/$dm" -d -P 0 \
      -f "$d/$dm.conf" -i "$d/$dm.pid" -z "$d/zserv.api" --vty_socket "$d" \
      --log "file:$d/$dm.log" "${extra[@]}" 2>"$d/$dm.start" ||
      { echo "FRR $dm of $name did not start: $(cat "$d/$dm.start")" >&2; return 1; }
    rt_wait 10 test -S "$d/$dm.vty" || { echo "FRR $dm of $name: no vty socket $d/$dm.vty" >&2; return 1; }
  done
}

rt_vtysh() { local name=$1; shift; vtysh --vty_socket "$RT_DIR/$name" "$@"; }

# vtysh -f exits 0 on some errors; its output names them, so check both
rt_frr_load() {
  local name=$1 file=$2 out rc
  out=$(rt_vtysh "$name" -f "$file" 2>&1); rc=$?
  printf '%s\n' "$out" > "$RT_DIR/$name/load.log"
  if [ "$rc" -ne 0 ] || printf '%s\n' "$out" | grep -qiE '(%|error|unknown command|not connected)'; then
    echo "vtysh -f $file (exit $rc): $out" >&2
    return 1
  fi
}

rt_frr_established() {
  local name=$1 afi=$2 nb=$3
  rt_vtysh "$name" -c "show bgp $afi unicast summary json" |
    jq -e --arg n "$nb" '.peers[$n].state == "Established"' >/dev/null
}

# routes bgpd holds that came from a neighbor (peerId is not 0.0.0.0/::)
rt_frr_routes() {
  local name=$1 afi=$2
  rt_vtysh "$name" -c "show bgp $afi unicast json" |
    jq -r '.routes // {} | to_entries[] | select(any(.value[]; (.peerId // "") as $p | $p != "" and $p != "(unspec)" and $p != "0.0.0.0" and $p != "::")) | .key' |
    sort -u
}

rt_frr_stop() {
  local name=$1 dm
  for dm in bgpd staticd zebra; do rt_kill_pidfile "$RT_DIR/$name/$dm.pid"; done
}

rt_stop_all() {
  local r
  for r in "${RT_ROUTERS[@]}"; do
    case $r in
      bird:*) rt_bird_stop "${r#bird:}" ;;
      frr:*) rt_frr_stop "${r#frr:}" ;;
    esac
  done
  RT_ROUTERS=()
}

rt_logs() {
  local r f
  for r in "${RT_ROUTERS[@]}"; do
    for f in "$RT_DIR/${r#*:}"/*.log; do
      [ -s "$f" ] || continue
      echo "--- $f (tail)"
      tail -n 15 "$f"
    done
  done
}
