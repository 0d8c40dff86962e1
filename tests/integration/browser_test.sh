#!/usr/bin/env bash
# Browser test of the web forms (tests/browser/new_request.mjs): the real
# server, a fresh database with the demo data, headless Chromium.
source "$(dirname "$0")/lib.sh"
root=$PEERFLOW_ROOT
fresh_db peerflow_browser || { echo "cannot create the database"; exit 1; }
PEERFLOW_BIN=$PEERFLOW_BIN bash "$root/scripts/demo-seed.sh" >/dev/null || { echo "seed failed"; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
"$PEERFLOW_BIN" serve --listen "127.0.0.1:$port" --no-workers >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.2
done
shots=$root/build/screenshots
mkdir -p "$shots"
cd "$root/tests/browser" || exit 1
if node new_request.mjs "http://127.0.0.1:$port" "$shots"; then
  exit 0
fi
echo "--- server log"; tail -n 30 "$log"
exit 1
