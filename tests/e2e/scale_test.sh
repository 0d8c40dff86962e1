#!/usr/bin/env bash
# The scale-out check (PRODUCT.md, "Scale"): two `peerflow serve
# --no-workers` processes and two `peerflow worker` processes (mailer and
# provisioner each) on one database, a real SMTP sink (aiosmtpd, Maildir)
# and a real Open vSwitch fabric (scripts/fabric.sh: s1 -- s2 -- s3 in a
# network namespace of its own) take SCALE_REQUESTS (200) requests filed
# concurrently through the JSON API of both servers, each by the requesting
# network's admin, then approved concurrently through both servers by the
# peer's admin. Then:
#
#   - every request became `active` exactly once: one audit state change
#     to active, one provision job (done), one installed circuit, nothing
#     failed, and every request reads `active` through the server it was
#     not filed on;
#   - the switches hold exactly the flows every circuit must have (computed
#     by tests/e2e/scale_check.py from the test's topology, the ends asked
#     for and the allocated transport VLANs), no two circuits share a match
#     or a transport VLAN on a link, and two circuits carry pings;
#   - then all are torn down concurrently through both servers, by either
#     side: each decommissioned exactly once (one teardown job), circuits
#     removed, every transport VLAN released, the switches back to the
#     table-miss flow alone, no ping crosses any more;
#   - no mail was lost or duplicated: each outbox row delivered, the
#     Maildir holds each outbox Message-ID exactly once and nothing else,
#     and each request has the mail docs/mail.md says;
#   - both servers answered /healthz throughout, the audit chain verifies,
#     and the four processes stop cleanly (exit 0, no sanitizer report).
#
# Prints the seconds to file, to approve, to all active, to tear down. Everything it
# starts (processes, fabric, namespaces, database) is removed on exit, also
# on failure. Needs root, Open vSwitch and python3-aiosmtpd (else skipped),
# and what tests/run.sh gives: PEERFLOW_TEST_PG_HOST/PORT, PEERFLOW_BIN.
# SCALE_KEEP=1 keeps the work directory (logs, dumps, Maildir) for a look.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
root=$(pwd)
. tests/integration/lib.sh

if [ "$(id -u)" -ne 0 ] || ! command -v ovs-vswitchd >/dev/null 2>&1; then
  echo "skipped: needs root and Open vSwitch"; exit 77
fi
if ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
  echo "skipped: needs python3-aiosmtpd"; exit 77
fi

N=${SCALE_REQUESTS:-200}
PAR=${SCALE_PARALLEL:-16}
ACTIVE_TIMEOUT=${SCALE_ACTIVE_TIMEOUT:-120}
PF=$PEERFLOW_BIN
F="bash $root/scripts/fabric.sh"
CHECK="/usr/bin/python3 $root/tests/e2e/scale_check.py"

work=$(mktemp -d /tmp/pfscale.XXXXXX)
chmod 755 "$work"
fab=$work/fab          # short: the switches' unix sockets live here
ns=pfsc$$
dbname=pf_scale_$$
mkdir -p "$work/plan" "$work/res" "$work/dump" "$work/keys"
chmod 700 "$work/keys"
declare -A procs=()    # name -> pid of the serve and worker processes
health_pid=""
wrk_pids=()

log() { printf '%s\n' "$*"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

stop_rc=0
stop_pid() {   # stop_pid PID: SIGTERM, then SIGKILL after 10 s; its exit status in stop_rc
  local pid=$1
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  stop_rc=$?
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$health_pid" ] && kill "$health_pid" 2>/dev/null
  for pid in "${wrk_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for name in "${!procs[@]}"; do
    kill -TERM "${procs[$name]}" 2>/dev/null
  done
  for name in "${!procs[@]}"; do
    stop_pid "${procs[$name]}"
  done
  bash "$root/scripts/smtp.sh" stop "$work/smtp" >/dev/null 2>&1
  $F down "$fab" >/dev/null 2>&1
  "$PSQL" -h "$PEERFLOW_TEST_PG_HOST" -p "$PEERFLOW_TEST_PG_PORT" -U peerflow -d postgres -qAtc \
    "DROP DATABASE IF EXISTS $dbname WITH (FORCE)" >/dev/null 2>&1
  if [ "${SCALE_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# abort DESC: a step the rest depends on failed: say so, show the logs, stop.
abort() {
  fail "$*"
  for f in "$work"/*.log; do
    [ -f "$f" ] || continue
    echo "--- $(basename "$f") (last lines)"
    grep -v '" 20[01] ' "$f" | tail -n 15
  done
  finish
  exit 1
}

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {
  for _ in $(seq 150); do curl -sf -o /dev/null --max-time 2 "$1" && return 0; sleep 0.1; done
  return 1
}

t_start=$(now)

# ------------------------------------------------------------ services
fresh_db "$dbname" || abort "cannot create database $dbname"
smtp_url=$(bash "$root/scripts/smtp.sh" start "$work/smtp") || abort "aiosmtpd did not start"
export PEERFLOW_SMTP_URL=${smtp_url#PEERFLOW_SMTP_URL=}      # smtp://127.0.0.1:PORT?tls=none
export PEERFLOW_KEY_DIR=$work/keys PEERFLOW_MAIL_FROM=peerflow@scale.example
"$PF" keys rotate >/dev/null || abort "peerflow keys rotate"

# The fabric: a line of three switches; member ports as in PORTS below.
#   s1 --(10:10)-- s2 --(11:10)-- s3
$F up "$fab" "$ns" >/dev/null || abort "fabric up"
for s in 1 2 3; do
  $F switch "$fab" s$s 000000000000000$s >/dev/null || abort "fabric switch s$s"
done
$F link "$fab" s1 10 s2 10 >/dev/null && $F link "$fab" s2 11 s3 10 >/dev/null || abort "fabric links"
# name ASN switch ofport mode
cat >"$work/ports.tsv" <<'EOF'
a-t1  64601 s1 1 trunk
a-t2  64601 s1 2 trunk
d-t1  64604 s1 3 trunk
a-acc 64601 s1 4 access
d-acc 64604 s1 5 access
b-t1  64602 s2 1 trunk
b-acc 64602 s2 2 access
c-t1  64603 s3 1 trunk
c-t2  64603 s3 2 trunk
c-acc 64603 s3 3 access
EOF
while read -r name asn sw ofport mode; do
  if [ "$mode" = trunk ]; then
    $F trunk "$fab" "$name" "$sw" "$ofport" >/dev/null || abort "fabric trunk $name"
  else
    $F host "$fab" "$name" "$sw" "$ofport" >/dev/null || abort "fabric host $name"
  fi
done <"$work/ports.tsv"

# ------------------------------------------------------------ seed (CLI)
q() { "$PF" "$@" >/dev/null || abort "peerflow $*"; }
q network add --asn 64601 --name "Scale A" --policy selective \
  --contact peering@a.scale.example --contact noc@a.scale.example
q network add --asn 64602 --name "Scale B" --policy open --contact peering@b.scale.example
q network add --asn 64603 --name "Scale C" --policy selective --contact peering@c.scale.example
q network add --asn 64604 --name "Scale D" --policy restrictive \
  --contact peering@d.scale.example --contact noc@d.scale.example
for s in 1 2 3; do
  q switch add --name s$s --dpid 000000000000000$s --endpoint "$($F endpoint "$fab" s$s)"
done
q link add --a s1:10 --b s2:10
q link add --a s2:11 --b s3:10
while read -r name asn sw ofport mode; do
  q port add --network "$asn" --switch "$sw" --ofport "$ofport" --name "$name" --mode "$mode"
done <"$work/ports.tsv"
q user add --email op@scale.example --operator
"$PF" token create --email op@scale.example --name scale >"$work/tok.op" || abort "token create for the operator"
for asn in 64601 64602 64603 64604; do
  q user add --email "admin@$asn.scale.example" --network "$asn" --role admin
  "$PF" token create --email "admin@$asn.scale.example" --name scale >"$work/tok.$asn" ||
    abort "token create for AS$asn"
done
$CHECK plan "$work/ports.tsv" "$N" "$work/plan" || abort "plan"

# ------------------------------------------------------------ processes
port0=$(free_port); port1=$(free_port)
while [ "$port1" = "$port0" ]; do port1=$(free_port); done
export PEERFLOW_BASE_URL=http://127.0.0.1:$port0
"$PF" serve --no-workers --listen "127.0.0.1:$port0" >"$work/serve0.log" 2>&1 & procs[serve0]=$!
"$PF" serve --no-workers --listen "127.0.0.1:$port1" >"$work/serve1.log" 2>&1 & procs[serve1]=$!
"$PF" worker >"$work/worker0.log" 2>&1 & procs[worker0]=$!
"$PF" worker >"$work/worker1.log" 2>&1 & procs[worker1]=$!
wait_http "http://127.0.0.1:$port0/healthz" || abort "serve on port $port0 never answered"
wait_http "http://127.0.0.1:$port1/healthz" || abort "serve on port $port1 never answered"
for _ in $(seq 150); do
  [ "$(sql "SELECT count(*) FROM switches WHERE conn_state = 'connected'")" = 3 ] && break
  sleep 0.1
done
expect_eq "the operator sees the three switches connected (GET /api/v1/fabric)" 3 \
  "$(curl -s --max-time 10 -H "Authorization: Bearer $(cat "$work/tok.op")" "http://127.0.0.1:$port1/api/v1/fabric" |
     jq '[.switches[] | select(.conn_state == "connected")] | length' 2>/dev/null)"

# Both servers are probed every 0.2 s from now to the end.
(
  while :; do
    for p in $port0 $port1; do
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$p/healthz")
      echo "$(date +%s.%N) $p $code"
    done
    sleep 0.2
  done
) >"$work/health.txt" 2>/dev/null &
health_pid=$!
log "setup: $(secs "$t_start" "$(now)") s (fabric of 3 switches, 10 member ports, 4 networks, 2 servers, 2 workers)"

# ------------------------------------------------------------ file
# request I goes to server I mod 2 and is approved through the other one
export work port0 port1
file_one() {
  local i=$1 req peer port
  read -r req peer <"$work/plan/$i.meta"
  if [ $((i % 2)) = 0 ]; then port=$port0; else port=$port1; fi
  curl -s --max-time 60 -o "$work/res/$i.submit.json" -w '%{http_code}\n' \
    -H "Authorization: Bearer $(cat "$work/tok.$req")" -H 'Content-Type: application/json' \
    --data-binary @"$work/plan/$i.submit.json" "http://127.0.0.1:$port/api/v1/requests" \
    >"$work/res/$i.submit.code"
}
approve_one() {
  local i=$1 req peer port id
  read -r req peer <"$work/plan/$i.meta"
  if [ $((i % 2)) = 0 ]; then port=$port1; else port=$port0; fi
  id=$(jq -r '.id // empty' "$work/res/$i.submit.json" 2>/dev/null)
  [ -n "$id" ] || return 0
  curl -s --max-time 60 -o "$work/res/$i.approve.json" -w '%{http_code}\n' \
    -H "Authorization: Bearer $(cat "$work/tok.$peer")" -H 'Content-Type: application/json' \
    --data-binary @"$work/plan/$i.approve.json" "http://127.0.0.1:$port/api/v1/requests/$id/approve" \
    >"$work/res/$i.approve.code"
}
read_one() {
  local i=$1 req peer port id
  read -r req peer <"$work/plan/$i.meta"
  if [ $((i % 2)) = 0 ]; then port=$port1; else port=$port0; fi
  id=$(jq -r '.id // empty' "$work/res/$i.submit.json" 2>/dev/null)
  [ -n "$id" ] || return 0
  curl -s --max-time 60 -o "$work/res/$i.get.json" -w '%{http_code}\n' \
    -H "Authorization: Bearer $(cat "$work/tok.$req")" "http://127.0.0.1:$port/api/v1/requests/$id" \
    >"$work/res/$i.get.code"
}
decommission_one() {   # even requests torn down by the requester, odd by the peer
  local i=$1 req peer port id who
  read -r req peer <"$work/plan/$i.meta"
  if [ $((i % 2)) = 0 ]; then port=$port0; who=$req; else port=$port1; who=$peer; fi
  id=$(jq -r '.id // empty' "$work/res/$i.submit.json" 2>/dev/null)
  [ -n "$id" ] || return 0
  curl -s --max-time 60 -o "$work/res/$i.decommission.json" -w '%{http_code}\n' \
    -H "Authorization: Bearer $(cat "$work/tok.$who")" -H 'Content-Type: application/json' \
    --data-binary '{"reason": "scale test teardown"}' \
    "http://127.0.0.1:$port/api/v1/requests/$id/decommission" >"$work/res/$i.decommission.code"
}
export -f file_one approve_one read_one decommission_one

codes() {   # codes KIND: "CODE COUNT" lines of the answers of one phase
  cat "$work"/res/*."$1".code 2>/dev/null | sort | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep=", "}'
}

t0=$(now)
seq 0 $((N - 1)) | xargs -P "$PAR" -n 1 bash -c 'file_one "$1"' _
t1=$(now)
t_file=$(secs "$t0" "$t1")
log "filed $N requests through both servers in $t_file s ($PAR at a time): $(codes submit)"
expect_eq "submissions answered 201" "$N" "$(cat "$work"/res/*.submit.code 2>/dev/null | grep -c '^201$')"
for i in $(seq 0 $((N - 1))); do
  id=$(jq -r 'select(.state == "pending") | .id // empty' "$work/res/$i.submit.json" 2>/dev/null)
  [ -n "$id" ] && echo "$i $id"
done >"$work/ids.tsv"
expect_eq "each submission answered with a pending request" "$N" "$(wc -l <"$work/ids.tsv")"
expect_eq "distinct request ids" "$N" "$(awk '{print $2}' "$work/ids.tsv" | sort -u | wc -l)"
idlist=$(awk '{printf "%s%s", sep, $2; sep=","}' "$work/ids.tsv")
[ -n "$idlist" ] || abort "no request was filed"
expect_eq "all pending, the requester's side approved by submitting" "$N pending, $N approvals" \
  "$(sql "SELECT (SELECT count(*) FROM peering_requests WHERE state = 'pending' AND id IN ($idlist)) || ' pending, '
       || (SELECT count(*) FROM approvals a JOIN peering_requests r ON r.id = a.request_id
            WHERE a.network_id = r.requester_network_id AND r.id IN ($idlist)) || ' approvals'")"

# ------------------------------------------------------------ approve
# While the approvals and the provisioning run, a reader keeps each server
# busy too (wrk, one connection each, reading request 0 as its requester).
rid0=$(jq -r '.id // empty' "$work/res/0.submit.json" 2>/dev/null)
if [ -n "$rid0" ] && command -v wrk >/dev/null 2>&1; then
  for p in $port0 $port1; do
    wrk -t1 -c1 -d300s -H "Authorization: Bearer $(cat "$work/tok.64601")" \
      "http://127.0.0.1:$p/api/v1/requests/$rid0" >"$work/wrk.$p.txt" 2>&1 &
    wrk_pids+=($!)
  done
fi
t2=$(now)
seq 0 $((N - 1)) | xargs -P "$PAR" -n 1 bash -c 'approve_one "$1"' _
t3=$(now)
t_approve=$(secs "$t2" "$t3")
log "approved $N requests through both servers in $t_approve s ($PAR at a time, and a reader on each server): $(codes approve)"
expect_eq "approvals answered 200" "$N" "$(cat "$work"/res/*.approve.code 2>/dev/null | grep -c '^200$')"

# ------------------------------------------------------------ wait for active
deadline=$(awk -v t="$t3" -v d="$ACTIVE_TIMEOUT" 'BEGIN { printf "%d", t + d }')
while :; do
  states=$(sql "SELECT string_agg(state || '=' || n, ' ' ORDER BY state) FROM
                  (SELECT state, count(*) n FROM peering_requests WHERE id IN ($idlist) GROUP BY state) x")
  [ "$states" = "active=$N" ] && break
  case " $states" in *" failed="*) break ;; esac
  [ "$(date +%s)" -ge "$deadline" ] && break
  sleep 0.25
done
t4=$(now)
t_active=$(secs "$t3" "$t4")
mail_left=$(sql "SELECT count(*) FROM outbox WHERE delivered_at IS NULL")
log "all active $t_active s after the last approval ($(secs "$t2" "$t4") s after the first): $states"
expect_eq "every request active within ${ACTIVE_TIMEOUT} s" "active=$N" "$states"
for pid in "${wrk_pids[@]}"; do kill -INT "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
wrk_pids=()
for p in $port0 $port1; do
  [ -f "$work/wrk.$p.txt" ] || continue
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.$p.txt")
  errs=$(grep -E 'Non-2xx|Socket errors' "$work/wrk.$p.txt" | tr -s ' ' | paste -sd ';' -)
  log "reads during approvals on port $p: ${rps:-?} req/s (GET /api/v1/requests/$rid0)${errs:+; $errs}"
  if [ -n "$rps" ] && [ -z "$errs" ]; then pass; else fail "reads on port $p during approvals: ${errs:-no result}"; fi
done
if [ "$states" != "active=$N" ]; then
  sql "SELECT 'request ' || r.id || ' ' || r.state || ': ' || coalesce(string_agg(j.kind || ' ' || j.state
              || ' attempts=' || j.attempts || ' ' || coalesce(j.last_error, ''), '; '), 'no job')
         FROM peering_requests r LEFT JOIN jobs j ON j.request_id = r.id
        WHERE r.id IN ($idlist) AND r.state <> 'active' GROUP BY r.id, r.state ORDER BY r.id LIMIT 10"
fi

# ------------------------------------------------------------ database
expect_eq "exactly one change to active per request" "$N" \
  "$(sql "SELECT count(*) FROM (SELECT r.id, (SELECT count(*) FROM audit_events e
            WHERE e.request_id = r.id AND e.action = 'request.state_changed' AND e.after->>'state' = 'active') n
          FROM peering_requests r WHERE r.id IN ($idlist)) x WHERE n = 1")"
expect_eq "the states each request went through" "$N pending,pending,approved,provisioning,active" \
  "$(sql "SELECT count(*) || ' ' || min(h) FROM (SELECT string_agg(coalesce(e.after->>'state', '?'), ','
            ORDER BY e.seq) h FROM audit_events e
          WHERE e.request_id IN ($idlist) AND e.action IN ('request.submitted', 'request.approved', 'request.state_changed')
          GROUP BY e.request_id) x GROUP BY h ORDER BY count(*) DESC LIMIT 1")"
expect_eq "two approvals per request, both given through the API" "$N" \
  "$(sql "SELECT count(*) FROM (SELECT request_id FROM approvals WHERE request_id IN ($idlist) GROUP BY request_id
          HAVING count(*) = 2 AND count(DISTINCT side) = 2 AND bool_and(decision = 'approve' AND via = 'api')) x")"
expect_eq "no request failed, ever" "0" \
  "$(sql "SELECT count(*) FROM audit_events WHERE request_id IN ($idlist) AND after->>'state' = 'failed'")"
expect_eq "exactly one provision job per request, done" "$N" \
  "$(sql "SELECT count(*) FROM (SELECT request_id FROM jobs WHERE request_id IN ($idlist)
          GROUP BY request_id HAVING count(*) = 1 AND bool_and(kind = 'provision' AND state = 'done')) x")"
expect_eq "no failed or unfinished job at all" "0" "$(sql "SELECT count(*) FROM jobs WHERE state <> 'done'")"
log "jobs: $(sql "SELECT sum(n) || ' jobs, by attempts: ' || string_agg(attempts || ': ' || n, ', ')
                  FROM (SELECT attempts, count(*) n FROM jobs GROUP BY 1 ORDER BY 1) x")"
expect_eq "one installed circuit per request, 2 (links + 1) flows each" "$N" \
  "$(sql "SELECT count(*) FROM circuits c WHERE c.request_id IN ($idlist) AND c.state = 'installed'
            AND (SELECT count(*) FROM circuits c2 WHERE c2.request_id = c.request_id) = 1
            AND (SELECT count(*) FROM flows f WHERE f.circuit_id = c.id)
              = 2 * ((SELECT count(*) FROM link_vlans v WHERE v.circuit_id = c.id) + 1)")"
expect_eq "no transport VLAN twice on a link" "0" \
  "$(sql "SELECT count(*) FROM (SELECT link_id, vlan FROM link_vlans GROUP BY 1, 2 HAVING count(*) > 1) x")"
log "transport VLANs: $(sql "SELECT string_agg('link ' || link_id || ': ' || n || ' (' || lo || '..' || hi || ')', ', ')
                      FROM (SELECT link_id, count(*) n, min(vlan) lo, max(vlan) hi FROM link_vlans
                      GROUP BY 1 ORDER BY 1) x")"

# ------------------------------------------------------------ the switches
for s in s1 s2 s3; do
  $F ofctl "$fab" "$s" dump-flows --no-stats >"$work/dump/$s.flows" 2>"$work/dump/$s.err" ||
    fail "dump-flows $s: $(cat "$work/dump/$s.err")"
done
sql "SELECT json_build_object(
       'links', (SELECT json_agg(json_build_object('id', l.id, 'a', sa.name, 'a_port', l.a_port,
                                 'b', sb.name, 'b_port', l.b_port) ORDER BY l.id)
                   FROM links l JOIN switches sa ON sa.id = l.a_switch_id JOIN switches sb ON sb.id = l.b_switch_id),
       'circuits', (SELECT json_agg(json_build_object('request', c.request_id, 'circuit', c.id,
                      'transport', (SELECT json_object_agg(v.link_id, v.vlan) FROM link_vlans v
                                     WHERE v.circuit_id = c.id)))
                      FROM circuits c WHERE c.request_id IN ($idlist)))" >"$work/db.json"
if $CHECK flows "$work/ports.tsv" "$work/plan/plan.json" "$work/ids.tsv" "$work/db.json" "$work/dump"; then
  pass
else
  fail "the switches do not hold exactly the flows of the $N circuits (see above)"
fi

# Traffic: the access-access circuit over two links (request 0: a-acc ->
# c-acc) and a trunk-trunk one over two links with VLAN translation.
read -r tv1 tv2 < <(jq -r '[.[] | select(.a == "a-t2" and .b == "c-t1" and .a_vlan != .b_vlan)][0]
                             | "\(.a_vlan) \(.b_vlan)"' "$work/plan/plan.json")
$F exec "$fab" a-acc ip addr add 10.77.0.1/24 dev eth0 &&
  $F exec "$fab" c-acc ip addr add 10.77.0.2/24 dev eth0 &&
  $F vlan "$fab" a-t2 "$tv1" 10.78.0.1/24 >/dev/null && $F vlan "$fab" c-t1 "$tv2" 10.78.0.2/24 >/dev/null ||
  fail "setting up the hosts for pings"
ping_ok() {
  for _ in 1 2 3 4 5; do $F exec "$fab" "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0; done
  return 1
}
expect_ok "ping a-acc -> c-acc over request 0's circuit" ping_ok a-acc 10.77.0.2
expect_ok "ping a-t2 VLAN $tv1 -> c-t1 VLAN $tv2" ping_ok a-t2 10.78.0.2

# ------------------------------------------------------------ the API
seq 0 $((N - 1)) | xargs -P "$PAR" -n 1 bash -c 'read_one "$1"' _
expect_eq "every request reads active, with its circuit, through the server it was not filed on" "$N" \
  "$(for i in $(seq 0 $((N - 1))); do
       [ "$(cat "$work/res/$i.get.code" 2>/dev/null)" = 200 ] &&
         jq -e '.state == "active" and .circuit != null' "$work/res/$i.get.json" >/dev/null 2>&1 && echo ok
     done | wc -l)"

# ------------------------------------------------------------ teardown
# All 200 torn down concurrently through both servers, by either side:
# each decommissioned exactly once, the switches back to the table-miss
# flow alone, every transport VLAN released, no ping crosses any more.
t6=$(now)
seq 0 $((N - 1)) | xargs -P "$PAR" -n 1 bash -c 'decommission_one "$1"' _
t7=$(now)
t_decom=$(secs "$t6" "$t7")
log "asked to tear down $N requests through both servers in $t_decom s: $(codes decommission)"
expect_eq "decommissions answered 200" "$N" "$(cat "$work"/res/*.decommission.code 2>/dev/null | grep -c '^200$')"
deadline=$(awk -v t="$t7" -v d="$ACTIVE_TIMEOUT" 'BEGIN { printf "%d", t + d }')
while :; do
  states=$(sql "SELECT string_agg(state || '=' || n, ' ' ORDER BY state) FROM
                  (SELECT state, count(*) n FROM peering_requests WHERE id IN ($idlist) GROUP BY state) x")
  [ "$states" = "decommissioned=$N" ] && break
  [ "$(date +%s)" -ge "$deadline" ] && break
  sleep 0.25
done
t8=$(now)
t_gone=$(secs "$t7" "$t8")
log "all decommissioned $t_gone s after the last teardown request: $states"
expect_eq "every request decommissioned within ${ACTIVE_TIMEOUT} s" "decommissioned=$N" "$states"
expect_eq "the states each request went through, teardown included" \
  "$N pending,pending,approved,provisioning,active,decommissioning,decommissioned" \
  "$(sql "SELECT count(*) || ' ' || min(h) FROM (SELECT string_agg(coalesce(e.after->>'state', '?'), ','
            ORDER BY e.seq) h FROM audit_events e
          WHERE e.request_id IN ($idlist) AND e.action IN ('request.submitted', 'request.approved',
            'request.state_changed', 'request.decommission_requested')
          GROUP BY e.request_id) x GROUP BY h ORDER BY count(*) DESC LIMIT 1")"
expect_eq "one provision and one teardown job per request, both done" "$N" \
  "$(sql "SELECT count(*) FROM (SELECT request_id FROM jobs WHERE request_id IN ($idlist) GROUP BY request_id
          HAVING count(*) FILTER (WHERE kind = 'provision') = 1 AND count(*) FILTER (WHERE kind = 'teardown') = 1
             AND count(*) = 2 AND bool_and(state = 'done')) x")"
expect_eq "circuits removed, no flow desired, every transport VLAN released" "$N removed, 0 flows, 0 VLANs" \
  "$(sql "SELECT (SELECT count(*) FROM circuits WHERE state = 'removed' AND request_id IN ($idlist)) || ' removed, '
          || (SELECT count(*) FROM flows WHERE circuit_id <> 0) || ' flows, ' || (SELECT count(*) FROM link_vlans) || ' VLANs'")"
for s in s1 s2 s3; do
  expect_eq "switch $s holds the table-miss flow alone" "cookie=0x5046000000000000, priority=0 actions=drop" \
    "$($F ofctl "$fab" "$s" dump-flows --no-stats 2>&1 | sed 's/^ *//' | grep -v '^OFPST_' | paste -sd '|' -)"
done
no_ping() { ! $F exec "$fab" "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1; }
expect_ok "no ping a-acc -> c-acc after teardown" no_ping a-acc 10.77.0.2
expect_ok "no ping a-t2 -> c-t1 after teardown" no_ping a-t2 10.78.0.2

# ------------------------------------------------------------ mail
for _ in $(seq 120); do
  [ "$(sql "SELECT count(*) FROM outbox WHERE delivered_at IS NULL")" = 0 ] && break
  sleep 0.5
done
log "mail: $(sql "SELECT count(*) || ' messages, ' || $mail_left || ' of them undelivered when all requests were active;'
       || ' the last delivered ' || round(extract(epoch FROM max(delivered_at) - (SELECT max(closed_at)
       FROM peering_requests))::numeric, 1) || ' s after the last request was decommissioned; created -> delivered p50 '
       || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY d)::numeric, 1) || ' s, max ' || round(max(d)::numeric, 1)
       || ' s' FROM (SELECT extract(epoch FROM delivered_at - created_at) d, delivered_at FROM outbox) x")"
expect_eq "every outbox row delivered" "0" "$(sql "SELECT count(*) FROM outbox WHERE delivered_at IS NULL")"
sql "SELECT id, message_id, delivered_at IS NOT NULL FROM outbox ORDER BY id" | tr '|' '\t' >"$work/outbox.tsv"
if $CHECK mail "$work/smtp/maildir" "$work/outbox.tsv"; then
  pass
else
  fail "the Maildir does not hold each outbox message exactly once (see above)"
fi
# per request (docs/mail.md): approval_needed to each of the peer's
# contacts; request_approved, request_active, request_decommissioning and
# request_decommissioned to each side
expect_eq "each request's mail" "$N" \
  "$(sql "SELECT count(*) FROM peering_requests r JOIN networks pn ON pn.id = r.peer_network_id
          WHERE r.id IN ($idlist)
            AND (SELECT count(*) FROM outbox o WHERE o.request_id = r.id AND o.kind = 'approval_needed')
                = cardinality(pn.contacts)
            AND (SELECT count(*) FROM outbox o WHERE o.request_id = r.id AND o.kind = 'request_approved') = 2
            AND (SELECT count(*) FROM outbox o WHERE o.request_id = r.id AND o.kind = 'request_active') = 2
            AND (SELECT count(*) FROM outbox o WHERE o.request_id = r.id AND o.kind = 'request_decommissioning') = 2
            AND (SELECT count(*) FROM outbox o WHERE o.request_id = r.id AND o.kind = 'request_decommissioned') = 2
            AND (SELECT count(*) FROM outbox o WHERE o.request_id = r.id) = cardinality(pn.contacts) + 8")"
expect_eq "both workers delivered mail" "2" \
  "$(n=0; for w in worker0 worker1; do grep -q 'delivered [0-9]* message' "$work/$w.log" && n=$((n + 1)); done; echo $n)"

# ------------------------------------------------------------ audit, health, shutdown
expect_ok "peerflow audit verify" "$PF" audit verify
kill "$health_pid" 2>/dev/null; wait "$health_pid" 2>/dev/null; health_pid=""
for p in $port0 $port1; do
  total=$(awk -v p="$p" '$2 == p' "$work/health.txt" | wc -l)
  bad=$(awk -v p="$p" '$2 == p && $3 != 200' "$work/health.txt" | wc -l)
  log "health: server on port $p answered $((total - bad)) of $total probes"
  if [ "$total" -gt 10 ] && [ "$bad" = 0 ]; then pass; else fail "server on port $p: $bad of $total /healthz probes failed"; fi
done
for name in serve0 serve1 worker0 worker1; do
  pid=${procs[$name]}
  if ! kill -0 "$pid" 2>/dev/null; then fail "$name died during the test"; fi
  stop_pid "$pid"
  unset "procs[$name]"
  expect_eq "$name stops with exit 0" 0 "$stop_rc"
  if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$work/$name.log"; then
    fail "$name: sanitizer report"; grep -E -A8 'AddressSanitizer|LeakSanitizer|runtime error:' "$work/$name.log" | head -30
  fi
done
for name in serve0 serve1; do
  log "$name: $(grep -c '/api/v1/requests' "$work/$name.log") API requests in its access log"
done

log "timings: file $N: $t_file s, approve $N: $t_approve s, all active: $t_active s after the last approval;" \
  "tear down $N: $t_decom s, all decommissioned: $t_gone s after that; total $(secs "$t_start" "$(now)") s"
finish
