#!/usr/bin/env bash
# The configuration layers through the (sanitizer) binary of the tree:
# --config and PEERFLOW_CONFIG, flag > environment > file, config check's
# sources and masking, migrate --check, and serve's JSON event lines.
source "$(dirname "$0")/lib.sh"
P=$PEERFLOW_BIN
tmp=$(mktemp -d /tmp/pf-config-test.XXXXXX)
srv_pid=
cleanup() {
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

fresh_db pf_config_test || { echo "cannot create the database"; exit 1; }
conf=$tmp/peerflow.conf
{
  echo "database_url = $PEERFLOW_DATABASE_URL"
  echo "worker_database_url = $PEERFLOW_WORKER_DATABASE_URL"
  echo "migrate_database_url = $PEERFLOW_MIGRATE_DATABASE_URL"
  echo "listen = 127.0.0.1:0"
  echo "mail_from = ops@ix.example"
  echo "log_format = json"
} >"$conf"
chmod 600 "$conf"
unset PEERFLOW_DATABASE_URL PEERFLOW_WORKER_DATABASE_URL PEERFLOW_MIGRATE_DATABASE_URL

expect_eq "--version" "peerflow $(sed -n '1s/^peerflow (\([^)]*\)).*/\1/p' "$PEERFLOW_ROOT/debian/changelog")" "$("$P" --version)"
out=$("$P" --config "$conf" migrate --check)
expect_eq "migrate --check on a migrated database" 0 $?
expect_eq "it says so" 1 "$(grep -c 'schema matches' <<<"$out")"

out=$(PEERFLOW_MAIL_FROM=env@ix.example "$P" --config="$conf" config check)
expect_eq "config check" 0 $?
expect_eq "the environment over the file" 1 "$(grep -cE '^mail_from +env@ix.example +environment PEERFLOW_MAIL_FROM$' <<<"$out")"
expect_eq "the file's line" 1 "$(grep -cE "^log_format +json +file $conf:6$" <<<"$out")"
out=$(PEERFLOW_CONFIG=$conf "$P" --database-url "dbname=x password=hush" config check)
expect_eq "the flag over the file, masked" 1 \
  "$(grep -cE '^worker_database_url +dbname=x password=\*\*\*\*\* +flag --database-url$' <<<"$out")"
expect_eq "no password printed" 0 "$(grep -c hush <<<"$out")"

expect_error "config without check" "usage: peerflow config check" "$P" --config "$conf" config
# a problem: the table still, then one line per problem, exit 2
PEERFLOW_MAX_OPEN_REQUESTS=lots PEERFLOW_STATIC_DIR=$tmp/none "$P" --config "$conf" config check \
  >"$tmp/check.out" 2>"$tmp/check.err"
expect_eq "config check with problems exits 2" 2 $?
expect_eq "the bad limit said" 1 "$(grep -c '^peerflow: config: PEERFLOW_MAX_OPEN_REQUESTS must be a whole number' "$tmp/check.err")"
expect_eq "the missing directory said" 1 "$(grep -c "^peerflow: config: static_dir: $tmp/none is not a directory$" "$tmp/check.err")"
expect_eq "two problems" 2 "$(wc -l <"$tmp/check.err")"
expect_eq "no 'configuration ok'" 0 "$(grep -c 'configuration ok' "$tmp/check.out")"
expect_error "a bad log format" "log_format must be text or json, not 'xml'" \
  env PEERFLOW_LOG_FORMAT=xml "$P" --config "$conf" migrate --check

# a database without the schema: --check refuses (exit 4), creates nothing else
"$PSQL" -h "$PEERFLOW_TEST_PG_HOST" -p "$PEERFLOW_TEST_PG_PORT" -U peerflow -d postgres -qAtc \
  "DROP DATABASE IF EXISTS pf_config_empty" -c "CREATE DATABASE pf_config_empty" >/dev/null
empty="host=$PEERFLOW_TEST_PG_HOST port=$PEERFLOW_TEST_PG_PORT dbname=pf_config_empty user=peerflow"
n_migrations=$(ls "$PEERFLOW_ROOT"/migrations/*.sql | wc -l)
expect_error "migrate --check on an empty database" "$n_migrations pending, 0 changed or unknown \(first: 0001_core.sql\)" \
  "$P" --database-url "$empty" migrate --check
"$P" --database-url "$empty" migrate --check 2>/dev/null
expect_eq "exit 4" 4 $?

# serve's event lines as JSON
"$P" --config "$conf" serve --no-workers >"$tmp/out" 2>"$tmp/err" &
srv_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(jq -r 'select(.msg | startswith("serving on")) | .msg' "$tmp/out" 2>/dev/null | sed -n 's/.*(port \([0-9]*\)).*/\1/p')
  [ -n "$port" ] && break
  sleep 0.1
done
expect_eq "serve logs its start in JSON" yes "$([ -n "$port" ] && echo yes)"
[ -n "$port" ] && curl -s -o /dev/null "http://127.0.0.1:$port/nothing-here"
kill "$srv_pid"; wait "$srv_pid"; srv_pid=
expect_eq "every line is JSON" 0 "$(jq -e . "$tmp/out" >/dev/null 2>&1; echo $?)"
expect_eq "the access log line" 1 \
  "$(jq -r 'select(.component == "web") | .msg' "$tmp/out" | grep -c '^127.0.0.1 GET /nothing-here 404 ')"
expect_eq "stopping, as JSON" 1 "$(jq -r 'select(.level == "info" and .component == "peerflow") | .msg' "$tmp/out" | grep -cx stopping)"
finish
