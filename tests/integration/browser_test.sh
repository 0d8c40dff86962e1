#!/usr/bin/env bash
# Browser test of the web forms (tests/browser/new_request.mjs), the BGP
# session on the pages (tests/browser/bgp.mjs) and of the
# approval link of a peer whose only port is a trunk
# (tests/browser/link_trunk.mjs): the real server, a fresh database with the
# demo data, headless Chromium.
source "$(dirname "$0")/lib.sh"
root=$PEERFLOW_ROOT
fresh_db peerflow_browser || { echo "cannot create the database"; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
tmp=$(mktemp -d /tmp/pf-browser-test.XXXXXX)
# the key directory first: the demo's request 1 asks for a BGP secret
export PEERFLOW_KEY_DIR=$tmp/keys PEERFLOW_BASE_URL=http://127.0.0.1:$port
PEERFLOW_BIN=$PEERFLOW_BIN bash "$root/scripts/demo-seed.sh" >/dev/null || { echo "seed failed"; exit 1; }
"$PEERFLOW_BIN" keys rotate >/dev/null || { echo "keys rotate failed"; exit 1; }
"$PEERFLOW_BIN" serve --listen "127.0.0.1:$port" --no-workers >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$log" "$tmp"' EXIT
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.2
done
shots=$root/build/screenshots
mkdir -p "$shots"
cd "$root/tests/browser" || exit 1
node new_request.mjs "http://127.0.0.1:$port" "$shots" || { echo "--- server log"; tail -n 30 "$log"; exit 1; }
node bgp.mjs "http://127.0.0.1:$port" "$shots" || { echo "--- server log"; tail -n 30 "$log"; exit 1; }
# request 1 made active as the provisioner would (no fabric here), then changed
sql "UPDATE peering_requests SET state = 'provisioning' WHERE id = 1;
     UPDATE peering_requests SET state = 'active' WHERE id = 1" >/dev/null
node change.mjs "http://127.0.0.1:$port" "$shots" || { echo "--- server log"; tail -n 30 "$log"; exit 1; }
got=$(sql "SELECT c.state || ' ' || c.bandwidth_mbps || ' ' || (SELECT count(*) FROM jobs j WHERE j.request_id = 1 AND j.kind = 'modify') FROM request_changes c WHERE c.request_id = 1")
[ "$got" = "approved 250 1" ] || { echo "the change in the database: '$got'"; exit 1; }
# the form's BGP choices reached the database as chosen (IPv6 off, a secret)
got=$(sql "SELECT bgp_ipv4 || ' ' || bgp_ipv6 || ' ' || bgp_md5 FROM peering_requests WHERE id = (SELECT max(id) FROM peering_requests)")
[ "$got" = "true false true" ] || { echo "the form's BGP choices were stored as '$got'"; exit 1; }

# A peer network whose only port is a trunk; an admin's request to it (so
# the requester side is approved); the mailer writes the link to a file.
pf() { "$PEERFLOW_BIN" "$@" >/dev/null || { echo "set-up failed: $*"; exit 1; }; }
pf network add --asn 64503 --name "Delta Trunking" --policy selective --contact peering@delta.example
pf port add --network 64503 --switch s2 --ofport 9 --name delta-trunk --mode trunk --speed 10000
pf request submit --as admin@alpha.example --port alpha-trunk --vlan 400 --peer-asn 64503
id=$(sql "SELECT max(id) FROM peering_requests")
mkdir -p "$tmp/mail"
PEERFLOW_SMTP_URL=file:$tmp/mail "$PEERFLOW_BIN" worker --only mailer >"$tmp/mailer.log" 2>&1 &
mailer=$!
link=
for _ in $(seq 75); do
  link=$(/usr/bin/python3 - "$tmp/mail" peering@delta.example "$id" <<'EOF'
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
kill "$mailer" 2>/dev/null; wait "$mailer" 2>/dev/null
[ -n "$link" ] || { echo "no approval link mailed to peering@delta.example"; tail -n 5 "$tmp/mailer.log"; exit 1; }
node link_trunk.mjs "$link" "$shots" || { echo "--- server log"; tail -n 30 "$log"; exit 1; }
got=$(sql "SELECT r.state || ' ' || p.name || ' ' || r.peer_vlan || ' ' || a.via || ' ' || a.contact
           FROM peering_requests r JOIN ports p ON p.id = r.peer_port_id
           JOIN approvals a ON a.request_id = r.id AND a.side = 'peer' WHERE r.id = $id")
if [ "$got" != "approved delta-trunk 120 email peering@delta.example" ]; then
  echo "FAIL: request $id after the link: '$got'"
  exit 1
fi
echo "request $id approved by the link on delta-trunk VLAN 120"
