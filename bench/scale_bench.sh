#!/usr/bin/env bash
# scale_bench.sh: the scaling table of `make bench` (docs/performance.md):
# 1,000, 10,000 and 100,000 circuits on a fabric of 10 Open vSwitch
# switches, a line of 5 (l1-l2-l3-l4-l5) and a star of 5 (hub h0, leaves
# s1..s4). Of every 4 circuits, 2 stay on one switch (spread over the 10),
# 1 crosses the line two hops (l1->l3, l2->l4, l3->l5: a transit switch),
# 1 crosses the star leaf -> hub -> leaf. Adjacent switches have as many
# parallel links as the transport VLANs need (4,094 per link).
#
# For each size, in a database of its own: the circuits seeded (requests
# through the guard trigger's states, circuits installed, their flows from
# provisioner/plan.c via build/bench/fabric_plan --hops), then
#   install   `peerflow reconcile` of the whole fabric, every switch empty
#   healthy   the same again: nothing to send (3 times, the median: the
#             fixed cost is most of it at the small sizes)
#   wiped     `ovs-ofctl del-flows` on l2 (a transit switch), reconcile
# each checked (reconcile's counts; dump-flows of every switch holds the
# planned number of flows), the database's size, and the peak resident
# memory of the reconciling process (the provisioner's code, CLI).
#
# Input as fabric_bench.sh (PEERFLOW_MIGRATE_DATABASE_URL of the bench's
# server, PF), BENCH_SCALE_MAX (default 100000): sizes above it are
# skipped. Standard output: ROW lines as fabric_bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
PF=${PF:-$root/build/peerflow}
PLAN=$root/build/bench/fabric_plan
BINDIR=$(pg_config --bindir)
MAX=${BENCH_SCALE_MAX:-100000}
: "${PEERFLOW_MIGRATE_DATABASE_URL:?scale_bench: PEERFLOW_MIGRATE_DATABASE_URL is not set}"

exec 3>&1 1>&2
say() { echo "scale_bench: $*"; }
die() { echo "scale_bench: $*" >&2; exit 1; }
emit() { printf 'ROW\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >&3; }
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces for the fabric)"
[ -x "$PLAN" ] || make -s --no-print-directory build/bench/fabric_plan >&2

work=$(mktemp -d /tmp/pfsb.XXXXXX)
fab=$work/f
ns=pfsb$$
base_owner=$PEERFLOW_MIGRATE_DATABASE_URL
db_url() { echo "$1" | sed -E "s/dbname=[^ ]*/dbname=$2/"; }
admin_url=$(db_url "$base_owner" postgres)
dbs=()
cleanup() {
  local rc=$?
  set +e
  bash scripts/fabric.sh down "$fab" >/dev/null 2>&1
  for d in "${dbs[@]}"; do
    PGOPTIONS="-c client_min_messages=warning" "$BINDIR/psql" "$admin_url" -qAtX -c "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1
  done
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
t_now() { echo "$EPOCHREALTIME"; }
t_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }

switches="l1 l2 l3 l4 l5 h0 s1 s2 s3 s4"
say "fabric: 10 Open vSwitch switches in namespace $ns"
bash scripts/fabric.sh up "$fab" "$ns"
i=0
for s in $switches; do
  i=$((i + 1))
  bash scripts/fabric.sh switch "$fab" "$s" "$(printf '00000000000000%02x' $((0xe0 + i)))"
done
ofctl() { ovs-ofctl -O OpenFlow13 "$1" "unix:$fab/$2.mgmt" "${@:3}"; }

per_install=() per_healthy=() net_install=() net_healthy=()
# size 0 first: the fixed cost of a reconcile of this fabric (process
# start, ten OpenFlow handshakes, dumps and barriers, the audit event),
# measured in the same run, so that each row's cost per circuit can be
# given net of it too
for n in 0 1000 10000 100000; do
  [ "$n" -le "$MAX" ] || { say "$n circuits: skipped (BENCH_SCALE_MAX=$MAX)"; continue; }
  db=$(echo "$base_owner" | sed -E 's/.*dbname=([^ ]*).*/\1/')_scale_$n
  dbs+=("$db")
  PGOPTIONS="-c client_min_messages=warning" "$BINDIR/psql" "$admin_url" -qAtX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  owner=$(db_url "$base_owner" "$db")
  export PEERFLOW_MIGRATE_DATABASE_URL=$owner
  export PEERFLOW_DATABASE_URL="${owner%user=*}user=peerflow_app"
  export PEERFLOW_WORKER_DATABASE_URL="${owner%user=*}user=peerflow_worker"
  psql_o() { "$BINDIR/psql" "$PEERFLOW_MIGRATE_DATABASE_URL" -qAtX -v ON_ERROR_STOP=1 "$@"; }
  "$PF" migrate >/dev/null
  for s in $switches; do ofctl del-flows "$s"; done

  say "$n circuits: seeding"
  # the layout: python writes the switches, ports, links and requests
  # (COPY), then, once the ids are known, the planner's input
  python3 - "$n" "$work" "$fab" <<'PY'
import math, sys
n, work, fab = int(sys.argv[1]), sys.argv[2], sys.argv[3]
line = ["l1", "l2", "l3", "l4", "l5"]; hub = "h0"; leaves = ["s1", "s2", "s3", "s4"]
sws = line + [hub] + leaves
k = max(1, math.ceil(n / 16000))           # parallel links per adjacent pair
pairs = [(line[i], line[i + 1]) for i in range(4)] + [(l, hub) for l in leaves]
links = []                                 # (a, a_port, b, b_port)
nextp = {s: 1000 for s in sws}
for a, b in pairs:
    for _ in range(k):
        links.append((a, nextp[a], b, nextp[b])); nextp[a] += 1; nextp[b] += 1
edge = {s: 0 for s in sws}                 # endpoints used per switch
def end(s):
    c = edge[s]; edge[s] += 1
    return (s, 1 + c // 4094, 1 + c % 4094)  # trunk port, customer VLAN
lvl = {}                                   # link index -> next transport VLAN
par = {}                                   # (a, b) -> next parallel link
def hop(a, b):
    key = (a, b) if (a, b) in [(x, y) for x, y in pairs] else (b, a)
    base = [i for i, L in enumerate(links) if (L[0], L[2]) == key]
    j = base[par.get(key, 0) % len(base)]; par[key] = par.get(key, 0) + 1
    v = lvl.get(j, 0) + 1; lvl[j] = v
    assert v <= 4094, "transport VLANs of a link exhausted"
    L = links[j]
    fwd = (L[0], L[2]) == (a, b)
    return (j, a, L[1] if fwd else L[3], b, L[3] if fwd else L[1], v)
circuits = []
for i in range(n):
    kind = i % 4
    if kind < 2:
        s = sws[(i // 2) % 10]; circuits.append((end(s), end(s), []))
    elif kind == 2:
        st = (i // 4) % 3; a, t, b = line[st], line[st + 1], line[st + 2]
        circuits.append((end(a), end(b), [hop(a, t), hop(t, b)]))
    else:
        x = (i // 4) % 4; a, b = leaves[x], leaves[(x + 1) % 4]
        circuits.append((end(a), end(b), [hop(a, hub), hop(hub, b)]))
with open(f"{work}/switches.tsv", "w") as f:
    for i, s in enumerate(sws):  # the dpids fabric.sh gave them
        f.write(f"{s}\t{0xe1 + i:016x}\tunix:{fab}/{s}.sock\n")
with open(f"{work}/ports.tsv", "w") as f:
    for s in sws:
        for p in range(1, edge[s] // 4094 + 2):
            f.write(f"{s}\t{p}\tA{s}-{p}\t64801\n")
            f.write(f"{s}\t{p + 500}\tB{s}-{p}\t64802\n")
with open(f"{work}/links.tsv", "w") as f:
    for j, (a, ap, b, bp) in enumerate(links):
        f.write(f"{j + 1}\t{a}\t{ap}\t{b}\t{bp}\n")
with open(f"{work}/requests.tsv", "w") as f:
    for i, (a, b, h) in enumerate(circuits):
        f.write(f"{i + 1}\tA{a[0]}-{a[1]}\t{a[2]}\tB{b[0]}-{b[1]}\t{b[2]}\n")
with open(f"{work}/plan.in", "w") as f:
    for i, (a, b, h) in enumerate(circuits):
        hs = " ".join(f"{j + 1} @{x} {xp} @{y} {yp} {v}" for j, x, xp, y, yp, v in h)
        f.write(f"{i + 1} @{a[0]} {a[1]} {a[2]} @{b[0]} {b[1] + 500} {b[2]} {len(h)} {hs}\n")
PY
  psql_o <<SQL
INSERT INTO networks (asn, name, policy, contacts) VALUES
  (64801, 'Scale A', 'open', '{noc@a.scale.example}'), (64802, 'Scale B', 'open', '{noc@b.scale.example}');
CREATE TEMP TABLE sw (name text, dpid text, endpoint text);
\\copy sw FROM '$work/switches.tsv'
INSERT INTO switches (name, dpid, endpoint) SELECT name, dpid, endpoint FROM sw;
CREATE TEMP TABLE pt (sw text, ofport integer, name text, asn bigint);
\\copy pt FROM '$work/ports.tsv'
INSERT INTO ports (network_id, switch_id, ofport, name, mode)
SELECT n.id, s.id, pt.ofport, pt.name, 'trunk' FROM pt JOIN switches s ON s.name = pt.sw JOIN networks n ON n.asn = pt.asn;
CREATE TEMP TABLE lk (id bigint, a text, ap integer, b text, bp integer);
\\copy lk FROM '$work/links.tsv'
INSERT INTO links (id, a_switch_id, a_port, b_switch_id, b_port)
SELECT lk.id, sa.id, lk.ap, sb.id, lk.bp FROM lk JOIN switches sa ON sa.name = lk.a JOIN switches sb ON sb.name = lk.b ORDER BY lk.id;
CREATE TEMP TABLE rq (i bigint, ap text, av integer, bp text, bv integer);
\\copy rq FROM '$work/requests.tsv'
INSERT INTO peering_requests (id, requester_network_id, requester_port_id, requester_vlan,
                              peer_network_id, peer_port_id, peer_vlan)
SELECT rq.i, pa.network_id, pa.id, rq.av, pb.network_id, pb.id, rq.bv
  FROM rq JOIN ports pa ON pa.name = rq.ap JOIN ports pb ON pb.name = rq.bp ORDER BY rq.i;
INSERT INTO approvals (request_id, network_id, side, decision, via)
SELECT id, requester_network_id, 'requester', 'approve', 'auto-policy' FROM peering_requests
UNION ALL
SELECT id, peer_network_id, 'peer', 'approve', 'auto-policy' FROM peering_requests;
UPDATE peering_requests SET state = 'approved';
UPDATE peering_requests SET state = 'provisioning';
UPDATE peering_requests SET state = 'active';
INSERT INTO circuits (id, request_id, state, installed_at)
SELECT id, id, 'installed', now() FROM peering_requests ORDER BY id;
SQL
  # the planner's input with the switches' ids
  sed_ids=$(psql_o -F ' ' -c "SELECT name, id FROM switches" | awk '{ printf "s/@%s /%s /g;", $1, $2 }')
  sed -E "$sed_ids" "$work/plan.in" >"$work/plan.ids"
  "$PLAN" --hops "$work/flows.copy" "$work/flows.ofctl" <"$work/plan.ids" >/dev/null
  # the transport VLANs the plan uses, as the provisioner records them
  awk '{ for (h = 0; h < $8; h++) print $(9 + 6 * h) "\t" $(14 + 6 * h) "\t" $1 }' "$work/plan.ids" | sort -u >"$work/link_vlans.tsv"
  psql_o -c "\\copy link_vlans (link_id, vlan, circuit_id) FROM '$work/link_vlans.tsv'"
  psql_o -c "\\copy flows (circuit_id, switch_id, table_id, priority, match, actions, cookie) FROM '$work/flows.copy'"
  psql_o -c "ANALYZE" >/dev/null
  want_total=$(psql_o -c "SELECT count(*) FROM flows")
  psql_o -F ' ' -c "SELECT s.name, count(f.id) + 1 FROM switches s LEFT JOIN flows f ON f.switch_id = s.id GROUP BY s.name" >"$work/want"

  check_all() {
    local what=$1 s w have
    while read -r s w; do
      have=$(ofctl dump-flows "$s" --no-stats | wc -l)
      [ "$have" -eq "$w" ] || die "$n circuits, $what: switch $s holds $have flows, want $w"
    done <"$work/want"
  }
  # reconcile; expects "A added, U unchanged"; sets ms and rss_kib
  reconcile() {
    local added=$1 unchanged=$2 t0 t1 out
    t0=$(t_now)
    out=$(/usr/bin/time -f '%M' -o "$work/rss" "$PF" reconcile) || die "$n circuits: reconcile failed: $out"
    t1=$(t_now)
    ms=$(t_ms "$t0" "$t1")
    rss_kib=$(tail -1 "$work/rss")
    echo "$out" | grep -q "reconciled 10 switches in .*: $((want_total + 10)) flows desired, $added added, 0 modified, 0 removed, $unchanged unchanged" \
      || die "$n circuits: reconcile did not do what it should ($added added, $unchanged unchanged): $out"
  }
  say "$n circuits ($want_total flows): install from empty"
  reconcile $((want_total + 10)) 0; check_all install
  install_ms=$ms install_rss=$rss_kib
  say "$n circuits: reconcile healthy (3 times, the median)"
  hs=()
  for _ in 1 2 3; do
    reconcile 0 $((want_total + 10)); check_all "healthy reconcile"
    hs+=("$ms")
  done
  healthy_ms=$(printf '%s\n' "${hs[@]}" | sort -n | sed -n 2p)
  l2=$(awk '$1 == "l2" { print $2 }' "$work/want")
  ofctl del-flows l2
  say "$n circuits: reconcile after l2 was wiped ($l2 flows)"
  reconcile "$l2" $((want_total + 10 - l2)); check_all "reconcile after a wipe"
  wiped_ms=$ms
  rss_mib=$(awk -v k="$install_rss" -v l="$rss_kib" 'BEGIN { printf "%.1f", (k > l ? k : l) / 1024 }')
  size_mib=$(psql_o -c "SELECT round(pg_database_size(current_database()) / 1048576.0, 1)")
  if [ "$n" -eq 0 ]; then
    fixed_install=$install_ms fixed_healthy=$healthy_ms
    emit "scaling: 0 circuits, 10 switches (the fixed cost of a reconcile)" \
      "${install_ms}ms" "-" "-" \
      "install from empty (10 table-miss flows) ${install_ms} ms; healthy reconcile ${healthy_ms} ms; reconcile peak RSS ${rss_mib} MiB"
    for s in $switches; do ofctl del-flows "$s"; done
    continue
  fi
  us() { awk -v a="$1" -v n="$n" 'BEGIN { printf "%.1f", a * 1000 / n }'; }
  net() { awk -v a="$1" -v f="$2" -v n="$n" 'BEGIN { printf "%.1f", (a - f) * 1000 / n }'; }
  per_install+=("$(us "$install_ms")") per_healthy+=("$(us "$healthy_ms")")
  net_install+=("$(net "$install_ms" "$fixed_install")") net_healthy+=("$(net "$healthy_ms" "$fixed_healthy")")
  emit "scaling: $n circuits, 10 switches ($want_total flows)" \
    "${install_ms}ms" "-" "-" \
    "install from empty ${install_ms} ms = $(us "$install_ms") us/circuit ($(net "$install_ms" "$fixed_install") net of the fixed cost); healthy reconcile ${healthy_ms} ms = $(us "$healthy_ms") us/circuit ($(net "$healthy_ms" "$fixed_healthy") net); after wiping l2 ($l2 flows) ${wiped_ms} ms; database ${size_mib} MiB; reconcile peak RSS ${rss_mib} MiB (target <= 256 at 100,000)"
  for s in $switches; do ofctl del-flows "$s"; done
done
if [ "${#per_install[@]}" -ge 2 ]; then
  spread() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f", hi / lo }'; }
  emit "scaling: cost per circuit net of the fixed cost, largest / smallest" \
    "$(spread "${net_install[@]}")" "-" "-" \
    "install (us/circuit net: ${net_install[*]}); healthy reconcile $(spread "${net_healthy[@]}") (${net_healthy[*]}); target <= 2 (linear); with the fixed cost in: install $(spread "${per_install[@]}") (${per_install[*]}), healthy $(spread "${per_healthy[@]}") (${per_healthy[*]})"
fi
