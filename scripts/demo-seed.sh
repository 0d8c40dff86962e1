#!/usr/bin/env bash
# Seeds the demo exchange once (does nothing when networks exist):
# an operator, three member networks with users, two switches joined by a
# link, member ports, and a few requests in different states so the
# reports have something to show. Uses only the peerflow CLI, so every
# step is validated and audited like an operator's.
# Needs PEERFLOW_DATABASE_URL; PEERFLOW_BIN defaults to build/peerflow.
set -euo pipefail
pf=${PEERFLOW_BIN:-build/peerflow}
psql_bin=$(pg_config --bindir)/psql

n=$("$psql_bin" "$PEERFLOW_MIGRATE_DATABASE_URL" -qAtc "SELECT count(*) FROM networks")
# The demo fabric (scripts/demo-fabric.sh) may live in a new directory:
# point the seeded switches at its controller sockets.
if [ "$n" != "0" ] && [ -n "${PEERFLOW_FABRIC_DIR:-}" ]; then
  for s in s1 s2; do
    "$psql_bin" "$PEERFLOW_MIGRATE_DATABASE_URL" -qAtc \
      "UPDATE switches SET endpoint = 'unix:$PEERFLOW_FABRIC_DIR/$s.sock' WHERE name = '$s'" >/dev/null
  done
fi
if [ "$n" != "0" ]; then
  echo "demo: already seeded ($n networks)"
  exit 0
fi

q() { "$pf" "$@" >/dev/null; }
q network add --asn 64500 --name "Alpha Networks" --policy selective --contact noc@alpha.example
q network add --asn 64501 --name "Beta Broadband" --policy open --auto-approve --contact peering@beta.example
q network add --asn 64502 --name "Gamma Transit" --policy restrictive --contact peering@gamma.example
fab=${PEERFLOW_FABRIC_DIR:+unix:$PEERFLOW_FABRIC_DIR}
q switch add --name s1 --dpid 0000000000000001 ${fab:+--endpoint "$fab/s1.sock"}
q switch add --name s2 --dpid 0000000000000002 ${fab:+--endpoint "$fab/s2.sock"}
q link add --a s1:10 --b s2:10
q port add --network 64500 --switch s1 --ofport 1 --name alpha-1 --speed 10000
q port add --network 64500 --switch s1 --ofport 2 --name alpha-trunk --mode trunk --speed 100000
q port add --network 64501 --switch s2 --ofport 1 --name beta-1 --speed 10000
q port add --network 64502 --switch s2 --ofport 2 --name gamma-1 --speed 10000
q port add --network 64502 --switch s2 --ofport 3 --name gamma-trunk --mode trunk --speed 100000

# Layer 3 (docs/bgp.md): address pools for the circuits' BGP sessions and
# each network's routing facts, before the requests so that request 1,
# approved at once, gets its /31 and /127 (scripts/demo-bgp.sh runs BIRD on it)
q pool add --cidr 100.64.0.0/16
q pool add --cidr 2001:db8:100::/48
q network set --asn 64500 --max-prefix4 100 --max-prefix6 50 --irr-as-set AS-ALPHA
q network set --asn 64501 --max-prefix4 500 --max-prefix6 100 --irr-as-set AS-BETA
q network set --asn 64502 --max-prefix4 1000 --max-prefix6 200
q network prefix add --asn 64500 --cidr 198.51.100.0/24
q network prefix add --asn 64500 --cidr 2001:db8:a::/48
q network prefix add --asn 64501 --cidr 203.0.113.0/24
q network prefix add --asn 64501 --cidr 2001:db8:b::/48
q network prefix add --asn 64502 --cidr 192.0.2.0/24
q network prefix add --asn 64502 --cidr 2001:db8:c::/48

pw=peerflow-demo
for u in "op@ix.example --operator" \
         "admin@alpha.example --network 64500 --role admin" \
         "eng@alpha.example --network 64500 --role engineer" \
         "admin@beta.example --network 64501 --role admin" \
         "admin@gamma.example --network 64502 --role admin" \
         "view@gamma.example --network 64502 --role viewer"; do
  # shellcheck disable=SC2086
  echo "$pw" | "$pf" user add --email $u --password-stdin >/dev/null
done

# Requests: approved at once (Beta auto-approves; capped), pending on Gamma,
# rejected by Gamma, and one waiting on both sides.
# request 1 is capped at 100 Mbit/s: its circuit gets a meter on each
# edge switch (docs/fabric.md, "Bandwidth caps")
q request submit --as admin@alpha.example --port alpha-1 --peer-asn 64501 --bandwidth 100 --bgp-md5 --message "Hello Beta, let's peer"
q request submit --as admin@alpha.example --port alpha-trunk --vlan 100 --peer-asn 64502 --message "Transit trial"
q request submit --as admin@alpha.example --port alpha-trunk --vlan 200 --peer-asn 64502
q request reject 3 --as admin@gamma.example --reason "restrictive policy: no new peers this quarter"
q request submit --as eng@alpha.example --port alpha-trunk --vlan 300 --peer-asn 64502
echo "demo: seeded 3 networks, 2 switches, 5 ports, 6 users, 2 address pools, 6 prefixes, 4 requests"
