#!/usr/bin/env bash
# The mastership lease's configuration (docs/fabric.md, "Several
# provisioners"): master_lease in the file or PEERFLOW_MASTER_LEASE,
# shown by config check; a bad value stops the provisioner from starting,
# naming the key. (The failover itself: tests/integration/test_mastership.c.)
source "$(dirname "$0")/lib.sh"
P=$PEERFLOW_BIN
tmp=$(mktemp -d /tmp/pf-mastership-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fresh_db pf_mastership_test || { echo "cannot create the database"; exit 1; }
"$P" migrate >/dev/null 2>&1 || { echo "cannot migrate"; exit 1; }
conf=$tmp/peerflow.conf
printf 'master_lease = 7\n' >"$conf"
chmod 600 "$conf"

out=$("$P" --config "$conf" config check 2>&1)
expect_eq "master_lease read from the file" 1 "$(grep -cE "^master_lease +7 +file $conf:1$" <<<"$out")"
out=$(PEERFLOW_MASTER_LEASE=5 "$P" --config "$conf" config check 2>&1)
expect_eq "the environment over the file" 1 \
  "$(grep -cE '^master_lease +5 +environment PEERFLOW_MASTER_LEASE$' <<<"$out")"
# the worker logs that it runs, then the provisioner refuses to start
for bad in 0 301 3s; do
  out=$(PEERFLOW_MASTER_LEASE=$bad timeout 20 "$P" worker --only provisioner 2>&1)
  rc=$?
  expect_eq "master_lease $bad: the worker stops (not killed by timeout)" yes \
    "$([ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && echo yes || echo "no (exit $rc)")"
  expect_eq "master_lease $bad: it says why" 1 \
    "$(grep -c "PEERFLOW_MASTER_LEASE must be a whole number 1..300, not '$bad'" <<<"$out")"
done
finish
