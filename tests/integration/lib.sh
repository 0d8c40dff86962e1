# Shared helpers for integration test scripts (sourced).
# Needs PEERFLOW_TEST_PG_HOST, PEERFLOW_TEST_PG_PORT, PEERFLOW_BIN (tests/run.sh sets them).
set -uo pipefail

PSQL=$(pg_config --bindir)/psql
CHECKS_PASSED=0
CHECKS_FAILED=0

# fresh_db NAME: creates an empty database, migrates it, and exports
# PEERFLOW_DATABASE_URL (application role), PEERFLOW_WORKER_DATABASE_URL
# (workers and the CLI) and PEERFLOW_MIGRATE_DATABASE_URL (owner) for it.
fresh_db() {
  local name=$1
  "$PSQL" -h "$PEERFLOW_TEST_PG_HOST" -p "$PEERFLOW_TEST_PG_PORT" -U peerflow -d postgres -qAtc \
    "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null || return 1
  export PEERFLOW_DATABASE_URL="host=$PEERFLOW_TEST_PG_HOST port=$PEERFLOW_TEST_PG_PORT dbname=$name user=peerflow_app"
  export PEERFLOW_WORKER_DATABASE_URL="host=$PEERFLOW_TEST_PG_HOST port=$PEERFLOW_TEST_PG_PORT dbname=$name user=peerflow_worker"
  export PEERFLOW_MIGRATE_DATABASE_URL="host=$PEERFLOW_TEST_PG_HOST port=$PEERFLOW_TEST_PG_PORT dbname=$name user=peerflow"
  "$PEERFLOW_BIN" migrate >/dev/null
}

# sql QUERY: runs QUERY as the owner (bypasses RLS), prints unaligned rows.
sql() {
  "$PSQL" "$PEERFLOW_MIGRATE_DATABASE_URL" -qAtX -v ON_ERROR_STOP=1 -c "$1"
}

pass() { CHECKS_PASSED=$((CHECKS_PASSED + 1)); }
fail() { CHECKS_FAILED=$((CHECKS_FAILED + 1)); echo "FAIL: $*"; }

# expect_ok DESC CMD...: CMD must exit 0.
expect_ok() {
  local desc=$1; shift
  local out
  if out=$("$@" 2>&1); then pass; else fail "$desc: exit $? — $out"; fi
}

# expect_error DESC PATTERN CMD...: CMD must exit non-zero, print exactly
# one line on stderr, nothing on stdout, and that line must match PATTERN.
expect_error() {
  local desc=$1 pattern=$2; shift 2
  local out err rc
  out=$("$@" 2>/tmp/pf_err.$$); rc=$?
  err=$(cat /tmp/pf_err.$$); rm -f /tmp/pf_err.$$
  if [ "$rc" -eq 0 ]; then fail "$desc: exited 0 (stdout: $out)"; return; fi
  if [ -n "$out" ]; then fail "$desc: printed on stdout: $out"; return; fi
  if [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then fail "$desc: not one line on stderr: $err"; return; fi
  if ! printf '%s' "$err" | grep -qE -- "$pattern"; then fail "$desc: '$err' does not match /$pattern/"; return; fi
  pass
}

# expect_eq DESC WANT GOT
expect_eq() {
  if [ "$2" = "$3" ]; then pass; else fail "$1: want '$2', got '$3'"; fi
}

finish() {
  echo "$CHECKS_PASSED passed, $CHECKS_FAILED failed"
  [ "$CHECKS_FAILED" -eq 0 ]
}
