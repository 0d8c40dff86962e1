#!/usr/bin/env bash
# Strict input over real HTTP (curl against `peerflow serve`): every body is
# checked against the fields its handler declares. An unknown field is 422
# {"error": {"code": "unknown_field", "field": NAME, ...}} and nothing in the
# database changes; the declared fields still work. Also the peer's ports
# without a limit of 8: an approval naming no port lists all of them, and
# the approval link offers all of them.
source "$(dirname "$0")/lib.sh"
pf=$PEERFLOW_BIN
tmp=$(mktemp -d /tmp/pf-input-test.XXXXXX)
serve_pid=
mailer_pid=
cleanup() {
  [ -n "$mailer_pid" ] && kill "$mailer_pid" 2>/dev/null && wait "$mailer_pid" 2>/dev/null
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fresh_db peerflow_input || { echo "cannot create the database"; exit 1; }

q() { "$pf" "$@" >/dev/null || { echo "set-up failed: $*"; exit 1; }; }
q network add --asn 64600 --name "Req Net" --policy open --contact noc@req.example
q network add --asn 64601 --name "Peer Net" --policy selective --contact noc@peer.example
q network add --asn 64602 --name "Many Net" --policy selective --contact noc@many.example
q switch add --name s1 --dpid 00000000000000a1
q port add --network 64600 --switch s1 --ofport 1 --name req-t --mode trunk --speed 10000
q port add --network 64601 --switch s1 --ofport 2 --name peer-t --mode trunk --speed 10000
for i in 01 02 03 04 05 06 07 08 09 10 11; do
  mode=access; [ "$i" = 11 ] && mode=trunk
  q port add --network 64602 --switch s1 --ofport $((20 + 10#$i)) --name "m-$i" --mode $mode --speed 1000
done
pw=input-test-password
for u in "admin@req.example --network 64600 --role admin" \
         "admin@peer.example --network 64601 --role admin" \
         "admin@many.example --network 64602 --role admin" \
         "op@ix.example --operator"; do
  # shellcheck disable=SC2086
  echo "$pw" | "$pf" user add --email $u --password-stdin >/dev/null || { echo "user $u"; exit 1; }
done
tok_req=$("$pf" token create --email admin@req.example --name t)
tok_peer=$("$pf" token create --email admin@peer.example --name t)
tok_many=$("$pf" token create --email admin@many.example --name t)
tok_op=$("$pf" token create --email op@ix.example --name t)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
export PEERFLOW_KEY_DIR=$tmp/keys PEERFLOW_BASE_URL=$base PEERFLOW_MAIL_FROM=peerflow@ix.example
"$pf" keys rotate >/dev/null || { echo "keys rotate failed"; exit 1; }
"$pf" serve --listen "127.0.0.1:$port" --no-workers >"$tmp/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done

# api TOKEN PATH JSON: POSTs JSON, leaves the body in $tmp/body, prints the status
api() {
  curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' --data-binary "$3" "$base$2"
}
body() { jq -r "$1" <"$tmp/body"; }
# everything a refused call must leave as it was
snapshot() {
  sql "SELECT (SELECT count(*) || ':' || coalesce(string_agg(id || '/' || state || '/' || version
                 || '/' || coalesce(peer_port_id, 0) || '/' || coalesce(peer_vlan, 0), ',' ORDER BY id), '')
               FROM peering_requests),
              (SELECT count(*) FROM approvals), (SELECT count(*) FROM audit_events),
              (SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL),
              (SELECT count(*) FROM sessions), (SELECT count(*) FROM approval_tokens WHERE used_at IS NOT NULL)"
}
# refused DESC FIELD STATUS: the last answer was 422 unknown_field naming FIELD
# and the snapshot did not move
refused() {
  expect_eq "$1: status" 422 "$3"
  expect_eq "$1: code" unknown_field "$(body .error.code)"
  expect_eq "$1: field" "$2" "$(body .error.field)"
  case $(body .error.message) in *accepts*) pass ;; *) fail "$1: the message does not say what is accepted: $(cat "$tmp/body")" ;; esac
  expect_eq "$1: nothing changed" "$before" "$(snapshot)"
}
submit() { # submit VLAN PEER_ASN [EXTRA_JSON]: prints the new id
  api "$tok_req" /api/v1/requests "{\"port\": \"req-t\", \"vlan\": $1, \"peer_asn\": $2${3:-}}" >/dev/null
  body .id
}
version_of() { sql "SELECT version FROM peering_requests WHERE id = $1"; }

# ------------------------------------------------------------ submission
before=$(snapshot)
st=$(api "$tok_req" /api/v1/requests '{"port": "req-t", "vlan": 100, "peer_asn": 64601, "peer_port": "peer-t", "peer_vlan_id": 7}')
refused "submission with the typo peer_vlan_id" peer_vlan_id "$st"
st=$(api "$tok_req" /api/v1/requests '{"port": "req-t", "vlan": 100, "peer_asn": 64601, "csrf": "x"}')
refused "an API body with csrf (only page forms send it)" csrf "$st"
id=$(submit 100 64601)
case $id in ''|null) fail "a submission with declared fields only is refused: $(cat "$tmp/body")" ;; *) pass ;; esac

# ------------------------------------------------------------ decisions
v=$(version_of "$id")
before=$(snapshot)
st=$(api "$tok_peer" "/api/v1/requests/$id/reject" "{\"version\": $v, \"port\": \"peer-t\"}")
refused "a port on a reject" port "$st"
st=$(api "$tok_req" "/api/v1/requests/$id/cancel" "{\"version\": $v, \"vlan\": 0}")
refused "a vlan on a cancel" vlan "$st"
st=$(api "$tok_peer" "/api/v1/requests/$id/approve" "{\"version\": $v, \"port\": \"peer-t\", \"vlan\": 9, \"colour\": \"red\"}")
refused "an unknown field on an approve" colour "$st"
st=$(api "$tok_peer" "/api/v1/requests/$id/decommission" "{\"version\": $v, \"vlan\": 9}")
refused "a vlan on a decommission" vlan "$st"
st=$(api "$tok_op" "/api/v1/requests/$id/retry" "{\"version\": $v, \"reason\": \"again\"}")
refused "a reason on a retry" reason "$st"
st=$(api "$tok_peer" "/api/v1/requests/$id/approve" "{\"version\": $v, \"port\": \"peer-t\", \"vlan\": 9, \"reason\": \"ok\"}")
expect_eq "an approve with its declared fields works" 200 "$st"
expect_eq "the peer's port and VLAN are recorded" "peer-t 9" \
  "$(sql "SELECT p.name || ' ' || r.peer_vlan FROM peering_requests r JOIN ports p ON p.id = r.peer_port_id WHERE r.id = $id")"
id2=$(submit 101 64601)
st=$(api "$tok_peer" "/api/v1/requests/$id2/reject" "{\"version\": $(version_of "$id2"), \"reason\": \"no\"}")
expect_eq "a reject with version and reason works" 200 "$st"
expect_eq "and rejects" rejected "$(sql "SELECT state FROM peering_requests WHERE id = $id2")"
id3=$(submit 102 64601)
st=$(api "$tok_req" "/api/v1/requests/$id3/cancel" "{\"version\": $(version_of "$id3")}")
expect_eq "a cancel with its version works" 200 "$st"

# ------------------------------------------------------------ more than 8 ports
idm=$(submit 103 64602)
before=$(snapshot)
st=$(api "$tok_many" "/api/v1/requests/$idm/approve" '{}')
expect_eq "approving without a port, 11 ports: 422" 422 "$st"
expect_eq "... peer_port_required" peer_port_required "$(body .error.code)"
msg=$(body .error.message)
for i in 01 09 10 11; do
  case $msg in *"m-$i"*) pass ;; *) fail "the port list lacks m-$i: $msg" ;; esac
done
case $msg in *"several ports (11: "*) pass ;; *) fail "the message does not count 11 ports: $msg" ;; esac
expect_eq "... nothing changed" "$before" "$(snapshot)"

# ------------------------------------------------------------ page forms
jar=$tmp/jar
curl -s -c "$jar" -b "$jar" -o "$tmp/login.html" "$base/login"
lcsrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$tmp/login.html" | head -n1)
form() { # form PATH DATA: POSTs a form with the cookie jar, prints the status
  curl -s -c "$jar" -b "$jar" -o "$tmp/body" -w '%{http_code}' --data "$2" "$base$1"
}
before=$(snapshot)
st=$(form /login "csrf=$lcsrf&email=admin%40req.example&password=$pw&remember=1")
expect_eq "login with an unknown field: 422" 422 "$st"
grep -q "remember" "$tmp/body" && pass || fail "the login page does not name the unknown field"
expect_eq "login with an unknown field: no session" "$before" "$(snapshot)"
lcsrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$tmp/body" | head -n1)
st=$(form /login "csrf=$lcsrf&email=admin%40req.example&password=$pw")
expect_eq "the login form's own fields log in" 303 "$st"
curl -s -c "$jar" -b "$jar" -o "$tmp/account.html" "$base/account"
csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$tmp/account.html" | head -n1)
[ -n "$csrf" ] && pass || fail "no csrf on the account page"

before=$(snapshot)
st=$(form /account/tokens "csrf=$csrf&name=x&scope=all")
expect_eq "token create with an unknown field: 422" 422 "$st"
expect_eq "... no token" "$before" "$(snapshot)"
tid=$(sql "SELECT id FROM api_tokens WHERE user_id = (SELECT id FROM users WHERE email = 'admin@req.example') AND revoked_at IS NULL ORDER BY id LIMIT 1")
st=$(form "/account/tokens/$tid/revoke" "csrf=$csrf&name=x")
expect_eq "token revoke with an unknown field: 422" 422 "$st"
expect_eq "... not revoked" "$before" "$(snapshot)"
st=$(form /requests "csrf=$csrf&port=req-t&vlan=110&peer_asn=64601&peer_vlan_id=3")
expect_eq "the new-request form with an unknown field: 422" 422 "$st"
grep -q 'id="error"' "$tmp/body" && grep -q peer_vlan_id "$tmp/body" && pass ||
  fail "the form does not show the unknown field's error"
grep -q 'value="110"' "$tmp/body" && pass || fail "the form does not keep the typed VLAN"
expect_eq "... no request" "$before" "$(snapshot)"
st=$(form "/requests/$id3/cancel" "csrf=$csrf&version=1&vlan=0")
expect_eq "a decision form with an unknown field: 422" 422 "$st"
expect_eq "... nothing changed" "$before" "$(snapshot)"
st=$(form /logout "csrf=$csrf&all=1")
expect_eq "logout with an unknown field: 422" 422 "$st"
expect_eq "... still logged in" "$before" "$(snapshot)"
st=$(form /requests "csrf=$csrf&port=req-t&vlan=111&peer_asn=64601&peer_port=&peer_vlan=&bandwidth_mbps=&message=hi")
expect_eq "the new-request form with every field of its template works" 303 "$st"
st=$(form /logout "csrf=$csrf")
expect_eq "logout with its csrf works" 303 "$st"

# ------------------------------------------------------------ the approval link
mkdir -p "$tmp/mail"
PEERFLOW_SMTP_URL=file:$tmp/mail "$pf" worker --only mailer >"$tmp/mailer.log" 2>&1 &
mailer_pid=$!
link=
for _ in $(seq 75); do
  link=$(/usr/bin/python3 - "$tmp/mail" noc@many.example "$idm" <<'EOF'
import email, email.policy, os, re, sys
root, rcpt, rid = sys.argv[1:4]
for name in sorted(os.listdir(root)):
    if not name.endswith(".eml"):
        continue
    with open(os.path.join(root, name), "rb") as f:
        m = email.message_from_binary_file(f, policy=email.policy.default)
    if rcpt in str(m.get("To", "")) and re.search(r"#%s .*needs your decision" % rid, str(m.get("Subject", ""))):
        found = re.search(r"https?://\S+/t/[A-Za-z0-9_-]+", m.get_body(preferencelist=("plain",)).get_content())
        if found:
            print(found.group(0))
            break
EOF
)
  [ -n "$link" ] && break
  sleep 0.2
done
kill "$mailer_pid" 2>/dev/null; wait "$mailer_pid" 2>/dev/null; mailer_pid=
[ -n "$link" ] && pass || fail "no approval link mailed to noc@many.example (mailer: $(tail -n 3 "$tmp/mailer.log"))"
if [ -n "$link" ]; then
  curl -s -o "$tmp/link.html" "$link"
  expect_eq "the link page offers all 11 ports" 11 "$(grep -o '<option value="m-[0-9]*"' "$tmp/link.html" | wc -l)"
  grep -q 'name="vlan"' "$tmp/link.html" && pass || fail "the link page asks no VLAN though m-11 is a trunk"
  before=$(snapshot)
  st=$(curl -s -o "$tmp/body" -w '%{http_code}' --data "decision=approve&port=m-11&vlan=30&token=1" "$link")
  expect_eq "a link POST with an unknown field: 422" 422 "$st"
  grep -q 'unknown_field' "$tmp/body" && pass || fail "the link page does not say unknown_field"
  expect_eq "... nothing changed, the link unused" "$before" "$(snapshot)"
  st=$(curl -s -o "$tmp/body" -w '%{http_code}' --data "decision=approve&port=m-11&vlan=5000" "$link")
  expect_eq "a VLAN out of range: the form again" 422 "$st"
  grep -q 'id="vlan-error"' "$tmp/body" && pass || fail "no error beside the VLAN"
  grep -q 'value="5000"' "$tmp/body" && pass || fail "the typed VLAN is not kept"
  grep -q '<option value="m-11" selected>' "$tmp/body" && pass || fail "the chosen port is not kept"
  grep -q 'checked' "$tmp/body" && fail "a decision is preselected after an error" || pass
  st=$(curl -s -o "$tmp/body" -w '%{http_code}' --data "decision=approve&port=m-11&vlan=30&reason=" "$link")
  expect_eq "the 11th port, by the link: approved" 200 "$st"
  expect_eq "... recorded on the request" "m-11 30" \
    "$(sql "SELECT p.name || ' ' || r.peer_vlan FROM peering_requests r JOIN ports p ON p.id = r.peer_port_id WHERE r.id = $idm")"
fi
grep -E 'AddressSanitizer|runtime error' "$tmp/serve.log" && fail "sanitizer report in the server log"
finish
