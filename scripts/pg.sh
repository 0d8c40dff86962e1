#!/usr/bin/env bash
# A private PostgreSQL 15 cluster for peerflow: initdb in a directory of
# ours, a unix socket in DIR/run, 127.0.0.1 on a free port, and, when we are
# root, an unprivileged OS user (PostgreSQL refuses to run as root).
#
#   scripts/pg.sh start DIR [--fast]   create on first use, start, create db
#   scripts/pg.sh stop DIR             stop (the data stays)
#   scripts/pg.sh destroy DIR          stop and remove DIR
#   scripts/pg.sh env DIR              print shell exports for the cluster
#   scripts/pg.sh replica DIR [--fast] a pair: DIR/primary and DIR/standby,
#                                      streaming, synchronous; prints exports
#                                      with multi-host URLs (read-write host)
#   scripts/pg.sh promote DIR/standby  the standby becomes a primary (what
#                                      Patroni or an operator does on failover)
#
# stop, destroy and env also take a pair's DIR.
#
# --fast turns off fsync: for throwaway test clusters only. In a pair
# synchronous_commit stays on (the standby confirms every commit before
# the client hears of it: that is what makes a failover lose nothing).
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
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: pg.sh start|stop|destroy|env|replica|promote DIR [--fast]"
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

is_pair() { [ -d "$dir/primary" ] && [ -d "$dir/standby" ]; }

# A pair's URLs list both hosts; libpq tries them in order and keeps the
# one that accepts writes, so after a promotion the reconnect finds it.
print_pair_env() {
  local p s pp sp h
  p=$dir/primary; s=$dir/standby; pp=$(cat "$p/port"); sp=$(cat "$s/port")
  h="host=$p/run,$s/run port=$pp,$sp target_session_attrs=read-write dbname=peerflow"
  echo "export PEERFLOW_PG_DIR='$dir'"
  echo "export PEERFLOW_PG_PRIMARY_PORT='$pp'"
  echo "export PEERFLOW_PG_STANDBY_PORT='$sp'"
  echo "export PEERFLOW_DATABASE_URL='$h user=peerflow_app'"
  echo "export PEERFLOW_WORKER_DATABASE_URL='$h user=peerflow_worker'"
  echo "export PEERFLOW_MIGRATE_DATABASE_URL='$h user=peerflow'"
}

print_env() {
  if is_pair; then print_pair_env; return; fi
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
      opts="$opts -c fsync=off -c full_page_writes=off"
      # a member of a pair keeps synchronous_commit=on (see the top)
      [ -f "$dir/pair" ] || opts="$opts -c synchronous_commit=off"
    fi
    as_pg "$BINDIR/pg_ctl" -D "$dir/data" -l "$dir/log/postgres.log" -o "$opts" -w -t 60 start \
      >/dev/null || die "PostgreSQL did not start, see $dir/log/postgres.log"
    if ! "$BINDIR/psql" -h "$dir/run" -p "$port" -U peerflow -d postgres -Atqc \
         "SELECT 1 FROM pg_database WHERE datname='peerflow'" | grep -q 1; then
      "$BINDIR/createdb" -h "$dir/run" -p "$port" -U peerflow peerflow
    fi
    print_env
    ;;
  replica)
    # The primary first, without a synchronous standby (createdb would
    # wait for one), then the standby from a base backup of it, then the
    # primary waits for the standby's confirmation of every commit.
    p=$dir/primary; s=$dir/standby
    if ! is_pair; then
      mkdir -p "$p" "$s"
      touch "$p/pair" "$s/pair"
    fi
    ensure_os_user
    [ "$(id -u)" -eq 0 ] && chown "$PG_USER_OS" "$dir"
    f=(); [ "$fast" -eq 1 ] && f=(--fast)
    bash "$0" start "$p" "${f[@]}" >/dev/null
    pp=$(cat "$p/port")
    if [ ! -f "$s/data/PG_VERSION" ]; then
      mkdir -p "$s/run" "$s/log"
      [ "$(id -u)" -eq 0 ] && chown -R "$PG_USER_OS" "$s"
      # -R writes standby.signal and primary_conninfo; the
      # application_name is the name synchronous_standby_names waits for
      as_pg "$BINDIR/pg_basebackup" -d "host=$p/run port=$pp user=peerflow application_name=peerflow_standby" \
        -D "$s/data" -R -X stream -c fast >"$s/log/basebackup.log" 2>&1 ||
        die "pg_basebackup failed, see $s/log/basebackup.log"
    fi
    bash "$0" start "$s" "${f[@]}" >/dev/null
    "$BINDIR/psql" -h "$p/run" -p "$pp" -U peerflow -d postgres -Atq \
      -c "ALTER SYSTEM SET synchronous_standby_names = 'peerflow_standby'" \
      -c "ALTER SYSTEM SET synchronous_commit = 'on'" -c "SELECT pg_reload_conf()" >/dev/null
    # ready when the primary sees its standby as synchronous
    for _ in $(seq 100); do
      st=$("$BINDIR/psql" -h "$p/run" -p "$pp" -U peerflow -d postgres -Atqc \
        "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'peerflow_standby'")
      [ "$st" = sync ] && break
      sleep 0.1
    done
    [ "$st" = sync ] || die "the standby did not become synchronous (state '$st'), see $s/log/postgres.log"
    print_pair_env
    ;;
  promote)
    is_running || die "no running cluster in $dir"
    [ -f "$dir/data/standby.signal" ] || die "$dir is not a standby"
    as_pg "$BINDIR/pg_ctl" -D "$dir/data" -w -t 60 promote >/dev/null ||
      die "promotion failed, see $dir/log/postgres.log"
    ;;
  stop)
    if is_pair; then
      bash "$0" stop "$dir/primary"; bash "$0" stop "$dir/standby"; exit 0
    fi
    if is_running; then
      as_pg "$BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    ;;
  destroy)
    if is_pair; then
      bash "$0" destroy "$dir/standby"; bash "$0" destroy "$dir/primary"
    fi
    if is_running; then
      as_pg "$BINDIR/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  env)
    is_pair || [ -f "$dir/port" ] || die "no cluster in $dir (run: pg.sh start $dir)"
    print_env
    ;;
  *) die "unknown command $cmd (start|stop|destroy|env|replica|promote)" ;;
esac
