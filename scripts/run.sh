#!/usr/bin/env bash
# make run: a private PostgreSQL under var/pg (kept between runs), schema
# migrated, demo data seeded once, then `peerflow serve` in the foreground.
# Ctrl-C (or `make stop` from another shell) stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
mkdir -p var
bash scripts/pg.sh start var/pg >/dev/null
eval "$(bash scripts/pg.sh env var/pg)"
export PEERFLOW_LISTEN=${PEERFLOW_LISTEN:-127.0.0.1:8080}
export PEERFLOW_BASE_URL=${PEERFLOW_BASE_URL:-http://$PEERFLOW_LISTEN}
export PEERFLOW_MAIL_FROM=${PEERFLOW_MAIL_FROM:-peerflow@ix.example}
export PEERFLOW_SMTP_URL=${PEERFLOW_SMTP_URL:-file:$root/var/mail}
export PEERFLOW_KEY_DIR=${PEERFLOW_KEY_DIR:-$root/var/keys}
export PEERFLOW_FABRIC_DIR=$(bash scripts/demo-fabric.sh start)

stop_all() {
  trap - EXIT INT TERM
  [ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  bash scripts/demo-bgp.sh stop
  bash scripts/demo-fabric.sh stop
  bash scripts/pg.sh stop var/pg
  rm -f var/serve.pid
  echo "peerflow: stopped"
}
trap stop_all EXIT INT TERM HUP

build/peerflow migrate
bash scripts/demo-seed.sh

cat <<MSG

  peerflow is running.
    web          $PEERFLOW_BASE_URL   (health: $PEERFLOW_BASE_URL/healthz)
    database     psql "$PEERFLOW_MIGRATE_DATABASE_URL"
    demo logins  op@ix.example, admin@alpha.example, eng@alpha.example,
                 admin@beta.example, admin@gamma.example, view@gamma.example
                 password: peerflow-demo
    demo mail    ${PEERFLOW_SMTP_URL#file:}/*.eml  (open the /t/... link of an
                 approval_needed mail to decide as that network's contact)
    fabric       ovs-ofctl -O OpenFlow13 dump-flows unix:${PEERFLOW_FABRIC_DIR:-var/fabric}/s1.mgmt
    ping         ip netns exec pfdemo-alpha-1 ping 10.0.0.2   (alpha-1 -> beta-1 once request 1 is active)
    bgp          sudo bash scripts/demo-bgp.sh  (BIRD in alpha-1 and beta-1 with request 1's generated
                   configs: the session Established over the circuit; needs bird2)
    try          PEERFLOW_WORKER_DATABASE_URL='$PEERFLOW_WORKER_DATABASE_URL' \\
                   build/peerflow report open_requests --format csv
  Ctrl-C or 'make stop' stops it.

MSG
build/peerflow serve &
serve_pid=$!
echo "$serve_pid" > var/serve.pid
wait "$serve_pid" || true
