#!/usr/bin/env bash
# make stop: stops what `make run` started (serve, the routers of
# scripts/demo-bgp.sh, the fabric, then PostgreSQL).
cd "$(dirname "$0")/.."
if [ -f var/serve.pid ]; then
  kill "$(cat var/serve.pid)" 2>/dev/null || true
  rm -f var/serve.pid
fi
bash scripts/demo-bgp.sh stop    # its BIRDs run in the fabric's namespaces
bash scripts/demo-fabric.sh stop
[ -d var/pg ] && bash scripts/pg.sh stop var/pg
echo "peerflow: stopped"
