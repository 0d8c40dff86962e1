#!/usr/bin/env bash
# make bench: every figure next to a baseline measured in the same run on
# the same machine, and their ratio. Starts its own PostgreSQL (durable
# settings: fsync on), its own servers, and checks each result is right
# before it reports a speed. See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
PF=$root/build/peerflow
BINDIR=$(pg_config --bindir)
DUR=${BENCH_SECONDS:-10}
N_DECISIONS=${BENCH_DECISIONS:-30000}
# BENCH_ONLY=read,decisions,big,fabric,scale runs only those parts (for
# development; the published table is a run of all of them)
ONLY=${BENCH_ONLY:-read,decisions,big,fabric,scale}
part() { [[ ",$ONLY," == *",$1,"* ]]; }

work=$(mktemp -d /tmp/peerflow-bench.XXXXXX)
chmod 755 "$work"   # the PostgreSQL user must reach $work/pg
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash scripts/pg.sh destroy "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

results=()
row() { results+=("$(printf '%-58s %14s %14s %9s %s' "$1" "$2" "$3" "$4" "${5:-}")"); }
ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}' if b else 'n/a')" "$1" "$2"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 100); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "bench: $1 never answered" >&2; return 1; }
wrk_rps() { awk '/Requests\/sec/ {print $2}'; }

bash scripts/pg.sh start "$work/pg" >/dev/null
eval "$(bash scripts/pg.sh env "$work/pg")"
owner_url=$PEERFLOW_MIGRATE_DATABASE_URL
psql_owner() { "$BINDIR/psql" "$1" -qAtX -v ON_ERROR_STOP=1 "${@:2}"; }

use_db() {
  local db=$1
  psql_owner "${owner_url/dbname=peerflow/dbname=postgres}" -c "CREATE DATABASE $db"
  export PEERFLOW_DATABASE_URL=${PEERFLOW_DATABASE_URL%dbname=*}dbname=$db" user=peerflow_app"
  export PEERFLOW_WORKER_DATABASE_URL=${PEERFLOW_DATABASE_URL%user=*}user=peerflow_worker
  export PEERFLOW_MIGRATE_DATABASE_URL=${owner_url/dbname=peerflow/dbname=$db}
  "$PF" migrate >/dev/null
}

# serve's start-up: the time from launching it to its first /healthz
# answer (on a migrated database) is kept in startup_ms
start_serve() {
  local port t0; port=$(free_port)
  t0=$(date +%s%N)
  "$PF" serve --no-workers --listen "127.0.0.1:$port" >"$work/serve-$port.log" 2>&1 &
  serve_pid=$!
  pids+=("$serve_pid")
  for _ in $(seq 2000); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.005
  done
  startup_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  wait_http "http://127.0.0.1:$port/healthz"
  serve_port=$port
}

stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

echo "bench: seeding $N_DECISIONS pending requests" >&2
use_db bench
"$PF" network add --asn 64999 --name "Bench Operator Net" >/dev/null
echo "bench-password-1" | "$PF" user add --email admin@r.example --network 64999 --role admin --password-stdin >/dev/null
psql_owner "$PEERFLOW_MIGRATE_DATABASE_URL" -v n="$N_DECISIONS" -f bench/seed_decisions.sql
psql_owner "$PEERFLOW_MIGRATE_DATABASE_URL" -c "UPDATE users SET network_id = (SELECT id FROM networks WHERE asn = 65001) WHERE email = 'admin@r.example'"
echo "bench-password-1" | "$PF" user add --email admin@p.example --network 65002 --role admin --password-stdin >/dev/null
tok_r=$("$PF" token create --email admin@r.example --name bench)
tok_p=$("$PF" token create --email admin@p.example --name bench)

# pgbench's own database on the same server: the baselines of the read
# (select-only, one round trip per transaction) and of the decisions
# (TPC-B-like), each with the same number of clients as the load it is
# compared with
psql_owner "${owner_url/dbname=peerflow/dbname=postgres}" -c "CREATE DATABASE pgbench"
"$BINDIR/pgbench" -h "$PEERFLOW_PG_DIR/run" -p "$PEERFLOW_PG_PORT" -U peerflow -i -s 10 -q pgbench >/dev/null 2>&1
pgbench_tps() { "$BINDIR/pgbench" -h "$PEERFLOW_PG_DIR/run" -p "$PEERFLOW_PG_PORT" -U peerflow -j 2 -T "$DUR" "$@" pgbench 2>/dev/null | awk '/^tps/ {print $3; exit}'; }

# ---------------------------------------------------------------- API read
if part read; then
start_serve
row "peerflow serve: start to the first /healthz answer (ms), migrated database" "$startup_ms" "-" "-" "target <= 1000"
body=$(curl -sf -H "Authorization: Bearer $tok_r" "http://127.0.0.1:$serve_port/api/v1/requests/1")
echo "$body" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["id"]==1 and d["state"]=="pending" and d["my_side"]=="requester" and d["approvals"][0]["side"]=="requester", d' \
  || { echo "bench: the API read is wrong: $body" >&2; exit 1; }
size=${#body}
echo "bench: API read ($DUR s, wrk 32 connections)" >&2
api_rps=$(wrk -t2 -c32 -d"${DUR}s" -H "Authorization: Bearer $tok_r" "http://127.0.0.1:$serve_port/api/v1/requests/1" | wrk_rps)
# the same read spread over every request in turn: serve keeps far fewer
# answers than there are requests, so each read builds its answer (the
# request's whole statement), as the first read of a request does
first=$(psql_owner "$PEERFLOW_MIGRATE_DATABASE_URL" -c "SELECT min(id) FROM peering_requests")
last=$(psql_owner "$PEERFLOW_MIGRATE_DATABASE_URL" -c "SELECT max(id) FROM peering_requests")
mid=$(( (first + last) / 2 ))
body=$(curl -sf -H "Authorization: Bearer $tok_r" "http://127.0.0.1:$serve_port/api/v1/requests/$mid")
echo "$body" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["id"]==int(sys.argv[1]) and d["my_side"]=="requester", d' "$mid" \
  || { echo "bench: the API read of request $mid is wrong: $body" >&2; exit 1; }
echo "bench: API read spread over $((last - first + 1)) requests ($DUR s, wrk 32 connections)" >&2
FIRST=$first LAST=$last TOKEN=$tok_r wrk -t2 -c32 -d"${DUR}s" -s bench/read_spread.lua "http://127.0.0.1:$serve_port" >"$work/spread.out"
grep -q 'non2xx=0$' "$work/spread.out" || { echo "bench: spread reads failed: $(tail -1 "$work/spread.out")" >&2; exit 1; }
spread_rps=$(wrk_rps <"$work/spread.out")
# the peak over both loads (the kept answers full after the spread)
rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$serve_pid/status")
stop_pid "$serve_pid"
echo "bench: pgbench -S ($DUR s, 32 clients)" >&2
sel_tps=$(pgbench_tps -S -c 32)
tport=$(free_port)
build/bench/trivial_mhd "$tport" "$size" & tpid=$!; pids+=("$tpid")
wait_http "http://127.0.0.1:$tport/"
base_rps=$(wrk -t2 -c32 -d"${DUR}s" "http://127.0.0.1:$tport/" | wrk_rps)
stop_pid "$tpid"
row "authenticated JSON read (GET /api/v1/requests/ID) req/s" "$api_rps" "$sel_tps" "$(ratio "$api_rps" "$sel_tps")" "target >= 0.50; baseline: pgbench -S, scale 10, 32 clients"
row "  same read, a different request each time (informational)" "$spread_rps" "$sel_tps" "$(ratio "$spread_rps" "$sel_tps")" "every read builds its answer (nothing kept: $((last - first + 1)) requests in turn); baseline: pgbench -S"
row "  same read against bare libmicrohttpd (informational)" "$api_rps" "$base_rps" "$(ratio "$api_rps" "$base_rps")" "baseline: trivial libmicrohttpd, serve's flags, ${size}-byte body"
row "peak RSS of peerflow serve under the read loads (MiB)" "$(python3 -c "print(round($rss_kib/1024,1))")" "-" "-" "target <= 64"
fi

# --------------------------------------------------------------- decisions
if part decisions; then
start_serve
count_approved() { psql_owner "$PEERFLOW_MIGRATE_DATABASE_URL" -c "SELECT count(*) FROM peering_requests WHERE state = 'approved'"; }
first=$(psql_owner "$PEERFLOW_MIGRATE_DATABASE_URL" -c "SELECT min(id) FROM peering_requests")
last=$(psql_owner "$PEERFLOW_MIGRATE_DATABASE_URL" -c "SELECT max(id) FROM peering_requests")
before=$(count_approved)
echo "bench: decisions ($DUR s, 8 clients approving through the API)" >&2
start=$(date +%s.%N)
FIRST=$first LAST=$last TOKEN=$tok_p THREADS=2 wrk -t2 -c8 -d"${DUR}s" -s bench/approve.lua "http://127.0.0.1:$serve_port" >"$work/approve.out"
end=$(date +%s.%N)
# wrk stops with decisions still in the server: let them land before counting
after=$(count_approved)
for _ in $(seq 20); do
  sleep 0.3
  now=$(count_approved)
  [ "$now" = "$after" ] && break
  after=$now
done
decided=$((after - before))
checks=$(psql_owner "$PEERFLOW_MIGRATE_DATABASE_URL" -c "SELECT (SELECT count(*) FROM jobs WHERE kind = 'provision') || ' ' || (SELECT count(*) FROM outbox WHERE kind = 'request_approved') || ' ' || (SELECT count(*) FROM audit_events WHERE action = 'request.approved')")
read -r jobs mails audits <<<"$checks"
[ "$jobs" -eq "$decided" ] && [ "$mails" -eq $((2 * decided)) ] && [ "$audits" -eq "$decided" ] \
  || { echo "bench: decisions incomplete: $decided approved, $jobs jobs, $mails mails, $audits audit rows" >&2; exit 1; }
# the hash chain stays linear under concurrent decisions
"$PF" audit verify >"$work/verify.out" 2>&1 || { echo "bench: the audit chain does not verify after the decisions:" >&2; cat "$work/verify.out" >&2; exit 1; }
dps=$(python3 -c "print(round($decided/($end-$start),1))")
stop_pid "$serve_pid"
echo "bench: pgbench TPC-B-like ($DUR s, 8 clients)" >&2
tps=$(pgbench_tps -c 8)
row "request decisions committed per second (approve via API)" "$dps" "$tps" "$(ratio "$dps" "$tps")" "target >= 0.50; baseline: pgbench TPC-B-like, scale 10, 8 clients"
fi

if part big; then
# ------------------------------------------------- 100k requests, 1M audit
echo "bench: seeding 100,000 requests and 1,000,000 audit rows" >&2
use_db bench_big
psql_owner "$PEERFLOW_MIGRATE_DATABASE_URL" -f bench/seed_big.sql
# AS65108 is the requester of 500 pending requests and the peer of 500
# active circuits (bench/seed_big.sql): each of its dashboard's three lists
# is full (100 cards)
echo "bench-password-1" | "$PF" user add --email admin@big.example --network 65108 --role admin --password-stdin >/dev/null
start_serve
jar=$work/cookies
csrf=$(curl -s -c "$jar" "http://127.0.0.1:$serve_port/login" | grep -o 'name="csrf" value="[^"]*"' | sed 's/.*value="//;s/"//')
curl -s -b "$jar" -c "$jar" -o /dev/null -d "csrf=$csrf&email=admin@big.example&password=bench-password-1" "http://127.0.0.1:$serve_port/login"
session=$(awk '$6 == "pf_session" {print $7}' "$jar")
page=$(curl -s -H "Cookie: pf_session=$session" "http://127.0.0.1:$serve_port/")
echo "$page" | grep -q 'id="waiting"' || { echo "bench: the dashboard did not render" >&2; exit 1; }
cards=$(echo "$page" | grep -c '<tr' || true)
[ "$cards" -eq 300 ] || { echo "bench: the dashboard shows $cards cards, not 3 full lists of 100" >&2; exit 1; }
echo "bench: dashboard renders ($DUR s)" >&2
p99=$(wrk -t2 -c4 -d"${DUR}s" --latency -H "Cookie: pf_session=$session" "http://127.0.0.1:$serve_port/" | awk '$1 == "99%" {print $2}')
row "dashboard page, 100k requests + 1M audit rows, p99" "$p99" "-" "-" "target <= 50ms (absolute, loopback, 4 connections; 300 cards: 100 waiting, 100 open, 100 active)"

# the request page of a circuit with 90 days of samples: 48 h raw (10 s),
# 90 days of 5-minute rollups, 2 years hourly - what the tiers keep
q_owner() { psql_owner "$PEERFLOW_MIGRATE_DATABASE_URL" -c "$1"; }
rid=$(q_owner "SELECT r.id FROM peering_requests r JOIN networks n ON n.id IN (r.requester_network_id, r.peer_network_id) WHERE n.asn = 65108 ORDER BY r.id LIMIT 1")
cid=$(q_owner "SELECT id FROM circuits WHERE request_id = $rid")
[ -n "$cid" ] || cid=$(q_owner "INSERT INTO circuits (request_id, state) VALUES ($rid, 'installed') RETURNING id")
q_owner "INSERT INTO traffic_samples SELECT $cid, g, 10, 125000, 100, 62500, 50 FROM generate_series(now() - interval '48 hours', now(), interval '10 seconds') g ON CONFLICT DO NOTHING;
 INSERT INTO traffic_5m SELECT $cid, date_bin('5 minutes', g, timestamptz 'epoch'), 3750000, 3000, 1875000, 1500 FROM generate_series(now() - interval '90 days', now(), interval '5 minutes') g ON CONFLICT DO NOTHING;
 INSERT INTO traffic_1h SELECT $cid, date_bin('1 hour', g, timestamptz 'epoch'), 45000000, 36000, 22500000, 18000 FROM generate_series(now() - interval '2 years', now(), interval '1 hour') g ON CONFLICT DO NOTHING;
 INSERT INTO traffic_counters VALUES ($cid, 'a_to_b', 0, 0, 0, 0, 0, 1, now(), now() - interval '90 days'), ($cid, 'b_to_a', 0, 0, 0, 0, 0, 1, now(), now() - interval '90 days') ON CONFLICT DO NOTHING" >/dev/null
for range in 24h 30d; do
  page=$(curl -s -H "Cookie: pf_session=$session" "http://127.0.0.1:$serve_port/requests/$rid?range=$range")
  # right before fast: the graph is drawn (a line per direction) and the table has its rows
  { echo "$page" | grep -q 'class="line-ab"' && echo "$page" | grep -q 'class="line-ba"' &&
    ! echo "$page" | grep -q 'Nothing recorded in this range'; } ||
    { echo "bench: the request page ($range) did not draw the traffic graph" >&2; exit 1; }
  p99=$(wrk -t2 -c4 -d"${DUR}s" --latency -H "Cookie: pf_session=$session" "http://127.0.0.1:$serve_port/requests/$rid?range=$range" | awk '$1 == "99%" {print $2}')
  row "request page with 90 days of traffic samples, graph of $range, p99" "$p99" "-" "-" "target < 50ms (absolute, loopback, 4 connections)"
done
stop_pid "$serve_pid"

app_url=$PEERFLOW_WORKER_DATABASE_URL # the operator scope is the worker's
while read -r name; do
  filter=""
  [ "$name" = "request_history" ] && filter=" WHERE request_id = 4242"
  # JIT off, as on peerflow's own connections (db/db_internal.h)
  ms=$(PGOPTIONS="-c jit=off" "$BINDIR/psql" "$app_url" -qAtX -c "SELECT set_config('peerflow.operator', 'on', false)" \
        -c '\timing on' -c "SELECT * FROM reports.$name$filter" | awk '/^Time:/ {print $2}' | tail -1)
  row "report $name (all rows as an operator)${filter:+, one request}" "${ms}ms" "-" "-" "target <= 500ms"
done < <(psql_owner "$PEERFLOW_MIGRATE_DATABASE_URL" -c "SELECT viewname FROM pg_views WHERE schemaname = 'reports' ORDER BY 1")

fi

# ------------------------------------------------------------------ fabric
fabric_rows=$work/fabric.rows
: >"$fabric_rows"
if part fabric; then
  echo "bench: the fabric (Open vSwitch: flows, reconcile, approve -> active)" >&2
  use_db bench_fabric
  PF=$PF bash bench/fabric_bench.sh >>"$fabric_rows"
fi
# ------------------------------------------------------- scaling table
# 1,000 / 10,000 / 100,000 circuits on 10 switches; BENCH_SCALE_MAX=10000
# stops a quick run there
if part scale; then
  echo "bench: the scaling table (10 Open vSwitch switches, up to ${BENCH_SCALE_MAX:-100000} circuits)" >&2
  PEERFLOW_MIGRATE_DATABASE_URL=$owner_url PF=$PF bash bench/scale_bench.sh >>"$fabric_rows"
fi
while IFS=$'\t' read -r tag fig val base rat notes; do
  [ "$tag" = "ROW" ] && row "$fig" "$val" "$base" "$rat" "$notes"
done <"$fabric_rows"

printf '\n%-58s %14s %14s %9s %s\n' "figure" "peerflow" "baseline" "ratio" "notes"
printf '%s\n' "${results[@]}"
