#!/usr/bin/env bash
# The CLI contract (PRODUCT.md, "Interfaces"): every command exits 0 on good
# input; on bad input it exits non-zero with the documented status (2 bad
# input, 3 not found, 4 conflict, 1 forbidden), prints exactly one line
# "peerflow: <message>" on stderr and nothing on stdout, and writes nothing:
# a fingerprint of the row counts of every table the commands touch (plus
# the states and versions of the requests) is the same before and after.
#
# Run by tests/run.sh, or by hand with PEERFLOW_TEST_PG_HOST,
# PEERFLOW_TEST_PG_PORT and PEERFLOW_BIN set (see tests/run.sh).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
source "$here/lib.sh"

P=$PEERFLOW_BIN
# The CLI must not depend on who runs it or where.
unset PEERFLOW_BASE_URL PEERFLOW_SMTP_URL PEERFLOW_KEY_DIR

if ! PGOPTIONS="-c client_min_messages=warning" fresh_db peerflow_cli_test; then
  echo "FAIL: cannot create and migrate the test database"
  echo "0 passed, 1 failed"
  exit 1
fi

RC_FILE=$(mktemp)
trap 'rm -f "$RC_FILE"' EXIT

# One row, one query: what a failed command must leave untouched.
FINGERPRINT_SQL="SELECT concat_ws(' ',
  'networks=' || (SELECT count(*) FROM networks),
  'users=' || (SELECT count(*) FROM users),
  'switches=' || (SELECT count(*) FROM switches),
  'links=' || (SELECT count(*) FROM links),
  'ports=' || (SELECT count(*) FROM ports),
  'requests=' || (SELECT count(*) FROM peering_requests),
  'approvals=' || (SELECT count(*) FROM approvals),
  'outbox=' || (SELECT count(*) FROM outbox),
  'jobs=' || (SELECT count(*) FROM jobs),
  'audit=' || (SELECT count(*) FROM audit_events),
  'api_tokens=' || (SELECT count(*) FROM api_tokens),
  'approval_tokens=' || (SELECT count(*) FROM approval_tokens),
  'endpoints=' || (SELECT count(*) FROM request_endpoints),
  'port_uses=' || (SELECT count(*) FROM switch_port_uses),
  'states=' || coalesce((SELECT string_agg(id || ':' || state || ':v' || version, ',' ORDER BY id)
                         FROM peering_requests), '-'))"
fingerprint() { sql "$FINGERPRINT_SQL"; }

# rc_of CMD...: runs CMD and records its exit status in $RC_FILE (it runs
# inside expect_error's command substitution, so a variable would be lost).
rc_of() {
  "$@"
  local rc=$?
  echo "$rc" >"$RC_FILE"
  return "$rc"
}

# ok DESC CMD...: CMD must exit 0.
ok() { expect_ok "$@"; }

# bad DESC STATUS REGEX CMD...: CMD must fail with exit status STATUS (an
# extended regex over the status, e.g. 2 or "2|3"), print one line
# "peerflow: ..." matching REGEX on stderr and nothing on stdout, and leave
# the fingerprint unchanged. Three checks.
bad() {
  local desc=$1 want=$2 re=$3
  shift 3
  local before after rc
  before=$(fingerprint)
  echo "?" >"$RC_FILE"
  expect_error "$desc" "^peerflow: .*($re)" rc_of "$@"
  rc=$(cat "$RC_FILE")
  if [[ $rc =~ ^($want)$ ]]; then pass; else fail "$desc: exit status $rc, want $want"; fi
  after=$(fingerprint)
  expect_eq "$desc: wrote nothing" "$before" "$after"
}

# xs N: N times the letter x (over-long names and messages).
xs() { head -c "$1" /dev/zero | tr '\0' x; }

# request_field ID COLUMN: one column of a request, as the owner sees it.
request_field() { sql "SELECT $2 FROM peering_requests WHERE id = $1"; }

# submit ID_VAR ARGS...: request submit that must succeed; stores the new id.
submit() {
  local var=$1 desc=$2 out
  shift 2
  if out=$("$P" request submit "$@" 2>&1) && [[ $out =~ ^request\ ([0-9]+)\ submitted$ ]]; then
    pass
    printf -v "$var" '%s' "${BASH_REMATCH[1]}"
  else
    fail "$desc: $out"
    printf -v "$var" '%s' 0
  fi
}

# ================================================================= world

ok "help" "$P" help
ok "migrate --status" "$P" migrate --status
expect_eq "migrate --status lists every migration as applied" \
  "$(ls "$PEERFLOW_ROOT"/migrations/*.sql | wc -l)" "$("$P" migrate --status | grep -c applied)"

ok "network Alpha" "$P" network add --asn 64500 --name Alpha \
  --contact noc@alpha.example --contact peering@alpha.example
ok "network Beta (open)" "$P" network add --asn AS64501 --name Beta --policy open \
  --contact noc@beta.example
ok "network Gamma (open, auto-approve)" "$P" network add --asn=64502 --name Gamma \
  --policy open --auto-approve --contact=peering@gamma.example
ok "network Delta (no policy given, no contacts)" "$P" network add --asn 4200000000 --name Delta
expect_eq "contacts are stored" "{noc@alpha.example,peering@alpha.example}" \
  "$(sql "SELECT contacts FROM networks WHERE asn = 64500")"
expect_eq "policies and auto-approve are stored" "selective|f open|f open|t selective|f" \
  "$(sql "SELECT policy, auto_approve FROM networks ORDER BY id" | paste -sd' ')"

ok "switch s1 (tcp endpoint)" "$P" switch add --name s1 --dpid 1 --endpoint tcp:127.0.0.1:6653
ok "switch s2 (unix endpoint)" "$P" switch add --name s2 --dpid 0x2 --endpoint unix:/run/ovs/s2.mgmt
ok "switch s3 (no endpoint)" "$P" switch add --name s3 --dpid 00:00:00:00:00:00:00:03
expect_eq "datapath ids are normalised to 16 hex digits" \
  "0000000000000001 0000000000000002 0000000000000003" \
  "$(sql "SELECT dpid FROM switches ORDER BY name" | paste -sd' ')"

ok "link s1:10 <-> s2:10" "$P" link add --a s1:10 --b s2:10
ok "link s2:11 <-> s3:11" "$P" link add --a s2:11 --b s3:11

ok "port a1 (access)" "$P" port add --network 64500 --switch s1 --ofport 1 --name a1
ok "port a-trunk (trunk)" "$P" port add --network 64500 --switch s1 --ofport 2 --name a-trunk \
  --mode trunk --speed 10000
ok "port b1 (access)" "$P" port add --network 64501 --switch s2 --ofport 1 --name b1 --mode access
ok "port b-trunk (trunk)" "$P" port add --network 64501 --switch s3 --ofport 1 --name Ethernet1/1 \
  --mode trunk
ok "port g1" "$P" port add --network 64502 --switch s3 --ofport 2 --name g1

ok "user admin@alpha (with password)" "$P" user add --email admin@alpha.example --network 64500 \
  --role admin --password-stdin <<<"correct horse battery"
ok "user eng@alpha" "$P" user add --email eng@alpha.example --network 64500 --role engineer
ok "user view@alpha" "$P" user add --email view@alpha.example --network 64500 --role viewer
ok "user admin@beta" "$P" user add --email admin@beta.example --network 64501 --role admin
ok "user eng@beta" "$P" user add --email eng@beta.example --network 64501 --role engineer
ok "user admin@gamma" "$P" user add --email admin@gamma.example --network 64502 --role admin
ok "operator" "$P" user add --email ops@ix.example --operator
expect_eq "the password is stored as an Argon2id hash only" "t|f" \
  "$(sql "SELECT password_hash LIKE '\$argon2id\$%', password_hash LIKE '%horse%'
          FROM users WHERE email = 'admin@alpha.example'" | tr -d '\n')"
expect_eq "an operator has no network" "operator|" \
  "$(sql "SELECT role || '|' || coalesce(network_id::text, '') FROM users WHERE email = 'ops@ix.example'")"

submit R1 "admin submits a-trunk VLAN 100 to Beta" \
  --as admin@alpha.example --port a-trunk --vlan 100 --peer-asn 64501 --message "hello Beta"
expect_eq "R1 is pending" pending "$(request_field "$R1" state)"

# ======================================================== bad input: networks

for asn in 0 23456 65535 4294967295 4294967296 -1 abc 1.5; do
  bad "network add --asn $asn" 2 "(ASN|AS number).*$asn" \
    "$P" network add --asn "$asn" --name "Net$asn"
done
bad "duplicate network ASN" 4 "ASN.*already" "$P" network add --asn 64500 --name Other
bad "duplicate network ASN (AS prefix)" 4 "ASN.*already" "$P" network add --asn AS64500 --name Other
bad "duplicate network name, other case" 4 "name.*already" "$P" network add --asn 64510 --name ALPHA
bad "auto-approve without open policy" 2 "auto-approve.*open" \
  "$P" network add --asn 64510 --name Epsilon --auto-approve
bad "auto-approve with selective policy" 2 "auto-approve.*open" \
  "$P" network add --asn 64510 --name Epsilon --policy selective --auto-approve
bad "bad policy" 2 "policy.*open.*selective.*restrictive.*no.*maybe" \
  "$P" network add --asn 64510 --name Epsilon --policy maybe
bad "malformed contact email" 2 "not-an-email.*not an email" \
  "$P" network add --asn 64510 --name Epsilon --contact noc@epsilon.example --contact not-an-email
bad "contact email without a domain dot" 2 "not an email" \
  "$P" network add --asn 64510 --name Epsilon --contact noc@localhost
nine_contacts=()
for i in 1 2 3 4 5 6 7 8 9; do nine_contacts+=(--contact "c$i@epsilon.example"); done
bad "nine contacts" 2 "at most 8" "$P" network add --asn 64510 --name Epsilon "${nine_contacts[@]}"
bad "network name over 100 characters" 2 "1 to 100 characters" \
  "$P" network add --asn 64510 --name "$(xs 101)"
bad "network add without --name" 2 "--name is required" "$P" network add --asn 64510
bad "network add without --asn" 2 "--asn is required" "$P" network add --name Epsilon
bad "network add --name without value" 2 "--name needs a value" "$P" network add --asn 64510 --name
bad "network add --auto-approve=yes" 2 "--auto-approve takes no value" \
  "$P" network add --asn 64510 --name Epsilon --policy open --auto-approve=yes
bad "network add --asn twice" 2 "--asn is given twice" \
  "$P" network add --asn 64510 --asn 64511 --name Epsilon
bad "network add unknown option" 2 "unknown option --color" \
  "$P" network add --asn 64510 --name Epsilon --color blue
bad "network add stray argument" 2 "unexpected argument 'extra'" \
  "$P" network add --asn 64510 --name Epsilon extra
bad "network without verb" 2 "usage: peerflow network add" "$P" network
bad "network remove (unknown verb)" 2 "usage: peerflow network add" "$P" network remove --asn 64500

# =========================================================== bad input: users

bad "user add malformed email" 2 "not an email" \
  "$P" user add --email not-an-email --network 64500 --role viewer
bad "user add email with two @" 2 "not an email" \
  "$P" user add --email a@b@alpha.example --network 64500 --role viewer
bad "duplicate user email, other case" 4 "email.*already" \
  "$P" user add --email ADMIN@Alpha.Example --network 64500 --role viewer
bad "user with --operator and --role" 2 "operator.*role|not both" \
  "$P" user add --email x@alpha.example --operator --role admin
# --operator with --network must be refused like --operator with --role (the
# workflow says "an operator belongs to no network: drop --network"), not
# silently turned into an exchange-wide operator.
bad "user with --operator and --network" 2 "operator.*network|network.*operator" \
  "$P" user add --email y@alpha.example --operator --network 64500
bad "user without --network and --role" 2 "--network .*required" \
  "$P" user add --email x@alpha.example
bad "user without --role" 2 "--role .*required" \
  "$P" user add --email x@alpha.example --network 64500
bad "user without --network" 2 "--network .*required" \
  "$P" user add --email x@alpha.example --role engineer
bad "user add without --email" 2 "--email is required" \
  "$P" user add --network 64500 --role engineer
bad "user with bad role" 2 "role.*admin.*engineer.*viewer.*boss" \
  "$P" user add --email x@alpha.example --network 64500 --role boss
bad "user of unregistered network" 3 "no network with ASN 65000" \
  "$P" user add --email x@alpha.example --network 65000 --role viewer
bad "user of reserved ASN" 2 "ASN 23456" \
  "$P" user add --email x@alpha.example --network 23456 --role viewer
bad "weak password (9 characters)" 2 "password.*10" \
  "$P" user add --email x@alpha.example --network 64500 --role viewer --password-stdin <<<"123456789"
bad "weak password (empty line)" 2 "password.*10" \
  "$P" user add --email x@alpha.example --network 64500 --role viewer --password-stdin <<<""
bad "--password-stdin with nothing on stdin" 2 "password|standard input" \
  "$P" user add --email x@alpha.example --network 64500 --role viewer --password-stdin </dev/null

# ======================================================== bad input: switches

bad "duplicate switch name" 4 "switch.*name.*already" "$P" switch add --name s1 --dpid 99
bad "duplicate dpid (0x1 = 1)" 4 "datapath id already" "$P" switch add --name s9 --dpid 0x1
bad "duplicate dpid (colon form)" 4 "datapath id already" \
  "$P" switch add --name s9 --dpid 00:00:00:00:00:00:00:02
bad "duplicate dpid (leading zeros)" 4 "datapath id already" \
  "$P" switch add --name s9 --dpid 0000000000000003
bad "dpid not hex" 2 "datapath id.*hex" "$P" switch add --name s9 --dpid xyz
bad "dpid of 17 digits" 2 "datapath id.*hex" "$P" switch add --name s9 --dpid 12345678901234567
bad "dpid 0x alone" 2 "datapath id.*hex" "$P" switch add --name s9 --dpid 0x
for ep in tcp:host ftp:x tcp:host:0 tcp:host:65536 tcp::6653 unix:relative/path unix:; do
  bad "endpoint $ep" 2 "endpoint must be tcp:HOST:PORT" \
    "$P" switch add --name s9 --dpid 9 --endpoint "$ep"
done
# a pinned TLS certificate (issue 13): a fingerprint is 64 hex digits, a
# --cert file must hold a PEM certificate, and only one of the two
bad "cert fingerprint too short" 2 "64 hex digits" \
  "$P" switch add --name s9 --dpid 9 --cert-fingerprint 12:ab
bad "cert fingerprint not hex" 2 "64 hex digits" \
  "$P" switch add --name s9 --dpid 9 --cert-fingerprint "$(printf 'zz%.0s' $(seq 32))"
bad "cert file missing" 2 "cannot open /nonexistent.pem" \
  "$P" switch add --name s9 --dpid 9 --cert /nonexistent.pem
bad "cert file not PEM" 2 "no PEM certificate" \
  "$P" switch add --name s9 --dpid 9 --cert /etc/hostname
bad "cert and fingerprint" 2 "not both" \
  "$P" switch add --name s9 --dpid 9 --cert /etc/hostname --cert-fingerprint ab
bad "switch name with a space" 2 "name must be" "$P" switch add --name "s 9" --dpid 9
bad "switch add without --dpid" 2 "--dpid is required" "$P" switch add --name s9
bad "switch add without --name" 2 "--name is required" "$P" switch add --dpid 9

# =========================================================== bad input: links

bad "link to an unknown switch" 3 "no switch named 'nosuch'" "$P" link add --a s1:11 --b nosuch:1
bad "link loop" 2 "two different switches" "$P" link add --a s1:11 --b s1:12
bad "link on a member port" 4 "already used" "$P" link add --a s1:1 --b s3:12
bad "link on another link's port" 4 "already used" "$P" link add --a s1:11 --b s2:10
bad "malformed --a (no port)" 2 "--a must be SWITCH:PORT" "$P" link add --a s1 --b s3:12
bad "malformed --a (no switch)" 2 "--a must be SWITCH:PORT" "$P" link add --a :1 --b s3:12
bad "malformed --a (port not a number)" 2 "port in --a" "$P" link add --a s1:x --b s3:12
bad "malformed --b (port 0)" 2 "port in --b" "$P" link add --a s1:11 --b s3:0
bad "link add without --b" 2 "--b is required" "$P" link add --a s1:11

# =========================================================== bad input: ports

bad "port of unregistered network" 3 "no network with ASN 65000" \
  "$P" port add --network 65000 --switch s1 --ofport 5 --name x1
bad "port of reserved ASN" 2 "ASN 65535" \
  "$P" port add --network 65535 --switch s1 --ofport 5 --name x1
bad "port on unknown switch" 3 "no switch named 'nosuch'" \
  "$P" port add --network 64501 --switch nosuch --ofport 5 --name b2
bad "ofport taken by another port" 4 "already used on this switch" \
  "$P" port add --network 64501 --switch s1 --ofport 1 --name b2
bad "ofport taken by a link end" 4 "already used on this switch" \
  "$P" port add --network 64501 --switch s2 --ofport 10 --name b2
bad "duplicate port name in a network" 4 "already has a port" \
  "$P" port add --network 64501 --switch s1 --ofport 5 --name b1
bad "bad mode" 2 "mode must be one of access, trunk" \
  "$P" port add --network 64501 --switch s1 --ofport 5 --name b2 --mode hybrid
bad "ofport 0" 2 "ofport must be 1\.\." \
  "$P" port add --network 64501 --switch s1 --ofport 0 --name b2
bad "ofport not a number" 2 "ofport must be a whole number" \
  "$P" port add --network 64501 --switch s1 --ofport abc --name b2
bad "ofport above OFPP_MAX" 2 "ofport must be 1\.\.4294967040" \
  "$P" port add --network 64501 --switch s1 --ofport 4294967041 --name b2
bad "speed 0" 2 "speed must be" \
  "$P" port add --network 64501 --switch s1 --ofport 5 --name b2 --speed 0
bad "port name with a space" 2 "name must be" \
  "$P" port add --network 64501 --switch s1 --ofport 5 --name "b 2"
bad "port add without --ofport" 2 "--ofport is required" \
  "$P" port add --network 64501 --switch s1 --name b2
bad "port add without --network" 2 "--network is required" \
  "$P" port add --switch s1 --ofport 5 --name b2
bad "port add without --switch" 2 "--switch is required" \
  "$P" port add --network 64501 --ofport 5 --name b2
bad "port add without --name" 2 "--name is required" \
  "$P" port add --network 64501 --switch s1 --ofport 5
bad "port add --ofport twice" 2 "--ofport is given twice" \
  "$P" port add --network 64501 --switch s1 --ofport 5 --ofport 6 --name b2

# ========================================================= bad input: submit

A=(--as admin@alpha.example)
for v in 0 4095 -1 99999; do
  bad "submit VLAN $v" 2 "VLAN $v is out of range: use 1\.\.4094" \
    "$P" request submit "${A[@]}" --port a-trunk --peer-asn 64501 --vlan "$v"
done
bad "submit VLAN abc" 2 "vlan.*'abc'" \
  "$P" request submit "${A[@]}" --port a-trunk --peer-asn 64501 --vlan abc
bad "submit peer VLAN 4095" 2 "VLAN 4095 is out of range: use 1\.\.4094" \
  "$P" request submit "${A[@]}" --port a1 --peer-asn 64501 --peer-port Ethernet1/1 --peer-vlan 4095
bad "VLAN on an access port" 2 "access port.*no VLAN" \
  "$P" request submit "${A[@]}" --port a1 --peer-asn 64501 --vlan 100
bad "no VLAN on a trunk port" 2 "trunk.*VLAN" \
  "$P" request submit "${A[@]}" --port a-trunk --peer-asn 64501
bad "VLAN already used on the trunk by a live request" 4 "already used by another live request" \
  "$P" request submit "${A[@]}" --port a-trunk --peer-asn 64502 --vlan 100
bad "port of another network" 2 "no port named 'b1'" \
  "$P" request submit "${A[@]}" --port b1 --peer-asn 64501
bad "unknown own port" 2 "no port named 'nosuch'" \
  "$P" request submit "${A[@]}" --port nosuch --peer-asn 64501
bad "peer is self" 2 "own network" \
  "$P" request submit "${A[@]}" --port a1 --peer-asn 64500
bad "peer ASN unregistered" "2|3" "no network with ASN 65000" \
  "$P" request submit "${A[@]}" --port a1 --peer-asn 65000
for asn in 0 23456 65535 4294967295 abc; do
  bad "peer ASN $asn" 2 "(ASN|AS number).*$asn" \
    "$P" request submit "${A[@]}" --port a1 --peer-asn "$asn"
done
bad "unknown peer port" 2 "no port named 'nosuch'" \
  "$P" request submit "${A[@]}" --port a1 --peer-asn 64501 --peer-port nosuch
bad "peer port of a third network" 2 "no port named 'g1'" \
  "$P" request submit "${A[@]}" --port a1 --peer-asn 64501 --peer-port g1
bad "peer VLAN without peer port" 2 "peer.vlan needs peer.port" \
  "$P" request submit "${A[@]}" --port a1 --peer-asn 64501 --peer-vlan 5
bad "VLAN on the peer's access port" 2 "access port.*no VLAN" \
  "$P" request submit "${A[@]}" --port a1 --peer-asn 64501 --peer-port b1 --peer-vlan 5
bad "bandwidth 0" 2 "bandwidth" \
  "$P" request submit "${A[@]}" --port a1 --peer-asn 64501 --bandwidth 0
bad "message over 2000 characters" 2 "message.*2000" \
  "$P" request submit "${A[@]}" --port a1 --peer-asn 64501 --message "$(xs 2001)"
bad "viewer submitting" 1 "viewer may not submit" \
  "$P" request submit --as view@alpha.example --port a1 --peer-asn 64501
bad "operator submitting" 1 "operator may not submit" \
  "$P" request submit --as ops@ix.example --port a1 --peer-asn 64501
bad "submit as unknown user" 3 "no user with email nobody@alpha.example" \
  "$P" request submit --as nobody@alpha.example --port a1 --peer-asn 64501
bad "submit without --as" 2 "--as is required" "$P" request submit --port a1 --peer-asn 64501
bad "submit without --port" 2 "--port is required" \
  "$P" request submit "${A[@]}" --peer-asn 64501
bad "submit without --peer-asn" 2 "--peer-asn is required" \
  "$P" request submit "${A[@]}" --port a1
bad "submit --vlan twice" 2 "--vlan is given twice" \
  "$P" request submit "${A[@]}" --port a-trunk --peer-asn 64501 --vlan 5 --vlan 6
bad "submit unknown option" 2 "unknown option --priority" \
  "$P" request submit "${A[@]}" --port a1 --peer-asn 64501 --priority high

# ============================================ good: auto-approve, VLAN reuse

submit R_AUTO "admin to an auto-approving network" "${A[@]}" --port a1 --peer-asn 64502
expect_eq "auto-approved request is approved at once" approved "$(request_field "$R_AUTO" state)"
expect_eq "auto-approval recorded as auto-policy" "requester:cli peer:auto-policy" \
  "$(sql "SELECT side || ':' || via FROM approvals WHERE request_id = $R_AUTO ORDER BY side DESC" | paste -sd' ')"
expect_eq "approval enqueues one provisioning job" 1 \
  "$(sql "SELECT count(*) FROM jobs WHERE request_id = $R_AUTO AND kind = 'provision'")"
bad "access port already used by a live request" 4 "already used by another live request" \
  "$P" request submit "${A[@]}" --port a1 --peer-asn 64501

# ================================================================ decisions

E=(--as eng@alpha.example)
submit R2 "engineer submits a-trunk VLAN 200 to Beta" "${E[@]}" --port a-trunk --vlan 200 \
  --peer-asn 64501
bad "engineer approving" 1 "engineer may not approve" "$P" request approve "$R2" --as eng@beta.example --port b1
bad "viewer approving" 1 "viewer may not approve" "$P" request approve "$R2" --as view@alpha.example
bad "third network approving" 3 "no request $R2" "$P" request approve "$R2" --as admin@gamma.example
bad "peer approving with another network's port" 2 "no port named 'a1'" \
  "$P" request approve "$R2" --as admin@beta.example --port a1
bad "peer approving with VLAN on access port" 2 "access port.*no VLAN" \
  "$P" request approve "$R2" --as admin@beta.example --port b1 --vlan 7
bad "peer approving trunk port without VLAN" 2 "trunk.*VLAN" \
  "$P" request approve "$R2" --as admin@beta.example --port Ethernet1/1
bad "peer with two ports must choose one" 2 "several ports.*choose" \
  "$P" request approve "$R2" --as admin@beta.example
bad "approve VLAN 4095" 2 "VLAN 4095 is out of range: use 1\.\.4094" \
  "$P" request approve "$R2" --as admin@beta.example --port Ethernet1/1 --vlan 4095
ok "peer admin approves with port b1" "$P" request approve "$R2" --as admin@beta.example --port b1
expect_eq "R2 still pending (requester has not approved)" pending "$(request_field "$R2" state)"
bad "approving twice" 4 "already decided" "$P" request approve "$R2" --as admin@beta.example --port b1
bad "rejecting after approving" 4 "already decided" "$P" request reject "$R2" --as admin@beta.example
bad "stale --version" 4 "changed since you loaded it" \
  "$P" request approve "$R2" --as admin@alpha.example --version 1
ok "requester admin approves with current --version" \
  "$P" request approve "$R2" --as admin@alpha.example --version "$(request_field "$R2" version)"
expect_eq "R2 approved by both sides" approved "$(request_field "$R2" state)"
bad "cancel after approval" 4 "cannot cancel a request that is approved" \
  "$P" request cancel "$R2" --as eng@alpha.example
bad "approve an approved request" 4 "approve a request that is approved" \
  "$P" request approve "$R2" --as admin@alpha.example

submit R3 "engineer submits a-trunk VLAN 300 to Beta" "${E[@]}" --port a-trunk --vlan 300 \
  --peer-asn 64501
bad "cancel by the peer side" 1 "only the requesting network may cancel" \
  "$P" request cancel "$R3" --as admin@beta.example
bad "cancel by a viewer" 1 "viewer may not cancel" "$P" request cancel "$R3" --as view@alpha.example
ok "requester engineer cancels" "$P" request cancel "$R3" --as eng@alpha.example --reason "wrong VLAN"
expect_eq "R3 cancelled" cancelled "$(request_field "$R3" state)"
bad "approve after cancel" 4 "cancelled and closed" \
  "$P" request approve "$R3" --as admin@beta.example --port Ethernet1/1 --vlan 300
bad "cancel after cancel" 4 "cancelled and closed" "$P" request cancel "$R3" --as eng@alpha.example
bad "decommission a cancelled request" 4 "cancelled and closed" \
  "$P" request decommission "$R3" --as admin@alpha.example
submit R4 "VLAN 300 is free again once its request is closed" "${E[@]}" --port a-trunk --vlan 300 \
  --peer-asn 64501
ok "peer rejects R4" "$P" request reject "$R4" --as admin@beta.example --reason "not today"
expect_eq "R4 rejected" rejected "$(request_field "$R4" state)"

submit R5 "engineer submits a-trunk VLAN 400 to Beta" "${E[@]}" --port a-trunk --vlan 400 \
  --peer-asn 64501
bad "operator approving" 1 "operator may not approve" "$P" request approve "$R5" --as ops@ix.example
bad "operator cancelling" 1 "operator may not cancel" "$P" request cancel "$R5" --as ops@ix.example
bad "viewer rejecting" 1 "viewer may not reject" "$P" request reject "$R5" --as view@alpha.example
bad "engineer rejecting" 1 "engineer may not reject" "$P" request reject "$R5" --as eng@beta.example
bad "decommission a pending request" 4 "cannot decommission a request that is pending" \
  "$P" request decommission "$R5" --as eng@alpha.example
bad "reason over 2000 characters" 2 "reason.*2000" \
  "$P" request reject "$R5" --as admin@beta.example --reason "$(xs 2001)"
expect_eq "R5 still pending, version 1" "pending|1" \
  "$(sql "SELECT state, version FROM peering_requests WHERE id = $R5")"

ok "peer admin approves R1 on its trunk" \
  "$P" request approve "$R1" --as admin@beta.example --port Ethernet1/1 --vlan 100
expect_eq "R1 approved (requester approved by submitting)" approved "$(request_field "$R1" state)"

bad "decide on a missing request" 3 "no request 999999" \
  "$P" request approve 999999 --as admin@beta.example
bad "decide without ID" 2 "usage: peerflow request approve ID" \
  "$P" request approve --as admin@beta.example
bad "decide on a non-numeric ID" 2 "ID must be a whole number" \
  "$P" request approve abc --as admin@beta.example
bad "decide without --as" 2 "--as is required" "$P" request approve "$R1"
bad "decide as unknown user" 3 "no user with email" "$P" request approve "$R1" --as nobody@beta.example
bad "decide with --version 0" 2 "version must be" \
  "$P" request approve "$R1" --as admin@beta.example --version 0
bad "unknown request verb" 2 "usage: peerflow request" "$P" request frobnicate 1

# ================================================= listing, reports, misc

ok "request list" "$P" request list
ok "request list --state pending --format json" "$P" request list --state pending --format json
expect_eq "request list --format json lists every request" 6 \
  "$("$P" request list --format json | grep -c '"state"')"
ok "request show" "$P" request show "$R1"
bad "request show of a missing id" 3 "no request 999999" "$P" request show 999999
bad "request show abc" 2 "ID must be a whole number" "$P" request show abc
bad "request show without id" 2 "usage: peerflow request show ID" "$P" request show
bad "request list bad --format" 2 "format must be one of table, json" \
  "$P" request list --format xml
bad "request list bad --state" 2 "unknown state 'bogus'" "$P" request list --state bogus

ok "report list" "$P" report list
reports=$("$P" report list --format csv | tail -n +2 | cut -d, -f1)
expect_eq "report list names at least 7 reports" yes \
  "$([ "$(printf '%s\n' "$reports" | grep -c .)" -ge 7 ] && echo yes || echo no)"
for r in $reports; do
  ok "report $r --format csv" "$P" report "$r" --format csv
  ok "report $r --format json" "$P" report "$r" --format json
done
ok "report request_history --request" "$P" report request_history --request "$R1" --format csv
bad "unknown report name" 3 "no report named 'nosuch'" "$P" report nosuch
bad "report name that is SQL" 3 "no report named" "$P" report 'open_requests; DROP TABLE users'
bad "report bad --format" 2 "format must be one of table, csv, json" \
  "$P" report open_requests --format yaml
bad "report without name" 2 "usage: peerflow report" "$P" report
bad "report --request not a number" 2 "request must be a whole number" \
  "$P" report request_history --request abc

bad "unknown command" 2 "unknown command 'frobnicate'" "$P" frobnicate
bad "unknown global option" 2 "unknown option --verbose" "$P" --verbose network add
bad "audit without verify" 2 "usage: peerflow audit verify" "$P" audit
bad "audit verify extra option" 2 "unknown option --fast" "$P" audit verify --fast

# ================================================================== tokens

bad "token create without --email" 2 "--email is required" "$P" token create
bad "token create for unknown user" 3 "no user with email nobody@alpha.example" \
  "$P" token create --email nobody@alpha.example
bad "token create malformed email" 2 "not an email" "$P" token create --email nobody
bad "token create label over 100 characters" 2 "label.*100" \
  "$P" token create --email admin@alpha.example --name "$(xs 101)"
bad "token without verb" 2 "usage: peerflow token create" "$P" token --email admin@alpha.example

token_out=$("$P" token create --email eng@alpha.example --name ci 2>&1)
expect_eq "token create prints one token line starting pft_" yes \
  "$([[ $token_out =~ ^pft_[A-Za-z0-9_-]{43}$ ]] && echo yes || echo no)"
secret=${token_out#pft_}
expect_eq "one API token stored, with label" "1|ci|32" \
  "$(sql "SELECT count(*) OVER (), name, length(token_hash) FROM api_tokens")"
expect_eq "the token text is not stored in api_tokens" no \
  "$(sql "SELECT * FROM api_tokens" | grep -qF -- "$secret" && echo yes || echo no)"
expect_eq "the token text is not in the audit log" no \
  "$(sql "SELECT * FROM audit_events" | grep -qF -- "$secret" && echo yes || echo no)"
if command -v python3 >/dev/null 2>&1; then
  want_hash=$(python3 -c 'import hashlib,sys; print(hashlib.blake2b(sys.argv[1].encode(), digest_size=32).hexdigest())' "$token_out")
  expect_eq "what is stored is the BLAKE2b hash of the token" "$want_hash" \
    "$(sql "SELECT encode(token_hash, 'hex') FROM api_tokens WHERE name = 'ci'")"
fi
token_out2=$("$P" token create --email eng@alpha.example 2>&1)
expect_eq "each token is new" yes \
  "$([[ $token_out2 =~ ^pft_ && $token_out2 != "$token_out" ]] && echo yes || echo no)"

# ================================================================ accounts

bad "user without verb" 2 "usage: peerflow user add" "$P" user
bad "user frobnicate" 2 "usage: peerflow user add\|disable" "$P" user frobnicate --email eng@alpha.example
bad "user disable without --email" 2 "--email is required" "$P" user disable
bad "user disable of unknown email" 3 "no user with email nobody@alpha.example" \
  "$P" user disable --email nobody@alpha.example
bad "user enable of unknown email" 3 "no user with email nobody@alpha.example" \
  "$P" user enable --email nobody@alpha.example
bad "user disable malformed email" 2 "not an email" "$P" user disable --email not-an-email
bad "user disable takes no password" 2 "unknown option --password-stdin" \
  "$P" user disable --email eng@alpha.example --password-stdin
bad "user disable stray argument" 2 "unexpected argument 'now'" \
  "$P" user disable --email eng@alpha.example now
bad "set-password without --password-stdin" 2 "--password-stdin is required" \
  "$P" user set-password --email admin@alpha.example
bad "set-password too short" 2 "10 to 1024" \
  "$P" user set-password --email admin@alpha.example --password-stdin <<<"short"
bad "set-password nothing on stdin" 2 "nothing could be read" \
  "$P" user set-password --email admin@alpha.example --password-stdin </dev/null
bad "set-password of unknown email" 3 "no user with email nobody@alpha.example" \
  "$P" user set-password --email nobody@alpha.example --password-stdin <<<"a-long-enough-one"

# a live session of eng@alpha: disabling ends it
sql "INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at)
     SELECT decode(repeat('cd', 32), 'hex'), id, repeat('c', 40), now() + interval '1 hour'
       FROM users WHERE email = 'eng@alpha.example'" >/dev/null
out=$("$P" user disable --email ENG@alpha.example 2>&1)
expect_eq "user disable exits 0 and says so" "0 yes" "$? $([[ $out =~ disabled ]] && echo yes || echo "no: $out")"
expect_eq "eng@alpha is disabled, sessions gone, tokens kept (refused while disabled)" "t|0|0" \
  "$(sql "SELECT u.disabled, (SELECT count(*) FROM sessions s WHERE s.user_id = u.id),
                (SELECT count(*) FROM api_tokens t WHERE t.user_id = u.id AND t.revoked_at IS NOT NULL)
            FROM users u WHERE email = 'eng@alpha.example'")"
expect_eq "user.disabled audited by the CLI" "1|cli" \
  "$(sql "SELECT count(*), min(actor_kind) FROM audit_events WHERE action = 'user.disabled'")"
ok "user disable twice" "$P" user disable --email eng@alpha.example
ok "user enable" "$P" user enable --email eng@alpha.example
expect_eq "eng@alpha is enabled" "f" "$(sql "SELECT disabled FROM users WHERE email = 'eng@alpha.example'")"
expect_eq "user.enabled audited" "1" "$(sql "SELECT count(*) FROM audit_events WHERE action = 'user.enabled'")"

old_hash=$(sql "SELECT password_hash FROM users WHERE email = 'admin@alpha.example'")
ok "set-password" "$P" user set-password --email admin@alpha.example --password-stdin <<<"a brand new passphrase"
new_hash=$(sql "SELECT password_hash FROM users WHERE email = 'admin@alpha.example'")
expect_eq "set-password stores a new Argon2id hash" "yes" \
  "$([[ $new_hash == '$argon2id$'* && $new_hash != "$old_hash" ]] && echo yes || echo no)"
expect_eq "user.password_set audited, without the password" "1|0" \
  "$(sql "SELECT count(*) FILTER (WHERE action = 'user.password_set'),
                count(*) FILTER (WHERE audit_events::text LIKE '%brand new passphrase%'
                                    OR audit_events::text LIKE '%argon2id%')
            FROM audit_events")"

# =================================================================== audit

audit_out=$("$P" audit verify 2>&1)
audit_rc=$?
expect_eq "audit verify exits 0" 0 "$audit_rc"
expect_eq "audit verify prints OK" yes \
  "$([[ $audit_out =~ ^audit\ log\ OK ]] && echo yes || echo "no: $audit_out")"

finish
