#!/usr/bin/env bash
# The whole story, end to end, on real components only:
#
#   PostgreSQL (the cluster of tests/run.sh, a database of our own),
#   `peerflow serve` with its workers (mailer + provisioner in the process),
#   aiosmtpd writing a Maildir (scripts/smtp.sh), Open vSwitch with three
#   switches in a line s1 - s2 - s3 in a network namespace of its own
#   (scripts/fabric.sh), member hosts A (on s1) and B (on s3), and headless
#   Debian Chromium (tests/e2e/story.mjs, playwright-core).
#
#   1. the operator sets up the fabric and the networks with the CLI
#   2. A's engineer files a request to B in the browser
#   3. A's admin approves it in the browser
#   4. B's contact gets the mail, opens the /t/TOKEN link, chooses Approve
#   5. the circuit becomes active (flows on s1, s2 and s3)
#   6. A pings B across the fabric (and could not before)
#   7. B's admin tears it down in the browser; decommissioned; no ping
#   8. `peerflow audit verify` and the request's history report
#   9. a second request rejected by B's contact by mail: nothing built,
#      both sides told
#
# Needs root, Open vSwitch, chromium, python3-aiosmtpd (else: skipped) and
# what tests/run.sh exports: PEERFLOW_TEST_PG_HOST, PEERFLOW_TEST_PG_PORT,
# PEERFLOW_BIN, PEERFLOW_ROOT. Everything it starts is stopped and removed
# on exit, also on failure or interruption. Ends with "N passed, N failed".
source "$(dirname "$0")/../integration/lib.sh"
root=${PEERFLOW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
pf=$PEERFLOW_BIN
t0=$SECONDS

if [ "$(id -u)" -ne 0 ] || ! command -v ovs-vswitchd >/dev/null 2>&1 ||
   [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ] || ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null ||
   [ ! -d "$root/tests/browser/node_modules/playwright-core" ]; then
  echo "skipped: needs root, Open vSwitch, chromium, python3-aiosmtpd and tests/browser/node_modules"
  exit 77
fi

# ------------------------------------------------------------ set-up, teardown
fab=/tmp/pfe.$$            # short: unix socket paths are limited
ns=pfe$$
tmp=$(mktemp -d /tmp/peerflow-e2e.XXXXXX)
db=peerflow_e2e_story_$$
shots=$root/build/screenshots
mkdir -p "$shots"
serve_pid=
serve_log=$tmp/serve.log

stop_serve() {
  [ -n "$serve_pid" ] || return 0
  kill "$serve_pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$serve_pid" 2>/dev/null
  wait "$serve_pid" 2>/dev/null
  serve_rc=$?
  serve_pid=
}

cleanup() {
  stop_serve
  bash "$root/scripts/smtp.sh" stop "$tmp/smtp" >/dev/null 2>&1
  bash "$root/scripts/fabric.sh" down "$fab" >/dev/null 2>&1
  "$PSQL" -h "$PEERFLOW_TEST_PG_HOST" -p "$PEERFLOW_TEST_PG_PORT" -U peerflow -d postgres -qAtc \
    "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  [ -n "${KEEP_TMP:-}" ] && { echo "kept $tmp"; return; }; rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
  fail "$*"
  if [ -s "$serve_log" ]; then echo "--- serve log (tail)"; tail -n 40 "$serve_log"; fi
  finish
  exit 1
}

step() { echo "== $(( SECONDS - t0 ))s $*"; }

# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds; false on timeout
wait_for() {
  local limit=$1; shift
  local end=$(( $(date +%s%N) + limit * 1000000000 ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s%N)" -lt "$end" ] || return 1
    sleep 0.2
  done
}

# expect_wait DESC SECONDS CMD...
expect_wait() {
  local desc=$1 limit=$2; shift 2
  if wait_for "$limit" "$@"; then pass; else fail "$desc (not within ${limit} s)"; fi
}

# browser STEP ARGS...: one step of story.mjs; its checks count as ours.
# Its stdout is kept in $browser_out.
browser_out=
browser() {
  browser_out=$(cd "$root/tests/e2e" && node story.mjs "$base" "$shots" "$@" 2>&1)
  local rc=$?
  local p f
  p=$(printf '%s\n' "$browser_out" | sed -n 's/^checks: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
  f=$(printf '%s\n' "$browser_out" | sed -n 's/^checks: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
  CHECKS_PASSED=$((CHECKS_PASSED + ${p:-0}))
  CHECKS_FAILED=$((CHECKS_FAILED + ${f:-0}))
  printf '%s\n' "$browser_out" | grep -E '^(ok|FAIL) ' | sed 's/^/   browser: /'
  if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
    fail "browser step $1 exited $rc: $(printf '%s\n' "$browser_out" | tail -n 5)"
  fi
  return "$rc"
}

# mail COUNT RCPT SUBJECT_REGEX | mail LINK RCPT REQUEST_ID: reads the
# Maildir with Python's email package (an independent MIME reader: the
# long link line may be quoted-printable).
mail() {
  /usr/bin/python3 - "$tmp/smtp/maildir" "$@" <<'EOF'
import email, email.policy, os, re, sys
root, what, rcpt, arg = sys.argv[1:5]
msgs = []
for sub in ("new", "cur"):
    d = os.path.join(root, sub)
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        with open(os.path.join(d, name), "rb") as f:
            m = email.message_from_binary_file(f, policy=email.policy.default)
        if rcpt in str(m.get("To", "")):
            msgs.append(m)
if what == "count":
    print(sum(1 for m in msgs if re.search(arg, str(m.get("Subject", "")))))
elif what == "link":
    for m in msgs:
        if re.search(r"#%s .*needs your decision" % re.escape(arg), str(m.get("Subject", ""))):
            body = m.get_body(preferencelist=("plain",)).get_content()
            found = re.search(r"https?://\S+/t/[A-Za-z0-9_-]+", body)
            if found:
                print(found.group(0))
                sys.exit(0)
    sys.exit(1)
EOF
}
mail_count_is() { [ "$(mail count "$1" "$2")" = "$3" ]; }

state_of() { sql "SELECT state FROM peering_requests WHERE id = $1"; }
state_is() { [ "$(state_of "$1")" = "$2" ]; }
ping_ok() { ip netns exec "$ns-a" ping -c "$1" -W 1 -i 0.2 10.77.0.2 >/dev/null 2>&1; }
no_ping() { ! ip netns exec "$ns-a" ping -c 2 -W 1 -i 0.2 10.77.0.2 >/dev/null 2>&1; }
# flows SWITCH COOKIE: how many flows the switch holds with that cookie
flows() {
  ovs-ofctl -O OpenFlow13 dump-flows "unix:$fab/$1.mgmt" | grep -c "cookie=$2,"
}
# peerflow_flows: flows of peerflow (cookie 0x5046...) other than the table-miss, on all switches
peerflow_flows() {
  local n=0 s
  for s in s1 s2 s3; do
    n=$(( n + $(ovs-ofctl -O OpenFlow13 dump-flows "unix:$fab/$s.mgmt" |
                grep 'cookie=0x5046' | grep -vc 'cookie=0x5046000000000000,') ))
  done
  echo "$n"
}

# ------------------------------------------------------------ 1. the operator
step "1. fabric, database, SMTP sink, serve; the operator's set-up"
fresh_db "$db" 2>"$tmp/db.log" || die "cannot create the database: $(cat "$tmp/db.log")"
bash "$root/scripts/fabric.sh" up "$fab" "$ns" >"$tmp/fabric.log" 2>&1 || die "fabric up: $(tail -n 3 "$tmp/fabric.log")"
{
  bash "$root/scripts/fabric.sh" switch "$fab" s1 0000000000000001 &&
  bash "$root/scripts/fabric.sh" switch "$fab" s2 0000000000000002 &&
  bash "$root/scripts/fabric.sh" switch "$fab" s3 0000000000000003 &&
  bash "$root/scripts/fabric.sh" link "$fab" s1 10 s2 10 &&
  bash "$root/scripts/fabric.sh" link "$fab" s2 11 s3 10 &&
  bash "$root/scripts/fabric.sh" host "$fab" a s1 1 10.77.0.1/24 &&
  bash "$root/scripts/fabric.sh" host "$fab" b s3 1 10.77.0.2/24
} >>"$tmp/fabric.log" 2>&1 || die "fabric set-up: $(tail -n 3 "$tmp/fabric.log")"
smtp_url=$(bash "$root/scripts/smtp.sh" start "$tmp/smtp") || die "aiosmtpd did not start"
smtp_url=${smtp_url#PEERFLOW_SMTP_URL=}

pw_a_eng='story-eng-A-pass'
pw_a_admin='story-admin-A-pass'
pw_b_admin='story-admin-B-pass'
pw_op='story-operator-pass'
A=64510; B=64520
ca=peering@a-net.example
cb=noc@b-net.example
expect_ok "network A" "$pf" network add --asn $A --name "A Net" --policy selective --contact "$ca"
expect_ok "network B" "$pf" network add --asn $B --name "B Net" --policy selective --contact "$cb"
for i in 1 2 3; do
  expect_ok "switch s$i" "$pf" switch add --name "s$i" --dpid "000000000000000$i" \
    --endpoint "$(bash "$root/scripts/fabric.sh" endpoint "$fab" "s$i")"
done
expect_ok "link s1-s2" "$pf" link add --a s1:10 --b s2:10
expect_ok "link s2-s3" "$pf" link add --a s2:11 --b s3:10
expect_ok "port of A on s1" "$pf" port add --network $A --switch s1 --ofport 1 --name a-1 --speed 10000
expect_ok "port of B on s3" "$pf" port add --network $B --switch s3 --ofport 1 --name b-1 --speed 10000
adduser() { printf '%s\n' "$1" | "$pf" user add --email "$2" --network "$3" --role "$4" --password-stdin; }
expect_ok "A engineer" adduser "$pw_a_eng" eng@a-net.example $A engineer
expect_ok "A admin" adduser "$pw_a_admin" admin@a-net.example $A admin
expect_ok "B admin" adduser "$pw_b_admin" admin@b-net.example $B admin
expect_ok "the exchange's operator" \
  bash -c 'printf "%s\n" "$1" | "$2" user add --email op@ix.example --operator --password-stdin' \
  _ "$pw_op" "$pf"

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
PEERFLOW_SMTP_URL=$smtp_url PEERFLOW_KEY_DIR=$tmp/keys PEERFLOW_BASE_URL=$base \
PEERFLOW_MAIL_FROM=peerflow@ix.example PEERFLOW_COUNTER_INTERVAL=1 \
  "$pf" serve --listen "127.0.0.1:$port" >"$serve_log" 2>&1 &
serve_pid=$!
wait_for 15 curl -sf "$base/healthz" || die "peerflow serve did not answer /healthz"
all_connected() { [ "$(sql "SELECT count(*) FROM switches WHERE conn_state = 'connected'")" = 3 ]; }
expect_wait "the provisioner connects to s1, s2 and s3" 15 all_connected
# every switch got its table-miss flow, and nothing of peerflow's else
table_miss() { [ "$(ovs-ofctl -O OpenFlow13 dump-flows "unix:$fab/$1.mgmt" | grep "cookie=0x5046000000000000," | grep -c "priority=0 actions=drop")" = 1 ]; }
for s in s1 s2 s3; do
  expect_wait "$s holds the table-miss flow" 10 table_miss $s
done
expect_eq "no circuit flows yet" 0 "$(peerflow_flows)"

# ------------------------------------------------------------ 2. A's engineer files
step "2. A's engineer files a request to B in the browser"
browser submit eng@a-net.example "$pw_a_eng" $B a-1 "Story: A would like to peer with B" e2e-1-submitted ||
  die "the engineer could not file the request"
id=$(printf '%s\n' "$browser_out" | sed -n 's/^id=//p')
[ -n "$id" ] || die "no request id from the browser"
expect_eq "request $id is pending" pending "$(state_of "$id")"
expect_eq "request $id: A's port" "a-1" "$(sql "SELECT p.name FROM peering_requests r JOIN ports p ON p.id = r.requester_port_id WHERE r.id = $id")"

# ------------------------------------------------------------ 3. A's admin approves
step "3. A's admin approves request $id in the browser"
browser approve admin@a-net.example "$pw_a_admin" "$id" e2e-2-approved-by-a || die "A's admin could not approve"
expect_eq "A's approval is recorded by web" "requester|approve|web|admin@a-net.example" \
  "$(sql "SELECT a.side, a.decision, a.via, u.email FROM approvals a JOIN users u ON u.id = a.user_id WHERE a.request_id = $id")"
expect_eq "still pending, waiting on B" pending "$(state_of "$id")"

# ------------------------------------------------------------ 6 (before). no ping
step "6a. before activation A cannot reach B"
if ping_ok 1; then fail "A pings B before the circuit exists"; else pass; fi

# ------------------------------------------------------------ 4. B's contact decides by mail
step "4. B's contact gets the mail and approves by the link"
expect_wait "B's contact gets the approval mail" 15 mail link "$cb" "$id"
link_b=$(mail link "$cb" "$id")
expect_wait "A's contact got an approval mail too (an engineer submitted)" 10 mail link "$ca" "$id"
link_a=$(mail link "$ca" "$id")
case $link_b in "$base/t/"*) pass ;; *) fail "the link is not under the base URL: $link_b" ;; esac
browser link "$link_b" approve e2e-3-link || die "B's contact could not approve by the link"
expect_eq "B's approval is recorded by email for its contact" "peer|approve|email|$cb" \
  "$(sql "SELECT side, decision, via, contact FROM approvals WHERE request_id = $id AND side = 'peer'")"

# ------------------------------------------------------------ 5. active
step "5. the circuit becomes active"
expect_wait "request $id becomes active" 30 state_is "$id" active
cid=$(sql "SELECT id FROM circuits WHERE request_id = $id")
[ -n "$cid" ] || die "request $id has no circuit"
cookie=$(printf '0x5046%012x' "$cid")
expect_eq "the circuit is installed" installed "$(sql "SELECT state FROM circuits WHERE request_id = $id")"
for s in s1 s2 s3; do   # the path transits s2: two flows (one per direction) on each switch
  expect_eq "$s holds the circuit's two flows" 2 "$(flows $s "$cookie")"
done
expect_eq "transport VLAN held on both links" 2 "$(sql "SELECT count(*) FROM link_vlans WHERE circuit_id = $cid")"
browser show eng@a-net.example "$pw_a_eng" "$id" active e2e-4-active
shown=$(printf '%s\n' "$browser_out" | sed -n 's/^cookie=//p')
expect_eq "the request page shows the cookie the switches hold" "$cookie" "$shown"
for c in "$ca" "$cb"; do
  expect_wait "$c is told request $id is active" 15 mail_count_is "$c" "#$id .*is active" 1
done

# ------------------------------------------------------------ 6. ping
step "6. A pings B across s1 - s2 - s3"
expect_ok "A pings B over the circuit" ip netns exec "$ns-a" ping -c 3 -W 1 -i 0.2 10.77.0.2
# the userspace datapath's counters reach the flows with a delay: poll
s2_packets() {
  ovs-ofctl -O OpenFlow13 dump-flows "unix:$fab/s2.mgmt" | grep "cookie=$cookie," |
    sed -n 's/.*n_packets=\([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}'
}
s2_counted() { [ "$(s2_packets)" -ge 6 ]; }
expect_wait "the transit switch s2 counted the pings' packets" 5 s2_counted

# ------------------------------------------------------------ 6b. pictures
step "6b. the request page draws the path and the traffic; the fabric page the topology"
# a few more seconds of pings, so the graph has something to show
ip netns exec "$ns-a" ping -q -c 15 -W 1 -i 0.2 10.77.0.2 >/dev/null 2>&1
counted() { [ "$(sql "SELECT coalesce(min(bytes_total), 0) FROM traffic_counters WHERE circuit_id = $cid")" -gt 0 ]; }
expect_wait "the counter poller counted the pings in both directions" 10 counted
browser pictures eng@a-net.example "$pw_a_eng" "$id" s1,s2,s3 e2e-4b-traffic
browser fabric op@ix.example "$pw_op" s1,s2,s3 e2e-4c-fabric

# the used and the obsolete links are refused
browser link-refused "$link_b" token_used e2e-5-link-used
browser link-refused "$link_a" token_request_closed e2e-5-link-closed

# ------------------------------------------------------------ 7. teardown
step "7. B's admin tears it down in the browser"
browser teardown admin@b-net.example "$pw_b_admin" "$id" e2e-6-teardown
expect_wait "request $id reaches decommissioned" 30 state_is "$id" decommissioned
for s in s1 s2 s3; do
  expect_eq "$s holds none of the circuit's flows" 0 "$(flows $s "$cookie")"
done
expect_eq "the circuit is removed" removed "$(sql "SELECT state FROM circuits WHERE id = $cid")"
expect_eq "its VLANs are released" 0 "$(sql "SELECT count(*) FROM link_vlans WHERE circuit_id = $cid")"
if no_ping; then pass; else fail "A still pings B after teardown"; fi
browser show admin@b-net.example "$pw_b_admin" "$id" decommissioned e2e-7-decommissioned
for c in "$ca" "$cb"; do
  expect_wait "$c is told request $id was torn down" 15 mail_count_is "$c" "#$id .*was torn down" 1
done

# ------------------------------------------------------------ 8. audit and history
step "8. audit verify and the request's history"
out=$("$pf" audit verify 2>&1); rc=$?
if [ $rc -eq 0 ] && [[ $out == "audit log OK"* ]]; then pass; else fail "audit verify: exit $rc: $out"; fi
hist=$("$pf" report request_history --request "$id" --format csv 2>&1) || fail "report request_history: $hist"
printf '%s\n' "$hist" > "$tmp/history.csv"
# rows ACTION [NEEDLE]: history rows with that action whose actor, actor
# kind or after contains NEEDLE (JSON is compact: "state":"active")
rows() { /usr/bin/python3 - "$tmp/history.csv" "$@" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
action, needle = sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""
print(sum(1 for r in rows if r["action"] == action and
          needle in "|".join(r.get(k) or "" for k in ("actor", "actor_kind", "after"))))
EOF
}
hist_fail=$CHECKS_FAILED
expect_eq "history: request.submitted by A's engineer" 1 "$(rows request.submitted eng@a-net.example)"
expect_eq "history: request.approved twice" 2 "$(rows request.approved)"
expect_eq "history: approved by A's admin on the web" 1 "$(rows request.approved '"side":"requester","state":"pending","version":2,"via":"web"')"
expect_eq "history: approved by B's contact by email" 1 "$(rows request.approved "$cb|email|")"
expect_eq "history: B's approval makes it approved" 1 "$(rows request.approved '"side":"peer","state":"approved"')"
expect_eq "history: the link's use" 1 "$(rows token.used "$cb")"
expect_eq "history: the circuit's plan" 1 "$(rows circuit.planned)"
expect_eq "history: to provisioning" 1 "$(rows request.state_changed '"state":"provisioning"')"
expect_eq "history: to active" 1 "$(rows request.state_changed '"state":"active"')"
expect_eq "history: teardown asked by B's admin" 1 "$(rows request.decommission_requested "admin@b-net.example")"
expect_eq "history: to decommissioning" 1 "$(rows request.decommission_requested '"state":"decommissioning"')"
expect_eq "history: to decommissioned" 1 "$(rows request.state_changed '"state":"decommissioned"')"
if [ "$CHECKS_FAILED" -ne "$hist_fail" ]; then echo "--- history of request $id"; cat "$tmp/history.csv"; fi

# ------------------------------------------------------------ 9. rejected by mail
step "9. a second request, rejected by B's contact by the mail link"
browser submit eng@a-net.example "$pw_a_eng" $B a-1 "Story: second try" e2e-8-second ||
  die "the engineer could not file the second request"
id2=$(printf '%s\n' "$browser_out" | sed -n 's/^id=//p')
[ -n "$id2" ] && [ "$id2" != "$id" ] || die "no new request id"
expect_wait "B's contact gets the approval mail for request $id2" 15 mail link "$cb" "$id2"
browser link "$(mail link "$cb" "$id2")" reject e2e-9-reject
expect_eq "request $id2 is rejected" rejected "$(state_of "$id2")"
expect_eq "B's rejection recorded by email" "peer|reject|email|$cb" \
  "$(sql "SELECT side, decision, via, contact FROM approvals WHERE request_id = $id2")"
for c in "$ca" "$cb"; do
  expect_wait "$c gets one 'rejected' mail for request $id2" 15 mail_count_is "$c" "#$id2 .*was rejected" 1
done
sleep 1   # give a wrongly enqueued provisioning job the time to show
expect_eq "no circuit for request $id2" 0 "$(sql "SELECT count(*) FROM circuits WHERE request_id = $id2")"
expect_eq "no job for request $id2" 0 "$(sql "SELECT count(*) FROM jobs WHERE request_id = $id2")"
expect_eq "no circuit flows on any switch" 0 "$(peerflow_flows)"
expect_eq "no 'active' mail for request $id2" 0 "$(mail count "$cb" "#$id2 .*is active")"
wait_for 10 mail link "$ca" "$id2" && browser link-refused "$(mail link "$ca" "$id2")" token_request_closed e2e-10-link-closed
out=$("$pf" audit verify 2>&1); rc=$?
if [ $rc -eq 0 ] && [[ $out == "audit log OK"* ]]; then pass; else fail "audit verify at the end: exit $rc: $out"; fi

# ------------------------------------------------------------ the server
step "serve stops cleanly"
stop_serve
if [ "${serve_rc:-1}" -eq 0 ] && ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error' "$serve_log"; then
  pass
else
  fail "peerflow serve exited $serve_rc: $(grep -E 'Sanitizer|runtime error' "$serve_log" | head -n 3)"
  tail -n 40 "$serve_log"
fi
echo "story took $(( SECONDS - t0 )) s"
finish
