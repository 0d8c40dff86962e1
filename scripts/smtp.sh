#!/usr/bin/env bash
# A local SMTP sink for trying the mailer by hand: Debian's aiosmtpd,
# writing every message it accepts into a Maildir. (The integration tests
# start their own, see tests/integration/test_mail.c.)
#
#   bash scripts/smtp.sh start DIR [PORT]  starts it (default port: a free one),
#                                          prints PEERFLOW_SMTP_URL=smtp://127.0.0.1:PORT?tls=none
#   bash scripts/smtp.sh stop DIR          stops it
#   bash scripts/smtp.sh status DIR        running or not; how many messages
#
# Messages land in DIR/maildir/new. Debian's aiosmtpd belongs to
# /usr/bin/python3, not to another python3 earlier on the PATH.
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '6,9p' "$0" >&2; exit 2; }
pidfile=$dir/smtp.pid

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

case $cmd in
start)
  if running; then echo "PEERFLOW_SMTP_URL=smtp://127.0.0.1:$(cat "$dir/smtp.port")?tls=none"; exit 0; fi
  mkdir -p "$dir"
  port=${3:-$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
  nohup /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox \
    "$dir/maildir" >"$dir/smtp.log" 2>&1 &
  echo $! >"$pidfile"
  echo "$port" >"$dir/smtp.port"
  for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "PEERFLOW_SMTP_URL=smtp://127.0.0.1:$port?tls=none"
      exit 0
    fi
    running || break
    sleep 0.1
  done
  echo "smtp.sh: aiosmtpd did not start (see $dir/smtp.log)" >&2
  exit 1
  ;;
stop)
  if running; then kill "$(cat "$pidfile")"; fi
  rm -f "$pidfile"
  ;;
status)
  if running; then
    echo "running on port $(cat "$dir/smtp.port"), $(ls "$dir/maildir/new" 2>/dev/null | wc -l) messages"
  else
    echo "stopped"; exit 3
  fi
  ;;
*) sed -n '6,9p' "$0" >&2; exit 2 ;;
esac
