#!/usr/bin/env bash
# The request list as CSV (issue 14 part 3: "every table can be downloaded
# as CSV where a report would be"), over real HTTP against `peerflow serve`:
#
#   - GET /api/v1/requests.csv: a header and one row per request the actor
#     sees, newest first, RFC 4180 quoting of names with commas and quotes;
#   - ?state= filters as the list does; ?before= starts below an id;
#   - more than one internal page (1000) of requests: every one is there
#     once, in order (the export pages with next_before as clients do);
#   - a third network sees only its own requests; a bad ?before is 422;
#   - the requests page links to the CSV with its filter.
source "$(dirname "$0")/lib.sh"
pf=$PEERFLOW_BIN
tmp=$(mktemp -d /tmp/pf-lists-csv-test.XXXXXX)
serve_pid=
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fresh_db peerflow_lists_csv || { echo "cannot create the database"; exit 1; }

q() { "$pf" "$@" >/dev/null || { echo "set-up failed: $*"; exit 1; }; }
q network add --asn 64700 --name 'Alpha "A", Inc.' --policy selective --contact noc@a.example
q network add --asn 64701 --name "Beta Net" --policy selective --contact noc@b.example
q network add --asn 64702 --name "Gamma Net" --policy selective --contact noc@c.example
q switch add --name s1 --dpid 00000000000000b1
q port add --network 64700 --switch s1 --ofport 1 --name a-t --mode trunk --speed 10000
q port add --network 64701 --switch s1 --ofport 2 --name b-t --mode trunk --speed 10000
q port add --network 64702 --switch s1 --ofport 3 --name c-t --mode trunk --speed 10000
pw=lists-csv-password
for u in "admin@a.example --network 64700 --role admin" \
         "admin@c.example --network 64702 --role admin"; do
  # shellcheck disable=SC2086
  echo "$pw" | "$pf" user add --email $u --password-stdin >/dev/null || { echo "user $u"; exit 1; }
done
tok_a=$("$pf" token create --email admin@a.example --name t)
tok_c=$("$pf" token create --email admin@c.example --name t)

# 1203 requests A -> B on VLANs 1..1203 (straight into the table: the
# triggers still check ports and claim the endpoints), one C -> B
sql "INSERT INTO peering_requests (requester_network_id, requester_port_id, requester_vlan,
       peer_network_id)
     SELECT a.id, p.id, v, b.id FROM networks a JOIN ports p ON p.network_id = a.id AND p.name = 'a-t',
       networks b, generate_series(1, 1203) v WHERE a.asn = 64700 AND b.asn = 64701 ORDER BY v" >/dev/null ||
  { echo "seeding requests failed"; exit 1; }
sql "INSERT INTO peering_requests (requester_network_id, requester_port_id, requester_vlan,
       peer_network_id)
     SELECT c.id, p.id, 7, b.id FROM networks c JOIN ports p ON p.network_id = c.id, networks b
     WHERE c.asn = 64702 AND b.asn = 64701" >/dev/null || { echo "seeding C failed"; exit 1; }
sql "UPDATE peering_requests SET state = 'cancelled', closed_at = now()
     WHERE requester_vlan IN (10, 20, 30) AND requester_network_id = (SELECT id FROM networks WHERE asn = 64700)" >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
export PEERFLOW_KEY_DIR=$tmp/keys PEERFLOW_BASE_URL=$base
"$pf" serve --listen "127.0.0.1:$port" --no-workers >"$tmp/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done

get() { curl -s -D "$tmp/headers" -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $1" "$base$2"; }
# csv COLUMN...: the body's rows (header skipped) as "a|b|..." of those columns, parsed by Python's csv
csv() { python3 - "$tmp/body" "$@" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline='')))
for r in rows:
    print("|".join(r[c] for c in sys.argv[2:]))
PY
}

expect_eq "A's CSV" 200 "$(get "$tok_a" /api/v1/requests.csv)"
expect_ok "text/csv" grep -qi '^content-type: text/csv' "$tmp/headers"
expect_eq "the header" "id,state,requester_asn,requester_network,requester_port,requester_vlan,peer_asn,peer_network,peer_port,peer_vlan,created_at,updated_at" \
  "$(head -1 "$tmp/body" | tr -d '\r')"
all_a=$(sql "SELECT string_agg(id::text, ' ' ORDER BY id DESC) FROM peering_requests WHERE requester_network_id = (SELECT id FROM networks WHERE asn = 64700)")
expect_eq "every one of A's 1203 requests, once, newest first (past one page of 1000)" "$all_a" \
  "$(csv id | tr '\n' ' ' | sed 's/ $//')"
expect_eq "the quoted name reads back whole" 'Alpha "A", Inc.' "$(csv requester_network | sort -u)"
expect_ok "RFC 4180 quoting on the wire" grep -q '"Alpha ""A"", Inc."' "$tmp/body"
first=$(echo "$all_a" | cut -d' ' -f1)
expect_eq "a row: the newest" "$first|pending|64700|a-t|1203|64701|Beta Net||" \
  "$(csv id state requester_asn requester_port requester_vlan peer_asn peer_network peer_port peer_vlan | head -1)"
expect_ok "times are ISO 8601" bash -c "python3 - '$tmp/body' <<'PY'
import csv, sys, datetime
for r in csv.DictReader(open(sys.argv[1], newline='')):
    datetime.datetime.fromisoformat(r['created_at'])
PY"

expect_eq "filtered by state" 200 "$(get "$tok_a" '/api/v1/requests.csv?state=cancelled')"
expect_eq "only the cancelled ones" "30 cancelled
20 cancelled
10 cancelled" "$(csv requester_vlan state | tr '|' ' ')"
expect_ok "the file name says the filter" grep -qi 'filename="peerflow-requests-cancelled.csv"' "$tmp/headers"

below=$(echo "$all_a" | cut -d' ' -f3)
expect_eq "?before=" 200 "$(get "$tok_a" "/api/v1/requests.csv?before=$below")"
expect_eq "starts below that id" "$(echo "$all_a" | cut -d' ' -f4)" "$(csv id | head -1)"
expect_eq "and runs to the oldest" 1200 "$(csv id | wc -l)"
expect_eq "a bad ?before" 422 "$(get "$tok_a" '/api/v1/requests.csv?before=x')"

expect_eq "C's CSV" 200 "$(get "$tok_c" /api/v1/requests.csv)"
expect_eq "C sees only its own request" "64702|7" "$(csv requester_asn requester_vlan)"
expect_eq "without a token" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/requests.csv")"

# the page links to it (a browser session: log in through the form)
jar=$tmp/jar
curl -s -c "$jar" -b "$jar" -o "$tmp/login.html" "$base/login"
csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$tmp/login.html" | head -1)
curl -s -c "$jar" -b "$jar" -o /dev/null --data-urlencode "email=admin@a.example" \
  --data-urlencode "password=$pw" --data-urlencode "csrf=$csrf" "$base/login"
curl -s -b "$jar" -o "$tmp/list.html" "$base/requests?state=cancelled"
expect_ok "the list page links to its CSV with the filter" \
  grep -q 'id="requests-csv" href="/requests.csv?state=cancelled"' "$tmp/list.html"
code=$(curl -s -b "$jar" -D "$tmp/headers" -o "$tmp/body" -w '%{http_code}' "$base/requests.csv?state=cancelled")
expect_eq "the page's CSV" 200 "$code"
expect_ok "downloads as an attachment" grep -qi 'content-disposition: attachment' "$tmp/headers"
expect_eq "with the same rows" 3 "$(csv id | wc -l)"
finish
