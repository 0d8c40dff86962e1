#!/usr/bin/env bash
# Changes of a live circuit over real HTTP (curl against `peerflow serve`,
# docs/lifecycle.md "Changes of a live circuit"): ask with the API, the
# other side decides with the API and with the page's form (session cookie
# and CSRF), strict fields, 409 for a circuit that is not active, the
# signed link decides the change. The circuit is made active by the
# provisioner's transitions written by hand (no fabric here; the meter side
# is tests/integration/test_provision.c and tests/e2e/change_test.sh).
source "$(dirname "$0")/lib.sh"
pf=$PEERFLOW_BIN
tmp=$(mktemp -d /tmp/pf-changes-test.XXXXXX)
serve_pid=
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fresh_db peerflow_changes || { echo "cannot create the database"; exit 1; }
export PEERFLOW_KEY_DIR=$tmp/keys

q() { "$pf" "$@" >/dev/null || { echo "set-up failed: $*"; exit 1; }; }
q network add --asn 64500 --name "Alpha" --contact noc@alpha.example
q network add --asn 64501 --name "Beta" --contact noc@beta.example
q switch add --name s1 --dpid 00000000000000a1
q port add --network 64500 --switch s1 --ofport 1 --name a1
q port add --network 64500 --switch s1 --ofport 3 --name a2
q port add --network 64501 --switch s1 --ofport 2 --name b1
q port add --network 64501 --switch s1 --ofport 4 --name b2
pw=changes-test-password
for u in "admin@alpha.example --network 64500 --role admin" \
         "eng@beta.example --network 64501 --role engineer" \
         "admin@beta.example --network 64501 --role admin"; do
  # shellcheck disable=SC2086
  echo "$pw" | "$pf" user add --email $u --password-stdin >/dev/null || { echo "user $u"; exit 1; }
done
tok_a=$("$pf" token create --email admin@alpha.example --name t)
tok_be=$("$pf" token create --email eng@beta.example --name t)
tok_b=$("$pf" token create --email admin@beta.example --name t)
"$pf" keys rotate >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
export PEERFLOW_BASE_URL=$base PEERFLOW_MAIL_FROM=peerflow@ix.example
"$pf" serve --listen "127.0.0.1:$port" --no-workers >"$tmp/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done

post() {
  curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' --data-binary "$3" "$base$2"
}
body() { jq -r "$1" <"$tmp/body"; }
# a capped request A(a1) -> B(b1), approved by both, made active by hand
active() {
  post "$tok_a" /api/v1/requests "{\"port\": \"$1\", \"peer_asn\": 64501, \"bandwidth_mbps\": 100}" >/dev/null
  local id; id=$(body .id)
  post "$tok_b" "/api/v1/requests/$id/approve" "{\"port\": \"$2\"}" >/dev/null
  sql "UPDATE peering_requests SET state = 'provisioning' WHERE id = $id;
       UPDATE peering_requests SET state = 'active' WHERE id = $id" >/dev/null
  echo "$id"
}

# ------------------------------------------------------------ the API
post "$tok_a" /api/v1/requests '{"port": "a2", "peer_asn": 64501, "bandwidth_mbps": 100}' >/dev/null
pending=$(body .id)
expect_eq "a pending request cannot change: 409" 409 "$(post "$tok_a" "/api/v1/requests/$pending/modify" '{"bandwidth_mbps": 200}')"
expect_eq "  ... not_active" not_active "$(body .error.code)"
post "$tok_a" "/api/v1/requests/$pending/cancel" '{}' >/dev/null

id=$(active a1 b1)
expect_eq "an unknown field: 422" 422 "$(post "$tok_a" "/api/v1/requests/$id/modify" '{"bandwidth": 200}')"
expect_eq "  ... named" bandwidth "$(body .error.field)"
expect_eq "no bandwidth: 422" 422 "$(post "$tok_a" "/api/v1/requests/$id/modify" '{}')"
expect_eq "an engineer cannot ask: 403" 403 "$(post "$tok_be" "/api/v1/requests/$id/modify" '{"bandwidth_mbps": 200}')"
expect_eq "A asks for 200 Mbit/s" 201 "$(post "$tok_a" "/api/v1/requests/$id/modify" '{"bandwidth_mbps": 200}')"
change=$(body .open_change.id)
expect_eq "  ... pending, A may withdraw, not decide" "pending true false active" \
  "$(body '[.open_change.state, .open_change.can_cancel, .open_change.can_decide, .state] | map(tostring) | join(" ")')"
expect_eq "a second change: 409" 409 "$(post "$tok_b" "/api/v1/requests/$id/modify" '{"bandwidth_mbps": 300}')"
expect_eq "  ... change_open" change_open "$(body .error.code)"
expect_eq "A cannot approve its own change: 403" 403 "$(post "$tok_a" "/api/v1/requests/$id/changes/$change/approve" '{}')"
expect_eq "a port is not a field of a change's decision: 422" 422 \
  "$(post "$tok_b" "/api/v1/requests/$id/changes/$change/approve" '{"port": "b1"}')"
expect_eq "an unknown action: 404" 404 "$(post "$tok_b" "/api/v1/requests/$id/changes/$change/apply" '{}')"
expect_eq "B approves" 200 "$(post "$tok_b" "/api/v1/requests/$id/changes/$change/approve" '{"reason": "ok"}')"
expect_eq "  ... approved, the circuit still active at 100" "approved active 100" \
  "$(body '[.open_change.state, .state, .bandwidth_mbps] | map(tostring) | join(" ")')"
expect_eq "one modify job queued" 1 "$(sql "SELECT count(*) FROM jobs WHERE request_id = $id AND kind = 'modify'")"

# ----------------------------------------------- the page form (B's admin)
id2=$(active a2 b2)
post "$tok_a" "/api/v1/requests/$id2/modify" '{"bandwidth_mbps": 50}' >/dev/null
change2=$(body .open_change.id)
jar=$tmp/jar
curl -s -c "$jar" -o "$tmp/login.html" "$base/login"
csrf=$(grep -o 'name="csrf" value="[^"]*"' "$tmp/login.html" | head -1 | sed 's/.*value="//; s/"$//')
curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "csrf=$csrf" \
  --data-urlencode "email=admin@beta.example" --data-urlencode "password=$pw" "$base/login"
curl -s -b "$jar" -o "$tmp/page.html" "$base/requests/$id2"
grep -q 'id="change-approve"' "$tmp/page.html" && pass || fail "B's page has no approve form for the change"
grep -q 'id="modify"' "$tmp/page.html" && fail "B's page offers a new change while one is open" || pass
pcsrf=$(grep -o 'name="csrf" value="[^"]*"' "$tmp/page.html" | head -1 | sed 's/.*value="//; s/"$//')
expect_eq "the form without its CSRF token: 403" 403 \
  "$(curl -s -b "$jar" -o /dev/null -w '%{http_code}' --data-urlencode "reason=x" "$base/requests/$id2/changes/$change2/reject")"
expect_eq "B rejects on the page: redirected" 303 \
  "$(curl -s -b "$jar" -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$pcsrf" --data-urlencode "reason=too little" "$base/requests/$id2/changes/$change2/reject")"
expect_eq "  ... rejected with the reason" "rejected|too little" \
  "$(sql "SELECT state || '|' || reason FROM request_changes WHERE id = $change2")"
curl -s -b "$jar" -o "$tmp/page.html" "$base/requests/$id2"
grep -q 'id="modify"' "$tmp/page.html" && pass || fail "B's page offers no change form once none is open"

# ------------------------------------------------------- the signed link
post "$tok_b" "/api/v1/requests/$id2/modify" '{"bandwidth_mbps": 150}' >/dev/null
change3=$(body .open_change.id)
expect_eq "A's contact is mailed a link for the change" 1 \
  "$(sql "SELECT count(*) FROM outbox o JOIN approval_tokens t ON t.id = o.token_id WHERE o.kind = 'change_needed' AND t.change_id = $change3 AND o.recipients = '{noc@alpha.example}'")"
PEERFLOW_SMTP_URL=file:$tmp/mail "$pf" worker --only mailer >"$tmp/mailer.log" 2>&1 &
mailer=$!
link=
for _ in $(seq 150); do
  link=$(/usr/bin/python3 - "$tmp/mail" <<'EOF'
import email, email.policy, os, re, sys
root = sys.argv[1]
# the newest change_needed message (files are numbered in delivery order)
names = [n for n in (os.listdir(root) if os.path.isdir(root) else []) if ".change_needed." in n]
for name in sorted(names, key=lambda n: int(n.split("-")[0]), reverse=True)[:1]:
    with open(os.path.join(root, name), "rb") as f:
        m = email.message_from_binary_file(f, policy=email.policy.default)
    found = re.search(r"https?://\S+/t/[A-Za-z0-9_-]+", m.get_body(preferencelist=("plain",)).get_content())
    if found:
        print(found.group(0))
EOF
)
  [ -n "$link" ] && break
  sleep 0.2
done
kill "$mailer" 2>/dev/null; wait "$mailer" 2>/dev/null
[ -n "$link" ] && pass || fail "no link delivered for the change"
curl -s -c "$tmp/jar2" -o "$tmp/link.html" "$link"
grep -q "from <strong>100 Mbit/s</strong> to <strong>150 Mbit/s</strong>" "$tmp/link.html" && pass || fail "the link page does not say what the change is"
curl -s -b "$tmp/jar2" -o /dev/null --data-urlencode "decision=approve" "$link"
expect_eq "the link approved the change, not the request" "approved|active" \
  "$(sql "SELECT c.state || '|' || r.state FROM request_changes c JOIN peering_requests r ON r.id = c.request_id WHERE c.id = $change3")"
finish
