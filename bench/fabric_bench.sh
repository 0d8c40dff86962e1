#!/usr/bin/env bash
# fabric_bench.sh: the fabric figures of `make bench` (docs/performance.md),
# on a real Open vSwitch fabric of its own (scripts/fabric.sh: own network
# namespace and directory, torn down on exit, also on failure).
#
#   1. flows installed per second on one switch, N circuits (default
#      10,000; 2 flows each): `peerflow reconcile --switch big` on an empty
#      switch, against `ovs-ofctl --bundle add-flows` of the same flows (OVS's
#      own tool in its fastest mode: one atomic bundle, no barrier per flow);
#   2. reconcile after `ovs-ofctl del-flows` on that switch: `peerflow
#      reconcile` wall time against `ovs-ofctl --bundle replace-flows` of the
#      same set; and the reconcile of the healthy switch: its time, and
#      that it sends no flow mod;
#   3. approve -> active latency (p50, p99) with `peerflow serve` (workers
#      on), one switch and a line of three: absolute, loopback.
#
# Each result is checked before it is reported (the switch holds exactly the
# expected flows: count, cookies, and the same flows whichever tool put
# them there; every request active with its circuit's flows on every switch
# of its path), else the script fails instead of printing.
#
# Input (bench/run.sh): PEERFLOW_DATABASE_URL / PEERFLOW_MIGRATE_DATABASE_URL
# of an empty, migrated database (durable PostgreSQL), PF (default
# build/peerflow). Creates and drops one more database (NAME_lat) through
# the owner URL. Needs root (network namespaces) and Open vSwitch.
#
# Standard output: only result lines,
#   ROW<TAB>figure<TAB>peerflow<TAB>baseline<TAB>ratio<TAB>notes
# everything else goes to standard error.
#
# BENCH_FABRIC_CIRCUITS (10000), BENCH_FABRIC_REPS (5: runs of each timing,
# the median is reported), BENCH_FABRIC_APPROVALS (50 per fabric).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
PF=${PF:-$root/build/peerflow}
PLAN=$root/build/bench/fabric_plan
BINDIR=$(pg_config --bindir)
N=${BENCH_FABRIC_CIRCUITS:-10000}
REPS=${BENCH_FABRIC_REPS:-5}
N_LAT=${BENCH_FABRIC_APPROVALS:-50}
: "${PEERFLOW_DATABASE_URL:?fabric_bench: PEERFLOW_DATABASE_URL is not set}"
: "${PEERFLOW_MIGRATE_DATABASE_URL:?fabric_bench: PEERFLOW_MIGRATE_DATABASE_URL is not set}"

exec 3>&1 1>&2 # fd 3: the result lines; everything else to stderr
say() { echo "fabric_bench: $*"; }
die() { echo "fabric_bench: $*" >&2; exit 1; }
emit() { printf 'ROW\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >&3; }

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces for the fabric)"
command -v ovs-vswitchd >/dev/null || die "needs Open vSwitch (ovs-vswitchd)"
[ -x "$PF" ] || die "no $PF (make build/peerflow)"
[ -x "$PLAN" ] || make -s --no-print-directory build/bench/fabric_plan >&2

work=$(mktemp -d /tmp/pffb.XXXXXX) # short: unix socket paths live in it
fab=$work/f
ns=pffb$$
serve_pid=
lat_db=
owner_url=$PEERFLOW_MIGRATE_DATABASE_URL
app_url=$PEERFLOW_DATABASE_URL
db_url() { echo "$1" | sed -E "s/dbname=[^ ]*/dbname=$2/"; }
admin_url=$(db_url "$owner_url" postgres)

cleanup() {
  local rc=$?
  set +e
  if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null; fi
  bash scripts/fabric.sh down "$fab" >/dev/null 2>&1
  [ -n "$lat_db" ] && PGOPTIONS="-c client_min_messages=warning" "$BINDIR/psql" "$admin_url" -qAtX -c "DROP DATABASE IF EXISTS $lat_db" >/dev/null 2>&1
  if [ $rc -ne 0 ] && [ -d "$work" ]; then
    for f in "$work"/serve.log; do [ -f "$f" ] && { echo "--- $f (tail)"; tail -20 "$f"; }; done
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql_o() { "$BINDIR/psql" "$owner_url" -qAtX -v ON_ERROR_STOP=1 "$@"; }
ofctl() { ovs-ofctl -O OpenFlow13 "$1" "unix:$fab/$2.mgmt" "${@:3}"; }
t_now() { echo "$EPOCHREALTIME"; }
t_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
div() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN { if (b == 0) print "n/a"; else printf f, a / b }'; }

# ------------------------------------------------------------- the fabric
say "fabric: Open vSwitch in namespace $ns, $fab"
bash scripts/fabric.sh up "$fab" "$ns"
bash scripts/fabric.sh switch "$fab" big 00000000000000b1
bash scripts/fabric.sh switch "$fab" one 00000000000000c1
bash scripts/fabric.sh switch "$fab" l1 00000000000000d1
bash scripts/fabric.sh switch "$fab" l2 00000000000000d2
bash scripts/fabric.sh switch "$fab" l3 00000000000000d3
bash scripts/fabric.sh link "$fab" l1 10 l2 10
bash scripts/fabric.sh link "$fab" l2 11 l3 10
ovs_version=$(ovs-vswitchd --version | awk 'NR == 1 { print $NF }')

# ------------------------------------- N circuits on one switch, planned
# Same-switch trunk-to-trunk circuits with VLAN translation: requester port
# taK VLAN v, peer port tbK VLAN v+1 (a trunk carries one circuit per VLAN,
# so ceil(N / 4094) port pairs). The requests go through the states the
# workflow would take them (the guard trigger checks each transition); the
# circuits are `installed`; their flows are what provisioner/plan.c gives
# (build/bench/fabric_plan calls prov_plan and prov_flow_to_json).
say "seeding $N circuits on switch big"
"$PF" network add --asn 64601 --name "Bench Fabric A" >/dev/null
"$PF" network add --asn 64602 --name "Bench Fabric B" >/dev/null
"$PF" switch add --name big --dpid 00000000000000b1 --endpoint "unix:$fab/big.sock" >/dev/null
pairs=$(((N + 4093) / 4094))
for k in $(seq "$pairs"); do
  "$PF" port add --network 64601 --switch big --ofport "$k" --name "ta$k" --mode trunk >/dev/null
  "$PF" port add --network 64602 --switch big --ofport $((pairs + k)) --name "tb$k" --mode trunk >/dev/null
done
psql_o -v n="$N" <<'SQL'
INSERT INTO peering_requests (requester_network_id, requester_port_id, requester_vlan,
                              peer_network_id, peer_port_id, peer_vlan)
SELECT na.id, pa.id, 1 + g % 4094, nb.id, pb.id, 1 + (g + 1) % 4094
  FROM generate_series(0, :n - 1) g
  JOIN networks na ON na.asn = 64601
  JOIN networks nb ON nb.asn = 64602
  JOIN ports pa ON pa.network_id = na.id AND pa.name = 'ta' || (1 + g / 4094)
  JOIN ports pb ON pb.network_id = nb.id AND pb.name = 'tb' || (1 + g / 4094)
 ORDER BY g;
INSERT INTO approvals (request_id, network_id, side, decision, via)
SELECT id, requester_network_id, 'requester', 'approve', 'auto-policy' FROM peering_requests
UNION ALL
SELECT id, peer_network_id, 'peer', 'approve', 'auto-policy' FROM peering_requests;
UPDATE peering_requests SET state = 'approved';
UPDATE peering_requests SET state = 'provisioning';
UPDATE peering_requests SET state = 'active';
INSERT INTO circuits (request_id, state, installed_at)
SELECT id, 'installed', now() FROM peering_requests ORDER BY id;
SQL
psql_o -F ' ' -c "SELECT c.id, pa.switch_id, pa.ofport, r.requester_vlan, pb.ofport, r.peer_vlan
                    FROM circuits c JOIN peering_requests r ON r.id = c.request_id
                    JOIN ports pa ON pa.id = r.requester_port_id
                    JOIN ports pb ON pb.id = r.peer_port_id ORDER BY c.id" >"$work/circuits"
n_ofctl=$("$PLAN" "$work/flows.copy" "$work/flows.ofctl" <"$work/circuits")
psql_o -c "\\copy flows (circuit_id, switch_id, table_id, priority, match, actions, cookie) FROM '$work/flows.copy'"
psql_o -c "ANALYZE"
n_db=$(psql_o -c "SELECT count(*) FROM flows f JOIN switches s ON s.id = f.switch_id WHERE s.name = 'big'")
want=$((2 * N + 1)) # the circuits' flows and the table-miss flow
[ "$n_db" -eq $((2 * N)) ] && [ "$n_ofctl" -eq "$want" ] \
  || die "seeding: $n_db flows in the database, $n_ofctl in the ofctl file (want $((2 * N)) and $want)"
# the cookies the switch must hold: 2 per circuit, 1 table-miss
grep -o '^cookie=0x[0-9a-f]*' "$work/flows.ofctl" | sort | uniq -c >"$work/cookies.want"

# The switch holds exactly the planned flows: count, cookies (each
# circuit's twice, the table-miss once), and, line for line, the same flows
# as the first install (so peerflow's and ovs-ofctl's installs are equal).
check_big() {
  local what=$1
  ofctl dump-flows big --no-stats | sed -E 's/^ +//; s/, +/,/g' | sort >"$work/dump"
  local n; n=$(wc -l <"$work/dump")
  [ "$n" -eq "$want" ] || die "$what: switch big holds $n flows, want $want"
  grep -o '^cookie=0x[0-9a-f]*' "$work/dump" | sort | uniq -c >"$work/cookies.have"
  cmp -s "$work/cookies.want" "$work/cookies.have" \
    || die "$what: the cookies on switch big are not the planned ones ($(diff "$work/cookies.want" "$work/cookies.have" | head -3 | tr '\n' ' '))"
  if [ -f "$work/dump.ref" ]; then
    cmp -s "$work/dump.ref" "$work/dump" \
      || die "$what: switch big holds other flows than the first install: $(diff "$work/dump.ref" "$work/dump" | head -4 | tr '\n' ' ')"
  else
    cp "$work/dump" "$work/dump.ref"
  fi
}
empty_big() {
  ofctl del-flows big
  [ "$(ofctl dump-flows big --no-stats | wc -l)" -eq 0 ] || die "del-flows left flows on big"
}
# CPU time of ovs-vswitchd so far, in ms
tck=$(getconf CLK_TCK)
ovs_cpu() { awk -v t="$tck" '{ print ($14 + $15) * 1000 / t }' "/proc/$(cat "$fab/ovs-vswitchd.pid")/stat"; }
# peerflow reconcile --switch big, expecting "$1 added, $2 unchanged"; sets
# pf_ms (wall), pf_in (its own figure), pf_cpu (user+sys of the CLI
# process), ovs_ms (CPU ovs-vswitchd spent meanwhile)
pf_reconcile() {
  local added=${1:-$want} unchanged=${2:-0} t0 t1 c0 c1 out
  c0=$(ovs_cpu)
  t0=$(t_now)
  out=$( { TIMEFORMAT='%3U %3S'; time "$PF" reconcile --switch big; } 2>"$work/time") \
    || die "peerflow reconcile --switch big failed: $out $(cat "$work/time")"
  t1=$(t_now)
  c1=$(ovs_cpu)
  pf_ms=$(t_ms "$t0" "$t1")
  echo "$out" | grep -q "reconciled 1 switch in .*: $want flows desired, $added added, 0 modified, 0 removed, $unchanged unchanged, 0 foreign" \
    || die "peerflow reconcile did not do what it should ($added added, $unchanged unchanged): $out $(cat "$work/time")"
  pf_in=$(echo "$out" | sed -E 's/.* in ([0-9.]+) ms.*/\1/')
  pf_cpu=$(tail -1 "$work/time" | awk '{ printf "%.0f", ($1 + $2) * 1000 }')
  ovs_ms=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.0f", b - a }')
}
# the baseline: ovs-ofctl's own fastest, atomic mode (one bundle)
ofctl_timed() {
  local t0 t1
  t0=$(t_now)
  ovs-ofctl -O OpenFlow13 --bundle "$1" "unix:$fab/big.mgmt" "$work/flows.ofctl"
  t1=$(t_now)
  base_ms=$(t_ms "$t0" "$t1")
}

f1_pf=() f1_in=() f1_base=() f2_pf=() f2_in=() f2_base=() f1_cpu=() f1_ovs=()
say "figures 1 and 2: $REPS runs each, $want flows on switch big"
for r in $(seq "$REPS"); do
  # 1. install into an empty switch
  empty_big; pf_reconcile; check_big "peerflow install (run $r)"
  f1_pf+=("$pf_ms") f1_in+=("$pf_in") f1_cpu+=("$pf_cpu") f1_ovs+=("$ovs_ms")
  empty_big; ofctl_timed add-flows; check_big "ovs-ofctl --bundle add-flows (run $r)"
  f1_base+=("$base_ms")
  # 2. the switch carried the flows and lost them (del-flows)
  empty_big; pf_reconcile; check_big "peerflow reconcile after del-flows (run $r)"
  f2_pf+=("$pf_ms") f2_in+=("$pf_in")
  empty_big; ofctl_timed replace-flows; check_big "ovs-ofctl --bundle replace-flows (run $r)"
  f2_base+=("$base_ms")
  say "run $r: install ${f1_pf[-1]} ms (in-process ${f1_in[-1]}) vs add-flows ${f1_base[-1]} ms;" \
      "reconcile ${f2_pf[-1]} ms (in-process ${f2_in[-1]}) vs replace-flows ${f2_base[-1]} ms;" \
      "install CPU: peerflow ${f1_cpu[-1]} ms, ovs-vswitchd ${f1_ovs[-1]} ms"
done
# a healthy switch (it holds every flow): nothing may be sent (reconcile
# reports 0 added, 0 modified, 0 removed, or pf_reconcile fails)
pf_reconcile 0 "$want"; check_big "peerflow reconcile of a healthy switch"
healthy_ms=$pf_ms healthy_in=$pf_in
say "reconcile of the healthy switch: $healthy_ms ms (in-process $pf_in, CPU $pf_cpu ms)"
m1=$(median "${f1_pf[@]}") m1i=$(median "${f1_in[@]}") b1=$(median "${f1_base[@]}")
m1c=$(median "${f1_cpu[@]}") m1o=$(median "${f1_ovs[@]}")
m2=$(median "${f2_pf[@]}") m2i=$(median "${f2_in[@]}") b2=$(median "${f2_base[@]}")
pf_rate=$(div $((want * 1000)) "$m1" %.0f)
base_rate=$(div $((want * 1000)) "$b1" %.0f)
emit "flows installed per second, one OVS switch, $N circuits ($want flows)" \
  "$pf_rate" "$base_rate" "$(div "$pf_rate" "$base_rate")" \
  "target >= 1.0; path: peerflow reconcile --switch on an emptied switch (CLI wall time: process start, OpenFlow handshake, dump, desired flows from PostgreSQL, one pipeline of flow mods + BARRIER, audit), median of $REPS: $m1 ms, in-process $m1i ms = $(div $((want * 1000)) "$m1i" %.0f) flows/s, CPU of the CLI $m1c ms and of ovs-vswitchd $m1o ms; baseline: ovs-ofctl -O OpenFlow13 --bundle add-flows of the same flows (file from the plan) after del-flows, $b1 ms (one atomic bundle); both checked by dump-flows (count, cookies, identical flows); OVS $ovs_version netdev"
emit "reconcile after del-flows, $N circuits ($want flows), wall ms" \
  "$m2" "$b2" "$(div "$m2" "$b2")" \
  "target <= 1.0; peerflow reconcile --switch wall time (in-process $m2i ms), median of $REPS; baseline: ovs-ofctl -O OpenFlow13 --bundle replace-flows of the same set into the emptied switch; checked by dump-flows"
emit "reconcile of a healthy switch, $N circuits ($want flows), wall ms" \
  "$healthy_ms" "-" "-" \
  "0 flow mods sent (reconcile: 0 added, 0 modified, 0 removed, $want unchanged; checked by dump-flows); in-process $healthy_in ms"

# ------------------------------------------------ approve -> active latency
# Own database: serve's provisioner connects to every switch of its
# database, and `big` with its 20,001 flows is not part of these fabrics.
empty_big
lat_db=$(echo "$owner_url" | sed -E 's/.*dbname=([^ ]*).*/\1/')_lat
PGOPTIONS="-c client_min_messages=warning" "$BINDIR/psql" "$admin_url" -qAtX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $lat_db" -c "CREATE DATABASE $lat_db"
owner_url=$(db_url "$owner_url" "$lat_db")
app_url=$(db_url "$app_url" "$lat_db")
export PEERFLOW_DATABASE_URL=$app_url PEERFLOW_MIGRATE_DATABASE_URL=$owner_url
export PEERFLOW_WORKER_DATABASE_URL=${app_url%user=*}user=peerflow_worker
"$PF" migrate >/dev/null
say "figure 3: $N_LAT approvals on switch one, $N_LAT on the line l1-l2-l3"
"$PF" network add --asn 64611 --name "Latency A" >/dev/null
"$PF" network add --asn 64612 --name "Latency B" >/dev/null
"$PF" user add --email admin@a.bench.example --network 64611 --role admin >/dev/null
"$PF" user add --email admin@b.bench.example --network 64612 --role admin >/dev/null
for s in one l1 l2 l3; do
  dpid=$(ovs-vsctl --db="unix:$fab/db.sock" get bridge "$s" other-config:datapath-id | tr -d '"')
  "$PF" switch add --name "$s" --dpid "$dpid" --endpoint "unix:$fab/$s.sock" >/dev/null
done
"$PF" link add --a l1:10 --b l2:10 >/dev/null
"$PF" link add --a l2:11 --b l3:10 >/dev/null
"$PF" port add --network 64611 --switch one --ofport 1 --name oa --mode trunk >/dev/null
"$PF" port add --network 64612 --switch one --ofport 2 --name ob --mode trunk >/dev/null
"$PF" port add --network 64611 --switch l1 --ofport 1 --name la --mode trunk >/dev/null
"$PF" port add --network 64612 --switch l3 --ofport 1 --name lb --mode trunk >/dev/null
ids_one=() ids_line=()
for i in $(seq "$N_LAT"); do
  v=$((99 + i))
  id=$("$PF" request submit --as admin@a.bench.example --port oa --vlan "$v" --peer-asn 64612 \
         --peer-port ob --peer-vlan "$v" | awk '/submitted/ { print $2 }')
  ids_one+=("$id")
  id=$("$PF" request submit --as admin@a.bench.example --port la --vlan "$v" --peer-asn 64612 \
         --peer-port lb --peer-vlan "$v" | awk '/submitted/ { print $2 }')
  ids_line+=("$id")
done
tok=$("$PF" token create --email admin@b.bench.example --name bench)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$PF" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || die "peerflow serve never answered"
# every switch connected and reconciled (its table-miss flow installed)
for _ in $(seq 200); do
  c=$(psql_o -c "SELECT count(*) FROM switches WHERE conn_state = 'connected'")
  miss=0
  for s in one l1 l2 l3; do
    ofctl dump-flows "$s" --no-stats | grep -q 'cookie=0x5046000000000000' && miss=$((miss + 1))
  done
  [ "$c" -eq 4 ] && [ "$miss" -eq 4 ] && break
  sleep 0.1
done
[ "$c" -eq 4 ] && [ "$miss" -eq 4 ] || die "the provisioner did not connect to the 4 switches ($c connected, $miss with the table-miss flow)"

# One approval at a time: approve through the API, wait until active. A
# random pause of 0-500 ms before each approval keeps the arrivals from
# locking onto the phase of the job workers' idle poll.
# The API calls' own times (curl time_total, ms) go to $work/calls.
approve_all() {
  local id st
  : >"$work/calls"
  for id in "$@"; do
    sleep "0.$(printf '%03d' $((RANDOM % 500)))"
    curl -sf -o /dev/null -w '%{time_total}\n' -X POST -H "Authorization: Bearer $tok" \
      -H 'Content-Type: application/json' -d '{}' \
      "http://127.0.0.1:$port/api/v1/requests/$id/approve" >>"$work/calls" || die "approving request $id failed"
    for _ in $(seq 500); do
      st=$(psql_o -c "SELECT state FROM peering_requests WHERE id = $id")
      case $st in active | failed) break ;; esac
      sleep 0.02
    done
    [ "$st" = active ] || die "request $id is $st, not active, 10 s after its approval: $(psql_o -c "SELECT coalesce(c.error, '') FROM circuits c WHERE c.request_id = $id")"
  done
}
# p50, p99 (nearest rank) and max of active_at - approved_at in ms, the
# count, and p50 / p99 of the part after the job started (the request's
# audit event of its change to provisioning -> active_at): the rest is the
# wait for a job worker to claim the job
lat_stats() {
  psql_o -F ' ' -c "SELECT round((percentile_disc(0.5) WITHIN GROUP (ORDER BY d))::numeric, 1),
                           round((percentile_disc(0.99) WITHIN GROUP (ORDER BY d))::numeric, 1),
                           round(max(d)::numeric, 1), count(*),
                           round((percentile_disc(0.5) WITHIN GROUP (ORDER BY w))::numeric, 1),
                           round((percentile_disc(0.99) WITHIN GROUP (ORDER BY w))::numeric, 1)
                      FROM (SELECT extract(epoch FROM r.active_at - r.approved_at) * 1000 AS d,
                                   extract(epoch FROM r.active_at - (
                                     SELECT max(e.at) FROM audit_events e
                                      WHERE e.request_id = r.id AND e.action = 'request.state_changed'
                                        AND e.after->>'state' = 'provisioning')) * 1000 AS w
                              FROM peering_requests r WHERE r.id IN ($(IFS=,; echo "$*"))
                               AND r.state = 'active') x"
}
# every circuit installed, its 2 flows per switch of the path on the switch
check_lat() {
  local what=$1 n_sw=$2; shift 2
  local list; list=$(IFS=,; echo "$*")
  local bad
  bad=$(psql_o -c "SELECT count(*) FROM peering_requests r LEFT JOIN circuits c ON c.request_id = r.id
                    WHERE r.id IN ($list) AND (r.state <> 'active' OR c.state IS DISTINCT FROM 'installed'
                      OR (SELECT count(*) FROM flows f WHERE f.circuit_id = c.id) <> 2 * $n_sw)")
  [ "$bad" -eq 0 ] || die "$what: $bad requests not active with an installed circuit and $((2 * n_sw)) flows"
  # one provision job each, done; retried attempts are reported, not hidden
  read -r jobs_done retries <<<"$(psql_o -F ' ' -c "SELECT count(*) FILTER (WHERE state = 'done'),
                                   coalesce(sum(attempts - 1), 0) FROM jobs
                                  WHERE kind = 'provision' AND request_id IN ($list)")"
  [ "$jobs_done" -eq $# ] || die "$what: $jobs_done of $# provision jobs done"
  call_max=$(sort -g "$work/calls" | tail -1 | awk '{ printf "%.1f", $1 * 1000 }')
  psql_o -c "SELECT DISTINCT s.name || ' ' || lower(to_hex(f.cookie)) FROM flows f
               JOIN circuits c ON c.id = f.circuit_id JOIN switches s ON s.id = f.switch_id
              WHERE c.request_id IN ($list) ORDER BY 1" >"$work/lat.want"
  : >"$work/lat.have"
  local s
  for s in $(awk '{ print $1 }' "$work/lat.want" | sort -u); do
    ofctl dump-flows "$s" --no-stats | grep -o 'cookie=0x[0-9a-f]*' | sed "s/^cookie=0x/$s /" \
      | grep -v ' 5046000000000000$' | sort | uniq -c | awk -v s="$s" '
        $1 != 2 { print "switch " s ": cookie " $3 " on " $1 " flows" > "/dev/stderr"; bad = 1 }
        { print $2 " " $3 } END { exit bad }' >>"$work/lat.have" || die "$what: a circuit has not 2 flows on a switch"
  done
  sort -o "$work/lat.have" "$work/lat.have"
  cmp -s "$work/lat.want" "$work/lat.have" \
    || die "$what: the switches do not hold the circuits' flows: $(diff "$work/lat.want" "$work/lat.have" | head -4 | tr '\n' ' ')"
}

approve_all "${ids_one[@]}"
check_lat "one switch" 1 "${ids_one[@]}"
read -r p50 p99 pmax cnt w50 w99 <<<"$(lat_stats "${ids_one[@]}")"
[ "$cnt" -eq "$N_LAT" ] || die "one switch: $cnt of $N_LAT requests active"
say "one switch: p50 $p50 ms, p99 $p99 ms, max $pmax ms; after the job started: p50 $w50 ms, p99 $w99 ms; slowest approve call $call_max ms, job retries $retries"
emit "approve -> active, one switch, p50 / p99" "p50 ${p50} ms / p99 ${p99} ms" "-" "-" \
  "target p99 <= 50 ms; absolute, loopback; $N_LAT approvals one at a time via POST /api/v1/requests/ID/approve to peerflow serve (workers on, provisioner inside), random 0-500 ms pause before each; active_at - approved_at from peering_requests (each set at its transaction's start); p99 nearest rank (max $pmax ms); from the job's start (its change to provisioning) to active: p50 $w50 ms / p99 $w99 ms, the rest is the wait for a worker to claim the job; slowest approve API call $call_max ms; job retries: $retries"

approve_all "${ids_line[@]}"
check_lat "line of three" 3 "${ids_line[@]}"
read -r p50 p99 pmax cnt w50 w99 <<<"$(lat_stats "${ids_line[@]}")"
[ "$cnt" -eq "$N_LAT" ] || die "line: $cnt of $N_LAT requests active"
say "line of three: p50 $p50 ms, p99 $p99 ms, max $pmax ms; after the job started: p50 $w50 ms, p99 $w99 ms; slowest approve call $call_max ms, job retries $retries"
emit "approve -> active, line of three switches, p50 / p99" "p50 ${p50} ms / p99 ${p99} ms" "-" "-" \
  "target p99 <= 50 ms; absolute, loopback; as above, circuits from l1 to l3 (6 flows on 3 switches, a BARRIER on each); from the job's start to active: p50 $w50 ms / p99 $w99 ms; slowest approve API call $call_max ms; job retries: $retries"
