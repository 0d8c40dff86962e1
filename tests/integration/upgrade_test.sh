#!/usr/bin/env bash
# Rolling upgrade, the schema half (issue 17, part 3): the previous
# release's binary keeps working against the new schema (the rule in
# docs/architecture.md, "Migrations: expand, then contract").
#
# "Previous release" = the commit before the newest migration was added
# (git log); its tree is exported (git archive, no worktree) and built
# into build/prev-COMMIT (kept: the next run reuses it). The database is
# migrated by the CURRENT binary (every migration), then the PREVIOUS
# binary, with its own migration set, must pass `migrate --check` and
# serve the API: submit, show, approve, list, reports.
source "$(dirname "$0")/lib.sh"
pf=$PEERFLOW_BIN
root=$PEERFLOW_ROOT
git -C "$root" rev-parse --git-dir >/dev/null 2>&1 ||
  { echo "skipped: not a git checkout (the previous release is built from git)"; exit 77; }
newest=$(git -C "$root" log -1 --format=%H --diff-filter=A -- migrations/)
prev=$(git -C "$root" rev-parse --short=12 "$newest^" 2>/dev/null) ||
  { echo "skipped: no commit before the newest migration"; exit 77; }
old_tree=$root/build/prev-$prev
if [ ! -x "$old_tree/build/peerflow" ]; then
  rm -rf "$old_tree"; mkdir -p "$old_tree"
  git -C "$root" archive "$prev" | tar -x -C "$old_tree" || { echo "FAIL: git archive $prev"; exit 1; }
  make -C "$old_tree" -j2 build/peerflow >"$old_tree/build.log" 2>&1 ||
    { echo "FAIL: the previous release ($prev) does not build: $(tail -5 "$old_tree/build.log")"; exit 1; }
fi
old=$old_tree/build/peerflow
echo "previous release: $prev (before $(git -C "$root" log -1 --format='%h %s' "$newest" | cut -c1-60))"
tmp=$(mktemp -d /tmp/pf-upgrade-test.XXXXXX)
serve_pid=
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

fresh_db peerflow_upgrade || { echo "cannot create the database"; exit 1; } # current binary: all migrations
expect_eq "the new schema has a migration the previous release does not know" yes \
  "$(sql "SELECT CASE WHEN count(*) > $(ls "$old_tree"/migrations/*.sql | wc -l) THEN 'yes' ELSE 'no' END FROM schema_migrations")"
export PEERFLOW_MIGRATIONS_DIR=$old_tree/migrations # the previous release, its own set
# migrate --check accepts migrations newer than the binary's (a later
# release's) since the release after a6d8cca; an older previous release
# refuses them, so its ExecStartPre would stop it restarting mid-upgrade
if grep -q 'expand, then contract' "$old_tree/cmd/cmd_migrate.c"; then
  expect_ok "the previous release accepts the new schema (migrate --check)" "$old" migrate --check
else
  echo "note: the previous release ($prev) predates migrate --check's later-release rule"
fi
# the current binary's --check: a later release's migration is fine, an
# unknown one among its own is not
unset PEERFLOW_MIGRATIONS_DIR
sql "INSERT INTO schema_migrations (file, checksum) VALUES ('9999_later.sql', 'x')"
expect_eq "current --check with a later release's migration" 0 "$("$pf" migrate --check >/dev/null 2>&1; echo $?)"
sql "INSERT INTO schema_migrations (file, checksum) VALUES ('0001a_stray.sql', 'x')"
expect_error "current --check with an unknown migration among its own" "1 changed or unknown \\(first: 0001a_stray.sql\\)" "$pf" migrate --check
sql "DELETE FROM schema_migrations WHERE file IN ('9999_later.sql', '0001a_stray.sql')"
export PEERFLOW_MIGRATIONS_DIR=$old_tree/migrations
q() { "$old" "$@" >/dev/null || { echo "FAIL: the previous release: $*"; exit 1; }; }
q network add --asn 64800 --name "Alpha" --contact noc@alpha.example
q network add --asn 64801 --name "Beta" --contact noc@beta.example
q switch add --name s1 --dpid 00000000000000c1
q port add --network 64800 --switch s1 --ofport 1 --name a-trunk --mode trunk
q port add --network 64801 --switch s1 --ofport 2 --name b-trunk --mode trunk
q user add --email admin@alpha.example --network 64800 --role admin
q user add --email admin@beta.example --network 64801 --role admin
ta=$("$old" token create --email admin@alpha.example --name t)
tb=$("$old" token create --email admin@beta.example --name t)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
"$old" serve --listen "127.0.0.1:$port" --no-workers >"$tmp/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do curl -sf -m 2 "$base/healthz" >/dev/null && break; sleep 0.1; done
api() { # TOKEN METHOD PATH [BODY]: prints "STATUS BODY"
  local body=(); [ -n "${4:-}" ] && body=(-H 'Content-Type: application/json' --data-binary "$4")
  curl -s -m 10 -o "$tmp/body" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $1" "${body[@]}" "$base$3"
  echo " $(cat "$tmp/body")"
}
r=$(api "$ta" POST /api/v1/requests '{"port": "a-trunk", "vlan": 100, "peer_asn": 64801}')
expect_eq "old binary, new schema: submit" 201 "${r%% *}"
id=$(jq -r .id <<<"${r#* }")
r=$(api "$tb" GET "/api/v1/requests/$id")
expect_eq "old binary, new schema: show" "200 pending" "${r%% *} $(jq -r .state <<<"${r#* }")"
v=$(jq -r .version <<<"${r#* }")
r=$(api "$tb" POST "/api/v1/requests/$id/approve" "{\"version\": $v, \"port\": \"b-trunk\", \"vlan\": 100}")
expect_eq "old binary, new schema: approve" "200 approved" "${r%% *} $(jq -r .state <<<"${r#* }")"
r=$(api "$ta" GET "/api/v1/requests")
expect_eq "old binary, new schema: list" "200 1" "${r%% *} $(jq '.requests | length' <<<"${r#* }")"
r=$(api "$ta" GET "/api/v1/reports")
expect_eq "old binary, new schema: reports" 200 "${r%% *}"
for name in $(jq -r '.reports[].name' <"$tmp/body" 2>/dev/null | head -5); do
  r=$(api "$ta" GET "/api/v1/reports/$name")
  expect_eq "old binary, new schema: report $name" 200 "${r%% *}"
done
expect_ok "the previous release's audit verify on the new schema" "$old" audit verify
# and the current binary reads what the previous one wrote
unset PEERFLOW_MIGRATIONS_DIR
expect_eq "the current binary sees the request the previous one approved" approved \
  "$(sql "SELECT state FROM peering_requests WHERE id = $id")"
expect_ok "the current binary's audit verify" "$pf" audit verify
grep -q "runtime error\|AddressSanitizer" "$tmp/serve.log" && fail "sanitizer" || pass
finish
