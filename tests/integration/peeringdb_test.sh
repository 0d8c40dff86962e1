#!/usr/bin/env bash
# peerflow peeringdb import|sync|pin against real PostgreSQL
# (docs/peeringdb.md): the fixtures of tests/fixtures/peeringdb/ (PeeringDB's
# own format), bad input refused whole (not JSON, wrong envelope, no asn,
# an unknown policy word), a bad email skipped and named, nothing written
# when nothing changed, pinned fields kept, --create limited to the
# exchange's networks, each change audited; and `peeringdb sync` against a
# local HTTP server standing in for PeeringDB (Api-Key checked, one 429
# first, since= after the first sync, asn__in batches of at most 150,
# status=deleted applied), and the worker's sync task.
source "$(dirname "$0")/lib.sh"
pf=$PEERFLOW_BIN
root=${PEERFLOW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
fx=$root/tests/fixtures/peeringdb
tmp=$(mktemp -d /tmp/pf-pdb-test.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fresh_db peerflow_pdb || { echo "cannot create the database"; exit 1; }
unset PEERFLOW_PEERINGDB_IX_ID PEERFLOW_PEERINGDB_API_KEY PEERFLOW_PEERINGDB_INTERVAL

q() { "$pf" "$@" >/dev/null || { echo "set-up failed: $*"; exit 1; }; }
q network add --asn 64500 --name "Alpha Old" --contact noc@alpha.example
q network add --asn 64501 --name "Beta" --policy open --contact noc@beta.example
events() { sql "SELECT count(*) FROM audit_events WHERE action LIKE 'network.peeringdb%'"; }
state() { sql "SELECT string_agg(concat_ws('|', asn, name, policy, irr_as_set, max_prefix4, max_prefix6, contacts, peeringdb_net_id), ' ' ORDER BY asn) FROM networks"; }

# ------------------------------------------------------------ bad input
before=$(state)
expect_error "not JSON" "bad-not-json.json is not JSON" "$pf" peeringdb import "$fx/net-0.json" "$fx/bad-not-json.json"
expect_error "the wrong envelope" "is not PeeringDB's envelope" "$pf" peeringdb import "$fx/bad-envelope.json"
expect_error "a net row without asn" "row 1 \\(id 1099\\) has no asn" "$pf" peeringdb import "$fx/net-bad-noasn.json"
expect_error "an unknown policy word" "policy_general 'Sometimes'" "$pf" peeringdb import "$fx/net-bad-policy.json"
expect_error "a file that is not there" "cannot read" "$pf" peeringdb import "$tmp/none.json"
expect_error "no file" "needs FILE or URL" "$pf" peeringdb import
expect_eq "  ... nothing written" "$before" "$(state)"
expect_eq "  ... no event" 0 "$(events)"

# ------------------------------------------------------------ import
out=$("$pf" peeringdb import "$fx/net-0.json" "$fx/poc-0.json" "$fx/netixlan-0.json" "$fx/ixlan-0.json" "$fx/ix-0.json" 2>&1)
expect_eq "import exits 0" 0 $?
case $out in *"AS64500:"*"name \"Alpha Old\" -> \"Alpha Networks\""*) pass ;; *) fail "import names the change: $out" ;; esac
case $out in *"contact 'noc at beta' (NOC) skipped"*) pass ;; *) fail "the bad email is named: $out" ;; esac
case $out in *"2 networks here, 2 changed"*) pass ;; *) fail "summary: $out" ;; esac
expect_eq "the facts set" \
  '64500|Alpha Networks|open|RIPE::AS-ALPHA|120|40|{peering@alpha.example,tech@alpha.example}|1001 64501|Beta Transit|selective|AS-BETA|2000|{noc@beta.example}|1002' \
  "$(state)"
expect_eq "  ... Beta's auto-approve-free policy moved (open -> selective)" selective "$(sql 'SELECT policy FROM networks WHERE asn = 64501')"
expect_eq "  ... one event per changed network" 2 "$(events)"
expect_eq "  ... with before and after" '"Alpha Old"' \
  "$(sql "SELECT before->'name' FROM audit_events WHERE action = 'network.peeringdb_updated' AND object_id = '64500'")"
expect_eq "  ... networks not here are not created" 0 "$(sql 'SELECT count(*) FROM networks WHERE asn IN (64503, 64504)')"
expect_ok "the audit chain holds" "$pf" audit verify

xmin=$(sql "SELECT string_agg(xmin::text || '/' || xmax::text, ',' ORDER BY id) FROM networks")
out=$("$pf" peeringdb import "$fx/net-0.json" "$fx/poc-0.json" 2>&1)
case $out in *"0 changed"*) pass ;; *) fail "the same import again: $out" ;; esac
expect_eq "  ... writes (and locks) nothing" "$xmin" "$(sql "SELECT string_agg(xmin::text || '/' || xmax::text, ',' ORDER BY id) FROM networks")"
expect_eq "  ... and no event" 2 "$(events)"

# ------------------------------------------------------------ pins
expect_error "pin an unknown field" "'ports' is not a field PeeringDB sets" "$pf" peeringdb pin --asn 64500 --fields ports
expect_eq "pin name and max_prefix4" "AS64500 pinned: [\"name\",\"max_prefix4\"]" \
  "$("$pf" peeringdb pin --asn 64500 --fields name,max_prefix4)"
sql "UPDATE networks SET name = 'Alpha Local', max_prefix4 = 7, irr_as_set = 'AS-OLD' WHERE asn = 64500" >/dev/null
out=$("$pf" peeringdb import "$fx/net-0.json" 2>&1)
case $out in *"AS64500: irr_as_set \"AS-OLD\" -> \"RIPE::AS-ALPHA\" (2 pinned fields kept)"*) pass ;; *) fail "pins kept: $out" ;; esac
expect_eq "  ... the pinned fields as the admin set them" "Alpha Local 7 RIPE::AS-ALPHA" \
  "$(sql "SELECT concat_ws(' ', name, max_prefix4, irr_as_set) FROM networks WHERE asn = 64500")"
expect_eq "unpin" "AS64500 pinned: []" "$("$pf" peeringdb pin --asn 64500 --fields none)"

# ------------------------------------------------------------ --create
out=$(PEERFLOW_PEERINGDB_IX_ID=42 "$pf" peeringdb import --create "$fx/net-0.json" "$fx/poc-0.json" "$fx/netixlan-0.json" "$fx/ixlan-0.json" 2>&1)
case $out in *"AS64503 (created)"*) pass ;; *) fail "--create: $out" ;; esac
expect_eq "  ... the networks on ix 42 (one by its ixlan), not the one elsewhere" "64503|Delta Cable|restrictive" \
  "$(sql "SELECT string_agg(concat_ws('|', asn, name, policy), ' ') FROM networks WHERE asn IN (64503, 64504)")"
expect_eq "  ... with its contact" '{peering@delta.example}' "$(sql 'SELECT contacts FROM networks WHERE asn = 64503')"
expect_eq "  ... audited" 1 "$(sql "SELECT count(*) FROM audit_events WHERE action = 'network.peeringdb_created'")"

# a network that approves automatically keeps policy open
sql "UPDATE networks SET policy = 'open', auto_approve = true WHERE asn = 64503" >/dev/null
out=$("$pf" peeringdb import "$fx/net-0.json" 2>&1)
case $out in *"AS64503: policy restrictive not applied: the network approves automatically"*) pass ;; *) fail "auto-approve: $out" ;; esac
expect_eq "  ... still open and auto-approving" "open true" "$(sql "SELECT policy || ' ' || auto_approve FROM networks WHERE asn = 64503")"
sql "UPDATE networks SET auto_approve = false WHERE asn = 64503" >/dev/null

# ------------------------------------------- sync against a stand-in PeeringDB
cat >"$tmp/pdb.py" <<'PY'
import http.server, json, os, sys, urllib.parse
fx, log = sys.argv[1], sys.argv[2]
first = [True]
def rows(name):
    return json.load(open(os.path.join(fx, name)))["data"]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        qs = urllib.parse.parse_qs(u.query)
        key = self.headers.get("Authorization", "")
        with open(log, "a") as f:
            f.write(f"{u.path} {u.query} key={key == 'Api-Key testkey'}\n")
        if key != "Api-Key testkey":
            return self.answer(401, {"meta": {"error": "bad key"}, "data": []})
        if first[0]:
            first[0] = False
            self.send_response(429); self.send_header("Retry-After", "1"); self.end_headers()
            return
        since = "since" in qs
        if u.path == "/api/net":
            want = {int(a) for a in qs["asn__in"][0].split(",")}
            data = [r for r in rows("net-changed.json" if since else "net-0.json") if r["asn"] in want]
        elif u.path == "/api/poc":
            want = {int(a) for a in qs["net_id__in"][0].split(",")}
            data = [r for r in rows("poc-0.json") if r["net_id"] in want]
            if since:  # only Delta's contacts changed since
                data = [r for r in data if r["net_id"] == 1003]
        else:
            return self.answer(404, {"meta": {}, "data": []})
        self.answer(200, {"meta": {}, "data": data})
    def answer(self, status, doc):
        b = json.dumps(doc).encode()
        self.send_response(status); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$tmp/pdb.py" "$fx" "$tmp/pdb.log" >"$tmp/pdb.port" &
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/pdb.port" ] && break; sleep 0.1; done
export PEERFLOW_PEERINGDB_URL=http://127.0.0.1:$(cat "$tmp/pdb.port")/api
sql "UPDATE networks SET irr_as_set = 'AS-DRIFT' WHERE asn = 64501" >/dev/null

expect_error "sync with a wrong key" "PeeringDB refused the request \\(HTTP 401\\)" \
  env PEERFLOW_PEERINGDB_API_KEY=wrong "$pf" peeringdb sync
expect_eq "  ... the cursor did not move" 0 "$(sql 'SELECT since FROM peeringdb_sync')"
: >"$tmp/pdb.log"
export PEERFLOW_PEERINGDB_API_KEY=testkey
expect_eq "config check never prints the API key" "0 1" \
  "$("$pf" config check 2>&1 | grep -c testkey) $("$pf" config check 2>&1 | grep -cE '^peeringdb_api_key +\*{5} ')"
start=$SECONDS
out=$("$pf" peeringdb sync 2>&1)
expect_eq "the first sync exits 0 (after one 429)" 0 $?
case $out in *'AS64501: irr_as_set "AS-DRIFT" -> "AS-BETA"'*) pass ;; *) fail "first sync: $out" ;; esac
expect_eq "  ... asked again after the 429, with the key each time" \
  "/api/net key=True|/api/net key=True|/api/poc key=True" \
  "$(awk '{print $1, $3}' "$tmp/pdb.log" | paste -sd'|')"
expect_eq "  ... no since= the first time" 0 "$(grep -c 'since=' "$tmp/pdb.log")"
expect_eq "  ... two seconds between requests" yes "$([ $((SECONDS - start)) -ge 3 ] && echo yes)"
since=$(sql 'SELECT since FROM peeringdb_sync')
expect_eq "  ... the cursor moved" yes "$([ "$since" -gt 0 ] && echo yes)"

# 200 more networks: two batches of ASNs
sql "INSERT INTO networks (asn, name) SELECT 65000 + g, 'Filler ' || g FROM generate_series(1, 200) g" >/dev/null
: >"$tmp/pdb.log"
out=$("$pf" peeringdb sync 2>&1)
expect_eq "the second sync exits 0" 0 $?
case $out in *"AS64500:"*"policy \"open\" -> \"selective\""*"max_prefix4 120 -> 150"*) pass ;; *) fail "second sync: $out" ;; esac
expect_eq "  ... incremental: since= on every net request" "2 2" \
  "$(grep -c '^/api/net ' "$tmp/pdb.log") $(grep '^/api/net ' "$tmp/pdb.log" | grep -c "since=$since")"
expect_eq "  ... at most 150 ASNs a request" "150 53" \
  "$(grep '^/api/net ' "$tmp/pdb.log" | sed 's/.*asn__in=\([^& ]*\).*/\1/' | awk -F'%2C|,' '{print NF}' | paste -sd' ')"
expect_eq "  ... status=deleted unlinks Beta, keeps it" "Beta Transit|" \
  "$(sql "SELECT concat_ws('|', name, coalesce(peeringdb_net_id::text, '')) FROM networks WHERE asn = 64501")"
expect_eq "  ... audited as deleted" 1 "$(sql "SELECT count(*) FROM audit_events WHERE action = 'network.peeringdb_deleted'")"
expect_eq "  ... Delta's changed contacts noticed, then read in full" "1 1" \
  "$(grep '^/api/poc ' "$tmp/pdb.log" | grep -c "since=$since") $(grep '^/api/poc ' "$tmp/pdb.log" | grep -v since= | grep -c '1003')"
expect_ok "the audit chain holds" "$pf" audit verify

# import from a URL: the same rules, the key sent
: >"$tmp/pdb.log"
sql "UPDATE networks SET max_prefix6 = 1 WHERE asn = 64503" >/dev/null
out=$("$pf" peeringdb import "$PEERFLOW_PEERINGDB_URL/net?asn__in=64503" 2>&1)
case $out in *"AS64503: max_prefix6 1 -> 5"*) pass ;; *) fail "import of a URL: $out" ;; esac
expect_eq "  ... fetched with the key" "/api/net key=True" "$(awk '{print $1, $3}' "$tmp/pdb.log")"

# the worker's task: off unless configured, here every hour, first after 5 s
: >"$tmp/pdb.log"
PEERFLOW_PEERINGDB_INTERVAL=3600 "$pf" worker --only mailer >"$tmp/worker.log" 2>&1 &
wpid=$!
pids+=($wpid)
for _ in $(seq 100); do grep -q '^/api/net' "$tmp/pdb.log" 2>/dev/null && break; sleep 0.2; done
expect_eq "the worker syncs when configured" 1 "$(grep -c '^/api/net' "$tmp/pdb.log" | head -1 | awk '{print ($1 >= 1)}')"
kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
PEERFLOW_PEERINGDB_INTERVAL=soon timeout 20 "$pf" worker --only mailer >/dev/null 2>"$tmp/bad.err"
rc=$?
expect_eq "a bad interval: the worker refuses to start" "yes 1" \
  "$([ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && echo yes) $(grep -c 'peeringdb_interval is seconds' "$tmp/bad.err")"

finish
