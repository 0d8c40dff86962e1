#!/usr/bin/env bash
# The database fails over (issue 17, part 1). A pair from `scripts/pg.sh
# replica` (primary + synchronous streaming standby), `serve` and two
# `peerflow worker`s on its multi-host URLs, an SMTP sink, and API load
# (tests/integration/ha_load.py: submit, show, approve, list). The primary
# is killed with SIGKILL (postmaster and backends: the machine is gone),
# the standby promoted a second later (what Patroni would do). Checked:
#   - every request the API answered 2xx for before the kill is there
#     afterwards, in the state it answered (workers may have moved it on
#     along the lifecycle: approved -> provisioning);
#   - serve answers 2xx again within 10 s of the promotion, not restarted;
#   - every call got an answer within its time limit, each 2xx or 503
#     database_unavailable with Retry-After; never a 500, never a hang;
#   - no mail twice (the sink's Message-IDs), no job twice, no lifecycle
#     event twice, and `peerflow audit verify` passes.
# Prints the failover figures (docs/performance.md, "Failover").
#
# Its own pair of clusters, not the suite's shared one. No Open vSwitch:
# the switch is never reachable, so provision jobs stay deferred (the
# provisioner's own failover is part 2 of the issue).
source "$(dirname "$0")/lib.sh"
pf=$PEERFLOW_BIN
root=$PEERFLOW_ROOT
tmp=$(mktemp -d /tmp/pf-ha-test.XXXXXX)
chmod 755 "$tmp" # the clusters' OS user must reach its directories
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [ "$CHECKS_FAILED" -ne 0 ]; then # what a failure needs to be understood
    mkdir -p /tmp/pf-ha-failed && cp "$tmp"/*.log "$tmp"/calls.jsonl "$tmp"/verdict /tmp/pf-ha-failed/ 2>/dev/null
    echo "kept: /tmp/pf-ha-failed"
  fi
  bash "$root/scripts/smtp.sh" stop "$tmp/smtp" >/dev/null 2>&1
  bash "$root/scripts/pg.sh" destroy "$tmp/pg" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

env_out=$(bash "$root/scripts/pg.sh" replica "$tmp/pg" --fast) || { echo "FAIL: no replica pair"; exit 1; }
eval "$env_out"
"$pf" migrate >/dev/null || { echo "FAIL: migrate"; exit 1; }
q() { "$pf" "$@" >/dev/null || { echo "FAIL: set-up: $*"; exit 1; }; }
q network add --asn 64800 --name "Alpha" --contact noc@alpha.example
q network add --asn 64801 --name "Beta" --contact noc@beta.example
q switch add --name s1 --dpid 00000000000000c1
q port add --network 64800 --switch s1 --ofport 1 --name a-trunk --mode trunk
q port add --network 64801 --switch s1 --ofport 2 --name b-trunk --mode trunk
q user add --email admin@alpha.example --network 64800 --role admin
q user add --email admin@beta.example --network 64801 --role admin
tok_a=$("$pf" token create --email admin@alpha.example --name load)
tok_b=$("$pf" token create --email admin@beta.example --name load)

smtp_out=$(bash "$root/scripts/smtp.sh" start "$tmp/smtp") || { echo "FAIL: no SMTP sink"; exit 1; }
export PEERFLOW_SMTP_URL=${smtp_out#PEERFLOW_SMTP_URL=}
export PEERFLOW_KEY_DIR=$tmp/keys
export PEERFLOW_MAX_OPEN_REQUESTS=100000 PEERFLOW_MAX_SUBMISSIONS_PER_HOUR=100000
"$pf" keys rotate >/dev/null || { echo "FAIL: keys"; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
"$pf" serve --listen "127.0.0.1:$port" --no-workers >"$tmp/serve.log" 2>&1 &
serve_pid=$!; pids+=("$serve_pid")
"$pf" worker >"$tmp/worker1.log" 2>&1 & pids+=($!)
"$pf" worker >"$tmp/worker2.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -sf -m 2 "$base/healthz" >/dev/null && break; sleep 0.1; done

now() { date +%s.%N; }
python3 "$root/tests/integration/ha_load.py" "$base" "$tok_a" "$tok_b" "$tmp/calls.jsonl" "$tmp/stop" 4 &
load_pid=$!; pids+=("$load_pid")
sleep 5

# the primary's machine is gone: postmaster and every backend at once
pm=$(head -1 "$tmp/pg/primary/data/postmaster.pid")
t_kill=$(now)
kill -9 "$pm" $(pgrep -P "$pm")
sleep 1 # the manager notices, then promotes
t_promote=$(now)
bash "$root/scripts/pg.sh" promote "$tmp/pg/standby" || fail "promotion failed"
t_promoted=$(now)
sleep 8
touch "$tmp/stop"
wait "$load_pid"

# let the mailers finish what the load queued (on the new primary)
for _ in $(seq 60); do
  left=$(sql "SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL")
  [ "$left" = 0 ] && break
  sleep 0.5
done
expect_eq "every queued mail delivered after the failover" 0 "$left"
sleep 1 # a duplicate would be in flight now, if there were one

# the judgement, by an independent reader of the calls and the database
sql "COPY (SELECT id, state, version FROM peering_requests) TO STDOUT" >"$tmp/db_requests"
sql "COPY (SELECT request_id, count(*) FROM jobs WHERE kind = 'provision' GROUP BY request_id HAVING count(*) > 1) TO STDOUT" >"$tmp/dup_jobs"
sql "COPY (SELECT request_id, action, coalesce(after->>'state', '') FROM audit_events WHERE request_id IS NOT NULL GROUP BY 1, 2, 3 HAVING count(*) > 1) TO STDOUT" >"$tmp/dup_events"
sql "COPY (SELECT message_id FROM outbox WHERE delivered_at IS NOT NULL) TO STDOUT" >"$tmp/delivered"
python3 - "$tmp" "$t_kill" "$t_promote" "$t_promoted" <<'PY' >"$tmp/verdict"
import email, json, os, sys
tmp, t_kill, t_promote, t_promoted = sys.argv[1], *map(float, sys.argv[2:5])
calls = [json.loads(l) for l in open(tmp + "/calls.jsonl")]
db = {}
for line in open(tmp + "/db_requests"):
    i, s, v = line.split("\t")
    db[int(i)] = (s, int(v))
problems = []
say = problems.append
# answers: 2xx, or 503 database_unavailable with Retry-After; in time
for c in calls:
    st, took = c["status"], c["end"] - c["start"]
    if took > 10:
        say("%s %s took %.1f s" % (c["op"], c.get("id"), took))
    if 200 <= st < 300:
        continue
    if st == 503 and c.get("code") == "database_unavailable" and c.get("retry_after"):
        continue
    say("%s %s answered %s %s %s" % (c["op"], c.get("id"), st, c.get("code"),
                                      c.get("exception") or c.get("body") or ""))
# what was acknowledged is there, as acknowledged (or moved on by workers)
moved_on = {"approved": {"approved", "provisioning", "failed"},
            "pending": {"pending"}}
last = {}
for c in sorted(calls, key=lambda c: c["end"]):
    if c["op"] in ("submit", "approve") and 200 <= c["status"] < 300:
        last[c["id"]] = (c["state"], c["version"], c["end"])
unknown = {c["id"] for c in calls if c["op"] == "approve" and c["status"] == 503}
acked_before_kill = 0
for rid, (state, version, end) in last.items():
    acked_before_kill += end < t_kill
    if rid not in db:
        say("request %s answered %s is missing" % (rid, state))
        continue
    have = db[rid][0]
    ok = have in moved_on.get(state, {state})
    if rid in unknown and state == "pending":  # an approve with an unknown outcome
        ok = ok or have in moved_on["approved"]
    if not ok:
        say("request %s answered %s v%s, is %s v%s" % (rid, state, version, *db[rid]))
    elif have == state and db[rid][1] != version:
        say("request %s answered %s v%s, is v%s" % (rid, state, version, db[rid][1]))
# mail: each delivered message once at the sink, none twice
seen = {}
for d in ("new", "cur"):
    p = os.path.join(tmp, "smtp", "maildir", d)
    for f in os.listdir(p) if os.path.isdir(p) else []:
        mid = email.message_from_binary_file(open(os.path.join(p, f), "rb"))["Message-ID"]
        seen[mid.strip("<> \n")] = seen.get(mid.strip("<> \n"), 0) + 1
for mid, n in seen.items():
    if n > 1:
        say("mail %s arrived %d times" % (mid, n))
delivered = [l.strip().strip("<>") for l in open(tmp + "/delivered") if l.strip()]
for mid in delivered:
    if mid not in seen:
        say("mail %s marked delivered, not at the sink" % mid)
for f, what in (("dup_jobs", "provision jobs"), ("dup_events", "audit events")):
    for l in open(tmp + "/" + f):
        say("twice: %s %s" % (what, l.strip()))
after = sorted((c for c in calls if c["start"] >= t_promoted and 200 <= c["status"] < 300),
               key=lambda c: c["end"])
first = after[0]["end"] - t_promoted if after else None
if first is None or first > 10:
    say("no 2xx within 10 s of the promotion (first: %s)" % first)
failed = [c for c in calls if not 200 <= c["status"] < 300]
last_ok = max((c["end"] for c in calls if c["end"] <= t_kill + 0.5 and 200 <= c["status"] < 300),
              default=t_kill)
for p in problems[:20]:
    print("PROBLEM", p)
print("FIGURES calls=%d ok=%d acked_before_kill=%d mails=%d failed_during_switch=%d "
      "promotion_took=%.2fs first_2xx_after_promotion=%.2fs outage_kill_to_first_2xx=%.2fs"
      % (len(calls), len(calls) - len(failed), acked_before_kill, len(seen), len(failed),
         t_promoted - t_promote, first if first is not None else -1,
         (after[0]["end"] - t_kill) if after else -1))
print("PROBLEMS %d" % len(problems))
PY
cat "$tmp/verdict"
expect_eq "failover judged (see PROBLEM lines)" "PROBLEMS 0" "$(grep '^PROBLEMS' "$tmp/verdict")"
grep -q '^FIGURES' "$tmp/verdict" && grep -q 'acked_before_kill=[1-9]' "$tmp/verdict" && pass ||
  fail "no load was acknowledged before the kill"
expect_ok "the audit chain verifies after the failover" "$pf" audit verify
kill -0 "$serve_pid" 2>/dev/null && pass || fail "serve died: $(tail -5 "$tmp/serve.log")"
expect_eq "serve was not restarted" 1 "$(grep -c 'serving on' "$tmp/serve.log")"
for l in serve worker1 worker2; do
  grep -q "runtime error\|AddressSanitizer" "$tmp/$l.log" &&
    fail "$l: sanitizer: $(grep -m3 'runtime error\|Sanitizer' "$tmp/$l.log")" || pass
done
finish
