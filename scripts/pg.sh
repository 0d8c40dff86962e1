#!/usr/bin/env bash
# A private PostgreSQL 15 cluster for peerflow: initdb in a directory of
# ours, a unix socket in DIR/run, 127.0.0.1 on a free port, and, when we are
# root, an unprivileged OS user (PostgreSQL refuses to run as root).
#
#   scripts/pg.sh start DIR [--fast]   create on first use, start, create db
#   scripts/pg.sh stop DIR             stop (the data stays)
#   scripts/pg.sh destroy DIR          stop and remove DIR
#   scripts/pg.sh env DIR              print shell exports for the cluster
#
# --fast turns off fsync: for throwaway test clusters only.
# Superuser: peerflow (runs migrations). Application role: peerflow_app
# (created by the first migration). Database: peerflow.
set -euo pipefail

PG_USER_OS=peerflow-pg
BINDIR=$(pg_config --bindir)

die() { echo "pg.sh: $*" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$PG_USER_OS" -- "$@"
  else
    "$@"
  fi
}

ensure_os_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  id "$PG_USER_OS" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER_OS"
}

free_port() {
  python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
PY
}

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: pg.sh start|stop|destroy|env DIR [--fast]"
shift 2
fast=0
for a in "$@"; do
  case "$a" in
    --fast) fast=1 ;;
    *) die "unknown option $a" ;;
  esac
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

print_env() {
  local port; port=$(cat "$dir/port")
  echo "export PEERFLOW_PG_DIR='$dir'"
  echo "export PEERFLOW_PG_PORT='$port'"
  echo "export PEERFLOW_DATABASE_URL='host=$dir/run port=$port dbname=peerflow user=peerflow_app'"
  echo "export PEERFLOW_WORKER_DATABASE_URL='host=$dir/run port=$port dbname=peerflow user=peerflow_worker'"
  echo "export PEERFLOW_MIGRATE_DATABASE_URL='host=$dir/run port=$port dbname=peerflow user=peerflow'"
}

is_running() {
  [ -f "$dir/data/postmaster.pid" ] && as_pg "$BINDIR/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

case "$cmd" in
  start)
    ensure_os_user
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      mkdir -p "$dir/data" "$dir/run" "$dir/log"
      [ "$(id -u)" -eq 0 ] && chown -R "$PG_USER_OS" "$dir"
      as_pg "$BINDIR/initdb" -D "$dir/data" -U peerflow --auth=trust -E UTF8 \
        --locale=C.UTF-8 >"$dir/log/initdb.log" 2>&1 ||
        die "initdb failed, see $dir/log/initdb.log"
    fi
    [ "$(id -u)" -eq 0 ] && chown -R "$PG_USER_OS" "$dir"
    if is_running; then
      print_env; exit 0
    fi
    # the port stays the cluster's across restarts: clients that outlive a
    # restart (serve, the workers) reconnect to the same address
    port=$(cat "$dir/port" 2>/dev/null || true)
    [ -n "$port" ] || { port=$(free_port); echo "$port" >"$dir/port"; }
    opts="-k $dir/run -p $port -c listen_addresses=127.0.0.1 -c max_connections=200"
    if [ "$fast" -eq 1 ]; then
      opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    as_pg "$BINDIR/pg_ctl" -D "$dir/data" -l "$dir/log/postgres.log" -o "$opts" -w -t 60 start \
      >/dev/null || die "PostgreSQL did not start, see $dir/log/postgres.log"
    if ! "$BINDIR/psql" -h "$dir/run" -p "$port" -U peerflow -d postgres -Atqc \
         "SELECT 1 FROM pg_database WHERE datname='peerflow'" | grep -q 1; then
      "$BINDIR/createdb" -h "$dir/run" -p "$port" -U peerflow peerflow
    fi
    print_env
    ;;
  stop)
    if is_running; then
      as_pg "$BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    ;;
  destroy)
    if is_running; then
      as_pg "$BINDIR/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  env)
    [ -f "$dir/port" ] || die "no cluster in $dir (run: pg.sh start $dir)"
    print_env
    ;;
  *) die "unknown command $cmd (start|stop|destroy|env)" ;;
esac
